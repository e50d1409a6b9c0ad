"""IMDB movie reviews (Maas et al. 2011), the standard 25k/25k split shipped in data/imdb/.

The training file holds the 25,000 training reviews, the test file the 24,678 test reviews that
are not also in the training file (data/imdb/PROVENANCE.md). Validation reviews are carved out
of the training file by a seeded shuffle, never out of the test file. Training reviews keep
their last ``config.max_len`` tokens (the verdict usually comes at the end); validation and
test reviews are read whole, up to ``EVAL_MAX_TOKENS``, as the dashboard reads a paste.
"""
from __future__ import annotations

import lzma
from functools import lru_cache
from pathlib import Path

import numpy as np

from core.config import TaskConfig, repo_root
from core.tasks.base import Split, TaskData
from core.text import Vocab, tokenize

__all__ = ["IMDB_FILES", "CLASS_NAMES", "N_VAL", "read_imdb", "load_imdb_task"]

IMDB_FILES = {"train": "data/imdb/train.tsv.xz", "test": "data/imdb/test.tsv.xz"}
LABELS = ("neg", "pos")
CLASS_NAMES = ("negative", "positive")
N_VAL = 2_500
EVAL_MAX_TOKENS = 2_000  # the dashboard's cap on a pasted text (bundle.MAX_TOKENS)
EXAMPLES = (
    # short probes first; then two real reviews from the validation split (never trained on), the first of
    # them the page's starting text (bundle.middle_example), the second shortened by two asides
    "not good",
    "not bad at all",
    "This movie was terrible.",
    "a beautiful , moving film with a brilliant performance at its heart",
    "I had such high hopes for this film because I loved the original so much. It seems that Disney, however, "
    "is trying to perfect the art of crappy straight-to-DVD sequels. They deserve a razzie. Several, in fact. "
    "I thought the idea had merit, but the music was absolutely awful and the story wasn't much better. What "
    "happened to the great music Disney used to have in their films. Mary Poppins, Aladdin, Beauty and the "
    "Beast, The Lion King...even Hercules and The Hunchback of Notre Dame. They've made so many great movies "
    "over the years that it's really sad that they've sunk to point of making sequels that aren't even good "
    "enough to put in theatres. I hope this movie is not an indication of things to come for the Walt Disney "
    "Corporation.",
    "Wasn't sure what to expect from this film. I love watching Brosnan in any movie, he's always good, but "
    "this was totally different. He's a mess, and plays being a mess very well. So yes, there's not a lot of "
    "violence, there's not a lot of action, but the dialogue is cracking, the acting is superb and very "
    "refreshing, and it's pretty funny too :) I don't think you'll come out of the cinema going \"Wow! I was "
    "blown away\", but you'll come out smiling having enjoyed a good film. Can't ask for more than that.",
)


@lru_cache(maxsize=2)
def read_imdb(split: str, root: Path | None = None) -> tuple[list[str], np.ndarray]:
    """Texts and labels (0 negative, 1 positive) of one file, in file order; duplicates dropped."""
    if split not in IMDB_FILES:
        raise ValueError(f"IMDB has a 'train' and a 'test' file, not {split!r}")
    path = (root or repo_root()) / IMDB_FILES[split]
    index = {label: i for i, label in enumerate(LABELS)}
    texts, ys, seen = [], [], set()
    with lzma.open(path, "rt", encoding="utf-8") as fh:
        for line in fh:
            label, _, text = line.rstrip("\n").partition("\t")
            if label in index and text and text not in seen:
                seen.add(text)
                texts.append(text)
                ys.append(index[label])
    return texts, np.asarray(ys, dtype=np.int64)


def _tail(text: str, max_tokens: int) -> list[str]:
    tokens = tokenize(text)
    return tokens[-max_tokens:]


def load_imdb_task(config: TaskConfig, root: Path | None = None) -> TaskData:
    if config.num_classes != 2:
        raise ValueError(f"task imdb has 2 classes, config says {config.num_classes}")
    texts, labels = read_imdb("train", root)
    order = np.random.default_rng(config.seed).permutation(len(texts))
    val_idx, train_idx = order[:N_VAL], order[N_VAL:][: config.n_train]
    train = Split([_tail(texts[i], config.max_len) for i in train_idx], labels[train_idx])
    val = Split([tokenize(texts[i], max_tokens=EVAL_MAX_TOKENS) for i in val_idx], labels[val_idx])
    test_texts, test_labels = read_imdb("test", root)
    keep = np.arange(min(len(test_texts), config.n_test))
    test = Split([tokenize(test_texts[i], max_tokens=EVAL_MAX_TOKENS) for i in keep], test_labels[keep])
    return TaskData(
        config=config, class_names=CLASS_NAMES,
        vocab=Vocab.build(train.tokens, max_size=config.vocab_cap, min_count=2),
        train=train, val=val, test=test, examples=EXAMPLES, source="data/imdb/PROVENANCE.md",
    )
