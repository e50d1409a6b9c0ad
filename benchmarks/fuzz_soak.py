"""The long fuzz: hostile input (tests/fuzzing.py) through every text-taking entry point, 100k cases
in all, counting failures instead of stopping at the first one (the suite runs 1,000 per entry point).

    python benchmarks/fuzz_soak.py [--cases 100000] [--seed 0]

Serves the app in-process on a throwaway store holding a tiny analyzed model; prints cases and
failures per entry point, and the first failure of each kind.
"""
from __future__ import annotations

import argparse
import logging
import os
import shutil
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("OMP_NUM_THREADS", "1")


def tiny_store(root: Path) -> Path:
    """A 2-class tiny GRU, trained and analyzed here in a few seconds (what the suite uses too)."""
    import torch

    from core import store
    from core.analysis import analyze_bundle
    from core.pipeline import train_run
    from tests.conftest import TINY_RUN_ID, TINY_TASK, TINY_TRAIN
    from core.config import ModelConfig, RunConfig

    torch.set_num_threads(1)
    config = RunConfig(run_id=TINY_RUN_ID, model=ModelConfig(cell="gru", units=12, embed_dim=8, num_classes=2),
                       task=TINY_TASK, train=TINY_TRAIN)
    path = train_run(config, store_path=root)
    analyze_bundle(store.load_path(path), n_inits=64, cloud_size=1500, max_sequences=200)
    return root


def soak(entry, client, run_id: str, cases: int, seed: int) -> tuple[int, Counter, dict]:
    from hypothesis import HealthCheck, Phase, given, seed as hypothesis_seed, settings

    from tests.fuzzing import run_case

    failures, first = Counter(), {}
    done = [0]

    @hypothesis_seed(seed)
    @settings(max_examples=cases, deadline=None, database=None, phases=[Phase.generate],
              suppress_health_check=list(HealthCheck))
    @given(entry.strategy)
    def run(value):
        done[0] += 1
        try:
            run_case(entry, client, run_id, value)
        except Exception as err:  # noqa: BLE001 - counted and reported, the soak goes on
            kind = f"{type(err).__name__}: {str(err)[:160]}"
            failures[kind.split(":")[0]] += 1
            first.setdefault(kind.split(":")[0], (kind, repr(value)[:200]))

    run()
    return done[0], failures, first


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=100_000, help="total over all entry points")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    from tests.fuzzing import ENTRY_POINTS, DashClient, plant_canaries
    from tests.conftest import TINY_RUN_ID

    tmp = Path(tempfile.mkdtemp(prefix="attractorscope-soak-"))
    store_path = tiny_store(tmp / "store")
    plant_canaries(store_path / TINY_RUN_ID, store_path)
    os.environ["ATTRACTORSCOPE_STORE"] = os.environ["ATTRACTORSCOPE_USER_STORE"] = str(store_path)

    from app import create_app
    from core.jobs import JobRegistry
    from dashboard.settings import Settings

    app = create_app(Settings(store=store_path))
    from dashboard.pages import train  # registered by create_app

    app.server.config["ATTRACTORSCOPE_JOBS"] = type("NoLaunch", (), {"launch": lambda self, job_id: None})()
    train.job_registry = lambda: JobRegistry(tmp / "jobs")  # fuzzed Start clicks queue jobs here; none runs
    client = DashClient(app.server.test_client())

    logging.disable(logging.WARNING)  # unknown models and bad bundles are logged by design: thousands here
    per_entry = args.cases // len(ENTRY_POINTS)
    total_cases, total_failures = 0, 0
    print(f"{per_entry:,} cases for each of {len(ENTRY_POINTS)} entry points (seed {args.seed})")
    for entry in ENTRY_POINTS:
        start = time.perf_counter()
        done, failures, first = soak(entry, client, TINY_RUN_ID, per_entry, args.seed)
        total_cases += done
        total_failures += sum(failures.values())
        print(f"  {entry.name:24s} {done:7,d} cases  {sum(failures.values()):5d} failures  "
              f"{time.perf_counter() - start:7.1f} s", flush=True)
        for kind, (message, value) in first.items():
            print(f"      {failures[kind]}x {message}\n        e.g. {value}")
    print(f"\ntotal: {total_cases:,} cases, {total_failures} failures (goal 0)")
    shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
