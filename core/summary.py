"""Headline numbers of one analyzed model, for side-by-side comparison of models.

Everything is read from the bundle's metrics and its analysis (``core.analysis_view``); a figure
from a part the analysis does not hold comes back as NaN (None for the integers), never as an error.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["ModelSummary", "model_summary", "off_diagonal_range"]


@dataclass(frozen=True)
class ModelSummary:
    run_id: str
    cell: str
    units: int
    num_classes: int
    test_accuracy: float
    final_var_top: float           # fraction of final-state variance in the first N-1 PCs (1 PC if N = 2)
    final_dims90: int | None       # PCs for 90% of final-state variance
    final_dims95: int | None
    final_participation_ratio: float
    n_fixed_points: int | None
    n_stable: int | None
    median_slowest_tau: float      # tokens, over converged fixed points (inf if all are marginal)
    angle_min: float               # degrees, smallest angle between two class readout vectors
    angle_max: float
    simplex_angle: float           # degrees, the regular simplex's angle for N classes
    lin_err_median: float          # one-step relative linearization error on held-out trajectories


def off_diagonal_range(angles_kxk) -> tuple[float, float]:
    """(min, max) of the off-diagonal entries of a square matrix; NaN for k < 2."""
    a = np.asarray(angles_kxk, dtype=np.float64)
    if a.ndim != 2 or a.shape[0] != a.shape[1] or a.shape[0] < 2:
        return float("nan"), float("nan")
    values = a[~np.eye(a.shape[0], dtype=bool)]
    return float(values.min()), float(values.max())


def model_summary(bundle) -> ModelSummary:
    """The comparison figures of a loaded bundle (its analysis must load: AnalysisError otherwise)."""
    a = bundle.analysis
    k = len(bundle.class_names)
    nan = float("nan")
    geo, lin, fps = a.geometry, a.linearization, a.fixed_points
    n_points = n_stable = None
    tau = nan
    if fps is not None:
        n_points, n_stable = fps.n_points, int(fps.is_stable_p.sum())
        slowest = fps.tau_pxm[fps.is_converged_p, 0] if fps.tau_pxm.size else np.zeros(0)
        slowest = slowest[~np.isnan(slowest)]
        tau = float(np.median(slowest)) if slowest.size else nan
    angles = off_diagonal_range(geo.readout_angles_kxk) if geo is not None else (nan, nan)
    acc = bundle.metrics.get("test_accuracy")
    cfg = bundle.config.model
    return ModelSummary(
        run_id=bundle.run_id, cell=cfg.cell, units=cfg.units, num_classes=k,
        test_accuracy=float(acc) if isinstance(acc, (int, float)) else nan,
        final_var_top=float(np.sum(geo.final_explained_ratio_c[:max(k - 1, 1)])) if geo is not None else nan,
        final_dims90=geo.final_dims90 if geo is not None else None,
        final_dims95=geo.final_dims95 if geo is not None else None,
        final_participation_ratio=geo.final_participation_ratio if geo is not None else nan,
        n_fixed_points=n_points, n_stable=n_stable, median_slowest_tau=tau,
        angle_min=angles[0], angle_max=angles[1], simplex_angle=geo.simplex_angle if geo is not None else nan,
        lin_err_median=lin.err_median if lin is not None else nan,
    )
