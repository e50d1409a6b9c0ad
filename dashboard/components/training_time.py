"""Explore's "watch the attractor form" panel: a training-time slider that replays the text at each checkpoint.

Checkpoint k's visited states, its fixed points and the text's path under its weights are drawn in the
final model's PCA (``core.analysis_checkpoints``), so the attractor is seen forming in one fixed space.
Bundles without checkpoints (trained before they existed) show a one-line note and no slider.
"""
from __future__ import annotations

from dataclasses import dataclass

import dash
from dash import Input, Output, callback, clientside_callback, dcc, html

from core.analysis_file import AnalysisError
from core.checkpoints import CheckpointError
from dashboard import figures, ids
from dashboard.cache import ModelUnavailable
from dashboard.figures_training import checkpoint_figure, checkpoint_label
from dashboard.runtime import bundles, settings

__all__ = ["TrainingState", "training_state", "training_panel", "NO_CHECKPOINTS"]

NO_CHECKPOINTS = ("This model keeps no training checkpoints (it was trained before they existed): "
                  "retrain it to watch its attractor form.")
NOT_ANALYZED = "This model's checkpoints have not been analyzed yet: run `python -m core analyze {run_id}`."


@dataclass(frozen=True)
class TrainingState:
    figure: dict | None   # None: nothing to draw (the note says why)
    note: str
    n: int                # number of checkpoints (0: none)
    value: int            # the checkpoint shown

    @property
    def marks(self) -> dict:
        return {k: str(k + 1) for k in range(self.n)}


def _fidelity(view, k: int) -> str:
    if view.agreement_k is None:
        return ""
    return (f" Its embedding is stored compressed: on validation texts it predicts what the exact checkpoint "
            f"predicts {float(view.agreement_k[k]):.1%} of the time.")


def training_state(run_id, text, k) -> TrainingState:
    """What the panel shows for a model, a text and a slider position (clamped to the checkpoints)."""
    try:
        bundle = bundles().get(run_id) if run_id else None
    except ModelUnavailable:
        bundle = None
    if bundle is None or not bundle.has_checkpoints:
        return TrainingState(None, NO_CHECKPOINTS if bundle is not None else "", 0, 0)
    try:
        n = len(bundle.checkpoints)
        view = bundle.analysis.training if bundle.has_analysis else None
    except (CheckpointError, AnalysisError) as err:
        return TrainingState(None, str(err), 0, 0)
    if view is None or len(view.steps_k) != n:
        return TrainingState(None, NOT_ANALYZED.format(run_id=run_id), 0, 0)
    k = k if isinstance(k, int) and not isinstance(k, bool) and 0 <= k < n else n - 1
    text = text[: settings().max_text_chars] if isinstance(text, str) else ""
    traj = bundle.at_checkpoint(k).trajectory(text, max_tokens=settings().max_tokens) if text.strip() else None
    names = bundle.class_names
    fig = checkpoint_figure(view, k, traj.xyz_tx3 if traj else None, traj.tokens if traj else [], names,
                            figures.class_colors(names, bool(bundle.info.get("ordered"))),
                            bundle.analysis.pca.explained_variance_ratio_c_)
    said = ""
    if traj is not None and traj.tokens:
        p = traj.probs_txk[-1]
        said = f" Under these weights the text ends at {names[int(p.argmax())]} ({float(p.max()):.0%})."
    note = (f"Checkpoint {k + 1} of {n}: {checkpoint_label(view, k)}.{said} States, fixed points and path are "
            f"drawn in the final model's PCA.{_fidelity(view, k)}")
    return TrainingState(fig.to_plotly_json(), note, n, k)


def training_panel(run_id, text) -> html.Section:
    state = training_state(run_id, text, None)
    return html.Section(id=ids.TRAINING_PANEL, className="card training-panel", children=[
        dcc.Store(id=ids.TRAINING_TEXT, data=text),
        html.H3("Watch the attractor form", className="section-title"),
        html.Div(id=ids.TRAINING_CONTROLS, hidden=state.figure is None, children=[
            html.Label("Training time (checkpoint)", htmlFor=ids.TRAINING_SLIDER, className="field-label"),
            dcc.Slider(id=ids.TRAINING_SLIDER, min=0, max=max(state.n - 1, 0), step=1, value=state.value,
                       marks=state.marks, included=False, allow_direct_input=False),
            dcc.Graph(id=ids.TRAINING_GRAPH, figure=state.figure or figures.empty_figure(""),
                      config={"displayModeBar": False}),
        ]),
        html.P(state.note, id=ids.TRAINING_NOTE, className="note"),
    ])


@callback(Output(ids.TRAINING_GRAPH, "figure"), Output(ids.TRAINING_NOTE, "children"),
          Output(ids.TRAINING_CONTROLS, "hidden"), Output(ids.TRAINING_SLIDER, "max"),
          Output(ids.TRAINING_SLIDER, "marks"), Output(ids.TRAINING_SLIDER, "value"),
          Input(ids.MODEL_PICKER, "value"), Input(ids.TRAINING_TEXT, "data"), Input(ids.TRAINING_SLIDER, "value"),
          prevent_initial_call=True)
def show_checkpoint(run_id, text, k):
    # a new model starts at its final checkpoint; otherwise the slider keeps its place
    state = training_state(run_id, text, None if dash.ctx.triggered_id == ids.MODEL_PICKER else k)
    figure = state.figure if state.figure is not None else dash.no_update
    return figure, state.note, state.figure is None, max(state.n - 1, 0), state.marks, state.value


# The typed text reaches the panel only while the panel is on screen (assets/explore.js; a text typed while it is
# scrolled away is passed on when it comes into view): typing above the fold never redraws it.
clientside_callback(dash.ClientsideFunction("attractorscope", "trainingText"), Output(ids.TRAINING_TEXT, "data"),
                    Input(ids.DEBOUNCED_TEXT, "data"), prevent_initial_call=True)
