"""Linearization (/linearization): one text's trajectory next to the linear system's around a fixed point."""
from __future__ import annotations

import dash
import numpy as np
from dash import Input, Output, callback, dcc, html

from core.linearize import PAPER_ERROR, linearize_text
from dashboard import figures_live as fl, ids
from dashboard.components.page_shell import (default_example, load_analyzed, metric, page_frame, resolve_run_id,
                                             section, unavailable, url_sync)

dash.register_page(__name__, path="/linearization", name="Linearization", title="attractorscope · Linearization",
                   order=4)

PATH = "/linearization"
MAX_TOKENS = 400
MAX_CHARS = 20_000  # what the text box accepts; a longer text from a URL is cut to it
INTRO = ("Near a fixed point h*, one step of the network is almost a linear map: h_next ≈ h* + J (h − h*) + B x, "
         "with J and B its Jacobians with respect to the state and the word. Maheswaranathan et al. (2019) found that "
         "this linear model misses the true step by only about 10%, so the network's behaviour can be read off J and "
         "B. With our solver's few, exact fixed points the nearest one is often far from the trajectory, so the "
         "errors measured here are much larger than the paper's (see the held-out median below); the paper "
         "linearized around a dense set of slow points along the attractor. Below, the text you type is run through the real network (black) and through the linear system around "
         "one fixed point (orange); the bars show, token by token, how wrong a single linear step is when it starts "
         f"from the true state. Texts are cut at {MAX_TOKENS} tokens on this page.")


def layout(model=None, text=None, **_query):
    run_id = resolve_run_id(model)
    text = (text if isinstance(text, str) else default_example(run_id))[:MAX_CHARS]
    box = html.Div(className="text-wrap", children=[
        html.Label("Text", htmlFor=ids.LINEARIZATION_TEXT, className="field-label"),
        dcc.Textarea(id=ids.LINEARIZATION_TEXT, value=text, className="page-text", spellCheck=False,
                     maxLength=MAX_CHARS, placeholder="Type or paste a text")])
    return page_frame(PATH, "How linear are the dynamics?", INTRO, run_id, _body(run_id, text), text=text,
                      controls=[box], requested=model)


url_sync(PATH, Input(ids.LINEARIZATION_TEXT, "value"))


@callback(Output(ids.page_body(PATH), "children"), Input(ids.MODEL_PICKER, "value"),
          Input(ids.LINEARIZATION_TEXT, "value"), prevent_initial_call=True)
def show_text(run_id, text):
    return _body(run_id, text)


def _body(run_id, text):
    bundle, problem = load_analyzed(run_id, ("fixed_points", "linearization", "attractor"),
                                    "Fixed points and linearization error")
    if problem is not None:
        return problem
    a = bundle.analysis
    if not a.fixed_points.n_points:
        return unavailable("The analysis found no fixed point to linearize around for this model.")
    if not isinstance(text, str) or not text.strip():
        return unavailable("Type or paste some text above to compare the network with its linearization.")
    traj = bundle.trajectory(text[:MAX_CHARS], max_tokens=MAX_TOKENS, project=False)
    if not traj.tokens:
        return unavailable("This text has no words the tokenizer recognises.")
    result = linearize_text(bundle, traj.ids, a.fixed_points)
    return linearization_sections(a, traj.tokens, result, traj.truncated)


def linearization_sections(a, tokens, result, truncated: bool) -> list:
    """The page body from an analysis and a core.linearize.LinearizedText."""
    full_tx3, lin_tx3 = a.project(result.full_txn), a.project(result.lin_txn)  # NaN rows stay NaN
    fp_xyz_px3, lin = a.attractor.fp_xyz_px3, a.linearization
    anchor_3 = fp_xyz_px3[result.anchor_index]
    err, median = result.one_step_err_t, lin.err_median
    share = float(np.mean(err <= PAPER_ERROR)) if len(err) else float("nan")
    cut = f" (cut at {MAX_TOKENS} tokens)" if truncated else ""
    diverged = " The linear rollout diverged (its states grew without bound) and stops where it did." \
        if np.isnan(result.lin_txn).any() else ""
    return [
        section("Full network vs linear system", dcc.Graph(figure=fl.linearization_figure(
            full_tx3, lin_tx3, tokens, anchor_3, fp_xyz_px3, a.pca.explained_variance_ratio_c_)),
            note=f"{len(tokens)} tokens{cut}. Both start from the zero state and read the same words; the linear "
                 f"system is expanded around fixed point #{result.anchor_index + 1} (blue diamond), the converged "
                 f"fixed point nearest the mean of this trajectory. Left: PC1–PC2 of the stored PCA. Right: PC1 "
                 f"after each token.{diverged}"),
        section("Error of one linearized step", html.Div(className="metric-row", children=[
            metric(f"{np.median(err):.1%}" if len(err) else "–", "median one-step error on this text"),
            metric(f"{share:.0%}" if np.isfinite(share) else "–", f"tokens within {PAPER_ERROR:.0%}"),
            metric(f"{median:.1%}" if np.isfinite(median) else "–", "median on held-out texts (stored)"),
            *([metric(f"{lin.state_err_median:.1%}", "held-out median relative to the next state's "
                       "size |F(h)| instead of the step")] if lin.state_err_median is not None else []),
        ]), dcc.Graph(figure=fl.one_step_error_figure(err, tokens, PAPER_ERROR, median)),
            note="Each bar: start from the network's true state before the token, take one step of the linear "
                 "model around the fixed point nearest that state, and compare with the network's real step: "
                 "|linear − true| / |true step|. Orange bars miss by more than the paper's ~10%."),
    ]

