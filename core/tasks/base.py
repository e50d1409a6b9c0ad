"""The containers every task fills (``Split``, ``TaskData``) and their encoding into padded id arrays.

Training and the analysis pipeline both read a split through ``encode_split``.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from core.config import TaskConfig
from core.text import Vocab

__all__ = ["Split", "TaskData", "EncodedSplit", "encode_split"]


@dataclass(frozen=True)
class Split:
    tokens: list[list[str]]
    labels: np.ndarray  # (b,) int64 class index, or (b, k) float32 0/1 for multi-label

    def __len__(self) -> int:
        return len(self.tokens)

    def concat(self, other: "Split") -> "Split":
        return Split(self.tokens + other.tokens, np.concatenate([self.labels, other.labels]))


@dataclass(frozen=True)
class TaskData:
    config: TaskConfig
    class_names: tuple[str, ...]
    vocab: Vocab
    train: Split
    val: Split
    test: Split
    examples: tuple[str, ...]  # short texts that show the task off (Explore page chips)
    ordered: bool = False      # classes are ordered ratings (report mean absolute error)
    multilabel: bool = False
    source: str = "synthetic"
    provenance: dict = field(default_factory=dict)  # a user's dataset: its file name, sha256, rows (core.user_data)
    heldout: Split | None = None  # word-combination tasks: sequences decided by combinations no training text has


@dataclass(frozen=True)
class EncodedSplit:
    ids_bxt: np.ndarray     # int64, right-padded with 0
    lengths_b: np.ndarray   # int64
    labels: np.ndarray


def encode_split(split: Split, vocab: Vocab) -> EncodedSplit:
    lengths = np.array([len(t) for t in split.tokens], dtype=np.int64)
    ids = np.zeros((len(split), max(1, int(lengths.max(initial=1)))), dtype=np.int64)
    for row, toks in enumerate(split.tokens):
        ids[row, : len(toks)] = vocab.encode(toks)
    return EncodedSplit(ids, lengths, split.labels)
