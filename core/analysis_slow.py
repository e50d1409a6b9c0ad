"""The slow-point part of the precompute (``core.analysis`` calls ``slow_point_arrays``): the slow-point
set (``core.fixed_points.slow_points``), the line through it (``core.slow_line``) and the one-step
linearization errors D1 / D4 around its nearest point on held-out texts (``core.dynamics.one_step_errors``).

Stored compactly (keys ``sp_*``, ``line_*``, ``slowlin_*``): the slow points in line order, as float32
/ complex64 (they are approximate points; the pages draw them and linearize around them), and a
subsample of the per-token errors with their medians and a binned curve of error against kick size.
An analysis without these keys still loads: the views are None and the pages say so.
"""
from __future__ import annotations

import numpy as np
import torch

from core.dynamics import one_step_errors
from core.fixed_points import FixedPoints
from core.fixed_points.slow_points import find_slow_points
from core.slow_line import line_order, line_profile

__all__ = ["slow_point_arrays", "held_out_steps", "error_by_kick", "N_SLOW_INITS", "N_KICK_BINS"]

N_SLOW_INITS = 2000
N_LIN_SEQ = 50         # held-out texts whose every step is linearized
N_TOKEN_SAMPLE = 5000  # per-token errors kept for the scatter
N_KICK_BINS = 10
_COMPACT = {"xstar_pxn": np.float32, "eigvals_pxn": np.complex64, "tau_pxm": np.float32,
            "right_vecs_pxnxm": np.float32, "left_vecs_pxnxm": np.float32}


@torch.no_grad()
def held_out_steps(model, states_bxtxn, ids_bxt, lengths_b, rng, n_seq: int = N_LIN_SEQ):
    """(states before each token, the token's embedding) for every step of ``n_seq`` random texts, float64."""
    prev, inputs = [], []
    for i in rng.permutation(len(lengths_b))[:n_seq]:
        steps = int(lengths_b[i])
        if steps < 1:
            continue
        inputs.append(model.embed(torch.from_numpy(ids_bxt[i, :steps].astype(np.int64))).double().numpy())
        start = model.initial_state(1, torch.float64).numpy()
        prev.append(np.concatenate([start, states_bxtxn[i, : steps - 1].astype(np.float64)]))
    n, e = model.state_size, model.config.embed_dim
    return (np.concatenate(prev) if prev else np.zeros((0, n)), np.concatenate(inputs) if inputs else np.zeros((0, e)))


def error_by_kick(kick_t, d1_t, d4_t, n_bins: int = N_KICK_BINS):
    """Median D1 and D4 in bins of equal token counts along the kick size: (kick, d1, d4, count) per bin."""
    kick_t = np.asarray(kick_t, dtype=np.float64)
    if len(kick_t) == 0:
        return tuple(np.zeros(0) for _ in range(3)) + (np.zeros(0, np.int64),)
    order = np.argsort(kick_t, kind="stable")
    bins = [b for b in np.array_split(order, min(n_bins, len(order))) if len(b)]
    return (np.array([np.median(kick_t[b]) for b in bins]), np.array([np.median(d1_t[b]) for b in bins]),
            np.array([np.median(d4_t[b]) for b in bins]), np.array([len(b) for b in bins], np.int64))


def _compact(points: FixedPoints) -> dict[str, np.ndarray]:
    arrays = points.to_arrays("sp_")
    for name, dtype in _COMPACT.items():
        arrays["sp_" + name] = arrays["sp_" + name].astype(dtype)
    return arrays


def _error_arrays(errs, rng) -> dict[str, np.ndarray]:
    t = len(errs.d1_t)
    pick = np.sort(rng.permutation(t)[:N_TOKEN_SAMPLE])
    kick, d1, d4, count = error_by_kick(errs.kick_t, errs.d1_t, errs.d4_t)
    med = (lambda a: np.array(np.median(a) if t else np.nan))
    return {"slowlin_d1_sample_s": errs.d1_t[pick].astype(np.float32),
            "slowlin_d4_sample_s": errs.d4_t[pick].astype(np.float32),
            "slowlin_kick_sample_s": errs.kick_t[pick].astype(np.float32),
            "slowlin_input_sample_s": errs.input_t[pick].astype(np.float32),
            "slowlin_distance_sample_s": errs.distance_t[pick].astype(np.float32),
            "slowlin_d1_median": med(errs.d1_t), "slowlin_d4_median": med(errs.d4_t),
            "slowlin_kick_median": med(errs.kick_t), "slowlin_distance_median": med(errs.distance_t),
            "slowlin_n_tokens": np.array(t),
            "slowlin_bin_kick_b": kick, "slowlin_bin_d1_b": d1, "slowlin_bin_d4_b": d4, "slowlin_bin_count_b": count}


def slow_point_arrays(model, pca, visited_vxn, finals_bxn, states_bxtxn, ids_bxt, lengths_b, rng,
                      n_inits: int | None = None) -> dict[str, np.ndarray]:
    """Slow points, the line through them and D1 / D4 around them, as analysis arrays (module doc).
    ``n_inits`` visited states are relaxed (None: N_SLOW_INITS for states up to 128, proportionally
    fewer for bigger ones, whose steps cost more: 1,000 for LSTM-128's [h; c] of 256)."""
    if n_inits is None:
        n_inits = int(N_SLOW_INITS * min(1.0, 128 / model.state_size))
    prev_txn, x_txe = held_out_steps(model, states_bxtxn, ids_bxt, lengths_b, rng)
    with torch.no_grad():
        w = model.weights(torch.float64)
        kick = float(np.median(torch.linalg.vector_norm(
            model.cell.step(torch.from_numpy(prev_txn), torch.from_numpy(x_txe), w) - torch.from_numpy(prev_txn),
            dim=1).numpy())) if len(prev_txn) else 1.0
    inits = visited_vxn[rng.integers(0, len(visited_vxn), n_inits)]
    readout = model.readout_full()
    points = find_slow_points(model, inits, kick)
    points = points.take(line_order(points.xstar_pxn, readout))
    line = line_profile(points, readout, finals_bxn)
    errs = one_step_errors(model, prev_txn, x_txe, points.xstar_pxn)
    arrays = _compact(points)
    arrays["sp_xyz_px3"] = pca.transform(points.xstar_pxn, n_dims=3).astype(np.float32) if points.n_points \
        else np.zeros((0, 3), np.float32)
    arrays.update({f"line_{k}": (np.asarray(v, np.float32) if np.ndim(v) else np.array(v))
                   for k, v in vars(line).items()})
    arrays["slowlin_state_norm_median"] = np.array(np.median(np.linalg.norm(prev_txn, axis=1)) if len(prev_txn)
                                                   else np.nan)
    arrays.update(_error_arrays(errs, rng))
    return arrays
