"""Explore's training-time slider and the Fixed points page's eigenvalue migration, as plain functions."""
from __future__ import annotations

import numpy as np
import pytest

from core import store
from dashboard.components import training_time
from dashboard.components.training_time import NO_CHECKPOINTS, training_state
from dashboard.figures_training import eigenvalue_migration_figure
from tests.conftest import CKPT_RUN_ID, TINY_RUN_ID
from tests.dashboard.test_explore_logic import go_decode


class _Bundles:
    def __init__(self, bundle):
        self.bundle = bundle

    def get(self, run_id):
        return self.bundle


@pytest.fixture
def ckpt_bundle(ckpt_bundle_dir, app_ctx, monkeypatch):
    bundle = store.load_path(ckpt_bundle_dir)
    monkeypatch.setattr(training_time, "bundles", lambda: _Bundles(bundle))
    return bundle


def _path(figure) -> np.ndarray:
    trace = next(t for t in figure["data"] if t.get("name") == "your text")
    return np.column_stack([np.asarray(_values(trace["x"]), float), np.asarray(_values(trace["y"]), float)])


def _values(arr) -> list:
    return go_decode(arr) if isinstance(arr, dict) else list(arr)


def test_the_slider_replays_the_text_under_each_checkpoint(ckpt_bundle):
    n = len(ckpt_bundle.checkpoints)
    last = training_state(CKPT_RUN_ID, "red red green", None)
    assert last.n == n and last.value == n - 1 and len(last.marks) == n
    first = training_state(CKPT_RUN_ID, "red red green", 0)
    assert first.value == 0 and "before training" in first.note
    # checkpoint k's path is checkpoint k's states on the final PCA's first two components
    expected = ckpt_bundle.at_checkpoint(0).trajectory("red red green").xyz_tx3[:, :2]
    np.testing.assert_allclose(_path(first.figure), expected, atol=1e-5)
    assert not np.allclose(_path(first.figure), _path(last.figure), atol=1e-3)
    # the final checkpoint's path is the model's own Explore path
    np.testing.assert_allclose(_path(last.figure), ckpt_bundle.trajectory("red red green").xyz_tx3[:, :2], atol=1e-5)


def test_each_checkpoint_draws_only_its_own_fixed_points(ckpt_bundle):
    view = ckpt_bundle.analysis.training
    for k in range(len(view.steps_k)):
        fig = training_state(CKPT_RUN_ID, "red", k).figure
        drawn = sum(len(_values(t["x"])) for t in fig["data"] if "fixed point" in t.get("name", ""))
        assert drawn == int(((view.fp_k_q == k) & view.fp_converged_q).sum())


@pytest.mark.parametrize("k", [-1, 99, "2", True, None, 1.5])
def test_a_tampered_slider_value_shows_the_final_checkpoint(ckpt_bundle, k):
    state = training_state(CKPT_RUN_ID, "red", k)
    assert state.value == state.n - 1 and state.figure is not None


def test_an_empty_text_draws_the_attractor_without_a_path(ckpt_bundle):
    state = training_state(CKPT_RUN_ID, "   ", 0)
    assert state.figure is not None
    assert not any(t.get("name") == "your text" for t in state.figure["data"])


def test_a_bundle_without_checkpoints_gets_a_note_and_no_slider(app_ctx):
    state = training_state(TINY_RUN_ID, "red green", None)
    assert state.figure is None and state.n == 0 and state.note == NO_CHECKPOINTS


def test_an_unknown_model_shows_nothing(app_ctx):
    state = training_state("no-such-model", "red", 0)
    assert state.figure is None and state.note == ""


def test_eigenvalue_migration_puts_each_point_at_its_checkpoint(ckpt_bundle):
    view = ckpt_bundle.analysis.training
    fig = eigenvalue_migration_figure(view)
    stable = next(t for t in fig.data if t.name == "stable fixed points")
    mask = view.fp_converged_q & view.fp_stable_q
    finite = np.isfinite(view.fp_eig_abs_qxm[mask])
    assert len(stable.y) == int(finite.sum())
    assert all(v < 1.0 for v in stable.y)  # a stable point's eigenvalues lie inside the unit circle
    top = next(t for t in fig.data if t.name == "largest |λ| of a stable point")
    assert len(top.x) == len(view.steps_k)


def test_a_damaged_checkpoint_file_is_one_sentence_not_an_error(ckpt_bundle_dir, app_ctx, monkeypatch, tmp_path):
    import shutil
    copy = tmp_path / CKPT_RUN_ID
    shutil.copytree(ckpt_bundle_dir, copy)
    (copy / "checkpoints.safetensors").write_bytes(b"\x00" * 64)
    monkeypatch.setattr(training_time, "bundles", lambda: _Bundles(store.load_path(copy)))
    state = training_state(CKPT_RUN_ID, "red", 0)
    assert state.figure is None and state.note.startswith("checkpoints.safetensors is unreadable")
