"""The Train page through the app's real callback endpoint, as two browsers (issue 16): a job belongs to the
browser session that queued it (a signed cookie), which alone can cancel it or delete the run it trained;
the queue, each session and the estimated time are capped; a job the queue cannot receive leaves no record.
No job runs here: the launcher records what it is handed."""
from __future__ import annotations

import hashlib
import json
import shutil
import threading

import pytest

from core.job_registry import JobLimits, JobRegistry
from dashboard.train_form import DEFAULTS, FIELDS
from tests.conftest import TINY_RUN_ID
from tests.fuzzing import DashClient, check_dash_response


class RecordingLauncher:
    def __init__(self):
        self.launched = []

    def launch(self, job_id: str) -> None:
        self.launched.append(job_id)

    def dispatch(self) -> None:
        pass


@pytest.fixture
def jobs(dash_app, tmp_path, monkeypatch):
    """Jobs go to a scratch registry (limits as small as a test needs) and to a recording launcher."""
    from dashboard import jobs as dashboard_jobs
    from dashboard.pages import train

    limits = {"value": JobLimits(max_estimate_s=3600)}
    registry = lambda: JobRegistry(tmp_path, limits=limits["value"])  # noqa: E731
    monkeypatch.setattr(train, "job_registry", registry)
    monkeypatch.setattr(dashboard_jobs, "job_registry", registry)
    launcher = RecordingLauncher()
    monkeypatch.setitem(dash_app.server.config, "ATTRACTORSCOPE_JOBS", launcher)
    return type("Jobs", (), {"registry": staticmethod(registry), "launcher": launcher, "limits": limits})


def browser(dash_app, client_id: str) -> DashClient:
    """A browser session whose cookie holds ``client_id`` (32 hex digits)."""
    client = DashClient(dash_app.server.test_client())
    with client.client.session_transaction() as session:
        session["client"] = client_id
    return client


def owner_of(client_id: str) -> str:
    return hashlib.sha256(client_id.encode()).hexdigest()[:24]


ALICE, BOB = "a" * 32, "b" * 32


def start(client: DashClient, **values) -> tuple[str | None, str]:
    form = {**DEFAULTS, "units": 8, "embed": 4, "steps": 40, **values}
    resp = client.call("train-job-to-run.data", [("train-start", "n_clicks", 1)],
                       [(f"train-{name}", "value", form[name]) for name in FIELDS])
    response = check_dash_response(resp)
    job_id = response.get("train-job-to-run", {}).get("data")
    return job_id, response["train-form-message"]["children"]


def cancel(client: DashClient, job_id: str) -> str:
    item = [{"id": {"type": "job-cancel", "index": job_id}, "property": "n_clicks", "value": 1}]
    return check_dash_response(client.call_matching("train-form-message.children", "job-cancel", [item])
                               )["train-form-message"]["children"]


def delete(client: DashClient, run_id: str) -> str:
    item = [{"id": {"type": "run-delete", "index": run_id}, "property": "n_clicks", "value": 1}]
    return check_dash_response(client.call_matching("train-form-message.children", "run-delete", [item])
                               )["train-form-message"]["children"]


def poll(client: DashClient) -> str:
    return json.dumps(check_dash_response(client.call("train-jobs.children", [("train-poll", "n_intervals", 1)],
                                                      [("train-runs-signature", "data", None)])))


def delete_buttons(client: DashClient) -> list:
    """The run ids of the Delete buttons the runs table shows this browser."""
    found = []

    def walk(node) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("id"), dict) and node["id"].get("type") == "run-delete":
                found.append(node["id"]["index"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(json.loads(poll(client)))
    return found


def test_only_the_session_that_queued_a_job_can_cancel_it(dash_app, jobs):
    alice, bob = browser(dash_app, ALICE), browser(dash_app, BOB)
    job_id, message = start(alice, run_id="alices-run")
    assert message == "Queued alices-run." and jobs.launcher.launched == [job_id]
    assert jobs.registry().get(job_id).owner == owner_of(ALICE)
    assert '"Cancel"' in poll(alice) and '"Cancel"' not in poll(bob)  # bob sees the job, not its button
    assert cancel(bob, job_id) == "Only the browser session that started a job can cancel it."
    assert jobs.registry().get(job_id).state == "queued"
    assert cancel(alice, job_id) == "Cancelling…"
    assert jobs.registry().get(job_id).state == "cancelled"


def test_a_new_browser_gets_a_signed_session_cookie(dash_app, jobs):
    fresh = DashClient(dash_app.server.test_client())
    job_id, _ = start(fresh, run_id="fresh-run")
    cookie = fresh.client.get_cookie("attractorscope_session")
    assert cookie is not None and cookie.http_only and cookie.same_site == "Lax"
    forged = DashClient(dash_app.server.test_client())
    forged.client.set_cookie("attractorscope_session", cookie.value[:-2] + "xx")  # a tampered signature
    assert cancel(forged, job_id) == "Only the browser session that started a job can cancel it."
    assert cancel(fresh, job_id) == "Cancelling…"


def test_only_the_session_that_trained_a_run_can_delete_it(dash_app, analyzed_store, jobs):
    run_id = "alices-trained-run"
    folder = analyzed_store / run_id
    shutil.copytree(analyzed_store / TINY_RUN_ID, folder)
    meta = json.loads((folder / "config.json").read_text())
    meta["run"]["run_id"], meta["task_info"]["owner"] = run_id, owner_of(ALICE)
    (folder / "config.json").write_text(json.dumps(meta))
    try:
        alice, bob = browser(dash_app, ALICE), browser(dash_app, BOB)
        assert run_id in delete_buttons(alice) and delete_buttons(bob) == []
        assert delete(bob, run_id) == f"Only the browser session that trained {run_id} can delete it."
        assert delete(bob, TINY_RUN_ID) == f"Only the browser session that trained {TINY_RUN_ID} can delete it."
        assert folder.is_dir()
        assert delete(alice, run_id) == f"Deleted {run_id}."
        assert not folder.exists()
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def test_each_session_may_queue_two_jobs(dash_app, jobs):
    alice, bob = browser(dash_app, ALICE), browser(dash_app, BOB)
    assert start(alice, run_id="a-1")[0] and start(alice, run_id="a-2")[0]
    job_id, message = start(alice, run_id="a-3")
    assert job_id is None and message.startswith("You already have 2 jobs queued or running")
    assert start(bob, run_id="b-1")[0]  # another browser is not held back
    assert sorted(j.run_id for j in jobs.registry().list()) == ["a-1", "a-2", "b-1"]


def test_the_queue_is_capped_for_everyone(dash_app, jobs):
    jobs.limits["value"] = JobLimits(max_queued=3, max_estimate_s=3600)
    for i in range(3):
        assert start(browser(dash_app, f"{i:032x}"), run_id=f"q-{i}")[0]
    job_id, message = start(browser(dash_app, "f" * 32), run_id="q-late")
    assert job_id is None and message.startswith("The queue is full (3 jobs waiting)")
    assert len(jobs.registry().list()) == 3


def test_a_job_estimated_over_the_limit_is_refused(dash_app, jobs):
    job_id, message = start(browser(dash_app, ALICE), task="stars", cell="lstm", units=512, embed=16, steps=20_000,
                            run_id="too-long")
    assert job_id is None and "over this server's limit of 60 min" in message
    assert jobs.registry().list() == [] and jobs.launcher.launched == []


def test_a_two_unit_gru_is_refused_next_to_its_field(dash_app, jobs):
    resp = browser(dash_app, ALICE).call("train-job-to-run.data", [("train-start", "n_clicks", 1)],
                                         [(f"train-{n}", "value", {**DEFAULTS, "units": 2}[n]) for n in FIELDS])
    shown = check_dash_response(resp)
    assert shown["train-units-error"]["children"] == "a GRU needs at least 3 (the analysis draws the state in 3 dimensions)"
    assert jobs.registry().list() == []


class _BrokerDown:
    def send_task(self, *_args, **_kwargs):
        raise ConnectionError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")


def test_a_job_the_queue_cannot_receive_leaves_no_record(dash_app, jobs, monkeypatch):
    from dashboard.jobs import JobLauncher

    settings = dash_app.server.config["ATTRACTORSCOPE_SETTINGS"]
    monkeypatch.setitem(dash_app.server.config, "ATTRACTORSCOPE_JOBS", JobLauncher(settings, _BrokerDown()))
    job_id, message = start(browser(dash_app, ALICE), run_id="lost-run")
    assert job_id is None and message.startswith("The job queue cannot be reached right now")
    assert jobs.registry().list() == []
    monkeypatch.setitem(dash_app.server.config, "ATTRACTORSCOPE_JOBS", jobs.launcher)
    assert start(browser(dash_app, ALICE), run_id="lost-run")[0]  # the name was not left reserved


def test_a_celery_task_returns_when_no_slot_is_free(tmp_path, monkeypatch):
    """The worker runs the queue while a slot is free and otherwise returns: it never sits waiting inside
    a task (with a lost message ahead of it, that wait was forever)."""
    pytest.importorskip("celery")
    from dashboard.jobs import CELERY_TASK, make_celery
    from tests.core.test_job_queue import config, hold_the_slot

    monkeypatch.setenv("ATTRACTORSCOPE_STORE", str(tmp_path))
    monkeypatch.setenv("ATTRACTORSCOPE_USER_STORE", str(tmp_path))  # the worker reads the web workers' env
    monkeypatch.setattr("dashboard.jobs.lower_priority", lambda: None)  # keep this test process' priority
    registry = JobRegistry(tmp_path)
    hold_the_slot(registry)
    orphan, mine = registry.create(config("orphan")), registry.create(config("mine"))
    task = make_celery("redis://127.0.0.1:1/0").tasks[CELERY_TASK]
    result = {}
    worker = threading.Thread(target=lambda: result.setdefault("state", task.apply(args=[mine.job_id]).get()),
                              daemon=True)
    worker.start()
    worker.join(timeout=60)
    assert not worker.is_alive(), "the task waited for a slot"
    assert result["state"] == "idle"
    assert {j.job_id: j.state for j in registry.list()}[orphan.job_id] == "queued"
