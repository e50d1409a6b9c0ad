"""The science figures of issues 4 and 15, computed from the bundled analyses (and an N-class sweep):
geometry, fixed points, and per bundle the slow points (how many, their spread along the readout,
the line's alignment) and the D1 / D4 linearization errors around them.

    python benchmarks/science_report.py            # report on the bundled models
    python benchmarks/science_report.py --sweep    # also train GRUs on N = 2..5 classes (a few minutes)

Nothing here is hard-coded: every number is read from analysis.npz or computed by the sweep.
"""
from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from core import store  # noqa: E402
from core.analysis import analyze_bundle  # noqa: E402
from core.analysis_view import load_analysis  # noqa: E402
from core.config import ModelConfig, RunConfig, TaskConfig, TrainConfig  # noqa: E402
from core.pipeline import train_run  # noqa: E402


def _readout_alignment(analysis, bundle) -> tuple[float, float]:
    """|cos| between the top right eigenvector at the anchor fixed point and the readout difference."""
    fps = analysis.fixed_points
    anchor = analysis.words.anchor
    direction = _readout_difference(bundle)
    vec = np.real(fps.right_vecs_pxnxm[anchor][:, 0])
    cos = abs(vec @ direction) / (np.linalg.norm(vec) * np.linalg.norm(direction))
    return float(cos), float(fps.tau_pxm[anchor, 0])


def _readout_difference(bundle) -> np.ndarray:
    """Last class's readout minus the first's, in the full state space."""
    readout_kxn = bundle.model.readout_full()
    return readout_kxn[-1] - readout_kxn[0]


def report(run_id: str) -> None:
    try:
        bundle = store.load(run_id)
        analysis = bundle.analysis
    except Exception as err:  # noqa: BLE001 - a report line, not a crash
        print(f"{run_id}: unavailable ({err})")
        return
    fps, geo = analysis.fixed_points, analysis.geometry
    ratio, relaxed = geo.final_explained_ratio_c, geo.relaxed_explained_ratio_c
    angles = geo.readout_angles_kxk
    off = angles[~np.eye(len(angles), dtype=bool)]
    print(f"{run_id}: final states: PC1-2 explain {ratio[:2].sum():.1%}, PC1-3 {ratio[:3].sum():.1%} "
          f"(relaxed 20 steps: PC1 {relaxed[0]:.1%}, PC1-2 {relaxed[:2].sum():.1%}, dims95 {geo.relaxed_dims95}); "
          f"dims 90/95% = {geo.final_dims90}/{geo.final_dims95}; "
          f"readout angles {off.min():.0f}-{off.max():.0f} deg (simplex {geo.simplex_angle:.0f}); "
          f"{int(fps.is_converged_p.sum())} converged fixed points ({int((fps.is_stable_p & fps.is_converged_p).sum())} "
          f"stable; {fps.frac_converged:.1%} of inits), {int(fps.is_slow_p.sum())} slow ({fps.frac_slow:.1%} of inits); "
          f"lin. error (D1) median around the fixed points {analysis.linearization.err_median:.1%}")
    slow_point_report(run_id, analysis)
    if len(bundle.class_names) == 2:
        cos, tau = _readout_alignment(analysis, bundle)
        taus = fps.tau_pxm[fps.is_converged_p, 0] if fps.is_converged_p.any() else fps.tau_pxm[:, 0]
        stable = np.flatnonzero(fps.is_stable_p & fps.is_converged_p)
        ends = fps.xstar_pxn[stable]
        line = ends[np.argmax(ends @ _readout_difference(bundle))] - ends[np.argmin(ends @ _readout_difference(bundle))]
        d = _readout_difference(bundle)
        line_cos = abs(line @ d) / (np.linalg.norm(line) * np.linalg.norm(d) or 1.0)
        pc1_cos = abs(analysis.pca.components_cxn_[0] @ d) / np.linalg.norm(d)
        print(f"  line attractor: |cos(line between the extreme stable fixed points, readout)| = {line_cos:.3f}; "
              f"|cos(PC1, readout)| = {pc1_cos:.3f}; |cos(top right eigenvector at the anchor, readout)| = {cos:.3f}; "
              f"slowest tau at stable points {np.min(fps.tau_pxm[fps.is_stable_p, 0]):,.0f}-"
              f"{np.max(fps.tau_pxm[fps.is_stable_p, 0]):,.0f} tokens; median over converged points {np.median(taus):,.0f}")
        unit = line / (np.linalg.norm(line) or 1.0)
        along = [abs(fps.right_vecs_pxnxm[i][:, 0] @ unit) / (np.linalg.norm(fps.right_vecs_pxnxm[i][:, 0]) or 1.0)
                 for i in np.flatnonzero(fps.is_converged_p)]
        print(f"  |cos(top right eigenvector, line)| at each converged fixed point: "
              f"{', '.join(f'{c:.3f}' for c in along) or 'none'} (their slowest tau: "
              f"{', '.join(f'{t:,.0f}' for t in fps.tau_pxm[fps.is_converged_p, 0])} tokens)")


def slow_point_report(run_id: str, analysis) -> None:
    """The slow points, the line through them and the D1 / D4 linearization errors around them."""
    sp, line, lin = analysis.slow_points, analysis.slow_line, analysis.slow_linearization
    if sp is None or line is None or lin is None:
        print(f"  slow points: not computed (python -m core analyze {run_id})")
        return
    conv_stable = sp.is_stable_p.mean() if sp.n_points else float("nan")
    print(f"  slow points: {sp.n_points} (thinned from {sp.n_inits:,} relaxed visited states, {sp.frac_slow:.0%} got "
          f"slow, {sp.wall_time_s:.1f} s); line (PC1) holds {line.explained_ratio:.1%} of their spread; spread along "
          f"the readout: {line.readout_span:.0%} of the held-out final states' range; |cos(line, readout)| = "
          f"{line.readout_cos:.3f}; median |cos(top right eigenvector, line)| {np.median(line.cos_line_p):.3f}, "
          f"with the readout {np.median(line.cos_readout_p):.3f}; slowest tau median {np.median(line.tau_p):,.0f} "
          f"tokens; {conv_stable:.0%} stable")
    print(f"  linearization around the nearest slow point, {lin.n_tokens:,} held-out tokens: D1 median "
          f"{lin.d1_median:.1%}, D4 median {lin.d4_median:.1%} (median kick {lin.kick_median:.2f}, state norm "
          f"{lin.state_norm_median:.2f}, distance to the slow point {lin.distance_median:.2f}); D1 / D4 in the "
          f"smallest-kick tenth {lin.bin_d1_b[0]:.1%} / {lin.bin_d4_b[0]:.1%}, largest {lin.bin_d1_b[-1]:.1%} / "
          f"{lin.bin_d4_b[-1]:.1%}")


def sweep(steps: int) -> None:
    print("N-class sweep (GRU-64, categorical): dims for 95% of final-state variance vs N - 1")
    with tempfile.TemporaryDirectory() as tmp:
        for n in range(2, 6):
            config = RunConfig(f"sweep-{n}", ModelConfig("gru", 64, 32, num_classes=n), TaskConfig("categorical", n),
                               TrainConfig(steps=steps, eval_every=100, patience=5))
            path = train_run(config, store_path=Path(tmp))
            bundle = store.load_path(path)
            analyze_bundle(bundle, n_inits=256)
            geo = load_analysis(path / "analysis.npz", bundle.weights_sha256).geometry
            print(f"  N={n}: test acc {bundle.metrics['test_accuracy']:.3f}; final states dims 90/95% "
                  f"{geo.final_dims90}/{geo.final_dims95}; relaxed final states dims95 "
                  f"{geo.relaxed_dims95}, first N-1 PCs hold "
                  f"{geo.relaxed_explained_ratio_c[:n - 1].sum():.1%} (N-1 = {n - 1})")
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--sweep", action="store_true")
    parser.add_argument("--steps", type=int, default=800)
    args = parser.parse_args()
    for run_id in ("gru-imdb", "lstm-imdb", "gru-cat3", "lstm-cat3", "relu-cat3", "gru-ordered5", "gru-reviews",
                   "gru-stars5"):
        report(run_id)
    from attention_report import report_all  # benchmarks/attention_report.py: the sequence models (issue 18)
    report_all()
    if args.sweep:
        sweep(args.steps)
