"""Issue 16's attacks replayed against a live `gunicorn app:server -w 2` (the README's DEPLOY stack: Redis
with maxmemory and volatile-lru, a Celery worker), then against gunicorn alone (local job processes).

Prints, for each: the p95 of a normal Explore request (typing, on the reviews model) idle and while the
attack runs, and their ratio; worker RSS and Redis used_memory before and after; what the queue did.
  1  Words/long text: 6 MB Words searches and 7.8 MB Compare texts, two at once every second (the issue's
     attack was two at once every 30 s), and then back to back from two clients (a flood)
  4  150 Explore requests with unique view-mode values (each one used to store a 550 KB figure in Redis)
  9  140 requests with unique 7 MB Fixed points / Decomposition options (per-worker page memo)
  6  a client (with and without its cookie) pressing Start 300 times; Train polls; 4 Train tabs polling
  2  a queue entry whose message (or process) was lost, then a new job: how many jobs start after it;
     Redis down while Start is pressed; (local) 20 Starts in a burst and a runner killed with SIGKILL
Targets (issue 16): p95 ratio <= 3 under abuse 1, memory growth <= 10%, the queue always drains.

    python benchmarks/abuse_bench.py [--normal 150]

The bundled models are copied to a temp store; nothing is written to models_store/.
"""
from __future__ import annotations

import argparse
import os
import shutil
import signal
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import psutil
import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks._abuse import Client, Stack, corpus_texts, job_states  # noqa: E402

MODELS = ("gru-reviews", "gru-cat3", "lstm-cat3")


def normal_p95(base: str, n: int, texts: list[str]) -> tuple[float, float]:
    """(median, p95) in ms of n typing requests from one user on the reviews model."""
    user, times = Client(base), []
    for i in range(n):
        start = time.perf_counter()
        user.typing("gru-reviews", texts[i % len(texts)])
        times.append(time.perf_counter() - start)
        time.sleep(0.02)
    ms = np.array(times) * 1000
    return float(np.median(ms)), float(np.percentile(ms, 95))


def under(attack, base: str, n: int, texts: list[str], clients: int = 2, period: float = 0.0):
    """normal_p95 while ``clients`` threads run ``attack(client)``, each starting one every ``period`` seconds
    (0: back to back); returns it and the attack's HTTP statuses."""
    stop, answers = threading.Event(), {}
    lock = threading.Lock()

    def loop() -> None:
        client = Client(base)
        while not stop.is_set():
            began = time.monotonic()
            status = attack(client)
            with lock:
                answers[status] = answers.get(status, 0) + 1
            stop.wait(max(0.0, period - (time.monotonic() - began)))

    threads = [threading.Thread(target=loop, daemon=True) for _ in range(clients)]
    for t in threads:
        t.start()
    time.sleep(0.5)
    try:
        return normal_p95(base, n, texts), answers
    finally:
        stop.set()
        for t in threads:
            t.join(timeout=120)


ATTACK_BODIES: list[bytes] = []  # built once: the server's cost is measured, not the attacker's


def build_attack(client: Client) -> None:
    ATTACK_BODIES[:] = [client.words_body("gru-reviews", "zq," * 2_000_000),  # 6 MB, 2 million terms
                        client.compare_body("gru-cat3", "lstm-cat3", "\u3000" * 2_600_000 + " good")]  # 7.8 MB


def long_text_attack(client: Client) -> int:
    client.count = getattr(client, "count", 0) + 1
    return client.send(ATTACK_BODIES[client.count % 2]).status_code


def report_p95(title: str, idle: tuple[float, float], busy: tuple[float, float], answers: dict | None = None) -> float:
    ratio = busy[1] / idle[1]
    extra = f"; attack answers {answers}" if answers else ""
    print(f"  {title}: normal Explore p95 {busy[1]:.0f} ms (median {busy[0]:.0f}) vs idle {idle[1]:.0f} ms "
          f"(median {idle[0]:.0f}): ratio {ratio:.2f}{extra}")
    return ratio


def redis_phase(stack: Stack, n: int, texts: list[str]) -> None:
    base, store = stack.base, stack.store
    print(f"\n== gunicorn -w 2 + Redis (maxmemory 64mb, volatile-lru) + Celery worker; load average "
          f"{os.getloadavg()[0]:.2f} ==")
    warm = Client(base)
    for model in MODELS:  # every model in both workers, every figure cached
        for view in ("3d", "2d"):
            for _ in range(4):
                warm.switch(model, view)
        for _ in range(4):
            warm.typing(model, texts[0])
            warm.compare(model, MODELS[0], texts[0])
    rss0, mem0 = stack.worker_rss(), stack.redis_memory()
    idle = normal_p95(base, n, texts)
    print(f"  idle: normal Explore p95 {idle[1]:.0f} ms (median {idle[0]:.0f}); workers RSS {rss0} MiB; "
          f"Redis used_memory {mem0 / 2**20:.1f} MiB")

    build_attack(warm)
    print(f"  attack bodies: {', '.join(f'{len(b) / 1e6:.1f} MB' for b in ATTACK_BODIES)}")
    busy, answers = under(long_text_attack, base, n, texts, period=1.0)
    ratio = report_p95("1  6 MB Words searches / 7.8 MB Compare texts, 2 at once every second (the issue's "
                       "attack, 30x as often)", idle, busy, answers)
    busy, answers = under(long_text_attack, base, n, texts)
    flood = report_p95("1' the same, 2 clients back to back (a flood: a rate limit's job)", idle, busy, answers)
    before = stack.redis_memory()
    views = [Client(base).switch("gru-reviews", f"view-{i}").status_code for i in range(150)]
    mem1 = stack.redis_memory()
    print(f"  4  150 unique view-mode values: HTTP {sorted(set(views))}; Redis used_memory {before / 2**20:.2f} -> "
          f"{mem1 / 2**20:.2f} MiB ({(mem1 - before) / before:+.1%})")
    options = [Client(base).page_option(i, "x" * 7_000_000 + str(i)).status_code for i in range(140)]
    rss1 = stack.worker_rss()
    print(f"  9  140 unique 7 MB page options: HTTP {sorted(set(options))}; workers RSS {rss0} -> {rss1} MiB "
          f"({sum(rss1) / sum(rss0) - 1:+.1%})")
    jobs_phase(stack, n, texts, idle)
    orphan_phase_celery(stack)
    rss2 = stack.worker_rss()
    print(f"  memory: workers RSS after warm-up {rss0} MiB, after every attack {rss2} MiB "
          f"({sum(rss2) / sum(rss0) - 1:+.1%}); Redis used_memory {mem0 / 2**20:.1f} -> "
          f"{stack.redis_memory() / 2**20:.1f} MiB")
    redis_down(stack, texts)
    print(f"  targets: p95 ratio under attack 1 = {ratio:.2f} (<= 3); under the flood 1' {flood:.2f} (no target)")


def jobs_phase(stack: Stack, n: int, texts: list[str], idle) -> None:
    base = stack.base
    keeper = Client(base)
    kept = [keeper.start(f"mine-{i}")[1] for i in range(300)]
    dropper = [Client(base).start(f"nocookie-{i}")[1] for i in range(300)]  # a new session every time
    states = job_states(stack.store)
    print(f"  6  300 Starts keeping the cookie: {kept.count('queued')} accepted ('{_refusal(kept)}'); "
          f"300 without it: {dropper.count('queued')} accepted ('{_refusal(dropper)}'); job records {len(states)}")
    poll = Client(base)
    times = []
    for _ in range(20):
        start = time.perf_counter()
        poll.train_poll()
        times.append(time.perf_counter() - start)
    print(f"     a Train poll with {len(states)} records: median {np.median(times) * 1000:.0f} ms")

    def tab(client: Client) -> int:
        time.sleep(1.0)
        return client.train_poll().status_code

    busy, _ = under(tab, base, n, texts, clients=4)
    report_p95("6  4 Train tabs polling every second", idle, busy)
    stack.cancel_all()


def _refusal(answers: list[str]) -> str:
    refused = [a for a in answers if a != "queued"]
    return refused[-1][:60] if refused else "none refused"


def orphan_phase_celery(stack: Stack) -> None:
    orphan = stack.orphan_job("orphan-celery")  # its Celery message was lost (or never sent)
    client = Client(stack.base)
    client.start("after-orphan", units=3, embed=2, steps=10)
    finished = stack.wait_jobs(["orphan-celery", "after-orphan"], timeout=300, poll=client)
    print(f"  2  orphaned queue entry {orphan}, then a new job: {finished}")


def redis_down(stack: Stack, texts: list[str]) -> None:
    stack.stop_redis()
    client = Client(stack.base)
    explore = [client.switch(m, "3d").status_code for m in MODELS] + [client.typing("gru-cat3", texts[1]).status_code]
    compare = client.compare("gru-cat3", "lstm-cat3", "good").status_code
    before = len(job_states(stack.store))
    status, answer = client.start("redis-down", units=3, embed=2, steps=10)
    print(f"  5/2a Redis stopped: Explore HTTP {sorted(set(explore))}, Compare HTTP {compare}; Start: HTTP {status}, "
          f"'{answer[:60]}', job records {before} -> {len(job_states(stack.store))}")


def local_phase(stack: Stack) -> None:
    print(f"\n== gunicorn -w 2, local job processes (no Redis); load average {os.getloadavg()[0]:.2f} ==")
    burst = [Client(stack.base).start(f"burst-{i}", steps=20_000)[1] for i in range(20)]
    time.sleep(3)
    runners = stack.runner_processes()
    uss = sum(p.memory_full_info().uss for p in runners) / 2**20 if runners else 0
    print(f"  3  20 Starts in a burst: {burst.count('queued')} accepted; job processes {len(runners)} "
          f"({uss:.0f} MiB USS); queued records {list(job_states(stack.store).values()).count('queued')}")
    poll = Client(stack.base)
    started = stack.wait_running(timeout=120, poll=poll)
    killed = started[0] if started else None
    if killed:
        os.kill(killed[1], signal.SIGKILL)  # the running job's process dies
    after = stack.wait_running(timeout=120, poll=poll, exclude={killed[0]} if killed else set())
    print(f"  2b kill -9 of the running job's process ({killed[0] if killed else 'none'}): next job started: "
          f"{after[0][0] if after else 'NONE'}; states {sorted(set(job_states(stack.store).values()))}")
    stack.cancel_all()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--normal", type=int, default=150, help="normal Explore requests per measurement")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="attractorscope-abuse-"))
    for model in MODELS:
        shutil.copytree(ROOT / "models_store" / model, tmp / "store" / model)
    texts = corpus_texts()
    print(f"{os.cpu_count()} cores, load average {os.getloadavg()}; {psutil.virtual_memory().available / 2**30:.1f} "
          f"GiB available; models {', '.join(MODELS)}")
    try:
        with Stack(tmp, redis=True) as stack:
            redis_phase(stack, args.normal, texts)
        with Stack(tmp, redis=False) as stack:
            local_phase(stack)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"\nload average at the end {os.getloadavg()}")


if __name__ == "__main__":
    main()
