"""LSTM (Hochreiter & Schmidhuber 1997) in torch's convention: gates i, f, g, o. The state is [h; c]
(n = 2 units): the Jacobians see both halves, the readout sees h only.

Fixed points: c = f c + i g holds exactly when c = c*(h) = i g / (1 - f), so the fixed points of F
are those of Phi(h) = o tanh(c*(h)) on h alone (n = units), lifted to [h; c*(h)]. The solver
works on Phi: half the size (below torch 2.13's batched-LU limit for LSTM-128), and without the
slow integration of c that made a forward warm-up of ~200 steps of F necessary.
"""
from __future__ import annotations

import numpy as np
import torch
from torch import nn

from core.cells.base import BOX_EDGE, FusedCell, add_rows, input_drive

__all__ = ["LSTM"]


class LSTM(FusedCell):
    name, gates = "lstm", 4
    state_blocks = 2
    warm_steps = 30           # steps of Phi (c at equilibrium) before a fixed-point search
    kernel_gives_state = False  # nn.LSTM outputs h only; sequences of [h; c] come from `step`

    def make_kernel(self, embed: int) -> nn.Module:
        return nn.LSTM(embed, self.units, batch_first=True)

    def update(self, h_bxn, gx_bxg, w):
        u = self.units
        h, c = h_bxn[:, :u], h_bxn[:, u:]
        g = gx_bxg + h @ w["w_h"].T + w["b_h"]
        i, fg = torch.sigmoid(g[:, :u]), torch.sigmoid(g[:, u:2 * u])
        cand, o = torch.tanh(g[:, 2 * u:3 * u]), torch.sigmoid(g[:, 3 * u:])
        c_new = fg * c + i * cand
        tc = torch.tanh(c_new)
        return torch.cat([o * tc, c_new], dim=-1), (c, i, fg, cand, o, tc)

    def jacobians(self, h_bxn, w, parts, expand, want_state, want_input):
        u, (c, i, fg, cand, o, tc) = self.units, parts
        batch = expand(i).shape[0]
        # dc'/d(pre-activations of i, f, g); dh'/dc' and dh'/d(pre of o)
        ci, cf, cg = expand(cand * i * (1 - i)), expand(c * fg * (1 - fg)), expand(i * (1 - cand * cand))
        dh_dc = expand(o * (1 - tc * tc))
        co = expand(tc * o * (1 - o))

        def block(wmat, out):  # rows [dh'/d.; dc'/d.] for the weights acting on h (or x)
            dc = add_rows(ci, wmat[:u])
            add_rows(cf, wmat[u:2 * u], dc)
            add_rows(cg, wmat[2 * u:3 * u], dc)
            out[:, u:] = dc
            out[:, :u] = dh_dc[:, :, None] * dc
            out[:, :u].addcmul_(co[:, :, None], wmat[3 * u:])
            return out

        jac = jin = None
        if want_state:
            jac = torch.zeros(batch, 2 * u, 2 * u, dtype=h_bxn.dtype)
            block(w["w_h"], jac[:, :, :u])
            fgb = expand(fg)
            jac[:, u:, u:].diagonal(dim1=1, dim2=2).copy_(fgb)          # dc'/dc
            jac[:, :u, u:].diagonal(dim1=1, dim2=2).copy_(dh_dc * fgb)  # dh'/dc
        if want_input:
            wx = w["w_x"]
            jin = block(wx, torch.empty(batch, 2 * u, wx.shape[1], dtype=h_bxn.dtype))
        return jac, jin

    def reachable_box(self, dtype=torch.float64):
        """h is tanh-bounded, c is not."""
        lo, hi = super().reachable_box(dtype)
        lo[self.units:], hi[self.units:] = -np.inf, np.inf
        return lo, hi

    # ---- the fixed-point map on h (module doc) -----------------------------------------
    def _gates(self, y_bxu, x_bxe, w):
        u = self.units
        g = input_drive(x_bxe, w) + y_bxu @ w["w_h"].T + w["b_h"]
        i, fg, cand, o = torch.sigmoid(g[:, :u]), torch.sigmoid(g[:, u:2 * u]), torch.tanh(g[:, 2 * u:3 * u]), \
            torch.sigmoid(g[:, 3 * u:])
        one_minus_f = torch.sigmoid(-g[:, u:2 * u])  # 1 - f without cancellation
        return i, fg, cand, o, i * cand / one_minus_f, one_minus_f

    def reduce(self, h_bxn):
        return h_bxn[:, :self.units]

    def lift(self, y_bxm, x_bxe, w):
        return torch.cat([y_bxm, self._gates(y_bxm, x_bxe, w)[4]], dim=-1)

    def reduced_step(self, y_bxm, x_bxe, w, want_jac=True):
        u, wh = self.units, w["w_h"]
        i, fg, cand, o, c, one_minus_f = self._gates(y_bxm, x_bxe, w)
        tc = torch.tanh(c)
        phi = o * tc
        if not want_jac:
            return phi, None
        a = o * (1 - tc * tc)                           # dPhi/dc*
        jac = add_rows(tc * o * (1 - o), wh[3 * u:])    # through o
        add_rows(a * c * (1 - i), wh[:u], jac)          # dc*/d(pre i) = c* (1 - i)
        add_rows(a * c * fg, wh[u:2 * u], jac)          # dc*/d(pre f) = c* f
        add_rows(a * i * (1 - cand * cand) / one_minus_f, wh[2 * u:3 * u], jac)
        return phi, jac

    def reduced_box(self, dtype=torch.float64):
        return torch.full((self.units,), -BOX_EDGE, dtype=dtype), torch.full((self.units,), BOX_EDGE, dtype=dtype)
