"""Background jobs: run to completion, cancel, fail, queue, reap; nothing half-written is ever left."""
from __future__ import annotations

import os
import threading
import time

import pytest

from core import store
from core.config import ModelConfig, RunConfig, TaskConfig, TrainConfig
from core.jobs import JobRegistry, estimate_seconds, run_job

pytestmark = pytest.mark.slow


def tiny_config(run_id: str = "job-tiny", steps: int = 40) -> RunConfig:
    return RunConfig(run_id, ModelConfig("gru", 8, 4, num_classes=2),
                     TaskConfig("categorical", 2, min_len=5, max_len=15, n_train=300, n_val=60, n_test=60),
                     TrainConfig(steps=steps, batch_size=16, eval_every=10, patience=100))


def leftovers(root) -> list[str]:
    return [p.name for p in root.iterdir() if p.name.startswith((".tmp-", ".trash-"))]


def test_job_trains_analyzes_and_publishes(tmp_path):
    registry = JobRegistry(tmp_path)
    job = registry.create(tiny_config())
    status = run_job(job.job_id, registry)
    assert status.state == "succeeded" and status.progress == 1.0 and status.stage == "done"
    bundle = store.load_path(tmp_path / "job-tiny")
    assert bundle.has_analysis and bundle.analysis.fixed_points.n_points >= 1
    assert len(registry.get(job.job_id).curve) == 4  # one point per evaluation (every 10 of 40 steps)
    assert leftovers(tmp_path) == []


def test_cancel_while_training_leaves_nothing(tmp_path):
    registry = JobRegistry(tmp_path)
    job = registry.create(tiny_config(steps=100_000))

    def cancel_when_running():
        for _ in range(600):
            current = registry.get(job.job_id)
            if current.state == "running" and current.curve:
                registry.request_cancel(job.job_id)
                return
            time.sleep(0.05)

    threading.Thread(target=cancel_when_running, daemon=True).start()
    start = time.monotonic()
    status = run_job(job.job_id, registry)
    assert status.state == "cancelled" and "nothing was saved" in status.message
    assert time.monotonic() - start < 120
    assert not (tmp_path / "job-tiny").exists()
    assert leftovers(tmp_path) == []


def test_cancel_before_start_never_runs(tmp_path):
    registry = JobRegistry(tmp_path)
    job = registry.create(tiny_config())
    registry.request_cancel(job.job_id)
    status = run_job(job.job_id, registry)
    assert status.state == "cancelled" and status.started is None
    assert not (tmp_path / "job-tiny").exists()


def test_queue_waits_for_a_free_slot(tmp_path):
    registry = JobRegistry(tmp_path, max_running=1)
    first = registry.create(tiny_config("first"))
    second = registry.create(tiny_config("second"))
    assert registry.queue_position(first.job_id) == 1 and registry.queue_position(second.job_id) == 2
    assert registry.try_start(first.job_id)          # this process holds the only slot
    assert not registry.try_start(second.job_id)     # so the next one waits
    assert registry.queue_position(second.job_id) == 1


def test_reap_frees_the_slot_of_a_killed_job(tmp_path):
    registry = JobRegistry(tmp_path, max_running=1)
    dead = registry.create(tiny_config("dead"))
    registry.update(dead.job_id, state="running", pid=2**22 + 12345)  # no such process
    waiting = registry.create(tiny_config("waiting"))
    assert registry.try_start(waiting.job_id)  # a dead pid never holds the slot
    registry.reap()
    assert registry.get(dead.job_id).state == "failed"
    assert "stopped unexpectedly" in registry.get(dead.job_id).message


def test_a_crashing_job_reports_one_sentence(tmp_path, monkeypatch):
    def explode(*args, **kwargs):
        raise RuntimeError("boom\nwith a long traceback")

    monkeypatch.setattr("core.jobs.train_run", explode)
    registry = JobRegistry(tmp_path)
    job = registry.create(tiny_config())
    status = run_job(job.job_id, registry)
    assert status.state == "failed"
    assert status.message == "The job failed (RuntimeError); see the server log for details."
    assert leftovers(tmp_path) == []


def test_registry_rejects_path_like_job_ids(tmp_path):
    registry = JobRegistry(tmp_path)
    for bad in ("../x", "a/b", ""):
        with pytest.raises(ValueError):
            registry._path(bad)
    assert registry.get("nonexistent") is None


def test_estimate_grows_with_work():
    small, big = tiny_config(steps=100), tiny_config(steps=10_000)
    assert 0 < estimate_seconds(small) < estimate_seconds(big)


def test_pid_of_running_job_is_this_process(tmp_path):
    registry = JobRegistry(tmp_path)
    job = registry.create(tiny_config())
    assert registry.try_start(job.job_id)
    assert registry.get(job.job_id).pid == os.getpid()
