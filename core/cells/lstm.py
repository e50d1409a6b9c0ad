"""LSTM (Hochreiter & Schmidhuber 1997) in torch's convention: gates i, f, g, o. The state is [h; c]
(n = 2 units): the fixed-point solver and the Jacobians see both halves, the readout sees h only."""
from __future__ import annotations

import numpy as np
import torch
from torch import nn

from core.cells.base import FusedCell, add_rows

__all__ = ["LSTM"]


class LSTM(FusedCell):
    name, gates = "lstm", 4
    state_blocks = 2
    warm_steps = 200          # c integrates slowly: a longer forward warm-up before the search
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
