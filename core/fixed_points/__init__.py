"""Batched fixed-point search for a recurrent cell: Newton first, Levenberg-Marquardt as fallback.

A fixed point xstar of ``F(h) = model.step(h, x_e)`` (input held constant, zero by default) solves
``r(h) = F(h) - h = 0``; its quality is ``q = 0.5 * |F(h) - h|^2`` (FixedPointFinder's q).

- ``result``: ``FixedPoints``, the result container (numpy only; stored as ``fp_*`` in analysis.npz);
- ``solver``: ``find_fixed_points`` and its ``SolverOptions``;
- ``linalg``: the batched Newton / LM solves and their workaround for torch 2.13's batched-LU bug;
- ``dedup``: single-linkage deduplication; ``spectrum``: eigenvalues, time constants, slow vectors.

The solver (``benchmarks/fixed_point_bench.py`` measures it against a FixedPointFinder-style Adam
baseline):
1. project the initial states into the cell's reachable box (|h| < 1 for GRU/UGRNN/tanh and LSTM's
   h, h >= 0 for ReLU) and warm-start them with forward steps h <- F(h) (5; 200 for LSTM);
2. iterate with analytic Jacobians, the iterate, residual and q in float64: Newton steps from an
   LU of G = I - dF/dh (float32 by default: inexact Newton), capped in length, with a
   backtracking line search on q and trial points projected into the box, plus chord steps that
   reuse the factors. A point whose line search fails switches to LM (Cholesky of
   G^T G + lambda I, adaptive lambda) and returns to Newton once lambda is small. Converged
   points (q < tol_q and inside the box) leave the active set; points that stall far from any
   fixed point (q >= q_slow) are restarted with more forward steps (at most 5 times);
3. deduplicate by single linkage at a tolerance relative to the state scale, polish the cluster
   representatives in float64 (copies of one ill-conditioned point then coincide), deduplicate
   them again, and eigendecompose the distinct points only.

Nothing is dropped: every distinct final point is returned, flagged converged, slow (q above
tol_q but below ``q_slow``) or neither, and points pressed against the box are counted as spurious.
Performance: on a busy 2-core machine, torch with 1 thread (``torch.set_num_threads(1)`` at
program start, never changed later) ran this solver several times faster than with 2.
"""
from core.fixed_points.dedup import deduplicate
from core.fixed_points.result import FixedPoints, residual_q
from core.fixed_points.solver import SolverOptions, find_fixed_points
from core.fixed_points.spectrum import eigen_summary

__all__ = ["FixedPoints", "SolverOptions", "find_fixed_points", "deduplicate", "eigen_summary", "residual_q"]
