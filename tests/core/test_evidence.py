"""Token evidence: the change of the predicted class's log-odds, which does not saturate."""
from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from core.evidence import log_odds, token_evidence


def test_binary_evidence_is_the_change_of_the_logit_margin():
    z0 = np.array([0.0, 0.0])
    z_txk = np.array([[0.0, 1.0], [0.0, 5.0], [0.0, 9.0], [0.0, 8.5]])
    ev, toward, predicted = token_evidence(z_txk, z0)
    assert predicted == 1
    np.testing.assert_allclose(ev, [1.0, 4.0, 4.0, -0.5])
    np.testing.assert_array_equal(toward, [1, 1, 1, 0])


def test_a_decisive_word_near_certainty_still_registers():
    """p 0.993 -> 0.9999: log p moves by 0.007, the log-odds by 4.3 (the saturation the old measure had)."""
    z0 = np.zeros(2)
    z_txk = np.array([[0.0, 5.0], [0.0, 9.3]])
    ev, _, _ = token_evidence(z_txk, z0)
    p = 1 / (1 + np.exp(-z_txk[:, 1]))
    assert np.log(p[1]) - np.log(p[0]) < 0.01
    assert ev[1] > 4.0 and ev[1] / ev[0] > 0.8


def test_three_classes_use_logsumexp_of_the_others():
    z = np.array([[2.0, 0.0, -1.0]])
    odds = log_odds(z)
    np.testing.assert_allclose(odds[0, 0], 2.0 - np.log(np.exp(0.0) + np.exp(-1.0)))
    p = np.exp(z[0]) / np.exp(z[0]).sum()
    np.testing.assert_allclose(odds[0], np.log(p / (1 - p)))


def test_multilabel_log_odds_are_the_logits():
    z = np.array([[0.5, -2.0, 3.0]])
    np.testing.assert_array_equal(log_odds(z, multilabel=True), z)
    ev, _, predicted = token_evidence(z, np.zeros(3), multilabel=True)
    assert predicted == 2 and ev[0] == 3.0


def test_no_token_gives_no_evidence_and_the_initial_prediction():
    ev, toward, predicted = token_evidence(np.zeros((0, 3)), np.array([0.0, 2.0, 1.0]))
    assert ev.shape == (0,) and toward.shape == (0,) and predicted == 1


@settings(max_examples=60, deadline=None)
@given(arrays(np.float64, (6, 3), elements=st.floats(-30, 30)), arrays(np.float64, (3,), elements=st.floats(-30, 30)))
def test_evidence_sums_to_the_total_change_and_matches_probabilities(z_txk, z0_k):
    """Telescoping: the evidence adds up to the whole text's change of log-odds; the log-odds agree with
    log p/(1-p) computed from the softmax wherever that is representable."""
    ev, _, predicted = token_evidence(z_txk, z0_k)
    odds = log_odds(np.vstack([z0_k, z_txk]))[:, predicted]
    np.testing.assert_allclose(ev.sum(), odds[-1] - odds[0], atol=1e-9)
    p = np.exp(z_txk - z_txk.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    ok = (p[:, predicted] > 1e-6) & (p[:, predicted] < 1 - 1e-6)
    np.testing.assert_allclose(odds[1:][ok], np.log(p[ok, predicted] / (1 - p[ok, predicted])), atol=1e-6)
