"""Analysis precompute target (issue 4): `python -m core analyze` on a GRU-128 bundle in <= 30 s.

    python benchmarks/analysis_bench.py [RUN_ID ...]      # default: gru-cat3

Copies each bundle to a temp store (the shipped analysis is left untouched), times analyze_bundle,
and prints the headline science figures the analysis computed.
"""
from __future__ import annotations

import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from core import store  # noqa: E402
from core.analysis import analyze_bundle  # noqa: E402
from core.analysis_view import load_analysis  # noqa: E402


def bench(run_id: str) -> None:
    source = store.bundle_path(run_id)
    with tempfile.TemporaryDirectory() as tmp:
        shutil.copytree(source, Path(tmp) / run_id, ignore=shutil.ignore_patterns("analysis.npz"))
        bundle = store.load_path(Path(tmp) / run_id)
        start = time.perf_counter()
        summary = analyze_bundle(bundle)
        wall = time.perf_counter() - start
        analysis = load_analysis(bundle.path / "analysis.npz", bundle.weights_sha256)
        size = (bundle.path / "analysis.npz").stat().st_size
    fps, geo, lin = analysis.fixed_points, analysis.geometry, analysis.linearization
    cfg = bundle.config.model
    print(f"{run_id} ({cfg.cell.upper()}-{cfg.units}): analysis {wall:.1f} s (target <= 30 s for GRU-128), "
          f"analysis.npz {size / 1e6:.2f} MB")
    print(f"  fixed points: {fps.n_points} distinct ({int(fps.is_stable_p.sum())} stable) from {fps.n_inits} inits, "
          f"{fps.frac_converged:.1%} of inits at q < 1e-10, solve {fps.wall_time_s:.2f} s")
    print(f"  final-state PCA: {geo.final_explained_ratio_c[:3].round(3).tolist()} explained by PC1-3; "
          f"dims for 90/95%: {geo.final_dims90}/{geo.final_dims95}; "
          f"participation ratio {geo.final_participation_ratio:.2f}")
    print(f"  one-step linearization error: median {lin.err_median:.1%}, mean {lin.err_mean:.1%}")
    print(f"  summary: {summary}")


if __name__ == "__main__":
    for run_id in sys.argv[1:] or ["gru-cat3"]:
        bench(run_id)
