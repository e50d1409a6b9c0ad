"""Real-browser fixtures: a live `python app.py` on a temp store and one headless Chromium per session.

The store holds the analyzed tiny GRU (2 classes), a second analyzed tiny model of another kind
(an LSTM on a 3-class task) and a broken bundle. Every test gets a fresh page that fails the test at
teardown if the browser logged a console error or threw an uncaught exception.
"""
from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import BROKEN_RUN_ID, TINY_RUN_ID, TINY_TRAIN

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "test-artifacts"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]
VIEWPORT = {"width": 1600, "height": 1000}
LSTM_RUN_ID = "tiny-lstm"
SERVER_START_TIMEOUT_S = 60
_SERVER_LOG: list[Path] = []  # the live server's log, quoted when a page reports errors

# Console noise from software WebGL in headless Chromium; not the app's fault, never an error we assert on.
BENIGN_CONSOLE = ("webgl", "gpu stall", "readback", "willreadfrequently", "swiftshader", "automatic fallback",
                  "gl driver message")


@pytest.fixture(scope="session")
def _lstm_bundle_dir(tmp_path_factory) -> Path:
    """A tiny LSTM trained on a 3-class categorical task, analyzed, in its own store folder."""
    from core import store
    from core.analysis import analyze_bundle
    from core.config import ModelConfig, RunConfig, TaskConfig
    from core.tasks import load_task
    from core.training import train

    task = TaskConfig(name="categorical", num_classes=3, min_len=5, max_len=20,
                      n_train=600, n_val=100, n_test=200, seed=1)
    data = load_task(task)
    config = RunConfig(run_id=LSTM_RUN_ID, task=task, train=TINY_TRAIN,
                       model=ModelConfig(cell="lstm", units=10, embed_dim=8, vocab_size=len(data.vocab),
                                         num_classes=3))
    trained = train(config, data)
    info = {"class_names": list(data.class_names), "examples": list(data.examples),
            "ordered": data.ordered, "multilabel": data.multilabel, "source": data.source}
    root = tmp_path_factory.mktemp("lstm_store")
    path = store.save_bundle(config, trained.model, trained.vocab, info, trained.metrics,
                             {"seed": TINY_TRAIN.seed, "data": data.source}, store=root)
    analyze_bundle(store.load_path(path), n_inits=64, cloud_size=1500, max_sequences=200)
    return path


@pytest.fixture(scope="session")
def e2e_store(analyzed_store, _lstm_bundle_dir, tmp_path_factory) -> Path:
    """Our own copy of the shared analyzed store (never mutate the shared one) plus the LSTM."""
    root = tmp_path_factory.mktemp("e2e_store")
    for name in (TINY_RUN_ID, BROKEN_RUN_ID):
        shutil.copytree(analyzed_store / name, root / name)
    shutil.copytree(_lstm_bundle_dir, root / LSTM_RUN_ID)
    return root


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_http_200(url: str, proc: subprocess.Popen, log_path: Path) -> None:
    deadline = time.monotonic() + SERVER_START_TIMEOUT_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"app.py exited with {proc.returncode}:\n{log_path.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(url, timeout=2) as resp:
                if resp.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.2)
    raise RuntimeError(f"app.py did not answer 200 within {SERVER_START_TIMEOUT_S}s:\n{log_path.read_text()[-3000:]}")


@contextlib.contextmanager
def app_server(store: Path, log_dir: Path, ready_path: str = "/", user_store: Path | None = None):
    """Run `python app.py --port <free>` over ``store`` (no Redis); yields (base URL, log path), stops it after.
    ``user_store`` (default: ``store`` itself) is where the app's jobs land: never the repo's user_models/."""
    port = _free_port()
    log_path = log_dir / "server.log"
    env = {**os.environ, "ATTRACTORSCOPE_STORE": str(store), "ATTRACTORSCOPE_USER_STORE": str(user_store or store),
           "OMP_NUM_THREADS": "1", "PYTHONUNBUFFERED": "1"}
    for name in ("ATTRACTORSCOPE_REDIS_URL", "ATTRACTORSCOPE_MAX_JOBS"):
        env.pop(name, None)
    with open(log_path, "w") as log:
        proc = subprocess.Popen([sys.executable, "app.py", "--host", "127.0.0.1", "--port", str(port)],
                                cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    _SERVER_LOG.append(log_path)
    try:
        _wait_http_200(base + ready_path, proc, log_path)
        yield base, log_path
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def stop_all_jobs(root: Path, timeout: float = 30) -> None:
    """Ask every queued or running job under ``root`` to stop (the registry's cancel flag) and wait until none is
    active."""
    from core.jobs import JobRegistry

    registry = JobRegistry(root)
    for job in registry.list():
        if job.state in ("queued", "running"):
            registry.request_cancel(job.job_id)
    deadline = time.monotonic() + timeout
    while any(j.state in ("queued", "running") for j in registry.list()) and time.monotonic() < deadline:
        time.sleep(0.2)


def job_server(store: Path, log_dir: Path, user_store: Path | None = None):
    """A module's own `python app.py` for tests that start jobs: ready at /train, over ``store`` (jobs land in
    ``user_store``, default ``store``); every job still running is stopped before the server goes. Yields the
    base URL (use with ``yield from`` in a fixture)."""
    with app_server(store, log_dir, ready_path="/train", user_store=user_store) as (base, _log):
        try:
            yield base
        finally:
            stop_all_jobs(user_store or store, timeout=10)


@pytest.fixture(scope="session")
def live_server(e2e_store, tmp_path_factory):
    """Base URL of `python app.py --port <free>` serving the e2e store; killed at session end."""
    with app_server(e2e_store, tmp_path_factory.mktemp("server")) as (base, _log):
        yield base


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()


def _benign(text: str) -> bool:
    low = text.lower()
    return any(s in low for s in BENIGN_CONSOLE)


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


@pytest.fixture(scope="session")
def _page_context(browser):
    """One context for every `page`: its HTTP cache keeps plotly.js and Dash's scripts between tests (a fresh
    context re-fetches and re-parses ~4 MB of script per test). Cookies and permissions are cleared per test."""
    context = browser.new_context(viewport=VIEWPORT)
    yield context
    context.close()


@pytest.fixture
def page(_page_context, live_server):
    """A fresh page at 1600x1000 with no cookies; console errors, page errors and dialogs fail the test."""
    _page_context.clear_cookies()
    _page_context.clear_permissions()
    yield from watched_page(_page_context, live_server)


def click_until_shown(page, target: str, shown: str, timeout_s: float = 40) -> None:
    """Click ``target`` until ``shown`` is visible. A click that lands while Dash is still rendering the page can
    be lost (the tab's React handler not yet bound, or the content rendered again after it), so a lost click is
    repeated; the test still fails if ``shown`` never appears."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    deadline = time.monotonic() + timeout_s
    while True:
        page.click(target, no_wait_after=True)
        try:
            page.wait_for_selector(shown, state="visible", timeout=3_000)
            return
        except PlaywrightTimeout:
            if time.monotonic() > deadline:
                raise


def watched_page(context, live_server):
    """A new page in ``context`` (its cookies: one browser session) that fails the test at teardown on a
    console error, a page error or a dialog."""
    context.set_default_timeout(15_000)
    pg = context.new_page()
    errors: list[str] = []
    dialogs: list[str] = []
    pg.on("console", lambda msg: errors.append(f"console.{msg.type}: {msg.text}")
          if msg.type == "error" and not _benign(msg.text) else None)
    pg.on("pageerror", lambda exc: errors.append(f"pageerror: {exc}"))

    def on_dialog(dialog):
        dialogs.append(f"{dialog.type}: {dialog.message}")
        dialog.dismiss()

    pg.on("dialog", on_dialog)
    pg.base_url = live_server
    pg.dialogs = dialogs
    pg.console_errors = errors
    yield pg
    pg.close()
    if errors:
        tail = "\n".join(_SERVER_LOG[-1].read_text().splitlines()[-30:]) if _SERVER_LOG else ""
        pytest.fail("browser reported errors:\n" + "\n".join(errors) + "\n--- server log tail ---\n" + tail)
    assert not dialogs, f"the page opened dialogs (alert/confirm/prompt): {dialogs}"


# ---------------------------------------------------------------------------------------------------------------
# The real bundled store (tests/e2e/test_pages.py): `python app.py` over a temp COPY of the repo's models_store,
# and one shared browser tab that every page test navigates in (a fresh context per test would cost a second each).

REAL_STORE = REPO / "models_store"


def _shipped(kind: str) -> list[str]:
    from core.store import bundle_kind
    return sorted(p.parent.name for p in REAL_STORE.glob("*/analysis.npz")
                  if not p.parent.name.startswith(".") and bundle_kind(p.parent) == kind)


STUDY_SAMPLE = "st-cells-bigram-mrnn32-s0"  # of the ~30 small study bundles, the pages are checked on this one


def all_real_run_ids() -> list[str]:
    """Every analyzed classifier bundle shipped in the repo's models_store, the studies' ones included."""
    return _shipped("classifier")


def real_run_ids() -> list[str]:
    """The analyzed classifier bundles shipped in the repo's models_store (empty when it holds none); of the
    studies' bundles (run ids "st-...", issue 19) only STUDY_SAMPLE, a multiplicative RNN."""
    return [r for r in _shipped("classifier") if not r.startswith("st-") or r == STUDY_SAMPLE]


def real_seq_run_ids() -> list[str]:
    """The analyzed sequence-to-sequence bundles shipped in the repo's models_store (tests/e2e/test_attention.py)."""
    return _shipped("seq2seq")


@pytest.fixture(scope="session")
def real_store(tmp_path_factory) -> Path:
    """A temp copy of the repo's models_store: the server may write jobs and caches there, never in the repo."""
    if not real_run_ids():
        pytest.skip(f"no analyzed bundles in {REAL_STORE}; build them with `python -m core bundle-all`")
    root = tmp_path_factory.mktemp("real") / "models_store"
    shutil.copytree(REAL_STORE, root, ignore=shutil.ignore_patterns(".*"))
    return root


@pytest.fixture(scope="session")
def real_server(real_store, tmp_path_factory):
    """(base URL, log path) of `python app.py --port <free>` serving the copy of the bundled store."""
    with app_server(real_store, tmp_path_factory.mktemp("real_server")) as server:
        yield server


@pytest.fixture(scope="session")
def _real_tab(browser, real_server):
    """One context and one tab for the whole session, recording console errors, page errors, dialogs and 5xx."""
    context = browser.new_context(viewport=VIEWPORT)
    context.set_default_timeout(20_000)
    pg = context.new_page()
    pg.console_errors, pg.dialogs = [], []
    pg.on("console", lambda msg: pg.console_errors.append(f"console.{msg.type}: {msg.text}")
          if msg.type == "error" and not _benign(msg.text) else None)
    pg.on("pageerror", lambda exc: pg.console_errors.append(f"pageerror: {exc}"))
    pg.on("response", lambda r: pg.console_errors.append(f"HTTP {r.status}: {r.request.method} {r.url}")
          if r.status >= 500 else None)

    def on_dialog(dialog):
        pg.dialogs.append(f"{dialog.type}: {dialog.message}")
        dialog.dismiss()

    pg.on("dialog", on_dialog)
    pg.base_url = real_server[0]
    yield pg
    context.close()


@pytest.fixture
def real_page(_real_tab, real_server):
    """The shared tab over the real store, with the `page` fixture's rule: a console error, page error, HTTP 5xx
    or dialog during the test fails it (the server log's tail is quoted)."""
    _real_tab.console_errors.clear()
    _real_tab.dialogs.clear()
    yield _real_tab
    errors, dialogs = list(_real_tab.console_errors), list(_real_tab.dialogs)
    if errors:
        tail = "\n".join(real_server[1].read_text().splitlines()[-30:])
        pytest.fail("browser reported errors:\n" + "\n".join(errors) + "\n--- server log tail ---\n" + tail)
    assert not dialogs, f"the page opened dialogs (alert/confirm/prompt): {dialogs}"
