"""Teacher-forced training of an encoder-decoder through ``core.training.fit``, the loop classifiers share.

The batch loss is cross-entropy on every target token and <eos>; every ``eval_every`` steps the model
greedily decodes the validation split and the best exact-match accuracy is kept (early stopping after
``patience`` evaluations without gain). The test split is scored once, on the chosen model.
Progress goes through ``on_progress(event)``; cancellation through ``should_stop()``.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
import torch
from torch import nn

from core.seq2seq.config import SeqRunConfig
from core.seq2seq.models import BOS_ID, EOS_ID, Seq2Seq, build_seq_model
from core.tasks.seq2seq import SeqSplit, SeqTaskData
from core.text import Vocab
from core.training import fit

__all__ = ["EncodedPairs", "encode_pairs", "decode_ids", "evaluate_seq", "train_seq", "TrainedSeqModel"]

EVAL_BATCH = 500


@dataclass(frozen=True)
class EncodedPairs:
    src_bxs: np.ndarray       # int64, right-padded with 0
    src_lengths_b: np.ndarray
    dec_in_bxu: np.ndarray    # <bos> + target
    dec_out_bxu: np.ndarray   # target + <eos>
    tgt_lengths_b: np.ndarray  # target length + 1 (the <eos> step)


@dataclass
class TrainedSeqModel:
    model: Seq2Seq
    metrics: dict


def encode_pairs(split: SeqSplit, src_vocab: Vocab, tgt_vocab: Vocab) -> EncodedPairs:
    src_len = np.array([len(s) for s in split.src], np.int64)
    tgt_len = np.array([len(t) + 1 for t in split.tgt], np.int64)
    src = np.zeros((len(split), max(1, int(src_len.max(initial=1)))), np.int64)
    dec_in = np.zeros((len(split), int(tgt_len.max(initial=1))), np.int64)
    dec_out = np.zeros_like(dec_in)
    for row, (s, t) in enumerate(zip(split.src, split.tgt)):
        src[row, : len(s)] = src_vocab.encode(s)
        ids = tgt_vocab.encode(t)
        dec_in[row, : len(ids) + 1] = [BOS_ID, *ids]
        dec_out[row, : len(ids) + 1] = [*ids, EOS_ID]
    return EncodedPairs(src, src_len, dec_in, dec_out, tgt_len)


def _rows(data: EncodedPairs, idx: np.ndarray) -> tuple[torch.Tensor, ...]:
    s, u = max(1, int(data.src_lengths_b[idx].max())), int(data.tgt_lengths_b[idx].max())
    return (torch.from_numpy(data.src_bxs[idx, :s]), torch.from_numpy(data.src_lengths_b[idx]),
            torch.from_numpy(data.dec_in_bxu[idx, :u]), torch.from_numpy(data.dec_out_bxu[idx, :u]))


def decode_ids(out_bxu: np.ndarray) -> list[list[int]]:
    """Greedy outputs cut at the first <eos> (excluded)."""
    rows = []
    for row in np.asarray(out_bxu):
        ends = np.nonzero(row == EOS_ID)[0]
        rows.append([int(i) for i in row[: ends[0] if len(ends) else len(row)]])
    return rows


@torch.no_grad()
def evaluate_seq(model: Seq2Seq, data: EncodedPairs) -> dict:
    """Teacher-forced loss and token accuracy; greedy exact-match (sequence) accuracy."""
    model.eval()
    loss_sum = tokens = token_hits = seq_hits = 0.0
    for start in range(0, len(data.src_lengths_b), EVAL_BATCH):
        idx = np.arange(start, min(start + EVAL_BATCH, len(data.src_lengths_b)))
        src, src_len, dec_in, dec_out = _rows(data, idx)
        logits = model(src, src_len, dec_in).logits_bxuxv
        valid = dec_out != 0
        loss_sum += float(nn.functional.cross_entropy(logits[valid], dec_out[valid], reduction="sum"))
        tokens += int(valid.sum())
        token_hits += int((logits.argmax(-1) == dec_out)[valid].sum())
        out, _ = model.greedy(src, src_len, max_steps=dec_out.shape[1] + 2)
        wanted = decode_ids(dec_out.numpy())
        seq_hits += sum(got == want for got, want in zip(decode_ids(out.numpy()), wanted))
    n = len(data.src_lengths_b)
    return {"loss": loss_sum / max(tokens, 1), "token_accuracy": token_hits / max(tokens, 1),
            "accuracy": seq_hits / max(n, 1)}


def train_seq(config: SeqRunConfig, data: SeqTaskData, on_progress: Callable[[dict], None] | None = None,
              should_stop: Callable[[], bool] | None = None) -> TrainedSeqModel:
    config.validate()
    tc = config.train
    model = build_seq_model(config.model, seed=tc.seed)
    rng = np.random.default_rng(tc.seed)
    train_set, val_set = (encode_pairs(s, data.src_vocab, data.tgt_vocab) for s in (data.train, data.val))

    def batch_loss() -> torch.Tensor:
        src, src_len, dec_in, dec_out = _rows(train_set, rng.integers(0, len(data.train), tc.batch_size))
        logits = model(src, src_len, dec_in).logits_bxuxv
        return nn.functional.cross_entropy(logits.flatten(0, 1), dec_out.flatten(), ignore_index=0)

    run = fit(model, tc, batch_loss, lambda: evaluate_seq(model, val_set), on_progress, should_stop,
              curve_keys=("loss", "accuracy", "token_accuracy"))
    test = evaluate_seq(model, encode_pairs(data.test, data.src_vocab, data.tgt_vocab))
    val = evaluate_seq(model, val_set)
    metrics = {"test_accuracy": test["accuracy"], "test_token_accuracy": test["token_accuracy"],
               "test_loss": test["loss"], "val_accuracy": val["accuracy"], "val_token_accuracy": val["token_accuracy"],
               **run, "n_train": len(data.train), "n_val": len(data.val), "n_test": len(data.test)}
    return TrainedSeqModel(model, metrics)
