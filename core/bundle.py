"""A loaded model bundle and what it computes for text: the inference API of ``core``.

``core.store.load`` / ``load_path`` build a ``Bundle``; ``bundle.predict(texts)`` gives class
probabilities, ``bundle.trajectory(text)`` everything a page shows about one text in one call
(tokens, states, probabilities after each token, the per-token evidence, the projection on the
stored PCA), and ``bundle.analysis`` the precomputed analysis (``core.analysis_view``), read on
first use and checked against the weights' hash.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

import numpy as np
import torch

from core.analysis_view import Analysis, load_analysis
from core.checkpoints import FILE_NAME as CHECKPOINTS_FILE
from core.checkpoints import Checkpoints, load_checkpoints
from core.config import RunConfig
from core.evidence import token_evidence
from core.models import RNNClassifier
from core.text import UNK_ID, Vocab, tokenize

__all__ = ["Bundle", "Trajectory", "MAX_TOKENS", "middle_example"]

MAX_TOKENS = 2000


def middle_example(examples: Sequence[str]) -> str:
    """The example a page starts with: the last but one (examples grow longer, the last is a long paste)."""
    return str(examples[-2]) if len(examples) > 1 else (str(examples[0]) if examples else "")


@dataclass(frozen=True)
class Trajectory:
    tokens: list[str]
    ids: np.ndarray          # (t,)
    known: np.ndarray        # (t,) bool, False where the word mapped to <unk>
    states_txn: np.ndarray   # float32
    probs_txk: np.ndarray    # float32, class probabilities after each token
    xyz_tx3: np.ndarray | None  # stored-PCA projection, None without an analysis
    truncated: bool          # the text had more than MAX_TOKENS tokens
    initial_probs_k: np.ndarray  # float32, the prediction before any token (from the initial state)
    evidence_t: np.ndarray   # change of the final predicted class's log-odds at each token (core.evidence)
    toward_t: np.ndarray     # the class whose log-odds rose most at each token
    predicted: int           # the final predicted class (argmax of the initial prediction if no token)


@dataclass
class Bundle:
    run_id: str
    path: Path
    config: RunConfig
    model: RNNClassifier
    vocab: Vocab
    info: dict                      # class_names, examples, ordered, multilabel, source
    metrics: dict
    weights_sha256: str
    _analysis: Analysis | None = field(default=None, repr=False)
    _checkpoints: Checkpoints | None = field(default=None, repr=False)

    @property
    def class_names(self) -> list[str]:
        return list(self.info["class_names"])

    @property
    def examples(self) -> list[str]:
        return [str(e) for e in self.info.get("examples", [])]

    @property
    def default_example(self) -> str:
        return middle_example(self.examples)

    @property
    def analysis(self) -> Analysis:
        """The precomputed analysis; raises AnalysisError if it is missing, damaged or stale."""
        if self._analysis is None:
            self._analysis = load_analysis(self.path / "analysis.npz", self.weights_sha256)
        return self._analysis

    @property
    def has_analysis(self) -> bool:
        return (self.path / "analysis.npz").is_file()

    @property
    def has_checkpoints(self) -> bool:
        return (self.path / CHECKPOINTS_FILE).is_file()

    @property
    def checkpoints(self) -> Checkpoints:
        """The training-time checkpoints (``core.checkpoints``); raises CheckpointError if there are none."""
        if self._checkpoints is None:
            self._checkpoints = load_checkpoints(self.path / CHECKPOINTS_FILE, self.model)
        return self._checkpoints

    def at_checkpoint(self, k: int) -> "Bundle":
        """This bundle with training-time checkpoint k's weights, its trajectories projected on the FINAL
        model's PCA (this bundle's analysis), so every checkpoint is drawn in one space."""
        analysis = self.analysis if self.has_analysis else None
        return dataclasses.replace(self, model=self.checkpoints.model(k), _analysis=analysis, _checkpoints=None)

    def forget_analysis(self) -> None:
        """Read analysis.npz again on the next use (after it was recomputed)."""
        self._analysis = None

    def with_analysis(self, analysis: Analysis) -> "Bundle":
        """A copy of this bundle that shows ``analysis`` instead of its file's."""
        return dataclasses.replace(self, _analysis=analysis)

    def encode(self, text: str, max_tokens: int = MAX_TOKENS) -> tuple[list[str], list[int], bool]:
        tokens = tokenize(text, max_tokens=max_tokens + 1)
        truncated = len(tokens) > max_tokens
        tokens = tokens[:max_tokens]
        return tokens, self.vocab.encode(tokens), truncated

    @torch.no_grad()
    def initial_logits(self) -> torch.Tensor:
        """The readout of the initial state (before any token), logits_1xk."""
        return self.model.readout(self.model.initial_state(1))

    def initial_probs(self) -> np.ndarray:
        """The prediction before any token is read (from the initial state), probs_k."""
        return self.model.probabilities(self.initial_logits())[0].numpy().astype(np.float32)

    @torch.no_grad()
    def predict(self, texts: list[str]) -> np.ndarray:
        """Class probabilities after the last token of each text, probs_bxk."""
        encoded = [self.encode(t)[1] for t in texts]
        lengths = torch.tensor([len(ids) for ids in encoded])
        width = max(1, int(lengths.max())) if encoded else 1
        ids = torch.zeros(len(encoded), width, dtype=torch.long)
        for row, seq in enumerate(encoded):
            ids[row, : len(seq)] = torch.tensor(seq, dtype=torch.long)
        final = self.model.run(ids, lengths)[:, -1]  # zero-length rows hold the initial (zero) state
        return self.model.probabilities(self.model.readout(final)).numpy().astype(np.float32)

    @torch.no_grad()
    def trajectory(self, text: str, max_tokens: int = MAX_TOKENS, project: bool = True) -> Trajectory:
        """One text through the model, token by token, with its evidence and (``project``) its PCA path."""
        tokens, ids, truncated = self.encode(text, max_tokens)
        ids_arr = np.asarray(ids, dtype=np.int64)
        k = len(self.class_names)
        if ids:
            states = self.model.run(torch.from_numpy(ids_arr)[None])[0]
            logits = self.model.readout(states)
            probs = self.model.probabilities(logits).numpy().astype(np.float32)
            states_np, logits_np = states.numpy().astype(np.float32), logits.numpy()
        else:
            states_np = np.zeros((0, self.model.state_size), np.float32)
            probs, logits_np = np.zeros((0, k), np.float32), np.zeros((0, k), np.float32)
        xyz = self.analysis.project(states_np) if project and self.has_analysis else None
        initial_logits = self.initial_logits()
        initial = self.model.probabilities(initial_logits)[0].numpy().astype(np.float32)
        evidence, toward, predicted = token_evidence(logits_np, initial_logits[0].numpy(),
                                                     self.config.model.multilabel)
        return Trajectory(tokens, ids_arr, ids_arr != UNK_ID, states_np, probs, xyz, truncated, initial, evidence,
                          toward, predicted)
