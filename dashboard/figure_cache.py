"""Figures that depend only on a loaded analysis view, built once per view object.

A text-driven callback (e.g. Linearization's) re-renders a page body on every edit; the parts of it that do
not depend on the text need not be rebuilt and re-validated by Plotly each time (5,000-point scatters cost
~70 ms a build). ``cached_figure(owner, key, build)`` keeps the JSON form of ``build()`` (arrays already
base64-encoded by Plotly) for as long as ``owner`` (an analysis view, cached with its bundle) lives.
"""
from __future__ import annotations

import json
import weakref
from typing import Callable

import plotly.graph_objects as go

__all__ = ["cached_figure"]

_CACHE: "weakref.WeakKeyDictionary[object, dict[str, str]]" = weakref.WeakKeyDictionary()


def cached_figure(owner: object, key: str, build: Callable[[], go.Figure]) -> dict:
    """``build()`` as a plain figure dict, built on the first call per (owner, key); every call gets its own
    copy, so a caller may change it."""
    per_owner = _CACHE.setdefault(owner, {})
    if key not in per_owner:
        per_owner[key] = build().to_json()
    return json.loads(per_owner[key])
