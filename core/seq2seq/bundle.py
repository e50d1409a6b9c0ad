"""A loaded sequence-to-sequence bundle and what it computes for a typed source: the seq2seq inference API.

``core.store.load_seq`` / ``load_seq_path`` build a ``SeqBundle``; ``bundle.translate(text)`` decodes a
source greedily and returns the states, scores and attention of that run (``SeqResult``), and
``bundle.analysis`` the precomputed decomposition (``SeqAnalysis``, read from analysis.npz on first use and
checked against the weights' hash). ``terms_for(result)`` splits a result's scores into the four terms
with the stored mu and chi.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from core.analysis_file import read_arrays
from core.seq2seq.config import SeqRunConfig
from core.seq2seq.models import BOS_ID, EOS_ID, Seq2Seq
from core.text import UNK_ID, Vocab, tokenize

__all__ = ["SeqBundle", "SeqResult", "SeqAnalysis", "TERM_NAMES", "MAX_SOURCE_TOKENS"]

TERM_NAMES = ("mu.mu", "mu.chi", "chi.mu", "chi.chi", "mu.mu+chi.chi")
MAX_SOURCE_TOKENS = 40  # the page's cap; a feed-forward encoder also stops at its position table


@dataclass(frozen=True)
class SeqResult:
    tokens: list[str]
    src_ids: np.ndarray       # (s,)
    known: np.ndarray         # (s,) bool
    output: list[str]         # decoded target words, <eos> excluded
    dec_in_ids: np.ndarray    # (u,) the decoder's input at each step (<bos>, then its own previous output)
    enc_sxn: np.ndarray
    dec_uxn: np.ndarray
    scores_uxs: np.ndarray
    attn_uxs: np.ndarray
    truncated: bool
    finished: bool            # the decoder emitted <eos> before its step cap


@dataclass(frozen=True)
class SeqAnalysis:
    arrays: dict

    def __getattr__(self, name: str) -> np.ndarray:
        try:
            return self.arrays[f"seq_{name}"]
        except KeyError:
            raise AttributeError(name) from None

    def project(self, states_xn: np.ndarray, dims: int = 3) -> np.ndarray:
        comps = self.arrays["seq_pca_components_cxn"][:dims]
        return (np.asarray(states_xn, np.float64) - self.arrays["seq_pca_mean_n"]) @ comps.T

    def terms_for(self, result: SeqResult) -> dict[str, np.ndarray]:
        """The four score terms (and mu.mu + chi.chi) of one result, each (u, s), from the stored mu and chi."""
        enc_mu = self.arrays["seq_enc_mu_sxn"][np.minimum(np.arange(len(result.src_ids)), len(self.enc_mu_sxn) - 1)]
        dec_mu = self.arrays["seq_dec_mu_uxn"][np.minimum(np.arange(len(result.dec_in_ids)), len(self.dec_mu_uxn) - 1)]
        enc_chi, dec_chi = self.enc_chi_wxn[result.src_ids], self.dec_chi_wxn[result.dec_in_ids]
        terms = {"mu.mu": dec_mu @ enc_mu.T, "mu.chi": dec_mu @ enc_chi.T, "chi.mu": dec_chi @ enc_mu.T,
                 "chi.chi": dec_chi @ enc_chi.T}
        terms["mu.mu+chi.chi"] = terms["mu.mu"] + terms["chi.chi"]
        return terms


@dataclass
class SeqBundle:
    run_id: str
    path: Path
    config: SeqRunConfig
    model: Seq2Seq
    src_vocab: Vocab
    tgt_vocab: Vocab
    info: dict                     # examples, source, bundled
    metrics: dict
    weights_sha256: str
    _analysis: SeqAnalysis | None = field(default=None, repr=False)

    kind = "seq2seq"

    @property
    def examples(self) -> list[str]:
        return [str(e) for e in self.info.get("examples", [])]

    @property
    def has_analysis(self) -> bool:
        return (self.path / "analysis.npz").is_file()

    @property
    def analysis(self) -> SeqAnalysis:
        """The precomputed decomposition; raises AnalysisError if it is missing, damaged or stale."""
        if self._analysis is None:
            self._analysis = SeqAnalysis(read_arrays(self.path / "analysis.npz", self.weights_sha256))
        return self._analysis

    def forget_analysis(self) -> None:
        """Read analysis.npz again on the next use (after it was recomputed)."""
        self._analysis = None

    def max_source_tokens(self) -> int:
        cap = MAX_SOURCE_TOKENS
        return min(cap, self.config.model.max_src_len) if self.config.model.encoder == "ff" else cap

    @torch.no_grad()
    def translate(self, text: str, max_steps: int | None = None) -> SeqResult:
        cap = self.max_source_tokens()
        tokens = tokenize(text, max_tokens=cap + 1)
        truncated, tokens = len(tokens) > cap, tokens[:cap]
        ids = np.asarray(self.src_vocab.encode(tokens), np.int64)
        steps = max_steps or 3 * max(len(ids), 1) + 4
        src = torch.from_numpy(ids.reshape(1, -1) if len(ids) else np.zeros((1, 1), np.int64))
        out, run = self.model.greedy(src, torch.tensor([max(len(ids), 1)]), max_steps=steps)
        out_ids = out[0].numpy()
        ends = np.nonzero(out_ids == EOS_ID)[0]
        used = int(ends[0]) + 1 if len(ends) else len(out_ids)
        dec_in = np.concatenate([[BOS_ID], out_ids[: used - 1]]).astype(np.int64)
        width = len(ids)
        return SeqResult(tokens, ids, ids != UNK_ID, self.tgt_vocab.decode(out_ids[: used - (1 if len(ends) else 0)]),
                         dec_in, run.enc_bxsxn[0, :width].numpy(), run.dec_bxuxn[0, :used].numpy(),
                         run.scores_bxuxs[0, :used, :width].numpy(), run.attn_bxuxs[0, :used, :width].numpy(),
                         truncated, bool(len(ends)))
