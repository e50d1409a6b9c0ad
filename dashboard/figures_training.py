"""Pure figure builders for the training-time checkpoints (``core.analysis_view.TrainingView``): one
checkpoint's attractor with a text's path, in the final model's PCA; the eigenvalues migrating toward 1."""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from dashboard.figures import FONT, TRAJECTORY_COLOR, axis_titles, hex_to_rgba

__all__ = ["checkpoint_label", "checkpoint_figure", "eigenvalue_migration_figure"]


def checkpoint_label(view, k: int) -> str:
    """"step 400 · val 98.9%" (step 0 reads "before training")."""
    step = int(view.steps_k[k])
    where = "before training" if step == 0 else f"step {step:,}"
    return f"{where} · val {float(view.val_accuracy_k[k]):.1%}"


def _ranges(view) -> list[list[float]]:
    """Fixed axes over every checkpoint, so the picture does not jump while the slider moves."""
    xy = np.concatenate([view.cloud_xyz_kxsx3.reshape(-1, 3)[:, :2], view.fp_xyz_qx3[:, :2]])
    lo, hi = np.nanpercentile(xy, 0.5, axis=0), np.nanpercentile(xy, 99.5, axis=0)
    pad = 0.08 * (hi - lo + 1e-9)
    return [[float(lo[i] - pad[i]), float(hi[i] + pad[i])] for i in range(2)]


def checkpoint_figure(view, k: int, path_xyz_tx3: np.ndarray | None, tokens: list[str], class_names: list[str],
                      colors: list[str], explained_c: np.ndarray) -> go.Figure:
    """Checkpoint k: its visited states (coloured by the class its readout favours), its fixed points and
    the text's path under its weights, on PC1-PC2 of the final model."""
    fig = go.Figure()
    cloud, pred = view.cloud_xyz_kxsx3[k], view.cloud_pred_kxs[k]
    for c, name in enumerate(class_names):
        sel = cloud[pred == c]
        fig.add_trace(go.Scattergl(x=sel[:, 0], y=sel[:, 1], mode="markers", name=f"states → {name}",
                                   marker=dict(size=4, color=hex_to_rgba(colors[c], 0.25)), hoverinfo="skip"))
    mine = (view.fp_k_q == k) & view.fp_converged_q
    eig = view.fp_eig_abs_qxm[:, 0]
    for mask, symbol, color, label in ((mine & view.fp_stable_q, "diamond", "#222", "stable fixed point"),
                                       (mine & ~view.fp_stable_q, "cross", "#B03A2E", "unstable fixed point")):
        xyz = view.fp_xyz_qx3[mask]
        fig.add_trace(go.Scatter(x=xyz[:, 0], y=xyz[:, 1], mode="markers", name=label,
                                 marker=dict(size=12, symbol=symbol, color=color, line=dict(width=1, color="white")),
                                 hovertext=[f"{label}<br>|λ|max = {e:.4f}" for e in eig[mask]], hoverinfo="text"))
    if path_xyz_tx3 is not None and len(path_xyz_tx3):
        fig.add_trace(go.Scatter(x=path_xyz_tx3[:, 0], y=path_xyz_tx3[:, 1], mode="lines+markers", name="your text",
                                 line=dict(color=TRAJECTORY_COLOR, width=3), marker=dict(size=6, color=TRAJECTORY_COLOR),
                                 hovertext=list(tokens), hoverinfo="text"))
        fig.add_trace(go.Scatter(x=path_xyz_tx3[-1:, 0], y=path_xyz_tx3[-1:, 1], mode="markers", name="last token",
                                 marker=dict(size=14, color="#F1C40F", line=dict(width=2, color="#111")),
                                 hoverinfo="skip", showlegend=False))
    titles, ranges = axis_titles(explained_c), _ranges(view)
    fig.update_layout(font=FONT, plot_bgcolor="white", height=420, margin=dict(l=50, r=10, t=36, b=40),
                      title=dict(text=checkpoint_label(view, k), x=0.01, font=dict(size=15)),
                      xaxis=dict(title=titles[0], range=ranges[0], autorange=False, gridcolor="#EEE", zeroline=False),
                      yaxis=dict(title=titles[1], range=ranges[1], autorange=False, gridcolor="#EEE", zeroline=False),
                      legend=dict(orientation="h", y=-0.18, x=0), uirevision="training")
    return fig


def eigenvalue_migration_figure(view) -> go.Figure:
    """Per checkpoint, the largest |eigenvalues| of each converged fixed point (stable ◆, unstable ✚),
    with the unit circle's |λ| = 1: slow modes that integrate evidence form as they approach it."""
    fig = go.Figure()
    labels = [checkpoint_label(view, k) for k in range(len(view.steps_k))]
    conv = view.fp_converged_q
    m = view.fp_eig_abs_qxm.shape[1]
    for mask, symbol, color, name in ((conv & view.fp_stable_q, "diamond", "#222", "stable fixed points"),
                                      (conv & ~view.fp_stable_q, "cross", "#B03A2E", "unstable fixed points")):
        k_q = np.repeat(view.fp_k_q[mask], m)
        eig = view.fp_eig_abs_qxm[mask].reshape(-1)
        keep = np.isfinite(eig)
        fig.add_trace(go.Scatter(x=[labels[k] for k in k_q[keep]], y=eig[keep], mode="markers", name=name,
                                 marker=dict(symbol=symbol, size=9, color=color, opacity=0.6),
                                 hovertemplate="%{x}<br>|λ| = %{y:.4f}<extra></extra>"))
    top = []
    for k in range(len(labels)):
        lam = view.fp_eig_abs_qxm[(view.fp_k_q == k) & conv & view.fp_stable_q, 0]
        top.append(float(lam.max()) if len(lam) else None)
    fig.add_trace(go.Scatter(x=labels, y=top, mode="lines", name="largest |λ| of a stable point",
                             line=dict(color="#0072B2", width=2), connectgaps=False))
    fig.add_hline(y=1.0, line=dict(color="#888", dash="dash"), annotation_text="|λ| = 1",
                  annotation_position="top left")
    fig.update_layout(font=FONT, plot_bgcolor="white", height=380, margin=dict(l=60, r=10, t=20, b=90),
                      xaxis=dict(title="training checkpoint", categoryorder="array", categoryarray=labels,
                                 gridcolor="#EEE"),
                      yaxis=dict(title=f"top {m} |λ| per fixed point", gridcolor="#EEE"),
                      legend=dict(orientation="h", y=1.08, x=0))
    return fig
