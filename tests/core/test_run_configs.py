"""One run-config and one training loop for classifiers and encoder-decoders (issue 18): SeqRunConfig shares
RunConfig's validation and JSON form (core.config.RunConfigBase), configs saved in existing bundles still parse
and round-trip, and core.training.fit (the loop both train through) keeps the best model by validation and stops
after ``patience`` evaluations without gain."""
from __future__ import annotations

import json

import pytest
import torch
from torch import nn

from core.config import ConfigError, RunConfig, RunConfigBase, TrainConfig, repo_root
from core.seq2seq.config import SeqRunConfig
from core.training import TrainingCancelled, fit

# the run config of gru-seq-translate as the first bundled sequence models saved it (before the shared base)
SAVED_SEQ_RUN = {
    "run_id": "gru-seq-translate",
    "model": {"encoder": "gru", "units": 64, "embed_dim": 32, "src_vocab_size": 18, "tgt_vocab_size": 20,
              "max_src_len": 24},
    "task": {"name": "seq-translate", "min_len": 5, "max_len": 20, "n_train": 20000, "n_val": 500, "n_test": 1000,
             "seed": 0},
    "train": {"steps": 1000, "batch_size": 64, "lr": 0.003, "clip": 1.0, "eval_every": 200, "patience": 3,
              "weight_decay": 0.0, "seed": 0, "bucketed": False},
}


def test_a_saved_sequence_config_parses_and_round_trips():
    config = SeqRunConfig.from_dict(SAVED_SEQ_RUN)
    assert isinstance(config, RunConfigBase) and config.kind == "seq2seq" and RunConfig.kind == "classifier"
    assert config.model.encoder == "gru" and config.task.name == "seq-translate" and config.train.eval_every == 200
    # fields added to the shared TrainConfig since then come back at their defaults
    assert config.to_dict() == {**SAVED_SEQ_RUN, "train": {**SAVED_SEQ_RUN["train"], "input_penalty": 0.0}}


def _bundle_configs():
    root = repo_root() / "models_store"
    return sorted(p for p in root.glob("*/config.json")) if root.is_dir() else []


@pytest.mark.parametrize("path", _bundle_configs(), ids=lambda p: p.parent.name)
def test_every_shipped_bundle_config_still_parses_to_what_it_says(path):
    meta = json.loads(path.read_text())
    cls = SeqRunConfig if meta.get("kind") == "seq2seq" else RunConfig
    parsed = cls.from_dict(meta["run"]).to_dict()
    assert parsed["run_id"] == meta["run"]["run_id"]
    for part in ("model", "task", "train"):  # older bundles lack fields added since: those take their defaults
        assert parsed[part] | meta["run"][part] == parsed[part], part


@pytest.mark.parametrize("cls, run, message", [
    (SeqRunConfig, {**SAVED_SEQ_RUN, "extra": 1}, "unknown keys"),
    (SeqRunConfig, {**SAVED_SEQ_RUN, "run_id": "Bad Id"}, "not a valid run id"),
    (SeqRunConfig, {**SAVED_SEQ_RUN, "model": {**SAVED_SEQ_RUN["model"], "max_src_len": 4}}, "max_src_len"),
    (SeqRunConfig, {**SAVED_SEQ_RUN, "train": {**SAVED_SEQ_RUN["train"], "lr": 5}}, "lr must be"),
    (SeqRunConfig, {**SAVED_SEQ_RUN, "train": {**SAVED_SEQ_RUN["train"], "input_penalty": 0.5}}, "classifiers only"),
    (RunConfig, {"run_id": "x", "model": {"num_classes": 2}, "task": {"num_classes": 3}}, "number of classes"),
    (RunConfig, SAVED_SEQ_RUN, "ModelConfig has unknown keys"),
])
def test_both_kinds_refuse_the_same_way(cls, run, message):
    with pytest.raises(ConfigError, match=message):
        cls.from_dict(run)


def _scripted(accuracies: list[float]):
    """A one-weight model whose weight counts the optimizer steps, and a validation that reads the script."""
    model = nn.Linear(1, 1, bias=False)
    seen: list[float] = []

    def batch_loss() -> torch.Tensor:
        return -model.weight.sum()  # SGD-like: the weight grows every step

    def validate() -> dict:
        seen.append(float(model.weight.item()))
        return {"accuracy": accuracies[len(seen) - 1], "loss": 1.0}

    return model, batch_loss, validate, seen


def test_fit_keeps_the_best_validated_weights_and_stops_after_patience():
    model, batch_loss, validate, seen = _scripted([0.5, 0.8, 0.7, 0.8, 0.6, 0.9])
    events: list[dict] = []
    run = fit(model, TrainConfig(steps=60, eval_every=10, patience=3, lr=0.1, clip=0.0), batch_loss, validate,
              on_progress=events.append)
    assert run["stopped_early"] and run["steps_run"] == 50 and run["best_step"] == 20
    assert [p["step"] for p in run["loss_curve"]] == [10, 20, 30, 40, 50]
    assert [p["val_accuracy"] for p in run["loss_curve"]] == [0.5, 0.8, 0.7, 0.8, 0.6]
    assert float(model.weight.item()) == pytest.approx(seen[1])  # the weights at step 20 are back
    assert not model.training and [e["step"] for e in events if "val_accuracy" in e] == [10, 20, 30, 40, 50]


def test_fit_stops_when_asked():
    model, batch_loss, validate, _ = _scripted([0.5] * 10)
    calls = iter(range(100))
    with pytest.raises(TrainingCancelled):
        fit(model, TrainConfig(steps=100, eval_every=10), batch_loss, validate, should_stop=lambda: next(calls) >= 3)
