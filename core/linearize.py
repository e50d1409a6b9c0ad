"""How far one text's trajectory is from the linear system around a fixed point.

Maheswaranathan et al. (2019) showed that a sentiment RNN's trajectory is well approximated by
the linearization of its update around nearby fixed points, ``h_{t+1} ~ h* + J (h_t - h*) + B x_t``,
missing the true step by about 10%. ``linearize_text`` puts that claim next to one text:

- ``full_txn``: the model's own states after each token (``model.run``, float32 like the dashboard);
- ``lin_txn``: the states of the linear system iterated from the same initial state over the same
  inputs, around ONE expansion point: the converged fixed point nearest the mean of the full
  trajectory (stable points preferred). The mean, not the start, because the start is the zero
  state, which is usually off the attractor, while the mean sits where the text spends its time;
  so this rollout shows how far a single linear model carries the whole text;
- ``one_step_err_t``: the per-token relative error of ONE linearized step from the true previous
  state, each at its own nearest fixed point (``core.dynamics.one_step_linearization_error``, the
  same measure as ``lin_err_median`` in analysis.npz, so the two are comparable);
- with ``slow_points`` given, ``d1_t`` / ``d4_t`` / ``kick_t``: the two one-step errors around the
  nearest SLOW point (``core.dynamics.one_step_errors``: D1 linearizes state and input, D4 the
  state only), the measures of ``slowlin_*`` in analysis.npz.

A linear rollout around an unstable point can diverge; non-finite states are returned as NaN.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from core.dynamics import linearized_rollout, one_step_errors, one_step_linearization_error, step_and_jacobians

__all__ = ["LinearizedText", "linearize_text", "expansion_point", "PAPER_ERROR"]

PAPER_ERROR = 0.10  # the one-step relative error Maheswaranathan et al. (2019) report, roughly


@dataclass(frozen=True, eq=False)
class LinearizedText:
    full_txn: np.ndarray        # float32, true states after each token
    lin_txn: np.ndarray         # float64, linear-system states (NaN where it diverged)
    one_step_err_t: np.ndarray  # float64, relative error of one linear step from the true state
    anchor_index: int           # the fixed point lin_txn is expanded around (-1: none)
    d1_t: np.ndarray | None = None    # D1 around the nearest slow point (None: no slow points given)
    d4_t: np.ndarray | None = None    # D4 around the nearest slow point
    kick_t: np.ndarray | None = None  # |F(h, x) - h|

    def __iter__(self):  # unpack as (full_txn, lin_txn, one_step_err_t, anchor_index)
        return iter((self.full_txn, self.lin_txn, self.one_step_err_t, self.anchor_index))


def expansion_point(xstar_pxn, states_txn, is_converged_p=None, is_stable_p=None) -> int:
    """Index of the fixed point nearest the mean of ``states_txn``: among converged stable points
    if there are any, else converged ones, else all. -1 when there are no fixed points."""
    xstar = np.asarray(xstar_pxn, dtype=np.float64)
    if xstar.shape[0] == 0:
        return -1
    candidates = np.arange(xstar.shape[0])
    conv = np.ones(len(candidates), bool) if is_converged_p is None else np.asarray(is_converged_p, bool)
    stable = np.ones(len(candidates), bool) if is_stable_p is None else np.asarray(is_stable_p, bool)
    for mask in (conv & stable, conv):
        if mask.any():
            candidates = np.flatnonzero(mask)
            break
    centre = np.asarray(states_txn, dtype=np.float64).mean(axis=0)
    return int(candidates[np.argmin(np.linalg.norm(xstar[candidates] - centre, axis=1))])


@torch.no_grad()
def linearize_text(model, ids_t, fixed_points, anchor_index: int | None = None, slow_points=None) -> LinearizedText:
    """Full vs linearized trajectory of one token sequence, and the one-step errors.

    ``model`` is an RNNClassifier (or anything with ``.model``, e.g. a store.Bundle);
    ``fixed_points`` a core.fixed_points.FixedPoints (solved for input ``x_e``). ``anchor_index``
    overrides the expansion point of the rollout (default: ``expansion_point`` on the mean state).
    ``slow_points`` (a FixedPoints, zero input) adds D1 / D4 around the nearest of them.
    """
    model = getattr(model, "model", model)
    ids = torch.as_tensor(np.asarray(ids_t, dtype=np.int64)).reshape(-1)
    n = model.state_size
    if ids.numel() == 0 or fixed_points.n_points == 0:
        empty = np.zeros((ids.numel(), n))
        full = model.run(ids[None])[0].numpy() if ids.numel() else empty.astype(np.float32)
        return LinearizedText(full, np.full_like(empty, np.nan), np.full(ids.numel(), np.nan), -1)
    full_txn = model.run(ids[None])[0].numpy().astype(np.float32)
    x_txe = model.embed(ids).to(torch.float64).numpy()
    h0_n = model.initial_state(1, torch.float64)[0].numpy()
    prev_txn = np.concatenate([h0_n[None], full_txn[:-1].astype(np.float64)])
    xstar = np.asarray(fixed_points.xstar_pxn, dtype=np.float64)
    converged = fixed_points.is_converged_p
    pool = xstar[converged] if converged.any() else xstar
    one_step = one_step_linearization_error(model, prev_txn, x_txe, pool, fixed_points.x_e)

    if anchor_index is None:
        anchor_index = expansion_point(xstar, full_txn, converged, fixed_points.is_stable_p)
    x_e = np.asarray(fixed_points.x_e, dtype=np.float64)
    fstar, jac, jin = step_and_jacobians(model, torch.from_numpy(xstar[anchor_index]), torch.from_numpy(x_e),
                                         model.weights(torch.float64), want_input=True)
    with np.errstate(over="ignore", invalid="ignore"):
        lin_txn = linearized_rollout(xstar[anchor_index], jac[0].numpy(), jin[0].numpy(), x_e, h0_n, x_txe,
                                     fstar[0].numpy())
    lin_txn = np.where(np.isfinite(lin_txn), lin_txn, np.nan)
    extra = {}
    if slow_points is not None and slow_points.n_points:
        errs = one_step_errors(model, prev_txn, x_txe, slow_points.xstar_pxn)
        extra = dict(d1_t=errs.d1_t, d4_t=errs.d4_t, kick_t=errs.kick_t)
    return LinearizedText(full_txn, lin_txn, np.asarray(one_step, dtype=np.float64), int(anchor_index), **extra)
