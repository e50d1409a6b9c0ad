import io

import numpy as np
import pytest
import torch

from core import geometry
from core.config import ModelConfig
from core.geometry import (
    covariance_spectrum, decompose, dims_for_variance, participation_ratio,
    readout_angles_deg, readout_full, readout_in_pc_space, simplex_angle_deg,
)
from core.models import build_model
from core.pca import StatePCA


def _anisotropic(rng, b=400, n=12):
    scales = np.linspace(3.0, 0.1, n)
    rot, _ = np.linalg.qr(rng.normal(size=(n, n)))
    return (rng.normal(size=(b, n)) * scales) @ rot.T + rng.normal(size=n)


def test_pca_matches_numpy_svd():
    rng = np.random.default_rng(0)
    states = _anisotropic(rng)
    pca = StatePCA(n_components=5, min_variance=None).fit(states)
    centred = states - states.mean(axis=0)
    _, sing, vt = np.linalg.svd(centred, full_matrices=False)
    assert pca.n_components_ == 5
    np.testing.assert_allclose(pca.mean_n_, states.mean(axis=0), atol=1e-12)
    for i in range(5):
        dot = float(pca.components_cxn_[i] @ vt[i])
        assert abs(abs(dot) - 1.0) < 1e-8  # same direction up to sign
    np.testing.assert_allclose(pca.explained_variance_ratio_c_, (sing**2 / np.sum(sing**2))[:5], rtol=1e-8)
    assert pca.explained_variance_ratio_c_.sum() < 1.0  # fraction of the total, not renormalized
    proj = pca.transform(states)
    assert proj.dtype == np.float32 and proj.shape == (400, 3)
    signs = np.sign(np.sum(pca.components_cxn_[:3] * vt[:3], axis=1))
    np.testing.assert_allclose(proj, (centred @ vt[:3].T) * signs, atol=1e-4)
    # any leading shape, and more dims on request
    assert pca.transform(states.reshape(20, 20, 12), n_dims=5).shape == (20, 20, 5)
    with pytest.raises(ValueError):
        pca.transform(states, n_dims=6)
    np.testing.assert_allclose(pca.inverse_transform(pca.transform(states, 5).astype(np.float64)),
                               pca.mean_n_ + (centred @ pca.components_cxn_.T) @ pca.components_cxn_, atol=1e-4)


def test_pca_keeps_enough_components_for_min_variance():
    rng = np.random.default_rng(9)
    states = _anisotropic(rng)
    ratios = (lambda s: s / s.sum())(covariance_spectrum(states))
    need = int(np.searchsorted(np.cumsum(ratios), 0.95)) + 1
    assert need > 3
    pca = StatePCA(n_components=3, min_variance=0.95).fit(states)
    assert pca.n_components_ == need
    assert pca.components_cxn_.shape == (need, 12)
    assert dims_for_variance(pca.explained_variance_ratio_c_, 0.95) == need
    assert StatePCA(n_components=3, min_variance=None).fit(states).n_components_ == 3
    assert StatePCA(n_components=need + 2).fit(states).n_components_ == need + 2
    with pytest.raises(ValueError):
        StatePCA(min_variance=1.5)


def test_pca_keeps_at_most_min_b_n():
    rng = np.random.default_rng(1)
    assert StatePCA(n_components=10).fit(rng.normal(size=(50, 4))).n_components_ == 4
    with pytest.raises(RuntimeError):
        StatePCA().transform(np.zeros((2, 3)))


def test_pca_arrays_round_trip_through_npz():
    rng = np.random.default_rng(2)
    states = _anisotropic(rng)
    pca = StatePCA(n_components=4).fit(states)
    assert pca.n_components_ > 4  # 4 components explain < 95% here, so more are kept
    arrays = pca.to_arrays(prefix="pca_")
    assert all(isinstance(v, np.ndarray) and v.dtype != object for v in arrays.values())
    # the keys analysis.npz files hold: a format, whatever the attributes are called
    assert sorted(arrays) == ["pca_components_kxn", "pca_explained_variance_k", "pca_explained_variance_ratio_k",
                              "pca_mean_n"]
    buf = io.BytesIO()
    np.savez(buf, other=np.arange(3), **arrays)
    buf.seek(0)
    with np.load(buf, allow_pickle=False) as npz:
        loaded = StatePCA.from_arrays(npz, prefix="pca_")
    assert loaded.n_components_ == pca.n_components_
    for key in ("mean_n_", "components_cxn_", "explained_variance_ratio_c_", "explained_variance_c_"):
        np.testing.assert_array_equal(getattr(loaded, key), getattr(pca, key))
    np.testing.assert_array_equal(loaded.transform(states), pca.transform(states))
    with pytest.raises(ValueError):
        StatePCA.from_arrays(arrays, prefix="other_")
    bad = dict(arrays, pca_mean_n=np.zeros(3))
    with pytest.raises(ValueError):
        StatePCA.from_arrays(bad)


def test_participation_ratio_isotropic_and_rank_one():
    n = 8
    exact = np.concatenate([np.eye(n), -np.eye(n)]) * 2.5  # covariance exactly proportional to I
    assert participation_ratio(exact) == pytest.approx(n, rel=1e-12)
    rng = np.random.default_rng(3)
    assert participation_ratio(rng.normal(size=(20_000, n))) == pytest.approx(n, rel=0.02)
    line = rng.normal(size=(100, 1)) * rng.normal(size=(1, n)) + rng.normal(size=n)
    assert participation_ratio(line) == pytest.approx(1.0, rel=1e-9)
    # two equal directions -> 2
    plane = np.concatenate([np.eye(n)[:2], -np.eye(n)[:2]])
    assert participation_ratio(plane) == pytest.approx(2.0, rel=1e-12)
    assert participation_ratio(np.ones((5, n))) == 0.0


def test_dims_for_variance_known_spectrum():
    ratios = np.array([0.5, 0.3, 0.12, 0.05, 0.03])
    assert dims_for_variance(ratios, 0.5) == 1
    assert dims_for_variance(ratios, 0.9) == 3
    assert dims_for_variance(ratios, 0.95) == 4
    assert dims_for_variance(ratios, 0.8) == 2  # exactly reached counts
    with pytest.raises(ValueError):
        dims_for_variance(ratios[:2], 0.9)
    assert dims_for_variance(np.zeros(4), 0.9) == 0
    rng = np.random.default_rng(4)
    spec = covariance_spectrum(_anisotropic(rng))
    assert np.all(np.diff(spec) <= 0)
    assert 1 <= dims_for_variance(spec / spec.sum(), 0.95) <= 12


def _simplex_readout(k, n, rng):
    vertices = np.eye(k) - 1.0 / k          # regular simplex centred at 0, in R^k
    embed = np.zeros((k, n))
    embed[:, :k] = vertices
    rot, _ = np.linalg.qr(rng.normal(size=(n, n)))
    return embed @ rot.T * 1.7 + rng.normal(size=n) * 5.0  # common offset must not matter


@pytest.mark.parametrize("k", [2, 3, 5])
def test_readout_angles_of_simplex(k):
    rng = np.random.default_rng(k)
    w = _simplex_readout(k, 10, rng)
    angles = readout_angles_deg(w)
    off = angles[~np.eye(k, dtype=bool)]
    np.testing.assert_allclose(off, simplex_angle_deg(k), atol=1e-8)
    np.testing.assert_array_equal(np.diag(angles), 0.0)
    np.testing.assert_allclose(angles, angles.T)


def test_simplex_angle_values():
    assert simplex_angle_deg(2) == pytest.approx(180.0)
    assert simplex_angle_deg(3) == pytest.approx(120.0)
    assert simplex_angle_deg(4) == pytest.approx(109.4712206, abs=1e-6)
    with pytest.raises(ValueError):
        simplex_angle_deg(1)


def test_readout_in_pc_space_pads_and_projects():
    rng = np.random.default_rng(5)
    units, n = 4, 8  # LSTM-like: readout sees the first half of the state
    states = rng.normal(size=(300, n)) * np.array([5, 4, 3, 2, 1, 1, 1, 1.0])
    pca = StatePCA(n_components=6, min_variance=None).fit(states)
    readout = rng.normal(size=(3, units))
    full = readout_full(readout, n)
    assert full.shape == (3, n) and np.all(full[:, units:] == 0)
    res = readout_in_pc_space(readout, pca, n_dims=3)
    unit = full / np.linalg.norm(full, axis=1, keepdims=True)
    np.testing.assert_allclose(res.directions_kxd, unit @ pca.components_cxn_[:3].T, atol=1e-12)
    np.testing.assert_allclose(res.in_subspace_k, np.linalg.norm(res.directions_kxd, axis=1))
    assert np.all(res.in_subspace_k <= 1 + 1e-12)
    np.testing.assert_allclose(res.centre_d, 0.0, atol=1e-12)
    centre = states[:10].mean(axis=0)
    moved = readout_in_pc_space(readout, pca, n_dims=2, centre_n=centre)
    np.testing.assert_allclose(moved.centre_d, pca.transform(centre[None], 2)[0], atol=1e-5)
    # with all n dims kept, a unit readout lies fully in the subspace
    full_pca = StatePCA(n_components=n).fit(states)
    assert np.allclose(readout_in_pc_space(readout, full_pca, n_dims=n).in_subspace_k, 1.0)
    with pytest.raises(ValueError):
        readout_full(rng.normal(size=(3, n + 1)), n)


def _sequences(rng, b=400, t=12, vocab=7):
    lengths = rng.integers(3, t + 1, size=b)
    lengths[0] = t
    ids = rng.integers(2, vocab, size=(b, t))
    ids[np.arange(t)[None, :] >= lengths[:, None]] = 0
    return ids, lengths


def _check_sums(dec):
    total = dec.temporal_fraction + dec.input_fraction + dec.residual_fraction
    assert total == pytest.approx(1.0, abs=1e-12)
    assert min(dec.temporal_fraction, dec.input_fraction, dec.residual_fraction) >= 0


def test_decompose_time_only_states():
    rng = np.random.default_rng(6)
    ids, lengths = _sequences(rng)
    n = 5
    per_t = rng.normal(size=(12, n))
    states = np.broadcast_to(per_t, (len(ids), 12, n)).copy()
    states[np.arange(12)[None, :] >= lengths[:, None]] = 99.0  # padding must be ignored
    dec = decompose(states, ids, lengths, vocab_size=7)
    _check_sums(dec)
    assert dec.temporal_fraction == pytest.approx(1.0, abs=1e-12)
    np.testing.assert_allclose(dec.mu_txn, per_t, atol=1e-12)
    np.testing.assert_allclose(dec.chi_wxn, 0.0, atol=1e-12)
    assert dec.count_t[0] == len(ids) and dec.count_t[-1] == np.sum(lengths == 12)
    assert dec.residual_bxtxn.shape == states.shape


def test_decompose_word_only_states():
    rng = np.random.default_rng(7)
    ids, lengths = _sequences(rng, b=2000)
    per_word = rng.normal(size=(7, 4)) * 3
    states = per_word[ids]
    dec = decompose(states, ids, lengths, vocab_size=7)
    _check_sums(dec)
    assert dec.input_fraction > 0.98
    assert dec.temporal_fraction < 0.02
    assert dec.count_w[0] == 0 and np.all(dec.chi_wxn[0] == 0)  # pad only appears past lengths
    # chi recovers each word's offset from the mean state
    mean_state = per_word[ids[np.arange(12)[None, :] < lengths[:, None]]].mean(axis=0)
    np.testing.assert_allclose(dec.chi_wxn[2:], per_word[2:] - mean_state, atol=0.1)


def test_decompose_mixed_is_exact_partition():
    rng = np.random.default_rng(8)
    ids, lengths = _sequences(rng)
    states = rng.normal(size=(12, 6))[None] + rng.normal(size=(7, 6))[ids] + 0.5 * rng.normal(size=ids.shape + (6,))
    dec = decompose(states, ids, lengths, vocab_size=7)
    _check_sums(dec)
    valid = np.arange(12)[None, :] < lengths[:, None]
    h = states[valid]
    recon = dec.mu_txn[np.nonzero(valid)[1]] + dec.chi_wxn[ids[valid]] + dec.residual_bxtxn[valid]
    np.testing.assert_allclose(recon, h, atol=1e-5)
    assert dec.total_variance == pytest.approx(np.mean(np.sum((h - h.mean(0)) ** 2, axis=1)))
    assert np.all(dec.residual_bxtxn[~valid] == 0)
    for frac in (dec.temporal_fraction, dec.input_fraction, dec.residual_fraction):
        assert 0.05 < frac < 0.9
    with pytest.raises(ValueError):
        decompose(states, ids, lengths, vocab_size=5)


def test_decompose_chunked_matches_single_chunk_and_accepts_torch(monkeypatch):
    model = build_model(ModelConfig(cell="lstm", units=8, embed_dim=4, vocab_size=20, num_classes=3))
    rng = np.random.default_rng(10)
    ids, lengths = _sequences(rng, b=30, vocab=20)
    ids_t, lengths_t = torch.from_numpy(ids), torch.from_numpy(lengths)
    with torch.no_grad():
        states = model.run(ids_t, lengths_t)
    whole = decompose(states, ids_t, lengths_t, vocab_size=20)
    monkeypatch.setattr(geometry, "_CHUNK_VALUES", 16 * 7)  # 7 rows per chunk
    chunked = decompose(states, ids_t, lengths_t, vocab_size=20, keep_residual=False)
    _check_sums(whole)
    assert chunked.residual_bxtxn is None
    np.testing.assert_allclose(chunked.mu_txn, whole.mu_txn, atol=1e-12)
    np.testing.assert_allclose(chunked.chi_wxn, whole.chi_wxn, atol=1e-12)
    for name in ("temporal_fraction", "input_fraction", "residual_fraction", "total_variance"):
        assert getattr(chunked, name) == pytest.approx(getattr(whole, name), rel=1e-9)
