"""The Train page's form as plain functions: defaults validate, every bad field is explained next to that
field (and only there), fixed-class tasks force their class counts, run names are suggested and checked,
and the time estimate grows with the work asked for."""
from __future__ import annotations

import re

import pytest

from core.jobs import estimate_seconds
from dashboard.train_form import DEFAULTS, FIELDS, suggest_run_id, validate_form
from tests.conftest import TINY_RUN_ID

RUN_ID_MSG = "use 1–64 lowercase letters, digits, '-' or '_'"


def form(**changes) -> dict:
    return {**DEFAULTS, **changes}


def test_defaults_validate_into_a_runnable_config():
    config, errors = validate_form(form())
    assert errors == {}
    assert config.run_id == suggest_run_id(DEFAULTS) == "gru32-categorical3-s0"
    assert (config.model.cell, config.model.units, config.model.embed_dim) == ("gru", 32, 16)
    assert config.model.num_classes == config.task.num_classes == 3
    assert (config.train.steps, config.train.lr, config.train.seed) == (400, 0.003, 0)
    assert config.task.seed == 0 and not config.model.multilabel
    config.validate()


def test_every_form_field_has_a_default():
    assert set(FIELDS) == set(DEFAULTS)
    assert FIELDS[-1] == "run_id"


@pytest.mark.parametrize("field, value, message", [
    ("units", 1, "must be from 2 to 512"),
    ("units", 513, "must be from 2 to 512"),
    ("units", "abc", "must be a number"),
    ("units", "", "required"),
    ("units", None, "required"),
    ("classes", 11, "must be from 2 to 10"),
    ("classes", 1, "must be from 2 to 10"),
    ("embed", 0, "must be from 2 to 256"),
    ("embed", 2.5, "must be a whole number"),
    ("steps", 5, "must be from 10 to 20000"),
    ("steps", 20_001, "must be from 10 to 20000"),
    ("seed", -1, "must be from 0 to 2147483647"),
    ("lr", 0, "must be from 0.00001 to 0.1"),
    ("lr", 1, "must be from 0.00001 to 0.1"),
    ("lr", "fast", "must be a number"),
    ("lr", None, "required"),
    ("task", "bogus", "choose a task"),
    ("task", None, "choose a task"),
    ("cell", "transformer", "choose a cell type"),
    ("run_id", "Bad Name", RUN_ID_MSG),
    ("run_id", "../x", RUN_ID_MSG),
    ("run_id", "a/b", RUN_ID_MSG),
    ("run_id", "x" * 65, RUN_ID_MSG),
    ("run_id", "naïve", RUN_ID_MSG),
])
def test_a_bad_field_is_explained_next_to_that_field_only(field, value, message):
    config, errors = validate_form(form(**{field: value}))
    assert config is None
    assert errors == {field: message}


@pytest.mark.parametrize("field, value", [("units", 3.5), ("seed", 1.5)])
def test_a_fractional_number_is_explained_next_to_that_field_only(field, value):
    # regression: the blank Run name's suggestion once became "gru3.5-..." and showed an error of its own
    config, errors = validate_form(form(**{field: value}))
    assert config is None
    assert errors == {field: "must be a whole number"}


def test_several_bad_fields_are_all_reported_at_once():
    _, errors = validate_form(form(units=0, steps=5, lr=2, run_id="No"))
    assert set(errors) == {"units", "steps", "lr", "run_id"}


def test_whole_floats_and_numeric_strings_are_accepted():
    config, errors = validate_form(form(units="16", steps=40.0, lr="0.01", seed="7"))
    assert errors == {}
    assert (config.model.units, config.train.steps, config.train.lr, config.train.seed) == (16, 40, 0.01, 7)
    assert isinstance(config.model.units, int) and isinstance(config.train.steps, int)


@pytest.mark.parametrize("classes, ok", [(3, True), (5, True), (4, False), (2, False), (6, False)])
def test_ordered_ratings_have_three_or_five_classes(classes, ok):
    config, errors = validate_form(form(task="ordered", classes=classes))
    if ok:
        assert errors == {} and config.model.num_classes == config.task.num_classes == classes
    else:
        assert config is None and errors == {"classes": "the ordered task has 3 or 5 classes"}


@pytest.mark.parametrize("task, fixed", [("reviews", 2), ("stars", 5)])
@pytest.mark.parametrize("typed", [2, 3, 7, 10])
def test_real_text_tasks_force_their_class_count(task, fixed, typed):
    config, errors = validate_form(form(task=task, classes=typed))
    assert errors == {}
    assert config.model.num_classes == config.task.num_classes == fixed
    assert config.run_id == f"gru32-{task}{fixed}-s0"
    assert config.model.dropout > 0 and config.task.n_train >= 10**6  # the text-task settings


@pytest.mark.parametrize("task, fixed", [("reviews", 2), ("stars", 5)])
@pytest.mark.parametrize("typed", ["", None, 11, "abc"])
def test_real_text_tasks_ignore_the_class_field(task, fixed, typed):
    # the Classes field is not read for reviews/stars, so a value left there never blocks the job
    config, errors = validate_form(form(task=task, classes=typed))
    assert errors == {} and config.model.num_classes == fixed


def test_multilabel_sets_the_multilabel_head():
    config, errors = validate_form(form(task="multilabel", classes=4))
    assert errors == {}
    assert config.model.multilabel and config.model.num_classes == 4


def test_every_cell_type_validates():
    from core.config import CELL_TYPES

    for cell in CELL_TYPES:
        config, errors = validate_form(form(cell=cell))
        assert errors == {} and config.model.cell == cell


def test_run_id_taken_by_an_existing_model_or_a_queued_job():
    config, errors = validate_form(form(run_id="mine"), existing_run_ids={"mine", "other"})
    assert config is None
    assert errors == {"run_id": "a model with this name exists; choose another or delete it first"}


def test_run_id_of_a_bundled_model_is_read_only():
    message = "that name belongs to a bundled model; choose another"
    _, errors = validate_form(form(run_id="gru-cat3"), {"gru-cat3"}, {"gru-cat3"})
    assert errors == {"run_id": message}
    _, errors = validate_form(form(run_id="gru-cat3"), readonly_run_ids={"gru-cat3"})
    assert errors == {"run_id": message}


def test_the_suggested_name_is_checked_too():
    suggested = suggest_run_id(DEFAULTS)
    _, errors = validate_form(form(run_id=""), existing_run_ids={suggested})
    assert set(errors) == {"run_id"}
    _, errors = validate_form(form(run_id="   "), existing_run_ids={suggested})
    assert set(errors) == {"run_id"}


def test_a_run_name_is_trimmed():
    config, errors = validate_form(form(run_id="  my-run_2  "))
    assert errors == {} and config.run_id == "my-run_2"


def test_suggest_run_id():
    assert suggest_run_id(DEFAULTS) == "gru32-categorical3-s0"
    assert suggest_run_id(form(cell="relu", units=8, classes=5, seed=3)) == "relu8-categorical5-s3"
    assert suggest_run_id(form(task="reviews", classes=7)) == "gru32-reviews2-s0"
    assert suggest_run_id(form(task="stars")) == "gru32-stars5-s0"
    assert suggest_run_id({}) == "rnn-run-s0"  # never raises on an empty or half-filled form
    for odd in (form(units=3.5), form(seed=1.5), form(units="abc", cell="GRU"), form(units="x" * 100)):
        suggested = suggest_run_id(odd)
        assert re.fullmatch(r"[a-z0-9_-]{1,64}", suggested), suggested  # odd values never make an invalid name
    for values in (form(), form(cell="lstm", units=64, task="ordered", classes=5, seed=12)):
        config, errors = validate_form(values)
        assert errors == {} and config.run_id == suggest_run_id(values)


def _estimate(**changes) -> float:
    config, errors = validate_form(form(**changes))
    assert errors == {}
    return estimate_seconds(config)


def test_estimate_grows_with_steps_and_units():
    assert 0 < _estimate(steps=40) < _estimate(steps=400) < _estimate(steps=20_000)
    assert _estimate(units=8) < _estimate(units=64) < _estimate(units=512)
    assert _estimate(cell="tanh") < _estimate(cell="gru") < _estimate(cell="lstm")


def test_start_callback_puts_each_message_next_to_its_field(app_ctx):
    """The page's glue: the error outputs follow FIELDS, and a bad form creates no job."""
    from dashboard.jobs import job_registry
    from dashboard.pages import train

    before = len(job_registry().list())
    values = [form(units=1, run_id=TINY_RUN_ID)[name] for name in FIELDS]
    to_run, notice, *messages = train.start(1, *values)
    assert to_run is train.dash.no_update
    assert notice == "Please fix the fields marked in red."
    shown = dict(zip(FIELDS, messages))
    assert shown["units"] == "must be from 2 to 512"
    assert shown["run_id"] == "a model with this name exists; choose another or delete it first"
    assert all(shown[name] == "" for name in FIELDS if name not in ("units", "run_id"))
    assert len(job_registry().list()) == before


def test_loss_figure_plots_the_curve_as_a_valid_figure():
    import plotly.graph_objects as go

    from core.jobs import JobStatus
    from dashboard.components.jobs_view import loss_figure

    curve = [{"step": 10, "train_loss": 1.2, "val_accuracy": 0.4}, {"step": 20, "train_loss": 0.7, "val_accuracy": 0.8}]
    fig = go.Figure(loss_figure(JobStatus("j1", "my-run", {}, curve=curve)))  # go.Figure rejects a misspelt property
    loss, accuracy = fig.data
    assert list(loss.x) == [10, 20] and list(loss.y) == [1.2, 0.7] and list(accuracy.y) == [0.4, 0.8]
    assert accuracy.yaxis == "y2" and fig.layout.title.text == "my-run"
    empty = go.Figure(loss_figure(None))
    assert len(empty.data[0].x) == 0 and "appear here" in empty.layout.title.text
