"""Compare (/compare): one sentence through two models, each in its own attractor view, and their geometry side by side."""
from __future__ import annotations

import math

import dash
from dash import ALL, Input, Output, Patch, State, callback, dcc, html

from core.analysis_file import AnalysisError
from core.summary import model_summary
from dashboard import figures, figures_analysis as fa, ids
from dashboard.cache import ModelUnavailable
from dashboard.components.model_picker import classifiers, model_picker, task_label
from dashboard.components.page_shell import (default_example, not_computed, page_frame, resolve_run_id, section,
                                             unavailable, url_sync)
from dashboard.payload import prediction_sentence
from dashboard.runtime import bundles, model_figure, settings

dash.register_page(__name__, path="/compare", name="Compare", title="attractorscope · Compare", order=6)

PATH = "/compare"
COMPARE_EYE = {"x": 2.2, "y": 2.2, "z": 1.35}  # camera of each 3D view (plotly's default is 1.25, 1.25, 1.25)
INTRO = ("Two networks trained on the same task can solve it with the same geometry: Maheswaranathan et al. (2019) "
         "found line attractors in GRUs, LSTMs and UGRNNs alike, and Aitken et al. (2020) the same (N−1)-dimensional "
         "simplex for N classes. Pick two models and a sentence: each panel draws the sentence's trajectory in that "
         "model's own 3D PCA view (the axes of two models are not comparable, their shapes are), and the table lists "
         "the geometry figures for both.")


def default_partner(summaries, run_id: str | None) -> str | None:
    """Another analyzed model of the same task and classes (a different cell if there is one), else run_id itself:
    a model of another task would label the sentence with classes that are not A's (partner_note says so)."""
    usable = [s for s in summaries if s.ok and s.has_analysis and s.run_id != run_id]
    this = next((s for s in summaries if s.run_id == run_id), None)
    same = [s for s in usable if this is not None and (s.task, s.num_classes) == (this.task, this.num_classes)]
    ranked = sorted(same, key=lambda s: s.cell == this.cell)
    return ranked[0].run_id if ranked else run_id


def partner_note(summaries, run_a, run_b) -> str:
    """What to say about the pair: B is A itself (no other model of A's task), or B learnt another task."""
    rows = {s.run_id: s for s in summaries}
    a, b = rows.get(run_a), rows.get(run_b)
    if a is None or b is None or not a.ok or not b.ok:
        return ""
    if run_a == run_b:
        return (f"No other analyzed model in the store learnt {run_a}'s task, {task_label(a.task, a.num_classes)}: "
                f"both sides show {run_a}. Pick a model for B, or train one on the Train page.")
    if (a.task, a.num_classes) != (b.task, b.num_classes):
        return (f"A and B learnt different tasks ({task_label(a.task, a.num_classes)} vs "
                f"{task_label(b.task, b.num_classes)}): B's prediction uses B's own classes, so compare the shapes, "
                "not the labels.")
    return ""


def layout(model=None, model_b=None, text=None, **_query):
    summaries = classifiers(bundles().summaries())
    run_a = resolve_run_id(model)
    run_b = model_b if any(s.run_id == model_b for s in summaries) else default_partner(summaries, run_a)
    text = (text if isinstance(text, str) else default_example(run_a))[: settings().max_text_chars]
    pickers = [html.Div(className="picker-wrap", children=[html.Label(label, htmlFor=cid, className="field-label"),
                                                           model_picker(summaries, value, component_id=cid)])
               for label, cid, value in (("Model A", ids.COMPARE_MODEL_A, run_a),
                                         ("Model B", ids.COMPARE_MODEL_B, run_b))]
    box = html.Div(className="text-wrap", children=[
        html.Label("Sentence", htmlFor=ids.COMPARE_TEXT, className="field-label"),
        dcc.Textarea(id=ids.COMPARE_TEXT, value=text, className="page-text", spellCheck=False,
                     maxLength=settings().max_text_chars, placeholder="Type a sentence for both models")])
    return page_frame(PATH, "Compare two models", INTRO, run_a, _body(run_a, run_b, text), text=text,
                      controls=[box], pickers=pickers, requested=model, requested_b=model_b, run_id_b=run_b)


url_sync(PATH, Input(ids.COMPARE_TEXT, "value"), model_input=Input(ids.COMPARE_MODEL_A, "value"),
         model_b_input=Input(ids.COMPARE_MODEL_B, "value"))


@callback(Output(ids.page_body(PATH), "children"), Input(ids.COMPARE_MODEL_A, "value"),
          Input(ids.COMPARE_MODEL_B, "value"), State(ids.COMPARE_TEXT, "value"), prevent_initial_call=True)
def show_models(run_a, run_b, text):
    return _body(run_a, run_b, text)


@callback(Output({"type": ids.COMPARE_GRAPH, "side": ALL}, "figure"),
          Output({"type": ids.COMPARE_PREDICTION, "side": ALL}, "children"), Input(ids.COMPARE_TEXT, "value"),
          State(ids.COMPARE_MODEL_A, "value"), State(ids.COMPARE_MODEL_B, "value"),
          State({"type": ids.COMPARE_GRAPH, "side": ALL}, "id"), prevent_initial_call=True)
def show_text(text, run_a, run_b, graph_ids):
    runs = {"a": run_a, "b": run_b}
    sides_shown = [g.get("side") if isinstance(g, dict) else None for g in graph_ids]
    if any(side not in runs for side in sides_shown):  # a tampered request: the page has only these two graphs
        return [dash.no_update] * len(graph_ids), [dash.no_update] * len(graph_ids)
    try:
        sides = [_side_trajectory(runs[side], text) for side in sides_shown]
    except ModelUnavailable:  # a model vanished since the page was drawn; the next pick redraws it
        return [dash.no_update] * len(graph_ids), [dash.no_update] * len(graph_ids)
    return [s[0] for s in sides], [s[1] for s in sides]


def _trajectory(bundle, text):
    text = text[: settings().max_text_chars] if isinstance(text, str) else ""  # Explore's cap, applied here too
    traj = bundle.trajectory(text, max_tokens=settings().max_tokens)
    sentence = prediction_sentence(bundle.class_names, traj.probs_txk[-1], bundle.config.model.multilabel) \
        if traj.tokens else "Type a sentence to see its trajectory."
    return traj, sentence


def _side_trajectory(run_id, text):
    """A Patch that fills one side's trajectory traces, and its prediction line."""
    bundle = bundles().get(run_id)
    traj, sentence = _trajectory(bundle, text)
    meta, patch = _base_figure(run_id, bundle)["layout"]["meta"], Patch()
    hover = [f"#{i + 1} {tok}" for i, tok in enumerate(traj.tokens)]
    for role, part in (("trajectory", slice(None)), ("start", slice(0, 1)), ("end", slice(-1, None))):
        for i, axis in enumerate("xyz"):
            patch["data"][meta[role]][axis] = traj.xyz_tx3[part, i].tolist()
        patch["data"][meta[role]]["hovertext"] = hover[part]
    return patch, sentence


def _base_figure(run_id, bundle) -> dict:
    """The model's 3D attractor figure (cached per weights and analysis), trajectory traces empty."""
    def build():
        names, ordered = bundle.class_names, bool(bundle.info.get("ordered"))
        figure = figures.attractor_figure(bundle.analysis, names, ordered, uirevision=f"compare-{run_id}")
        # half a page wide: the camera further back than on Explore, so the PC axis titles stay in the frame
        return figure.update_layout(height=520, scene_camera=dict(eye=COMPARE_EYE))

    return model_figure("compare", bundle, build)


def _side(side: str, run_id, text):
    try:
        bundle = bundles().get(run_id)
    except ModelUnavailable as err:
        return unavailable(str(err)), None
    if bundle.analysis.attractor is None or bundle.analysis.fixed_points is None:
        return not_computed(f"The attractor view of {run_id}", run_id), bundle
    traj, sentence = _trajectory(bundle, text)
    fig = fa.with_trajectory(_base_figure(run_id, bundle), traj.xyz_tx3, traj.tokens)
    return section(f"{side.upper()}: {run_id}", html.Div(sentence, id={"type": ids.COMPARE_PREDICTION, "side": side},
                                                         className="prediction"),
                   dcc.Graph(id={"type": ids.COMPARE_GRAPH, "side": side}, figure=fig,
                             className="compare-graph")), bundle


def _body(run_a, run_b, text):
    (view_a, bundle_a), (view_b, bundle_b) = _side("a", run_a, text), _side("b", run_b, text)
    loaded = [(side, b) for side, b in (("A", bundle_a), ("B", bundle_b)) if b is not None]
    note = partner_note(bundles().summaries(), run_a, run_b)
    return [*([html.Div(note, className="model-message compare-note")] if note else []),
            html.Div(className="two-col", children=[view_a, view_b]),
            section("Geometry side by side", metrics_table(loaded),
                    note="Final states: the state after each held-out text's last token. Readout angles: between "
                         "class readout vectors after removing their mean; a regular simplex has the same angle "
                         "between every pair. Linearization error: median relative miss of one linear step on "
                         "held-out texts (≈10% in the paper).")]


def _fmt(value, spec: str) -> str:
    return "—" if value is None or (isinstance(value, float) and not math.isfinite(value)) else format(value, spec)


def _tau(value: float) -> str:
    return "∞" if value == math.inf else _fmt(value, ",.1f")


ROWS = (
    ("test accuracy", lambda s: _fmt(s.test_accuracy, ".1%")),
    ("cell / units", lambda s: f"{s.cell.upper()} / {s.units}"),
    ("final-state variance in the first N−1 PCs", lambda s: _fmt(s.final_var_top, ".1%")),
    ("PCs for 90% / 95% of final-state variance", lambda s: f"{_fmt(s.final_dims90, 'd')} / {_fmt(s.final_dims95, 'd')}"),
    ("participation ratio (final states)", lambda s: _fmt(s.final_participation_ratio, ".2f")),
    ("fixed points / stable", lambda s: f"{_fmt(s.n_fixed_points, 'd')} / {_fmt(s.n_stable, 'd')}"),
    ("median slowest τ of converged fixed points (tokens)", lambda s: _tau(s.median_slowest_tau)),
    ("angles between readouts (regular simplex)",
     lambda s: f"{_fmt(s.angle_min, '.0f')}–{_fmt(s.angle_max, '.0f')}° ({_fmt(s.simplex_angle, '.1f')}°)"),
    ("one-step linearization error (median)", lambda s: _fmt(s.lin_err_median, ".1%")),
)


def metrics_table(loaded) -> html.Table | html.Div:
    """Rows of geometry figures, one column per (label, bundle)."""
    summaries = []
    for label, bundle in loaded:
        try:
            summaries.append((label, model_summary(bundle)))
        except AnalysisError as err:  # the picker disables such models, but a URL can still name one
            return unavailable(f"{bundle.run_id} has no usable analysis: {err}")
    if not summaries:
        return unavailable("Neither model can be loaded.")
    head = html.Tr([html.Th("")] + [html.Th(f"{label}: {s.run_id}") for label, s in summaries])
    rows = [html.Tr([html.Td(name)] + [html.Td(fmt(s)) for _, s in summaries]) for name, fmt in ROWS]
    return html.Table([html.Thead(head), html.Tbody(rows)], className="models-table compare-table")
