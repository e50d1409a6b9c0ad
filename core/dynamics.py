"""Local dynamics of a recurrent cell: analytic Jacobians and the linearization around fixed points.

For the update ``F(h, x) = model.step(h, x)`` this module gives, for every cell type
(gru, lstm, ugrnn, tanh, relu), closed-form batched expressions for

- ``jacobian_state``: dF/dh, ``jac_bxnxn`` (for LSTM the state is [h; c], n = 2 * units),
- ``jacobian_input``: dF/dx, ``jac_bxnxe``,

and the first-order model around an expansion point (h*, x*)::

    F(h, x) ~= F(h*, x*) + J (h - h*) + B (x - x*)

with ``linearized_step``, ``linearized_rollout`` and ``one_step_linearization_error``.
Jacobians are computed in the dtype of ``weights`` (``model.weights(torch.float64)`` for
solvers; default: the dtype of ``h_bxn``). Weight layout follows torch's fused kernels:
GRU gates (r, z, n), LSTM gates (i, f, g, o), UGRNN (candidate, gate).
"""
from __future__ import annotations

import numpy as np
import torch

__all__ = [
    "step_and_jacobians", "jacobian_state", "jacobian_input",
    "linearized_step", "linearized_rollout", "one_step_linearization_error",
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


def _rows(coef_bxn: torch.Tensor, w_nxk: torch.Tensor, out: torch.Tensor | None = None) -> torch.Tensor:
    """diag(coef) @ W for a batch of coefficient vectors, accumulated into ``out`` if given."""
    if out is None:
        return coef_bxn[:, :, None] * w_nxk
    return out.addcmul_(coef_bxn[:, :, None], w_nxk)


def _add_diag(jac_bxnxn: torch.Tensor, diag_bxn: torch.Tensor, offset: int = 0) -> torch.Tensor:
    jac_bxnxn.diagonal(offset=offset, dim1=1, dim2=2).add_(diag_bxn)
    return jac_bxnxn


def step_and_jacobians(model, h_bxn, x_bxe=None, weights=None, *, want_state: bool = True,
                       want_input: bool = False):
    """F(h, x) together with dF/dh and/or dF/dx from one evaluation of the gates.

    Returns ``(f_bxn, jac_bxnxn or None, jac_in_bxnxe or None)``. ``x_bxe`` may be one input
    ``(e,)`` or ``(1, e)`` shared by the batch; None means the zero input.
    """
    h_bxn, x_bxe, w = _prepare(model, h_bxn, x_bxe, weights)
    cell, u = model.config.cell, model.config.units
    batch = torch.broadcast_shapes(h_bxn.shape[:1], x_bxe.shape[:1])[0]
    gx = x_bxe @ w["w_x"].T + w["b_x"]
    wh, wx = w["w_h"], w["w_x"]
    jac = jin = None

    def expand(t):  # coefficients that only depend on x must still have one row per batch item
        return t.expand(batch, -1) if t.shape[0] != batch else t

    if cell == "gru":
        gh = h_bxn @ wh.T + w["b_h"]
        r = torch.sigmoid(gx[:, :u] + gh[:, :u])
        z = torch.sigmoid(gx[:, u:2 * u] + gh[:, u:2 * u])
        n = torch.tanh(gx[:, 2 * u:] + r * gh[:, 2 * u:])
        f = (1 - z) * n + z * h_bxn
        c_z = expand((h_bxn - n) * z * (1 - z))          # dF/dz * dz/da_z
        c_n = expand((1 - z) * (1 - n * n))               # dF/dn * dn/da_n
        c_r = expand(c_n * gh[:, 2 * u:] * r * (1 - r))   # through r in a_n = gx_n + r * gh_n
        if want_state:
            jac = _rows(c_z, wh[u:2 * u])
            _rows(c_n * r, wh[2 * u:], jac)
            _rows(c_r, wh[:u], jac)
            _add_diag(jac, expand(z))
        if want_input:
            jin = _rows(c_z, wx[u:2 * u])
            _rows(c_n, wx[2 * u:], jin)
            _rows(c_r, wx[:u], jin)
        return f, jac, jin

    if cell == "lstm":
        h, c = h_bxn[:, :u], h_bxn[:, u:]
        g = gx + h @ wh.T + w["b_h"]
        i, fg = torch.sigmoid(g[:, :u]), torch.sigmoid(g[:, u:2 * u])
        cand, o = torch.tanh(g[:, 2 * u:3 * u]), torch.sigmoid(g[:, 3 * u:])
        c_new = fg * c + i * cand
        tc = torch.tanh(c_new)
        f = torch.cat([o * tc, c_new], dim=-1)
        # dc'/d(pre-activations of i, f, g); dh'/dc' and dh'/d(pre of o)
        ci, cf, cg = expand(cand * i * (1 - i)), expand(c * fg * (1 - fg)), expand(i * (1 - cand * cand))
        dh_dc = expand(o * (1 - tc * tc))
        co = expand(tc * o * (1 - o))

        def block(wmat, out):  # rows [dh'/d.; dc'/d.] for the weights acting on h (or x)
            dc = _rows(ci, wmat[:u])
            _rows(cf, wmat[u:2 * u], dc)
            _rows(cg, wmat[2 * u:3 * u], dc)
            out[:, u:] = dc
            out[:, :u] = dh_dc[:, :, None] * dc
            out[:, :u].addcmul_(co[:, :, None], wmat[3 * u:])
            return out

        if want_state:
            jac = torch.zeros(batch, 2 * u, 2 * u, dtype=h_bxn.dtype)
            block(wh, jac[:, :, :u])
            fgb = expand(fg)
            jac[:, u:, u:].diagonal(dim1=1, dim2=2).copy_(fgb)          # dc'/dc
            jac[:, :u, u:].diagonal(dim1=1, dim2=2).copy_(dh_dc * fgb)  # dh'/dc
        if want_input:
            jin = block(wx, torch.empty(batch, 2 * u, wx.shape[1], dtype=h_bxn.dtype))
        return f, jac, jin

    if cell in ("tanh", "relu"):
        pre = gx + h_bxn @ wh.T + w["b_h"]
        if cell == "tanh":
            f = torch.tanh(pre)
            d = 1 - f * f
        else:
            f = torch.relu(pre)
            d = (pre > 0).to(pre.dtype)
        jac = _rows(d, wh) if want_state else None
        jin = _rows(d, wx) if want_input else None
        return f, jac, jin

    if cell == "ugrnn":
        g = gx + h_bxn @ wh.T
        cand, gate = torch.tanh(g[:, :u]), torch.sigmoid(g[:, u:])
        f = gate * h_bxn + (1 - gate) * cand
        c_g = expand((h_bxn - cand) * gate * (1 - gate))
        c_c = expand((1 - gate) * (1 - cand * cand))
        if want_state:
            jac = _rows(c_g, wh[u:])
            _rows(c_c, wh[:u], jac)
            _add_diag(jac, expand(gate))
        if want_input:
            jin = _rows(c_g, wx[u:])
            _rows(c_c, wx[:u], jin)
        return f, jac, jin
    raise ValueError(f"unknown cell {cell!r}")


def jacobian_state(model, h_bxn, x_bxe=None, weights=None) -> torch.Tensor:
    """dF/dh at each (h, x): ``jac_bxnxn[b, i, j] = dF_i/dh_j``."""
    return step_and_jacobians(model, h_bxn, x_bxe, weights)[1]


def jacobian_input(model, h_bxn, x_bxe=None, weights=None) -> torch.Tensor:
    """dF/dx at each (h, x): ``jac_bxnxe[b, i, k] = dF_i/dx_k``."""
    return step_and_jacobians(model, h_bxn, x_bxe, weights, want_state=False, want_input=True)[2]


# ---- linearization ------------------------------------------------------------------------
def linearized_step(h_star_n, jac_nxn, jac_in_nxe, x_star_e, h_bxn, x_bxe, f_star_n=None):
    """First-order prediction F(h*, x*) + J (h - h*) + B (x - x*), batched over rows of h, x.

    ``f_star_n`` is F(h*, x*); by default h* itself, i.e. (h*, x*) is assumed to be a fixed point.
    Works on numpy arrays or torch tensors (all arguments of one kind).
    """
    f_star = h_star_n if f_star_n is None else f_star_n
    return f_star + (h_bxn - h_star_n) @ jac_nxn.T + (x_bxe - x_star_e) @ jac_in_nxe.T


def linearized_rollout(h_star_n, jac_nxn, jac_in_nxe, x_star_e, h0_bxn, x_bxtxe, f_star_n=None):
    """Iterate the linear model from h0 over the inputs: states_bxtxn (state after each input).

    Unbatched inputs also work: ``h0_n`` with ``x_txe`` gives ``states_txn``.
    """
    unbatched = h0_bxn.ndim == 1
    h = h0_bxn[None] if unbatched else h0_bxn
    xs = x_bxtxe[None] if unbatched else x_bxtxe
    out = []
    for t in range(xs.shape[1]):
        h = linearized_step(h_star_n, jac_nxn, jac_in_nxe, x_star_e, h, xs[:, t], f_star_n)
        out.append(h)
    if isinstance(h, torch.Tensor):
        states = torch.stack(out, 1) if out else torch.zeros(h.shape[0], 0, h.shape[1], dtype=h.dtype)
    else:
        states = np.stack(out, 1) if out else np.zeros((h.shape[0], 0, h.shape[1]), h.dtype)
    return states[0] if unbatched else states


@torch.no_grad()
def one_step_linearization_error(model, states_txn, x_txe, fixed_points_pxn, x_star_e=None,
                                 *, eps: float = 1e-8, return_nearest: bool = False, relative_to: str = "update"):
    """Per-token relative error of the linearization at the nearest fixed point.

    Row t is one step: it starts from ``states_txn[t]`` and reads ``x_txe[t]`` (so for a
    trajectory from ``model.run`` pass the states shifted by one: [h0; states[:-1]]). For each
    row the expansion point is the fixed point nearest in Euclidean distance (solved for input
    ``x_star_e``, zero by default), and::

        error_t = |F_lin(h_t, x_t) - F(h_t, x_t)| / max(|F(h_t, x_t) - h_t|, eps)

    i.e. the linearization's miss measured against the size of the true update: 0.1 means the
    linear model gets the state's actual move wrong by 10% (Maheswaranathan et al. 2019 report
    about that). ``eps`` keeps steps that barely move the state from dividing by ~0.
    F_lin uses the exact F(h*, x*) as the constant term, so residual q at h* does not count.
    ``relative_to="state"`` divides by |F(h_t, x_t)| instead: the error in predicting the next
    state rather than the move, a far more lenient measure (both are reported by the analysis).
    All computed in float64; returns ``error_t`` (numpy), plus the nearest index if asked
    (NaN and -1 when there are no fixed points).
    """
    w = model.weights(torch.float64)
    h = torch.as_tensor(np.asarray(states_txn), dtype=torch.float64)
    x = torch.as_tensor(np.asarray(x_txe), dtype=torch.float64)
    fps = torch.as_tensor(np.asarray(fixed_points_pxn), dtype=torch.float64)
    x_star = torch.zeros(x.shape[1], dtype=torch.float64) if x_star_e is None \
        else torch.as_tensor(np.asarray(x_star_e), dtype=torch.float64)
    if fps.shape[0] == 0 or h.shape[0] == 0:  # nothing to linearize around (or nothing to measure)
        err = np.full(h.shape[0], np.nan)
        return (err, np.full(h.shape[0], -1)) if return_nearest else err
    nearest_t = torch.cdist(h, fps).argmin(dim=1)
    used = torch.unique(nearest_t)
    f_star, jac, jin = step_and_jacobians(model, fps[used], x_star, w, want_input=True)
    slot = torch.empty(fps.shape[0], dtype=torch.long)
    slot[used] = torch.arange(len(used))
    k = slot[nearest_t]
    dh, dx = h - fps[nearest_t], x - x_star
    f_lin = f_star[k] + torch.einsum("tij,tj->ti", jac[k], dh) + torch.einsum("tij,tj->ti", jin[k], dx)
    f_true = model.step(h, x, w)
    scale = f_true if relative_to == "state" else f_true - h
    err = (f_lin - f_true).norm(dim=1) / scale.norm(dim=1).clamp_min(eps)
    err = err.numpy()
    return (err, nearest_t.numpy()) if return_nearest else err
