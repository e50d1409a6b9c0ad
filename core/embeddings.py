"""Pretrained word vectors a model's embedding can start from (shipped in data/, numpy arrays only).

``glove50``: GloVe 6B 50-d rows for the 30,000 most frequent IMDB training tokens
(data/glove_imdb/PROVENANCE.md). Only training reads these files; a bundle stores its own trained
embedding, so the dashboard never needs them.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from core.config import PRETRAINED, repo_root
from core.text import PAD_ID, Vocab

__all__ = ["VECTOR_FILES", "load_vectors", "pretrained_embedding"]

VECTOR_FILES = {"glove50": "data/glove_imdb/vectors.npz"}


def load_vectors(name: str, root: Path | None = None) -> tuple[np.ndarray, np.ndarray]:
    """``(words_w, vectors_wxe)`` of a shipped set of word vectors."""
    if name not in VECTOR_FILES:
        raise ValueError(f"no shipped word vectors named {name!r}")
    with np.load((root or repo_root()) / VECTOR_FILES[name], allow_pickle=False) as npz:
        words, vectors = npz["words_w"], npz["vectors_wxe"].astype(np.float32)
    if vectors.shape != (len(words), PRETRAINED[name]):
        raise ValueError(f"{VECTOR_FILES[name]} holds vectors of shape {vectors.shape}, expected (w, {PRETRAINED[name]})")
    return words, vectors


def pretrained_embedding(name: str, vocab: Vocab, seed: int = 0,
                         root: Path | None = None) -> tuple[np.ndarray, np.ndarray]:
    """An initial embedding matrix for ``vocab`` (rows in vocabulary order) and which rows were found.

    Words without a vector get random rows with the vectors' own per-coordinate spread; <pad> is zero.
    Returns ``(embedding_vxe float32, found_v bool)``.
    """
    words, vectors = load_vectors(name, root)
    row = {str(w): i for i, w in enumerate(words)}
    rng = np.random.default_rng(seed)
    emb = (rng.standard_normal((len(vocab), vectors.shape[1])) * vectors.std(axis=0)).astype(np.float32)
    found = np.array([w in row for w in vocab.itos])
    emb[found] = vectors[[row[w] for w in vocab.itos if w in row]]
    emb[PAD_ID] = 0.0
    found[PAD_ID] = False
    return emb, found
