"""The Train page's "Your own data and model" card: train on an uploaded CSV/TSV, or import a model trained
elsewhere; both become background jobs in the page's job list. Logic in ``dashboard.own_data``."""
from __future__ import annotations

import dash
from dash import Input, Output, State, callback, clientside_callback, dcc, html

from core.config import CELL_TYPES
from dashboard import ids
from dashboard.own_data import (CSV_DEFAULTS, CSV_FIELDS, MAX_UPLOAD_BYTES, csv_preview, model_preview,
                                start_csv_training, start_import)

__all__ = ["own_data_card"]

CSV_INTRO = ("A CSV or TSV file with two columns, text and label (a header row text,label is optional), UTF-8, up "
             f"to {MAX_UPLOAD_BYTES // 2**20} MB: 2 to 10 labels, at least 10 texts each. Repeated rows are dropped; "
             "80% of the rest trains, 10% chooses the best step, 10% is kept for the test.")
IMPORT_INTRO = ("A zip of, or the two files: the model's JSON (cell, units, embed_dim, class_names, vocabulary; see "
                "the README's \"Import your own model\") and its weights as .safetensors or a torch.save'd state_dict "
                f"(.pt), up to {MAX_UPLOAD_BYTES // 2**20} MB together. Nothing in them is executed; pickles are refused.")


def _upload(component_id: str, prompt: str, multiple: bool) -> dcc.Upload:
    # the class names the box for browser tests: dcc.Upload puts no id into the page
    return dcc.Upload(id=component_id, multiple=multiple, className=f"upload-box {component_id}",
                      children=html.Div([prompt, " — drop here or ", html.A("choose")]))


def _field(label: str, name: str, component) -> html.Div:
    return html.Div(className="form-field", children=[
        html.Label(label, htmlFor=ids.own_csv_field(name)), component,
        html.Div(id=ids.own_csv_field_error(name), className="field-error")])


def _csv_tab() -> html.Div:
    num = lambda name: dcc.Input(id=ids.own_csv_field(name), type="number", value=CSV_DEFAULTS[name],  # noqa: E731
                                 inputMode="decimal")
    cells = [{"label": c.upper(), "value": c} for c in CELL_TYPES]
    return html.Div(className="own-tab", children=[
        html.P(CSV_INTRO, className="note"),
        _upload(ids.OWN_CSV_UPLOAD, "Your labelled texts (.csv or .tsv)", multiple=False),
        html.Div(id=ids.OWN_CSV_SUMMARY, className="notice", role="status"),
        html.Div(className="train-form own-form", children=[
            _field("Cell", "cell", dcc.Dropdown(id=ids.own_csv_field("cell"), options=cells,
                                                value=CSV_DEFAULTS["cell"], clearable=False)),
            _field("Units", "units", num("units")), _field("Embedding size", "embed", num("embed")),
            _field("Training steps", "steps", num("steps")), _field("Learning rate", "lr", num("lr")),
            _field("Seed (also of the split)", "seed", num("seed")),
            _field("Run name", "run_id", dcc.Input(id=ids.own_csv_field("run_id"), type="text", value="",
                                                   placeholder="auto")),
        ]),
        html.Button("Train on this file", id=ids.OWN_CSV_START, className="play-button", n_clicks=0),
        html.Div(id=ids.OWN_CSV_MESSAGE, className="notice", role="status"),
    ])


def _import_tab() -> html.Div:
    return html.Div(className="own-tab", children=[
        html.P(IMPORT_INTRO, className="note"),
        _upload(ids.OWN_MODEL_UPLOAD, "A model (.zip, or .json + .safetensors / .pt)", multiple=True),
        html.Div(id=ids.OWN_MODEL_SUMMARY, className="notice", role="status"),
        html.Div(className="form-field", children=[
            html.Label("Run name", htmlFor=ids.OWN_MODEL_RUN_ID),
            dcc.Input(id=ids.OWN_MODEL_RUN_ID, type="text", value="", placeholder="from the JSON")]),
        html.Button("Import and analyze", id=ids.OWN_MODEL_START, className="play-button", n_clicks=0),
        html.Div(id=ids.OWN_MODEL_MESSAGE, className="notice", role="status"),
    ])


def own_data_card() -> html.Div:
    return html.Div(className="card own-data", children=[
        html.H3("Your own data and model"),
        dcc.Store(id=ids.OWN_CSV_ACCEPTED), dcc.Store(id=ids.OWN_MODEL_ACCEPTED),
        dcc.Tabs(id=ids.OWN_TABS, value="csv", children=[
            dcc.Tab(label="Train on your CSV", value="csv", children=_csv_tab()),
            dcc.Tab(label="Import a model", value="import", children=_import_tab()),
        ]),
    ])


# The browser checks the size first: an upload over the cap never leaves it (the server would refuse the
# request, and the user would see nothing); under the cap it goes on, as the accepted upload, to the checks.
_ACCEPT_JS = """function(contents, names) {
    const nu = window.dash_clientside.no_update;
    if (!contents) { return [nu, nu]; }
    const list = Array.isArray(contents) ? contents : [contents];
    const named = Array.isArray(names) ? names : [names];
    const bytes = list.reduce((n, c) => n + Math.floor((c.length - c.indexOf(',') - 1) * 3 / 4), 0);
    if (bytes > %d) {
        return [null, 'The upload is ' + (bytes / 1048576).toFixed(1) + ' MB, over the limit of %d MB; use a smaller file.'];
    }
    return [{names: named.map(String), contents: list}, 'Checking…'];
}""" % (MAX_UPLOAD_BYTES, MAX_UPLOAD_BYTES // 2**20)
for _upload_id, _accepted_id, _summary_id in ((ids.OWN_CSV_UPLOAD, ids.OWN_CSV_ACCEPTED, ids.OWN_CSV_SUMMARY),
                                              (ids.OWN_MODEL_UPLOAD, ids.OWN_MODEL_ACCEPTED, ids.OWN_MODEL_SUMMARY)):
    clientside_callback(_ACCEPT_JS, Output(_accepted_id, "data"), Output(_summary_id, "children"),
                        Input(_upload_id, "contents"), State(_upload_id, "filename"), prevent_initial_call=True)


@callback(Output(ids.OWN_CSV_SUMMARY, "children", allow_duplicate=True), Input(ids.OWN_CSV_ACCEPTED, "data"),
          prevent_initial_call=True)
def check_csv(upload):
    return csv_preview(upload)[1] if upload is not None else dash.no_update


@callback(Output(ids.OWN_CSV_MESSAGE, "children"), *[Output(ids.own_csv_field_error(n), "children") for n in CSV_FIELDS],
          Input(ids.OWN_CSV_START, "n_clicks"), State(ids.OWN_CSV_ACCEPTED, "data"),
          *[State(ids.own_csv_field(n), "value") for n in CSV_FIELDS], prevent_initial_call=True)
def start_csv(_clicks, upload, *values):
    if upload is None:
        return "Choose a CSV or TSV file first.", *[""] * len(CSV_FIELDS)
    _queued, message, errors = start_csv_training(upload, dict(zip(CSV_FIELDS, values)))
    return message, *[errors.get(n, "") for n in CSV_FIELDS]


@callback(Output(ids.OWN_MODEL_SUMMARY, "children", allow_duplicate=True), Output(ids.OWN_MODEL_RUN_ID, "placeholder"),
          Input(ids.OWN_MODEL_ACCEPTED, "data"), prevent_initial_call=True)
def check_model(upload):
    if upload is None:
        return dash.no_update, dash.no_update
    name, message = model_preview(upload)
    return message, name or "from the JSON"


@callback(Output(ids.OWN_MODEL_MESSAGE, "children"), Input(ids.OWN_MODEL_START, "n_clicks"),
          State(ids.OWN_MODEL_ACCEPTED, "data"), State(ids.OWN_MODEL_RUN_ID, "value"), prevent_initial_call=True)
def start_model(_clicks, upload, run_id):
    if upload is None:
        return "Choose a model to import first."
    return start_import(upload, run_id)[1]
