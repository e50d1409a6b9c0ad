"""From a sequence run config to a saved, analyzed bundle; and the bundled sequence runs (issue 18).

``train_seq_run`` is what ``python -m core train --task seq-...`` and ``bundle-all`` call. Bundled runs
(``SEQ_PRESETS``) are small GRUs: one per task with a recurrent encoder, and the feed-forward encoder
(learned position embeddings) on translation and sorting. Each is chosen by validation exact-match
accuracy inside its run (``core.seq2seq.training``), never by test.
"""
from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Callable

import torch

from core.config import TrainConfig, store_dir, user_store_dir
from core.pipeline import code_version
from core.seq2seq.config import SeqModelConfig, SeqRunConfig, SeqTaskConfig
from core.seq2seq.training import train_seq
from core.seq_store import save_seq_bundle
from core.tasks.seq2seq import make_seq_task

__all__ = ["SEQ_PRESETS", "train_seq_run", "seq_run_config"]

# about 3 CPU-minutes a run on one thread: 1000 steps of 64 pairs, validation (500 pairs, greedy) every 200
_TRAIN = TrainConfig(steps=1000, batch_size=64, lr=3e-3, eval_every=200, patience=3)
# reversal was still improving at step 1000 (validation exact match 0.944): 3000 steps reach 0.980
_LONG_TRAIN = dataclasses.replace(_TRAIN, steps=3000)


def seq_run_config(run_id: str, task: str, encoder: str = "gru", units: int = 64, embed_dim: int = 32,
                   train: TrainConfig = _TRAIN, seed: int = 0) -> SeqRunConfig:
    """A run on one of the sequence tasks; vocabulary sizes are filled in when the task is built."""
    return SeqRunConfig(run_id, SeqModelConfig(encoder, units, embed_dim), SeqTaskConfig(task, n_val=500, seed=seed),
                        dataclasses.replace(train, seed=seed))


SEQ_PRESETS: dict[str, SeqRunConfig] = {
    "gru-seq-translate": seq_run_config("gru-seq-translate", "seq-translate"),
    "gru-seq-reverse": seq_run_config("gru-seq-reverse", "seq-reverse", train=_LONG_TRAIN),
    "gru-seq-sort": seq_run_config("gru-seq-sort", "seq-sort"),
    "gru-seq-scan": seq_run_config("gru-seq-scan", "seq-scan"),
    "ff-seq-translate": seq_run_config("ff-seq-translate", "seq-translate", encoder="ff"),
    "ff-seq-sort": seq_run_config("ff-seq-sort", "seq-sort", encoder="ff"),
}



def train_seq_run(config: SeqRunConfig, on_progress: Callable[[dict], None] | None = None,
                  should_stop: Callable[[], bool] | None = None, store_path: Path | None = None,
                  bundled: bool = False, owner: str = "") -> Path:
    """Build the task, train, save the bundle atomically into ``store_path`` (default: the bundled store for a
    bundled run, else the user store, as ``core.pipeline.train_run``); returns its folder (analysis is a separate
    step)."""
    data = make_seq_task(config.task)
    model_cfg = dataclasses.replace(config.model, src_vocab_size=len(data.src_vocab), tgt_vocab_size=len(data.tgt_vocab))
    config = dataclasses.replace(config, model=model_cfg)
    result = train_seq(config, data, on_progress=on_progress, should_stop=should_stop)
    info = {"examples": list(data.examples), "source": data.source, "bundled": bundled}
    if owner:
        info["owner"] = owner
    provenance = {"data": f"synthetic {config.task.name}", "seed": config.train.seed, "task_seed": config.task.seed,
                  "code_version": code_version(), "torch": torch.__version__}
    target = store_path or (store_dir() if bundled else user_store_dir())
    return save_seq_bundle(config, result.model, data.src_vocab, data.tgt_vocab, info, result.metrics, provenance,
                           store=target)
