"""The analysis of a bundle's training-time checkpoints (``core.checkpoints``): how the attractor formed.

For each checkpoint: the states it visits on a sample of the analysis texts, subsampled and projected
into the FINAL model's PCA (so every checkpoint is drawn in one space), the readout's prediction there,
and its fixed points (``core.fixed_points``, initial states drawn from its own visited states) with the
largest eigenvalue magnitudes of each. Stored in analysis.npz under ``ckpt_*``
(``core.analysis_view.TrainingView``); a bundle without checkpoints gets none of these keys.
"""
from __future__ import annotations

from typing import Callable

import numpy as np
import torch

from core.checkpoints import Checkpoints
from core.fixed_points import find_fixed_points
from core.pca import StatePCA

__all__ = ["checkpoint_arrays", "CKPT_SEQUENCES", "CKPT_CLOUD", "CKPT_INITS", "TOP_EIGS"]

CKPT_SEQUENCES = 200   # analysis texts each checkpoint runs over
CKPT_CLOUD = 1500      # visited states kept per checkpoint (float32, final PCA)
CKPT_INITS = 512       # fixed-point search initial states per checkpoint
TOP_EIGS = 4           # eigenvalue magnitudes kept per fixed point


@torch.no_grad()
def _likeliest_class(model, states_bxn: np.ndarray) -> np.ndarray:
    """The class with the largest logit (multi-label too: the label the readout is surest of), for colour."""
    return model.readout(torch.from_numpy(states_bxn)).argmax(-1).numpy()


def _top_eig_abs(eigvals_pxn: np.ndarray) -> np.ndarray:
    out = np.full((len(eigvals_pxn), TOP_EIGS), np.nan, np.float32)
    top = np.abs(eigvals_pxn[:, :TOP_EIGS])
    out[:, : top.shape[1]] = top
    return out


def checkpoint_arrays(checkpoints: Checkpoints, pca: StatePCA, visited: Callable[[torch.nn.Module], np.ndarray],
                      rng: np.random.Generator, n_cloud: int = CKPT_CLOUD, n_inits: int = CKPT_INITS,
                      seed: int = 0) -> dict[str, np.ndarray]:
    """``ckpt_*`` arrays for every checkpoint; ``visited(model)`` gives the states (v x n) a model visits
    on the analysis texts."""
    clouds, preds, fp_parts = [], [], []
    for k in range(len(checkpoints)):
        model = checkpoints.model(k)
        visited_vxn = visited(model)
        pick = rng.permutation(len(visited_vxn))[:n_cloud]
        if len(pick) < n_cloud:  # few texts: repeat states so every checkpoint has the same count
            pick = np.resize(pick, n_cloud)
        clouds.append(pca.transform(visited_vxn[pick], n_dims=3).astype(np.float32))
        preds.append(_likeliest_class(model, visited_vxn[pick]).astype(np.int8))
        inits = visited_vxn[rng.integers(0, len(visited_vxn), n_inits)].astype(np.float64)
        fps = find_fixed_points(model, inits, x_e=None, seed=seed)
        eig_abs = _top_eig_abs(fps.eigvals_pxn)
        fp_parts.append((np.full(fps.n_points, k, np.int16), pca.transform(fps.xstar_pxn, n_dims=3).astype(np.float32),
                         fps.is_stable_p, fps.is_converged_p, eig_abs))
    k_q, xyz, stable, converged, eig = (np.concatenate(part) for part in zip(*fp_parts))
    out = {"ckpt_steps_k": checkpoints.steps_k.astype(np.int64),
           "ckpt_val_accuracy_k": checkpoints.val_accuracy_k.astype(np.float32),
           "ckpt_cloud_xyz_kxsx3": np.stack(clouds), "ckpt_cloud_pred_kxs": np.stack(preds),
           "ckpt_fp_k_q": k_q, "ckpt_fp_xyz_qx3": xyz, "ckpt_fp_stable_q": stable.astype(bool),
           "ckpt_fp_converged_q": converged.astype(bool), "ckpt_fp_eig_abs_qxm": eig}
    if checkpoints.agreement_k is not None:
        out["ckpt_agreement_k"] = checkpoints.agreement_k.astype(np.float32)
    return out
