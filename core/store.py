"""Model bundles on disk: save (atomic), load (validated), list, clean up.

A bundle is a folder ``<store>/<run_id>/`` with ``config.json``, ``model.safetensors``,
``vocab.json`` and, once analyzed, ``analysis.npz``. Nothing is ever unpickled.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from core.config import SCHEMA_VERSION, ConfigError, RunConfig, store_dir
from core.models import RNNClassifier
from core.text import Vocab, VocabError, tokenize

__all__ = [
    "BundleError", "Bundle", "BundleSummary", "Trajectory", "MAX_TOKENS", "check_run_id",
    "bundle_path", "save_bundle", "load", "load_path", "list_bundles", "cleanup_temp", "file_sha256",
    "atomic_replace_dir", "new_temp_dir", "delete_bundle", "pid_alive",
]

RUN_ID_RE = re.compile(r"^[a-z0-9_-]{1,64}$")
MAX_JSON_BYTES = 2_000_000
MAX_TOKENS = 2000
TEMP_PREFIX, TRASH_PREFIX = ".tmp-", ".trash-"
REPLACED_PREFIX = ".replaced-"  # the previous version of a bundle while its replacement moves in


class BundleError(Exception):
    """A bundle cannot be used; the message is one sentence a user can act on."""


def check_run_id(run_id: Any) -> str:
    if not isinstance(run_id, str) or not RUN_ID_RE.fullmatch(run_id):
        raise BundleError(f"{str(run_id)[:80]!r} is not a valid run id: use 1-64 of a-z, 0-9, '-' and '_'.")
    return run_id


def bundle_path(run_id: str, store: Path | None = None) -> Path:
    return Path(store or store_dir()) / check_run_id(run_id)


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@dataclass(frozen=True)
class Trajectory:
    tokens: list[str]
    ids: np.ndarray          # (t,)
    known: np.ndarray        # (t,) bool, False where the word mapped to <unk>
    states_txn: np.ndarray   # float32
    probs_txk: np.ndarray    # float32, class probabilities after each token
    xyz_tx3: np.ndarray | None  # stored-PCA projection, None without an analysis
    truncated: bool          # the text had more than MAX_TOKENS tokens


@dataclass
class Bundle:
    run_id: str
    path: Path
    config: RunConfig
    model: RNNClassifier
    vocab: Vocab
    info: dict                      # class_names, examples, ordered, multilabel, source
    metrics: dict
    weights_sha256: str
    _analysis: Any = field(default=None, repr=False)

    @property
    def class_names(self) -> list[str]:
        return list(self.info["class_names"])

    @property
    def analysis(self):
        """The precomputed analysis (core.analysis.Analysis); raises AnalysisError if missing or stale."""
        if self._analysis is None:
            from core.analysis import load_analysis

            self._analysis = load_analysis(self.path / "analysis.npz", self.weights_sha256)
        return self._analysis

    @property
    def has_analysis(self) -> bool:
        return (self.path / "analysis.npz").is_file()

    def encode(self, text: str, max_tokens: int = MAX_TOKENS) -> tuple[list[str], list[int], bool]:
        tokens = tokenize(text, max_tokens=max_tokens + 1)
        truncated = len(tokens) > max_tokens
        tokens = tokens[:max_tokens]
        return tokens, self.vocab.encode(tokens), truncated

    @torch.no_grad()
    def initial_probs(self) -> np.ndarray:
        """The prediction before any token is read (from the initial state), probs_k."""
        state = self.model.initial_state(1)
        return self.model.probabilities(self.model.readout(state))[0].numpy().astype(np.float32)

    @torch.no_grad()
    def predict(self, texts: list[str]) -> np.ndarray:
        """Class probabilities after the last token of each text, probs_bxk."""
        encoded = [self.encode(t)[1] for t in texts]
        lengths = torch.tensor([len(ids) for ids in encoded])
        width = max(1, int(lengths.max())) if encoded else 1
        ids = torch.zeros(len(encoded), width, dtype=torch.long)
        for row, seq in enumerate(encoded):
            ids[row, : len(seq)] = torch.tensor(seq, dtype=torch.long)
        final = self.model.run(ids, lengths)[:, -1]  # zero-length rows hold the initial (zero) state
        return self.model.probabilities(self.model.readout(final)).numpy().astype(np.float32)

    @torch.no_grad()
    def trajectory(self, text: str, max_tokens: int = MAX_TOKENS, project: bool = True) -> Trajectory:
        tokens, ids, truncated = self.encode(text, max_tokens)
        ids_arr = np.asarray(ids, dtype=np.int64)
        if ids:
            states = self.model.run(torch.from_numpy(ids_arr)[None])[0]
            probs = self.model.probabilities(self.model.readout(states)).numpy().astype(np.float32)
            states_np = states.numpy().astype(np.float32)
        else:
            states_np = np.zeros((0, self.model.state_size), np.float32)
            probs = np.zeros((0, len(self.class_names)), np.float32)
        xyz = None
        if project and self.has_analysis:
            xyz = self.analysis.project(states_np)
        return Trajectory(tokens, ids_arr, ids_arr != 1, states_np, probs, xyz, truncated)


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

    @property
    def analysis_damaged(self) -> bool:
        """analysis.npz is there but unusable (damaged, stale or unsafe), as opposed to not computed yet."""
        from core.analysis import NOT_ANALYZED

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
    try:
        config = RunConfig.from_dict(meta.get("run"))
    except (ConfigError, BundleError) as err:
        raise BundleError(f"config.json is invalid: {_clip(err)}") from None
    try:
        vocab = Vocab.from_json(_read_json(path / "vocab.json", "vocabulary"))
    except VocabError as err:
        raise BundleError(f"vocab.json is invalid: {_clip(err)}.") from None
    if len(vocab) != config.model.vocab_size:
        raise BundleError(f"vocab.json has {len(vocab)} words but the model expects {config.model.vocab_size}.")
    model = _load_weights(path / "model.safetensors", config)
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


def _load_weights(path: Path, config: RunConfig) -> RNNClassifier:
    if not path.is_file():
        raise BundleError("the bundle has no model.safetensors; re-train or re-save it.")
    try:
        tensors = load_file(str(path))
    except (SafetensorError, OSError, ValueError, RuntimeError) as err:
        raise BundleError(f"model.safetensors is unreadable (truncated or corrupt: {str(err)[:80]}).") from None
    model = RNNClassifier(config.model)
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
    return load_path(bundle_path(run_id, store))


def atomic_replace_dir(tmp: Path, target: Path) -> None:
    """Move a finished temp folder into place; a reader sees the old or the new folder, never half.
    Killed between the two renames, the old version is restored by the next cleanup_temp."""
    old = None
    if target.exists():
        old = target.parent / f"{REPLACED_PREFIX}{target.name}-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        os.rename(target, old)
    os.rename(tmp, target)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def new_temp_dir(store: Path, run_id: str) -> Path:
    store.mkdir(parents=True, exist_ok=True)
    tmp = store / f"{TEMP_PREFIX}{run_id}-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    tmp.mkdir()
    return tmp


def save_bundle(config: RunConfig, model: RNNClassifier, vocab: Vocab, info: dict, metrics: dict,
                provenance: dict, store: Path | None = None, extra_files: dict[str, Path] | None = None) -> Path:
    """Write a bundle atomically; returns its folder. An existing bundle with that run id is replaced."""
    config.validate()
    store = Path(store or store_dir())
    target = bundle_path(config.run_id, store)
    tmp = new_temp_dir(store, config.run_id)
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
        atomic_replace_dir(tmp, target)
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
    """Remove a user-trained bundle; bundled (shipped) ones are read-only."""
    path = bundle_path(run_id, store)
    if not path.is_dir():
        raise BundleError(f"there is no model {run_id!r} to delete.")
    meta = _read_json(path / "config.json", "config") if (path / "config.json").is_file() else {}
    if isinstance(meta, dict) and isinstance(meta.get("task_info"), dict) and meta["task_info"].get("bundled"):
        raise BundleError(f"{run_id!r} ships with attractorscope and is read-only.")
    trash = path.parent / f"{TRASH_PREFIX}{run_id}-{uuid.uuid4().hex[:8]}"
    os.rename(path, trash)
    shutil.rmtree(trash, ignore_errors=True)


def list_bundles(store: Path | None = None) -> list[BundleSummary]:
    """Every bundle folder in the store, loadable or not (with the reason), sorted by run id."""
    store = Path(store or store_dir())
    if not store.is_dir():
        return []
    summaries = []
    for path in sorted(store.iterdir()):
        if not path.is_dir() or path.name.startswith("."):
            continue
        if not RUN_ID_RE.fullmatch(path.name):
            summaries.append(BundleSummary(path.name[:64], False, "folder name is not a valid run id."))
            continue
        try:
            bundle = load_path(path)
        except BundleError as err:
            summaries.append(BundleSummary(path.name, False, str(err), size_bytes=_dir_size(path)))
            continue
        summaries.append(_summary(bundle, _dir_size(path)))
    return summaries


def _summary(bundle: Bundle, size_bytes: int) -> BundleSummary:
    from core.analysis import analysis_problem

    # headers and two scalars only: this runs on every listing, every few seconds per worker
    problem = analysis_problem(bundle.path / "analysis.npz", bundle.weights_sha256)
    cfg = bundle.config
    return BundleSummary(
        bundle.path.name, True, "", cfg.task.name, cfg.model.cell, cfg.model.units, cfg.model.num_classes,
        size_bytes, bundle.metrics, not problem, bool(bundle.info.get("bundled")), problem)


def cleanup_temp(store: Path | None = None, min_age_s: float = 0.0) -> list[str]:
    """Remove temp and trash folders, and staged analysis files, left by crashed writers (whose process is gone).

    Returns the names removed: folders by name, analysis temp files as ``<run_id>/<file name>``.
    """
    store = Path(store or store_dir())
    removed = []
    if not store.is_dir():
        return removed
    for path in store.iterdir():
        if not path.is_dir():
            continue
        if RUN_ID_RE.fullmatch(path.name):
            for tmp in _dead_analysis_temps(path, min_age_s):
                tmp.unlink(missing_ok=True)
                removed.append(f"{path.name}/{tmp.name}")
            continue
        if not path.name.startswith((TEMP_PREFIX, TRASH_PREFIX, REPLACED_PREFIX)):
            continue
        if path.name.startswith((TEMP_PREFIX, REPLACED_PREFIX)) and _writer_alive(path.name):
            continue
        if path.name.startswith(REPLACED_PREFIX) and _restore_replaced(path):
            removed.append(path.name)
            continue
        if _old_enough(path, min_age_s):
            shutil.rmtree(path, ignore_errors=True)
            removed.append(path.name)
    return removed


def _restore_replaced(path: Path) -> bool:
    """Put back a previous version whose replacement never arrived (its writer died between renames)."""
    target = path.parent / path.name[len(REPLACED_PREFIX):].rsplit("-", 2)[0]
    if target.exists() or not RUN_ID_RE.fullmatch(target.name):
        return False
    os.rename(path, target)
    return True


def _old_enough(path: Path, min_age_s: float) -> bool:
    try:
        return time.time() - path.stat().st_mtime >= min_age_s
    except OSError:  # removed meanwhile by another worker's cleanup
        return False


def _dead_analysis_temps(folder: Path, min_age_s: float) -> list[Path]:
    """``.analysis.npz.<pid>.tmp`` files (core.analysis.save_analysis) whose writer is gone."""
    found = []
    for path in folder.glob(".analysis.npz.*.tmp"):
        pid = path.name[len(".analysis.npz."):-len(".tmp")]
        if not pid.isdigit() or int(pid) == os.getpid() or pid_alive(int(pid)):
            continue  # not ours to judge, or its writer may still finish
        if _old_enough(path, min_age_s):
            found.append(path)
    return found


def _writer_alive(name: str) -> bool:
    parts = name.split("-")
    try:
        pid = int(parts[-2])
    except (ValueError, IndexError):
        return False
    return pid == os.getpid() or pid_alive(pid)


def pid_alive(pid: int | None) -> bool:
    """Whether a process with this id exists (a writer or a job that may still finish)."""
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
