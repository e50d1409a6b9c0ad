"""The precompute pipeline: everything the dashboard shows for one bundle, saved as analysis.npz.

``analyze_bundle(bundle)`` runs the model over held-out texts and computes, in this order: the
trajectories sample and the state cloud, the PCA fitted on visited states (``core.pca``), the
geometry of final states (``core.geometry``), the fixed points (``core.fixed_points``), the
one-step linearization error (``core.dynamics``), the word deflections (``core.words``), the
temporal / input decomposition and the slow points with the line through them and the D1 / D4
linearization errors around them (``core.analysis_slow``, from its own seeded random stream). The
arrays are written by ``core.analysis_file`` and read back as typed views by
``core.analysis_view``; their keys are a format and never change.
"""
from __future__ import annotations

import time
from typing import Callable, NamedTuple

import numpy as np
import torch

from core import geometry, words
from core.analysis_checkpoints import CKPT_SEQUENCES, checkpoint_arrays
from core.analysis_file import ANALYSIS_VERSION, save_analysis
from core.analysis_slow import slow_point_arrays
from core.dynamics import one_step_linearization_error
from core.fixed_points import find_fixed_points
from core.pca import StatePCA
from core.tasks import Split, encode_split, load_task
from core.tasks.synthetic import evidence_counts, evidence_words

__all__ = ["analyze_bundle", "relax", "visited_states", "held_out_states", "CLOUD_SIZE"]

CLOUD_SIZE = 20_000
N_TRAJ_SAMPLE = 40
MAX_STEPS = 200
LONG_MAX_STEPS, LONG_MAX_SEQUENCES = 600, 1000  # long documents (most texts past MAX_STEPS): fewer, longer
N_WORDS = 1000
RELAX_STEPS = 20  # zero-input steps after the last token for the "relaxed final states" geometry


@torch.no_grad()
def _states(model, ids_bxt: np.ndarray, lengths_b: np.ndarray, batch: int = 256) -> np.ndarray:
    out = []
    for start in range(0, len(lengths_b), batch):
        ids = torch.from_numpy(ids_bxt[start:start + batch])
        out.append(model.run(ids, torch.from_numpy(lengths_b[start:start + batch])).numpy())
    return np.concatenate(out).astype(np.float32)


def analyze_bundle(bundle, on_progress: Callable[[dict], None] | None = None, n_inits: int = 1024,
                   cloud_size: int = CLOUD_SIZE, max_sequences: int = 2000, seed: int = 0) -> dict:
    """Compute and save analysis.npz for a loaded bundle; returns a summary of the headline figures."""
    start = time.perf_counter()
    report = on_progress or (lambda event: None)
    rng = np.random.default_rng(seed)
    model = bundle.model
    report({"stage": "trajectories", "step": 5, "total": 100})
    data = load_task(bundle.config.task)
    held = _held_out(bundle, data, rng, max_sequences)
    split, ids, lengths, labels, keep = held.split, held.ids_bxt, held.lengths_b, held.labels_b, held.keep_b
    states_bxtxn, visited_vxn, finals_bxn = held.states_bxtxn, held.visited_vxn, held.finals_bxn
    arrays: dict[str, np.ndarray] = {"analysis_version": np.array(ANALYSIS_VERSION),
                                     "weights_sha256": np.array(bundle.weights_sha256)}

    report({"stage": "PCA", "step": 15, "total": 100})
    pca_sample = visited_vxn[rng.permutation(len(visited_vxn))[:50_000]]
    pca = StatePCA().fit(pca_sample)
    arrays.update(pca.to_arrays())
    arrays.update(_cloud_arrays(pca, model, visited_vxn, finals_bxn, labels, rng, cloud_size))
    arrays.update(_trajectory_sample(pca, states_bxtxn, lengths, labels, ids))
    arrays.update(_final_state_arrays(pca, model, finals_bxn, labels, [split.tokens[i] for i in keep], bundle))
    arrays.update(_geometry_arrays(pca, model, visited_vxn, finals_bxn))

    report({"stage": "fixed points", "step": 25, "total": 100})
    inits = visited_vxn[rng.integers(0, len(visited_vxn), n_inits)].astype(np.float64)
    fps = find_fixed_points(model, inits, x_e=None, seed=seed)
    arrays.update(fps.to_arrays())
    arrays["fp_xyz_px3"] = pca.transform(fps.xstar_pxn, n_dims=3).astype(np.float32)

    report({"stage": "linearization", "step": 70, "total": 100})
    arrays.update(_linearization_arrays(model, states_bxtxn, ids, lengths, fps, rng))

    report({"stage": "word deflections", "step": 80, "total": 100})
    arrays.update(_word_arrays(model, bundle.vocab, data, fps, pca, visited_vxn))

    report({"stage": "decomposition", "step": 90, "total": 100})
    decomp = geometry.decompose(states_bxtxn, ids, lengths, len(bundle.vocab), keep_residual=False)
    arrays.update(_decomposition_arrays(decomp, pca))

    report({"stage": "slow points", "step": 95, "total": 100})
    arrays.update(slow_point_arrays(model, pca, visited_vxn, finals_bxn, states_bxtxn, ids, lengths,
                                    np.random.default_rng([seed, 15])))

    arrays.update(_training_arrays(bundle, pca, ids, lengths, seed, report))

    wall = time.perf_counter() - start
    arrays["wall_time_s"] = np.array(wall)
    save_analysis(bundle.path / "analysis.npz", arrays)
    bundle.forget_analysis()
    report({"stage": "done", "step": 100, "total": 100})
    return {"wall_time_s": wall, "n_fixed_points": len(fps.qstar_p), "frac_converged": fps.frac_converged,
            "dims95": int(arrays["dims95"]), "final_dims95": int(arrays["final_dims95"]),
            "n_slow_points": int(len(arrays["sp_qstar_p"])), "d1_median": float(arrays["slowlin_d1_median"]),
            "d4_median": float(arrays["slowlin_d4_median"])}


def _training_arrays(bundle, pca, ids, lengths, seed: int, report) -> dict:
    """The training-time checkpoints' fixed points and states in this PCA (none for a bundle without them)."""
    if not bundle.has_checkpoints:
        return {}
    report({"stage": "training checkpoints", "step": 97, "total": 100})
    ids_c, lengths_c = ids[:CKPT_SEQUENCES], lengths[:CKPT_SEQUENCES]
    valid = np.arange(ids_c.shape[1])[None, :] < lengths_c[:, None]
    return checkpoint_arrays(bundle.checkpoints, pca, lambda model: _states(model, ids_c, lengths_c)[valid],
                             np.random.default_rng([seed, 20]))


def held_out_states(bundle, rng, max_sequences: int = 2000, validation: bool = False):
    """The model's states on held-out texts, read the way the analysis reads them (its sample of the test
    split, each text cut to the analysis window; of the validation split with ``validation``, for choices made
    on held-out texts): ids_bxt, lengths_b, states_bxtxn, the visited states (every real token) and each text's
    final state."""
    held = _held_out(bundle, load_task(bundle.config.task), rng, max_sequences, validation)
    return held.ids_bxt, held.lengths_b, held.states_bxtxn, held.visited_vxn, held.finals_bxn


class _HeldOut(NamedTuple):
    split: Split
    ids_bxt: np.ndarray
    lengths_b: np.ndarray
    labels_b: np.ndarray
    keep_b: np.ndarray  # the split's row of each text
    states_bxtxn: np.ndarray
    visited_vxn: np.ndarray
    finals_bxn: np.ndarray


def _held_out(bundle, data, rng, max_sequences: int, validation: bool = False) -> _HeldOut:
    """The analysis's sample of held-out texts (the test split, plus validation when it is short; only the
    validation split with ``validation``) and the model's states on them."""
    if validation:
        split = data.val
    else:
        split = data.test if len(data.test) >= max_sequences else data.test.concat(data.val)
    ids, lengths, labels, keep = _sample_sequences(split, bundle.vocab, rng, max_sequences)
    states = _states(bundle.model, ids, lengths)
    visited = states[np.arange(ids.shape[1])[None, :] < lengths[:, None]]
    finals = states[np.arange(len(lengths)), np.maximum(lengths - 1, 0)]
    return _HeldOut(split, ids, lengths, labels, keep, states, visited, finals)


def visited_states(bundle, count: int, max_sequences: int = 2000, seed: int = 0) -> np.ndarray:
    """``count`` hidden states (float64) from ``held_out_states``: the initial states of a fixed-point or
    slow-point search (benchmarks use it)."""
    rng = np.random.default_rng(seed)
    visited = held_out_states(bundle, rng, max_sequences)[3]
    return visited[rng.integers(0, len(visited), count)].astype(np.float64)


def _sample_sequences(split: Split, vocab, rng, max_sequences: int):
    """Encode a seeded sample of the split, each text cut to the analysis window; returns ids_bxt,
    lengths_b, labels and the kept row indices. Long documents get a longer window and fewer texts."""
    all_lengths = np.array([len(t) for t in split.tokens], dtype=np.int64)
    keep = rng.permutation(len(split))[:max_sequences]
    max_steps = MAX_STEPS
    if len(all_lengths) and np.median(all_lengths) > MAX_STEPS / 2:
        max_steps, keep = LONG_MAX_STEPS, keep[:LONG_MAX_SEQUENCES]
    enc = encode_split(Split([split.tokens[i][:max_steps] for i in keep], split.labels[keep]), vocab)
    width = min(int(all_lengths.max(initial=1)), max_steps)
    ids = np.zeros((len(keep), width), np.int64)
    ids[:, : enc.ids_bxt.shape[1]] = enc.ids_bxt[:, :width]
    return ids, np.minimum(enc.lengths_b, max_steps), enc.labels, keep


def _predictions(model, states_bxn: np.ndarray) -> np.ndarray:
    with torch.no_grad():
        logits = model.readout(torch.from_numpy(states_bxn))
    if model.config.multilabel:
        return (logits > 0).numpy().argmax(-1)
    return logits.argmax(-1).numpy()


def _class_of(labels: np.ndarray) -> np.ndarray:
    """One colour class per example (multi-label: the first positive label, or -1)."""
    if labels.ndim == 1:
        return labels.astype(np.int8)
    return np.where(labels.any(axis=1), labels.argmax(axis=1), -1).astype(np.int8)


def _cloud_arrays(pca, model, visited_vxn, finals_bxn, labels, rng, cloud_size) -> dict:
    n_visited = max(0, cloud_size - len(finals_bxn))
    pick = rng.permutation(len(visited_vxn))[:n_visited]
    # colour visited states by the prediction they imply; finals by their true label too
    states = np.concatenate([finals_bxn, visited_vxn[pick]])
    return {
        "cloud_xyz_cx3": pca.transform(states, n_dims=3).astype(np.float32),
        "cloud_pred_c": _predictions(model, states).astype(np.int8),
        "cloud_label_c": np.concatenate([_class_of(labels), np.full(len(pick), -1, np.int8)]),
        "cloud_is_final_c": np.concatenate([np.ones(len(finals_bxn), bool), np.zeros(len(pick), bool)]),
    }


def _trajectory_sample(pca, states_bxtxn, lengths, labels, ids) -> dict:
    n = min(N_TRAJ_SAMPLE, len(lengths))
    steps = min(int(lengths[:n].max(initial=1)), states_bxtxn.shape[1])
    xyz = np.full((n, steps, 3), np.nan, np.float32)
    for i in range(n):
        xyz[i, : lengths[i]] = pca.transform(states_bxtxn[i, : lengths[i]], n_dims=3)
    return {"traj_xyz_sxtx3": xyz, "traj_len_s": lengths[:n].astype(np.int32),
            "traj_label_s": _class_of(labels[:n]), "traj_ids_sxt": ids[:n, :steps].astype(np.int32)}


def relax(model, states_bxn: np.ndarray, steps: int) -> np.ndarray:
    """Run states forward with zero input: the last words' transient kicks decay, the attractor remains."""
    with torch.no_grad():
        h = torch.from_numpy(np.asarray(states_bxn, np.float32))
        x = torch.zeros(len(h), model.config.embed_dim)
        for _ in range(steps):
            h = model.step(h, x)
    return h.numpy()


def _final_state_arrays(pca, model, finals_bxn, labels, token_lists, bundle) -> dict:
    """Final states (projected) with their labels and, for synthetic tasks, the evidence-word counts."""
    relaxed = StatePCA().fit(relax(model, finals_bxn, RELAX_STEPS))
    out = {"relaxed_explained_ratio_k": relaxed.explained_variance_ratio_c_.astype(np.float64),
           "relaxed_dims95": np.array(geometry.dims_for_variance(relaxed.explained_variance_ratio_c_, 0.95)),
           "final_xyz_bx3": pca.transform(finals_bxn, n_dims=3).astype(np.float32),
           "final_label_b": _class_of(labels), "final_pred_b": _predictions(model, finals_bxn).astype(np.int8),
           "final_logits_bxk": _logits(model, finals_bxn)}
    task = bundle.config.task
    if task.is_synthetic:
        out["final_counts_bxk"] = evidence_counts(token_lists, task)
        out["evidence_words_k"] = np.array(evidence_words(task))
    return out


def _logits(model, states_bxn: np.ndarray) -> np.ndarray:
    with torch.no_grad():
        return model.readout(torch.from_numpy(states_bxn)).numpy().astype(np.float32)


def _geometry_arrays(pca, model, visited_vxn, finals_bxn) -> dict:
    final_pca = StatePCA().fit(finals_bxn)
    readout_kxn = model.readout_full()
    centre_n = finals_bxn.mean(axis=0)
    return {
        "dims90": np.array(geometry.dims_for_variance(pca.explained_variance_ratio_c_, 0.90)),
        "dims95": np.array(geometry.dims_for_variance(pca.explained_variance_ratio_c_, 0.95)),
        "participation_ratio": np.array(geometry.participation_ratio(visited_vxn)),
        "final_explained_ratio_k": final_pca.explained_variance_ratio_c_.astype(np.float64),
        "final_dims90": np.array(geometry.dims_for_variance(final_pca.explained_variance_ratio_c_, 0.90)),
        "final_dims95": np.array(geometry.dims_for_variance(final_pca.explained_variance_ratio_c_, 0.95)),
        "final_participation_ratio": np.array(geometry.participation_ratio(finals_bxn)),
        "readout_pc_kx3": (readout_kxn @ pca.components_cxn_[:3].T).astype(np.float32),
        "centre_xyz_3": pca.transform(centre_n[None], n_dims=3)[0].astype(np.float32),
        "readout_angles_kxk": geometry.readout_angles_deg(readout_kxn),
        "simplex_angle": np.array(geometry.simplex_angle_deg(readout_kxn.shape[0])),
    }


def _linearization_arrays(model, states_bxtxn, ids, lengths, fps, rng, n_seq: int = 50) -> dict:
    converged = fps.xstar_pxn[fps.is_converged_p] if fps.is_converged_p.any() else fps.xstar_pxn
    errors, state_errors = [], []
    with torch.no_grad():
        for i in rng.permutation(len(lengths))[:n_seq]:
            steps = int(lengths[i])
            if steps < 2:
                continue
            x_txe = model.embed(torch.from_numpy(ids[i, :steps].astype(np.int64))).numpy()
            prev_txn = np.concatenate([np.zeros((1, model.state_size), np.float32), states_bxtxn[i, : steps - 1]])
            errors.append(one_step_linearization_error(model, prev_txn, x_txe, converged, fps.x_e))
            state_errors.append(one_step_linearization_error(model, prev_txn, x_txe, converged, fps.x_e,
                                                             relative_to="state"))
    err = np.concatenate(errors) if errors else np.zeros(0)
    state_err = np.concatenate(state_errors) if state_errors else np.zeros(0)
    return {"lin_err_sample": err[:5000].astype(np.float32),
            "lin_err_median": np.array(np.median(err) if len(err) else np.nan),
            "lin_err_mean": np.array(np.mean(err) if len(err) else np.nan),
            "lin_state_err_median": np.array(np.median(state_err) if len(state_err) else np.nan)}


def _anchor_index(fps, visited_vxn) -> int:
    """The converged fixed point nearest the centre of the visited states (where words kick from)."""
    candidates = np.flatnonzero(fps.is_converged_p)
    if len(candidates) == 0:
        candidates = np.arange(len(fps.qstar_p))
    dist = np.linalg.norm(fps.xstar_pxn[candidates] - visited_vxn.mean(axis=0), axis=1)
    return int(candidates[np.argmin(dist)])


def _word_arrays(model, vocab, data, fps, pca, visited_vxn) -> dict:
    word_ids = np.arange(2, min(len(vocab), N_WORDS + 2))
    anchor = _anchor_index(fps, visited_vxn)
    dh_wxn = words.word_deflections(model, fps.xstar_pxn[anchor:anchor + 1], word_ids)[0]
    readout_proj, slow_proj = words.project_deflections(dh_wxn, model.readout_full(), fps.left_vecs_pxnxm[anchor])
    log_odds = words.word_log_odds(data.train.tokens, data.train.labels, vocab, len(data.class_names))
    return {"word_ids_w": word_ids.astype(np.int32), "word_anchor": np.array(anchor),
            "word_readout_proj_wxk": readout_proj.astype(np.float32),
            # the slowest modes of these attractors are real; a complex pair keeps its real part
            "word_slow_proj_wxm": np.real(slow_proj).astype(np.float32),
            "word_dh_xyz_wx3": (dh_wxn @ pca.components_cxn_[:3].T).astype(np.float32),
            "word_log_odds_wxk": np.asarray(log_odds)[word_ids].astype(np.float32)}


def _decomposition_arrays(decomp, pca) -> dict:
    word_ids = np.argsort(-decomp.count_w)[:N_WORDS]
    word_ids = word_ids[decomp.count_w[word_ids] > 0]
    return {
        "decomp_fractions_3": np.array([decomp.temporal_fraction, decomp.input_fraction, decomp.residual_fraction]),
        "decomp_mu_xyz_tx3": pca.transform(decomp.mu_txn, n_dims=3).astype(np.float32),
        # word offsets chi(w) are directions, so project without subtracting the PCA mean
        "decomp_chi_xyz_wx3": (decomp.chi_wxn[word_ids] @ pca.components_cxn_[:3].T).astype(np.float32),
        "decomp_word_ids_w": word_ids.astype(np.int32),
        "decomp_word_count_w": decomp.count_w[word_ids].astype(np.int32),
    }
