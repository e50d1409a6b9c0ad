"""Words (/words): which way each vocabulary word kicks the hidden state, next to its log-odds in the data."""
from __future__ import annotations

import bisect
import itertools
import re

import dash
import numpy as np
from dash import Input, Output, callback, dcc, html

from core.words import deflection_log_odds_correlation, favoured_class, readout_contrast
from dashboard import figures_live as fl, ids
from dashboard.cache import ModelUnavailable
from dashboard.guard import echo_safe
from dashboard.components.page_shell import (load_analyzed, page_frame, resolve_run_id, section,
                                             url_sync)
from dashboard.runtime import bundles

dash.register_page(__name__, path="/words", name="Words", title="attractorscope · Words", order=3)

PATH = "/words"
INTRO = ("Each dot is one vocabulary word. Starting from a fixed point on the attractor, the network reads that "
         "single word and its hidden state jumps: that jump is the word's deflection (Maheswaranathan et al. 2019). "
         "Projected on the readout, it says which class the word pushes the prediction toward; words are coloured by "
         "the class they are most frequent in, in the training data. If the network has learned the task, words that "
         "favour a class in the data deflect toward that class, so the colours separate and the second plot's "
         "points line up along a diagonal.")
MAX_HITS = 40
MAX_QUERY_CHARS, MAX_TERMS = 1000, 40  # the server reads no more of a search than this (a tampered one may be MBs)
MIN_LOG_ODDS = 0.3  # words below this log-odds for every class are drawn grey (neutral)


def layout(model=None, **_query):
    run_id = resolve_run_id(model)
    query = _default_query(run_id)
    search = html.Div(className="search-wrap", children=[
        html.Label("Find words", htmlFor=ids.WORDS_SEARCH, className="field-label"),
        dcc.Input(id=ids.WORDS_SEARCH, type="search", value=query, debounce=0.4, className="page-search",
                  placeholder="e.g. great, awful, bor*  (commas or spaces; * for a prefix)")])
    return page_frame(PATH, "What single words do", INTRO, run_id, _body(run_id, query), controls=[search], requested=model)


url_sync(PATH)


@callback(Output(ids.page_body(PATH), "children"), Input(ids.MODEL_PICKER, "value"),
          Input(ids.WORDS_SEARCH, "value"), prevent_initial_call=True)
def show_words(run_id, query):
    return _body(run_id, query)


def search_terms(query) -> list[str]:
    """The terms of a search (separated by commas or spaces): the first MAX_TERMS in its first MAX_QUERY_CHARS."""
    if not isinstance(query, str):
        return []
    return [t for t in re.split(r"[,\s]+", query[:MAX_QUERY_CHARS].strip().lower()) if t][:MAX_TERMS]


def matching_words(words: list[str], query) -> set[str]:
    """Words named in the query (``search_terms``); 'bor*' matches every word starting 'bor'. One set lookup
    per exact term and one binary search per prefix: linear in the input, whatever it holds."""
    terms = search_terms(query)
    exact = set(terms) & set(words)
    ordered = sorted(words)
    hits = set(exact)
    for prefix in {t[:-1] for t in terms if t.endswith("*") and len(t) > 1}:
        start = bisect.bisect_left(ordered, prefix)
        for word in itertools.islice(ordered, start, start + MAX_HITS):
            if not word.startswith(prefix):
                break
            hits.add(word)
    return set(sorted(hits)[:MAX_HITS])


def unmatched_terms(words: list[str], query, vocab=None) -> tuple[list[str], list[str]]:
    """The search terms that match no analysed word: (in the vocabulary but not among the analysed words,
    not in the vocabulary at all). Without ``vocab`` every unmatched term counts as not in the vocabulary."""
    known, ordered = set(words), sorted(words)
    rare, unknown = [], []
    for term in dict.fromkeys(search_terms(query)):
        if term.endswith("*") and len(term) > 1:
            start = bisect.bisect_left(ordered, term[:-1])
            if start < len(ordered) and ordered[start].startswith(term[:-1]):
                continue
        elif term in known:
            continue
        (rare if vocab is not None and term.rstrip("*") in vocab else unknown).append(term)
    return rare, unknown


def _default_query(run_id) -> str:
    """The most telling word of each class, so the plots open with a few labels (the user can clear them)."""
    try:
        bundle = bundles().get(run_id)
    except ModelUnavailable:
        return ""
    view = bundle.analysis.words
    if view is None:
        return ""
    best = np.argmax(view.log_odds_wxk, axis=0)
    return ", ".join(dict.fromkeys(bundle.vocab.itos[int(view.ids_w[i])] for i in best))


def _body(run_id, query):
    bundle, problem = load_analyzed(run_id, ("words",), "Word deflections")
    if problem is not None:
        return problem
    view = bundle.analysis.words
    return word_sections(view, [bundle.vocab.itos[int(i)] for i in view.ids_w], bundle.class_names,
                         bool(bundle.info.get("ordered")), query, vocab=set(bundle.vocab.itos))


def word_sections(view, words: list[str], names: list[str], ordered: bool, query, vocab=None) -> list:
    """The page body for an analysis' words view (``core.analysis_view.WordsView``) and the words it covers."""
    class_w = favoured_class(view.log_odds_wxk, MIN_LOG_ODDS)
    deflection, log_odds = readout_contrast(view.readout_proj_wxk, view.log_odds_wxk)
    r_c = [deflection_log_odds_correlation(deflection[:, c], log_odds[:, c]) for c in range(deflection.shape[1])]
    hits = matching_words(words, query)
    slow = view.slow_proj_wxm
    if len(names) == 2:
        x, x_title = deflection[:, 0], f"deflection along readout: {names[1]} − {names[0]}"
        y = slow[:, 0] if slow.shape[1] else np.zeros(len(words))
        y_title, note = "along the slowest mode", (
            f"x: how far one step with this word moves the state toward '{names[1]}' (right) or '{names[0]}' (left) "
            "on the readout; y: its component along the slowest mode (the line attractor).")
    else:
        x = slow[:, 0] if slow.shape[1] > 0 else np.zeros(len(words))
        y = slow[:, 1] if slow.shape[1] > 1 else np.zeros(len(words))
        x_title, y_title = "slow mode 1", "slow mode 2"
        note = ("Each word's deflection along the two slowest modes of the dynamics at the fixed point: the plane "
                "in which the network integrates evidence. Words of one class should point the same way.")
    status = (f"{len(hits)} word{'s' if len(hits) != 1 else ''} highlighted." if hits
              else "No word matches the search." if isinstance(query, str) and query.strip() else "")
    if len(search_terms(query)) == MAX_TERMS or isinstance(query, str) and len(query) > MAX_QUERY_CHARS:
        status += f" Only the first {MAX_TERMS} words of a search (and {MAX_QUERY_CHARS:,} characters) are read."
    missing = _missing_notice(*unmatched_terms(words, query, vocab), len(words))
    r_text = ", ".join(f"{n} {r:.2f}" for n, r in zip(names if len(r_c) > 1 else names[-1:], r_c))
    return [
        *([missing] if missing else []),
        html.Div(className="two-col", children=[
            section("Deflections of every word", dcc.Graph(figure=fl.word_scatter(
                words, x, y, class_w, names, x_title, y_title, hits, ordered)), note=f"{note} {status}"),
            section("Deflection vs log-odds in the training data", dcc.Graph(figure=fl.log_odds_scatter(
                words, deflection, log_odds, class_w, names, r_c, hits, ordered)),
                note=f"One point per word{'' if len(names) == 2 else ' and class'}: x, how much more often it "
                     f"occurs in that class than in the others (log-odds); y, how far it pushes the state toward "
                     f"that class. Pearson r: {r_text} (1 = the network's kicks follow the data exactly)."),
        ]),
        evidence_table(words, deflection, log_odds, names, hits),
        html.P(f"{len(words):,} most frequent words; grey ones occur about equally often in every class "
               "(log-odds below 0.3 for every class).", className="note"),
    ]


def _missing_notice(rare: list[str], unknown: list[str], n_words: int):
    """Say which searched words are not drawn, and why (a search is never silently ignored)."""
    # echoed back: lone surrogates (valid in a Python str, not in JSON) become U+FFFD
    quote = lambda terms: ", ".join(  # noqa: E731
        f"“{echo_safe(t[:40])}”" for t in terms[:10]) + (" …" if len(terms) > 10 else "")
    parts = []
    if unknown:
        parts.append(f"Not in this model's vocabulary: {quote(unknown)}. The network reads such words as <unk>, "
                     "so they have no deflection of their own.")
    if rare:
        parts.append(f"In the vocabulary but not among the {n_words:,} most frequent words analysed here: "
                     f"{quote(rare)}.")
    return html.Div(" ".join(parts), className="notice words-missing", role="status") if parts else None


MAX_EVIDENCE_ROWS = 12


def evidence_table(words, deflection_wxc, log_odds_wxc, names, hits) -> html.Section:
    """For the searched words: the kick toward a class beside the word's log-odds for it in the training data,
    flagging the words whose kick points against the data (a surprising sign) and saying why it can; and the
    most surprising words of the whole vocabulary, searched or not."""
    index = {w: i for i, w in enumerate(words)}
    binary = deflection_wxc.shape[1] == 1
    rows = []
    for word in sorted(hits)[:MAX_EVIDENCE_ROWS]:
        i = index[word]
        c = 0 if binary else int(np.argmax(np.abs(log_odds_wxc[i])))
        kick, odds = float(deflection_wxc[i, c]), float(log_odds_wxc[i, c])
        rows.append(html.Tr([html.Td(html.B(word)), *([] if binary else [html.Td(names[c])]),
                             html.Td(f"{kick:+.2f}"), html.Td(f"{odds:+.2f}"), html.Td(_verdict(kick, odds))],
                            className="against" if _against(kick, odds) else None))
    target = f"“{names[-1]}”" if binary else "the class"
    head = html.Tr([html.Th(h) for h in ("word", *([] if binary else ["class"]), f"kick toward {target}",
                                          f"log-odds for {target} in the training data", "")])
    note = (f"Kick: how far one step with the word, read alone from the fixed point, moves the state toward "
            f"{target} along the readout (negative: away from it); log-odds: how much more often the word occurs "
            f"in {target}'s training texts (negative: less often). The network learned from whole texts, counts "
            "and context (“not bad”, “bad” in a review that ends well), not from single words, so a word's kick "
            "can point against its log-odds: a surprising sign is what the model learned, not a display error.")
    table = html.Div(html.Table([html.Thead(head), html.Tbody(rows)], className="models-table words-evidence"),
                     style={"overflowX": "auto"}) if rows else ""
    return section("Kick vs training data", table, html.P(surprising_note(words, deflection_wxc, log_odds_wxc, names),
                                                          className="note words-surprising"), note=note)


def _against(kick: float, odds: float) -> bool:
    return abs(odds) >= MIN_LOG_ODDS and kick * odds < 0


def _verdict(kick: float, odds: float) -> str:
    return "⚠ against the data" if _against(kick, odds) else "agrees" if abs(odds) >= MIN_LOG_ODDS \
        else "neutral in the data"


def surprising_note(words, deflection_wxc, log_odds_wxc, names, n: int = 6) -> str:
    """The words whose kick points most clearly against their log-odds (largest |log-odds| first)."""
    kick, odds = np.asarray(deflection_wxc), np.asarray(log_odds_wxc)
    against = (np.abs(odds) >= MIN_LOG_ODDS) & (kick * odds < 0)
    count = int(against.any(axis=1).sum())
    if not count:
        return f"Every one of these {len(words):,} words with a clear log-odds kicks the way the data says."
    w_idx, c_idx = np.nonzero(against)
    order = np.argsort(-np.abs(odds[w_idx, c_idx]), kind="stable")
    seen, shown = set(), []
    for j in order:
        w, c = int(w_idx[j]), int(c_idx[j])
        if w not in seen:
            seen.add(w)
            cls = "" if kick.shape[1] == 1 else f" for {names[c]}"
            shown.append(f"“{words[w]}”{cls} (kick {kick[w, c]:+.2f}, log-odds {odds[w, c]:+.2f})")
        if len(shown) == n:
            break
    return (f"{count:,} of the {len(words):,} words kick against their log-odds; the clearest: {', '.join(shown)}. "
            "Search a word to see its numbers above.")
