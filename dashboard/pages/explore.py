"""Explore (/): type or paste text and watch the hidden state move across the attractor."""
from __future__ import annotations

import dataclasses

import dash
from dash import ALL, Input, Output, State, callback, clientside_callback, dcc, html

from dashboard import ids
from dashboard.components.export_buttons import export_row
from dashboard.components.edit_panel import edit_panel, overlay_panel
from dashboard.components.help import explore_help
from dashboard.components.lesson_link import lesson_link
from dashboard.components.model_picker import default_run_id, model_picker
from dashboard.components.page_shell import unknown_model_message
from dashboard.components.training_time import training_panel
from dashboard.explore_logic import (DEFAULT_VIEW, example_chips, examples_of, load_model_view,
                                     next_text_for_model, trajectory_for)
from dashboard.edit_logic import overlay_texts
from dashboard.runtime import bundles, settings

dash.register_page(__name__, path="/", name="Explore", title="attractorscope · Explore", order=0)

CS = "attractorscope"  # namespace of the functions in assets/explore.js


SPEEDS = (("0.5×", 700), ("1×", 350), ("2×", 175), ("4×", 90), ("10×", 35))  # label, ms per token


def layout(model: str | None = None, text: str | None = None, view: str = DEFAULT_VIEW, overlay=None,
           **_query) -> html.Div:
    summaries = bundles().summaries()
    known = isinstance(model, str) and any(s.run_id == model for s in summaries)
    run_id = model if known else default_run_id(summaries)
    view = "3d" if view == "3d" else "2d"
    state = load_model_view(run_id, view)
    if model is not None and not known and not state.message:
        state = dataclasses.replace(state, message=unknown_model_message(model, run_id))
    text = (text if isinstance(text, str) else state.default_text)[: settings().max_text_chars]
    payload = trajectory_for(run_id, text)
    return html.Div(className="explore", children=[
        dcc.Store(id=ids.DEBOUNCED_TEXT, data=text),
        # payloads keyed by run id: a late answer computed for a previous model cannot overwrite the current one
        dcc.Store(id=ids.TRAJECTORY_DATA, data=_keyed(run_id, payload)),
        dcc.Store(id=ids.MODEL_INFO, data=state.info),
        dcc.Store(id=ids.HOVER_TOKEN, data=None),
        dcc.Interval(id=ids.PLAY_INTERVAL, interval=350, disabled=True),
        html.Div(className="controls", children=[
            html.Div(className="picker-wrap", children=[html.Label("Model", htmlFor=ids.MODEL_PICKER,
                                                                   className="field-label"),
                                                        model_picker(summaries, run_id)]),
            dcc.RadioItems(id=ids.VIEW_MODE, options=[{"label": "2D", "value": "2d"}, {"label": "3D", "value": "3d"}],
                           value=view, inline=True, className="view-toggle"),
            html.Div(className="share", children=[
                html.Span(id=ids.SHARE_URL, className="visually-hidden"),
                dcc.Clipboard(id=ids.COPY_LINK, target_id=ids.SHARE_URL, title="Copy a link to this view",
                              className="copy-link"),
                html.Span("Copy link", className="copy-label"),
            ]),
            export_row(),
            lesson_link(),
        ]),
        html.Div(state.message, id=ids.MODEL_MESSAGE, className="model-message",
                 hidden=not state.message),
        html.Div(className="explore-grid", children=[_text_panel(state, text, overlay_texts(overlay)),
                                                     _graph_panel(state, (payload or {}).get("n", 0))]),
        training_panel(run_id, text),
    ])


def _text_panel(state, text: str, overlays: list[str]) -> html.Section:
    return html.Section(className="left-panel", children=[
        html.Label("Type or paste text", htmlFor=ids.SENTENCE_INPUT, className="field-label"),
        dcc.Textarea(id=ids.SENTENCE_INPUT, value=text, className="sentence-input", spellCheck=False,
                     placeholder="e.g. the plot was awful but the ending was awesome",
                     maxLength=settings().max_text_chars),
        html.Div(example_chips(state.examples), id=ids.EXAMPLE_CHIPS, className="chips"),
        html.Div(id=ids.TEXT_NOTICE, className="notice", role="status"),
        html.Div(id=ids.PREDICTION_TEXT, className="prediction"),
        dcc.Graph(id=ids.PREDICTION_GRAPH, figure=state.prediction_figure, config={"displayModeBar": False},
                  className="prediction-graph"),
        overlay_panel(overlays),
        explore_help(),
    ])


def _graph_panel(state, n_tokens: int) -> html.Section:
    """The cloud graph under the overlay the path is drawn on, the player (at the text's end) and the token strip."""
    return html.Section(className="right-panel", children=[
        html.Div(className="graph-stack", children=[
            dcc.Graph(id=ids.CLOUD_GRAPH, figure=state.cloud_figure, className="cloud-graph",
                      config={"displayModeBar": False, "responsive": True}),
            dcc.Graph(id=ids.TRAJECTORY_GRAPH, figure=state.figure, className="trajectory-graph",
                      config={"displaylogo": False, "scrollZoom": True, "responsive": True, "doubleClick": "reset"}),
        ]),
        html.Div(className="player", children=[
            html.Button("▶ Play", id=ids.PLAY_BUTTON, className="play-button", n_clicks=0),
            dcc.Dropdown(id=ids.PLAY_SPEED, options=[{"label": lab, "value": ms} for lab, ms in SPEEDS],
                         value=350, clearable=False, searchable=False, className="play-speed"),
            html.Div(dcc.Slider(id=ids.TOKEN_SLIDER, min=0, max=max(n_tokens, 1), step=1, value=n_tokens, marks=None,
                                allow_direct_input=False, tooltip={"always_visible": False, "placement": "bottom"}),
                     className="slider-wrap"),
            html.Span(id=ids.STEP_LABEL, className=ids.STEP_LABEL),
        ]),
        html.Div(id=ids.TOKEN_STRIP, className="token-strip", role="list"),
        edit_panel(),
    ])


@callback(
    Output(ids.TRAJECTORY_GRAPH, "figure"), Output(ids.CLOUD_GRAPH, "figure"), Output(ids.PREDICTION_GRAPH, "figure"),
    Output(ids.MODEL_INFO, "data"),
    Output(ids.MODEL_MESSAGE, "children"), Output(ids.MODEL_MESSAGE, "hidden"), Output(ids.EXAMPLE_CHIPS, "children"),
    Output(ids.SENTENCE_INPUT, "value", allow_duplicate=True), Output(ids.TRAJECTORY_DATA, "data", allow_duplicate=True),
    Input(ids.MODEL_PICKER, "value"), Input(ids.VIEW_MODE, "value"),
    State(ids.SENTENCE_INPUT, "value"), State(ids.MODEL_INFO, "data"),
    prevent_initial_call=True,
)
def switch_model(run_id, view, text, previous_info):
    # The new figure and the trajectory for it leave together, so the browser never draws one
    # model's trajectory on another model's attractor.
    state = load_model_view(run_id, view)
    new_text = next_text_for_model(text, previous_info, state.examples)
    shown_text = text if new_text is dash.no_update else new_text
    return (state.figure, state.cloud_figure, state.prediction_figure, state.info, state.message, not state.message,
            example_chips(state.examples), new_text,
            _keyed(state.info["run_id"], trajectory_for(state.info["run_id"], shown_text)))


@callback(Output(ids.TRAJECTORY_DATA, "data"), Input(ids.DEBOUNCED_TEXT, "data"), State(ids.MODEL_PICKER, "value"),
          prevent_initial_call=True)
def update_trajectory(text, run_id):
    patch = dash.Patch()
    patch[str(run_id)] = trajectory_for(run_id, text)
    return patch


def _keyed(run_id, payload) -> dict:
    return {str(run_id): payload} if run_id else {}


@callback(Output(ids.SENTENCE_INPUT, "value"), Input({"type": ids.EXAMPLE_CHIP, "index": ALL}, "n_clicks"),
          State(ids.MODEL_INFO, "data"), prevent_initial_call=True)
def use_example(_clicks, info):
    index = dash.ctx.triggered_id["index"] if dash.ctx.triggered_id else None
    examples = examples_of(info)
    if not isinstance(index, int) or isinstance(index, bool) or not any(_clicks) or not 0 <= index < len(examples):
        return dash.no_update
    return examples[index]


clientside_callback(dash.ClientsideFunction(CS, "coalesceEdits"), Output(ids.DEBOUNCED_TEXT, "data"),
                    Input(ids.SENTENCE_INPUT, "value"), prevent_initial_call=True)
# a new payload also resets the player to its end (one step: the path is drawn before the panel below waits on it)
clientside_callback(dash.ClientsideFunction(CS, "drawTrajectory"), Output(ids.TRAJECTORY_GRAPH, "figure",
                    allow_duplicate=True), Output(ids.TOKEN_SLIDER, "max"), Output(ids.TOKEN_SLIDER, "value"),
                    Input(ids.TRAJECTORY_DATA, "data"), Input(ids.TOKEN_SLIDER, "value"), Input(ids.HOVER_TOKEN, "data"),
                    State(ids.TRAJECTORY_GRAPH, "figure"), prevent_initial_call="initial_duplicate")
clientside_callback(dash.ClientsideFunction(CS, "drawPanel"),
                    Output(ids.PREDICTION_GRAPH, "figure", allow_duplicate=True), Output(ids.PREDICTION_TEXT, "children"),
                    Output(ids.TEXT_NOTICE, "children"), Output(ids.STEP_LABEL, "children"),
                    Input(ids.TRAJECTORY_DATA, "data"), Input(ids.TOKEN_SLIDER, "value"), State(ids.MODEL_INFO, "data"),
                    prevent_initial_call="initial_duplicate")
clientside_callback(dash.ClientsideFunction(CS, "togglePlay"), Output(ids.PLAY_INTERVAL, "disabled"),
                    Output(ids.PLAY_BUTTON, "children"), Output(ids.TOKEN_SLIDER, "value", allow_duplicate=True),
                    Input(ids.PLAY_BUTTON, "n_clicks"), State(ids.PLAY_INTERVAL, "disabled"),
                    State(ids.TOKEN_SLIDER, "value"), State(ids.TOKEN_SLIDER, "max"), prevent_initial_call=True)
clientside_callback(dash.ClientsideFunction(CS, "playTick"), Output(ids.TOKEN_SLIDER, "value", allow_duplicate=True),
                    Output(ids.PLAY_INTERVAL, "disabled", allow_duplicate=True),
                    Output(ids.PLAY_BUTTON, "children", allow_duplicate=True), Input(ids.PLAY_INTERVAL, "n_intervals"),
                    State(ids.TOKEN_SLIDER, "value"), State(ids.TOKEN_SLIDER, "max"), prevent_initial_call=True)
clientside_callback("function (ms) { return typeof ms === 'number' && ms >= 20 ? ms : 350; }",
                    Output(ids.PLAY_INTERVAL, "interval"), Input(ids.PLAY_SPEED, "value"))
clientside_callback(dash.ClientsideFunction(CS, "shareUrl"), Output(ids.SHARE_URL, "children"),
                    Input(ids.DEBOUNCED_TEXT, "data"), Input(ids.MODEL_PICKER, "value"), Input(ids.VIEW_MODE, "value"),
                    Input(ids.OVERLAY_TEXTS, "data"))

# The edit and overlay callbacks (they also patch the trajectory graph), registered after this page's own.
from dashboard import explore_edits  # noqa: E402,F401
