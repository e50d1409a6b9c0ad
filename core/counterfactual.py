"""Counterfactual edits of one text and the linear prediction of their effect.

Change one token (swap it for another word, drop it, or insert a word such as "not" before it),
run the edited text, and compare, token by token, the readout of the two trajectories with what
the network's linearization along the ORIGINAL trajectory predicts:

- the difference enters at the edited position ``j`` as ``delta_j``:
  - **swap** (``x_j -> x'``): ``delta_j = J_x(h_{j-1}, x_j) (x' - x_j)``, the input Jacobian times
    the change of embedding (first order in the change of input);
  - **drop** (token ``j`` removed): the edited text has no step at ``j``, so its state there is
    ``h_{j-1}``: ``delta_j = h_{j-1} - h_j``, minus the removed token's kick (exact: no input changes,
    a whole step disappears);
  - **insert** (``x'`` read before token ``j``, e.g. "not"): the inserted kick
    ``k = F(h_{j-1}, x') - h_{j-1}`` meets token ``j``: ``delta_j = J_h(h_{j-1}, x_j) k``;
- then it is carried forward through the state Jacobians along the original trajectory,
  ``delta_t = J_h(h_{t-1}, x_t) delta_{t-1}``, and mapped through the readout: the predicted change
  of the log-odds (logit margin, ``core.evidence.log_odds``) of the class the original text
  predicts is ``g_t . (W delta_t)``, with ``g_t`` the gradient of that log-odds in the logits.

Positions are the original text's: for a drop the edited text is one token shorter and its state at
``j`` is the one before ``j``; for an insert the inserted token has no original position and edited
position ``t + 1`` is compared with original position ``t >= j``. For a linear RNN (and two
classes, whose log-odds are linear in the logits) the prediction is exact; for a nonlinear cell it
is first order in the size of the change. States are computed in float64 with the cell's own step.

Shapes: ``t`` original tokens, ``n`` state, ``e`` embedding, ``k`` classes, ``w`` words.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from core.evidence import log_odds

__all__ = ["OPS", "Counterfactual", "counterfactual", "edited_tokens", "edit_text", "swap_suggestions",
           "NEGATION"]

OPS = ("swap", "drop", "insert")
NEGATION = "not"
_CHUNK = 256  # positions per batch of state Jacobians (bounds memory at 256 x n x n float64)


@dataclass(frozen=True, eq=False)
class Counterfactual:
    op: str
    index: int                   # the edited original position j
    cls: int                     # the class whose log-odds are compared (the original final prediction)
    states_txn: np.ndarray       # float64, the original text's states
    edited_states: np.ndarray    # float64, the edited text's own states (its own length)
    aligned_txn: np.ndarray      # float64, edited states at the original positions (see module doc)
    margin_t: np.ndarray         # log-odds of ``cls`` along the original text
    real_delta_t: np.ndarray     # edited minus original log-odds at each original position (0 before j)
    linear_delta_t: np.ndarray   # the linear prediction of it (0 before j)
    state_delta_txn: np.ndarray  # the linear prediction of the state difference aligned - original
    probs_k: np.ndarray          # the original final prediction
    edited_probs_k: np.ndarray   # the edited text's final prediction

    @property
    def rel_error(self) -> float:
        """|linear - real| / |real| over the log-odds differences at positions j..T-1 (NaN if no change)."""
        real, lin = self.real_delta_t[self.index:], self.linear_delta_t[self.index:]
        norm = float(np.linalg.norm(real))
        return float(np.linalg.norm(lin - real)) / norm if norm > 0 else float("nan")

    @property
    def final_real(self) -> float:
        return float(self.real_delta_t[-1]) if len(self.real_delta_t) else 0.0

    @property
    def final_linear(self) -> float:
        return float(self.linear_delta_t[-1]) if len(self.linear_delta_t) else 0.0

    @property
    def state_rel_error(self) -> float:
        """|predicted - real| / |real| for the final state difference (NaN if the final state did not move)."""
        real = self.aligned_txn[-1] - self.states_txn[-1]
        norm = float(np.linalg.norm(real))
        return float(np.linalg.norm(self.state_delta_txn[-1] - real)) / norm if norm > 0 else float("nan")


def _run(model, h_n: torch.Tensor, x_txe: torch.Tensor, w: dict) -> torch.Tensor:
    """States after each input from ``h_n``, float64, (t, n)."""
    out = []
    state = h_n[None]
    for x in x_txe:
        state = model.step(state, x[None], weights=w)
        out.append(state[0])
    return torch.stack(out) if out else h_n.new_zeros(0, h_n.shape[0])


def _margin_and_grad(model, states_txn: np.ndarray, cls: int) -> tuple[np.ndarray, np.ndarray]:
    """Log-odds of ``cls`` along states and their gradient in the state (rows g_t W), float64."""
    z_txk = model.readout(torch.from_numpy(states_txn)).numpy()
    multilabel = bool(model.config.multilabel)
    margin = log_odds(z_txk, multilabel)[:, cls]
    k = z_txk.shape[1]
    grad_txk = np.zeros_like(z_txk)
    grad_txk[:, cls] = 1.0
    if not multilabel and k > 1:  # d/dz_j of -logsumexp(z_others) = -softmax over the others
        others = np.delete(np.arange(k), cls)
        zo = z_txk[:, others] - z_txk[:, others].max(axis=1, keepdims=True)
        grad_txk[:, others] = -np.exp(zo) / np.exp(zo).sum(axis=1, keepdims=True)
    full = np.asarray(model.readout_full(), dtype=np.float64)  # k x n
    return margin, grad_txk @ full


def _edited(model, states, x, index: int, op: str, x_new, w) -> tuple[torch.Tensor, torch.Tensor]:
    """The edited text's own states and its states at the original positions (see the module doc)."""
    before = states[index - 1] if index else model.initial_state(1, torch.float64)[0]
    if op == "swap":
        tail_x = torch.cat([x_new[None], x[index + 1:]])
    elif op == "drop":
        tail_x = x[index + 1:]
    else:
        tail_x = torch.cat([x_new[None], x[index:]])
    tail = _run(model, before, tail_x, w)
    edited = torch.cat([states[:index], tail])
    if op == "swap":
        return edited, edited
    if op == "drop":
        return edited, torch.cat([states[:index], before[None], tail])
    return edited, torch.cat([states[:index], tail[1:]])


def _linear_delta(model, prev, states, x, index: int, op: str, x_new, w) -> torch.Tensor:
    """delta_t: the difference entering at ``index`` carried forward through the state Jacobians."""
    before = prev[index]
    delta = torch.zeros_like(states)
    if op == "swap":
        jin = model.cell.step_and_jacobians(before[None], x[index][None], w, want_state=False, want_input=True)[2]
        delta[index] = jin[0] @ (x_new - x[index])
    elif op == "drop":
        delta[index] = before - states[index]
    else:
        kick = model.step(before[None], x_new[None], weights=w)[0] - before
        jac = model.cell.step_and_jacobians(before[None], x[index][None], w)[1]
        delta[index] = jac[0] @ kick
    for start in range(index + 1, len(states), _CHUNK):
        stop = min(start + _CHUNK, len(states))
        jac = model.cell.step_and_jacobians(prev[start:stop], x[start:stop], w)[1]
        for t in range(start, stop):
            delta[t] = jac[t - start] @ delta[t - 1]
    return delta


@torch.no_grad()
def counterfactual(model, x_txe, index: int, op: str, x_new_e=None) -> Counterfactual:
    """The edit ``op`` at original position ``index`` of the input sequence ``x_txe`` (embeddings).

    ``x_new_e`` is the new input for "swap" and "insert" (ignored for "drop"). ``model`` is an
    RNNClassifier (or a Bundle: its ``.model``)."""
    model = getattr(model, "model", model)
    if op not in OPS:
        raise ValueError(f"edit must be one of {', '.join(OPS)}, not {op!r}")
    w = model.weights(torch.float64)
    x = torch.as_tensor(np.asarray(x_txe, dtype=np.float64))
    if not 0 <= index < x.shape[0]:
        raise ValueError(f"edit position {index} is outside the text (0..{x.shape[0] - 1})")
    if op != "drop" and x_new_e is None:
        raise ValueError(f"a {op} needs the new input")
    x_new = None if op == "drop" else torch.as_tensor(np.asarray(x_new_e, dtype=np.float64)).reshape(-1)
    h0 = model.initial_state(1, torch.float64)[0]
    states = _run(model, h0, x, w)
    prev = torch.cat([h0[None], states[:-1]])  # the state each token is read from
    edited, aligned = _edited(model, states, x, index, op, x_new, w)
    delta_np = _linear_delta(model, prev, states, x, index, op, x_new, w).numpy()

    states_np, aligned_np = states.numpy(), aligned.numpy()
    z_final = model.readout(torch.stack([states[-1], edited[-1] if len(edited) else h0]))
    probs = model.probabilities(z_final).numpy()
    cls = int(np.argmax(z_final[0].numpy()))
    margin, grad_txn = _margin_and_grad(model, states_np, cls)
    real = _margin_and_grad(model, aligned_np, cls)[0] - margin
    real[:index] = 0.0  # identical states: exactly zero, not rounding noise
    linear = np.einsum("tn,tn->t", grad_txn, delta_np)
    return Counterfactual(op, index, cls, states_np, edited.numpy(), aligned_np, margin, real, linear, delta_np,
                          probs[0], probs[1])


def edited_tokens(tokens: list[str], op: str, index: int, word: str | None = None) -> list[str]:
    """The token list after the edit (``word`` is the new word of a swap or insert)."""
    if op == "swap":
        return tokens[:index] + [str(word)] + tokens[index + 1:]
    if op == "drop":
        return tokens[:index] + tokens[index + 1:]
    if op == "insert":
        return tokens[:index] + [str(word)] + tokens[index:]
    raise ValueError(f"edit must be one of {', '.join(OPS)}, not {op!r}")


def edit_text(bundle, tokens: list[str], op: str, index: int, word: str | None = None) -> Counterfactual:
    """``counterfactual`` for a tokenized text of a bundle: the new word goes through the bundle's vocabulary
    (an unknown word reads as <unk>, as it would in the edited text)."""
    model = bundle.model
    with torch.no_grad():
        x_txe = model.embed(torch.as_tensor(bundle.vocab.encode(tokens), dtype=torch.long)).to(torch.float64)
        x_new = None
        if op != "drop":
            new_id = bundle.vocab.encode([str(word)])
            x_new = model.embed(torch.as_tensor(new_id, dtype=torch.long))[0].to(torch.float64)
    return counterfactual(model, x_txe, index, op, x_new)


def swap_suggestions(word_id: int, toward: int, ids_w, readout_proj_wxk, log_odds_wxk, n: int = 8,
                     exclude_ids=(0, 1), min_log_odds: float = 0.3) -> np.ndarray:
    """Ids of the ``n`` words whose deflection (along the readout, ``core.words``) points most strongly AWAY
    from class ``toward`` (the class the edited word favours), among words whose log-odds in the data agree
    (log-odds of ``toward`` at most ``-min_log_odds``, as ``core.words.favoured_class`` counts a word as
    favouring a class); most opposite first.

    Deflections are centred over classes (softmax ignores a shift shared by all logits), so for two classes
    "away from positive" is "toward negative". ``word_id`` itself is never suggested."""
    ids = np.asarray(ids_w, dtype=np.int64)
    proj = np.asarray(readout_proj_wxk, dtype=np.float64)
    odds = np.asarray(log_odds_wxk, dtype=np.float64)
    if not len(ids) or not 0 <= toward < proj.shape[1]:
        return np.zeros(0, np.int64)
    along = (proj - proj.mean(axis=1, keepdims=True))[:, toward]
    keep = (along < 0) & (odds[:, toward] <= -min_log_odds) & ~np.isin(ids, [word_id, *exclude_ids])
    order = np.flatnonzero(keep)[np.argsort(along[keep], kind="stable")]
    return ids[order[:max(n, 0)]]
