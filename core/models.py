"""Recurrent cells behind one interface.

Every model exposes a pure single-step map ``step(state_bxn, x_bxe) -> state_bxn`` that the
Jacobian and fixed-point code differentiate, plus ``run`` (all states, padding masked) and a
fused ``forward`` for training. For GRU, LSTM and vanilla RNNs the fused torch kernels and
``step`` share the same parameters, and tests hold them equal to 1e-5.

State layouts: GRU/UGRNN/vanilla: h (n = units). LSTM: [h; c] (n = 2 * units); the readout
sees h only.
"""
from __future__ import annotations

import torch
from torch import nn

from core.config import ModelConfig

__all__ = ["RNNClassifier", "build_model"]


class RNNClassifier(nn.Module):
    def __init__(self, config: ModelConfig):
        super().__init__()
        config.validate()
        self.config = config
        units, embed = config.units, config.embed_dim
        self.embedding = nn.Embedding(config.vocab_size, embed, padding_idx=0)
        if config.cell == "gru":
            self.rnn = nn.GRU(embed, units, batch_first=True)
        elif config.cell == "lstm":
            self.rnn = nn.LSTM(embed, units, batch_first=True)
        elif config.cell in ("tanh", "relu"):
            self.rnn = nn.RNN(embed, units, nonlinearity=config.cell, batch_first=True)
        else:  # UGRNN: candidate and gate from input and state (Collins et al. 2017)
            self.ugrnn_x = nn.Linear(embed, 2 * units)
            self.ugrnn_h = nn.Linear(units, 2 * units, bias=False)
        self.dropout = nn.Dropout(config.dropout)
        self.embed_dropout = nn.Dropout(config.embed_dropout)
        self.readout_layer = nn.Linear(units, config.num_classes)
        if config.cell == "relu":
            # ReLU RNNs explode from the default init; start near the identity instead (Le et al. 2015).
            with torch.no_grad():
                self.rnn.weight_hh_l0.copy_(0.5 * torch.eye(units) + 0.01 * torch.randn(units, units))
                self.rnn.bias_hh_l0.zero_()

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

    def probabilities(self, logits: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(logits) if self.config.multilabel else torch.softmax(logits, dim=-1)

    def weights(self, dtype=torch.float32) -> dict[str, torch.Tensor]:
        """Recurrent weights in a cell-independent naming, cast to dtype (e.g. float64 for solvers)."""
        return {k: v.detach().to(dtype) for k, v in self._live_weights().items()}

    def step(self, state_bxn: torch.Tensor, x_bxe: torch.Tensor, weights: dict | None = None) -> torch.Tensor:
        """One update F(state, x). Differentiable; dtype follows ``weights`` (default: parameters)."""
        cell = self.config.cell
        if weights is None:
            weights = self._live_weights()
        units = self.config.units
        gx = x_bxe @ weights["w_x"].T + weights["b_x"]
        if cell == "gru":
            h = state_bxn
            gh = h @ weights["w_h"].T + weights["b_h"]
            r = torch.sigmoid(gx[:, :units] + gh[:, :units])
            z = torch.sigmoid(gx[:, units:2 * units] + gh[:, units:2 * units])
            n = torch.tanh(gx[:, 2 * units:] + r * gh[:, 2 * units:])
            return (1 - z) * n + z * h
        if cell == "lstm":
            h, c = state_bxn[:, :units], state_bxn[:, units:]
            g = gx + h @ weights["w_h"].T + weights["b_h"]
            i, f = torch.sigmoid(g[:, :units]), torch.sigmoid(g[:, units:2 * units])
            cand, o = torch.tanh(g[:, 2 * units:3 * units]), torch.sigmoid(g[:, 3 * units:])
            c_new = f * c + i * cand
            return torch.cat([o * torch.tanh(c_new), c_new], dim=-1)
        if cell in ("tanh", "relu"):
            pre = gx + state_bxn @ weights["w_h"].T + weights["b_h"]
            return torch.tanh(pre) if cell == "tanh" else torch.relu(pre)
        h = state_bxn
        g = gx + h @ weights["w_h"].T
        cand, gate = torch.tanh(g[:, :units]), torch.sigmoid(g[:, units:])
        return gate * h + (1 - gate) * cand

    def _live_weights(self) -> dict[str, torch.Tensor]:
        if self.config.cell == "ugrnn":
            return {"w_x": self.ugrnn_x.weight, "b_x": self.ugrnn_x.bias, "w_h": self.ugrnn_h.weight}
        return {"w_x": self.rnn.weight_ih_l0, "b_x": self.rnn.bias_ih_l0,
                "w_h": self.rnn.weight_hh_l0, "b_h": self.rnn.bias_hh_l0}

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
        if use_fused and self.config.cell in ("gru", "tanh", "relu"):
            out, _ = self.rnn(x_bxtxe)  # causal: padding after a sequence cannot affect its valid steps
            states = out
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
        if self.config.cell == "ugrnn":
            return self.hidden(self.run(ids_bxt, lengths)[:, -1])
        # Padding sits after each sequence and the kernels are causal, so the output at
        # length-1 is exact; this is faster on CPU than packing.
        out, _ = self.rnn(self.embed_dropout(self.embed(ids_bxt)))
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
