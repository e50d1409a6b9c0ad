"""Linearization (/linearization): one text's trajectory next to the linear system's around a fixed point."""
from __future__ import annotations

import dash
import numpy as np
from dash import Input, Output, callback, dcc, html

from core.linearize import PAPER_ERROR, linearize_text
from dashboard import figures_analysis as fa, figures_live as fl, ids
from dashboard.runtime import model_figure
from dashboard.components.page_shell import (default_example, load_analyzed, metric, not_computed, page_frame,
                                             resolve_run_id, section, unavailable, url_sync)

dash.register_page(__name__, path="/linearization", name="Linearization", title="attractorscope · Linearization",
                   order=4)

PATH = "/linearization"
MAX_TOKENS = 400
MAX_CHARS = 20_000  # what the text box accepts; a longer text from a URL is cut to it
INTRO = ("Near a slow point h* (a state where the network, reading nothing, barely moves: see Fixed points) one "
         "step of the network is almost a linear map; Maheswaranathan et al. (2019) found that such a linear model "
         "misses the true step by only about 10%, so the network can be read off its Jacobians. This page measures "
         "that claim two ways, for every token, around the slow point nearest the state h before it. "
         "D1, the paper's form, linearizes the state and the word around the zero input: "
         "F(h, x) ≈ F(h*, 0) + J_h·(h − h*) + J_x·x, with J_h = ∂F/∂h and J_x = ∂F/∂x at (h*, 0). "
         "D4 linearizes only the state and keeps the word's exact effect at h*: F(h, x) ≈ F(h*, x) + "
         "J_h(h*, x)·(h − h*). Each error is |linear prediction − F(h, x)| / |F(h, x) − h|, the miss as a share of "
         "the true step (the kick); D1 − D4 is what linearizing the word costs. "
         f"Texts are cut at {MAX_TOKENS} tokens on this page.")


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
    slow = a.slow_points if a.slow_linearization is not None else None
    result = linearize_text(bundle, traj.ids, a.fixed_points, slow_points=slow)
    return linearization_sections(bundle, traj.tokens, result, traj.truncated)


def linearization_sections(bundle, tokens, result, truncated: bool) -> list:
    """The page body from an analyzed bundle and a core.linearize.LinearizedText."""
    a = bundle.analysis
    full_tx3, lin_tx3 = a.project(result.full_txn), a.project(result.lin_txn)  # NaN rows stay NaN
    fp_xyz_px3 = a.attractor.fp_xyz_px3
    anchor_3 = fp_xyz_px3[result.anchor_index]
    cut = f" (cut at {MAX_TOKENS} tokens)" if truncated else ""
    diverged = " The linear rollout diverged (its states grew without bound) and stops where it did." \
        if np.isnan(result.lin_txn).any() else ""
    rollout = section("Full network vs linear system", dcc.Graph(figure=fl.linearization_figure(
        full_tx3, lin_tx3, tokens, anchor_3, fp_xyz_px3, a.pca.explained_variance_ratio_c_)),
        note=f"{len(tokens)} tokens{cut}. Both start from the zero state and read the same words; the linear "
             f"system (the paper's form, D1) is expanded around fixed point #{result.anchor_index + 1} (blue "
             f"diamond), the converged fixed point nearest the mean of this trajectory. Left: PC1–PC2 of the "
             f"stored PCA. Right: PC1 after each token.{diverged}")
    if result.d1_t is None:
        return [rollout, _fixed_point_errors(a, tokens, result), not_computed(
            "Slow points and the D1 / D4 linearization errors around them", bundle.run_id)]
    return [rollout, _slow_point_errors(a, tokens, result), _kick_section(a.slow_linearization, bundle)]


def _fixed_point_errors(a, tokens, result):
    """One-step errors around the nearest exact fixed point (analyses without slow points)."""
    err, median = result.one_step_err_t, a.linearization.err_median
    share = float(np.mean(err <= PAPER_ERROR)) if len(err) else float("nan")
    return section("Error of one linearized step", html.Div(className="metric-row", children=[
        metric(f"{np.median(err):.1%}" if len(err) else "–", "median one-step error on this text"),
        metric(f"{share:.0%}" if np.isfinite(share) else "–", f"tokens within {PAPER_ERROR:.0%}"),
        metric(f"{median:.1%}" if np.isfinite(median) else "–", "median on held-out texts (stored)"),
    ]), dcc.Graph(figure=fl.one_step_error_figure(err, tokens, PAPER_ERROR, median)),
        note="Each bar: D1 around the exact fixed point nearest the state before the token (this analysis has "
             "no slow points). Orange bars miss by more than the paper's ~10%.")


def _slow_point_errors(a, tokens, result):
    """D1 and D4 around the nearest slow point, for this text, against the held-out medians."""
    lin, exact = a.slow_linearization, a.linearization.err_median
    return section("Error of one linearized step", html.Div(className="metric-row", children=[
        metric(f"{np.median(result.d1_t):.1%}", "D1 median on this text"),
        metric(f"{np.median(result.d4_t):.1%}", "D4 median on this text"),
        metric(f"{lin.d1_median:.1%}", f"D1 median on held-out texts ({lin.n_tokens:,} tokens)"),
        metric(f"{lin.d4_median:.1%}", "D4 median on held-out texts"),
        metric(f"{exact:.1%}" if np.isfinite(exact) else "–", "D1 around the few exact fixed points instead"),
    ]), dcc.Graph(figure=fl.d1_d4_figure(result.d1_t, result.d4_t, tokens, PAPER_ERROR, lin.d1_median,
                                         lin.d4_median)),
        note="Each pair of bars: start from the network's true state before the token, take one step of each "
             "linear model around the slow point nearest that state, and compare with the network's real step. "
             "Where D4 is small but D1 is not, the state is linear enough and the word is the nonlinear part.")


def _kick_section(lin, bundle):
    # the same for every text: built once per model version, not on every edit (~70 ms for 5,000 points)
    figure = model_figure("error-vs-kick", bundle, lambda: fa.error_vs_kick_figure(
        lin.kick_sample_s, lin.d1_sample_s, lin.d4_sample_s, lin.bin_kick_b, lin.bin_d1_b, lin.bin_d4_b, PAPER_ERROR))
    return section("Where the linear picture holds: error against the size of the kick", dcc.Graph(figure=figure),
        note=f"Held-out tokens (a sample of {len(lin.kick_sample_s):,}; lines: medians in ten bins of equal "
             f"counts). The median kick |F(h, x) − h| is {lin.kick_median:.2f} against a median state norm of "
             f"{lin.state_norm_median:.2f}, and the nearest slow point is {lin.distance_median:.2f} away: small "
             f"kicks near the line are where one linear model per slow point describes the network.")
