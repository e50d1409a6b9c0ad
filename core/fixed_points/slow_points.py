"""Slow points: a dense set of states where the zero-input flow is slow, lining the attractor.

Method. Start from many states the network really visits (2,000 in the analysis) and run each
forward with zero input until its speed |F(h) - h| falls below ``speed_frac`` (1%) of the median
word kick |F(h, x) - h| on held-out text, at most ``max_steps`` steps; keep those that got
there and thin them to a net whose spacing is ``spacing_rtol`` of the median state norm, slowest
first (``dedup.thin``: unlike the single linkage that merges copies of a fixed point, it never
collapses a dense line into one point). Each kept point gets its q, stability and slowest modes,
like an exact fixed point, in the same ``FixedPoints`` container.

Why relaxation with a speed threshold. The zero-input flow contracts onto the slow manifold along
the fast directions and then creeps along it, so stopping once a point is slow leaves it on the
attractor near where its own visited state sits: the set spans the attractor where the data
lives (on the bundled sentiment GRUs a line with PC1 over 95% of the variance, aligned with the
readout). Minimizing q (Newton/LM) from raw states instead stops wherever q has a local minimum,
off the line (PC1 0.28 measured on gru-reviews). The threshold trades slowness against closeness
to the trajectories: relaxing longer slides the points towards the ends of the line, away from
the visited states, and the linearization around the nearest one gets worse (one-step error D4,
measured with the threshold at 5% / 2% / 1% / 0.1% of a kick: gru-imdb 12 / 12 / 13 / 18%,
gru-cat3 14 / 22 / 32 / 49%). 1% is relative to the kick, so "slow" means the same on every model:
over a 100-token text the drift adds up to about one word's kick; looser sets linearize a little
better but their points are not slow on the time scale of a text.
Cost: float32 forward steps with an active set (about 1 s for 2,000 GRU-128 states) and one
eigendecomposition per kept point, which is why the net is capped at ``max_points``.
"""
from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass

import numpy as np
import torch

from core.cells import in_box
from core.dynamics import step_and_jacobians
from core.fixed_points.dedup import thin_to
from core.fixed_points.result import FixedPoints, residual_q
from core.fixed_points.spectrum import eigen_summary

__all__ = ["SlowPointOptions", "find_slow_points", "default_max_points"]


@dataclass(frozen=True)
class SlowPointOptions:
    """``speed_frac``: a point is slow once |F(h) - h| < speed_frac x ``kick``; ``max_steps`` zero-input
    steps at most, the speed checked every ``check_every``; the net's spacing is ``spacing_rtol`` x the
    median norm of the slow points, widened (to the smallest spacing that does) until at most ``max_points`` remain
    (None: ``default_max_points``, about a second of eigendecomposition); ``n_modes`` slowest
    eigenvectors per point."""
    speed_frac: float = 0.01
    max_steps: int = 400
    check_every: int = 2
    spacing_rtol: float = 0.01
    max_points: int | None = None
    n_modes: int = 3


def default_max_points(state_size: int) -> int:
    """200 points of size 128, 50 of size 256 (eigendecomposition costs ~ n^3 per point), at most 400."""
    return int(np.clip(200 * (128 / max(state_size, 1)) ** 2, 25, 400))


@torch.no_grad()
def _relax(model, h, x, w, threshold: float, max_steps: int, check_every: int):
    """Zero-input (or x) steps with an active set: each point stops once its speed is below threshold."""
    steps = torch.zeros(len(h), dtype=torch.int64)
    slow = torch.zeros(len(h), dtype=torch.bool)
    for _ in range(0, max_steps, check_every):
        active = torch.nonzero(~slow).flatten()
        if len(active) == 0:
            break
        ha = h[active]
        for _ in range(check_every):
            nxt = model.cell.step(ha, x, w)
            speed = torch.linalg.vector_norm(nxt - ha, dim=1)
            ha = nxt
        h[active], steps[active] = ha, steps[active] + check_every
        slow[active[speed < threshold]] = True
    return h, steps, slow


@torch.no_grad()
def find_slow_points(model, inits_bxn, kick: float, x_e=None, options: SlowPointOptions | None = None,
                     **overrides) -> FixedPoints:
    """Slow points reached by relaxing ``inits_bxn`` (module doc); ``kick`` is the typical size of one
    word's update |F(h, x) - h| that the speed threshold is relative to. Returns a ``FixedPoints``
    whose points are all slow (``is_slow_p``) and none converged; ``n_iters_p`` holds the relaxation
    steps, ``counts_p`` how many relaxed states each kept point stands for, ``q_slow`` the threshold."""
    opts = dataclasses.replace(options or SlowPointOptions(), **overrides)
    start = time.perf_counter()
    w32, w64 = model.weights(torch.float32), model.weights(torch.float64)
    e = w64["w_x"].shape[1]
    x64 = torch.zeros(1, e, dtype=torch.float64) if x_e is None else \
        torch.as_tensor(np.asarray(x_e, dtype=np.float64)).reshape(1, -1)
    h0 = torch.as_tensor(np.asarray(inits_bxn, dtype=np.float32)).reshape(-1, model.state_size).clone()
    threshold = opts.speed_frac * float(kick)
    h, steps, slow = _relax(model, h0, x64.float(), w32, threshold, opts.max_steps, opts.check_every)
    h64 = h[slow].double()
    q = residual_q(model.cell.step(h64, x64, w64), h64)[1].numpy()
    xs, q, kept_steps, counts = _net(h64.numpy(), q, steps[slow].numpy(), opts, model.state_size)
    jac = step_and_jacobians(model, torch.from_numpy(xs), x64, w64)[1].numpy() if len(xs) else \
        np.zeros((0, model.state_size, model.state_size))
    vals, tau, right, left = eigen_summary(jac, opts.n_modes)
    p = len(xs)
    return FixedPoints(
        xstar_pxn=xs, qstar_p=q, n_iters_p=kept_steps, counts_p=counts, is_converged_p=np.zeros(p, bool),
        is_slow_p=np.ones(p, bool), is_in_box_p=in_box(torch.from_numpy(xs), *model.cell.reachable_box()).numpy(),
        is_stable_p=np.abs(vals[:, 0]) < 1 if p else np.zeros(0, bool), eigvals_pxn=vals, tau_pxm=tau,
        right_vecs_pxnxm=right, left_vecs_pxnxm=left, x_e=x64[0].numpy().copy(), n_inits=len(h0),
        frac_converged=0.0, frac_slow=float(slow.double().mean()) if len(h0) else 0.0,
        median_q_all=float(np.median(q)) if p else float("nan"), wall_time_s=time.perf_counter() - start,
        q_slow=0.5 * threshold ** 2)


def _net(h_pxn, q_p, steps_p, opts: SlowPointOptions, state_size: int):
    """Thin the slow states to a net (module doc), at most max_points; returns points, q, steps, counts."""
    if len(h_pxn) == 0:
        return h_pxn.reshape(0, state_size), q_p, steps_p.astype(np.int64), np.zeros(0, np.int64)
    cap = default_max_points(state_size) if opts.max_points is None else opts.max_points
    tol = opts.spacing_rtol * max(float(np.median(np.linalg.norm(h_pxn, axis=1))), 1e-6)
    kept, labels = thin_to(h_pxn, q_p, tol, cap)
    counts = np.bincount(labels, minlength=len(kept)).astype(np.int64)
    return h_pxn[kept], q_p[kept], steps_p[kept].astype(np.int64), counts
