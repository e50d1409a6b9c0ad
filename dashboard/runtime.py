"""Per-app services (settings, bundle cache, flask cache), looked up from the running Flask app."""
from __future__ import annotations

from flask import current_app

from dashboard.cache import BundleCache, ModelMemo
from dashboard.settings import Settings

__all__ = ["settings", "bundles", "model_memo", "flask_cache", "job_launcher"]


def settings() -> Settings:
    return current_app.config["ATTRACTORSCOPE_SETTINGS"]


def bundles() -> BundleCache:
    return current_app.config["ATTRACTORSCOPE_BUNDLES"]


def model_memo() -> ModelMemo:
    return current_app.config["ATTRACTORSCOPE_MEMO"]


def flask_cache():
    return current_app.config["ATTRACTORSCOPE_CACHE"]


def job_launcher():
    return current_app.config["ATTRACTORSCOPE_JOBS"]
