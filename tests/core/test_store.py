"""Bundle store: corrupt bundles fail with a BundleError and a reason; listing, cleanup, predict, trajectory."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors.torch import save_file

from core import atomic, store
from core.config import RunConfig
from core.text import UNK_ID

# ---- helpers ---------------------------------------------------------------------------


def read_meta(path: Path) -> dict:
    return json.loads((path / "config.json").read_text(encoding="utf-8"))


def write_meta(path: Path, meta) -> None:
    (path / "config.json").write_text(json.dumps(meta), encoding="utf-8")


def expect_error(path: Path, *fragments: str) -> str:
    with pytest.raises(store.BundleError) as info:
        store.load_path(path)
    message = str(info.value)
    assert message and len(message) < 400 and "\n" not in message
    for fragment in fragments:
        assert fragment in message, message
    return message


# ---- run ids ---------------------------------------------------------------------------
@pytest.mark.parametrize("run_id", ["../x", "/etc", "A B", "", "a/b", "..", ".", "x.y", "Upper",
                                    "a" * 65, "caf\u00e9", "a\x00b", None, 3, ["a"]])
def test_invalid_run_ids_are_rejected(run_id, tmp_path):
    with pytest.raises(store.BundleError, match="not a valid run id"):
        store.check_run_id(run_id)
    with pytest.raises(store.BundleError):
        store.load(run_id, store=tmp_path)
    with pytest.raises(store.BundleError):
        store.bundle_path(run_id, tmp_path)


@pytest.mark.parametrize("run_id", ["a", "gru-reviews", "lstm_128-v2", "0", "a" * 64])
def test_valid_run_ids(run_id, tmp_path):
    assert store.check_run_id(run_id) == run_id
    assert store.bundle_path(run_id, tmp_path) == tmp_path / run_id


def test_run_id_with_trailing_newline_is_rejected():
    with pytest.raises(store.BundleError):
        store.check_run_id("abc\n")


def test_load_of_missing_run(tmp_path):
    with pytest.raises(store.BundleError, match="no bundle folder"):
        store.load("absent", store=tmp_path)


# ---- corrupt bundles -------------------------------------------------------------------
def test_tiny_bundle_loads(tiny_bundle):
    again = store.load_path(tiny_bundle.path)
    assert again.run_id == "tiny-gru" and again.class_names == ["red", "green"]
    assert again.weights_sha256 == read_meta(tiny_bundle.path)["weights_sha256"]
    assert again.metrics["test_accuracy"] == tiny_bundle.metrics["test_accuracy"]


@pytest.mark.parametrize("keep", [0, 7, 100, -20])
def test_truncated_weights(tiny_bundle, keep):
    weights = tiny_bundle.path / "model.safetensors"
    data = weights.read_bytes()
    weights.write_bytes(data[:keep] if keep >= 0 else data[:keep])
    expect_error(tiny_bundle.path, "model.safetensors")


def test_garbage_weights(tiny_bundle):
    (tiny_bundle.path / "model.safetensors").write_bytes(b"\xff" * 64)
    expect_error(tiny_bundle.path, "model.safetensors")


def _rewrite_weights(bundle, change) -> None:
    tensors = {k: v.clone() for k, v in bundle.model.state_dict().items()}
    change(tensors)
    save_file(tensors, str(bundle.path / "model.safetensors"))


def test_wrong_weight_shape(tiny_bundle):
    _rewrite_weights(tiny_bundle, lambda t: t.update({"readout_layer.bias": torch.zeros(5)}))
    expect_error(tiny_bundle.path, "readout_layer.bias", "shape")


def test_missing_and_extra_weights(tiny_bundle):
    _rewrite_weights(tiny_bundle, lambda t: t.pop("readout_layer.bias"))
    expect_error(tiny_bundle.path, "missing", "readout_layer.bias")
    _rewrite_weights(tiny_bundle, lambda t: t.update({"evil": torch.zeros(1)}))
    expect_error(tiny_bundle.path, "extra", "evil")


@pytest.mark.parametrize("bad", ["nan", "inf", "float64", "int32"])
def test_non_finite_or_wrong_dtype_weights(tiny_bundle, bad):
    def change(t):
        w = t["readout_layer.weight"]
        if bad == "nan":
            w[0, 0] = float("nan")
        elif bad == "inf":
            w[0, 0] = float("inf")
        else:
            t["readout_layer.weight"] = w.to(getattr(torch, bad))
    _rewrite_weights(tiny_bundle, change)
    expect_error(tiny_bundle.path, "readout_layer.weight")


@pytest.mark.parametrize("name", ["config.json", "vocab.json", "model.safetensors"])
def test_missing_file(tiny_bundle, name):
    (tiny_bundle.path / name).unlink()
    expect_error(tiny_bundle.path, name)


@pytest.mark.parametrize("text", ["", "{", "{'a': 1}", "\xff\xfe", "[1, 2", "nul\x00l"])
@pytest.mark.parametrize("name", ["config.json", "vocab.json"])
def test_bad_json(tiny_bundle, name, text):
    (tiny_bundle.path / name).write_bytes(text.encode("latin-1"))
    expect_error(tiny_bundle.path, name)


@pytest.mark.parametrize("name", ["config.json", "vocab.json"])
def test_json_of_the_wrong_kind(tiny_bundle, name):
    (tiny_bundle.path / name).write_text("[1, 2, 3]", encoding="utf-8")
    expect_error(tiny_bundle.path, name)


def test_oversized_json(tiny_bundle):
    (tiny_bundle.path / "vocab.json").write_text(" " * (store.MAX_JSON_BYTES + 1) + "{}")
    expect_error(tiny_bundle.path, "vocab.json", "larger")


@pytest.mark.parametrize("version", [0, 2, "1", None, 1.5, [1]])
def test_wrong_schema_version(tiny_bundle, version):
    meta = read_meta(tiny_bundle.path)
    meta["schema_version"] = version
    write_meta(tiny_bundle.path, meta)
    expect_error(tiny_bundle.path, "schema_version")


def test_missing_schema_version(tiny_bundle):
    meta = read_meta(tiny_bundle.path)
    del meta["schema_version"]
    write_meta(tiny_bundle.path, meta)
    expect_error(tiny_bundle.path, "schema_version")


@pytest.mark.parametrize("section", ["model", "task", "train"])
def test_extra_keys_in_config_sections(tiny_bundle, section):
    meta = read_meta(tiny_bundle.path)
    meta["run"][section]["surprise"] = 1
    write_meta(tiny_bundle.path, meta)
    expect_error(tiny_bundle.path, "config.json", "surprise")


def test_extra_keys_at_run_level(tiny_bundle):
    meta = read_meta(tiny_bundle.path)
    meta["run"]["trian"] = {"steps": 5}
    write_meta(tiny_bundle.path, meta)
    expect_error(tiny_bundle.path, "trian")


@pytest.mark.parametrize("section, key, value", [
    ("model", "units", 10**30), ("model", "units", 1e308), ("model", "vocab_size", -1),
    ("model", "cell", "transformer"), ("model", "dropout", float("nan")), ("model", "units", True),
    ("train", "lr", float("inf")), ("task", "max_len", 2**63), ("model", "num_classes", 3),
])
def test_out_of_range_config_values(tiny_bundle, section, key, value):
    meta = read_meta(tiny_bundle.path)
    meta["run"][section][key] = value
    write_meta(tiny_bundle.path, meta)  # json writes nan/inf as NaN/Infinity, which json reads back
    expect_error(tiny_bundle.path, "config.json")


def test_huge_integer_literal_in_config(tiny_bundle):
    text = (tiny_bundle.path / "config.json").read_text()
    (tiny_bundle.path / "config.json").write_text(text.replace('"units": 12', '"units": ' + "9" * 5000))
    expect_error(tiny_bundle.path, "config.json")


def test_vocab_size_mismatch(tiny_bundle):
    vocab = json.loads((tiny_bundle.path / "vocab.json").read_text())
    vocab["itos"].append("extra-word")
    (tiny_bundle.path / "vocab.json").write_text(json.dumps(vocab))
    expect_error(tiny_bundle.path, "vocab.json", "expects")


def test_malformed_vocab(tiny_bundle):
    (tiny_bundle.path / "vocab.json").write_text(json.dumps({"itos": ["a", "<pad>", "<unk>"]}))
    expect_error(tiny_bundle.path, "vocab.json")


@pytest.mark.parametrize("info", [None, {}, {"class_names": ["only-one"]}, {"class_names": "ab"}])
def test_bad_task_info(tiny_bundle, info):
    meta = read_meta(tiny_bundle.path)
    meta["task_info"] = info
    write_meta(tiny_bundle.path, meta)
    expect_error(tiny_bundle.path, "task_info")


def test_bundle_path_that_is_a_file(tmp_path):
    (tmp_path / "file").write_text("x")
    with pytest.raises(store.BundleError):
        store.load_path(tmp_path / "file")


# ---- list and clean up -----------------------------------------------------------------
def test_list_bundles_reports_broken_ones(tiny_bundle):
    root = tiny_bundle.path.parent
    shutil.copytree(tiny_bundle.path, root / "broken-weights")
    (root / "broken-weights" / "model.safetensors").write_bytes(b"junk")
    shutil.copytree(tiny_bundle.path, root / "no-config")
    (root / "no-config" / "config.json").unlink()
    (root / "Bad Name").mkdir()
    (root / ".tmp-hidden-1-abcdef12").mkdir()
    (root / "stray-file.txt").write_text("not a bundle")
    summaries = {s.run_id: s for s in store.list_bundles()}  # the store from ATTRACTORSCOPE_STORE
    assert sorted(summaries) == ["Bad Name", "broken-weights", "no-config", "tiny-gru"]
    good = summaries["tiny-gru"]
    assert good.ok and good.reason == "" and good.cell == "gru" and good.task == "categorical"
    assert good.units == 12 and good.num_classes == 2 and good.size_bytes > 0 and not good.has_analysis
    assert good.metrics["test_accuracy"] == tiny_bundle.metrics["test_accuracy"]
    for name, fragment in [("broken-weights", "model.safetensors"), ("no-config", "config.json"),
                           ("Bad Name", "run id")]:
        assert not summaries[name].ok and fragment in summaries[name].reason


def test_list_bundles_of_missing_store(tmp_path):
    assert store.list_bundles(tmp_path / "nowhere") == []


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_cleanup_temp_removes_only_dead_writers(tmp_path):
    dead = tmp_path / f"{atomic.TEMP_PREFIX}run-a-{_dead_pid()}-0123abcd"
    alive = tmp_path / f"{atomic.TEMP_PREFIX}run-b-{os.getpid()}-0123abcd"
    parent = tmp_path / f"{atomic.TEMP_PREFIX}run-c-{os.getppid()}-0123abcd"
    trash = tmp_path / f"{atomic.TRASH_PREFIX}run-d-0123abcd"
    bundle = tmp_path / "run-e"
    for folder in (dead, alive, parent, trash, bundle):
        folder.mkdir()
        (folder / "model.safetensors").write_bytes(b"partial")
    removed = store.cleanup_temp(tmp_path)
    assert sorted(removed) == sorted([dead.name, trash.name])
    assert not dead.exists() and not trash.exists()
    assert alive.exists() and parent.exists() and bundle.exists()
    assert store.cleanup_temp(tmp_path) == []


def test_cleanup_temp_respects_min_age(tmp_path):
    dead = tmp_path / f"{atomic.TEMP_PREFIX}run-a-{_dead_pid()}-0123abcd"
    dead.mkdir()
    assert store.cleanup_temp(tmp_path, min_age_s=3600) == []
    old = dead.stat().st_mtime - 7200
    os.utime(dead, (old, old))
    assert store.cleanup_temp(tmp_path, min_age_s=3600) == [dead.name]


def test_save_replaces_atomically_and_leaves_no_temp(tiny_bundle):
    root = tiny_bundle.path.parent
    config = RunConfig.from_dict({**tiny_bundle.config.to_dict()})
    metrics = {"test_accuracy": np.float32(0.5), "curve": np.arange(3)}
    path = store.save_bundle(config, tiny_bundle.model, tiny_bundle.vocab, tiny_bundle.info, metrics,
                             {"seed": 0}, store=root)
    assert path == tiny_bundle.path
    assert sorted(p.name for p in root.iterdir()) == ["tiny-gru"]
    again = store.load_path(path)
    assert again.metrics == {"test_accuracy": 0.5, "curve": [0, 1, 2]}
    assert again.weights_sha256 == tiny_bundle.weights_sha256


def test_failed_save_leaves_nothing_behind(tiny_bundle, tmp_path):
    root = tmp_path / "other-store"
    with pytest.raises(TypeError):  # metrics that JSON cannot hold
        store.save_bundle(tiny_bundle.config, tiny_bundle.model, tiny_bundle.vocab, tiny_bundle.info,
                          {"bad": object()}, {}, store=root)
    assert list(root.iterdir()) == []


# ---- predict and trajectory ------------------------------------------------------------
def test_predict(tiny_bundle):
    texts = ["red red red the green", "green green and the red", "", "zebra quux red red", "red"]
    probs = tiny_bundle.predict(texts)
    assert probs.shape == (5, 2) and probs.dtype == np.float32
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, atol=1e-6)
    assert probs[0].argmax() == 0 and probs[1].argmax() == 1  # the tiny model learnt the task
    # a batch answers like the texts one at a time, whatever the padding
    for text, row in zip(texts, probs):
        np.testing.assert_allclose(tiny_bundle.predict([text])[0], row, atol=1e-6)
    # empty text: the initial state's readout
    with torch.no_grad():
        expected = tiny_bundle.model.probabilities(tiny_bundle.model.readout(
            tiny_bundle.model.initial_state(1)))[0].numpy()
    np.testing.assert_allclose(probs[2], expected, atol=1e-6)


def test_predict_of_no_texts(tiny_bundle):
    assert tiny_bundle.predict([]).shape[0] == 0


def test_trajectory(tiny_bundle):
    traj = tiny_bundle.trajectory("Red, zebra GREEN!")
    assert traj.tokens == ["red", ",", "zebra", "green", "!"]
    assert traj.ids.dtype == np.int64 and traj.ids.shape == (5,)
    assert traj.ids[2] == UNK_ID and traj.ids[0] != UNK_ID
    assert traj.known.tolist() == [True, False, False, True, False]  # ',' and '!' never occur in training
    assert traj.states_txn.shape == (5, 12) and traj.states_txn.dtype == np.float32
    assert traj.probs_txk.shape == (5, 2)
    np.testing.assert_allclose(traj.probs_txk.sum(axis=1), 1.0, atol=1e-6)
    assert traj.xyz_tx3 is None and not traj.truncated  # no analysis.npz in this bundle
    np.testing.assert_allclose(traj.probs_txk[-1], tiny_bundle.predict(["Red, zebra GREEN!"])[0], atol=1e-6)


def test_trajectory_carries_its_evidence(tiny_bundle):
    """One call gives what the Explore payload needs: the evidence is the change of the predicted class's
    log-odds, from the initial state; for two classes that is the change of the logit margin."""
    traj = tiny_bundle.trajectory("red red green the")
    np.testing.assert_array_equal(traj.initial_probs_k, tiny_bundle.initial_probs())
    predicted = int(traj.probs_txk[-1].argmax())
    p_t = np.concatenate([[traj.initial_probs_k[predicted]], traj.probs_txk[:, predicted]]).astype(np.float64)
    np.testing.assert_allclose(traj.evidence_t, np.diff(np.log(p_t / (1 - p_t))), atol=1e-4)
    assert traj.predicted == predicted and traj.evidence_t.shape == (4,) and traj.toward_t.shape == (4,)
    rose = np.where(traj.evidence_t > 0, predicted, 1 - predicted)
    np.testing.assert_array_equal(traj.toward_t, rose)


@pytest.mark.parametrize("text", ["", "   ", "\x00\x00"])
def test_trajectory_of_empty_text(tiny_bundle, text):
    traj = tiny_bundle.trajectory(text)
    assert traj.tokens == [] and traj.ids.shape == (0,) and traj.known.shape == (0,)
    assert traj.states_txn.shape == (0, 12) and traj.probs_txk.shape == (0, 2)
    assert not traj.truncated
    assert traj.evidence_t.shape == (0,) and traj.predicted == int(traj.initial_probs_k.argmax())


def test_max_tokens_cap_truncates(tiny_bundle):
    at_cap = " ".join(["red"] * store.MAX_TOKENS)
    over = at_cap + " green"
    traj = tiny_bundle.trajectory(at_cap)
    assert len(traj.tokens) == store.MAX_TOKENS and not traj.truncated
    traj = tiny_bundle.trajectory(over)
    assert len(traj.tokens) == store.MAX_TOKENS and traj.truncated
    assert traj.states_txn.shape == (store.MAX_TOKENS, 12) and "green" not in traj.tokens
    small = tiny_bundle.trajectory("red green red", max_tokens=2)
    assert small.tokens == ["red", "green"] and small.truncated
    np.testing.assert_allclose(tiny_bundle.predict([over]), tiny_bundle.predict([at_cap]), atol=1e-6)


def test_a_writer_killed_between_the_two_renames_gets_the_old_version_back(tiny_bundle, monkeypatch):
    """atomic.replace_dir moves the old bundle aside, then the new one in; a SIGKILL between the two
    must not lose the run: the next cleanup restores the old version."""
    import subprocess
    import sys

    root, real_rename = tiny_bundle.path.parent, os.rename
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    dead_pid = int(dead.stdout)
    monkeypatch.setattr(atomic.os, "getpid", lambda: dead_pid)
    staging = atomic.new_temp_dir(root, "tiny-gru")

    def die_after_first_rename(src, dst):
        real_rename(src, dst)
        raise KeyboardInterrupt  # stands for the kill: the second rename never happens

    monkeypatch.setattr(atomic.os, "rename", die_after_first_rename)
    with pytest.raises(KeyboardInterrupt):
        atomic.replace_dir(staging, tiny_bundle.path)
    monkeypatch.undo()
    assert not tiny_bundle.path.exists()
    store.cleanup_temp(root)
    assert sorted(p.name for p in root.iterdir()) == ["tiny-gru"]
    assert store.load_path(tiny_bundle.path).weights_sha256 == tiny_bundle.weights_sha256
