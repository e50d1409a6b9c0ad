"""Batched linear solves for the Newton and Levenberg-Marquardt steps of the fixed-point solver.

``Factored`` LU-factors each G of a batch with LAPACK's getrf through scipy (OpenBLAS), one matrix
per call, and solves with getrs: torch 2.13's batched LU fails for n >= 255 (and below, after the
thread count changes), raising or returning bad pivots, and single-matrix calls are unaffected;
they are also about twice as fast here as torch's batched LU (MKL, whose small-matrix path is slow
on the AMD CPUs this runs on: ~300 us per 128 x 128 float32 factorization against ~150 us).
Batched Cholesky (``solve_damped``, Levenberg-Marquardt) stays in torch: unaffected by the bug.
"""
from __future__ import annotations

import numpy as np
import torch
from scipy.linalg import lapack
from threadpoolctl import ThreadpoolController

__all__ = ["Factored", "solve_newton", "solve_damped", "cap_norm"]

_CONTROLLER: list[ThreadpoolController] = []  # built on first use: inspecting the libraries costs ~2 ms


def _one_blas_thread():
    """OpenBLAS on one thread (its threads compete with torch's on a 2-core machine), cheaply per call."""
    if not _CONTROLLER:
        _CONTROLLER.append(ThreadpoolController())
    return _CONTROLLER[0].limit(limits=1, user_api="blas")


_GETRF = {np.dtype(np.float32): (lapack.sgetrf, lapack.sgetrs), np.dtype(np.float64): (lapack.dgetrf, lapack.dgetrs)}


class Factored:
    """LU factors of a batch of G (torch, float32 or float64), reusable for several right-hand sides
    (Newton, then chord steps). Singular rows solve to NaN."""

    def __init__(self, g_bxnxn: torch.Tensor):
        g = g_bxnxn.detach().numpy()
        getrf, self.getrs = _GETRF[g.dtype]
        self.dtype = g.dtype
        self.factors = []  # (LU of G^T, pivots) per row, None where singular
        with _one_blas_thread():
            for i in range(len(g)):
                lu, piv, info = getrf(g[i].T)  # G^T, column-major without a copy: solved transposed below
                self.factors.append((lu, piv) if info == 0 and np.isfinite(lu).all() else None)

    def solve(self, r_bxn: torch.Tensor, rows: torch.Tensor | None = None) -> torch.Tensor:
        """d with G[rows] d = r (rows: all by default); NaN rows where G is singular."""
        rows_np = np.arange(len(self.factors)) if rows is None else np.asarray(rows)
        r = r_bxn.detach().numpy().astype(self.dtype, copy=False)
        out = np.full(r.shape, np.nan, dtype=self.dtype)
        with _one_blas_thread():
            for k, i in enumerate(rows_np):
                if self.factors[i] is not None:
                    out[k] = self.getrs(*self.factors[i], r[k], trans=1)[0]  # (G^T)^T d = r
        return torch.from_numpy(out)

    def solve_many(self, i: int, r_kxn: torch.Tensor) -> torch.Tensor:
        """d with G[i] d = r for every row of r (one LAPACK call with k right-hand sides); NaN if G[i]
        is singular."""
        r = r_kxn.detach().numpy().astype(self.dtype, copy=False)
        if self.factors[i] is None:
            return torch.full(r.shape, float("nan"), dtype=r_kxn.dtype)
        with _one_blas_thread():
            out = self.getrs(*self.factors[i], np.ascontiguousarray(r.T), trans=1)[0]
        return torch.from_numpy(np.ascontiguousarray(out.T))


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

