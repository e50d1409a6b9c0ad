"""Explore's callbacks for counterfactual edits and overlaid texts (imported by dashboard/pages/explore.py).

The edited path and the overlaid paths are patched into slot traces of the overlay graph
(``figures_counterfactual.add_slots``), so the camera and zoom survive every edit (Patch, uirevision)."""
from __future__ import annotations

import dash
from dash import ALL, Input, Output, State, callback, clientside_callback

from dashboard import ids
from dashboard.components.edit_panel import overlay_chips
from dashboard.edit_logic import apply_edit, change_overlays, edit_menu, overlay_items
from dashboard.figures_counterfactual import clear_slots_patch, slot_patch

FIGURE = Output(ids.TRAJECTORY_GRAPH, "figure", allow_duplicate=True)


def _classes(info) -> int:
    names = info.get("class_names") if isinstance(info, dict) else None
    return len(names) if isinstance(names, list) else 0


@callback(Output(ids.EDIT_MENU, "hidden"), Output(ids.EDIT_LABEL, "children"), Output(ids.EDIT_SWAP, "options"),
          Output(ids.EDIT_SWAP, "value"), Input(ids.EDIT_TARGET, "data"), State(ids.DEBOUNCED_TEXT, "data"),
          State(ids.MODEL_PICKER, "value"), prevent_initial_call=True)
def show_edit_menu(index, text, run_id):
    menu = edit_menu(run_id, text, index)
    return menu.hidden, menu.label, menu.swap_options, None


@callback(FIGURE, Output(ids.EDIT_GRAPH, "figure"), Output(ids.EDIT_SUMMARY, "children"),
          Output(ids.EDIT_RESULT, "hidden"), Output(ids.TOKEN_SLIDER, "value", allow_duplicate=True),
          Input(ids.EDIT_DROP, "n_clicks"), Input(ids.EDIT_NEGATE, "n_clicks"), Input(ids.EDIT_SWAP, "value"),
          State(ids.EDIT_TARGET, "data"), State(ids.DEBOUNCED_TEXT, "data"), State(ids.MODEL_PICKER, "value"),
          State(ids.VIEW_MODE, "value"), prevent_initial_call=True)
def make_edit(_drop, _negate, word, index, text, run_id, view):
    op = {ids.EDIT_DROP: "drop", ids.EDIT_NEGATE: "insert", ids.EDIT_SWAP: "swap"}.get(dash.ctx.triggered_id)
    if op is None or (op == "swap" and not word):
        return (dash.no_update,) * 5
    result = apply_edit(run_id, text, index, op, word)
    if result.figure is None:
        return dash.no_update, dash.no_update, result.summary, False, dash.no_update
    patch = slot_patch(result.n_classes, view == "3d", edited=result.edited)
    return patch, result.figure, result.summary, False, result.n_tokens  # both whole paths side by side


@callback(FIGURE, Output(ids.EDIT_RESULT, "hidden", allow_duplicate=True),
          Output(ids.EDIT_MENU, "hidden", allow_duplicate=True), Output(ids.EDIT_TARGET, "data"),
          Input(ids.EDIT_STALE, "data"), Input(ids.MODEL_INFO, "data"), Input(ids.EDIT_CLOSE, "n_clicks"),
          State(ids.VIEW_MODE, "value"), State(ids.EDIT_RESULT, "hidden"), State(ids.EDIT_MENU, "hidden"),
          prevent_initial_call=True)
def clear_edit(_text, info, _close, view, result_hidden, menu_hidden):
    """A new text (EDIT_STALE), model or view, or the close button: the edit no longer applies. Nothing to clear:
    no update, so typing redraws the graph no more often than before."""
    if result_hidden is not False and menu_hidden is not False:
        return (dash.no_update,) * 4
    if not _classes(info) or dash.ctx.triggered_id == ids.MODEL_INFO:  # a new figure: its slots are empty
        return dash.no_update, True, True, None
    return clear_slots_patch(_classes(info), view == "3d"), True, True, None


# The usual keystroke has no edit to clear: decided in the browser, so typing costs no extra request.
clientside_callback("""function (text, resultHidden, menuHidden) {
    return resultHidden !== false && menuHidden !== false ? window.dash_clientside.no_update : text; }""",
                    Output(ids.EDIT_STALE, "data"), Input(ids.DEBOUNCED_TEXT, "data"),
                    State(ids.EDIT_RESULT, "hidden"), State(ids.EDIT_MENU, "hidden"), prevent_initial_call=True)


@callback(Output(ids.OVERLAY_TEXTS, "data"), Output(ids.OVERLAY_INPUT, "value"),
          Input(ids.OVERLAY_ADD, "n_clicks"), Input(ids.OVERLAY_INPUT, "n_submit"),
          Input({"type": ids.OVERLAY_REMOVE, "index": ALL}, "n_clicks"),
          State(ids.OVERLAY_INPUT, "value"), State(ids.OVERLAY_TEXTS, "data"), prevent_initial_call=True)
def edit_overlays(_add, _submit, removes, new_text, texts):
    trigger = dash.ctx.triggered_id
    if isinstance(trigger, dict):  # a remove button; a re-render of the chips fires n_clicks 0: not a click
        clicks = dash.ctx.triggered[0].get("value") if dash.ctx.triggered else None
        if not isinstance(clicks, int) or clicks < 1:
            return dash.no_update, dash.no_update
        return change_overlays(texts, remove=trigger.get("index")), dash.no_update
    if not isinstance(new_text, str) or not new_text.strip():
        return dash.no_update, dash.no_update
    return change_overlays(texts, add=new_text), ""


@callback(FIGURE, Output(ids.OVERLAY_LIST, "children"), Input(ids.OVERLAY_TEXTS, "data"),
          Input(ids.MODEL_INFO, "data"), State(ids.VIEW_MODE, "value"), prevent_initial_call="initial_duplicate")
def draw_overlays(texts, info, view):
    if not texts and dash.ctx.triggered_id != ids.OVERLAY_TEXTS:
        return dash.no_update, dash.no_update  # no overlay on a new page or figure: its slots are empty already
    run_id = info.get("run_id") if isinstance(info, dict) else None
    items, n_classes = overlay_items(run_id, texts)
    chips = overlay_chips([item["text"] for item in items], [item["label"] for item in items])
    if not n_classes:
        return dash.no_update, chips
    return slot_patch(n_classes, view == "3d", overlays=items), chips
