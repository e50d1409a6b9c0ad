"""Train (/train): train and analyze a model from the browser as a background job."""
from __future__ import annotations

import dash
from dash import ALL, Input, Output, State, callback, clientside_callback, dcc, html

from core.job_registry import duration_text, estimate_seconds
from dashboard import ids
from dashboard.components.jobs_view import (curve_job, curve_options, job_cards, loss_figure, runs_signature,
                                            user_runs_table)
from dashboard.components.own_data_view import own_data_card
from dashboard.jobs import cancel_job, delete_user_run, job_launcher, job_registry, run_ids, submit_job
from dashboard.runtime import settings
from dashboard.session import client_owner
from dashboard.train_form import DEFAULTS, FIELDS, TASK_OPTIONS, suggest_run_id, validate_form
from dashboard.train_seq_form import CELL_OPTIONS, cell_field_for

dash.register_page(__name__, path="/train", name="Train", title="attractorscope · Train", order=8,
                   eager_plotly=False)

INTRO = ("Train a new network and precompute its analysis without a terminal: try a GRU with 8 units, or a ReLU "
         "network on the same task, and compare their attractors; or an encoder-decoder with attention on a sequence task, "
         "opened on the Attention page. Jobs run in the background one at a time (others "
         "wait in a queue), survive a page refresh, and can be cancelled; the finished model appears in the model "
         "pickers of every page that can open it.")


def _field(label: str, component, name: str) -> html.Div:
    return html.Div(className="form-field", id=ids.train_field_box(name), children=[html.Label(label, htmlFor=ids.train_field(name)), component,
                                                      html.Div(id=ids.train_field_error(name), className="field-error")])


def _form() -> html.Div:
    # no min/max/step on the inputs: the browser would turn an out-of-range value into None and
    # hide the reason; validate_form explains every bad value next to its field instead
    num = lambda name: dcc.Input(id=ids.train_field(name), type="number", value=DEFAULTS[name], inputMode="decimal")  # noqa: E731
    return html.Div(className="card train-form", children=[
        _field("Task", dcc.Dropdown(id=ids.train_field("task"), options=TASK_OPTIONS, value=DEFAULTS["task"], clearable=False), "task"),
        _field("Classes (N)", num("classes"), "classes"),
        _field("Cell", dcc.Dropdown(id=ids.train_field("cell"), options=CELL_OPTIONS, value=DEFAULTS["cell"],
                                    clearable=False), "cell"),
        _field("Units", num("units"), "units"),
        _field("Embedding size", num("embed"), "embed"),
        _field("Training steps", num("steps"), "steps"),
        _field("Learning rate", num("lr"), "lr"),
        _field("Seed", num("seed"), "seed"),
        _field("Run name", dcc.Input(id=ids.train_field("run_id"), type="text", value="", placeholder="auto"), "run_id"),
        html.Div(className="form-actions", children=[
            html.Button("Start training", id=ids.TRAIN_START, className="play-button", n_clicks=0),
            html.Span(id=ids.TRAIN_ESTIMATE, className="note"),
        ]),
        html.Div(id=ids.TRAIN_FORM_MESSAGE, className="notice", role="status"),
    ])


def layout(**_query):
    client_owner()  # the session cookie comes with the page, before any job is queued
    return html.Div(className="analysis-page", children=[
        html.Div(className="page-head", children=[html.H2("Train a model"), html.P(INTRO, className="intro")]),
        dcc.Store(id=ids.TRAIN_JOB_TO_RUN),
        dcc.Store(id=ids.TRAIN_RUNS_SIGNATURE),
        dcc.Store(id=ids.TRAIN_CANCELLING),
        dcc.Interval(id=ids.TRAIN_POLL, interval=1000),
        html.Div(className="train-grid", children=[
            _form(),
            html.Div(className="card", children=[html.H3("Jobs"), html.Div(id=ids.TRAIN_JOBS), _curves()]),
        ]),
        own_data_card(),
        html.Div(className="card", children=[html.H3("Your trained models"), html.Div(id=ids.TRAIN_USER_RUNS)]),
    ])


def _curves() -> html.Div:
    """The training curves of one job, picked from the recent ones (the running one unless another is picked);
    an empty state until the first job."""
    return html.Div(className="train-curves", children=[
        html.P("No training curves yet: they appear here as soon as a job starts, and stay here after it ends.",
               id=ids.TRAIN_CURVE_EMPTY, className="empty-state"),
        html.Div(id=f"{ids.TRAIN_CURVE}-wrap", style={"display": "none"}, children=[
            html.Div(className="picker-wrap", children=[
                html.Label("Curves of", htmlFor=ids.TRAIN_CURVE_PICK, className="field-label"),
                dcc.Dropdown(id=ids.TRAIN_CURVE_PICK, options=[], value=None, clearable=True, searchable=False,
                             placeholder="the running job, else the latest")]),
            dcc.Graph(id=ids.TRAIN_CURVE, figure=loss_figure(None), config={"displayModeBar": False})]),
    ])


FORM_STATES = [State(ids.train_field(name), "value") for name in FIELDS]


@callback(Output(ids.train_field("cell"), "options"), Output(ids.train_field("cell"), "value"),
          Output(ids.train_field_box("classes"), "style"), Input(ids.train_field("task"), "value"),
          State(ids.train_field("cell"), "value"))
def swap_cell_field(task, cell):
    """A sequence task (issue 18) picks an encoder instead of a cell, and has no Classes field."""
    options, value, show_classes = cell_field_for(task, cell)
    return options, value, {} if show_classes else {"display": "none"}
ERROR_OUTPUTS = [Output(ids.train_field_error(name), "children") for name in FIELDS]


@callback(Output(ids.TRAIN_ESTIMATE, "children"), Output(ids.train_field("run_id"), "placeholder"),
          [Input(ids.train_field(name), "value") for name in FIELDS])
def preview(*values):
    form = dict(zip(FIELDS, values))
    config, _ = validate_form(form, *run_ids())
    return _estimate_text(config) if config else "", suggest_run_id(form)


def _estimate_text(config) -> str:
    seconds, limit = estimate_seconds(config), 60 * settings().max_job_minutes
    over = f", over this server's limit of {duration_text(limit)}" if seconds > limit else ""
    return f"Estimated time: about {seconds / 60:.1f} min{over}."


@callback(Output(ids.TRAIN_JOB_TO_RUN, "data"), Output(ids.TRAIN_FORM_MESSAGE, "children"), *ERROR_OUTPUTS,
          Input(ids.TRAIN_START, "n_clicks"), *FORM_STATES, prevent_initial_call=True)
def start(_clicks, *values):
    config, errors = validate_form(dict(zip(FIELDS, values)), *run_ids())
    messages = [errors.get(name, "") for name in FIELDS]
    if config is None:
        return dash.no_update, errors.get("form", "Please fix the fields marked in red."), *messages
    job, message = submit_job(config, job_registry())
    return job.job_id if job else dash.no_update, message, *messages


@callback(Output(ids.TRAIN_JOBS, "children"), Output(ids.TRAIN_USER_RUNS, "children"),
          Output(ids.TRAIN_RUNS_SIGNATURE, "data"), Input(ids.TRAIN_POLL, "n_intervals"),
          State(ids.TRAIN_RUNS_SIGNATURE, "data"))
def refresh(_n, shown_signature):
    # polls the registry, so a reloaded page finds running jobs again; the runs table is only redrawn
    # when the runs change, so a Delete click never lands on a button that is being replaced
    job_launcher().dispatch()  # reaps dead jobs and starts queued ones a free slot is waiting for
    jobs, owner = job_registry().list(), client_owner()
    signature = runs_signature(owner)
    table = user_runs_table(owner) if signature != shown_signature else dash.no_update
    return job_cards(jobs, owner), table, signature


@callback(Output(ids.TRAIN_CURVE, "figure"), Output(f"{ids.TRAIN_CURVE}-wrap", "style"),
          Output(ids.TRAIN_CURVE_EMPTY, "style"), Output(ids.TRAIN_CURVE_PICK, "options"),
          Input(ids.TRAIN_JOBS, "children"), Input(ids.TRAIN_CURVE_PICK, "value"), State(ids.TRAIN_CURVE_PICK, "options"))
def show_curve(_cards, picked, shown_options):
    """The picked job's curves (or the running, else the latest job's); an empty state before the first job."""
    jobs = job_registry().list()
    job, options = curve_job(jobs, picked), curve_options(jobs)
    hidden, shown = {"display": "none"}, {}
    return (loss_figure(job), shown if job else hidden, hidden if job else shown,
            options if options != shown_options else dash.no_update)


# "Cancelling…" gives way to the outcome once the job's card says it stopped (no stale message)
clientside_callback("""function(clicks) {
    const ctx = window.dash_clientside.callback_context, nu = window.dash_clientside.no_update;
    let t = ctx.triggered_id;
    if (!t && ctx.triggered && ctx.triggered.length && ctx.triggered[0].value) {
        try { t = JSON.parse(ctx.triggered[0].prop_id.replace(/\.n_clicks$/, '')); } catch (e) { t = null; } }
    return (t && t.index && (clicks || []).some(Boolean)) ? t.index : nu; }""",
                    Output(ids.TRAIN_CANCELLING, "data"), Input({"type": ids.JOB_CANCEL, "index": ALL}, "n_clicks"),
                    prevent_initial_call=True)
clientside_callback("""function(cards, jobId, message) {
    const nu = window.dash_clientside.no_update;
    if (!jobId || message !== 'Cancelling…') { return nu; }
    const find = (node, test) => { if (!node || typeof node !== 'object') { return null; }
        if (Array.isArray(node)) { for (const n of node) { const f = find(n, test); if (f) { return f; } } return null; }
        if (test(node)) { return node; } return find(node.props && node.props.children, test); };
    const card = find(cards, n => n.props && n.props.id === 'job-' + jobId);
    const state = card ? (card.props.className || '').replace('job-card', '').trim() : 'gone';
    if (state === 'running' || state === 'queued') { return nu; }
    const name = card ? find(card, n => n.type === 'B') : null;
    const run = name ? name.props.children + ': ' : '';
    return run + (state === 'cancelled' ? 'cancelled.' : state === 'gone' ? 'no longer listed.' : state + '.'); }""",
                    Output(ids.TRAIN_FORM_MESSAGE, "children", allow_duplicate=True), Input(ids.TRAIN_JOBS, "children"),
                    State(ids.TRAIN_CANCELLING, "data"), State(ids.TRAIN_FORM_MESSAGE, "children"),
                    prevent_initial_call=True)


@callback(Output(ids.TRAIN_FORM_MESSAGE, "children", allow_duplicate=True),
          Input({"type": ids.JOB_CANCEL, "index": ALL}, "n_clicks"), prevent_initial_call=True)
def cancel(clicks):
    if not dash.ctx.triggered_id or not any(clicks):
        return dash.no_update
    return cancel_job(dash.ctx.triggered_id["index"], job_registry())


@callback(Output(ids.TRAIN_FORM_MESSAGE, "children", allow_duplicate=True),
          Input({"type": ids.RUN_DELETE, "index": ALL}, "n_clicks"), prevent_initial_call=True)
def delete(clicks):
    if not dash.ctx.triggered_id or not any(clicks):
        return dash.no_update
    return delete_user_run(dash.ctx.triggered_id["index"])

