"""Every text-taking entry point, fed hostile unicode (tests/fuzzing.py), answers cleanly: a well-formed
Dash response or a one-line CLI error, never a 500, a traceback, markup, or a file read outside the store.

ATTRACTORSCOPE_FUZZ_EXAMPLES sets the cases per entry point: scripts/run_tests.sh (the README's test command,
which CI runs) sets 1,000, fresh random cases on every run; a bare pytest runs 50, a quick check while
developing. Marked slow either way.
benchmarks/fuzz_soak.py runs 100k and counts failures instead of stopping at the first.
"""
from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, given, settings

from tests.conftest import TINY_RUN_ID
from tests.fuzzing import ENTRY_POINTS, DashClient, plant_canaries, run_case

pytestmark = pytest.mark.slow

EXAMPLES = int(os.environ.get("ATTRACTORSCOPE_FUZZ_EXAMPLES", "50"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=False,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                       HealthCheck.function_scoped_fixture])


class _NoLaunch:
    """Stands in for the job launcher: fuzzed Start clicks may queue jobs, none may run."""

    def __init__(self):
        self.launched = []

    def launch(self, job_id: str) -> None:
        self.launched.append(job_id)


@pytest.fixture(scope="module")
def fuzz_env(dash_app, analyzed_store, tmp_path_factory):
    """A client on the analyzed tiny store, a valid bundle planted just outside it (and in /tmp) as a
    canary, jobs going to a scratch registry, and ATTRACTORSCOPE_STORE for the CLI."""
    from core.jobs import JobRegistry
    from dashboard import jobs
    from dashboard.pages import train

    plant_canaries(analyzed_store / TINY_RUN_ID, analyzed_store)
    scratch = tmp_path_factory.mktemp("fuzz_jobs")
    saved = dash_app.server.config["ATTRACTORSCOPE_JOBS"], train.job_registry, os.environ.get("ATTRACTORSCOPE_STORE")
    saved_jobs_registry = jobs.job_registry
    launcher = dash_app.server.config["ATTRACTORSCOPE_JOBS"] = _NoLaunch()
    train.job_registry = jobs.job_registry = lambda: JobRegistry(scratch)  # the upload card queues through jobs
    os.environ["ATTRACTORSCOPE_STORE"] = str(analyzed_store)
    try:
        yield DashClient(dash_app.server.test_client()), launcher
    finally:
        dash_app.server.config["ATTRACTORSCOPE_JOBS"], train.job_registry = saved[0], saved[1]
        jobs.job_registry = saved_jobs_registry
        if saved[2] is None:
            os.environ.pop("ATTRACTORSCOPE_STORE", None)
        else:
            os.environ["ATTRACTORSCOPE_STORE"] = saved[2]


@pytest.mark.parametrize("entry", ENTRY_POINTS, ids=[e.name for e in ENTRY_POINTS])
def test_entry_point_survives_hostile_input(fuzz_env, entry):
    client, launcher = fuzz_env

    @FUZZ
    @given(entry.strategy)
    def run(value):
        run_case(entry, client, TINY_RUN_ID, value)

    run()
    assert all(isinstance(job_id, str) for job_id in launcher.launched)
