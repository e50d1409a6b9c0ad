"""Loaded bundles, kept once per worker process and reloaded when their files change."""
from __future__ import annotations

import json
import logging
import os
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

from flask_caching import Cache
from flask_caching.backends.rediscache import RedisCache
from plotly.io.json import to_json_plotly

from core import store
from core.analysis_file import AnalysisError

__all__ = ["BundleCache", "ModelMemo", "ModelUnavailable", "make_flask_cache", "model_version"]

log = logging.getLogger(__name__)
SUMMARY_TTL_S = 2.0
MAX_OPTIONS_CHARS = 200  # a ModelMemo key's page options longer than this are not kept


class ModelUnavailable(Exception):
    """The chosen model cannot be shown; the message is for the user."""


def model_version(bundle: store.Bundle) -> str:
    """Tells one state of a model from the next: its run id, the weights' hash and the analysis' time.
    Every cache of what a model draws is keyed by it."""
    return f"{bundle.run_id}:{bundle.weights_sha256}:{bundle.analysis.wall_time_s}"


@dataclass(frozen=True)
class _Entry:
    signature: tuple
    bundle: store.Bundle


def _signature(path: Path) -> tuple:
    stats = []
    for name in ("config.json", "model.safetensors", "vocab.json", "analysis.npz"):
        try:
            st = (path / name).stat()
            stats.append((name, st.st_mtime_ns, st.st_size))
        except OSError:
            stats.append((name, None, None))
    return tuple(stats)


def _folder_mtime(path: Path) -> int | None:
    try:
        return path.stat().st_mtime_ns
    except OSError:
        return None


def _listing_signature(store_path: Path) -> tuple:
    """Changes whenever a bundle folder is added, removed or renamed, or a file is atomically replaced
    inside one (every store write ends in a rename, which updates the folder's mtime)."""
    try:
        with os.scandir(store_path) as entries:
            # dot entries (.jobs, staging folders) are not bundles, and .jobs changes on every progress tick
            return tuple(sorted((e.name, e.stat().st_mtime_ns) for e in entries if not e.name.startswith(".")))
    except OSError:
        return ()


def _folders(root: Path) -> list[Path]:
    try:
        return sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
    except OSError:
        return []


class BundleCache:
    """Thread-safe cache of loaded bundles from the bundled store and the user store, listed together (a bundled
    run first: a user folder under the same name is not served). With two stores, the bundled ones are read-only."""

    def __init__(self, store_path: Path, max_bundles: int = 16, user_store: Path | None = None):
        self.store_path = Path(store_path)
        self.stores = store.unique_stores(store_path, user_store)
        self.max_bundles = max_bundles
        self._lock = threading.Lock()
        self._entries: dict[str, _Entry] = {}
        self._summaries: tuple[float, tuple, list[store.BundleSummary]] | None = None
        self._rows: dict[str, tuple[tuple, store.BundleSummary]] = {}  # folder -> (its signature, its summary)

    def get(self, run_id: str) -> store.Bundle:
        """A loaded bundle with its analysis; raises ModelUnavailable with a user-facing reason."""
        try:
            path = store.find_bundle(run_id, self.stores)
        except store.BundleError as err:
            raise ModelUnavailable(str(err)) from None
        signature = _signature(path)
        with self._lock:
            entry = self._entries.get(run_id)
            if entry is not None and entry.signature == signature:
                return entry.bundle
        bundle = self._load(run_id, path)
        with self._lock:
            if len(self._entries) >= self.max_bundles:
                self._entries.pop(next(iter(self._entries)))
            self._entries[run_id] = _Entry(signature, bundle)
        return bundle

    def _load(self, run_id: str, path: Path) -> store.Bundle:
        try:
            bundle = store.load_path(path)
            bundle.analysis  # noqa: B018 - load and validate now, not on the first keystroke
        except store.BundleError as err:
            log.warning("bundle %s unavailable: %s", run_id, err)
            raise ModelUnavailable(f"Model {run_id!r} cannot be loaded: {err} Choose another model, or re-train "
                                   f"it (python -m core train) or remove its folder from the store.") from None
        except AnalysisError as err:
            log.warning("analysis of %s unavailable: %s", run_id, err)
            raise ModelUnavailable(f"Model {run_id!r} has no usable analysis: {err} "
                                   f"Run `python -m core analyze {run_id}` to compute it.") from None
        return bundle

    def summaries(self) -> list[store.BundleSummary]:
        """All bundles in the store (broken ones included). A finished job's bundle is listed on the
        next call; the time limit only bounds how long an in-place edit of a file goes unseen. Only a
        folder that changed is loaded (verified and hashed) again."""
        signature = tuple(_listing_signature(root) for root in self.stores)
        with self._lock:
            cached = self._summaries
        if cached is not None and cached[1] == signature and time.monotonic() - cached[0] < SUMMARY_TTL_S:
            return cached[2]
        listed_at = time.monotonic()
        rows = self._relist()
        with self._lock:
            self._summaries = (listed_at, signature, rows)
        return rows

    def _relist(self) -> list[store.BundleSummary]:
        read_only = len(self.stores) > 1
        with self._lock:
            known = dict(self._rows)
        fresh = {}
        for i, root in enumerate(self.stores):
            for path in _folders(root):
                if path.name in fresh:
                    continue  # the bundled store's run of that name wins
                signature = (str(root), path.is_symlink(), _folder_mtime(path), _signature(path))
                row = known.get(path.name)
                fresh[path.name] = row if row is not None and row[0] == signature else \
                    (signature, store.read_only_summary(store.bundle_summary(path), read_only and i == 0))
        with self._lock:
            self._rows = fresh
        return [fresh[name][1] for name in sorted(fresh)]


class JsonRedisSerializer:
    """Cached values are figures (JSON): stored as JSON, so a value read back from Redis is never
    unpickled (flask-caching's default Redis serializer pickles)."""

    def dumps(self, value, protocol=None) -> bytes:
        return to_json_plotly(value).encode()  # plotly's encoder also writes numpy arrays

    def loads(self, value: bytes | None):
        if value is None:
            return None
        try:
            return json.loads(value)
        except ValueError:
            return None  # unreadable entry: a miss, recomputed


class JsonRedisCache(RedisCache):
    serializer = JsonRedisSerializer()


class ModelMemo:
    """Page parts that depend only on a model (and a page option), built once per worker.

    Their figures cost 50-80 ms to build and never change for a given bundle; a class opening the
    same page gets the same component tree, which nothing mutates. Keys carry ``model_version``, so a
    retrained or re-analyzed model is rebuilt."""

    def __init__(self, max_items: int = 64):
        self.max_items = max_items
        self._lock = threading.Lock()
        self._items: OrderedDict = OrderedDict()

    def get(self, name: str, bundle: store.Bundle, options: tuple, build):
        # repr: page options come from the browser and may be of any (unhashable) type; pages check them
        # against their allowed values, and a long one (a tampered request) is never kept
        key = (name, model_version(bundle), repr(options))
        if len(key[2]) > MAX_OPTIONS_CHARS:
            return build()
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
        value = build()
        with self._lock:
            self._items[key] = value
            while len(self._items) > self.max_items:
                self._items.popitem(last=False)
        return value

    def __len__(self) -> int:
        return len(self._items)


def make_flask_cache(server, redis_url: str | None) -> Cache:
    """In-memory cache by default, Redis (JSON values) when ATTRACTORSCOPE_REDIS_URL is set."""
    if redis_url:
        # short socket timeouts: with Redis down or unreachable, a page computes its figure instead of waiting
        config = {"CACHE_TYPE": "dashboard.cache.JsonRedisCache", "CACHE_REDIS_URL": redis_url,
                  "CACHE_DEFAULT_TIMEOUT": 3600,
                  "CACHE_OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 1.0}}
    else:
        config = {"CACHE_TYPE": "SimpleCache", "CACHE_DEFAULT_TIMEOUT": 3600, "CACHE_THRESHOLD": 64}
    return Cache(server, config=config)
