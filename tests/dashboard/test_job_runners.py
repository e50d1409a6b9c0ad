"""Local job runners for real (issue 16): a queued job costs a file, not a process, and the queue keeps
moving when a process is killed with SIGKILL. The launcher starts real `python -m core run-job` processes
over a temp store; a job record held by this test process stands for a long training that has the slot."""
from __future__ import annotations

import dataclasses
import os
import signal
import time

import psutil
import pytest

from core.job_registry import JobRegistry
from dashboard.jobs import JobLauncher
from dashboard.settings import Settings
from tests.core.test_job_queue import config, hold_the_slot

pytestmark = pytest.mark.slow


def runner_processes(job_ids) -> dict[str, list[psutil.Process]]:
    """job id -> this test's child processes running `python -m core run-job <that id>`."""
    found = {job_id: [] for job_id in job_ids}
    for child in psutil.Process().children(recursive=True):
        try:
            cmdline = child.cmdline()
        except psutil.Error:
            continue
        if "run-job" in cmdline and cmdline[-1] in found and child.status() != psutil.STATUS_ZOMBIE:
            found[cmdline[-1]].append(child)
    return found


def exited(pid: int) -> bool:
    """Gone, or a zombie its parent (the launcher, in this process) has not waited for yet."""
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def wait_for(predicate, timeout: float = 120.0, step: float = 0.2) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(step)
    return False


@pytest.fixture
def launcher(tmp_path):
    launcher = JobLauncher(dataclasses.replace(Settings(), store=tmp_path, max_jobs=1))
    yield launcher
    registry = JobRegistry(tmp_path)
    for job in registry.list():
        registry.request_cancel(job.job_id)
    for procs in runner_processes([j.job_id for j in registry.list()]).values():
        for proc in procs:  # only the processes this test started, by pid
            proc.kill()
            proc.wait(timeout=30)


def test_queued_jobs_hold_no_process_and_a_killed_runner_never_blocks_the_queue(launcher, tmp_path):
    registry = JobRegistry(tmp_path, max_running=1)
    holder = hold_the_slot(registry)  # a long training has the only slot
    queued = [registry.create(config(f"queued-{i}", steps=100_000)) for i in range(4)]
    for job in queued:
        launcher.launch(job.job_id)  # what the Train page's Start does
    ids = [j.job_id for j in queued]
    # a queued job is a record: no process waits for the slot
    assert all(registry.get(i).state == "queued" for i in ids)
    time.sleep(1.0)
    waiting = runner_processes(ids)
    for procs in waiting.values():  # (today's code started one per job: kill them, as in the issue)
        for proc in procs:
            os.kill(proc.pid, signal.SIGKILL)
    assert sum(len(p) for p in waiting.values()) == 0, "queued jobs started processes"

    registry.update(holder, state="succeeded", finished=time.time())  # the long training ends
    launcher.dispatch()  # the next Train poll
    assert wait_for(lambda: registry.get(ids[0]).state == "running"), registry.get(ids[0])
    first = registry.get(ids[0])
    assert first.pid and runner_processes([ids[0]])[ids[0]] and all(registry.get(i).state == "queued" for i in ids[1:])

    os.kill(first.pid, signal.SIGKILL)  # the running job's process dies
    assert wait_for(lambda: exited(first.pid), 30)
    launcher.dispatch()  # next poll: the dead job is reaped (its staging folder with it) and the next one starts
    assert registry.get(ids[0]).state == "failed"
    assert wait_for(lambda: registry.get(ids[1]).state == "running")
    assert runner_processes([ids[1]])[ids[1]] and not [p for p in tmp_path.iterdir()
                                                       if p.name.startswith(f".tmp-job{ids[0]}")]
