"""Words, Linearization, Decomposition and Compare pages as functions: they render for the analyzed tiny
model, explain broken and unknown models, and say "not computed" when the analysis lacks what they need."""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
import pytest
from dash import Patch, dcc

from core.analysis_view import Analysis
from dashboard import ids
from tests.conftest import BROKEN_RUN_ID, TINY_RUN_ID
from tests.dashboard.test_models_page import _text

UNKNOWN = "no-such-model"


def _graphs(component) -> list:
    if isinstance(component, dcc.Graph):
        return [component]
    if isinstance(component, (list, tuple)):
        return [g for c in component for g in _graphs(c)]
    children = getattr(component, "children", None)
    return _graphs(children) if children is not None else []


@pytest.fixture
def strip(app_ctx, monkeypatch):
    """strip(*names): make the tiny model's analysis lack those arrays for the rest of the test."""
    from dashboard.cache import BundleCache
    from dashboard.runtime import bundles

    cache = bundles()

    def apply(*names):
        bundle = BundleCache.get(cache, TINY_RUN_ID)
        arrays = {k: v for k, v in bundle.analysis.arrays.items() if k not in names}
        stripped = bundle.with_analysis(Analysis.from_arrays(arrays))
        monkeypatch.setattr(cache, "get", lambda run_id: stripped if run_id == TINY_RUN_ID
                            else BundleCache.get(cache, run_id))

    return apply


def _pages():
    from dashboard.pages import compare, decomposition, linearization, words

    return {
        "words": lambda run: words._body(run, "red"),
        "linearization": lambda run: linearization._body(run, "red green red the red"),
        "decomposition": lambda run: decomposition._body(run, "informative"),
        "compare": lambda run: compare._body(run, run, "red green red"),
    }


@pytest.mark.parametrize("page", ["words", "linearization", "decomposition", "compare"])
def test_page_renders_for_the_analyzed_model(app_ctx, page):
    body = _pages()[page](TINY_RUN_ID)
    graphs = _graphs(body)
    assert graphs and all(g.figure is not None for g in graphs)
    text = _text(body)
    assert "not computed" not in text and "cannot be loaded" not in text


@pytest.mark.parametrize("page", ["words", "linearization", "decomposition", "compare"])
@pytest.mark.parametrize("run_id, message", [(BROKEN_RUN_ID, "cannot be loaded"), (UNKNOWN, "cannot be loaded"),
                                             ("../etc", "not a valid run id")])
def test_page_explains_a_model_it_cannot_load(app_ctx, page, run_id, message):
    body = _pages()[page](run_id)
    assert message in _text(body) and not _graphs(body)


@pytest.mark.parametrize("page, missing", [
    ("words", "word_log_odds_wxk"), ("words", "word_slow_proj_wxm"),
    ("linearization", "lin_err_median"), ("linearization", "fp_xstar_pxn"),
    ("decomposition", "decomp_chi_xyz_wx3"), ("decomposition", "decomp_fractions_3"),
    ("compare", "cloud_xyz_cx3"), ("compare", "fp_xstar_pxn"),
])
def test_page_says_not_computed_when_a_field_is_missing(strip, page, missing):
    strip(missing)
    text = _text(_pages()[page](TINY_RUN_ID))
    assert "not computed for this model" in text and f"python -m core analyze {TINY_RUN_ID}" in text


@pytest.mark.parametrize("module, kwargs", [
    ("words", {}), ("linearization", {"text": "red red green"}), ("decomposition", {}),
    ("compare", {"model_b": TINY_RUN_ID, "text": "green red"}),
])
def test_layouts_take_the_model_and_text_from_the_url(app_ctx, module, kwargs):
    import importlib

    page = importlib.import_module(f"dashboard.pages.{module}")
    layout = page.layout(model=TINY_RUN_ID, **kwargs)
    text = _text(layout)
    assert TINY_RUN_ID in str(layout) and _graphs(layout)
    if "text" in kwargs:
        assert kwargs["text"] in str(layout)
    assert page.layout(model=UNKNOWN) is not None  # an unknown id in the URL falls back to the default model
    assert "Traceback" not in text


def test_words_search_highlights_and_binary_axis(app_ctx):
    from dashboard.pages import words

    scatter = go.Figure(_graphs(words._body(TINY_RUN_ID, "red, gre*"))[0].figure)
    search = next(t for t in scatter.data if t.name == "search")
    assert sorted(search.text) == ["green", "red"]
    assert "green − red" in scatter.layout.xaxis.title.text or "red − green" in scatter.layout.xaxis.title.text
    assert "No word matches" in _text(words._body(TINY_RUN_ID, "zzzz"))
    assert words.matching_words(["good", "goods", "bad"], "good") == {"good"}
    assert words.matching_words(["good", "goods", "bad"], "goo*, BAD") == {"good", "goods", "bad"}
    assert words.matching_words(["a"], None) == set()


def test_words_correlation_is_reported(app_ctx):
    from dashboard.pages import words

    text = _text(words._body(TINY_RUN_ID, ""))
    assert "Pearson r:" in text
    log_odds = go.Figure(_graphs(words._body(TINY_RUN_ID, ""))[1].figure)
    assert log_odds.layout.title.text.startswith("Pearson r = ")


def test_linearization_caps_the_text_and_handles_empty_input(app_ctx):
    from dashboard.pages import linearization

    long_text = " ".join(["red", "green", "the"] * 200)
    body = linearization._body(TINY_RUN_ID, long_text)
    assert "400 tokens (cut at 400 tokens)" in _text(body)
    assert len(go.Figure(_graphs(body)[1].figure).data[0].y) == 400
    assert "Type or paste some text" in _text(linearization._body(TINY_RUN_ID, "  "))
    assert "Type or paste some text" in _text(linearization._body(TINY_RUN_ID, None))


def test_decomposition_lists_frequent_words_without_pad_or_unk(app_ctx):
    from dashboard.pages import decomposition

    for pick in ("informative", "frequent"):
        text = _text(decomposition._body(TINY_RUN_ID, pick))
        assert "<pad>" not in text and "<unk>" not in text and "×)" in text


def test_compare_table_and_text_patches(app_ctx):
    from dashboard.pages import compare

    body = compare._body(TINY_RUN_ID, BROKEN_RUN_ID, "red green")
    text = _text(body)
    assert "cannot be loaded" in text and f"A: {TINY_RUN_ID}" in text and "participation ratio" in text
    assert len(_graphs(body)) == 1
    figures, predictions = compare.show_text("red red", TINY_RUN_ID, TINY_RUN_ID,
                                             [{"type": ids.COMPARE_GRAPH, "side": "a"}, {"type": ids.COMPARE_GRAPH, "side": "b"}])
    assert all(isinstance(f, Patch) for f in figures) and all(p.startswith("Prediction:") for p in predictions)


def test_compare_default_partner_prefers_the_same_task_and_another_cell():
    from core.store import BundleSummary
    from dashboard.pages.compare import default_partner

    def s(run_id, task="categorical", k=3, cell="gru", ok=True, analyzed=True):
        return BundleSummary(run_id, ok, task=task, cell=cell, num_classes=k, has_analysis=analyzed)

    rows = [s("gru-cat3"), s("gru-b"), s("lstm-cat3", cell="lstm"), s("reviews", task="reviews", k=2),
            s("broken", ok=False), s("raw", cell="lstm", analyzed=False)]
    assert default_partner(rows, "gru-cat3") == "lstm-cat3"
    assert default_partner(rows, "reviews") == "reviews"  # no other model of its task: never one of another task
    assert default_partner([s("only")], "only") == "only"


def test_linearization_shows_d1_and_d4_around_slow_points_and_the_kick_curve(app_ctx):
    from dashboard.pages import linearization

    text = "red green red the red"
    body = linearization._body(TINY_RUN_ID, text)
    figures = [go.Figure(g.figure) for g in _graphs(body)]
    assert len(figures) == 3
    bars = [t for t in figures[1].data if t.type == "bar"]
    assert [t.name.split()[0] for t in bars] == ["D1", "D4"]
    assert all(len(t.y) == 5 and list(t.customdata) == text.split() for t in bars)
    assert {"D1, median", "D4, median"} <= {t.name for t in figures[2].data}
    assert "F(h*, 0) + J_h·(h − h*) + J_x·x" in linearization.INTRO  # both definitions, in symbols
    assert "F(h*, x) + J_h(h*, x)·(h − h*)" in linearization.INTRO
    page = _text(body)
    assert "D1 median on held-out texts" in page and "D4 median on held-out texts" in page
    assert "median kick" in page and "not computed" not in page


def test_linearization_without_slow_points_falls_back_to_fixed_points(strip):
    from dashboard.pages import linearization

    strip("slowlin_d1_median")
    body = linearization._body(TINY_RUN_ID, "red green red")
    figures = [go.Figure(g.figure) for g in _graphs(body)]
    assert len(figures) == 2 and len([t for t in figures[1].data if t.type == "bar"]) == 1
    text = _text(body)
    assert "not computed for this model" in text and f"python -m core analyze {TINY_RUN_ID}" in text


def test_fixed_points_page_draws_the_slow_point_layer_and_the_line(app_ctx):
    from dashboard.pages import fixed_points
    from dashboard.runtime import bundles

    bundle = bundles().get(TINY_RUN_ID)
    sp = bundle.analysis.slow_points
    body = fixed_points._sections(bundle, TINY_RUN_ID)
    figures = [go.Figure(g.figure) for g in _graphs(body)]
    attractor = figures[0]
    slow = attractor.data[attractor.layout.meta["slow_points"]]
    assert slow.name == "slow points" and len(slow.x) == sp.n_points
    np.testing.assert_allclose(slow.marker.color, np.log10(sp.qstar_p), rtol=1e-6)
    fps = bundle.analysis.fixed_points
    drawn = len(attractor.data[attractor.layout.meta["fp_stable"]].x) + \
        len(attractor.data[attractor.layout.meta["fp_unstable"]].x)
    assert drawn == int(fps.is_converged_p.sum())  # only converged fixed points are drawn as fixed points
    line = next(f for f in figures if len(f.data) == 4 and f.data[0].name == "slowest τ")
    assert all(len(t.x) == sp.n_points for t in line.data)
    assert "Along the line of slow points" in _text(body)


def test_fixed_points_page_without_slow_points_says_not_computed(strip):
    from dashboard.pages import fixed_points
    from dashboard.runtime import bundles

    strip("sp_xstar_pxn")
    body = fixed_points._sections(bundles().get(TINY_RUN_ID), TINY_RUN_ID)
    attractor = go.Figure(_graphs(body)[0].figure)
    assert len(attractor.data[attractor.layout.meta["slow_points"]].x) == 0
    assert "Slow points: not computed for this model" in _text(body)


def test_linearization_builds_the_kick_chart_once_per_model_not_per_text(app_ctx, monkeypatch):
    """The error-vs-kick chart (held-out tokens, the same for every text) comes from the figure cache on later edits."""
    from dashboard import figures_analysis
    from dashboard.pages import linearization

    built = []
    real = figures_analysis.error_vs_kick_figure
    monkeypatch.setattr(figures_analysis, "error_vs_kick_figure", lambda *a: built.append(1) or real(*a))
    app_ctx.server.config["ATTRACTORSCOPE_CACHE"].clear()
    texts = ["red green red", "green green the red", "the red"]
    bodies = [_text(linearization._body(TINY_RUN_ID, t)) for t in texts]
    assert all("error against the size of the kick" in b for b in bodies)
    assert len(built) == 1
