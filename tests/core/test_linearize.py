"""core.linearize: full vs linearized trajectory of one text, with known answers on simple RNNs."""
from __future__ import annotations

import dataclasses

import numpy as np
import torch

from core.fixed_points import find_fixed_points
from core.linearize import expansion_point, linearize_text

IDS = np.array([2, 5, 3, 7, 4, 2, 6, 9, 3, 8])


def _fixed_points(model, seed: int = 0):
    rng = np.random.default_rng(seed)
    inits = rng.uniform(-0.5, 0.5, (16, model.state_size))
    return find_fixed_points(model, inits, seed=seed)


def _tanh_without_recurrence(tiny_model, input_scale: float):
    """F(h, x) = tanh(W_x x + b): the state is forgotten each step, so F is linear in x to first order."""
    model = tiny_model("tanh", units=6, embed_dim=4, vocab_size=12)
    with torch.no_grad():
        model.rnn.weight_hh_l0.zero_()
        model.embedding.weight.mul_(input_scale)
    return model


def test_zero_recurrence_one_step_error_vanishes_with_the_inputs(tiny_model):
    medians = []
    for scale in (1e-1, 1e-2, 1e-3):
        model = _tanh_without_recurrence(tiny_model, scale)
        result = linearize_text(model, IDS, _fixed_points(model))
        medians.append(float(np.median(result.one_step_err_t)))
    # the miss is second order in x while the true step is first order: the ratio shrinks like the inputs
    assert medians[1] < medians[0] / 5 and medians[2] < medians[1] / 5
    assert medians[2] < 1e-2


def test_zero_recurrence_rollout_matches_the_network_to_first_order(tiny_model):
    model = _tanh_without_recurrence(tiny_model, 1e-2)
    fps = _fixed_points(model)
    full, lin, _, anchor = linearize_text(model, IDS, fps)
    xstar = fps.xstar_pxn[anchor]
    # with W_h = 0 the only fixed point is tanh(b), and every state is within O(|x|) of it
    np.testing.assert_allclose(xstar, np.tanh((model.rnn.bias_ih_l0 + model.rnn.bias_hh_l0).detach().numpy()),
                               atol=1e-6)
    move = np.abs(full - xstar).max()
    assert np.abs(lin - full).max() < 0.05 * move


def test_linear_regime_has_small_errors(tiny_model):
    """Weak recurrence and small inputs keep every state near the fixed point, where F is nearly linear."""
    model = tiny_model("tanh", units=6, embed_dim=4, vocab_size=12)
    with torch.no_grad():
        model.rnn.weight_hh_l0.mul_(0.3)
        model.embedding.weight.mul_(0.05)
    result = linearize_text(model, IDS, _fixed_points(model))
    assert np.median(result.one_step_err_t) < 0.05
    assert np.nanmax(np.abs(result.lin_txn - result.full_txn)) < 0.05


def test_strong_inputs_are_not_linear(tiny_model):
    """The error measure can fail: saturating inputs push tanh far from its linearization."""
    model = tiny_model("tanh", units=6, embed_dim=4, vocab_size=12)
    with torch.no_grad():
        model.embedding.weight.mul_(20.0)
    result = linearize_text(model, IDS, _fixed_points(model))
    assert np.median(result.one_step_err_t) > 0.2


def test_shapes_and_states_for_every_cell(tiny_model, cell):
    model = tiny_model(cell)
    fps = _fixed_points(model)
    result = linearize_text(model, IDS, fps)
    t, n = len(IDS), model.state_size
    assert result.full_txn.shape == (t, n) and result.lin_txn.shape == (t, n) and result.one_step_err_t.shape == (t,)
    assert 0 <= result.anchor_index < fps.n_points
    expected = model.run(torch.as_tensor(IDS)[None])[0].detach().numpy()
    np.testing.assert_allclose(result.full_txn, expected, atol=1e-6)
    assert np.isfinite(result.one_step_err_t).all()


def test_empty_text_and_no_fixed_points(tiny_model):
    model = tiny_model("gru")
    fps = _fixed_points(model)
    empty = linearize_text(model, [], fps)
    assert empty.full_txn.shape == (0, model.state_size) and empty.one_step_err_t.shape == (0,)
    no_points = dataclasses.replace(fps, **{f.name: getattr(fps, f.name)[:0]
                                            for f in dataclasses.fields(fps) if "_p" in f.name})
    assert no_points.n_points == 0
    none = linearize_text(model, IDS, no_points)
    assert none.anchor_index == -1 and np.isnan(none.lin_txn).all()


def test_expansion_point_prefers_converged_stable_points_near_the_mean():
    xstar = np.array([[0.0, 0.0], [1.0, 1.0], [1.1, 1.0], [5.0, 5.0]])
    states = np.array([[0.9, 1.0], [1.3, 1.0]])  # mean (1.1, 1.0)
    assert expansion_point(xstar, states) == 2
    assert expansion_point(xstar, states, is_stable_p=[True, True, False, True]) == 1
    assert expansion_point(xstar, states, is_converged_p=[True, False, False, True]) == 0
    assert expansion_point(np.zeros((0, 2)), states) == -1


def test_diverging_rollout_is_nan_not_inf(tiny_model):
    """Around the unstable origin of h -> tanh(3h + W_x x) the linear system grows like 3^t and overflows;
    the network itself saturates. The overflow must come back as NaN (a gap in a plot), not inf."""
    model = tiny_model("tanh", units=4, embed_dim=3, vocab_size=12)
    with torch.no_grad():
        model.rnn.weight_hh_l0.copy_(3.0 * torch.eye(4))
        model.rnn.bias_ih_l0.zero_()
        model.rnn.bias_hh_l0.zero_()
    fps = _fixed_points(model)  # the solver finds the saturated stable points; add the origin by hand
    fps = dataclasses.replace(fps, **{f.name: getattr(fps, f.name)[:1] for f in dataclasses.fields(fps)
                                      if "_p" in f.name})
    fps = dataclasses.replace(fps, xstar_pxn=np.zeros((1, 4)))
    result = linearize_text(model, np.tile(IDS, 80), fps)
    assert result.anchor_index == 0
    assert not np.isinf(result.lin_txn).any() and np.isnan(result.lin_txn[-1]).all()
    assert np.isfinite(result.full_txn).all()
