"""Frozen dataclasses stored as plain numpy arrays (``np.savez`` / ``np.load(allow_pickle=False)``).

A record field is stored under ``prefix + name``, or under the key its ``stored(...)`` declaration
names (file keys are a format: a field may be renamed, its key may not). A field declared with
``scalar=int`` or ``float`` is a 0-d array on disk and a Python number in the record. Fields with
a default may be missing from the file (an optional array, or a statistic an older file lacks);
a missing field without one raises KeyError.
"""
from __future__ import annotations

import dataclasses
from typing import Any, Mapping

import numpy as np

__all__ = ["stored", "to_arrays", "from_arrays"]


def stored(key: str | None = None, *, scalar: type | None = None, default: Any = dataclasses.MISSING):
    """A record field stored under ``key`` (default: prefix + its name), converted by ``scalar`` on reading."""
    return dataclasses.field(default=default, metadata={"key": key, "scalar": scalar})


def _key(f: dataclasses.Field, prefix: str) -> str:
    return f.metadata.get("key") or prefix + f.name


def to_arrays(record, prefix: str = "") -> dict[str, np.ndarray]:
    """Every field (None-valued optional ones left out) as a plain array; no object arrays."""
    return {_key(f, prefix): np.asarray(getattr(record, f.name)) for f in dataclasses.fields(record)
            if getattr(record, f.name) is not None}


def from_arrays(cls, arrays: Mapping[str, np.ndarray], prefix: str = ""):
    """Inverse of ``to_arrays``; ``arrays`` may be a dict or an ``np.load`` result."""
    values = {}
    for f in dataclasses.fields(cls):
        key = _key(f, prefix)
        if key not in arrays and (f.default is not dataclasses.MISSING or f.default_factory is not dataclasses.MISSING):
            continue  # optional, or a statistic an older file lacks: the field keeps its default
        value = np.asarray(arrays[key])
        kind = f.metadata.get("scalar")
        values[f.name] = kind(value) if kind is not None else value
    return cls(**values)
