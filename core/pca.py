"""PCA of hidden states (``StatePCA``), fitted once on the attractor and reused to project trajectories.

scikit-learn style: fitted state in attributes ending ``_``, ``fit`` and ``transform`` separate.
Shapes: ``b`` states, ``n`` state size, ``c`` kept components, ``d`` projected dimensions. Numpy
and sklearn only, so ``core.analysis_view`` rebuilds the stored PCA without importing any
numerics; ``core.geometry`` holds the measures computed with it.
"""
from __future__ import annotations

from typing import Mapping

import numpy as np
from sklearn.decomposition import PCA

__all__ = ["StatePCA"]

# fitted attribute -> key in analysis.npz (after the "pca_" prefix); the keys keep the k they were
# written with before components were called c, so bundles stay valid
_STORED = {"mean_n_": "mean_n", "components_cxn_": "components_kxn",
           "explained_variance_ratio_c_": "explained_variance_ratio_k", "explained_variance_c_": "explained_variance_k"}


def _np64(array) -> np.ndarray:
    if hasattr(array, "detach"):
        array = array.detach().cpu().numpy()
    return np.asarray(array, dtype=np.float64)


class StatePCA:
    """PCA of hidden states, fitted once (on the attractor) and reused to project trajectories.

    Keeps ``n_components`` components, or more if that many explain less than ``min_variance``
    of the total (then the fewest that reach it), capped at min(b, n). So
    ``dims_for_variance(pca.explained_variance_ratio_c_, level)`` works for any level up to
    ``min_variance``; ``min_variance=None`` keeps exactly ``n_components``.

    Fitted attributes (scikit-learn style): ``mean_n_``, ``components_cxn_`` (orthonormal rows,
    sklearn's deterministic sign convention), ``explained_variance_c_``,
    ``explained_variance_ratio_c_`` (fraction of the *total* variance, over all n directions,
    so the kept ratios may sum to less than 1) and ``n_components_``.
    """

    def __init__(self, n_components: int = 10, min_variance: float | None = 0.95):
        if n_components < 1:
            raise ValueError("n_components must be at least 1")
        if min_variance is not None and not 0.0 < min_variance <= 1.0:
            raise ValueError("min_variance must be in (0, 1] or None")
        self.n_components = int(n_components)
        self.min_variance = min_variance

    def fit(self, states_bxn) -> "StatePCA":
        states = _np64(states_bxn)
        if states.ndim != 2 or states.shape[0] < 2:
            raise ValueError("fit needs a (b, n) array of at least two states")
        # "auto" picks the covariance eigensolver when b >> n (~20x faster than a full SVD here)
        pca = PCA(svd_solver="auto").fit(states)  # all components; truncated below
        # Constant states give 0/0 in sklearn; call that "no variance explained".
        ratios = np.nan_to_num(pca.explained_variance_ratio_.astype(np.float64))
        c = min(self.n_components, ratios.size)
        if self.min_variance is not None and ratios.sum() > 0:
            reached = np.nonzero(np.cumsum(ratios) >= self.min_variance - 1e-12)[0]
            c = max(c, int(reached[0]) + 1 if reached.size else ratios.size)
        self.mean_n_ = pca.mean_.astype(np.float64)
        self.components_cxn_ = pca.components_[:c].astype(np.float64)
        self.explained_variance_c_ = pca.explained_variance_[:c].astype(np.float64)
        self.explained_variance_ratio_c_ = ratios[:c]
        self.n_components_ = int(c)
        return self

    def check_fitted(self) -> None:
        if not hasattr(self, "components_cxn_"):
            raise RuntimeError("StatePCA is not fitted yet; call fit(states) first")

    def transform(self, states, n_dims: int = 3) -> np.ndarray:
        """Project states of shape (..., n) onto the first ``n_dims`` components, float32 (..., n_dims)."""
        self.check_fitted()
        if not 1 <= n_dims <= self.n_components_:
            raise ValueError(f"n_dims must be from 1 to {self.n_components_}, got {n_dims}")
        states = _np64(states)
        if states.shape[-1] != self.mean_n_.shape[0]:
            raise ValueError(f"states have size {states.shape[-1]}, the PCA was fitted on {self.mean_n_.shape[0]}")
        return ((states - self.mean_n_) @ self.components_cxn_[:n_dims].T).astype(np.float32)

    def fit_transform(self, states_bxn, n_dims: int = 3) -> np.ndarray:
        return self.fit(states_bxn).transform(states_bxn, n_dims)

    def inverse_transform(self, proj) -> np.ndarray:
        """Map PC coordinates (..., d) back into state space (..., n), float64."""
        self.check_fitted()
        proj = _np64(proj)
        return self.mean_n_ + proj @ self.components_cxn_[: proj.shape[-1]]

    def to_arrays(self, prefix: str = "pca_") -> dict[str, np.ndarray]:
        """Fitted state as plain numpy arrays, for ``np.savez`` / ``np.load(allow_pickle=False)``."""
        self.check_fitted()
        return {prefix + key: np.array(getattr(self, attr), dtype=np.float64) for attr, key in _STORED.items()}

    @classmethod
    def from_arrays(cls, arrays: Mapping[str, np.ndarray], prefix: str = "pca_") -> "StatePCA":
        """Inverse of ``to_arrays``; ``arrays`` may be an ``NpzFile``. Raises ValueError on bad shapes."""
        try:
            values = {attr: np.asarray(arrays[prefix + key], dtype=np.float64) for attr, key in _STORED.items()}
        except KeyError as err:
            raise ValueError(f"PCA arrays are missing {err.args[0]!r}") from None
        c, n = values["components_cxn_"].shape if values["components_cxn_"].ndim == 2 else (0, 0)
        if (c < 1 or values["mean_n_"].shape != (n,) or values["explained_variance_ratio_c_"].shape != (c,)
                or values["explained_variance_c_"].shape != (c,)):
            raise ValueError("PCA arrays have inconsistent shapes")
        pca = cls(n_components=c, min_variance=None)
        for attr, value in values.items():
            setattr(pca, attr, value)
        pca.n_components_ = int(c)
        return pca
