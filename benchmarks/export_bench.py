"""Explore's server-side exports (dashboard/figures_export.py): time and size of the HTML, CSV and GIF files for a
short and a long text on a bundled model, 2D and 3D; prints figures, asserts nothing.

    python benchmarks/export_bench.py [--model gru-imdb] [--runs 3]

The PNG and SVG are drawn in the browser (assets/export.js) and are not timed here.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core import store  # noqa: E402
from dashboard import figures_export as fx  # noqa: E402


def _time(fn, runs: int):
    times, out = [], None
    for _ in range(runs):
        start = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="gru-imdb")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    torch.set_num_threads(1)
    bundle = store.load(args.model)
    names, ordered = bundle.class_names, bool(bundle.info.get("ordered"))
    texts = {"short": "not good at all", "long": max(bundle.examples, key=len)}
    fx.trajectory_gif(bundle.analysis, names, ordered, bundle.trajectory("good"), False)  # warm matplotlib's fonts
    print(f"model {args.model}, median of {args.runs} runs, 1 thread")
    print(f"{'text':<6} {'tokens':>6} {'view':<4} {'file':<4} {'seconds':>8} {'size':>10}")
    for label, text in texts.items():
        traj = bundle.trajectory(text)
        for three_d in (False, True):
            view = "3d" if three_d else "2d"
            jobs = {
                "html": lambda: fx.figure_html(fx.export_figure(bundle.analysis, names, ordered, traj, args.model,
                                                                three_d)).encode(),
                "csv": lambda: fx.trajectory_csv(traj, names).encode(),
                "gif": lambda: fx.trajectory_gif(bundle.analysis, names, ordered, traj, three_d),
            }
            for kind, job in jobs.items():
                if kind == "csv" and three_d:
                    continue  # the same table in either view
                seconds, data = _time(job, args.runs)
                print(f"{label:<6} {len(traj.tokens):>6} {view:<4} {kind:<4} {seconds:>8.2f} {len(data) / 1e6:>8.2f} MB")


if __name__ == "__main__":
    main()
