"""The small statistics behind the Words, Decomposition and Compare pages (core.words, core.summary)."""
from __future__ import annotations

import numpy as np
import pytest

from core.summary import model_summary, off_diagonal_range
from core.words import (deflection_log_odds_correlation, favoured_class, favoured_class_of, frequent_words,
                        readout_contrast)


def test_correlation_known_answers():
    x = np.array([1.0, 2.0, 3.0, 4.0])
    assert deflection_log_odds_correlation(x, 2 * x + 1) == pytest.approx(1.0)
    assert deflection_log_odds_correlation(x, -x) == pytest.approx(-1.0)
    assert deflection_log_odds_correlation([1, 2, 3, 4], [1, -1, -1, 1]) == pytest.approx(0.0)
    np.testing.assert_allclose(deflection_log_odds_correlation(x, x ** 3), np.corrcoef(x, x ** 3)[0, 1])


def test_correlation_skips_non_finite_and_degenerate_inputs():
    assert deflection_log_odds_correlation([1, 2, np.nan, 3], [2, 4, 0, 6]) == pytest.approx(1.0)
    assert np.isnan(deflection_log_odds_correlation([1, 1, 1], [1, 2, 3]))
    assert np.isnan(deflection_log_odds_correlation([1, 2], [1, 2]))
    with pytest.raises(ValueError):
        deflection_log_odds_correlation([1, 2, 3], [1, 2])


def test_readout_contrast_binary_is_positive_minus_negative():
    proj = np.array([[0.1, 0.5], [0.4, -0.2]])
    odds = np.array([[-1.0, 1.0], [2.0, -2.0]])
    d, o = readout_contrast(proj, odds)
    np.testing.assert_allclose(d[:, 0], [0.4, -0.6])
    np.testing.assert_allclose(o[:, 0], [1.0, -2.0])


def test_readout_contrast_multiclass_removes_the_shared_shift():
    proj = np.array([[1.0, 2.0, 3.0], [5.0, 5.0, 5.0]])
    d, o = readout_contrast(proj, np.zeros((2, 3)))
    np.testing.assert_allclose(d, [[-1.0, 0.0, 1.0], [0.0, 0.0, 0.0]])
    assert o.shape == (2, 3)


def test_favoured_class_and_lookup():
    odds = np.array([[0.1, 0.2], [1.0, -1.0], [-0.9, 0.9], [0.0, 0.0]])
    np.testing.assert_array_equal(favoured_class(odds, 0.3), [-1, 0, 1, -1])
    np.testing.assert_array_equal(favoured_class_of([7, 5, 99], [4, 5, 6, 7], odds, 0.3), [-1, 0, -1])


def test_frequent_words_skip_pad_unk_unseen_and_keep_order_on_ties():
    ids = np.array([0, 1, 2, 3, 4, 5])
    counts = np.array([100, 90, 5, 7, 7, 0])
    np.testing.assert_array_equal(frequent_words(ids, counts, 3), [3, 4, 2])
    np.testing.assert_array_equal(frequent_words(ids, counts, 3, only_ids=[2, 4]), [4, 2])
    assert frequent_words(ids, counts, 0).size == 0


def test_off_diagonal_range():
    angles = np.array([[0.0, 100.0, 130.0], [100.0, 0.0, 120.0], [130.0, 120.0, 0.0]])
    assert off_diagonal_range(angles) == (100.0, 130.0)
    assert all(np.isnan(off_diagonal_range(np.zeros((1, 1)))))


def test_model_summary_of_the_analyzed_tiny_model(analyzed_store):
    from core import store
    from tests.conftest import TINY_RUN_ID

    summary = model_summary(store.load(TINY_RUN_ID, analyzed_store))
    assert summary.cell == "gru" and summary.units == 12 and summary.num_classes == 2
    assert 0.0 <= summary.final_var_top <= 1.0 and summary.final_dims90 >= 1
    assert summary.n_fixed_points >= 1 and 0 <= summary.n_stable <= summary.n_fixed_points
    assert summary.simplex_angle == pytest.approx(180.0)
    assert summary.angle_min == summary.angle_max == pytest.approx(180.0, abs=1e-3)
    assert np.isfinite(summary.lin_err_median) and 0 <= summary.test_accuracy <= 1
