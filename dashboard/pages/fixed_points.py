"""Fixed points (/fixed-points): where the dynamics rest, their spectra and how slowly they forget."""
from __future__ import annotations

import dash
import numpy as np
from dash import Input, Output, State, callback, clientside_callback, dcc, html
from dash.dash_table import DataTable
from dash.dash_table.Format import Format, Scheme

from core.fixed_points.slow_points import SlowPointOptions
from core.geometry import readout_alignment
from dashboard import figures, figures_analysis as fa, ids
from dashboard.figures_training import eigenvalue_migration_figure
from dashboard.cache import ModelUnavailable
from dashboard.components.page_shell import (load_analyzed, not_computed, page_frame, resolve_run_id, section,
                                             unavailable, url_sync)
from dashboard.runtime import bundles, model_memo

dash.register_page(__name__, path="/fixed-points", name="Fixed points", title="attractorscope · Fixed points", order=1)

PATH = "/fixed-points"
INTRO = ("A fixed point is a hidden state the network stays in when it reads nothing (zero input); a slow point is one "
         "where it barely moves. Click a point in the view or a row of the table for its Jacobian spectrum: "
         "eigenvalues near the unit circle are slow modes that remember evidence for τ tokens, and their "
         "eigenvectors' alignment with the readout says whether that memory reaches the prediction.")
STATUS = {"converged": "fixed point (converged)", "slow": "slow point (not converged)",
          "other": "not converged"}
TABLE_PAGE = 12
SELECTED_BG = "#FDEBD3"


def layout(model=None, **_query):
    run_id = resolve_run_id(model)
    return page_frame(PATH, "Fixed points and their spectra", INTRO, run_id, _body(run_id), requested=model)


url_sync(PATH)


@callback(Output(ids.page_body(PATH), "children"), Input(ids.MODEL_PICKER, "value"), prevent_initial_call=True)
def show_model(run_id):
    return _body(run_id)


@callback(Output(ids.FP_SELECTED, "data"), Input(ids.FP_GRAPH, "clickData"), Input(ids.FP_TABLE, "active_cell"),
          prevent_initial_call=True)
def select_point(click, cell):
    """A click on a fixed point in the view, or on a row of the table, selects that point."""
    index = clicked_index(click) if dash.ctx.triggered_id == ids.FP_GRAPH else row_index(cell)
    return dash.no_update if index is None else index


@callback(Output(ids.FP_DETAIL, "children"), Output(ids.FP_GRAPH, "figure"), Output(ids.FP_TABLE, "style_data_conditional"),
          Input(ids.FP_SELECTED, "data"), State(ids.MODEL_PICKER, "value"), prevent_initial_call=True)
def show_point(index, run_id):
    try:
        bundle = bundles().get(run_id)
    except ModelUnavailable as err:  # the model went away since the page was drawn
        return unavailable(str(err)), dash.no_update, dash.no_update
    if not _valid_index(index, bundle.analysis.fixed_points.n_points):
        return dash.no_update, dash.no_update, dash.no_update
    patch = dash.Patch()
    patch["data"][_selected_trace(bundle)] = _ring(bundle, index)
    return _detail(bundle, index), patch, row_highlight(index)


# bring the detail into view when it changes below or above the fold (a table row far down was clicked)
clientside_callback("""function(_children) {
    const el = document.getElementById('%s');
    if (el) { const r = el.getBoundingClientRect();
              if (r.top < 0 || r.top > window.innerHeight - 160) { el.scrollIntoView({block: 'start'}); } }
    return window.dash_clientside.no_update; }""" % ids.FP_DETAIL,
                    Output(ids.FP_SCROLL, "title"), Input(ids.FP_DETAIL, "children"), prevent_initial_call=True)


def _valid_index(index, n_points: int) -> bool:
    return isinstance(index, int) and not isinstance(index, bool) and 0 <= index < n_points


_MAX_POINTS = 2 ** 31  # no bundle has more points; an int past 64 bits would not even survive Dash's reply


def _point_number(index) -> int | None:
    """A point number as a request may carry it: a plain int in 0 .. _MAX_POINTS - 1, else None."""
    return index if _valid_index(index, _MAX_POINTS) else None


def clicked_index(click) -> int | None:
    """The fixed point a click landed on (the point's customdata), or None for anything else."""
    points = click.get("points") if isinstance(click, dict) else None
    point = points[0] if isinstance(points, list) and points and isinstance(points[0], dict) else {}
    return _point_number(point.get("customdata"))


def row_index(cell) -> int | None:
    """The fixed point of a clicked table cell (its row id), or None for anything else."""
    return _point_number(cell.get("row_id") if isinstance(cell, dict) else None)


def row_highlight(index: int) -> list[dict]:
    return [{"if": {"filter_query": f"{{id}} = {int(index)}"}, "backgroundColor": SELECTED_BG, "fontWeight": "600"}]


def _selected_trace(bundle) -> int:
    """Index of the selection ring: the last trace, after the attractor figure's own."""
    return len(bundle.class_names) + len(figures.TRACE_ROLES)


def _ring(bundle, index: int) -> dict:
    return fa.selected_point_trace(bundle.analysis.attractor.fp_xyz_px3[index])


def _body(run_id):
    bundle, problem = load_analyzed(run_id, ("fixed_points", "attractor"), "Fixed points")
    if problem is not None:
        return problem
    return model_memo().get("fixed-points", bundle, (), lambda: _sections(bundle, run_id))


def start_index(fps) -> int | None:
    """The stable, converged point most initial states reached: the attractor's anchor."""
    if not fps.n_points:
        return None
    return int(np.argmax(fps.counts_p * fps.is_converged_p * (1 + fps.is_stable_p * fps.n_inits)))


def summary(fps) -> str:
    """Converged vs slow vs distinct, in the table's words: shares of the initial states, counts of distinct points."""
    conv, slow = fps.is_converged_p, fps.is_slow_p
    n_conv, n_slow = int(fps.counts_p[conv].sum()), int(fps.counts_p[slow].sum())
    rest = fps.n_inits - n_conv - n_slow
    text = (f"The solver started from {fps.n_inits:,} states the network visited ({fps.wall_time_s:.2f} s). "
            f"{n_conv:,} of them ({fps.frac_converged:.1%}) converged (q < {fps.tol_q:.0e}) onto "
            f"{_n(int(conv.sum()), 'distinct fixed point')} ({int((conv & fps.is_stable_p).sum())} stable), drawn as "
            + (f"◆/✚. {n_slow:,} ({fps.frac_slow:.1%}) stopped on {_n(int(slow.sum()), 'distinct slow point')}, where "
               "the state barely moves but q stays above the tolerance: listed in the table, not drawn as fixed points."
               if n_slow else "◆/✚. None stopped on a distinct slow point (where the state barely moves but q stays "
                              "above the tolerance)."))
    if rest > 0:
        text += f" {rest:,} ended elsewhere (not converged)."
    if fps.n_spurious:
        text += f" {fps.n_spurious} ended outside the reachable box."
    return text + " Each table row is one distinct point; “inits” counts the initial states that ended there."


def _n(count: int, noun: str) -> str:
    return f"{count:,} {noun}{'' if count == 1 else 's'}"


def _sections(bundle, run_id):
    analysis, fps = bundle.analysis, bundle.analysis.fixed_points
    names, ordered = bundle.class_names, bool(bundle.info.get("ordered"))
    start = start_index(fps)
    fig = figures.attractor_figure(analysis, names, ordered, uirevision=f"fp-{run_id}")
    for role in ("fp_stable", "fp_unstable"):  # the table's point number first in every hover
        trace = fig.data[fig.layout.meta[role]]
        trace.hovertext = [f"<b>fixed point #{i + 1}</b><br>{h.split('<br>', 1)[-1]}"
                           for i, h in zip(list(trace.customdata or ()), list(trace.hovertext if trace.hovertext is not None else ()))]
    fig.add_trace(_ring(bundle, start) if start is not None else fa.selected_point_trace(None))
    slow = fig.data[fig.layout.meta["slow_points"]]
    if slow.marker.colorbar.title.text:  # a horizontal colour bar below the view: the narrow column keeps its width
        slow.marker.colorbar.update(orientation="h", x=0.5, xanchor="center", y=0, yanchor="top", len=0.5, thickness=8)
    eye = fig.layout.scene.camera.eye  # the view sits in half the page: pull the camera back so no axis is cut
    if eye is not None and eye.x is not None:
        fig.update_layout(scene_camera_eye=dict(x=eye.x * 1.3, y=eye.y * 1.3, z=eye.z * 1.3))
    fig.update_layout(height=600, legend=dict(font=dict(size=12)))
    view = section("Fixed points on the attractor", dcc.Graph(id=ids.FP_GRAPH, figure=fig, className="fp-graph",
                                                              style={"height": "600px"}),
                   note="Click a fixed point (◆ stable, ✚ unstable; the ring marks the selected one). Small dots: slow "
                        "points, coloured by log10 q.")
    return html.Div(className="fp-grid", children=[
        dcc.Store(id=ids.FP_SELECTED, data=start), html.Span(id=ids.FP_SCROLL, hidden=True),
        html.Div(className="two-col", children=[
            view, html.Div(_detail(bundle, start) if start is not None else "", id=ids.FP_DETAIL)]),
        section("All fixed and slow points", html.P(summary(fps), className="note fp-summary"),
                _table(fps, start), note="Click a row to inspect that point; click a column header to sort."),
        _line_section(bundle, run_id),
        _training_section(bundle),
        section("How well the solver converged", dcc.Graph(figure=fa.q_histogram(fps.qstar_p, fps.counts_p, fps.tol_q))),
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


def _training_section(bundle):
    """The eigenvalues of each training-time checkpoint's fixed points: slow modes forming as |λ| nears 1."""
    view = bundle.analysis.training
    title = "How the fixed points formed during training"
    if view is None:
        return section(title, html.P("This model keeps no analyzed training checkpoints (it was trained before they "
                                     "existed); retrain it to see its eigenvalues migrate.", className="note"))
    return section(title, dcc.Graph(id=ids.FP_MIGRATION_GRAPH, figure=eigenvalue_migration_figure(view)),
                   note=f"The fixed points of {len(view.steps_k)} checkpoints kept during training (spaced by "
                        "validation progress; the last is this model), each point's largest |λ| of its Jacobian. "
                        "As the network learns to integrate evidence, the stable points' slowest modes approach "
                        "|λ| = 1: the dashed line. Explore replays a text at each checkpoint.")


def _detail(bundle, index):
    fps = bundle.analysis.fixed_points
    if not 0 <= index < fps.n_points:
        return ""
    readout = bundle.model.readout_full()
    right = readout_alignment(fps.right_vecs_pxnxm[index], readout)
    left = readout_alignment(fps.left_vecs_pxnxm[index], readout)
    kind = "stable" if fps.is_stable_p[index] else "unstable"
    tau = fps.tau_pxm[index, 0] if fps.tau_pxm.size else float("nan")
    top = abs(fps.eigvals_pxn[index, 0]) if fps.eigvals_pxn.size else float("nan")
    facts = (f"{_status(fps, index)} · q = {fps.qstar_p[index]:.1e} · |λ| max = {top:.5f} · slowest τ = "
             f"{'∞' if not np.isfinite(tau) else f'{tau:,.1f}'} tokens · reached by {fps.counts_p[index]:,} of "
             f"{fps.n_inits:,} initial states")
    small = dict(config={"displayModeBar": False})
    what = "fixed point" if fps.is_converged_p[index] else "slow point" if fps.is_slow_p[index] else "not converged"
    return section(f"Point #{index + 1} ({what}, {kind})", html.P(facts, className="fp-facts"),
                   html.Div(className="fp-detail-pair", style={"display": "grid", "gap": "8px",
                                                                "gridTemplateColumns": "repeat(auto-fit, minmax(230px, 1fr))"},
                            children=[dcc.Graph(figure=fa.eigenvalue_figure(fps.eigvals_pxn[index], "Jacobian eigenvalues"),
                                                **small),
                                      dcc.Graph(figure=fa.time_constant_figure(fps.tau_pxm[index]), **small)]),
                   dcc.Graph(figure=fa.alignment_figure(right, left, bundle.class_names), **small),
                   html.P("Eigenvalues of ∂F/∂h with the unit circle; time constants τ = |1/ln|λ|| of the slowest "
                          "modes, in tokens; |cos| of the slowest right (solid) and left (hatched) eigenvectors with "
                          "each class readout.", className="note"))


def _status(fps, i: int) -> str:
    return STATUS["converged" if fps.is_converged_p[i] else "slow" if fps.is_slow_p[i] else "other"]


def _table(fps, start):
    tau = fps.tau_pxm[:, 0] if fps.tau_pxm.size else np.zeros(fps.n_points)
    top = np.abs(fps.eigvals_pxn[:, 0]) if fps.eigvals_pxn.size else np.zeros(fps.n_points)
    rows = [{"id": i, "point": i + 1, "q": float(fps.qstar_p[i]),
             "stability": "stable" if fps.is_stable_p[i] else "unstable", "status": _status(fps, i),
             "eig": round(float(top[i]), 5), "tau": float(tau[i]) if np.isfinite(tau[i]) else None,
             "inits": int(fps.counts_p[i])} for i in np.argsort(-fps.counts_p, kind="stable")]
    num = lambda name, col, fmt: {"name": name, "id": col, "type": "numeric", "format": fmt}  # noqa: E731
    columns = [num("point #", "point", Format()), num("q", "q", Format(precision=1, scheme=Scheme.exponent)),
               {"name": "stability", "id": "stability"}, {"name": "status", "id": "status"},
               num("|λ| max", "eig", Format(precision=5, scheme=Scheme.fixed)),
               num("slowest τ (tokens)", "tau", Format(precision=1, scheme=Scheme.fixed, group=True)),
               num("inits", "inits", Format(group=True))]
    return DataTable(id=ids.FP_TABLE, data=rows, columns=columns, sort_action="native", page_action="native",
                     page_size=TABLE_PAGE, cell_selectable=True, style_as_list_view=True,
                     style_table={"overflowX": "auto"}, css=[{"selector": "td.dash-cell, td.dash-cell *", "rule": f"cursor: pointer; font-family: {figures.FONT['family']};"}],
                     style_cell={"fontFamily": figures.FONT["family"], "fontSize": "14px", "padding": "6px 10px", "textAlign": "left"},
                     style_header={"fontWeight": "600", "backgroundColor": "#F3F4F6"},
                     style_data_conditional=row_highlight(start) if start is not None else [])
