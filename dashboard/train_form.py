"""The Train page's form as plain functions: defaults, validation with per-field messages, a RunConfig."""
from __future__ import annotations

import re

from core.cells import CELLS
from core.config import CELL_TYPES, RUN_ID_RE, ConfigError, ModelConfig, RunConfig, TaskConfig, TrainConfig
from core.job_registry import MIN_STATE_SIZE
from core.presets import TEXT_TASKS, pretrained_for, text_task
from dashboard.train_seq_form import ENCODERS, SEQ_TASK_OPTIONS, is_seq_task, seq_run_from_form

__all__ = ["FIELDS", "DEFAULTS", "TASK_OPTIONS", "validate_form", "suggest_run_id"]

TASK_OPTIONS = [
    {"label": "Synthetic: N-class evidence counting", "value": "categorical"},
    {"label": "Synthetic: ordered ratings (3 or 5)", "value": "ordered"},
    {"label": "Synthetic: multi-label", "value": "multilabel"},
    {"label": "IMDB movie reviews (2 classes; 50-d embeddings start from GloVe)", "value": "imdb"},
    {"label": "Movie snippets (Rotten Tomatoes, one sentence, 2 classes)", "value": "reviews"},
    {"label": "Clothing reviews (1–5 stars)", "value": "stars"},
    *SEQ_TASK_OPTIONS,
]
FIXED_CLASSES = TEXT_TASKS
DEFAULTS = {"task": "categorical", "classes": 3, "cell": "gru", "units": 32, "embed": 16, "steps": 400,
            "lr": 0.003, "seed": 0, "run_id": ""}
# field -> (low, high) for the numeric ones
RANGES = {"classes": (2, 10), "units": (2, 512), "embed": (2, 256), "steps": (10, 20_000), "seed": (0, 2**31 - 1)}
FIELDS = tuple(DEFAULTS)


def suggest_run_id(values: dict) -> str:
    task = _text(values.get("task")) or "run"
    classes = "" if is_seq_task(task) else FIXED_CLASSES.get(task, values.get("classes") or "")
    name = f"{_text(values.get('cell')) or 'rnn'}{values.get('units') or ''}-{task}{classes}-s{values.get('seed') or 0}"
    return re.sub(r"[^a-z0-9_-]+", "-", str(name).lower())[:64]  # odd field values never make an invalid name


def _text(value) -> str | None:
    """Form text as sent by the browser; anything else (a tampered request) counts as missing."""
    return value if isinstance(value, str) else None


def _number(name: str, value, errors: dict, integer: bool = True):
    if value is None or value == "":
        errors[name] = "required"
        return None
    try:
        number = int(value) if integer and float(value) == int(float(value)) else float(value)
    except (TypeError, ValueError, OverflowError):
        errors[name] = "must be a number"
        return None
    if integer and not isinstance(number, int):
        errors[name] = "must be a whole number"
        return None
    low, high = RANGES.get(name, (None, None))
    if low is not None and not low <= number <= high:
        errors[name] = f"must be from {low} to {high}"
        return None
    return number


def _too_small(cell: str, units: int) -> str:
    """Why the analysis could not draw a model with this many units ("" if it can)."""
    fewest = next(u for u in range(1, MIN_STATE_SIZE + 1) if CELLS[cell].state_size(u) >= MIN_STATE_SIZE)
    if units >= fewest:
        return ""
    return f"a {cell.upper()} needs at least {fewest} (the analysis draws the state in {MIN_STATE_SIZE} dimensions)"


def validate_form(values: dict, existing_run_ids: set[str] = frozenset(),
                  readonly_run_ids: set[str] = frozenset()) -> tuple[RunConfig | None, dict[str, str]]:
    """A validated RunConfig (a SeqRunConfig for a sequence task), or None and a message per bad field."""
    errors: dict[str, str] = {}
    task, cell, name = (_text(values.get(key)) for key in ("task", "cell", "run_id"))
    seq = is_seq_task(task)
    if task not in FIXED_CLASSES and task not in ("categorical", "ordered", "multilabel") and not seq:
        errors["task"] = "choose a task"
    if cell not in (ENCODERS if seq else CELL_TYPES):
        errors["cell"] = "choose an encoder" if seq else "choose a cell type"
    # reviews and stars fix their class count, and sequence tasks have none, so Classes is not read for them
    numeric = ("units", "embed", "steps", "seed") if task in FIXED_CLASSES or seq else ("classes", "units", "embed", "steps", "seed")
    numbers = {name: _number(name, values.get(name), errors) for name in numeric}
    if not seq and cell in CELL_TYPES and numbers.get("units") is not None \
            and (problem := _too_small(cell, numbers["units"])):
        errors["units"] = problem
    if seq and numbers.get("units") is not None and numbers["units"] < MIN_STATE_SIZE:
        errors["units"] = f"an encoder-decoder needs at least {MIN_STATE_SIZE} (its states are drawn in 3 dimensions)"
    lr = _number("lr", values.get("lr"), errors, integer=False)
    if lr is not None and not 1e-5 <= lr <= 0.1:
        errors["lr"] = "must be from 0.00001 to 0.1"
    classes = FIXED_CLASSES.get(task, numbers.get("classes"))
    if task == "ordered" and classes not in (3, 5, None):
        errors["classes"] = "the ordered task has 3 or 5 classes"
    run_id = name.strip() if name is not None and name.strip() else suggest_run_id(values)
    if name is None and values.get("run_id") not in (None, ""):
        run_id = ""  # a tampered non-text name is refused below, not replaced by a suggestion
    if not RUN_ID_RE.fullmatch(run_id):
        errors["run_id"] = "use 1–64 lowercase letters, digits, '-' or '_'"
    elif run_id in readonly_run_ids:
        errors["run_id"] = "that name belongs to a bundled model; choose another"
    elif run_id in existing_run_ids:
        errors["run_id"] = "a model with this name exists; choose another or delete it first"
    if errors:
        return None, errors
    is_text = task in FIXED_CLASSES
    steps = numbers["steps"]
    try:
        if seq:
            return seq_run_from_form(run_id, task, cell, numbers["units"], numbers["embed"], steps, lr,
                                     numbers["seed"]), {}
        config = RunConfig(
            run_id=run_id,
            model=ModelConfig(cell, numbers["units"], numbers["embed"], num_classes=classes,
                              multilabel=task == "multilabel", dropout=0.3 if is_text else 0.0,
                              pretrained=pretrained_for(task, numbers["embed"])),
            task=text_task(task, numbers["seed"]) if is_text else TaskConfig(
                task, classes, seed=numbers["seed"], n_train=8000, n_val=1000, n_test=1000),
            train=TrainConfig(steps=steps, lr=lr, seed=numbers["seed"], eval_every=max(10, steps // 20),
                              patience=10_000, bucketed=task == "imdb"),
        )
        config.validate()
    except ConfigError as err:
        return None, {"form": str(err)}
    return config, {}
