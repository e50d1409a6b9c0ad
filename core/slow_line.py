"""The line attractor read off a set of slow points: where each point sits along the line and what the
local linear dynamics do there (Maheswaranathan et al. 2019, figs. 3-4).

``line_profile(slow_points, readout_kxn, finals_bxn)`` returns a ``LineProfile``:

- the line is the first principal component of the slow points (``explained_ratio`` says how much
  of their spread it holds), oriented so that the readout (last class minus first) increases along it;
  ``position_p`` is each point's coordinate on it;
- at each point: the slowest time constant ``tau_p``, the largest |eigenvalue| ``top_eig_p``, and
  the |cos| of the top right eigenvector with the line's LOCAL direction (the first principal
  component of its nearest slow points, so a curved line is followed) and with the readout
  (the norm of its projection on the span of the mean-centred readout rows: for two classes,
  |cos| with the difference of the two rows);
- ``readout_cos``: |cos| of the line itself with the readout; ``readout_span``: the slow points' range
  along the readout's main direction as a share of the held-out final states' (5th-95th percentile)
  range: 1 means the line covers everything the readout distinguishes.

numpy only (the slow points come as a ``core.fixed_points.FixedPoints``).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["LineProfile", "line_profile", "readout_basis", "line_order"]

NEIGHBOURS = 8


@dataclass(frozen=True, eq=False)
class LineProfile:
    position_p: np.ndarray        # along the line (PC1 of the slow points), in state units
    tau_p: np.ndarray             # slowest time constant, tokens (inf at |lambda| = 1)
    top_eig_p: np.ndarray         # largest |eigenvalue|
    cos_line_p: np.ndarray        # |cos(top right eigenvector, local line direction)|
    cos_readout_p: np.ndarray     # |projection of the top right eigenvector on the readout span|
    explained_ratio: float        # PC1's share of the slow points' variance
    readout_cos: float            # |cos(line, readout span)|
    readout_span: float           # slow points' readout range / held-out final states' range


def readout_basis(readout_kxn: np.ndarray) -> np.ndarray:
    """Orthonormal rows spanning the mean-centred readout rows (k - 1 of them; the difference for k = 2),
    strongest direction first."""
    r = np.asarray(readout_kxn, dtype=np.float64)
    r = r - r.mean(axis=0) if len(r) > 1 else r
    _, s, vt = np.linalg.svd(r, full_matrices=False)
    keep = s > 1e-12 * max(float(s.max(initial=0.0)), 1e-300)
    return vt[keep]


def _unit_cos(vecs_pxn: np.ndarray, basis_rxn: np.ndarray) -> np.ndarray:
    v = vecs_pxn / np.maximum(np.linalg.norm(vecs_pxn, axis=1, keepdims=True), 1e-300)
    return np.linalg.norm(v @ basis_rxn.T, axis=1)


def _direction(x_pxn: np.ndarray) -> tuple[np.ndarray, float]:
    centred = x_pxn - x_pxn.mean(axis=0)
    _, s, vt = np.linalg.svd(centred, full_matrices=False)
    total = float((s ** 2).sum())
    return vt[0], (float(s[0] ** 2) / total if total > 0 else 1.0)


def _local_directions(x_pxn: np.ndarray, fallback_n: np.ndarray) -> np.ndarray:
    """First principal direction of each point's NEIGHBOURS nearest slow points (itself included)."""
    p = len(x_pxn)
    if p < 3:
        return np.tile(fallback_n, (p, 1))
    k = min(NEIGHBOURS, p)
    sq = (x_pxn * x_pxn).sum(1)
    near = np.argsort(sq[:, None] + sq[None, :] - 2.0 * x_pxn @ x_pxn.T, axis=1)[:, :k]
    out = np.empty_like(x_pxn)
    for i in range(p):
        out[i] = _direction(x_pxn[near[i]])[0]
    return out


def line_order(xstar_pxn: np.ndarray, readout_kxn: np.ndarray) -> np.ndarray:
    """Indices sorting the points along the line (PC1, oriented with the readout's main direction)."""
    x = np.asarray(xstar_pxn, dtype=np.float64)
    if len(x) < 2:
        return np.arange(len(x))
    direction, _ = _direction(x)
    basis = readout_basis(readout_kxn)
    if len(basis) and direction @ basis[0] < 0:
        direction = -direction
    return np.argsort(x @ direction, kind="stable")


def line_profile(slow_points, readout_kxn: np.ndarray, finals_bxn: np.ndarray) -> LineProfile:
    """The line through ``slow_points`` (a FixedPoints) and the dynamics along it (module doc)."""
    x = np.asarray(slow_points.xstar_pxn, dtype=np.float64)
    p, n = x.shape
    basis = readout_basis(readout_kxn)
    main = basis[0] if len(basis) else np.zeros(n)
    direction, ratio = _direction(x) if p >= 2 else (main, 1.0)
    if direction @ main < 0:
        direction = -direction
    top = np.asarray(slow_points.right_vecs_pxnxm, dtype=np.float64)[:, :, 0] if p else np.zeros((0, n))
    local = _local_directions(x, direction)
    finals = np.asarray(finals_bxn, dtype=np.float64) @ main
    final_range = float(np.percentile(finals, 95) - np.percentile(finals, 5)) if len(finals) else 0.0
    spread = float(np.ptp(x @ main)) if p else 0.0
    return LineProfile(
        position_p=x @ direction - float(np.mean(x @ direction)) if p else np.zeros(0),
        tau_p=np.asarray(slow_points.tau_pxm[:, 0], dtype=np.float64) if p else np.zeros(0),
        top_eig_p=np.abs(slow_points.eigvals_pxn[:, 0]).astype(np.float64) if p else np.zeros(0),
        cos_line_p=np.abs((top * local).sum(1)) / np.maximum(np.linalg.norm(top, axis=1), 1e-300),
        cos_readout_p=_unit_cos(top, basis) if len(basis) else np.zeros(p),
        explained_ratio=ratio, readout_cos=float(_unit_cos(direction[None], basis)[0]) if len(basis) else 0.0,
        readout_span=spread / final_range if final_range > 0 else float("nan"))
