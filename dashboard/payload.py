"""The compact JSON a keystroke sends to the browser: tokens, projected trajectory, probabilities, evidence.

One core call per keystroke: ``Bundle.trajectory`` returns all of it; this module only rounds and
phrases it.
"""
from __future__ import annotations

import numpy as np

from core.bundle import Bundle

__all__ = ["trajectory_payload", "empty_payload", "prediction_sentence"]

COORD_DECIMALS = 3
PROB_DECIMALS = 3


def _flat(arr: np.ndarray, decimals: int) -> list[float]:
    return np.round(np.asarray(arr, dtype=np.float64), decimals).ravel().tolist()


def prediction_sentence(class_names: list[str], probs_k: np.ndarray, multilabel: bool = False) -> str:
    if multilabel:
        present = [f"{n} ({p:.0%})" for n, p in zip(class_names, probs_k) if p >= 0.5]
        return "Predicted labels: " + (", ".join(present) if present else "none")
    k = int(np.argmax(probs_k))
    return f"Prediction: {class_names[k]} ({probs_k[k]:.0%} confident)"


def empty_payload(message: str) -> dict:
    return {"n": 0, "tokens": [], "unk": [], "xyz": [], "probs": [], "ev": [], "toward": [], "k": 0,
            "prediction": "", "notice": message, "truncated": False}


def trajectory_payload(bundle: Bundle, text: str, max_tokens: int, max_chars: int) -> dict:
    """Everything the browser needs to draw one text's trajectory; numbers rounded to keep it small."""
    text = text if isinstance(text, str) else ""
    clipped = len(text) > max_chars
    traj = bundle.trajectory(text[:max_chars], max_tokens=max_tokens)
    if not traj.tokens:
        return empty_payload("Type or paste some text to see its trajectory.")
    notices = []
    if traj.truncated or clipped:
        notices.append(f"Long text: only the first {len(traj.tokens):,} tokens are shown.")
    n_unknown = int((~traj.known).sum())
    prediction = prediction_sentence(bundle.class_names, traj.probs_txk[-1], bundle.config.model.multilabel)
    if n_unknown == len(traj.tokens):
        prediction = ("No word of this text is in the model's vocabulary, so it carries no evidence: "
                      "the network sees only unknown-word tokens (<unk>).")
    elif n_unknown:
        notices.append(f"{n_unknown} word{'s' if n_unknown > 1 else ''} not in this model's vocabulary "
                       "(dashed outline) count as <unk>.")
    return {
        "n": len(traj.tokens),
        "tokens": traj.tokens,
        "unk": np.flatnonzero(~traj.known).tolist(),
        "xyz": _flat(traj.xyz_tx3, COORD_DECIMALS),
        "probs": _flat(traj.probs_txk, PROB_DECIMALS),
        "ev": _flat(traj.evidence_t, 3),
        "toward": traj.toward_t.tolist(),
        "predicted": traj.predicted,
        "k": len(bundle.class_names),
        "prediction": prediction,
        "notice": " ".join(notices),
        "truncated": bool(traj.truncated or clipped),
    }
