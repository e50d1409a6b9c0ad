"""One readable training loop (``fit``): Adam, gradient clipping, validation-based early stopping; classifiers
train through it here (``train``), encoder-decoders in ``core.seq2seq.training``.

Progress goes through ``on_progress(event: dict)``; cancellation through ``should_stop() -> bool``.
Nothing here prints.
"""
from __future__ import annotations

import copy
import dataclasses
import time
from dataclasses import dataclass
from typing import Callable

import numpy as np
import torch
from torch import nn

from core.config import RunConfig, TrainConfig
from core.embeddings import pretrained_embedding
from core.models import RNNClassifier, build_model
from core.tasks import EncodedSplit, TaskData, encode_split
from core.text import Vocab

__all__ = ["TrainedModel", "TrainingCancelled", "train", "fit", "evaluate", "PROGRESS_EVERY"]

EVAL_BATCH = 512
PROGRESS_EVERY = 25  # steps between progress ticks (evaluations also report, with metrics)


class TrainingCancelled(Exception):
    """should_stop() asked the loop to stop; nothing was saved."""


@dataclass
class TrainedModel:
    model: RNNClassifier
    vocab: Vocab
    metrics: dict
    task: TaskData
    # (step, validation accuracy, weights) at step 0 and at every evaluation, when train(keep_snapshots=True),
    # for core.checkpoints to choose the training-time checkpoints from; evaluating draws no random numbers,
    # so the final weights are the same with or without them
    snapshots: list = dataclasses.field(default_factory=list)


def _batch(data: EncodedSplit, idx: np.ndarray):
    lengths = data.lengths_b[idx]
    width = max(1, int(lengths.max()))
    return (torch.from_numpy(data.ids_bxt[idx, :width]), torch.from_numpy(lengths),
            torch.from_numpy(data.labels[idx]))


class _Batches:
    """Which training rows each step reads.

    Default: ``batch_size`` rows drawn with replacement. Bucketed (long documents): each epoch
    sorts the rows by length (ties broken at random), cuts the order into batches of similar
    length and shuffles the batches, so a batch is padded to little more than its own lengths.
    """

    def __init__(self, lengths_b: np.ndarray, batch_size: int, bucketed: bool, rng: np.random.Generator):
        self.lengths, self.batch_size, self.bucketed, self.rng = lengths_b, batch_size, bucketed, rng
        self.queue: list[np.ndarray] = []

    def next(self) -> np.ndarray:
        if not self.bucketed:
            return self.rng.integers(0, len(self.lengths), self.batch_size)
        if not self.queue:
            order = np.lexsort((self.rng.random(len(self.lengths)), self.lengths))
            self.queue = [order[i:i + self.batch_size] for i in range(0, len(order), self.batch_size)]
            self.rng.shuffle(self.queue)
        return self.queue.pop()


def _loss_fn(multilabel: bool):
    return nn.BCEWithLogitsLoss() if multilabel else nn.CrossEntropyLoss()


@torch.no_grad()
def evaluate(model: RNNClassifier, data: EncodedSplit, task: TaskData) -> dict:
    """Loss, accuracy, per-class accuracy (and MAE for ordered tasks, exact match for multi-label)."""
    model.eval()
    loss_fn = _loss_fn(task.multilabel)
    order = np.argsort(data.lengths_b, kind="stable")  # similar lengths together: little padding
    logits_bxk = torch.empty(len(order), model.config.num_classes)
    for start in range(0, len(order), EVAL_BATCH):
        rows = order[start:start + EVAL_BATCH]
        ids, lengths, _ = _batch(data, rows)
        logits_bxk[torch.from_numpy(rows)] = model(ids, lengths)
    labels = torch.from_numpy(data.labels)
    out = {"loss": float(loss_fn(logits_bxk, labels))}
    if task.multilabel:
        pred = (logits_bxk > 0).numpy()
        correct = pred == data.labels.astype(bool)
        out["accuracy"] = float(correct.mean())
        out["exact_match"] = float(correct.all(axis=1).mean())
        out["per_class_accuracy"] = correct.mean(axis=0).tolist()
        return out
    pred = logits_bxk.argmax(-1).numpy()
    out["accuracy"] = float((pred == data.labels).mean())
    out["per_class_accuracy"] = [
        float((pred[data.labels == k] == k).mean()) if (data.labels == k).any() else float("nan")
        for k in range(len(task.class_names))]
    if task.ordered:
        out["mae"] = float(np.abs(pred - data.labels).mean())
    return out


def _final_metrics(model: RNNClassifier, data: TaskData, val_set: EncodedSplit, run: dict) -> dict:
    """The best model on the test and validation splits, with the run's own figures."""
    test = evaluate(model, encode_split(data.test, data.vocab), data)
    val = evaluate(model, val_set, data)
    metrics = {
        "test_accuracy": test["accuracy"], "val_accuracy": val["accuracy"], "test_loss": test["loss"],
        "per_class_accuracy": test["per_class_accuracy"], "best_step": run["best_step"], "steps_run": run["steps_run"],
        "stopped_early": run["stopped_early"], "loss_curve": run["loss_curve"], "wall_time_s": run["wall_time_s"],
        "n_train": len(data.train), "n_val": len(data.val), "n_test": len(data.test),
    }
    for key in ("mae", "exact_match"):
        if key in test:
            metrics[f"test_{key}"] = test[key]
    return metrics


def fit(model: nn.Module, tc: TrainConfig, batch_loss: Callable[[], torch.Tensor], validate: Callable[[], dict],
        on_progress: Callable[[dict], None] | None = None, should_stop: Callable[[], bool] | None = None,
        curve_keys: tuple[str, ...] = ("loss", "accuracy"), on_eval: Callable[[int, dict], None] | None = None) -> dict:
    """The loop every run shares (classifiers here, encoder-decoders in ``core.seq2seq.training``): Adam and
    gradient clipping on ``batch_loss()`` (the loss of the next training batch, the model in train mode);
    every ``eval_every`` steps ``validate()`` (a dict with at least ``loss`` and ``accuracy``) adds a curve
    point (``val_<key>`` for each of ``curve_keys``) and the best model by validation accuracy, then loss, is
    kept; ``patience`` evaluations without gain stop early. Leaves the best weights loaded, in eval mode, and
    returns best_step, steps_run, stopped_early, loss_curve and wall_time_s. ``on_eval(step, val)``, if given,
    sees the untrained model's validation (step 0) and every evaluation (core.checkpoints keeps snapshots).
    Validating draws no random numbers, so it leaves the trained weights as they would be without it."""
    optimizer = torch.optim.Adam(model.parameters(), lr=tc.lr, weight_decay=tc.weight_decay)
    start = time.perf_counter()
    best = {"accuracy": -1.0, "loss": float("inf"), "step": 0}
    best_state = copy.deepcopy(model.state_dict())
    curve, running, evals_without_gain, step, stopped_early = [], [], 0, 0, False
    if on_eval is not None:
        on_eval(0, validate())
    for step in range(1, tc.steps + 1):
        if should_stop is not None and should_stop():
            raise TrainingCancelled("training was cancelled")
        model.train()
        loss = batch_loss()
        optimizer.zero_grad()
        loss.backward()
        if tc.clip > 0:
            nn.utils.clip_grad_norm_(model.parameters(), tc.clip)
        optimizer.step()
        running.append(loss.item())
        if step % tc.eval_every and step != tc.steps:
            if on_progress is not None and step % PROGRESS_EVERY == 0:
                on_progress({"stage": "training", "step": step, "total": tc.steps,
                             "elapsed_s": time.perf_counter() - start})
            continue
        val = validate()
        curve.append({"step": step, "train_loss": float(np.mean(running)),
                      **{f"val_{key}": val[key] for key in curve_keys}})
        running = []
        if on_eval is not None:
            on_eval(step, val)
        if (val["accuracy"], -val["loss"]) > (best["accuracy"], -best["loss"]):
            best = {"accuracy": val["accuracy"], "loss": val["loss"], "step": step}
            best_state = copy.deepcopy(model.state_dict())
            evals_without_gain = 0
        else:
            evals_without_gain += 1
        if on_progress is not None:
            on_progress({"stage": "training", "step": step, "total": tc.steps, **curve[-1],
                         "elapsed_s": time.perf_counter() - start})
        if evals_without_gain >= tc.patience:
            stopped_early = True
            break
    model.load_state_dict(best_state)
    model.eval()
    return {"best_step": best["step"], "steps_run": step, "stopped_early": stopped_early, "loss_curve": curve,
            "wall_time_s": round(time.perf_counter() - start, 2)}


def _snapshot(model: RNNClassifier, step: int, val_accuracy: float) -> tuple[int, float, dict]:
    return step, float(val_accuracy), {k: v.detach().clone() for k, v in model.state_dict().items()}


def input_drive_power(model: RNNClassifier, ids_bxt: torch.Tensor, lengths_b: torch.Tensor) -> torch.Tensor:
    """The mean square of the input drive W_x x (bias excluded) per gate unit, over the batch's real tokens:
    what ``TrainConfig.input_penalty`` weighs. Small drives keep the gates near their linear range, so a word's
    kick is close to J_x x (D1 in ``core.dynamics.one_step_errors``)."""
    valid_bxt = torch.arange(ids_bxt.shape[1])[None, :] < torch.as_tensor(lengths_b)[:, None]
    x_vxe = model.embed(ids_bxt)[valid_bxt]
    if len(x_vxe) == 0:
        return x_vxe.new_zeros(())
    return (x_vxe @ model.live_weights()["w_x"].T).pow(2).mean()


def train(config: RunConfig, data: TaskData, on_progress: Callable[[dict], None] | None = None,
          should_stop: Callable[[], bool] | None = None, keep_snapshots: bool = False) -> TrainedModel:
    config.validate()
    tc = config.train
    torch.manual_seed(tc.seed)
    rng = np.random.default_rng(tc.seed)
    model = build_model(config.model, seed=tc.seed)
    if config.model.pretrained:
        emb_vxe, _ = pretrained_embedding(config.model.pretrained, data.vocab, seed=tc.seed)
        with torch.no_grad():
            model.embedding.weight.copy_(torch.from_numpy(emb_vxe))
    train_set, val_set = encode_split(data.train, data.vocab), encode_split(data.val, data.vocab)
    loss_fn = _loss_fn(data.multilabel)
    batches = _Batches(train_set.lengths_b, tc.batch_size, tc.bucketed, rng)

    def batch_loss() -> torch.Tensor:
        ids, lengths, labels = _batch(train_set, batches.next())
        loss = loss_fn(model(ids, lengths), labels)
        return loss + tc.input_penalty * input_drive_power(model, ids, lengths) if tc.input_penalty else loss

    snapshots = []
    keep = (lambda step, val: snapshots.append(_snapshot(model, step, val["accuracy"]))) if keep_snapshots else None
    run = fit(model, tc, batch_loss, lambda: evaluate(model, val_set, data), on_progress, should_stop, on_eval=keep)
    metrics = _final_metrics(model, data, val_set, run)
    return TrainedModel(model, data.vocab, metrics, data, snapshots)
