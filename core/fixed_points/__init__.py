"""Batched fixed-point search for a recurrent cell: Newton first, Levenberg-Marquardt as fallback.

A fixed point xstar of ``F(h) = model.step(h, x_e)`` (input held constant, zero by default) solves
``r(h) = F(h) - h = 0``; its quality is ``q = 0.5 * |F(h) - h|^2`` (FixedPointFinder's q).

- ``result``: ``FixedPoints``, the result container (numpy only; stored as ``fp_*`` in analysis.npz);
- ``solver``: ``find_fixed_points`` and its ``SolverOptions``; ``search``: one batched iteration;
- ``linalg``: the batched Newton / LM solves and their workaround for torch 2.13's batched-LU bug;
- ``dedup``: single-linkage deduplication and thinning to a net; ``spectrum``: eigenvalues, time
  constants, slow vectors;
- ``slow_points``: ``find_slow_points``, a dense set of slow points lining the attractor (same container).

The solver (``benchmarks/fixed_point_bench.py`` measures it against a FixedPointFinder-style Adam
baseline):
1. work on the cell's fixed-point map (``Cell.reduced_step``: F itself, or for LSTM the map on h
   alone with c at its equilibrium, half the size and without c's slow integration), and take the
   Newton steps on ``Cell.newton_map`` (for GRU and UGRNN the candidate c(h): h' - h = (1 - z)(c - h),
   so its G is the flow's divided row by row by 1 - z at a fixed point, and units with nearly shut
   gates, the integrators of a line attractor, leave it well conditioned; this halved the solver's
   time on the bundled GRUs and took the flip-flop GRU-64 from 36% to 100% converged); project the
   initial states into the reachable box (|h| < 1 for GRU/UGRNN/tanh and LSTM's h, h >= 0 for
   ReLU) and warm-start them with a few steps of the map (5; 30 for LSTM);
2. iterate with analytic Jacobians, the iterate, residual and q in float64: Newton steps from an
   LU of G = I - dPhi/dy (float32 by default: inexact Newton), capped in length, with a
   backtracking line search on q and trial points projected into the box, plus chord steps that
   reuse the factors. A point whose line search fails switches to LM (Cholesky of
   G^T G + lambda I, adaptive lambda) and returns to Newton once lambda is small. Converged
   points (q < tol_q and inside the box) leave the active set. A point that stops making
   progress (or at once, a ghost: LM's gradient G^T r below 1% of |G| |r|, q stationary where r is
   not 0), or lies against the box (where saturated gates make F(h) ~ h and q small without a
   fixed point), is kept if it is slow and inside the box, and otherwise restarted from its own
   relaxation run further along the true flow (50, 100, 200 steps), and in the end on that relaxation
   run on until it is slow (at most 1,000 steps);
3. deduplicate by single linkage at a tolerance relative to the state scale, polish the cluster
   representatives in float64 Newton (copies of one ill-conditioned point then coincide; a point
   on a slow manifold, which barely passed tol_q, does not get below ``confirm_q`` and is reported
   slow, not converged), deduplicate them again, lift them to full states and eigendecompose the
   distinct points only.

Nothing is dropped: every distinct final point is returned, flagged converged, slow (q below a
scale-relative q_slow, inside the box) or neither, and every init takes the status of the point it
ended on (``frac_converged``, ``frac_slow``, ``n_spurious``).
Performance: on a busy 2-core machine, torch with 1 thread (``torch.set_num_threads(1)`` at
program start, never changed later) ran this solver several times faster than with 2.
"""
from core.fixed_points.dedup import deduplicate, thin
from core.fixed_points.result import FixedPoints, residual_q
from core.fixed_points.slow_points import SlowPointOptions, find_slow_points
from core.fixed_points.solver import SolverOptions, find_fixed_points
from core.fixed_points.spectrum import eigen_summary

__all__ = ["FixedPoints", "SolverOptions", "find_fixed_points", "SlowPointOptions", "find_slow_points", "deduplicate",
           "thin", "eigen_summary", "residual_q"]
