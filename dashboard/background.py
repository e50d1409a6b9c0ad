"""Where training jobs run: a detached local process per job by default, a Celery worker when
ATTRACTORSCOPE_REDIS_URL is set (see README, DEPLOY).

Jobs are not Dash background callbacks: Dash cancels a callback's running job when the same
callback fires again, which would kill a running training when the user queues a second one.
Each job instead runs on its own and reports through the job registry (core.jobs)."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from core.config import repo_root
from dashboard.settings import Settings

__all__ = ["make_celery", "JobLauncher"]

CELERY_TASK = "attractorscope.run_job"


def make_celery(redis_url: str):
    from celery import Celery

    celery_app = Celery("attractorscope", broker=redis_url, backend=redis_url)
    # one job at a time per worker process, and no prefetching of queued jobs behind a long one
    celery_app.conf.update(worker_prefetch_multiplier=1, task_acks_late=True, broker_connection_retry_on_startup=True)

    @celery_app.task(name=CELERY_TASK)
    def run_job_task(job_id: str) -> str:
        from core.jobs import JobRegistry, run_job
        from core.priority import lower_priority

        lower_priority()  # this worker only trains: let the web workers go first
        settings = Settings.from_env()  # a worker shares the web workers' env: same store, same limits
        status = run_job(job_id, JobRegistry(settings.store, max_running=settings.max_jobs))
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
        with open(log_path, "ab") as log:
            # its own session: the job outlives the request (and a server restart); `python -m core
            # run-job` lowers its own priority first thing (core/__main__.py)
            subprocess.Popen([sys.executable, "-m", "core", "run-job", job_id], cwd=repo_root(), env=env,
                             stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True)
