"""Pure figure builders shared by the pages: the attractor view, the prediction chart, colours. No numerics here."""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

__all__ = [
    "class_colors", "attractor_figure", "prediction_figure", "empty_figure", "TRACE_ROLES", "hex_to_rgba",
    "axis_titles", "FONT", "explore_figures",
]

PALETTE = ("#D55E00", "#0072B2", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#8C564B", "#7F7F7F",
           "#BCBD22", "#17BECF")
ORDERED_RAMP = ("#C0392B", "#E67E22", "#95A5A6", "#5DADE2", "#1F4E99")
TRAJECTORY_COLOR = "#111111"
# Traces after the per-class cloud traces, in this order; the browser finds them via layout.meta.
TRACE_ROLES = ("slow_points", "fp_stable", "fp_unstable", "readout", "trajectory", "start", "end", "highlight")
FONT = dict(family="Inter, Segoe UI, Helvetica, Arial, sans-serif", size=14)


# Classes named after a colour (the synthetic tasks' class words) are drawn in that colour.
NAMED_COLORS = {"red": "#D62728", "green": "#2CA02C", "blue": "#1F77B4", "gold": "#D4A017", "violet": "#8E44AD",
                "teal": "#17A2B8", "orange": "#FF7F0E", "pink": "#E377C2", "gray": "#7F7F7F", "brown": "#8C564B"}


def class_colors(class_names: list[str], ordered: bool = False) -> list[str]:
    n = len(class_names)
    if ordered and n in (3, 5):
        return list(ORDERED_RAMP[:: 2 if n == 3 else 1])
    if class_names and all(name in NAMED_COLORS for name in class_names):
        return [NAMED_COLORS[name] for name in class_names]
    return list(PALETTE[:n])


def hex_to_rgba(color: str, alpha: float) -> str:
    r, g, b = (int(color[i:i + 2], 16) for i in (1, 3, 5))
    return f"rgba({r},{g},{b},{alpha:.3f})"


def axis_titles(explained_c: np.ndarray) -> list[str]:
    """Axis titles PC1-PC3 with the share of variance each component explains."""
    return [f"PC{i + 1} ({explained_c[i]:.0%})" if i < len(explained_c) else f"PC{i + 1}" for i in range(3)]


def _coords(xyz_bx3: np.ndarray, three_d: bool) -> dict:
    xyz = np.asarray(xyz_bx3, dtype=np.float32).reshape(-1, 3)
    coords = {"x": xyz[:, 0], "y": xyz[:, 1]}
    if three_d:
        coords["z"] = xyz[:, 2]
    return coords


def _scatter(three_d: bool, **kwargs):
    return go.Scatter3d(**kwargs) if three_d else go.Scattergl(**kwargs)


def _fixed_point_hover(qstar_p, top_abs_eig_p, slowest_tau_p, kind: str = "fixed point") -> list[str]:
    return [f"{kind}<br>q = {q:.1e}<br>|λ|max = {lam:.4f}<br>slowest τ = {tau:,.0f} tokens"
            for q, lam, tau in zip(qstar_p, top_abs_eig_p, slowest_tau_p)]


def _readout_segments(centre_3: np.ndarray, readout_kx3: np.ndarray, names: list[str], length: float):
    """Line segments from the attractor centre along each class readout direction, each labelled a little
    beyond its tip (a lone vertex between NaN gaps: text, no line)."""
    xyz, text = [], []
    for direction, name in zip(readout_kx3, names):
        norm = float(np.linalg.norm(direction)) or 1.0
        tip = centre_3 + direction / norm * length
        label = centre_3 + direction / norm * length * 1.18  # beyond the tip, off the points that end there
        xyz += [centre_3, tip, [np.nan] * 3, label, [np.nan] * 3]
        text += ["", "", "", name, ""]
    return np.asarray(xyz, dtype=np.float32), text


def attractor_figure(analysis, class_names: list[str], ordered: bool = False, three_d: bool = True,
                     uirevision: str = "attractor") -> go.Figure:
    """Attractor cloud, fixed points and readout directions, plus empty trajectory traces to patch.

    ``analysis`` is a ``core.analysis_view.Analysis`` with its attractor view and fixed points."""
    view, fps = analysis.attractor, analysis.fixed_points
    fig = go.Figure()
    _add_cloud(fig, view, class_names, class_colors(class_names, ordered), three_d)
    _add_slow_points(fig, analysis.slow_points, analysis.slow_line, three_d)  # under the fixed points
    _add_fixed_points(fig, view.fp_xyz_px3, fps, three_d)
    _add_readout(fig, view, class_names, three_d)
    _add_trajectory_traces(fig, three_d)
    meta = {role: len(class_names) + i for i, role in enumerate(TRACE_ROLES)}
    meta["three_d"] = three_d
    fig.update_layout(meta=meta, uirevision=uirevision, margin=dict(l=0, r=0, t=10, b=0), font=FONT,
                      paper_bgcolor="white", legend=dict(orientation="h", y=1.0, x=0, itemsizing="constant",
                                                          bgcolor="rgba(255,255,255,0.7)"))
    _attractor_axes(fig, axis_titles(analysis.pca.explained_variance_ratio_c_), three_d, uirevision)
    return fig


# Explore draws the attractor in two stacked graphs: the cloud alone underneath (20k points, drawn once per
# model) and everything else on a transparent overlay, the only graph a keystroke redraws. Both get the same
# fixed margins and axis ranges, so their plot areas coincide; assets/explore.js mirrors zoom, pan and camera.
EXPLORE_MARGIN_2D = dict(l=58, r=70, t=64, b=48, autoexpand=False)  # r: the slow points' colour bar
EXPLORE_MARGIN_3D = dict(l=0, r=0, t=64, b=0, autoexpand=False)


def _bounds(fig: go.Figure, three_d: bool, pad: float = 0.06) -> list[list[float]]:
    """[lo, hi] per axis over every point of every trace (NaN gaps ignored), padded."""
    axes = ("x", "y", "z") if three_d else ("x", "y")
    out = []
    for axis in axes:
        values = [np.asarray(getattr(t, axis), dtype=np.float64) for t in fig.data
                  if getattr(t, axis, None) is not None and len(getattr(t, axis))]
        flat = np.concatenate(values) if values else np.zeros(1)
        flat = flat[np.isfinite(flat)] if np.isfinite(flat).any() else np.zeros(1)
        lo, hi = float(flat.min()), float(flat.max())
        span = max(hi - lo, 1e-6)
        out.append([lo - pad * span, hi + pad * span])
    return out


def explore_figures(analysis, class_names: list[str], ordered: bool = False, three_d: bool = False,
                    uirevision: str = "attractor") -> tuple[go.Figure, go.Figure]:
    """(cloud, overlay) for Explore: the visited-state cloud and the slow points (coloured by q: the costliest
    layer to redraw), and a transparent figure with the rest (fixed points, readout, the text's path; the
    cloud graph's traces as legend-only entries, the first ``meta.cloud_proxies`` traces, whose clicks
    assets/explore.js passes to the cloud). Same ranges and fixed margins in both, so they line up."""
    full = attractor_figure(analysis, class_names, ordered, three_d, uirevision)
    k = full.layout.meta["slow_points"] + 1  # the class clouds and the slow points (drawn right after them)
    ranges = _bounds(full, three_d)
    margin = EXPLORE_MARGIN_3D if three_d else EXPLORE_MARGIN_2D
    cloud = go.Figure(data=full.data[:k], layout=full.layout)
    cloud.update_layout(showlegend=False, meta=None, margin=margin, autosize=True)
    overlay = go.Figure(full)
    for i in range(k):  # legend entries only: the points are in the cloud graph
        # one NaN point: plotly leaves a trace without points out of the legend
        marker = dict(opacity=0.8) if i < k - 1 else dict(color="#F4B400", showscale=False, opacity=0.9)
        overlay.data[i].update(x=[None], y=[None], **({"z": [None]} if three_d else {}), marker=marker,
                               legendgroup=None, hovertext=None)  # grouped entries would stack in a column
    overlay.update_layout(meta={**full.layout.meta, "cloud_proxies": k}, margin=margin, autosize=True,
                          paper_bgcolor="rgba(0,0,0,0)", plot_bgcolor="rgba(0,0,0,0)",
                          legend=dict(orientation="h", x=0, y=1.0, yanchor="bottom", bgcolor="rgba(0,0,0,0)",
                                      font=dict(size=12), entrywidthmode="fraction",
                                      entrywidth=0.25 if k <= 3 else 0.2))  # two rows: inside the top margin
    if three_d:
        ratio = np.array([hi - lo for lo, hi in ranges])
        aspect = dict(zip("xyz", (ratio / ratio.max()).tolist()))
        for fig in (cloud, overlay):
            fig.update_layout(scene=dict(aspectmode="manual", aspectratio=aspect,
                                         camera=dict(eye=dict(x=1.15, y=1.15, z=0.7)),  # framed on the points
                                         **{f"{a}axis": dict(range=r, autorange=False) for a, r in zip("xyz", ranges)}))
        bare = dict(showbackground=False, showgrid=False, showticklabels=False, showspikes=False, zeroline=False,
                    showline=False, title=dict(text=""))
        overlay.update_layout(scene=dict(bgcolor="rgba(0,0,0,0)", xaxis=bare, yaxis=bare, zaxis=bare))
        slow = cloud.data[k - 1]
        if slow.marker.colorbar is not None:  # no right margin in 3D: the colour bar goes inside
            slow.marker.colorbar.update(x=0.99, xanchor="right")
    else:
        # SVG, not WebGL, for the overlay's few hundred points: one WebGL context per page (the cloud's);
        # a second one made software-rendered frames (headless, a loaded classroom PC) far slower
        traces = [go.Scatter({key: val for key, val in t.to_plotly_json().items() if key != "type"})
                  if t.type == "scattergl" else t for t in overlay.data]
        overlay = go.Figure(data=traces, layout=overlay.layout)
        for fig in (cloud, overlay):
            fig.update_layout(xaxis=dict(range=ranges[0], autorange=False, automargin=False),
                              yaxis=dict(range=ranges[1], autorange=False, automargin=False))
        overlay.update_layout(xaxis=dict(visible=False), yaxis=dict(visible=False))
    return cloud, overlay


def _add_cloud(fig: go.Figure, view, class_names: list[str], colors: list[str], three_d: bool) -> None:
    """One trace of visited states per class the readout predicts there."""
    cloud, pred = view.cloud_xyz_bx3, view.cloud_pred_b
    for k, name in enumerate(class_names):
        fig.add_trace(_scatter(three_d, **_coords(cloud[pred == k], three_d), mode="markers", name=f"states → {name}",
                               marker=dict(size=2 if three_d else 3, color=colors[k], opacity=0.18),
                               hoverinfo="skip", legendgroup="cloud"))


def _add_fixed_points(fig: go.Figure, fp_xyz: np.ndarray, fps, three_d: bool) -> None:
    """Converged fixed points only, stable and unstable (the solver's slow points are in its table)."""
    top_eig = np.abs(fps.eigvals_pxn[:, 0]) if fps.eigvals_pxn.size else np.zeros(len(fp_xyz))
    slow_tau = fps.tau_pxm[:, 0] if fps.tau_pxm.size else np.zeros(len(fp_xyz))
    hover = np.array(_fixed_point_hover(fps.qstar_p, top_eig, slow_tau))
    conv = fps.is_converged_p
    for role, mask, symbol, label in (("fp_stable", conv & fps.is_stable_p, "diamond", "stable fixed point"),
                                      ("fp_unstable", conv & ~fps.is_stable_p, "cross", "unstable fixed point")):
        fig.add_trace(_scatter(three_d, **_coords(fp_xyz[mask], three_d), mode="markers", name=label,
                               marker=dict(size=6 if three_d else 10, symbol=symbol,
                                           color="#222" if role == "fp_stable" else "#B03A2E",
                                           line=dict(width=1, color="white")),
                               hovertext=hover[mask], hoverinfo="text",
                               customdata=np.flatnonzero(mask).tolist()))  # plain list: clickData reads it


def _add_slow_points(fig: go.Figure, slow_points, line, three_d: bool) -> None:
    """The slow-point layer, coloured by log10 q (an empty trace when the analysis has none)."""
    if slow_points is None or line is None or not slow_points.n_points:
        fig.add_trace(_scatter(three_d, **_coords(np.zeros((0, 3)), three_d), mode="markers", name="slow points",
                               showlegend=False, hoverinfo="skip"))
        return
    log_q = np.log10(np.maximum(np.asarray(slow_points.qstar_p, dtype=np.float64), 1e-40))
    hover = _fixed_point_hover(slow_points.qstar_p, line.top_eig_p, line.tau_p, kind="slow point")
    fig.add_trace(_scatter(three_d, **_coords(line.xyz_px3, three_d), mode="markers", name="slow points",
                           marker=dict(size=3 if three_d else 6, color=log_q.astype(np.float32), colorscale="Plasma",
                                       colorbar=dict(title="log10 q", thickness=10, len=0.5, x=1.0, y=0.3),
                                       opacity=0.9),
                           hovertext=hover, hoverinfo="text"))


def _add_readout(fig: go.Figure, view, class_names: list[str], three_d: bool) -> None:
    cloud = view.cloud_xyz_bx3
    cloud_extent = float(np.percentile(np.linalg.norm(cloud - cloud.mean(axis=0), axis=1), 95)) if len(cloud) else 1.0
    seg_xyz, seg_text = _readout_segments(view.centre_xyz_3, view.readout_pc_kx3, class_names, 0.9 * cloud_extent)
    # plain Scatter in 2D: WebGL scatter cannot draw text labels
    readout_trace = go.Scatter3d if three_d else go.Scatter
    fig.add_trace(readout_trace(**_coords(seg_xyz, three_d), mode="lines+text", text=seg_text,
                                name="readout directions", line=dict(color="#555", width=4, dash="dash"),
                                textfont=dict(size=15, color="#333"), hoverinfo="skip"))


def _add_trajectory_traces(fig: go.Figure, three_d: bool) -> None:
    """The empty traces the browser (or ``figures_analysis.with_trajectory``) fills with a text's path."""
    empty = np.zeros((0, 3), np.float32)
    fig.add_trace(_scatter(three_d, **_coords(empty, three_d), mode="lines+markers", name="your text",
                           line=dict(color=TRAJECTORY_COLOR, width=8 if three_d else 4),
                           marker=dict(size=4 if three_d else 7, color=TRAJECTORY_COLOR), hoverinfo="text"))
    for role, symbol, color, size in (("start", "circle-open", "#111", 9), ("end", "circle", "#F1C40F", 10),
                                      ("highlight", "circle", "#E74C3C", 12)):
        fig.add_trace(_scatter(three_d, **_coords(empty, three_d), mode="markers", name=role, showlegend=False,
                               marker=dict(size=size if three_d else size + 4, symbol=symbol, color=color,
                                           line=dict(width=2, color="#111")), hoverinfo="text",
                               visible=role != "highlight"))  # shown while a word is hovered (assets/explore.js)


def _attractor_axes(fig: go.Figure, titles: list[str], three_d: bool, uirevision: str) -> None:
    if three_d:
        axis = dict(showbackground=True, backgroundcolor="#F7F8FA", gridcolor="#DDD", zeroline=False)
        # camera pulled back a little so the axis titles stay inside the frame on a projector
        fig.update_layout(scene=dict(xaxis=dict(title=titles[0], **axis), yaxis=dict(title=titles[1], **axis),
                                     zaxis=dict(title=titles[2], **axis), aspectmode="data", uirevision=uirevision,
                                     camera=dict(eye=dict(x=1.35, y=1.35, z=0.8))))
    else:
        fig.update_layout(xaxis=dict(title=titles[0], gridcolor="#EEE", zeroline=False),
                          yaxis=dict(title=titles[1], gridcolor="#EEE", zeroline=False, scaleanchor="x"),
                          plot_bgcolor="white")


def prediction_figure(class_names: list[str], ordered: bool = False) -> go.Figure:
    """Class probabilities over tokens; the browser fills in x and y for each class line."""
    colors = class_colors(class_names, ordered)
    fig = go.Figure([go.Scatter(x=[], y=[], mode="lines", name=name, line=dict(color=c, width=3))
                     for name, c in zip(class_names, colors)])
    fig.update_layout(margin=dict(l=50, r=10, t=34, b=40), font=dict(FONT, size=12), height=200,
                      yaxis=dict(title="probability", range=[0, 1.02], gridcolor="#EEE"),
                      xaxis=dict(title="token", gridcolor="#EEE", rangemode="tozero"),
                      plot_bgcolor="white", legend=dict(orientation="h", y=1.02, yanchor="bottom", x=0),
                      hovermode="x unified",
                      uirevision="prediction")
    return fig


def empty_figure(message: str) -> go.Figure:
    fig = go.Figure()
    fig.update_layout(xaxis=dict(visible=False), yaxis=dict(visible=False), plot_bgcolor="white",
                      margin=dict(l=0, r=0, t=0, b=0), font=FONT,
                      annotations=[dict(text=message, showarrow=False, font=dict(size=16, color="#666"))])
    return fig
