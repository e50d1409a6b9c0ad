"""Model bundles on disk: load (validated), save (atomic), list, delete, clean up after crashes.

Models are listed from two stores: the bundled one (``store_dir()``, ATTRACTORSCOPE_STORE, default
``models_store/``: shipped, read-only) and the user one (``user_store_dir()``, ATTRACTORSCOPE_USER_STORE,
default ``user_models/``, git-ignored: what users train lands there). A bundle is a folder ``<store>/<run_id>/`` with ``config.json``, ``model.safetensors``,
``vocab.json`` and, once analyzed, ``analysis.npz``. Loading checks every file and raises
``BundleError`` with one sentence a user can act on; nothing is ever unpickled. Writes go through
``core.atomic`` (a temp folder renamed into place). The loaded ``Bundle`` and its ``Trajectory``
live in ``core.bundle`` and are importable from here, as the README's Python API shows.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from core import atomic
from core.analysis_file import NOT_ANALYZED, analysis_problem
from core.bundle import MAX_TOKENS, Bundle, Trajectory
from core.config import RUN_ID_RE, SCHEMA_VERSION, ConfigError, RunConfig, RunIdError, store_dir, user_store_dir
from core.config import check_run_id as check_slug
from core.models import RNNClassifier
from core.text import Vocab, VocabError

__all__ = [
    "load_weights",
    "BundleError", "Bundle", "BundleSummary", "read_only_summary", "Trajectory", "MAX_TOKENS", "check_run_id", "bundle_path",
    "save_bundle", "load", "load_path", "list_bundles", "bundle_summary", "delete_bundle", "cleanup_temp",
    "file_sha256", "store_dir", "user_store_dir", "store_dirs", "unique_stores", "find_bundle",
]

MAX_JSON_BYTES = 2_000_000
BUNDLE_FILES = ("config.json", "model.safetensors", "vocab.json", "analysis.npz", "checkpoints.safetensors")


class BundleError(Exception):
    """A bundle cannot be used; the message is one sentence a user can act on."""


def check_run_id(run_id: Any) -> str:
    """``core.config.check_run_id``, raising BundleError: a bad run id names no bundle."""
    try:
        return check_slug(run_id)
    except RunIdError as err:
        raise BundleError(str(err)) from None


def bundle_path(run_id: str, store: Path | None = None) -> Path:
    """The folder of a run in the store; raises BundleError for a bad run id or a symbolic link."""
    path = Path(store or store_dir()) / check_run_id(run_id)
    _refuse_links(path)
    return path


def unique_stores(*stores: Path | str | None) -> tuple[Path, ...]:
    """The given store folders in order, each once (None skipped; the same folder under two spellings counts once)."""
    out: list[Path] = []
    for store in stores:
        if store is not None and not any(os.path.abspath(store) == os.path.abspath(seen) for seen in out):
            out.append(Path(store))
    return tuple(out)


def store_dirs() -> tuple[Path, ...]:
    """Where models are listed from: the bundled store first, then the user store (once if they are one folder)."""
    return unique_stores(store_dir(), user_store_dir())


def find_bundle(run_id: str, stores: tuple[Path, ...] | None = None) -> Path:
    """The folder of a run in the first store holding it (bundled first); its path in the first store if none does."""
    stores = stores or store_dirs()
    for root in stores:
        path = bundle_path(run_id, root)
        if os.path.lexists(path):
            return path
    return bundle_path(run_id, stores[0])


def _refuse_links(path: Path) -> None:
    """The store serves only what is inside it: a symlinked bundle folder or file could point anywhere."""
    if path.is_symlink() or any((path / name).is_symlink() for name in BUNDLE_FILES):
        raise BundleError(f"{path.name!r} is or holds a symbolic link, which the store never follows; "
                          "replace the link with a copy.")


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@dataclass(frozen=True)
class BundleSummary:
    run_id: str
    ok: bool
    reason: str = ""
    task: str = ""
    cell: str = ""
    units: int = 0
    num_classes: int = 0
    size_bytes: int = 0
    metrics: dict = field(default_factory=dict)
    has_analysis: bool = False      # analysis.npz is there, readable, current and free of object arrays
    bundled: bool = False           # shipped with the app: read-only
    analysis_reason: str = ""       # why there is no usable analysis (one sentence), "" when there is
    owner: str = ""                 # the browser session whose job trained it (core.job_registry), "" if none
    kind: str = "classifier"        # or "seq2seq": an encoder-decoder (core.seq_store), for the Attention page only

    @property
    def analysis_damaged(self) -> bool:
        """analysis.npz is there but unusable (damaged, stale or unsafe), as opposed to not computed yet."""
        return bool(self.analysis_reason) and self.analysis_reason != NOT_ANALYZED


def _read_json(path: Path, what: str) -> Any:
    if not path.is_file():
        raise BundleError(f"the bundle has no {path.name}; re-save or re-train it.")
    if path.stat().st_size > MAX_JSON_BYTES:
        raise BundleError(f"{path.name} is larger than {MAX_JSON_BYTES // 1_000_000} MB, which no valid {what} is.")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, RecursionError) as err:  # bad UTF-8, bad JSON, absurd numbers or nesting
        raise BundleError(f"{path.name} is not valid JSON ({err.__class__.__name__}).") from None


def load_path(path: str | os.PathLike) -> Bundle:
    """Load and validate a bundle folder; raises BundleError with a one-sentence reason."""
    path = Path(path)
    if not path.is_dir():
        raise BundleError(f"no bundle folder at {path.name!r}; list the available runs with `python -m core list`.")
    meta = _read_json(path / "config.json", "config")
    if not isinstance(meta, dict):
        raise BundleError("config.json must hold a JSON object.")
    version = meta.get("schema_version")
    if type(version) is not int or version != SCHEMA_VERSION:
        raise BundleError(f"config.json has schema_version {str(version)[:20]!r}, this app reads {SCHEMA_VERSION}.")
    if meta.get("kind", "classifier") != "classifier":
        raise BundleError(f"{path.name!r} is a sequence-to-sequence model, not a classifier: open it on the "
                          "Attention page.")
    try:
        config = RunConfig.from_dict(meta.get("run"))
    except ConfigError as err:
        raise BundleError(f"config.json is invalid: {_clip(err)}") from None
    try:
        vocab = Vocab.from_json(_read_json(path / "vocab.json", "vocabulary"))
    except VocabError as err:
        raise BundleError(f"vocab.json is invalid: {_clip(err)}.") from None
    if len(vocab) != config.model.vocab_size:
        raise BundleError(f"vocab.json has {len(vocab)} words but the model expects {config.model.vocab_size}.")
    model = load_weights(path / "model.safetensors", RNNClassifier(config.model))
    info = meta.get("task_info")
    if not isinstance(info, dict) or not isinstance(info.get("class_names"), list) \
            or len(info["class_names"]) != config.model.num_classes:
        raise BundleError("config.json task_info must list one name per class.")
    metrics = meta.get("metrics") if isinstance(meta.get("metrics"), dict) else {}
    return Bundle(config.run_id, path, config, model, vocab, info, metrics, file_sha256(path / "model.safetensors"))


def _clip(err: Exception, limit: int = 160) -> str:
    """An error's text short enough for one line of the UI: a tampered value may be thousands of digits."""
    text = str(err)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def load_weights(path: Path, model: torch.nn.Module) -> torch.nn.Module:
    """``model`` with the weights in model.safetensors at ``path`` (classifier or seq2seq), in eval mode;
    BundleError unless the file holds exactly its names and shapes, as finite float32."""
    if not path.is_file():
        raise BundleError("the bundle has no model.safetensors; re-train or re-save it.")
    try:
        tensors = load_file(str(path))
    except (SafetensorError, OSError, ValueError, RuntimeError) as err:
        raise BundleError(f"model.safetensors is unreadable (truncated or corrupt: {str(err)[:80]}).") from None
    expected = model.state_dict()
    if set(tensors) != set(expected):
        missing, extra = sorted(set(expected) - set(tensors)), sorted(set(tensors) - set(expected))
        raise BundleError(f"model.safetensors does not match the config (missing {missing[:3]}, extra {extra[:3]}).")
    for name, tensor in tensors.items():
        if tensor.shape != expected[name].shape:
            raise BundleError(f"weight {name} has shape {tuple(tensor.shape)}, the config implies {tuple(expected[name].shape)}.")
        if tensor.dtype != torch.float32 or not torch.isfinite(tensor).all():
            raise BundleError(f"weight {name} is not finite float32.")
    model.load_state_dict(tensors, strict=True)
    model.eval()
    return model


def load(run_id: str, store: Path | None = None) -> Bundle:
    """A run from ``store``, or (none given) from the bundled store or else the user store."""
    return load_path(bundle_path(run_id, store) if store else find_bundle(run_id))


def save_bundle(config: RunConfig, model: RNNClassifier, vocab: Vocab, info: dict, metrics: dict,
                provenance: dict, store: Path | None = None, extra_files: dict[str, Path] | None = None) -> Path:
    """Write a bundle atomically; returns its folder. An existing bundle with that run id is replaced."""
    config.validate()
    store = Path(store or store_dir())
    target = bundle_path(config.run_id, store)
    tmp = atomic.new_temp_dir(store, config.run_id)
    try:
        tensors = {k: v.detach().contiguous().to(torch.float32).cpu() for k, v in model.state_dict().items()}
        save_file(tensors, str(tmp / "model.safetensors"))
        (tmp / "vocab.json").write_text(json.dumps(vocab.to_json(), ensure_ascii=False), encoding="utf-8")
        meta = {"schema_version": SCHEMA_VERSION, "run": config.to_dict(), "task_info": info,
                "metrics": _jsonable(metrics), "provenance": provenance,
                "weights_sha256": file_sha256(tmp / "model.safetensors")}
        (tmp / "config.json").write_text(json.dumps(meta, indent=1, ensure_ascii=False), encoding="utf-8")
        for name, src in (extra_files or {}).items():
            shutil.copyfile(src, tmp / name)
        atomic.replace_dir(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return target


def _jsonable(value):
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, (np.floating, np.integer)):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    return value


def _dir_size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.iterdir() if p.is_file())


def delete_bundle(run_id: str, store: Path | None = None) -> None:
    """Remove a user-trained bundle from ``store`` (default: the user store); bundled (shipped) ones are read-only."""
    path = bundle_path(run_id, store or user_store_dir())
    if not path.is_dir():
        if store is None and os.path.lexists(find_bundle(run_id)):
            raise BundleError(f"{run_id!r} ships with attractorscope and is read-only.")
        raise BundleError(f"there is no model {run_id!r} to delete.")
    meta = _read_json(path / "config.json", "config") if (path / "config.json").is_file() else {}
    if isinstance(meta, dict) and isinstance(meta.get("task_info"), dict) and meta["task_info"].get("bundled"):
        raise BundleError(f"{run_id!r} ships with attractorscope and is read-only.")
    atomic.remove_dir(path)


def list_bundles(store: Path | None = None) -> list[BundleSummary]:
    """Every bundle folder in ``store``, or (none given) in the bundled and the user store together, loadable or not
    (with the reason), sorted by run id. With two stores, the bundled store's runs are read-only (``bundled``) and
    a user run under a bundled run's name is not listed."""
    stores = (Path(store),) if store else store_dirs()
    rows: dict[str, BundleSummary] = {}
    for i, root in enumerate(stores):
        for path in sorted(root.iterdir()) if root.is_dir() else ():
            if path.is_dir() and not path.name.startswith(".") and path.name not in rows:
                rows[path.name] = read_only_summary(bundle_summary(path), len(stores) > 1 and i == 0)
    return [rows[name] for name in sorted(rows)]


def read_only_summary(summary: BundleSummary, in_bundled_store: bool) -> BundleSummary:
    """The summary, marked bundled (read-only) when it lives in the bundled store of a two-store setup."""
    return dataclasses.replace(summary, bundled=True) if in_bundled_store and not summary.bundled else summary


def bundle_summary(path: Path) -> BundleSummary:
    """One folder of the store, loadable or not (with the reason)."""
    if not RUN_ID_RE.fullmatch(path.name):
        return BundleSummary(path.name[:64], False, "folder name is not a valid run id.")
    try:
        _refuse_links(path)
        if (kind := bundle_kind(path)) != "classifier":
            return _other_kind_summary(path, kind)
        bundle = load_path(path)
    except BundleError as err:
        return BundleSummary(path.name, False, str(err), size_bytes=0 if path.is_symlink() else _dir_size(path))
    return _summary(bundle, _dir_size(path))


def _summary(bundle: Bundle, size_bytes: int) -> BundleSummary:
    # headers and two scalars only: this runs on every listing, every few seconds per worker
    problem = analysis_problem(bundle.path / "analysis.npz", bundle.weights_sha256)
    cfg = bundle.config
    return BundleSummary(
        bundle.path.name, True, "", cfg.task.name, cfg.model.cell, cfg.model.units, cfg.model.num_classes,
        size_bytes, bundle.metrics, not problem, bool(bundle.info.get("bundled")), problem,
        owner if isinstance(owner := bundle.info.get("owner"), str) else "")


def bundle_kind(path: Path) -> str:
    """The kind of model config.json says the folder holds: "classifier" (also when it says none) or "seq2seq"."""
    try:
        meta = _read_json(Path(path) / "config.json", "config")
    except BundleError:
        return "classifier"
    kind = meta.get("kind", "classifier") if isinstance(meta, dict) else "classifier"
    return kind if isinstance(kind, str) and kind else "classifier"


def _other_kind_summary(path: Path, kind: str) -> BundleSummary:
    """A listing row for a model that is not a classifier (an encoder-decoder, core.seq_store), read from its
    config.json alone; loading it (``core.seq_store.load_seq``) checks the rest."""
    meta = _read_json(path / "config.json", "config")
    run = meta.get("run") if isinstance(meta.get("run"), dict) else {}
    model, task = run.get("model") or {}, run.get("task") or {}
    if meta.get("schema_version") != SCHEMA_VERSION or not (path / "model.safetensors").is_file() \
            or not isinstance(model, dict) or not isinstance(task, dict):
        return BundleSummary(path.name, False, "config.json or model.safetensors is missing or invalid.",
                             size_bytes=_dir_size(path), kind=kind)
    problem = analysis_problem(path / "analysis.npz", file_sha256(path / "model.safetensors"))
    info = meta.get("task_info") if isinstance(meta.get("task_info"), dict) else {}
    units = model.get("units") if isinstance(model.get("units"), int) else 0
    return BundleSummary(path.name, True, "", str(task.get("name", ""))[:40], str(model.get("encoder", ""))[:20],
                         units, 0, _dir_size(path), meta["metrics"] if isinstance(meta.get("metrics"), dict) else {},
                         not problem, bool(info.get("bundled")), problem,
                         owner if isinstance(owner := info.get("owner"), str) else "", kind=kind)


def cleanup_temp(store: Path | None = None, min_age_s: float = 0.0) -> list[str]:
    """Remove what crashed writers left in the store (``core.atomic.cleanup``): temp and trash folders,
    and staged files inside bundle folders; put back a bundle whose replacement never arrived.

    Returns the names removed: folders by name, files as ``<run_id>/<file name>``.
    """
    return atomic.cleanup(Path(store or store_dir()), lambda name: bool(RUN_ID_RE.fullmatch(name)), min_age_s)
