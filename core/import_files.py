"""The two files of a model to import, read from a folder, a zip or uploaded files, without trusting any of them.

An import is one JSON file (what the model is: ``core.importer``) and one weights file: ``.safetensors``, or a
``.pt``/``.pth``/``.bin`` file written by ``torch.save`` that ``torch.load(weights_only=True)`` reads (tensors
only; nothing in it is executed). Raw pickles (``.pkl``, ``.pickle``, ``.joblib``, ``.ckpt``, or a torch file
in the pre-zip format) are refused, as is anything over the size caps, a zip whose members would unpack to
far more than it holds, an encrypted zip, and a folder entry that is a symbolic link. Every refusal is
``ImportRefused`` with one sentence a user can act on.
"""
from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

__all__ = ["ImportRefused", "ImportFiles", "collect", "read_folder", "read_zip", "read_uploads",
           "MAX_WEIGHTS_BYTES", "MAX_SPEC_BYTES", "SAFETENSORS_SUFFIXES", "TORCH_SUFFIXES", "PICKLE_SUFFIXES"]

MAX_WEIGHTS_BYTES = 64 * 2**20
MAX_SPEC_BYTES = 8 * 2**20        # a vocabulary of 200,000 words fits with room
MAX_MEMBERS = 16                  # files in a folder or zip
MAX_UNPACKED_BYTES = MAX_WEIGHTS_BYTES + MAX_SPEC_BYTES + 2**20
MAX_RATIO = 100                   # a member unpacking to 100x its packed size (and over 1 MB) is a zip bomb
SAFETENSORS_SUFFIXES = (".safetensors",)
TORCH_SUFFIXES = (".pt", ".pth", ".bin")
PICKLE_SUFFIXES = (".pkl", ".pickle", ".joblib", ".ckpt", ".npy", ".npz", ".h5", ".keras", ".dill")
IGNORED_SUFFIXES = (".md", ".txt", ".rst", ".license", "")


class ImportRefused(ValueError):
    """A model cannot be imported; the message is one sentence a user can act on."""


@dataclass(frozen=True)
class ImportFiles:
    spec_name: str
    spec: bytes
    weights_name: str
    weights: bytes


def _suffix(name: str) -> str:
    return PurePosixPath(name).suffix.lower()


def _pickle_refusal(name: str) -> ImportRefused:
    return ImportRefused(f"{name[:80]} is a pickle file, which attractorscope never loads: save the weights with "
                         "safetensors, or torch.save(model.state_dict(), 'model.pt').")


def collect(named: list[tuple[str, bytes]]) -> ImportFiles:
    """The JSON and the weights file among named files (base names); anything else is refused or ignored."""
    specs, weights = [], []
    for name, data in named:
        suffix = _suffix(name)
        if suffix in PICKLE_SUFFIXES:
            raise _pickle_refusal(name)
        if suffix == ".json":
            specs.append((name, data))
        elif suffix in SAFETENSORS_SUFFIXES + TORCH_SUFFIXES:
            weights.append((name, data))
        elif suffix not in IGNORED_SUFFIXES and not name.startswith("."):
            raise ImportRefused(f"{name[:80]} is neither the model's JSON nor a weights file (.safetensors, .pt); "
                                "remove it and try again.")
    if len(specs) != 1 or len(weights) != 1:
        found = ", ".join(n[:40] for n, _ in specs + weights) or "neither"
        raise ImportRefused(f"An import needs exactly one .json file and one weights file (.safetensors or .pt), "
                            f"found {found}.")
    (spec_name, spec), (weights_name, data) = specs[0], weights[0]
    if len(spec) > MAX_SPEC_BYTES:
        raise ImportRefused(f"{spec_name[:80]} is over {MAX_SPEC_BYTES // 2**20} MB, far more than a model "
                            "description needs.")
    if len(data) > MAX_WEIGHTS_BYTES:
        raise ImportRefused(f"{weights_name[:80]} is {len(data) / 2**20:.0f} MB, over the limit of "
                            f"{MAX_WEIGHTS_BYTES // 2**20} MB.")
    return ImportFiles(spec_name, spec, weights_name, data)


def read_folder(path: str | Path) -> ImportFiles:
    """The files of an import folder, or a zip file (only its top level; sizes checked before anything is read)."""
    try:
        return _read_folder(Path(path))
    except (OSError, ValueError) as err:  # a name too long, a NUL byte, no permission, a file gone meanwhile
        if isinstance(err, ImportRefused):
            raise
        raise ImportRefused(f"{str(path)[:80]!r} cannot be read ({err.__class__.__name__}); give the folder "
                            "holding the model's JSON and weights files.") from None


def _read_folder(path: Path) -> ImportFiles:
    if path.is_file() and zipfile.is_zipfile(path):
        if path.stat().st_size > MAX_UNPACKED_BYTES:
            raise ImportRefused(f"{path.name[:80]} is over {MAX_UNPACKED_BYTES // 2**20} MB.")
        return read_zip(path.read_bytes())
    if not path.is_dir():
        raise ImportRefused(f"There is no folder {path.name[:80]!r}; give the folder holding the model's JSON "
                            "and weights files (or a zip of them).")
    entries = sorted(p for p in path.iterdir() if not p.name.startswith(".") and (p.is_file() or p.is_symlink()))
    if len(entries) > MAX_MEMBERS:
        raise ImportRefused(f"The folder holds {len(entries)} files; an import needs its JSON and weights files only.")
    named = []
    for entry in entries:
        if entry.is_symlink():
            raise ImportRefused(f"{entry.name[:80]} is a symbolic link, which an import never follows; copy the file.")
        limit = MAX_SPEC_BYTES if _suffix(entry.name) == ".json" else MAX_WEIGHTS_BYTES
        if _suffix(entry.name) in PICKLE_SUFFIXES:
            raise _pickle_refusal(entry.name)
        if entry.stat().st_size > limit:
            raise ImportRefused(f"{entry.name[:80]} is {entry.stat().st_size / 2**20:.0f} MB, over the limit of "
                                f"{limit // 2**20} MB.")
        named.append((entry.name, entry.read_bytes() if _suffix(entry.name) not in IGNORED_SUFFIXES else b""))
    return collect(named)


def _check_member(info: zipfile.ZipInfo) -> None:
    if info.flag_bits & 0x1:
        raise ImportRefused("The zip is encrypted; zip the files without a password.")
    if info.file_size > 2**20 and info.file_size > MAX_RATIO * max(1, info.compress_size):
        raise ImportRefused(f"{info.filename[:80]} in the zip would unpack to {info.file_size / 2**20:.0f} MB from "
                            f"{info.compress_size / 2**10:.0f} KB, which no model file does; the zip was refused.")


def read_zip(data: bytes) -> ImportFiles:
    """The files of a zip held in memory: its members' base names (folders inside are flattened, macOS
    metadata skipped); declared sizes and ratios are checked first and reads are capped, so a zip bomb
    never unpacks."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, ValueError, OSError):
        raise ImportRefused("The file is not a zip archive; upload a .zip of the model's JSON and weights files, "
                            "or the two files themselves.") from None
    with archive:
        members = [i for i in archive.infolist() if not i.is_dir() and not i.filename.startswith("__MACOSX/")
                   and not PurePosixPath(i.filename).name.startswith(".")]
        if len(members) > MAX_MEMBERS:
            raise ImportRefused(f"The zip holds {len(members)} files; an import needs its JSON and weights files only.")
        if sum(i.file_size for i in members) > MAX_UNPACKED_BYTES:
            raise ImportRefused(f"The zip would unpack to more than {MAX_UNPACKED_BYTES // 2**20} MB, over the "
                                "limit for a model import.")
        named = []
        for info in members:
            _check_member(info)
            name = PurePosixPath(info.filename.replace("\\", "/")).name
            if _suffix(name) in PICKLE_SUFFIXES:
                raise _pickle_refusal(name)
            try:
                with archive.open(info) as fh:
                    body = fh.read(info.file_size + 1)
            except (zipfile.BadZipFile, OSError, EOFError, NotImplementedError, RuntimeError, ValueError) as err:
                raise ImportRefused(f"{name[:80]} in the zip cannot be read ({err.__class__.__name__}); "
                                    "zip the files again.") from None
            if len(body) > info.file_size:
                raise ImportRefused(f"{name[:80]} in the zip is larger than its header says; the zip was refused.")
            named.append((name, body))
    return collect(named)


def read_uploads(files: list[tuple[str, bytes]]) -> ImportFiles:
    """Uploaded files: one zip, or the JSON and the weights file themselves."""
    if not files:
        raise ImportRefused("No file was received; choose a zip, or the model's JSON and weights files.")
    if len(files) == 1:
        name, data = files[0]
        if _suffix(name) == ".zip" or data[:4] == b"PK\x03\x04" and _suffix(name) not in TORCH_SUFFIXES:
            return read_zip(data)
    return collect([(PurePosixPath(str(name).replace("\\", "/")).name, data) for name, data in files])
