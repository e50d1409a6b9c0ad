"""Loaded sequence-to-sequence bundles for the Attention page, cached per folder until a file in it changes.

The classifier cache (``dashboard.cache.BundleCache``) serves ``core.store.load``; sequence models load
through ``core.seq_store``, here, from the same store folders (the bundled one first).
"""
from __future__ import annotations

import logging
import os
import threading
from pathlib import Path

from core import seq_store, store
from core.analysis_file import AnalysisError
from dashboard.cache import ModelUnavailable
from dashboard.runtime import settings

__all__ = ["seq_summaries", "get_seq", "stores"]

log = logging.getLogger(__name__)
MAX_ENTRIES = 16
_lock = threading.Lock()
_entries: dict[Path, tuple[tuple, seq_store.SeqBundle]] = {}


def stores() -> tuple[Path, ...]:
    s = settings()
    roots = [Path(s.store)] + ([Path(s.user_store)] if getattr(s, "user_store", None) else [])
    return tuple(dict.fromkeys(roots))


def seq_summaries(summaries) -> list:
    """The sequence-to-sequence rows of a store listing, sorted by task then run id."""
    return sorted((s for s in summaries if getattr(s, "kind", "") == "seq2seq"), key=lambda s: (s.task, s.run_id))


def _signature(path: Path) -> tuple:
    try:
        with os.scandir(path) as entries:
            return tuple(sorted((e.name, e.stat().st_mtime_ns, e.stat().st_size) for e in entries))
    except OSError:
        return ()


def get_seq(run_id) -> seq_store.SeqBundle:
    """A loaded sequence bundle with its analysis; raises ModelUnavailable with a user-facing reason."""
    try:
        paths = [store.bundle_path(run_id, root) for root in stores()]
    except store.BundleError as err:
        raise ModelUnavailable(str(err)) from None
    path = next((p for p in paths if p.is_dir()), paths[0])
    signature = _signature(path)
    with _lock:
        entry = _entries.get(path)
        if entry is not None and entry[0] == signature:
            return entry[1]
    try:
        bundle = seq_store.load_seq_path(path)
        bundle.analysis  # noqa: B018 - load and validate now, not on the first keystroke
    except (store.BundleError, AnalysisError) as err:
        log.warning("sequence bundle %s unavailable: %s", run_id, err)
        raise ModelUnavailable(f"{run_id} is unavailable: {err}") from None
    with _lock:
        if len(_entries) >= MAX_ENTRIES:
            _entries.pop(next(iter(_entries)))
        _entries[path] = (signature, bundle)
    return bundle
