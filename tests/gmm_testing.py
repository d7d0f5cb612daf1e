"""Shared test helpers: tolerance table and small synthetic mixtures.

Imported by test modules as ``from gmm_testing import ...`` (a unique module name:
``benchmarks/`` has its own ``conftest.py``, so ``from conftest import`` would be
ambiguous when both folders are collected).
"""

from __future__ import annotations

import numpy as np

COVARIANCE_TYPES = ("full", "tied", "diag", "spherical")

#: dtype-keyed tolerances (stumpy's config.STUMPY_TEST_PRECISION pattern).
RTOL = {np.float64: 1e-10, np.float32: 1e-4}
ATOL = {np.float64: 1e-10, np.float32: 1e-4}


def make_blobs(rng, n_samples=300, n_features=3, n_components=3, spread=6.0, dtype=np.float64):
    """Well-separated Gaussian blobs with random (anisotropic) covariances."""
    centers = rng.normal(0.0, spread, size=(n_components, n_features))
    labels = rng.integers(0, n_components, size=n_samples)
    X = np.empty((n_samples, n_features))
    for k in range(n_components):
        idx = labels == k
        a = rng.normal(size=(n_features, n_features)) * 0.4 + np.eye(n_features)
        X[idx] = centers[k] + rng.normal(size=(idx.sum(), n_features)) @ a
    return X.astype(dtype), labels


def random_params(rng, covariance_type, n_components, n_features):
    """Random valid (weights, means, precisions_chol, precisions) in scikit-learn's shapes."""
    weights = rng.uniform(0.2, 1.0, n_components)
    weights /= weights.sum()
    means = rng.normal(0, 3, size=(n_components, n_features))

    def spd():
        a = rng.normal(size=(n_features, n_features))
        return a @ a.T + n_features * np.eye(n_features)

    if covariance_type == "full":
        precisions = np.stack([spd() for _ in range(n_components)])
        chol = np.stack([np.linalg.cholesky(p[::-1, ::-1])[::-1, ::-1] for p in precisions])
    elif covariance_type == "tied":
        precisions = spd()
        chol = np.linalg.cholesky(precisions[::-1, ::-1])[::-1, ::-1]
    elif covariance_type == "diag":
        precisions = rng.uniform(0.3, 3.0, size=(n_components, n_features))
        chol = np.sqrt(precisions)
    else:
        precisions = rng.uniform(0.3, 3.0, size=n_components)
        chol = np.sqrt(precisions)
    return weights, means, chol, precisions


def init_params_from_short_fit(X, covariance_type, random_state=0, n_components=3):
    """``*_init`` keyword arguments from a 1-iteration in-memory fit (shared starting point)."""
    import warnings

    from fastgmm import ConvergenceWarning, GaussianMixture

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        gm = GaussianMixture(
            n_components,
            covariance_type=covariance_type,
            max_iter=1,
            init_params="random_from_data",
            random_state=random_state,
        ).fit(X)
    return dict(weights_init=gm.weights_, means_init=gm.means_, precisions_init=gm.precisions_)


def assert_same_fit(a, b, rtol=1e-10):
    """Two fitted mixtures agree in parameters, lower bound, iterations and convergence."""
    np.testing.assert_allclose(a.weights_, b.weights_, rtol=rtol, atol=1e-12)
    np.testing.assert_allclose(a.means_, b.means_, rtol=rtol, atol=1e-12)
    np.testing.assert_allclose(a.covariances_, b.covariances_, rtol=rtol, atol=1e-12)
    np.testing.assert_allclose(a.lower_bound_, b.lower_bound_, rtol=rtol)
    assert a.n_iter_ == b.n_iter_
    assert a.converged_ == b.converged_
