"""Counterfactual edits (core.counterfactual): the real change by brute force, the linear prediction by
known answers (exact for a linear RNN, first order for a GRU)."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from core.counterfactual import counterfactual, edit_text, edited_tokens, swap_suggestions
from core.evidence import log_odds


def _linear_relu(tiny_model, num_classes=2):
    """A ReLU RNN whose pre-activations stay positive (non-negative weights and inputs, positive biases):
    ReLU is the identity on them, so the network is exactly linear."""
    model = tiny_model("relu", units=6, embed_dim=4, vocab_size=10, num_classes=num_classes)
    g = torch.Generator().manual_seed(1)
    with torch.no_grad():
        model.rnn.weight_ih_l0.copy_(torch.rand(6, 4, generator=g))
        model.rnn.weight_hh_l0.copy_(0.15 * torch.rand(6, 6, generator=g))
        model.rnn.bias_ih_l0.copy_(0.1 + torch.rand(6, generator=g))
        model.rnn.bias_hh_l0.zero_()
        model.embedding.weight.copy_(torch.rand(10, 4, generator=g))
    return model


def _embed(model, ids):
    with torch.no_grad():
        return model.embed(torch.as_tensor(ids)).to(torch.float64).numpy()


def _margins(model, x_txe, cls):
    """Brute force, independent of the code under test: the fused torch kernel on the inputs, then the log-odds."""
    with torch.no_grad():
        states, _ = model.cell.kernel(model)(torch.as_tensor(x_txe, dtype=torch.float32)[None])
        z = model.readout(states[0]).numpy()
    return log_odds(z)[:, cls]


@pytest.mark.parametrize("op", ["swap", "drop", "insert"])
def test_linear_rnn_prediction_is_exact(tiny_model, op):
    model = _linear_relu(tiny_model)
    x = _embed(model, [3, 5, 2, 7, 4, 6])
    cf = counterfactual(model, x, 2, op, _embed(model, [9])[0])
    assert cf.rel_error < 1e-10
    assert cf.state_rel_error < 1e-10
    np.testing.assert_allclose(cf.linear_delta_t, cf.real_delta_t, atol=1e-10)
    assert np.all(cf.real_delta_t[:2] == 0) and np.abs(cf.real_delta_t[2:]).max() > 1e-3


def test_real_change_matches_brute_force_runs(tiny_model):
    """The aligned edited log-odds are those of the edited text run from scratch, for each edit."""
    model = tiny_model("gru", num_classes=3, seed=2)
    ids = [3, 5, 2, 7, 4, 6, 1]
    x, new = _embed(model, ids), _embed(model, [9])[0]
    cases = {"swap": (np.concatenate([x[:3], new[None], x[4:]]), list(range(7))),
             "drop": (np.concatenate([x[:3], x[4:]]), None),
             "insert": (np.concatenate([x[:3], new[None], x[3:]]), [0, 1, 2, 4, 5, 6, 7])}
    for op, (edited_x, positions) in cases.items():
        cf = counterfactual(model, x, 3, op, new)
        original = _margins(model, x, cf.cls)
        edited = _margins(model, edited_x, cf.cls)
        if op == "drop":  # position 3 holds the state before token 3 (that of position 2)
            aligned = np.concatenate([edited[:3], edited[2:3], edited[3:]])
        else:
            aligned = edited[positions]
        np.testing.assert_allclose(cf.real_delta_t, aligned - original, atol=1e-5)
        np.testing.assert_allclose(cf.margin_t, original, atol=1e-5)
        assert cf.edited_states.shape[0] == len(edited_x)


def test_gru_tiny_swap_matches_to_first_order(tiny_model):
    model = tiny_model("gru", units=8, embed_dim=6, num_classes=2, seed=3)
    x = _embed(model, [3, 5, 2, 7, 4, 6, 8, 1])
    direction = np.random.default_rng(0).standard_normal(6)
    errors = []
    for eps in (1e-2, 1e-3, 1e-4):
        cf = counterfactual(model, x, 2, "swap", x[2] + eps * direction)
        errors.append(cf.rel_error)
    assert errors[-1] < 1e-3
    # first order: the error of the linear prediction shrinks in proportion to the change
    assert 5 < errors[0] / errors[1] < 20 and 5 < errors[1] / errors[2] < 20


def test_large_gru_swap_is_not_exact(tiny_model):
    """A test that could not fail would prove nothing: a big change of input leaves a visible error."""
    model = tiny_model("gru", units=8, embed_dim=6, num_classes=2, seed=3)
    x = _embed(model, [3, 5, 2, 7, 4, 6, 8, 1])
    cf = counterfactual(model, x, 1, "swap", x[1] + 5.0)
    assert cf.rel_error > 1e-3


def test_edge_positions_and_errors(tiny_model):
    model = tiny_model("lstm", num_classes=2)
    x = _embed(model, [3])
    cf = counterfactual(model, x, 0, "drop")
    np.testing.assert_allclose(cf.edited_probs_k, model.probabilities(model.readout(model.initial_state(1)))[0]
                               .detach().numpy(), atol=1e-6)
    assert cf.edited_states.shape == (0, model.state_size)
    with pytest.raises(ValueError):
        counterfactual(model, x, 1, "drop")
    with pytest.raises(ValueError):
        counterfactual(model, x, 0, "swap")
    with pytest.raises(ValueError):
        counterfactual(model, x, 0, "rotate", x[0])


def test_edited_tokens():
    toks = ["a", "good", "film"]
    assert edited_tokens(toks, "swap", 1, "bad") == ["a", "bad", "film"]
    assert edited_tokens(toks, "drop", 1) == ["a", "film"]
    assert edited_tokens(toks, "insert", 1, "not") == ["a", "not", "good", "film"]


def test_edit_text_reads_words_through_the_vocabulary(tiny_bundle):
    tokens = tiny_bundle.trajectory(tiny_bundle.default_example).tokens
    cf = edit_text(tiny_bundle, tokens, "insert", 0, "no-such-word-here")
    assert cf.edited_states.shape[0] == len(tokens) + 1
    direct = tiny_bundle.trajectory(" ".join(tokens))
    np.testing.assert_allclose(cf.probs_k, direct.probs_txk[-1], atol=1e-5)


def test_swap_suggestions_point_the_other_way():
    ids = np.array([5, 6, 7, 8, 9])
    proj = np.array([[0, 2.0], [0, -3.0], [0, -1.0], [0, -4.0], [0, -2.0]])  # column 1 minus column 0: toward class 1
    odds = np.array([[-1, 1.0], [1, -1.0], [1, -1.0], [-1, 1.0], [1, -1.0]])  # word 8 disagrees with its deflection
    assert swap_suggestions(5, 1, ids, proj, odds).tolist() == [6, 9, 7]
    assert swap_suggestions(6, 1, ids, proj, odds, n=1).tolist() == [9]
    assert swap_suggestions(6, 0, ids, proj, odds).tolist() == [5]  # the one word pushing toward class 1
    assert swap_suggestions(5, 5, ids, proj, odds).tolist() == []
