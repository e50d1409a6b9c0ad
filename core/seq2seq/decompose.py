"""Temporal vs input-driven decomposition of encoder and decoder states, and of the attention scores
between them (Aitken et al. 2021, "Understanding how encoder-decoder architectures attend"). Numpy only.

A state at step t reading word w is ``h = mu_t + chi(w) + residual``: mu_t is the mean state at step t
over the sequences that reach t, chi(w) the mean of h - mu_t over every step that reads w
(``core.geometry.decompose``). Encoder states read the source word at their position; decoder states
read the decoder's input at their step (<bos>, then the previous target token: teacher forcing).
With dot-product attention the score ``s_us = d_u . e_s`` then splits into four terms,
``mu.mu + mu.chi + chi.mu + chi.chi`` (decoder part first), plus the terms with a residual.

Alignment accuracy of a term: the fraction of decoder steps where the term's argmax over the valid
source positions is the real scores' argmax. R^2 of a term: 1 - SS(real - term) / SS(real - mean),
pooled over every valid (u, s) pair.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core.geometry import decompose

__all__ = ["TERMS", "SeqDecomposition", "decompose_states", "score_terms", "alignment_accuracy", "r_squared",
           "attention_report"]

TERMS = ("mu.mu", "mu.chi", "chi.mu", "chi.chi", "mu.mu+chi.chi")


@dataclass(frozen=True)
class SeqDecomposition:
    mu_txn: np.ndarray        # float64
    chi_wxn: np.ndarray       # float64, zero for words never read
    count_w: np.ndarray       # how often each word was read
    fractions_3: np.ndarray   # temporal, input-driven, residual shares of the variance (sum to 1)

    def parts(self, ids_bxt: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """mu and chi at every step of these sequences (mu_bxtxn, chi_bxtxn), steps past mu's length get mu's last."""
        steps = np.minimum(np.arange(ids_bxt.shape[1]), len(self.mu_txn) - 1)
        return np.broadcast_to(self.mu_txn[steps], (*ids_bxt.shape, self.mu_txn.shape[1])), self.chi_wxn[ids_bxt]


def decompose_states(states_bxtxn, ids_bxt, lengths_b, vocab_size: int) -> SeqDecomposition:
    d = decompose(np.asarray(states_bxtxn, np.float64), np.asarray(ids_bxt), np.asarray(lengths_b), vocab_size,
                  keep_residual=False)
    return SeqDecomposition(np.asarray(d.mu_txn), np.asarray(d.chi_wxn), np.asarray(d.count_w),
                            np.array([d.temporal_fraction, d.input_fraction, d.residual_fraction]))


def score_terms(dec_mu, dec_chi, enc_mu, enc_chi) -> dict[str, np.ndarray]:
    """The four score terms for a batch: each (b, u, s), from the parts (b, u, n) and (b, s, n)."""
    dot = lambda a, b: np.einsum("bun,bsn->bus", a, b)  # noqa: E731
    terms = {"mu.mu": dot(dec_mu, enc_mu), "mu.chi": dot(dec_mu, enc_chi), "chi.mu": dot(dec_chi, enc_mu),
             "chi.chi": dot(dec_chi, enc_chi)}
    terms["mu.mu+chi.chi"] = terms["mu.mu"] + terms["chi.chi"]
    return terms


def _valid(src_lengths_b, tgt_lengths_b, u: int, s: int) -> np.ndarray:
    rows = np.arange(u)[None, :, None] < np.asarray(tgt_lengths_b)[:, None, None]
    cols = np.arange(s)[None, None, :] < np.asarray(src_lengths_b)[:, None, None]
    return rows & cols


def alignment_accuracy(term_bxuxs, scores_bxuxs, src_lengths_b, tgt_lengths_b) -> float:
    """How often the term's argmax over valid source positions equals the real scores' (valid steps only)."""
    b, u, s = scores_bxuxs.shape
    valid = _valid(src_lengths_b, tgt_lengths_b, u, s)
    pick = lambda x: np.where(valid, x, -np.inf).argmax(-1)  # noqa: E731
    rows = valid.any(-1)
    return float((pick(term_bxuxs) == pick(scores_bxuxs))[rows].mean()) if rows.any() else float("nan")


def r_squared(term_bxuxs, scores_bxuxs, src_lengths_b, tgt_lengths_b) -> float:
    valid = _valid(src_lengths_b, tgt_lengths_b, *scores_bxuxs.shape[1:])
    real, approx = scores_bxuxs[valid], term_bxuxs[valid]
    total = float(np.sum((real - real.mean()) ** 2))
    return 1.0 - float(np.sum((real - approx) ** 2)) / total if total > 0 else float("nan")


def attention_report(enc_bxsxn, src_bxs, src_lengths_b, dec_bxuxn, dec_in_bxu, tgt_lengths_b, scores_bxuxs,
                     src_vocab_size: int, tgt_vocab_size: int) -> dict:
    """Both decompositions, and each term's alignment accuracy and R^2 against the real scores."""
    enc = decompose_states(enc_bxsxn, src_bxs, src_lengths_b, src_vocab_size)
    dec = decompose_states(dec_bxuxn, dec_in_bxu, tgt_lengths_b, tgt_vocab_size)
    enc_mu, enc_chi = enc.parts(src_bxs)
    dec_mu, dec_chi = dec.parts(dec_in_bxu)
    terms = score_terms(dec_mu, dec_chi, enc_mu, enc_chi)
    scores = np.asarray(scores_bxuxs, np.float64)
    return {"encoder": enc, "decoder": dec,
            "alignment_5": np.array([alignment_accuracy(terms[k], scores, src_lengths_b, tgt_lengths_b) for k in TERMS]),
            "r2_5": np.array([r_squared(terms[k], scores, src_lengths_b, tgt_lengths_b) for k in TERMS])}
