"""Eigen data of Jacobians at fixed points: eigenvalues by |lambda|, time constants, slow right/left vectors.

All eigenvalues come from LAPACK without eigenvectors (about 30-50% cheaper than with them); the
``n_modes`` slowest right and left vectors then come from two steps of inverse iteration each, on one
LU factorization of J - lambda I per mode (left: its transpose). They are the vectors a full
decomposition gives, with the left ones scaled so l_k . r_k = 1 (the rows of V^-1), right ones of unit
norm with their largest entry real and positive. A point whose slowest eigenvalues are (nearly)
repeated, where inverse iteration has no single vector to find, or whose vectors fail the residual
check, gets the full decomposition instead.
"""
from __future__ import annotations

import warnings

import numpy as np
import scipy.linalg as sla
from threadpoolctl import threadpool_limits

__all__ = ["eigen_summary"]

_GAP = 1e-6       # relative spacing under which two of the slowest eigenvalues count as repeated
_RESIDUAL = 1e-9  # |J r - lambda r| allowed, relative to the largest |J| entry
_SHIFT = 64 * np.finfo(np.float64).eps


def eigen_summary(jac_pxnxn: np.ndarray, n_modes: int = 3):
    """Eigenvalues sorted by |lambda| descending, tau and the top right/left vectors (real parts)."""
    p, n, _ = jac_pxnxn.shape
    m = min(n_modes, n)
    if p == 0:
        return (np.zeros((0, n), np.complex128), np.zeros((0, m)), np.zeros((0, n, m)), np.zeros((0, n, m)))
    right, left = np.empty((p, n, m), np.complex128), np.empty((p, n, m), np.complex128)
    # single-threaded BLAS: OpenBLAS threads competing with torch's spinning OpenMP workers on
    # 2 cores made eig several times slower
    with threadpool_limits(limits=1, user_api="blas"):
        vals = np.linalg.eigvals(jac_pxnxn).astype(np.complex128)
        vals = np.take_along_axis(vals, np.argsort(-np.abs(vals), axis=1, kind="stable"), axis=1)
        for i in range(p):
            found = _slow_vectors(jac_pxnxn[i], vals[i], m)
            right[i], left[i] = found if found is not None else _full(jac_pxnxn[i], m)
    with np.errstate(divide="ignore"):
        tau = np.abs(1.0 / np.log(np.abs(vals[:, :m])))
    return vals, tau, right.real.copy(), left.real.copy()


def _slow_vectors(jac_nxn: np.ndarray, vals_n: np.ndarray, m: int):
    """(right_nxm, left_nxm) by inverse iteration at the m slowest eigenvalues; None if that is ill-posed."""
    n = len(vals_n)
    top = vals_n[: min(m + 1, n)]
    gaps = np.abs(top[:, None] - top[None, :])
    np.fill_diagonal(gaps, np.inf)
    if np.any(gaps[:m] <= _GAP * max(1.0, float(np.abs(top[0])))):
        return None
    scale = max(float(np.abs(jac_nxn).max()), 1e-300)
    right, left = np.empty((n, m), np.complex128), np.empty((n, m), np.complex128)
    start = np.full(n, 1.0 / np.sqrt(n))
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", sla.LinAlgWarning)
        for k in range(m):
            lam = vals_n[k] if vals_n[k].imag != 0 else vals_n[k].real
            # shifted by a few ulps of |J|: an exactly singular J - lambda I (a diagonal J) has no LU to solve with
            lu = sla.lu_factor(jac_nxn - (lam + _SHIFT * scale) * np.eye(n), check_finite=False)
            r, l_ = start, start
            for _ in range(2):
                r = sla.lu_solve(lu, r, check_finite=False)
                r = r / np.linalg.norm(r)
                l_ = sla.lu_solve(lu, l_, trans=1, check_finite=False)
                l_ = l_ / np.linalg.norm(l_)
            big = np.argmax(np.abs(r))
            r = r * (np.conj(r[big]) / np.abs(r[big]))
            norm = l_ @ r
            if not (np.all(np.isfinite(r)) and np.isfinite(norm) and np.abs(norm) > 1e-12
                    and np.abs(jac_nxn @ r - vals_n[k] * r).max() <= _RESIDUAL * scale):
                return None
            right[:, k], left[:, k] = r, l_ / norm
    return right, left


def _full(jac_nxn: np.ndarray, m: int):
    """(right_nxm, left_nxm) from the full decomposition: V's slowest columns and V^-1's matching rows."""
    vals, vecs = np.linalg.eig(jac_nxn)
    order = np.argsort(-np.abs(vals), kind="stable")
    vecs = vecs[:, order]
    try:
        inv = np.linalg.inv(vecs)
    except np.linalg.LinAlgError:
        inv = np.linalg.pinv(vecs)
    return vecs[:, :m].astype(np.complex128), inv[:m].T.astype(np.complex128)
