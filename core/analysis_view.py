"""A loaded analysis.npz as typed, read-only views: what pages and notebooks read instead of array keys.

``load_analysis(path, weights_sha256)`` reads the file through ``core.analysis_file`` (the safe
reader) and returns an ``Analysis``: the stored PCA (``core.pca.StatePCA``), the fixed points
(``core.fixed_points.FixedPoints``) and one frozen view per part of the precompute
(``core.analysis`` writes them): ``attractor``, ``geometry``, ``linearization``, ``words``,
``decomposition``; and the slow points (a ``FixedPoints``, stored compactly in float32), the line
through them (``slow_line``) and the D1 / D4 errors around them (``slow_linearization``), which
analyses written before they existed lack. A view is None when the file lacks an array it needs, and pages then say "not
computed". Field names follow the shape convention (``k`` classes, ``c`` PCA components, ``b``
states, ``p`` fixed points, ``w`` words); the file keys they are read from never change.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Mapping

import numpy as np

from core import records
from core.analysis_file import AnalysisError, read_arrays
from core.fixed_points.result import FixedPoints
from core.pca import StatePCA
from core.records import stored

__all__ = ["Analysis", "AttractorView", "GeometryView", "LinearizationView", "WordsView", "DecompositionView",
           "SlowLineView", "SlowLinearizationView", "TrainingView", "load_analysis"]


@dataclass(frozen=True, eq=False)
class AttractorView:
    """What an attractor figure draws, in the stored PCA's first three components: visited states
    (held-out final states first), the fixed points and the class readout directions."""
    cloud_xyz_bx3: np.ndarray = stored("cloud_xyz_cx3")        # float32
    cloud_pred_b: np.ndarray = stored("cloud_pred_c")          # int8, the class the readout predicts there
    cloud_label_b: np.ndarray = stored("cloud_label_c")        # int8, a final state's label; -1 elsewhere
    cloud_is_final_b: np.ndarray = stored("cloud_is_final_c")
    fp_xyz_px3: np.ndarray = stored()                          # every fixed point, in FixedPoints order
    centre_xyz_3: np.ndarray = stored()                        # mean of the final states
    readout_pc_kx3: np.ndarray = stored()                      # readout rows on PC1-3


@dataclass(frozen=True, eq=False)
class GeometryView:
    """Dimension and readout geometry of the visited and final states (Aitken et al. 2020)."""
    dims90: int = stored(scalar=int)                   # PCs for 90% of the visited states' variance
    dims95: int = stored(scalar=int)
    participation_ratio: float = stored(scalar=float)
    final_explained_ratio_c: np.ndarray = stored("final_explained_ratio_k")
    final_dims90: int = stored(scalar=int)
    final_dims95: int = stored(scalar=int)
    final_participation_ratio: float = stored(scalar=float)
    final_xyz_bx3: np.ndarray = stored()               # held-out final states on PC1-3
    final_label_b: np.ndarray = stored()               # int8 (multi-label: first positive label or -1)
    final_pred_b: np.ndarray = stored()
    final_logits_bxk: np.ndarray = stored()
    centre_xyz_3: np.ndarray = stored()
    readout_pc_kx3: np.ndarray = stored()
    readout_angles_kxk: np.ndarray = stored()          # degrees, between mean-centred readout rows
    simplex_angle: float = stored(scalar=float)        # the regular simplex's angle for k classes
    relaxed_explained_ratio_c: np.ndarray | None = stored("relaxed_explained_ratio_k", default=None)
    relaxed_dims95: int | None = stored(scalar=int, default=None)
    final_counts_bxk: np.ndarray | None = stored(default=None)   # synthetic tasks: evidence words per text
    evidence_words_k: np.ndarray | None = stored(default=None)


@dataclass(frozen=True, eq=False)
class LinearizationView:
    """One-step relative error of the linearization at the nearest fixed point, on held-out texts
    (``core.dynamics.one_step_linearization_error``)."""
    err_sample: np.ndarray = stored()                  # float32, up to 5000 tokens
    err_median: float = stored(scalar=float)
    err_mean: float = stored(scalar=float)
    state_err_median: float | None = stored(scalar=float, default=None)  # relative to |F(h)| instead


@dataclass(frozen=True, eq=False)
class WordsView:
    """Each frequent word's kick at the anchor fixed point (``core.words``) and its log-odds in the data."""
    ids_w: np.ndarray = stored()                       # vocabulary ids
    anchor: int = stored(scalar=int)                   # the fixed point the kicks start from
    readout_proj_wxk: np.ndarray = stored()            # along each unit readout direction
    slow_proj_wxm: np.ndarray = stored()               # on the slowest left eigenvectors (real parts)
    dh_xyz_wx3: np.ndarray = stored()                  # the kick itself on PC1-3
    log_odds_wxk: np.ndarray = stored()                # one-vs-rest, in the training data


@dataclass(frozen=True, eq=False)
class DecompositionView:
    """h = mu_t + chi(w) + residual (Aitken et al. 2021, ``core.geometry.decompose``), on PC1-3."""
    fractions_3: np.ndarray = stored()                 # temporal, input-driven, residual shares of variance
    mu_xyz_tx3: np.ndarray = stored()                  # the mean state after t tokens
    chi_xyz_wx3: np.ndarray = stored()                 # word offsets chi(w) (directions: no PCA mean)
    word_ids_w: np.ndarray = stored()                  # the most frequent words, most frequent first
    word_count_w: np.ndarray = stored()


@dataclass(frozen=True, eq=False)
class SlowLineView:
    """The line through the slow points (``core.slow_line``), per slow point in line order (the order of
    ``Analysis.slow_points``), and the points on PC1-3."""
    xyz_px3: np.ndarray = stored("sp_xyz_px3")         # float32
    position_p: np.ndarray = stored()                  # along the line (PC1 of the slow points), oriented with the readout
    tau_p: np.ndarray = stored()                       # slowest time constant, tokens
    top_eig_p: np.ndarray = stored()                   # largest |eigenvalue|
    cos_line_p: np.ndarray = stored()                  # |cos(top right eigenvector, local line direction)|
    cos_readout_p: np.ndarray = stored()               # |cos(top right eigenvector, readout span)|
    explained_ratio: float = stored(scalar=float)      # PC1's share of the slow points' variance
    readout_cos: float = stored(scalar=float)          # |cos(line, readout span)|
    readout_span: float = stored(scalar=float)         # slow points' readout range / final states' range


@dataclass(frozen=True, eq=False)
class SlowLinearizationView:
    """One-step errors D1 and D4 around the nearest slow point on held-out texts
    (``core.dynamics.OneStepErrors``): a per-token sample, medians, and medians in bins of kick size."""
    d1_sample_s: np.ndarray = stored()                 # float32
    d4_sample_s: np.ndarray = stored()
    kick_sample_s: np.ndarray = stored()               # |F(h, x) - h|
    input_sample_s: np.ndarray = stored()              # |x|
    distance_sample_s: np.ndarray = stored()           # |h - h*|
    d1_median: float = stored(scalar=float)
    d4_median: float = stored(scalar=float)
    kick_median: float = stored(scalar=float)
    distance_median: float = stored(scalar=float)
    state_norm_median: float = stored(scalar=float)
    n_tokens: int = stored(scalar=int)
    bin_kick_b: np.ndarray = stored()                  # median kick in each bin (equal token counts)
    bin_d1_b: np.ndarray = stored()
    bin_d4_b: np.ndarray = stored()
    bin_count_b: np.ndarray = stored()


@dataclass(frozen=True, eq=False)
class TrainingView:
    """How the attractor formed (``core.analysis_checkpoints``): per training-time checkpoint k, its
    visited states and fixed points projected into the final model's PCA, and the fixed points'
    largest eigenvalue magnitudes; the fixed points of all checkpoints are concatenated (q of them)."""
    steps_k: np.ndarray = stored()                     # training step of each checkpoint (0: before training)
    val_accuracy_k: np.ndarray = stored()
    cloud_xyz_kxsx3: np.ndarray = stored()             # float32, final PCA
    cloud_pred_kxs: np.ndarray = stored()              # int8, the class the checkpoint's readout favours there
    fp_k_q: np.ndarray = stored()                      # which checkpoint each fixed point belongs to
    fp_xyz_qx3: np.ndarray = stored()
    fp_stable_q: np.ndarray = stored()
    fp_converged_q: np.ndarray = stored()
    fp_eig_abs_qxm: np.ndarray = stored()              # the m largest |eigenvalue|, descending
    agreement_k: np.ndarray | None = stored(default=None)  # compressed embedding: agreement with the exact checkpoint


def _view(cls, arrays: Mapping[str, np.ndarray], prefix: str = ""):
    """The view, or None when the file lacks one of its required arrays."""
    try:
        return records.from_arrays(cls, arrays, prefix)
    except KeyError:
        return None


@dataclass(frozen=True, eq=False)
class Analysis:
    """A read-only analysis: typed views (None where not computed), and ``arrays`` by file key."""
    arrays: Mapping[str, np.ndarray]
    pca: StatePCA
    fixed_points: FixedPoints | None
    attractor: AttractorView | None
    geometry: GeometryView | None
    linearization: LinearizationView | None
    words: WordsView | None
    decomposition: DecompositionView | None
    slow_points: FixedPoints | None
    slow_line: SlowLineView | None
    slow_linearization: SlowLinearizationView | None
    wall_time_s: float
    training: TrainingView | None = None  # the training-time checkpoints, for bundles that keep them    # how long the precompute took; with the weights' hash, it tells analyses apart

    @classmethod
    def from_arrays(cls, arrays: Mapping[str, np.ndarray]) -> "Analysis":
        """Raises KeyError / ValueError / TypeError when the PCA or a present part is malformed."""
        return cls(arrays=MappingProxyType(dict(arrays)), pca=StatePCA.from_arrays(arrays),
                   fixed_points=FixedPoints.from_arrays(arrays) if "fp_xstar_pxn" in arrays else None,
                   attractor=_view(AttractorView, arrays), geometry=_view(GeometryView, arrays),
                   linearization=_view(LinearizationView, arrays, "lin_"), words=_view(WordsView, arrays, "word_"),
                   decomposition=_view(DecompositionView, arrays, "decomp_"),
                   slow_points=FixedPoints.from_arrays(arrays, "sp_") if "sp_xstar_pxn" in arrays else None,
                   slow_line=_view(SlowLineView, arrays, "line_"),
                   slow_linearization=_view(SlowLinearizationView, arrays, "slowlin_"),
                   wall_time_s=float(arrays["wall_time_s"]) if "wall_time_s" in arrays else float("nan"),
                   training=_view(TrainingView, arrays, "ckpt_"))

    def project(self, states) -> np.ndarray:
        """States (..., n) on the stored PCA's first three components, float32 (..., 3)."""
        return self.pca.transform(np.asarray(states), n_dims=3).astype(np.float32)


def load_analysis(path: Path, weights_sha256: str | None = None) -> Analysis:
    """Read and check analysis.npz (``core.analysis_file``); AnalysisError with one sentence if unusable."""
    arrays = read_arrays(path, weights_sha256)
    try:
        return Analysis.from_arrays(arrays)
    except (KeyError, ValueError, TypeError, IndexError) as err:
        raise AnalysisError(f"analysis.npz is incomplete or malformed ({str(err)[:80]}).") from None
