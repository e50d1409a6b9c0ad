"""dashboard.figure_cache: a figure that depends only on an analysis view is built once per view, and every
caller gets its own copy of the same figure."""
from __future__ import annotations

import base64
import gc

import numpy as np
import plotly.graph_objects as go

from dashboard.figure_cache import _CACHE, cached_figure


class _View:
    """Stands in for an analysis view (any weak-referenceable object)."""


def test_built_once_per_owner_and_key_and_copied_for_each_caller():
    builds = []

    def build():
        builds.append(1)
        return go.Figure(go.Scatter(x=np.array([1.0, 2.0], np.float32), y=np.array([3.0, 4.0], np.float32)))

    view, other = _View(), _View()
    first = cached_figure(view, "f", build)
    second = cached_figure(view, "f", build)
    assert len(builds) == 1 and first == second and first is not second
    first["layout"]["title"] = "changed by a caller"
    assert "title" not in cached_figure(view, "f", build)["layout"]
    cached_figure(other, "f", build)
    cached_figure(view, "g", build)
    assert len(builds) == 3
    assert first["data"][0]["y"]["dtype"] == "f4"  # numpy arrays travel base64-encoded, as Plotly sends them
    assert np.frombuffer(base64.b64decode(first["data"][0]["y"]["bdata"]), np.float32).tolist() == [3.0, 4.0]


def test_the_cache_lets_go_of_views_nobody_holds():
    view = _View()
    cached_figure(view, "f", lambda: go.Figure())
    assert view in _CACHE
    del view
    gc.collect()
    assert len([k for k in _CACHE.keys() if isinstance(k, _View)]) == 0
