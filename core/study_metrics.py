"""What a study measures on one trained, analyzed bundle (issue 19).

- ``heldout_accuracy``: accuracy on the task's held-out word combinations (core.tasks.ngram);
- ``weight_distance``: relative distance of the trained recurrent weights from their initialization,
  |W - W0| / |W0| (W0 rebuilt from the run's seed: ``core.models.build_model`` is seeded);
- ``context_kicks``: how a word's push on the readout depends on the word before it: the mean signed
  change of the logit margin (positive minus negative) a sentiment word causes right after a modifier
  ("not", "very") against right after a neutral word, and how far apart the states after the two lie;
- ``valence_bias``: the readout of neutral-only texts and the asymmetry of positive vs negative word kicks.

Margins are in logit units; kicks start from states the model visits on test texts.
"""
from __future__ import annotations

import numpy as np
import torch

from core.models import build_model
from core.summary import model_summary
from core.tasks import TaskData
from core.tasks.ngram import A_WORDS, B_WORDS, FILLER, MODIFIERS, NEGATIVE, POSITIVE

__all__ = ["heldout_accuracy", "weight_distance", "visited_sample", "context_kicks", "valence_bias", "point_metrics"]

N_STATES = 300


def heldout_accuracy(bundle, data: TaskData) -> float | None:
    if data.heldout is None or not len(data.heldout):
        return None
    probs = bundle.predict([" ".join(t) for t in data.heldout.tokens])
    return float(np.mean(probs.argmax(-1) == data.heldout.labels))


def weight_distance(model, seed: int) -> float:
    """|W - W0| / |W0| over the recurrent parameters (the cell's weights), W0 the initialization of the run's
    training seed (``core.training.train`` builds its model with ``build_model(config.model, seed)``)."""
    start = build_model(model.config, seed=seed).weights(torch.float64)
    now = model.weights(torch.float64)
    diff = sum(float(((now[k] - start[k]) ** 2).sum()) for k in now)
    base = sum(float((start[k] ** 2).sum()) for k in now)
    return float(np.sqrt(diff / base)) if base > 0 else float("nan")


@torch.no_grad()
def visited_sample(model, vocab, data: TaskData, count: int = N_STATES, seed: int = 0) -> torch.Tensor:
    """``count`` states (float32) visited on test texts, at random positions."""
    rng = np.random.default_rng(seed)
    rows = rng.permutation(len(data.test))[:200]
    lengths = np.array([len(data.test.tokens[i]) for i in rows])
    ids = np.zeros((len(rows), int(lengths.max())), np.int64)
    for r, i in enumerate(rows):
        ids[r, : lengths[r]] = vocab.encode(data.test.tokens[i])
    states = model.run(torch.from_numpy(ids), torch.from_numpy(lengths)).numpy()
    pick_row = rng.integers(0, len(rows), count)
    pick_t = (rng.random(count) * lengths[pick_row]).astype(int)
    return torch.from_numpy(states[pick_row, pick_t])


@torch.no_grad()
def _margin_change(model, vocab, h_bxn: torch.Tensor, word: str) -> tuple[torch.Tensor, torch.Tensor]:
    """(the state after ``word``, the change of the logit margin it caused), per start state."""
    x = model.embed(torch.tensor(vocab.encode([word])))
    h2 = model.step(h_bxn, x.expand(len(h_bxn), -1))
    logits2, logits1 = model.readout(h2), model.readout(h_bxn)
    return h2, (logits2[:, 1] - logits2[:, 0]) - (logits1[:, 1] - logits1[:, 0])


def _signed_kick(model, vocab, h_bxn, words: dict[str, int]) -> float:
    """Mean over start states and words of sign(word) x the margin change the word causes."""
    return float(np.mean([sign * _margin_change(model, vocab, h_bxn, w)[1].mean().item() for w, sign in words.items()]))


def context_kicks(model, vocab, data: TaskData, h_bxn: torch.Tensor) -> dict:
    """Kick of the task's evidence words right after a modifier vs right after a neutral context word.
    ratio: kick after the modifier / kick after the neutral word (the rule says -1 for negation, 2 for
    intensifiers, -1 for the bigram task's opposite-sign A word); separation: distance between the mean
    states after the two contexts over the spread of the visited states."""
    task = data.config.name
    if task == "bigram":
        contexts, probes = ("moon", "sun"), dict(B_WORDS)
    elif task in MODIFIERS:
        contexts, probes = (MODIFIERS[task][0], "the"), {**{w: 1 for w in POSITIVE}, **{w: -1 for w in NEGATIVE}}
    else:
        return {}
    after = [_margin_change(model, vocab, h_bxn, c)[0] for c in contexts]
    kicks = [_signed_kick(model, vocab, h, probes) for h in after]
    spread = float(torch.sqrt(h_bxn.var(dim=0).sum()))
    sep = float((after[0].mean(0) - after[1].mean(0)).norm()) / spread if spread > 0 else float("nan")
    return {"kick_after_modifier": kicks[0], "kick_after_neutral": kicks[1],
            "kick_ratio": kicks[0] / kicks[1] if kicks[1] != 0 else float("nan"), "context_separation": sep,
            "contexts": list(contexts)}


@torch.no_grad()
def valence_bias(model, vocab, h_bxn: torch.Tensor, seed: int = 0) -> dict:
    """Readout of neutral texts (filler words only, in units of the mean |margin| on visited states) and the
    asymmetry (A+ - A-) / (A+ + A-) of the mean push of positive words (A+) and negative words (A-)."""
    rng = np.random.default_rng(seed)
    ids = torch.tensor(vocab.encode([FILLER[i] for i in rng.integers(0, len(FILLER), 200 * 20)])).reshape(200, 20)
    final = model.run(ids)[:, -1]
    margin = lambda h: model.readout(h)[:, 1] - model.readout(h)[:, 0]  # noqa: E731
    scale = float(margin(h_bxn).abs().mean())
    a_pos = _signed_kick(model, vocab, h_bxn, {w: 1 for w in POSITIVE})
    a_neg = _signed_kick(model, vocab, h_bxn, {w: -1 for w in NEGATIVE})
    return {"neutral_margin": float(margin(final).mean()), "neutral_bias": float(margin(final).mean()) / scale,
            "kick_positive": a_pos, "kick_negative": a_neg,
            "kick_asymmetry": (a_pos - a_neg) / (a_pos + a_neg) if a_pos + a_neg != 0 else float("nan")}


def point_metrics(bundle, data: TaskData, seed: int = 0) -> dict:
    """Every figure a study table holds for one bundle (accuracy and geometry from its metrics and analysis)."""
    model = bundle.model
    summary = model_summary(bundle)
    h = visited_sample(model, bundle.vocab, data, seed=seed)
    out = {"test_accuracy": summary.test_accuracy, "heldout_accuracy": heldout_accuracy(bundle, data),
           "val_accuracy": bundle.metrics.get("val_accuracy"), "weight_distance": weight_distance(model, bundle.config.train.seed),
           "dims95": bundle.analysis.geometry.dims95 if bundle.analysis.geometry is not None else None,
           "n_fixed_points": summary.n_fixed_points, "n_stable": summary.n_stable,
           **context_kicks(model, bundle.vocab, data, h)}
    if data.config.name != "bigram":
        out.update(valence_bias(model, bundle.vocab, h, seed=seed))
    return out
