"""Import a classifier trained elsewhere: validate its JSON and weights, save it as a bundle, analyze it.

The JSON (``model.json``; README, "Import your own model") says what the weights are:

    {"cell": "gru", "units": 64, "embed_dim": 32, "class_names": ["negative", "positive"],
     "vocabulary": ["<pad>", "<unk>", "the", "movie", ...],      # row i of the embedding is word i
     "run_id": "my-gru",                                          # optional: the name in the store
     "multilabel": false, "examples": ["not good", ...],          # optional
     "texts": ["a text to analyze the model on", ...],            # optional: up to 5,000
     "labels": ["negative", ...]}                                 # optional: a class name per text

and the weights are the ``state_dict`` of ``embedding`` (nn.Embedding), ``rnn`` (nn.GRU / nn.LSTM / nn.RNN,
batch_first, one layer; ``ugrnn_x``/``ugrnn_h`` for a UGRNN) and ``readout_layer`` (nn.Linear), as in
attractorscope's own bundles (``core.models``). Every key, type, size, shape and value is checked (finite
numbers only); nothing is unpickled or executed. The analysis runs on the given texts, labelled by the given
labels or by the model's own predictions; without texts, on random sequences of the vocabulary's first
5,000 words (the pictures are then the model's response to word salad, not to language).
"""
from __future__ import annotations

import dataclasses
import hashlib
import io
import json
import os
import re
import shutil
import tempfile
import time
import uuid
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import torch
from safetensors import SafetensorError
from safetensors.torch import load as load_safetensors
from safetensors.torch import save_file

from core import atomic, store
from core.analysis import analyze_bundle
from core.config import (CELL_TYPES, RUN_ID_RE, ConfigError, ModelConfig, RunConfig, TaskConfig, TrainConfig,
                         store_dir, user_store_dir)
from core.import_files import MAX_UNPACKED_BYTES, TORCH_SUFFIXES, ImportFiles, ImportRefused, read_folder
from core.models import RNNClassifier
from core.pipeline import code_version
from core.text import PAD, UNK, Vocab, VocabError, tokenize
from core.user_data import LabelledData, dataset_id, save_dataset

__all__ = ["ImportRefused", "ImportedModel", "validate_import", "save_imported", "import_folder", "export_folder",
           "stage_import", "take_staged",
           "SPEC_KEYS", "MAX_TEXTS"]

REQUIRED = {"cell": str, "units": int, "embed_dim": int, "class_names": list, "vocabulary": list}
OPTIONAL = {"run_id": str, "multilabel": bool, "examples": list, "texts": list, "labels": list}
SPEC_KEYS = (*REQUIRED, *OPTIONAL)
MAX_WORD_CHARS, MAX_EXAMPLES, MAX_TEXTS, MAX_TEXT_CHARS = 100, 20, 5000, 20_000
N_RANDOM_TEXTS, RANDOM_WORDS, RANDOM_LENGTHS = 1000, 5000, (10, 60)
ANALYSIS_MAX_LEN = 800
PREDICT_BATCH = 32


@dataclass(frozen=True)
class ImportedModel:
    config: RunConfig            # task "imported": its dataset (saved with the bundle) holds the texts the analysis reads
    model: RNNClassifier
    vocab: Vocab
    info: dict
    provenance: dict
    texts: LabelledData


def _spec(files: ImportFiles) -> dict:
    try:
        spec = json.loads(files.spec.decode("utf-8-sig"))
    except UnicodeDecodeError:
        raise ImportRefused(f"{files.spec_name[:80]} is not UTF-8 text; save it as UTF-8 JSON.") from None
    except (ValueError, RecursionError) as err:
        raise ImportRefused(f"{files.spec_name[:80]} is not valid JSON ({str(err)[:60]}).") from None
    if not isinstance(spec, dict):
        raise ImportRefused(f"{files.spec_name[:80]} must hold a JSON object with the keys "
                            f"{', '.join(REQUIRED)}.")
    unknown = sorted(set(spec) - set(SPEC_KEYS))
    if unknown:
        raise ImportRefused(f"{files.spec_name[:80]} has unknown key {unknown[0][:40]!r}; the keys are "
                            f"{', '.join(SPEC_KEYS)}.")
    for key, kind in {**REQUIRED, **OPTIONAL}.items():
        if key not in spec:
            if key in REQUIRED:
                raise ImportRefused(f"{files.spec_name[:80]} has no {key!r}; it needs {', '.join(REQUIRED)}.")
            continue
        value = spec[key]
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            raise ImportRefused(f"{key!r} in {files.spec_name[:80]} must be {_KIND_NAMES[kind]}, "
                                f"not {type(value).__name__}.")
    return spec


_KIND_NAMES = {str: "a string", int: "a whole number", list: "a list", bool: "true or false"}


def _strings(spec: dict, key: str, limit: int, chars: int, required: bool = False) -> list[str]:
    values = spec.get(key, [])
    if not all(isinstance(v, str) for v in values):
        raise ImportRefused(f"every entry of {key!r} must be a string.")
    if len(values) > limit:
        raise ImportRefused(f"{key!r} has {len(values):,} entries, over the limit of {limit:,}.")
    if any(len(v) > chars or (required and not v.strip()) for v in values):
        raise ImportRefused(f"an entry of {key!r} is empty or longer than {chars:,} characters.")
    return list(values)


def _vocab(spec: dict) -> Vocab:
    words = _strings(spec, "vocabulary", 200_000, MAX_WORD_CHARS, required=True)
    if words[:2] != [PAD, UNK]:
        raise ImportRefused(f"the vocabulary must start with {PAD!r} and {UNK!r} (rows 0 and 1 of the embedding): "
                            "attractorscope maps unknown words to row 1.")
    try:
        return Vocab(tuple(words))
    except VocabError as err:
        raise ImportRefused(f"the vocabulary is invalid: {err}.") from None


def _model_config(spec: dict, vocab: Vocab) -> ModelConfig:
    names = _strings(spec, "class_names", 10, 40, required=True)
    if len(set(names)) != len(names):
        raise ImportRefused("class_names has a name twice; give each class its own name.")
    if spec["cell"] not in CELL_TYPES:
        raise ImportRefused(f"unknown cell {spec['cell'][:20]!r}; attractorscope imports {', '.join(CELL_TYPES)}.")
    try:
        config = ModelConfig(spec["cell"], spec["units"], spec["embed_dim"], len(vocab), len(names),
                             multilabel=spec.get("multilabel", False))
        config.validate()
    except ConfigError as err:
        raise ImportRefused(f"the model description is invalid: {err}.") from None
    return config


def _tensors(files: ImportFiles) -> dict[str, torch.Tensor]:
    name = files.weights_name[:80]
    if Path(files.weights_name).suffix.lower() in TORCH_SUFFIXES:
        tensors = _torch_tensors(files.weights, name)
    else:
        try:
            tensors = load_safetensors(files.weights)
        except (SafetensorError, ValueError, RuntimeError, OSError, OverflowError) as err:
            raise ImportRefused(f"{name} is not a valid safetensors file ({str(err)[:60]}).") from None
    out = {}
    for key, value in tensors.items():
        if not isinstance(key, str) or not isinstance(value, torch.Tensor) or value.is_sparse:
            raise ImportRefused(f"{name} must map weight names to dense tensors only.")
        if not value.is_floating_point():
            raise ImportRefused(f"weight {key[:60]} in {name} holds {value.dtype} numbers, not floating point.")
        out[key.removeprefix("module.")] = value.detach().to(torch.float32).contiguous()
    return out


def _torch_tensors(data: bytes, name: str) -> dict:
    if not zipfile.is_zipfile(io.BytesIO(data)):
        raise ImportRefused(f"{name} is a raw pickle, not a torch.save file, and is never loaded: save the weights "
                            "with safetensors, or torch.save(model.state_dict(), 'model.pt').")
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        if sum(i.file_size for i in archive.infolist()) > MAX_UNPACKED_BYTES:
            raise ImportRefused(f"{name} would unpack to more than {MAX_UNPACKED_BYTES // 2**20} MB.")
    try:
        loaded = torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)
    except Exception as err:  # noqa: BLE001 - torch raises many kinds for a hostile file; all are a refusal
        raise ImportRefused(f"{name} holds more than weights (torch refused to load it with weights_only=True: "
                            f"{err.__class__.__name__}); save model.state_dict() instead.") from None
    if isinstance(loaded, dict) and set(loaded) == {"state_dict"}:
        loaded = loaded["state_dict"]
    if not isinstance(loaded, dict):
        raise ImportRefused(f"{name} holds a {type(loaded).__name__}, not a state_dict; save model.state_dict().")
    return loaded


def _load_model(config: ModelConfig, tensors: dict, name: str) -> RNNClassifier:
    """The model with these weights: every name, shape and value checked by the store's own weight loader."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "model.safetensors"
        save_file(tensors, str(path))
        try:
            return store.load_weights(path, RNNClassifier(config))
        except store.BundleError as err:
            raise ImportRefused(str(err).replace("model.safetensors", name[:80]).replace(
                "the config", "the model's JSON")) from None


def _analysis_texts(spec: dict, config: RunConfig, net: RNNClassifier, vocab: Vocab, names: list[str],
                    label: bool) -> LabelledData:
    texts = _strings(spec, "texts", MAX_TEXTS, MAX_TEXT_CHARS, required=True)
    labels = _strings(spec, "labels", MAX_TEXTS, 40)
    if labels and len(labels) != len(texts):
        raise ImportRefused(f"'labels' has {len(labels)} entries but 'texts' has {len(texts)}; give one per text.")
    if unknown := sorted(set(labels) - set(names)):
        raise ImportRefused(f"the label {unknown[0][:20]!r} is not one of class_names.")
    origin = "the model's JSON"
    if not texts:
        rng = np.random.default_rng(0)
        words = vocab.itos[2:2 + RANDOM_WORDS] or (UNK,)
        picks = rng.integers(0, len(words), (N_RANDOM_TEXTS, RANDOM_LENGTHS[1]))
        texts = [" ".join(words[i] for i in row[:rng.integers(*RANDOM_LENGTHS)]) for row in picks]
        origin = f"random sequences of the vocabulary's first {RANDOM_WORDS:,} words"
    if labels:
        index = {n: i for i, n in enumerate(names)}
        ys = np.array([index[name] for name in labels], dtype=np.int64)
    elif not label:
        ys = np.zeros(len(texts), np.int64)
    else:
        probe = store.Bundle("probe", Path("."), config, net, vocab, {"class_names": names}, {}, "")
        # in small batches, each text cut to what the analysis reads: 5,000 long texts at once would hold
        # every state of every text in memory
        cut = [" ".join(tokenize(t, max_tokens=ANALYSIS_MAX_LEN)) for t in texts]
        ys = np.concatenate([probe.predict(cut[i:i + PREDICT_BATCH]).argmax(axis=1)
                             for i in range(0, len(cut), PREDICT_BATCH)]).astype(np.int64)
    provenance = {"texts": origin, "labels": "given" if labels else "the model's own predictions"}
    return LabelledData(tuple(texts), ys, tuple(names), provenance)


def validate_import(files: ImportFiles, run_id: str | None = None, label: bool = True) -> ImportedModel:
    """Everything checked, the model built; raises ImportRefused. ``run_id`` overrides the JSON's. ``label=False``
    (a preview) skips labelling unlabelled texts by the model's predictions: the texts get class 0."""
    spec = _spec(files)
    vocab = _vocab(spec)
    model_config = _model_config(spec, vocab)
    name = (run_id or spec.get("run_id") or Path(files.spec_name).stem).strip().lower()
    if not RUN_ID_RE.fullmatch(name):
        raise ImportRefused(f"{name[:40]!r} is not a valid model name: use 1-64 of a-z, 0-9, '-' and '_'.")
    model = _load_model(model_config, _tensors(files), files.weights_name)
    names = list(spec["class_names"])
    placeholder = TaskConfig("imported", len(names), min_len=1, max_len=ANALYSIS_MAX_LEN, dataset="0" * 16)
    config = RunConfig(name, model_config, placeholder, TrainConfig())
    texts = _analysis_texts(spec, config, model, vocab, names, label)
    config = dataclasses.replace(config, task=dataclasses.replace(placeholder, dataset=dataset_id(texts)))
    examples = _strings(spec, "examples", MAX_EXAMPLES, 2000, required=True) or [t[:200] for t in texts.texts[:4]]
    info = {"class_names": names, "examples": examples, "ordered": False, "multilabel": model_config.multilabel,
            "source": f"imported ({files.spec_name[:60]}, {files.weights_name[:60]})", "bundled": False,
            "imported": True}
    provenance = {"data": "imported", "spec_file": files.spec_name[:120], "weights_file": files.weights_name[:120],
                  "weights_sha256": hashlib.sha256(files.weights).hexdigest(), "analysis_texts": texts.provenance,
                  "code_version": code_version(), "torch": torch.__version__}
    return ImportedModel(config, model, vocab, info, provenance, texts)


def save_imported(imported: ImportedModel, user_store: Path, target_store: Path, owner: str = "") -> Path:
    """Keep the analysis texts in ``user_store`` and write the (not yet analyzed) bundle into ``target_store``."""
    save_dataset(imported.texts, user_store, {"kind": "analysis texts of an imported model"})
    config = imported.config
    info = {**imported.info, **({"owner": owner} if owner else {})}
    return store.save_bundle(config, imported.model, imported.vocab, info, {}, imported.provenance, store=target_store)


IMPORTS = ".imports"  # <user store>/.imports/<token>/<run_id>: a validated upload waiting for its analysis job
TOKEN_RE = re.compile(r"[0-9a-f]{32}")
STALE_IMPORT_S = 86_400.0


def stage_import(imported: ImportedModel, user_store: Path, owner: str = "") -> str:
    """Write a validated upload where its job will find it; returns the token the job carries
    (``JobRegistry.create(..., action="import", source=token)``). Uploads left over a day (their job was
    cancelled before it began) are removed first."""
    root = Path(user_store) / IMPORTS
    for old in root.iterdir() if root.is_dir() else ():
        if TOKEN_RE.fullmatch(old.name) and time.time() - old.stat().st_mtime > STALE_IMPORT_S:
            shutil.rmtree(old, ignore_errors=True)
    token = uuid.uuid4().hex
    save_imported(imported, user_store, root / token, owner)
    return token


def take_staged(token: str, run_id: str, user_store: Path, staging: Path) -> Path:
    """Move a staged upload into a job's staging folder; returns the bundle folder (still to be analyzed)."""
    if not isinstance(token, str) or not TOKEN_RE.fullmatch(token):
        raise ImportRefused("This import job names no uploaded model; upload it again.")
    folder = Path(user_store) / IMPORTS / token
    source = store.bundle_path(run_id, folder)
    if folder.is_symlink() or not source.is_dir():
        raise ImportRefused("The uploaded model is no longer waiting on the server; upload it again.")
    target = Path(staging) / run_id
    os.rename(source, target)
    shutil.rmtree(folder, ignore_errors=True)
    return target


def _name_taken(run_id: str, user_store: Path) -> bool:
    return any(os.path.lexists(root / run_id) for root in store.unique_stores(store_dir(), user_store))


def import_folder(path: str | Path, run_id: str | None = None,
                  on_progress: Callable[[dict], None] | None = None) -> Path:
    """``python -m core import PATH``: read, validate, save, analyze and publish into the user store
    (``user_store_dir()``, where the analysis finds the texts again)."""
    user_store = user_store_dir()
    imported = validate_import(read_folder(path), run_id)
    if _name_taken(imported.config.run_id, user_store):
        raise ImportRefused(f"A model named {imported.config.run_id} exists; import it under another name "
                            "(--run-id).")
    staging = atomic.new_temp_dir(user_store, f"import-{imported.config.run_id}")
    try:
        bundle = store.load_path(save_imported(imported, user_store, staging))
        analyze_bundle(bundle, on_progress=on_progress)
        target = store.bundle_path(bundle.run_id, user_store)
        if os.path.lexists(target):
            raise ImportRefused(f"A model named {bundle.run_id} was saved meanwhile; nothing was replaced.")
        os.rename(bundle.path, target)
        return target
    finally:
        atomic.remove_dir(staging)


def export_folder(bundle: store.Bundle, folder: str | Path) -> Path:
    """A bundle's weights and a JSON in the import format (the round trip the tests check); returns the folder."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    spec = {"run_id": bundle.run_id, "cell": bundle.config.model.cell, "units": bundle.config.model.units,
            "embed_dim": bundle.config.model.embed_dim, "class_names": bundle.class_names,
            "vocabulary": list(bundle.vocab.itos), "multilabel": bundle.config.model.multilabel,
            "examples": bundle.examples[:MAX_EXAMPLES]}
    (folder / "model.json").write_text(json.dumps(spec, ensure_ascii=False), encoding="utf-8")
    tensors = {k: v.detach().contiguous() for k, v in bundle.model.state_dict().items()}
    save_file(tensors, str(folder / "model.safetensors"))
    return folder
