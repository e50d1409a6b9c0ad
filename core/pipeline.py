"""From a run config to a saved bundle: load the task, train, save atomically (any run, bundled or not).

``train_run`` is what the CLI (``python -m core train``), the background jobs (``core.jobs``) and
``bundle-all`` call; analysis is a separate step (``core.analysis.analyze_bundle``). Provenance
(data, seeds, code and torch versions) goes into the bundle's config.json.
"""
from __future__ import annotations

import dataclasses
import subprocess
import tempfile
from pathlib import Path
from typing import Callable

import torch

from core import store
from core.checkpoints import FILE_NAME as CHECKPOINTS_FILE
from core.checkpoints import save_checkpoints, select_checkpoints
from core.config import RunConfig, repo_root, store_dir, user_store_dir
from core.tasks import TaskData, encode_split, load_task
from core.training import TrainedModel, train

__all__ = ["train_run", "write_checkpoints", "code_version", "resolve_vocab_size"]

AGREEMENT_TEXTS = 500


def code_version() -> str:
    try:
        out = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=repo_root(),
                             capture_output=True, text=True, timeout=5)
        return out.stdout.strip() or "unknown"
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def resolve_vocab_size(config: RunConfig, data: TaskData) -> RunConfig:
    """The vocabulary is only known once the training split is built."""
    return dataclasses.replace(config, model=dataclasses.replace(config.model, vocab_size=len(data.vocab)))


def train_run(config: RunConfig, on_progress: Callable[[dict], None] | None = None,
              should_stop: Callable[[], bool] | None = None, store_path: Path | None = None,
              bundled: bool = False, owner: str = "") -> Path:
    """Load the task, train, save the bundle atomically into ``store_path`` (default: the bundled store for a
    bundled run, else the user store); returns the bundle folder. ``owner`` (the browser
    session that queued the job, ``core.job_registry``) is kept in the bundle's task info: only it may delete."""
    data = load_task(config.task)
    config = resolve_vocab_size(config, data)
    result = train(config, data, on_progress=on_progress, should_stop=should_stop, keep_snapshots=True)
    info = {"class_names": list(data.class_names), "examples": list(data.examples), "ordered": data.ordered,
            "multilabel": data.multilabel, "source": data.source, "bundled": bundled}
    if owner:
        info["owner"] = owner
    provenance = {"data": data.source, "seed": config.train.seed, "task_seed": config.task.seed,
                  "code_version": code_version(), "torch": torch.__version__}
    if data.provenance:
        provenance["dataset"] = data.provenance
    target = store_path or (store_dir() if bundled else user_store_dir())
    with tempfile.TemporaryDirectory() as tmp:
        extra = {CHECKPOINTS_FILE: write_checkpoints(result, Path(tmp) / CHECKPOINTS_FILE)}
        return store.save_bundle(config, result.model, result.vocab, info, result.metrics, provenance, store=target,
                                 extra_files=extra)


def write_checkpoints(result: TrainedModel, path: Path, n_agreement: int = AGREEMENT_TEXTS) -> Path:
    """The training-time checkpoints (``core.checkpoints``) of a run: chosen among its snapshots by
    validation progress, the last one the weights training kept (its best evaluation); a compressed
    embedding's fidelity is measured on the first ``n_agreement`` validation texts."""
    accuracies = [acc for _, acc, _ in result.snapshots]
    best = next(i for i, (step, _, _) in enumerate(result.snapshots) if step == result.metrics["best_step"])
    chosen = [result.snapshots[i] for i in select_checkpoints(accuracies, best)]
    val = encode_split(result.task.val, result.vocab)
    return save_checkpoints(path, chosen, result.model, val.ids_bxt[:n_agreement], val.lengths_b[:n_agreement])
