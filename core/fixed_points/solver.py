"""The fixed-point search: Newton first, Levenberg-Marquardt as fallback, all inits at once.

``find_fixed_points(model, inits_bxn, x_e=None, options=None, **overrides)``; the settings live
in one frozen ``SolverOptions`` (keyword overrides replace single fields). The iteration itself is
``core.fixed_points.search.Search``; the steps and the measurements behind them are in the package
doc (``core.fixed_points``) and ``benchmarks/fixed_point_bench.py``.

What happens to each initial state, so that every one ends honestly classified:
- it iterates (Newton, LM where Newton's line search fails) until q < tol_q inside the box, on the
  cell's ``newton_map`` (for GRU and UGRNN the candidate c(h), whose fixed points are F's: a unit
  whose gate is nearly shut no longer makes G nearly singular);
- a point that stops making progress, sits against the reachable box (where a saturated gate
  makes F(h) ~ h and q small without a fixed point), or sits at a ghost (LM's gradient G^T r
  vanishes while r does not: a local minimum of q that is no fixed point) is stuck: if it is slow (q < q_slow) and
  inside the box it stays where it is; otherwise it restarts from its own relaxation, run further
  along the true flow (which never leaves the reachable set), up to ``max_restarts`` times, and
  finally ends on that relaxation, run on until it is slow (all such points at once, after the loop);
- after deduplication, the representatives are polished in float64 Newton: a point counts as
  converged only when q falls below ``confirm_q`` (a true fixed point is solved to rounding in a
  step or two; a point on a slow manifold, whose q barely passed tol_q, is reported slow).
"""
from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass
from typing import Callable

import numpy as np
import torch

from core.dynamics import step_and_jacobians
from core.fixed_points.dedup import deduplicate, thin_to
from core.fixed_points.result import FixedPoints, residual_q
from core.fixed_points.search import Search
from core.fixed_points.spectrum import eigen_summary

__all__ = ["SolverOptions", "find_fixed_points"]


@dataclass(frozen=True)
class SolverOptions:
    """How the search runs.

    ``warm_steps`` steps of the cell's fixed-point map precede the search (None: the cell's, 5; 30
    for LSTM, whose map keeps c at equilibrium). Points are stuck when q fails to halve in 4
    iterations or lie against the box; a stuck point (module doc) restarts from its relaxation,
    run max(warm_steps, 50) x 2**k more steps along the flow, at most ``max_restarts`` times, and
    then ends on its relaxation, run on until it is slow (q < q_slow; at most ``relax_steps``). ``q_slow`` is for states of norm ~1: it scales with the squared median
    norm of the warm-started inits (the threshold used is stored in the result). Representatives
    are polished in float64 towards ``polish_q`` and count as converged only below ``confirm_q``
    (tol_q alone if ``polish_q`` is above it, i.e. polishing is off). ``dedup_rtol`` is relative to
    the state scale (median norm of the final points, at least 1e-3); slow points, whose position
    along their slow direction q barely pins down, are merged into a net of spacing
    ``slow_dedup_rtol`` (same scale), widened until at most ``max_slow_points`` remain (the dense
    slow-point set is ``find_slow_points``' job). ``max_step`` caps each step's 2-norm (times the
    per-coordinate state scale when that exceeds 1). ``jac_dtype``: precision of the Jacobian, the
    Newton/LM solves and the forward steps inside the loop (inexact Newton; every step is accepted
    on the float64 q); the iterate, residual, q, polish and eigendecomposition are always float64.
    ``chord_steps`` extra steps per iteration reuse the Newton LU factors. Points within
    ``share_radius`` (times the median init norm when above 1) of a converged point first take chord
    steps on that point's factors (0: off). ``noise`` adds Gaussian
    noise of that standard deviation to the inits (seeded by ``seed``). ``n_modes`` slowest
    eigenvectors are kept per point.
    """
    tol_q: float = 1e-10
    q_slow: float = 1e-6
    confirm_q: float = 1e-16
    max_iters: int = 100
    warm_steps: int | None = None
    max_restarts: int = 3
    relax_steps: int = 1000
    max_step: float = 2.5
    chord_steps: int = 4
    share_radius: float = 0.3
    jac_dtype: torch.dtype = torch.float32
    dedup_rtol: float = 1e-4
    slow_dedup_rtol: float = 1e-2
    max_slow_points: int = 64
    polish_q: float = 1e-20
    n_modes: int = 3
    noise: float = 0.0
    seed: int = 0


def _as_f64(a) -> np.ndarray:
    if isinstance(a, torch.Tensor):
        a = a.detach().cpu().numpy()
    return np.array(a, dtype=np.float64)


@torch.no_grad()
def find_fixed_points(model, inits_bxn: np.ndarray, x_e: np.ndarray | None = None,
                      options: SolverOptions | None = None, *, on_progress: Callable[[dict], None] | None = None,
                      **overrides) -> FixedPoints:
    """Fixed points of ``h -> model.step(h, x_e)`` reached from each initial state (see ``SolverOptions``).

    ``inits_bxn`` and ``x_e`` are arrays (numpy, or torch tensors, which are detached); ``x_e`` None
    is the zero input. ``overrides`` replace fields of ``options`` (e.g. ``warm_steps=2``).
    ``on_progress`` receives one dict per iteration.
    """
    opts = dataclasses.replace(options or SolverOptions(), **overrides)
    start = time.perf_counter()
    n_in = model.weights(torch.float64)["w_x"].shape[1]
    x = torch.zeros(1, n_in, dtype=torch.float64) if x_e is None else torch.from_numpy(_as_f64(x_e)).reshape(1, -1)
    h = torch.from_numpy(_as_f64(inits_bxn)).reshape(-1, model.state_size).clone()
    if opts.noise > 0:
        h += opts.noise * torch.from_numpy(np.random.default_rng(opts.seed).standard_normal(h.shape))
    search = Search(model, model.cell.reduce(h), x, opts)
    for it in range(opts.max_iters):
        active = search.active()
        if on_progress is not None:
            on_progress({"stage": "fixed_points", "iteration": it, "max_iters": opts.max_iters,
                         "n_active": int(len(active)), "frac_converged": float(search.converged().double().mean()),
                         "elapsed_s": time.perf_counter() - start})
        if len(active) == 0:
            break
        search.iterate(active, it)
    search.finish()
    return _deduplicated(model, search, opts, start)


def _deduplicated(model, search: Search, opts: SolverOptions, start: float) -> FixedPoints:
    """Deduplicate, polish the representatives only, deduplicate those again: copies of an
    ill-conditioned point lie 1e-4..1e-3 apart at q < 1e-10 and coincide after polishing (tested in
    test_copies_of_an_ill_conditioned_point_merge_after_polishing). Each init then takes the status
    of the distinct point its cluster ended on."""
    h_np = search.h.numpy()
    scale = max(float(np.median(np.linalg.norm(h_np, axis=1))) if len(h_np) else 1.0, 1e-3)
    tol = opts.dedup_rtol * scale
    reps, labels = deduplicate(h_np, search.q.numpy(), tol)
    reps_t = torch.from_numpy(reps)
    search.polish(reps_t, opts.polish_q)
    pts = (search.h[reps_t], search.q[reps_t], search.n_iters[reps_t], search.in_box()[reps_t])
    return _summarize(model, *[t.numpy() for t in pts], labels, search.flow_q().numpy(), search.x, search.w, start,
                      opts=opts, scale=scale, q_slow=search.q_slow)


def _confirm_level(opts: SolverOptions) -> float:
    """The q a polished point must reach to count as converged (tol_q alone when polishing is off)."""
    return min(opts.tol_q, max(opts.confirm_q, opts.polish_q))


def _merge_slow(y_pxm, q_p, slow_p, final_b, slow_tol, cap):
    """Slow points are not solved to rounding (q is flat along the slow direction): merge them into a net
    of spacing ``slow_tol``, widened until at most ``cap`` remain (``dedup.thin_to``), slowest first.
    Returns the points kept and each init's index among them."""
    target = np.arange(len(q_p))
    idx = np.flatnonzero(slow_p)
    if len(idx) > 1:
        kept, labels = thin_to(y_pxm[idx], q_p[idx], slow_tol, cap)
        target[idx] = idx[kept][labels]
    keep = target == np.arange(len(q_p))
    new_index = np.cumsum(keep) - 1
    return keep, new_index[target[final_b]] if len(final_b) else final_b


def _summarize(model, y_pxm, q_p, n_iters_p, in_box_p, labels_b, q_b, x, w, start, *, opts, scale,
               q_slow) -> FixedPoints:
    """Merge (polished) candidates that now coincide, lift them to full states, classify them and
    eigendecompose the distinct ones; every init takes the status of the point it ended on."""
    reps, merged = deduplicate(y_pxm, q_p, opts.dedup_rtol * scale)
    final_b = merged[labels_b]                      # each init's distinct point
    xs = model.cell.lift(torch.from_numpy(y_pxm[reps]), x, w) if len(reps) else \
        torch.zeros(0, model.state_size, dtype=torch.float64)
    q_rep = residual_q(model.cell.step(xs, x, w), xs)[1].numpy()
    box = in_box_p[reps]
    conv = (q_rep <= _confirm_level(opts)) & box
    slow = ~conv & box & (q_rep < q_slow)
    keep, final_b = _merge_slow(y_pxm[reps], q_rep, slow, final_b, opts.slow_dedup_rtol * scale,
                                  opts.max_slow_points)
    reps, xs, q_rep, box, conv, slow = reps[keep], xs[torch.from_numpy(keep)], q_rep[keep], box[keep], conv[keep], \
        slow[keep]
    jac = step_and_jacobians(model, xs, x, w)[1] if len(reps) else None
    counts = np.bincount(final_b, minlength=len(reps)).astype(np.int64)
    order = np.lexsort((q_rep, -counts, ~conv))     # converged first, then most visited
    rank = np.empty_like(order)
    rank[order] = np.arange(len(order))
    xs, q_rep, conv, slow, box, counts = xs.numpy()[order], q_rep[order], conv[order], slow[order], box[order], \
        counts[order]
    final_b = rank[final_b] if len(final_b) else final_b
    jac_p = jac.numpy()[order] if jac is not None else np.zeros((0, model.state_size, model.state_size))
    vals, tau, right, left = eigen_summary(jac_p, opts.n_modes)
    b = len(labels_b)
    stats = dict(n_inits=b, frac_converged=float(conv[final_b].mean()) if b else 0.0,
                 frac_slow=float(slow[final_b].mean()) if b else 0.0,
                 median_q_all=float(np.median(q_b)) if b else float("nan"),
                 n_spurious=int((~box[final_b]).sum()) if b else 0, tol_q=opts.tol_q, q_slow=q_slow)
    return FixedPoints(
        xstar_pxn=xs, qstar_p=q_rep, n_iters_p=n_iters_p[reps][order], counts_p=counts, is_converged_p=conv,
        is_slow_p=slow, is_in_box_p=box, is_stable_p=np.abs(vals[:, 0]) < 1 if len(reps) else np.zeros(0, bool),
        eigvals_pxn=vals, tau_pxm=tau, right_vecs_pxnxm=right, left_vecs_pxnxm=left, x_e=x[0].numpy().copy(),
        wall_time_s=time.perf_counter() - start, **stats)
