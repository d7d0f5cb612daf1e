"""Sample weights: integer weights == repeated rows, zero weights == dropped rows (issue 8)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from gmm_testing import COVARIANCE_TYPES, make_blobs

from fastgmm import ConvergenceWarning, GaussianMixture

RTOL = 1e-10
ATOL = 1e-10


def _init(X, cov, k):
    """Fixed initial parameters (from the data) shared by the fits being compared."""
    n_features = X.shape[1]
    means = X[np.linspace(0, X.shape[0] - 1, k).astype(int)]
    precisions = {
        "full": np.stack([np.eye(n_features)] * k),
        "tied": np.eye(n_features),
        "diag": np.ones((k, n_features)),
        "spherical": np.ones(k),
    }[cov]
    return {"weights_init": np.full(k, 1.0 / k), "means_init": means, "precisions_init": precisions}


def _fit(X, cov, init, sample_weight=None, **kw):
    gm = GaussianMixture(3, covariance_type=cov, tol=1e-9, max_iter=30, **init, **kw)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return gm.fit(X, sample_weight=sample_weight)


def _assert_same_fit(a, b):
    for name in ("weights_", "means_", "covariances_", "precisions_cholesky_"):
        np.testing.assert_allclose(getattr(a, name), getattr(b, name), rtol=RTOL, atol=ATOL)
    np.testing.assert_allclose(a.lower_bound_, b.lower_bound_, rtol=RTOL)
    assert a.n_iter_ == b.n_iter_
    assert a.converged_ == b.converged_


@pytest.fixture
def data(rng):
    X, _ = make_blobs(rng, n_samples=150, n_features=3, n_components=3, spread=3.0)
    return X


@pytest.mark.parametrize("cov", COVARIANCE_TYPES)
@pytest.mark.parametrize("backend", ["numba", "numpy"])
@pytest.mark.parametrize("assignment", ["soft", "hard"])
def test_integer_weights_equal_repeated_rows(rng, data, cov, backend, assignment):
    w = rng.integers(1, 4, size=data.shape[0])
    init = _init(data, cov, 3)
    kw = {"backend": backend, "assignment": assignment}
    weighted = _fit(data, cov, init, sample_weight=w, **kw)
    repeated = _fit(np.repeat(data, w, axis=0), cov, init, **kw)
    _assert_same_fit(weighted, repeated)
    X_rep = np.repeat(data, w, axis=0)
    np.testing.assert_allclose(weighted.score(data, sample_weight=w), weighted.score(X_rep), RTOL)
    np.testing.assert_allclose(weighted.bic(data, sample_weight=w), weighted.bic(X_rep), RTOL)
    np.testing.assert_allclose(weighted.aic(data, sample_weight=w), weighted.aic(X_rep), RTOL)


@pytest.mark.parametrize("cov", COVARIANCE_TYPES)
@pytest.mark.parametrize("stopping", ["lower_bound", "resp_change"])
def test_zero_weights_equal_dropped_rows(rng, data, cov, stopping):
    w = rng.uniform(0.5, 2.0, size=data.shape[0])
    w[rng.random(data.shape[0]) < 0.3] = 0.0
    keep = w > 0
    init = _init(data[keep], cov, 3)
    weighted = _fit(data, cov, init, sample_weight=w, stopping=stopping)
    dropped = _fit(data[keep], cov, init, sample_weight=w[keep], stopping=stopping)
    _assert_same_fit(weighted, dropped)
    np.testing.assert_allclose(
        weighted.bic(data, sample_weight=w), weighted.bic(data[keep], sample_weight=w[keep]), RTOL
    )


@pytest.mark.parametrize("cov", COVARIANCE_TYPES)
def test_weighted_fit_matches_numpy_twin(rng, data, cov):
    w = rng.uniform(0.0, 3.0, size=data.shape[0])
    init = _init(data, cov, 3)
    _assert_same_fit(
        _fit(data, cov, init, sample_weight=w, backend="numba"),
        _fit(data, cov, init, sample_weight=w, backend="numpy"),
    )


def test_weighted_kmeans_init_equals_twin(rng, data):
    """The default k-means initialiser takes the weights too (same result on both backends)."""
    w = rng.uniform(0.0, 3.0, size=data.shape[0])
    fits = [
        GaussianMixture(3, random_state=0, backend=b).fit(data, sample_weight=w)
        for b in ("numba", "numpy")
    ]
    _assert_same_fit(*fits)


def test_unweighted_bic_is_scikit_learn_formula(data):
    gm = GaussianMixture(2, random_state=0).fit(data)
    n = data.shape[0]
    expected = -2.0 * gm.score(data) * n + gm._n_parameters() * np.log(n)
    assert gm.bic(data) == expected
    assert gm.bic(data, sample_weight=np.ones(n)) == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize(
    "bad, error",
    [(-1.0, ValueError), (np.nan, ValueError), ("a", TypeError)],
)
def test_bad_weights_in_bic_raise(data, bad, error):
    gm = GaussianMixture(2, random_state=0).fit(data)
    w = np.ones(data.shape[0], dtype=object if isinstance(bad, str) else float)
    w[0] = bad
    with pytest.raises(error, match="sample_weight"):
        gm.bic(data, sample_weight=w)
