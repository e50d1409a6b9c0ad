"""Synthetic evidence-integration tasks (Aitken et al. 2020), seeded and variable length.

- categorical: N class words among neutral filler; label = the most frequent class word
  (sequences with a tie for the top count are dropped and redrawn).
- ordered: awful, bad, the, good, awesome worth -2..+2; the summed score thresholded into 3 or 5
  ordered classes.
- multilabel: one independent binary label per class word: present at least MULTILABEL_MIN_COUNT times.
"""
from __future__ import annotations

import numpy as np

from core.config import TaskConfig
from core.tasks.base import Split, TaskData
from core.text import Vocab

__all__ = [
    "CLASS_WORDS", "FILLER_WORDS", "ORDERED_WORDS", "ORDERED_SCORES", "ORDERED_THRESHOLDS",
    "MULTILABEL_MIN_COUNT", "categorical_label", "evidence_words", "evidence_counts", "ordered_label", "multilabel_labels",
    "make_synthetic_task",
]

CLASS_WORDS = ("red", "green", "blue", "gold", "violet", "teal", "orange", "pink", "gray", "brown")
FILLER_WORDS = ("the", "a", "and", "of", "to", "it", "is", "on", "with", "as")
ORDERED_WORDS = ("awful", "bad", "the", "good", "awesome")
ORDERED_SCORES = dict(zip(ORDERED_WORDS, (-2, -1, 0, 1, 2)))
# Class k holds scores in (thresholds[k-1], thresholds[k]]; chosen so classes are roughly balanced
# for lengths 20-100 with the word probabilities below.
ORDERED_THRESHOLDS = {3: (-3, 3), 5: (-9, -3, 3, 9)}
ORDERED_NAMES = {3: ("negative", "neutral", "positive"),
                 5: ("1 star", "2 stars", "3 stars", "4 stars", "5 stars")}
ORDERED_PROBS = (0.1, 0.1, 0.6, 0.1, 0.1)
EVIDENCE_RATE = 0.3  # fraction of tokens that are class words (categorical / multi-label)
MULTILABEL_MIN_COUNT = 3


def categorical_label(tokens: list[str], num_classes: int) -> int | None:
    """Index of the most frequent class word, or None on a tie (including no class word at all)."""
    counts = [tokens.count(w) for w in CLASS_WORDS[:num_classes]]
    top = max(counts)
    if counts.count(top) > 1:
        return None
    return counts.index(top)


def ordered_score(tokens: list[str]) -> int:
    return sum(ORDERED_SCORES.get(tok, 0) for tok in tokens)


def ordered_label(tokens: list[str], num_classes: int) -> int:
    return int(np.searchsorted(ORDERED_THRESHOLDS[num_classes], ordered_score(tokens), side="left"))


def multilabel_labels(tokens: list[str], num_classes: int) -> np.ndarray:
    return np.array([tokens.count(w) >= MULTILABEL_MIN_COUNT for w in CLASS_WORDS[:num_classes]],
                    dtype=np.float32)


def evidence_words(config: TaskConfig) -> tuple[str, ...]:
    """The words whose counts decide the label (class words, or the rated words)."""
    return tuple(w for w in ORDERED_WORDS if w != "the") if config.name == "ordered" else CLASS_WORDS[: config.num_classes]


def evidence_counts(token_lists: list[list[str]], config: TaskConfig) -> np.ndarray:
    """How often each evidence word occurs in each sequence, counts_bxk."""
    words = evidence_words(config)
    return np.array([[toks.count(w) for w in words] for toks in token_lists], dtype=np.int32).reshape(-1, len(words))


def _draw(rng: np.random.Generator, config: TaskConfig) -> list[str]:
    length = int(rng.integers(config.min_len, config.max_len + 1))
    if config.name == "ordered":
        return [ORDERED_WORDS[i] for i in rng.choice(len(ORDERED_WORDS), size=length, p=ORDERED_PROBS)]
    words = np.array(FILLER_WORDS + CLASS_WORDS[: config.num_classes])
    if config.name == "multilabel":
        # each class word gets its own rate so labels vary independently
        rates = rng.uniform(0.0, 2.0 * EVIDENCE_RATE / config.num_classes, size=config.num_classes)
        probs = np.concatenate([[1.0 - rates.sum()], rates])
        pick = rng.choice(config.num_classes + 1, size=length, p=probs / probs.sum())
        filler = rng.integers(0, len(FILLER_WORDS), size=length)
        return [str(w) for w in words[np.where(pick == 0, filler, len(FILLER_WORDS) + pick - 1)]]
    is_class = rng.random(length) < EVIDENCE_RATE
    filler = rng.integers(0, len(FILLER_WORDS), size=length)
    cls = len(FILLER_WORDS) + rng.integers(0, config.num_classes, size=length)
    return [str(w) for w in words[np.where(is_class, cls, filler)]]


def _label(tokens: list[str], config: TaskConfig):
    if config.name == "categorical":
        return categorical_label(tokens, config.num_classes)
    if config.name == "ordered":
        return ordered_label(tokens, config.num_classes)
    return multilabel_labels(tokens, config.num_classes)


def _split(rng: np.random.Generator, config: TaskConfig, size: int) -> Split:
    tokens, labels = [], []
    while len(tokens) < size:
        toks = _draw(rng, config)
        label = _label(toks, config)
        if label is None:
            continue
        tokens.append(toks)
        labels.append(label)
    dtype = np.float32 if config.name == "multilabel" else np.int64
    return Split(tokens, np.asarray(labels, dtype=dtype))


def _examples(config: TaskConfig) -> tuple[str, ...]:
    if config.name == "ordered":
        return ("the good the awesome the the good", "awful the bad the the awful bad",
                "good the bad the good the awful the awesome awesome",
                " ".join(["the"] * 15 + ["good", "the", "awful"] * 4 + ["awesome"] * 3))
    words = CLASS_WORDS[: config.num_classes]
    a, b = words[0], words[1]
    last = words[-1]
    return (f"the {a} and the {a} is on the {b}",
            f"{a} {a} {a} the {b} {b} {b} {b} and {last}",
            " ".join(f"the {w} and" for w in words) + f" {b} {b}",
            " ".join(["the", a, "of", b, "to", last, "it", a] * 6))


def make_synthetic_task(config: TaskConfig) -> TaskData:
    rng = np.random.default_rng(config.seed)
    train = _split(rng, config, config.n_train)
    val = _split(rng, config, config.n_val)
    test = _split(rng, config, config.n_test)
    if config.name == "ordered":
        names = ORDERED_NAMES[config.num_classes]
    else:
        names = CLASS_WORDS[: config.num_classes]
    return TaskData(
        config=config, class_names=tuple(names),
        vocab=Vocab.build(train.tokens, max_size=config.vocab_cap),
        train=train, val=val, test=test, examples=_examples(config),
        ordered=config.name == "ordered", multilabel=config.name == "multilabel",
        source="synthetic (core/tasks/synthetic.py)",
    )
