"""Explore's export row: the current view as PNG or SVG (made in the browser by assets/export.js, so it is
exactly what is on screen), and the attractor with the path as standalone HTML, the path as CSV and the path
playing as a GIF (made here, by dashboard.figures_export, from the model, the text and the browser's camera)."""
from __future__ import annotations

import base64
import logging
import re

import dash
from dash import ClientsideFunction, Input, Output, State, callback, clientside_callback, dcc, html

from dashboard import ids
from dashboard.cache import ModelUnavailable
from dashboard.figures_export import export_figure, figure_html, trajectory_csv, trajectory_gif
from dashboard.runtime import bundles, settings

__all__ = ["export_row", "make_export", "export_filename"]

log = logging.getLogger(__name__)
CS = "attractorscope_export"  # namespace of the functions in assets/export.js
SERVER_KINDS = ("html", "csv", "gif")
MIME = {"html": "text/html", "csv": "text/csv", "gif": "image/gif"}


def export_row() -> html.Div:
    buttons = [(ids.EXPORT_PNG, "PNG", "The current view as a PNG picture"),
               (ids.EXPORT_SVG, "SVG", "The current view as an SVG drawing"),
               (ids.EXPORT_HTML, "HTML", "The attractor with this path as an interactive page that works offline"),
               (ids.EXPORT_CSV, "CSV", "The path as a table: tokens, PCA coordinates, probabilities, evidence"),
               (ids.EXPORT_GIF, "GIF", "The path playing token by token, as an animated GIF")]
    return html.Div(className="export-row", children=[
        html.Span("Export", className="export-label"),
        *[html.Button(label, id=bid, n_clicks=0, className="export-button", title=title) for bid, label, title in buttons],
        html.Span(id=ids.EXPORT_STATUS, className="export-status", role="status"),
        dcc.Store(id=ids.EXPORT_REQUEST, data=None),
        dcc.Download(id=ids.EXPORT_DOWNLOAD),
        dcc.Download(id=ids.EXPORT_IMAGE_DOWNLOAD),
    ])


def export_filename(run_id: str, text: str, kind: str) -> str:
    """e.g. "gru-imdb_not-good.csv": the model and the text's first words, safe in any file system."""
    words = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:40].strip("-") or "text"
    return f"{run_id}_{words}.{kind}"


def make_export(kind, run_id, text, view, view_state) -> tuple[dict | None, str]:
    """(dcc.Download data or None, a one-sentence status) for one of SERVER_KINDS."""
    if kind not in SERVER_KINDS:
        return None, ""
    if not isinstance(run_id, str) or not run_id:
        return None, "There is no model to export: pick one first."
    if not isinstance(text, str) or not text.strip():
        return None, "There is no text to export: type some text first."
    try:
        bundle = bundles().get(run_id)
    except ModelUnavailable as err:
        return None, str(err)
    if not bundle.has_analysis:
        return None, "This model has no analysis to export: analyze it first."
    traj = bundle.trajectory(text[: settings().max_text_chars], max_tokens=settings().max_tokens)
    if not traj.tokens:
        return None, "There is no token in this text to export: type some words first."
    three_d, names, ordered = view == "3d", bundle.class_names, bool(bundle.info.get("ordered"))
    name = export_filename(run_id, text, kind)
    if kind == "csv":
        return dict(content=trajectory_csv(traj, names), filename=name, type=MIME[kind], base64=False), \
            f"Saved {name}."
    if kind == "html":
        fig = export_figure(bundle.analysis, names, ordered, traj, run_id, three_d, view_state)
        return dict(content=figure_html(fig), filename=name, type=MIME[kind], base64=False), f"Saved {name}."
    gif = trajectory_gif(bundle.analysis, names, ordered, traj, three_d, view_state)
    return dict(content=base64.b64encode(gif).decode("ascii"), filename=name, type=MIME[kind], base64=True), \
        f"Saved {name}."


@callback(Output(ids.EXPORT_DOWNLOAD, "data"), Output(ids.EXPORT_STATUS, "children"),
          Input(ids.EXPORT_REQUEST, "data"), State(ids.MODEL_PICKER, "value"), State(ids.SENTENCE_INPUT, "value"),
          State(ids.VIEW_MODE, "value"), prevent_initial_call=True)
def serve_export(request, run_id, text, view):
    if not isinstance(request, dict):
        return dash.no_update, dash.no_update
    try:
        data, status = make_export(request.get("kind"), run_id, text, view, request.get("view"))
    except Exception:  # noqa: BLE001 - a user sees one sentence; the log keeps the traceback
        log.exception("export %r failed", request.get("kind"))
        return dash.no_update, "The export failed; please try again, or try another format."
    return (data if data is not None else dash.no_update), status


clientside_callback(ClientsideFunction(CS, "requestExport"), Output(ids.EXPORT_REQUEST, "data"),
                    Output(ids.EXPORT_STATUS, "children", allow_duplicate=True),
                    Input(ids.EXPORT_HTML, "n_clicks"), Input(ids.EXPORT_CSV, "n_clicks"),
                    Input(ids.EXPORT_GIF, "n_clicks"), prevent_initial_call=True)
clientside_callback(ClientsideFunction(CS, "saveImage"), Output(ids.EXPORT_STATUS, "children", allow_duplicate=True),
                    Input(ids.EXPORT_PNG, "n_clicks"), Input(ids.EXPORT_SVG, "n_clicks"), prevent_initial_call=True)
