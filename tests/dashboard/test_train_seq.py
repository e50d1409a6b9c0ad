"""The Train page's sequence-to-sequence runs (issue 18) as functions and through the app's callback endpoint:
a sequence task swaps the Cell field for an encoder and hides Classes, validates into a SeqRunConfig, queues a
job that trains, analyzes and publishes an encoder-decoder, whose card and runs-table row open the Attention
page and which the session that trained it can delete."""
from __future__ import annotations

import json
import shutil

import pytest

from core import seq_store
from core.jobs import run_job
from core.seq2seq.config import SeqRunConfig
from dashboard.train_form import DEFAULTS, validate_form
from dashboard.train_seq_form import ENCODERS, cell_field_for
from tests.dashboard.test_job_access import ALICE, BOB, browser, delete, delete_buttons, jobs, poll, start  # noqa: F401
from tests.fuzzing import check_dash_response

TINY_SEQ = {"task": "seq-translate", "units": 8, "embed": 4, "steps": 10, "lr": 0.01}


def test_a_sequence_task_validates_into_a_seq_run_config():
    config, errors = validate_form({**DEFAULTS, "task": "seq-reverse", "cell": "ff", "classes": None})
    assert errors == {} and isinstance(config, SeqRunConfig) and config.kind == "seq2seq"
    assert (config.run_id, config.model.encoder, config.model.units, config.task.name) == \
        ("ff32-seq-reverse-s0", "ff", 32, "seq-reverse")
    assert config.train.steps == 400 and config.train.lr == 0.003 and config.task.seed == config.train.seed == 0


@pytest.mark.parametrize("field, value, message", [
    ("cell", "lstm", "choose an encoder"),
    ("units", 2, "an encoder-decoder needs at least 3 (its states are drawn in 3 dimensions)"),
    ("steps", 5, "must be from 10 to 20000"),
    ("embed", "x", "must be a number"),
])
def test_a_bad_sequence_field_is_explained_next_to_it(field, value, message):
    config, errors = validate_form({**DEFAULTS, "task": "seq-sort", field: value})
    assert config is None and errors == {field: message}


def test_a_classifier_cell_is_refused_for_a_sequence_task_and_an_encoder_for_a_classifier():
    assert validate_form({**DEFAULTS, "task": "categorical", "cell": "ff"})[1] == {"cell": "choose a cell type"}
    assert validate_form({**DEFAULTS, "task": "seq-scan", "cell": "relu"})[1] == {"cell": "choose an encoder"}


def test_the_cell_field_swaps_to_encoders_and_back():
    options, value, show_classes = cell_field_for("seq-translate", "gru")
    assert [o["value"] for o in options] == list(ENCODERS) and value == "gru" and not show_classes
    assert cell_field_for("seq-translate", "lstm")[1] == "gru"
    options, value, show_classes = cell_field_for("categorical", "ff")
    assert "lstm" in [o["value"] for o in options] and value == "gru" and show_classes


def test_the_swap_callback_answers_through_the_app(dash_app):
    client = browser(dash_app, ALICE)
    resp = check_dash_response(client.call("train-cell.options", [("train-task", "value", "seq-sort")],
                                           [("train-cell", "value", "relu")]))
    assert resp["train-cell"]["value"] == "gru" and resp["train-classes-box"]["style"] == {"display": "none"}
    assert [o["value"] for o in resp["train-cell"]["options"]] == list(ENCODERS)


def test_a_sequence_job_trains_and_its_model_opens_on_attention(dash_app, analyzed_store, jobs):  # noqa: F811
    alice, bob = browser(dash_app, ALICE), browser(dash_app, BOB)
    job_id, message = start(alice, run_id="alice-seq", **TINY_SEQ)
    assert job_id and message == "Queued alice-seq." and jobs.launcher.launched == [job_id]
    record = jobs.registry().get(job_id)
    assert record.kind == "seq2seq" and record.estimate_s > 0
    status = run_job(job_id, jobs.registry())
    assert status.state == "succeeded" and status.progress == 1.0 and len(status.curve) == 1
    assert set(status.curve[0]) == {"step", "train_loss", "val_accuracy", "val_loss"}
    bundle = seq_store.load_seq("alice-seq", jobs.registry().store_path)
    assert bundle.has_analysis and bundle.analysis.alignment_5.shape == (5,)
    assert bundle.info["owner"] and not bundle.info["bundled"]
    assert bundle.translate("cat dog").attn_uxs.shape[1] == 2
    # the jobs' store is a scratch folder; the app lists analyzed_store, so publish the run there too
    shutil.copytree(bundle.path, analyzed_store / "alice-seq")
    try:
        cards = poll(alice)
        assert "Open in Attention" in cards and "/attention?model=alice-seq" in cards
        assert "alice-seq" in delete_buttons(alice) and delete_buttons(bob) == []
        page = json.dumps(check_dash_response(alice.page("/attention", "?model=alice-seq")))
        assert "alice-seq" in page
        assert delete(bob, "alice-seq") == "Only the browser session that trained alice-seq can delete it."
        assert delete(alice, "alice-seq") == "Deleted alice-seq."
        assert not (analyzed_store / "alice-seq").exists()
    finally:
        shutil.rmtree(analyzed_store / "alice-seq", ignore_errors=True)


def test_a_sequence_estimate_grows_with_steps_length_and_size():
    from core.job_registry import estimate_seconds

    def estimate(**changes) -> float:
        return estimate_seconds(validate_form({**DEFAULTS, "task": "seq-reverse", **changes})[0])

    assert estimate(steps=800) > estimate(steps=400) > estimate(steps=100) > 5
    assert estimate(units=256) > estimate(units=32)
    assert estimate(task="seq-translate") == estimate(task="seq-reverse")  # same lengths (5-20)


def test_a_sequence_jobs_curve_names_its_measure_exact_match():
    from core.job_registry import JobStatus
    from dashboard.components.jobs_view import loss_figure

    curve = [{"step": 10, "train_loss": 1.0, "val_accuracy": 0.5}]
    seq = loss_figure(JobStatus("a1b2c3", "s", {}, kind="seq2seq", curve=curve))
    clf = loss_figure(JobStatus("a1b2c4", "c", {}, curve=curve))
    assert seq["layout"]["yaxis2"]["title"]["text"] == "val. exact match" and seq["data"][1]["name"] == "validation exact match"
    assert clf["layout"]["yaxis2"]["title"]["text"] == "val. accuracy"
