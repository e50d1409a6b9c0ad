"""Training + analysis jobs with a status registry on disk, shared by every worker that sees the store.

A job is created (queued), run by whichever process picks it up (a detached local process
started by the Train page, or a Celery worker), and reports progress, curves and its outcome into
``<store>/.jobs/<job_id>.json``. A browser that reloads finds the job again by reading that
folder. Cancellation is a flag the training loop checks every step; the bundle is built in a
temp folder and renamed into the store only when training and analysis both finished, so a
cancelled, failed or killed job leaves nothing half-written.
"""
from __future__ import annotations

import fcntl
import json
import logging
import os
import re
import shutil
import socket
import time
import uuid
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable

from core import atomic, store
from core.analysis import analyze_bundle
from core.cells import CELLS
from core.config import ConfigError, RunConfig, store_dir
from core.pipeline import train_run
from core.training import TrainingCancelled

__all__ = ["JobStatus", "JobRegistry", "JobCancelled", "run_job", "ACTIVE_STATES", "estimate_seconds"]

log = logging.getLogger(__name__)
ACTIVE_STATES = ("queued", "running")
MAX_CURVE_POINTS = 400
JOB_ID_RE = re.compile(r"[A-Za-z0-9]{1,64}")


class JobCancelled(Exception):
    """The user asked the job to stop."""


@dataclass
class JobStatus:
    job_id: str
    run_id: str
    config: dict
    state: str = "queued"           # queued | running | succeeded | failed | cancelled
    stage: str = "waiting"          # waiting | training | trajectories | PCA | fixed points | ... | done
    progress: float = 0.0           # 0..1 over the whole job
    message: str = ""               # one sentence for the user when failed/cancelled
    created: float = field(default_factory=time.time)
    started: float | None = None
    finished: float | None = None
    estimate_s: float | None = None
    curve: list = field(default_factory=list)  # [{step, train_loss, val_accuracy}]
    cancel_requested: bool = False
    pid: int | None = None
    host: str | None = None         # where it runs: a pid can only be checked on its own machine

    @property
    def elapsed_s(self) -> float:
        if self.started is None:
            return 0.0
        return (self.finished or time.time()) - self.started

    @property
    def remaining_s(self) -> float | None:
        if self.state != "running" or self.progress <= 0.02:
            return self.estimate_s
        return max(0.0, self.elapsed_s * (1 - self.progress) / self.progress)


class JobRegistry:
    """Job status files in ``<store>/.jobs``; writes are atomic, slot allocation is under a file lock."""

    def __init__(self, store_path: Path | None = None, max_running: int = 1):
        self.store_path = Path(store_path or store_dir())
        self.root = self.store_path / ".jobs"
        self.max_running = max_running

    def _path(self, job_id: str) -> Path:
        if not isinstance(job_id, str) or not JOB_ID_RE.fullmatch(job_id):
            raise ValueError("bad job id")  # ids come back from the browser: never a path, never odd unicode
        return self.root / f"{job_id}.json"

    def create(self, config: RunConfig) -> JobStatus:
        config.validate()
        self.root.mkdir(parents=True, exist_ok=True)
        status = JobStatus(uuid.uuid4().hex[:12], config.run_id, config.to_dict(), estimate_s=estimate_seconds(config))
        self.save(status)
        return status

    def save(self, status: JobStatus) -> None:
        atomic.write_file(self._path(status.job_id), lambda fh: fh.write(json.dumps(asdict(status)).encode()))

    def get(self, job_id: str) -> JobStatus | None:
        try:
            return JobStatus(**json.loads(self._path(job_id).read_text()))
        except (OSError, ValueError, TypeError):
            return None

    def list(self) -> list[JobStatus]:
        if not self.root.is_dir():
            return []
        jobs = [self.get(p.stem) for p in self.root.glob("*.json")]
        return sorted((j for j in jobs if j is not None), key=lambda j: j.created)

    def update(self, job_id: str, **fields) -> JobStatus | None:
        with self._lock():
            status = self.get(job_id)
            if status is None:
                return None
            for key, value in fields.items():
                setattr(status, key, value)
            self.save(status)
            return status

    def request_cancel(self, job_id: str) -> None:
        status = self.update(job_id, cancel_requested=True)
        if status is not None and status.state == "queued":
            self.update(job_id, state="cancelled", stage="cancelled", message="Cancelled before it started.",
                        finished=time.time())

    def delete(self, job_id: str) -> None:
        self._path(job_id).unlink(missing_ok=True)

    def queue_position(self, job_id: str) -> int:
        """1 for the next job to start, 0 if the job is not waiting."""
        waiting = [j.job_id for j in self.list() if j.state == "queued"]
        return waiting.index(job_id) + 1 if job_id in waiting else 0

    def try_start(self, job_id: str) -> bool:
        """Take a run slot if one is free and this job is first in the queue."""
        with self._lock():
            jobs = self.list()
            running = [j for j in jobs if j.state == "running" and _alive(j)]
            waiting = [j.job_id for j in jobs if j.state == "queued"]
            if len(running) >= self.max_running or not waiting or waiting[0] != job_id:
                return False
            status = self.get(job_id)
            status.state, status.stage, status.started = "running", "training", time.time()
            status.pid, status.host = os.getpid(), socket.gethostname()
            self.save(status)
            return True

    def reap(self) -> None:
        """Mark jobs whose process died (SIGKILL, reboot) as failed, so they do not hold a slot."""
        for job in self.list():
            if job.state == "running" and not _alive(job):
                self.update(job.job_id, state="failed", stage="failed", finished=time.time(),
                            message="The job's process stopped unexpectedly; nothing was saved.")

    @contextmanager
    def _lock(self):
        self.root.mkdir(parents=True, exist_ok=True)
        with open(self.root / ".lock", "a") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)


def _alive(job: JobStatus) -> bool:
    """A running job is dead only if it runs here and its process is gone; other hosts' jobs are trusted."""
    if job.host not in (None, socket.gethostname()):
        return True
    return atomic.pid_alive(job.pid)


def estimate_seconds(config: RunConfig) -> float:
    """A rough duration: training cost ~ steps x batch x length x (gates x units x (units + embed)), plus analysis."""
    gates = CELLS[config.model.cell].gates
    m = config.model
    length = {"reviews": 25, "stars": 70, "imdb": 270}.get(config.task.name, (config.task.min_len + config.task.max_len) / 2)
    flops = 6 * config.train.steps * config.train.batch_size * length * gates * m.units * (m.units + m.embed_dim)
    per_step_overhead_s = 0.02  # Python, optimizer and kernel launches: dominant for small models
    return 5.0 + config.train.steps * per_step_overhead_s + flops / 4e9 + 8.0 + 10.0 * (m.state_size / 128) ** 2


def run_job(job_id: str, registry: JobRegistry, poll_s: float = 1.0) -> JobStatus:
    """Wait for a slot, train, analyze, publish the bundle; every outcome lands in the registry."""
    status = registry.get(job_id)
    if status is None:
        raise ValueError(f"no job {job_id}")
    while not registry.try_start(job_id):
        registry.reap()
        current = registry.get(job_id)
        if current is None or current.state != "queued" or current.cancel_requested:
            return current
        time.sleep(poll_s)
    staging = atomic.new_temp_dir(registry.store_path, f"job{job_id}")
    try:
        config = RunConfig.from_dict(status.config)
        path = train_run(config, on_progress=_training_reporter(registry, job_id), store_path=staging,
                         should_stop=lambda: _cancel_requested(registry, job_id))
        bundle = store.load_path(path)
        analyze_bundle(bundle, on_progress=_analysis_reporter(registry, job_id))
        atomic.replace_dir(path, store.bundle_path(config.run_id, registry.store_path))
        return registry.update(job_id, state="succeeded", stage="done", progress=1.0, finished=time.time())
    except (TrainingCancelled, JobCancelled):
        return registry.update(job_id, state="cancelled", stage="cancelled", finished=time.time(),
                               message="Cancelled; nothing was saved.")
    except (ConfigError, store.BundleError) as err:
        return registry.update(job_id, state="failed", stage="failed", finished=time.time(), message=str(err))
    except Exception as err:  # noqa: BLE001 - any crash becomes a one-sentence reason; details go to the log
        log.exception("job %s failed", job_id)
        return registry.update(job_id, state="failed", stage="failed", finished=time.time(),
                               message=f"The job failed ({err.__class__.__name__}); see the server log for details.")
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _cancel_requested(registry: JobRegistry, job_id: str) -> bool:
    status = registry.get(job_id)
    return status is None or status.cancel_requested


TRAIN_SHARE = 0.8  # fraction of the progress bar given to training; the rest is analysis


def _training_reporter(registry: JobRegistry, job_id: str) -> Callable[[dict], None]:
    def report(event: dict) -> None:
        fields = {"stage": "training", "progress": TRAIN_SHARE * event["step"] / event["total"]}
        if "val_accuracy" in event:  # an evaluation point, not just a progress tick
            status = registry.get(job_id)
            fields["curve"] = (status.curve if status else [])[-MAX_CURVE_POINTS:] + [
                {k: event[k] for k in ("step", "train_loss", "val_accuracy", "val_loss") if k in event}]
        registry.update(job_id, **fields)

    return report


def _analysis_reporter(registry: JobRegistry, job_id: str) -> Callable[[dict], None]:
    def report(event: dict) -> None:
        if _cancel_requested(registry, job_id):
            raise JobCancelled()
        registry.update(job_id, stage=event["stage"],
                        progress=TRAIN_SHARE + (1 - TRAIN_SHARE) * event["step"] / event["total"])

    return report
