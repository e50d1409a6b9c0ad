"""Per-app services (settings, bundle cache, flask cache), looked up from the running Flask app."""
from __future__ import annotations

import logging
import threading
import time

from flask import current_app

from dashboard.cache import BundleCache, ModelMemo, model_version
from dashboard.settings import Settings

__all__ = ["settings", "bundles", "model_memo", "flask_cache", "cached_figure", "model_figure"]

log = logging.getLogger(__name__)


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
    a go.Figure costs 10-60 ms to validate, and these figures never change for their key. With the cache
    unreachable (Redis down) the figure is built every time, and the outage is logged once."""
    figure = _cache_call(lambda cache: cache.get(key))
    if figure is None:
        figure = build().to_plotly_json()
        _cache_call(lambda cache: cache.set(key, figure))
    return figure


RETRY_CACHE_S = 5.0  # after a failure, skip the cache this long: an unreachable host costs its timeout once
_cache_down = threading.Event()  # set while the cache fails, so an outage is logged once, not per request
_retry_at = [0.0]


def _cache_call(call):
    if _cache_down.is_set() and time.monotonic() < _retry_at[0]:
        return None
    try:
        result = call(flask_cache())
    except Exception as err:  # noqa: BLE001 - redis' connection, timeout and out-of-memory errors alike
        _retry_at[0] = time.monotonic() + RETRY_CACHE_S
        if not _cache_down.is_set():
            _cache_down.set()
            log.warning("the figure cache is unavailable (%s); building figures without it", err.__class__.__name__)
        return None
    if _cache_down.is_set():
        _cache_down.clear()
        log.warning("the figure cache is back")
    return result


def model_figure(name: str, bundle, build, *options: str) -> dict:
    """``cached_figure`` for a figure of one model: keyed by the model's version (``model_version``), so a
    retrained or re-analyzed model is drawn anew. ``options`` must come from a page's fixed set of values
    (never raw request values: every new key would store a figure)."""
    return cached_figure(":".join((name, model_version(bundle), *options)), build)
