"""Fixed points (/fixed-points): where the dynamics rest, their spectra and how slowly they forget."""
from __future__ import annotations

import dash
import numpy as np
from dash import Input, Output, State, callback, dcc, html

from core.fixed_points.slow_points import SlowPointOptions
from core.geometry import readout_alignment
from dashboard import figures, figures_analysis as fa, ids
from dashboard.cache import ModelUnavailable
from dashboard.components.page_shell import (load_analyzed, not_computed, page_frame, resolve_run_id, section,
                                             unavailable, url_sync)
from dashboard.runtime import bundles, model_memo

dash.register_page(__name__, path="/fixed-points", name="Fixed points", title="attractorscope · Fixed points", order=1)

PATH = "/fixed-points"
INTRO = ("A fixed point is a hidden state the network stays in when it reads nothing (zero input). Found to machine "
         "precision by a damped Newton solver from 1,024 states the network really visited, they show where the "
         "dynamics rest. Click one to see its Jacobian spectrum: eigenvalues near the unit circle are slow modes that "
         "remember evidence for τ tokens; their eigenvectors' alignment with the readout tells whether that memory "
         "reaches the prediction. Between the few exact fixed points lie many slow points, where the state barely "
         "moves: together they trace the attractor (a line for binary sentiment), shown as a layer coloured by q "
         "and, below, as curves along the line.")
TABLE_ROWS = 60
SORT_OPTIONS = [{"label": "q", "value": "q"}, {"label": "slowest τ", "value": "tau"}, {"label": "stability", "value": "stable"}]
SORT_VALUES = tuple(o["value"] for o in SORT_OPTIONS)


def layout(model=None, **_query):
    run_id = resolve_run_id(model)
    controls = [html.Div([html.Label("Sort table by"), dcc.RadioItems(id=ids.FP_SORT, options=SORT_OPTIONS, value="tau",
                                                                      inline=True)], className="sort-wrap")]
    return page_frame(PATH, "Fixed points and their spectra", INTRO, run_id, _body(run_id, "tau"), controls=controls, requested=model)


url_sync(PATH)


@callback(Output(ids.page_body(PATH), "children"), Input(ids.MODEL_PICKER, "value"), Input(ids.FP_SORT, "value"),
          prevent_initial_call=True)
def show_model(run_id, sort_by):
    return _body(run_id, sort_by)


@callback(Output(ids.FP_DETAIL, "children"), Input(ids.FP_GRAPH, "clickData"), State(ids.MODEL_PICKER, "value"),
          prevent_initial_call=True)
def show_point(click, run_id):
    index = clicked_index(click)
    if index is None:
        return dash.no_update
    try:
        return _detail(run_id, index)
    except ModelUnavailable as err:  # the model went away since the page was drawn
        return unavailable(str(err))


def clicked_index(click) -> int | None:
    """The fixed point a click landed on (the point's customdata), or None for anything else."""
    points = click.get("points") if isinstance(click, dict) else None
    point = points[0] if isinstance(points, list) and points and isinstance(points[0], dict) else {}
    index = point.get("customdata")
    return index if isinstance(index, int) and not isinstance(index, bool) else None


def _body(run_id, sort_by):
    sort_by = sort_by if sort_by in SORT_VALUES else "tau"  # part of a memo key: only the offered values reach it
    bundle, problem = load_analyzed(run_id, ("fixed_points", "attractor"), "Fixed points")
    if problem is not None:
        return problem
    return model_memo().get("fixed-points", bundle, (sort_by,), lambda: _sections(bundle, run_id, sort_by))


def _sections(bundle, run_id, sort_by):
    analysis, fps = bundle.analysis, bundle.analysis.fixed_points
    names, ordered = bundle.class_names, bool(bundle.info.get("ordered"))
    fig = figures.attractor_figure(analysis, names, ordered, uirevision=f"fp-{run_id}")
    # open on the stable, converged point most initial states reached: the attractor's anchor
    start = int(np.argmax(fps.counts_p * fps.is_converged_p * (1 + fps.is_stable_p * fps.n_inits))) \
        if fps.n_points else None
    conv = fps.is_converged_p
    stats = (f"{int(conv.sum())} fixed points ({int((conv & fps.is_stable_p).sum())} stable) from {fps.n_inits:,} "
             f"initial states in {fps.wall_time_s:.2f} s: {fps.frac_converged:.1%} of them converged (q < "
             f"{fps.tol_q:.0e}, confirmed by Newton polishing), {fps.frac_slow:.1%} ended on one of "
             f"{int(fps.is_slow_p.sum())} slow points of the solver (listed in the table, not drawn), "
             f"{fps.n_spurious} outside the reachable box.")
    return html.Div(className="fp-grid", children=[
        section("Fixed points on the attractor", dcc.Graph(id=ids.FP_GRAPH, figure=fig, className="graph-tall"),
                note="Click a fixed point (◆ stable, ✚ unstable) to inspect it; the small dots are slow points, "
                     "coloured by log10 q. " + stats),
        html.Div(_detail(run_id, start) if start is not None else "", id=ids.FP_DETAIL),
        _line_section(bundle, run_id),
        section("How well the solver converged", dcc.Graph(figure=fa.q_histogram(fps.qstar_p, fps.counts_p, fps.tol_q))),
        section("All fixed points", _table(fps, sort_by)),
    ])


def _line_section(bundle, run_id):
    """The slow points as a line: what the local dynamics do along it."""
    sp, line = bundle.analysis.slow_points, bundle.analysis.slow_line
    if sp is None or line is None:
        return not_computed("Slow points", run_id)
    if sp.n_points < 2:
        return section("Along the line of slow points", unavailable("Fewer than two slow points were found."))
    note = (f"{sp.n_points} slow points, thinned from the {sp.n_inits:,} visited states relaxed with zero input "
            f"until they moved less than {SlowPointOptions().speed_frac:.0%} of a typical word's kick per token ({sp.frac_slow:.0%} got there). "
            f"Their first principal component (the line) holds {line.explained_ratio:.1%} of their spread; its "
            f"|cos| with the readout is {line.readout_cos:.2f}, and the slow points span "
            f"{line.readout_span:.0%} of the readout range of held-out final states. Per point: the slowest time "
            f"constant, the largest |λ| and how the slowest mode lines up with the line (local direction) and "
            f"with the readout. Near |λ| = 1 and aligned with the line, the network integrates evidence along it.")
    return section("Along the line of slow points", dcc.Graph(figure=fa.line_profile_figure(
        line.position_p, line.tau_p, line.top_eig_p, line.cos_line_p, line.cos_readout_p)), note=note)


def _detail(run_id, index):
    bundle = bundles().get(run_id)
    fps = bundle.analysis.fixed_points
    if not 0 <= index < fps.n_points:
        return ""
    readout = bundle.model.readout_full()
    right = readout_alignment(fps.right_vecs_pxnxm[index], readout)
    left = readout_alignment(fps.left_vecs_pxnxm[index], readout)
    kind = "stable" if fps.is_stable_p[index] else "unstable"
    title = f"Fixed point #{index + 1} ({kind}, q = {fps.qstar_p[index]:.1e}, reached by {fps.counts_p[index]} inits)"
    return section(title, html.Div(className="three-col", children=[
        dcc.Graph(figure=fa.eigenvalue_figure(fps.eigvals_pxn[index], "Jacobian eigenvalues")),
        dcc.Graph(figure=fa.time_constant_figure(fps.tau_pxm[index])),
        dcc.Graph(figure=fa.alignment_figure(right, left, bundle.class_names)),
    ]), note="Left: eigenvalues of ∂F/∂h. Middle: time constants τ = |1/ln|λ|| of the slowest modes, in tokens. "
             "Right: |cos| of the slowest right (solid) and left (hatched) eigenvectors with each class readout.")


def _table(fps, sort_by):
    tau = fps.tau_pxm[:, 0] if fps.tau_pxm.size else np.zeros(fps.n_points)
    if sort_by == "q":
        order = np.argsort(fps.qstar_p)
    elif sort_by == "stable":
        order = np.lexsort((-tau, ~fps.is_stable_p))
    else:
        order = np.argsort(-np.where(np.isfinite(tau), tau, np.inf))
    top = np.abs(fps.eigvals_pxn[:, 0]) if fps.eigvals_pxn.size else np.zeros(fps.n_points)
    rows = [html.Tr([html.Td(f"#{i + 1}"), html.Td(f"{fps.qstar_p[i]:.1e}"),
                     html.Td("stable" if fps.is_stable_p[i] else "unstable"),
                     html.Td("converged" if fps.is_converged_p[i] else "slow point" if fps.is_slow_p[i] else "not converged"),
                     html.Td(f"{top[i]:.5f}"), html.Td("∞" if not np.isfinite(tau[i]) else f"{tau[i]:,.1f}"),
                     html.Td(str(fps.counts_p[i]))]) for i in order[:TABLE_ROWS]]
    header = html.Tr([html.Th(h) for h in ("point", "q", "stability", "status", "|λ| max", "slowest τ (tokens)", "inits")])
    more = html.P(f"Showing {TABLE_ROWS} of {fps.n_points}.", className="note") if fps.n_points > TABLE_ROWS else ""
    return html.Div([html.Table([html.Thead(header), html.Tbody(rows)], className="models-table fp-table"), more])
