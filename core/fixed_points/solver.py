"""The fixed-point search: Newton first, Levenberg-Marquardt as fallback, all inits at once.

``find_fixed_points(model, inits_bxn, x_e=None, options=None, **overrides)``; the settings live
in one frozen ``SolverOptions`` (keyword overrides replace single fields). The steps and the
measurements behind them are in the package doc (``core.fixed_points``) and
``benchmarks/fixed_point_bench.py``.
"""
from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass
from typing import Callable

import numpy as np
import torch

from core.cells import in_box
from core.dynamics import step_and_jacobians
from core.fixed_points.dedup import deduplicate
from core.fixed_points.linalg import Factored, cap_norm, solve_damped
from core.fixed_points.result import FixedPoints, residual_q
from core.fixed_points.spectrum import eigen_summary

__all__ = ["SolverOptions", "find_fixed_points"]

_ARMIJO = 1e-4
_PROGRESS_WINDOW = 4
_HALVINGS = 6
_LM_LAMBDA0, _LM_DOWN, _LM_UP, _LM_TO_NEWTON, _LM_GIVE_UP = 1e-2, 1 / 3, 4.0, 1e-6, 1e10


@dataclass(frozen=True)
class SolverOptions:
    """How the search runs.

    ``warm_steps`` forward steps precede the search (None: the cell's, 5; 200 for LSTM). A point
    that stalls far from any fixed point (q >= ``q_slow`` and LM gives up, or q fails to halve in 4
    iterations) is restarted after max(warm_steps, 50) more forward steps, at most ``max_restarts``
    times; below ``q_slow`` only LM's give-up stops it, and it is kept where it is, as a slow point.
    ``dedup_rtol`` is relative to the state scale (median norm of the final points, at least 1e-3).
    ``max_step`` caps each step's 2-norm (times the per-coordinate state scale when that exceeds 1).
    ``jac_dtype``: precision of the Jacobian, the Newton/LM solves and the forward warm-up steps
    inside the loop (inexact Newton; every step is accepted on the float64 q); the iterate,
    residual, q, polish and eigendecomposition are always float64. ``chord_steps`` extra steps per
    iteration reuse the Newton LU factors. Representatives with q above ``polish_q`` get float64
    Newton steps. ``noise`` adds Gaussian noise of that standard deviation to the inits (seeded by
    ``seed``). ``n_modes`` slowest eigenvectors are kept per point.
    """
    tol_q: float = 1e-10
    q_slow: float = 1e-6
    max_iters: int = 100
    warm_steps: int | None = None
    max_restarts: int = 5
    max_step: float = 2.5
    chord_steps: int = 2
    jac_dtype: torch.dtype = torch.float32
    dedup_rtol: float = 1e-4
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
    w = model.weights(torch.float64)
    x = torch.zeros(1, w["w_x"].shape[1], dtype=torch.float64) if x_e is None \
        else torch.from_numpy(_as_f64(x_e)).reshape(1, -1)
    h = torch.from_numpy(_as_f64(inits_bxn)).reshape(-1, model.state_size).clone()
    if opts.noise > 0:
        h += opts.noise * torch.from_numpy(np.random.default_rng(opts.seed).standard_normal(h.shape))
    search = _Search(model, h, x, w, opts)
    for it in range(opts.max_iters):
        conv = search.converged()
        active = torch.nonzero(~conv & ~search.stalled).flatten()
        if on_progress is not None:
            on_progress({"stage": "fixed_points", "iteration": it, "max_iters": opts.max_iters,
                         "n_active": int(len(active)), "frac_converged": float(conv.double().mean()),
                         "elapsed_s": time.perf_counter() - start})
        if len(active) == 0:
            break
        search.iterate(active, it)
    return _deduplicated(search, opts, start)


def _deduplicated(search: "_Search", opts: SolverOptions, start: float) -> FixedPoints:
    """Deduplicate, polish the representatives only, deduplicate those again: copies of an
    ill-conditioned point lie 1e-4..1e-3 apart at q < 1e-10 and coincide after polishing (tested in
    test_copies_of_an_ill_conditioned_point_merge_after_polishing)."""
    h_np = search.h.numpy()
    tol = opts.dedup_rtol * max(float(np.median(np.linalg.norm(h_np, axis=1))) if len(h_np) else 1.0, 1e-3)
    conv_b, in_box_b = search.converged().numpy(), search.in_box().numpy()
    stats = dict(n_inits=len(h_np), frac_converged=float(conv_b.mean()) if len(h_np) else 0.0,
                 median_q_all=float(np.median(search.q.numpy())) if len(h_np) else float("nan"),
                 n_spurious=int((~in_box_b).sum()), tol_q=opts.tol_q)
    reps, labels = deduplicate(h_np, search.q.numpy(), tol)
    reps_t = torch.from_numpy(reps)
    search.polish(reps_t, opts.polish_q)
    counts = np.bincount(labels, minlength=len(reps)).astype(np.int64)
    pts = (search.h[reps_t], search.q[reps_t], search.n_iters[reps_t], search.converged()[reps_t],
           search.in_box()[reps_t])
    return _summarize(search.model, *[t.numpy() for t in pts], counts, search.x, search.w, start, tol=tol,
                      q_slow=opts.q_slow, n_modes=opts.n_modes, stats=stats)


class _Search:
    """Per-init solver state (all float64, length b) and one iteration of Newton / chord / LM."""

    def __init__(self, model, h, x, w, opts: SolverOptions):
        self.model, self.x, self.w = model, x, w
        self.wj, self.xj = model.weights(opts.jac_dtype), x.to(opts.jac_dtype)
        self.lo, self.hi = model.cell.reachable_box()
        self.tol_q, self.q_slow, self.chord_steps = opts.tol_q, opts.q_slow, opts.chord_steps
        self.max_restarts = opts.max_restarts
        warm_steps = model.cell.warm_steps if opts.warm_steps is None else opts.warm_steps
        self.restart_steps = max(warm_steps, 50)
        self.h = self.forward(self.project(h), warm_steps)
        b = self.h.shape[0]
        self.cap = opts.max_step * (max(1.0, float(self.h.abs().max(dim=1).values.median())) if b else 1.0)
        self.f = self.step(self.h)
        self.q = residual_q(self.f, self.h)[1]
        self.n_iters, self.restarts = torch.zeros(b, dtype=torch.int64), torch.zeros(b, dtype=torch.int64)
        self.use_lm, self.stalled = torch.zeros(b, dtype=torch.bool), torch.zeros(b, dtype=torch.bool)
        self.lam = torch.full((b,), _LM_LAMBDA0, dtype=torch.float64)
        self.q_ref, self.ref_iter = self.q.clone(), torch.zeros(b, dtype=torch.int64)

    # -- helpers
    def project(self, v):
        return torch.maximum(torch.minimum(v, self.hi), self.lo)

    def step(self, v):
        return step_and_jacobians(self.model, v, self.x, self.w, want_state=False)[0]

    def forward(self, v, steps):
        """``steps`` plain iterations h <- F(h), in the Jacobian dtype (they only prepare a start)."""
        v = v.to(self.wj["w_x"].dtype)
        for _ in range(steps):
            v = step_and_jacobians(self.model, v, self.xj, self.wj, want_state=False)[0]
        return self.project(v.to(torch.float64))

    def in_box(self, v=None):
        return in_box(self.h if v is None else v, self.lo, self.hi)

    def converged(self, idx=None):
        if idx is None:
            return (self.q < self.tol_q) & self.in_box()
        return (self.q[idx] < self.tol_q) & self.in_box(self.h[idx])

    def try_step(self, glob, d_bxn, ok_extra=None, factor=None):
        """Move points ``glob`` by d where that lowers q (below factor * q if given); returns ok."""
        trial = self.project(self.h[glob] + torch.nan_to_num(d_bxn))
        f_t = self.step(trial)
        q_t = residual_q(f_t, trial)[1]
        ok = torch.isfinite(d_bxn).all(dim=1) & (q_t < (self.q[glob] if factor is None else factor * self.q[glob]))
        if ok_extra is not None:
            ok &= ok_extra(trial)
        acc = glob[ok]
        self.h[acc], self.f[acc], self.q[acc] = trial[ok], f_t[ok], q_t[ok]
        return ok

    # -- one iteration
    def iterate(self, active, it):
        self.n_iters[active] += 1
        g = _g_matrix(self.model, self.h[active], self.xj, self.wj)
        r = self.f[active] - self.h[active]
        newton = ~self.use_lm[active]
        if bool(newton.all()):  # the common case: no masked copy of the Jacobians
            self._newton(active, g, r)
        else:
            self._newton(active[newton], g[newton], r[newton])
            self._lm(active[~newton], g[~newton], r[~newton])
        self._check_progress(active, it)

    def _newton(self, glob, g, r):
        """Newton (mixed precision) with backtracking on q, then chord steps on the same factors."""
        fac = Factored(g)
        d = cap_norm(fac.solve(r.to(g.dtype)).to(torch.float64), self.cap)
        solved = torch.isfinite(d).all(dim=1)
        pending, alpha, full = solved.clone(), 1.0, torch.zeros(0, dtype=torch.long)
        for k in range(_HALVINGS + 1):
            rows = torch.nonzero(pending).flatten()
            if len(rows) == 0:
                break
            ok = self.try_step(glob[rows], alpha * d[rows], factor=1 - 2 * _ARMIJO * alpha)
            pending[rows[ok]] = False
            full = rows[ok] if k == 0 else full
            alpha *= 0.5
        for _ in range(self.chord_steps):  # where the full step was good the model is too: reuse it
            more = ~self.converged(glob[full])
            full = full[more]
            if len(full) == 0:
                break
            rr = (self.f[glob[full]] - self.h[glob[full]]).to(g.dtype)
            d = cap_norm(fac.solve(rr, full).to(torch.float64), self.cap)
            full = full[self.try_step(glob[full], d, factor=0.5)]
        failed = glob[pending | ~solved]
        self.use_lm[failed], self.lam[failed] = True, _LM_LAMBDA0

    def _lm(self, glob, g, r):
        """Levenberg-Marquardt (in the Jacobian dtype; every step is checked on the float64 q), up to
        3 lambda trials per iteration; back to Newton once lambda is small."""
        if len(glob) == 0:
            return
        gtg, gtr = g.mT @ g, (g.mT @ r.to(g.dtype).unsqueeze(-1))[..., 0]
        mu = gtg.diagonal(dim1=1, dim2=2).mean(dim=1).clamp_min(1e-12)
        sel = torch.arange(len(glob))
        for _ in range(3):
            if len(sel) == 0:
                break
            pts = glob[sel]
            d = cap_norm(solve_damped(gtg[sel], gtr[sel], self.lam[pts].to(g.dtype) * mu[sel]).to(torch.float64), self.cap)
            ok = self.try_step(pts, d)
            self.lam[pts[ok]] *= _LM_DOWN
            self.lam[pts[~ok]] *= _LM_UP
            self.use_lm[pts[ok & (self.lam[pts] < _LM_TO_NEWTON)]] = False
            give_up = self.lam[pts] > _LM_GIVE_UP
            self.stalled[pts[give_up]] = True
            sel = sel[~ok & ~give_up]

    def _check_progress(self, active, it):
        """Stall points whose q did not halve in _PROGRESS_WINDOW iterations; restart the poor ones forward."""
        due = active[(it - self.ref_iter[active]) >= _PROGRESS_WINDOW]
        # below q_slow a point may be settling into a slow point (q > 0 at a local minimum): only
        # LM's own give-up stops it there, so its position is the minimum, not wherever q stalled
        stuck = (self.q[due] > 0.5 * self.q_ref[due]) & (self.q[due] >= self.q_slow)
        self.stalled[due[stuck]] = True
        self.q_ref[due], self.ref_iter[due] = self.q[due], it
        redo = torch.nonzero(self.stalled & ~self.converged() & (self.q >= self.q_slow)
                             & (self.restarts < self.max_restarts)).flatten()
        if len(redo):
            self.h[redo] = self.forward(self.h[redo], self.restart_steps)
            self.f[redo] = self.step(self.h[redo])
            self.q[redo] = residual_q(self.f[redo], self.h[redo])[1]
            self.restarts[redo] += 1
            self.stalled[redo], self.use_lm[redo], self.lam[redo] = False, False, _LM_LAMBDA0
            self.q_ref[redo], self.ref_iter[redo] = self.q[redo], it

    def polish(self, subset, polish_q, rounds=2):
        """Float64 Newton on converged points of ``subset`` above polish_q: copies of one point coincide."""
        for _ in range(rounds):
            idx = subset[self.converged()[subset] & (self.q[subset] > polish_q)]
            if len(idx) == 0:
                break
            g = _g_matrix(self.model, self.h[idx], self.x, self.w)
            r = self.f[idx] - self.h[idx]
            d = Factored(g).solve(r)
            bad = torch.nonzero(~torch.isfinite(d).all(dim=1)).flatten()
            if len(bad):  # singular G (e.g. on a line attractor): a barely damped Gauss-Newton step
                gb = g[bad]
                d[bad] = solve_damped(gb.mT @ gb, (gb.mT @ r[bad].unsqueeze(-1))[..., 0],
                                       torch.full((len(bad),), 1e-12, dtype=torch.float64))
            self.try_step(idx, d, ok_extra=self.in_box)


def _g_matrix(model, h_bxn, x, w):
    """G = I - dF/dh in the dtype of ``w`` (built in place on the Jacobian)."""
    dtype = w["w_x"].dtype
    g = step_and_jacobians(model, h_bxn.to(dtype), x.to(dtype), w)[1].neg_()
    g.diagonal(dim1=1, dim2=2).add_(1.0)
    return g


def _summarize(model, h_pxn, q_p, n_iters_p, conv_p, in_box_p, weight_p, x, w, start, *, tol, q_slow,
               n_modes, stats) -> FixedPoints:
    """Merge (polished) candidates that now coincide, eigendecompose the distinct ones."""
    n = h_pxn.shape[1]
    reps, labels = deduplicate(h_pxn, q_p, tol)
    counts = np.bincount(labels, weights=weight_p, minlength=len(reps)).astype(np.int64)
    order = np.lexsort((q_p[reps], -counts, ~conv_p[reps]))  # converged first, then most visited
    reps, counts = reps[order], counts[order]
    xs, q_rep = h_pxn[reps], q_p[reps]
    jac_p = step_and_jacobians(model, torch.from_numpy(xs), x, w)[1].numpy() if len(reps) else np.zeros((0, n, n))
    vals, tau, right, left = eigen_summary(jac_p, n_modes)
    return FixedPoints(
        xstar_pxn=xs, qstar_p=q_rep, n_iters_p=n_iters_p[reps], counts_p=counts, is_converged_p=conv_p[reps],
        is_slow_p=(~conv_p[reps]) & in_box_p[reps] & (q_rep < q_slow), is_in_box_p=in_box_p[reps],
        is_stable_p=np.abs(vals[:, 0]) < 1 if len(reps) else np.zeros(0, bool),
        eigvals_pxn=vals, tau_pxm=tau, right_vecs_pxnxm=right, left_vecs_pxnxm=left, x_e=x[0].numpy().copy(),
        wall_time_s=time.perf_counter() - start, **stats)

