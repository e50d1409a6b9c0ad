"""eigen_summary: eigenvalues without vectors plus inverse iteration for the slowest modes must give what a
full decomposition gives (right vectors up to phase, left vectors = rows of V^-1), and fall back to the full
decomposition where inverse iteration is ill-posed (repeated slowest eigenvalues)."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.fixed_points.spectrum import _slow_vectors, eigen_summary


def _check_against_full(jac_pxnxn, m):
    vals, tau, right, left = eigen_summary(jac_pxnxn, n_modes=m)
    for i, jac in enumerate(jac_pxnxn):
        w, vecs = np.linalg.eig(jac)
        order = np.argsort(-np.abs(w), kind="stable")
        w, vecs = w[order], vecs[:, order]
        np.testing.assert_allclose(vals[i], w, atol=1e-10)
        np.testing.assert_allclose(tau[i], 1 / np.abs(np.log(np.abs(w[:m]))), rtol=1e-8)
        inv = np.linalg.inv(vecs)
        for k in range(m):
            if w[k].imag == 0:  # real modes: the vectors themselves, up to sign
                r = right[i, :, k]
                assert np.linalg.norm(r) == pytest.approx(1.0)
                assert abs(r @ vecs[:, k].real) == pytest.approx(1.0, abs=1e-8)
                np.testing.assert_allclose(jac @ r, w[k].real * r, atol=1e-9)
                sign = np.sign(r @ vecs[:, k].real)
                np.testing.assert_allclose(left[i, :, k], sign * inv[k].real, atol=1e-7 * np.abs(inv[k]).max())
            else:  # complex modes keep the real part of a unit vector; it lies in the mode's real plane
                plane = np.stack([vecs[:, k].real, vecs[:, k].imag], 1)
                coef = np.linalg.lstsq(plane, right[i, :, k], rcond=None)[0]
                np.testing.assert_allclose(plane @ coef, right[i, :, k], atol=1e-9)


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**31 - 1), n=st.integers(2, 24), m=st.integers(1, 4))
def test_matches_the_full_decomposition_on_random_matrices(seed, n, m):
    rng = np.random.default_rng(seed)
    _check_against_full(rng.standard_normal((3, n, n)) / np.sqrt(n), min(m, n))


def test_slowest_modes_of_a_line_attractor_jacobian():
    # a Jacobian like those on a sentiment line: one eigenvalue just under 1, the rest well inside
    rng = np.random.default_rng(3)
    basis = np.linalg.qr(rng.standard_normal((20, 20)))[0] + 0.3 * rng.standard_normal((20, 20))
    jac = basis @ np.diag(np.r_[0.9995, 0.97, 0.9, np.linspace(0.5, -0.5, 17)]) @ np.linalg.inv(basis)
    _check_against_full(jac[None], 3)
    vals = eigen_summary(jac[None], 3)[0]
    assert vals[0, 0].real == pytest.approx(0.9995, abs=1e-9)
    assert _slow_vectors(jac, vals[0], 3) is not None  # found by inverse iteration, not by the fallback


def test_repeated_or_diagonal_spectra_fall_back_and_stay_right():
    jac = np.diag([0.9, 0.9, 0.5, 0.1])
    assert _slow_vectors(jac, np.array([0.9, 0.9, 0.5, 0.1], complex), 2) is None  # ill-posed: falls back
    vals, tau, right, left = eigen_summary(jac[None], 2)
    np.testing.assert_allclose(vals[0].real, [0.9, 0.9, 0.5, 0.1])
    for k in range(2):
        np.testing.assert_allclose(jac @ right[0, :, k], 0.9 * right[0, :, k], atol=1e-12)
        assert left[0, :, k] @ right[0, :, k] == pytest.approx(1.0)
    diag = np.diag([0.2, -0.9, 0.5])  # exactly singular J - lambda I: the shifted LU still finds the axes
    _check_against_full(diag[None], 2)
    assert np.abs(eigen_summary(diag[None], 2)[2][0]).round(12).tolist() == [[0, 0], [1, 0], [0, 1]]
