"""The Train page's "your own data and model" card (issue 20), its callbacks as functions and through the app's
real endpoint: uploads are decoded under a cap, checked, and queued as jobs (none runs here: the launcher
records what it is handed); every refusal is one sentence."""
from __future__ import annotations

import base64
import json

import pytest

from core.importer import export_folder
from core.job_registry import JobLimits, JobRegistry
from dashboard import own_data
from dashboard.components import own_data_view
from dashboard.own_data import UploadRefused, csv_config, csv_preview, decode_upload, model_preview
from tests.core.test_importer import TEXTS
from tests.core.test_user_data import _csv
from tests.dashboard.test_job_access import RecordingLauncher
from tests.fuzzing import DashClient, check_dash_response


def upload(*files: tuple[str, bytes], mime: str = "application/octet-stream") -> dict:
    """What the browser's size check passes on: the names and data: URLs of the chosen files."""
    return {"names": [n for n, _ in files],
            "contents": [f"data:{mime};base64,{base64.b64encode(d).decode()}" for _, d in files]}


@pytest.fixture
def queue(dash_app, tmp_path, monkeypatch):
    """Jobs go to a scratch registry (its store is where uploads are kept) and to a recording launcher."""
    from dashboard import jobs as dashboard_jobs

    registry = lambda: JobRegistry(tmp_path, limits=JobLimits(max_estimate_s=3600))  # noqa: E731
    monkeypatch.setattr(dashboard_jobs, "job_registry", registry)
    launcher = RecordingLauncher()
    monkeypatch.setitem(dash_app.server.config, "ATTRACTORSCOPE_JOBS", launcher)
    return type("Queue", (), {"registry": staticmethod(registry), "launcher": launcher, "store": tmp_path})


@pytest.fixture
def model_files(tiny_bundle, tmp_path):
    folder = export_folder(tiny_bundle, tmp_path / "export")
    spec = json.loads((folder / "model.json").read_text())
    (folder / "model.json").write_text(json.dumps({**spec, "run_id": "my-upload", "texts": TEXTS * 8}))
    return [("model.json", (folder / "model.json").read_bytes()),
            ("model.safetensors", (folder / "model.safetensors").read_bytes())]


UPLOAD_CASES = {
    "nothing": (None, "No file was received"),
    "not an object": ("data:text/csv;base64,AAAA", "No file was received"),
    "names and contents disagree": ({"names": ["a"], "contents": []}, "No file was received"),
    "too many files": (upload(*[("a.csv", b"x")] * 5), "one to 4 files"),
    "not a data URL": ({"names": ["a.csv"], "contents": ["hello"]}, "damaged"),
    "bad base64": ({"names": ["a.csv"], "contents": ["data:text/csv;base64,@@@"]}, "damaged"),
    "over the cap": (upload(("a.csv", b"x" * (own_data.MAX_UPLOAD_BYTES + 1))), "over the limit of 5 MB"),
}


@pytest.mark.parametrize("case", list(UPLOAD_CASES))
def test_a_bad_upload_is_refused_in_one_sentence(case):
    value, message = UPLOAD_CASES[case]
    with pytest.raises(UploadRefused, match=message):
        decode_upload(value)
    assert csv_preview(value)[1] == ("" if value is None else csv_preview(value)[1])


@pytest.mark.parametrize("preview", [csv_preview, model_preview])
def test_a_refusal_quoting_a_file_name_with_a_lone_surrogate_can_be_sent_as_json(preview):
    # found by the fuzzer: the name is echoed in the refusal, and JSON cannot carry U+D800 (a 500 in Dash)
    message = preview({"names": ["C:\\Windows\\win.ini \ud800"], "contents": ["data:application/octet-stream;base64,"]})[1]
    assert message
    json.dumps(message, ensure_ascii=False).encode("utf-8")


def test_the_csv_preview_says_what_the_file_holds_or_what_to_fix():
    ok, message = csv_preview(upload(("reviews.csv", _csv())))
    assert ok and message == "Ready: 60 examples, 2 labels: neg 30, pos 30."
    ok, message = csv_preview(upload(("reviews.csv", "é,a\n".encode("latin-1"))))
    assert not ok and "not UTF-8" in message
    ok, message = csv_preview(upload(("a.csv", _csv()), ("b.csv", _csv())))
    assert not ok and message == "Choose one CSV or TSV file."


def test_the_csv_form_reuses_the_train_form_checks():
    from core.user_data import parse_labelled

    data = parse_labelled(_csv(), "reviews.csv")
    config, errors = csv_config(dict(own_data.CSV_DEFAULTS), data, "0123456789abcdef")
    assert errors == {} and config.task.name == "csv" and config.task.dataset == "0123456789abcdef"
    assert config.model.num_classes == 2 and config.run_id == "gru32-csv-012345"
    config, errors = csv_config({**own_data.CSV_DEFAULTS, "units": 1, "lr": "fast", "run_id": "Bad Name"}, data,
                                "0123456789abcdef", existing={"taken"})
    assert config is None and set(errors) == {"units", "lr", "run_id"}
    _, errors = csv_config({**own_data.CSV_DEFAULTS, "run_id": "taken"}, data, "0123456789abcdef", {"taken"})
    assert "exists" in errors["run_id"]


def test_the_csv_time_estimate_follows_the_length_of_the_texts():
    from core.job_registry import estimate_seconds
    from core.text import tokenize
    from core.user_data import parse_labelled

    data = parse_labelled(_csv(), "reviews.csv")
    config, _ = csv_config(dict(own_data.CSV_DEFAULTS), data, "0123456789abcdef")
    assert config.task.max_len == max(len(tokenize(t)) for t in data.texts) < own_data.CSV_MAX_TOKENS
    rows = [f"{'great ' * 300 if i % 2 else 'awful ' * 600}take {i},{'pos' if i % 2 else 'neg'}" for i in range(40)]
    long_data = parse_labelled(("text,label\n" + "\n".join(rows)).encode(), "long.csv")
    long_config, _ = csv_config(dict(own_data.CSV_DEFAULTS), long_data, "0123456789abcdef")
    assert long_config.task.max_len == own_data.CSV_MAX_TOKENS  # longer texts are still cut at the cap
    assert estimate_seconds(config) < estimate_seconds(long_config)


def test_training_on_an_uploaded_csv_queues_a_job_and_keeps_the_dataset(app_ctx, queue):
    queued, message, errors = own_data.start_csv_training(upload(("reviews.csv", _csv())), dict(own_data.CSV_DEFAULTS))
    assert queued and errors == {} and message.startswith("Queued gru32-csv-")
    job = queue.registry().list()[0]
    assert job.config["task"]["name"] == "csv" and queue.launcher.launched == [job.job_id]
    assert (queue.store / ".datasets" / job.config["task"]["dataset"] / "dataset.json").is_file()
    queued, message, _ = own_data.start_csv_training(upload(("one.csv", b"a,x\n" * 30)), {})
    assert not queued and "needs 2 to 10 different labels" in message


def test_an_uploaded_model_is_previewed_and_queued_for_its_analysis(app_ctx, queue, model_files):
    name, message = model_preview(upload(*model_files))
    assert name == "my-upload" and message.startswith("Ready: A GRU with 12 units, 2 classes")
    queued, message = own_data.start_import(upload(*model_files), "")
    assert queued and "my-upload" in message
    job = queue.registry().list()[0]
    assert job.action == "import" and (queue.store / ".imports" / job.source / "my-upload").is_dir()
    queued, message = own_data.start_import(upload(*model_files), "")  # the name is now taken by the queued job
    assert not queued and "my-upload" in message and len(list((queue.store / ".imports").iterdir())) == 1
    queued, message = own_data.start_import(upload(("model.json", b"{}"), ("model.pkl", b"\x80\x04")), "x")
    assert not queued and "pickle file" in message


def test_the_callbacks_answer_through_the_real_endpoint(dash_app, queue, model_files):
    client = DashClient(dash_app.server.test_client())
    accepted = upload(("reviews.csv", _csv()))
    response = check_dash_response(client.call("own-csv-summary.children", [("own-csv-accepted", "data", accepted)]))
    assert response["own-csv-summary"]["children"].startswith("Ready: 60 examples")
    states = [("own-csv-accepted", "data", accepted)] + [
        (f"own-csv-{n}", "value", v) for n, v in own_data.CSV_DEFAULTS.items()]
    response = check_dash_response(client.call("own-csv-message.children", [("own-csv-start", "n_clicks", 1)], states))
    assert response["own-csv-message"]["children"].startswith("Queued")
    response = check_dash_response(client.call("own-model-summary.children",
                                               [("own-model-accepted", "data", upload(*model_files))]))
    assert response["own-model-run-id"]["placeholder"] == "my-upload"
    response = check_dash_response(client.call("own-model-message.children", [("own-model-start", "n_clicks", 1)],
                                               [("own-model-accepted", "data", None), ("own-model-run-id", "value", "")]))
    assert response["own-model-message"]["children"] == "Choose a model to import first."


def test_the_browser_size_check_uses_the_server_cap():
    assert str(own_data.MAX_UPLOAD_BYTES) in own_data_view._ACCEPT_JS  # noqa: SLF001 - the JS is the contract here
