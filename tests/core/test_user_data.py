"""Training on your own labelled CSV/TSV (issue 20): the file is checked (one sentence per refusal), kept as a
dataset with its provenance, split per label without leaking test texts into training, and trained and
analyzed as a background job like any other; an uploaded model is analyzed by a job too."""
from __future__ import annotations

import json

import numpy as np
import pytest

from core import store, user_data
from core.config import ModelConfig, RunConfig, TaskConfig, TrainConfig
from core.importer import export_folder, stage_import, validate_import
from core.import_files import read_folder
from core.job_registry import JobRegistry
from core.jobs import run_job
from core.tasks import load_task
from core.tasks.user import split_indices
from core.user_data import UserDataError, describe, load_dataset, parse_labelled, save_dataset
from tests.core.test_importer import TEXTS

POSITIVE = ["great", "lovely", "superb", "fine", "good", "moving", "warm", "funny"]
NEGATIVE = ["awful", "dull", "boring", "bad", "poor", "flat", "weak", "tedious"]


def _csv(n: int = 60, header: bool = True, sep: str = ",") -> bytes:
    rng = np.random.default_rng(0)
    rows = ["text" + sep + "label"] if header else []
    for i in range(n):
        words, label = (POSITIVE, "pos") if i % 2 else (NEGATIVE, "neg")
        rows.append(f"the film was {' and '.join(rng.choice(words, 2))} number {i}{sep}{label}")
    return "\n".join(rows).encode()


def test_a_good_file_is_read_with_its_labels_in_order():
    data = parse_labelled(_csv(), "reviews.csv")
    assert data.class_names == ("neg", "pos") and data.counts() == [30, 30] and len(data) == 60
    assert data.provenance["file"] == "reviews.csv" and data.provenance["rows_read"] == 60
    tsv = parse_labelled(_csv(header=False, sep="\t"), "reviews.tsv")
    assert tsv.texts == data.texts and tsv.labels.tolist() == data.labels.tolist()
    stars = b"".join(f'"text {i}, with a comma",{i % 3 + 1}\n'.encode() for i in range(90))
    assert parse_labelled(stars, "stars.csv").class_names == ("1", "2", "3")
    swapped = b"label,text\n" + b"".join(f"{'ab'[i % 2]},words {i}\n".encode() for i in range(40))
    assert parse_labelled(b"\xef\xbb\xbf" + swapped, "x.csv").texts[0] == "words 0"  # BOM and header order


def test_repeats_are_dropped_before_anything_is_split():
    data = parse_labelled(_csv() + b"\n" + b"\n".join(_csv().split(b"\n")[1:11]), "x.csv")
    assert len(data) == 60 and data.provenance["duplicates_removed"] == 10
    assert "10 repeated rows dropped" in describe(data)


def _rows(*pairs) -> bytes:
    return "\n".join(f"{t},{label}" for t, label in pairs).encode()


MANY = [(f"text {i}", "ab"[i % 2]) for i in range(40)]
CSV_CASES = {
    "too big": (b"x" * (user_data.MAX_FILE_BYTES + 1), "over the limit of 5 MB"),
    "not UTF-8": ("é,a\n".encode("latin-1") * 30, "not UTF-8 text"),
    "UTF-16": ("text,label\n".encode("utf-16"), "UTF-16"),
    "binary": (b"PK\x03\x04\x00\x00binary", "NUL bytes"),
    "empty": (b"\n\n  \n", "no rows"),
    "one class only": (_rows(*[(f"t {i}", "pos") for i in range(30)]), "needs 2 to 10 different labels"),
    "eleven classes": (_rows(*[(f"t {i}", f"c{i % 11}") for i in range(220)]), "11 different labels"),
    "too few of a class": (_rows(*[(f"t {i}", "a") for i in range(20)], ("x", "b")), "only 1 example;"),
    "empty text": (_rows(*MANY, ("  ", "a")), "Line 41 has an empty text"),
    "only punctuation": (_rows(*MANY, ("!!!", "a")), "empty text"),
    "no label": (_rows(*MANY, ("text", "")), "Line 41 has no label"),
    "three fields": (_rows(*MANY) + b"\na,b,c", "Line 41 has 3 fields"),
    "bad quotes": (_rows(*MANY) + b'\n"a"b,c', "not valid CSV"),
    "same text, two labels": (_rows(*MANY, ("text 0", "b")), "Lines 1 and 41 hold the same text"),
    "label column swapped": (_rows(*[(f"t{i}", f"a long text that is surely no label at all and number {i}") for i in range(3)]),
                             "is the label column the second one"),
}


@pytest.mark.parametrize("case", list(CSV_CASES))
def test_a_refused_file_gets_one_sentence(case):
    data, message = CSV_CASES[case]
    with pytest.raises(UserDataError) as err:
        parse_labelled(data, "data.csv")
    assert message in str(err.value) and "\n" not in str(err.value)


def test_too_many_rows_and_too_long_texts_are_refused(monkeypatch):
    monkeypatch.setattr(user_data, "MAX_ROWS", 30)
    with pytest.raises(UserDataError, match="more than 30 rows"):
        parse_labelled(_csv(), "x.csv")
    monkeypatch.setattr(user_data, "MAX_TEXT_CHARS", 10)
    with pytest.raises(UserDataError, match="over the limit of 10"):
        parse_labelled(_csv(20), "x.csv")


def test_a_dataset_is_kept_once_and_read_back_with_the_same_checks(tmp_path):
    data = parse_labelled(_csv(), "reviews.csv")
    dataset_id = save_dataset(data, tmp_path)
    assert save_dataset(data, tmp_path) == dataset_id  # the same rows: the same dataset
    back = load_dataset(dataset_id, tmp_path)
    assert back.texts == data.texts and back.labels.tolist() == data.labels.tolist()
    assert back.provenance["sha256"] == data.provenance["sha256"]
    path = user_data.dataset_path(dataset_id, tmp_path)
    record = json.loads(path.read_text())
    path.write_text(json.dumps({**record, "labels": [7] * len(record["labels"])}))
    with pytest.raises(UserDataError, match="damaged"):
        load_dataset(dataset_id, tmp_path)
    for bad in ("../../etc", "0" * 15, None):
        with pytest.raises(UserDataError):
            load_dataset(bad, tmp_path)


def test_the_split_is_stratified_seeded_and_disjoint():
    labels = np.array([0] * 50 + [1] * 30 + [2] * 20)
    train, val, test = split_indices(labels, seed=3)
    assert sorted(np.concatenate([train, val, test]).tolist()) == list(range(100))
    for part in (train, val, test):
        assert set(labels[part]) == {0, 1, 2}
    assert [len(val), len(test)] == [10, 10]
    assert all((a == b).all() for a, b in zip(split_indices(labels, 3), (train, val, test)))
    assert not all((a == b).all() for a, b in zip(split_indices(labels, 4), (train, val, test)))


def _csv_config(dataset_id: str, run_id: str = "my-csv") -> RunConfig:
    return RunConfig(run_id, ModelConfig("gru", 8, 6, num_classes=2),
                     TaskConfig("csv", 2, min_len=1, max_len=40, n_train=10**7, dataset=dataset_id),
                     TrainConfig(steps=20, batch_size=16, eval_every=10, patience=100))


def test_no_test_text_reaches_training():
    dataset_id = save_dataset(parse_labelled(_csv(), "reviews.csv"), store.user_store_dir())
    data = load_task(_csv_config(dataset_id).task)
    train = {" ".join(t) for t in data.train.tokens}
    assert not train & {" ".join(t) for t in data.test.tokens} and not train & {" ".join(t) for t in data.val.tokens}
    numbers = {tok for toks in data.test.tokens for tok in toks if tok.isdigit()}
    assert not numbers & set(data.vocab.itos)  # each text's number is unique: test words never enter the vocabulary
    assert (len(data.train), len(data.val), len(data.test)) == (48, 6, 6)


def test_a_csv_job_trains_analyzes_and_keeps_the_provenance():
    user = store.user_store_dir()
    dataset_id = save_dataset(parse_labelled(_csv(), "reviews.csv"), user)
    registry = JobRegistry(user)
    job = registry.create(_csv_config(dataset_id), owner="someone")
    assert run_job(job.job_id, registry, poll_s=0.01).state == "succeeded", registry.get(job.job_id).message
    bundle = store.load_path(user / "my-csv")
    meta = json.loads((bundle.path / "config.json").read_text())
    assert meta["provenance"]["dataset"]["file"] == "reviews.csv"
    assert meta["provenance"]["dataset"]["dataset"] == dataset_id and bundle.info["owner"] == "someone"
    assert bundle.metrics["n_test"] == 6 and bundle.class_names == ["neg", "pos"]
    assert bundle.analysis.pca is not None


def test_a_job_whose_dataset_is_gone_fails_with_a_sentence():
    registry = JobRegistry(store.user_store_dir())
    job = registry.create(_csv_config("0123456789abcdef", "orphan"))
    status = run_job(job.job_id, registry, poll_s=0.01)
    assert status.state == "failed" and "not in the user store" in status.message


def test_an_uploaded_model_is_analyzed_by_a_job(tiny_bundle, tmp_path):
    user = store.user_store_dir()
    folder = export_folder(tiny_bundle, tmp_path / "up")
    spec = json.loads((folder / "model.json").read_text())
    (folder / "model.json").write_text(json.dumps({**spec, "texts": TEXTS * 8}))
    imported = validate_import(read_folder(folder), "uploaded")
    token = stage_import(imported, user, owner="me")
    registry = JobRegistry(user)
    job = registry.create(imported.config, owner="me", action="import", source=token)
    assert job.estimate_s < 60
    assert run_job(job.job_id, registry, poll_s=0.01).state == "succeeded", registry.get(job.job_id).message
    bundle = store.load_path(user / "uploaded")
    assert bundle.analysis.pca is not None and bundle.info["owner"] == "me"
    assert not (user / ".imports" / token).exists()
    again = registry.create(imported.config.__class__(**{**imported.config.__dict__, "run_id": "again"}),
                            action="import", source=token)  # its upload was used up
    status = run_job(again.job_id, registry, poll_s=0.01)
    assert status.state == "failed" and "upload it again" in status.message
