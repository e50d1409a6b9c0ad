"""A FixedPointFinder-style baseline for the fixed-point solver, for benchmarks only.

``adam_baseline`` runs joint Adam on the mean q of all points in float32, as FixedPointFinder
(mattgolub) does; ``benchmarks/fixed_point_bench.py`` compares ``core.fixed_points`` with it.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable

import numpy as np
import torch

from core.cells import in_box
from core.fixed_points import residual_q

__all__ = ["AdamResult", "adam_baseline"]


@dataclass(frozen=True, eq=False)
class AdamResult:
    xstar_bxn: np.ndarray   # float64 copy of the float32 iterate
    q_b: np.ndarray         # q re-evaluated in float64 at the final points
    in_box_b: np.ndarray
    n_iters: int
    wall_time_s: float


def adam_baseline(model, inits_bxn: np.ndarray, x_e: np.ndarray | None = None, lr: float = 1.0,
                  max_iters: int = 5000, *, tol_q: float = 1e-12, tol_dq: float = 1e-20,
                  on_progress: Callable[[dict], None] | None = None) -> AdamResult:
    """Joint Adam on mean q in float32, from ``inits_bxn`` (numpy or torch), input ``x_e`` (None: zero).

    Learning rate adapts as in FixedPointFinder: times 0.95 when mean q rises (at most every 5
    steps), times 1/0.95 after 5 consecutive decreases. No projection, no per-point stopping.
    """
    start = time.perf_counter()
    w32 = model.weights(torch.float32)
    x = torch.zeros(1, w32["w_x"].shape[1]) if x_e is None else torch.as_tensor(np.asarray(x_e)).float().reshape(1, -1)
    h = torch.tensor(np.asarray(inits_bxn, dtype=np.float64), dtype=torch.float32, requires_grad=True)
    # Adam written out (torch.optim.Adam's update with its defaults: betas 0.9/0.999, eps 1e-8);
    # constructing torch.optim.Adam costs ~5 s of one-time imports here, which would flatter us
    m, v = torch.zeros_like(h), torch.zeros_like(h)
    prev, since_change, downs, it = float("inf"), 0, 0, 0
    for it in range(1, max_iters + 1):
        loss = 0.5 * ((model.step(h, x, w32) - h) ** 2).sum(dim=1).mean()
        (grad,) = torch.autograd.grad(loss, h)
        with torch.no_grad():
            m.mul_(0.9).add_(grad, alpha=0.1)
            v.mul_(0.999).addcmul_(grad, grad, value=0.001)
            denom = (v / (1 - 0.999 ** it)).sqrt_().add_(1e-8)
            h.addcdiv_(m, denom, value=-lr / (1 - 0.9 ** it))
        value = float(loss.detach())
        since_change += 1
        if value > prev:
            downs = 0
            if since_change >= 5:
                lr *= 0.95
                since_change = 0
        elif value < prev:
            downs += 1
            if downs >= 5 and since_change >= 5:
                lr /= 0.95
                since_change, downs = 0, 0
        if on_progress is not None and it % 100 == 0:
            on_progress({"stage": "adam", "iteration": it, "mean_q": value})
        if value < tol_q or abs(prev - value) < tol_dq:
            break
        prev = value
    with torch.no_grad():
        w64 = model.weights(torch.float64)
        h64 = h.detach().double()
        q64 = residual_q(model.step(h64, x.double(), w64), h64)[1]
        box = in_box(h64, *model.cell.reachable_box())
    return AdamResult(h64.numpy(), q64.numpy(), box.numpy(), it, time.perf_counter() - start)
