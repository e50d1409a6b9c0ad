"""Issue 19's word-combination tasks against bag-of-words baselines.

    python benchmarks/ngram_tasks_bench.py [--n-train 4000]

Prints, for negation, intensifiers and bigram (the study's task settings), the test and held-out accuracy of
TF-IDF + logistic regression on unigrams and on uni+bigrams. A unigram bag of words should be near chance
(50%) on negation and bigram, and well above it on intensifiers (single words still carry sentiment there);
adding bigram features should lift every task.
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from core.baselines import tfidf_accuracy  # noqa: E402
from core.config import NGRAM_TASKS  # noqa: E402
from core.studies import study_task  # noqa: E402
from core.tasks import load_task  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    print(f"{'task':14s} {'n_train':>7s} {'uni test':>9s} {'uni held':>9s} {'uni+bi test':>12s} {'uni+bi held':>12s}")
    for name in NGRAM_TASKS:
        start = time.perf_counter()
        data = load_task(study_task(name, seed=args.seed))
        uni, bi = tfidf_accuracy(data, 1), tfidf_accuracy(data, 2)
        print(f"{name:14s} {len(data.train):7d} {uni['test']:9.1%} {uni['heldout']:9.1%} {bi['test']:12.1%} "
              f"{bi['heldout']:12.1%}   ({time.perf_counter() - start:.1f} s)")


if __name__ == "__main__":
    main()
