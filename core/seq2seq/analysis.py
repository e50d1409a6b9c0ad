"""The precompute for one sequence-to-sequence bundle, saved as its analysis.npz (numpy arrays only).

On the test split, teacher-forced: the encoder and decoder states, their temporal / input-driven /
residual decomposition (``core.seq2seq.decompose``), each attention-score term's alignment accuracy and
R^2 against the real scores, and a PCA fitted on encoder and decoder states together (one space, as
the dot product compares them). Keys start with ``seq_``; ``core.seq2seq.bundle.SeqAnalysis`` reads them.
"""
from __future__ import annotations

import time

import numpy as np
import torch

from core.analysis_file import ANALYSIS_VERSION, save_analysis
from core.seq2seq.decompose import TERMS, attention_report
from core.seq2seq.training import EncodedPairs, encode_pairs
from core.tasks.seq2seq import make_seq_task

__all__ = ["teacher_forced_states", "seq_analysis_arrays", "analyze_seq_bundle"]


@torch.no_grad()
def teacher_forced_states(model, data: EncodedPairs, batch: int = 500) -> tuple[np.ndarray, ...]:
    """enc_bxsxn, dec_bxuxn and scores_bxuxs over a whole encoded split (zero / -inf where padded)."""
    b, s, u = len(data.src_lengths_b), data.src_bxs.shape[1], data.dec_in_bxu.shape[1]
    n = model.config.units
    enc, dec = np.zeros((b, s, n), np.float32), np.zeros((b, u, n), np.float32)
    scores = np.full((b, u, s), -np.inf, np.float32)
    model.eval()
    for start in range(0, b, batch):
        rows = slice(start, min(start + batch, b))
        run = model(torch.from_numpy(data.src_bxs[rows]), torch.from_numpy(data.src_lengths_b[rows]),
                    torch.from_numpy(data.dec_in_bxu[rows]))
        enc[rows], dec[rows], scores[rows] = run.enc_bxsxn.numpy(), run.dec_bxuxn.numpy(), run.scores_bxuxs.numpy()
    return enc, dec, scores


def _pca_arrays(states_xn: np.ndarray, n_components: int = 3) -> dict[str, np.ndarray]:
    mean = states_xn.mean(0)
    _, sv, vt = np.linalg.svd(states_xn - mean, full_matrices=False)
    var = sv**2
    return {"seq_pca_mean_n": mean, "seq_pca_components_cxn": vt[:n_components],
            "seq_pca_explained_ratio_c": var[:n_components] / var.sum()}


def seq_analysis_arrays(model, data: EncodedPairs, src_vocab_size: int, tgt_vocab_size: int,
                        pca_sample: int = 20_000, seed: int = 0) -> dict[str, np.ndarray]:
    enc, dec, scores = teacher_forced_states(model, data)
    report = attention_report(enc, data.src_bxs, data.src_lengths_b, dec, data.dec_in_bxu, data.tgt_lengths_b,
                              scores, src_vocab_size, tgt_vocab_size)
    valid_enc = enc[np.arange(enc.shape[1])[None, :] < data.src_lengths_b[:, None]]
    valid_dec = dec[np.arange(dec.shape[1])[None, :] < data.tgt_lengths_b[:, None]]
    both = np.concatenate([valid_enc, valid_dec]).astype(np.float64)
    both = both[np.random.default_rng(seed).permutation(len(both))[:pca_sample]]
    e, d = report["encoder"], report["decoder"]
    return {"seq_enc_mu_sxn": e.mu_txn, "seq_enc_chi_wxn": e.chi_wxn, "seq_enc_count_w": e.count_w,
            "seq_enc_fractions_3": e.fractions_3, "seq_dec_mu_uxn": d.mu_txn, "seq_dec_chi_wxn": d.chi_wxn,
            "seq_dec_count_w": d.count_w, "seq_dec_fractions_3": d.fractions_3,
            "seq_alignment_5": report["alignment_5"], "seq_r2_5": report["r2_5"],
            "seq_terms": np.array(TERMS), **_pca_arrays(both)}


def analyze_seq_bundle(bundle, seed: int = 0) -> dict:
    """Compute and save analysis.npz for a loaded SeqBundle (on its task's test split); returns the figures."""
    start = time.perf_counter()
    task = make_seq_task(bundle.config.task)
    pairs = encode_pairs(task.test, bundle.src_vocab, bundle.tgt_vocab)
    arrays = seq_analysis_arrays(bundle.model, pairs, len(bundle.src_vocab), len(bundle.tgt_vocab), seed=seed)
    arrays.update({"analysis_version": np.array(ANALYSIS_VERSION), "weights_sha256": np.array(bundle.weights_sha256),
                   "seq_wall_time_s": np.array(time.perf_counter() - start)})
    save_analysis(bundle.path / "analysis.npz", arrays)
    bundle.forget_analysis()
    return {"alignment": dict(zip(TERMS, arrays["seq_alignment_5"].tolist())),
            "r2": dict(zip(TERMS, arrays["seq_r2_5"].tolist())),
            "enc_fractions": arrays["seq_enc_fractions_3"].tolist(), "dec_fractions": arrays["seq_dec_fractions_3"].tolist()}
