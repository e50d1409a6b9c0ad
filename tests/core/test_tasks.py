"""Synthetic labelling rules on hand-written sequences, generated tasks, and the shipped corpora."""
from __future__ import annotations

from collections import Counter

import numpy as np
import pytest

from core.config import TaskConfig
from core.tasks import TaskData, load_task
from core.tasks.corpora import CORPORA, read_corpus
from core.tasks.synthetic import (
    CLASS_WORDS, MULTILABEL_MIN_COUNT, ORDERED_THRESHOLDS, categorical_label, multilabel_labels,
    ordered_label, ordered_score,
)
from core.text import PAD, UNK, tokenize


# ---- labelling rules --------------------------------------------------------------------
@pytest.mark.parametrize("tokens, k, expected", [
    ("red the red green", 2, 0),
    ("green a green red of", 2, 1),
    ("red", 2, 0),
    ("red green", 2, None),                          # tie
    ("the a and of", 2, None),                       # no evidence at all is a tie at zero
    ("", 3, None),
    ("blue blue red", 2, 0),                         # blue is not a class word when k = 2
    ("blue blue red", 3, 2),
    ("red green blue blue", 3, 2),
    ("red red green green blue", 3, None),           # tie for the top count
    ("red red green green blue blue blue", 3, 2),    # a tie below the top does not matter
    ("brown " * 4 + "red " * 3, 10, 9),
])
def test_categorical_label(tokens, k, expected):
    assert categorical_label(tokens.split(), k) == expected


def tokens_with_score(score: int) -> list[str]:
    """A hand-made sequence whose summed ordered score is exactly ``score``."""
    word = "awesome" if score > 0 else "awful"
    toks = [word] * (abs(score) // 2) + (["good"] if score > 0 else ["bad"]) * (abs(score) % 2)
    return ["the", *toks, "the"]


def test_ordered_score_of_hand_written_sequences():
    assert ordered_score("awful bad the good awesome".split()) == 0
    assert ordered_score("awesome awesome good the".split()) == 5
    assert ordered_score("bad bad awful unknown".split()) == -4
    for s in range(-12, 13):
        assert ordered_score(tokens_with_score(s)) == s


@pytest.mark.parametrize("score, expected", [
    (-20, 0), (-4, 0), (-3, 0), (-2, 1), (0, 1), (2, 1), (3, 1), (4, 2), (20, 2)])
def test_ordered_label_three_classes(score, expected):
    assert ORDERED_THRESHOLDS[3] == (-3, 3)
    assert ordered_label(tokens_with_score(score), 3) == expected


@pytest.mark.parametrize("score, expected", [
    (-20, 0), (-10, 0), (-9, 0), (-8, 1), (-4, 1), (-3, 1), (-2, 2), (0, 2), (3, 2),
    (4, 3), (8, 3), (9, 3), (10, 4), (20, 4)])
def test_ordered_label_five_classes(score, expected):
    assert ORDERED_THRESHOLDS[5] == (-9, -3, 3, 9)
    assert ordered_label(tokens_with_score(score), 5) == expected


def test_multilabel_labels():
    m = MULTILABEL_MIN_COUNT
    assert m == 3
    toks = ["red"] * m + ["green"] * (m - 1) + ["the"] * 5 + ["blue"] * (m + 4)
    labels = multilabel_labels(toks, 3)
    assert labels.dtype == np.float32 and labels.shape == (3,)
    assert labels.tolist() == [1.0, 0.0, 1.0]
    assert multilabel_labels(toks, 2).tolist() == [1.0, 0.0]
    assert multilabel_labels([], 4).tolist() == [0.0] * 4
    assert multilabel_labels(["gold"] * m, 4).tolist() == [0.0, 0.0, 0.0, 1.0]


# ---- generated synthetic tasks ----------------------------------------------------------
SMALL = dict(min_len=5, max_len=30, n_train=300, n_val=60, n_test=60)


def small_task(name: str, k: int, **kw) -> TaskData:
    return load_task(TaskConfig(name=name, num_classes=k, **{**SMALL, **kw}))


def same_split(a, b) -> bool:
    return a.tokens == b.tokens and np.array_equal(a.labels, b.labels)


@pytest.mark.parametrize("name, k", [("categorical", 3), ("ordered", 5), ("multilabel", 4)])
def test_synthetic_task_is_seeded(name, k):
    a, b = small_task(name, k, seed=7), small_task(name, k, seed=7)
    c = small_task(name, k, seed=8)
    for split in ("train", "val", "test"):
        assert same_split(getattr(a, split), getattr(b, split))
    assert a.vocab == b.vocab
    assert not same_split(a.train, c.train)


@pytest.mark.parametrize("name, k", [("categorical", 2), ("categorical", 10), ("ordered", 3),
                                     ("ordered", 5), ("multilabel", 3)])
def test_synthetic_task_contents(name, k):
    data = small_task(name, k)
    cfg = data.config
    assert len(data.class_names) == k and data.source.startswith("synthetic")
    assert data.ordered == (name == "ordered") and data.multilabel == (name == "multilabel")
    sizes = {"train": cfg.n_train, "val": cfg.n_val, "test": cfg.n_test}
    for split_name, size in sizes.items():
        split = getattr(data, split_name)
        assert len(split) == size == len(split.labels)
        lengths = [len(t) for t in split.tokens]
        assert min(lengths) >= cfg.min_len and max(lengths) <= cfg.max_len
        for toks, label in zip(split.tokens, split.labels):
            if name == "categorical":
                assert categorical_label(toks, k) == label  # never None: ties are redrawn
            elif name == "ordered":
                assert ordered_label(toks, k) == label
            else:
                assert np.array_equal(multilabel_labels(toks, k), label)
    if name == "multilabel":
        assert data.train.labels.dtype == np.float32 and data.train.labels.shape == (cfg.n_train, k)
    else:
        assert data.train.labels.dtype == np.int64 and data.train.labels.shape == (cfg.n_train,)
        assert data.train.labels.min() >= 0 and data.train.labels.max() < k
    train_words = {w for toks in data.train.tokens for w in toks}
    assert set(data.vocab.itos) - {PAD, UNK} == train_words  # every word, from train only
    assert data.examples and all(isinstance(e, str) and tokenize(e) for e in data.examples)


def test_lengths_cover_the_range():
    data = small_task("categorical", 2, min_len=3, max_len=6)
    assert {len(t) for t in data.train.tokens} == {3, 4, 5, 6}
    fixed = small_task("ordered", 3, min_len=4, max_len=4, n_train=50)
    assert {len(t) for t in fixed.train.tokens} == {4}


@pytest.mark.parametrize("name, k, lo, hi", [
    ("categorical", 3, 0.25, 0.42), ("categorical", 5, 0.14, 0.26),
    ("ordered", 3, 0.22, 0.45), ("ordered", 5, 0.06, 0.40),
])
def test_class_balance_is_reasonable(name, k, lo, hi):
    # ordered thresholds are tuned for lengths 20-100, the default range
    kw = {"min_len": 20, "max_len": 100} if name == "ordered" else {}
    data = small_task(name, k, n_train=1500, n_val=1, n_test=1, **kw)
    freq = np.bincount(data.train.labels, minlength=k) / len(data.train)
    assert freq.min() >= lo and freq.max() <= hi, freq


def test_multilabel_labels_vary_independently():
    data = small_task("multilabel", 4, min_len=20, max_len=100, n_train=1000, n_val=1, n_test=1)
    rate = data.train.labels.mean(axis=0)
    assert ((rate > 0.2) & (rate < 0.9)).all(), rate
    corr = np.corrcoef(data.train.labels.T)
    assert np.abs(corr[np.triu_indices(4, 1)]).max() < 0.3, corr
    assert len({tuple(row) for row in data.train.labels}) >= 10


# ---- shipped corpora --------------------------------------------------------------------
@pytest.fixture(scope="module")
def reviews() -> TaskData:
    return load_task(TaskConfig(name="reviews", num_classes=2, n_train=400, seed=3))


def test_corpus_split_is_deterministic(reviews):
    again = load_task(TaskConfig(name="reviews", num_classes=2, n_train=400, seed=3))
    other = load_task(TaskConfig(name="reviews", num_classes=2, n_train=400, seed=4))
    for split in ("train", "val", "test"):
        assert same_split(getattr(reviews, split), getattr(again, split))
    assert reviews.vocab == again.vocab
    assert not same_split(reviews.test, other.test)


def test_corpus_splits_partition_the_corpus():
    data = load_task(TaskConfig(name="reviews", num_classes=2, n_train=10_000_000, seed=0))
    texts, labels = read_corpus("reviews")
    n = len(texts)
    assert n > 10_000 and set(np.unique(labels)) == {0, 1}
    assert len(data.val) == len(data.test) == n // 10
    assert len(data.train) + len(data.val) + len(data.test) == n
    corpus = Counter((tuple(tokenize(t, max_tokens=400)), int(y)) for t, y in zip(texts, labels))
    used = Counter()
    for split in (data.train, data.val, data.test):
        used.update((tuple(t), int(y)) for t, y in zip(split.tokens, split.labels))
    assert used == corpus  # every example in exactly one split


def test_corpus_vocab_from_train_only(reviews):
    assert len(reviews.train) == 400
    train_counts = Counter(w for toks in reviews.train.tokens for w in toks)
    words = set(reviews.vocab.itos) - {PAD, UNK}
    assert words == {w for w, c in train_counts.items() if c >= 2}
    held_out = {w for split in (reviews.val, reviews.test) for toks in split.tokens for w in toks}
    assert held_out - set(train_counts), "test words unseen in train should exist and stay out of the vocab"
    assert not (held_out - set(train_counts)) & words


def test_corpus_task_fields(reviews):
    assert reviews.class_names == CORPORA["reviews"][2]
    assert not reviews.ordered and not reviews.multilabel
    assert reviews.source.endswith("PROVENANCE.md")
    assert reviews.train.labels.dtype == np.int64
    assert all(len(t) <= 400 for t in reviews.train.tokens)


def test_stars_corpus_loads_small():
    data = load_task(TaskConfig(name="stars", num_classes=5, n_train=300, vocab_cap=200, seed=0))
    assert data.ordered and len(data.class_names) == 5 and len(data.train) == 300
    assert len(data.vocab) <= 200
    assert set(np.unique(data.test.labels)) == set(range(5))


def test_corpus_class_count_mismatch_is_rejected():
    with pytest.raises(ValueError, match="2 classes"):
        load_task(TaskConfig(name="reviews", num_classes=3, n_train=10))


def test_class_words_are_distinct_from_filler():
    from core.tasks.synthetic import FILLER_WORDS
    assert len(set(CLASS_WORDS)) == 10 and not set(CLASS_WORDS) & set(FILLER_WORDS)
