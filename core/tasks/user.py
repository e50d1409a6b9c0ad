"""Tasks on a user's own texts (``core.user_data``): ``csv`` trains on a labelled file, ``imported`` holds the
texts an imported model is analyzed on.

``csv``: the rows are split per label, seeded by the task seed, into 80% training, 10% validation and 10% test
(every label in each split); the vocabulary comes from the training split only and the model is chosen on
validation, so nothing of the test split reaches training. Repeated texts were dropped before the split
(``core.user_data``). ``imported``: nothing is trained, so every text is both the "training" split (for the
words' log-odds) and the test split the analysis draws its trajectories from; validation is empty.
"""
from __future__ import annotations

import numpy as np

from core.config import TaskConfig, user_store_dir
from core.tasks.base import Split, TaskData
from core.text import Vocab, tokenize
from core.user_data import LabelledData, load_dataset

__all__ = ["load_user_task", "split_indices", "VAL_FRACTION", "TEST_FRACTION"]

VAL_FRACTION = TEST_FRACTION = 0.1


def split_indices(labels_b: np.ndarray, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Row indices of the training, validation and test splits, stratified by label, seeded."""
    rng = np.random.default_rng(seed)
    parts: tuple[list, list, list] = ([], [], [])
    for k in np.unique(labels_b):
        rows = rng.permutation(np.flatnonzero(labels_b == k))
        n_val = max(1, int(round(VAL_FRACTION * len(rows))))
        n_test = max(1, int(round(TEST_FRACTION * len(rows))))
        for part, chunk in zip(parts, (rows[n_val + n_test:], rows[:n_val], rows[n_val:n_val + n_test])):
            part.append(chunk)
    return tuple(np.sort(np.concatenate(p)) for p in parts)


def _split(tokens: list[list[str]], labels: np.ndarray, idx: np.ndarray) -> Split:
    return Split([tokens[i] for i in idx], labels[idx])


def _examples(data: LabelledData) -> tuple[str, ...]:
    """A few short texts of the file, one per label where possible, for the Explore page's chips."""
    picks = []
    for k in range(len(data.class_names)):
        rows = [i for i in np.flatnonzero(data.labels == k) if len(data.texts[i]) <= 200]
        if rows:
            picks.append(data.texts[rows[0]])
    return tuple(picks[:5]) or (data.texts[0][:200],)


def load_user_task(config: TaskConfig) -> TaskData:
    config.validate()
    data = load_dataset(config.dataset, user_store_dir())
    if len(data.class_names) != config.num_classes:
        raise ValueError(f"dataset {config.dataset} has {len(data.class_names)} labels, config says {config.num_classes}")
    tokens = [tokenize(t, max_tokens=config.max_len) for t in data.texts]
    if config.name == "imported":
        everything = Split(tokens, data.labels)
        train, val, test = everything, Split([], np.zeros(0, np.int64)), everything
    else:
        train_idx, val_idx, test_idx = split_indices(data.labels, config.seed)
        train, val, test = (_split(tokens, data.labels, idx) for idx in (train_idx, val_idx, test_idx))
        train = Split(train.tokens[: config.n_train], train.labels[: config.n_train])
    source = f"user dataset {config.dataset} ({str(data.provenance.get('file', ''))[:80] or 'no file name'})"
    return TaskData(config=config, class_names=data.class_names,
                    vocab=Vocab.build(train.tokens, max_size=config.vocab_cap, min_count=1),
                    train=train, val=val, test=test, examples=_examples(data), source=source,
                    provenance={"dataset": config.dataset, **data.provenance})
