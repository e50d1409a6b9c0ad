"""Decomposition (/decomposition): how much of the hidden state is "when" (μ_t) and how much is "which word" (χ(w))."""
from __future__ import annotations

import dash
import numpy as np
from dash import Input, Output, callback, dcc, html

from core.words import favoured_class_of, frequent_words
from dashboard import figures_analysis as fa, ids
from dashboard.components.page_shell import (load_analyzed, page_frame, resolve_run_id, section,
                                             url_sync)
from dashboard.runtime import model_memo

dash.register_page(__name__, path="/decomposition", name="Decomposition", title="attractorscope · Decomposition",
                   order=5)

PATH = "/decomposition"
N_WORDS = 15
INFORMATIVE = 0.5  # log-odds a word needs for some class to count as informative (1.65x more frequent there)
INTRO = ("Aitken et al. (2021) split every hidden state into three parts: h_t = μ_t + χ(w) + residual. μ_t is the "
         "average state after t tokens, whatever they were (the part that only tracks time); χ(w) is the average "
         "extra offset when the word just read is w (the part driven by the input); the residual is everything else, "
         "including the evidence accumulated from earlier words. The bars say how much of the states' variance each "
         "part explains; the 3D view draws μ_t and the offsets χ(w) of the most frequent words.")
PICK_OPTIONS = [{"label": "frequent words that favour a class", "value": "informative"},
                {"label": "most frequent words", "value": "frequent"}]


def layout(model=None, **_query):
    run_id = resolve_run_id(model)
    pick = html.Div(className="sort-wrap", children=[html.Label("Offsets of"), dcc.RadioItems(
        id=ids.DECOMPOSITION_PICK, options=PICK_OPTIONS, value="informative", inline=True)])
    return page_frame(PATH, "Time vs input: decomposing the states", INTRO, run_id, _body(run_id, "informative"),
                      controls=[pick], requested=model)


url_sync(PATH)


@callback(Output(ids.page_body(PATH), "children"), Input(ids.MODEL_PICKER, "value"),
          Input(ids.DECOMPOSITION_PICK, "value"), prevent_initial_call=True)
def show_model(run_id, pick):
    return _body(run_id, pick)


def _body(run_id, pick):
    pick = pick if pick in ("informative", "frequent") else "informative"  # part of a memo key: offered values only
    bundle, problem = load_analyzed(run_id, ("decomposition",), "The temporal / input decomposition")
    if problem is not None:
        return problem
    return model_memo().get("decomposition", bundle, (pick,), lambda: decomposition_sections(
        bundle.analysis, bundle.vocab.itos, bundle.class_names, bool(bundle.info.get("ordered")), pick))


def decomposition_sections(a, itos, names: list[str], ordered: bool, pick) -> list:
    """The page body for an analysis and the vocabulary's id-to-word list."""
    view, word_view = a.decomposition, a.words
    ids_w, count_w = view.word_ids_w, view.word_count_w
    has_odds = word_view is not None
    class_w = favoured_class_of(ids_w, word_view.ids_w, word_view.log_odds_wxk, INFORMATIVE) if has_odds \
        else np.full(len(ids_w), -1)
    informative = ids_w[class_w >= 0] if pick == "informative" and has_odds else None
    if informative is not None and len(informative) < 3:
        informative = None  # too few class words (an untrained model): fall back to frequency alone
    chosen = frequent_words(ids_w, count_w, N_WORDS, only_ids=informative)
    words = [f"{itos[int(ids_w[i])]}" for i in chosen]
    mu, fractions = view.mu_xyz_tx3, view.fractions_3
    path = fa.decomposition_path_figure(mu, view.chi_xyz_wx3[chosen], words, np.zeros(3), class_w[chosen],
                                        names if has_odds else (), ordered, a.pca.explained_variance_ratio_c_)
    listed = ", ".join(f"{w} ({int(count_w[i]):,}×)" for w, i in zip(words, chosen))
    return [html.Div(className="decomp-grid", children=[
        section("Share of the variance", dcc.Graph(figure=fa.decomposition_bars(fractions)),
                note=f"Temporal {fractions[0]:.1%}: states drift with position alone. Input-driven {fractions[1]:.1%}: "
                     f"the word just read. Residual {fractions[2]:.1%}: what depends on the earlier words, which is "
                     "where an integrating network keeps its evidence. The three add up to 100%."),
        section("Mean trajectory μ_t and word offsets χ(w)", dcc.Graph(figure=path),
                note=f"Black: μ_t for t = 1 … {len(mu)} in the stored PCA (later steps average fewer, longer texts). "
                     f"Coloured spokes: χ(w) drawn from the centre of the visited states. Words: {listed}. "
                     "Drag to rotate."),
    ])]
