"""Batched fixed-point search for a recurrent cell: Newton first, Levenberg-Marquardt as fallback.

A fixed point h* of ``F(h) = model.step(h, x)`` (input x held constant, zero by default) solves
``r(h) = F(h) - h = 0``; its quality is ``q = 0.5 * |F(h) - h|^2`` (FixedPointFinder's q).

The solver (see /work/shared/FINDINGS.md for the measurements behind each choice):
1. project the initial states into the reachable box (|h| < 1 for GRU/UGRNN/tanh and LSTM's h,
   h >= 0 for ReLU) and warm-start them with forward steps h <- F(h) (5; 200 for LSTM);
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
torch 2.13 CPU fails on batched LU for n >= 255 (and below, after the thread count changes):
there Newton loops over single-matrix LU, and every batched factorization is verified.
Performance: on a busy 2-core machine, torch with 1 thread (``torch.set_num_threads(1)`` at
program start, never changed later) ran this solver several times faster than with 2.
"""
from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass
from typing import Callable

import numpy as np
import torch
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from threadpoolctl import threadpool_limits

from core.dynamics import step_and_jacobians

__all__ = ["FixedPoints", "AdamResult", "find_fixed_points", "deduplicate", "eigen_summary",
           "adam_baseline", "reachable_box", "BOX_EDGE"]

BOX_EDGE = 1.0 - 1e-10   # projection edge for tanh-bounded coordinates; points left on it are spurious
LU_BATCH_LIMIT = 255     # batched LU is avoided from this size on (torch 2.13 CPU bug)
_ARMIJO = 1e-4
_PROGRESS_WINDOW = 4
_HALVINGS = 6
_LM_LAMBDA0, _LM_DOWN, _LM_UP, _LM_TO_NEWTON, _LM_GIVE_UP = 1e-2, 1 / 3, 4.0, 1e-6, 1e10


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
    is_converged_p: np.ndarray   # q < tol_q and inside the reachable box
    is_slow_p: np.ndarray        # tol_q <= q < q_slow (inside the box): kept, flagged
    is_in_box_p: np.ndarray      # False: pressed against / outside the reachable box (spurious)
    is_stable_p: np.ndarray      # max |lambda| < 1
    eigvals_pxn: np.ndarray      # complex128
    tau_pxm: np.ndarray          # float64
    right_vecs_pxnxm: np.ndarray  # float64
    left_vecs_pxnxm: np.ndarray   # float64
    x_e: np.ndarray              # float64, the input the points were solved for
    n_inits: int = 0
    frac_converged: float = 0.0  # over ALL inits, before deduplication
    median_q_all: float = float("nan")
    wall_time_s: float = 0.0
    n_spurious: int = 0          # inits whose final point lies outside the reachable box
    tol_q: float = 1e-10

    _SCALARS = {"n_inits": int, "frac_converged": float, "median_q_all": float,
                "wall_time_s": float, "n_spurious": int, "tol_q": float}

    @property
    def n_points(self) -> int:
        return int(self.xstar_pxn.shape[0])

    def to_arrays(self, prefix: str = "fp_") -> dict[str, np.ndarray]:
        """Plain numpy arrays (scalars as 0-d arrays) for ``np.savez``; no object arrays."""
        return {prefix + f.name: np.asarray(getattr(self, f.name)) for f in dataclasses.fields(self)}

    @classmethod
    def from_arrays(cls, arrays, prefix: str = "fp_") -> "FixedPoints":
        """Inverse of ``to_arrays``; ``arrays`` may be a dict or an ``np.load`` result."""
        values = {}
        for f in dataclasses.fields(cls):
            if prefix + f.name not in arrays and f.default is not dataclasses.MISSING:
                continue  # a run statistic missing from an older file keeps its default
            value = np.asarray(arrays[prefix + f.name])
            values[f.name] = cls._SCALARS[f.name](value) if f.name in cls._SCALARS else value
        return cls(**values)


@dataclass(frozen=True, eq=False)
class AdamResult:
    xstar_bxn: np.ndarray   # float64 copy of the float32 iterate
    q_b: np.ndarray         # q re-evaluated in float64 at the final points
    in_box_b: np.ndarray
    n_iters: int
    wall_time_s: float


# ---- pieces ---------------------------------------------------------------------------------
def reachable_box(cell: str, units: int, dtype=torch.float64) -> tuple[torch.Tensor, torch.Tensor]:
    """Lower and upper projection bounds per coordinate (+-inf where unbounded)."""
    n = 2 * units if cell == "lstm" else units
    lo, hi = torch.full((n,), -BOX_EDGE, dtype=dtype), torch.full((n,), BOX_EDGE, dtype=dtype)
    if cell == "lstm":
        lo[units:], hi[units:] = -np.inf, np.inf
    elif cell == "relu":
        lo[:], hi[:] = 0.0, np.inf
    return lo, hi


def _in_box(h_bxn: torch.Tensor, lo: torch.Tensor, hi: torch.Tensor) -> torch.Tensor:
    # tanh-bounded coordinates must lie strictly inside the projection edge; ReLU's floor 0 is reachable
    lo_ok = torch.where(torch.isfinite(lo) & (lo < 0), h_bxn > lo, h_bxn >= lo)
    return (lo_ok & (h_bxn < hi)).all(dim=1)


def _as_f64(a) -> np.ndarray:
    if isinstance(a, torch.Tensor):
        a = a.detach().cpu().numpy()
    return np.array(a, dtype=np.float64)


def _q(f_bxn, h_bxn):
    r = f_bxn - h_bxn
    return r, 0.5 * (r * r).sum(dim=1)


class _Factored:
    """LU factors of a batch of G, reusable for several right-hand sides (Newton, then chord steps).

    torch 2.13 CPU: batched LU fails for n >= 255 (and, depending on thread state, below), raising
    or returning bad pivots. So batched factors are only used below LU_BATCH_LIMIT, verified on
    their first solve, and any row that fails falls back to single-matrix LU, which is unaffected.
    """

    def __init__(self, g_bxnxn: torch.Tensor):
        self.g, self.lu, self.single, self.verified = g_bxnxn, None, {}, False
        b, n = g_bxnxn.shape[0], g_bxnxn.shape[-1]
        self.trusted = torch.zeros(b, dtype=torch.bool)
        if b > 1 and n < LU_BATCH_LIMIT:
            try:
                lu, piv, info = torch.linalg.lu_factor_ex(g_bxnxn)
                self.lu, self.trusted = (lu, piv), info == 0
            except RuntimeError:
                pass

    def _single(self, i: int):
        if i not in self.single:
            lu, piv, info = torch.linalg.lu_factor_ex(self.g[i])
            self.single[i] = (lu, piv) if int(info) == 0 else None
        return self.single[i]

    def solve(self, r_bxn: torch.Tensor, rows: torch.Tensor | None = None) -> torch.Tensor:
        """d with G[rows] d = r (rows: all by default); NaN rows where G is singular."""
        b = self.g.shape[0]
        rows = torch.arange(b) if rows is None else rows
        out = torch.full_like(r_bxn, float("nan"))
        use = self.trusted[rows]
        if self.lu is not None and bool(use.any()):
            sel = rows[use]
            try:
                out[use] = self._batched(sel, r_bxn[use])
            except RuntimeError:
                self.trusted[:] = False
            use &= self.trusted[rows]
            out[~use] = float("nan")
        for k in torch.nonzero(~self.trusted[rows]).flatten().tolist():
            fac = self._single(int(rows[k]))
            if fac is not None:
                out[k] = torch.linalg.lu_solve(fac[0], fac[1], r_bxn[k].unsqueeze(-1))[:, 0]
        return out

    def _batched(self, sel: torch.Tensor, r_sxn: torch.Tensor) -> torch.Tensor:
        b, n = self.g.shape[0], self.g.shape[-1]
        lu, piv = self.lu
        if len(sel) * 4 >= b:  # solving every row (zero right-hand sides) beats copying factors
            rhs = torch.zeros(b, n, 1, dtype=r_sxn.dtype)
            rhs[sel, :, 0] = r_sxn
            sol = torch.linalg.lu_solve(lu, piv, rhs)[sel, :, 0]
        else:
            sol = torch.linalg.lu_solve(lu[sel], piv[sel], r_sxn.unsqueeze(-1))[..., 0]
        if not self.verified:  # bad pivots can also give garbage without raising: check once
            g = self.g[sel] if len(sel) < b else self.g
            steps = torch.arange(1, n + 1, dtype=piv.dtype)
            pivots_ok = ((piv[sel] >= steps) & (piv[sel] <= n)).all(dim=1)  # LAPACK: i <= ipiv[i] <= n
            res = torch.linalg.vector_norm(torch.bmm(g, sol.unsqueeze(-1))[..., 0] - r_sxn, dim=1)
            scale = torch.linalg.vector_norm(r_sxn, dim=1) + \
                torch.linalg.matrix_norm(g) * torch.linalg.vector_norm(sol, dim=1)
            good = pivots_ok & torch.isfinite(sol).all(dim=1) & (res <= 50 * n * torch.finfo(g.dtype).eps * scale)
            self.trusted[sel[~good]] = False
            self.verified = True
        return sol


def _solve_newton(g_bxnxn: torch.Tensor, r_bxn: torch.Tensor) -> torch.Tensor:
    """Solve G d = r per row; rows that failed come back as NaN."""
    return _Factored(g_bxnxn).solve(r_bxn)


def _solve_damped(gtg_bxnxn, gtr_bxn, damping_b):
    """(G^T G + damping I) d = G^T r by Cholesky (batched Cholesky is unaffected by the LU bug);
    NaN rows where the factorization failed."""
    a = gtg_bxnxn.clone()
    a.diagonal(dim1=1, dim2=2).add_(damping_b[:, None])
    chol, info = torch.linalg.cholesky_ex(a)
    sol = torch.cholesky_solve(gtr_bxn.unsqueeze(-1), chol)[..., 0]
    sol[info != 0] = float("nan")
    return sol


def _cap(d_bxn, cap):
    norm = torch.linalg.vector_norm(d_bxn, dim=1, keepdim=True)
    return d_bxn * torch.clamp(cap / norm.clamp_min(1e-300), max=1.0)


def deduplicate(xstar_pxn: np.ndarray, qstar_p: np.ndarray, tol: float) -> tuple[np.ndarray, np.ndarray]:
    """Single-linkage clusters of points closer than ``tol`` (Euclidean, chained).

    Returns ``(representatives_idx, labels_p)``: per cluster the member with the smallest q
    (clusters in order of their first member), and each point's cluster index.
    """
    x = np.asarray(xstar_pxn, dtype=np.float64)
    p = x.shape[0]
    if p == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    sq = (x * x).sum(1)
    rows, cols = [], []
    with threadpool_limits(limits=1, user_api="blas"):
        for start in range(0, p, 1024):
            blk = x[start:start + 1024]
            d2 = sq[start:start + 1024, None] + sq[None, :] - 2.0 * blk @ x.T
            slack = 1e-12 * (sq[start:start + 1024, None] + sq[None, :]) + 1e-300
            i, j = np.nonzero(d2 <= tol * tol - slack)  # surely within tol despite rounding
            rows.append(i + start)
            cols.append(j)
            i, j = np.nonzero(np.abs(d2 - tol * tol) < slack)  # too close to call: exact distances
            keep = np.linalg.norm(blk[i] - x[j], axis=1) <= tol
            rows.append(i[keep] + start)
            cols.append(j[keep])
    rows, cols = np.concatenate(rows), np.concatenate(cols)
    graph = coo_matrix((np.ones(len(rows), dtype=np.int8), (rows, cols)), shape=(p, p))
    _, raw = connected_components(graph, directed=False)
    _, first, labels = np.unique(raw, return_index=True, return_inverse=True)
    order = np.argsort(first, kind="stable")        # relabel clusters by first appearance
    relabel = np.empty_like(order)
    relabel[order] = np.arange(len(order))
    labels = relabel[labels.reshape(-1)].astype(np.int64)
    by_label_then_q = np.lexsort((np.asarray(qstar_p, dtype=np.float64), labels))
    starts = np.flatnonzero(np.r_[True, np.diff(labels[by_label_then_q]) != 0])
    return by_label_then_q[starts].astype(np.int64), labels


def eigen_summary(jac_pxnxn: np.ndarray, n_modes: int = 3):
    """Eigenvalues sorted by |lambda| descending, tau and the top right/left vectors (real parts)."""
    p, n, _ = jac_pxnxn.shape
    m = min(n_modes, n)
    if p == 0:
        return (np.zeros((0, n), np.complex128), np.zeros((0, m)), np.zeros((0, n, m)), np.zeros((0, n, m)))
    # single-threaded BLAS: OpenBLAS threads competing with torch's spinning OpenMP workers on
    # 2 cores made eig several times slower
    with threadpool_limits(limits=1, user_api="blas"):
        vals, vecs = np.linalg.eig(jac_pxnxn)
        order = np.argsort(-np.abs(vals), axis=1, kind="stable")
        vals = np.take_along_axis(vals, order, axis=1)
        vecs = np.take_along_axis(vecs, order[:, None, :], axis=2)
        left = np.empty((p, n, m), np.complex128)
        for i in range(p):
            try:
                inv = np.linalg.inv(vecs[i])
            except np.linalg.LinAlgError:
                inv = np.linalg.pinv(vecs[i])
            left[i] = inv[:m].T
    with np.errstate(divide="ignore"):
        tau = np.abs(1.0 / np.log(np.abs(vals[:, :m])))
    return vals.astype(np.complex128), tau, vecs[:, :, :m].real.copy(), left.real.copy()


# ---- solver ---------------------------------------------------------------------------------
@torch.no_grad()
def find_fixed_points(model, inits_bxn: np.ndarray, x_e: np.ndarray | None = None, *, tol_q: float = 1e-10,
                      max_iters: int = 100, noise: float = 0.0, seed: int = 0, n_modes: int = 3,
                      on_progress: Callable[[dict], None] | None = None, warm_steps: int | None = None,
                      q_slow: float = 1e-6, dedup_rtol: float = 1e-4, polish_q: float = 1e-20,
                      max_step: float = 2.5, jac_dtype: torch.dtype = torch.float32,
                      chord_steps: int = 2, max_restarts: int = 5) -> FixedPoints:
    """Fixed points of ``h -> model.step(h, x_e)`` reached from each initial state (see module doc).

    ``inits_bxn`` and ``x_e`` are arrays (numpy, or torch tensors, which are detached).
    ``warm_steps`` forward steps precede the search (default 5; 200 for LSTM). A point that stalls
    far from any fixed point (q >= ``q_slow`` and LM gives up, or q fails to halve in 4 iterations)
    is restarted after max(warm_steps, 50) more forward steps, at most ``max_restarts`` times; below
    ``q_slow`` only LM's give-up stops it, and it is kept where it is, as a slow point.
    ``dedup_rtol`` is relative to the state scale (median norm of the final points, at least
    1e-3). ``max_step`` caps each step's 2-norm (times the per-coordinate state scale when that
    exceeds 1). ``jac_dtype``: precision of the Jacobian, the Newton/LM solves and the forward
    warm-up steps inside the loop (inexact Newton; every step is accepted on the float64 q); the
    iterate, residual, q, polish and eigendecomposition are always float64. ``chord_steps`` extra
    steps per iteration reuse the Newton LU factors. ``noise`` adds Gaussian noise of that standard
    deviation to the inits (seeded by ``seed``). ``on_progress`` receives one dict per iteration.
    """
    start = time.perf_counter()
    w = model.weights(torch.float64)
    x = torch.zeros(1, w["w_x"].shape[1], dtype=torch.float64) if x_e is None \
        else torch.from_numpy(_as_f64(x_e)).reshape(1, -1)
    h = torch.from_numpy(_as_f64(inits_bxn)).reshape(-1, model.state_size).clone()
    if noise > 0:
        h += noise * torch.from_numpy(np.random.default_rng(seed).standard_normal(h.shape))
    if warm_steps is None:
        warm_steps = 200 if model.config.cell == "lstm" else 5
    search = _Search(model, h, x, w, warm_steps=warm_steps, jac_dtype=jac_dtype, tol_q=tol_q, q_slow=q_slow,
                     max_step=max_step, chord_steps=chord_steps, max_restarts=max_restarts)
    for it in range(max_iters):
        conv = search.converged()
        active = torch.nonzero(~conv & ~search.stalled).flatten()
        if on_progress is not None:
            on_progress({"stage": "fixed_points", "iteration": it, "max_iters": max_iters,
                         "n_active": int(len(active)), "frac_converged": float(conv.double().mean()),
                         "elapsed_s": time.perf_counter() - start})
        if len(active) == 0:
            break
        search.iterate(active, it)
    # deduplicate, polish the representatives only, deduplicate those again (FINDINGS: copies of an
    # ill-conditioned point lie 1e-4..1e-3 apart at q < 1e-10 and coincide after polishing)
    h_np = search.h.numpy()
    tol = dedup_rtol * max(float(np.median(np.linalg.norm(h_np, axis=1))) if len(h_np) else 1.0, 1e-3)
    conv_b, in_box_b = search.converged().numpy(), search.in_box().numpy()
    stats = dict(n_inits=len(h_np), frac_converged=float(conv_b.mean()) if len(h_np) else 0.0,
                 median_q_all=float(np.median(search.q.numpy())) if len(h_np) else float("nan"),
                 n_spurious=int((~in_box_b).sum()), tol_q=tol_q)
    reps, labels = deduplicate(h_np, search.q.numpy(), tol)
    reps_t = torch.from_numpy(reps)
    search.polish(reps_t, polish_q)
    counts = np.bincount(labels, minlength=len(reps)).astype(np.int64)
    pts = (search.h[reps_t], search.q[reps_t], search.n_iters[reps_t], search.converged()[reps_t],
           search.in_box()[reps_t])
    return _summarize(model, *[t.numpy() for t in pts], counts, x, w, start, tol=tol, q_slow=q_slow,
                      n_modes=n_modes, stats=stats)


class _Search:
    """Per-init solver state (all float64, length b) and one iteration of Newton / chord / LM."""

    def __init__(self, model, h, x, w, *, warm_steps, jac_dtype, tol_q, q_slow, max_step, chord_steps,
                 max_restarts):
        self.model, self.x, self.w = model, x, w
        self.wj, self.xj = model.weights(jac_dtype), x.to(jac_dtype)
        self.lo, self.hi = reachable_box(model.config.cell, model.config.units)
        self.tol_q, self.q_slow, self.chord_steps, self.max_restarts = tol_q, q_slow, chord_steps, max_restarts
        self.restart_steps = max(warm_steps, 50)
        self.h = self.forward(self.project(h), warm_steps)
        b = self.h.shape[0]
        self.cap = max_step * (max(1.0, float(self.h.abs().max(dim=1).values.median())) if b else 1.0)
        self.f = self.step(self.h)
        self.q = _q(self.f, self.h)[1]
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
        return _in_box(self.h if v is None else v, self.lo, self.hi)

    def converged(self, idx=None):
        if idx is None:
            return (self.q < self.tol_q) & self.in_box()
        return (self.q[idx] < self.tol_q) & self.in_box(self.h[idx])

    def try_step(self, glob, d_bxn, ok_extra=None, factor=None):
        """Move points ``glob`` by d where that lowers q (below factor * q if given); returns ok."""
        trial = self.project(self.h[glob] + torch.nan_to_num(d_bxn))
        f_t = self.step(trial)
        q_t = _q(f_t, trial)[1]
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
        fac = _Factored(g)
        d = _cap(fac.solve(r.to(g.dtype)).to(torch.float64), self.cap)
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
            d = _cap(fac.solve(rr, full).to(torch.float64), self.cap)
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
            d = _cap(_solve_damped(gtg[sel], gtr[sel], self.lam[pts].to(g.dtype) * mu[sel]).to(torch.float64), self.cap)
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
            self.q[redo] = _q(self.f[redo], self.h[redo])[1]
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
            d = _Factored(g).solve(r)
            bad = torch.nonzero(~torch.isfinite(d).all(dim=1)).flatten()
            if len(bad):  # singular G (e.g. on a line attractor): a barely damped Gauss-Newton step
                gb = g[bad]
                d[bad] = _solve_damped(gb.mT @ gb, (gb.mT @ r[bad].unsqueeze(-1))[..., 0],
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


def adam_baseline(model, inits_bxn: np.ndarray, x_e: np.ndarray | None = None, lr: float = 1.0,
                  max_iters: int = 5000, *, tol_q: float = 1e-12, tol_dq: float = 1e-20,
                  on_progress: Callable[[dict], None] | None = None) -> AdamResult:
    """FixedPointFinder-style baseline, for benchmarks only: joint Adam on mean q in float32.

    Learning rate adapts as in FixedPointFinder: times 0.95 when mean q rises (at most every 5
    steps), times 1/0.95 after 5 consecutive decreases. No projection, no per-point stopping.
    """
    start = time.perf_counter()
    w32 = model.weights(torch.float32)
    x = torch.zeros(1, w32["w_x"].shape[1]) if x_e is None else torch.from_numpy(_as_f64(x_e)).float().reshape(1, -1)
    h = torch.tensor(_as_f64(inits_bxn), dtype=torch.float32, requires_grad=True)
    # Adam written out (torch.optim.Adam's update with its defaults: betas 0.9/0.999, eps 1e-8);
    # constructing torch.optim.Adam costs ~5 s of one-time imports here, which would flatter us
    m, v = torch.zeros_like(h), torch.zeros_like(h)
    prev, since_change, downs, it = float("inf"), 0, 0, 0
    for it in range(1, max_iters + 1):
        loss = 0.5 * ((model.step(h, x, w32) - h) ** 2).sum(dim=1).mean()
        (grad,) = torch.autograd.grad(loss, h)
        with torch.no_grad():
            m.mul_(0.9).add_(grad, alpha=0.1)
            v.mul_(0.999).addcmul_(grad, grad, value=0.001)
            denom = (v / (1 - 0.999 ** it)).sqrt_().add_(1e-8)
            h.addcdiv_(m, denom, value=-lr / (1 - 0.9 ** it))
        value = float(loss.detach())
        since_change += 1
        if value > prev:
            downs = 0
            if since_change >= 5:
                lr *= 0.95
                since_change = 0
        elif value < prev:
            downs += 1
            if downs >= 5 and since_change >= 5:
                lr /= 0.95
                since_change, downs = 0, 0
        if on_progress is not None and it % 100 == 0:
            on_progress({"stage": "adam", "iteration": it, "mean_q": value})
        if value < tol_q or abs(prev - value) < tol_dq:
            break
        prev = value
    with torch.no_grad():
        w64 = model.weights(torch.float64)
        h64 = h.detach().double()
        q64 = _q(model.step(h64, x.double(), w64), h64)[1]
        lo, hi = reachable_box(model.config.cell, model.config.units)
        box = _in_box(h64, lo, hi)
    return AdamResult(h64.numpy(), q64.numpy(), box.numpy(), it, time.perf_counter() - start)
