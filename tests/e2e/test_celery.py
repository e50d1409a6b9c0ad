"""The README's DEPLOY setup for real: Redis, a Celery worker and gunicorn, with a Train job run end to end.

What this proves (nothing is mocked):
- a real `redis-server` on a loopback port is the Celery broker and result backend and the Flask cache
  (ATTRACTORSCOPE_REDIS_URL), so jobs go to Celery instead of a local process;
- `celery -A app:celery_app worker` imports the app through app.py's module `__getattr__` and has the
  `attractorscope.run_job` task registered under the name the web workers send;
- `gunicorn app:server -w 2` serves the pages; a job started from /train in headless Chromium is executed by
  the Celery worker process (the job's recorded pid is the worker's pid, and the worker's log shows the
  `attractorscope.run_job` task succeeded), not by a web worker;
- the worker and the web workers share one store and one `<store>/.jobs` registry through env vars only:
  the job card reaches 100 % / "done", the bundle (with its analysis) appears in the store, nothing
  temporary is left, and the new model draws a trajectory on Explore, served by gunicorn without a restart.

Skipped, with the reason, when redis-server or the celery/redis/gunicorn packages are missing.
"""
from __future__ import annotations

import importlib.util
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from core import store
from core.jobs import JobRegistry
from tests.conftest import TINY_RUN_ID
from tests.e2e.conftest import _SERVER_LOG, REPO, _free_port, _wait_http_200
from tests.e2e.test_explore import wait_state
from tests.e2e.test_train import CARD_JS, open_train, start_job

REDIS_SERVER = shutil.which("redis-server") or ("/usr/bin/redis-server" if Path("/usr/bin/redis-server").exists()
                                                 else None)
MISSING = [name for name in ("celery", "redis", "gunicorn") if importlib.util.find_spec(name) is None]

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(REDIS_SERVER is None, reason="needs `redis-server` on PATH (apt-get install -y redis-server)"),
    pytest.mark.skipif(bool(MISSING), reason=f"needs the deploy extras {MISSING} "
                                             "(pip install -r requirements-deploy.txt)"),
]

START_TIMEOUT_S = 60


def _no_control_socket() -> list[str]:
    """Recent gunicorn opens a control socket in ~/.gunicorn by default; keep ours out of the shared home."""
    from gunicorn.config import KNOWN_SETTINGS

    return ["--no-control-socket"] if any(s.name == "control_socket_disable" for s in KNOWN_SETTINGS) else []


def _stop(proc: subprocess.Popen, timeout: float = 15) -> None:
    """Terminate one process we started (by its handle); kill it if it does not stop."""
    if proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def _wait_for(predicate, what: str, proc: subprocess.Popen, log_path: Path, timeout: float = START_TIMEOUT_S):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{what}: exited with {proc.returncode}:\n{log_path.read_text()[-3000:]}")
        if predicate():
            return
        time.sleep(0.2)
    raise RuntimeError(f"{what}: not ready within {timeout}s:\n{log_path.read_text()[-3000:]}")


@pytest.fixture(scope="module")
def deploy(analyzed_store, tmp_path_factory):
    """Redis + Celery worker + gunicorn (2 workers) on one temp store; yields a dict of what was started."""
    import redis

    root = tmp_path_factory.mktemp("celery_e2e")
    store_path = root / "store"
    store_path.mkdir()
    shutil.copytree(analyzed_store / TINY_RUN_ID, store_path / TINY_RUN_ID)
    redis_port, web_port = _free_port(), _free_port()
    redis_url = f"redis://127.0.0.1:{redis_port}/0"
    env = {**os.environ, "ATTRACTORSCOPE_REDIS_URL": redis_url, "ATTRACTORSCOPE_STORE": str(store_path),
           "ATTRACTORSCOPE_USER_STORE": str(store_path),
           "OMP_NUM_THREADS": "1", "PYTHONUNBUFFERED": "1"}
    env.pop("ATTRACTORSCOPE_MAX_JOBS", None)
    logs = {name: root / f"{name}.log" for name in ("redis", "worker", "web")}
    procs: dict[str, subprocess.Popen] = {}

    def launch(name: str, argv: list[str]) -> subprocess.Popen:
        with open(logs[name], "w") as log:
            procs[name] = subprocess.Popen(argv, cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT)
        return procs[name]

    try:
        proc = launch("redis", [REDIS_SERVER, "--port", str(redis_port), "--bind", "127.0.0.1", "--save", "",
                                "--appendonly", "no", "--dir", str(root)])
        client = redis.Redis.from_url(redis_url)

        def redis_up() -> bool:
            try:
                return bool(client.ping())
            except redis.exceptions.ConnectionError:
                return False

        _wait_for(redis_up, "redis-server", proc, logs["redis"])
        proc = launch("worker", [sys.executable, "-m", "celery", "-A", "app:celery_app", "worker",
                                 "--concurrency", "1", "--pool", "solo", "--loglevel", "INFO",
                                 "--hostname", f"e2e-{redis_port}@localhost",
                                 "--without-gossip", "--without-mingle", "--without-heartbeat"])
        _wait_for(lambda: " ready." in logs["worker"].read_text(), "celery worker", proc, logs["worker"])
        proc = launch("web", [sys.executable, "-m", "gunicorn", "app:server", "-w", "2",
                              "-b", f"127.0.0.1:{web_port}", "--timeout", "120", *_no_control_socket()])
        _SERVER_LOG.append(logs["web"])
        base = f"http://127.0.0.1:{web_port}"
        _wait_http_200(base + "/train", proc, logs["web"])
        yield {"base": base, "store": store_path, "logs": logs, "procs": procs, "redis": client}
    finally:
        for name in ("web", "worker", "redis"):  # web first, the broker last
            if name in procs:
                _stop(procs[name])


@pytest.fixture(scope="module")
def live_server(deploy):
    """The `page` fixture (tests/e2e/conftest.py) browses the gunicorn server in this module."""
    return deploy["base"]


def test_a_train_job_runs_on_the_celery_worker(page, deploy):
    store_path, logs, worker = deploy["store"], deploy["logs"], deploy["procs"]["worker"]
    run_id = "celery-tiny"
    registered = re.findall(r"attractorscope\.run_job", logs["worker"].read_text())
    assert registered, "the worker did not list the attractorscope.run_job task:\n" + logs["worker"].read_text()[-2000:]

    open_train(page)
    start_job(page, run_id)
    deadline = time.monotonic() + 120
    card = None
    while time.monotonic() < deadline:
        card = page.evaluate(CARD_JS, run_id)
        if card and card["cls"] not in ("queued", "running"):
            break
        page.wait_for_timeout(250)
    tail = lambda name: "\n".join(logs[name].read_text().splitlines()[-25:])
    assert card and card["cls"] == "succeeded", f"job card: {card}\n--- worker log ---\n{tail('worker')}"
    assert card["state"] == "done" and card["progress"] == 100

    # it ran in the Celery worker process, through the attractorscope.run_job task
    status = next(j for j in JobRegistry(store_path).list() if j.run_id == run_id)
    assert status.state == "succeeded" and status.pid == worker.pid, (status.pid, worker.pid)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and not re.search(r"Task attractorscope\.run_job\[[^\]]+\] succeeded",
                                                        logs["worker"].read_text()):
        time.sleep(0.2)
    worker_log = logs["worker"].read_text()
    assert re.search(r"Task attractorscope\.run_job\[[^\]]+\] received", worker_log), tail("worker")
    assert re.search(r"Task attractorscope\.run_job\[[^\]]+\] succeeded", worker_log), tail("worker")
    assert not (Path(store_path.parent / "cache") / "background").exists()  # no diskcache manager anywhere

    bundle = store.load_path(store_path / run_id)
    assert bundle.has_analysis and bundle.config.model.units == 8
    assert not [p.name for p in store_path.iterdir() if p.name.startswith((".tmp-", ".trash-"))]
    assert deploy["redis"].dbsize() > 0  # the broker/backend really lives in this redis

    page.goto(page.base_url + f"/?model={run_id}")
    wait_state(page, f"s.run_id === '{run_id}' && s.traj > 0 && s.strip.length === s.traj", 20_000)
