"""Deduplication, a named step (as in FixedPointFinder): ``deduplicate`` merges copies of one fixed point
(single-linkage clusters of points closer than a tolerance, each represented by its member with the
smallest q); ``thin`` keeps a dense set spaced out (a net: slow points along a line stay apart)."""
from __future__ import annotations

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from threadpoolctl import threadpool_limits

__all__ = ["deduplicate", "thin", "thin_to", "squared_distances"]


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



def squared_distances(x_pxn: np.ndarray) -> np.ndarray:
    """All pairwise squared Euclidean distances, p x p (clipped at 0 against rounding)."""
    x = np.asarray(x_pxn, dtype=np.float64)
    sq = (x * x).sum(1)
    with threadpool_limits(limits=1, user_api="blas"):
        return np.maximum(sq[:, None] + sq[None, :] - 2.0 * x @ x.T, 0.0)


def thin(xstar_pxn: np.ndarray, qstar_p: np.ndarray, tol: float,
         d2_pxp: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """A net of spacing ``tol``: the slowest point is kept, every point within ``tol`` of a kept one is
    merged into it, and so on in order of q. Unlike single linkage this never chains: points spaced
    ``tol`` or more apart along a line all stay (``deduplicate`` would merge a dense line into one).
    ``d2_pxp``: the squared distances if already computed (``squared_distances``).

    Returns ``(kept_idx, labels_p)``: kept points in order of q, and for each point the kept point
    it merged into (the first in that order within ``tol``).
    """
    d2 = squared_distances(xstar_pxn) if d2_pxp is None else d2_pxp
    p = d2.shape[0]
    labels = np.full(p, -1, np.int64)
    kept: list[int] = []
    for i in np.argsort(np.asarray(qstar_p, dtype=np.float64), kind="stable"):
        if labels[i] >= 0:
            continue
        labels[(labels < 0) & (d2[i] <= tol * tol)] = len(kept)
        labels[i] = len(kept)
        kept.append(int(i))
    return np.asarray(kept, np.int64), labels


def thin_to(xstar_pxn: np.ndarray, qstar_p: np.ndarray, tol: float, cap: int) -> tuple[np.ndarray, np.ndarray]:
    """``thin`` at spacing ``tol``, widened to the smallest spacing (to 2%) that keeps at most ``cap`` points:
    a bounded set that still covers the whole spread, not its slowest corner."""
    d2 = squared_distances(xstar_pxn)
    kept, labels = thin(xstar_pxn, qstar_p, tol, d2)
    if len(kept) <= cap:
        return kept, labels
    lo, hi = tol, max(tol, 1e-300) * 2.0
    while len(thin(xstar_pxn, qstar_p, hi, d2)[0]) > cap:
        lo, hi = hi, hi * 2.0
    while hi > lo * 1.02:
        mid = 0.5 * (lo + hi)
        lo, hi = (mid, hi) if len(thin(xstar_pxn, qstar_p, mid, d2)[0]) > cap else (lo, mid)
    return thin(xstar_pxn, qstar_p, hi, d2)
