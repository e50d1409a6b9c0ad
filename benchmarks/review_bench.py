"""Review-model targets (issue 14): IMDB accuracy against TF-IDF baselines measured in the same run,
short out-of-domain reviews, and how steadily the prediction integrates over a long review.

    python benchmarks/review_bench.py                       # gru-imdb and lstm-imdb, all figures
    python benchmarks/review_bench.py --models gru-imdb --n-flip 300

Prints (nothing is hard-coded; every figure is computed here):
- IMDB test accuracy (24,678 reviews never seen in training) of each model, and of TF-IDF + logistic
  regression (C=4, sublinear tf, min_df 2) with unigrams and with uni+bigrams, fitted on the same
  25k training reviews, with the same tokenizer;
- accuracy on short texts from other domains that no model trained on: women's clothing reviews
  (1-2 stars negative, 4-5 positive; 3 dropped) and Rotten Tomatoes critics' snippets;
- prediction flips per 100 tokens on 300 sampled IMDB test reviews (target <= 2), and the
  distribution of the per-token change of the readout logit margin (positive minus negative).
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from core import store  # noqa: E402
from core.tasks.corpora import read_corpus  # noqa: E402
from core.tasks.imdb import read_imdb  # noqa: E402
from core.text import tokenize  # noqa: E402

BATCH = 256


def short_text_sets() -> dict[str, tuple[list[str], np.ndarray]]:
    texts, stars = read_corpus("stars")
    keep = stars != 2  # 3 stars is neither
    clothing = ([t for t, k in zip(texts, keep) if k], (stars[keep] >= 3).astype(np.int64))
    return {"clothing reviews (1-2 vs 4-5 stars)": clothing, "Rotten Tomatoes snippets": read_corpus("reviews")}


def tfidf_baselines(train, test, short_sets) -> None:
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    for name, ngrams in (("unigrams", (1, 1)), ("uni+bigrams", (1, 2))):
        start = time.perf_counter()
        vec = TfidfVectorizer(tokenizer=tokenize, lowercase=False, token_pattern=None, ngram_range=ngrams,
                              min_df=2, sublinear_tf=True)
        clf = LogisticRegression(C=4.0, max_iter=2000).fit(vec.fit_transform(train[0]), train[1])
        acc = (clf.predict(vec.transform(test[0])) == test[1]).mean()
        short = ", ".join(f"{label} {(clf.predict(vec.transform(t)) == y).mean():.1%}"
                          for label, (t, y) in short_sets.items())
        print(f"TF-IDF + LR ({name}): IMDB test {acc:.2%}; short texts: {short} ({time.perf_counter() - start:.0f} s)")


def predict_all(bundle, texts: list[str]) -> np.ndarray:
    order = np.argsort([len(t) for t in texts])  # similar lengths together: less padding
    probs = np.zeros((len(texts), len(bundle.class_names)), np.float32)
    for start in range(0, len(texts), BATCH):
        idx = order[start:start + BATCH]
        probs[idx] = bundle.predict([texts[i] for i in idx])
    return probs


def flips_and_margins(bundle, texts: list[str]) -> tuple[float, np.ndarray, int]:
    flips = tokens = 0
    deltas = []
    for text in texts:
        traj = bundle.trajectory(text, project=False)
        pred_t = traj.probs_txk.argmax(axis=1)
        flips += int((np.diff(pred_t) != 0).sum())
        tokens += len(pred_t)
        logp = np.log(np.clip(traj.probs_txk.astype(np.float64), 1e-12, 1.0))
        margin_t = logp[:, 1] - logp[:, 0]
        deltas.append(np.diff(margin_t))
    return 100.0 * flips / max(tokens, 1), np.concatenate(deltas), tokens


def model_report(run_id: str, test, short_sets, n_flip: int, seed: int) -> None:
    try:
        bundle = store.load(run_id)
    except store.BundleError as err:
        print(f"{run_id}: unavailable ({err})")
        return
    start = time.perf_counter()
    acc = (predict_all(bundle, test[0]).argmax(axis=1) == test[1]).mean()
    cfg = bundle.config.model
    print(f"{run_id} ({cfg.cell.upper()}-{cfg.units}, {cfg.embed_dim}-d embeddings, vocabulary {cfg.vocab_size}): "
          f"IMDB test {acc:.2%} on {len(test[1])} reviews ({time.perf_counter() - start:.0f} s); "
          f"validation {bundle.metrics.get('val_accuracy', float('nan')):.2%} (stored)")
    for label, (texts, y) in short_sets.items():
        print(f"  {label}: {(predict_all(bundle, texts).argmax(axis=1) == y).mean():.2%} on {len(y)} texts")
    pick = np.random.default_rng(seed).choice(len(test[0]), size=min(n_flip, len(test[0])), replace=False)
    rate, deltas, tokens = flips_and_margins(bundle, [test[0][i] for i in pick])
    q = np.percentile(np.abs(deltas), [50, 90, 99])
    print(f"  prediction flips per 100 tokens on {len(pick)} test reviews ({tokens} tokens): {rate:.2f} "
          f"(target <= 2: {'MET' if rate <= 2 else 'NOT MET'})")
    print(f"  |change of logit margin| per token: median {q[0]:.3f}, 90th pct {q[1]:.3f}, 99th pct {q[2]:.3f}, "
          f"max {np.abs(deltas).max():.2f}; share of tokens moving it by > 1: {(np.abs(deltas) > 1).mean():.2%}")


def main() -> None:
    torch.set_num_threads(1)
    parser = argparse.ArgumentParser()
    parser.add_argument("--models", nargs="*", default=["gru-imdb", "lstm-imdb"])
    parser.add_argument("--n-flip", type=int, default=300)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-baseline", action="store_true")
    args = parser.parse_args()
    train, test = read_imdb("train"), read_imdb("test")
    short_sets = short_text_sets()
    print(f"IMDB: {len(train[1])} training reviews, {len(test[1])} test reviews")
    if not args.no_baseline:
        tfidf_baselines(train, test, short_sets)
    for run_id in args.models:
        model_report(run_id, test, short_sets, args.n_flip, args.seed)


if __name__ == "__main__":
    main()
