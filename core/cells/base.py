"""What every recurrent cell type provides, and the pieces the implementations share.

A cell type is one class in its own file, listed in ``core.cells.CELLS``. For ``units`` hidden
units it knows

- its parameters: ``build(module, embed)`` registers them on the classifier under the names the
  bundles' ``model.safetensors`` hold (``rnn.*`` for torch's fused kernels, ``ugrnn_*`` otherwise),
  and ``weights(module)`` returns them in a cell-independent naming: ``w_x`` (gates x units, e),
  ``b_x``, ``w_h`` (gates x units, units) and ``b_h`` where the cell has it;
- its update ``step(h_bxn, x_bxe, w) -> h_bxn``: pure, differentiable, in the dtype of ``w``;
- its analytic Jacobians: ``step_and_jacobians`` gives F, dF/dh (b, n, n) and dF/dx (b, n, e) from
  one evaluation of the gates;
- its reachable box (where states can lie, which the fixed-point solver projects into), its state
  size and its cost in gate blocks (for time estimates);
- the map the fixed-point solver iterates: by default F itself; a cell whose fixed points are
  determined by fewer coordinates overrides ``reduce`` / ``lift`` / ``reduced_step`` /
  ``reduced_box`` (LSTM: c at its equilibrium given h, so the solver works on h alone).

Gate blocks are stacked along the rows of ``w_x`` / ``w_h`` in the order of torch's fused
kernels, so ``step`` and the fused kernel agree (the tests hold them equal to 1e-5).
"""
from __future__ import annotations

from typing import Callable, ClassVar

import torch
from torch import nn

__all__ = ["BOX_EDGE", "Cell", "FusedCell", "in_box", "input_drive", "add_rows", "add_diag"]

BOX_EDGE = 1.0 - 1e-10   # projection edge for tanh-bounded coordinates; points left on it are spurious


def input_drive(x_bxe: torch.Tensor, w: dict) -> torch.Tensor:
    """W_x x + b_x, every gate block at once (one row of x may stand for the whole batch)."""
    return x_bxe @ w["w_x"].T + w["b_x"]


def add_rows(coef_bxn: torch.Tensor, w_nxm: torch.Tensor, out: torch.Tensor | None = None) -> torch.Tensor:
    """diag(coef) @ W for a batch of coefficient vectors, accumulated into ``out`` if given."""
    if out is None:
        return coef_bxn[:, :, None] * w_nxm
    return out.addcmul_(coef_bxn[:, :, None], w_nxm)


def add_diag(jac_bxnxn: torch.Tensor, diag_bxn: torch.Tensor) -> torch.Tensor:
    jac_bxnxn.diagonal(dim1=1, dim2=2).add_(diag_bxn)
    return jac_bxnxn


def in_box(h_bxn: torch.Tensor, lo_n: torch.Tensor, hi_n: torch.Tensor) -> torch.Tensor:
    """Which states lie inside a reachable box: strictly inside a tanh-bounded edge (ReLU's floor 0 is reachable)."""
    lo_ok = torch.where(torch.isfinite(lo_n) & (lo_n < 0), h_bxn > lo_n, h_bxn >= lo_n)
    return (lo_ok & (h_bxn < hi_n)).all(dim=1)


class Cell:
    """One cell type for a given number of units (subclasses set the class attributes)."""

    name: ClassVar[str]
    gates: ClassVar[int]                      # gate blocks: a token costs ~ gates x units x (units + embed)
    state_blocks: ClassVar[int] = 1           # vectors of `units` in the state (LSTM: [h; c])
    warm_steps: ClassVar[int] = 5             # steps of the solver's map (``reduced_step``) before a search
    kernel_gives_state: ClassVar[bool] = True  # the fused kernel's outputs are the whole state

    def __init__(self, units: int):
        self.units = units

    @classmethod
    def state_size(cls, units: int) -> int:
        return cls.state_blocks * units

    @property
    def n(self) -> int:
        return self.state_size(self.units)

    # ---- parameters --------------------------------------------------------------------
    def build(self, module: nn.Module, embed: int) -> None:
        """Register this cell's parameters on ``module`` (the classifier)."""
        raise NotImplementedError

    def initialize(self, module: nn.Module) -> None:
        """Change the default initialization, once every parameter of the classifier exists."""

    def weights(self, module: nn.Module) -> dict[str, torch.Tensor]:
        """The live recurrent parameters of ``module`` in the cell-independent naming."""
        raise NotImplementedError

    def kernel(self, module: nn.Module) -> nn.Module | None:
        """torch's fused kernel for this cell (training path), or None."""
        return None

    # ---- dynamics ----------------------------------------------------------------------
    def update(self, h_bxn: torch.Tensor, gx_bxg: torch.Tensor, w: dict) -> tuple[torch.Tensor, tuple]:
        """F(h, x) from the input drive ``gx`` (``input_drive``), and the gate values the Jacobians reuse."""
        raise NotImplementedError

    def jacobians(self, h_bxn, w, parts: tuple, expand: Callable, want_state: bool, want_input: bool):
        """(dF/dh or None, dF/dx or None) from the gate values ``update`` returned."""
        raise NotImplementedError

    def step(self, h_bxn: torch.Tensor, x_bxe: torch.Tensor, w: dict) -> torch.Tensor:
        return self.update(h_bxn, input_drive(x_bxe, w), w)[0]

    def step_and_jacobians(self, h_bxn: torch.Tensor, x_bxe: torch.Tensor, w: dict, *, want_state: bool = True,
                           want_input: bool = False):
        """``(f_bxn, jac_bxnxn or None, jac_in_bxnxe or None)``; ``x_bxe`` may have one row for the whole batch."""
        # not torch.broadcast_shapes: its first call imports torch's symbolic-shapes module (sympy, ~1 s)
        hb, xb = h_bxn.shape[0], x_bxe.shape[0]
        if hb != xb and 1 not in (hb, xb):
            raise ValueError(f"batch sizes {hb} and {xb} do not broadcast")
        batch = xb if hb == 1 else hb

        def expand(t):  # coefficients that only depend on x must still have one row per batch item
            return t.expand(batch, -1) if t.shape[0] != batch else t

        f, parts = self.update(h_bxn, input_drive(x_bxe, w), w)
        if not (want_state or want_input):
            return f, None, None
        return (f, *self.jacobians(h_bxn, w, parts, expand, want_state, want_input))

    def reachable_box(self, dtype=torch.float64) -> tuple[torch.Tensor, torch.Tensor]:
        """Lower and upper bounds of every state coordinate (+-inf where unbounded); here |h| < 1."""
        return torch.full((self.n,), -BOX_EDGE, dtype=dtype), torch.full((self.n,), BOX_EDGE, dtype=dtype)

    # ---- the fixed-point map -----------------------------------------------------------
    # The solver looks for y = Phi(y) on the reduced coordinates y = reduce(h); lift(y) is then a
    # fixed point of F, and every fixed point of F reduces to one of Phi. By default Phi = F.
    def reduce(self, h_bxn: torch.Tensor) -> torch.Tensor:
        return h_bxn

    def lift(self, y_bxm: torch.Tensor, x_bxe: torch.Tensor, w: dict) -> torch.Tensor:
        return y_bxm

    def reduced_step(self, y_bxm: torch.Tensor, x_bxe: torch.Tensor, w: dict, want_jac: bool = True):
        """``(Phi(y), dPhi/dy or None)``."""
        f, jac, _ = self.step_and_jacobians(y_bxm, x_bxe, w, want_state=want_jac)
        return f, jac

    def reduced_box(self, dtype=torch.float64) -> tuple[torch.Tensor, torch.Tensor]:
        return self.reachable_box(dtype)

    def newton_map(self, y_bxm: torch.Tensor, x_bxe: torch.Tensor, w: dict, want_jac: bool = True):
        """``(Psi(y), dPsi/dy or None)`` for a map with exactly the fixed points of ``reduced_step``, on which
        the solver takes its Newton steps (relaxation still follows ``reduced_step``, the true flow). By
        default Psi = Phi; a gated cell, h' = z h + (1 - z) c(h) with 0 < z < 1, solves c(h) = h instead:
        at a fixed point I - dF/dh = diag(1 - z) (I - dc/dh), so units whose gate is nearly shut (the
        integrators that hold a line attractor) no longer make G nearly singular."""
        return self.reduced_step(y_bxm, x_bxe, w, want_jac)


class FusedCell(Cell):
    """A cell torch has a fused kernel for, held as ``module.rnn`` (its parameter names are the bundles')."""

    def make_kernel(self, embed: int) -> nn.Module:
        raise NotImplementedError

    def build(self, module: nn.Module, embed: int) -> None:
        module.rnn = self.make_kernel(embed)

    def weights(self, module: nn.Module) -> dict[str, torch.Tensor]:
        rnn = module.rnn
        return {"w_x": rnn.weight_ih_l0, "b_x": rnn.bias_ih_l0, "w_h": rnn.weight_hh_l0, "b_h": rnn.bias_hh_l0}

    def kernel(self, module: nn.Module) -> nn.Module:
        return module.rnn
