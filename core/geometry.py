"""Geometry of hidden-state clouds: dimensionality, readout directions and angles, and the
temporal / input-driven decomposition of states (the PCA itself is ``core.pca.StatePCA``).

Pure functions over arrays (numpy in, numpy out; torch tensors are accepted and converted).
Shapes: ``b`` batch, ``t`` time, ``n`` state size, ``k`` classes, ``c`` PCA components,
``d`` projected dimensions, ``w`` vocabulary.

References: Aitken et al. 2020, "The geometry of integration in text classification RNNs"
(readout simplex); Aitken et al. 2021, "Understanding how encoder-decoder architectures attend"
(temporal vs input-driven components, mu_t and chi(w)).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core.pca import StatePCA

__all__ = [
    "readout_alignment", "count_plane",
    "covariance_spectrum", "dims_for_variance", "participation_ratio",
    "readout_full", "ReadoutProjection", "readout_in_pc_space", "readout_angles_deg",
    "simplex_angle_deg", "Decomposition", "decompose",
]

_CHUNK_VALUES = 2**21  # float64 values gathered at a time in decompose (16 MB)


def _np(array) -> np.ndarray:
    if hasattr(array, "detach"):
        array = array.detach().cpu().numpy()
    return np.asarray(array)


def _np64(array) -> np.ndarray:
    return np.asarray(_np(array), dtype=np.float64)


def covariance_spectrum(states_bxn) -> np.ndarray:
    """Eigenvalues of the state covariance (ddof=1), descending, length min(b, n)."""
    states = _np64(states_bxn)
    if states.ndim != 2 or states.shape[0] < 2:
        raise ValueError("need a (b, n) array of at least two states")
    b, n = states.shape
    centred = states - states.mean(axis=0)
    # Eigenvalues of the smaller Gram matrix: same nonzero spectrum as an SVD, far cheaper for b >> n.
    gram = centred.T @ centred if b >= n else centred @ centred.T
    lam = np.clip(np.linalg.eigvalsh(gram)[::-1], 0.0, None)
    return lam / (b - 1)


def dims_for_variance(explained_ratio_c, level: float = 0.9) -> int:
    """Fewest leading components whose explained-variance ratios sum to at least ``level``.

    ``explained_ratio_c`` are fractions of the total variance, sorted descending (e.g.
    ``StatePCA.explained_variance_ratio_c_`` or ``covariance_spectrum(s) / covariance_spectrum(s).sum()``).
    Returns 0 if every ratio is 0 (constant states). Raises ValueError if the given components
    do not reach ``level`` (a PCA truncated below it): pass the full spectrum then.
    """
    if not 0.0 < level <= 1.0:
        raise ValueError("level must be in (0, 1]")
    ratios = _np64(explained_ratio_c).ravel()
    if ratios.size and not np.any(ratios > 0):
        return 0  # the states do not vary: no direction is needed
    reached = np.nonzero(np.cumsum(ratios) >= level - 1e-12)[0]
    if reached.size == 0:
        raise ValueError(f"the {ratios.size} components explain only {ratios.sum():.3f} < {level} of the "
                         "variance; pass the full spectrum")
    return int(reached[0]) + 1


def participation_ratio(states_bxn) -> float:
    """(sum lambda)^2 / sum lambda^2 over covariance eigenvalues; 1 for rank-1 data, n for isotropic.

    Returns 0.0 when the states do not vary at all.
    """
    lam = covariance_spectrum(states_bxn)
    denom = float(np.sum(lam**2))
    return float(np.sum(lam) ** 2 / denom) if denom > 0 else 0.0


def readout_full(readout_kxu, state_size: int) -> np.ndarray:
    """Readout rows as vectors in the full state space (k, n).

    The readout sees the first ``u`` coordinates (LSTM: h of the state [h; c]); the rest are
    zero-padded so the rows can be compared with states, PCs and Jacobian eigenvectors.
    """
    w = _np64(readout_kxu)
    if w.ndim != 2 or w.shape[1] > state_size:
        raise ValueError(f"readout must be (k, u) with u <= {state_size}, got {w.shape}")
    return np.pad(w, ((0, 0), (0, state_size - w.shape[1])))


@dataclass(frozen=True)
class ReadoutProjection:
    centre_d: np.ndarray          # the attractor centre in PC coordinates
    directions_kxd: np.ndarray    # unit readout vectors projected onto the first d PCs
    in_subspace_k: np.ndarray     # norm of each projected unit vector: 1 = readout lies in the PC subspace


def readout_in_pc_space(readout_kxn, pca: StatePCA, n_dims: int = 3, centre_n=None) -> ReadoutProjection:
    """Readout directions and the attractor centre in the PCA frame, for drawing arrows.

    ``readout_kxn`` is the readout weight (k, units); it is zero-padded to the state size (LSTM).
    Each row is normalized to unit length before projection, so the arrows are directions and
    ``in_subspace_k`` says how much of each one the plotted PCs capture. The centre defaults to
    the PCA mean (the origin of the PC frame); pass e.g. the mean of the fixed points instead.
    """
    pca.check_fitted()
    if not 1 <= n_dims <= pca.n_components_:
        raise ValueError(f"n_dims must be from 1 to {pca.n_components_}, got {n_dims}")
    w = readout_full(readout_kxn, pca.mean_n_.shape[0])
    norms = np.linalg.norm(w, axis=1, keepdims=True)
    unit = np.divide(w, norms, out=np.zeros_like(w), where=norms > 0)
    dirs = unit @ pca.components_cxn_[:n_dims].T
    centre = pca.mean_n_ if centre_n is None else _np64(centre_n)
    centre_d = (centre - pca.mean_n_) @ pca.components_cxn_[:n_dims].T
    return ReadoutProjection(centre_d, dirs, np.linalg.norm(dirs, axis=1))


def readout_angles_deg(readout_kxn) -> np.ndarray:
    """Pairwise angles (k, k) in degrees between class readout vectors after removing their mean.

    As in Aitken et al. 2020: softmax logits are invariant to a vector added to every row, so
    only the centred rows w_i - mean_j w_j carry meaning; for a readout that integrates evidence
    symmetrically they form a regular simplex with angles ``simplex_angle_deg(k)``. The diagonal
    is 0; a row that is zero after centring gives NaN angles.
    """
    w = _np64(readout_kxn)
    if w.ndim != 2 or w.shape[0] < 2:
        raise ValueError("need a (k, n) readout with at least two classes")
    centred = w - w.mean(axis=0)
    norms = np.linalg.norm(centred, axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        unit = centred / norms[:, None]
        cos = np.clip(unit @ unit.T, -1.0, 1.0)
    angles = np.degrees(np.arccos(cos))
    np.fill_diagonal(angles, 0.0)
    return angles


def readout_alignment(vecs_nxm, readout_kxn) -> np.ndarray:
    """|cos| between each of m state-space vectors (e.g. slow eigenvectors) and each class readout, m x k."""
    vecs = _np64(vecs_nxm)
    readout = _np64(readout_kxn)
    vecs = vecs / np.maximum(np.linalg.norm(vecs, axis=0, keepdims=True), 1e-300)
    readout = readout / np.maximum(np.linalg.norm(readout, axis=1, keepdims=True), 1e-300)
    return np.abs(vecs.T @ readout.T)


def count_plane(counts_bxk, n_dims: int = 2) -> np.ndarray:
    """Evidence counts centred and projected on an orthonormal basis of the sum-zero subspace, b x n_dims.

    The "predicted" geometry of Aitken et al. 2020: with k evidence words a perfect integrator's
    state is the count vector, and only its differences matter, which live in k - 1 dimensions.
    """
    counts = _np64(counts_bxk)
    k = counts.shape[1]
    centred = counts - counts.mean(axis=0)
    if k == 1:
        return np.pad(centred, ((0, 0), (0, n_dims - 1)))
    # Helmert-style basis of {v : sum(v) = 0}
    basis = np.linalg.qr(np.eye(k) - 1.0 / k)[0][:, : k - 1]
    out = centred @ basis
    if out.shape[1] < n_dims:
        out = np.pad(out, ((0, 0), (0, n_dims - out.shape[1])))
    return out[:, :n_dims]


def simplex_angle_deg(n: int) -> float:
    """Angle between vertices of a regular simplex with n vertices seen from its centre: arccos(-1/(n-1))."""
    if n < 2:
        raise ValueError("a simplex needs at least two vertices")
    return float(np.degrees(np.arccos(-1.0 / (n - 1))))


@dataclass(frozen=True)
class Decomposition:
    """h_{b,t} = mu_t + chi(w_{b,t}) + residual_{b,t} over valid steps (t < length_b).

    Fractions are sequential (type-I) shares of the total variance sum_{b,t} |h - global mean|^2:
    temporal = sum |mu_t - global mean|^2; input = the further reduction from subtracting chi
    (= sum_w count_w |chi_w|^2); residual = sum |residual|^2. Because mu_t and chi are group
    means (least squares), the three add up to the total exactly. The order matters: input is
    what the word explains *beyond* the step index.
    """
    mu_txn: np.ndarray
    count_t: np.ndarray            # sequences that reach step t (mu_t is 0 where this is 0)
    chi_wxn: np.ndarray            # zero for words never read
    count_w: np.ndarray
    global_mean_n: np.ndarray
    residual_bxtxn: np.ndarray | None  # float32, zero past each sequence's length; None unless kept
    total_variance: float          # mean |h - global mean|^2 over valid steps
    temporal_fraction: float
    input_fraction: float
    residual_fraction: float


def _chunks(states, b_idx, t_idx, rows: int):
    for start in range(0, b_idx.size, rows):
        sl = slice(start, start + rows)
        yield sl, states[b_idx[sl], t_idx[sl]].astype(np.float64)


def decompose(states_bxtxn, ids_bxt, lengths_b, vocab_size: int, keep_residual: bool = True) -> Decomposition:
    """Temporal vs input-driven decomposition of states (Aitken et al. 2021).

    ``states_bxtxn[b, t]`` is the state after reading ``ids_bxt[b, t]`` (as ``model.run`` returns);
    only steps t < ``lengths_b[b]`` count. mu_t is the mean state at step t over sequences that
    reach t, chi(w) the mean of h - mu_t over the steps where word w is read. Sums run in float64
    over chunks, so memory beyond the input is the float32 residual (skip it with
    ``keep_residual=False``) plus O(t n + w n).
    """
    states = _np(states_bxtxn)
    ids = _np(ids_bxt).astype(np.int64)
    lengths = _np(lengths_b).astype(np.int64)
    if states.ndim != 3 or ids.shape != states.shape[:2] or lengths.shape != states.shape[:1]:
        raise ValueError("need states (b, t, n), ids (b, t) and lengths (b,) that agree")
    b, t, n = states.shape
    b_idx, t_idx = np.nonzero(np.arange(t)[None, :] < lengths[:, None])
    if b_idx.size == 0:
        raise ValueError("no valid steps: every length is 0")
    words = ids[b_idx, t_idx]
    if words.min() < 0 or words.max() >= vocab_size:
        raise ValueError(f"word ids must be from 0 to {vocab_size - 1}")
    rows = max(1, _CHUNK_VALUES // n)
    count_t = np.bincount(t_idx, minlength=t)
    count_w = np.bincount(words, minlength=vocab_size)
    mu_sum = np.zeros((t, n))
    for sl, h in _chunks(states, b_idx, t_idx, rows):
        np.add.at(mu_sum, t_idx[sl], h)
    global_mean = mu_sum.sum(axis=0) / b_idx.size
    mu = mu_sum / np.maximum(count_t, 1)[:, None]
    chi_sum = np.zeros((vocab_size, n))
    ss_total = ss_dev = 0.0
    for sl, h in _chunks(states, b_idx, t_idx, rows):
        dev = h - mu[t_idx[sl]]
        np.add.at(chi_sum, words[sl], dev)
        ss_total += float(np.sum((h - global_mean) ** 2))
        ss_dev += float(np.sum(dev**2))
    chi = chi_sum / np.maximum(count_w, 1)[:, None]
    residual = np.zeros((b, t, n), dtype=np.float32) if keep_residual else None
    ss_resid = 0.0
    for sl, h in _chunks(states, b_idx, t_idx, rows):
        resid = h - mu[t_idx[sl]] - chi[words[sl]]
        ss_resid += float(np.sum(resid**2))
        if residual is not None:
            residual[b_idx[sl], t_idx[sl]] = resid
    ss_temporal = float(np.sum(count_t * np.sum((mu - global_mean) ** 2, axis=1)))
    ss_input = max(ss_dev - ss_resid, 0.0)
    parts = np.array([ss_temporal, ss_input, ss_resid])
    # ss_total = the sum of the parts up to rounding; dividing by the sum makes the fractions
    # add to 1 to machine precision.
    parts = parts / parts.sum() if parts.sum() > 0 else np.zeros(3)
    return Decomposition(mu, count_t, chi, count_w, global_mean, residual, ss_total / b_idx.size,
                         float(parts[0]), float(parts[1]), float(parts[2]))
