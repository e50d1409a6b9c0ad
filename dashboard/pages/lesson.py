"""Lesson mode (/lesson): the attractor full screen with large type, for a classroom projector.

``/lesson?model=…&text=…&view=3d`` shows one text; ``/lesson?tour=line-attractor&step=2`` a step of a guided tour
(dashboard/tours.py, tours/*.json). Keyboard (assets/lesson.js): space or → next token, ← back, Home/End,
p play/pause, + and − speed, r slow rotation (3D), n and b (or PageDown/PageUp) the next and previous tour step.
The page is static once drawn: its text is fixed, so stepping through it never calls the server.
"""
from __future__ import annotations

import dash
from dash import ClientsideFunction, Input, Output, State, clientside_callback, dcc, html

from dashboard import ids
from dashboard.components.model_picker import classifiers, default_run_id
from dashboard.components.page_shell import unknown_model_message
from dashboard.explore_logic import load_model_view, trajectory_for
from dashboard.runtime import bundles, settings
from dashboard.tours import TourError, list_tours, load_tour, tour_step_index

dash.register_page(__name__, path="/lesson", name="Lesson", title="attractorscope · Lesson", order=90)

CS = "attractorscope_lesson"  # namespace of the functions in assets/lesson.js
LESSON_FONT = 20
KEYS = "space / → next word · ← back · p play · + − speed · r rotate (3D) · n / b next / previous step"


def layout(model=None, text=None, view=None, tour=None, step=None, **_query) -> html.Div:
    known = [s.run_id for s in classifiers(bundles().summaries()) if s.ok and s.has_analysis]
    target = _target(model, text, view, tour, step, known)
    run_id, view, messages = target["run_id"], target["view"], target["messages"]
    state = load_model_view(run_id, view)
    messages += [state.message] if state.message else []
    text = target["text"] if isinstance(target["text"], str) and target["text"].strip() else state.default_text
    text = text[: settings().max_text_chars]
    payload = trajectory_for(run_id, text)
    first = payload.get("n", 0) if target["start"] is None else min(target["start"], payload.get("n", 0))
    caption, nav = target["caption"], target["nav"]
    return html.Div(className="lesson", **{"data-view": view}, children=[
        dcc.Store(id=ids.LESSON_DATA, data={str(run_id): payload} if run_id else {}),
        dcc.Store(id=ids.LESSON_INFO, data=state.info),
        dcc.Store(id=ids.LESSON_STEP, data=first),
        html.Header(className="lesson-head", children=[
            html.Div(className="lesson-caption-wrap", children=[
                html.P(caption, id=ids.LESSON_CAPTION, className="lesson-caption", hidden=not caption),
                html.P(" ".join(messages), id=ids.LESSON_MESSAGE, className="lesson-message", hidden=not messages),
            ]),
            html.Nav(className="lesson-nav", children=nav or _tour_menu()),
        ]),
        html.Div(className="lesson-graph graph-stack", children=[
            dcc.Graph(id=ids.LESSON_CLOUD, figure=_large(state.cloud_figure, view), className="cloud-graph",
                      config={"displayModeBar": False, "responsive": True}),
            dcc.Graph(id=ids.LESSON_GRAPH, figure=_large(state.figure, view), className="trajectory-graph",
                      config={"displayModeBar": False, "scrollZoom": True, "responsive": True}),
        ]),
        html.Footer(className="lesson-foot", children=[
            html.Div(id=ids.LESSON_PREDICTION, className="lesson-prediction"),
            html.Div(id=ids.LESSON_STRIP, className="lesson-strip", role="list"),
            html.Div(className="lesson-bar", children=[
                html.Button("▶ Play", id=ids.LESSON_PLAY, className="play-button", n_clicks=0),
                html.Span("1×", id=ids.LESSON_SPEED, className="lesson-speed", title="+ and − change the speed"),
                html.Button("⟳ Rotate", id=ids.LESSON_ROTATE, className="small-button lesson-rotate", n_clicks=0,
                            hidden=view != "3d"),
                html.Span(id=ids.LESSON_STEP_LABEL, className="step-label"),
                html.Span(KEYS, className="lesson-keys"),
                dcc.Link("Exit to Explore", href=_explore_href(run_id, text, view), className="lesson-exit"),
            ]),
        ]),
    ])


def _target(model, text, view, tour, step, known: list[str]) -> dict:
    """What the lesson shows: the tour step's model, text, view and caption, or the URL's own; and what to say
    about a bad tour, step or model."""
    messages, caption, nav, start = [], "", [], None
    if tour is not None:
        try:
            loaded = load_tour(tour, known_models=set(known))
        except TourError as err:
            messages.append(str(err))
        else:
            index, problem = tour_step_index(step, len(loaded.steps))
            messages += [problem] if problem else []
            current = loaded.steps[index]
            model, text, view, caption, start = current.model, current.text, current.view, current.caption, current.tokens
            nav = _tour_nav(loaded, index)
    run_id = model if model in known else default_run_id(classifiers(bundles().summaries()))
    if model is not None and model not in known and not messages:
        messages.append(unknown_model_message(model, run_id))
    return {"run_id": run_id, "text": text, "view": "3d" if view == "3d" else "2d", "caption": caption, "nav": nav,
            "start": start, "messages": messages}


def _tour_nav(tour, index: int) -> list:
    n = len(tour.steps)

    def link(label, i, cls):
        return dcc.Link(label, href=f"/lesson?tour={tour.slug}&step={i + 1}", className=f"lesson-step-link {cls}")

    return [html.Span(tour.title, className="lesson-tour-title"),
            link("◀ back", index - 1, "lesson-prev") if index > 0 else html.Span(),
            html.Span(f"step {index + 1} / {n}", id=ids.LESSON_TOUR_STEP, className="lesson-tour-step"),
            link("next ▶", index + 1, "lesson-next") if index + 1 < n else
            dcc.Link("end: all tours", href="/lesson", className="lesson-step-link")]


def _tour_menu() -> list:
    tours = []
    for slug in list_tours():
        try:
            tours.append(dcc.Link(load_tour(slug).title, href=f"/lesson?tour={slug}&step=1", className="lesson-step-link"))
        except TourError:
            continue  # a broken tour file is reported when its link is opened, never here
    return [html.Span("Guided tours:", className="lesson-tour-title"), *tours] if tours else []


def _explore_href(run_id, text: str, view: str) -> str:
    from urllib.parse import urlencode
    query = {"model": run_id or "", "text": text[:2000], **({"view": "3d"} if view == "3d" else {})}
    return "/?" + urlencode(query)


def _large(figure: dict, view: str) -> dict:
    """A copy of an Explore figure (JSON) with type large enough for the back of a classroom."""
    layout = dict(figure.get("layout", {}))
    layout["font"] = {**layout.get("font", {}), "size": LESSON_FONT if view == "2d" else LESSON_FONT - 4}
    if isinstance(layout.get("legend"), dict):
        layout["legend"] = {**layout["legend"], "font": {"size": LESSON_FONT - 4}, "entrywidth": 0.25}
    if view == "3d" and isinstance(layout.get("scene"), dict):  # tick labels turn with the camera: keep them small
        layout["scene"] = {**layout["scene"], **{axis: {**layout["scene"].get(axis, {}), "tickfont": {"size": 11}}
                                                 for axis in ("xaxis", "yaxis", "zaxis")}}
    if view == "2d" and isinstance(layout.get("margin"), dict):
        layout["margin"] = {**layout["margin"], "l": 80, "r": 110, "b": 64, "t": 80}
    data = [{**t, "textfont": {**t.get("textfont", {}), "size": LESSON_FONT + 4}}
            if "text" in str(t.get("mode", "")) else t for t in figure.get("data", [])]
    return {**figure, "data": data, "layout": layout}


clientside_callback(ClientsideFunction(CS, "draw"), Output(ids.LESSON_GRAPH, "figure"),
                    Output(ids.LESSON_PREDICTION, "children"), Output(ids.LESSON_STEP_LABEL, "children"),
                    Input(ids.LESSON_STEP, "data"), State(ids.LESSON_DATA, "data"), State(ids.LESSON_INFO, "data"),
                    State(ids.LESSON_GRAPH, "figure"))
clientside_callback(ClientsideFunction(CS, "fitSmallScreen"), Output(ids.LESSON_GRAPH, "figure", allow_duplicate=True),
                    Output(ids.LESSON_CLOUD, "figure", allow_duplicate=True), Input(ids.LESSON_STEP_LABEL, "children"),
                    State(ids.LESSON_GRAPH, "figure"), State(ids.LESSON_CLOUD, "figure"),
                    prevent_initial_call="initial_duplicate")
clientside_callback(ClientsideFunction(CS, "togglePlay"), Output(ids.LESSON_PLAY, "children"),
                    Input(ids.LESSON_PLAY, "n_clicks"), prevent_initial_call=True)
clientside_callback(ClientsideFunction(CS, "toggleRotate"), Output(ids.LESSON_ROTATE, "className"),
                    Input(ids.LESSON_ROTATE, "n_clicks"), prevent_initial_call=True)
