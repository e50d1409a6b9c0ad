"""Training-time checkpoints of a classifier: which to keep, how to store them compactly, how to load them.

Training (``core.training.train(keep_snapshots=True)``) keeps the weights at step 0 and at every
evaluation. ``select_checkpoints`` picks a handful spaced by validation progress; ``save_checkpoints``
writes them to the bundle's ``checkpoints.safetensors`` (numpy arrays only, never a pickle) and
``load_checkpoints`` reads them back as ``Checkpoints``, which rebuild a model per checkpoint.

Storage: a checkpoint equal to the final weights (the last one: the weights training keeps) stores
nothing and is read from the bundle's model. The others store every weight in float32, unless the
embedding is large (more than ``EXACT_EMBEDDING_VALUES`` values, e.g. gru-imdb's 20,000 x 50), which
would multiply the bundle's size by the number of checkpoints. Then the embedding is stored as the
difference from the final embedding: the ``exact_rows`` rows that changed most exactly (float16
differences), the rest as a rank-``rank`` approximation of their differences (float16 factors; a
few directions hold most of it: 79% of the change from GloVe to gru-imdb's trained embedding lies in
4), and the other weights in float16. ``prediction_agreement`` measures what that costs.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from safetensors import SafetensorError
from safetensors.numpy import load_file, save_file

from core.models import RNNClassifier

__all__ = ["N_CHECKPOINTS", "FILE_NAME", "CheckpointError", "Checkpoints", "select_checkpoints", "pack_checkpoints",
           "save_checkpoints", "load_checkpoints", "prediction_agreement"]

N_CHECKPOINTS = 8
FILE_NAME = "checkpoints.safetensors"
FORMAT = "attractorscope-checkpoints-1"
EMBEDDING = "embedding.weight"
EXACT_EMBEDDING_VALUES = 200_000   # an embedding up to this many values is stored whole, in float32
EXACT_ROWS, RANK = 500, 4          # otherwise: the rows that changed most exactly, the rest low-rank
MAX_FILE_BYTES, MAX_CHECKPOINTS = 40_000_000, 64


class CheckpointError(Exception):
    """checkpoints.safetensors is unreadable or does not match the model; the message says why."""


def select_checkpoints(val_accuracy_e, best_index: int, n: int = N_CHECKPOINTS) -> np.ndarray:
    """Indices of up to ``n`` evaluations, sorted, spaced by validation progress.

    Always the first evaluation and ``best_index`` (the weights training keeps); between them, for each
    of ``n - 2`` levels evenly spaced strictly between the first and the best validation accuracy,
    the first evaluation (up to the best) that reaches it. Where one evaluation crosses several levels
    at once, the free places go to the evaluations farthest (in evaluation order) from those chosen.
    """
    acc = np.asarray(val_accuracy_e, dtype=np.float64)
    if not 0 <= best_index < len(acc):
        raise ValueError(f"best_index {best_index} outside the {len(acc)} evaluations")
    chosen = {0, int(best_index)}
    for level in np.linspace(acc[0], acc[best_index], n)[1:-1]:
        reached = np.flatnonzero(acc[: best_index + 1] >= level)
        if len(reached):
            chosen.add(int(reached[0]))
    while len(chosen) < n:
        free = [i for i in range(best_index + 1) if i not in chosen]
        if not free:
            break
        chosen.add(max(free, key=lambda i: min(abs(i - c) for c in chosen)))
    return np.array(sorted(chosen), dtype=np.int64)


def _pack_embedding(emb_vxe: np.ndarray, final_vxe: np.ndarray, exact_rows: int, rank: int) -> dict[str, np.ndarray]:
    delta = (emb_vxe - final_vxe).astype(np.float32)
    rows = np.sort(np.argsort(-np.linalg.norm(delta, axis=1), kind="stable")[:exact_rows]).astype(np.int32)
    rest = delta.copy()
    rest[rows] = 0.0
    u, s, vt = np.linalg.svd(rest, full_matrices=False)
    rank = min(rank, len(s))
    return {"rows": rows, "delta": delta[rows].astype(np.float16),
            "u": (u[:, :rank] * s[:rank]).astype(np.float16), "vt": vt[:rank].astype(np.float16)}


def pack_checkpoints(snapshots: list, final_state: dict, exact_rows: int = EXACT_ROWS, rank: int = RANK,
                     exact_values: int = EXACT_EMBEDDING_VALUES) -> dict[str, np.ndarray]:
    """The arrays of checkpoints.safetensors for ``snapshots`` [(step, val_accuracy, state_dict), ...]; an
    embedding of more than ``exact_values`` values is stored compressed (see the module docstring)."""
    out = {"steps_k": np.array([s[0] for s in snapshots], np.int64),
           "val_accuracy_k": np.array([s[1] for s in snapshots], np.float32)}
    final_emb = _numpy(final_state[EMBEDDING])
    compact = final_emb.size > exact_values
    for k, (_, _, state) in enumerate(snapshots):
        if all(np.array_equal(_numpy(value), _numpy(final_state[name])) for name, value in state.items()):
            continue  # the final weights themselves (the bundle's model): nothing to store
        for name, value in state.items():
            arr = _numpy(value)
            if name == EMBEDDING and compact:
                for part, packed in _pack_embedding(arr, final_emb, exact_rows, rank).items():
                    out[f"{k}/{name}/{part}"] = packed
            else:
                out[f"{k}/{name}"] = arr.astype(np.float16 if compact else np.float32)
    return out


def _numpy(value) -> np.ndarray:
    return value.detach().cpu().numpy() if isinstance(value, torch.Tensor) else np.asarray(value)


def save_checkpoints(path: Path, snapshots: list, final: RNNClassifier, ids_bxt: np.ndarray | None = None,
                     lengths_b: np.ndarray | None = None, **options) -> Path:
    """Write checkpoints.safetensors; with texts (ids_bxt, lengths_b) and a compressed embedding, also the
    share of them on which each stored checkpoint predicts what the exact one does (``agreement_k``)."""
    arrays = pack_checkpoints(snapshots, final.state_dict(), **options)
    packed = Checkpoints(arrays["steps_k"], arrays["val_accuracy_k"], arrays, final)
    if packed.compressed and ids_bxt is not None:
        exact = RNNClassifier(final.config)
        agreement = []
        for k, (_, _, state) in enumerate(snapshots):
            if not _stored(arrays, k):  # the final model itself
                agreement.append(1.0)
                continue
            exact.load_state_dict(state)
            agreement.append(prediction_agreement(exact.eval(), packed.model(k), ids_bxt, lengths_b))
        arrays["agreement_k"] = np.array(agreement, np.float32)
    save_file(arrays, str(path), metadata={"format": FORMAT})
    return Path(path)


@dataclass
class Checkpoints:
    """The checkpoints of one bundle: steps, validation accuracies and a model per checkpoint (built on use)."""
    steps_k: np.ndarray
    val_accuracy_k: np.ndarray
    arrays: dict = field(repr=False)
    final: RNNClassifier = field(repr=False)
    agreement_k: np.ndarray | None = None   # compressed embedding: share of validation texts predicted as exactly
    _models: dict = field(default_factory=dict, repr=False)

    def __len__(self) -> int:
        return len(self.steps_k)

    @property
    def compressed(self) -> bool:
        """True when the embedding is stored approximately (large vocabularies)."""
        return any(name.endswith(f"/{EMBEDDING}/rows") for name in self.arrays)

    def state_dict(self, k: int) -> dict[str, torch.Tensor]:
        final = self.final.state_dict()
        if not _stored(self.arrays, k):
            return {name: value.clone() for name, value in final.items()}
        out = {}
        for name, value in final.items():
            if f"{k}/{name}" in self.arrays:
                out[name] = torch.from_numpy(self.arrays[f"{k}/{name}"].astype(np.float32))
            else:
                out[name] = torch.from_numpy(self._unpack_embedding(k, name, value.numpy()))
        return out

    def _unpack_embedding(self, k: int, name: str, final_vxe: np.ndarray) -> np.ndarray:
        get = lambda part: self.arrays[f"{k}/{name}/{part}"].astype(np.float32)  # noqa: E731
        emb = final_vxe + get("u") @ get("vt")
        rows = self.arrays[f"{k}/{name}/rows"].astype(np.int64)
        emb[rows] = final_vxe[rows] + get("delta")
        return emb.astype(np.float32)

    def model(self, k: int) -> RNNClassifier:
        """The classifier with checkpoint k's weights, in eval mode (built once, then cached)."""
        if not 0 <= k < len(self):
            raise IndexError(f"checkpoint {k} of {len(self)}")
        if k not in self._models:
            model = RNNClassifier(self.final.config)
            model.load_state_dict(self.state_dict(k), strict=True)
            self._models[k] = model.eval()
        return self._models[k]


def load_checkpoints(path: Path, final: RNNClassifier) -> Checkpoints:
    """Read and validate checkpoints.safetensors against the final model; CheckpointError with one sentence."""
    path = Path(path)
    if not path.is_file() or path.is_symlink():
        raise CheckpointError("the bundle keeps no training checkpoints.")
    if path.stat().st_size > MAX_FILE_BYTES:
        raise CheckpointError("checkpoints.safetensors is implausibly large.")
    try:
        arrays = load_file(str(path))
    except (SafetensorError, OSError, ValueError, RuntimeError) as err:
        raise CheckpointError(f"checkpoints.safetensors is unreadable ({str(err)[:80]}).") from None
    steps, acc = arrays.get("steps_k"), arrays.get("val_accuracy_k")
    if steps is None or acc is None or steps.ndim != 1 or steps.shape != acc.shape \
            or not 0 < len(steps) <= MAX_CHECKPOINTS:
        raise CheckpointError("checkpoints.safetensors lists no valid checkpoint steps.")
    agreement = arrays.pop("agreement_k", None)
    if agreement is not None and (agreement.shape != steps.shape or not np.isfinite(agreement).all()):
        raise CheckpointError("checkpoints.safetensors has a malformed agreement_k.")
    _check_arrays(arrays, len(steps), final)
    return Checkpoints(steps.astype(np.int64), acc.astype(np.float32), arrays, final, agreement)


def _stored(arrays: dict, k: int) -> bool:
    """Whether checkpoint k has arrays of its own (else it is the final model)."""
    return any(name.startswith(f"{k}/") for name in arrays)


def _check_arrays(arrays: dict, n: int, final: RNNClassifier) -> None:
    expected = {}
    own = [k for k in range(n) if _stored(arrays, k)]
    for name, value in final.state_dict().items():
        shape = tuple(value.shape)
        for k in own:
            if f"{k}/{name}/rows" in arrays:
                rows = arrays[f"{k}/{name}/rows"]
                rank = arrays.get(f"{k}/{name}/u", np.zeros((0, 0))).shape[-1]
                expected.update({f"{k}/{name}/rows": (len(rows),), f"{k}/{name}/delta": (len(rows), shape[1]),
                                 f"{k}/{name}/u": (shape[0], rank), f"{k}/{name}/vt": (rank, shape[1])})
                if rows.dtype.kind not in "iu" or (len(rows) and not 0 <= rows.min() <= rows.max() < shape[0]):
                    raise CheckpointError(f"checkpoint {k} names embedding rows outside the vocabulary.")
            else:
                expected[f"{k}/{name}"] = shape
    expected.update({"steps_k": (n,), "val_accuracy_k": (n,)})
    if set(arrays) != set(expected):
        odd = sorted(set(arrays) ^ set(expected))[:3]
        raise CheckpointError(f"checkpoints.safetensors does not match the model ({odd}).")
    for name, shape in expected.items():
        arr = arrays[name]
        if arr.shape != shape or (arr.dtype.kind == "f" and not np.isfinite(arr).all()):
            raise CheckpointError(f"checkpoints.safetensors does not match the model ({name} has the wrong shape "
                                  "or non-finite values).")


@torch.no_grad()
def prediction_agreement(model_a: RNNClassifier, model_b: RNNClassifier, ids_bxt: np.ndarray,
                         lengths_b: np.ndarray, batch: int = 256) -> float:
    """Share of texts on which two models predict the same class (the fidelity of a compressed checkpoint)."""
    same = []
    for start in range(0, len(lengths_b), batch):
        ids = torch.from_numpy(ids_bxt[start:start + batch])
        lengths = torch.from_numpy(lengths_b[start:start + batch])
        same.append((model_a(ids, lengths).argmax(-1) == model_b(ids, lengths).argmax(-1)).numpy())
    return float(np.concatenate(same).mean()) if same else float("nan")
