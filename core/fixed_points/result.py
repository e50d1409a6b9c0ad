"""What a fixed-point search returns: ``FixedPoints``, a result container in FixedPointFinder's names.

Plain numpy (no torch), so ``core.analysis_view`` reads it back from analysis.npz (keys ``fp_*``)
without importing the solver.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from core import records
from core.records import stored

__all__ = ["FixedPoints", "residual_q"]


def residual_q(f_bxn, h_bxn):
    """The residual r = F(h) - h and FixedPointFinder's quality q = 0.5 |r|^2 per row (numpy or torch)."""
    r = f_bxn - h_bxn
    return r, 0.5 * (r * r).sum(1)


@dataclass(frozen=True, eq=False)
class FixedPoints:
    """Distinct fixed points (p of them) of one input, with stability and run statistics.

    ``eigvals_pxn`` are sorted by |lambda| descending. ``right_vecs_pxnxm`` / ``left_vecs_pxnxm``
    hold the m slowest modes: right vectors are numpy's unit-norm eigenvectors, left vectors are
    the matching rows of R^-1 (so l_i . r_j = delta_ij, making l_i . dh the mode-i coordinate).
    Both are stored as REAL PARTS: exact for real eigenvalues; for a complex pair the real part
    is one vector of the rotation plane. ``tau_pxm = |1 / ln|lambda||`` in tokens (inf at |lambda|=1).
    """
    xstar_pxn: np.ndarray        # float64
    qstar_p: np.ndarray          # float64
    n_iters_p: np.ndarray        # int64, solver iterations of the representative
    counts_p: np.ndarray         # int64, inits that landed on this point
    is_converged_p: np.ndarray   # polished to q <= min(confirm_q, tol_q), inside the reachable box
    is_slow_p: np.ndarray        # not converged, q < q_slow, inside the box: kept, flagged
    is_in_box_p: np.ndarray      # False: pressed against / outside the reachable box (spurious)
    is_stable_p: np.ndarray      # max |lambda| < 1
    eigvals_pxn: np.ndarray      # complex128
    tau_pxm: np.ndarray          # float64
    right_vecs_pxnxm: np.ndarray  # float64
    left_vecs_pxnxm: np.ndarray   # float64
    x_e: np.ndarray              # float64, the input the points were solved for
    n_inits: int = stored(scalar=int, default=0)
    frac_converged: float = stored(scalar=float, default=0.0)  # share of ALL inits that ended on a converged point
    frac_slow: float = stored(scalar=float, default=0.0)       # ... on a slow point (inside the box, q < q_slow)
    median_q_all: float = stored(scalar=float, default=float("nan"))
    wall_time_s: float = stored(scalar=float, default=0.0)
    n_spurious: int = stored(scalar=int, default=0)  # inits that ended on a point outside the reachable box
    tol_q: float = stored(scalar=float, default=1e-10)
    q_slow: float = stored(scalar=float, default=1e-6)  # the speed threshold used, scaled to the states' norm

    @property
    def n_points(self) -> int:
        return int(self.xstar_pxn.shape[0])

    def take(self, idx) -> "FixedPoints":
        """The same result restricted to (or reordered by) point indices ``idx``; run statistics unchanged."""
        idx = np.asarray(idx, dtype=np.int64)
        per_point = {f.name: getattr(self, f.name)[idx] for f in dataclasses.fields(self)
                     if f.name.split("_")[-1].startswith("p")}
        return dataclasses.replace(self, **per_point)

    def to_arrays(self, prefix: str = "fp_") -> dict[str, np.ndarray]:
        """Plain numpy arrays (scalars as 0-d arrays) for ``np.savez``; no object arrays."""
        return records.to_arrays(self, prefix)

    @classmethod
    def from_arrays(cls, arrays, prefix: str = "fp_") -> "FixedPoints":
        """Inverse of ``to_arrays``; ``arrays`` may be a dict or an ``np.load`` result. A run statistic
        missing from an older file keeps its default."""
        return records.from_arrays(cls, arrays, prefix)
