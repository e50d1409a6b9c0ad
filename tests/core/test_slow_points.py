"""Slow points, the line through them and the D1 / D4 linearization errors: known answers on hand-built
models (a line attractor, a linear RNN), thinning, and the compact storage in analysis.npz."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from core import store
from core.analysis_view import Analysis
from core.config import ModelConfig
from core.dynamics import one_step_errors
from core.fixed_points import deduplicate
from core.fixed_points.dedup import thin
from core.fixed_points.slow_points import SlowPointOptions, default_max_points, find_slow_points
from core.models import build_model
from core.slow_line import line_order, line_profile, readout_basis
from tests.conftest import TINY_RUN_ID


def blank(cell: str, units: int, embed: int = 2, seed: int = 0):
    model = build_model(ModelConfig(cell=cell, units=units, embed_dim=embed, vocab_size=10), seed=seed)
    with torch.no_grad():
        for weight in model.live_weights().values():
            weight.zero_()
    return model, model.live_weights()


def line_attractor(c: float = 0.4):
    """h' = relu(diag(1, 0.5) h + (0, c)): every (s, 2c) with s >= 0 is fixed; off the line y relaxes to 2c."""
    model, lw = blank("relu", units=2)
    with torch.no_grad():
        lw["w_h"].copy_(torch.tensor([[1.0, 0.0], [0.0, 0.5]]))
        lw["b_h"].copy_(torch.tensor([0.0, c]))
    return model


def test_a_line_attractor_gives_slow_points_along_the_line_and_none_off_it():
    c, kick = 0.4, 1.0
    model = line_attractor(c)
    rng = np.random.default_rng(0)
    inits = np.stack([rng.uniform(0.0, 4.0, 400), rng.uniform(0.0, 3.0, 400)], 1)
    sp = find_slow_points(model, inits, kick, speed_frac=0.01, spacing_rtol=0.02, max_points=400)
    assert sp.frac_slow == 1.0 and sp.n_points > 20 and sp.counts_p.sum() == 400
    # slow means speed |F(h) - h| = 0.5 |y - 2c| < 1% of the kick: within 0.02 of the line
    assert np.abs(sp.xstar_pxn[:, 1] - 2 * c).max() < 2 * 0.01 * kick
    assert sp.xstar_pxn[:, 0].min() < 0.2 and sp.xstar_pxn[:, 0].max() > 3.8  # along the whole line
    gaps = np.diff(np.sort(sp.xstar_pxn[:, 0]))
    assert gaps.max() < 0.2  # dense: no stretch of the line left out
    assert sp.is_slow_p.all() and not sp.is_converged_p.any() and (sp.qstar_p < sp.q_slow).all()
    np.testing.assert_allclose(np.abs(sp.eigvals_pxn), np.tile([1.0, 0.5], (sp.n_points, 1)), atol=1e-12)
    readout = np.array([[-1.0, 0.0], [1.0, 0.0]])  # the readout reads position along the line
    sp = sp.take(line_order(sp.xstar_pxn, readout))
    line = line_profile(sp, readout, inits)
    assert (np.diff(line.position_p) >= 0).all() and np.all(np.diff(sp.xstar_pxn[:, 0]) >= 0)
    assert line.explained_ratio > 0.999 and line.readout_cos == pytest.approx(1.0, abs=1e-4)
    np.testing.assert_allclose(line.top_eig_p, 1.0, atol=1e-12)
    assert np.isinf(line.tau_p).all()
    np.testing.assert_allclose(line.cos_line_p, 1.0, atol=1e-3)     # the slow mode runs along the line
    np.testing.assert_allclose(line.cos_readout_p, 1.0, atol=1e-12)  # ... and along the readout
    assert line.readout_span == pytest.approx(np.ptp(sp.xstar_pxn[:, 0]) / np.ptp(np.percentile(inits[:, 0], [5, 95])))


def test_thinning_keeps_points_spaced_along_a_line_and_merges_copies():
    rng = np.random.default_rng(1)
    sites = np.stack([np.arange(10.0), np.zeros(10), np.zeros(10)], 1)  # a line, spacing 1
    points = np.repeat(sites, 5, axis=0) + 1e-6 * rng.standard_normal((50, 3))
    q = rng.uniform(1e-8, 1e-6, 50)
    kept, labels = thin(points, q, tol=0.5)
    assert len(kept) == 10 and np.bincount(labels).tolist() == [5] * 10
    for k, i in enumerate(kept):  # each site is represented by its slowest copy, and holds only its own copies
        members = np.flatnonzero(labels == k)
        assert len({tuple(np.round(points[m])) for m in members}) == 1 and i == members[np.argmin(q[members])]
    dense = np.stack([np.linspace(0, 9, 91), np.zeros(91)], 1)  # spacing 0.1 < tol: a net, not one cluster
    kept, _ = thin(dense, np.zeros(91), tol=0.5)
    assert 9 <= len(kept) <= 19 and np.diff(np.sort(dense[kept, 0])).min() > 0.5 - 1e-9  # > tol, up to rounding
    assert len(deduplicate(dense, np.zeros(91), 0.5)[0]) == 1  # single linkage would chain the line into one
    assert thin(np.zeros((0, 3)), np.zeros(0), 1.0)[0].shape == (0,)


def test_a_linear_rnn_linearizes_exactly():
    """ReLU RNN whose pre-activations stay positive is F(h, x) = A h + B x + b: D1 = D4 = 0 to rounding."""
    n, e = 5, 3
    model, lw = blank("relu", units=n, embed=e)
    rng = np.random.default_rng(2)
    with torch.no_grad():
        lw["w_h"].copy_(torch.from_numpy(rng.uniform(0, 0.3, (n, n))))
        lw["w_x"].copy_(torch.from_numpy(rng.standard_normal((n, e))))
        lw["b_h"].fill_(8.0)
    states = rng.uniform(0, 3, (200, n))
    inputs = rng.uniform(-1, 1, (200, e))
    points = rng.uniform(0, 3, (7, n))
    errs = one_step_errors(model, states, inputs, points)
    assert errs.kick_t.min() > 0.1
    assert errs.d1_t.max() < 1e-13 and errs.d4_t.max() < 1e-13
    np.testing.assert_allclose(errs.distance_t, np.linalg.norm(states - points[errs.nearest_t], axis=1))


def test_d1_and_d4_match_their_definitions_with_explicit_jacobians(tiny_model, cell):
    model = tiny_model(cell, units=4, embed_dim=3)
    rng = np.random.default_rng(3)
    n = model.state_size
    states, inputs, points = rng.uniform(-0.8, 0.8, (6, n)), rng.standard_normal((6, 3)), rng.uniform(-0.8, 0.8, (4, n))
    errs = one_step_errors(model, states, inputs, points)
    w = model.weights(torch.float64)

    def step(h, x):
        return model.step(torch.as_tensor(h)[None], torch.as_tensor(x)[None], w)[0]

    for t in range(6):
        hs, h, x = (torch.from_numpy(v) for v in (points[errs.nearest_t[t]], states[t], inputs[t]))
        zero = torch.zeros(3, dtype=torch.float64)
        j_h0, j_x0 = torch.autograd.functional.jacobian(step, (hs, zero))
        j_hx = torch.autograd.functional.jacobian(lambda v: step(v, x), hs)
        f = step(h, x)
        kick = (f - h).norm()
        d1 = (step(hs, zero) + j_h0 @ (h - hs) + j_x0 @ x - f).norm() / kick
        d4 = (step(hs, x) + j_hx @ (h - hs) - f).norm() / kick
        assert errs.d1_t[t] == pytest.approx(float(d1), rel=1e-10) and errs.d4_t[t] == pytest.approx(float(d4), rel=1e-10)
        assert errs.nearest_t[t] == int(np.argmin(np.linalg.norm(points - states[t], axis=1)))


def test_slow_points_on_a_trained_model_are_stored_compactly_and_read_back(analyzed_store):
    a = store.load(TINY_RUN_ID, analyzed_store).analysis
    sp, line, lin = a.slow_points, a.slow_line, a.slow_linearization
    assert sp is not None and line is not None and lin is not None and sp.n_points >= 2
    assert sp.xstar_pxn.dtype == np.float32 and sp.eigvals_pxn.dtype == np.complex64
    assert sp.is_slow_p.all() and (sp.qstar_p < sp.q_slow).all() and sp.n_points <= default_max_points(12)
    assert line.xyz_px3.shape == (sp.n_points, 3) and (np.diff(line.position_p) >= 0).all()
    np.testing.assert_allclose(line.tau_p, sp.tau_pxm[:, 0], rtol=1e-6)
    assert 0 < lin.d4_median and np.isfinite(lin.d1_median) and lin.bin_count_b.sum() == lin.n_tokens
    assert (np.diff(lin.bin_kick_b) >= 0).all() and len(lin.d1_sample_s) == min(lin.n_tokens, 5000)
    missing = Analysis.from_arrays({k: v for k, v in a.arrays.items() if not k.startswith(("sp_", "line_", "slowlin_"))})
    assert missing.slow_points is None and missing.slow_line is None and missing.slow_linearization is None
    assert missing.fixed_points is not None and missing.linearization is not None


def test_options_and_the_point_budget():
    model = line_attractor()
    inits = np.stack([np.linspace(0, 4, 300), np.full(300, 2.0)], 1)
    few = find_slow_points(model, inits, 1.0, options=SlowPointOptions(max_points=12, spacing_rtol=0.001))
    assert few.n_points <= 12 and few.counts_p.sum() == 300
    assert np.diff(np.sort(few.xstar_pxn[:, 0])).min() > 0.2  # widened spacing keeps the spread, not a corner
    never = find_slow_points(model, inits, 1.0, max_steps=2)  # y needs ~7 halvings to get within 1%
    assert never.n_points == 0 and never.frac_slow == 0.0 and never.eigvals_pxn.shape == (0, 2)
    assert default_max_points(128) == 200 and default_max_points(256) == 50
    assert readout_basis(np.array([[1.0, 0.0], [0.0, 1.0], [0.0, 0.0]])).shape == (2, 2)


def test_held_out_states_read_the_validation_split_when_asked(tiny_bundle):
    """Choices (such as TrainConfig.input_penalty) are made on validation texts: that sample holds exactly the
    validation split's texts, not the test split's the analysis reports on."""
    from core.analysis import held_out_states
    from core.tasks import encode_split, load_task

    data = load_task(tiny_bundle.config.task)
    for validation, split in ((True, data.val), (False, data.test)):  # (asking for more texts than the test split
        ids, lengths, states, visited, finals = held_out_states(  # has would add the validation ones to it)
            tiny_bundle, np.random.default_rng(0), len(split), validation=validation)
        enc = encode_split(split, tiny_bundle.vocab)
        rows = {tuple(r[:n]) for r, n in zip(enc.ids_bxt.tolist(), enc.lengths_b.tolist())}
        assert len(lengths) == len(split) and {tuple(r[:n]) for r, n in zip(ids.tolist(), lengths.tolist())} == rows
        assert len(visited) == lengths.sum() and len(finals) == len(lengths) == len(states)
