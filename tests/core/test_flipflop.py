"""The 3-bit flip-flop: the task's rule by hand, and the fixed-point solver on a GRU trained on it in the
test, against the known answer (long zero-input relaxation from each memory, then Newton polish)."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from core.fixed_points import find_fixed_points
from core.tasks.flipflop import flipflop_batch, flipflop_targets, memory_ids, train_flipflop


def test_flipflop_rule_by_hand():
    ids = np.array([[0, 1, 0, 4, 2, 0, 5, 6, 0]])  # +bit0, -bit1, -bit0, +bit2, -bit2
    expected = [[0, 0, 0], [1, 0, 0], [1, 0, 0], [1, -1, 0], [-1, -1, 0], [-1, -1, 0], [-1, -1, 1], [-1, -1, -1],
                [-1, -1, -1]]
    np.testing.assert_array_equal(flipflop_targets(ids)[0], expected)
    batch = flipflop_batch(np.random.default_rng(0), 64, 200)
    assert batch.shape == (64, 200) and set(np.unique(batch)) <= set(range(7))
    assert 0.05 < np.mean(batch > 0) < 0.25  # sparse pulses, three channels at 5% each
    mem = memory_ids()
    assert mem.shape == (8, 23) and len({tuple(np.sign(flipflop_targets(m[None])[0, -1])) for m in mem}) == 8


def _newton_polish(model, h_bxn, steps=30):
    """Plain float64 Newton on F(h) - h with autograd Jacobians (independent of core.fixed_points)."""
    w, x = model.weights(torch.float64), torch.zeros(1, 3, dtype=torch.float64)
    out = []
    for h in h_bxn:
        for _ in range(steps):
            r = model.step(h[None], x, w)[0] - h
            if r.norm() < 1e-14:
                break
            jac = torch.autograd.functional.jacobian(lambda v: model.step(v[None], x, w)[0] - v, h)
            h = h - torch.linalg.solve(jac, r)
        out.append(h)
    return torch.stack(out)


@pytest.fixture(scope="module")
def flipflop():
    torch.manual_seed(0)
    model, mse = train_flipflop(units=16, seed=0)
    w, x = model.weights(torch.float64), torch.zeros(1, 3, dtype=torch.float64)
    with torch.no_grad():
        h = model.run(torch.from_numpy(memory_ids()))[:, -1].double()
        for _ in range(3000):  # long relaxation: a memory that is only a slow point slides off here
            h = model.step(h, x, w)
    attractors = _newton_polish(model, h)
    ids = flipflop_batch(np.random.default_rng(5), 64, 100)
    with torch.no_grad():
        visited = model.run(torch.from_numpy(ids)).reshape(-1, model.state_size).double().numpy()
    inits = visited[np.random.default_rng(0).integers(0, len(visited), 1024)]
    return model, mse, attractors.detach().numpy(), inits, find_fixed_points(model, inits)


def test_stable_fixed_points_are_the_relaxed_memories(flipflop):
    model, mse, attractors, inits, fps = flipflop
    assert mse < 0.05  # it learned the task
    distinct = attractors[np.unique(np.round(attractors, 6), axis=0, return_index=True)[1]]
    stable = fps.xstar_pxn[fps.is_converged_p & fps.is_stable_p]
    dist = np.linalg.norm(stable[:, None] - distinct[None], axis=2)
    assert len(stable) == len(distinct) >= 6
    assert (dist.min(axis=0) < 1e-8).all() and (dist.min(axis=1) < 1e-8).all()  # the same set, both ways


def test_every_init_is_converged_or_honestly_slow_and_nothing_spurious_converges(flipflop):
    model, _, _, inits, fps = flipflop
    assert fps.frac_converged + fps.frac_slow >= 0.95 and fps.n_spurious == 0
    w = model.weights(torch.float64)
    conv = torch.from_numpy(fps.xstar_pxn[fps.is_converged_p])
    resid = model.step(conv, torch.zeros(1, 3, dtype=torch.float64), w) - conv
    assert resid.abs().max() < 1e-10 and (conv.abs() < 1).all()  # true fixed points, inside the box
    slow = fps.qstar_p[fps.is_slow_p]
    assert (slow < fps.q_slow).all() and fps.is_in_box_p[fps.is_slow_p].all()
    assert fps.counts_p.sum() == len(inits)
