"""Issue 17, "Other pages": Fixed points, Geometry, Words, Decomposition and Train, as functions."""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
import pytest
from dash import Patch, html
from dash.dash_table import DataTable

from tests.conftest import TINY_RUN_ID
from tests.dashboard.test_analysis_pages import _graphs
from tests.dashboard.test_models_page import _text
from tests.fuzzing import DashClient, check_dash_response


def _find(component, kind) -> list:
    if isinstance(component, kind):
        return [component]
    if isinstance(component, (list, tuple)):
        return [c for child in component for c in _find(child, kind)]
    children = getattr(component, "children", None)
    return _find(children, kind) if children is not None else []


# ------------------------------------------------------------------------------------------- fixed points

def _fp(app_ctx):
    from dashboard.pages import fixed_points
    from dashboard.runtime import bundles

    bundle = bundles().get(TINY_RUN_ID)
    return fixed_points, bundle, bundle.analysis.fixed_points


def test_fixed_point_table_is_a_sortable_clickable_data_table(app_ctx):
    fixed_points, bundle, fps = _fp(app_ctx)
    body = fixed_points._sections(bundle, TINY_RUN_ID)
    (table,) = _find(body, DataTable)
    assert table.sort_action == "native"
    assert sorted(r["id"] for r in table.data) == list(range(fps.n_points))
    assert all(r["point"] == r["id"] + 1 for r in table.data)  # the number shown is the number in the hover
    assert fixed_points.row_index({"row": 0, "column": 1, "row_id": 3}) == 3
    assert fixed_points.row_index({"row": 0}) is None and fixed_points.row_index("x") is None


def test_a_point_number_outside_any_bundle_is_ignored_not_echoed(app_ctx):
    """A forged click may carry any JSON number: one beyond 64 bits once made Dash fail to encode the reply."""
    fixed_points, _, _ = _fp(app_ctx)
    for bad in (-9223372036854775809, 2 ** 70, -1, True, 1.0, "3"):
        assert fixed_points.clicked_index({"points": [{"customdata": bad}]}) is None
        assert fixed_points.row_index({"row_id": bad}) is None
    assert fixed_points.clicked_index({"points": [{"customdata": 4}]}) == 4


def test_fixed_point_hover_names_the_table_number_and_the_selection_is_ringed(app_ctx):
    fixed_points, bundle, fps = _fp(app_ctx)
    fig = go.Figure(_graphs(fixed_points._sections(bundle, TINY_RUN_ID))[0].figure)
    for role in ("fp_stable", "fp_unstable"):
        trace = fig.data[fig.layout.meta[role]]
        for i, hover in zip(list(trace.customdata or ()), list(trace.hovertext if trace.hovertext is not None else ())):
            assert hover.startswith(f"<b>fixed point #{i + 1}</b>")
    start = fixed_points.start_index(fps)
    from dashboard import figures
    plain = figures.attractor_figure(bundle.analysis, bundle.class_names)
    assert fig.layout.scene.camera.eye.x > plain.layout.scene.camera.eye.x  # pulled back: the half-width view is not cut
    ring = fig.data[fixed_points._selected_trace(bundle)]
    assert ring.name == "selected" and len(ring.x) == 1
    assert list(ring.x) == pytest.approx([float(bundle.analysis.attractor.fp_xyz_px3[start, 0])])


def test_selecting_a_point_moves_the_ring_the_detail_and_the_row_highlight(app_ctx):
    fixed_points, bundle, fps = _fp(app_ctx)
    target = fps.n_points - 1
    detail, patch, styles = fixed_points.show_point(target, TINY_RUN_ID)
    assert f"Point #{target + 1} (" in _text(detail)
    assert isinstance(patch, Patch) and styles[0]["if"]["filter_query"] == f"{{id}} = {target}"
    for bad in (-1, fps.n_points, True, "1", None, 1.5, {"a": 1}):
        assert fixed_points.show_point(bad, TINY_RUN_ID)[0] is dash_no_update()


def dash_no_update():
    import dash
    return dash.no_update


def test_fixed_point_summary_separates_initial_states_from_distinct_points(app_ctx):
    fixed_points, bundle, fps = _fp(app_ctx)
    text = fixed_points.summary(fps)
    n_conv = int(fps.counts_p[fps.is_converged_p].sum())
    assert f"{n_conv:,} of them ({fps.frac_converged:.1%}) converged" in text
    assert f"{int(fps.is_converged_p.sum()):,} distinct fixed point" in text
    assert "distinct slow point" in text and "Each table row is one distinct point" in text
    statuses = {r["status"] for r in _find(fixed_points._sections(bundle, TINY_RUN_ID), DataTable)[0].data}
    assert statuses <= set(fixed_points.STATUS.values())


def test_tampered_fixed_point_selections_answer_cleanly(dash_app):
    client = DashClient(dash_app.server.test_client())
    for value in (0, -5, 10**9, "0", None, [1], {"row_id": 1}, True):
        check_dash_response(client.call("fp-detail.children", [("fp-selected", "data", value)],
                                        [("model-picker", "value", TINY_RUN_ID)]))
        check_dash_response(client.call("fp-selected.data", [("fp-graph", "clickData", {"points": [value]}),
                                                             ("fp-table", "active_cell", value)]))


# ------------------------------------------------------------------------------------------- geometry

@pytest.mark.parametrize("k, ordered, dims, label", [(2, False, 1, "a line (N − 1 = 1)"), (3, False, 2, "N − 1 = 2"),
                                                     (5, False, 4, "N − 1 = 4"), (5, True, 2, "a plane (ordered ratings)"),
                                                     (3, True, 2, "a plane (ordered ratings)")])
def test_geometry_marks_the_dimension_the_papers_predict(k, ordered, dims, label):
    from dashboard import figures_analysis as fa

    assert fa.expected_dimension(k, ordered) == (dims, label)
    fig = fa.explained_variance_figure(np.full(8, 0.1), np.full(8, 0.1), k, ordered=ordered)
    (line,) = [s for s in fig.layout.shapes if s.x0 == s.x1]
    assert line.x0 == dims
    assert [a.text for a in fig.layout.annotations] == [f"expected: {label}"]


def test_geometry_hides_the_angle_heat_map_for_two_classes(app_ctx):
    from dashboard.pages import geometry
    from dashboard.runtime import bundles

    body = geometry._sections(bundles().get(TINY_RUN_ID))  # the tiny model has 2 classes
    text = _text(body)
    assert "Angles between readout directions" not in text and "Readout directions in PC space" in text
    assert "in the first 1 PC, the dimension expected: a line" in text
    assert not any(isinstance(g.figure, go.Figure) and g.figure.data and g.figure.data[0].type == "heatmap"
                   for g in _graphs(body))


def test_readout_labels_sit_beyond_the_tips_on_a_white_ground():
    from dashboard import figures_analysis as fa

    xyz = np.random.default_rng(0).normal(size=(50, 3))
    readout = np.array([[1.0, 0, 0], [1.0, 0.1, 0], [0, 1.0, 0]])  # two nearly parallel arrows
    fig = fa.readout_arrows_figure(xyz, np.arange(50) % 3, np.zeros(3), readout, ["a", "b", "c"])
    labels = [a for a in fig.layout.annotations if a.text]
    assert all(a.bgcolor for a in labels)
    a, b = labels[0], labels[1]
    assert abs(np.hypot(a.x, a.y) - np.hypot(b.x, b.y)) > 0.1 * np.hypot(a.x, a.y)  # staggered, not on top


# ------------------------------------------------------------------------------------------- words

def test_words_says_which_searched_words_are_not_in_the_vocabulary(app_ctx):
    from dashboard.pages import words

    text = _text(words._body(TINY_RUN_ID, "red, zzqx"))
    assert "Not in this model's vocabulary: “zzqx”" in text and "1 word highlighted." in text
    assert "vocabulary" not in _text(words._body(TINY_RUN_ID, "red, gre*")).split("highlighted")[0][-200:]
    rare, unknown = words.unmatched_terms(["good", "bad"], "good, ugly, nope*, ba*, fine", vocab={"good", "bad", "ugly"})
    assert (rare, unknown) == (["ugly"], ["nope*", "fine"])


def test_words_shows_the_evidence_behind_a_surprising_sign():
    from dashboard.pages import words

    names = ["negative", "positive"]
    deflection = np.array([[0.5], [2.0], [0.1]])   # "bad" pushes positive ...
    log_odds = np.array([[-1.75], [0.6], [0.05]])  # ... though it is far more frequent in negative texts
    table = words.evidence_table(["bad", "good", "the"], deflection, log_odds, names, {"bad", "good", "the"})
    text = _text(table)
    from dash import html
    rows = {_text(r.children[0]): r for r in _find(table, html.Tr)[1:]}
    assert _text(rows["bad"]).endswith("⚠ against the data") and "+0.50" in _text(rows["bad"])
    assert "-1.75" in _text(rows["bad"]) and _text(rows["good"]).endswith("agrees")
    assert _text(rows["the"]).endswith("neutral in the data")
    assert "counts and context" in text


def test_words_page_lists_the_searched_words_evidence(app_ctx):
    from dashboard.pages import words

    with_hits, without = words._body(TINY_RUN_ID, "red, green"), words._body(TINY_RUN_ID, "")
    assert "Kick vs training data" in _text(with_hits) and _find(with_hits, html.Table)
    assert "Kick vs training data" in _text(without) and not _find(without, html.Table)  # the note only


def test_words_lists_the_most_surprising_words():
    from dashboard.pages import words

    text = words.surprising_note(["bad", "good", "the"], np.array([[0.5], [2.0], [0.1]]),
                                 np.array([[-1.75], [0.6], [0.05]]), ["negative", "positive"])
    assert text.startswith("1 of the 3 words kick against their log-odds") and "“bad” (kick +0.50, log-odds -1.75)" in text
    agree = words.surprising_note(["good"], np.array([[1.0]]), np.array([[1.0]]), ["negative", "positive"])
    assert agree.startswith("Every one of these")


# ------------------------------------------------------------------------------------------- decomposition

def test_decomposition_labels_sit_beyond_the_spokes_whole_and_apart():
    from dashboard import figures_analysis as fa

    chi = np.array([[1.0, 0, 0], [1.0, 0.01, 0], [0, 1.0, 0], [0, 0, 2.0]])  # the first two point the same way
    words = ["wouldn't", "true", "so", "could"]
    fig = fa.decomposition_path_figure(np.zeros((4, 3)), chi, words, np.zeros(3), np.array([0, 0, 1, -1]),
                                       ["negative", "positive"])
    notes = fig.layout.scene.annotations
    assert sorted(a.text for a in notes) == sorted(words)  # whole tokens, never cut
    assert all(a.bgcolor and not a.showarrow for a in notes)  # over the canvas: no spoke or label hides a word
    label = {a.text: np.array([a.x, a.y, a.z]) for a in notes}
    for w, c in zip(words, chi):
        assert np.linalg.norm(label[w]) > np.linalg.norm(c)  # beyond the tip
    assert abs(np.linalg.norm(label["wouldn't"]) - np.linalg.norm(label["true"])) > 0.1  # staggered
    assert all(t.mode == "lines" for t in fig.data[2:])  # no WebGL text on the spokes
    assert fig.layout.scene.aspectmode == "cube" and fig.layout.scene.domain.y[1] < 1  # room for the legend


# ------------------------------------------------------------------------------------------- train

def _job(job_id, state, curve=()):
    from core.job_registry import JobStatus

    return JobStatus(job_id, f"run-{job_id}", {}, state=state, curve=list(curve))


def test_train_curve_follows_the_running_job_keeps_the_last_and_reopens_a_picked_one():
    from dashboard.components.jobs_view import curve_job, curve_options

    done, running = _job("a", "succeeded", [{"step": 1}]), _job("b", "running")
    assert curve_job([done, running], None) is running
    assert curve_job([done, running], "a") is done  # a finished job's curve can be reopened
    assert curve_job([done], None) is done  # and stays up after it ends
    assert curve_job([done, running], "gone") is running and curve_job([], "a") is None
    assert curve_job([done], ["a"]) is done  # a tampered pick is ignored
    assert [o["value"] for o in curve_options([done, running])] == ["b", "a"]
    assert curve_options([done])[0]["label"] == "run-a · done"


def test_train_page_shows_an_empty_state_instead_of_an_empty_chart(app_ctx, monkeypatch):
    from dashboard.components.jobs_view import loss_figure
    from dashboard.pages import train

    figure = loss_figure(None)
    assert figure["layout"]["xaxis"]["visible"] is False and figure["layout"]["yaxis"]["visible"] is False

    class Registry:
        jobs: list = []

        def list(self):
            return self.jobs

    registry = Registry()
    monkeypatch.setattr(train, "job_registry", lambda: registry)
    fig, graph_style, empty_style, options = train.show_curve(None, None, [])
    assert graph_style == {"display": "none"} and empty_style == {}
    registry.jobs = [_job("a", "succeeded", [{"step": 1, "train_loss": 1.0, "val_accuracy": 0.5}])]
    fig, graph_style, empty_style, options = train.show_curve(None, None, [])
    assert graph_style == {} and empty_style == {"display": "none"} and fig["layout"]["title"]["text"] == "run-a"
    assert options == [{"label": "run-a · done", "value": "a"}]
    assert train.show_curve(None, None, options)[3] is dash_no_update()  # the picker is not redrawn every poll


def test_deleting_a_run_takes_two_steps(app_ctx, monkeypatch):
    from dash import html

    from dashboard.components import jobs_view

    class Summary:
        run_id, task, cell, units, ok, has_analysis, bundled, owner, reason = ("mine", "categorical", "gru", 8, True,
                                                                                True, False, "me", "")
        kind = "classifier"
        metrics = {"test_accuracy": 0.9}

    monkeypatch.setattr(jobs_view, "bundles", lambda: type("B", (), {"summaries": lambda self: [Summary()]})())
    table = jobs_view.user_runs_table("me")
    (details,) = _find(table, html.Details)
    summary, button = details.children[0], details.children[-1]
    assert isinstance(summary, html.Summary) and summary.children == "Delete…"
    assert button.id == {"type": "run-delete", "index": "mine"} and button.children == "Yes, delete"
    assert not _find(jobs_view.user_runs_table("someone else"), html.Details)


def test_decomposition_labels_that_would_meet_on_screen_are_moved_apart():
    from dashboard import figures_analysis as fa

    eye = np.asarray(fa.LABEL_EYE) / np.linalg.norm(fa.LABEL_EYE)
    base = np.array([0.0, 0.0, 1.0])
    chi = np.array([base, base + 0.5 * eye])  # different spokes that the camera sees on top of each other
    push = fa.word_label_push(chi, ["would", "world"], extent_3=np.ones(3))
    right = np.cross([0, 0, 1.0], eye)
    right /= np.linalg.norm(right)
    up = np.cross(eye, right)
    a, b = (np.array([(c * p) @ right, (c * p) @ up]) for c, p in zip(chi, push))
    assert np.abs(a - b).max() > 0.05  # apart on screen, not one label hiding part of the other


def test_fixed_point_summary_without_slow_points_says_none(app_ctx):
    import dataclasses

    fixed_points, bundle, fps = _fp(app_ctx)
    none_slow = dataclasses.replace(fps, is_slow_p=np.zeros_like(fps.is_slow_p))
    text = fixed_points.summary(none_slow)
    assert "None stopped on a distinct slow point" in text and "0 distinct slow points" not in text
