"""Train page in headless Chromium against a live `python app.py` (jobs in detached local processes) on its own store.

Covers: a bad field is explained next to it and starts nothing; a tiny job runs to 100 % / "done" and its
model appears in Explore's picker and draws a trajectory without a server restart; a long job is
cancelled within seconds and leaves no bundle and no temp folder; a reloaded page finds a running job
and its progress keeps moving; a user-trained run is deleted from the "Your trained models" table.

The store is this module's own (never the session's shared e2e store): the analyzed tiny GRU plus a
copy of it marked as bundled (read-only). The tests run in file order against one server.
"""
from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

import pytest

from core import store
from core.jobs import JobRegistry
from tests.conftest import TINY_RUN_ID
from tests.e2e.conftest import _SERVER_LOG, VIEWPORT, job_server, stop_all_jobs, watched_page
from tests.e2e.test_explore import choose_model, js, wait_state

pytestmark = pytest.mark.e2e

SHIPPED_RUN_ID = "shipped-gru"   # a copy of the tiny GRU marked as bundled with the app (read-only)
TINY_JOB = {"units": "8", "embed": "4", "steps": "40"}
MAX_STEPS = "20000"              # the form's upper bound (train_form.RANGES); 100000 is refused by the form

# One job card, found by its run id, as the user sees it.
CARD_JS = """(runId) => {
  const card = Array.from(document.querySelectorAll('#train-jobs .job-card'))
    .find(c => { const b = c.querySelector('.job-line b'); return b && b.textContent === runId; });
  if (!card) { return null; }
  const bar = card.querySelector('.progress'), state = card.querySelector('.state');
  const link = card.querySelector('a'), msg = card.querySelector('.job-message');
  return {cls: card.className.replace('job-card', '').trim(),
          state: state ? state.textContent.replace('·', '').trim() : '',
          progress: bar ? Number(bar.getAttribute('data-progress')) : null,
          width: bar ? bar.querySelector('.progress-bar').style.width : null,
          cancel: Array.from(card.querySelectorAll('button')).some(b => b.textContent === 'Cancel'),
          link: link ? link.getAttribute('href') : null, message: msg ? msg.textContent : '',
          text: card.innerText};
}"""


@pytest.fixture(scope="module")
def train_store(analyzed_store, tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("train_store")
    shutil.copytree(analyzed_store / TINY_RUN_ID, root / TINY_RUN_ID)
    shutil.copytree(analyzed_store / TINY_RUN_ID, root / SHIPPED_RUN_ID)
    meta_path = root / SHIPPED_RUN_ID / "config.json"
    meta = json.loads(meta_path.read_text())
    meta["run"]["run_id"] = SHIPPED_RUN_ID
    meta["task_info"]["bundled"] = True
    meta_path.write_text(json.dumps(meta))
    assert store.load_path(root / SHIPPED_RUN_ID).info["bundled"] is True
    return root


@pytest.fixture(scope="module")
def live_server(train_store, tmp_path_factory):
    """`python app.py` on a free port over train_store (overrides the session server for this module)."""
    yield from job_server(train_store, tmp_path_factory.mktemp("train_server"))


@pytest.fixture(scope="module")
def _one_browser_session(browser, live_server):
    """One browser context for the module: its session cookie owns the jobs these tests start and the runs
    they train (only that session may cancel or delete them), as one student's browser would."""
    context = browser.new_context(viewport=VIEWPORT)
    yield context
    context.close()


@pytest.fixture
def page(_one_browser_session, live_server):
    """A fresh tab in the module's browser session (the conftest's checks on console errors and dialogs)."""
    yield from watched_page(_one_browser_session, live_server)


@pytest.fixture(autouse=True)
def _no_job_outlives_its_test(train_store):
    """A test that fails mid-job must not leave it running: the next test's job would queue behind it."""
    yield
    stop_all_jobs(train_store)


# --- helpers ---------------------------------------------------------------------------------------

def open_train(page) -> None:
    page.goto(page.base_url + "/train")
    page.wait_for_selector("#train-units")
    page.wait_for_selector("#train-jobs > *")  # the first poll answered


def fill(page, **values: str) -> None:
    for name, value in values.items():
        page.fill(f"#train-{name}", value)


def start_job(page, run_id: str, **values: str) -> None:
    fill(page, **{**TINY_JOB, **values, "run_id": run_id})
    page.click("#train-start")
    page.wait_for_function(f"() => document.querySelector('#train-form-message').textContent === "
                           f"{js('Queued ' + run_id + '.')}")


def card(page, run_id: str) -> dict | None:
    return page.evaluate(CARD_JS, run_id)


def watch(page, run_id: str, until, timeout: float, what: str) -> tuple[dict, list[dict]]:
    """Poll the job card every 0.2 s until `until(card)`; returns (card, every card seen)."""
    seen: list[dict] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        current = card(page, run_id)
        if current is not None:
            seen.append(current)
            if until(current):
                return current, seen
        page.wait_for_timeout(200)
    last = seen[-1] if seen else None
    raise AssertionError(f"{run_id}: not {what} within {timeout:.0f}s; last card: {last}\n--- server log tail ---\n"
                         + "\n".join(_SERVER_LOG[-1].read_text().splitlines()[-20:]))


def running(c: dict) -> bool:
    return c["cls"] == "running"


def training(c: dict) -> bool:
    """Running and past its process' start-up (a job cancelled while starting stops before it begins)."""
    return running(c) and "· training ·" in c["text"]


def leftovers(root: Path) -> list[str]:
    return sorted(p.name for p in root.iterdir() if p.name.startswith((".tmp-", ".trash-")))


def wait_no_leftovers(root: Path, timeout: float = 5.0) -> list[str]:
    deadline = time.monotonic() + timeout
    while leftovers(root) and time.monotonic() < deadline:
        time.sleep(0.1)
    return leftovers(root)


def job_files(root: Path) -> list[str]:
    jobs = root / ".jobs"
    return sorted(p.name for p in jobs.glob("*.json")) if jobs.is_dir() else []


def error_next_to(page, name: str) -> str:
    """The error text in the same form field as input #train-<name>."""
    return page.evaluate("n => document.querySelector('#train-' + n).closest('.form-field')"
                         ".querySelector('.field-error').textContent", name)


def errors_shown(page) -> dict[str, str]:
    return page.evaluate("() => Object.fromEntries(Array.from(document.querySelectorAll('.field-error'))"
                         ".filter(e => e.textContent).map(e => [e.id, e.textContent]))")


def wait_errors(page, expected: dict[str, str]) -> None:
    expected = {f"train-{k}-error": v for k, v in expected.items()}
    try:
        page.wait_for_function(f"() => JSON.stringify(Object.fromEntries(Array.from(document.querySelectorAll("
                               f"'.field-error')).filter(e => e.textContent).map(e => [e.id, e.textContent])))"
                               f" === {js(json.dumps(expected, ensure_ascii=False, separators=(',', ':')))}")
    except Exception as err:  # say what was shown instead
        raise AssertionError(f"expected field errors {expected}, the page shows {errors_shown(page)}") from err


# --- tests -----------------------------------------------------------------------------------------

def test_a_bad_field_is_explained_next_to_it_and_starts_nothing(page, train_store):
    open_train(page)
    assert "No jobs yet" in page.inner_text("#train-jobs")
    assert page.inner_text("#train-estimate").startswith("Estimated time: about")

    fill(page, units="1", steps="5")
    page.wait_for_function("() => document.querySelector('#train-estimate').textContent === ''")
    page.click("#train-start")
    wait_errors(page, {"units": "must be from 2 to 512", "steps": "must be from 10 to 20000"})
    assert error_next_to(page, "units") == "must be from 2 to 512"
    assert error_next_to(page, "steps") == "must be from 10 to 20000"
    assert page.inner_text("#train-form-message") == "Please fix the fields marked in red."

    fill(page, units="8", steps="40", run_id=SHIPPED_RUN_ID)
    page.click("#train-start")
    wait_errors(page, {"run_id": "that name belongs to a bundled model; choose another"})
    assert error_next_to(page, "run_id") == "that name belongs to a bundled model; choose another"

    fill(page, run_id=TINY_RUN_ID)
    page.click("#train-start")
    wait_errors(page, {"run_id": "a model with this name exists; choose another or delete it first"})

    fill(page, run_id="Bad Name")
    page.click("#train-start")
    wait_errors(page, {"run_id": "use 1–64 lowercase letters, digits, '-' or '_'"})

    page.wait_for_timeout(1500)  # more than one poll: still no job anywhere
    assert job_files(train_store) == []
    assert "No jobs yet" in page.inner_text("#train-jobs")
    assert sorted(p.name for p in train_store.iterdir() if not p.name.startswith(".")) == [SHIPPED_RUN_ID, TINY_RUN_ID]


def test_a_tiny_job_trains_to_done_and_its_model_opens_in_explore(page, train_store, artifacts):
    run_id = "e2e-tiny"
    open_train(page)
    assert run_id not in page.inner_text("#train-user-runs")
    start_job(page, run_id)
    done, seen = watch(page, run_id, lambda c: c["cls"] != "running" and c["cls"] != "queued", 90, "finished")
    assert done["cls"] == "succeeded" and done["state"] == "done", done
    assert done["progress"] == 100 and done["width"] == "100%"
    assert done["link"] == f"/?model={run_id}" and not done["cancel"]
    progress = [c["progress"] for c in seen]
    assert progress == sorted(progress), f"the bar went backwards: {progress}"
    assert any(c["state"] in ("running", "waiting") for c in seen), f"never saw it run: {seen[:3]}"

    bundle = store.load_path(train_store / run_id)
    assert bundle.has_analysis and bundle.config.model.units == 8 and bundle.config.model.embed_dim == 4
    assert bundle.info["bundled"] is False
    assert wait_no_leftovers(train_store) == []
    page.wait_for_function(f"() => document.querySelector('#train-user-runs').innerText.includes({js(run_id)})")

    # the job card's link: client-side navigation to Explore, on the new model, no server restart
    page.click(f".job-card:has(.job-line b:text-is('{run_id}')) a")
    s = wait_state(page, f"s.run_id === {js(run_id)} && s.traj > 0 && s.strip.length === s.traj", 20_000)
    assert s["n_classes"] == 3 and s["cloud_points"] > 0
    assert run_id in page.inner_text("#model-picker")

    # and from another model, through the picker's options
    page.goto(page.base_url + f"/?model={TINY_RUN_ID}")
    wait_state(page, f"s.run_id === {js(TINY_RUN_ID)} && s.traj > 0")
    choose_model(page, run_id)
    s = wait_state(page, f"s.run_id === {js(run_id)} && s.traj > 0 && s.strip.length === s.traj")
    assert len(s["traj_x"]) == s["traj"] and all(isinstance(v, (int, float)) for v in s["traj_x"])


def test_reloading_the_page_finds_the_running_job(page, train_store, artifacts):
    run_id = "e2e-reload"
    open_train(page)
    start_job(page, run_id, steps="2000")  # a progress report every 100 steps
    before, _ = watch(page, run_id, lambda c: running(c) and c["progress"] > 0, 60, "running with progress")
    page.screenshot(path=str(artifacts / "train-running.png"), full_page=True)

    page.reload()
    page.wait_for_selector("#train-units")
    again, _ = watch(page, run_id, lambda c: True, 5, "shown after the reload")
    assert again["cls"] == "running" and again["progress"] >= before["progress"] and again["cancel"], again
    later, _ = watch(page, run_id, lambda c: c["progress"] > again["progress"], 30, "making progress after reload")
    assert later["cls"] == "running"
    assert page.evaluate("() => document.querySelector('#train-curve .gtitle').textContent") == run_id

    page.locator(f".job-card:has(.job-line b:text-is('{run_id}'))").get_by_role("button", name="Cancel").click()
    watch(page, run_id, lambda c: c["cls"] == "cancelled", 15, "cancelled")
    assert not (train_store / run_id).exists()
    page.wait_for_function(f"() => document.querySelector('#train-form-message').textContent === "
                           f"{js(run_id + ': cancelled.')}", timeout=5_000)  # not a stale "Cancelling…"
    # the cancelled job's curve stays in view
    assert page.evaluate("() => document.querySelector('#train-curve .gtitle').textContent") == run_id


def test_cancelling_a_long_job_stops_it_before_its_end_and_leaves_nothing(page, train_store):
    run_id = "e2e-cancel"
    open_train(page)
    fill(page, units="8", embed="4", steps=MAX_STEPS, run_id=run_id)
    assert page.inner_text("#train-estimate").startswith("Estimated time: about")
    page.click("#train-start")
    watch(page, run_id, training, 60, "training")
    button = page.locator(f".job-card:has(.job-line b:text-is('{run_id}'))").get_by_role("button", name="Cancel")
    button.click()
    page.wait_for_function("() => document.querySelector('#train-form-message').textContent === 'Cancelling…'")
    cancelled, _ = watch(page, run_id, lambda c: c["cls"] != "running", 15, "stopped")
    assert cancelled["cls"] == "cancelled" and cancelled["state"] == "cancelled", cancelled
    assert cancelled["message"] == "Cancelled; nothing was saved."
    assert not cancelled["cancel"] and cancelled["link"] is None and cancelled["progress"] < 100
    # stopped long before its last step (the card's progress < 100) and saved nothing: behaviour, not a stopwatch
    # no stale "Cancelling…": the message follows the card once the job has stopped (issue 17)
    page.wait_for_function(f"() => document.querySelector('#train-form-message').textContent === "
                           f"{js(run_id + ': cancelled.')}", timeout=5_000)

    status = next(j for j in JobRegistry(train_store).list() if j.run_id == run_id)
    assert status.state == "cancelled" and status.cancel_requested and status.finished is not None
    assert not (train_store / run_id).exists()
    assert wait_no_leftovers(train_store) == []


def test_deleting_a_user_trained_run_removes_it_from_the_store(page, train_store):
    run_id = "e2e-tiny"
    if not (train_store / run_id).exists():  # run alone: train the run the earlier test trains, in this session
        open_train(page)
        start_job(page, run_id)
        watch(page, run_id, lambda c: c["cls"] == "succeeded", 90, "trained")
    open_train(page)
    table = "#train-user-runs"
    page.wait_for_function(f"() => document.querySelector('{table}').innerText.includes({js(run_id)})")
    assert SHIPPED_RUN_ID not in page.inner_text(table)  # bundled models are not offered for deletion

    row = page.locator(f"{table} tr:has(td b:text-is('{run_id}'))")
    row.locator("summary", has_text="Delete…").click()  # step one: asks, deletes nothing yet
    assert (train_store / run_id).is_dir() and "for good?" in row.inner_text()
    row.get_by_role("button", name="Yes, delete").click()
    page.wait_for_function(f"() => document.querySelector('#train-form-message').textContent === "
                           f"{js('Deleted ' + run_id + '.')}")
    assert not (train_store / run_id).exists()
    assert (train_store / TINY_RUN_ID).is_dir() and (train_store / SHIPPED_RUN_ID).is_dir()
    assert wait_no_leftovers(train_store) == []
    page.wait_for_function(f"() => !document.querySelector('{table}').innerText.includes({js(run_id)})",
                           timeout=10_000)


def test_a_second_job_waits_in_the_queue_while_the_first_runs(page, train_store, browser):
    """...and only the browser that queued the jobs is offered their Cancel buttons (issue 16)."""
    first, second = "e2e-first", "e2e-second"
    open_train(page)
    try:
        start_job(page, first, steps=MAX_STEPS)
        watch(page, first, running, 30, "running")
        start_job(page, second)
        page.wait_for_timeout(3000)  # three polls: time for the registry to notice a dead first job
        a, b = card(page, first), card(page, second)
        assert a["cls"] == "running", f"the first job was stopped by the second: {a}"
        assert b["cls"] == "queued" and "position 1 in the queue" in b["text"], b
        assert a["cancel"] and b["cancel"]
        other = browser.new_context(viewport=VIEWPORT)  # another student's browser sees the queue, not the buttons
        try:
            elsewhere = other.new_page()
            elsewhere.base_url = page.base_url
            open_train(elsewhere)
            elsewhere.wait_for_function(f"() => document.querySelector('#train-jobs').innerText.includes({js(second)})")
            assert not elsewhere.evaluate(CARD_JS, first)["cancel"] and not elsewhere.evaluate(CARD_JS, second)["cancel"]
        finally:
            other.close()
    finally:
        stop_all_jobs(train_store)
        store.cleanup_temp(train_store)  # the killed job's staging folder (its writer is gone)
        for run_id in (first, second):
            if (train_store / run_id).exists():
                store.delete_bundle(run_id, train_store)


def test_a_finished_jobs_curve_stays_and_can_be_reopened(page, train_store, artifacts):
    """Issue 17: the curve of the last job stays up after it ends, and any recent job's curve can be reopened."""
    first, second = "e2e-curve-a", "e2e-curve-b"
    open_train(page)
    for run_id in (first, second):
        start_job(page, run_id)
        watch(page, run_id, lambda c: c["cls"] == "succeeded", 90, "trained")
    title = "() => (document.querySelector('#train-curve .gtitle') || {}).textContent"
    page.wait_for_function(f"() => ({title})() === {js(second)}")
    assert not page.is_visible("#train-curve-empty")
    job_id = next(j.job_id for j in JobRegistry(train_store).list() if j.run_id == first)
    page.click("#train-curve-pick")
    page.click(f".dash-dropdown-option:has(input[value={js(job_id)}])")
    page.wait_for_function(f"() => ({title})() === {js(first)}")
    time.sleep(2.5)  # a few polls later the picked curve is still the one shown
    assert page.evaluate(title) == first
    page.screenshot(path=str(artifacts / "train-curves.png"), full_page=True)
