"""The job queue's rules (issue 16), without training anything: a queued job is a record, not a process, and
nothing lost can block the queue; limits on the queue, per client and on estimated time; finished records
are pruned; a name is reserved atomically and a finished job never replaces a bundle; a dead job's staging
folder goes with it; an exited child is dead even before its parent waits for it."""
from __future__ import annotations

import os
import signal
import subprocess
import threading
import time

import pytest

from core import atomic
from core.config import ConfigError, ModelConfig, RunConfig, TaskConfig, TrainConfig
from core.job_registry import JobLimits, JobRefused, JobRegistry
from core.jobs import drain, run_claimed

DEAD_PID = 2**22 + 12345  # above the default pid_max: never a live process


def config(run_id: str = "q-job", steps: int = 40, units: int = 8, cell: str = "gru") -> RunConfig:
    return RunConfig(run_id, ModelConfig(cell, units, 4, num_classes=2),
                     TaskConfig("categorical", 2, min_len=5, max_len=15, n_train=300, n_val=60, n_test=60),
                     TrainConfig(steps=steps, batch_size=16, eval_every=10, patience=100))


def hold_the_slot(registry: JobRegistry, run_id: str = "holder") -> str:
    """A running job whose process is alive (this one)."""
    job = registry.create(config(run_id))
    registry.update(job.job_id, state="running", stage="training", pid=os.getpid())
    return job.job_id


def test_queued_jobs_are_records_and_the_head_is_claimed_when_a_slot_frees(tmp_path):
    registry = JobRegistry(tmp_path, max_running=1)
    holder = hold_the_slot(registry)
    first, second = registry.create(config("first")), registry.create(config("second"))
    assert registry.get(first.job_id).pid is None and registry.get(second.job_id).pid is None
    assert registry.claim_next() is None  # the slot is taken: nothing starts, nothing waits
    registry.update(holder, state="succeeded", finished=time.time())
    claimed = registry.claim_next(lambda job: 4242)
    assert claimed.job_id == first.job_id
    status = registry.get(first.job_id)
    assert (status.state, status.stage, status.pid) == ("running", "starting", 4242)


def test_a_runner_with_no_free_slot_returns_instead_of_waiting(tmp_path):
    """A Celery worker or a local runner never sits inside a task waiting for a slot."""
    registry = JobRegistry(tmp_path, max_running=1)
    hold_the_slot(registry)
    registry.create(config("waiting"))
    assert drain(registry) is None


def test_a_lost_queue_entry_does_not_block_the_jobs_behind_it(tmp_path):
    """The head of the queue lost its process (or its Celery message): the next claim runs it, and then
    the job behind it, in order; nothing waits for a process that will never come."""
    registry = JobRegistry(tmp_path, max_running=1)
    orphan = registry.create(config("orphan"))
    registry.update(orphan.job_id, pid=DEAD_PID)  # what a killed `run-job` that was waiting left behind
    later = registry.create(config("later"))
    assert registry.claim_next().job_id == orphan.job_id
    registry.update(orphan.job_id, state="succeeded", finished=time.time())
    assert registry.claim_next().job_id == later.job_id


def test_a_job_cancelled_while_its_process_starts_never_begins(tmp_path):
    registry = JobRegistry(tmp_path)
    job = registry.create(config())
    registry.claim_next()  # claimed for this process, which has not begun the work
    registry.request_cancel(job.job_id)
    status = registry.get(job.job_id)
    assert status.state == "cancelled" and status.message == "Cancelled before it started."
    assert registry.begin(job.job_id) is None
    assert run_claimed(status, registry).state == "cancelled"
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(atomic.TEMP_PREFIX)]


@pytest.mark.parametrize("limits, owners, refused", [
    (JobLimits(max_queued=3, max_per_owner=10), ["a", "b", "c"], "The queue is full"),
    (JobLimits(max_queued=10, max_per_owner=2), ["a", "a"], "You already have 2 jobs"),
])
def test_the_queue_and_each_client_are_capped(tmp_path, limits, owners, refused):
    registry = JobRegistry(tmp_path, limits=limits)
    for i, owner in enumerate(owners):
        registry.create(config(f"job-{i}"), owner=owner)
    with pytest.raises(JobRefused, match=refused):
        registry.create(config("one-more"), owner=owners[-1])
    assert len(registry.list()) == len(owners)


def test_jobs_from_the_command_line_have_no_per_client_cap(tmp_path):
    registry = JobRegistry(tmp_path, limits=JobLimits(max_per_owner=1))
    for i in range(3):
        registry.create(config(f"cli-{i}"))
    assert len(registry.list()) == 3


def test_a_job_estimated_over_the_limit_is_refused(tmp_path):
    registry = JobRegistry(tmp_path, limits=JobLimits(max_estimate_s=3600))
    with pytest.raises(JobRefused, match="over this server's limit of 60 min"):
        registry.create(config("huge", steps=20_000, units=512, cell="lstm"))
    registry.create(config("small"))
    assert [j.run_id for j in registry.list()] == ["small"]


@pytest.mark.parametrize("cell, units, ok", [("gru", 2, False), ("tanh", 2, False), ("gru", 3, True), ("lstm", 2, True)])
def test_a_model_the_analysis_cannot_draw_is_refused(tmp_path, cell, units, ok):
    registry = JobRegistry(tmp_path)
    if ok:
        registry.create(config(units=units, cell=cell))
    else:
        with pytest.raises(ConfigError, match="needs at least 3 units"):
            registry.create(config(units=units, cell=cell))


def test_finished_records_are_pruned_newest_kept(tmp_path):
    registry = JobRegistry(tmp_path, limits=JobLimits(keep_finished=5))
    for i in range(12):
        job = registry.create(config(f"done-{i}"))
        (registry.root / f"{job.job_id}.log").write_text("log")
        registry.update(job.job_id, state="failed", finished=1000.0 + i)
    active = registry.create(config("active"))
    kept = registry.list()
    assert [j.run_id for j in kept] == [f"done-{i}" for i in range(7, 12)] + ["active"]
    assert sorted(p.name for p in registry.root.glob("*.log")) == sorted(f"{j.job_id}.log" for j in kept
                                                                            if j.job_id != active.job_id)


def test_a_name_is_reserved_atomically(tmp_path):
    registry = JobRegistry(tmp_path)
    barrier, accepted, refused = threading.Barrier(8), [], []

    def start() -> None:
        barrier.wait()
        try:
            accepted.append(JobRegistry(tmp_path).create(config("same-name")))
        except JobRefused as err:
            refused.append(str(err))

    threads = [threading.Thread(target=start) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(accepted) == 1 and len(refused) == 7
    assert "A model named same-name exists or is being trained" in refused[0]
    (tmp_path / "on-disk").mkdir()
    with pytest.raises(JobRefused):
        registry.create(config("on-disk"))


def test_a_finished_job_never_replaces_a_bundle_that_appeared_meanwhile(tmp_path, monkeypatch):
    registry = JobRegistry(tmp_path)
    job = registry.create(config("contested"))
    target = tmp_path / "contested"

    def fake_train_run(cfg, store_path, **_kwargs):
        (store_path / cfg.run_id).mkdir()
        (store_path / cfg.run_id / "config.json").write_text("{}")
        target.mkdir()  # another job (or the CLI) saved a model under this name while we trained
        (target / "theirs").write_text("keep me")
        return store_path / cfg.run_id

    monkeypatch.setattr("core.jobs.train_run", fake_train_run)
    monkeypatch.setattr("core.jobs.store.load_path", lambda path: None)
    monkeypatch.setattr("core.jobs.analyze_bundle", lambda bundle, on_progress: None)
    status = run_claimed(registry.claim_next(), registry)
    assert status.state == "failed" and "nothing was replaced" in status.message
    assert (target / "theirs").read_text() == "keep me"


def test_a_dead_jobs_staging_folder_is_removed_when_it_is_reaped(tmp_path):
    registry = JobRegistry(tmp_path)
    job = registry.create(config())
    registry.update(job.job_id, state="running", pid=DEAD_PID)
    staging = tmp_path / f"{atomic.TEMP_PREFIX}job{job.job_id}-{DEAD_PID}-abcd1234"
    (staging / "q-job").mkdir(parents=True)
    other = tmp_path / f"{atomic.TEMP_PREFIX}jobsomeoneelse-{os.getpid()}-abcd1234"
    other.mkdir()
    registry.reap()
    assert registry.get(job.job_id).state == "failed"
    assert not staging.exists() and other.exists()


def test_an_exited_child_not_yet_waited_for_is_dead():
    """A job process a web worker started and that was killed stays a zombie until the worker waits for
    it; its slot must not be held meanwhile."""
    child = subprocess.Popen(["sleep", "60"])
    try:
        os.kill(child.pid, signal.SIGKILL)
        deadline = time.monotonic() + 10
        while atomic.pid_alive(child.pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not atomic.pid_alive(child.pid)
        assert child.returncode is None  # not waited for yet: still a zombie in the process table
    finally:
        child.wait()


def test_a_job_that_begins_says_what_it_does_training_or_importing(tmp_path):
    registry = JobRegistry(tmp_path)
    trained = registry.create(config("trained"))
    imported = registry.create(config("imported"), action="import", source="upload-1")
    for job in (trained, imported):
        registry.update(job.job_id, state="running")
    assert registry.begin(trained.job_id).stage == "training"
    assert registry.begin(imported.job_id).stage == "importing"  # nothing is trained: the card must not say so
