"""Sequence-to-sequence bundles on disk (issue 18): load (validated), save (atomic).

They live in the same store as the classifiers, in the same layout (``config.json`` with
``"kind": "seq2seq"`` and a ``SeqRunConfig``, ``model.safetensors``, ``vocab.json`` holding the source and
target vocabularies, ``analysis.npz``); ``core.store`` lists them with ``kind="seq2seq"`` and its
``load`` refuses them, so classifier pages never open one. Errors are ``core.store.BundleError``.
"""
from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import save_file

from core import atomic
from core.config import SCHEMA_VERSION, ConfigError, user_store_dir
from core.seq2seq.bundle import SeqBundle
from core.seq2seq.config import SEQ_KIND, SeqRunConfig
from core.seq2seq.models import Seq2Seq
from core.store import MAX_JSON_BYTES, BundleError, bundle_path, file_sha256, find_bundle, load_weights
from core.text import Vocab, VocabError

__all__ = ["load_seq", "load_seq_path", "save_seq_bundle", "SeqBundle"]


def _read_json(path: Path) -> Any:
    if not path.is_file():
        raise BundleError(f"the bundle has no {path.name}; re-save or re-train it.")
    if path.stat().st_size > MAX_JSON_BYTES:
        raise BundleError(f"{path.name} is implausibly large.")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, RecursionError) as err:
        raise BundleError(f"{path.name} is not valid JSON ({err.__class__.__name__}).") from None


def load_seq_path(path: str | os.PathLike) -> SeqBundle:
    """Load and validate a sequence-to-sequence bundle folder; raises BundleError with a one-sentence reason."""
    path = Path(path)
    if not path.is_dir():
        raise BundleError(f"no bundle folder at {path.name!r}; list the available runs with `python -m core list`.")
    meta = _read_json(path / "config.json")
    if not isinstance(meta, dict) or meta.get("schema_version") != SCHEMA_VERSION:
        raise BundleError(f"config.json is not a schema-{SCHEMA_VERSION} bundle config.")
    if meta.get("kind") != SEQ_KIND:
        raise BundleError(f"{path.name!r} is a classifier, not a sequence-to-sequence model: open it on Explore.")
    try:
        config = SeqRunConfig.from_dict(meta.get("run"))
        vocabs = _read_json(path / "vocab.json")
        if not isinstance(vocabs, dict):
            raise VocabError("vocab.json must hold the source and target vocabularies")
        src, tgt = Vocab.from_json(vocabs.get("src")), Vocab.from_json(vocabs.get("tgt"))
    except (ConfigError, VocabError) as err:
        raise BundleError(f"the bundle's config or vocabulary is invalid: {str(err)[:160]}") from None
    if (len(src), len(tgt)) != (config.model.src_vocab_size, config.model.tgt_vocab_size):
        raise BundleError("vocab.json does not match the model's vocabulary sizes.")
    model = load_weights(path / "model.safetensors", Seq2Seq(config.model))
    info = meta.get("task_info") if isinstance(meta.get("task_info"), dict) else {}
    metrics = meta.get("metrics") if isinstance(meta.get("metrics"), dict) else {}
    return SeqBundle(config.run_id, path, config, model, src, tgt, info, metrics,
                     file_sha256(path / "model.safetensors"))


def load_seq(run_id: str, store: Path | None = None) -> SeqBundle:
    """A run from ``store``, or (none given) from the bundled store or else the user store, as ``core.store.load``."""
    return load_seq_path(bundle_path(run_id, store) if store else find_bundle(run_id))


def save_seq_bundle(config: SeqRunConfig, model: Seq2Seq, src_vocab: Vocab, tgt_vocab: Vocab, info: dict,
                    metrics: dict, provenance: dict, store: Path | None = None) -> Path:
    """Write a bundle atomically (a temp folder renamed into place) into ``store`` (default: the user store);
    returns its folder."""
    config.validate()
    store = Path(store or user_store_dir())
    target = bundle_path(config.run_id, store)
    tmp = atomic.new_temp_dir(store, config.run_id)
    try:
        tensors = {k: v.detach().contiguous().to(torch.float32).cpu() for k, v in model.state_dict().items()}
        save_file(tensors, str(tmp / "model.safetensors"))
        vocabs = {"src": src_vocab.to_json(), "tgt": tgt_vocab.to_json()}
        (tmp / "vocab.json").write_text(json.dumps(vocabs, ensure_ascii=False), encoding="utf-8")
        meta = {"schema_version": SCHEMA_VERSION, "kind": SEQ_KIND, "run": config.to_dict(), "task_info": info,
                "metrics": metrics, "provenance": provenance, "weights_sha256": file_sha256(tmp / "model.safetensors")}
        (tmp / "config.json").write_text(json.dumps(meta, indent=1, ensure_ascii=False), encoding="utf-8")
        atomic.replace_dir(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return target
