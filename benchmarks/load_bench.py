"""A classroom at once: simulated users against gunicorn (2 workers) on loopback, idle and while a
training job runs.

Each user opens `/` (the HTML, Dash's layout and dependencies, the page's content), then types 20 texts
of 5–200 words taken from the shipped review corpus (each text arrives as three growing prefixes, as
coalesced keystrokes do) and switches model twice, for --duration seconds. Users start within the first
3 s. Prints requests/s, median and p95 latency per callback, errors, memory per worker, and the p95
while a training job (started through the app's own job launcher) runs, as a ratio to the idle p95.

    python benchmarks/load_bench.py [--users 50] [--duration 60] [--workers 2] [--no-training]

The bundled models are copied to a temp store, so the job's bundle never lands in models_store/.
"""
from __future__ import annotations

import argparse
import gzip
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from pathlib import Path

import numpy as np
import psutil
import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks._live import _wait_for, free_port, stop  # noqa: E402
from tests.fuzzing import PAGES_OUTPUT, callback_body, find_dependency, page_inputs  # noqa: E402

TEXTS_PER_USER = 20
SWITCHES_PER_USER = 2
INTERACTIVE = ("trajectory", "switch model")


def corpus_words() -> list[str]:
    with gzip.open(ROOT / "data" / "rotten_tomatoes" / "snippets.tsv.gz", "rt", encoding="utf-8") as fh:
        return " ".join(line.split("\t")[-1] for line in fh).split()


class Recorder:
    def __init__(self):
        self.lock = threading.Lock()
        self.samples: dict[str, list[float]] = defaultdict(list)
        self.errors: dict[str, int] = defaultdict(int)
        self.first_error = ""

    def timed(self, name: str, send) -> requests.Response | None:
        start = time.perf_counter()
        try:
            resp = send()
            ok = resp.status_code in (200, 204) and (name.startswith("GET") or resp.status_code == 204
                                                     or b'"multi":true' in resp.content[:64])
            detail = f"HTTP {resp.status_code}"
        except requests.RequestException as err:
            resp, ok, detail = None, False, str(err)
        elapsed = time.perf_counter() - start
        with self.lock:
            self.samples[name].append(elapsed)
            if not ok:
                self.errors[name] += 1
                self.first_error = self.first_error or f"{name}: {detail}"
        return resp


class User:
    def __init__(self, base: str, deps: list[dict], models: list[str], words: list[str], rec: Recorder,
                 seed: int):
        self.base, self.deps, self.models, self.words, self.rec = base, deps, models, words, rec
        self.rng = random.Random(seed)
        self.session = requests.Session()

    def post(self, name: str, output: str, inputs: list, state: list = ()):
        body = callback_body(find_dependency(self.deps, output), inputs, state)
        return self.rec.timed(name, lambda: self.session.post(self.base + "/_dash-update-component",
                                                              data=json.dumps(body), timeout=60,
                                                              headers={"Content-Type": "application/json"}))

    def open_page(self) -> None:
        for path in ("/", "/_dash-layout", "/_dash-dependencies"):
            self.rec.timed(f"GET {path}", lambda p=path: self.session.get(self.base + p, timeout=60))
        self.post("page content", PAGES_OUTPUT, page_inputs("/", ""))

    def text(self) -> str:
        n = self.rng.randint(5, 200)
        start = self.rng.randrange(len(self.words) - n)
        return " ".join(self.words[start:start + n])

    def run(self, t_end: float, start_delay: float) -> None:
        time.sleep(start_delay)
        self.open_page()
        model, text = self.models[0], ""
        switch_at = set(self.rng.sample(range(1, TEXTS_PER_USER), SWITCHES_PER_USER))
        pace = max(0.5, (t_end - time.time()) / TEXTS_PER_USER)  # spread the 20 texts over the run
        for k in range(TEXTS_PER_USER):
            if time.time() >= t_end:
                return
            if k in switch_at:
                model = self.rng.choice([m for m in self.models if m != model])
                self.post("switch model", "trajectory-graph.figure", [("model-picker", "value", model),
                                                                      ("view-mode", "value", "3d")],
                          [("sentence-input", "value", text), ("model-info", "data", None)])
            text, began = self.text(), time.time()
            words = text.split()
            for part in (1, 2, 3):  # coalesced typing: a few growing prefixes, then the whole text
                self.post("trajectory", "trajectory-data.data",
                          [("debounced-text", "data", " ".join(words[: len(words) * part // 3]))],
                          [("model-picker", "value", model)])
                time.sleep(self.rng.uniform(0.1, 0.3))
            time.sleep(max(0.0, pace - (time.time() - began)) * self.rng.uniform(0.7, 1.3))


def run_load(base: str, models: list[str], users: int, duration: float) -> tuple[Recorder, float]:
    deps = requests.get(base + "/_dash-dependencies", timeout=30).json()
    words, rec = corpus_words(), Recorder()
    t_end = time.time() + duration
    threads = [threading.Thread(target=User(base, deps, models, words, rec, seed=i).run,
                                args=(t_end, random.Random(1000 + i).uniform(0, 3)), daemon=True)
               for i in range(users)]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=duration + 120)
    return rec, time.perf_counter() - start


def report(title: str, rec: Recorder, wall_s: float) -> float:
    total = sum(len(v) for v in rec.samples.values())
    print(f"\n{title}: {total} requests in {wall_s:.1f} s = {total / wall_s:.1f} requests/s, "
          f"{sum(rec.errors.values())} errors" + (f" (first: {rec.first_error})" if rec.first_error else ""))
    print(f"  {'request':22s} {'n':>6s} {'median ms':>10s} {'p95 ms':>8s} {'max ms':>8s} {'errors':>7s}")
    for name, values in sorted(rec.samples.items()):
        ms = np.array(values) * 1000
        print(f"  {name:22s} {len(ms):6d} {np.median(ms):10.1f} {np.percentile(ms, 95):8.1f} {ms.max():8.1f} "
              f"{rec.errors.get(name, 0):7d}")
    interactive = np.concatenate([rec.samples[n] for n in INTERACTIVE if rec.samples[n]]) * 1000
    p95 = float(np.percentile(interactive, 95))
    print(f"  interactive callbacks (typing + model switch): median {np.median(interactive):.1f} ms, p95 {p95:.1f} ms")
    return p95


def worker_memory(master: psutil.Process) -> None:
    for child in master.children():
        info = child.memory_full_info()
        print(f"  worker pid {child.pid}: RSS {info.rss / 2**20:.0f} MiB, USS (its own) {info.uss / 2**20:.0f} MiB, "
              f"PSS {info.pss / 2**20:.0f} MiB")
    print(f"  master pid {master.pid}: RSS {master.memory_info().rss / 2**20:.0f} MiB")


def start_training_job(store: Path) -> str:
    """A job long enough to outlast the run, created and launched exactly as the Train page does."""
    import dataclasses

    from core.jobs import JobRegistry
    from core.presets import PRESETS
    from dashboard.jobs import JobLauncher
    from dashboard.settings import Settings

    preset = PRESETS["gru-cat3"]
    config = dataclasses.replace(preset, run_id="load-bench-job",
                                 train=dataclasses.replace(preset.train, steps=20_000, patience=10_000))
    registry = JobRegistry(store)
    job = registry.create(config)
    JobLauncher(dataclasses.replace(Settings.from_env(), store=store, user_store=store)).launch(job.job_id)
    for _ in range(120):
        status = registry.get(job.job_id)
        if status.state == "running" and status.progress > 0:
            return job.job_id
        time.sleep(0.5)
    raise RuntimeError(f"the training job did not start: {registry.get(job.job_id)}")


def stop_training_job(store: Path, job_id: str) -> None:
    from core.jobs import JobRegistry

    registry = JobRegistry(store)
    status = registry.get(job_id)
    last_step = status.curve[-1].get("step", 0) if status.curve else 0
    print(f"\ntraining job: {status.stage}, {status.progress:.0%} done, step {last_step} of "
          f"{status.config['train']['steps']} after {status.elapsed_s:.0f} s (it kept training on idle CPU)")
    registry.request_cancel(job_id)
    for _ in range(60):
        if registry.get(job_id).state != "running":
            return
        time.sleep(0.5)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--duration", type=float, default=60.0)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--no-training", action="store_true", help="skip the run with a training job")
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="attractorscope-load-"))
    store = tmp / "store"
    shutil.copytree(ROOT / "models_store", store)
    from core.store import list_bundles

    models = [s.run_id for s in list_bundles(store) if s.ok and s.has_analysis and s.kind == "classifier"]
    port = free_port()
    env = {**os.environ, "ATTRACTORSCOPE_STORE": str(store), "ATTRACTORSCOPE_USER_STORE": str(store),  # jobs here too
           "OMP_NUM_THREADS": "1"}
    env.pop("ATTRACTORSCOPE_REDIS_URL", None)
    cmd = [sys.executable, "-m", "gunicorn", "app:server", "-w", str(args.workers), "-b", f"127.0.0.1:{port}",
           "--timeout", "120", "--log-level", "warning"]
    print(f"gunicorn: {' '.join(cmd[2:])}; {args.users} users for {args.duration:.0f} s; models: {', '.join(models)}; "
          f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f}")
    server = subprocess.Popen(cmd, cwd=ROOT, env=env)
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_for(base + "/", server, 120)
        master = psutil.Process(server.pid)
        print("\nmemory after start:")
        worker_memory(master)
        idle_rec, wall = run_load(base, models, args.users, args.duration)
        idle_p95 = report("idle", idle_rec, wall)
        print("\nmemory after the idle run (every model loaded in every worker):")
        worker_memory(master)
        if not args.no_training:
            job_id = start_training_job(store)
            try:
                busy_rec, wall = run_load(base, models, args.users, args.duration)
            finally:
                stop_training_job(store, job_id)
            busy_p95 = report("while a training job runs", busy_rec, wall)
            print("\nmemory after both runs (no growth: bundles load once per worker, not per request):")
            worker_memory(master)
            print(f"\ninteractive p95 while training / idle: {busy_p95 / idle_p95:.2f}x (goal <= 2x)")
        print(f"\ngoal: p95 <= 250 ms and 0 errors; idle p95 {idle_p95:.0f} ms, "
              f"{sum(idle_rec.errors.values())} errors")
    finally:
        stop(server)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
