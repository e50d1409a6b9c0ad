"""Fixed-point search benchmark: Newton/LM solver vs a FixedPointFinder-style joint Adam baseline.

    python benchmarks/fixed_point_bench.py                       # every GRU-128 and LSTM-128 bundle, the flip-flop
    python benchmarks/fixed_point_bench.py --bundles gru-imdb --adam-iters 0
    python benchmarks/fixed_point_bench.py --cells gru --units 256 --no-bundles   # a model trained here
    python benchmarks/fixed_point_bench.py --threads 0           # torch's default thread count (default: 1)

Models: every bundle in the store whose cell and units are in ``--cells`` / ``--units`` (default GRU-128
and LSTM-128), with 1,024 initial states drawn from its own trajectories on held-out texts
(``core.analysis.visited_states``, as the analysis reads them); combinations without a bundle (or all,
with ``--no-bundles``) are trained here on the 3-class categorical task (``--train-steps``) and cached
in ``--cache-dir``; ``--flipflop`` adds GRU-16 and GRU-64 trained on the 3-bit flip-flop
(``core.tasks.flipflop``; the second holds its memories only transiently, a hard case). Both
solvers start from the same states. Prints, per model: % of inits converged (confirmed, inside the
box) and % on slow points, spurious inits, distinct and stable points, wall time, the Adam
baseline's time and median q, and the speed ratio. Timings depend heavily on machine load (the
load average is printed): on a shared 2-core machine, 2 torch threads competing with other
processes ran the solver 3-6x slower than 1 thread, hence ``--threads 1`` by default.
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
    p.add_argument("--cells", default="gru,lstm", help="comma-separated cell types (default gru,lstm)")
    p.add_argument("--units", default="128", help="comma-separated unit counts (default 128)")
    p.add_argument("--bundles", default="", help="comma-separated run ids (default: every matching bundle)")
    p.add_argument("--no-bundles", action="store_true", help="train the cell/units combinations instead")
    p.add_argument("--flipflop", action=argparse.BooleanOptionalAction, default=True,
                   help="also GRUs trained on the 3-bit flip-flop (default on)")
    p.add_argument("--inits", type=int, default=1024)
    p.add_argument("--repeat", type=int, default=1, help="run our solver this many times, report the fastest")
    p.add_argument("--adam-iters", type=int, default=5000, help="Adam baseline iterations (0: skip)")
    p.add_argument("--adam-lr", type=float, default=1.0)
    p.add_argument("--train-steps", type=int, default=400)
    p.add_argument("--threads", type=int, default=1,
                   help="torch.set_num_threads before any work (default 1: fastest on a shared 2-core machine; "
                        "0 keeps torch's default)")
    p.add_argument("--cache-dir", default=os.path.join(tempfile.gettempdir(), "attractorscope-bench"))
    p.add_argument("--slow-points", action=argparse.BooleanOptionalAction, default=True,
                   help="also time the analysis' slow-point stage on each bundle (default on; target <= 5 s)")
    p.add_argument("--seed", type=int, default=0)
    return p.parse_args(argv)


def bundled_models(args, cells, units):
    """(name, model, inits) for each matching bundle in the store."""
    from core import store
    from core.analysis import visited_states

    wanted = [r.strip() for r in args.bundles.split(",") if r.strip()]
    for summary in (s for s in store.list_bundles() if s.kind == "classifier"):
        bundle = store.load(summary.run_id)
        cfg = bundle.config.model
        if (wanted and summary.run_id not in wanted) or (not wanted and (cfg.cell not in cells or cfg.units not in units)):
            continue
        acc = bundle.metrics.get("test_accuracy", float("nan"))
        inits = visited_states(bundle, args.inits, seed=args.seed)
        if args.slow_points:
            stage_s, set_s = slow_point_stage_s(bundle, args.seed)
            print(f"{summary.run_id}: slow-point stage of the analysis {stage_s:.2f} s, of which the slow-point set "
                  f"{set_s:.2f} s (target <= 5 s) and the line and D1 / D4 on held-out texts the rest", flush=True)
        yield f"{summary.run_id} ({cfg.cell.upper()}-{cfg.units}, test accuracy {acc:.3f})", bundle.model, inits


def slow_point_stage_s(bundle, seed: int) -> tuple[float, float]:
    """Seconds the analysis spends on its slow-point stage (``core.analysis_slow.slow_point_arrays``: the
    slow-point set, the line through it, D1 / D4 on held-out texts), on the inputs the analysis gives it,
    and of those the seconds ``find_slow_points`` took (its ``wall_time_s``)."""
    import numpy as np

    from core.analysis import held_out_states
    from core.analysis_slow import slow_point_arrays
    from core.pca import StatePCA

    rng = np.random.default_rng(seed)
    ids, lengths, states, visited, finals = held_out_states(bundle, rng)
    pca = StatePCA().fit(visited[rng.permutation(len(visited))[:50_000]])
    start = time.perf_counter()
    arrays = slow_point_arrays(bundle.model, pca, visited, finals, states, ids, lengths,
                               np.random.default_rng([seed, 15]))
    return time.perf_counter() - start, float(arrays["sp_wall_time_s"])


def trained_model(cell: str, units: int, args, data):
    """(name, model, inits) for a model trained here on the 3-class categorical task (cached)."""
    import torch

    from core.config import ModelConfig, RunConfig, TaskConfig, TrainConfig
    from core.models import build_model
    from core.training import train

    run = RunConfig(run_id=f"bench-{cell}{units}",
                    model=ModelConfig(cell=cell, units=units, vocab_size=len(data.vocab), num_classes=3),
                    task=TaskConfig("categorical", 3), train=TrainConfig(steps=args.train_steps, seed=args.seed))
    path = Path(args.cache_dir) / f"{cell}-{units}-steps{args.train_steps}-seed{args.seed}.pt"
    if path.is_file():
        saved = torch.load(path, weights_only=True)
        model = build_model(run.model)
        model.load_state_dict(saved["state"])
        model.eval()
        acc = saved["test_accuracy"]
    else:
        trained = train(run, data)
        model, acc = trained.model, trained.metrics["test_accuracy"]
        path.parent.mkdir(parents=True, exist_ok=True)
        torch.save({"state": model.state_dict(), "test_accuracy": acc}, path)
    return f"{cell.upper()}-{units} trained here (test accuracy {acc:.3f})", model, sample_inits(model, data, args)


def sample_inits(model, data, args):
    """``args.inits`` hidden states drawn from the model's own trajectories on test sentences."""
    import numpy as np
    import torch

    from core.tasks import encode_split

    enc = encode_split(data.test, data.vocab)
    rng = np.random.default_rng(args.seed)
    idx = rng.choice(len(enc.lengths_b), min(len(enc.lengths_b), max(64, args.inits // 4)), replace=False)
    lengths = enc.lengths_b[idx]
    with torch.no_grad():
        states = model.run(torch.from_numpy(enc.ids_bxt[idx, : lengths.max()]), torch.from_numpy(lengths))
    valid = np.concatenate([states[i, : lengths[i]].numpy() for i in range(len(idx))]).astype(np.float64)
    return valid[rng.choice(len(valid), args.inits, replace=len(valid) < args.inits)]


def flipflop_models(args):
    """(name, model, inits) for GRUs trained on the 3-bit flip-flop (cached)."""
    import numpy as np
    import torch

    from core.config import ModelConfig
    from core.models import build_model
    from core.tasks.flipflop import flipflop_batch, train_flipflop

    for units, steps, seed in ((16, 400, 0), (64, 1500, 1)):
        path = Path(args.cache_dir) / f"flipflop-gru{units}-steps{steps}-seed{seed}.pt"
        if path.is_file():
            model = build_model(ModelConfig(cell="gru", units=units, embed_dim=3, vocab_size=7, num_classes=3))
            saved = torch.load(path, weights_only=True)
            model.load_state_dict(saved["state"])
            model.eval()
            mse = saved["mse"]
        else:
            model, mse = train_flipflop(units=units, steps=steps, seed=seed)
            path.parent.mkdir(parents=True, exist_ok=True)
            torch.save({"state": model.state_dict(), "mse": mse}, path)
        ids = flipflop_batch(np.random.default_rng(5), 64, 200)
        with torch.no_grad():
            visited = model.run(torch.from_numpy(ids)).reshape(-1, model.state_size).double().numpy()
        inits = visited[np.random.default_rng(args.seed).integers(0, len(visited), args.inits)]
        yield f"flip-flop GRU-{units} (trained {steps} steps, test MSE {mse:.4f})", model, inits


def bench_one(name: str, model, inits, args) -> dict:
    import numpy as np

    from benchmarks.adam_baseline import adam_baseline
    from core.fixed_points import find_fixed_points

    print(f"\n== {name}, state size {model.state_size}", flush=True)
    find_fixed_points(model, inits[:16], seed=args.seed)  # untimed: one-time library loading (scipy, threadpoolctl)
    runs = [find_fixed_points(model, inits, seed=args.seed) for _ in range(max(1, args.repeat))]
    fps = min(runs, key=lambda r: r.wall_time_s)
    conv = fps.is_converged_p
    n_stable = int((fps.is_stable_p & conv).sum())
    print(f"newton/lm : {fps.n_inits} inits, {100 * fps.frac_converged:.1f}% converged (q < {fps.tol_q:g}, confirmed, "
          f"in box) + {100 * fps.frac_slow:.1f}% on slow points, {fps.n_spurious} spurious; {int(conv.sum())} distinct "
          f"fixed points ({n_stable} stable), {int(fps.is_slow_p.sum())} slow; median q {fps.median_q_all:.1e}; "
          f"{fps.wall_time_s:.2f} s" + (f" (fastest of {len(runs)}: " + ", ".join(f"{r.wall_time_s:.2f}" for r in runs)
                                        + ")" if len(runs) > 1 else ""), flush=True)
    out = {"model": name.split(" (")[0], "n": model.state_size, "ours_s": fps.wall_time_s,
           "ours_frac": fps.frac_converged, "ours_slow": fps.frac_slow, "spurious": fps.n_spurious,
           "distinct": int(conv.sum()), "stable": n_stable}
    if args.adam_iters > 0:
        res = adam_baseline(model, inits, lr=args.adam_lr, max_iters=args.adam_iters)
        frac = float((res.q_b < fps.tol_q).mean())
        med = float(np.median(res.q_b))
        print(f"adam      : {res.n_iters} iterations (lr {args.adam_lr:g}, float32, joint), {res.wall_time_s:.2f} s, "
              f"median q {med:.1e}, {100 * frac:.1f}% at q<{fps.tol_q:g}, "
              f"{100 * (1 - res.in_box_b.mean()):.1f}% outside the reachable box", flush=True)
        ratio = res.wall_time_s / fps.wall_time_s
        verdict = "better" if fps.median_q_all <= med else "WORSE"
        print(f"speed     : {ratio:.1f}x faster than Adam, median q {verdict} ({fps.median_q_all:.1e} vs {med:.1e})",
              flush=True)
        out.update(adam_s=res.wall_time_s, adam_median_q=med, ratio=ratio)
    return out


def main(argv=None) -> int:
    args = parse_args(argv)
    import torch

    if args.threads > 0:
        torch.set_num_threads(args.threads)  # once, before any linear algebra (changing it later trips the LU bug)
    from core.config import TaskConfig
    from core.tasks import load_task

    load = os.getloadavg() if hasattr(os, "getloadavg") else (float("nan"),) * 3
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, {os.cpu_count()} cpus, "
          f"load average {load[0]:.1f} {load[1]:.1f} {load[2]:.1f}")
    cells = [c.strip() for c in args.cells.split(",") if c.strip()]
    units = [int(u) for u in args.units.split(",") if u.strip()]
    models = [] if args.no_bundles else list(bundled_models(args, cells, units))
    covered = {(m.cell.name, m.config.units) for _, m, _ in models}
    missing = [(c, u) for c in cells for u in units if (c, u) not in covered and not args.bundles]
    if missing:
        data = load_task(TaskConfig("categorical", 3))
        models += [trained_model(c, u, args, data) for c, u in missing]
    if args.flipflop:
        models += list(flipflop_models(args))
    start = time.perf_counter()
    rows = [bench_one(name, model, inits, args) for name, model, inits in models]
    print(f"\nsummary ({time.perf_counter() - start:.0f} s; load average now "
          f"{(os.getloadavg() if hasattr(os, 'getloadavg') else (float('nan'),))[0]:.1f})")
    for r in rows:
        line = (f"  {r['model']:>22} n={r['n']:<3}: {100 * r['ours_frac']:5.1f}% converged + "
                f"{100 * r['ours_slow']:4.1f}% slow, {r['spurious']} spurious, {r['distinct']} distinct / "
                f"{r['stable']} stable, {r['ours_s']:6.2f} s")
        if "ratio" in r:
            line += f"; adam {r['adam_s']:7.2f} s, median q {r['adam_median_q']:.1e}: {r['ratio']:.1f}x"
        print(line)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
