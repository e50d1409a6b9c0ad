"""Tasks: synthetic evidence-integration tasks and shipped real-text corpora, one container.

``load_task(config)`` builds a task's splits and vocabulary; ``core.tasks.base`` holds the
containers and ``encode_split``, ``synthetic``, ``corpora`` and ``imdb`` the tasks themselves.
"""
from __future__ import annotations

from core.config import USER_DATA_TASKS, TaskConfig
from core.tasks.base import EncodedSplit, Split, TaskData, encode_split
from core.tasks.corpora import load_corpus_task
from core.tasks.imdb import load_imdb_task
from core.tasks.ngram import NGRAM_TASKS, make_ngram_task
from core.tasks.synthetic import make_synthetic_task
from core.tasks.user import load_user_task

__all__ = ["Split", "TaskData", "EncodedSplit", "encode_split", "load_task"]


def load_task(config: TaskConfig) -> TaskData:
    config.validate()
    if config.is_synthetic:
        return make_synthetic_task(config)
    if config.name in USER_DATA_TASKS:
        return load_user_task(config)
    if config.name in NGRAM_TASKS:
        return make_ngram_task(config)
    if config.name == "imdb":
        return load_imdb_task(config)
    return load_corpus_task(config)
