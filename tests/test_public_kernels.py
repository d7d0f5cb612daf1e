"""The public nopython API (fastgmm.kernels) called from user-style njit code.

User functions are compiled here with ``@numba.njit`` / ``@numba.njit(parallel=True)``
(nopython mode, no object fallback) and call the public kernels, including from
inside a ``prange``; results must equal the estimator's.
"""

import inspect
import warnings

import numba
import numpy as np
import pytest
from numba import prange

import fastgmm
from fastgmm import GaussianMixture, _reference_fit, kernels
from fastgmm._bridge import COVARIANCE_CODES, NumbaParams

COVS = ("full", "tied", "diag", "spherical")
PINNED_SIGNATURES = {
    "em_workspace_diag": ("n_rows", "n_components", "n_features"),
    "fit_em_workspace_diag": (
        "X",
        "sample_weight",
        "max_iter",
        "tol",
        "reg_covar",
        "weights",
        "means",
        "covariances",
        "precisions_chol",
        "workspace",
    ),
    "em_workspace_full": ("n_rows", "n_components", "n_features"),
    "fit_em_workspace_full": (
        "X",
        "sample_weight",
        "max_iter",
        "tol",
        "reg_covar",
        "weights",
        "means",
        "covariances",
        "precisions_chol",
        "workspace",
    ),
    "em_workspace_spherical": ("n_rows", "n_components", "n_features"),
    "fit_em_workspace_spherical": (
        "X",
        "sample_weight",
        "max_iter",
        "tol",
        "reg_covar",
        "weights",
        "means",
        "covariances",
        "precisions_chol",
        "workspace",
    ),
    "em_workspace_tied": ("n_rows", "n_components", "n_features"),
    "fit_em_workspace_tied": (
        "X",
        "sample_weight",
        "max_iter",
        "tol",
        "reg_covar",
        "weights",
        "means",
        "covariances",
        "precisions_chol",
        "workspace",
    ),
    "accumulate_diag": ("X", "sample_weight", "resp", "shift", "nk", "sx", "sxx"),
    "accumulate_full": ("X", "sample_weight", "resp", "shift", "nk", "sx", "sxx"),
    "accumulate_spherical": ("X", "sample_weight", "resp", "shift", "nk", "sx", "sxx"),
    "accumulate_tied": ("X", "sample_weight", "resp", "shift", "nk", "sx", "sxx"),
    "add_log_weights": ("log_prob", "log_weights"),
    "argmax_rows": ("a", "labels"),
    "cholesky_lower": ("a", "out"),
    "e_step_diag": (
        "X",
        "weights",
        "means",
        "precisions_chol",
        "log_prob_norm",
        "labels",
        "log_resp",
    ),
    "e_step_diag_parallel": (
        "X",
        "weights",
        "means",
        "precisions_chol",
        "log_prob_norm",
        "labels",
        "log_resp",
    ),
    "e_step_full": (
        "X",
        "weights",
        "means",
        "precisions_chol",
        "log_prob_norm",
        "labels",
        "log_resp",
    ),
    "e_step_full_parallel": (
        "X",
        "weights",
        "means",
        "precisions_chol",
        "log_prob_norm",
        "labels",
        "log_resp",
    ),
    "e_step_spherical": (
        "X",
        "weights",
        "means",
        "precisions_chol",
        "log_prob_norm",
        "labels",
        "log_resp",
    ),
    "e_step_spherical_parallel": (
        "X",
        "weights",
        "means",
        "precisions_chol",
        "log_prob_norm",
        "labels",
        "log_resp",
    ),
    "e_step_tied": (
        "X",
        "weights",
        "means",
        "precisions_chol",
        "log_prob_norm",
        "labels",
        "log_resp",
    ),
    "e_step_tied_parallel": (
        "X",
        "weights",
        "means",
        "precisions_chol",
        "log_prob_norm",
        "labels",
        "log_resp",
    ),
    "em_step_diag": (
        "X",
        "sample_weight",
        "reg_covar",
        "weights",
        "means",
        "covariances",
        "precisions_chol",
    ),
    "em_step_diag_parallel": (
        "X",
        "sample_weight",
        "reg_covar",
        "weights",
        "means",
        "covariances",
        "precisions_chol",
    ),
    "em_step_full": (
        "X",
        "sample_weight",
        "reg_covar",
        "weights",
        "means",
        "covariances",
        "precisions_chol",
    ),
    "em_step_full_parallel": (
        "X",
        "sample_weight",
        "reg_covar",
        "weights",
        "means",
        "covariances",
        "precisions_chol",
    ),
    "em_step_spherical": (
        "X",
        "sample_weight",
        "reg_covar",
        "weights",
        "means",
        "covariances",
        "precisions_chol",
    ),
    "em_step_spherical_parallel": (
        "X",
        "sample_weight",
        "reg_covar",
        "weights",
        "means",
        "covariances",
        "precisions_chol",
    ),
    "em_step_tied": (
        "X",
        "sample_weight",
        "reg_covar",
        "weights",
        "means",
        "covariances",
        "precisions_chol",
    ),
    "em_step_tied_parallel": (
        "X",
        "sample_weight",
        "reg_covar",
        "weights",
        "means",
        "covariances",
        "precisions_chol",
    ),
    "fit_em_diag": (
        "X",
        "sample_weight",
        "max_iter",
        "tol",
        "reg_covar",
        "weights",
        "means",
        "covariances",
        "precisions_chol",
    ),
    "fit_em_diag_parallel": (
        "X",
        "sample_weight",
        "max_iter",
        "tol",
        "reg_covar",
        "weights",
        "means",
        "covariances",
        "precisions_chol",
    ),
    "fit_em_full": (
        "X",
        "sample_weight",
        "max_iter",
        "tol",
        "reg_covar",
        "weights",
        "means",
        "covariances",
        "precisions_chol",
    ),
    "fit_em_full_parallel": (
        "X",
        "sample_weight",
        "max_iter",
        "tol",
        "reg_covar",
        "weights",
        "means",
        "covariances",
        "precisions_chol",
    ),
    "fit_em_spherical": (
        "X",
        "sample_weight",
        "max_iter",
        "tol",
        "reg_covar",
        "weights",
        "means",
        "covariances",
        "precisions_chol",
    ),
    "fit_em_spherical_parallel": (
        "X",
        "sample_weight",
        "max_iter",
        "tol",
        "reg_covar",
        "weights",
        "means",
        "covariances",
        "precisions_chol",
    ),
    "fit_em_tied": (
        "X",
        "sample_weight",
        "max_iter",
        "tol",
        "reg_covar",
        "weights",
        "means",
        "covariances",
        "precisions_chol",
    ),
    "fit_em_tied_parallel": (
        "X",
        "sample_weight",
        "max_iter",
        "tol",
        "reg_covar",
        "weights",
        "means",
        "covariances",
        "precisions_chol",
    ),
    "fit_many_diag": (
        "X",
        "offsets",
        "sample_weight",
        "max_iter",
        "tol",
        "reg_covar",
        "weights",
        "means",
        "covariances",
        "precisions_chol",
        "lower_bound",
        "n_iter",
        "converged",
        "status",
    ),
    "fit_many_full": (
        "X",
        "offsets",
        "sample_weight",
        "max_iter",
        "tol",
        "reg_covar",
        "weights",
        "means",
        "covariances",
        "precisions_chol",
        "lower_bound",
        "n_iter",
        "converged",
        "status",
    ),
    "fit_many_spherical": (
        "X",
        "offsets",
        "sample_weight",
        "max_iter",
        "tol",
        "reg_covar",
        "weights",
        "means",
        "covariances",
        "precisions_chol",
        "lower_bound",
        "n_iter",
        "converged",
        "status",
    ),
    "fit_many_tied": (
        "X",
        "offsets",
        "sample_weight",
        "max_iter",
        "tol",
        "reg_covar",
        "weights",
        "means",
        "covariances",
        "precisions_chol",
        "lower_bound",
        "n_iter",
        "converged",
        "status",
    ),
    "init_from_seeds_diag": (
        "X",
        "sample_weight",
        "indices",
        "reg_covar",
        "weights",
        "means",
        "covariances",
        "precisions_chol",
    ),
    "init_from_seeds_full": (
        "X",
        "sample_weight",
        "indices",
        "reg_covar",
        "weights",
        "means",
        "covariances",
        "precisions_chol",
    ),
    "init_from_seeds_spherical": (
        "X",
        "sample_weight",
        "indices",
        "reg_covar",
        "weights",
        "means",
        "covariances",
        "precisions_chol",
    ),
    "init_from_seeds_tied": (
        "X",
        "sample_weight",
        "indices",
        "reg_covar",
        "weights",
        "means",
        "covariances",
        "precisions_chol",
    ),
    "init_many_kmeanspp_diag": (
        "X",
        "offsets",
        "sample_weight",
        "first_u",
        "trial_u",
        "reg_covar",
        "weights",
        "means",
        "covariances",
        "precisions_chol",
        "status",
    ),
    "init_many_kmeanspp_full": (
        "X",
        "offsets",
        "sample_weight",
        "first_u",
        "trial_u",
        "reg_covar",
        "weights",
        "means",
        "covariances",
        "precisions_chol",
        "status",
    ),
    "init_many_kmeanspp_spherical": (
        "X",
        "offsets",
        "sample_weight",
        "first_u",
        "trial_u",
        "reg_covar",
        "weights",
        "means",
        "covariances",
        "precisions_chol",
        "status",
    ),
    "init_many_kmeanspp_tied": (
        "X",
        "offsets",
        "sample_weight",
        "first_u",
        "trial_u",
        "reg_covar",
        "weights",
        "means",
        "covariances",
        "precisions_chol",
        "status",
    ),
    "kmeans_assign": ("X", "sample_weight", "centers", "labels", "sums", "counts"),
    "kmeans_assign_parallel": ("X", "sample_weight", "centers", "labels", "sums", "counts"),
    "kmeans_plusplus": ("X", "sample_weight", "first_u", "trial_u", "centers", "indices"),
    "kmeanspp_uniforms": ("seeds", "first_u", "trial_u"),
    "log_gaussian_prob_diag": ("X", "means", "precisions_chol", "out"),
    "log_gaussian_prob_full": ("X", "means", "precisions_chol", "out"),
    "log_gaussian_prob_spherical": ("X", "means", "precisions_chol", "out"),
    "log_gaussian_prob_tied": ("X", "means", "precisions_chol", "out"),
    "m_step_diag": (
        "nk",
        "sx",
        "sxx",
        "shift",
        "reg_covar",
        "weights",
        "means",
        "covariances",
        "precisions_chol",
    ),
    "m_step_full": (
        "nk",
        "sx",
        "sxx",
        "shift",
        "reg_covar",
        "weights",
        "means",
        "covariances",
        "precisions_chol",
    ),
    "m_step_spherical": (
        "nk",
        "sx",
        "sxx",
        "shift",
        "reg_covar",
        "weights",
        "means",
        "covariances",
        "precisions_chol",
    ),
    "m_step_tied": (
        "nk",
        "sx",
        "sxx",
        "shift",
        "reg_covar",
        "weights",
        "means",
        "covariances",
        "precisions_chol",
    ),
    "normalize_log_resp": ("weighted_log_prob", "log_prob_norm"),
    "pick_component": ("weights", "u"),
    "precision_cholesky_from_covariance": ("cov", "work", "out"),
    "predict_diag": ("X", "weights", "means", "precisions_chol", "labels"),
    "predict_full": ("X", "weights", "means", "precisions_chol", "labels"),
    "predict_proba_diag": ("X", "weights", "means", "precisions_chol", "out"),
    "predict_proba_full": ("X", "weights", "means", "precisions_chol", "out"),
    "predict_proba_spherical": ("X", "weights", "means", "precisions_chol", "out"),
    "predict_proba_tied": ("X", "weights", "means", "precisions_chol", "out"),
    "predict_spherical": ("X", "weights", "means", "precisions_chol", "labels"),
    "predict_tied": ("X", "weights", "means", "precisions_chol", "labels"),
    "resp_from_log_prob": ("log_prob", "log_weights", "log_prob_norm", "sample_weight", "hard"),
    "sample_diag": ("weights", "means", "precisions_chol", "u", "z", "X", "labels"),
    "sample_diag_random": ("weights", "means", "precisions_chol", "X", "labels"),
    "sample_full": ("weights", "means", "precisions_chol", "u", "z", "X", "labels"),
    "sample_full_random": ("weights", "means", "precisions_chol", "X", "labels"),
    "sample_spherical": ("weights", "means", "precisions_chol", "u", "z", "X", "labels"),
    "sample_spherical_random": ("weights", "means", "precisions_chol", "X", "labels"),
    "sample_tied": ("weights", "means", "precisions_chol", "u", "z", "X", "labels"),
    "sample_tied_random": ("weights", "means", "precisions_chol", "X", "labels"),
    "score_one_diag": ("x", "weights", "means", "precisions_chol"),
    "score_one_full": ("x", "weights", "means", "precisions_chol"),
    "score_one_spherical": ("x", "weights", "means", "precisions_chol"),
    "score_one_tied": ("x", "weights", "means", "precisions_chol"),
    "score_samples_diag": ("X", "weights", "means", "precisions_chol", "out"),
    "score_samples_full": ("X", "weights", "means", "precisions_chol", "out"),
    "score_samples_spherical": ("X", "weights", "means", "precisions_chol", "out"),
    "score_samples_tied": ("X", "weights", "means", "precisions_chol", "out"),
    "suffstats_diag": (
        "X",
        "sample_weight",
        "weights",
        "means",
        "precisions_chol",
        "hard",
        "nk",
        "sx",
        "sxx",
    ),
    "suffstats_diag_parallel": (
        "X",
        "sample_weight",
        "weights",
        "means",
        "precisions_chol",
        "hard",
        "nk",
        "sx",
        "sxx",
    ),
    "suffstats_full": (
        "X",
        "sample_weight",
        "weights",
        "means",
        "precisions_chol",
        "hard",
        "nk",
        "sx",
        "sxx",
    ),
    "suffstats_full_parallel": (
        "X",
        "sample_weight",
        "weights",
        "means",
        "precisions_chol",
        "hard",
        "nk",
        "sx",
        "sxx",
    ),
    "suffstats_spherical": (
        "X",
        "sample_weight",
        "weights",
        "means",
        "precisions_chol",
        "hard",
        "nk",
        "sx",
        "sxx",
    ),
    "suffstats_spherical_parallel": (
        "X",
        "sample_weight",
        "weights",
        "means",
        "precisions_chol",
        "hard",
        "nk",
        "sx",
        "sxx",
    ),
    "suffstats_tied": (
        "X",
        "sample_weight",
        "weights",
        "means",
        "precisions_chol",
        "hard",
        "nk",
        "sx",
        "sxx",
    ),
    "suffstats_tied_parallel": (
        "X",
        "sample_weight",
        "weights",
        "means",
        "precisions_chol",
        "hard",
        "nk",
        "sx",
        "sxx",
    ),
}


def _kernel(name, cov):
    return getattr(kernels, f"{name}_{cov}")


@pytest.fixture
def rng():
    return np.random.default_rng(12345)


def _blobs(rng, n=120, d=2, dtype=np.float64):
    centers = np.array([[0.0] * d, [4.0] * d, [0.0] * (d - 1) + [8.0]])
    X = np.concatenate([rng.normal(c, 1.0, (n // 3, d)) for c in centers])
    return np.ascontiguousarray(X, dtype=dtype)


def _fitted(rng, cov, dtype=np.float64):
    X = _blobs(rng, dtype=dtype)
    gm = GaussianMixture(3, covariance_type=cov, random_state=0, max_iter=200).fit(X)
    return X, gm


# ----------------------------------------------------------------------------- API pins
def test_public_names_and_signatures_are_pinned():
    public = {n for n in kernels.__all__ if hasattr(getattr(kernels, n), "py_func")}
    assert public == set(PINNED_SIGNATURES)
    for name, args in PINNED_SIGNATURES.items():
        fn = getattr(kernels, name)
        assert tuple(inspect.signature(fn.py_func).parameters) == args, name
        assert fn.targetoptions["nopython"] is True, name
        # Only drivers open a parallel region; everything else is safe in a user's prange.
        is_driver = name.endswith("_parallel") or name.startswith(("fit_many_", "init_many_"))
        if not is_driver:
            assert fn.targetoptions["parallel"] is False, name
        assert fn.py_func.__doc__, name


def test_every_new_kernel_has_a_numpy_twin():
    new_modules = ("predict", "fit", "sample", "small", "batched")
    for name in PINNED_SIGNATURES:
        fn = getattr(kernels, name)
        if fn.py_func.__module__.rsplit(".", 1)[-1] in new_modules:
            twin = getattr(_reference_fit, name)
            assert tuple(inspect.signature(twin).parameters) == PINNED_SIGNATURES[name], name


# ----------------------------------------------------------------------------- user njit code
@numba.njit(parallel=True)
def user_prange(score_one, score_samples, predict, predict_proba, X, p, block):
    """Serial kernels inside a user's prange: one point per iteration (a particle
    filter's hot loop), then blocks of rows per iteration."""
    n = X.shape[0]
    k = p.weights.shape[0]
    one = np.empty(n)
    for i in prange(n):
        one[i] = score_one(X[i], p.weights, p.means, p.precisions_chol)
    log_prob = np.empty(n)
    labels = np.empty(n, dtype=np.int64)
    proba = np.empty((n, k))
    n_blocks = (n + block - 1) // block
    for b in prange(n_blocks):
        a = b * block
        e = min(a + block, n)
        score_samples(X[a:e], p.weights, p.means, p.precisions_chol, log_prob[a:e])
        predict(X[a:e], p.weights, p.means, p.precisions_chol, labels[a:e])
        predict_proba(X[a:e], p.weights, p.means, p.precisions_chol, proba[a:e])
    return one, log_prob, labels, proba


@pytest.mark.parametrize("cov", COVS)
def test_user_prange_scoring_equals_estimator(rng, cov):
    X, gm = _fitted(rng, cov)
    p = gm.to_numba()
    assert isinstance(p, NumbaParams) and p.covariance_type == COVARIANCE_CODES[cov]
    expected = gm.score_samples(X)
    one, log_prob, labels, proba = user_prange(
        _kernel("score_one", cov), _kernel("score_samples", cov), _kernel("predict", cov),
        _kernel("predict_proba", cov), X, p, 7,
    )  # fmt: skip
    np.testing.assert_allclose(one, expected, rtol=1e-13, atol=1e-13)
    np.testing.assert_allclose(log_prob, expected, rtol=1e-13, atol=1e-13)
    np.testing.assert_array_equal(labels, gm.predict(X))
    np.testing.assert_allclose(proba, gm.predict_proba(X), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-14)


@numba.njit
def user_score_points(X, p):
    out = np.empty(X.shape[0])
    for i in range(X.shape[0]):
        out[i] = kernels.score_one_full(X[i], p.weights, p.means, p.precisions_chol)
    return out


def test_float32_data_in_user_code(rng):
    X, gm = _fitted(rng, "full", dtype=np.float32)
    out = user_score_points(X, gm.to_numba())
    np.testing.assert_allclose(out, gm.score_samples(X), rtol=1e-12)


def test_e_step_serial_equals_parallel_driver_and_twin(rng):
    X, gm = _fitted(rng, "diag")
    p = gm.to_numba()
    outs = []
    for fn in (kernels.e_step_diag, kernels.e_step_diag_parallel, _reference_fit.e_step_diag):
        norm, labels, log_resp = np.empty(len(X)), np.empty(len(X), np.int64), np.empty((len(X), 3))
        fn(X, p.weights, p.means, p.precisions_chol, norm, labels, log_resp)
        outs.append((norm, labels, log_resp))
    for norm, labels, log_resp in outs[1:]:
        np.testing.assert_allclose(norm, outs[0][0], rtol=1e-14)
        np.testing.assert_array_equal(labels, outs[0][1])
        np.testing.assert_allclose(log_resp, outs[0][2], rtol=1e-12, atol=1e-13)


def test_score_one_zero_weight_component_and_far_point():
    weights = np.array([1.0, 0.0])
    means = np.array([[0.0], [5.0]])
    prec = np.array([1.0, 1.0])
    assert kernels.score_one_spherical(np.array([5.0]), weights, means, prec) == pytest.approx(
        -0.5 * np.log(2 * np.pi) - 12.5, rel=1e-15
    )
    # Far below float64's smallest density: stays finite in the log domain.
    far = kernels.score_one_spherical(np.array([1e5]), weights, means, prec)
    assert np.isfinite(far) and far == pytest.approx(-0.5 * np.log(2 * np.pi) - 0.5e10, rel=1e-12)


# ----------------------------------------------------------------------------- fitting
def _init_params(rng, X, cov, k=3):
    """The estimator's initial parameters (max_iter=0 keeps them)."""
    gm0 = GaussianMixture(k, covariance_type=cov, random_state=1, max_iter=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", fastgmm.ConvergenceWarning)
        gm0.fit(X)
    return [
        np.array(a, np.float64)
        for a in (gm0.weights_, gm0.means_, gm0.covariances_, gm0.precisions_cholesky_)
    ]


@numba.njit
def user_fit(fit_em, X, max_iter, tol, reg_covar, weights, means, covariances, precisions_chol):
    sw = np.empty(0)
    return fit_em(X, sw, max_iter, tol, reg_covar, weights, means, covariances, precisions_chol)


@pytest.mark.parametrize(
    ("cov", "parallel"),
    [(c, False) for c in COVS] + [("full", True), ("spherical", True)],  # compile budget
)
def test_user_fit_equals_estimator_from_same_init(rng, cov, parallel):
    X = _blobs(rng)
    w, m, c, p = _init_params(rng, X, cov)
    precisions = fastgmm._covariance.precisions_from_cholesky(p, cov)
    gm = GaussianMixture(
        3, covariance_type=cov, weights_init=w, means_init=m, precisions_init=precisions,
        max_iter=100, tol=1e-4,
    ).fit(X)  # fmt: skip
    fit_em = _kernel("fit_em", cov + ("_parallel" if parallel else ""))
    lb, n_iter, converged, status = user_fit(fit_em, X, 100, 1e-4, 1e-6, w, m, c, p)
    assert status == 0 and converged == gm.converged_ and n_iter == gm.n_iter_
    assert lb == pytest.approx(gm.lower_bound_, rel=1e-12)
    np.testing.assert_allclose(w, gm.weights_, rtol=1e-10)
    np.testing.assert_allclose(m, gm.means_, rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(c, gm.covariances_, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(p, gm.precisions_cholesky_, rtol=1e-9, atol=1e-10)


@numba.njit(parallel=True)
def user_fit_groups_prange(X, offsets, weights, means, covariances, precisions_chol):
    """Serial fit_em inside the user's own prange: one small mixture per group."""
    n_groups = offsets.shape[0] - 1
    lower = np.empty(n_groups)
    n_iter = np.empty(n_groups, dtype=np.int64)
    for g in prange(n_groups):
        a, b = offsets[g], offsets[g + 1]
        lb, it, conv, st = kernels.fit_em_full(
            X[a:b], np.empty(0), 50, 1e-3, 1e-6,
            weights[g], means[g], covariances[g], precisions_chol[g],
        )  # fmt: skip
        lower[g] = lb if st == 0 and conv else np.nan
        n_iter[g] = it
    return lower, n_iter


def test_serial_fit_inside_user_prange_equals_twin(rng):
    X = np.concatenate([_blobs(rng, n=60) for _ in range(4)])
    offsets = np.arange(5) * 60
    inits = [
        _init_params(rng, X[a:b], "full") for a, b in zip(offsets[:-1], offsets[1:], strict=True)
    ]
    stacked = [np.stack([ini[j] for ini in inits]) for j in range(4)]
    twin = [a.copy() for a in stacked]
    lower, n_iter = user_fit_groups_prange(X, offsets, *stacked)
    for g in range(4):
        a, b = offsets[g], offsets[g + 1]
        res = _reference_fit.fit_em_full(X[a:b], np.empty(0), 50, 1e-3, 1e-6, *(t[g] for t in twin))
        assert res[0] == pytest.approx(lower[g], rel=1e-12) and res[1] == n_iter[g]
        np.testing.assert_allclose(stacked[1][g], twin[1][g], rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("cov", COVS)
def test_em_step_and_init_from_seeds_equal_twins(rng, cov):
    X = _blobs(rng, n=45)
    sw = rng.uniform(0.5, 2.0, len(X))
    idx = np.array([0, 20, 40], dtype=np.int64)
    shape = {"full": (3, 2, 2), "tied": (2, 2), "diag": (3, 2), "spherical": (3,)}[cov]
    a = [np.empty(3), np.empty((3, 2)), np.empty(shape), np.empty(shape)]
    b = [np.empty(3), np.empty((3, 2)), np.empty(shape), np.empty(shape)]
    assert _kernel("init_from_seeds", cov)(X, sw, idx, 1e-3, *a) == 0
    assert _reference_fit.__dict__[f"init_from_seeds_{cov}"](X, sw, idx, 1e-3, *b) == 0
    for u, v in zip(a, b, strict=True):
        np.testing.assert_allclose(u, v, rtol=1e-12, atol=1e-12 * np.abs(v).max())
    np.testing.assert_allclose(a[1], X[idx], rtol=1e-12)  # seeds become the means
    ll_a, st_a = _kernel("em_step", cov)(X, sw, 1e-3, *a)
    ll_b, st_b = _reference_fit.__dict__[f"em_step_{cov}"](X, sw, 1e-3, *b)
    assert st_a == st_b == 0 and ll_a == pytest.approx(ll_b, rel=1e-12)
    for u, v in zip(a, b, strict=True):
        np.testing.assert_allclose(u, v, rtol=1e-10, atol=1e-10 * np.abs(v).max())


def test_fit_em_max_iter_zero_leaves_parameters(rng):
    X = _blobs(rng, n=30)
    w, m, c, p = _init_params(rng, X, "diag")
    before = [a.copy() for a in (w, m, c, p)]
    lb, n_iter, converged, status = kernels.fit_em_diag(X, np.empty(0), 0, 1e-3, 1e-6, w, m, c, p)
    assert lb == -np.inf and n_iter == 0 and not converged and status == 0
    for u, v in zip(before, (w, m, c, p), strict=True):
        np.testing.assert_array_equal(u, v)


def test_fit_em_reports_ill_defined_component():
    X = np.zeros((6, 2))  # collapsed data, no regularisation: singular covariance
    w, m = np.full(2, 0.5), np.array([[0.0, 0.0], [1.0, 1.0]])
    c, p = np.empty((2, 2, 2)), np.stack([np.eye(2)] * 2)
    lb, n_iter, converged, status = kernels.fit_em_full(X, np.empty(0), 10, 1e-3, 0.0, w, m, c, p)
    assert status == 1 and not converged and n_iter == 1


# ----------------------------------------------------------------------------- sampling
@numba.njit
def user_sample_seeded(sample_random, seed, weights, means, precisions_chol, n):
    np.random.seed(seed)
    X = np.empty((n, means.shape[1]))
    labels = np.empty(n, dtype=np.int64)
    sample_random(weights, means, precisions_chol, X, labels)
    return X, labels


@pytest.mark.parametrize("cov", COVS)
def test_sampling_given_draws_twin_and_seeded_stream(rng, cov):
    _, gm = _fitted(rng, cov)
    p = gm.to_numba()
    n = 50
    rs = np.random.RandomState(7)
    u = np.empty(n)
    z = np.empty((n, 2))
    for i in range(n):  # the draw order of sample_<cov>_random
        u[i] = rs.random_sample()
        z[i] = rs.standard_normal(2)
    X1, l1 = np.empty((n, 2)), np.empty(n, np.int64)
    X2, l2 = np.empty((n, 2)), np.empty(n, np.int64)
    _kernel("sample", cov)(p.weights, p.means, p.precisions_chol, u, z, X1, l1)
    _reference_fit.__dict__[f"sample_{cov}"](p.weights, p.means, p.precisions_chol, u, z, X2, l2)
    np.testing.assert_array_equal(l1, l2)
    np.testing.assert_allclose(X1, X2, rtol=1e-12, atol=1e-12)
    X3, l3 = user_sample_seeded(
        _kernel("sample", f"{cov}_random"),
        7,
        p.weights,
        p.means,
        p.precisions_chol,
        n,
    )
    np.testing.assert_array_equal(l3, l1)
    np.testing.assert_allclose(X3, X1, rtol=1e-14, atol=1e-14)


def test_sampled_moments_match_the_mixture():
    weights = np.array([0.3, 0.7])
    means = np.array([[0.0, 0.0], [3.0, -1.0]])
    covs = np.array([[[1.0, 0.6], [0.6, 2.0]], [[0.5, -0.2], [-0.2, 0.3]]])
    gm = fastgmm.from_params(weights, means, covs)
    n = 40_000
    X, labels = user_sample_seeded(
        kernels.sample_full_random, 3, *gm.to_numba()[1:3], gm.to_numba().precisions_chol, n
    )
    frac = np.bincount(labels, minlength=2) / n
    np.testing.assert_allclose(frac, weights, atol=5 * np.sqrt(0.3 * 0.7 / n))
    for k in range(2):
        Xk = X[labels == k]
        se = np.sqrt(np.diag(covs[k]) / len(Xk))
        np.testing.assert_allclose(Xk.mean(axis=0), means[k], atol=5 * se.max())
        np.testing.assert_allclose(np.cov(Xk.T), covs[k], atol=0.05)


def test_pick_component_twin_and_zero_weights():
    w = np.array([0.0, 0.25, 0.0, 0.75, 0.0])
    for u in (0.0, 0.1, 0.25, 0.2499999, 0.5, 0.999999, 1.0 - 1e-16):
        k = kernels.pick_component(w, u)
        assert k == _reference_fit.pick_component(w, u) and w[k] > 0


# ----------------------------------------------------------------------------- bridge
@pytest.mark.parametrize("cov", COVS)
def test_to_numba_from_numba_round_trip(rng, cov):
    X, gm = _fitted(rng, cov)
    p = gm.to_numba()
    for a in p[1:]:
        assert a.dtype == np.float64 and a.flags.c_contiguous
    assert not np.shares_memory(p.means, gm.means_)
    gm2 = GaussianMixture.from_numba(p, random_state=0)
    assert gm2.covariance_type == cov and gm2.n_features_in_ == 2
    np.testing.assert_allclose(gm2.score_samples(X), gm.score_samples(X), rtol=1e-13)
    np.testing.assert_allclose(gm2.precisions_, gm.precisions_, rtol=1e-12)
    gm3 = fastgmm.from_params(p.weights, p.means, covariances=p.covariances, covariance_type=cov)
    np.testing.assert_allclose(gm3.precisions_cholesky_, gm.precisions_cholesky_, rtol=1e-9)
    gm4 = fastgmm.from_params(
        p.weights, p.means, precisions_cholesky=p.precisions_chol, covariance_type=cov
    )
    np.testing.assert_allclose(gm4.covariances_, gm.covariances_, rtol=1e-9)


def test_from_params_rejects_bad_input():
    w, m = np.array([0.5, 0.5]), np.zeros((2, 2))
    with pytest.raises(ValueError, match="sum to 1"):
        fastgmm.from_params([0.5, 0.6], m, np.ones((2, 2)), covariance_type="diag")
    with pytest.raises(ValueError, match="expected \\(2, 2\\)"):
        fastgmm.from_params(w, m, np.ones(2), covariance_type="diag")
    with pytest.raises(ValueError, match="covariances, precisions_cholesky"):
        fastgmm.from_params(w, m)
    with pytest.raises(ValueError, match="Invalid covariance_type"):
        fastgmm.from_params(w, m, np.ones(2), covariance_type=7)
    with pytest.raises(ValueError, match="ill-defined"):
        fastgmm.from_params(w, m, -np.ones(2), covariance_type="spherical")
    user = np.array([0.5, 0.5])
    fastgmm.from_params(user, m, np.ones(2), covariance_type=3).weights_[0] = 9.0
    assert user[0] == 0.5  # never modifies user input
