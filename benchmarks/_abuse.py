"""What benchmarks/abuse_bench.py drives: a browser-like client of the callbacks it attacks, and the
stack it attacks (gunicorn -w 2, optionally Redis with the README's memory policy and a Celery worker)."""
from __future__ import annotations

import gzip
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import psutil
import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks._live import _wait_for, free_port, stop  # noqa: E402
from core.config import ModelConfig, RunConfig, TaskConfig, TrainConfig  # noqa: E402
from core.job_registry import ACTIVE_STATES, JobRegistry  # noqa: E402
from tests.fuzzing import COMPARE_OUTPUTS, callback_body, find_dependency  # noqa: E402

_DEPS: dict[str, list] = {}
FORM = {"task": "categorical", "classes": 3, "cell": "gru", "units": 32, "embed": 16, "steps": 400, "lr": 0.003,
        "seed": 0, "run_id": ""}


def corpus_texts(n: int = 200) -> list[str]:
    with gzip.open(ROOT / "data" / "rotten_tomatoes" / "snippets.tsv.gz", "rt", encoding="utf-8") as fh:
        return [line.rstrip("\n").split("\t")[-1] for _, line in zip(range(n), fh)]


class Client:
    """One browser: its own cookie jar (so its own session), posting callback requests as the renderer does."""

    def __init__(self, base: str):
        self.base, self.session = base, requests.Session()
        if base not in _DEPS:
            _DEPS[base] = self.session.get(base + "/_dash-dependencies", timeout=60).json()
        self.deps = _DEPS[base]

    def body(self, output: str, inputs: list, state: list = (), outputs=None) -> bytes:
        """A callback request's body as the renderer sends it (JSON.stringify: UTF-8, non-ASCII unescaped)."""
        dep = find_dependency(self.deps, output)
        return json.dumps(callback_body(dep, inputs, state, outputs), ensure_ascii=False).encode()

    def post(self, output: str, inputs: list, state: list = (), outputs=None):
        return self.send(self.body(output, inputs, state, outputs))

    def send(self, body: bytes):
        return self.session.post(self.base + "/_dash-update-component", data=body, timeout=120,
                                 headers={"Content-Type": "application/json"})

    def typing(self, model: str, text: str):
        return self.post("trajectory-data.data", [("debounced-text", "data", text)], [("model-picker", "value", model)])

    def switch(self, model: str, view):
        return self.post("trajectory-graph.figure", [("model-picker", "value", model), ("view-mode", "value", view)],
                         [("sentence-input", "value", "a quiet film"), ("model-info", "data", None)])

    def words_body(self, model: str, query: str) -> bytes:
        return self.body("words-body.children", [("model-picker", "value", model), ("words-search", "value", query)])

    def compare_body(self, model_a: str, model_b: str, text: str) -> bytes:
        graphs = [{"id": {"side": s, "type": "compare-graph"}, "property": "id",
                   "value": {"side": s, "type": "compare-graph"}} for s in "ab"]
        return self.body('{"side":["ALL"],"type":"compare-graph"}.figure', [("compare-text", "value", text)],
                         [("compare-model-a", "value", model_a), ("compare-model-b", "value", model_b), graphs],
                         outputs=COMPARE_OUTPUTS)

    def compare(self, model_a: str, model_b: str, text: str):
        return self.send(self.compare_body(model_a, model_b, text))

    def page_option(self, i: int, value: str):
        if i % 2:  # a tampered fixed-point selection (the page's only option since its table sorts in the browser)
            return self.post("fp-detail.children", [("fp-selected", "data", value)], [("model-picker", "value", "gru-cat3")])
        return self.post("decomposition-body.children", [("model-picker", "value", "gru-cat3"),
                                                         ("decomposition-words", "value", value)])

    def start(self, run_id: str, **form) -> tuple[int, str]:
        values = {**FORM, **form, "run_id": run_id}
        resp = self.post("train-job-to-run.data", [("train-start", "n_clicks", 1)],
                         [(f"train-{name}", "value", value) for name, value in values.items()])
        if resp.status_code != 200:
            return resp.status_code, f"HTTP {resp.status_code}"
        message = resp.json()["response"]["train-form-message"]["children"]
        return 200, "queued" if message.startswith("Queued") else message

    def train_poll(self):
        return self.post("train-jobs.children", [("train-poll", "n_intervals", 1)],
                         [("train-runs-signature", "data", None)])


def job_states(store: Path) -> dict[str, str]:
    return {j.run_id: j.state for j in JobRegistry(store).list()}


class Stack:
    """gunicorn app:server -w 2 over ``tmp/store`` (and, with redis=True, redis-server with maxmemory 64mb and
    volatile-lru as the README's DEPLOY section sets, plus a Celery worker); stopped on exit."""

    def __init__(self, tmp: Path, redis: bool):
        self.tmp, self.store, self.redis = tmp, tmp / "store", redis
        self.procs: dict[str, subprocess.Popen] = {}

    def __enter__(self) -> "Stack":
        # one store: the app's jobs land in it too (JobRegistry(self.store) reads them), never in user_models/
        env = {**os.environ, "ATTRACTORSCOPE_STORE": str(self.store), "ATTRACTORSCOPE_USER_STORE": str(self.store),
               "OMP_NUM_THREADS": "1"}
        env.pop("ATTRACTORSCOPE_REDIS_URL", None)
        if self.redis:
            port = free_port()
            self.procs["redis"] = subprocess.Popen(
                [shutil.which("redis-server"), "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                 "--appendonly", "no", "--maxmemory", "64mb", "--maxmemory-policy", "volatile-lru"],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            env["ATTRACTORSCOPE_REDIS_URL"] = self.redis_url = f"redis://127.0.0.1:{port}/0"
            time.sleep(0.5)
            self.procs["worker"] = subprocess.Popen(
                [sys.executable, "-m", "celery", "-A", "app:celery_app", "worker", "--concurrency", "1", "--pool", "solo",
                 "--loglevel", "WARNING", "--without-gossip", "--without-mingle", "--without-heartbeat"],
                cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        web_port = free_port()
        self.procs["web"] = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "app:server", "-w", "2", "-b", f"127.0.0.1:{web_port}",
             "--log-level", "warning"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.base = f"http://127.0.0.1:{web_port}"
        _wait_for(self.base + "/", self.procs["web"], 120)
        return self

    def __exit__(self, *exc) -> None:
        self.cancel_all()
        for name in ("web", "worker", "redis"):
            if name in self.procs and self.procs[name].poll() is None:
                stop(self.procs[name])

    def worker_rss(self) -> list[int]:
        return [round(c.memory_info().rss / 2**20) for c in psutil.Process(self.procs["web"].pid).children()
                if "run-job" not in " ".join(c.cmdline())]

    def redis_memory(self) -> int:
        import redis

        return int(redis.Redis.from_url(self.redis_url).info("memory")["used_memory"])

    def stop_redis(self) -> None:
        stop(self.procs["redis"])

    def runner_processes(self) -> list[psutil.Process]:
        found = []
        for child in psutil.Process(self.procs["web"].pid).children(recursive=True):
            try:
                if "run-job" in child.cmdline() and child.status() != psutil.STATUS_ZOMBIE:
                    found.append(child)
            except psutil.Error:
                continue
        return found

    def orphan_job(self, run_id: str) -> str:
        """A queued record nothing was told about: what a lost Celery message or a killed process leaves."""
        config = RunConfig(run_id, ModelConfig("gru", 3, 2, num_classes=3),
                           TaskConfig("categorical", 3, n_train=2000, n_val=200, n_test=200), TrainConfig(steps=10))
        return JobRegistry(self.store).create(config).job_id

    def wait_jobs(self, run_ids: list[str], timeout: float, poll: Client) -> dict[str, str]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            poll.train_poll()  # what an open Train page does every second
            states = job_states(self.store)
            if all(states.get(r) not in ACTIVE_STATES for r in run_ids):
                break
            time.sleep(1.0)
        return {r: job_states(self.store).get(r, "missing") for r in run_ids}

    def wait_running(self, timeout: float, poll: Client, exclude=frozenset()) -> list[tuple[str, int]]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            poll.train_poll()
            running = [(j.run_id, j.pid) for j in JobRegistry(self.store).list()
                       if j.state == "running" and j.run_id not in exclude and j.pid and psutil.pid_exists(j.pid)]
            if running:
                return running
            time.sleep(0.5)
        return []

    def cancel_all(self) -> None:
        registry = JobRegistry(self.store)
        for job in registry.list():
            if job.state in ACTIVE_STATES:
                registry.request_cancel(job.job_id)
