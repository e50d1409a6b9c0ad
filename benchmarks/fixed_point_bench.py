"""Fixed-point search benchmark: Newton/LM solver vs a FixedPointFinder-style joint Adam baseline.

    python benchmarks/fixed_point_bench.py                       # GRU-128 on the 3-class categorical task
    python benchmarks/fixed_point_bench.py --cells gru,lstm --units 128,256 --adam-iters 500
    python benchmarks/fixed_point_bench.py --threads 0           # torch's default thread count (default: 1)

GRU-128 and LSTM-128 come from the bundles ``models_store/gru-cat3`` / ``lstm-cat3`` when they
exist; other models (or missing bundles) are trained here (``--train-steps``, default 400) and cached as state dicts in
``--cache-dir``. Initial states are 1024 states sampled from real test-set trajectories; both
solvers start from the same ones. Prints, per model: % of inits at q < 1e-10, wall time, distinct
and stable points, the Adam baseline's time and median q, and the speed ratio. Timings depend
heavily on machine load (printed): on a shared 2-core machine, 2 torch threads competing with
other processes ran the solver 3-6x slower than 1 thread, hence ``--threads 1`` by default.
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--cells", default="gru", help="comma-separated cell types (default gru)")
    p.add_argument("--units", default="128", help="comma-separated unit counts (default 128)")
    p.add_argument("--max-state", type=int, default=256,
                   help="skip cell/units combinations whose state is larger (LSTM state = 2 x units)")
    p.add_argument("--inits", type=int, default=1024)
    p.add_argument("--adam-iters", type=int, default=5000, help="Adam baseline iterations (0: skip)")
    p.add_argument("--adam-lr", type=float, default=1.0)
    p.add_argument("--train-steps", type=int, default=400)
    p.add_argument("--threads", type=int, default=1,
                   help="torch.set_num_threads before any work (default 1: fastest on a shared 2-core machine; "
                        "0 keeps torch's default)")
    p.add_argument("--cache-dir", default=os.path.join(tempfile.gettempdir(), "attractorscope-bench"))
    p.add_argument("--seed", type=int, default=0)
    return p.parse_args(argv)


def get_model(cell: str, units: int, args, data):
    """(model, provenance string): the gru-cat3 bundle, a cached state dict, or a fresh training run."""
    import torch

    from core.config import ModelConfig, RunConfig, TaskConfig, TrainConfig
    from core.models import build_model
    from core.training import train

    from core import store
    from core.config import store_dir

    run_id = f"{cell}-cat3"  # bundled models: gru-cat3 (GRU-128), lstm-cat3 (LSTM-128) when present
    if (store_dir() / run_id).is_dir():
        bundle = store.load(run_id)
        cfg = bundle.config
        if (cfg.model.cell, cfg.model.units, cfg.task.name, cfg.task.num_classes) == (cell, units, "categorical", 3):
            acc = bundle.metrics.get("test_accuracy", float("nan"))
            return bundle.model, f"bundle {run_id} (test accuracy {acc:.3f})"
    run = RunConfig(run_id=f"bench-{cell}{units}",
                    model=ModelConfig(cell=cell, units=units, vocab_size=len(data.vocab), num_classes=3),
                    task=TaskConfig("categorical", 3), train=TrainConfig(steps=args.train_steps, seed=args.seed))
    path = Path(args.cache_dir) / f"{cell}-{units}-steps{args.train_steps}-seed{args.seed}.pt"
    if path.is_file():
        saved = torch.load(path, weights_only=True)
        model = build_model(run.model)
        model.load_state_dict(saved["state"])
        model.eval()
        return model, f"cached {path.name} (test accuracy {saved['test_accuracy']:.3f})"
    start = time.perf_counter()
    trained = train(run, data)
    path.parent.mkdir(parents=True, exist_ok=True)
    acc = trained.metrics["test_accuracy"]
    torch.save({"state": trained.model.state_dict(), "test_accuracy": acc}, path)
    wall = time.perf_counter() - start
    return trained.model, f"trained {args.train_steps} steps in {wall:.0f} s (test accuracy {acc:.3f})"


def sample_inits(model, data, count: int, seed: int):
    """``count`` hidden states drawn from the model's own trajectories on test sentences."""
    import numpy as np
    import torch

    from core.tasks import encode_split

    enc = encode_split(data.test, data.vocab)
    rng = np.random.default_rng(seed)
    idx = rng.choice(len(enc.lengths_b), min(len(enc.lengths_b), max(64, count // 4)), replace=False)
    lengths = enc.lengths_b[idx]
    with torch.no_grad():
        states = model.run(torch.from_numpy(enc.ids_bxt[idx, : lengths.max()]), torch.from_numpy(lengths))
    valid = np.concatenate([states[i, : lengths[i]].numpy() for i in range(len(idx))]).astype(np.float64)
    return valid[rng.choice(len(valid), count, replace=len(valid) < count)]


def bench_one(cell: str, units: int, args, data) -> dict:
    import numpy as np

    from benchmarks.adam_baseline import adam_baseline
    from core.fixed_points import find_fixed_points

    model, source = get_model(cell, units, args, data)
    inits = sample_inits(model, data, args.inits, args.seed)
    print(f"\n== {cell}-{units} (state size {model.state_size}): {source}", flush=True)
    fps = find_fixed_points(model, inits, seed=args.seed)
    n_stable = int(fps.is_stable_p[fps.is_converged_p].sum())
    print(f"newton/lm : {fps.n_inits} inits, {100 * fps.frac_converged:.1f}% at q<{fps.tol_q:g} (converged, in box), "
          f"median q {fps.median_q_all:.1e}, {int(fps.is_converged_p.sum())} distinct fixed points "
          f"({n_stable} stable), {int(fps.is_slow_p.sum())} slow, {fps.n_points - int(fps.is_converged_p.sum())} "
          f"other clusters, {fps.n_spurious} spurious; {fps.wall_time_s:.2f} s", flush=True)
    out = {"model": f"{cell}-{units}", "ours_s": fps.wall_time_s, "ours_frac": fps.frac_converged,
           "ours_median_q": fps.median_q_all, "distinct": int(fps.is_converged_p.sum()), "stable": n_stable}
    if args.adam_iters > 0:
        res = adam_baseline(model, inits, lr=args.adam_lr, max_iters=args.adam_iters)
        frac = float((res.q_b < fps.tol_q).mean())
        med = float(np.median(res.q_b))
        print(f"adam      : {res.n_iters} iterations (lr {args.adam_lr:g}, float32, joint), {res.wall_time_s:.2f} s, "
              f"median q {med:.1e}, {100 * frac:.1f}% at q<{fps.tol_q:g}, "
              f"{100 * (1 - res.in_box_b.mean()):.1f}% outside the reachable box", flush=True)
        ratio = res.wall_time_s / fps.wall_time_s
        verdict = "better" if fps.median_q_all <= med else "WORSE"
        print(f"speed     : {ratio:.1f}x faster than Adam, median q {verdict} "
              f"({fps.median_q_all:.1e} vs {med:.1e})", flush=True)
        out.update(adam_s=res.wall_time_s, adam_median_q=med, adam_frac=frac, ratio=ratio)
    return out


def main(argv=None) -> int:
    args = parse_args(argv)
    import torch

    if args.threads > 0:
        torch.set_num_threads(args.threads)  # once, before any linear algebra (changing it later trips the LU bug)
    from core.cells import CELLS
    from core.config import TaskConfig
    from core.tasks import load_task

    load = os.getloadavg() if hasattr(os, "getloadavg") else (float("nan"),) * 3
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, {os.cpu_count()} cpus, "
          f"load average {load[0]:.1f} {load[1]:.1f} {load[2]:.1f}")
    data = load_task(TaskConfig("categorical", 3))
    rows = []
    for cell in [c.strip() for c in args.cells.split(",") if c.strip()]:
        for units in [int(u) for u in args.units.split(",") if u.strip()]:
            state = CELLS[cell].state_size(units)
            if state > args.max_state:
                print(f"\n(skipping {cell}-{units}: state size {state} > --max-state {args.max_state})")
                continue
            rows.append(bench_one(cell, units, args, data))
    print("\nsummary")
    for r in rows:
        line = (f"  {r['model']:>9}: {100 * r['ours_frac']:5.1f}% q<1e-10 in {r['ours_s']:6.2f} s, "
                f"{r['distinct']} distinct / {r['stable']} stable")
        if "ratio" in r:
            line += f"; adam {r['adam_s']:7.2f} s median q {r['adam_median_q']:.1e}; {r['ratio']:.1f}x"
        print(line)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
