"""A user's labelled texts: a CSV/TSV file (text, label) read and checked, and kept as a dataset in the user store.

``parse_labelled(data, filename)`` reads the bytes of an uploaded or local file and refuses anything a
classifier cannot learn from, with one sentence saying what to fix: too big, not UTF-8 text, a row without
exactly a text and a label, an empty text, one label only or more than ``MAX_CLASSES``, too few examples of a
label, one text under two labels. Exact repeats (same text, same label) are dropped before anything is split,
so no text can sit in both the training and the test split.

``save_dataset`` keeps the checked rows as ``<user store>/.datasets/<id>/dataset.json`` (plain JSON, its id a
hash of the content, so the same file uploaded twice is one dataset) with its provenance (file name, sha256,
rows read, repeats dropped); ``load_dataset`` reads one back with the same checks. Tasks ``csv`` (train on
it) and ``imported`` (the texts an imported model is analyzed on) read datasets through ``core.tasks.user``.
"""
from __future__ import annotations

import csv
import hashlib
import io
import json
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from core import atomic
from core.config import DATASET_ID_RE

__all__ = ["UserDataError", "LabelledData", "parse_labelled", "save_dataset", "load_dataset", "dataset_path",
           "describe", "dataset_id", "MAX_FILE_BYTES", "MAX_ROWS", "MAX_TEXT_CHARS", "MAX_CLASSES", "MIN_PER_CLASS"]

MAX_FILE_BYTES = 5 * 2**20   # a CSV/TSV file (an upload travels base64 inside an 8 MB request)
MAX_DATASET_BYTES = 16 * 2**20
MAX_ROWS = 100_000
MAX_TEXT_CHARS = 20_000
MAX_LABEL_CHARS = 40
MAX_CLASSES = 10              # ModelConfig.num_classes
MIN_PER_CLASS = 10            # so that validation and test both see every label
HEADER_NAMES = ("text", "label")


class UserDataError(ValueError):
    """A file or dataset cannot be used; the message is one sentence a user can act on."""


@dataclass(frozen=True)
class LabelledData:
    texts: tuple[str, ...]
    labels: np.ndarray                 # int64 class index per text
    class_names: tuple[str, ...]
    provenance: dict = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.texts)

    def counts(self) -> list[int]:
        return np.bincount(self.labels, minlength=len(self.class_names)).tolist()


def _decode(data: bytes) -> str:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise UserDataError("The file is UTF-16 text; save it as UTF-8 (CSV UTF-8 in a spreadsheet) and try again.")
    if b"\x00" in data:
        raise UserDataError("The file holds NUL bytes, so it is not a text file; upload a UTF-8 CSV or TSV file.")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise UserDataError(f"The file is not UTF-8 text (byte {err.start + 1} is not valid UTF-8); save it as "
                            "UTF-8 and try again.") from None


def _delimiter(text: str, filename: str) -> str:
    name = filename.lower()
    if name.endswith(".tsv") or name.endswith(".tab"):
        return "\t"
    if name.endswith(".csv"):
        return ","
    return "\t" if "\t" in text.split("\n", 1)[0] else ","


def _rows(text: str, delimiter: str) -> list[tuple[int, list[str]]]:
    """(line number, fields) of every row that is not blank."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    rows = []
    try:
        for fields in reader:
            if any(f.strip() for f in fields):
                rows.append((reader.line_num, fields))
            if len(rows) > MAX_ROWS + 1:
                raise UserDataError(f"The file has more than {MAX_ROWS:,} rows; use a sample of at most that many.")
    except csv.Error as err:
        raise UserDataError(f"Line {reader.line_num} is not valid {'TSV' if delimiter == chr(9) else 'CSV'} "
                            f"({str(err)[:60]}); check its quotes.") from None
    return rows


def _columns(rows: list[tuple[int, list[str]]]) -> tuple[list[tuple[int, list[str]]], int, int]:
    """The data rows and the text and label column: from a header row text,label (either order), else text first."""
    first = [f.strip().lower() for f in rows[0][1]] if rows else []
    if sorted(first) == sorted(HEADER_NAMES):
        return rows[1:], first.index("text"), first.index("label")
    return rows, 0, 1


def _check_row(line: int, fields: list[str], width: int, col_text: int, col_label: int) -> tuple[str, str]:
    if len(fields) != width:
        raise UserDataError(f"Line {line} has {len(fields)} fields; every row needs exactly two, a text and a label "
                            "(put a text holding the separator in double quotes).")
    text, label = fields[col_text].strip(), fields[col_label].strip()
    if not text or not any(ch.isalnum() for ch in text):
        raise UserDataError(f"Line {line} has an empty text; fill it in or remove the row.")
    if not label:
        raise UserDataError(f"Line {line} has no label; fill it in or remove the row.")
    if len(text) > MAX_TEXT_CHARS:
        raise UserDataError(f"The text on line {line} has {len(text):,} characters, over the limit of "
                            f"{MAX_TEXT_CHARS:,}; shorten it.")
    if len(label) > MAX_LABEL_CHARS:
        raise UserDataError(f"The label on line {line} is longer than {MAX_LABEL_CHARS} characters: is the label "
                            "column the second one?")
    return text, label


def _class_order(labels: set[str]) -> tuple[str, ...]:
    """Labels sorted as numbers when all are whole numbers (ratings 1..5), else alphabetically."""
    if all(label.lstrip("-").isdigit() for label in labels):
        return tuple(sorted(labels, key=int))
    return tuple(sorted(labels))


def _unique(pairs: list[tuple[int, str, str]]) -> tuple[list[tuple[str, str]], int]:
    """Rows without exact repeats, and how many were dropped; a text under two labels is refused."""
    seen: dict[str, tuple[int, str]] = {}
    kept = []
    for line, text, label in pairs:
        key = " ".join(text.split())
        if key in seen:
            if seen[key][1] != label:
                raise UserDataError(f"Lines {seen[key][0]} and {line} hold the same text with different labels "
                                    f"({seen[key][1][:20]!r} and {label[:20]!r}); keep one of them.")
            continue
        seen[key] = (line, label)
        kept.append((text, label))
    return kept, len(pairs) - len(kept)


def _check_classes(names: tuple[str, ...], counts: list[int]) -> None:
    if len(names) < 2:
        raise UserDataError(f"Every row has the label {names[0][:20]!r}; a classifier needs 2 to {MAX_CLASSES} "
                            "different labels.")
    if len(names) > MAX_CLASSES:
        raise UserDataError(f"The file has {len(names)} different labels, more than the {MAX_CLASSES} supported: "
                            "is the label column the second one?")
    fewest = int(np.argmin(counts))
    if counts[fewest] < MIN_PER_CLASS:
        raise UserDataError(f"The label {names[fewest][:20]!r} has only {counts[fewest]} example"
                            f"{'s' if counts[fewest] != 1 else ''}; every label needs at least {MIN_PER_CLASS}.")


def parse_labelled(data: bytes, filename: str = "") -> LabelledData:
    """The checked, de-duplicated rows of a CSV or TSV file of (text, label); raises UserDataError."""
    if not isinstance(data, (bytes, bytearray)):
        raise UserDataError("No file was received; choose a CSV or TSV file.")
    if len(data) > MAX_FILE_BYTES:
        raise UserDataError(f"The file is {len(data) / 2**20:.1f} MB, over the limit of "
                            f"{MAX_FILE_BYTES // 2**20} MB; use a sample of it.")
    text = _decode(bytes(data))
    delimiter = _delimiter(text, filename)
    rows, col_text, col_label = _columns(_rows(text, delimiter))
    if not rows:
        raise UserDataError("The file holds no rows of text and label.")
    pairs = [(line, *_check_row(line, fields, 2, col_text, col_label)) for line, fields in rows]
    kept, dropped = _unique(pairs)
    names = _class_order({label for _, label in kept})
    index = {name: i for i, name in enumerate(names)}
    labels = np.array([index[label] for _, label in kept], dtype=np.int64)
    _check_classes(names, np.bincount(labels, minlength=len(names)).tolist())
    provenance = {"file": Path(str(filename)).name[:120], "sha256": hashlib.sha256(data).hexdigest(),
                  "rows_read": len(rows), "duplicates_removed": dropped, "separator": "tab" if delimiter == "\t" else "comma"}
    return LabelledData(tuple(t for t, _ in kept), labels, names, provenance)


def describe(data: LabelledData) -> str:
    """One sentence: examples, repeats dropped, labels with their counts."""
    dropped = data.provenance.get("duplicates_removed", 0)
    repeats = f" ({dropped:,} repeated row{'s' if dropped != 1 else ''} dropped)" if dropped else ""
    labels = ", ".join(f"{name[:20]} {count:,}" for name, count in zip(data.class_names, data.counts()))
    return f"{len(data):,} examples{repeats}, {len(data.class_names)} labels: {labels}."


def dataset_path(ident: str, root: Path) -> Path:
    """``<root>/.datasets/<id>/dataset.json``; the id is checked before the path is built."""
    if not isinstance(ident, str) or not DATASET_ID_RE.fullmatch(ident):
        raise UserDataError("That is not a dataset id.")
    return Path(root) / ".datasets" / ident / "dataset.json"


def _body(data: LabelledData) -> dict:
    return {"class_names": list(data.class_names), "texts": list(data.texts), "labels": data.labels.tolist()}


def dataset_id(data: LabelledData) -> str:
    """The id a dataset of these rows gets (a hash of them: the same rows, the same id)."""
    return hashlib.sha256(json.dumps(_body(data), ensure_ascii=False, sort_keys=True).encode()).hexdigest()[:16]


def save_dataset(data: LabelledData, root: Path, provenance: dict | None = None) -> str:
    """Keep the rows in the user store ``root`` (once); returns the dataset id."""
    body, dataset = _body(data), dataset_id(data)
    path = dataset_path(dataset, root)
    if not path.is_file():
        path.parent.mkdir(parents=True, exist_ok=True)
        record = {"format": 1, **body, "provenance": {**data.provenance, **(provenance or {}), "saved": time.time()}}
        text = json.dumps(record, ensure_ascii=False).encode()
        atomic.write_file(path, lambda fh: fh.write(text))
    return dataset


def load_dataset(ident: str, root: Path) -> LabelledData:
    """A saved dataset, checked again (it is a file on disk like any other); raises UserDataError."""
    path = dataset_path(ident, root)
    if path.parent.is_symlink() or path.is_symlink() or not path.is_file():
        raise UserDataError(f"The dataset {ident} is not in the user store (was it deleted?).")
    if path.stat().st_size > MAX_DATASET_BYTES:
        raise UserDataError(f"The dataset {ident} is larger than any saved dataset can be.")
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, RecursionError):
        raise UserDataError(f"The dataset {ident} is damaged (not valid JSON).") from None
    names, texts, labels = (record.get(k) if isinstance(record, dict) else None
                            for k in ("class_names", "texts", "labels"))
    ok = isinstance(names, list) and isinstance(texts, list) and isinstance(labels, list) \
        and 2 <= len(names) <= MAX_CLASSES and all(isinstance(n, str) for n in names) \
        and len(texts) == len(labels) and all(isinstance(t, str) for t in texts) \
        and all(type(y) is int and 0 <= y < len(names) for y in labels)
    if not ok:
        raise UserDataError(f"The dataset {ident} is damaged (its texts, labels or label names are invalid).")
    provenance = record.get("provenance") if isinstance(record.get("provenance"), dict) else {}
    return LabelledData(tuple(texts), np.array(labels, dtype=np.int64), tuple(names), provenance)
