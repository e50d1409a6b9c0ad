"""The classifier: embedding -> recurrent cell -> linear readout of the final state.

The cell is a ``core.cells`` type (``model.cell``), which registers its parameters on the model
under the names bundles store. Every model exposes a pure single-step map
``step(state_bxn, x_bxe) -> state_bxn`` that the Jacobian and fixed-point code differentiate, plus
``run`` (all states, padding masked) and a fused ``forward`` for training. Where torch has a fused
kernel for the cell (GRU, LSTM, vanilla RNNs) it shares the parameters with ``step``, and tests
hold the two equal to 1e-5.

State layouts: GRU/UGRNN/vanilla: h (n = units). LSTM: [h; c] (n = 2 * units); the readout
sees h only.
"""
from __future__ import annotations

import numpy as np
import torch
from torch import nn

from core.cells import CELLS
from core.config import ModelConfig

__all__ = ["RNNClassifier", "build_model"]


class RNNClassifier(nn.Module):
    def __init__(self, config: ModelConfig):
        super().__init__()
        config.validate()
        self.config = config
        self.cell = CELLS[config.cell](config.units)  # a plain object: it adds no parameter names
        self.embedding = nn.Embedding(config.vocab_size, config.embed_dim, padding_idx=0)
        self.cell.build(self, config.embed_dim)
        self.dropout = nn.Dropout(config.dropout)
        self.embed_dropout = nn.Dropout(config.embed_dropout)
        self.readout_layer = nn.Linear(config.units, config.num_classes)
        self.cell.initialize(self)

    @property
    def state_size(self) -> int:
        return self.config.state_size

    # ---- pure pieces -------------------------------------------------------------------
    def embed(self, ids: torch.Tensor) -> torch.Tensor:
        return self.embedding(ids)

    def initial_state(self, batch: int, dtype=torch.float32) -> torch.Tensor:
        return torch.zeros(batch, self.state_size, dtype=dtype, device=self.embedding.weight.device)

    def hidden(self, state_bxn: torch.Tensor) -> torch.Tensor:
        """The part of the state the readout sees (h for LSTM, all of it otherwise)."""
        return state_bxn[..., : self.config.units]

    def readout(self, state_bxn: torch.Tensor) -> torch.Tensor:
        weight, bias = self.readout_layer.weight, self.readout_layer.bias
        h = self.hidden(state_bxn)
        return h @ weight.to(h.dtype).T + bias.to(h.dtype)

    def readout_full(self) -> np.ndarray:
        """The readout rows as vectors in the full state space, float64 k x n (zero on LSTM's c half),
        so they compare with states, PCs and Jacobian eigenvectors."""
        weight = self.readout_layer.weight.detach().to(torch.float64)
        return torch.cat([weight, weight.new_zeros(weight.shape[0], self.state_size - weight.shape[1])], 1).numpy()

    def probabilities(self, logits: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(logits) if self.config.multilabel else torch.softmax(logits, dim=-1)

    def live_weights(self) -> dict[str, torch.Tensor]:
        """The recurrent parameters themselves in the cell-independent naming (w_x, b_x, w_h[, b_h])."""
        return self.cell.weights(self)

    def weights(self, dtype=torch.float32) -> dict[str, torch.Tensor]:
        """Detached copies of ``live_weights`` cast to dtype (e.g. float64 for solvers)."""
        return {k: v.detach().to(dtype) for k, v in self.live_weights().items()}

    def step(self, state_bxn: torch.Tensor, x_bxe: torch.Tensor, weights: dict | None = None) -> torch.Tensor:
        """One update F(state, x). Differentiable; dtype follows ``weights`` (default: parameters)."""
        return self.cell.step(state_bxn, x_bxe, self.live_weights() if weights is None else weights)

    # ---- sequences ---------------------------------------------------------------------
    def run(self, ids_bxt: torch.Tensor, lengths: torch.Tensor | None = None,
            use_fused: bool = True) -> torch.Tensor:
        """All states, states_bxtxn. Past a sequence's length the last valid state is held."""
        batch, steps = ids_bxt.shape
        if lengths is None:
            lengths = torch.full((batch,), steps, dtype=torch.long)
        lengths = torch.as_tensor(lengths, dtype=torch.long).cpu()
        if steps == 0:
            return torch.zeros(batch, 0, self.state_size)
        x_bxtxe = self.embed(ids_bxt)
        kernel = self.cell.kernel(self)
        if use_fused and kernel is not None and self.cell.kernel_gives_state:
            states, _ = kernel(x_bxtxe)  # causal: padding after a sequence cannot affect its valid steps
        else:
            state = self.initial_state(batch, x_bxtxe.dtype)
            collected = []
            for t in range(steps):
                state = self.step(state, x_bxtxe[:, t])
                collected.append(state)
            states = torch.stack(collected, dim=1)
        return _hold_after_length(states, lengths)

    def final_hidden(self, ids_bxt: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """Readout-visible state after each sequence's last token, via the fused kernels (training path)."""
        lengths = torch.as_tensor(lengths, dtype=torch.long)
        kernel = self.cell.kernel(self)
        if kernel is None:
            return self.hidden(self.run(ids_bxt, lengths)[:, -1])
        # Padding sits after each sequence and the kernels are causal, so the output at
        # length-1 is exact; this is faster on CPU than packing.
        out, _ = kernel(self.embed_dropout(self.embed(ids_bxt)))
        last = out[torch.arange(out.shape[0]), lengths.clamp(min=1) - 1]
        return torch.where((lengths == 0)[:, None], torch.zeros_like(last), last)  # empty: initial state

    def forward(self, ids_bxt: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """Logits from the final state, logits_bxk."""
        return self.readout_layer(self.dropout(self.final_hidden(ids_bxt, lengths)))


def _hold_after_length(states_bxtxn: torch.Tensor, lengths_b: torch.Tensor) -> torch.Tensor:
    steps = states_bxtxn.shape[1]
    t_idx = torch.arange(steps)
    last = (lengths_b.clamp(min=1) - 1).clamp(max=steps - 1)
    gather = torch.minimum(t_idx[None, :], last[:, None])  # b x t
    held = torch.gather(states_bxtxn, 1, gather[..., None].expand(-1, -1, states_bxtxn.shape[2]))
    zero_len = (lengths_b == 0)[:, None, None]
    return torch.where(zero_len, torch.zeros_like(held), held)


def build_model(config: ModelConfig, seed: int = 0) -> RNNClassifier:
    torch.manual_seed(seed)
    return RNNClassifier(config)
