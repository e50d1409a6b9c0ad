"""UGRNN, the update-gate RNN (Collins et al. 2017): candidate c and gate g from input and state,
h' = g h + (1 - g) c. No fused torch kernel: training runs `step` in a loop."""
from __future__ import annotations

import torch
from torch import nn

from core.cells.base import Cell, add_diag, add_rows, input_drive

__all__ = ["UGRNN"]


class UGRNN(Cell):
    name, gates = "ugrnn", 2

    def build(self, module: nn.Module, embed: int) -> None:
        module.ugrnn_x = nn.Linear(embed, 2 * self.units)
        module.ugrnn_h = nn.Linear(self.units, 2 * self.units, bias=False)

    def weights(self, module: nn.Module) -> dict[str, torch.Tensor]:
        return {"w_x": module.ugrnn_x.weight, "b_x": module.ugrnn_x.bias, "w_h": module.ugrnn_h.weight}

    def update(self, h_bxn, gx_bxg, w):
        u = self.units
        g = gx_bxg + h_bxn @ w["w_h"].T
        cand, gate = torch.tanh(g[:, :u]), torch.sigmoid(g[:, u:])
        return gate * h_bxn + (1 - gate) * cand, (cand, gate)

    def jacobians(self, h_bxn, w, parts, expand, want_state, want_input):
        u, (cand, gate) = self.units, parts
        c_g = expand((h_bxn - cand) * gate * (1 - gate))
        c_c = expand((1 - gate) * (1 - cand * cand))
        jac = jin = None
        if want_state:
            jac = add_rows(c_g, w["w_h"][u:])
            add_rows(c_c, w["w_h"][:u], jac)
            add_diag(jac, expand(gate))
        if want_input:
            jin = add_rows(c_g, w["w_x"][u:])
            add_rows(c_c, w["w_x"][:u], jin)
        return jac, jin

    def newton_map(self, y_bxm, x_bxe, w, want_jac=True):
        """The candidate c(h): its fixed points are F's (h' - h = (1 - g)(c - h), g < 1); see ``Cell.newton_map``."""
        u = self.units
        cand = torch.tanh((input_drive(x_bxe, w) + y_bxm @ w["w_h"].T)[:, :u])
        return cand, add_rows(1 - cand * cand, w["w_h"][:u]) if want_jac else None
