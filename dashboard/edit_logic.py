"""What Explore's counterfactual-edit and overlay callbacks do, as plain functions of their inputs (tested without
a browser). Numerics come from ``core.counterfactual``; figures from ``dashboard.figures_counterfactual``."""
from __future__ import annotations

from dataclasses import dataclass
from html import escape

import numpy as np

from core.counterfactual import NEGATION, edit_text, edited_tokens, swap_suggestions
from core.text import UNK_ID, tokenize
from dashboard import figures_counterfactual as figs
from dashboard.cache import ModelUnavailable
from dashboard.guard import echo_safe
from dashboard.runtime import bundles, settings

__all__ = ["EditMenu", "EditResult", "edit_menu", "apply_edit", "overlay_texts", "change_overlays",
           "overlay_items", "MAX_OVERLAY_CHARS", "MAX_WORD_CHARS"]

MAX_OVERLAY_CHARS = 300   # an overlay is a short probe ("not not good"), not a review
MAX_WORD_CHARS = 60
VERBS = {"swap": "Swapping", "drop": "Dropping", "insert": "Inserting"}


def _bundle(run_id):
    if not isinstance(run_id, str) or not run_id:
        return None
    try:
        return bundles().get(run_id)
    except ModelUnavailable:
        return None


def _tokens(bundle, text) -> list[str]:
    text = text if isinstance(text, str) else ""
    return bundle.encode(text[: settings().max_text_chars], settings().max_tokens)[0]


def _valid_index(index, tokens) -> bool:
    return isinstance(index, int) and not isinstance(index, bool) and 0 <= index < len(tokens)


@dataclass(frozen=True)
class EditMenu:
    label: str
    swap_options: list[dict]
    hidden: bool


def edit_menu(run_id, text, index) -> EditMenu:
    """The menu for the clicked token: its word and the swaps the Words analysis suggests (words whose kick
    points the other way), or a hidden menu when the token does not exist (stale click, tampered request)."""
    bundle = _bundle(run_id)
    tokens = _tokens(bundle, text) if bundle is not None else []
    if not _valid_index(index, tokens):
        return EditMenu("", [], True)
    word = tokens[index]
    suggestions = []
    words = bundle.analysis.words if bundle.has_analysis else None
    if words is not None:
        traj = bundle.trajectory(" ".join(tokens[: index + 1]), project=False)
        toward = int(traj.toward_t[index]) if len(traj.toward_t) > index else 0
        word_id = bundle.vocab.encode([word])[0]
        table = dict(zip(np.asarray(words.ids_w).tolist(), range(len(words.ids_w))))
        if word_id in table:  # the word's own deflection says which class it favours
            proj = np.asarray(words.readout_proj_wxk[table[word_id]], np.float64)
            toward = int(np.argmax(proj - proj.mean()))
        ids = swap_suggestions(word_id, toward, words.ids_w, words.readout_proj_wxk, words.log_odds_wxk)
        suggestions = bundle.vocab.decode(ids.tolist())
    return EditMenu(f"Edit “{word}” (token {index + 1}):", [{"label": w, "value": w} for w in suggestions], False)


@dataclass(frozen=True)
class EditResult:
    summary: str
    figure: object | None                 # the difference chart, None when nothing was computed
    edited: dict | None                   # xyz_tx3 and hover of the edited path, for figures_counterfactual
    n_classes: int = 0
    n_tokens: int = 0                     # the original text's, so the player can show the whole of it


def apply_edit(run_id, text, index, op, word=None) -> EditResult:
    bundle = _bundle(run_id)
    if bundle is None:
        return EditResult("No model to edit with.", None, None)
    tokens = _tokens(bundle, text)
    if not _valid_index(index, tokens) or op not in VERBS:
        return EditResult("Click a word of the text first, then choose an edit.", None, None)
    if op == "insert":
        word = NEGATION
    if op == "drop":
        word = None  # whatever the swap box holds plays no part (and must not be echoed: it is raw input)
    else:
        words = tokenize(word) if isinstance(word, str) and len(word) <= MAX_WORD_CHARS else []
        if len(words) != 1:
            return EditResult("Choose a single word to swap in.", None, None)
        word = words[0]  # as the tokenizer reads it: lower case, no control or lone surrogate characters
    cf = edit_text(bundle, tokens, op, index, word)
    names = bundle.class_names
    new_tokens = edited_tokens(tokens, op, index, word)
    edited = {"xyz_tx3": bundle.analysis.project(cf.edited_states) if bundle.has_analysis else np.zeros((0, 3)),
              "hover": [f"edited #{i + 1} <b>{escape(t)}</b>" for i, t in enumerate(new_tokens)]}
    figure = figs.difference_figure(tokens, cf.real_delta_t, cf.linear_delta_t, index, names[cf.cls])
    return EditResult(_summary(bundle, tokens, op, index, word, cf), figure, edited, len(names), len(tokens))


def _summary(bundle, tokens, op, index, word, cf) -> str:
    names = bundle.class_names
    what = {"swap": f"“{tokens[index]}” for “{word}”", "drop": f"“{tokens[index]}”",
            "insert": f"“{word}” before “{tokens[index]}”"}[op]
    before, after = int(np.argmax(cf.probs_k)), int(np.argmax(cf.edited_probs_k))
    change = (f"the prediction stays {names[after]} ({cf.probs_k[before]:.1%} → {cf.edited_probs_k[after]:.1%})"
              if before == after else
              f"the prediction flips from {names[before]} ({cf.probs_k[before]:.0%}) to {names[after]} "
              f"({cf.edited_probs_k[after]:.0%})")
    err = cf.rel_error
    closeness = f"relative error {err:.0%} over the tokens from the edit on" if np.isfinite(err) else "no change"
    unknown = (f" “{word}” is not in this model's vocabulary: it reads as <unk>."
               if word and bundle.vocab.encode([word])[0] == UNK_ID else "")
    return (f"{VERBS[op]} {what}: {change}. The log-odds of {names[cf.cls]} change by {cf.final_real:+.2f} at the end; "
            f"the linear prediction says {cf.final_linear:+.2f} ({closeness}).{unknown}")


# ---- overlays -----------------------------------------------------------------------------------------------
def overlay_texts(value) -> list[str]:
    """The overlaid texts from a URL query value (one ``overlay=`` gives a string, several a list) or a store,
    cleaned: strings only, stripped, clipped, no repeats, at most ``MAX_OVERLAYS``."""
    values = [value] if isinstance(value, str) else (value if isinstance(value, list) else [])
    out: list[str] = []
    for item in values:
        # echoed back into the page and the URL (guard.echo_safe)
        item = echo_safe(item.strip()[:MAX_OVERLAY_CHARS]) if isinstance(item, str) else ""
        if item and item not in out:
            out.append(item)
    return out[: figs.MAX_OVERLAYS]


def change_overlays(texts, add=None, remove=None) -> list[str]:
    """``texts`` with ``add`` appended (if there is room) and the text at position ``remove`` taken out."""
    texts = overlay_texts(texts)
    if isinstance(remove, int) and not isinstance(remove, bool) and 0 <= remove < len(texts):
        texts = texts[:remove] + texts[remove + 1:]
    if isinstance(add, str) and add.strip():
        texts = overlay_texts(texts + [add])
    return texts


def overlay_items(run_id, texts) -> tuple[list[dict], int]:
    """One item per overlaid text (its projected path, hover lines, a legend name with its prediction) and the
    model's number of classes (0 without a model)."""
    bundle = _bundle(run_id)
    if bundle is None or not bundle.has_analysis:
        return [], 0
    names, items = bundle.class_names, []
    for text in overlay_texts(texts):
        traj = bundle.trajectory(text, max_tokens=settings().max_tokens)
        if not traj.tokens:
            plain = f"{text[:28]} (no tokens)"
            items.append({"name": escape(plain), "label": plain, "text": text})
            continue
        k = int(np.argmax(traj.probs_txk[-1]))
        head, cls = escape(text[:40]), escape(names[k])
        hover = [f"“{head}” #{i + 1} <b>{escape(tok)}</b><br>{cls}: {traj.probs_txk[i, k]:.0%}"
                 for i, tok in enumerate(traj.tokens)]
        label = text if len(text) <= 28 else text[:26] + "…"
        plain = f"{label} → {names[k]} {traj.probs_txk[-1, k]:.0%}"
        items.append({"name": escape(plain), "label": plain, "text": text,
                      "xyz_tx3": traj.xyz_tx3, "hover": hover})
    return items, len(names)
