"""Pure figure builders for the analysis pages (fixed points, geometry, words, linearization, decomposition,
compare)."""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from dashboard.figures import FONT, axis_titles, class_colors

__all__ = [
    "eigenvalue_figure", "time_constant_figure", "alignment_figure", "q_histogram", "explained_variance_figure",
    "readout_arrows_figure", "angle_heatmap", "evidence_plane_figure", "decomposition_bars",
    "decomposition_path_figure", "with_trajectory", "line_profile_figure", "error_vs_kick_figure",
]


def _layout(fig: go.Figure, height: int = 340, **kwargs) -> go.Figure:
    fig.update_layout(height=height, margin=dict(l=60, r=20, t=30, b=50), font=dict(FONT, size=13),
                      plot_bgcolor="white", paper_bgcolor="white", **kwargs)
    fig.update_xaxes(gridcolor="#EEE", zeroline=False)
    fig.update_yaxes(gridcolor="#EEE", zeroline=False)
    return fig


def eigenvalue_figure(eigvals_n: np.ndarray, title: str = "") -> go.Figure:
    """Jacobian eigenvalues in the complex plane with the unit circle (|λ| = 1: no decay)."""
    theta = np.linspace(0, 2 * np.pi, 241)
    mag = np.abs(eigvals_n)
    fig = go.Figure([
        go.Scatter(x=np.cos(theta), y=np.sin(theta), mode="lines", line=dict(color="#999", dash="dot"),
                   name="unit circle", hoverinfo="skip"),
        go.Scatter(x=eigvals_n.real, y=eigvals_n.imag, mode="markers", name="eigenvalues",
                   marker=dict(size=8, color=mag, colorscale="Viridis", cmin=0, cmax=max(1.0, float(mag.max(initial=1))),
                               colorbar=dict(title="|λ|", thickness=12), line=dict(width=0.5, color="#333")),
                   hovertemplate="λ = %{x:.4f} %{y:+.4f}i<extra></extra>"),
    ])
    _layout(fig, title=dict(text=title, font=dict(size=14)), showlegend=False)
    fig.update_xaxes(title="Re λ", range=[-1.15, 1.15], constrain="domain")
    fig.update_yaxes(title="Im λ", range=[-1.15, 1.15], scaleanchor="x")
    return fig


def time_constant_figure(tau_m: np.ndarray) -> go.Figure:
    """Time constants of the slowest modes, in tokens, on a log scale (inf shown at the top)."""
    finite = np.where(np.isfinite(tau_m), tau_m, np.nan)
    cap = float(np.nanmax(finite)) * 10 if np.isfinite(finite).any() else 1e6
    shown = np.where(np.isfinite(tau_m), tau_m, cap)
    labels = [f"{t:,.1f}" if np.isfinite(t) else "∞" for t in tau_m]
    fig = go.Figure(go.Bar(x=[f"mode {i + 1}" for i in range(len(tau_m))], y=shown, text=labels,
                           textposition="outside", marker_color="#0072B2", hovertemplate="τ = %{text} tokens<extra></extra>"))
    _layout(fig, height=300)
    fig.update_yaxes(type="log", title="τ (tokens)")
    return fig


def alignment_figure(right_mxk: np.ndarray, left_mxk: np.ndarray, class_names: list[str]) -> go.Figure:
    """|cos| between the slowest right/left eigenvectors and each class's readout vector."""
    modes = [f"mode {i + 1}" for i in range(right_mxk.shape[0])]
    fig = go.Figure()
    for k, name in enumerate(class_names):
        fig.add_trace(go.Bar(x=modes, y=right_mxk[:, k], name=f"right · {name}", offsetgroup=f"r{k}"))
        fig.add_trace(go.Bar(x=modes, y=left_mxk[:, k], name=f"left · {name}", offsetgroup=f"l{k}",
                             marker_pattern_shape="/"))
    _layout(fig, height=300, barmode="group", legend=dict(orientation="h", y=1.18))
    fig.update_yaxes(title="|cos| with readout", range=[0, 1.05])
    return fig


def q_histogram(qstar_p: np.ndarray, counts_p: np.ndarray, tol_q: float) -> go.Figure:
    """How well the solver converged: log10 q of every initial state's final point."""
    log_q = np.repeat(np.log10(np.maximum(qstar_p, 1e-40)), np.maximum(counts_p, 1))
    fig = go.Figure(go.Histogram(x=log_q, nbinsx=40, marker_color="#555"))
    fig.add_vline(x=np.log10(tol_q), line=dict(color="#D55E00", dash="dash"),
                  annotation_text=f"tolerance 1e{np.log10(tol_q):.0f}", annotation_position="top right")
    _layout(fig, height=300, bargap=0.05)
    fig.update_xaxes(title="log10 q  (q = ½‖F(h) − h‖²)")
    fig.update_yaxes(title="initial states")
    return fig


def explained_variance_figure(ratio_c: np.ndarray, final_ratio_c: np.ndarray, num_classes: int,
                              relaxed_ratio_c: np.ndarray | None = None) -> go.Figure:
    """Cumulative explained variance of visited, final (and relaxed final) states, with N − 1 marked."""
    dims = np.arange(1, len(ratio_c) + 1)
    curves = [("all visited states", ratio_c), ("final states", final_ratio_c)]
    if relaxed_ratio_c is not None:
        curves.append(("final states, last words' kicks decayed", relaxed_ratio_c))
    fig = go.Figure([go.Scatter(x=np.arange(1, len(r) + 1), y=np.cumsum(r), mode="lines+markers", name=name)
                     for name, r in curves])
    fig.add_vline(x=num_classes - 1, line=dict(color="#D55E00", dash="dash"), annotation_text=f"N − 1 = {num_classes - 1}")
    for level in (0.9, 0.95):
        fig.add_hline(y=level, line=dict(color="#AAA", dash="dot"))
    _layout(fig, legend=dict(orientation="h", y=1.18))
    fig.update_xaxes(title="number of principal components", range=[0.5, min(len(dims), 12) + 0.5])
    fig.update_yaxes(title="cumulative variance explained", range=[0, 1.02])
    return fig


def readout_arrows_figure(final_xyz_bx3, final_label_b, centre_3, readout_kx3, class_names, ordered=False) -> go.Figure:
    """Final states in PC1–PC2 with each class's readout direction drawn from their centre."""
    colors = class_colors(class_names, ordered)
    fig = go.Figure()
    for k, name in enumerate(class_names):
        pts = final_xyz_bx3[final_label_b == k]
        fig.add_trace(go.Scattergl(x=pts[:, 0], y=pts[:, 1], mode="markers", name=name,
                                   marker=dict(size=4, color=colors[k], opacity=0.35), hoverinfo="skip"))
    extent = float(np.percentile(np.abs(final_xyz_bx3[:, :2] - centre_3[:2]), 95)) if len(final_xyz_bx3) else 1.0
    for k, name in enumerate(class_names):
        d = readout_kx3[k, :2] / (np.linalg.norm(readout_kx3[k, :2]) or 1.0) * extent
        tip_x, tip_y = centre_3[0] + d[0], centre_3[1] + d[1]
        fig.add_annotation(x=tip_x, y=tip_y, ax=centre_3[0], ay=centre_3[1], xref="x", yref="y", axref="x", ayref="y",
                           showarrow=True, arrowhead=3, arrowwidth=3, arrowcolor=colors[k], text="")
        # a plotly arrow's text sits at its tail; the class name belongs at the tip
        fig.add_annotation(x=tip_x + 0.08 * d[0], y=tip_y + 0.08 * d[1], text=f"<b>{name}</b>", showarrow=False,
                           font=dict(color=colors[k], size=14))
    _layout(fig, height=380, legend=dict(orientation="h", y=1.12))
    fig.update_xaxes(title="PC1")
    fig.update_yaxes(title="PC2", scaleanchor="x")
    return fig


def angle_heatmap(angles_kxk: np.ndarray, class_names: list[str], simplex_deg: float) -> go.Figure:
    text = [[f"{a:.0f}°" for a in row] for row in angles_kxk]
    fig = go.Figure(go.Heatmap(z=angles_kxk, x=class_names, y=class_names, text=text, texttemplate="%{text}",
                               colorscale="Blues", zmin=0, zmax=180, colorbar=dict(title="degrees")))
    _layout(fig, height=320, title=dict(text=f"regular simplex: {simplex_deg:.1f}°", font=dict(size=14)))
    fig.update_yaxes(autorange="reversed")
    return fig


def evidence_plane_figure(xy_bx2, final_label_b, class_names, x_title, y_title, ordered=False) -> go.Figure:
    """Sequences placed by a 2D summary (PCs of final states, or their evidence counts), coloured by label."""
    colors = class_colors(class_names, ordered)
    fig = go.Figure([go.Scattergl(x=xy_bx2[final_label_b == k, 0], y=xy_bx2[final_label_b == k, 1], mode="markers",
                                  name=name, marker=dict(size=4, color=colors[k], opacity=0.4), hoverinfo="skip")
                     for k, name in enumerate(class_names)])
    _layout(fig, height=360, legend=dict(orientation="h", y=1.12))
    fig.update_xaxes(title=x_title)
    fig.update_yaxes(title=y_title)
    return fig


def decomposition_bars(fractions_3: np.ndarray) -> go.Figure:
    names = ["temporal (μ_t)", "input-driven (χ(w))", "residual"]
    fig = go.Figure(go.Bar(x=names, y=fractions_3, text=[f"{f:.1%}" for f in fractions_3], textposition="outside",
                           marker_color=["#0072B2", "#D55E00", "#999"]))
    _layout(fig, height=320)
    fig.update_yaxes(title="fraction of hidden-state variance", range=[0, 1.1])
    return fig


def decomposition_path_figure(mu_tx3, chi_wx3, words, anchor_3, class_w=None, class_names=(), ordered=False,
                              explained_c=()) -> go.Figure:
    """The mean trajectory μ_t in PC space, with each word's offset χ(w) drawn from ``anchor_3`` and
    labelled at its tip; coloured by ``class_w`` (the class the word favours, -1 neutral) if given."""
    mu = np.asarray(mu_tx3, float)
    titles = axis_titles(np.asarray(explained_c))
    fig = go.Figure(go.Scatter3d(x=mu[:, 0], y=mu[:, 1], z=mu[:, 2], mode="lines+markers",
                                 name="mean trajectory μ_t", marker=dict(size=2, color="#333"),
                                 line=dict(color="#333", width=4), text=[f"t = {t + 1}" for t in range(len(mu))],
                                 hovertemplate="μ at %{text}<extra></extra>"))
    if len(mu):
        fig.add_trace(go.Scatter3d(x=mu[:1, 0], y=mu[:1, 1], z=mu[:1, 2], mode="markers+text", text=["t = 1"],
                                   name="first token", showlegend=False, textposition="bottom center",
                                   marker=dict(size=5, color="#333", symbol="circle-open")))
    chi = np.asarray(chi_wx3, float).reshape(-1, 3)
    class_w = np.full(len(chi), -1) if class_w is None else np.asarray(class_w)
    colors = class_colors(list(class_names), ordered)
    for k in sorted(set(class_w.tolist())):
        idx = np.flatnonzero(class_w == k)
        seg = np.full((3 * len(idx), 3), np.nan)
        seg[0::3], seg[1::3] = anchor_3, np.asarray(anchor_3) + chi[idx]
        labels = np.full(3 * len(idx), "", dtype=object)
        labels[1::3] = np.asarray(words, dtype=object)[idx]
        if k < 0 or not colors:
            color, name = ("#8A919C", "neutral words") if colors else ("#D55E00", "word offsets χ(w)")
        else:
            color, name = colors[k], f"words favouring {class_names[k]}"
        fig.add_trace(go.Scatter3d(x=seg[:, 0], y=seg[:, 1], z=seg[:, 2], mode="lines+text", text=labels.tolist(),
                                   name=name, line=dict(color=color, width=5),
                                   textfont=dict(size=13, color="#222"), hoverinfo="text"))
    fig.update_layout(height=560, margin=dict(l=0, r=0, t=10, b=0), font=FONT, paper_bgcolor="white",
                      legend=dict(orientation="h", y=1.02, itemsizing="constant"),
                      scene=dict(xaxis_title=titles[0], yaxis_title=titles[1], zaxis_title=titles[2],
                                 aspectmode="data", camera=dict(eye=dict(x=1.7, y=1.7, z=1.0))))
    return fig


def with_trajectory(figure, xyz_tx3, tokens) -> dict:
    """An ``attractor_figure`` (its JSON, or the figure) with its empty trajectory, start and end traces
    filled in. Works on the JSON: wrapping a 20k-point figure in go.Figure again costs ~60 ms."""
    figure = figure if isinstance(figure, dict) else figure.to_plotly_json()
    meta, xyz = figure["layout"]["meta"], np.asarray(xyz_tx3, float).reshape(-1, 3)
    axes = ("x", "y", "z") if meta.get("three_d", True) else ("x", "y")
    hover = [f"#{i + 1} {tok}" for i, tok in enumerate(tokens)]
    ends = {"trajectory": slice(None), "start": slice(0, 1), "end": slice(-1, None)}
    data = list(figure["data"])
    for role, part in ends.items():
        data[meta[role]] = {**data[meta[role]], **{axis: xyz[part, i] for i, axis in enumerate(axes)},
                            "hovertext": hover[part] if len(xyz) else []}
    return {**figure, "data": data}


def line_profile_figure(position_p, tau_p, top_eig_p, cos_line_p, cos_readout_p) -> go.Figure:
    """Along the line of slow points (x: position on it): the slowest time constant, the largest |λ|, and the
    |cos| of the top right eigenvector with the line and with the readout."""
    fig = make_subplots(rows=3, cols=1, shared_xaxes=True, vertical_spacing=0.06)
    x = np.asarray(position_p, dtype=np.float32)
    tau = np.asarray(tau_p, dtype=np.float64)
    cap = float(np.nanmax(np.where(np.isfinite(tau), tau, np.nan))) * 10 if np.isfinite(tau).any() else 1e6
    marker = dict(size=5, color="#0072B2")
    fig.add_trace(go.Scatter(x=x, y=np.where(np.isfinite(tau), tau, cap).astype(np.float32), mode="markers+lines",
                             name="slowest τ", marker=marker, line=dict(width=1, color="#0072B2"),
                             hovertemplate="position %{x:.2f}<br>τ = %{y:,.0f} tokens<extra></extra>"), row=1, col=1)
    fig.add_trace(go.Scatter(x=x, y=np.asarray(top_eig_p, np.float32), mode="markers+lines", name="|λ| max",
                             marker=dict(marker, color="#009E73"), line=dict(width=1, color="#009E73"),
                             hovertemplate="position %{x:.2f}<br>|λ| = %{y:.4f}<extra></extra>"), row=2, col=1)
    for y, name, color in ((cos_line_p, "|cos| with the line", "#D55E00"), (cos_readout_p, "|cos| with the readout",
                                                                             "#CC79A7")):
        fig.add_trace(go.Scatter(x=x, y=np.asarray(y, np.float32), mode="markers+lines", name=name,
                                 marker=dict(marker, color=color), line=dict(width=1, color=color),
                                 hovertemplate="position %{x:.2f}<br>%{y:.2f}<extra>" + name + "</extra>"), row=3, col=1)
    fig.add_hline(y=1.0, line=dict(color="#999", dash="dot"), row=2, col=1)
    _layout(fig, height=560, legend=dict(orientation="h", y=1.06))
    fig.update_yaxes(title="slowest τ (tokens)", type="log", row=1, col=1)
    fig.update_yaxes(title="|λ| max", row=2, col=1)
    fig.update_yaxes(title="top right eigenvector", range=[0, 1.05], row=3, col=1)
    fig.update_xaxes(title="position along the line (state units; readout increases to the right)", row=3, col=1)
    return fig


def error_vs_kick_figure(kick_s, d1_s, d4_s, bin_kick_b, bin_d1_b, bin_d4_b, paper: float) -> go.Figure:
    """One-step errors D1 and D4 of held-out tokens against the size of the true step |F(h, x) − h|, with the
    median in bins of equal token counts; the paper's ~10% as a dashed line."""
    fig = go.Figure()
    for y, name, color in ((d1_s, "D1", "#D55E00"), (d4_s, "D4", "#0072B2")):
        fig.add_trace(go.Scattergl(x=np.asarray(kick_s, np.float32), y=np.asarray(y, np.float32), mode="markers",
                                   name=f"{name}, one token", marker=dict(size=3, color=color, opacity=0.18),
                                   hoverinfo="skip"))
    for y, name, color in ((bin_d1_b, "D1", "#D55E00"), (bin_d4_b, "D4", "#0072B2")):
        fig.add_trace(go.Scatter(x=np.asarray(bin_kick_b, np.float32), y=np.asarray(y, np.float32),
                                 mode="lines+markers", name=f"{name}, median", line=dict(color=color, width=3),
                                 marker=dict(size=7, color=color),
                                 hovertemplate="kick %{x:.2f}: median " + name + " %{y:.1%}<extra></extra>"))
    fig.add_hline(y=paper, line=dict(color="#555", dash="dash"), annotation_text=f"paper ~{paper:.0%}",
                  annotation_position="top left")
    _layout(fig, height=380, legend=dict(orientation="h", y=1.14))
    fig.update_xaxes(title="size of the true step |F(h, x) − h| (kick)", type="log")
    fig.update_yaxes(title="one-step error (share of the step)", type="log", tickformat=".0%")
    return fig
