"""What the Explore page's callbacks do, as plain functions of their inputs (tested without a browser)."""
from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from dataclasses import dataclass

import plotly.graph_objects as go
from dash import html, no_update

from core.bundle import middle_example
from dashboard import figures, figures_counterfactual, ids
from dashboard.cache import ModelUnavailable, model_version
from dashboard.payload import empty_payload, trajectory_payload
from dashboard.runtime import bundles, cached_figure, model_figure, settings

__all__ = ["ModelView", "load_model_view", "trajectory_for", "next_text_for_model", "examples_of", "example_chips"]

log = logging.getLogger(__name__)
NO_MODEL = "No model is available yet: train one with `python -m core train --preset gru-cat3`."


@dataclass(frozen=True)
class ModelView:
    figure: go.Figure | dict        # the overlay: fixed and slow points, readout, the text's path (redrawn)
    cloud_figure: go.Figure | dict  # the visited-state cloud under it (drawn once per model)
    prediction_figure: go.Figure | dict
    info: dict          # run_id, class names, colours, examples: what the browser needs to render
    message: str        # empty when all is well
    examples: list[str]

    @property
    def default_text(self) -> str:
        return middle_example(self.examples)


def _unavailable(message: str) -> ModelView:
    empty = cached_figure("attractor:none", lambda: figures.empty_figure("No attractor to show: see the message above."))
    blank = cached_figure("attractor:blank", lambda: figures.empty_figure(""))
    return ModelView(empty, blank, _prediction_figure([], False), {"run_id": None, "examples": []}, message, [])


DEFAULT_VIEW = "2d"  # the path along the attractor reads best flat; 3D is one click away


def load_model_view(run_id: str | None, view: str = DEFAULT_VIEW) -> ModelView:
    view = "3d" if view == "3d" else "2d"  # the view is part of a cache key: only the two real values reach it
    if not run_id:
        return _unavailable(NO_MODEL)
    try:
        bundle = bundles().get(run_id)
    except ModelUnavailable as err:
        return _unavailable(str(err))
    names, ordered = bundle.class_names, bool(bundle.info.get("ordered"))

    made: list = []  # both figures come from one build, whichever the cache misses first

    def build(part: int):
        def one() -> go.Figure:
            if not made:
                cloud_fig, overlay = figures.explore_figures(bundle.analysis, names, ordered, three_d=view == "3d",
                                                             uirevision=f"{run_id}:{view}")
                overlay.update_layout(meta={**overlay.layout.meta, "run_id": run_id, "class_names": names})
                figures_counterfactual.add_slots(overlay, len(names), view == "3d")  # edited path, overlaid texts
                made.extend([cloud_fig, overlay])
            return made[part]
        return one

    cloud = model_figure("explore-cloud", bundle, build(0), view)
    figure = model_figure("explore-overlay", bundle, build(1), view)
    examples = bundle.examples
    info = {"run_id": run_id, "class_names": names, "colors": figures.class_colors(names, ordered),
            "examples": examples, "multilabel": bundle.config.model.multilabel}
    return ModelView(figure, cloud, _prediction_figure(names, ordered), info, "", examples)


def _prediction_figure(names: list[str], ordered: bool) -> dict:
    """The empty probabilities-over-tokens chart for these classes (it depends on nothing else)."""
    return cached_figure(f"prediction:{ordered}:{names}", lambda: figures.prediction_figure(names, ordered))


def trajectory_for(run_id: str | None, text) -> dict:
    if not run_id:
        return empty_payload("")  # the page's banner already says why there is no model
    if not isinstance(text, str) or not text.strip():
        return {**empty_payload("Type or paste some text above to see its trajectory."), "run_id": run_id}
    try:
        bundle = bundles().get(run_id)
    except ModelUnavailable:
        return {**empty_payload(""), "run_id": run_id}  # the banner says why
    limit = settings().max_text_chars  # the payload reads no further: neither does the key (a request may be 8 MB)
    key = (model_version(bundle), text[:limit], len(text) > limit)
    with _RECENT_LOCK:
        payload = _RECENT.get(key)
        if payload is not None:
            _RECENT.move_to_end(key)
    if payload is None:
        payload = {**trajectory_payload(bundle, text, settings().max_tokens, settings().max_text_chars),
                   "run_id": run_id}
        with _RECENT_LOCK:
            _RECENT[key] = payload
            while len(_RECENT) > RECENT_PAYLOADS:
                _RECENT.popitem(last=False)
    return payload


# Each keystroke asks twice for the same payload: the browser's preview (dashboard/api.py) and Dash's callback.
RECENT_PAYLOADS = 16
_RECENT: OrderedDict = OrderedDict()
_RECENT_LOCK = threading.Lock()


def next_text_for_model(text: str | None, previous_info: dict | None, new_examples: list[str]):
    """Keep the user's own text; swap in the new model's example if the box held the old model's example."""
    old_examples = examples_of(previous_info)
    text = text if isinstance(text, str) else ""  # a tampered request may send any JSON value
    if new_examples and (not text.strip() or text in old_examples):
        return middle_example(new_examples)
    return no_update


def examples_of(info) -> list[str]:
    """The examples listed in the browser's copy of the model info (a dict the server sent, unless tampered)."""
    examples = info.get("examples") if isinstance(info, dict) else None
    return [e for e in examples if isinstance(e, str)] if isinstance(examples, list) else []


def example_chips(examples: list[str]) -> list:
    chips = []
    for i, text in enumerate(examples):
        label = text if len(text) <= 42 else text[:40].rsplit(" ", 1)[0] + " …"
        chips.append(html.Button(label, id={"type": ids.EXAMPLE_CHIP, "index": i}, className="chip",
                                 title=text, n_clicks=0))
    return chips
