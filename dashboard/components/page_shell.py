"""The frame every analysis page shares: title, "what am I looking at", model picker, links that keep
the chosen model (and text) in the URL, and the "not computed for this model" state."""
from __future__ import annotations

from dash import ClientsideFunction, Input, Output, clientside_callback, html

from dashboard import ids
from dashboard.components.model_picker import classifiers, default_run_id, model_picker
from dashboard.cache import ModelUnavailable
from dashboard.runtime import bundles

__all__ = ["resolve_run_id", "unknown_model_message", "page_frame", "not_computed", "unavailable", "section", "metric",
           "url_sync", "load_analyzed", "default_example"]


def resolve_run_id(model) -> str | None:
    """The model named in the URL if it exists in the store, else the default one."""
    summaries = classifiers(bundles().summaries())
    if isinstance(model, str) and any(s.run_id == model for s in summaries):
        return model
    return default_run_id(summaries)


def unknown_model_message(requested, shown: str | None) -> str:
    """What to say when the URL names a model that is not in the store (or is not a name at all)."""
    if requested is None or requested == shown:
        return ""
    name = str(requested)
    name = name if len(name) <= 60 else name[:57] + "…"
    return f"There is no model named {name!r}; showing {shown} instead." if shown else \
        f"There is no model named {name!r}."


def page_frame(path: str, title: str, intro: str, run_id: str | None, body, *, text: str | None = None,
               controls=None, pickers=None, requested=None, requested_b=None, run_id_b: str | None = None) -> html.Div:
    """A page: heading, intro, picker (+ page controls), then the body. The navbar links carry the
    URL's model and text to the next page (assets/explore.js), and url_sync keeps the URL current.
    ``pickers`` replaces the one model picker (e.g. two pickers on the Compare page); ``requested``
    (and ``requested_b``) are the URL's model names, explained when they name no model."""
    notices = [m for m in (unknown_model_message(requested, run_id), unknown_model_message(requested_b, run_id_b)) if m]
    if pickers is None:
        pickers = [html.Div(className="picker-wrap", children=[html.Label("Model", htmlFor=ids.MODEL_PICKER, className="field-label"),
                                                               model_picker(bundles().summaries(), run_id)])]
    return html.Div(className="analysis-page", children=[
        html.Div(className="page-head", children=[
            html.H2(title),
            html.P(intro, className="intro"),
        ]),
        html.Div(className="controls", children=[
            *pickers,
            *(controls or []),
        ]),
        *[html.Div(m, className="model-message") for m in notices],
        html.Span(id=ids.url_sync(path), hidden=True),
        html.Div(body, id=ids.page_body(path), className="page-body"),
    ])


def load_analyzed(run_id, views: tuple[str, ...], what: str):
    """(bundle, None) when the model loads and its analysis has every view in ``views`` (attribute names
    of ``core.analysis_view.Analysis``: "fixed_points", "words", ...); otherwise (None, a component
    saying why: unavailable, or not computed and how to compute it)."""
    try:
        bundle = bundles().get(run_id)
    except ModelUnavailable as err:
        return None, unavailable(str(err))
    if any(getattr(bundle.analysis, view) is None for view in views):
        return None, not_computed(what, run_id)
    return bundle, None


def default_example(run_id) -> str:
    """The example text a page starts with for this model (``Bundle.default_example``)."""
    try:
        return bundles().get(run_id).default_example
    except ModelUnavailable:
        return ""


def metric(value: str, label: str) -> html.Div:
    """One headline figure: the value large, what it is below."""
    return html.Div(className="metric", children=[html.Div(value, className="value"), html.Div(label, className="label")])


def section(title: str, *children, note: str | None = None, class_name: str = "card") -> html.Section:
    head = [html.H3(title)] + ([html.P(note, className="note")] if note else [])
    return html.Section(className=class_name, children=head + list(children))


def unavailable(message: str) -> html.Div:
    return html.Div(className="empty-state", children=[html.P(message)])


def not_computed(what: str, run_id: str | None) -> html.Div:
    return html.Div(className="empty-state", children=[
        html.P(f"{what}: not computed for this model."),
        html.P(["Compute it with ", html.Code(f"python -m core analyze {run_id or 'RUN_ID'}"),
                " and reload this page."]),
    ])


def url_sync(path: str, text_input: Input | None = None, *, model_input: Input | None = None,
             model_b_input: Input | None = None) -> None:
    """Register a client-side callback that writes the page's model (and text, and a second model
    as ``model_b``) into the URL. ``model_input`` replaces the default model picker."""
    inputs = [model_input or Input(ids.MODEL_PICKER, "value")]
    if text_input is not None or model_b_input is not None:
        inputs.append(text_input or Input(ids.url_sync(path), "title"))
    if model_b_input is not None:
        inputs.append(model_b_input)
    # assets/url_state.js: a page without a text box keeps the URL's text, so the navbar carries it on
    clientside_callback(ClientsideFunction("attractorscope_url", "syncUrl"), Output(ids.url_sync(path), "children"),
                        *inputs)
