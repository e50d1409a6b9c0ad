import numpy as np
import pytest
import torch

from core.config import ModelConfig
from core.models import build_model
from core.text import Vocab
from core.words import project_deflections, word_deflections, word_log_odds


def _model(cell):
    return build_model(ModelConfig(cell=cell, units=8, embed_dim=4, vocab_size=20, num_classes=3), seed=1)


def test_deflections_vanilla_tanh_with_zero_recurrence():
    model = _model("tanh")
    with torch.no_grad():
        model.rnn.weight_hh_l0.zero_()
    rng = np.random.default_rng(0)
    xstar = rng.uniform(-0.9, 0.9, size=(3, 8))
    words = np.array([2, 5, 7, 19])
    dh = word_deflections(model, xstar, words)
    assert dh.shape == (3, 4, 8) and dh.dtype == np.float64
    emb = model.embedding.weight.detach().double().numpy()[words]
    w_x = model.rnn.weight_ih_l0.detach().double().numpy()
    bias = model.rnn.bias_ih_l0.detach().double().numpy() + model.rnn.bias_hh_l0.detach().double().numpy()
    expected = np.tanh(emb @ w_x.T + bias)[None] - xstar[:, None]
    np.testing.assert_allclose(dh, expected, atol=1e-12)


def test_deflections_match_single_steps(cell):
    model = _model(cell)
    rng = np.random.default_rng(1)
    xstar = rng.uniform(-0.5, 0.5, size=(4, model.state_size))
    words = np.array([3, 0, 11, 3, 17])
    # a tiny max_batch forces several chunks
    dh = word_deflections(model, xstar, words, max_batch=6)
    assert dh.shape == (4, 5, model.state_size)
    weights = model.weights(torch.float64)
    for i in range(4):
        for j, word in enumerate(words):
            h = torch.tensor(xstar[i:i + 1])
            x = model.embed(torch.tensor([word])).double()
            one = (model.step(h, x, weights=weights) - h).detach().numpy()[0]
            np.testing.assert_allclose(dh[i, j], one, atol=1e-12)
    assert not np.allclose(dh[0], dh[1])  # points differ, so their kicks do


def test_deflections_reject_bad_shapes():
    model = _model("gru")
    with pytest.raises(ValueError):
        word_deflections(model, np.zeros((2, 7)), [1, 2])
    with pytest.raises(ValueError):
        word_deflections(model, np.zeros((2, 8)), [1, 20])
    assert word_deflections(model, np.zeros((2, 8)), []).shape == (2, 0, 8)


def test_project_deflections_lstm_padding_and_eigenvectors():
    rng = np.random.default_rng(2)
    units, n = 4, 8
    dh_wxn = rng.normal(size=(6, n))
    readout = rng.normal(size=(3, units))
    on_readout, on_left = project_deflections(dh_wxn, readout, None)
    unit = readout / np.linalg.norm(readout, axis=1, keepdims=True)
    np.testing.assert_allclose(on_readout, dh_wxn[:, :units] @ unit.T, atol=1e-12)
    assert on_left is None
    logits, _ = project_deflections(dh_wxn, readout, normalize_readout=False)
    np.testing.assert_allclose(logits, dh_wxn[:, :units] @ readout.T, atol=1e-12)
    # left eigenvectors of a diagonalizable J recover the mode amplitudes of dh
    jac = rng.normal(size=(n, n))
    eigvals, right = np.linalg.eig(jac)
    left = np.linalg.inv(right).T  # columns l_i with l_i^T J = lambda_i l_i^T and l_i^T r_j = delta_ij
    np.testing.assert_allclose(left.T @ jac, eigvals[:, None] * left.T, atol=1e-9)
    coeffs = rng.normal(size=(6, n))
    dh_modes = coeffs @ right.T  # sum_i coeffs_i r_i (complex pairs included)
    _, amps = project_deflections(dh_modes, readout, left)
    np.testing.assert_allclose(amps, coeffs, atol=1e-9)
    # batched over fixed points too
    on_pxw, _ = project_deflections(rng.normal(size=(2, 6, n)), readout)
    assert on_pxw.shape == (2, 6, 3)
    with pytest.raises(ValueError):
        project_deflections(dh_wxn, readout, np.zeros((n - 1, 2)))


def _vocab():
    return Vocab(("<pad>", "<unk>", "good", "bad", "the", "okay", "never"))


def test_log_odds_binary_signs():
    docs = [["good", "the"], ["good", "good", "the"], ["bad", "the"], ["bad", "the", "okay"], ["okay", "zzz"]]
    labels = np.array([1, 1, 0, 0, 1])
    vocab = _vocab()
    lo = word_log_odds(docs, labels, vocab, num_classes=2)
    assert lo.shape == (len(vocab), 2)
    good, bad, okay = (vocab.index(w) for w in ("good", "bad", "okay"))
    assert lo[good, 1] > 0 > lo[bad, 1]
    assert lo[good, 1] > abs(lo[vocab.index("the"), 1])
    np.testing.assert_allclose(lo[:, 0], -lo[:, 1], atol=1e-12)
    assert lo[vocab.index("never")].tolist() == [0.0, 0.0]  # never seen
    assert lo[vocab.index("<pad>")].tolist() == [0.0, 0.0]
    assert lo[vocab.index("<unk>"), 1] > 0  # "zzz" only in a positive document
    # known value: good is 3 of the 7 tokens in positive documents and 0 of the 5 in negative ones
    v = len(vocab)
    expected = np.log((3 + 1) / (7 + v)) - np.log((0 + 1) / (5 + v))
    assert lo[good, 1] == pytest.approx(expected)


def test_log_odds_multiclass_one_vs_rest_and_multilabel():
    vocab = _vocab()
    docs = [["good", "the"], ["bad", "the"], ["okay", "the"], ["okay", "okay"]]
    lo = word_log_odds(docs, np.array([0, 1, 2, 2]), vocab, num_classes=3)
    okay = vocab.index("okay")
    assert lo[okay, 2] > 0 and lo[okay, 0] < 0 and lo[okay, 1] < 0
    assert lo[vocab.index("good"), 0] > 0 and lo[vocab.index("good"), 2] < 0
    multi = np.array([[1, 0, 0], [0, 1, 0], [0, 0, 1], [1, 0, 1]], dtype=np.float32)
    lo_multi = word_log_odds(docs, multi, vocab, num_classes=3)
    assert lo_multi[okay, 2] > 0
    with pytest.raises(ValueError):
        word_log_odds(docs, np.array([0, 1, 3, 2]), vocab, num_classes=3)
    with pytest.raises(ValueError):
        word_log_odds(docs, np.array([0, 1]), vocab, num_classes=3)
