"""Studies (/studies): sweeps of small models testing claims from the papers (issue 19), one study at a time:
the claim above its figures, the measured answer below, the table behind them; click a point to open that model
on Explore. A study not run yet (or a larger one) can be started here as a background job."""
from __future__ import annotations

import dash
from dash import ALL, ClientsideFunction, Input, Output, State, callback, clientside_callback, ctx, dcc, html

from core.studies import STUDIES, StudyError, read_summary
from core.study_report import answer, table_rows
from dashboard import ids
from dashboard.components.jobs_view import job_cards
from dashboard.components.page_shell import section, unavailable
from dashboard.figures_studies import explore_href, study_figures
from dashboard.jobs import job_launcher, job_registry, submit_study
from dashboard.runtime import settings

dash.register_page(__name__, path="/studies", name="Studies", title="attractorscope · Studies", order=9)

INTRO = ("Claims from the papers behind attractorscope, tested on small models you can open: does how a cell combines "
         "words (adding vs multiplying) decide whether it learns negation and word-pair features (Sun, Li & Lu 2023)? "
         "Does a ReLU bias what a model extracts? How do trained dynamics change with width (Aitken & Gur-Ari)? Each "
         "point of a figure is a regular model in the store: click it to open it on Explore with an example text.")
MAX_JOB_CARDS = 3


def _options() -> list[dict]:
    return [{"label": s.title, "value": name} for name, s in STUDIES.items()]


def resolve_study(study) -> str:
    return study if isinstance(study, str) and study in STUDIES else next(iter(STUDIES))


def layout(study=None, **_query):
    name = resolve_study(study)
    notice = [] if study in (None, name) else [html.Div(f"There is no study named {str(study)[:60]!r}; showing {name}.",
                                                          className="model-message")]
    return html.Div(className="analysis-page", children=[
        html.Div(className="page-head", children=[html.H2("Studies"), html.P(INTRO, className="intro")]),
        html.Div(className="controls", children=[html.Div(className="picker-wrap", children=[
            html.Label("Study", htmlFor=ids.STUDY_PICK, className="field-label"),
            dcc.Dropdown(id=ids.STUDY_PICK, options=_options(), value=name, clearable=False, searchable=False)])]),
        *notice,
        html.Span(id=ids.STUDY_URL_SYNC, hidden=True),
        dcc.Interval(id=ids.STUDY_POLL, interval=3000),
        html.Div(study_body(name), id=ids.STUDY_BODY, className="page-body"),
        html.Div(className="card", children=[
            html.H3("Run this study as a background job"),
            html.P("It trains and analyzes each model of the study in your store (shipped ones stay as they are), then "
                   "writes the study's table; this page shows your run once it has finished. Cancel it on the Train page, "
                   "which lists every job.", className="note"),
            html.Button("Run study", id=ids.STUDY_RUN, className="play-button", n_clicks=0),
            html.Div(id=ids.STUDY_RUN_MESSAGE, className="notice", role="status"),
            html.Div(id=ids.STUDY_JOBS)]),
    ])


def summary_stores() -> tuple:
    """Where study summaries are looked for: where study jobs write first (a re-run is newer), then the bundled store."""
    current = settings()
    return tuple(dict.fromkeys((current.jobs_store, current.store)))


def study_body(name: str):
    """The claim, figures, measured answer and table of a study; an empty or error state when it has none."""
    study = STUDIES[name]
    claim = html.P([html.B("Claim tested: "), study.claim], className="study-claim")
    try:
        summary = read_summary(name, summary_stores())
    except StudyError as err:
        return [claim, unavailable(str(err))]
    if summary is None or not summary.get("points"):
        how = "start it below" if not study.shipped else f"run `python -m core study {name}`, or start it below"
        return [claim, html.Div(className="empty-state", children=[
            html.P(f"This study has not been run here yet: {how}.")])]
    graphs = [dcc.Graph(id={"type": ids.STUDY_GRAPH, "index": i}, figure=fig, config={"displaylogo": False})
              for i, fig in enumerate(study_figures(summary))]
    measured = html.Div(className="study-answer", children=[html.B("Measured: ")] + [html.P(s) for s in answer(summary)])
    where = "shipped with attractorscope" if summary.get("store") == str(settings().store) else "your store"
    return [claim, section(summary.get("title", study.title), *graphs, measured, _table(summary),
                           note=f"From the study summary in {where}. Click a point to open that model on Explore.")]


def _fmt(value) -> str:
    if isinstance(value, float):
        return "—" if value != value else f"{value:.3g}"
    return "—" if value is None else str(value)


def _table(summary: dict) -> html.Details:
    columns, rows = table_rows(summary)
    return html.Details(className="study-table", open=True, children=[
        html.Summary("The table behind these figures"),
        html.Table(className="models-table", children=[
            html.Thead(html.Tr([html.Th(c.replace("_", " ")) for c in columns])),
            html.Tbody([html.Tr([html.Td(_fmt(v)) for v in row]) for row in rows])])])


clientside_callback(ClientsideFunction("attractorscope_url", "syncStudy"), Output(ids.STUDY_URL_SYNC, "children"),
                    Input(ids.STUDY_PICK, "value"))


@callback(Output(ids.STUDY_BODY, "children"), Input(ids.STUDY_PICK, "value"), prevent_initial_call=True)
def show_study(name):
    return study_body(resolve_study(name))


@callback(Output(ids.URL, "href"), Input({"type": ids.STUDY_GRAPH, "index": ALL}, "clickData"),
          prevent_initial_call=True)
def open_point(_clicks):
    """A clicked point opens its model on Explore with the task's example text."""
    href = clicked_href(ctx.triggered[0].get("value") if ctx.triggered else None)
    return href if href is not None else dash.no_update


def clicked_href(click_data) -> str | None:
    """The Explore link of a graph's clickData (None for anything else: the browser sends what it likes)."""
    points = click_data.get("points") if isinstance(click_data, dict) else None
    if not isinstance(points, list) or not points or not isinstance(points[0], dict):
        return None
    return explore_href(points[0].get("customdata"))


@callback(Output(ids.STUDY_RUN_MESSAGE, "children"), Input(ids.STUDY_RUN, "n_clicks"), State(ids.STUDY_PICK, "value"),
          prevent_initial_call=True)
def run_study_job(_clicks, name):
    if not isinstance(name, str) or name not in STUDIES:
        return "Pick a study first."
    _job, message = submit_study(name, job_registry())
    return message


@callback(Output(ids.STUDY_JOBS, "children"), Input(ids.STUDY_POLL, "n_intervals"))
def show_jobs(_n):
    job_launcher().dispatch()  # reaps dead jobs and starts queued ones a free slot is waiting for
    jobs = [j for j in reversed(job_registry().list()) if isinstance(j.config, dict) and "study" in j.config]
    if not jobs:
        return html.P("No study jobs yet.", className="note")
    return job_cards(list(reversed(jobs[:MAX_JOB_CARDS])), "")  # no Cancel here: the Train page lists every job
