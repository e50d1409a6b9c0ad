"""Training jobs from the dashboard's side: where they run, and the Train page's access to them.

Jobs run outside the web workers: a detached local process per job by default (``python -m core
run-job``), a Celery worker when ATTRACTORSCOPE_REDIS_URL is set (README, DEPLOY). They are not
Dash background callbacks: Dash cancels a callback's running job when the same callback fires
again, which would kill a running training when the user queues a second one. Each job reports
through the job registry in the store (``core.jobs``), which every worker reads.
"""
from __future__ import annotations

import logging
import os
import subprocess
import sys
from pathlib import Path

from flask import current_app, has_app_context

from core import store
from core.config import repo_root
from core.jobs import ACTIVE_STATES, JobRegistry, run_job
from core.priority import lower_priority
from dashboard.runtime import bundles, settings
from dashboard.settings import Settings

__all__ = ["make_celery", "JobLauncher", "job_launcher", "job_registry", "run_ids", "delete_user_run"]

log = logging.getLogger(__name__)
CELERY_TASK = "attractorscope.run_job"


def make_celery(redis_url: str):
    from celery import Celery  # a deploy extra (requirements-deploy.txt): only imported when configured

    celery_app = Celery("attractorscope", broker=redis_url, backend=redis_url)
    # one job at a time per worker process, and no prefetching of queued jobs behind a long one
    celery_app.conf.update(worker_prefetch_multiplier=1, task_acks_late=True, broker_connection_retry_on_startup=True)

    @celery_app.task(name=CELERY_TASK)
    def run_job_task(job_id: str) -> str:
        lower_priority()  # this worker only trains: let the web workers go first
        current = Settings.from_env()  # a worker shares the web workers' env: same store, same limits
        status = run_job(job_id, JobRegistry(current.store, max_running=current.max_jobs))
        return status.state if status else "unknown"

    return celery_app


class JobLauncher:
    """Starts a created job: ``celery_app.send_task`` when configured, else a detached ``python -m core run-job``."""

    def __init__(self, settings: Settings, celery_app=None):
        self.settings = settings
        self.celery_app = celery_app

    def launch(self, job_id: str) -> None:
        if self.celery_app is not None:
            self.celery_app.send_task(CELERY_TASK, args=[job_id])
            return
        log_path = Path(self.settings.store) / ".jobs" / f"{job_id}.log"
        env = {**os.environ, "ATTRACTORSCOPE_STORE": str(self.settings.store),
               "ATTRACTORSCOPE_MAX_JOBS": str(self.settings.max_jobs)}
        with open(log_path, "ab") as log_file:
            # its own session: the job outlives the request (and a server restart); `python -m core
            # run-job` lowers its own priority first thing (core/__main__.py)
            subprocess.Popen([sys.executable, "-m", "core", "run-job", job_id], cwd=repo_root(), env=env,
                             stdin=subprocess.DEVNULL, stdout=log_file, stderr=log_file, start_new_session=True)


def job_launcher() -> JobLauncher:
    """The running app's launcher (create_app puts it in the Flask config)."""
    return current_app.config["ATTRACTORSCOPE_JOBS"]


def job_registry() -> JobRegistry:
    # A Celery worker runs jobs outside any Flask request: it reads the same env vars as the web
    # workers (README, DEPLOY), so both see one store and one job folder.
    current = settings() if has_app_context() else Settings.from_env()
    return JobRegistry(current.store, max_running=current.max_jobs)


def run_ids() -> tuple[set[str], set[str]]:
    """(every run id in the store or being trained, the read-only bundled ones)."""
    summaries = bundles().summaries()
    pending = {j.run_id for j in job_registry().list() if j.state in ACTIVE_STATES}
    return {s.run_id for s in summaries} | pending, {s.run_id for s in summaries if s.bundled}


def delete_user_run(run_id: str) -> str:
    try:
        store.delete_bundle(run_id, settings().store)
    except store.BundleError as err:
        return str(err)
    log.info("deleted run %s", run_id)
    return f"Deleted {run_id}."
