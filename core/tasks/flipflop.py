"""The 3-bit flip-flop (Sussillo & Barak 2013): a memory task whose fixed points are known in advance.

``bits`` input channels each carry sparse +1 / -1 pulses; output k must hold the sign of the last
pulse on channel k. A network that solves it stores 2**bits memories, one per bit pattern, as
stable fixed points of its zero-input dynamics (or as slow points a long relaxation slides off),
which makes it the standard test of a fixed-point finder (FixedPointFinder's own example).

Here the pulses are tokens, so the task runs through the same ``RNNClassifier`` as the text
models: id 0 is silence (the padding embedding, exactly the zero input), id 1 + 2k a +1 pulse on
channel k, id 2 + 2k a -1 pulse. The embedding is fixed to these signed unit vectors; the cell
and a per-step linear head (``readout_layer``, one output per bit) are trained with MSE in a
few seconds (``train_flipflop``). The rule itself is ``flipflop_targets``.
"""
from __future__ import annotations

import numpy as np
import torch

from core.config import ModelConfig
from core.models import RNNClassifier, build_model

__all__ = ["flipflop_batch", "flipflop_targets", "memory_ids", "train_flipflop"]


def flipflop_batch(rng: np.random.Generator, batch: int, steps: int, bits: int = 3, p_pulse: float = 0.05):
    """Token ids (batch, steps): each channel pulses with probability ``p_pulse`` per step, sign random;
    at most one pulse per step (the first channel to fire wins)."""
    fire = rng.random((batch, steps, bits)) < p_pulse
    sign = rng.integers(0, 2, (batch, steps, bits))  # 0: +1 pulse, 1: -1 pulse
    ids = np.zeros((batch, steps), np.int64)
    for k in reversed(range(bits)):  # channel 0 overrides the others on a shared step
        ids = np.where(fire[..., k], 1 + 2 * k + sign[..., k], ids)
    return ids


def flipflop_targets(ids_bxt: np.ndarray, bits: int = 3) -> np.ndarray:
    """The rule: target (batch, steps, bits) in {-1, 0, +1}, the sign of each channel's last pulse (0 before any)."""
    ids = np.asarray(ids_bxt)
    out = np.zeros(ids.shape + (bits,), np.float32)
    state = np.zeros((ids.shape[0], bits), np.float32)
    for t in range(ids.shape[1]):
        for k in range(bits):
            state[ids[:, t] == 1 + 2 * k, k] = 1.0
            state[ids[:, t] == 2 + 2 * k, k] = -1.0
        out[:, t] = state
    return out


def memory_ids(bits: int = 3, hold: int = 20) -> np.ndarray:
    """One token sequence per bit pattern (2**bits rows): set every channel, then ``hold`` silent steps."""
    rows = []
    for pattern in range(2 ** bits):
        pulses = [1 + 2 * k + ((pattern >> k) & 1) for k in range(bits)]
        rows.append(pulses + [0] * hold)
    return np.asarray(rows, np.int64)


def train_flipflop(units: int = 16, bits: int = 3, steps: int = 400, batch: int = 64, length: int = 48,
                   lr: float = 1e-2, cell: str = "gru", seed: int = 0) -> tuple[RNNClassifier, float]:
    """A small RNN trained on the flip-flop; returns (model in eval mode, final mean squared error on fresh data)."""
    rng = np.random.default_rng(seed)
    model = build_model(ModelConfig(cell=cell, units=units, embed_dim=bits, vocab_size=1 + 2 * bits,
                                    num_classes=bits), seed=seed)
    with torch.no_grad():
        emb = torch.zeros(1 + 2 * bits, bits)
        for k in range(bits):
            emb[1 + 2 * k, k], emb[2 + 2 * k, k] = 1.0, -1.0
        model.embedding.weight.copy_(emb)
    model.embedding.weight.requires_grad_(False)
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.Adam(params, lr=lr)
    for it in range(steps):
        loss = _loss(model, rng, batch, length, bits)
        opt.zero_grad()
        loss.backward()
        opt.step()
        if it == int(0.7 * steps):
            for group in opt.param_groups:
                group["lr"] = lr / 5
    model.eval()
    with torch.no_grad():
        mse = float(_loss(model, np.random.default_rng(seed + 1), 256, 4 * length, bits))
    return model, mse


def _loss(model: RNNClassifier, rng: np.random.Generator, batch: int, length: int, bits: int) -> torch.Tensor:
    ids = flipflop_batch(rng, batch, length, bits)
    targets = torch.from_numpy(flipflop_targets(ids, bits))
    states = model.run(torch.from_numpy(ids))
    out = torch.tanh(model.readout(states))
    return ((out - targets) ** 2).mean()
