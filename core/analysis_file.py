"""analysis.npz on disk: the safe reader and the atomic writer (a leaf: numpy, stdlib, ``core.atomic``).

The file holds numpy arrays only (no object arrays; read with ``allow_pickle=False``), the
``ANALYSIS_VERSION`` that wrote it and the sha256 of the weights it was computed from, so a
retrained model invalidates it. ``analysis_problem`` says in one sentence why a file cannot be
used, from the zip directory and the .npy headers alone (cheap enough for every store listing);
``read_arrays`` reads a file that passed it. The store and ``Bundle.analysis`` read analyses
through this module (``core.analysis_view`` wraps the arrays in typed views), never through the
pipeline that computes them (``core.analysis``). Key names are a format: they never change.
"""
from __future__ import annotations

import math
import zipfile
import zlib
from pathlib import Path

import numpy as np

from core import atomic

__all__ = ["ANALYSIS_VERSION", "NOT_ANALYZED", "AnalysisError", "analysis_problem", "read_arrays", "save_analysis"]

ANALYSIS_VERSION = 1
MAX_ANALYSIS_BYTES = 50_000_000
MAX_UNPACKED_BYTES = 1_000_000_000  # a compressed file that unpacks to more than this is a zip bomb, not an analysis
MAX_MEMBERS = 1000  # a real analysis has about 70 arrays; the listing reads every header
NOT_ANALYZED = "this model has not been analyzed yet."
# what a damaged zip or .npy raises, from truncation to an unsupported compression method
_READ_ERRORS = (OSError, ValueError, EOFError, KeyError, RuntimeError, NotImplementedError, zipfile.BadZipFile,
                zlib.error)


class AnalysisError(Exception):
    """analysis.npz is missing, corrupt or stale; the message says which."""


def analysis_problem(path: Path, weights_sha256: str | None = None) -> str:
    """Why analysis.npz cannot be used, in one sentence, or "" when it can.

    Cheap enough to run on every listing: it reads the zip directory, each array's .npy header and
    the two scalar members, never the big arrays.
    """
    path = Path(path)
    if not path.is_file():
        return NOT_ANALYZED
    if path.stat().st_size > MAX_ANALYSIS_BYTES:
        return "analysis.npz is implausibly large."
    try:
        with zipfile.ZipFile(path) as zf:
            return _members_problem(zf) or _identity_problem(zf, weights_sha256)
    except _READ_ERRORS as err:
        return f"analysis.npz is unreadable (truncated or corrupt: {err.__class__.__name__})."


def _members_problem(zf: zipfile.ZipFile) -> str:
    infos = zf.infolist()
    if len(infos) > MAX_MEMBERS or sum(info.file_size for info in infos) > MAX_UNPACKED_BYTES:
        return "analysis.npz holds an implausible number or size of arrays."
    for info in infos:
        name = info.filename
        if not name.endswith(".npy"):
            return f"analysis.npz holds {name[:40]!r}, which is not a numpy array."
        with zf.open(info) as fh:
            shape, dtype = _npy_header(fh)
        if dtype.hasobject:
            # object arrays are pickles in disguise: reading one would run arbitrary code
            return f"analysis.npz holds object arrays ({name[:-4][:40]}), refused because reading them runs pickle."
        if math.prod(shape) * dtype.itemsize > info.file_size:
            # numpy allocates what the header claims before reading: a lying header is a memory bomb
            return f"analysis.npz is corrupt: array {name[:-4][:40]} is shorter than its header says."
    return ""


def _npy_header(fh) -> tuple[tuple[int, ...], np.dtype]:
    """Shape and dtype from an .npy header, without reading the data behind it."""
    version = np.lib.format.read_magic(fh)
    if version == (1, 0):
        shape, _, dtype = np.lib.format.read_array_header_1_0(fh)
    elif version == (2, 0):
        shape, _, dtype = np.lib.format.read_array_header_2_0(fh)
    else:
        raise ValueError(f"unsupported .npy version {version}")
    return shape, dtype


def _read_scalar(zf: zipfile.ZipFile, name: str) -> np.ndarray | None:
    """A 0-d member, or None when it is absent or not 0-d (never read a big array just to refuse it)."""
    if f"{name}.npy" not in zf.namelist():
        return None
    with zf.open(f"{name}.npy") as fh:
        if _npy_header(fh)[0] != ():
            return None
    with zf.open(f"{name}.npy") as fh:
        return np.lib.format.read_array(fh, allow_pickle=False)


def _identity_problem(zf: zipfile.ZipFile, weights_sha256: str | None) -> str:
    version = _read_scalar(zf, "analysis_version")
    if version is None or version.dtype.kind not in "iu" or int(version) != ANALYSIS_VERSION:
        return "analysis.npz was written by another version of attractorscope."
    if weights_sha256 is None:
        return ""
    stored = _read_scalar(zf, "weights_sha256")
    if stored is None or str(stored) != weights_sha256:
        return "analysis.npz is stale: the model's weights changed since it was computed."
    return ""


def read_arrays(path: Path, weights_sha256: str | None = None) -> dict[str, np.ndarray]:
    """Every array of an analysis.npz that ``analysis_problem`` passes; AnalysisError otherwise."""
    path = Path(path)
    problem = analysis_problem(path, weights_sha256)
    if problem:
        raise AnalysisError(problem)
    try:
        with np.load(path, allow_pickle=False) as npz:
            return {name: npz[name] for name in npz.files}
    except _READ_ERRORS as err:
        # the header check above refused object arrays and lying headers; this is a damaged array body
        raise AnalysisError(f"analysis.npz is unreadable ({err.__class__.__name__}).") from None


def save_analysis(path: Path, arrays: dict[str, np.ndarray]) -> None:
    """Write atomically (``core.atomic.write_file``: a temp file beside it, renamed over the old one)."""
    for name, arr in arrays.items():
        if np.asarray(arr).dtype == object:
            raise ValueError(f"{name} is an object array; analysis files hold plain arrays only")
    atomic.write_file(Path(path), lambda fh: np.savez_compressed(fh, **arrays))
