"""Degenerate data: constant features, identical, duplicated and collinear points, empty components.

fastgmm keeps scikit-learn's rules (so fits stay equal to scikit-learn's):
``reg_covar`` is added to every variance, so covariances stay positive definite;
when it cannot (``reg_covar`` too small), the fit stops with scikit-learn's
message plus the component, its number of samples and the fix
(fastgmm._degenerate.ill_defined_message). Nothing returns NaN.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from gmm_testing import COVARIANCE_TYPES, make_blobs

from fastgmm import ConvergenceWarning, GaussianMixture
from fastgmm._covariance import ILL_DEFINED_MESSAGE
from fastgmm._degenerate import ill_defined_message

FITTED = ("weights_", "means_", "covariances_", "precisions_", "precisions_cholesky_")


def _fit(X, sample_weight=None, **kw):
    kw.setdefault("random_state", 0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return GaussianMixture(**kw).fit(X, sample_weight=sample_weight)


def _assert_finite(gm):
    for name in FITTED:
        assert np.isfinite(getattr(gm, name)).all(), name
    assert np.isfinite(gm.lower_bound_)


def _variances(gm):
    """Per-component, per-feature variances whatever the covariance type."""
    c = gm.covariances_
    k, d = gm.means_.shape
    if gm.covariance_type == "full":
        return np.stack([np.diag(m) for m in c])
    if gm.covariance_type == "tied":
        return np.tile(np.diag(c), (k, 1))
    if gm.covariance_type == "diag":
        return c
    return np.repeat(c[:, np.newaxis], d, axis=1)


def _sklearn_twin(gm, X, **init):
    mixture = pytest.importorskip("sklearn.mixture")
    params = {
        k: v
        for k, v in gm.get_params().items()
        if k in mixture.GaussianMixture().get_params() and k not in init
    }
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return mixture.GaussianMixture(**params, **init).fit(X)


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_constant_feature(rng, covariance_type):
    X, _ = make_blobs(rng, n_samples=120, n_features=2, n_components=2)
    X = np.column_stack([X, np.full(len(X), 3.25)])
    gm = _fit(X, n_components=2, covariance_type=covariance_type)
    _assert_finite(gm)
    np.testing.assert_array_equal(gm.means_[:, 2], 3.25)
    if covariance_type != "spherical":  # spherical averages over features
        np.testing.assert_allclose(_variances(gm)[:, 2], gm.reg_covar, rtol=1e-9)
    twin = _sklearn_twin(gm, X, means_init=gm.means_, weights_init=gm.weights_, max_iter=0)
    np.testing.assert_allclose(twin.means_, gm.means_, rtol=1e-12)


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
@pytest.mark.parametrize("init_params", ["kmeans", "k-means++", "random", "random_from_data"])
def test_all_points_identical(covariance_type, init_params):
    point = np.array([1.5, -2.0, 1e3])
    X = np.tile(point, (20, 1))
    gm = _fit(X, n_components=3, covariance_type=covariance_type, init_params=init_params)
    _assert_finite(gm)
    np.testing.assert_allclose(gm.means_, np.tile(point, (3, 1)), rtol=1e-12)
    np.testing.assert_allclose(_variances(gm), gm.reg_covar, rtol=1e-6)
    np.testing.assert_allclose(gm.weights_.sum(), 1.0, rtol=1e-12)
    proba = gm.predict_proba(X)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-12)
    # log N(x | x, reg I) = -d/2 log(2 pi reg): the closed form of the lower bound.
    expected = -0.5 * 3 * np.log(2 * np.pi * gm.reg_covar)
    np.testing.assert_allclose(gm.lower_bound_, expected, rtol=1e-6)


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_duplicated_points_equal_integer_weights(rng, covariance_type):
    """Repeating every row 3 times is the same fit as weighting every row by 3."""
    X, _ = make_blobs(rng, n_samples=90, n_features=2, n_components=3)
    init = _fit(X, n_components=3, covariance_type=covariance_type, max_iter=0)
    kw = dict(
        n_components=3,
        covariance_type=covariance_type,
        weights_init=init.weights_,
        means_init=init.means_,
        precisions_init=init.precisions_,
        max_iter=20,
        tol=0.0,
    )
    repeated = _fit(np.repeat(X, 3, axis=0), **kw)
    weighted = _fit(X, sample_weight=np.full(len(X), 3.0), **kw)
    for name in FITTED:
        np.testing.assert_allclose(getattr(repeated, name), getattr(weighted, name), rtol=1e-9)
    np.testing.assert_allclose(repeated.lower_bound_, weighted.lower_bound_, rtol=1e-12)


def test_more_components_than_distinct_points():
    X = np.repeat(np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0]]), 5, axis=0)
    for covariance_type in COVARIANCE_TYPES:
        gm = _fit(X, n_components=5, covariance_type=covariance_type)
        _assert_finite(gm)
        np.testing.assert_allclose(gm.predict_proba(X).sum(axis=1), 1.0, rtol=1e-12)


@pytest.mark.parametrize("covariance_type", ["full", "tied"])
def test_collinear_features_stay_positive_definite(rng, covariance_type):
    X, _ = make_blobs(rng, n_samples=150, n_features=2, n_components=2)
    X = np.column_stack([X, 2.0 * X[:, 0] - X[:, 1]])  # rank 2 in 3-D
    gm = _fit(X, n_components=2, covariance_type=covariance_type)
    _assert_finite(gm)
    covs = gm.covariances_.reshape(-1, 3, 3)
    assert np.linalg.eigvalsh(covs).min() >= gm.reg_covar * (1 - 1e-6)
    twin = _sklearn_twin(
        gm,
        X,
        means_init=gm.means_,
        weights_init=gm.weights_,
        precisions_init=gm.precisions_,
        max_iter=1,
    )
    step = _fit(
        X,
        n_components=2,
        covariance_type=covariance_type,
        means_init=gm.means_,
        weights_init=gm.weights_,
        precisions_init=gm.precisions_,
        max_iter=1,
    )
    np.testing.assert_allclose(step.covariances_, twin.covariances_, rtol=1e-7, atol=1e-12)


@pytest.mark.parametrize("covariance_type", ["full", "tied"])
def test_collinear_features_without_regularisation_is_a_clear_error(rng, covariance_type):
    X, _ = make_blobs(rng, n_samples=150, n_features=2, n_components=2)
    X = np.column_stack([X, 2.0 * X[:, 0] - X[:, 1]])
    with pytest.raises(ValueError) as info:
        _fit(X, n_components=2, covariance_type=covariance_type, reg_covar=0.0)
    msg = str(info.value)
    assert msg.startswith(ILL_DEFINED_MESSAGE)  # scikit-learn's words first
    assert "not positive definite with reg_covar=0" in msg
    assert "set reg_covar > 0" in msg and "lower n_components" in msg
    if covariance_type == "tied":
        assert "shared (tied) covariance" in msg


def _far_component_init(X, covariance_type):
    """Component 1 starts 1e3 away from every sample, so it receives none of them."""
    d = X.shape[1]
    means = np.stack([X.mean(axis=0), X.mean(axis=0) + 1e3])
    precisions = {
        "full": np.stack([np.eye(d)] * 2),
        "tied": np.eye(d),
        "diag": np.ones((2, d)),
        "spherical": np.ones(2),
    }[covariance_type]
    return dict(weights_init=[0.5, 0.5], means_init=means, precisions_init=precisions)


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_component_that_loses_all_its_points(rng, covariance_type):
    X, _ = make_blobs(rng, n_samples=100, n_features=2, n_components=1)
    init = _far_component_init(X, covariance_type)
    gm = _fit(X, n_components=2, covariance_type=covariance_type, max_iter=1, **init)
    _assert_finite(gm)
    # Empty component: weight ~ 1e-15, mean kept where it was, covariance reg_covar * I.
    assert gm.weights_[1] < 1e-12
    np.testing.assert_array_equal(gm.means_[1], init["means_init"][1])
    if covariance_type != "tied":
        np.testing.assert_allclose(_variances(gm)[1], gm.reg_covar, rtol=1e-12)
    np.testing.assert_allclose(gm.means_[0], X.mean(axis=0), rtol=1e-12)
    # Keeps fitting without NaN for more iterations.
    _assert_finite(_fit(X, n_components=2, covariance_type=covariance_type, **init))


@pytest.mark.parametrize("covariance_type", ["full", "diag", "spherical"])
def test_empty_component_without_regularisation_names_it(rng, covariance_type):
    X, _ = make_blobs(rng, n_samples=100, n_features=2, n_components=1)
    init = _far_component_init(X, covariance_type)
    with pytest.raises(ValueError) as info:
        _fit(X, n_components=2, covariance_type=covariance_type, reg_covar=0.0, **init)
    msg = str(info.value)
    assert msg.startswith(ILL_DEFINED_MESSAGE)
    assert "Component 1 of 2 holds 0 effective samples" in msg
    assert "lost all its samples" in msg and "set reg_covar > 0" in msg


@pytest.mark.parametrize("covariance_type", ["full", "diag", "spherical"])
def test_component_collapsing_on_one_point(rng, covariance_type):
    X, _ = make_blobs(rng, n_samples=100, n_features=2, n_components=1)
    outlier = X.mean(axis=0) + 1e3
    X = np.vstack([X, outlier])
    init = _far_component_init(X[:-1], covariance_type)
    with pytest.raises(ValueError) as info:
        _fit(X, n_components=2, covariance_type=covariance_type, reg_covar=0.0, **init)
    assert "Component 1 of 2 holds 1 effective samples" in str(info.value)
    assert "collapsed onto a single sample" in str(info.value)
    # With the default reg_covar the same data fit: the outlier gets its own tiny component.
    gm = _fit(X, n_components=2, covariance_type=covariance_type, **init)
    _assert_finite(gm)
    assert gm.predict(outlier[np.newaxis])[0] == 1
    np.testing.assert_allclose(gm.weights_[1], 1 / len(X), rtol=1e-9)


def test_ill_defined_message_with_positive_reg_covar():
    msg = ill_defined_message(2, np.array([10.0, 4.0, 0.0]), "diag", 1e-9)
    assert "Component 1 of 3 holds 4 effective samples" in msg
    assert "collinear or identical" in msg and "raise reg_covar above 1e-09" in msg
