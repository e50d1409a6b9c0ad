"""The science figures of issue 18 (Aitken et al. 2021), read from the bundled sequence-to-sequence analyses.

    python benchmarks/attention_report.py      # also printed at the end of benchmarks/science_report.py

Per bundle: test exact-match and token accuracy, the temporal / input-driven / residual variance shares of
encoder and decoder states, and each attention-score term's alignment accuracy (argmax agreement with the
real scores) and R^2 on the teacher-forced test set; then the paper's claims, checked against those numbers.
Nothing is hard-coded: every number is read from config.json metrics or analysis.npz.
"""
from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from core import seq_store, store  # noqa: E402
from core.seq2seq.decompose import TERMS  # noqa: E402

CLAIMS = {  # task -> (term the paper expects to carry the alignment, what it means)
    "seq-translate": ("mu.mu", "alignment by position: the temporal term alone gives >= 90% of the real argmax"),
    "seq-reverse": ("mu.mu", "the temporal terms again, with the anti-diagonal"),
    "seq-sort": ("chi.chi", "alignment by content: the input-driven term carries it"),
    "seq-scan": ("mu.mu+chi.chi", "content and position together"),
}


def seq_bundles():
    rows = [s for s in store.list_bundles() if s.kind == "seq2seq" and s.ok and s.has_analysis]
    return [seq_store.load_seq(s.run_id) for s in sorted(rows, key=lambda s: (s.task, s.cell, s.run_id))]


def report_all() -> None:
    bundles = seq_bundles()
    if not bundles:
        print("no analyzed sequence-to-sequence bundles (python -m core bundle-all)")
        return
    print("\n== Encoder-decoder attention (Aitken et al. 2021): teacher-forced test sets ==")
    head = f"{'run':20s} {'exact':>6s} {'token':>6s}  {'enc T/I/R':>14s}  {'dec T/I/R':>14s}  " + \
        " ".join(f"{t:>13s}" for t in TERMS)
    print(head)
    for b in bundles:
        a, m = b.analysis, b.metrics
        fr = lambda f: "/".join(f"{100 * x:.0f}" for x in f)  # noqa: E731
        print(f"{b.run_id:20s} {m['test_accuracy']:6.1%} {m['test_token_accuracy']:6.1%}  "
              f"{fr(a.enc_fractions_3):>14s}  {fr(a.dec_fractions_3):>14s}  "
              + " ".join(f"{al:6.1%} R2{r2:+.2f}" for al, r2 in zip(a.alignment_5, a.r2_5)))
    print("\nclaims (alignment accuracy of the term alone; the best single term in brackets):")
    for b in bundles:
        term, claim = CLAIMS[b.config.task.name]
        a = b.analysis
        single = dict(zip(TERMS[:4], a.alignment_5[:4]))
        best = max(single, key=single.get)
        value = dict(zip(TERMS, a.alignment_5))[term]
        print(f"  {b.run_id:20s} {claim}: {term} {value:.1%} [best single term {best} {single[best]:.1%}]")


if __name__ == "__main__":
    report_all()
