"""Pure figure builders for the Attention page (/attention): the attention matrix beside the attention each
score term alone would give, and the encoder / decoder paths with mu as a curve and chi as arrows."""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from dashboard.figures import FONT

__all__ = ["TERM_LABELS", "row_softmax", "attention_terms_figure", "score_terms_figure", "trajectory_figure"]

TERM_LABELS = {"mu.mu": "μ·μ (temporal)", "mu.chi": "μ·χ", "chi.mu": "χ·μ", "chi.chi": "χ·χ (input-driven)",
               "mu.mu+chi.chi": "μ·μ + χ·χ"}
ENC_COLOR, DEC_COLOR = "#1f6fb4", "#d9661f"


def row_softmax(scores_uxs: np.ndarray) -> np.ndarray:
    """Each row's softmax: the attention the scores would give (an empty matrix stays empty)."""
    x = np.asarray(scores_uxs, np.float64)
    if x.size == 0:
        return x
    x = np.exp(x - x.max(axis=1, keepdims=True))
    return x / x.sum(axis=1, keepdims=True)


def _labels(tokens: list[str]) -> list[str]:
    return [f"{i + 1}·{t}" for i, t in enumerate(tokens)]  # unique: a repeated word keeps its own column


def _heatmaps(matrices: list[np.ndarray], titles: list[str], src: list[str], out: list[str], zmin: float,
              zmax: float, colorscale: str, bar_title: str) -> go.Figure:
    fig = make_subplots(rows=1, cols=len(matrices), subplot_titles=titles, horizontal_spacing=0.025,
                        shared_yaxes=True)
    for col, m in enumerate(matrices, start=1):
        fig.add_trace(go.Heatmap(z=m, x=_labels(src), y=_labels(out), coloraxis="coloraxis",
                                 hovertemplate="output %{y}<br>source %{x}<br>%{z:.3f}<extra></extra>"), 1, col)
    fig.update_layout(coloraxis=dict(colorscale=colorscale, cmin=zmin, cmax=zmax,
                                     colorbar=dict(title=bar_title, thickness=12)),
                      height=max(260, 40 + 22 * len(out)), margin=dict(l=90, r=20, t=40, b=70),
                      font=dict(FONT, size=12), plot_bgcolor="white", paper_bgcolor="white")
    fig.update_yaxes(autorange="reversed")
    fig.update_xaxes(tickangle=-60)
    return fig


def attention_terms_figure(attn_uxs: np.ndarray, terms: dict[str, np.ndarray], src: list[str],
                           out: list[str]) -> go.Figure:
    """The real attention beside the attention each of the four terms would give alone (its row softmax), all
    on one 0-1 scale; rows are output steps (the last is <eos>), columns source positions."""
    names = ["mu.mu", "mu.chi", "chi.mu", "chi.chi"]
    return _heatmaps([attn_uxs, *(row_softmax(terms[n]) for n in names)],
                     ["real attention", *(TERM_LABELS[n] for n in names)], src, out, 0.0, 1.0, "Blues", "weight")


def score_terms_figure(scores_uxs: np.ndarray, terms: dict[str, np.ndarray], src: list[str],
                       out: list[str]) -> go.Figure:
    """The real scores d·e beside the four terms they split into, on one diverging scale centred on 0."""
    names = ["mu.mu", "mu.chi", "chi.mu", "chi.chi"]
    mats = [scores_uxs, *(terms[n] for n in names)]
    top = max([float(np.abs(m).max()) for m in mats if m.size] + [1e-9])
    return _heatmaps(mats, ["real score", *(TERM_LABELS[n] for n in names)], src, out, -top, top, "RdBu_r", "score")


def _path(xyz: np.ndarray, dims: int, **kwargs):
    coords = dict(x=xyz[:, 0], y=xyz[:, 1])
    return go.Scatter3d(z=xyz[:, 2], **coords, **kwargs) if dims == 3 else go.Scatter(**coords, **kwargs)


def _arrows(start: np.ndarray, end: np.ndarray, labels: list[str], color: str, dims: int, name: str) -> list:
    """Segments start -> end with the label at the tip."""
    seg = np.full((3 * len(start), start.shape[1]), np.nan)
    seg[0::3], seg[1::3] = start, end
    return [_path(seg, dims, mode="lines", line=dict(color=color, width=2), name=name, hoverinfo="skip"),
            _path(end, dims, mode="markers+text", text=labels, textposition="top center", name=name,
                  marker=dict(size=4, color=color), showlegend=False, hovertemplate="%{text}<extra></extra>")]


def trajectory_figure(enc_xyz: np.ndarray, dec_xyz: np.ndarray, enc_mu_xyz: np.ndarray, dec_mu_xyz: np.ndarray,
                      enc_tip_xyz: np.ndarray, dec_tip_xyz: np.ndarray, src: list[str], dec_in: list[str],
                      dims: int = 2, explained_c: np.ndarray | None = None) -> go.Figure:
    """Encoder and decoder states of one sequence in the stored PCA; mu at each of its steps as a dashed curve, and
    from each mu an arrow chi(w) to mu + chi(w) for the word read there (w labels the arrow)."""
    dims = 3 if dims == 3 else 2
    traces = [
        _path(enc_mu_xyz, dims, mode="lines+markers", line=dict(color=ENC_COLOR, dash="dash", width=2),
              marker=dict(size=3), name="encoder μ_s"),
        _path(dec_mu_xyz, dims, mode="lines+markers", line=dict(color=DEC_COLOR, dash="dash", width=2),
              marker=dict(size=3), name="decoder μ_u"),
        *_arrows(enc_mu_xyz, enc_tip_xyz, src, ENC_COLOR, dims, "encoder χ(w)"),
        *_arrows(dec_mu_xyz, dec_tip_xyz, dec_in, DEC_COLOR, dims, "decoder χ(w)"),
        _path(enc_xyz, dims, mode="lines+markers", line=dict(color=ENC_COLOR, width=1), name="encoder states",
              marker=dict(size=6, symbol="circle-open" if dims == 2 else "circle"), text=_labels(src),
              hovertemplate="encoder %{text}<extra></extra>"),
        _path(dec_xyz, dims, mode="lines+markers", line=dict(color=DEC_COLOR, width=1), name="decoder states",
              marker=dict(size=6, symbol="diamond-open" if dims == 2 else "diamond"), text=_labels(dec_in),
              hovertemplate="decoder, input %{text}<extra></extra>"),
    ]
    fig = go.Figure(traces)
    pct = [f" ({100 * float(v):.0f}%)" for v in explained_c] if explained_c is not None else [""] * 3
    fig.update_layout(height=520, margin=dict(l=40, r=20, t=30, b=40), font=dict(FONT, size=12),
                      paper_bgcolor="white", plot_bgcolor="white", legend=dict(orientation="h", y=-0.08))
    if dims == 3:
        fig.update_layout(scene=dict(xaxis_title=f"PC1{pct[0]}", yaxis_title=f"PC2{pct[1]}", zaxis_title=f"PC3{pct[2]}"))
    else:
        fig.update_xaxes(title=f"PC1{pct[0]}", gridcolor="#EEE")
        fig.update_yaxes(title=f"PC2{pct[1]}", gridcolor="#EEE")
    return fig
