"""The Train page's "your own model and data" section as plain functions: uploads decoded under a size cap,
checked by core (``core.user_data``, ``core.importer``), and handed to the job queue like any training.

An upload arrives as the ``data:...;base64,...`` strings of ``dcc.Upload``; a browser never sends one over
``MAX_UPLOAD_BYTES`` (a client-side check says so first), and a tampered request that does is refused here
before anything is decoded. Every answer for the user is one sentence.
"""
from __future__ import annotations

import base64
import binascii
import dataclasses
import shutil

from core.config import ConfigError, RunConfig, TaskConfig
from core.import_files import ImportRefused, read_uploads
from core.importer import IMPORTS, ImportedModel, stage_import, validate_import
from core.text import tokenize
from core.user_data import LabelledData, UserDataError, dataset_id, describe, parse_labelled, save_dataset
from dashboard import jobs
from dashboard.guard import echo_safe
from dashboard.session import client_owner
from dashboard.train_form import validate_form

__all__ = ["MAX_UPLOAD_BYTES", "CSV_FIELDS", "CSV_DEFAULTS", "UploadRefused", "decode_upload", "csv_preview",
           "csv_config", "start_csv_training", "model_preview", "start_import", "describe_import"]

MAX_UPLOAD_BYTES = 5 * 2**20      # per upload (all its files): base64 in an 8 MB request (app.MAX_REQUEST_BYTES)
MAX_UPLOAD_FILES = 4
CSV_DEFAULTS = {"cell": "gru", "units": 32, "embed": 32, "steps": 600, "lr": 0.003, "seed": 0, "run_id": ""}
CSV_FIELDS = tuple(CSV_DEFAULTS)
CSV_MAX_TOKENS = 400              # a text's tokens kept for training, as for the shipped corpora


class UploadRefused(ValueError):
    """The upload itself is unusable (missing, damaged, too big); the message is for the user."""


def decode_upload(upload) -> list[tuple[str, bytes]]:
    """(file name, bytes) of each file in an accepted upload ``{"names": [...], "contents": [...]}``."""
    if not isinstance(upload, dict) or not isinstance(upload.get("names"), list) \
            or not isinstance(upload.get("contents"), list) or len(upload["names"]) != len(upload["contents"]):
        raise UploadRefused("No file was received; choose a file.")
    names, contents = upload["names"], upload["contents"]
    if not 1 <= len(contents) <= MAX_UPLOAD_FILES or not all(isinstance(x, str) for x in names + contents):
        raise UploadRefused(f"Choose one to {MAX_UPLOAD_FILES} files.")
    if sum(len(c) for c in contents) > MAX_UPLOAD_BYTES * 4 // 3 + 400 * len(contents):
        raise UploadRefused(f"The upload is over the limit of {MAX_UPLOAD_BYTES // 2**20} MB.")
    files = []
    for name, content in zip(names, contents):
        head, comma, body = content.partition(",")
        if not comma or not head.startswith("data:") or not head.endswith(";base64"):
            raise UploadRefused("The upload is damaged; choose the file again.")
        try:
            files.append((name[:200], base64.b64decode(body, validate=True)))
        except (binascii.Error, ValueError):
            raise UploadRefused("The upload is damaged; choose the file again.") from None
    if sum(len(data) for _, data in files) > MAX_UPLOAD_BYTES:
        raise UploadRefused(f"The upload is over the limit of {MAX_UPLOAD_BYTES // 2**20} MB.")
    return files


def _labelled(upload) -> LabelledData:
    files = decode_upload(upload)
    if len(files) != 1:
        raise UploadRefused("Choose one CSV or TSV file.")
    name, data = files[0]
    return parse_labelled(data, name)


def csv_preview(upload) -> tuple[bool, str]:
    """(usable, one sentence): what the uploaded file holds, or why it cannot be used."""
    if upload is None:
        return False, ""
    try:
        return True, echo_safe("Ready: " + describe(_labelled(upload)))
    except (UploadRefused, UserDataError) as err:
        return False, echo_safe(str(err))  # messages quote the file's own names and lines


def csv_config(values: dict, data: LabelledData, dataset_id: str, existing: set[str] = frozenset(),
               readonly: set[str] = frozenset()) -> tuple[RunConfig | None, dict[str, str]]:
    """The Train form's own checks (dashboard.train_form) on these fields, with the csv task in place of a
    synthetic one: a RunConfig, or None and a message per bad field."""
    form = {**{k: values.get(k) for k in CSV_FIELDS}, "task": "categorical", "classes": len(data.class_names)}
    if not form.get("run_id"):
        form["run_id"] = f"{values.get('cell') or 'rnn'}{values.get('units') or ''}-csv-{dataset_id[:6]}"
    config, errors = validate_form(form, existing, readonly)
    if config is None:
        return None, {k: v for k, v in errors.items() if k in CSV_FIELDS or k == "form"}
    # max_len: the tokens a text keeps, here no more than the longest text has, which changes no text and lets the
    # job's time estimate (core.job_registry.estimate_seconds) see how long the texts are
    longest = max((len(tokenize(t, max_tokens=CSV_MAX_TOKENS)) for t in data.texts), default=1)
    task = TaskConfig("csv", len(data.class_names), min_len=1, max_len=max(1, min(CSV_MAX_TOKENS, longest)), n_train=10**7,
                      vocab_cap=10_000, seed=config.task.seed, dataset=dataset_id)
    try:
        config = dataclasses.replace(config, task=task, model=dataclasses.replace(config.model, dropout=0.3))
        config.validate()
    except ConfigError as err:
        return None, {"form": str(err)}
    return config, {}


def start_csv_training(upload, values: dict) -> tuple[bool, str, dict[str, str]]:
    """Check the file and the fields, keep the dataset, queue the job: (queued, sentence, field errors)."""
    try:
        data = _labelled(upload)
    except (UploadRefused, UserDataError) as err:
        return False, echo_safe(str(err)), {}
    config, errors = csv_config(values, data, dataset_id(data), *jobs.run_ids())
    if config is None:
        return False, errors.pop("form", "Please fix the fields marked in red."), errors
    registry = jobs.job_registry()
    save_dataset(data, registry.store_path)  # where the job runs and finds it
    job, message = jobs.submit_job(config, registry)
    return job is not None, message, {}


def describe_import(imported: ImportedModel) -> str:
    m, texts = imported.config.model, imported.texts
    names = ", ".join(n[:20] for n in imported.info["class_names"])
    return (f"A {m.cell.upper()} with {m.units} units, {m.num_classes} classes ({names}) and {len(imported.vocab):,} "
            f"words; its analysis will read {len(texts):,} texts ({texts.provenance['texts']}).")


def model_preview(upload) -> tuple[str, str]:
    """(the model's name in its JSON or "", one sentence): what the upload holds, or why it cannot be imported."""
    if upload is None:
        return "", ""
    try:
        imported = validate_import(read_uploads(decode_upload(upload)), label=False)  # no labels needed to show it
    except (UploadRefused, ImportRefused) as err:
        return "", echo_safe(str(err))  # messages quote the file's own names and keys
    return imported.config.run_id, echo_safe("Ready: " + describe_import(imported))


def start_import(upload, run_id) -> tuple[bool, str]:
    """Check the upload again, stage it, queue its analysis: (queued, one sentence)."""
    name = run_id.strip() if isinstance(run_id, str) and run_id.strip() else None
    try:
        imported = validate_import(read_uploads(decode_upload(upload)), name)
    except (UploadRefused, ImportRefused) as err:
        return False, echo_safe(str(err))
    existing, readonly = jobs.run_ids()
    if imported.config.run_id in existing | readonly:
        return False, f"A model named {imported.config.run_id} exists; choose another name."
    registry = jobs.job_registry()
    token = stage_import(imported, registry.store_path, owner=client_owner())
    job, message = jobs.submit_job(imported.config, registry, action="import", source=token)
    if job is None:
        shutil.rmtree(registry.store_path / IMPORTS / token, ignore_errors=True)
        return False, message
    return True, f"Queued the analysis of {imported.config.run_id}; it appears in every model picker when done."
