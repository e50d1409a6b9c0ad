"""Importing a model trained elsewhere (issue 20): a round trip through the import format gives the same
predictions, every refused file gets one sentence naming what to fix, and nothing is unpickled."""
from __future__ import annotations

import io
import json
import pickle
import zipfile

import numpy as np
import pytest
import torch
from safetensors.torch import save as save_safetensors

from core import cli, import_files, store
from core.import_files import ImportFiles, ImportRefused, read_folder, read_uploads, read_zip
from core.importer import export_folder, import_folder, validate_import
from core.user_data import load_dataset

TEXTS = ["red red blue", "green green green red", "blue", "red green blue red green", "blue blue green"]


def _files(bundle, spec_edit=None, weights_edit=None, weights_name="model.safetensors") -> ImportFiles:
    """The tiny bundle in the import format, in memory, with the JSON or the weights changed."""
    spec = {"cell": bundle.config.model.cell, "units": bundle.config.model.units,
            "embed_dim": bundle.config.model.embed_dim, "class_names": bundle.class_names,
            "vocabulary": list(bundle.vocab.itos), "texts": TEXTS * 8}
    tensors = {k: v.detach().clone() for k, v in bundle.model.state_dict().items()}
    if spec_edit:
        spec_edit(spec)
    if weights_edit:
        weights_edit(tensors)
    if weights_name.endswith(".safetensors"):
        weights = save_safetensors(tensors)
    else:
        buf = io.BytesIO()
        torch.save(tensors, buf)
        weights = buf.getvalue()
    return ImportFiles("model.json", json.dumps(spec).encode(), weights_name, weights)


def _zip(members: dict[str, bytes], compression=zipfile.ZIP_DEFLATED) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buf.getvalue()


def test_round_trip_through_the_import_format_gives_identical_predictions(tiny_bundle, tmp_path):
    folder = export_folder(tiny_bundle, tmp_path / "export")
    spec = json.loads((folder / "model.json").read_text())
    spec["texts"] = TEXTS * 10
    (folder / "model.json").write_text(json.dumps(spec))
    path = import_folder(folder, run_id="imported-gru")
    imported = store.load("imported-gru")
    assert path == store.user_store_dir() / "imported-gru"
    probes = TEXTS + ["", "words it never saw", tiny_bundle.default_example]
    np.testing.assert_array_equal(imported.predict(probes), tiny_bundle.predict(probes))
    assert imported.class_names == tiny_bundle.class_names and imported.vocab == tiny_bundle.vocab
    assert imported.analysis.fixed_points.qstar_p.size > 0  # analyzed by the normal pipeline
    assert imported.config.task.name == "imported" and imported.info["imported"]
    texts = load_dataset(imported.config.task.dataset, store.user_store_dir())
    assert len(texts) == 50 and texts.provenance["labels"] == "the model's own predictions"
    # the texts are labelled by the model's own predictions
    np.testing.assert_array_equal(texts.labels, tiny_bundle.predict(list(texts.texts)).argmax(1))


def test_a_torch_state_dict_file_and_a_zip_import_too(tiny_bundle):
    files = _files(tiny_bundle, weights_name="model.pt")
    zipped = read_uploads([("mine.zip", _zip({"mine/model.json": files.spec, "mine/model.pt": files.weights,
                                              "__MACOSX/._model.pt": b"junk", "mine/README.md": b"notes"}))])
    model = validate_import(zipped, run_id="from-zip").model
    ids = torch.tensor([[2, 3, 4, 1]])
    torch.testing.assert_close(model(ids, torch.tensor([4])), tiny_bundle.model(ids, torch.tensor([4])),
                               rtol=0, atol=0)


def test_without_texts_the_analysis_reads_random_vocabulary_sequences(tiny_bundle):
    imported = validate_import(_files(tiny_bundle, spec_edit=lambda s: s.pop("texts")))
    words = set(tiny_bundle.vocab.itos[2:])
    assert len(imported.texts) == 1000
    assert all(set(t.split()) <= words for t in imported.texts.texts)
    assert "random" in imported.texts.provenance["texts"]
    preview = validate_import(_files(tiny_bundle, spec_edit=lambda s: s.pop("texts")), label=False)
    assert preview.texts.texts == imported.texts.texts and not preview.texts.labels.any()  # a preview does not label


def test_given_labels_are_kept(tiny_bundle):
    names = tiny_bundle.class_names
    edit = lambda s: s.update(texts=TEXTS, labels=[names[i % 2] for i in range(len(TEXTS))])  # noqa: E731
    imported = validate_import(_files(tiny_bundle, spec_edit=edit))
    assert imported.texts.labels.tolist() == [0, 1, 0, 1, 0]


def _nan(tensors):
    tensors["rnn.weight_hh_l0"][0, 0] = float("nan")


class _Evil:
    def __reduce__(self):
        return (print, ("unpickled!",))


def _torch_bytes(obj) -> bytes:
    buf = io.BytesIO()
    torch.save(obj, buf)
    return buf.getvalue()


SPEC_CASES = {
    "unknown cell": (lambda s: s.update(cell="transformer"), "unknown cell 'transformer'"),
    "missing key": (lambda s: s.pop("vocabulary"), "has no 'vocabulary'"),
    "wrong type": (lambda s: s.update(units="12"), "'units' in model.json must be a whole number"),
    "bool as int": (lambda s: s.update(units=True), "must be a whole number"),
    "unknown key": (lambda s: s.update(optimizer="adam"), "unknown key 'optimizer'"),
    "vocabulary without pad": (lambda s: s.update(vocabulary=s["vocabulary"][1:]), "must start with '<pad>'"),
    "duplicate word": (lambda s: s["vocabulary"].__setitem__(3, s["vocabulary"][2]), "duplicate"),
    "one class": (lambda s: s.update(class_names=["only"]), "num_classes must be an integer from 2"),
    "same class twice": (lambda s: s.update(class_names=["a", "a"]), "a name twice"),
    "units out of range": (lambda s: s.update(units=100_000), "units must be an integer from 2 to 1024"),
    "bad run id": (lambda s: s.update(run_id="../../etc"), "not a valid model name"),
    "wrong shapes": (lambda s: s.update(units=13), "has shape"),
    "labels not class names": (lambda s: s.update(texts=TEXTS, labels=["x"] * 5), "not one of class_names"),
    "labels of the wrong length": (lambda s: s.update(texts=TEXTS, labels=["a"]), "one per text"),
    "too many texts": (lambda s: s.update(texts=["a"] * 5001), "over the limit of 5,000"),
}
WEIGHT_CASES = {
    "NaN weights": (_nan, "not finite float32"),
    "a missing weight": (lambda t: t.pop("readout_layer.bias"), "missing ['readout_layer.bias']"),
    "an extra weight": (lambda t: t.update(extra=torch.zeros(2)), "extra ['extra']"),
    "integer weights": (lambda t: t.update({"readout_layer.bias": torch.zeros(2, dtype=torch.int64)}),
                        "not floating point"),
}


@pytest.mark.parametrize("case", list(SPEC_CASES))
def test_a_bad_description_is_refused_in_one_sentence(tiny_bundle, case):
    edit, message = SPEC_CASES[case]
    with pytest.raises(ImportRefused) as err:
        validate_import(_files(tiny_bundle, spec_edit=edit))
    assert message in str(err.value) and "\n" not in str(err.value)


@pytest.mark.parametrize("case", list(WEIGHT_CASES))
def test_bad_weights_are_refused_in_one_sentence(tiny_bundle, case):
    edit, message = WEIGHT_CASES[case]
    with pytest.raises(ImportRefused) as err:
        validate_import(_files(tiny_bundle, weights_edit=edit))
    assert message in str(err.value) and "\n" not in str(err.value)


VALID = b"the tiny bundle's JSON"  # replaced by it in the test


def _bomb() -> bytes:
    return _zip({"model.json": b"{}", "model.safetensors": bytes(8 * 2**20)})


FILE_CASES = {
    "not a zip": ([("model.zip", b"this is not a zip")], "not a zip archive"),
    "zip bomb": ([("model.zip", _bomb())], "would unpack to 8 MB"),
    "pickle file": ([("model.json", b"{}"), ("model.pkl", pickle.dumps({"w": 1}))], "is a pickle file"),
    "pickle in a zip": ([("m.zip", _zip({"model.json": b"{}", "weights.pickle": b"x"}))], "is a pickle file"),
    "raw pickle named .pt": ([("model.json", VALID), ("model.pt", pickle.dumps({"w": 1}))], "raw pickle"),
    "torch file with code in it": ([("model.json", VALID), ("model.pt", _torch_bytes({"w": _Evil()}))],
                                   "weights_only=True"),
    "torch file of a list": ([("model.json", VALID), ("model.pt", _torch_bytes([torch.zeros(2)]))],
                             "not a state_dict"),
    "two JSON files": ([("a.json", b"{}"), ("b.json", b"{}"), ("model.safetensors", b"")], "exactly one .json"),
    "no weights": ([("model.json", b"{}")], "exactly one .json file and one weights file"),
    "a stray file": ([("model.json", b"{}"), ("model.safetensors", b""), ("run.sh", b"rm -rf /")],
                     "neither the model's JSON"),
    "bad JSON": ([("model.json", b"{cell: gru"), ("model.safetensors", b"")], "not valid JSON"),
    "JSON not an object": ([("model.json", b"[1, 2]"), ("model.safetensors", b"")], "must hold a JSON object"),
    "JSON not UTF-8": ([("model.json", b'{"cell": "\xff"}'), ("model.safetensors", b"")], "not UTF-8"),
    "nothing uploaded": ([], "No file was received"),
}


@pytest.mark.parametrize("case", list(FILE_CASES))
def test_a_refused_file_gets_one_sentence(tiny_bundle, case, capsys):
    uploads, message = FILE_CASES[case]
    valid = _files(tiny_bundle).spec
    uploads = [(name, valid if data is VALID else data) for name, data in uploads]
    with pytest.raises(ImportRefused) as err:
        validate_import(read_uploads(uploads))
    assert message in str(err.value) and "\n" not in str(err.value)
    assert "unpickled!" not in capsys.readouterr().out  # the pickle's code never ran


def test_a_corrupt_safetensors_file_is_refused(tiny_bundle):
    files = _files(tiny_bundle)
    broken = ImportFiles(files.spec_name, files.spec, files.weights_name, files.weights[:100])
    with pytest.raises(ImportRefused, match="not a valid safetensors file"):
        validate_import(broken)


def test_size_caps_are_checked_before_anything_is_parsed(tiny_bundle, monkeypatch, tmp_path):
    monkeypatch.setattr(import_files, "MAX_WEIGHTS_BYTES", 1000)
    with pytest.raises(ImportRefused, match="over the limit of 0 MB"):
        read_uploads([("model.json", b"{}"), ("model.safetensors", bytes(1001))])
    folder = tmp_path / "big"
    folder.mkdir()
    (folder / "model.json").write_text("{}")
    (folder / "model.safetensors").write_bytes(bytes(1001))
    with pytest.raises(ImportRefused, match="over the limit"):
        read_folder(folder)
    with pytest.raises(ImportRefused, match="over the limit for a model import"):
        monkeypatch.setattr(import_files, "MAX_UNPACKED_BYTES", 1000)
        read_zip(_zip({"model.json": b"{}", "model.safetensors": bytes(1001)}, zipfile.ZIP_STORED))


def test_a_folder_with_a_symbolic_link_is_refused(tiny_bundle, tmp_path):
    folder = export_folder(tiny_bundle, tmp_path / "linked")
    (folder / "model.safetensors").rename(tmp_path / "elsewhere.safetensors")
    (folder / "model.safetensors").symlink_to(tmp_path / "elsewhere.safetensors")
    with pytest.raises(ImportRefused, match="symbolic link"):
        read_folder(folder)


def test_the_cli_imports_a_folder_and_refuses_in_one_line(tiny_bundle, tmp_path, capsys):
    folder = export_folder(tiny_bundle, tmp_path / "cli")
    spec = json.loads((folder / "model.json").read_text())
    (folder / "model.json").write_text(json.dumps({**spec, "texts": TEXTS * 6}))
    assert cli.main(["import", str(folder), "--run-id", "cli-import"]) == 0
    assert store.load("cli-import").analysis is not None
    assert cli.main(["import", str(folder), "--run-id", "cli-import"]) == 2  # the name is taken
    assert cli.main(["import", str(tmp_path / "missing")]) == 2
    err = [line for line in capsys.readouterr().err.splitlines() if line.startswith("error:")]
    assert len(err) == 2 and err[-2].startswith("error: A model named cli-import exists") and err[-1].startswith("error: There is no")
    assert not any(p.name.startswith(".tmp-") for p in store.user_store_dir().iterdir())
