"""Job records in ``<store>/.jobs`` and the rules of the queue: who may queue what, which job runs next.

A record is created ``queued`` (a file, no process), claimed ``running`` by the process that will run it
(``claim_next``), and ends ``succeeded``, ``failed`` or ``cancelled``. Every change that depends on the
other records (create, claim, reap, prune) happens under one file lock, so two web workers never accept
two jobs with one name and never start more than ``max_running`` jobs. A claimed job whose process died
is reaped (marked failed, its staging folder removed); finished records beyond the newest
``keep_finished`` are pruned. ``core.jobs`` runs the jobs.
"""
from __future__ import annotations

import fcntl
import json
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

from core import atomic
from core.cells import CELLS
from core.config import ConfigError, RunConfig, store_dir, user_store_dir

__all__ = ["JobStatus", "JobLimits", "JobRegistry", "JobRefused", "ACTIVE_STATES", "MIN_STATE_SIZE",
           "estimate_seconds", "analysis_seconds", "check_analysable", "duration_text", "queue_positions"]

ACTIVE_STATES = ("queued", "running")
JOB_ID_RE = re.compile(r"[A-Za-z0-9]{1,64}")
MIN_STATE_SIZE = 3  # the analysis fits a PCA and draws the state in 3 dimensions


class JobRefused(ConfigError):
    """The server will not queue this job (limits, a name in use); the message is for the user."""


@dataclass
class JobStatus:
    job_id: str
    run_id: str
    config: dict
    state: str = "queued"           # queued | running | succeeded | failed | cancelled
    stage: str = "waiting"          # waiting | starting | training | trajectories | PCA | ... | done
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
    owner: str = ""                 # the browser session that queued it ("" from the CLI)
    kind: str = "classifier"        # or "seq2seq": config is a core.seq2seq.config.SeqRunConfig
    action: str = "train"           # "train", or "import": analyze the model staged in .imports/<source>
    source: str = ""                # an import's staging folder name (core.importer)

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


@dataclass(frozen=True)
class JobLimits:
    max_running: int = 1                # jobs that run at once per store
    max_queued: int = 20                # jobs waiting at once, every client together
    max_per_owner: int = 2              # queued or running jobs per browser session
    max_estimate_s: float | None = None  # a longer estimated job is refused (None: no limit)
    keep_finished: int = 50             # finished records kept, newest first; older ones are pruned


def analysis_seconds(config: RunConfig) -> float:
    """A rough duration of the analysis alone (an imported model's job)."""
    return 8.0 + 10.0 * (config.model.state_size / 128) ** 2


def estimate_seconds(config: RunConfig) -> float:
    """A rough duration: training cost ~ steps x batch x length x (gates x units x (units + embed)), plus analysis."""
    if config.kind == "seq2seq":
        return _seq_estimate_seconds(config)
    gates = CELLS[config.model.cell].gates
    m = config.model
    length = {"reviews": 25, "stars": 70, "imdb": 270}.get(config.task.name, (config.task.min_len + config.task.max_len) / 2)
    flops = 6 * config.train.steps * config.train.batch_size * length * gates * m.units * (m.units + m.embed_dim)
    per_step_overhead_s = 0.02  # Python, optimizer and kernel launches: dominant for small models
    return 5.0 + config.train.steps * per_step_overhead_s + flops / 4e9 + analysis_seconds(config)


def _seq_estimate_seconds(config) -> float:
    """An encoder-decoder (core.seq2seq) steps its decoder in Python, one target token at a time: on one thread
    ~0.02 s a step plus ~0.012 s per target token (64 pairs of ~12 tokens: 0.17 s a step), measured."""
    length = 12.0 if config.task.name == "seq-scan" else (config.task.min_len + config.task.max_len) / 2
    size = max(1.0, config.model.units * (config.model.units + config.model.embed_dim) / (128 * 192))
    per_step = (0.02 + 0.012 * length * size) * config.train.batch_size / 64
    evals = config.train.steps / config.train.eval_every * (config.task.n_val / 300) * 0.15
    return 5.0 + config.train.steps * per_step + evals + 3.0


def check_analysable(config: RunConfig) -> None:
    """Refuse a model the analysis cannot draw: its state must have at least MIN_STATE_SIZE numbers."""
    if config.kind == "seq2seq":
        if config.model.units < MIN_STATE_SIZE:
            raise ConfigError(f"an encoder-decoder needs at least {MIN_STATE_SIZE} units: the analysis draws its "
                              f"states in {MIN_STATE_SIZE} dimensions.")
        return
    if config.model.state_size < MIN_STATE_SIZE:
        raise ConfigError(f"a {config.model.cell.upper()} needs at least {MIN_STATE_SIZE} units: the analysis "
                          f"draws the state in {MIN_STATE_SIZE} dimensions.")


def duration_text(seconds: float) -> str:
    return f"{seconds / 3600:.1f} h" if seconds >= 5400 else f"{seconds / 60:.0f} min"


class JobRegistry:
    """Job status files in ``<user store>/.jobs``; writes are atomic, queue decisions are under a file lock."""

    def __init__(self, store_path: Path | None = None, max_running: int = 1, limits: JobLimits | None = None,
                 read_only_stores: tuple[Path, ...] | None = None):
        # store_path: where jobs publish their runs (default: the user store); read_only_stores: stores whose run
        # names a new run cannot take (default: the bundled store when store_path is the default)
        self.store_path = Path(store_path or user_store_dir())
        if read_only_stores is None:
            read_only_stores = () if store_path else (store_dir(),)
        self.read_only_stores = tuple(Path(p) for p in read_only_stores)
        self.root = self.store_path / ".jobs"
        self.limits = limits or JobLimits(max_running=max_running)
        self.max_running = self.limits.max_running

    def _path(self, job_id: str) -> Path:
        if not isinstance(job_id, str) or not JOB_ID_RE.fullmatch(job_id):
            raise ValueError("bad job id")  # ids come back from the browser: never a path, never odd unicode
        return self.root / f"{job_id}.json"

    def create(self, config: RunConfig, owner: str = "", action: str = "train", source: str = "") -> JobStatus:
        """Queue a job, or raise JobRefused (ConfigError) saying why not; the name is reserved atomically.
        ``action="import"``: analyze the model staged in ``.imports/<source>`` (core.importer) instead of training."""
        config.validate()
        check_analysable(config)
        estimate = analysis_seconds(config) if action == "import" else estimate_seconds(config)
        return self.enqueue(config.run_id, config.to_dict(), estimate, owner, "use fewer steps or units",
                            kind=config.kind, action=action, source=source)

    def enqueue(self, run_id: str, config: dict, estimate: float, owner: str = "", shorter: str = "",
                longest_run: float | None = None, **fields) -> JobStatus:
        """Queue a job record (a run's config, or a study's ``{"study": name}``) under the queue's rules; the time
        limit applies to each model the job trains (``longest_run``, default the whole estimate). ``fields``:
        the record's kind, action and source (``JobStatus``)."""
        limit, checked = self.limits.max_estimate_s, estimate if longest_run is None else longest_run
        if limit is not None and checked > limit:
            raise JobRefused(f"This job would take about {duration_text(checked)}, over this server's limit of "
                             f"{duration_text(limit)}" + (f": {shorter}." if shorter else "."))
        with self._lock():
            jobs = self._tidy()
            self._check_admission(jobs, run_id, owner)
            status = JobStatus(uuid.uuid4().hex[:12], run_id, config, estimate_s=estimate, owner=owner, **fields)
            self.save(status)
        return status

    def _check_admission(self, jobs: list[JobStatus], run_id: str, owner: str) -> None:
        active = [j for j in jobs if j.state in ACTIVE_STATES]
        if any(j.run_id == run_id for j in active) \
                or any(os.path.lexists(root / run_id) for root in (self.store_path, *self.read_only_stores)):
            raise JobRefused(f"A model named {run_id} exists or is being trained; choose another name.")
        if owner and sum(j.owner == owner for j in active) >= self.limits.max_per_owner:
            raise JobRefused(f"You already have {self.limits.max_per_owner} jobs queued or running; wait for one "
                             "to finish or cancel it.")
        if sum(j.state == "queued" for j in jobs) >= self.limits.max_queued:
            raise JobRefused(f"The queue is full ({self.limits.max_queued} jobs waiting); try again when a job "
                             "has finished.")

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
        """Flag a running job (its loop stops at the next step); a job not yet begun is cancelled at once."""
        with self._lock():
            status = self.get(job_id)
            if status is None or status.state not in ACTIVE_STATES:
                return
            status.cancel_requested = True
            if status.state == "queued" or status.stage == "starting":  # its process may still be loading
                status.state, status.stage, status.finished = "cancelled", "cancelled", time.time()
                status.message = "Cancelled before it started."
            self.save(status)

    def begin(self, job_id: str) -> JobStatus | None:
        """The claimed job's process is ready to work: its stage becomes "training" ("importing" for an import
        job, which trains nothing), unless it was cancelled while starting (then None, and the process leaves
        it alone)."""
        with self._lock():
            status = self.get(job_id)
            if status is None or status.state != "running" or status.cancel_requested:
                return None
            status.stage = "importing" if status.action == "import" else "training"
            self.save(status)
            return status

    def delete(self, job_id: str) -> None:
        self._path(job_id).unlink(missing_ok=True)
        (self.root / f"{job_id}.log").unlink(missing_ok=True)

    def queue_position(self, job_id: str) -> int:
        """1 for the next job to start, 0 if the job is not waiting."""
        return queue_positions(self.list()).get(job_id, 0)

    def try_start(self, job_id: str) -> bool:
        """Take a run slot if one is free and this job is first in the queue (or was claimed for this process)."""
        with self._lock():
            jobs = self._tidy()
            status = next((j for j in jobs if j.job_id == job_id), None)
            if status is not None and status.state == "running" and status.pid == os.getpid() and _here(status):
                return True
            waiting = [j.job_id for j in jobs if j.state == "queued"]
            if _running(jobs) >= self.max_running or not waiting or waiting[0] != job_id:
                return False
            self._mark_running(status, os.getpid())
            return True

    def claim_next(self, launch: Callable[[JobStatus], int] | None = None) -> JobStatus | None:
        """Take a free slot for the first queued job: for this process, or for the process ``launch(job)``
        starts (it returns the new pid, and runs under the lock, so no other claim sees the slot free)."""
        with self._lock():
            jobs = self._tidy()
            waiting = [j for j in jobs if j.state == "queued" and not j.cancel_requested]
            if _running(jobs) >= self.max_running or not waiting:
                return None
            job = waiting[0]
            self._mark_running(job, launch(job) if launch is not None else os.getpid())
            return job

    def _mark_running(self, status: JobStatus, pid: int) -> None:
        status.state, status.stage, status.started = "running", "starting", time.time()
        status.pid, status.host = pid, socket.gethostname()
        self.save(status)

    def reap(self) -> None:
        """Mark jobs whose process died (SIGKILL, reboot) as failed, so they do not hold a slot."""
        with self._lock():
            self._tidy()

    def _tidy(self) -> list[JobStatus]:
        """Under the lock: reap dead jobs (and their staging folders), prune old finished records."""
        jobs = self.list()
        for job in jobs:
            if job.state == "running" and not _alive(job):
                job.state, job.stage, job.finished = "failed", "failed", time.time()
                job.message = "The job's process stopped unexpectedly; nothing was saved."
                self.save(job)
                self.remove_staging(job.job_id)
        finished = sorted((j for j in jobs if j.state not in ACTIVE_STATES), key=lambda j: j.finished or j.created)
        stale = finished[:max(0, len(finished) - self.limits.keep_finished)]
        for job in stale:
            self.delete(job.job_id)
        gone = {j.job_id for j in stale}
        return [j for j in jobs if j.job_id not in gone]

    def remove_staging(self, job_id: str) -> None:
        """The folder a job builds its bundle in (``core.jobs``), once its process is gone."""
        for path in self.store_path.glob(f"{atomic.TEMP_PREFIX}job{job_id}-*"):
            if path.is_symlink():
                path.unlink(missing_ok=True)
            else:
                shutil.rmtree(path, ignore_errors=True)

    @contextmanager
    def _lock(self):
        self.root.mkdir(parents=True, exist_ok=True)
        with open(self.root / ".lock", "a") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)


def queue_positions(jobs: list[JobStatus]) -> dict[str, int]:
    """job id -> place in the queue (1 = next) for the waiting jobs of a listing."""
    return {j.job_id: i + 1 for i, j in enumerate(j for j in jobs if j.state == "queued")}


def _running(jobs: list[JobStatus]) -> int:
    return sum(j.state == "running" for j in jobs)


def _here(job: JobStatus) -> bool:
    return job.host in (None, socket.gethostname())


def _alive(job: JobStatus) -> bool:
    """A running job is dead only if it runs here and its process is gone; other hosts' jobs are trusted."""
    if not _here(job):
        return True
    return atomic.pid_alive(job.pid)
