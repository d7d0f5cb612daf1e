"""GaussianMixture behaviour: invariants, twins, reproducibility, dtypes, layouts, Iris."""

from __future__ import annotations

import pickle
import warnings

import numpy as np
import pytest
from gmm_testing import COVARIANCE_TYPES, make_blobs

from fastgmm import ConvergenceWarning, GaussianMixture, KMeans, NotFittedError
from fastgmm._datasets import load_iris
from fastgmm._metrics import best_match_accuracy

INITS = ("kmeans", "k-means++", "random", "random_from_data")


def _fit(X, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return GaussianMixture(**kw).fit(X)


@pytest.mark.parametrize("cov", COVARIANCE_TYPES)
@pytest.mark.parametrize("backend", ["numba", "numpy"])
def test_monotonic_likelihood(rng, cov, backend):
    """EM never decreases the log-likelihood (reg_covar=0, well-posed data)."""
    X, _ = make_blobs(rng, n_samples=400, n_features=3, n_components=3, spread=2.0)
    gm = _fit(
        X,
        n_components=3,
        covariance_type=cov,
        reg_covar=0.0,
        tol=0.0,
        max_iter=40,
        init_params="random",
        random_state=0,
        backend=backend,
    )
    lb = np.asarray(gm.lower_bounds_)
    assert lb.size == 40
    assert np.all(np.diff(lb) >= -1e-12 * np.abs(lb[1:]))
    assert np.diff(lb)[0] > 0


@pytest.mark.parametrize("cov", COVARIANCE_TYPES)
@pytest.mark.parametrize("init", INITS)
def test_numba_equals_numpy_twin(rng, cov, init):
    X, _ = make_blobs(rng, n_samples=3000, n_features=3, n_components=3)
    kw = dict(n_components=3, covariance_type=cov, init_params=init, random_state=1, tol=1e-6)
    a = _fit(X, backend="numba", **kw)
    b = _fit(X, backend="numpy", **kw)
    assert a.n_iter_ == b.n_iter_
    for name in ("weights_", "means_", "covariances_", "precisions_cholesky_"):
        np.testing.assert_allclose(getattr(a, name), getattr(b, name), rtol=1e-10, atol=1e-12)
    # The first bound of k-means++/random_from_data starts from reg_covar * I covariances
    # (one point per component, as in scikit-learn): |log p| ~ 1e6 amplifies rounding.
    np.testing.assert_allclose(a.lower_bounds_[0], b.lower_bounds_[0], rtol=1e-8)
    np.testing.assert_allclose(a.lower_bounds_[1:], b.lower_bounds_[1:], rtol=1e-10)
    np.testing.assert_allclose(a.score_samples(X), b.score_samples(X), rtol=1e-10)
    np.testing.assert_allclose(a.predict_proba(X), b.predict_proba(X), atol=1e-10)


@pytest.mark.parametrize("cov", COVARIANCE_TYPES)
def test_fit_predict_consistency_and_proba(rng, cov):
    X, _ = make_blobs(rng, n_samples=500)
    kw = dict(n_components=3, covariance_type=cov, random_state=0, max_iter=3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        labels = GaussianMixture(**kw).fit_predict(X)
        gm = GaussianMixture(**kw).fit(X)
    np.testing.assert_array_equal(labels, gm.predict(X))
    proba = gm.predict_proba(X)
    assert proba.shape == (500, 3)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-12)
    np.testing.assert_array_equal(proba.argmax(axis=1), gm.predict(X))
    # score is the mean of score_samples; score_samples is log of the mixture density.
    np.testing.assert_allclose(gm.score(X), gm.score_samples(X).mean(), rtol=1e-12)


def test_convergence_warning_and_converged_flag(rng):
    X, _ = make_blobs(rng)
    with pytest.warns(ConvergenceWarning, match="did not converge"):
        gm = GaussianMixture(3, max_iter=1, random_state=0).fit(X)
    assert not gm.converged_ and gm.n_iter_ == 1
    gm = GaussianMixture(3, random_state=0).fit(X)
    assert gm.converged_ and gm.n_iter_ < 100


@pytest.mark.parametrize("cov", COVARIANCE_TYPES)
def test_same_random_state_same_fit(rng, cov):
    X, _ = make_blobs(rng, n_samples=800)
    a = _fit(X, n_components=4, covariance_type=cov, random_state=7, n_init=2)
    b = _fit(X, n_components=4, covariance_type=cov, random_state=7, n_init=2)
    for name in ("weights_", "means_", "covariances_"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name))
    assert a.lower_bound_ == b.lower_bound_


@pytest.mark.parametrize("cov", COVARIANCE_TYPES)
def test_offset_invariance(rng, cov):
    """Data shifted by +1e8 gives the same covariances (statistics are centred)."""
    X, _ = make_blobs(rng, n_samples=600, spread=4.0)
    kw = dict(n_components=3, covariance_type=cov, random_state=0, max_iter=30, tol=0.0)
    a = _fit(X, **kw)
    b = _fit(X + 1e8, **kw)
    np.testing.assert_allclose(b.covariances_, a.covariances_, rtol=1e-6)
    np.testing.assert_allclose(b.means_ - 1e8, a.means_, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(b.weights_, a.weights_, rtol=1e-6)


@pytest.mark.parametrize("cov", COVARIANCE_TYPES)
def test_float32_input(rng, cov):
    X64, _ = make_blobs(rng, n_samples=600)
    X32 = X64.astype(np.float32)
    kw = dict(n_components=3, covariance_type=cov, random_state=0)
    a = _fit(X32, **kw)
    b = _fit(X64, **kw)
    for name in ("weights_", "means_", "covariances_", "precisions_", "precisions_cholesky_"):
        assert getattr(a, name).dtype == np.float32
        assert getattr(b, name).dtype == np.float64
    np.testing.assert_allclose(a.means_, b.means_, rtol=1e-3, atol=1e-3)
    np.testing.assert_allclose(a.lower_bound_, b.lower_bound_, rtol=1e-4)
    assert a.predict_proba(X32).dtype == np.float64 or a.predict_proba(X32).dtype == np.float32


def test_layouts_and_input_not_modified(rng):
    X, _ = make_blobs(rng, n_samples=300, n_features=4)
    kw = dict(n_components=3, random_state=0)
    ref = _fit(X, **kw)
    big = np.zeros((600, 8))
    big[::2, ::2] = X  # non-contiguous view
    variants = [np.asfortranarray(X), big[::2, ::2], X.tolist()]
    for Xv in variants:
        before = np.array(Xv, copy=True)
        gm = _fit(Xv, **kw)
        np.testing.assert_allclose(gm.means_, ref.means_, rtol=1e-12)
        np.testing.assert_array_equal(np.asarray(Xv), before)
    # Integer input is converted to float64.
    Xi = np.round(X * 10).astype(np.int64)
    gm = _fit(Xi, **kw)
    assert gm.means_.dtype == np.float64


def test_n_init_keeps_best_lower_bound(rng):
    X, _ = make_blobs(rng, n_samples=600, n_components=5, spread=3.0)
    singles = [
        _fit(X, n_components=5, init_params="random_from_data", random_state=rs) for rs in range(1)
    ]
    best = _fit(X, n_components=5, init_params="random_from_data", random_state=0, n_init=4)
    assert best.lower_bound_ >= singles[0].lower_bound_ - 1e-12
    assert best.lower_bound_ == pytest.approx(best.lower_bounds_[-1])


def test_warm_start_continues(rng):
    X, _ = make_blobs(rng, n_samples=500)
    full = _fit(X, n_components=3, random_state=0, max_iter=6, tol=0.0)
    ws = GaussianMixture(3, random_state=0, max_iter=3, tol=0.0, warm_start=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        ws.fit(X)
        ws.fit(X)
    np.testing.assert_allclose(ws.means_, full.means_, rtol=1e-10)
    np.testing.assert_allclose(ws.lower_bound_, full.lower_bound_, rtol=1e-12)


def test_max_iter_zero_returns_initialisation(rng):
    X, _ = make_blobs(rng)
    gm = GaussianMixture(3, max_iter=0, random_state=0).fit(X)
    assert gm.n_iter_ == 0 and gm.lower_bound_ == -np.inf and not gm.converged_
    assert np.isfinite(gm.score(X))


@pytest.mark.parametrize("cov", COVARIANCE_TYPES)
def test_sample(rng, cov):
    X, _ = make_blobs(rng, n_samples=2000, n_components=2)
    gm = _fit(X, n_components=2, covariance_type=cov, random_state=0)
    Xs, ys = gm.sample(5000)
    assert Xs.shape == (5000, 3) and ys.shape == (5000,)
    assert Xs.dtype == X.dtype
    np.testing.assert_allclose(np.bincount(ys, minlength=2) / 5000, gm.weights_, atol=0.03)
    for k in range(2):
        np.testing.assert_allclose(Xs[ys == k].mean(0), gm.means_[k], atol=0.2)
    X1, _ = gm.sample(10, random_state=3)
    X2, _ = gm.sample(10, random_state=3)
    np.testing.assert_array_equal(X1, X2)
    with pytest.raises(ValueError, match="at least one sample"):
        gm.sample(0)


@pytest.mark.parametrize("cov", COVARIANCE_TYPES)
def test_bic_aic(rng, cov):
    X, _ = make_blobs(rng, n_samples=300, n_features=3)
    gm = _fit(X, n_components=2, covariance_type=cov, random_state=0)
    n, d, k = 300, 3, 2
    cov_params = {
        "full": k * d * (d + 1) / 2,
        "tied": d * (d + 1) / 2,
        "diag": k * d,
        "spherical": k,
    }
    p = cov_params[cov] + k * d + k - 1
    ll = gm.score_samples(X).sum()
    assert gm.bic(X) == pytest.approx(-2 * ll + p * np.log(n), rel=1e-12)
    assert gm.aic(X) == pytest.approx(-2 * ll + 2 * p, rel=1e-12)


def test_not_fitted_and_params(rng):
    gm = GaussianMixture(2)
    with pytest.raises(NotFittedError, match="not fitted"):
        gm.predict(np.zeros((3, 2)))
    assert gm.get_params()["n_components"] == 2
    gm.set_params(n_components=3, covariance_type="diag")
    assert gm.n_components == 3 and gm.covariance_type == "diag"
    with pytest.raises(ValueError, match="Invalid parameter"):
        gm.set_params(nope=1)
    assert "n_components=3" in repr(gm)


def test_pickle_roundtrip(rng):
    X, _ = make_blobs(rng)
    gm = _fit(X, n_components=3, random_state=0)
    gm2 = pickle.loads(pickle.dumps(gm))
    np.testing.assert_array_equal(gm.predict(X), gm2.predict(X))


def test_kmeans_estimator(rng):
    X, y = make_blobs(rng, n_samples=600, n_components=3, spread=8.0)
    km = KMeans(3, random_state=0, n_init=3).fit(X)
    assert best_match_accuracy(y, km.labels_) > 0.95
    np.testing.assert_array_equal(km.predict(X), km.labels_)
    d = ((X[:, None, :] - km.cluster_centers_[None]) ** 2).sum(-1)
    assert km.inertia_ == pytest.approx(d.min(1).sum(), rel=1e-10)
    np.testing.assert_array_equal(km.fit_predict(X), km.labels_)
    kn = KMeans(3, random_state=0, n_init=3, backend="numpy").fit(X)
    np.testing.assert_allclose(kn.cluster_centers_, km.cluster_centers_, rtol=1e-10)


def test_iris_em_beats_kmeans():
    """The seeds' published comparison: EM (k-means init) ~0.97 versus k-means ~0.89."""
    X, y, _, _ = load_iris()
    gm = GaussianMixture(3, covariance_type="full", init_params="kmeans", random_state=0).fit(X)
    km = KMeans(3, random_state=0).fit(X)
    acc_em = best_match_accuracy(y, gm.predict(X))
    acc_km = best_match_accuracy(y, km.labels_)
    assert acc_em == pytest.approx(0.97, abs=0.01)
    assert acc_km == pytest.approx(0.89, abs=0.01)
    assert acc_em > acc_km
