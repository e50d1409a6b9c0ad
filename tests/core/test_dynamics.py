"""Analytic Jacobians against finite differences for every cell, and linearization known answers."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from core.config import ModelConfig
from core.dynamics import (jacobian_input, jacobian_state, linearized_rollout, linearized_step,
                           one_step_linearization_error, step_and_jacobians)
from core.models import build_model

UNITS, EMBED = 5, 3


def tiny(cell: str, seed: int = 3):
    model = build_model(ModelConfig(cell=cell, units=UNITS, embed_dim=EMBED, vocab_size=10), seed=seed)
    with torch.no_grad():  # make the recurrence matter (default init is small) and biases nonzero
        for name, weight in model.live_weights().items():
            weight.copy_(torch.randn_like(weight) * (0.8 if name.startswith("w") else 0.5))
    return model


def random_states(model, batch: int, seed: int = 0) -> torch.Tensor:
    gen = torch.Generator().manual_seed(seed)
    h = torch.rand(batch, model.state_size, generator=gen, dtype=torch.float64) * 1.6 - 0.8
    if model.config.cell == "relu":
        h = h.abs() + 0.1
    if model.config.cell == "lstm":
        h[:, UNITS:] *= 3  # c is unbounded
    return h


def central_diff(fun, v: torch.Tensor, eps: float = 1e-6) -> torch.Tensor:
    """d fun / d v for one row v, by central differences: out x in."""
    cols = []
    for j in range(v.shape[0]):
        e = torch.zeros_like(v)
        e[j] = eps
        cols.append((fun(v + e) - fun(v - e)) / (2 * eps))
    return torch.stack(cols, dim=1)


@pytest.fixture
def model(cell):
    return tiny(cell)


def test_state_jacobian_matches_central_differences(model):
    w = model.weights(torch.float64)
    h = random_states(model, 4)
    x = torch.randn(4, EMBED, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    jac = jacobian_state(model, h, x, w)
    assert jac.shape == (4, model.state_size, model.state_size) and jac.dtype == torch.float64
    for b in range(4):
        fd = central_diff(lambda v: model.step(v[None], x[b:b + 1], w)[0], h[b])
        np.testing.assert_allclose(jac[b].numpy(), fd.numpy(), atol=1e-8)
    assert jac.abs().max() > 0.05  # a test that could not fail on all-zero Jacobians would be useless


def test_input_jacobian_matches_central_differences(model):
    w = model.weights(torch.float64)
    h = random_states(model, 3, seed=5)
    x = torch.randn(3, EMBED, dtype=torch.float64, generator=torch.Generator().manual_seed(2))
    jac_in = jacobian_input(model, h, x, w)
    assert jac_in.shape == (3, model.state_size, EMBED)
    for b in range(3):
        fd = central_diff(lambda v: model.step(h[b:b + 1], v[None], w)[0], x[b])
        np.testing.assert_allclose(jac_in[b].numpy(), fd.numpy(), atol=1e-8)
    assert jac_in.abs().max() > 0.05


def test_step_value_shared_input_and_float32(model):
    w = model.weights(torch.float64)
    h = random_states(model, 6)
    x_e = torch.randn(EMBED, dtype=torch.float64)
    f, jac, jin = step_and_jacobians(model, h, x_e, w, want_input=True)
    np.testing.assert_allclose(f.numpy(), model.step(h, x_e.expand(6, -1), w).numpy(), atol=1e-14)
    np.testing.assert_allclose(jac.numpy(), jacobian_state(model, h, x_e.expand(6, -1), w).numpy(), atol=1e-14)
    np.testing.assert_allclose(jin.numpy(), jacobian_input(model, h, x_e.expand(6, -1), w).numpy(), atol=1e-14)
    jac32 = jacobian_state(model, h.float(), x_e.float())  # weights=None: dtype of h
    assert jac32.dtype == torch.float32
    np.testing.assert_allclose(jac32.numpy(), jac.numpy(), atol=1e-5)


def test_known_answers_zero_recurrence_and_linear_region():
    # tanh RNN with W_h = 0: F = tanh(W_x x + b) does not depend on h, so dF/dh = 0 exactly
    model = tiny("tanh")
    w = model.weights(torch.float64)
    w["w_h"].zero_()
    h = random_states(model, 3)
    assert jacobian_state(model, h, None, w).abs().max() == 0
    pre = w["b_x"] + w["b_h"]
    expected = (1 - torch.tanh(pre) ** 2)[:, None] * w["w_x"]
    np.testing.assert_allclose(jacobian_input(model, h, None, w)[0].numpy(), expected.numpy(), atol=1e-15)
    # GRU with all weights zero: r = z = 1/2, n = 0, F = h / 2, so dF/dh = I / 2
    gru = tiny("gru")
    wg = {k: torch.zeros_like(v) for k, v in gru.weights(torch.float64).items()}
    np.testing.assert_allclose(jacobian_state(gru, random_states(gru, 2), None, wg).numpy(),
                               np.broadcast_to(0.5 * np.eye(UNITS), (2, UNITS, UNITS)), atol=1e-15)
    # ReLU RNN where every pre-activation is positive is the linear map A h + B x + b
    relu = tiny("relu")
    wr = relu.weights(torch.float64)
    wr["w_h"].copy_(wr["w_h"].abs() * 0.1)
    wr["w_x"].copy_(wr["w_x"].abs())
    wr["b_h"].fill_(2.0)
    h = random_states(relu, 3)
    np.testing.assert_array_equal(jacobian_state(relu, h, None, wr).numpy()[1], wr["w_h"].numpy())
    np.testing.assert_array_equal(jacobian_input(relu, h, None, wr).numpy()[2], wr["w_x"].numpy())


def linear_relu_model():
    """ReLU RNN inside its linear region: F(h, x) = A h + B x + b, fixed point (I - A)^-1 b."""
    model = tiny("relu", seed=7)
    with torch.no_grad():
        lw = model.live_weights()
        lw["w_h"].copy_(lw["w_h"].abs() * 0.15)
        lw["w_x"].copy_(lw["w_x"].abs() * 0.2)
        lw["b_x"].fill_(1.0)
        lw["b_h"].fill_(0.5)
    w = model.weights(torch.float64)
    h_star = torch.linalg.solve(torch.eye(UNITS, dtype=torch.float64) - w["w_h"], w["b_x"] + w["b_h"])
    return model, w, h_star


def test_linearization_is_exact_for_a_linear_rnn():
    model, w, h_star = linear_relu_model()
    x_star = torch.zeros(EMBED, dtype=torch.float64)
    f_star, jac, jin = step_and_jacobians(model, h_star, x_star, w, want_input=True)
    np.testing.assert_allclose(f_star[0].numpy(), h_star.numpy(), atol=1e-13)
    h = h_star + 0.3 * torch.rand(7, UNITS, dtype=torch.float64)
    x = torch.rand(7, EMBED, dtype=torch.float64)
    pred = linearized_step(h_star, jac[0], jin[0], x_star, h, x)
    np.testing.assert_allclose(pred.numpy(), model.step(h, x, w).numpy(), atol=1e-13)
    # rollout: t steps of the linear model equal t steps of the model itself
    x_bxtxe = torch.rand(2, 6, EMBED, dtype=torch.float64)
    roll = linearized_rollout(h_star, jac[0], jin[0], x_star, h[:2], x_bxtxe)
    state, true = h[:2], []
    for t in range(6):
        state = model.step(state, x_bxtxe[:, t], w)
        true.append(state)
    np.testing.assert_allclose(roll.numpy(), torch.stack(true, 1).numpy(), atol=1e-12)
    one = linearized_rollout(h_star.numpy(), jac[0].numpy(), jin[0].numpy(), x_star.numpy(),
                             h[0].numpy(), x_bxtxe[0].numpy())  # numpy, unbatched
    assert one.shape == (6, UNITS)
    np.testing.assert_allclose(one, roll[0].numpy(), atol=1e-12)
    err = one_step_linearization_error(model, h.numpy(), x.numpy(), h_star[None].numpy())
    assert err.shape == (7,) and err.max() < 1e-10


def test_linearization_error_is_second_order_for_gru():
    model = tiny("gru", seed=11)
    with torch.no_grad():  # shrink the weights so forward iteration contracts to a fixed point
        for weight in model.live_weights().values():
            weight.mul_(0.3)
    w = model.weights(torch.float64)
    h = torch.zeros(1, UNITS, dtype=torch.float64)
    for _ in range(300):
        h = model.step(h, torch.zeros(1, EMBED, dtype=torch.float64), w)
    h_star = h.numpy()
    direction = np.random.default_rng(0).standard_normal((1, UNITS))
    x_zero = np.zeros((1, EMBED))
    errs = []
    for scale in (1e-2, 1e-3):
        err, nearest = one_step_linearization_error(model, h_star + scale * direction, x_zero,
                                                    np.vstack([h_star, h_star + 5.0]), return_nearest=True)
        assert nearest[0] == 0
        errs.append(err[0])
    assert errs[0] < 0.05
    assert 5 < errs[0] / errs[1] < 20  # relative error shrinks linearly: the miss is O(dh^2)
