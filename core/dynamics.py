"""Local dynamics of a recurrent cell: analytic Jacobians and the linearization around fixed points.

For the update ``F(h, x) = model.step(h, x)`` this module gives, for every cell type in
``core.cells`` (each cell holds its own closed-form expressions), batched

- ``jacobian_state``: dF/dh, ``jac_bxnxn`` (for LSTM the state is [h; c], n = 2 * units),
- ``jacobian_input``: dF/dx, ``jac_bxnxe``,

and the first-order model around an expansion point (xstar, x_e)::

    F(h, x) ~= F(xstar, x_e) + J (h - xstar) + B (x - x_e)

with ``linearized_step``, ``linearized_rollout`` and ``one_step_linearization_error``; and
``one_step_errors``, the two one-step linearizations around the nearest of a set of points
(D1, the paper's full form with the input linearized; D4, the state only, with the exact input).
Jacobians are computed in the dtype of ``weights`` (``model.weights(torch.float64)`` for
solvers; default: the dtype of ``h_bxn``). A fixed point is ``xstar`` (FixedPointFinder's name,
as in ``core.fixed_points.FixedPoints.xstar_pxn``), the input it was solved for ``x_e``.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

__all__ = [
    "step_and_jacobians", "jacobian_state", "jacobian_input",
    "linearized_step", "linearized_rollout", "one_step_linearization_error", "OneStepErrors", "one_step_errors",
    "row_jvp", "nearest_linear_steps",
]


def _prepare(model, h_bxn, x_bxe, weights):
    h_bxn = torch.as_tensor(h_bxn)
    if weights is None:
        dtype = h_bxn.dtype if h_bxn.is_floating_point() else torch.float32
        weights = model.weights(dtype)
    dtype = weights["w_x"].dtype
    h_bxn = h_bxn.to(dtype)
    if h_bxn.dim() == 1:
        h_bxn = h_bxn[None]
    if x_bxe is None:
        x_bxe = torch.zeros(1, weights["w_x"].shape[1], dtype=dtype)
    x_bxe = torch.as_tensor(x_bxe).to(dtype)
    if x_bxe.dim() == 1:
        x_bxe = x_bxe[None]  # one input shared by the whole batch
    return h_bxn, x_bxe, weights


def step_and_jacobians(model, h_bxn, x_bxe=None, weights=None, *, want_state: bool = True,
                       want_input: bool = False):
    """F(h, x) together with dF/dh and/or dF/dx from one evaluation of the gates (``model.cell``).

    Returns ``(f_bxn, jac_bxnxn or None, jac_in_bxnxe or None)``. ``x_bxe`` may be one input
    ``(e,)`` or ``(1, e)`` shared by the batch; None means the zero input.
    """
    h_bxn, x_bxe, w = _prepare(model, h_bxn, x_bxe, weights)
    return model.cell.step_and_jacobians(h_bxn, x_bxe, w, want_state=want_state, want_input=want_input)


def jacobian_state(model, h_bxn, x_bxe=None, weights=None) -> torch.Tensor:
    """dF/dh at each (h, x): ``jac_bxnxn[b, i, j] = dF_i/dh_j``."""
    return step_and_jacobians(model, h_bxn, x_bxe, weights)[1]


def jacobian_input(model, h_bxn, x_bxe=None, weights=None) -> torch.Tensor:
    """dF/dx at each (h, x): ``jac_bxnxe[b, i, k] = dF_i/dx_k``."""
    return step_and_jacobians(model, h_bxn, x_bxe, weights, want_state=False, want_input=True)[2]


# ---- linearization ------------------------------------------------------------------------
def linearized_step(xstar_n, jac_nxn, jac_in_nxe, x_e, h_bxn, x_bxe, fstar_n=None):
    """First-order prediction F(xstar, x_e) + J (h - xstar) + B (x - x_e), batched over rows of h, x.

    ``fstar_n`` is F(xstar, x_e); by default xstar itself, i.e. xstar is assumed to be a fixed point.
    Works on numpy arrays or torch tensors (all arguments of one kind).
    """
    fstar_n = xstar_n if fstar_n is None else fstar_n
    return fstar_n + (h_bxn - xstar_n) @ jac_nxn.T + (x_bxe - x_e) @ jac_in_nxe.T


def linearized_rollout(xstar_n, jac_nxn, jac_in_nxe, x_e, h0_bxn, x_bxtxe, fstar_n=None):
    """Iterate the linear model from h0 over the inputs: states_bxtxn (state after each input).

    Unbatched inputs also work: ``h0_n`` with ``x_txe`` gives ``states_txn``.
    """
    unbatched = h0_bxn.ndim == 1
    h = h0_bxn[None] if unbatched else h0_bxn
    xs = x_bxtxe[None] if unbatched else x_bxtxe
    out = []
    for t in range(xs.shape[1]):
        h = linearized_step(xstar_n, jac_nxn, jac_in_nxe, x_e, h, xs[:, t], fstar_n)
        out.append(h)
    if isinstance(h, torch.Tensor):
        states = torch.stack(out, 1) if out else torch.zeros(h.shape[0], 0, h.shape[1], dtype=h.dtype)
    else:
        states = np.stack(out, 1) if out else np.zeros((h.shape[0], 0, h.shape[1]), h.dtype)
    return states[0] if unbatched else states


def nearest_linear_steps(model, h_txn, x_txe, points_pxn, x_e, w, chunk: int = 4096):
    """(f_lin_txn, nearest_t): each row's ``linearized_step`` around its nearest point of ``points_pxn`` (solved
    for input ``x_e``), with F(point, x_e) as the constant term. Torch float64 throughout; the Jacobians are
    built once per point that is nearest to some row, and applied to that point's rows together."""
    nearest_t = torch.cat([torch.cdist(h_txn[s:s + chunk], points_pxn).argmin(dim=1)
                           for s in range(0, len(h_txn), chunk)]) if len(h_txn) else torch.zeros(0, dtype=torch.long)
    used_u, slot_t = torch.unique(nearest_t, return_inverse=True)
    fstar_u, jac_u, jin_u = step_and_jacobians(model, points_pxn[used_u], x_e, w, want_input=True)
    f_lin = torch.empty_like(h_txn)
    for u, point in enumerate(used_u.tolist()):
        rows = torch.nonzero(slot_t == u).flatten()
        f_lin[rows] = linearized_step(points_pxn[point], jac_u[u], jin_u[u], x_e, h_txn[rows], x_txe[rows], fstar_u[u])
    return f_lin, nearest_t


@torch.no_grad()
def one_step_linearization_error(model, states_txn, x_txe, fixed_points_pxn, x_e=None,
                                 *, eps: float = 1e-8, return_nearest: bool = False, relative_to: str = "update"):
    """Per-token relative error of the linearization at the nearest fixed point.

    Row t is one step: it starts from ``states_txn[t]`` and reads ``x_txe[t]`` (so for a
    trajectory from ``model.run`` pass the states shifted by one: [h0; states[:-1]]). For each
    row the expansion point is the fixed point nearest in Euclidean distance (solved for input
    ``x_e``, zero by default), and::

        error_t = |F_lin(h_t, x_t) - F(h_t, x_t)| / max(|F(h_t, x_t) - h_t|, eps)

    i.e. the linearization's miss measured against the size of the true update: 0.1 means the
    linear model gets the state's actual move wrong by 10% (Maheswaranathan et al. 2019 report
    about that). ``eps`` keeps steps that barely move the state from dividing by ~0.
    F_lin uses the exact F(xstar, x_e) as the constant term, so residual q at xstar does not count.
    ``relative_to="state"`` divides by |F(h_t, x_t)| instead: the error in predicting the next
    state rather than the move, a far more lenient measure (both are reported by the analysis).
    All computed in float64; returns ``error_t`` (numpy), plus the nearest index if asked
    (NaN and -1 when there are no fixed points).
    """
    w = model.weights(torch.float64)
    h = torch.as_tensor(np.asarray(states_txn), dtype=torch.float64)
    x = torch.as_tensor(np.asarray(x_txe), dtype=torch.float64)
    fps = torch.as_tensor(np.asarray(fixed_points_pxn), dtype=torch.float64)
    x_e = torch.zeros(x.shape[1], dtype=torch.float64) if x_e is None \
        else torch.as_tensor(np.asarray(x_e), dtype=torch.float64)
    if fps.shape[0] == 0 or h.shape[0] == 0:  # nothing to linearize around (or nothing to measure)
        err = np.full(h.shape[0], np.nan)
        return (err, np.full(h.shape[0], -1)) if return_nearest else err
    f_lin, nearest_t = nearest_linear_steps(model, h, x, fps, x_e, w)
    f_true = model.step(h, x, w)
    scale = f_true if relative_to == "state" else f_true - h
    err = (f_lin - f_true).norm(dim=1) / scale.norm(dim=1).clamp_min(eps)
    err = err.numpy()
    return (err, nearest_t.numpy()) if return_nearest else err


def row_jvp(fn, primals, tangents):
    """(fn(*primals), J tangents) for a row-wise ``fn`` (row t of the output depends on row t of each input
    only), by reverse mode twice: g(u) = J^T u is linear in u, so d(g(u) . v)/du = J v. The same numbers as
    ``torch.func.jvp`` (tested), without its first call's import of torch's compiler (2.5-4 s per process)."""
    with torch.enable_grad():
        ps = [p.detach().requires_grad_(True) for p in primals]
        out = fn(*ps)
        u = torch.zeros_like(out, requires_grad=True)
        # (out * u).sum() rather than grad_outputs=u: autograd imports sympy (~1 s) for a tensor grad_outputs
        grads = torch.autograd.grad((out * u).sum(), ps, create_graph=True, allow_unused=True)
        dot = sum((g * t).sum() for g, t in zip(grads, tangents) if g is not None)
        jv = torch.autograd.grad(dot, u, allow_unused=True)[0] if torch.is_tensor(dot) and dot.requires_grad \
            else None
    return out.detach(), torch.zeros_like(out) if jv is None else jv.detach()


@dataclass(frozen=True, eq=False)
class OneStepErrors:
    """Per-token one-step errors of two linearizations around the nearest point h* of a set (float64).

    With h the state before the token, x its embedding and F the update::

        D1 = |F(h*, 0) + J_h(h*, 0) (h - h*) + J_x(h*, 0) x - F(h, x)| / |F(h, x) - h|
        D4 = |F(h*, x) + J_h(h*, x) (h - h*)                 - F(h, x)| / |F(h, x) - h|

    D1 is Maheswaranathan et al.'s linear model (state and input both linearized around the
    zero-input point); D4 linearizes only the state and takes the word's exact effect at h*, so
    D1 - D4 is the part of the error that comes from linearizing the input.
    """
    d1_t: np.ndarray
    d4_t: np.ndarray
    kick_t: np.ndarray       # |F(h, x) - h|, the size of the true step
    input_t: np.ndarray      # |x|
    distance_t: np.ndarray   # |h - h*|
    nearest_t: np.ndarray    # index of h* in the set (-1: empty set)


@torch.no_grad()
def one_step_errors(model, states_txn, x_txe, points_pxn, *, eps: float = 1e-8, chunk: int = 4096) -> OneStepErrors:
    """D1 and D4 (``OneStepErrors``) for each row t: the step from ``states_txn[t]`` reading ``x_txe[t]``
    (for a ``model.run`` trajectory pass [h0; states[:-1]]), around the point of ``points_pxn``
    nearest to it. D1's Jacobians sit at zero input, so they are built once per point that is nearest to some
    token (``nearest_linear_steps``); D4's depend on the token's input and come as Jacobian-vector products
    (``row_jvp``), so there is no n x n Jacobian per token."""
    w = model.weights(torch.float64)
    h_all = torch.as_tensor(np.asarray(states_txn), dtype=torch.float64).reshape(-1, model.state_size)
    x_all = torch.as_tensor(np.asarray(x_txe), dtype=torch.float64).reshape(len(h_all), -1)
    pts = torch.as_tensor(np.asarray(points_pxn), dtype=torch.float64).reshape(-1, model.state_size)
    t = len(h_all)
    if len(pts) == 0 or t == 0:
        nan = np.full(t, np.nan)
        return OneStepErrors(nan, nan.copy(), nan.copy(), nan.copy(), nan.copy(), np.full(t, -1))
    out = {k: [] for k in ("d1", "d4", "kick", "input", "dist", "near")}

    def step(hh, xx):
        return model.cell.step(hh, xx, w)

    # D1 is the paper's linear model around the nearest point at zero input
    d1_lin_all, near_all = nearest_linear_steps(model, h_all, x_all, pts,
                                                torch.zeros(x_all.shape[1], dtype=torch.float64), w, chunk)
    for s in range(0, t, chunk):
        h, x = h_all[s:s + chunk], x_all[s:s + chunk]
        near = near_all[s:s + chunk]
        hs = pts[near]
        f = step(h, x)
        kick = torch.linalg.vector_norm(f - h, dim=1)
        fx, linx = row_jvp(lambda hh: step(hh, x), (hs,), (h - hs,))
        scale = kick.clamp_min(eps)
        out["d1"].append(torch.linalg.vector_norm(d1_lin_all[s:s + chunk] - f, dim=1) / scale)
        out["d4"].append(torch.linalg.vector_norm(fx + linx - f, dim=1) / scale)
        out["kick"].append(kick)
        out["input"].append(torch.linalg.vector_norm(x, dim=1))
        out["dist"].append(torch.linalg.vector_norm(h - hs, dim=1))
        out["near"].append(near)
    cat = {k: torch.cat(v).numpy() for k, v in out.items()}
    return OneStepErrors(cat["d1"], cat["d4"], cat["kick"], cat["input"], cat["dist"], cat["near"].astype(np.int64))
