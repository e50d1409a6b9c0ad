"""Fixed-point solver: known answers, line attractor, slow and spurious points, dedup, n=256, storage."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from benchmarks.adam_baseline import adam_baseline
from core.cells import BOX_EDGE
from core.config import ModelConfig
from core.fixed_points import FixedPoints, SolverOptions, deduplicate, eigen_summary, find_fixed_points
from core.fixed_points.linalg import Factored, solve_newton
from core.models import build_model


def blank(cell: str, units: int = 2, embed: int = 2, seed: int = 0):
    """A model with every recurrent weight zeroed, to be filled in by hand."""
    model = build_model(ModelConfig(cell=cell, units=units, embed_dim=embed, vocab_size=10), seed=seed)
    with torch.no_grad():
        for weight in model.live_weights().values():
            weight.zero_()
    return model, model.live_weights()


def test_every_cell_type_converges_to_true_fixed_points(cell):
    model = build_model(ModelConfig(cell=cell, units=6, embed_dim=3, vocab_size=10), seed=2)
    with torch.no_grad():  # strong recurrence (UGRNN x 6 is chaotic, with one unstable fixed point; mRNN starts
        # orthogonal, radius 1, and from x 2 on it rotates chaotically with no fixed point but the origin's)
        model.live_weights()["w_h"].mul_({"lstm": 6.0, "tanh": 6.0, "relu": 1.0, "mrnn": 1.5}.get(cell, 3.0))
    rng = np.random.default_rng(8)
    inits = rng.uniform(0 if cell == "relu" else -0.9, 0.9, (24, model.state_size))
    x_e = rng.standard_normal(3) * 0.5
    fps = find_fixed_points(model, inits, x_e, warm_steps=2)
    assert fps.frac_converged >= 0.75 and fps.is_converged_p.any()
    np.testing.assert_allclose(fps.x_e, x_e)
    w = model.weights(torch.float64)
    conv = fps.xstar_pxn[fps.is_converged_p]
    x = torch.from_numpy(np.tile(x_e, (len(conv), 1)))
    f = model.step(torch.from_numpy(conv), x, w).numpy()
    assert np.abs(f - conv).max() < 1e-9  # polished well below tol_q = 1e-10 (|r| < 1.4e-5)
    k = int(np.flatnonzero(fps.is_converged_p)[0])
    jac = torch.autograd.functional.jacobian(
        lambda v: model.step(v[None], x[:1], w)[0], torch.from_numpy(fps.xstar_pxn[k])).numpy()
    np.testing.assert_allclose(np.abs(fps.eigvals_pxn[k]), np.sort(np.abs(np.linalg.eigvals(jac)))[::-1], atol=1e-10)
    assert fps.is_stable_p[k] == (np.abs(np.linalg.eigvals(jac)).max() < 1)
    assert fps.counts_p.sum() == 24


def test_zero_recurrence_has_one_known_fixed_point():
    model, lw = blank("tanh", units=4)
    with torch.no_grad():
        lw["b_x"].copy_(torch.tensor([0.3, -0.2, 0.9, 0.0]))
        lw["b_h"].copy_(torch.tensor([0.1, 0.1, -0.4, 0.0]))
    inits = np.random.default_rng(0).uniform(-1, 1, (32, 4))
    fps = find_fixed_points(model, inits, warm_steps=0)
    assert fps.n_points == 1 and fps.counts_p.tolist() == [32]
    np.testing.assert_allclose(fps.xstar_pxn[0], np.tanh([0.4, -0.1, 0.5, 0.0]), atol=1e-12)
    assert fps.frac_converged == 1.0 and fps.is_converged_p.all() and fps.qstar_p[0] < 1e-20
    np.testing.assert_allclose(np.abs(fps.eigvals_pxn), 0, atol=1e-15)  # dF/dh = 0
    assert fps.is_stable_p.all() and fps.n_spurious == 0
    assert fps.tau_pxm.shape == (1, 3) and (fps.tau_pxm == 0).all()


def test_linear_rnn_fixed_point_and_eigenvectors():
    """ReLU RNN in its linear region, F(h) = A h + b: h* = (I - A)^-1 b, eigen data of A."""
    n = 6
    model, lw = blank("relu", units=n)
    a = np.random.default_rng(1).uniform(0, 0.25, (n, n))
    b = np.linspace(0.5, 1.5, n)
    with torch.no_grad():
        lw["w_h"].copy_(torch.from_numpy(a))
        lw["b_h"].copy_(torch.from_numpy(b))
    inits = np.random.default_rng(2).uniform(0, 3, (16, n))
    fps = find_fixed_points(model, inits, n_modes=2)
    a32 = lw["w_h"].detach().double().numpy()  # the float32-rounded A the model really uses
    expected = np.linalg.solve(np.eye(n) - a32, lw["b_h"].detach().double().numpy())
    assert fps.n_points == 1 and fps.is_converged_p[0]
    np.testing.assert_allclose(fps.xstar_pxn[0], expected, atol=1e-12)
    lam = np.linalg.eigvals(a32)
    np.testing.assert_allclose(np.abs(fps.eigvals_pxn[0]), np.sort(np.abs(lam))[::-1], atol=1e-12)
    top = fps.eigvals_pxn[0, 0].real  # Perron root of a positive matrix: real, simple
    r, l = fps.right_vecs_pxnxm[0, :, 0], fps.left_vecs_pxnxm[0, :, 0]
    np.testing.assert_allclose(a32 @ r, top * r, atol=1e-12)
    np.testing.assert_allclose(l @ a32, top * l, atol=1e-12)
    assert abs(l @ r - 1) < 1e-10 and abs(np.linalg.norm(r) - 1) < 1e-12
    np.testing.assert_allclose(fps.tau_pxm[0, 0], -1 / np.log(abs(top)), rtol=1e-12)


def test_line_attractor_points_lie_on_the_line():
    """h' = relu(diag(1, 0.5) h + (0, c)): every (s, 2c), s >= 0, is fixed; eigenvalue 1 along e1."""
    model, lw = blank("relu", units=2)
    c = 0.4
    with torch.no_grad():
        lw["w_h"].copy_(torch.tensor([[1.0, 0.0], [0.0, 0.5]]))
        lw["b_h"].copy_(torch.tensor([0.0, c]))
    inits = np.random.default_rng(3).uniform(0, 2, (40, 2))
    fps = find_fixed_points(model, inits)
    assert fps.frac_converged == 1.0
    np.testing.assert_allclose(fps.xstar_pxn[:, 1], 2 * c, atol=1e-8)
    assert fps.n_points > 10  # a continuum: the inits land at different places along the line
    assert np.ptp(fps.xstar_pxn[:, 0]) > 1.0
    np.testing.assert_allclose(np.abs(fps.eigvals_pxn), np.tile([1.0, 0.5], (fps.n_points, 1)), atol=1e-7)
    assert not fps.is_stable_p.any() and np.isinf(fps.tau_pxm[:, 0]).all()
    np.testing.assert_allclose(np.abs(fps.right_vecs_pxnxm[:, :, 0]), np.tile([1.0, 0.0], (fps.n_points, 1)),
                               atol=1e-7)


def test_slow_point_is_flagged_not_dropped():
    """tanh(2h + b) - h just misses zero near h = 0.708 (a saddle-node ghost): q has a local minimum
    of about eps^2 / 2 there, next to a true fixed point at h = -0.987."""
    model, lw = blank("tanh", units=2)
    eps = 1e-3
    with torch.no_grad():
        lw["w_h"][0, 0] = 2.0
        lw["b_h"][0] = -0.53284 - 2 * eps
    inits = np.stack([np.linspace(-0.9, 0.9, 19), np.zeros(19)], 1)
    fps = find_fixed_points(model, inits, q_slow=1e-6)
    assert fps.n_points == 2
    true, ghost = fps.xstar_pxn
    assert fps.is_converged_p.tolist() == [True, False] and fps.is_slow_p.tolist() == [False, True]
    assert abs(true[0] + 0.9868) < 1e-3 and abs(ghost[0] - 0.708) < 1e-2
    assert 1e-7 < fps.qstar_p[1] < 1e-6
    assert fps.counts_p.sum() == 19 and fps.frac_converged == fps.counts_p[0] / 19 < 1


def test_points_pressed_against_the_box_are_spurious():
    """A GRU whose candidate saturates at tanh(50) == 1.0: 'fixed' at the box face, not inside."""
    model, lw = blank("gru", units=3)
    with torch.no_grad():
        lw["b_x"][6:] = 50.0
    fps = find_fixed_points(model, np.zeros((5, 3)))
    assert fps.n_spurious == 5 and fps.frac_converged == 0.0
    assert not fps.is_converged_p.any() and not fps.is_in_box_p.any() and not fps.is_slow_p.any()
    assert np.abs(fps.xstar_pxn).max() <= BOX_EDGE


def test_copies_of_an_ill_conditioned_point_merge_after_polishing():
    """Eigenvalue 0.99999: the float32 Newton solve leaves copies ~1e-3 apart along the slow
    direction at q < 1e-10, more than the dedup tolerance; the float64 polish must merge them."""
    model, lw = blank("relu", units=2)
    v, u = np.array([1.0, 1.0]) / np.sqrt(2), np.array([1.0, -1.0]) / np.sqrt(2)
    with torch.no_grad():
        lw["w_h"].copy_(torch.from_numpy(0.99999 * np.outer(v, v) + 0.5 * np.outer(u, u)))
        a32 = lw["w_h"].detach().double().numpy()
        lw["b_h"].copy_(torch.from_numpy((np.eye(2) - a32) @ np.array([0.5, 0.7])))
    h_star = np.linalg.solve(np.eye(2) - a32, lw["b_h"].detach().double().numpy())
    inits = h_star + np.outer([0.3, 0.6, 0.9, 1.2], v)
    unpolished = find_fixed_points(model, inits, warm_steps=0, polish_q=np.inf)  # polishing off
    assert unpolished.n_points == 4 and unpolished.frac_converged == 1.0
    assert np.ptp(unpolished.xstar_pxn @ v) > 1e-4
    fps = find_fixed_points(model, inits, warm_steps=0)
    assert fps.n_points == 1 and fps.counts_p.tolist() == [4]
    np.testing.assert_allclose(fps.xstar_pxn[0], h_star, atol=1e-9)


def test_deduplicate_merges_copies_and_keeps_distinct_points():
    rng = np.random.default_rng(4)
    centers = rng.standard_normal((3, 8))
    pts = np.repeat(centers, 10, axis=0) + 1e-7 * rng.standard_normal((30, 8))
    q = rng.uniform(1e-20, 1e-12, 30)
    q[13] = 1e-30
    perm = rng.permutation(30)
    reps, labels = deduplicate(pts[perm], q[perm], tol=1e-5)
    assert len(reps) == 3 and np.bincount(labels).tolist() == [10, 10, 10]
    true_cluster = np.repeat(np.arange(3), 10)[perm]
    for k in range(3):  # each found cluster is exactly one true cluster
        assert len(set(true_cluster[labels == k])) == 1
        members = np.flatnonzero(labels == k)
        assert reps[k] == members[np.argmin(q[perm][members])]
    assert perm[reps].tolist().count(13) == 1  # the smallest-q copy represents its cluster
    # single linkage chains: a-b and b-c closer than tol join a and c (1.6 tol apart)
    chain = np.array([[0.0, 0], [0.8, 0], [1.6, 0], [5.0, 0]])
    reps, labels = deduplicate(chain, np.zeros(4), tol=1.0)
    assert labels.tolist() == [0, 0, 0, 1] and len(reps) == 2
    assert deduplicate(np.zeros((0, 3)), np.zeros(0), 1.0)[0].shape == (0,)


def test_lstm_with_state_size_256_runs_batched():
    """LSTM-128 has n = 256, where torch 2.13's batched LU breaks; the solver must cope."""
    model = build_model(ModelConfig(cell="lstm", units=128, embed_dim=4, vocab_size=10), seed=0)
    with torch.no_grad():
        model.live_weights()["w_h"].mul_(2.0)  # non-trivial dynamics
    rng = np.random.default_rng(5)
    inits = np.concatenate([rng.uniform(-0.9, 0.9, (6, 128)), rng.uniform(-2, 2, (6, 128))], 1)
    fps = find_fixed_points(model, inits, warm_steps=3, n_modes=2)
    assert fps.n_iters_p.max() >= 1  # the Newton path (single-matrix LU at n = 256) really ran
    assert fps.n_inits == 6 and fps.frac_converged == 1.0
    assert fps.xstar_pxn.shape[1] == 256 and fps.eigvals_pxn.shape[1] == 256
    assert fps.right_vecs_pxnxm.shape == (fps.n_points, 256, 2)
    w = model.weights(torch.float64)
    x = torch.from_numpy(fps.xstar_pxn)
    resid = model.step(x, torch.zeros(fps.n_points, 4, dtype=torch.float64), w) - x
    assert resid.abs().max() < 1e-6


@pytest.mark.parametrize("n", [128, 256])
@pytest.mark.parametrize("failure", ["raises", "garbage"])
def test_newton_solve_is_correct_and_survives_a_failing_batched_lu(n, failure, monkeypatch):
    gen = torch.Generator().manual_seed(n)
    g = torch.eye(n, dtype=torch.float64) - 0.3 * torch.randn(5, n, n, generator=gen, dtype=torch.float64) / n ** 0.5
    r = torch.randn(5, n, generator=gen, dtype=torch.float64)
    expected = np.linalg.solve(g.numpy(), r.numpy()[..., None])[..., 0]
    np.testing.assert_allclose(solve_newton(g, r).numpy(), expected, atol=1e-10)
    real = torch.linalg.lu_factor_ex

    def buggy(a, **kw):  # what torch 2.13 does for batched input in some thread states
        if a.dim() == 3 and a.shape[0] > 1:
            if failure == "raises":
                raise RuntimeError("Pivots given to lu_solve must all be greater or equal to 1.")
            lu, piv, info = real(a, **kw)
            return lu, torch.ones_like(piv), info  # wrong pivots, no error
        return real(a, **kw)

    monkeypatch.setattr(torch.linalg, "lu_factor_ex", buggy)
    fac = Factored(g)
    np.testing.assert_allclose(fac.solve(r).numpy(), expected, atol=1e-10)
    np.testing.assert_allclose(fac.solve(2 * r[1:3], torch.tensor([1, 2])).numpy(), 2 * expected[1:3], atol=1e-10)
    singular = g.clone()
    singular[2] = 0.0
    assert torch.isnan(solve_newton(singular, r)[2]).all()


def test_round_trip_through_npz(tmp_path):
    model, lw = blank("tanh", units=3)
    with torch.no_grad():
        lw["w_h"].copy_(torch.eye(3) * 1.5)
    inits = np.random.default_rng(6).uniform(-1, 1, (12, 3))
    events = []
    fps = find_fixed_points(model, inits, on_progress=events.append)
    assert events and events[0]["stage"] == "fixed_points"
    # decoupled units with h = tanh(1.5 h): each coordinate of a fixed point is 0 or +-a
    a = 0.8585596366
    assert fps.frac_converged == 1.0 and fps.n_points >= 2
    np.testing.assert_allclose(np.min(np.abs(np.abs(fps.xstar_pxn)[..., None] - [0.0, a]), -1), 0, atol=1e-9)
    path = tmp_path / "fp.npz"
    np.savez(path, **fps.to_arrays(), other=np.arange(3))
    with np.load(path, allow_pickle=False) as data:
        back = FixedPoints.from_arrays(data)
    for name in ("xstar_pxn", "qstar_p", "counts_p", "is_converged_p", "is_slow_p", "is_stable_p",
                 "eigvals_pxn", "tau_pxm", "right_vecs_pxnxm", "left_vecs_pxnxm", "x_e", "n_iters_p"):
        a, b = getattr(fps, name), getattr(back, name)
        assert a.dtype == b.dtype and a.shape == b.shape
        np.testing.assert_array_equal(a, b)
    assert back.eigvals_pxn.dtype == np.complex128 and back.xstar_pxn.dtype == np.float64
    for name in ("n_inits", "frac_converged", "median_q_all", "wall_time_s", "n_spurious", "tol_q"):
        assert getattr(back, name) == getattr(fps, name) and type(getattr(back, name)) is type(getattr(fps, name))
    assert all(v.dtype != object for v in fps.to_arrays("x_").values())


def test_eigen_summary_sorted_and_adam_baseline_reduces_q():
    jac = np.array([[[0.2, 0.0, 0.0], [0.0, -0.9, 0.0], [0.0, 0.0, 0.5]]])
    vals, tau, right, left = eigen_summary(jac, n_modes=2)
    np.testing.assert_allclose(vals[0], [-0.9, 0.5, 0.2])
    np.testing.assert_allclose(tau[0], [1 / abs(np.log(0.9)), 1 / abs(np.log(0.5))])
    np.testing.assert_allclose(np.abs(right[0]), [[0, 0], [1, 0], [0, 1]], atol=1e-12)
    model, lw = blank("tanh", units=3)
    with torch.no_grad():
        lw["w_h"].copy_(torch.eye(3) * 0.5)
        lw["b_h"].fill_(0.2)
    inits = np.random.default_rng(7).uniform(-1, 1, (8, 3))
    res = adam_baseline(model, inits, lr=0.1, max_iters=100)
    start_q = 0.5 * ((np.tanh(0.5 * inits + 0.2) - inits) ** 2).sum(1)
    assert res.n_iters <= 100 and np.median(res.q_b) < 1e-2 * np.median(start_q)


def test_empty_and_single_inits_and_torch_inputs():
    model = build_model(ModelConfig(cell="lstm", units=3, embed_dim=2, vocab_size=10), seed=0)
    empty = find_fixed_points(model, np.zeros((0, 6)))
    assert empty.n_points == 0 and empty.n_inits == 0 and empty.eigvals_pxn.shape == (0, 6)
    assert FixedPoints.from_arrays(empty.to_arrays()).tau_pxm.shape == (0, 3)
    x_e = model.embed(torch.tensor([4]))[0]  # a tensor that requires grad is fine
    one = find_fixed_points(model, torch.zeros(1, 6), x_e)
    assert one.n_points == 1 and one.frac_converged == 1.0
    np.testing.assert_allclose(one.x_e, x_e.detach().numpy(), rtol=1e-6)


def test_options_and_keyword_overrides_are_the_same_settings():
    model, lw = blank("tanh", units=3)
    with torch.no_grad():
        lw["w_h"].copy_(torch.eye(3) * 1.5)
    inits = np.random.default_rng(9).uniform(-1, 1, (10, 3))
    options = SolverOptions(warm_steps=0, max_iters=7)
    by_options = find_fixed_points(model, inits, options=options)
    by_keywords = find_fixed_points(model, inits, warm_steps=0, max_iters=7)
    overridden = find_fixed_points(model, inits, None, SolverOptions(warm_steps=0, max_iters=3), max_iters=7)
    for other in (by_keywords, overridden):
        np.testing.assert_array_equal(other.xstar_pxn, by_options.xstar_pxn)
        np.testing.assert_array_equal(other.n_iters_p, by_options.n_iters_p)
    assert by_options.n_iters_p.max() <= 7
    with pytest.raises(TypeError):
        find_fixed_points(model, inits, tol=1e-3)  # not an option: a typo must not pass silently


def _strong_model(cell, gain, seed, rng_seed):
    """A 5-unit model with its recurrent weights scaled by ``gain``, one input x (1 x 3) and four states y."""
    model = build_model(ModelConfig(cell=cell, units=5, embed_dim=3, vocab_size=10), seed=seed)
    with torch.no_grad():
        model.live_weights()["w_h"].mul_(gain)
    rng = np.random.default_rng(rng_seed)
    x = torch.from_numpy(rng.standard_normal((1, 3)) * 0.5)
    return model, x, torch.from_numpy(rng.uniform(-0.8, 0.8, (4, 5))), rng


def _map_with_checked_jacobian(fixed_point_map, y, x, w):
    """fixed_point_map(y, x, w) -> (value, Jacobian): the Jacobian must be autograd's; returns the value."""
    value, jac = fixed_point_map(y, x, w)
    for i in range(len(y)):
        expected = torch.autograd.functional.jacobian(lambda v: fixed_point_map(v[None], x, w, want_jac=False)[0][0],
                                                      y[i])
        np.testing.assert_allclose(jac[i].numpy(), expected.numpy(), atol=1e-12)
    return value


def test_lstm_is_solved_on_h_alone_and_lifted_to_exact_fixed_points():
    """Phi(h) = o tanh(c*(h)) with c* = i g / (1 - f): its analytic Jacobian is exact, lift(h) = [h; c*(h)]
    keeps c at equilibrium, and the solver's points (found on h) are fixed points of the full F."""
    model, x, y, rng = _strong_model("lstm", 3.0, seed=4, rng_seed=10)
    cell, w = model.cell, model.weights(torch.float64)
    phi = _map_with_checked_jacobian(cell.reduced_step, y, x, w)
    full = cell.lift(y, x, w)
    f = model.step(full, x.expand(4, -1), w)
    np.testing.assert_allclose(f[:, 5:].numpy(), full[:, 5:].numpy(), rtol=1e-12)  # c' = f c + i g = c
    np.testing.assert_allclose(f[:, :5].numpy(), phi.numpy(), rtol=1e-12)
    np.testing.assert_array_equal(cell.reduce(full).numpy(), y.numpy())
    inits = np.concatenate([rng.uniform(-0.9, 0.9, (16, 5)), rng.uniform(-3, 3, (16, 5))], 1)
    fps = find_fixed_points(model, inits, x[0].numpy())
    assert fps.frac_converged == 1.0 and fps.xstar_pxn.shape[1] == 10 and fps.eigvals_pxn.shape[1] == 10
    xs = torch.from_numpy(fps.xstar_pxn)
    assert (model.step(xs, x.expand(len(xs), -1), w) - xs).abs().max() < 1e-12


def test_shared_anchor_factors_find_the_same_points_with_fewer_factorizations(monkeypatch):
    """Chord steps on a converged neighbour's LU factors (share_radius) change the cost, not the answer:
    the same confirmed fixed points, stability and init counts, with fewer matrices factored."""
    import core.fixed_points.search as search_mod

    model = build_model(ModelConfig(cell="gru", units=12, embed_dim=3, vocab_size=10), seed=3)
    with torch.no_grad():  # three fixed points, two of them stable
        model.live_weights()["w_h"].mul_(6.0)
    inits = np.random.default_rng(11).uniform(-0.9, 0.9, (300, model.state_size))
    factored = {"n": 0}
    real = search_mod.Factored

    class Counting(real):
        def __init__(self, g):
            factored["n"] += len(g)
            super().__init__(g)

    monkeypatch.setattr(search_mod, "Factored", Counting)
    results = {}
    for radius in (0.0, 0.3):
        factored["n"] = 0
        results[radius] = (find_fixed_points(model, inits, share_radius=radius), factored["n"])
    (plain, n_plain), (shared, n_shared) = results[0.0], results[0.3]
    assert plain.is_converged_p.sum() == 3 and plain.frac_converged > 0.9
    conv_a, conv_b = plain.xstar_pxn[plain.is_converged_p], shared.xstar_pxn[shared.is_converged_p]
    assert len(conv_a) == len(conv_b)
    dist = np.linalg.norm(conv_a[:, None] - conv_b[None], axis=2)
    assert dist.min(axis=1).max() < 1e-8
    np.testing.assert_array_equal(np.sort(plain.is_stable_p[plain.is_converged_p]),
                                  np.sort(shared.is_stable_p[shared.is_converged_p]))
    assert shared.frac_converged >= plain.frac_converged - 0.02
    assert n_shared < 0.8 * n_plain


@pytest.mark.parametrize("cell", ["gru", "ugrnn"])
def test_gated_cells_solve_newton_on_their_candidate_with_the_same_fixed_points(cell):
    """GRU and UGRNN take Newton steps on the candidate c(h) (h' = z h + (1 - z) c(h)): its analytic
    Jacobian is autograd's, and at a fixed point of F, c(h*) = h* and I - dF/dh = diag(1 - z)(I - dc/dh)."""
    model, x, y, rng = _strong_model(cell, 2.0, seed=3, rng_seed=5)
    c, w = model.cell, model.weights(torch.float64)
    _map_with_checked_jacobian(c.newton_map, y, x, w)
    fps = find_fixed_points(model, rng.uniform(-0.9, 0.9, (16, 5)), x[0].numpy())
    assert fps.frac_converged == 1.0
    xs = torch.from_numpy(fps.xstar_pxn)
    np.testing.assert_allclose(c.newton_map(xs, x, w, want_jac=False)[0].numpy(), fps.xstar_pxn, atol=1e-12)
    f, dfdh, _ = c.step_and_jacobians(xs, x, w)
    gate = torch.sigmoid((x @ w["w_x"].T + w["b_x"] + xs @ w["w_h"].T + w.get("b_h", 0.0))[:, c.units:2 * c.units]) \
        if cell == "gru" else torch.sigmoid((x @ w["w_x"].T + w["b_x"] + xs @ w["w_h"].T)[:, c.units:])
    eye = torch.eye(5, dtype=torch.float64)
    np.testing.assert_allclose((eye - dfdh).numpy(), ((1 - gate)[:, :, None] * (eye - c.newton_map(xs, x, w)[1])).numpy(),
                               atol=1e-12)


def test_a_ghost_is_stuck_at_once_and_the_flow_past_it_finds_the_fixed_point():
    """A saddle-node ghost: h1' = tanh(2 h1 + 0.5528) has a local minimum of q = 0.5 (F - h)^2 ~ 5e-5 at
    h1 = -0.717 with no root near it (its one fixed point is at h1 ~ 0.97), and h2' = tanh(0.3). Started at the
    ghost, Newton's G is singular there and LM can only descend to the minimum: the point counts as stuck
    after one LM iteration (its Gauss-Newton gradient G^T r vanishes while r does not), not after the
    progress window, and its restarts along the flow carry it past the ghost to the fixed point."""
    from core.fixed_points.search import _PROGRESS_WINDOW, Search
    model, lw = blank("tanh", units=2)
    with torch.no_grad():
        lw["w_h"].copy_(torch.tensor([[2.0, 0.0], [0.0, 0.0]]))
        lw["b_x"].copy_(torch.tensor([0.5528, 0.3]))
    ghost = np.array([[(-0.8814 - 0.5528) / 2, np.tanh(0.3)]])
    x = torch.zeros(1, 2, dtype=torch.float64)
    search = Search(model, torch.from_numpy(ghost), x, SolverOptions(warm_steps=0))
    assert 1e-5 < float(search.q[0]) < 1e-4
    for it in range(_PROGRESS_WINDOW - 1):
        search.iterate(search.active(), it)
    assert int(search.restarts[0]) == 1  # stuck within the window: restarted from further along the flow
    fps = find_fixed_points(model, ghost, warm_steps=0)
    assert fps.frac_converged == 1.0 and fps.n_points == 1
    root = fps.xstar_pxn[0, 0]
    bias = float(model.weights(torch.float64)["b_x"][0])  # 0.5528 in float32
    assert root > 0.9 and abs(np.tanh(2 * root + bias) - root) < 1e-14
