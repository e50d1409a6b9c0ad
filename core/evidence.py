"""How much each token moved the prediction: the evidence shown in the token strip."""
from __future__ import annotations

import numpy as np

__all__ = ["token_evidence"]

EPS = 1e-7


def token_evidence(probs_txk: np.ndarray, prior_k: np.ndarray) -> tuple[np.ndarray, np.ndarray, int]:
    """Per-token change in log-probability.

    Returns ``evidence_t`` (change in log p of the final predicted class caused by token t),
    ``toward_t`` (the class whose log-probability rose most at token t) and the final
    predicted class. ``prior_k`` is the prediction before any token (the initial state).
    """
    probs_txk = np.asarray(probs_txk, dtype=np.float64)
    if probs_txk.shape[0] == 0:
        return np.zeros(0), np.zeros(0, dtype=np.int64), int(np.argmax(prior_k))
    logp_txk = np.log(np.clip(np.vstack([np.asarray(prior_k, np.float64)[None], probs_txk]), EPS, 1.0))
    delta_txk = np.diff(logp_txk, axis=0)
    predicted = int(np.argmax(probs_txk[-1]))
    return delta_txk[:, predicted], np.argmax(delta_txk, axis=1), predicted
