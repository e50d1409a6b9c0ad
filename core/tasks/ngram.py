"""Word-combination tasks (issue 19): the label depends on adjacent word pairs, not only on words.

- negation: sentiment words worth +1 / -1; "not" or "never" directly before one flips it ("not good" is
  negative evidence, "not bad" positive). Half of every sentiment word's uses are negated, so no single word
  decides the label.
- intensifiers: "very" or "really" directly before a sentiment word doubles it ("very good" counts 2).
- bigram: pairs of an A word and a B word, each word with a sign; a pair "a b" (adjacent, A first) counts
  sign(a) * sign(b). Pairs come in quartets whose two readings use the very same four words, so every
  sequence's bag of words is identical for both labels: a bag-of-words model is at chance by construction.

Every task keeps a few word combinations out of its train / validation / test splits (``HELDOUT``: the second
modifier with two of the words, which the first modifier still modifies as often as any word; two A-B pairs); the
``heldout`` split holds sequences whose label those combinations decide (without their evidence the label would
differ or tie), so its accuracy measures whether the combination rule generalized
(bigram: held-out texts are independent pairs, not quartets, so no seen pair reveals a held-out pair's sign).
Labels: 0 negative, 1 positive; a tie (score 0) is redrawn.
"""
from __future__ import annotations

import numpy as np

from core.config import NGRAM_TASKS, TaskConfig
from core.tasks.base import Split, TaskData
from core.text import Vocab

__all__ = ["NGRAM_TASKS", "POSITIVE", "NEGATIVE", "FILLER", "MODIFIERS", "A_WORDS", "B_WORDS", "HELDOUT",
           "ngram_score", "ngram_label", "make_ngram_task", "uses_heldout"]

POSITIVE = ("good", "great", "fun", "funny")
NEGATIVE = ("bad", "dull", "awful", "boring")
POLARITY = {**{w: 1 for w in POSITIVE}, **{w: -1 for w in NEGATIVE}}
FILLER = ("the", "a", "film", "and", "it", "was", "is", "this", "plot", "of")
MODIFIERS = {"negation": ("not", "never"), "intensifiers": ("very", "really")}
MODIFIER_FACTOR = {"negation": -1, "intensifiers": 2}
A_WORDS = {"sun": 1, "moon": -1, "star": 1, "sky": -1}
B_WORDS = {"rise": 1, "fall": -1, "glow": 1, "fade": -1}
# combinations no training sequence contains: modifier + these words, or these A-B pairs
HELDOUT = {"negation": ("fun", "boring"), "intensifiers": ("fun", "boring"),
           "bigram": (("star", "glow"), ("sky", "rise"))}
EVENT_RATE, MODIFIER_RATE, STRAY_RATE = 0.3, 0.5, 0.05
CLASS_NAMES = ("negative", "positive")


def _is_heldout(task: str, prev: str, tok: str) -> bool:
    if task == "bigram":
        return (prev, tok) in HELDOUT["bigram"]
    return prev == MODIFIERS[task][1] and tok in HELDOUT[task]


def ngram_score(tokens: list[str], task: str, drop_heldout: bool = False) -> int:
    """The summed evidence; with ``drop_heldout`` the held-out combinations count nothing."""
    score, prev = 0, ""
    for tok in tokens:
        if drop_heldout and _is_heldout(task, prev, tok):
            pass
        elif task == "bigram":
            if prev in A_WORDS and tok in B_WORDS:
                score += A_WORDS[prev] * B_WORDS[tok]
        elif tok in POLARITY:
            score += POLARITY[tok] * (MODIFIER_FACTOR[task] if prev in MODIFIERS[task] else 1)
        prev = tok
    return score


def ngram_label(tokens: list[str], task: str, drop_heldout: bool = False) -> int | None:
    """1 (positive) for a positive score, 0 for a negative one, None for a tie."""
    score = ngram_score(tokens, task, drop_heldout)
    return None if score == 0 else int(score > 0)


def uses_heldout(tokens: list[str], task: str) -> bool:
    return any(_is_heldout(task, a, b) for a, b in zip(tokens, tokens[1:]))


def _draw_modified(rng: np.random.Generator, task: str, length: int, allow_heldout: bool) -> list[str]:
    modifiers, words = MODIFIERS[task], POSITIVE + NEGATIVE
    toks: list[str] = []
    while len(toks) < length:
        r = rng.random()
        if r < EVENT_RATE:
            word = words[rng.integers(len(words))]
            blocked = not allow_heldout and word in HELDOUT[task]  # then only the first modifier may touch it
            if blocked and toks and toks[-1] == modifiers[1]:
                toks.append(FILLER[rng.integers(len(FILLER))])
            if rng.random() < MODIFIER_RATE:
                toks.append(modifiers[0] if blocked else modifiers[rng.integers(2)])
            toks.append(word)
        elif r < EVENT_RATE + STRAY_RATE:
            toks.append(modifiers[rng.integers(2)])  # before a filler word a modifier does nothing
        else:
            toks.append(FILLER[rng.integers(len(FILLER))])
    return toks[:length] if toks[length - 1] not in modifiers else toks[:length - 1]


def _quartet(rng: np.random.Generator, allow_heldout: bool) -> list[list[str]]:
    """Two A-B pairs from words a, a' of opposite sign and b, b' of opposite sign: either (a b, a' b') or
    (a b', a' b); both readings hold the same four words."""
    a_pos, a_neg = [w for w, s in A_WORDS.items() if s > 0], [w for w, s in A_WORDS.items() if s < 0]
    b_pos, b_neg = [w for w, s in B_WORDS.items() if s > 0], [w for w, s in B_WORDS.items() if s < 0]
    while True:
        a, a2 = a_pos[rng.integers(2)], a_neg[rng.integers(2)]
        b, b2 = b_pos[rng.integers(2)], b_neg[rng.integers(2)]
        pairs = [(a, b), (a2, b2)] if rng.random() < 0.5 else [(a, b2), (a2, b)]
        if allow_heldout or not {(a, b), (a2, b2), (a, b2), (a2, b)} & set(HELDOUT["bigram"]):
            return [list(p) for p in pairs]


def _draw_bigram(rng: np.random.Generator, length: int, allow_heldout: bool) -> list[str]:
    """Training texts: quartets (a bag of words at chance). Held-out texts: independent pairs, since a quartet's
    partner pair has the same sign as a held-out pair and would give its sign away."""
    quartets = int(rng.choice([q for q in (1, 3, 5) if 4 * q <= max(length, 4)]))
    if allow_heldout:
        a_words, b_words = list(A_WORDS), list(B_WORDS)
        units = [[a_words[rng.integers(4)], b_words[rng.integers(4)]] for _ in range(2 * quartets)]
    else:
        units = [p for _ in range(quartets) for p in _quartet(rng, allow_heldout)]
    units += [[FILLER[i]] for i in rng.integers(0, len(FILLER), max(0, length - 4 * quartets))]
    order = rng.permutation(len(units))
    return [tok for i in order for tok in units[i]]


def _draw(rng: np.random.Generator, config: TaskConfig, allow_heldout: bool) -> list[str]:
    length = int(rng.integers(config.min_len, config.max_len + 1))
    if config.name == "bigram":
        return _draw_bigram(rng, length, allow_heldout)
    return _draw_modified(rng, config.name, length, allow_heldout)


def _split(rng: np.random.Generator, config: TaskConfig, size: int, heldout: bool = False) -> Split:
    tokens, labels, tries = [], [], 0
    while len(tokens) < size and tries < 200 * size:
        tries += 1
        toks = _draw(rng, config, allow_heldout=heldout)
        label = ngram_label(toks, config.name)
        if label is None or (heldout and ngram_label(toks, config.name, drop_heldout=True) == label):
            continue
        tokens.append(toks)
        labels.append(label)
    return Split(tokens, np.asarray(labels, dtype=np.int64))


def _examples(task: str) -> tuple[str, ...]:
    if task == "bigram":
        return ("the sun rise and the moon fall", "sun fall the moon rise of it",
                "the star glow and the sky rise", "sun glow moon fade the sky rise star fall star rise")
    m, m2 = MODIFIERS[task]
    return (f"the film was {m} good", f"the film was {m} bad", f"it was good but {m2} fun and {m2} boring",
            f"the plot was {m2} great and the film was bad and {m} dull")


def make_ngram_task(config: TaskConfig) -> TaskData:
    rng = np.random.default_rng(config.seed)
    train = _split(rng, config, config.n_train)
    val = _split(rng, config, config.n_val)
    test = _split(rng, config, config.n_test)
    heldout = _split(rng, config, max(50, config.n_test // 2), heldout=True)
    return TaskData(config=config, class_names=CLASS_NAMES, vocab=Vocab.build(train.tokens, max_size=config.vocab_cap),
                    train=train, val=val, test=test, examples=_examples(config.name),
                    source="synthetic word combinations (core/tasks/ngram.py)", heldout=heldout)
