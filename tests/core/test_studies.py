"""Studies (issue 19): the sweep definitions, a tiny study run as a background job (resumable, summary written),
the per-point measurements and the computed answers."""
from __future__ import annotations

import json
import pytest
import torch

from core import store, studies
from core.config import ModelConfig, RunConfig, TaskConfig, TrainConfig, check_run_id
from core.jobs import JobRegistry, queue_study, run_job
from core.models import build_model
from core.studies import STUDIES, Study, StudyError, StudyPoint, read_summary, summary_path
from core.study_metrics import weight_distance
from core.study_report import answer, format_table


def test_study_definitions_are_valid_small_runs():
    seen = set()
    for study in STUDIES.values():
        assert study.claim.endswith(".") and study.points
        for point in study.points:
            point.config.validate()
            assert check_run_id(point.run_id) == point.config.run_id and point.run_id not in seen
            seen.add(point.run_id)
            assert point.config.model.units <= (256 if study.shipped else 1024)
    cells = {p.config.model.cell for p in STUDIES["cells"].points}
    assert {"tanh", "relu", "gru", "lstm", "mrnn"} <= cells


def tiny_point(cell: str, seed: int = 0) -> StudyPoint:
    run_id = f"st-tiny-{cell}"
    task = TaskConfig("negation", 2, min_len=6, max_len=12, n_train=300, n_val=60, n_test=60)
    train = TrainConfig(steps=30, batch_size=16, eval_every=10, patience=100, seed=seed)
    return StudyPoint(run_id, RunConfig(run_id, ModelConfig(cell, 4, 4, num_classes=2), task, train))


def test_a_study_runs_as_a_job_resumes_and_writes_its_summary(tmp_path, monkeypatch):
    tiny = Study("cells", "tiny", "A claim.", (tiny_point("tanh"), tiny_point("mrnn")))
    monkeypatch.setitem(STUDIES, "cells", tiny)
    monkeypatch.setattr(studies, "analysis_options", lambda units: {"n_inits": 16, "cloud_size": 200,
                                                                    "max_sequences": 60})
    registry = JobRegistry(tmp_path)
    job = queue_study(registry, "cells", owner="alice")
    status = run_job(job.job_id, registry)
    assert status.state == "succeeded" and status.progress == 1.0, status.message
    summary = read_summary("cells", (tmp_path,))
    assert [p["run_id"] for p in summary["points"]] == ["st-tiny-tanh", "st-tiny-mrnn"]
    for row in summary["points"]:
        assert 0 <= row["test_accuracy"] <= 1 and 0 <= row["heldout_accuracy"] <= 1
        assert row["weight_distance"] > 0 and row["n_fixed_points"] >= 1 and row["contexts"] == ["not", "the"]
        assert store.load_path(tmp_path / row["run_id"]).has_analysis
    assert set(summary["baselines"]["negation"]) == {"unigram", "uni+bigram"}
    assert answer(summary) and "mrnn" in format_table(summary)
    # a second run measures the bundles it finds instead of training them again
    weights = tmp_path / "st-tiny-mrnn" / "model.safetensors"
    before = weights.stat().st_mtime_ns
    studies.run_study("cells", tmp_path)
    assert weights.stat().st_mtime_ns == before


def test_unknown_and_damaged_summaries(tmp_path):
    with pytest.raises(StudyError, match="unknown study"):
        read_summary("../etc", (tmp_path,))
    assert read_summary("width", (tmp_path,)) is None
    path = summary_path("width", tmp_path)
    path.parent.mkdir()
    path.write_text("{not json")
    with pytest.raises(StudyError, match="cannot be read"):
        read_summary("width", (tmp_path,))
    path.write_text(json.dumps({"version": 99, "points": []}))
    with pytest.raises(StudyError, match="not a version"):
        read_summary("width", (tmp_path,))


def test_weight_distance_is_zero_at_initialization_and_relative():
    config = ModelConfig("gru", 8, 4, vocab_size=10, num_classes=2)
    model = build_model(config, seed=5)
    assert weight_distance(model, seed=5) == 0.0
    assert weight_distance(model, seed=6) > 1.0  # another random start is about sqrt(2) away
    with torch.no_grad():
        for w in model.live_weights().values():
            w.mul_(1.1)
    assert weight_distance(model, seed=5) == pytest.approx(0.1, rel=1e-4)


def _row(**kw) -> dict:
    return {"train_s": 10.0, "analysis_s": 2.0, **kw}


def test_answers_are_computed_from_the_numbers():
    cells = {"name": "cells", "runtime_s": 60, "points": [
        _row(task=t, cell=c, test_accuracy=acc, heldout_accuracy=acc - 0.1)
        for t in ("negation", "bigram") for c, acc in (("tanh", 0.6), ("relu", 0.55), ("gru", 0.9), ("lstm", 0.85),
                                                       ("mrnn", 0.95))]}
    assert "2 of 2 tasks: the claim is supported" in answer(cells)[0]
    for p in cells["points"]:
        p["test_accuracy"] = 0.9
    assert "0 of 2 tasks: the claim is not supported" in answer(cells)[0]
    width = {"name": "width", "runtime_s": 60, "points": [
        _row(cell="gru", units=u, test_accuracy=0.9, weight_distance=3.0 * u ** -0.5, dims95=5, n_fixed_points=3)
        for u in (16, 64, 256)]}
    assert "width^-0.50, lazier with width" in answer(width)[0]
    width["points"][-1]["test_accuracy"] = 0.5   # a width that did not learn: out of the fit, and said so
    width["points"][-1]["weight_distance"] = 9.0
    assert "width^-0.50 (widths [256] did not learn the task" in answer(width)[0]
    relu = {"name": "relu-tanh", "runtime_s": 60, "points": [
        _row(cell=c, seed=s, neutral_bias=b * (-1) ** s, kick_asymmetry=a)
        for c, b, a in (("relu", 0.4, 0.3), ("tanh", 0.1, 0.02)) for s in range(3)]}
    assert answer(relu)[0].endswith(": supported.")
    relu["points"][0:3] = [_row(cell="relu", seed=s, neutral_bias=0.1, kick_asymmetry=0.3) for s in range(3)]
    assert answer(relu)[0].endswith(": partly supported.")
    relu["points"][0:3] = [_row(cell="relu", seed=s, neutral_bias=0.1, kick_asymmetry=0.05) for s in range(3)]
    relu["points"][3:] = [_row(cell="tanh", seed=s, neutral_bias=0.1, kick_asymmetry=0.01) for s in range(3)]
    assert answer(relu)[0].endswith(": not supported.")  # 5x the asymmetry, but 5% of nothing is no bias
    assert "took 1 min" in answer(relu)[-1] and answer({"name": "cells", "points": []}) == []


def test_the_width_answer_fits_a_slope_only_with_two_widths_that_learned():
    from core.study_report import _width_answer

    point = {"cell": "gru", "test_accuracy": 0.9, "dims95": 3, "n_fixed_points": 2}
    (one,) = _width_answer({"points": [{**point, "units": 12, "weight_distance": 0.08}]})
    assert "too few widths" in one and "nan" not in one
    (three,) = _width_answer({"points": [{**point, "units": u, "weight_distance": 0.1 * u ** -0.5} for u in (16, 32, 64)]})
    assert "width^-0.50" in three and "lazier with width" in three and "not clearly" not in three
