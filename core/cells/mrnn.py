"""Multiplicative RNN (Sutskever et al. 2011): the input chooses the transition matrix,
h' = tanh(W_hx x + b + W_hf diag(W_fx x + b_f) W_fh h), a factored W_hh(x).

Words act by multiplying the state's factors, not only by adding a kick, so a pair "not good" can be a
product of the two words' effects (issue 19). No fused torch kernel: training runs ``step`` in a loop.
Parameters: ``mrnn_x`` (rows :u the additive input W_hx, b; rows u: the factor gains W_fx, b_f),
``mrnn_fh`` (W_fh, state to factors) and ``mrnn_hf`` (W_hf, factors to state).
"""
from __future__ import annotations

import torch
from torch import nn

from core.cells.base import Cell

__all__ = ["MRNN"]


class MRNN(Cell):
    name, gates = "mrnn", 2  # a token costs W_x (2u x e) and two u x u products

    def build(self, module: nn.Module, embed: int) -> None:
        module.mrnn_x = nn.Linear(embed, 2 * self.units)
        module.mrnn_fh = nn.Linear(self.units, self.units, bias=False)
        module.mrnn_hf = nn.Linear(self.units, self.units, bias=False)

    def initialize(self, module: nn.Module) -> None:
        """Start from an orthogonal transition (factor gains 1): neither exploding nor forgetting at once."""
        with torch.no_grad():
            nn.init.orthogonal_(module.mrnn_fh.weight)
            nn.init.orthogonal_(module.mrnn_hf.weight)
            module.mrnn_x.bias[self.units:].fill_(1.0)

    def weights(self, module: nn.Module) -> dict[str, torch.Tensor]:
        return {"w_x": module.mrnn_x.weight, "b_x": module.mrnn_x.bias, "w_h": module.mrnn_fh.weight,
                "w_hf": module.mrnn_hf.weight}

    def update(self, h_bxn, gx_bxg, w):
        u = self.units
        gain, factors = gx_bxg[:, u:], h_bxn @ w["w_h"].T
        f = torch.tanh(gx_bxg[:, :u] + (gain * factors) @ w["w_hf"].T)
        return f, (gain, factors, 1 - f * f)

    def jacobians(self, h_bxn, w, parts, expand, want_state, want_input):
        u, (gain, factors, slope) = self.units, parts
        jac = jin = None
        if want_state:  # diag(slope) W_hf diag(gain) W_fh
            jac = slope[:, :, None] * ((w["w_hf"] * expand(gain)[:, None, :]) @ w["w_h"])
        if want_input:  # diag(slope) (W_hx + W_hf diag(W_fh h) W_fx)
            jin = slope[:, :, None] * (w["w_x"][:u] + (w["w_hf"] * factors[:, None, :]) @ w["w_x"][u:])
        return jac, jin
