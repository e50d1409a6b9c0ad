"""Training targets (issue 3): prints measured figures; not part of the test suite.

    python benchmarks/train_bench.py                 # synthetic 3-class GRU-128 against the 60 s budget
    python benchmarks/train_bench.py --bundled       # also report the bundled real-text models' metrics

Targets: synthetic 3-class GRU-128 >= 98% test accuracy within 60 s of training on a 2-core machine;
gru-reviews >= 76% test accuracy; gru-stars5 accuracy and mean absolute error in stars.
"""
from __future__ import annotations

import argparse
import dataclasses
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from core import store  # noqa: E402
from core.pipeline import resolve_vocab_size  # noqa: E402
from core.presets import PRESETS  # noqa: E402
from core.tasks import load_task  # noqa: E402
from core.training import train  # noqa: E402

BUDGET_S = 60.0


def synthetic_within_budget(steps: int) -> None:
    base = PRESETS["gru-cat3"]
    config = dataclasses.replace(base, run_id="bench-cat3",
                                 train=dataclasses.replace(base.train, steps=steps, patience=10_000))
    data = load_task(config.task)
    config = resolve_vocab_size(config, data)
    reached = {}

    def on_progress(event: dict) -> None:
        if event.get("val_accuracy", 0) >= 0.98 and "step" not in reached:
            reached.update(step=event["step"], seconds=event["elapsed_s"])

    start = time.perf_counter()
    result = train(config, data, on_progress=on_progress)
    wall = time.perf_counter() - start
    acc = result.metrics["test_accuracy"]
    print(f"synthetic 3-class GRU-128, {steps} steps: test accuracy {acc:.2%} in {wall:.1f} s of training "
          f"(target >= 98% within {BUDGET_S:.0f} s: {'MET' if acc >= 0.98 and wall <= BUDGET_S else 'NOT MET'})")
    if reached:
        print(f"  validation accuracy first reached 98% at step {reached['step']} after {reached['seconds']:.1f} s")


def bundled_metrics() -> None:
    for run_id in ("gru-reviews", "gru-stars5"):
        try:
            bundle = store.load(run_id)
        except store.BundleError as err:
            print(f"{run_id}: unavailable ({err})")
            continue
        m = bundle.metrics
        line = f"{run_id}: test accuracy {m['test_accuracy']:.2%} (n={m.get('n_test')}), trained {m['wall_time_s']:.0f} s"
        if "test_mae" in m:
            line += f", MAE {m['test_mae']:.3f} stars"
        if run_id == "gru-reviews":
            line += f" (target >= 76%: {'MET' if m['test_accuracy'] >= 0.76 else 'NOT MET'})"
        print(line)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=800)
    parser.add_argument("--bundled", action="store_true")
    args = parser.parse_args()
    synthetic_within_budget(args.steps)
    if args.bundled:
        bundled_metrics()
