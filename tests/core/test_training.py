"""The training loop: a tiny GRU learns, progress is reported, cancellation works, seeds reproduce."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from core.config import ModelConfig, RunConfig, TaskConfig, TrainConfig
from core.tasks import encode_split, load_task
from core.training import TrainingCancelled, evaluate, train

TASK = TaskConfig(name="categorical", num_classes=2, min_len=5, max_len=20,
                  n_train=1000, n_val=200, n_test=300, seed=0)


@pytest.fixture(scope="module")
def data():
    return load_task(TASK)


def run_config(data, steps=200, seed=0, cell="gru", **train_kw) -> RunConfig:
    model = ModelConfig(cell=cell, units=16, embed_dim=8, vocab_size=len(data.vocab), num_classes=2)
    kw = dict(steps=steps, batch_size=32, lr=1e-2, eval_every=50, patience=100, seed=seed)
    return RunConfig(run_id="train-test", model=model, task=TASK, train=TrainConfig(**{**kw, **train_kw}))


@pytest.mark.slow
def test_tiny_gru_learns_categorical_task(data):
    events = []
    result = train(run_config(data), data, on_progress=events.append)
    metrics = result.metrics
    assert metrics["test_accuracy"] >= 0.9, metrics
    assert metrics["steps_run"] == 200 and not metrics["stopped_early"]
    assert min(metrics["per_class_accuracy"]) >= 0.85
    # progress: ticks every PROGRESS_EVERY steps, and one event per evaluation with its metrics
    assert [e["step"] for e in events] == [25, 50, 75, 100, 125, 150, 175, 200]
    assert all(e["stage"] == "training" and e["total"] == 200 for e in events)
    events = [e for e in events if "val_accuracy" in e]
    assert [e["step"] for e in events] == [50, 100, 150, 200]
    for event in events:
        assert event["stage"] == "training" and event["total"] == 200
        assert np.isfinite(event["train_loss"]) and np.isfinite(event["val_loss"])
        assert 0.0 <= event["val_accuracy"] <= 1.0 and event["elapsed_s"] >= 0
    assert events[-1]["train_loss"] < events[0]["train_loss"] or events[0]["val_accuracy"] >= 0.95
    assert [c["step"] for c in metrics["loss_curve"]] == [50, 100, 150, 200]
    # the returned model is the best-by-validation one, in eval mode, and its metrics are honest
    assert not result.model.training
    test = evaluate(result.model, encode_split(data.test, data.vocab), data)
    assert test["accuracy"] == metrics["test_accuracy"]
    assert result.vocab is data.vocab and result.task is data


def test_untrained_model_is_near_chance(data):
    # guards the test above: the task is not solved by a model that has barely trained
    result = train(run_config(data, steps=1, lr=1e-7), data)
    assert result.metrics["test_accuracy"] < 0.75


def test_should_stop_cancels(data):
    calls = []

    def should_stop():
        calls.append(1)
        return len(calls) > 3

    events = []
    with pytest.raises(TrainingCancelled):
        train(run_config(data, steps=50, eval_every=1), data, on_progress=events.append,
              should_stop=should_stop)
    assert len(calls) == 4 and [e["step"] for e in events] == [1, 2, 3]


def test_should_stop_false_runs_to_the_end(data):
    result = train(run_config(data, steps=5, eval_every=5), data, should_stop=lambda: False)
    assert result.metrics["steps_run"] == 5


def test_early_stopping_after_patience_evaluations_without_gain(data, monkeypatch):
    import core.training

    flat = {"loss": 1.0, "accuracy": 0.5, "per_class_accuracy": [0.5, 0.5]}
    monkeypatch.setattr(core.training, "evaluate", lambda *args: dict(flat))
    events = []
    result = train(run_config(data, steps=400, eval_every=2, patience=3), data, on_progress=events.append)
    # the first evaluation sets the best; three more without gain stop the loop
    assert result.metrics["stopped_early"] and result.metrics["steps_run"] == 8
    assert result.metrics["best_step"] == 2 and [e["step"] for e in events] == [2, 4, 6, 8]


def _train_weights(data, seed):
    return train(run_config(data, steps=20, seed=seed, eval_every=10), data).model.state_dict()


def test_same_seed_gives_identical_weights(data):
    a, b, c = _train_weights(data, 1), _train_weights(data, 1), _train_weights(data, 2)
    assert a.keys() == b.keys()
    for name in a:
        assert torch.equal(a[name], b[name]), name
    assert any(not torch.equal(a[name], c[name]) for name in a)


@pytest.mark.parametrize("name, k, key", [("ordered", 3, "test_mae"), ("multilabel", 3, "test_exact_match")])
def test_other_synthetic_tasks_train_and_report(name, k, key):
    task = TaskConfig(name=name, num_classes=k, min_len=5, max_len=15, n_train=100, n_val=30, n_test=30)
    d = load_task(task)
    config = RunConfig(run_id="other", task=task, train=TrainConfig(steps=10, batch_size=16, eval_every=5),
                       model=ModelConfig(cell="ugrnn", units=8, embed_dim=4, vocab_size=len(d.vocab),
                                         num_classes=k, multilabel=name == "multilabel"))
    metrics = train(config, d).metrics
    assert key in metrics and np.isfinite(metrics[key]) and 0 <= metrics["test_accuracy"] <= 1


def test_input_drive_power_is_the_mean_square_of_w_x_x_over_real_tokens(data):
    from core.models import build_model
    from core.training import input_drive_power

    config = run_config(data)
    model = build_model(config.model, seed=0)
    ids = torch.tensor([[3, 4, 5], [6, 0, 0]])
    lengths = torch.tensor([3, 1])
    x = model.embed(torch.tensor([3, 4, 5, 6]))  # the padding after the second text does not count
    expected = (x @ model.live_weights()["w_x"].T).pow(2).mean()
    assert torch.allclose(input_drive_power(model, ids, lengths), expected)
    assert float(input_drive_power(model, ids[:, :0], torch.tensor([0, 0]))) == 0.0


def test_an_input_penalty_makes_the_input_drive_smaller_and_is_saved_with_the_config(data):
    from core.training import input_drive_power

    plain = train(run_config(data, steps=100), data)
    gentle = train(run_config(data, steps=100, input_penalty=5.0), data)
    val = encode_split(data.val, data.vocab)
    ids, lengths = torch.from_numpy(val.ids_bxt), torch.from_numpy(val.lengths_b)
    with torch.no_grad():
        power = [float(input_drive_power(r.model, ids, lengths)) for r in (plain, gentle)]
    assert power[1] < 0.5 * power[0], power
    assert TrainConfig.from_dict({"input_penalty": 5.0}).input_penalty == 5.0
    with pytest.raises(ValueError):
        TrainConfig(input_penalty=-1.0).validate()
