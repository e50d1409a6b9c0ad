"""Batched linear solves for the Newton and Levenberg-Marquardt steps of the fixed-point solver.

torch 2.13 CPU fails on batched LU for n >= 255 (and below, after the thread count changes),
raising or returning bad pivots. ``Factored`` only uses batched factors below ``LU_BATCH_LIMIT``,
verifies them on their first solve, and falls back to single-matrix LU (which is unaffected) for
any row that fails. Batched Cholesky (``solve_damped``) is unaffected by the bug.
"""
from __future__ import annotations

import torch

__all__ = ["LU_BATCH_LIMIT", "Factored", "solve_newton", "solve_damped", "cap_norm"]

LU_BATCH_LIMIT = 255     # batched LU is avoided from this size on (torch 2.13 CPU bug)


class Factored:
    """LU factors of a batch of G, reusable for several right-hand sides (Newton, then chord steps);
    batched only where trusted (see the module doc)."""

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


def solve_newton(g_bxnxn: torch.Tensor, r_bxn: torch.Tensor) -> torch.Tensor:
    """Solve G d = r per row; rows that failed come back as NaN."""
    return Factored(g_bxnxn).solve(r_bxn)


def solve_damped(gtg_bxnxn, gtr_bxn, damping_b):
    """(G^T G + damping I) d = G^T r by Cholesky (batched Cholesky is unaffected by the LU bug);
    NaN rows where the factorization failed."""
    a = gtg_bxnxn.clone()
    a.diagonal(dim1=1, dim2=2).add_(damping_b[:, None])
    chol, info = torch.linalg.cholesky_ex(a)
    sol = torch.cholesky_solve(gtr_bxn.unsqueeze(-1), chol)[..., 0]
    sol[info != 0] = float("nan")
    return sol


def cap_norm(d_bxn, cap):
    """Each row scaled down to 2-norm ``cap`` if it is longer."""
    norm = torch.linalg.vector_norm(d_bxn, dim=1, keepdim=True)
    return d_bxn * torch.clamp(cap / norm.clamp_min(1e-300), max=1.0)

