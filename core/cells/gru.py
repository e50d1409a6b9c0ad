"""GRU (Cho et al. 2014) in torch's convention: gates r, z, n; h' = (1 - z) n + z h, with
n = tanh(W_n x + b_n + r (U_n h + c_n)) (the reset gate acts on the recurrent term, as in nn.GRU)."""
from __future__ import annotations

import torch
from torch import nn

from core.cells.base import FusedCell, add_diag, add_rows, input_drive

__all__ = ["GRU"]


class GRU(FusedCell):
    name, gates = "gru", 3

    def make_kernel(self, embed: int) -> nn.Module:
        return nn.GRU(embed, self.units, batch_first=True)

    def _candidate(self, h_bxn, gx_bxg, w):
        """(gh = W_h h + b_h, reset gate r, candidate n)."""
        u = self.units
        gh = h_bxn @ w["w_h"].T + w["b_h"]
        r = torch.sigmoid(gx_bxg[:, :u] + gh[:, :u])
        return gh, r, torch.tanh(gx_bxg[:, 2 * u:] + r * gh[:, 2 * u:])

    def update(self, h_bxn, gx_bxg, w):
        u = self.units
        gh, r, n = self._candidate(h_bxn, gx_bxg, w)
        z = torch.sigmoid(gx_bxg[:, u:2 * u] + gh[:, u:2 * u])
        return (1 - z) * n + z * h_bxn, (gh, r, z, n)

    def jacobians(self, h_bxn, w, parts, expand, want_state, want_input):
        u, (gh, r, z, n) = self.units, parts
        c_z = expand((h_bxn - n) * z * (1 - z))          # dF/dz * dz/da_z
        c_n = expand((1 - z) * (1 - n * n))               # dF/dn * dn/da_n
        c_r = expand(c_n * gh[:, 2 * u:] * r * (1 - r))   # through r in a_n = gx_n + r * gh_n
        jac = jin = None
        if want_state:
            wh = w["w_h"]
            jac = add_rows(c_z, wh[u:2 * u])
            add_rows(c_n * r, wh[2 * u:], jac)
            add_rows(c_r, wh[:u], jac)
            add_diag(jac, expand(z))
        if want_input:
            wx = w["w_x"]
            jin = add_rows(c_z, wx[u:2 * u])
            add_rows(c_n, wx[2 * u:], jin)
            add_rows(c_r, wx[:u], jin)
        return jac, jin

    def newton_map(self, y_bxm, x_bxe, w, want_jac=True):
        """The candidate n(h): its fixed points are F's (h' - h = (1 - z)(n - h), z < 1); see ``Cell.newton_map``."""
        u = self.units
        gh, r, n = self._candidate(y_bxm, input_drive(x_bxe, w), w)
        if not want_jac:
            return n, None
        c_n = 1 - n * n
        jac = add_rows(c_n * r, w["w_h"][2 * u:])
        return n, add_rows(c_n * gh[:, 2 * u:] * r * (1 - r), w["w_h"][:u], jac)
