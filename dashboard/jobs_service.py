"""The Train page's access to jobs and runs, for the current app's store."""
from __future__ import annotations

import logging

from flask import has_app_context

from core import store
from core.jobs import JobRegistry
from dashboard.runtime import bundles, settings
from dashboard.settings import Settings

__all__ = ["job_registry", "run_ids", "delete_user_run"]

log = logging.getLogger(__name__)


def job_registry() -> JobRegistry:
    # A Celery worker runs jobs outside any Flask request: it reads the same env vars as the web
    # workers (README, DEPLOY), so both see one store and one job folder.
    current = settings() if has_app_context() else Settings.from_env()
    return JobRegistry(current.store, max_running=current.max_jobs)


def run_ids() -> tuple[set[str], set[str]]:
    """(every run id in the store or being trained, the read-only bundled ones)."""
    summaries = bundles().summaries()
    pending = {j.run_id for j in job_registry().list() if j.state in ("queued", "running")}
    return {s.run_id for s in summaries} | pending, {s.run_id for s in summaries if s.bundled}


def delete_user_run(run_id: str) -> str:
    try:
        store.delete_bundle(run_id, settings().store)
    except store.BundleError as err:
        return str(err)
    log.info("deleted run %s", run_id)
    return f"Deleted {run_id}."
