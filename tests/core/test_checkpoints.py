"""Training-time checkpoints: the selection rule, the compact storage, a tiny run that keeps and loads them."""
from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch

from core import store
from core.checkpoints import (CheckpointError, Checkpoints, load_checkpoints, pack_checkpoints, save_checkpoints,
                              select_checkpoints)
from core.training import train
from core.tasks import load_task
from tests.conftest import TINY_TASK, TINY_TRAIN


def test_selection_takes_the_first_evaluation_reaching_each_level():
    # levels between 0.33 and 0.95 at n=5: 0.485, 0.64, 0.795 -> first reached at evaluations 1, 3, 5
    acc = [0.33, 0.5, 0.6, 0.7, 0.65, 0.8, 0.9, 0.95, 0.93, 0.94]
    assert select_checkpoints(acc, best_index=7, n=5).tolist() == [0, 1, 3, 5, 7]


def test_selection_fills_levels_crossed_at_once_with_spread_evaluations():
    # one evaluation jumps past every level: the free places go to evaluations far from those chosen
    acc = [0.3, 0.97, 0.975, 0.98, 0.97, 0.985, 0.99, 0.99, 0.995]
    chosen = select_checkpoints(acc, best_index=8, n=5)
    assert chosen.tolist() == [0, 1, 4, 6, 8]


@pytest.mark.parametrize("seed", range(20))
def test_selection_properties_on_random_curves(seed):
    rng = np.random.default_rng(seed)
    acc = np.clip(np.cumsum(rng.normal(0.05, 0.05, rng.integers(1, 15))), 0, 1)
    best = int(np.argmax(acc))
    chosen = select_checkpoints(acc, best, n=8)
    assert chosen[0] == 0 and chosen[-1] == best
    assert (np.diff(chosen) > 0).all() and chosen.max() <= best
    assert len(chosen) == min(8, best + 1)


def test_selection_rejects_a_best_index_outside_the_curve():
    with pytest.raises(ValueError):
        select_checkpoints([0.5, 0.6], best_index=2)


def _snapshots(tiny_model, n=3):
    models = [tiny_model("gru", vocab_size=40, embed_dim=6, seed=s) for s in range(n)]
    return [(10 * k, 0.5 + 0.1 * k, m.state_dict()) for k, m in enumerate(models)], models


def test_small_embeddings_are_stored_exactly(tiny_model, tmp_path):
    snaps, models = _snapshots(tiny_model)
    save_checkpoints(tmp_path / "c.safetensors", snaps, models[-1])
    ckpts = load_checkpoints(tmp_path / "c.safetensors", models[-1])
    assert not ckpts.compressed and ckpts.agreement_k is None
    assert ckpts.steps_k.tolist() == [0, 10, 20]
    assert not any(name.startswith("2/") for name in ckpts.arrays)  # the final weights: read from the model
    for k, (_, _, state) in enumerate(snaps):
        for name, value in ckpts.model(k).state_dict().items():
            assert torch.equal(value, state[name])


def test_a_large_embedding_keeps_its_most_changed_rows_and_a_low_rank_rest(tiny_model):
    snaps, models = _snapshots(tiny_model)
    final = models[-1].state_dict()["embedding.weight"].numpy()
    arrays = pack_checkpoints(snaps, models[-1].state_dict(), exact_rows=5, rank=2, exact_values=0)
    ckpts = Checkpoints(arrays["steps_k"], arrays["val_accuracy_k"], arrays, models[-1])
    assert ckpts.compressed
    emb0 = snaps[0][2]["embedding.weight"].numpy()
    change = np.linalg.norm(emb0 - final, axis=1)
    top5 = np.argsort(-change)[:5]
    rebuilt = ckpts.state_dict(0)["embedding.weight"].numpy()
    np.testing.assert_allclose(rebuilt[top5], emb0[top5], atol=2e-3)  # float16 differences
    # the rest: the best rank-2 approximation of the remaining change, not the final rows
    rest = np.setdiff1d(np.arange(len(final)), top5)
    err_lowrank = np.linalg.norm(rebuilt[rest] - emb0[rest])
    assert err_lowrank < np.linalg.norm(final[rest] - emb0[rest])
    # the final checkpoint's difference is zero: it is rebuilt exactly
    np.testing.assert_array_equal(ckpts.state_dict(2)["embedding.weight"].numpy(), final)


def test_the_agreement_of_compressed_checkpoints_is_measured(tiny_model, tmp_path):
    snaps, models = _snapshots(tiny_model)
    ids = np.random.default_rng(0).integers(1, 40, (60, 7))
    lengths = np.full(60, 7)
    save_checkpoints(tmp_path / "c.safetensors", snaps, models[-1], ids, lengths, exact_rows=40, rank=2,
                     exact_values=0)
    ckpts = load_checkpoints(tmp_path / "c.safetensors", models[-1])
    assert ckpts.compressed
    np.testing.assert_array_equal(ckpts.agreement_k, [1.0, 1.0, 1.0])  # every row kept: float16 only
    save_checkpoints(tmp_path / "d.safetensors", snaps, models[-1], ids, lengths, exact_rows=0, rank=0,
                     exact_values=0)  # nothing kept of the change: checkpoint 0 is the final embedding's model
    assert load_checkpoints(tmp_path / "d.safetensors", models[-1]).agreement_k[2] == 1.0


def test_a_checkpoint_file_of_another_model_is_refused(tiny_model, tmp_path):
    snaps, models = _snapshots(tiny_model)
    save_checkpoints(tmp_path / "c.safetensors", snaps, models[-1])
    with pytest.raises(CheckpointError, match="does not match"):
        load_checkpoints(tmp_path / "c.safetensors", tiny_model("gru", vocab_size=40, embed_dim=6, units=9))
    (tmp_path / "bad.safetensors").write_bytes(b"not a safetensors file")
    with pytest.raises(CheckpointError, match="unreadable"):
        load_checkpoints(tmp_path / "bad.safetensors", models[-1])
    with pytest.raises(CheckpointError, match="no training checkpoints"):
        load_checkpoints(tmp_path / "missing.safetensors", models[-1])


def test_snapshots_leave_the_trained_weights_unchanged():
    data = load_task(TINY_TASK)
    from core.pipeline import resolve_vocab_size
    from core.config import ModelConfig, RunConfig
    config = resolve_vocab_size(RunConfig("snap", ModelConfig("gru", 6, 4, num_classes=2), TINY_TASK,
                                          dataclasses.replace(TINY_TRAIN, steps=20, eval_every=10)), data)
    plain, kept = train(config, data), train(config, data, keep_snapshots=True)
    for name, value in plain.model.state_dict().items():
        assert torch.equal(value, kept.model.state_dict()[name])
    assert [s[0] for s in kept.snapshots] == [0, 10, 20] and plain.snapshots == []


def test_a_tiny_run_keeps_checkpoints_that_load(ckpt_bundle_dir):
    bundle = store.load_path(ckpt_bundle_dir)
    ckpts = bundle.checkpoints
    assert 2 <= len(ckpts) <= 8 and ckpts.steps_k[0] == 0
    assert ckpts.steps_k[-1] == bundle.metrics["best_step"]
    # the last checkpoint is the bundle's own model
    for name, value in ckpts.model(len(ckpts) - 1).state_dict().items():
        assert torch.equal(value, bundle.model.state_dict()[name])
    curve = {row["step"]: row["val_accuracy"] for row in bundle.metrics["loss_curve"]}
    for step, acc in zip(ckpts.steps_k[1:], ckpts.val_accuracy_k[1:]):
        assert acc == pytest.approx(curve[int(step)])


def test_a_bundle_without_checkpoints_says_so(tiny_bundle):
    assert not tiny_bundle.has_checkpoints
    with pytest.raises(CheckpointError):
        tiny_bundle.checkpoints


def test_the_analysis_draws_every_checkpoint_in_the_final_pca(ckpt_bundle_dir):
    bundle = store.load_path(ckpt_bundle_dir)
    view = bundle.analysis.training
    n = len(bundle.checkpoints)
    assert view is not None and view.steps_k.tolist() == bundle.checkpoints.steps_k.tolist()
    assert view.cloud_xyz_kxsx3.shape[:2] == (n, 1500) and view.cloud_xyz_kxsx3.dtype == np.float32
    assert set(view.fp_k_q.tolist()) <= set(range(n))
    # the last checkpoint is the final model: its states sit on the final analysis' cloud, in the same PCA
    final_path = bundle.trajectory("red red blue").xyz_tx3
    np.testing.assert_allclose(bundle.at_checkpoint(n - 1).trajectory("red red blue").xyz_tx3, final_path, atol=1e-5)
    # an early checkpoint moves differently
    assert not np.allclose(bundle.at_checkpoint(0).trajectory("red red blue").xyz_tx3, final_path, atol=1e-3)
    # eigenvalues: |lambda| descending per point
    eig = view.fp_eig_abs_qxm
    assert (np.diff(eig, axis=1)[np.isfinite(np.diff(eig, axis=1))] <= 1e-6).all()


def test_an_analysis_without_checkpoints_has_no_training_view(tiny_bundle, analyzed_store):
    assert store.load_path(analyzed_store / "tiny-gru").analysis.training is None
