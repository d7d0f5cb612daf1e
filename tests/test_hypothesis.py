"""Property-based tests (hypothesis) over shapes, dtypes, covariance types and seeds.

Bounded budget: every property runs a fixed, derandomised set of examples
(``derandomize=True``, no example database), so CI is stable and fast.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

hypothesis = pytest.importorskip("hypothesis")
from gmm_testing import ATOL, COVARIANCE_TYPES, RTOL, random_params  # noqa: E402
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from hypothesis.extra import numpy as hnp  # noqa: E402

from fastgmm import ConvergenceWarning, GaussianMixture, _kernels, _reference  # noqa: E402  # noqa: E402
from fastgmm._covariance import sxx_shape  # noqa: E402
from fastgmm._validation import DataScaleWarning  # noqa: E402

BUDGET = settings(
    max_examples=25,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

covariance_types = st.sampled_from(COVARIANCE_TYPES)
dtypes = st.sampled_from([np.float64, np.float32])
seeds = st.integers(0, 2**32 - 1)


@st.composite
def problems(draw, max_samples=40, max_features=4, max_components=4):
    """(X, n_components, covariance_type): a random mixture sample, any dtype."""
    n_components = draw(st.integers(1, max_components))
    n_features = draw(st.integers(1, max_features))
    n_samples = draw(st.integers(n_components, max_samples))
    dtype = draw(dtypes)
    rng = np.random.default_rng(draw(seeds))
    centers = rng.normal(0, draw(st.sampled_from([0.5, 3.0, 10.0])), (n_components, n_features))
    labels = rng.integers(0, n_components, n_samples)
    X = (centers[labels] + rng.normal(size=(n_samples, n_features))).astype(dtype)
    return X, n_components, draw(covariance_types)


def _fit(X, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        warnings.simplefilter("ignore", DataScaleWarning)
        return GaussianMixture(**kw).fit(X)


# --------------------------------------------------------------------------- kernels vs twin
@BUDGET
@given(problem=problems(), seed=seeds, hard=st.booleans(), weighted=st.booleans())
def test_suffstats_kernel_equals_numpy_twin(problem, seed, hard, weighted):
    X, k, cov = problem
    n, d = X.shape
    rng = np.random.default_rng(seed)
    weights, means, chol, _ = random_params(rng, cov, k, d)
    sw = rng.uniform(0.1, 2.0, n) if weighted else np.empty(0)
    out = {}
    for name, mod in (("numba", _kernels), ("numpy", _reference)):
        nk, sx, sxx = np.empty(k), np.empty((k, d)), np.empty(sxx_shape(cov, k, d))
        ll = getattr(mod, f"suffstats_{cov}_parallel")(
            X, sw, weights, means, chol, hard, nk, sx, sxx
        )
        out[name] = (float(ll), nk, sx, sxx)
    fast, twin = out["numba"], out["numpy"]
    # float32 blocks are computed in float32 arithmetic (issue 3): dtype-keyed tolerance.
    f32 = X.dtype == np.float32
    rtol, atol = (RTOL[np.float32], ATOL[np.float32]) if f32 else (1e-10, 1e-9)
    np.testing.assert_allclose(fast[0], twin[0], rtol=rtol, atol=atol)
    np.testing.assert_allclose(fast[1], twin[1], rtol=rtol, atol=atol)
    np.testing.assert_allclose(fast[2], twin[2], rtol=max(rtol, 1e-9), atol=max(atol, 1e-8))
    if cov in ("full", "tied"):  # upper triangle is the contract
        iu = np.triu_indices(d)
        a, b = fast[3][..., iu[0], iu[1]], twin[3][..., iu[0], iu[1]]
    else:
        a, b = fast[3], twin[3]
    np.testing.assert_allclose(a, b, rtol=max(rtol, 1e-9), atol=max(atol, 1e-8))


@BUDGET
@given(problem=problems(), seed=seeds)
def test_e_step_kernel_equals_numpy_twin_and_resp_sums_to_one(problem, seed):
    X, k, cov = problem
    n, d = X.shape
    weights, means, chol, _ = random_params(np.random.default_rng(seed), cov, k, d)
    out = {}
    for name, mod in (("numba", _kernels), ("numpy", _reference)):
        norm, labels, log_resp = np.empty(n), np.empty(n, dtype=np.int64), np.empty((n, k))
        getattr(mod, f"e_step_{cov}_parallel")(X, weights, means, chol, norm, labels, log_resp)
        out[name] = (norm, labels, log_resp)
    (norm, labels, log_resp), twin = out["numba"], out["numpy"]
    np.testing.assert_allclose(norm, twin[0], rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(log_resp, twin[2], rtol=1e-9, atol=1e-9)
    assert np.isfinite(norm).all()
    np.testing.assert_allclose(np.exp(log_resp).sum(axis=1), 1.0, rtol=1e-12)
    np.testing.assert_array_equal(labels, np.argmax(log_resp, axis=1))


# --------------------------------------------------------------------------- estimator
@BUDGET
@given(problem=problems(), seed=st.integers(0, 1000))
def test_fit_invariants(problem, seed):
    X, k, cov = problem
    gm = _fit(X, n_components=k, covariance_type=cov, random_state=seed, max_iter=20)
    for name in ("weights_", "means_", "covariances_", "precisions_cholesky_"):
        assert np.isfinite(getattr(gm, name)).all(), name
        assert getattr(gm, name).dtype == X.dtype
    np.testing.assert_allclose(gm.weights_.sum(), 1.0, rtol=1e-5)
    log_prob = gm.score_samples(X)
    assert np.isfinite(log_prob).all() and np.isfinite(gm.lower_bound_)
    proba = gm.predict_proba(X)
    assert proba.shape == (len(X), k)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-10)
    labels = gm.predict(X)
    # predict == argmax predict_proba, except where two components tie to rounding.
    best = proba[np.arange(len(X)), labels]
    np.testing.assert_allclose(best, proba.max(axis=1), rtol=1e-12, atol=1e-15)


@BUDGET
@given(problem=problems(max_samples=60, max_components=3), seed=st.integers(0, 1000))
def test_em_never_decreases_the_log_likelihood(problem, seed):
    X, k, cov = problem
    X = X.astype(np.float64)
    try:
        gm = _fit(
            X,
            n_components=k,
            covariance_type=cov,
            random_state=seed,
            reg_covar=0.0,
            tol=0.0,
            max_iter=15,
            init_params="random",
        )
    except ValueError as err:  # reg_covar=0: a collapsing component is reported, not NaN
        assert "ill-defined empirical covariance" in str(err)
        return
    bounds = np.asarray(gm.lower_bounds_)
    assert np.isfinite(bounds).all()
    steps = np.diff(bounds)
    assert (steps >= -1e-9 * np.maximum(1.0, np.abs(bounds[1:]))).all(), steps


@BUDGET
@given(
    problem=problems(max_samples=30),
    n_samples=st.integers(1, 50),
    seed=st.integers(0, 1000),
)
def test_sample_shapes_and_dtype(problem, n_samples, seed):
    X, k, cov = problem
    gm = _fit(X, n_components=k, covariance_type=cov, random_state=0, max_iter=5)
    Xs, ys = gm.sample(n_samples, random_state=seed)
    assert Xs.shape == (n_samples, X.shape[1]) and Xs.dtype == X.dtype
    assert ys.shape == (n_samples,) and ys.dtype.kind == "i"
    assert ((ys >= 0) & (ys < k)).all()
    assert np.isfinite(Xs).all()
    np.testing.assert_array_equal(np.sort(ys), ys)  # grouped by component, like scikit-learn


@BUDGET
@given(
    X=hnp.arrays(
        np.float64,
        hnp.array_shapes(min_dims=2, max_dims=2, min_side=2, max_side=12),
        elements=st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False, width=64),
    ),
    cov=covariance_types,
)
def test_arbitrary_finite_data_never_gives_nan(X, cov):
    """Adversarial data (duplicates, constants, huge ranges): a finite fit or a clear error."""
    try:
        gm = _fit(X, n_components=2, covariance_type=cov, random_state=0, max_iter=10)
    except ValueError as err:
        # e.g. two distinct points 4e5 apart: reg_covar=1e-6 is below float64 resolution of
        # a 1e11 variance, so a rank-deficient covariance is not positive definite.
        msg = str(err)
        assert "ill-defined empirical covariance" in msg and "raise reg_covar" in msg
        assert "Component" in msg or "tied" in msg
        return
    for name in ("weights_", "means_", "covariances_", "precisions_cholesky_"):
        assert np.isfinite(getattr(gm, name)).all(), name
    assert np.isfinite(gm.score_samples(X)).all()
    np.testing.assert_allclose(gm.predict_proba(X).sum(axis=1), 1.0, rtol=1e-10)
