"""Figures of Explore's counterfactual edits and overlays: the slot traces on the overlay graph, the patches that
fill them, and the chart of the real and the linearly predicted change of the log-odds. No numerics here."""
from __future__ import annotations

from html import escape

import dash
import numpy as np
import plotly.graph_objects as go

from dashboard.figures import FONT, TRACE_ROLES

__all__ = ["EDIT_COLOR", "OVERLAY_COLORS", "MAX_OVERLAYS", "add_slots", "first_slot", "slot_patch",
           "clear_slots_patch", "difference_figure"]

EDIT_COLOR = "#C2185B"
# Okabe-Ito-like colours away from the class colours' first entries, one per overlaid text
OVERLAY_COLORS = ("#E69F00", "#56B4E9", "#009E73", "#CC79A7", "#8C564B", "#7F7F7F")
MAX_OVERLAYS = len(OVERLAY_COLORS)
SLOTS = ("edited", "edited_end") + tuple(f"overlay{i}" for i in range(MAX_OVERLAYS))


def first_slot(n_classes: int) -> int:
    """Index of the first slot trace: after the class clouds' legend proxies and ``figures.TRACE_ROLES``."""
    return n_classes + len(TRACE_ROLES)


def add_slots(overlay: go.Figure, n_classes: int, three_d: bool) -> go.Figure:
    """Append the empty traces an edit and the overlaid texts are patched into; their indices go into
    ``layout.meta`` (``edited``, ``edited_end``, ``overlays``) and their legend entries into ``legend2``."""
    if len(overlay.data) != first_slot(n_classes):
        raise ValueError("the slot traces go right after the trajectory traces")
    kind = go.Scatter3d if three_d else go.Scatter
    empty = dict(x=[], y=[], **({"z": []} if three_d else {}))
    width = 6 if three_d else 3
    # hidden while empty: Plotly skips hidden traces when it redraws the path on every edit (~15 ms of ~45 here)
    empty["visible"] = False
    overlay.add_trace(kind(**empty, mode="lines+markers", name="edited text", legend="legend2", showlegend=False,
                           line=dict(color=EDIT_COLOR, width=width, dash="dot" if not three_d else "solid"),
                           marker=dict(size=4 if three_d else 6, color=EDIT_COLOR), hoverinfo="text"))
    overlay.add_trace(kind(**empty, mode="markers", name="edited end", showlegend=False, hoverinfo="text",
                           marker=dict(size=10 if three_d else 13, symbol="square", color=EDIT_COLOR,
                                       line=dict(width=2, color="#111"))))
    for color in OVERLAY_COLORS:
        overlay.add_trace(kind(**empty, mode="lines+markers", name="", legend="legend2", showlegend=False,
                               line=dict(color=color, width=width), hoverinfo="text",
                               marker=dict(size=4 if three_d else 6, color=color)))
    start = first_slot(n_classes)
    overlay.update_layout(meta={**overlay.layout.meta, "edited": start, "edited_end": start + 1,
                                "overlays": list(range(start + 2, start + 2 + MAX_OVERLAYS))},
                          legend2=dict(x=0.01, y=0.01, xanchor="left", yanchor="bottom", font=dict(size=12),
                                       bgcolor="rgba(255,255,255,0.8)", bordercolor="#ddd", borderwidth=1))
    return overlay


def _assign(patch: dash.Patch, index: int, xyz_tx3, three_d: bool, **extra) -> None:
    xyz = np.asarray(xyz_tx3, dtype=np.float64).reshape(-1, 3).round(3)
    patch["data"][index]["x"] = xyz[:, 0].tolist()
    patch["data"][index]["y"] = xyz[:, 1].tolist()
    if three_d:
        patch["data"][index]["z"] = xyz[:, 2].tolist()
    for key, value in extra.items():
        patch["data"][index][key] = value


def slot_patch(n_classes: int, three_d: bool, edited: dict | None = None,
               overlays: list[dict] | None = None) -> dash.Patch:
    """A Patch of the overlay graph filling the edit slots (``edited``: xyz_tx3, hover) and/or the overlay slots
    (``overlays``: one dict of xyz_tx3, hover, name per text; the slots after them are emptied)."""
    patch = dash.Patch()
    start = first_slot(n_classes)
    if edited is not None:
        xyz = np.asarray(edited.get("xyz_tx3", np.zeros((0, 3))), dtype=np.float64).reshape(-1, 3)
        hover = list(edited.get("hover", []))
        _assign(patch, start, xyz, three_d, hovertext=hover, showlegend=bool(len(xyz)), visible=bool(len(xyz)))
        _assign(patch, start + 1, xyz[-1:], three_d, hovertext=hover[-1:], visible=bool(len(xyz)))
    if overlays is not None:
        for slot in range(MAX_OVERLAYS):
            item = overlays[slot] if slot < len(overlays) else {}
            xyz = item.get("xyz_tx3", np.zeros((0, 3)))
            _assign(patch, start + 2 + slot, xyz, three_d, hovertext=list(item.get("hover", [])),
                    name=item.get("name", ""), showlegend=bool(item), visible=bool(len(xyz)))
    return patch


def clear_slots_patch(n_classes: int, three_d: bool) -> dash.Patch:
    return slot_patch(n_classes, three_d, edited={})


def difference_figure(tokens: list[str], real_t, linear_t, index: int, class_name: str) -> go.Figure:
    """The edited minus the original log-odds of ``class_name`` after each original token, and its linear
    prediction; a band marks the edited token."""
    x = list(range(1, len(tokens) + 1))
    hover = [f"#{i} {escape(tok)}" for i, tok in zip(x, tokens)]
    fig = go.Figure([
        go.Scatter(x=x, y=np.round(np.asarray(real_t, np.float64), 4).tolist(), mode="lines+markers",
                   name="real change", line=dict(color="#111", width=3), marker=dict(size=5),
                   text=hover, hovertemplate="%{text}<br>real %{y:+.3f}<extra></extra>"),
        go.Scatter(x=x, y=np.round(np.asarray(linear_t, np.float64), 4).tolist(), mode="lines",
                   name="linear prediction", line=dict(color=EDIT_COLOR, width=3, dash="dash"),
                   text=hover, hovertemplate="%{text}<br>linear %{y:+.3f}<extra></extra>"),
    ])
    fig.add_vrect(x0=index + 0.5, x1=index + 1.5, fillcolor="#F1C40F", opacity=0.35, line_width=0)
    fig.update_layout(margin=dict(l=56, r=10, t=34, b=40), font=dict(FONT, size=12), height=210,
                      yaxis=dict(title=f"Δ log-odds {escape(class_name)}", gridcolor="#EEE", zerolinecolor="#999"),
                      xaxis=dict(title="token of the original text", gridcolor="#EEE",
                                 range=[0.5, max(len(tokens), 2) + 0.5], dtick=1 if len(tokens) <= 20 else None),
                      plot_bgcolor="white", legend=dict(orientation="h", y=1.02, yanchor="bottom", x=0),
                      hovermode="x unified")
    return fig
