"""Sampling from a fitted mixture in nopython mode.

A draw is ``k ~ Categorical(weights)`` by inverse CDF of a uniform ``u``, then
``x = mu_k + inv(U_k).T @ z`` with ``z`` standard normal and ``U_k`` the
precision Cholesky factor (``precision_k = U_k @ U_k.T``), so
``Cov(x) = inv(U_k @ U_k.T) = Sigma_k``: a triangular solve, no factorisation.

* ``sample_<cov>(weights, means, precisions_chol, u, z, X, labels)`` uses the
  draws you pass: fully reproducible, any random source.
* ``sample_<cov>_random(weights, means, precisions_chol, X, labels)`` draws from
  Numba's generator, per row ``u = np.random.random()`` then ``n_features`` values of
  ``np.random.standard_normal()``. Numba's generator (one per thread) reproduces
  ``numpy.random.RandomState(seed)``: call ``np.random.seed(seed)`` in your
  njit code first for a reproducible stream.

All functions are serial (safe inside a user's ``prange``).
"""

import numpy as np

from ._jit import jit


@jit
def pick_component(weights, u):
    """Component chosen by a uniform draw ``u`` in [0, 1) (inverse CDF of ``weights``).

    ``weights`` need not be normalised; a component of weight 0 is never chosen.
    """
    total = 0.0
    for k in range(weights.shape[0]):
        total += weights[k]
    target = u * total
    acc = 0.0
    last = 0
    for k in range(weights.shape[0]):
        if weights[k] > 0.0:
            last = k
            acc += weights[k]
            if acc > target:
                return k
    return last  # rounding left target == total


@jit
def _draw_row_full(k, means, precisions_chol, z, y, out):
    n_features = means.shape[1]
    for j in range(n_features):  # solve U_k.T @ y = z (U_k.T is lower triangular)
        s = z[j]
        for m in range(j):
            s -= precisions_chol[k, m, j] * y[m]
        y[j] = s / precisions_chol[k, j, j]
    for j in range(n_features):
        out[j] = means[k, j] + y[j]


@jit
def _draw_row_tied(k, means, precisions_chol, z, y, out):
    n_features = means.shape[1]
    for j in range(n_features):
        s = z[j]
        for m in range(j):
            s -= precisions_chol[m, j] * y[m]
        y[j] = s / precisions_chol[j, j]
    for j in range(n_features):
        out[j] = means[k, j] + y[j]


@jit
def _draw_row_diag(k, means, precisions_chol, z, y, out):
    for j in range(means.shape[1]):
        out[j] = means[k, j] + z[j] / precisions_chol[k, j]


@jit
def _draw_row_spherical(k, means, precisions_chol, z, y, out):
    for j in range(means.shape[1]):
        out[j] = means[k, j] + z[j] / precisions_chol[k]


@jit
def sample_full(weights, means, precisions_chol, u, z, X, labels):
    """Draw ``X.shape[0]`` points from a full-covariance mixture, given the random draws.

    Parameters
    ----------
    weights : ndarray of shape (n_components,), float64
    means : ndarray of shape (n_components, n_features), float64
    precisions_chol : ndarray of shape (n_components, n_features, n_features), float64
        (``(n_features, n_features)`` tied, ``(n_components, n_features)`` diag,
        ``(n_components,)`` spherical for the other variants.)
    u : ndarray of shape (n_samples,)
        Uniform draws in [0, 1) choosing the components.
    z : ndarray of shape (n_samples, n_features)
        Standard normal draws.
    X : ndarray of shape (n_samples, n_features), float32 or float64, overwritten
    labels : ndarray of shape (n_samples,), int64, overwritten with the components
    """
    y = np.empty(means.shape[1])
    for i in range(X.shape[0]):
        k = pick_component(weights, u[i])
        labels[i] = k
        _draw_row_full(k, means, precisions_chol, z[i], y, X[i])


@jit
def sample_full_random(weights, means, precisions_chol, X, labels):
    """Draw ``X.shape[0]`` points from a full-covariance mixture with Numba's generator.

    Per row: one ``np.random.random()``, then ``n_features`` standard normals.
    Seed with ``np.random.seed(seed)`` inside your njit code; the stream then
    equals ``numpy.random.RandomState(seed)``'s. Shapes as in :func:`sample_full`.
    """
    n_features = means.shape[1]
    y = np.empty(n_features)
    z = np.empty(n_features)
    for i in range(X.shape[0]):
        u = np.random.random()
        for j in range(n_features):
            z[j] = np.random.standard_normal()
        k = pick_component(weights, u)
        labels[i] = k
        _draw_row_full(k, means, precisions_chol, z, y, X[i])


@jit
def sample_tied(weights, means, precisions_chol, u, z, X, labels):
    """Draw points from a tied mixture, given the draws; see :func:`sample_full`."""
    y = np.empty(means.shape[1])
    for i in range(X.shape[0]):
        k = pick_component(weights, u[i])
        labels[i] = k
        _draw_row_tied(k, means, precisions_chol, z[i], y, X[i])


@jit
def sample_tied_random(weights, means, precisions_chol, X, labels):
    """Draw from a tied mixture with Numba's generator; see :func:`sample_full_random`."""
    n_features = means.shape[1]
    y = np.empty(n_features)
    z = np.empty(n_features)
    for i in range(X.shape[0]):
        u = np.random.random()
        for j in range(n_features):
            z[j] = np.random.standard_normal()
        k = pick_component(weights, u)
        labels[i] = k
        _draw_row_tied(k, means, precisions_chol, z, y, X[i])


@jit
def sample_diag(weights, means, precisions_chol, u, z, X, labels):
    """Draw points from a diag mixture, given the draws; see :func:`sample_full`."""
    y = np.empty(means.shape[1])
    for i in range(X.shape[0]):
        k = pick_component(weights, u[i])
        labels[i] = k
        _draw_row_diag(k, means, precisions_chol, z[i], y, X[i])


@jit
def sample_diag_random(weights, means, precisions_chol, X, labels):
    """Draw from a diag mixture with Numba's generator; see :func:`sample_full_random`."""
    n_features = means.shape[1]
    y = np.empty(n_features)
    z = np.empty(n_features)
    for i in range(X.shape[0]):
        u = np.random.random()
        for j in range(n_features):
            z[j] = np.random.standard_normal()
        k = pick_component(weights, u)
        labels[i] = k
        _draw_row_diag(k, means, precisions_chol, z, y, X[i])


@jit
def sample_spherical(weights, means, precisions_chol, u, z, X, labels):
    """Draw points from a spherical mixture, given the draws; see :func:`sample_full`."""
    y = np.empty(means.shape[1])
    for i in range(X.shape[0]):
        k = pick_component(weights, u[i])
        labels[i] = k
        _draw_row_spherical(k, means, precisions_chol, z[i], y, X[i])


@jit
def sample_spherical_random(weights, means, precisions_chol, X, labels):
    """Draw from a spherical mixture with Numba's generator; see :func:`sample_full_random`."""
    n_features = means.shape[1]
    y = np.empty(n_features)
    z = np.empty(n_features)
    for i in range(X.shape[0]):
        u = np.random.random()
        for j in range(n_features):
            z[j] = np.random.standard_normal()
        k = pick_component(weights, u)
        labels[i] = k
        _draw_row_spherical(k, means, precisions_chol, z, y, X[i])
