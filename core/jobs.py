"""Training + analysis jobs with a status registry on disk, shared by every worker that sees the store.

A job is created (queued: a record in ``<store>/.jobs``, no process; ``core.job_registry``), claimed by
the process that runs it (a local ``python -m core run-job`` the web worker starts when a slot is free,
or a Celery worker), and reports progress, curves and its outcome into ``<store>/.jobs/<job_id>.json``.
A runner that finishes a job takes the next queued one (``drain``), so the queue empties with no browser
open. A browser that reloads finds the job again by reading that folder. Cancellation is a flag the
training loop checks every step; the bundle is built in a temp folder and moved into the store only when
training and analysis both finished (and never over an existing bundle), so a cancelled, failed or killed
job leaves nothing half-written.
"""
from __future__ import annotations

import errno
import logging
import os
import shutil
import time
from typing import Callable

from core import atomic, store
from core.analysis import analyze_bundle
from core.config import ConfigError, RunConfig
from core.job_registry import (ACTIVE_STATES, JobLimits, JobRefused, JobRegistry, JobStatus, check_analysable,
                               estimate_seconds)
from core.import_files import ImportRefused
from core.importer import take_staged
from core.pipeline import train_run
from core.seq2seq.analysis import analyze_seq_bundle
from core.seq2seq.config import SEQ_KIND, SeqRunConfig
from core.seq2seq.pipeline import train_seq_run
from core.seq_store import load_seq_path
from core.studies import STUDIES, StudyError, estimate_study_seconds, run_study
from core.training import TrainingCancelled
from core.user_data import UserDataError

__all__ = ["JobStatus", "JobLimits", "JobRegistry", "JobRefused", "JobCancelled", "run_job", "run_claimed", "drain",
           "ACTIVE_STATES", "estimate_seconds", "check_analysable", "queue_study"]

log = logging.getLogger(__name__)
MAX_CURVE_POINTS = 400


class JobCancelled(Exception):
    """The user asked the job to stop."""


def run_job(job_id: str, registry: JobRegistry, poll_s: float = 1.0) -> JobStatus:
    """Wait for a slot (unless the job was claimed for this process), train, analyze, publish the bundle;
    every outcome lands in the registry."""
    status = registry.get(job_id)
    if status is None:
        raise ValueError(f"no job {job_id}")
    while not registry.try_start(job_id):
        current = registry.get(job_id)
        if current is None or current.state != "queued" or current.cancel_requested:
            return current
        time.sleep(poll_s)
    return run_claimed(registry.get(job_id), registry)


def drain(registry: JobRegistry) -> JobStatus | None:
    """Run queued jobs one after another while a slot is free; returns the last one's status (None if the
    slot was taken or nothing waited). Never waits for a slot: a runner with nothing to do returns."""
    last = None
    while (job := registry.claim_next()) is not None:
        last = run_claimed(job, registry)
    return last


def run_claimed(status: JobStatus, registry: JobRegistry) -> JobStatus:
    """Run a job this process holds the slot of (unless it was cancelled before it began)."""
    job_id = status.job_id
    if registry.begin(job_id) is None:
        return registry.get(job_id)
    if "study" in status.config:
        return _run_study_job(status, registry)
    staging = atomic.new_temp_dir(registry.store_path, f"job{job_id}")
    try:
        path = _train_and_analyze(status, registry, staging)
        _publish(path, store.bundle_path(status.run_id, registry.store_path))
        return registry.update(job_id, state="succeeded", stage="done", progress=1.0, finished=time.time())
    except (TrainingCancelled, JobCancelled):
        return registry.update(job_id, state="cancelled", stage="cancelled", finished=time.time(),
                               message="Cancelled; nothing was saved.")
    except (ConfigError, store.BundleError, ImportRefused, UserDataError) as err:
        return registry.update(job_id, state="failed", stage="failed", finished=time.time(), message=str(err))
    except Exception as err:  # noqa: BLE001 - any crash becomes a one-sentence reason; details go to the log
        log.exception("job %s failed", job_id)
        return registry.update(job_id, state="failed", stage="failed", finished=time.time(),
                               message=f"The job failed ({err.__class__.__name__}); see the server log for details.")
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _train_and_analyze(status: JobStatus, registry: JobRegistry, staging) -> os.PathLike:
    """Train the job's run into ``staging`` and analyze it there: a classifier (fixed points, ...) or an
    encoder-decoder (the attention decomposition, core.seq2seq); an import job (``action="import"``) only
    analyzes the model staged by core.importer. Returns the bundle folder."""
    job_id = status.job_id
    report, stop = _training_reporter(registry, job_id), lambda: _cancel_requested(registry, job_id)
    if status.action == "import":  # an uploaded model (core.importer): nothing to train, only to analyze
        config = RunConfig.from_dict(status.config)
        path = take_staged(status.source, config.run_id, registry.store_path, staging)
        analyze_bundle(store.load_path(path), on_progress=_analysis_reporter(registry, job_id, 0.0))
        return path
    if status.kind == SEQ_KIND:
        config = SeqRunConfig.from_dict(status.config)
        path = train_seq_run(config, on_progress=report, should_stop=stop, store_path=staging, owner=status.owner)
        if stop():
            raise JobCancelled()
        registry.update(job_id, stage="attention analysis", progress=TRAIN_SHARE)
        analyze_seq_bundle(load_seq_path(path))
        return path
    config = RunConfig.from_dict(status.config)
    path = train_run(config, on_progress=report, store_path=staging, should_stop=stop, owner=status.owner)
    analyze_bundle(store.load_path(path), on_progress=_analysis_reporter(registry, job_id))
    return path
def queue_study(registry: JobRegistry, name: str, owner: str = "") -> JobStatus:
    """Queue a study (``core.studies``) as one job: its points land in the registry's store one by one. The
    server's time limit applies to each model of it, not to the whole sweep."""
    if name not in STUDIES:
        raise JobRefused(f"There is no study {str(name)[:40]!r}.")
    total, longest = estimate_study_seconds(name)
    return registry.enqueue(f"study-{name}", {"study": name}, total, owner, longest_run=longest)


def _run_study_job(status: JobStatus, registry: JobRegistry) -> JobStatus:
    job_id = status.job_id

    def report(event: dict) -> None:
        registry.update(job_id, stage=f"{event['stage']} ({int(event['step']) + 1} of {event['total']})"[:80],
                        progress=min(1.0, event["step"] / event["total"]))

    try:
        run_study(status.config["study"], registry.store_path, on_progress=report,
                  should_stop=lambda: _cancel_requested(registry, job_id), owner=status.owner)
        return registry.update(job_id, state="succeeded", stage="done", progress=1.0, finished=time.time())
    except TrainingCancelled:
        return registry.update(job_id, state="cancelled", stage="cancelled", finished=time.time(),
                               message="Cancelled; the models finished so far were kept.")
    except (ConfigError, store.BundleError, StudyError) as err:
        return registry.update(job_id, state="failed", stage="failed", finished=time.time(), message=str(err))
    except Exception as err:  # noqa: BLE001 - any crash becomes a one-sentence reason; details go to the log
        log.exception("study job %s failed", job_id)
        return registry.update(job_id, state="failed", stage="failed", finished=time.time(),
                               message=f"The study failed ({err.__class__.__name__}); see the server log for details.")


def _publish(path, target) -> None:
    """Move the finished bundle into the store; a bundle that appeared under its name meanwhile is kept."""
    refused = JobRefused(f"A model named {target.name} was saved while this job ran; nothing was replaced. "
                         "Train again under another name.")
    if os.path.lexists(target):
        raise refused
    try:
        os.rename(path, target)  # fails on an existing non-empty folder: no other writer is overwritten
    except OSError as err:
        if err.errno in (errno.EEXIST, errno.ENOTEMPTY):
            raise refused from None
        raise


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


def _analysis_reporter(registry: JobRegistry, job_id: str, done_before: float = TRAIN_SHARE) -> Callable[[dict], None]:
    def report(event: dict) -> None:
        if _cancel_requested(registry, job_id):
            raise JobCancelled()
        registry.update(job_id, stage=event["stage"],
                        progress=done_before + (1 - done_before) * event["step"] / event["total"])

    return report
