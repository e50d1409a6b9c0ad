"""Explore's counterfactual-edit menu and result (under the token strip) and its overlays box (left panel)."""
from __future__ import annotations

from dash import dcc, html

from dashboard import ids
from dashboard.figures_counterfactual import MAX_OVERLAYS, OVERLAY_COLORS

__all__ = ["edit_panel", "overlay_panel", "overlay_chips"]


def edit_panel() -> html.Div:
    """Hidden until a token is clicked: drop it, negate it ("not" before it) or swap it for a suggested word."""
    return html.Div(className="edit-panel", children=[
        dcc.Store(id=ids.EDIT_TARGET, data=None),
        dcc.Store(id=ids.EDIT_STALE, data=None),
        html.Div(id=ids.EDIT_MENU, className="edit-menu", hidden=True, children=[
            html.Span(id=ids.EDIT_LABEL, className="edit-label"),
            html.Button("Drop it", id=ids.EDIT_DROP, className="small-button", n_clicks=0),
            html.Button("Negate (“not” before it)", id=ids.EDIT_NEGATE, className="small-button", n_clicks=0),
            dcc.Dropdown(id=ids.EDIT_SWAP, options=[], value=None, placeholder="Swap it for…", clearable=False,
                         className="edit-swap"),
            html.Button("×", id=ids.EDIT_CLOSE, className="small-button", title="Close the edit", n_clicks=0),
        ]),
        html.Div(id=ids.EDIT_RESULT, className="edit-result", hidden=True, children=[
            html.Div(id=ids.EDIT_SUMMARY, className="edit-summary", role="status"),
            dcc.Graph(id=ids.EDIT_GRAPH, config={"displayModeBar": False}, className="edit-graph"),
        ]),
    ])


def overlay_panel(texts: list[str]) -> html.Div:
    return html.Div(className="overlay-panel", children=[
        dcc.Store(id=ids.OVERLAY_TEXTS, data=texts),
        html.Label("Overlay other texts in the same view", htmlFor=ids.OVERLAY_INPUT, className="field-label"),
        html.Div(className="overlay-add-row", children=[
            dcc.Input(id=ids.OVERLAY_INPUT, type="text", value="", placeholder="e.g. not not good", debounce=False,
                      maxLength=300, className="overlay-input"),
            html.Button("Add", id=ids.OVERLAY_ADD, className="small-button", n_clicks=0),
        ]),
        html.Div(overlay_chips(texts), id=ids.OVERLAY_LIST, className="chips overlay-list"),
    ])


def overlay_chips(texts: list[str], names: list[str] | None = None) -> list:
    """One chip per overlaid text in its colour, with a remove button."""
    chips = []
    for i, text in enumerate(texts[:MAX_OVERLAYS]):
        label = names[i] if names and i < len(names) else text
        chips.append(html.Span(className="chip overlay-chip", style={"borderColor": OVERLAY_COLORS[i]}, children=[
            html.Span("●", style={"color": OVERLAY_COLORS[i]}), " ", html.Span(label, className="overlay-name"),
            html.Button("×", id={"type": ids.OVERLAY_REMOVE, "index": i}, className="overlay-remove",
                        title=f"Remove “{text}”", n_clicks=0),
        ]))
    return chips
