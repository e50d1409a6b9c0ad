"""How much each token moved the prediction: the evidence shown in the token strip.

The measure is the change of the predicted class's **log-odds** (its logit margin) caused by the
token: for softmax outputs log-odds_c = z_c - logsumexp(z_j, j != c), for independent sigmoid
labels log-odds_c = z_c. Unlike the change of log p it does not saturate: near 99% confidence a
decisive word still moves the log-odds by its full amount, while log p can barely move. For two
classes it is exactly the change of the readout logit difference z_pred - z_other. Nothing is
re-ranked or rescaled per word: the strip shows the model's own numbers.
"""
from __future__ import annotations

import numpy as np

__all__ = ["log_odds", "token_evidence"]


def log_odds(logits_txk: np.ndarray, multilabel: bool = False) -> np.ndarray:
    """Per-class log-odds (logit margin) from readout logits, float64, same shape."""
    z = np.asarray(logits_txk, dtype=np.float64)
    if multilabel or z.shape[-1] < 2:
        return z
    out = np.empty_like(z)
    for c in range(z.shape[-1]):
        others = np.delete(z, c, axis=-1)
        top = others.max(axis=-1, keepdims=True)
        out[..., c] = z[..., c] - (top[..., 0] + np.log(np.exp(others - top).sum(axis=-1)))
    return out


def token_evidence(logits_txk: np.ndarray, initial_logits_k: np.ndarray,
                   multilabel: bool = False) -> tuple[np.ndarray, np.ndarray, int]:
    """Per-token change of the predicted class's log-odds.

    Returns ``evidence_t`` (change in the log-odds of the final predicted class caused by token t),
    ``toward_t`` (the class whose log-odds rose most at token t) and the final predicted class
    (argmax of the last logits; of the initial ones when there is no token).
    ``initial_logits_k`` is the readout of the initial state, before any token.
    """
    z_txk = np.asarray(logits_txk, dtype=np.float64).reshape(-1, np.asarray(initial_logits_k).shape[-1])
    odds_txk = log_odds(np.vstack([np.asarray(initial_logits_k, np.float64)[None], z_txk]), multilabel)
    if z_txk.shape[0] == 0:
        return np.zeros(0), np.zeros(0, dtype=np.int64), int(np.argmax(odds_txk[0]))
    delta_txk = np.diff(odds_txk, axis=0)
    predicted = int(np.argmax(z_txk[-1]))
    return delta_txk[:, predicted], np.argmax(delta_txk, axis=1), predicted
