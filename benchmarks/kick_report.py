"""How gentle a model's word kicks are, on VALIDATION texts (issue 15): the figures a training choice such as
``TrainConfig.input_penalty`` is chosen by, never the test split the analysis reports on.

    python benchmarks/kick_report.py gru-imdb [RUN_ID ...] [--store DIR] [--texts 2000]

For each bundle (in the stores, or in --store): validation accuracy, the median one-step linearization errors
D1 and D4 around the nearest of the bundle's stored slow points (``core.dynamics.one_step_errors``), the median
kick |F(h, x) - h| and the root mean square of the input drive W_x x per gate unit
(``core.training.input_drive_power``, what the penalty weighs). The README's choice of
input_penalty for gru-imdb came from this script run on bundles trained with 0, 0.3 and 1.0.
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("OMP_NUM_THREADS", "1")


def report(bundle, texts: int) -> str:
    import torch

    from core.analysis import held_out_states
    from core.analysis_slow import held_out_steps
    from core.dynamics import one_step_errors
    from core.training import input_drive_power

    rng = np.random.default_rng(0)
    ids, lengths, states, _, _ = held_out_states(bundle, rng, texts, validation=True)
    prev_txn, x_txe = held_out_steps(bundle.model, states, ids, lengths, rng)
    slow = bundle.analysis.slow_points
    if slow is None or not slow.n_points:
        return f"{bundle.run_id}: no slow points stored (analyze it first)"
    errs = one_step_errors(bundle.model, prev_txn, x_txe, np.asarray(slow.xstar_pxn, np.float64))
    with torch.no_grad():  # the quantity the penalty weighs, on the same validation texts
        drive_ms = float(input_drive_power(bundle.model, torch.from_numpy(ids), torch.from_numpy(lengths)))
    penalty = getattr(bundle.config.train, "input_penalty", 0.0)
    return (f"{bundle.run_id:<24} input_penalty {penalty:<5g} val acc {bundle.metrics['val_accuracy']:.4f}  "
            f"D1 {np.median(errs.d1_t):6.1%}  D4 {np.median(errs.d4_t):6.1%}  kick {np.median(errs.kick_t):.3f}  "
            f"drive rms {drive_ms ** 0.5:.3f}  ({len(errs.d1_t):,} validation tokens)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run_ids", nargs="+")
    parser.add_argument("--store", default=None, help="a folder of bundles (default: the bundled and user stores)")
    parser.add_argument("--texts", type=int, default=2000, help="validation texts sampled (default 2000)")
    args = parser.parse_args()
    import torch

    from core import store

    torch.set_num_threads(1)
    for run_id in args.run_ids:
        bundle = store.load_path(Path(args.store) / run_id) if args.store else store.load(run_id)
        print(report(bundle, args.texts), flush=True)


if __name__ == "__main__":
    main()
