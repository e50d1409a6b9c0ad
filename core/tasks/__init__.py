"""Tasks: synthetic evidence-integration tasks and shipped real-text corpora, one container."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core.config import TaskConfig
from core.text import Vocab

__all__ = ["Split", "TaskData", "load_task"]


@dataclass(frozen=True)
class Split:
    tokens: list[list[str]]
    labels: np.ndarray  # (b,) int64 class index, or (b, k) float32 0/1 for multi-label

    def __len__(self) -> int:
        return len(self.tokens)


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


def load_task(config: TaskConfig) -> TaskData:
    config.validate()
    if config.is_synthetic:
        from core.tasks.synthetic import make_synthetic_task

        return make_synthetic_task(config)
    from core.tasks.corpora import load_corpus_task

    return load_corpus_task(config)
