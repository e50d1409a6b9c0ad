"""Typed views of analysis.npz: every shipped analysis fills all of them from the unchanged file keys, a
view whose arrays are missing is None (pages say "not computed"), and the PCA and fixed points round-trip."""
from __future__ import annotations

import numpy as np
import pytest

from core import records, store
from core.analysis_view import (Analysis, AttractorView, DecompositionView, GeometryView, LinearizationView,
                                WordsView)
from core.config import repo_root
from tests.conftest import TINY_RUN_ID

VIEWS = {"attractor": (AttractorView, ""), "geometry": (GeometryView, ""),
         "linearization": (LinearizationView, "lin_"), "words": (WordsView, "word_"),
         "decomposition": (DecompositionView, "decomp_")}
SHIPPED = sorted(p.parent.name for p in (repo_root() / "models_store").glob("*/analysis.npz")
                 if store.bundle_kind(p.parent) == "classifier")  # sequence models have their own analysis


@pytest.fixture(scope="module")
def tiny_analysis(analyzed_store) -> Analysis:
    return store.load(TINY_RUN_ID, analyzed_store).analysis


@pytest.mark.parametrize("run_id", SHIPPED)
def test_every_shipped_analysis_fills_every_view(run_id):
    a = store.load(run_id, repo_root() / "models_store").analysis
    assert a.fixed_points is not None and all(getattr(a, name) is not None for name in VIEWS)
    assert isinstance(a.geometry.final_dims90, int) and isinstance(a.geometry.simplex_angle, float)
    assert a.geometry.relaxed_explained_ratio_c is not None and isinstance(a.words.anchor, int)
    assert a.attractor.fp_xyz_px3.shape == (a.fixed_points.n_points, 3)
    assert np.isfinite(a.wall_time_s)


@pytest.mark.parametrize("name", list(VIEWS))
def test_a_view_reads_exactly_the_stored_arrays(tiny_analysis, name):
    _, prefix = VIEWS[name]
    view = getattr(tiny_analysis, name)
    for key, value in records.to_arrays(view, prefix).items():
        np.testing.assert_array_equal(value, tiny_analysis.arrays[key])


@pytest.mark.parametrize("name, missing", [("words", "word_log_odds_wxk"), ("geometry", "final_explained_ratio_k"),
                                           ("attractor", "cloud_xyz_cx3"), ("linearization", "lin_err_median"),
                                           ("decomposition", "decomp_fractions_3")])
def test_a_view_without_its_arrays_is_none_and_the_others_stay(tiny_analysis, name, missing):
    arrays = {k: v for k, v in tiny_analysis.arrays.items() if k != missing}
    partial = Analysis.from_arrays(arrays)
    assert getattr(partial, name) is None
    assert all(getattr(partial, other) is not None for other in VIEWS if other != name)


def test_optional_fields_may_be_missing(tiny_analysis):
    optional = ("relaxed_explained_ratio_k", "lin_state_err_median")
    arrays = {k: v for k, v in tiny_analysis.arrays.items() if k not in optional}
    partial = Analysis.from_arrays(arrays)
    assert partial.geometry.relaxed_explained_ratio_c is None and partial.linearization.state_err_median is None
    assert partial.geometry.final_counts_bxk is not None  # the tiny task is synthetic: counts are stored


def test_projection_uses_the_stored_pca(tiny_analysis):
    states = np.random.default_rng(0).normal(size=(4, tiny_analysis.pca.mean_n_.shape[0]))
    expected = (states - tiny_analysis.arrays["pca_mean_n"]) @ tiny_analysis.arrays["pca_components_kxn"][:3].T
    np.testing.assert_allclose(tiny_analysis.project(states), expected, rtol=1e-5, atol=1e-6)
