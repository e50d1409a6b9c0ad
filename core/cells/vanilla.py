"""Vanilla RNNs, h' = phi(W_x x + b_x + W_h h + b_h), with phi = tanh (Tanh) or max(0, .) (ReLU)."""
from __future__ import annotations

import numpy as np
import torch
from torch import nn

from core.cells.base import FusedCell, add_rows

__all__ = ["Tanh", "ReLU"]


class _Vanilla(FusedCell):
    gates = 1

    def make_kernel(self, embed: int) -> nn.Module:
        return nn.RNN(embed, self.units, nonlinearity=self.name, batch_first=True)

    def activation(self, pre_bxn: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """phi(pre) and phi'(pre)."""
        raise NotImplementedError

    def update(self, h_bxn, gx_bxg, w):
        pre = gx_bxg + h_bxn @ w["w_h"].T + w["b_h"]
        f, slope = self.activation(pre)
        return f, (slope,)

    def jacobians(self, h_bxn, w, parts, expand, want_state, want_input):
        (slope,) = parts
        return (add_rows(slope, w["w_h"]) if want_state else None,
                add_rows(slope, w["w_x"]) if want_input else None)


class Tanh(_Vanilla):
    name = "tanh"

    def activation(self, pre_bxn):
        f = torch.tanh(pre_bxn)
        return f, 1 - f * f


class ReLU(_Vanilla):
    name = "relu"

    def activation(self, pre_bxn):
        return torch.relu(pre_bxn), (pre_bxn > 0).to(pre_bxn.dtype)

    def initialize(self, module: nn.Module) -> None:
        """ReLU RNNs explode from the default init; start near the identity instead (Le et al. 2015)."""
        units = self.units
        with torch.no_grad():
            module.rnn.weight_hh_l0.copy_(0.5 * torch.eye(units) + 0.01 * torch.randn(units, units))
            module.rnn.bias_hh_l0.zero_()

    def reachable_box(self, dtype=torch.float64):
        """h >= 0, unbounded above."""
        lo, hi = super().reachable_box(dtype)
        lo[:], hi[:] = 0.0, np.inf
        return lo, hi
