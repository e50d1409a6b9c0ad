"""Word deflections at fixed points (Maheswaranathan et al. 2019) and word log-odds in the data.

A word's deflection at a fixed point xstar is the kick one step of the RNN gives it,
dh = F(xstar, x_w) - xstar. Projected on the readout, it says which class the word pushes toward;
projected on the top left eigenvectors of the Jacobian, which slow modes it excites. The
log-odds of a word in the training data are the reference to compare those projections with.

Shapes: ``p`` fixed points, ``w`` words, ``n`` state size, ``k`` classes, ``m`` eigenvectors,
``v`` vocabulary size.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np
import torch

from core.geometry import readout_full
from core.text import Vocab

__all__ = ["word_deflections", "project_deflections", "word_log_odds", "readout_contrast",
           "deflection_log_odds_correlation", "favoured_class", "favoured_class_of", "frequent_words"]


def word_deflections(model, xstar_pxn, word_ids_w, max_batch: int = 32_768) -> np.ndarray:
    """dh_pxwxn[i, j] = F(xstar_i, embed(word_j)) - xstar_i, in float64.

    Runs ``model.step`` with ``model.weights(torch.float64)``; all (point, word) pairs are
    batched, ``max_batch`` pairs at a time to bound memory. The result itself holds p*w*n
    float64 values: pick the words (e.g. the most frequent few thousand) accordingly.
    """
    n = model.state_size
    xstar = torch.as_tensor(np.asarray(xstar_pxn, dtype=np.float64)
                            if not isinstance(xstar_pxn, torch.Tensor) else xstar_pxn,
                            dtype=torch.float64)
    if xstar.ndim != 2 or xstar.shape[1] != n:
        raise ValueError(f"fixed points must be (p, {n}), got {tuple(xstar.shape)}")
    ids = torch.as_tensor(np.asarray(word_ids_w), dtype=torch.long).reshape(-1)
    if ids.numel() and (int(ids.min()) < 0 or int(ids.max()) >= model.config.vocab_size):
        raise ValueError(f"word ids must be from 0 to {model.config.vocab_size - 1}")
    p, w = xstar.shape[0], ids.numel()
    out = np.empty((p, w, n), dtype=np.float64)
    if p == 0 or w == 0:
        return out
    weights = model.weights(torch.float64)
    chunk = max(1, max_batch // p)
    with torch.no_grad():
        x_wxe = model.embed(ids).to(torch.float64)
        e = x_wxe.shape[1]
        for start in range(0, w, chunk):
            x = x_wxe[start:start + chunk]
            m = x.shape[0]
            state = xstar[:, None, :].expand(p, m, n).reshape(p * m, n)
            new = model.step(state, x[None].expand(p, m, e).reshape(p * m, e), weights=weights)
            out[:, start:start + m] = (new - state).reshape(p, m, n).numpy()
    return out


def project_deflections(dh, readout_kxn_full, left_vecs_nxm=None,
                        normalize_readout: bool = True) -> tuple[np.ndarray, np.ndarray | None]:
    """Deflections (..., n) projected on readout directions (..., k) and left eigenvectors (..., m).

    Readout rows (k, units) are zero-padded to the state size (LSTM) and, by default, scaled to
    unit length, so the projection is the distance moved along each class direction; with
    ``normalize_readout=False`` it is the change in logits instead.

    ``left_vecs_nxm`` holds left eigenvectors l_i of the Jacobian as columns (l_i^T J = lambda_i l_i^T).
    The coefficient returned is l_i^T dh (no conjugation): the amplitude of mode i in dh when
    the left vectors are scaled so l_i^T r_i = 1. It is complex if the vectors are; take
    ``np.abs`` or ``.real`` as the plot needs. ``None`` gives ``None``.
    """
    dh = np.asarray(dh)
    readout = readout_full(readout_kxn_full, dh.shape[-1])
    if normalize_readout:
        norms = np.linalg.norm(readout, axis=1, keepdims=True)
        readout = np.divide(readout, norms, out=np.zeros_like(readout), where=norms > 0)
    on_readout = dh @ readout.T
    if left_vecs_nxm is None:
        return on_readout, None
    left = np.asarray(left_vecs_nxm)
    if left.ndim != 2 or left.shape[0] != dh.shape[-1]:
        raise ValueError(f"left eigenvectors must be ({dh.shape[-1]}, m), got {left.shape}")
    return on_readout, dh @ left


def word_log_odds(token_lists: Sequence[Sequence[str]], labels, vocab: Vocab, num_classes: int,
                  alpha: float = 1.0) -> np.ndarray:
    """Per-word, per-class smoothed log-odds in labelled data, log_odds_vxk (float64).

    Column c compares the word's token rate in documents of class c with its rate in the other
    documents (one-vs-rest):
        log[(n_pos + alpha) / (N_pos + alpha V)] - log[(n_neg + alpha) / (N_neg + alpha V)]
    where n counts the word's tokens, N all tokens on that side and V the vocabulary size. For two
    classes column 1 is the usual positive-vs-negative log-odds and column 0 its negation.
    ``labels`` are class indices (b,) or 0/1 multi-label rows (b, k) (then "rest" is the
    documents without label c). Tokens outside the vocabulary count as <unk>; words never seen
    get 0.
    """
    if alpha <= 0:
        raise ValueError("alpha must be positive")
    labels = np.asarray(labels)
    b = len(token_lists)
    if labels.ndim == 1:
        if labels.shape[0] != b or (b and (labels.min() < 0 or labels.max() >= num_classes)):
            raise ValueError(f"need one class index from 0 to {num_classes - 1} per document")
        y_bxk = np.eye(num_classes)[labels.astype(np.int64)]
    elif labels.shape == (b, num_classes):
        y_bxk = (labels > 0.5).astype(np.float64)
    else:
        raise ValueError(f"labels must be (b,) class indices or (b, {num_classes}) 0/1 rows")
    v = len(vocab)
    encoded = [vocab.encode(toks) for toks in token_lists]
    word_ids = np.fromiter((i for ids in encoded for i in ids), dtype=np.int64)
    doc_ids = np.repeat(np.arange(b), [len(ids) for ids in encoded])
    pos_vxk = np.zeros((v, num_classes))
    np.add.at(pos_vxk, word_ids, y_bxk[doc_ids])
    total_v = np.bincount(word_ids, minlength=v).astype(np.float64)
    neg_vxk = total_v[:, None] - pos_vxk
    rate_pos = (pos_vxk + alpha) / (pos_vxk.sum(axis=0) + alpha * v)
    rate_neg = (neg_vxk + alpha) / (neg_vxk.sum(axis=0) + alpha * v)
    log_odds = np.log(rate_pos) - np.log(rate_neg)
    log_odds[total_v == 0] = 0.0
    return log_odds


def readout_contrast(readout_proj_wxk, log_odds_wxk) -> tuple[np.ndarray, np.ndarray]:
    """Each word's deflection along "class c vs the others" next to its log-odds for c.

    Two classes: one column, the readout difference positive - negative (column 1 - column 0)
    beside log-odds column 1. More classes: one column per class, the projection on class c minus
    the mean over classes (softmax ignores a shift shared by all logits) beside the one-vs-rest
    log-odds of c. Returns ``(deflection_wxc, log_odds_wxc)`` with c = 1 or k.
    """
    proj = np.asarray(readout_proj_wxk, dtype=np.float64)
    odds = np.asarray(log_odds_wxk, dtype=np.float64)
    if proj.shape != odds.shape or proj.ndim != 2:
        raise ValueError(f"readout projections {proj.shape} and log-odds {odds.shape} must both be (w, k)")
    if proj.shape[1] == 2:
        return proj[:, 1:] - proj[:, :1], odds[:, 1:]
    return proj - proj.mean(axis=1, keepdims=True), odds


def deflection_log_odds_correlation(deflection_w, log_odds_w) -> float:
    """Pearson correlation between words' deflections and their log-odds, over the words where
    both are finite; NaN with fewer than three such words or when either side is constant."""
    x = np.asarray(deflection_w, dtype=np.float64).ravel()
    y = np.asarray(log_odds_w, dtype=np.float64).ravel()
    if x.shape != y.shape:
        raise ValueError(f"need one deflection per log-odds value, got {x.shape} and {y.shape}")
    ok = np.isfinite(x) & np.isfinite(y)
    if ok.sum() < 3:
        return float("nan")
    x, y = x[ok] - x[ok].mean(), y[ok] - y[ok].mean()
    denom = np.sqrt((x * x).sum() * (y * y).sum())
    if denom <= 0:
        return float("nan")
    return float(np.clip((x * y).sum() / denom, -1.0, 1.0))


def favoured_class(log_odds_wxk, min_log_odds: float = 0.3) -> np.ndarray:
    """The class each word's log-odds favours (argmax over classes), or -1 when no class's
    log-odds reaches ``min_log_odds`` (about 1.35x more frequent than in the rest): neutral."""
    odds = np.asarray(log_odds_wxk, dtype=np.float64)
    best = odds.argmax(axis=1) if odds.size else np.zeros(len(odds), np.int64)
    return np.where(odds.max(axis=1, initial=-np.inf) >= min_log_odds, best, -1).astype(np.int64)


def favoured_class_of(query_ids, word_ids_w, log_odds_wxk, min_log_odds: float = 0.3) -> np.ndarray:
    """``favoured_class`` for the words ``query_ids``, looked up in a table of ``word_ids_w``;
    -1 for words not in the table."""
    table = dict(zip(np.asarray(word_ids_w).tolist(), favoured_class(log_odds_wxk, min_log_odds).tolist()))
    return np.array([table.get(int(i), -1) for i in np.asarray(query_ids).ravel()], dtype=np.int64)


def frequent_words(word_ids_w, count_w, n: int = 15, exclude_ids=(0, 1), only_ids=None) -> np.ndarray:
    """Positions (into ``word_ids_w``) of the ``n`` most frequent words, skipping ``exclude_ids``
    (<pad> and <unk>), words never seen and, if ``only_ids`` is given, words not in it; ties keep
    the original order."""
    ids = np.asarray(word_ids_w)
    count = np.asarray(count_w)
    keep = ~np.isin(ids, np.asarray(exclude_ids)) & (count > 0)
    if only_ids is not None:
        keep &= np.isin(ids, np.asarray(only_ids))
    order = np.flatnonzero(keep)[np.argsort(-count[keep], kind="stable")]
    return order[:max(n, 0)]
