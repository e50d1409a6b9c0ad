"""Real-text tasks from the corpora shipped in data/ (see each folder's PROVENANCE.md)."""
from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np

from core.config import TaskConfig, repo_root
from core.tasks.base import Split, TaskData
from core.text import Vocab, tokenize

__all__ = ["CORPORA", "read_corpus", "load_corpus_task"]

# task name -> (file, label strings in class order, class names, example texts)
CORPORA = {
    "reviews": (
        "data/rotten_tomatoes/snippets.tsv.gz", ("rotten", "fresh"), ("negative", "positive"),
        ("not good", "the plot was awful but the ending was awesome", "a moving , funny and beautifully made film",
         "dull , overlong and predictable , though the lead performance is quite good",
         "it starts slowly and the first hour is a chore , with flat jokes and a muddled story . "
         "but then something changes : the characters come alive , the script finds its rhythm , "
         "and by the end i was completely won over . a flawed but warm and genuinely moving film "
         "that rewards your patience .")),
    "stars": (
        "data/clothing_reviews/reviews.tsv.gz", ("1", "2", "3", "4", "5"),
        ("1 star", "2 stars", "3 stars", "4 stars", "5 stars"),
        ("love this dress !", "the fabric is cheap and it fits terribly . returned it .",
         "cute top but runs small , size up", "i wanted to love this but the color was off and the zipper broke",
         "i ordered this in my usual size and it fit perfectly . the material is soft , the color is "
         "exactly as pictured and it washes well . i get compliments every time i wear it . "
         "highly recommend , i am thinking of buying a second one in another color .")),
}
MAX_TOKENS = 400  # long reviews are cut for training; the dashboard has its own cap


def read_corpus(name: str, root: Path | None = None) -> tuple[list[str], np.ndarray]:
    """Texts and class indices of a shipped corpus, in file order."""
    rel, labels, _, _ = CORPORA[name]
    path = (root or repo_root()) / rel
    index = {label: i for i, label in enumerate(labels)}
    texts, ys = [], []
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        for line in fh:
            label, _, text = line.rstrip("\n").partition("\t")
            if label in index and text:
                texts.append(text)
                ys.append(index[label])
    return texts, np.asarray(ys, dtype=np.int64)


def _subset(tokens: list[list[str]], labels: np.ndarray, idx: np.ndarray) -> Split:
    return Split([tokens[i] for i in idx], labels[idx])


def load_corpus_task(config: TaskConfig) -> TaskData:
    _, _, names, examples = CORPORA[config.name]
    if config.num_classes != len(names):
        raise ValueError(f"task {config.name} has {len(names)} classes, config says {config.num_classes}")
    texts, labels = read_corpus(config.name)
    tokens = [tokenize(t, max_tokens=MAX_TOKENS) for t in texts]
    order = np.random.default_rng(config.seed).permutation(len(texts))
    n_val = n_test = len(texts) // 10
    n_train = len(texts) - n_val - n_test
    train = _subset(tokens, labels, order[:n_train][: config.n_train])
    val = _subset(tokens, labels, order[n_train:n_train + n_val])
    test = _subset(tokens, labels, order[n_train + n_val:])
    return TaskData(
        config=config, class_names=names,
        vocab=Vocab.build(train.tokens, max_size=config.vocab_cap, min_count=2),
        train=train, val=val, test=test, examples=examples,
        ordered=config.name == "stars", source=str(Path(CORPORA[config.name][0]).parent / "PROVENANCE.md"),
    )
