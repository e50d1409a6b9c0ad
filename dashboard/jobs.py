"""Training jobs from the dashboard's side: where they run, and the Train page's access to them.

Jobs run outside the web workers: a detached local process per running job by default (``python -m core
run-job``, started only once the job holds a slot: a queued job is a file, not a process), a Celery
worker when ATTRACTORSCOPE_REDIS_URL is set (README, DEPLOY). They are not Dash background callbacks:
Dash cancels a callback's running job when the same callback fires again, which would kill a running
training when the user queues a second one. Each job reports through the job registry in the store
(``core.jobs``), which every worker reads. A job belongs to the browser session that queued it
(``dashboard.session``): only that session can cancel it or delete the run it trained.
"""
from __future__ import annotations

import logging
import os
import subprocess
import sys
import time
from pathlib import Path

from flask import current_app, has_app_context

from core import store
from core.config import ConfigError, RunConfig, repo_root
from core.jobs import ACTIVE_STATES, JobRegistry, JobStatus, drain, queue_study
from core.priority import lower_priority
from dashboard.runtime import bundles, settings
from dashboard.session import client_owner
from dashboard.settings import Settings

__all__ = ["make_celery", "JobLauncher", "JobQueueDown", "job_launcher", "job_registry", "run_ids", "submit_job",
           "submit_study", "cancel_job", "delete_user_run"]

log = logging.getLogger(__name__)
CELERY_TASK = "attractorscope.run_job"
REMIND_AFTER_S = 30.0  # Celery: queued jobs and nothing running for this long means a lost message


class JobQueueDown(Exception):
    """The job queue (Redis, for Celery) cannot be reached; the message is for the user."""


def make_celery(redis_url: str):
    from celery import Celery  # a deploy extra (requirements-deploy.txt): only imported when configured

    celery_app = Celery("attractorscope", broker=redis_url, backend=redis_url)
    # one job at a time per worker process, and no prefetching of queued jobs behind a long one
    celery_app.conf.update(worker_prefetch_multiplier=1, task_acks_late=True, broker_connection_retry_on_startup=True)

    @celery_app.task(name=CELERY_TASK)
    def run_job_task(job_id: str) -> str:
        # job_id is the job that prompted this message: the task runs whatever is first in the queue while a
        # slot is free, and returns at once when none is, so a worker never sits waiting inside a task
        lower_priority()  # this worker only trains: let the web workers go first
        current = Settings.from_env()  # a worker shares the web workers' env: same store, same limits
        status = drain(current.job_registry())
        return status.state if status else "idle"

    return celery_app


class JobLauncher:
    """Hands queued jobs to what runs them: a local ``python -m core run-job`` per free slot, or Celery."""

    def __init__(self, settings: Settings, celery_app=None):
        self.settings = settings
        self.celery_app = celery_app
        self._children: list[subprocess.Popen] = []
        self._reminded = 0.0

    def registry(self) -> JobRegistry:
        return self.settings.job_registry()

    def launch(self, job_id: str) -> None:
        """A job was just queued; raises JobQueueDown when Celery's broker cannot be reached."""
        if self.celery_app is not None:
            self._send(job_id)
        else:
            self.dispatch()

    def dispatch(self) -> None:
        """Start what can start (the Train page calls this on every poll): locally, a runner process for each
        free slot; with Celery, a reminder when jobs wait and nothing runs (their message was lost)."""
        self._children = [p for p in self._children if p.poll() is None]  # wait for exited runners: no zombies
        registry = self.registry()
        if self.celery_app is not None:
            self._remind(registry)
            return
        try:
            while registry.claim_next(self._spawn) is not None:
                pass
        except OSError as err:  # could not start a process (out of pids or memory): the job stays queued
            log.warning("could not start a job runner: %s", err)

    def _spawn(self, job: JobStatus) -> int:
        log_path = self.settings.jobs_store / ".jobs" / f"{job.job_id}.log"
        env = {**os.environ, "ATTRACTORSCOPE_STORE": str(self.settings.store),
               "ATTRACTORSCOPE_USER_STORE": str(self.settings.jobs_store),
               "ATTRACTORSCOPE_MAX_JOBS": str(self.settings.max_jobs)}
        with open(log_path, "ab") as log_file:
            # its own session: the job outlives the request (and a server restart); `python -m core
            # run-job` lowers its own priority first thing (core/__main__.py)
            proc = subprocess.Popen([sys.executable, "-m", "core", "run-job", job.job_id], cwd=repo_root(), env=env,
                                    stdin=subprocess.DEVNULL, stdout=log_file, stderr=log_file, start_new_session=True)
        self._children.append(proc)
        return proc.pid

    def _remind(self, registry: JobRegistry) -> None:
        registry.reap()
        jobs = registry.list()
        waiting = [j for j in jobs if j.state == "queued"]
        if not waiting or any(j.state == "running" for j in jobs) or time.time() - waiting[0].created < REMIND_AFTER_S \
                or time.monotonic() - self._reminded < REMIND_AFTER_S:
            return
        self._reminded = time.monotonic()
        try:
            self._send(waiting[0].job_id)
        except JobQueueDown:
            pass  # logged by _send; the next poll tries again

    def _send(self, job_id: str) -> None:
        try:
            self.celery_app.send_task(CELERY_TASK, args=[job_id])
        except Exception as err:  # noqa: BLE001 - any broker failure: the user gets a sentence, the log the class
            log.warning("could not send job %s to the queue: %s", job_id, err.__class__.__name__)
            raise JobQueueDown("The job queue cannot be reached right now; nothing was queued. Try again in a "
                               "minute.") from None


def job_launcher() -> JobLauncher:
    """The running app's launcher (create_app puts it in the Flask config)."""
    return current_app.config["ATTRACTORSCOPE_JOBS"]


def job_registry() -> JobRegistry:
    # A Celery worker runs jobs outside any Flask request: it reads the same env vars as the web
    # workers (README, DEPLOY), so both see one store and one job folder.
    current = settings() if has_app_context() else Settings.from_env()
    return current.job_registry()


def run_ids() -> tuple[set[str], set[str]]:
    """(every run id in the store or being trained, the read-only bundled ones)."""
    summaries = bundles().summaries()
    pending = {j.run_id for j in job_registry().list() if j.state in ACTIVE_STATES}
    return {s.run_id for s in summaries} | pending, {s.run_id for s in summaries if s.bundled}


def submit_job(config: RunConfig, registry: JobRegistry, action: str = "train",
               source: str = "") -> tuple[JobStatus | None, str]:
    """Queue a validated job for this browser session and hand it over: (the job or None, a sentence).
    A job the queue refuses, or cannot receive, leaves no record behind. ``action="import"``: analyze the
    upload staged under ``source`` (core.importer) instead of training."""
    return _queue_and_launch(lambda: registry.create(config, owner=client_owner(), action=action, source=source),
                             registry, f"Queued {config.run_id}.")


def _queue_and_launch(queue, registry: JobRegistry, done: str) -> tuple[JobStatus | None, str]:
    """Queue a job record with ``queue()`` and hand it to the launcher; a refused or undeliverable job leaves no
    record behind."""
    try:
        job = queue()
    except ConfigError as err:
        return None, str(err)
    try:
        job_launcher().launch(job.job_id)
    except JobQueueDown as err:
        registry.delete(job.job_id)
        return None, str(err)
    return job, done


def submit_study(name: str, registry: JobRegistry) -> tuple[JobStatus | None, str]:
    """Queue a study (core.studies) as one background job for this browser session: (the job or None, a sentence)."""
    return _queue_and_launch(lambda: queue_study(registry, name, owner=client_owner()), registry,
                             f"Queued study {name}: its models land in your store (Models page) as they finish.")


def cancel_job(job_id, registry: JobRegistry) -> str:
    job = registry.get(job_id)  # None for a tampered id: never a path
    if job is None:
        return "There is no such job."
    if not job.owner or job.owner != client_owner():
        return "Only the browser session that started a job can cancel it."
    registry.request_cancel(job.job_id)
    return "Cancelling…"


def delete_user_run(run_id) -> str:
    summary = next((s for s in bundles().summaries() if s.run_id == run_id), None)
    if summary is None:
        return f"There is no model {str(run_id)[:64]!r} to delete."
    if summary.bundled:
        return f"{run_id!r} ships with attractorscope and is read-only."
    if not summary.owner or summary.owner != client_owner():
        return f"Only the browser session that trained {run_id} can delete it."
    try:
        store.delete_bundle(run_id, settings().jobs_store)
    except store.BundleError as err:
        return str(err)
    log.info("deleted run %s", run_id)
    return f"Deleted {run_id}."
