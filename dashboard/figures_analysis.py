"""Pure figure builders for the analysis pages (fixed points, geometry, words, linearization, decomposition,
compare)."""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from dashboard.figures import FONT, axis_titles, class_colors

__all__ = [
    "eigenvalue_figure", "time_constant_figure", "selected_point_trace", "alignment_figure", "q_histogram", "expected_dimension", "explained_variance_figure",
    "readout_arrows_figure", "angle_heatmap", "evidence_plane_figure", "decomposition_bars",
    "decomposition_path_figure", "word_label_push", "with_trajectory", "line_profile_figure", "error_vs_kick_figure",
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
    """Time constants of the slowest modes, in tokens, as bars on a linear axis from 0 (inf drawn as a bar
    twice the longest finite one, labelled ∞)."""
    tau_m = np.asarray(tau_m, dtype=np.float64)
    finite = tau_m[np.isfinite(tau_m)]
    cap = float(finite.max()) * 2 if finite.size else 1.0
    shown = np.where(np.isfinite(tau_m), tau_m, cap)
    labels = [f"{t:,.1f}" if np.isfinite(t) else "∞" for t in tau_m]
    fig = go.Figure(go.Bar(x=[f"mode {i + 1}" for i in range(len(tau_m))], y=shown, text=labels,
                           textposition="outside", cliponaxis=False, marker_color="#0072B2",
                           hovertemplate="τ = %{text} tokens<extra></extra>"))
    _layout(fig, height=300)
    top = float(shown.max()) * 1.15 if shown.size else 1.0
    fig.update_yaxes(title="τ (tokens)", range=[0, top], rangemode="tozero")
    return fig


def selected_point_trace(xyz_3, three_d: bool = True, label: str = "") -> dict:
    """A ring around the selected fixed point (plain trace JSON; empty when ``xyz_3`` is None)."""
    xyz = np.zeros((0, 3)) if xyz_3 is None else np.asarray(xyz_3, float).reshape(1, 3)
    coords = {a: xyz[:, i].tolist() for i, a in enumerate(("x", "y", "z") if three_d else ("x", "y"))}
    return {"type": "scatter3d" if three_d else "scatter", **coords, "mode": "markers+text", "name": "selected",
            "text": [label] * len(xyz), "textposition": "top center", "showlegend": False, "hoverinfo": "skip",
            "textfont": {"size": 14, "color": "#D55E00"},
            "marker": {"size": 16, "symbol": "circle-open", "color": "#D55E00", "line": {"width": 4, "color": "#D55E00"}}}


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


def expected_dimension(num_classes: int, ordered: bool = False) -> tuple[int, str]:
    """The attractor's dimension the papers predict, and how to say it: a plane for ordered ratings
    (Aitken et al. 2020), N − 1 otherwise (a line for 2 classes)."""
    if ordered and num_classes > 2:
        return 2, "a plane (ordered ratings)"
    dims = max(num_classes - 1, 1)
    return dims, "a line (N − 1 = 1)" if dims == 1 else f"N − 1 = {dims}"


def explained_variance_figure(ratio_c: np.ndarray, final_ratio_c: np.ndarray, num_classes: int,
                              relaxed_ratio_c: np.ndarray | None = None, ordered: bool = False) -> go.Figure:
    """Cumulative explained variance of visited, final (and relaxed final) states, with the expected
    dimension marked (``expected_dimension``)."""
    dims = np.arange(1, len(ratio_c) + 1)
    curves = [("all visited states", ratio_c), ("final states", final_ratio_c)]
    if relaxed_ratio_c is not None:
        curves.append(("final states, last words' kicks decayed", relaxed_ratio_c))
    fig = go.Figure([go.Scatter(x=np.arange(1, len(r) + 1), y=np.cumsum(r), mode="lines+markers", name=name)
                     for name, r in curves])
    expected, label = expected_dimension(num_classes, ordered)
    fig.add_vline(x=expected, line=dict(color="#D55E00", dash="dash"), annotation_text=f"expected: {label}",
                  annotation_position="bottom right", annotation_font=dict(color="#D55E00"),
                  annotation_bgcolor="rgba(255,255,255,0.85)")
    for level in (0.9, 0.95):
        fig.add_hline(y=level, line=dict(color="#AAA", dash="dot"))
    _layout(fig, legend=dict(orientation="h", y=1.02, yanchor="bottom", x=0))
    fig.update_layout(margin=dict(l=60, r=20, t=40, b=50))
    fig.update_xaxes(title="number of principal components", range=[0.5, min(len(dims), 12) + 0.5], dtick=1)
    fig.update_yaxes(title="cumulative variance explained", range=[0, 1.02], tickformat=".0%")
    return fig


def readout_arrows_figure(final_xyz_bx3, final_label_b, centre_3, readout_kx3, class_names, ordered=False) -> go.Figure:
    """Final states in PC1–PC2 with each class's readout direction drawn from their centre, the class name
    on a white label beyond the tip (labels of nearly parallel arrows are staggered outward)."""
    colors = class_colors(class_names, ordered)
    fig = go.Figure()
    for k, name in enumerate(class_names):
        pts = final_xyz_bx3[final_label_b == k]
        fig.add_trace(go.Scattergl(x=pts[:, 0], y=pts[:, 1], mode="markers", name=name,
                                   marker=dict(size=4, color=colors[k], opacity=0.35), hoverinfo="skip"))
    extent = float(np.percentile(np.abs(final_xyz_bx3[:, :2] - centre_3[:2]), 95)) if len(final_xyz_bx3) else 1.0
    angles = []
    for k, name in enumerate(class_names):
        d = readout_kx3[k, :2] / (np.linalg.norm(readout_kx3[k, :2]) or 1.0) * extent
        tip_x, tip_y = centre_3[0] + d[0], centre_3[1] + d[1]
        fig.add_annotation(x=tip_x, y=tip_y, ax=centre_3[0], ay=centre_3[1], xref="x", yref="y", axref="x", ayref="y",
                           showarrow=True, arrowhead=3, arrowwidth=3, arrowcolor=colors[k], text="")
        angle = float(np.arctan2(d[1], d[0]))
        near = sum(abs((angle - a + np.pi) % (2 * np.pi) - np.pi) < 0.35 for a in angles)
        angles.append(angle)
        push = 1.12 + 0.14 * near  # a plotly arrow's text sits at its tail; the class name belongs beyond the tip
        fig.add_annotation(x=centre_3[0] + push * d[0], y=centre_3[1] + push * d[1], text=f"<b>{name}</b>",
                           showarrow=False, font=dict(color=colors[k], size=14), bgcolor="rgba(255,255,255,0.85)")
    _layout(fig, height=380, legend=dict(orientation="h", y=1.02, yanchor="bottom", x=0, itemsizing="constant"))
    fig.update_layout(margin=dict(l=60, r=20, t=40, b=50))
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
    _layout(fig, height=360, legend=dict(orientation="h", y=1.02, yanchor="bottom", x=0, itemsizing="constant"))
    fig.update_layout(margin=dict(l=60, r=20, t=40, b=50))
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
    extent = np.ptp(np.vstack([mu.reshape(-1, 3), np.asarray(anchor_3, float) + chi, np.asarray(anchor_3, float)[None]]),
                    axis=0)
    label_xyz = np.asarray(anchor_3, float) + chi * word_label_push(chi, words, extent)[:, None]
    labels = []
    for k in sorted(set(class_w.tolist())):
        idx = np.flatnonzero(class_w == k)
        seg = np.full((3 * len(idx), 3), np.nan)
        seg[0::3], seg[1::3] = anchor_3, np.asarray(anchor_3) + chi[idx]
        if k < 0 or not colors:
            color, name = ("#8A919C", "neutral words") if colors else ("#D55E00", "word offsets χ(w)")
        else:
            color, name = colors[k], f"words favouring {class_names[k]}"
        text = np.full(3 * len(idx), "", dtype=object)
        text[1::3] = np.asarray(words, dtype=object)[idx]
        fig.add_trace(go.Scatter3d(x=seg[:, 0], y=seg[:, 1], z=seg[:, 2], mode="lines", name=name,
                                   line=dict(color=color, width=5), text=text.tolist(), hoverinfo="text"))
        # the words as scene annotations beyond the spokes' tips: drawn over the WebGL canvas, so neither a
        # spoke nor another label can hide part of a word (WebGL text is depth-tested and gets cut)
        labels += [dict(x=float(label_xyz[i, 0]), y=float(label_xyz[i, 1]), z=float(label_xyz[i, 2]), text=str(words[i]),
                        showarrow=False, font=dict(size=13, color="#222" if k < 0 or not colors else color),
                        bgcolor="rgba(255,255,255,0.75)", borderpad=1) for i in idx]
    fig.update_layout(height=560, margin=dict(l=10, r=10, t=10, b=10), font=FONT, paper_bgcolor="white",
                      legend=dict(orientation="h", y=1.02, x=0, itemsizing="constant"),
                      scene=dict(xaxis_title=titles[0], yaxis_title=titles[1], zaxis_title=titles[2],
                                 domain=dict(x=[0, 1], y=[0, 0.92]), annotations=labels,
                                 aspectmode="cube", camera=dict(eye=dict(zip("xyz", LABEL_EYE)))))
    return fig


LABEL_EYE = (1.6, 1.6, 1.0)  # the decomposition view's camera; labels are kept apart as seen from it


def word_label_push(chi_wx3, words=None, extent_3=None, eye_3=LABEL_EYE) -> np.ndarray:
    """How far beyond its spoke's tip each word's label sits (as a multiple of the spoke, from 1.15): longer
    spokes are placed first, and a label that would overlap one already placed, as seen from the camera
    ``eye_3`` (a cube scene of side ``extent_3``), moves further out along its spoke until it is clear."""
    chi = np.asarray(chi_wx3, float).reshape(-1, 3)
    words = [""] * len(chi) if words is None else [str(w) for w in words]
    extent = np.asarray(extent_3 if extent_3 is not None else np.ptp(chi, axis=0) if len(chi) else np.ones(3), float)
    extent = np.where(extent > 0, extent, 1.0)
    view = np.asarray(eye_3, float) / np.linalg.norm(eye_3)
    right = np.cross([0.0, 0.0, 1.0], view)
    right /= np.linalg.norm(right) or 1.0
    up = np.cross(view, right)
    screen = lambda xyz: np.array([(xyz / extent) @ right, (xyz / extent) @ up])  # noqa: E731
    push, placed = np.full(len(chi), 1.15), []
    for i in np.argsort(-np.linalg.norm(chi / extent, axis=1), kind="stable"):
        half_w, half_h = 0.026 * max(len(words[i]), 2) / 2 + 0.015, 0.04  # of the cube's side, at ~13 px type
        while push[i] < 3.0:
            x, y = screen(chi[i] * push[i])
            if all(abs(x - px) > half_w + pw or abs(y - py) > half_h + ph for px, py, pw, ph in placed):
                break
            push[i] += 0.1
        placed.append((*screen(chi[i] * push[i]), half_w, half_h))
    return push


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
