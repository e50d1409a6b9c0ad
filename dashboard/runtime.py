"""Per-app services (settings, bundle cache, flask cache), looked up from the running Flask app."""
from __future__ import annotations

from flask import current_app

from dashboard.cache import BundleCache, ModelMemo, model_version
from dashboard.settings import Settings

__all__ = ["settings", "bundles", "model_memo", "flask_cache", "cached_figure", "model_figure"]


def settings() -> Settings:
    return current_app.config["ATTRACTORSCOPE_SETTINGS"]


def bundles() -> BundleCache:
    return current_app.config["ATTRACTORSCOPE_BUNDLES"]


def model_memo() -> ModelMemo:
    return current_app.config["ATTRACTORSCOPE_MEMO"]


def flask_cache():
    return current_app.config["ATTRACTORSCOPE_CACHE"]


def cached_figure(key: str, build) -> dict:
    """A figure's JSON from the shared cache, built (``build()`` returns a go.Figure) on the first miss:
    a go.Figure costs 10-60 ms to validate, and these figures never change for their key."""
    figure = flask_cache().get(key)
    if figure is None:
        figure = build().to_plotly_json()
        flask_cache().set(key, figure)
    return figure


def model_figure(name: str, bundle, build, *options: str) -> dict:
    """``cached_figure`` for a figure of one model: keyed by the model's version (``model_version``), so a
    retrained or re-analyzed model is drawn anew."""
    return cached_figure(":".join((name, model_version(bundle), *options)), build)
