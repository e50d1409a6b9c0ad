"""Sequence-to-sequence bundles in the store (issue 18): trained, saved, listed as kind "seq2seq", loaded
through core.seq_store only, analyzed with the decomposition tied to the weights; damage gives BundleError."""
from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from core import seq_store, store
from core.analysis_file import AnalysisError
from core.config import TrainConfig
from core.seq2seq.analysis import analyze_seq_bundle
from core.seq2seq.config import SeqModelConfig, SeqRunConfig, SeqTaskConfig
from core.seq2seq.decompose import TERMS
from core.seq2seq.pipeline import train_seq_run

TINY = SeqRunConfig("tiny-seq", SeqModelConfig("gru", 16, 8),
                    SeqTaskConfig("seq-translate", min_len=3, max_len=6, n_train=300, n_val=40, n_test=50),
                    TrainConfig(steps=40, batch_size=32, lr=1e-2, eval_every=40, patience=10))


@pytest.fixture(scope="module")
def seq_store_dir(tmp_path_factory):
    root = tmp_path_factory.mktemp("seq_store")
    train_seq_run(TINY, store_path=root)
    analyze_seq_bundle(seq_store.load_seq("tiny-seq", root))
    return root


def test_a_trained_bundle_round_trips_and_decodes(seq_store_dir):
    bundle = seq_store.load_seq("tiny-seq", seq_store_dir)
    assert bundle.config.model.src_vocab_size == len(bundle.src_vocab) == 18
    assert 0.0 <= bundle.metrics["test_accuracy"] <= 1.0 and bundle.metrics["val_token_accuracy"] > 0.2
    result = bundle.translate("cat dog sun")
    assert result.tokens == ["cat", "dog", "sun"] and result.attn_uxs.shape == (len(result.dec_in_ids), 3)
    np.testing.assert_allclose(result.attn_uxs.sum(1), 1.0, rtol=1e-5)
    assert result.dec_in_ids[0] == 2 and result.enc_sxn.shape == (3, 16)


def test_the_store_lists_it_as_a_sequence_model_and_load_refuses_it(seq_store_dir):
    [row] = store.list_bundles(seq_store_dir)
    assert row.ok and row.kind == "seq2seq" and row.task == "seq-translate" and row.has_analysis
    assert row.cell == "gru" and row.units == 16
    with pytest.raises(store.BundleError, match="sequence-to-sequence"):
        store.load("tiny-seq", seq_store_dir)


def test_the_analysis_holds_every_term_and_matches_the_weights(seq_store_dir):
    bundle = seq_store.load_seq("tiny-seq", seq_store_dir)
    a = bundle.analysis
    assert a.alignment_5.shape == (len(TERMS),) and np.all((a.alignment_5 >= 0) & (a.alignment_5 <= 1))
    assert abs(a.enc_fractions_3.sum() - 1) < 1e-9 and abs(a.dec_fractions_3.sum() - 1) < 1e-9
    terms = a.terms_for(bundle.translate("cat dog sun moon"))
    assert set(terms) == set(TERMS) and terms["mu.mu"].shape[1] == 4
    assert a.project(bundle.translate("cat").enc_sxn).shape == (1, 3)


def test_retrained_weights_make_the_analysis_stale(seq_store_dir, tmp_path):
    import shutil
    shutil.copytree(seq_store_dir / "tiny-seq", tmp_path / "tiny-seq")
    other = dataclasses.replace(TINY, train=dataclasses.replace(TINY.train, steps=5, seed=1))
    analysis = (tmp_path / "tiny-seq" / "analysis.npz").read_bytes()
    train_seq_run(other, store_path=tmp_path)
    (tmp_path / "tiny-seq" / "analysis.npz").write_bytes(analysis)
    with pytest.raises(AnalysisError, match="stale"):
        seq_store.load_seq("tiny-seq", tmp_path).analysis


def test_damaged_weights_are_a_bundle_error(seq_store_dir, tmp_path):
    import shutil
    shutil.copytree(seq_store_dir / "tiny-seq", tmp_path / "tiny-seq")
    weights = tmp_path / "tiny-seq" / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:100])
    with pytest.raises(store.BundleError, match="model.safetensors"):
        seq_store.load_seq("tiny-seq", tmp_path)
    (tmp_path / "tiny-seq" / "config.json").write_text("{")
    with pytest.raises(store.BundleError, match="JSON"):
        seq_store.load_seq("tiny-seq", tmp_path)


def test_a_classifier_is_not_a_sequence_model(tiny_bundle):
    with pytest.raises(store.BundleError, match="classifier"):
        seq_store.load_seq_path(tiny_bundle.path)
