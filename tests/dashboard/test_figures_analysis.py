"""Every builder in dashboard.figures_analysis on small arrays: traces, axis titles, highlights, NaN."""
from __future__ import annotations

import json

import numpy as np
import plotly.graph_objects as go
import pytest

from dashboard import figures_analysis as fa, figures_live as fl

NAMES2, NAMES3 = ["negative", "positive"], ["red", "green", "blue"]
WORDS = ["good", "bad", "the", "great", "awful"]
RNG = np.random.default_rng(0)


def _validated(builder):
    """figures_live builders return plain dicts: wrap them in go.Figure, which validates every property."""
    return lambda *args, **kwargs: go.Figure(builder(*args, **kwargs))


def _json(fig: go.Figure) -> dict:
    """Serialise as the browser gets it (fails on values plotly cannot encode)."""
    return json.loads(fig.to_json())


def _trace(fig, name):
    return next(t for t in fig.data if t.name == name)


def test_eigenvalue_figure_has_unit_circle_and_points():
    fig = fa.eigenvalue_figure(np.array([0.99 + 0j, 0.5 + 0.2j, 0.5 - 0.2j]), "spectrum")
    assert [t.name for t in fig.data] == ["unit circle", "eigenvalues"]
    assert len(fig.data[1].x) == 3 and fig.layout.xaxis.title.text == "Re λ"
    _json(fig)


def test_time_constant_figure_bars_start_at_zero_and_show_infinity():
    fig = fa.time_constant_figure(np.array([np.inf, 50.0, 2.0]))
    assert list(fig.data[0].text) == ["∞", "50.0", "2.0"] and fig.layout.yaxis.type != "log"
    assert np.isfinite(fig.data[0].y).all() and fig.data[0].y[0] > 50
    assert fig.layout.yaxis.range[0] == 0 and fig.layout.yaxis.range[1] > max(fig.data[0].y)


def test_selected_point_trace_rings_one_point_or_none():
    ring = fa.selected_point_trace(np.array([1.0, 2.0, 3.0]), label="#4")
    assert (ring["x"], ring["y"], ring["z"], ring["text"]) == ([1.0], [2.0], [3.0], ["#4"])
    assert fa.selected_point_trace(None)["x"] == []
    go.Figure(ring)  # valid trace properties


def test_alignment_q_histogram_and_variance_figures():
    align = fa.alignment_figure(RNG.random((3, 2)), RNG.random((3, 2)), NAMES2)
    assert len(align.data) == 4 and align.layout.yaxis.range == (0, 1.05)
    hist = fa.q_histogram(np.array([1e-12, 1e-15, 0.0]), np.array([3, 1, 2]), 1e-10)
    assert len(hist.data[0].x) == 6 and np.isfinite(hist.data[0].x).all()
    var = fa.explained_variance_figure(np.array([0.6, 0.3, 0.1]), np.array([0.9, 0.1]), 3)
    assert len(var.data) == 2 and var.layout.xaxis.title.text == "number of principal components"


def test_geometry_figures_one_trace_per_class():
    xyz, labels = RNG.normal(size=(30, 3)), np.repeat([0, 1, 2], 10)
    arrows = fa.readout_arrows_figure(xyz, labels, np.zeros(3), RNG.normal(size=(3, 3)), NAMES3)
    assert [t.name for t in arrows.data] == NAMES3
    assert [a.text for a in arrows.layout.annotations if a.showarrow] == ["", "", ""]  # one arrow per class
    assert [a.text for a in arrows.layout.annotations if not a.showarrow] == [f"<b>{n}</b>" for n in NAMES3]
    heat = fa.angle_heatmap(np.full((3, 3), 120.0) - 120 * np.eye(3), NAMES3, 120.0)
    assert heat.data[0].text[0][1] == "120°"
    plane = fa.evidence_plane_figure(xyz[:, :2], labels, NAMES3, "a", "b")
    assert len(plane.data) == 3 and plane.layout.xaxis.title.text == "a"


def test_word_scatter_colours_by_class_and_labels_only_the_search():
    x, y, cls = np.array([1.0, -1.0, 0.0, 2.0, -2.0]), np.zeros(5), np.array([1, 0, -1, 1, 0])
    fig = _validated(fl.word_scatter)(WORDS, x, y, cls, NAMES2, "deflection", "slow mode", highlight={"great", "the"})
    names = [t.name for t in fig.data]
    assert names == ["neutral", "favours negative", "favours positive", "search"]
    assert all(isinstance(t, go.Scattergl) for t in fig.data[:3])
    assert sorted(_trace(fig, "favours positive").text) == ["good", "great"]
    search = _trace(fig, "search")
    assert sorted(search.text) == ["great", "the"] and search.marker.size == 14
    assert sorted(a.text for a in fig.layout.annotations) == ["great", "the"]
    assert fig.layout.xaxis.title.text == "deflection" and fig.layout.yaxis.title.text == "slow mode"
    assert len(_validated(fl.word_scatter)(WORDS, x, y, cls, NAMES2, "a", "b").data[-1].x) == 0  # no search, no labels


def test_word_scatter_survives_nan():
    x = np.array([np.nan, 1.0, 0.0, 2.0, -2.0])
    fig = _validated(fl.word_scatter)(WORDS, x, x, np.zeros(5, int), NAMES2, "a", "b", {"good", "bad"})
    assert [a.text for a in fig.layout.annotations] == ["bad"]  # no label floating at NaN
    _json(fig)


def test_log_odds_scatter_binary_and_multiclass():
    d2, o2 = RNG.normal(size=(5, 1)), RNG.normal(size=(5, 1))
    fig = _validated(fl.log_odds_scatter)(WORDS, d2, o2, np.array([1, 0, -1, 1, 0]), NAMES2, [0.87], {"bad"})
    assert "0.87" in fig.layout.title.text
    assert list(_trace(fig, "search").x) == [o2[1, 0]] and list(_trace(fig, "search").y) == [d2[1, 0]]
    assert fig.layout.xaxis.title.text.startswith("log-odds positive vs negative")
    d3, o3 = RNG.normal(size=(5, 3)), RNG.normal(size=(5, 3))
    fig3 = _validated(fl.log_odds_scatter)(WORDS, d3, o3, np.zeros(5, int), NAMES3, [0.5, np.nan, -0.2], {"good"})
    assert [t.name for t in fig3.data[:3]] == ["red (r = 0.50)", "green (r = nan)", "blue (r = -0.20)"]
    best = int(np.argmax(o3[0]))
    assert _trace(fig3, "search").y[0] == d3[0, best]  # a searched word sits at its own class's point
    _json(fig3)


def test_decomposition_figures():
    bars = fa.decomposition_bars(np.array([0.1, 0.3, 0.6]))
    assert list(bars.data[0].text) == ["10.0%", "30.0%", "60.0%"]
    mu, chi = RNG.normal(size=(12, 3)), RNG.normal(size=(4, 3))
    fig = fa.decomposition_path_figure(mu, chi, ["a", "b", "c", "d"], np.zeros(3), np.array([0, 1, -1, 0]), NAMES2,
                                       explained_c=np.array([0.5, 0.2, 0.1]))
    names = [t.name for t in fig.data]
    assert names[0] == "mean trajectory μ_t"
    assert "words favouring negative" in names and "words favouring positive" in names and "neutral words" in names
    labels = [a.text for a in fig.layout.scene.annotations]
    assert sorted(labels) == ["a", "b", "c", "d"]
    assert fig.layout.scene.xaxis.title.text == "PC1 (50%)"
    plain = fa.decomposition_path_figure(mu, chi, ["a", "b", "c", "d"], mu[-1])
    assert [t.name for t in plain.data][-1] == "word offsets χ(w)"


def test_linearization_figure_traces_and_nan_gaps():
    full, lin = RNG.normal(size=(6, 3)), RNG.normal(size=(6, 3))
    lin[4:] = np.nan  # a diverged rollout
    fig = _validated(fl.linearization_figure)(full, lin, list("abcdef"), np.zeros(3), RNG.normal(size=(3, 3)),
                                  np.array([0.5, 0.3, 0.1]))
    names = [t.name for t in fig.data]
    assert names.count("full RNN") == 2 and names.count("linearized around h*") == 2
    assert "expansion point h*" in names and "first token" in names
    assert fig.layout.xaxis.title.text == "PC1 (50%)" and fig.layout.xaxis2.title.text == "token"
    _json(fig)
    assert np.isnan(fig.data[names.index("linearized around h*")].x[5])  # a gap in the line, not a crash


def test_one_step_error_figure_marks_the_reference_and_colours_misses():
    fig = _validated(fl.one_step_error_figure)(np.array([0.05, 0.2, 0.01]), ["a", "b", "c"], 0.1, heldout_median=0.08)
    bar = fig.data[0]
    assert list(bar.y) == pytest.approx([5.0, 20.0, 1.0])
    assert bar.marker.color[0] != bar.marker.color[1] and bar.marker.color[0] == bar.marker.color[2]
    lines = {s.name: s.y0 for s in fig.layout.shapes if s.showlegend}  # each rule named in the legend
    assert lines == {"paper: ~10%": pytest.approx(10.0), "median on held-out texts: 8.0%": pytest.approx(8.0)}
    assert fig.layout.showlegend and not bar.showlegend and not fig.layout.annotations
    assert list(fig.layout.xaxis.ticktext) == ["a", "b", "c"]
    no_median = _validated(fl.one_step_error_figure)(np.array([np.nan]), ["x"], 0.1, heldout_median=float("nan"))
    assert len(no_median.layout.shapes) == 1
    _json(no_median)


def test_with_trajectory_fills_the_roles_of_an_attractor_figure():
    meta = {"trajectory": 1, "start": 2, "end": 3, "three_d": True}
    base = go.Figure([go.Scatter3d(x=[0], y=[0], z=[0], name="cloud")] +
                     [go.Scatter3d(x=[], y=[], z=[], name=n) for n in ("trajectory", "start", "end")])
    base.update_layout(meta=meta)
    xyz = np.arange(12, dtype=float).reshape(4, 3)
    as_json = base.to_plotly_json()
    fig = go.Figure(fa.with_trajectory(as_json, xyz, ["w", "x", "y", "z"]))  # validates the returned JSON
    assert list(fig.data[1].x) == [0, 3, 6, 9] and list(fig.data[1].hovertext) == ["#1 w", "#2 x", "#3 y", "#4 z"]
    assert list(fig.data[2].z) == [2] and list(fig.data[3].z) == [11]
    assert len(base.data[1].x) == 0 and len(as_json["data"][1]["x"]) == 0  # the cached base is not modified
    empty = go.Figure(fa.with_trajectory(base, np.zeros((0, 3)), []))
    assert len(empty.data[1].x) == 0
