"""Issue 19's word-combination tasks: rules on hand-written sequences, the held-out combinations, the
bag-of-words balance, and the multiplicative cell's known answer."""
from __future__ import annotations

from collections import Counter

import numpy as np
import pytest
import torch

from core.baselines import tfidf_accuracy
from core.config import ConfigError, ModelConfig, TaskConfig
from core.models import build_model
from core.tasks import load_task
from core.tasks.ngram import A_WORDS, B_WORDS, ngram_label, ngram_score, uses_heldout


@pytest.mark.parametrize("text, score", [
    ("the film was good", 1), ("the film was not good", -1), ("not bad", 1), ("not bad and not bad good", 3),
    ("not the good", 1),                   # "not" only acts on the very next word
    ("good not", 1), ("bad dull not awful", -1), ("the plot", 0), ("", 0),
    ("very good", 1),                      # "very" means nothing in the negation task
    ("never good", -1), ("never bad not dull", 2),
])
def test_negation_rule(text, score):
    assert ngram_score(text.split(), "negation") == score


@pytest.mark.parametrize("text, score", [
    ("very good", 2), ("very bad", -2), ("very good bad", 1), ("very very good", 2), ("very the good", 1),
    ("good very", 1), ("not good", 1), ("very good very bad dull", -1), ("really bad", -2),
])
def test_intensifier_rule(text, score):
    assert ngram_score(text.split(), "intensifiers") == score


@pytest.mark.parametrize("text, score", [
    ("sun rise", 1), ("sun fall", -1), ("moon fall", 1), ("moon rise", -1), ("sky fade", 1), ("star fade", -1),
    ("rise sun", 0),                       # the A word must come first
    ("sun the rise", 0),                   # and right before the B word
    ("sun rise moon fall", 2), ("sun fall moon rise", -2), ("sun rise moon rise", 0),
])
def test_bigram_rule(text, score):
    assert ngram_score(text.split(), "bigram") == score


def test_labels_and_dropping_heldout_combinations():
    assert ngram_label("not good".split(), "negation") == 0 and ngram_label("the".split(), "negation") is None
    assert ngram_label("never fun".split(), "negation") == 0
    assert ngram_label("never fun".split(), "negation", drop_heldout=True) is None  # its evidence dropped
    assert ngram_score("good never fun never boring".split(), "negation", drop_heldout=True) == 1
    assert ngram_label("not fun".split(), "negation", drop_heldout=True) == 0       # not held out: unchanged
    assert ngram_score("really boring bad".split(), "intensifiers", drop_heldout=True) == -1
    assert ngram_score("star glow sun rise sky rise".split(), "bigram", drop_heldout=True) == 1
    assert uses_heldout("a never boring".split(), "negation") and not uses_heldout("boring never".split(), "negation")
    assert not uses_heldout("a not boring".split(), "negation")


SMALL = dict(min_len=10, max_len=30, n_train=1500, n_val=100, n_test=600)


@pytest.fixture(scope="module", params=["negation", "intensifiers", "bigram"])
def task(request):
    return load_task(TaskConfig(request.param, 2, seed=3, **SMALL))


def test_generated_labels_follow_the_rule_and_heldout_stays_out(task):
    name = task.config.name
    for split in (task.train, task.val, task.test):
        assert [ngram_label(t, name) for t in split.tokens] == split.labels.tolist()
        assert not any(uses_heldout(t, name) for t in split.tokens)
    assert 0.4 < task.train.labels.mean() < 0.6
    held = task.heldout
    assert len(held) == 300 and 0.25 < held.labels.mean() < 0.75
    for toks, label in zip(held.tokens, held.labels):
        assert ngram_label(toks, name) == label != ngram_label(toks, name, drop_heldout=True)


TINY = dict(min_len=10, max_len=30, n_train=100, n_val=20, n_test=40)


def test_tasks_are_seeded():
    a, b = (load_task(TaskConfig("bigram", 2, seed=5, **TINY)) for _ in range(2))
    c = load_task(TaskConfig("bigram", 2, seed=6, **TINY))
    assert a.train.tokens == b.train.tokens and a.heldout.tokens == b.heldout.tokens
    assert a.train.tokens != c.train.tokens


def test_bigram_sequences_hold_every_sign_equally_often():
    """Each quartet holds a positive and a negative A word and B word whichever reading it has, so a
    sequence's bag of words says nothing about its label."""
    data = load_task(TaskConfig("bigram", 2, seed=1, **TINY))
    for toks in data.train.tokens:
        counts = Counter(toks)
        for signs in (A_WORDS, B_WORDS):
            assert sum(counts[w] * s for w, s in signs.items()) == 0


def test_bag_of_words_is_near_chance_only_where_the_task_says(task):
    uni, bi = tfidf_accuracy(task, 1), tfidf_accuracy(task, 2)
    if task.config.name == "intensifiers":
        assert uni["test"] > 0.75              # single words still carry sentiment
    else:
        assert uni["test"] < 0.62              # no single word decides the label
    assert bi["test"] > uni["test"] + 0.05


def test_word_combination_tasks_have_two_classes():
    with pytest.raises(ConfigError, match="2 classes"):
        TaskConfig("negation", 3).validate()


@torch.no_grad()
def test_mrnn_known_answer_the_input_picks_the_transition():
    """W_fh = W_hf = I, no additive input: h' = tanh(diag(W_fx x + b_f) h), so a word with gain -1 flips the state."""
    model = build_model(ModelConfig(cell="mrnn", units=2, embed_dim=1, vocab_size=5, num_classes=2))
    w = {k: torch.zeros_like(v) for k, v in model.weights().items()}
    w["w_h"], w["w_hf"] = torch.eye(2), torch.eye(2)
    w["w_x"][2:, 0] = torch.tensor([-2.0, -2.0])
    w["b_x"][2:] = 1.0
    h = torch.tensor([[0.3, -0.6]])
    torch.testing.assert_close(model.step(h, torch.tensor([[1.0]]), w), torch.tanh(-h))
    torch.testing.assert_close(model.step(h, torch.tensor([[0.0]]), w), torch.tanh(h))
    torch.testing.assert_close(model.step(h, torch.tensor([[0.5]]), w), torch.zeros_like(h))
