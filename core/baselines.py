"""Bag-of-words baselines for a task: TF-IDF features and logistic regression, fitted on the training split.

A word-combination task (core.tasks.ngram) is built so that unigram counts carry little (negation) or no
(bigram) information about the label; these numbers check that claim on the generated data.
"""
from __future__ import annotations

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

from core.tasks import TaskData

__all__ = ["tfidf_accuracy"]


def tfidf_accuracy(data: TaskData, ngram_max: int = 1, c: float = 4.0) -> dict[str, float]:
    """Accuracy of TF-IDF (1..ngram_max-grams, sublinear tf) + logistic regression on test (and held-out) splits."""
    vec = TfidfVectorizer(analyzer=lambda toks: _ngrams(toks, ngram_max), sublinear_tf=True)
    x_train = vec.fit_transform(data.train.tokens)
    clf = LogisticRegression(C=c, max_iter=2000).fit(x_train, data.train.labels)
    splits = {"test": data.test, **({"heldout": data.heldout} if data.heldout is not None else {})}
    return {name: float(np.mean(clf.predict(vec.transform(split.tokens)) == split.labels))
            for name, split in splits.items()}


def _ngrams(tokens: list[str], n_max: int) -> list[str]:
    return [" ".join(tokens[i:i + n]) for n in range(1, n_max + 1) for i in range(len(tokens) - n + 1)]
