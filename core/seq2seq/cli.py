"""`python -m core train --task seq-...`, `analyze` and `bundle-all` for sequence-to-sequence runs.

``core.cli`` hands these over when the task, preset or bundle is a sequence one; ``--cell`` names the
encoder (``gru`` or ``ff``: feed-forward with learned position embeddings).
"""
from __future__ import annotations

import dataclasses
from typing import Callable

import torch

from core.config import ConfigError, TrainConfig
from core.seq2seq.analysis import analyze_seq_bundle
from core.seq2seq.config import ENCODERS, SEQ_TASKS
from core.seq2seq.pipeline import SEQ_PRESETS, seq_run_config, train_seq_run
from core.seq_store import load_seq, load_seq_path

__all__ = ["is_seq_request", "train_seq_command", "analyze_seq_command"]


def is_seq_request(args) -> bool:
    return getattr(args, "preset", None) in SEQ_PRESETS or (not getattr(args, "preset", None)
                                                            and getattr(args, "task", None) in SEQ_TASKS)


def _config(args):
    if args.preset:
        config = SEQ_PRESETS[args.preset]
        return dataclasses.replace(config, run_id=args.run_id or config.run_id)
    if args.cell not in ENCODERS:
        raise ConfigError(f"sequence tasks take --cell {' or '.join(ENCODERS)} (the encoder), not {args.cell!r}")
    if not args.run_id:
        raise ConfigError("give the new run a name with --run-id (letters a-z, digits, '-' and '_')")
    train = TrainConfig(steps=args.steps, batch_size=args.batch_size, lr=args.lr, eval_every=max(1, args.steps // 10),
                        patience=4)
    config = seq_run_config(args.run_id, args.task, args.cell, args.units, args.embed, train, args.seed)
    config.validate()
    return config


def train_seq_command(args, progress_bar: Callable) -> int:
    torch.set_num_threads(1)
    config = _config(args)
    bar, on_progress = progress_bar(config.train.steps, f"train {config.run_id}")
    with bar:
        path = train_seq_run(config, on_progress=on_progress, bundled=bool(args.preset))
    bundle = load_seq_path(path)
    print(f"saved {path} (test exact-match accuracy {bundle.metrics['test_accuracy']:.3f}, "
          f"token accuracy {bundle.metrics['test_token_accuracy']:.3f})")
    return 0 if args.no_analyze else analyze_seq_command(bundle.run_id)


def analyze_seq_command(run_id: str) -> int:
    torch.set_num_threads(1)
    bundle = load_seq(run_id)
    figures = analyze_seq_bundle(bundle)
    align = ", ".join(f"{k} {v:.2f}" for k, v in figures["alignment"].items())
    print(f"wrote {bundle.path / 'analysis.npz'}; alignment accuracy: {align}")
    return 0
