"""Eigen data of Jacobians at fixed points: eigenvalues by |lambda|, time constants, slow right/left vectors."""
from __future__ import annotations

import numpy as np
from threadpoolctl import threadpool_limits

__all__ = ["eigen_summary"]


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

