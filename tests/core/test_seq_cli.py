"""Sequence runs from the command line land where classifier runs do (issue 18): a run without --preset in the
user store (ATTRACTORSCOPE_USER_STORE), analyzed there and listed with the rest; a bundled preset in the bundled
store. `analyze` finds a sequence run in either store."""
from __future__ import annotations

import dataclasses

import pytest

from core import seq_store, store
from core.seq2seq import cli as seq_cli
from core.seq2seq.pipeline import seq_run_config, train_seq_run
from tests.core.test_seq_store import TINY
from tests.fuzzing import run_cli


@pytest.fixture
def two_stores(tmp_path, monkeypatch):
    bundled, user = tmp_path / "bundled", tmp_path / "user"
    bundled.mkdir()
    monkeypatch.setenv("ATTRACTORSCOPE_STORE", str(bundled))
    monkeypatch.setenv("ATTRACTORSCOPE_USER_STORE", str(user))
    return bundled, user


def small_task(*args, **kwargs):
    """The CLI's run config with a small data set: this test is about where the run lands, not how it learns."""
    config = seq_run_config(*args, **kwargs)
    return dataclasses.replace(config, task=dataclasses.replace(config.task, n_train=500, n_val=50, n_test=100))


def test_a_cli_sequence_run_lands_in_the_user_store_analyzed(two_stores, monkeypatch):
    bundled, user = two_stores
    monkeypatch.setattr(seq_cli, "seq_run_config", small_task)
    code, out = run_cli(["train", "--task", "seq-reverse", "--cell", "gru", "--units", "8", "--embed", "4",
                         "--steps", "20", "--run-id", "cli-seq"])
    assert code == 0, out
    assert (user / "cli-seq" / "analysis.npz").is_file() and not (bundled / "cli-seq").exists()
    bundle = seq_store.load_seq("cli-seq")  # found in the user store without naming it
    assert bundle.path == user / "cli-seq" and bundle.info["bundled"] is False and bundle.has_analysis
    [row] = [s for s in store.list_bundles() if s.run_id == "cli-seq"]
    assert row.kind == "seq2seq" and row.ok and not row.bundled and row.has_analysis
    (user / "cli-seq" / "analysis.npz").unlink()
    code, out = run_cli(["analyze", "cli-seq"])
    assert code == 0 and "alignment accuracy" in out and (user / "cli-seq" / "analysis.npz").is_file()
    store.delete_bundle("cli-seq")  # a user run: deletable
    assert not (user / "cli-seq").exists()


def test_a_bundled_sequence_run_lands_in_the_bundled_store_and_is_read_only(two_stores):
    bundled, user = two_stores
    config = dataclasses.replace(TINY, train=dataclasses.replace(TINY.train, steps=2))
    path = train_seq_run(config, bundled=True)
    assert path == bundled / TINY.run_id and not (user / TINY.run_id).exists()
    assert seq_store.load_seq(TINY.run_id).info["bundled"] is True
    with pytest.raises(store.BundleError, match="read-only"):
        store.delete_bundle(TINY.run_id)


def test_a_sequence_run_without_a_name_or_with_a_classifier_cell_is_refused(two_stores):
    code, out = run_cli(["train", "--task", "seq-sort", "--cell", "lstm", "--run-id", "x"])
    assert code == 2 and "--cell gru or ff" in out
    code, out = run_cli(["train", "--task", "seq-sort", "--cell", "ff"])
    assert code == 2 and "--run-id" in out
