"""Pure figure builders for the analysis pages (fixed points, geometry, words, linearization, decomposition,
compare)."""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from dashboard.figures import FONT, _axis_titles, class_colors

NEUTRAL = "#B8BEC8"

__all__ = [
    "eigenvalue_figure", "time_constant_figure", "alignment_figure", "q_histogram", "explained_variance_figure",
    "readout_arrows_figure", "angle_heatmap", "evidence_plane_figure", "word_scatter", "log_odds_scatter",
    "decomposition_bars", "decomposition_path_figure", "linearization_figure", "one_step_error_figure",
    "with_trajectory",
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


def explained_variance_figure(ratio_k: np.ndarray, final_ratio_k: np.ndarray, num_classes: int,
                              relaxed_ratio_k: np.ndarray | None = None) -> go.Figure:
    """Cumulative explained variance of visited, final (and relaxed final) states, with N − 1 marked."""
    dims = np.arange(1, len(ratio_k) + 1)
    curves = [("all visited states", ratio_k), ("final states", final_ratio_k)]
    if relaxed_ratio_k is not None:
        curves.append(("final states, last words' kicks decayed", relaxed_ratio_k))
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


def _word_traces(words, x_w, y_w, class_w, class_names, ordered, hover: str) -> list:
    """One Scattergl per colour class (neutral words first, in grey, so class words sit on top)."""
    colors = class_colors(class_names, ordered)
    words = np.asarray(words, dtype=object)
    traces = []
    for k, name, color in [(-1, "neutral", NEUTRAL)] + list(zip(range(len(class_names)), class_names, colors)):
        mask = class_w == k
        label = name if k < 0 else f"favours {name}"
        traces.append(go.Scattergl(x=x_w[mask], y=y_w[mask], mode="markers", text=words[mask], name=label,
                                   marker=dict(size=6, color=color, opacity=0.45 if k < 0 else 0.75),
                                   hovertemplate=hover))
    return traces


def _label(fig: go.Figure, x, y, text) -> None:
    """Searched words as labels on a white box just above their point, readable over a dense cloud."""
    for xi, yi, word in zip(x, y, text):
        if np.isfinite(xi) and np.isfinite(yi):
            fig.add_annotation(x=xi, y=yi, text=word, showarrow=True, arrowhead=0, arrowwidth=1, ax=0, ay=-22,
                               font=dict(size=15, color="#111"), bgcolor="rgba(255,255,255,0.85)",
                               bordercolor="#111", borderwidth=1, borderpad=2)


def word_scatter(words, x_w, y_w, class_w, class_names, x_title, y_title, highlight=None, ordered=False) -> go.Figure:
    """One point per vocabulary word, coloured by the class its log-odds favour (``class_w``, -1:
    neutral); words in ``highlight`` enlarged, outlined and labelled (last trace, named "search")."""
    x_w, y_w, class_w = np.asarray(x_w, float), np.asarray(y_w, float), np.asarray(class_w)
    hover = "<b>%{text}</b><br>" + x_title + ": %{x:.3f}<br>" + y_title + ": %{y:.3f}<extra></extra>"
    fig = go.Figure(_word_traces(words, x_w, y_w, class_w, class_names, ordered, hover))
    hit = np.array([w in (highlight or ()) for w in words], dtype=bool)
    colors = class_colors(class_names, ordered) + [NEUTRAL]
    fig.add_trace(go.Scatter(x=x_w[hit], y=y_w[hit], mode="markers", text=np.asarray(words, object)[hit],
                             name="search", marker=dict(size=14, color=[colors[k] for k in class_w[hit]],
                                                        line=dict(width=2, color="#111")),
                             hovertemplate=hover, showlegend=False))
    _label(fig, x_w[hit], y_w[hit], np.asarray(words, object)[hit])
    fig.add_hline(y=0, line=dict(color="#BBB", width=1))
    fig.add_vline(x=0, line=dict(color="#BBB", width=1))
    _layout(fig, height=460, legend=dict(orientation="h", y=1.1, itemsizing="constant"))
    fig.update_xaxes(title=x_title)
    fig.update_yaxes(title=y_title)
    return fig


def log_odds_scatter(words, deflection_wxc, log_odds_wxc, class_w, class_names, r_c, highlight=None,
                     ordered=False) -> go.Figure:
    """Each word's deflection toward a class (y) against its log-odds for that class in the training
    data (x). Two classes: one column (positive vs negative), coloured like ``word_scatter``. More
    classes: one trace per class c (all words, coloured by c, r in the legend)."""
    d, o = np.atleast_2d(np.asarray(deflection_wxc, float)), np.atleast_2d(np.asarray(log_odds_wxc, float))
    words = np.asarray(words, dtype=object)
    hover = "<b>%{text}</b><br>log-odds %{x:.2f}<br>deflection %{y:.3f}<extra></extra>"
    if d.shape[1] == 1:
        fig = go.Figure(_word_traces(words, o[:, 0], d[:, 0], np.asarray(class_w), class_names, ordered, hover))
        x_title, y_title = f"log-odds {class_names[-1]} vs {class_names[0]} in training data", \
            f"deflection {class_names[-1]} − {class_names[0]}"
    else:
        colors = class_colors(class_names, ordered)
        fig = go.Figure([go.Scattergl(x=o[:, c], y=d[:, c], mode="markers", text=words, name=f"{name} (r = {r:.2f})",
                                      marker=dict(size=5, color=colors[c], opacity=0.6), hovertemplate=hover)
                         for c, (name, r) in enumerate(zip(class_names, r_c))])
        x_title, y_title = "log-odds of class c vs the rest", "deflection toward class c"
    hit = np.array([w in (highlight or ()) for w in words], dtype=bool)
    column = 0 if d.shape[1] == 1 else None
    hx = o[hit, column] if column is not None else o[hit].max(axis=1)
    hy = d[hit, column] if column is not None else d[hit][np.arange(hit.sum()), o[hit].argmax(axis=1)]
    fig.add_trace(go.Scatter(x=hx, y=hy, mode="markers", text=words[hit], name="search", showlegend=False,
                             hovertemplate=hover,
                             marker=dict(size=14, color="rgba(0,0,0,0)", line=dict(width=2, color="#111"))))
    _label(fig, hx, hy, words[hit])
    title = dict(text=f"Pearson r = {r_c[0]:.2f}", font=dict(size=15)) if d.shape[1] == 1 else None
    _layout(fig, height=460, title=title, legend=dict(orientation="h", y=1.1, x=0.3 if title else 0,
                                                      itemsizing="constant"))
    fig.update_xaxes(title=x_title, zeroline=True, zerolinecolor="#BBB")
    fig.update_yaxes(title=y_title, zeroline=True, zerolinecolor="#BBB")
    return fig


def decomposition_bars(fractions_3: np.ndarray) -> go.Figure:
    names = ["temporal (μ_t)", "input-driven (χ(w))", "residual"]
    fig = go.Figure(go.Bar(x=names, y=fractions_3, text=[f"{f:.1%}" for f in fractions_3], textposition="outside",
                           marker_color=["#0072B2", "#D55E00", "#999"]))
    _layout(fig, height=320)
    fig.update_yaxes(title="fraction of hidden-state variance", range=[0, 1.1])
    return fig


def decomposition_path_figure(mu_tx3, chi_wx3, words, anchor_3, class_w=None, class_names=(), ordered=False,
                              explained_k=()) -> go.Figure:
    """The mean trajectory μ_t in PC space, with each word's offset χ(w) drawn from ``anchor_3`` and
    labelled at its tip; coloured by ``class_w`` (the class the word favours, -1 neutral) if given."""
    mu = np.asarray(mu_tx3, float)
    axis_titles = _axis_titles(np.asarray(explained_k))
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
                      scene=dict(xaxis_title=axis_titles[0], yaxis_title=axis_titles[1], zaxis_title=axis_titles[2],
                                 aspectmode="data", camera=dict(eye=dict(x=1.7, y=1.7, z=1.0))))
    return fig


def linearization_figure(full_tx3, lin_tx3, tokens, anchor_3, fp_xyz_px3, explained_k) -> go.Figure:
    """Left: the true trajectory and the linear system's in PC1–PC2, around the expansion point h*.
    Right: both along PC1, token by token."""
    from plotly.subplots import make_subplots

    full, lin = np.asarray(full_tx3, float), np.asarray(lin_tx3, float)
    axis_titles = _axis_titles(np.asarray(explained_k))
    steps = np.arange(1, len(full) + 1)
    hover = [f"#{i + 1} {tok}" for i, tok in enumerate(tokens)]
    fig = make_subplots(rows=1, cols=2, column_widths=[0.55, 0.45], horizontal_spacing=0.1)
    fig.add_trace(go.Scatter(x=fp_xyz_px3[:, 0], y=fp_xyz_px3[:, 1], mode="markers", name="fixed points",
                             marker=dict(size=7, symbol="diamond", color="#C8CDD6"), hoverinfo="skip"), 1, 1)
    for xyz, name, color, dash in ((full, "full RNN", "#111", "solid"), (lin, "linearized around h*", "#D55E00", "dash")):
        fig.add_trace(go.Scatter(x=xyz[:, 0], y=xyz[:, 1], mode="lines+markers", name=name, legendgroup=name,
                                 line=dict(color=color, width=3, dash=dash), marker=dict(size=5, color=color),
                                 text=hover, hovertemplate="%{text}<extra>" + name + "</extra>"), 1, 1)
        fig.add_trace(go.Scatter(x=steps, y=xyz[:, 0], mode="lines", name=name, legendgroup=name, showlegend=False,
                                 line=dict(color=color, width=3, dash=dash), text=hover,
                                 hovertemplate="%{text}: %{y:.3f}<extra>" + name + "</extra>"), 1, 2)
    fig.add_trace(go.Scatter(x=[anchor_3[0]], y=[anchor_3[1]], mode="markers", name="expansion point h*",
                             marker=dict(size=15, symbol="diamond", color="#0072B2", line=dict(width=2, color="#fff")),
                             hoverinfo="name"), 1, 1)
    if len(full):
        fig.add_trace(go.Scatter(x=[full[0, 0]], y=[full[0, 1]], mode="markers", name="first token",
                                 marker=dict(size=12, symbol="circle-open", color="#111", line=dict(width=2)),
                                 hoverinfo="name"), 1, 1)
    _layout(fig, height=440, legend=dict(orientation="h", y=1.12, itemsizing="constant"))
    fig.update_xaxes(title=axis_titles[0], row=1, col=1)
    fig.update_yaxes(title=axis_titles[1], row=1, col=1)
    fig.update_xaxes(title="token", row=1, col=2)
    fig.update_yaxes(title=axis_titles[0], row=1, col=2)
    return fig


def one_step_error_figure(err_t, tokens, reference: float = 0.10, heldout_median: float | None = None) -> go.Figure:
    """Relative error of one linearized step per token, in percent, with the paper's ~10% marked."""
    err = np.asarray(err_t, float) * 100
    steps = np.arange(1, len(err) + 1)
    colors = np.where(err <= reference * 100, "#0072B2", "#E69F00")
    fig = go.Figure(go.Bar(x=steps, y=err, marker_color=colors, customdata=list(tokens), name="this text",
                           hovertemplate="#%{x} %{customdata}: %{y:.1f}%<extra></extra>"))
    fig.add_hline(y=reference * 100, line=dict(color="#D55E00", dash="dash", width=2),
                  annotation_text=f"paper: ~{reference:.0%}", annotation_position="top left")
    if heldout_median is not None and np.isfinite(heldout_median):
        fig.add_hline(y=heldout_median * 100, line=dict(color="#009E73", dash="dot", width=2),
                      annotation_text=f"median on held-out texts: {heldout_median:.1%}",
                      annotation_position="top right")
    _layout(fig, height=320, bargap=0.15, showlegend=False)
    if 0 < len(tokens) <= 40:
        fig.update_xaxes(tickmode="array", tickvals=steps, ticktext=list(tokens), tickangle=-45)
    else:
        fig.update_xaxes(title="token")
    fig.update_yaxes(title="one-step error (%)", rangemode="tozero")
    return fig


def with_trajectory(figure, xyz_tx3, tokens) -> go.Figure:
    """An ``attractor_figure`` with its empty trajectory, start and end traces filled in."""
    fig = go.Figure(figure)
    meta, xyz = fig.layout.meta, np.asarray(xyz_tx3, float).reshape(-1, 3)
    axes = ("x", "y", "z") if meta.get("three_d", True) else ("x", "y")
    hover = [f"#{i + 1} {tok}" for i, tok in enumerate(tokens)]
    ends = {"trajectory": slice(None), "start": slice(0, 1), "end": slice(-1, None)}
    for role, part in ends.items():
        trace = fig.data[meta[role]]
        trace.update({axis: xyz[part, i] for i, axis in enumerate(axes)}, hovertext=hover[part] if len(xyz) else [])
    return fig
