"""Per-point Gaussian log-densities, one serial kernel per covariance type.

All kernels work in the log domain through the Cholesky factor of the precision
(scikit-learn's ``precisions_cholesky_``): ``log N(x | mu, Sigma) =
-0.5 * (d log(2 pi) + ||(x - mu) @ U||^2) + sum(log diag(U))``. No inverse or
determinant is formed, so densities far below the smallest float64 (1e-308)
are still represented exactly.

Kernels are serial over the rows they are given (call them on ``X[a:b]`` for a
block); the parallel drivers in :mod:`fastgmm._kernels.estep` split rows.
"""

import numpy as np

from ._jit import jit

LOG_2PI = np.log(2.0 * np.pi)


@jit
def log_gaussian_prob_full(X, means, precisions_chol, out):
    """Log-density of every row of ``X`` under every full-covariance component.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features), float32 or float64
    means : ndarray of shape (n_components, n_features), float64
    precisions_chol : ndarray of shape (n_components, n_features, n_features), float64
        Upper-triangular factors ``U_k`` with ``precision_k = U_k @ U_k.T``.
    out : ndarray of shape (n_samples, n_components), float64
        Overwritten with ``log N(x_i | mu_k, Sigma_k)``. Serial over samples.
    """
    n_samples, n_features = X.shape
    n_components = means.shape[0]
    diff = np.empty(n_features)
    for k in range(n_components):
        log_det = 0.0
        for j in range(n_features):
            log_det += np.log(precisions_chol[k, j, j])
        const = -0.5 * n_features * LOG_2PI + log_det
        for i in range(n_samples):
            for j in range(n_features):
                diff[j] = X[i, j] - means[k, j]
            sq = 0.0
            for j in range(n_features):
                y = 0.0
                for m in range(j + 1):
                    y += diff[m] * precisions_chol[k, m, j]
                sq += y * y
            out[i, k] = const - 0.5 * sq


@jit
def log_gaussian_prob_tied(X, means, precisions_chol, out):
    """Log-density of every row of ``X`` under every component, shared covariance.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features), float32 or float64
    means : ndarray of shape (n_components, n_features), float64
    precisions_chol : ndarray of shape (n_features, n_features), float64
        Upper-triangular factor ``U`` of the shared precision.
    out : ndarray of shape (n_samples, n_components), float64
        Overwritten. Serial over samples.
    """
    n_samples, n_features = X.shape
    n_components = means.shape[0]
    diff = np.empty(n_features)
    log_det = 0.0
    for j in range(n_features):
        log_det += np.log(precisions_chol[j, j])
    const = -0.5 * n_features * LOG_2PI + log_det
    for k in range(n_components):
        for i in range(n_samples):
            for j in range(n_features):
                diff[j] = X[i, j] - means[k, j]
            sq = 0.0
            for j in range(n_features):
                y = 0.0
                for m in range(j + 1):
                    y += diff[m] * precisions_chol[m, j]
                sq += y * y
            out[i, k] = const - 0.5 * sq


@jit
def log_gaussian_prob_diag(X, means, precisions_chol, out):
    """Log-density of every row of ``X`` under every diagonal-covariance component.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features), float32 or float64
    means : ndarray of shape (n_components, n_features), float64
    precisions_chol : ndarray of shape (n_components, n_features), float64
        ``1 / sqrt(variance)`` per component and feature.
    out : ndarray of shape (n_samples, n_components), float64
        Overwritten. Serial over samples.
    """
    n_samples, n_features = X.shape
    n_components = means.shape[0]
    for k in range(n_components):
        log_det = 0.0
        for j in range(n_features):
            log_det += np.log(precisions_chol[k, j])
        const = -0.5 * n_features * LOG_2PI + log_det
        for i in range(n_samples):
            sq = 0.0
            for j in range(n_features):
                y = (X[i, j] - means[k, j]) * precisions_chol[k, j]
                sq += y * y
            out[i, k] = const - 0.5 * sq


@jit
def log_gaussian_prob_spherical(X, means, precisions_chol, out):
    """Log-density of every row of ``X`` under every spherical component.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features), float32 or float64
    means : ndarray of shape (n_components, n_features), float64
    precisions_chol : ndarray of shape (n_components,), float64
        ``1 / sqrt(variance)`` per component.
    out : ndarray of shape (n_samples, n_components), float64
        Overwritten. Serial over samples.
    """
    n_samples, n_features = X.shape
    n_components = means.shape[0]
    for k in range(n_components):
        p = precisions_chol[k]
        const = -0.5 * n_features * LOG_2PI + n_features * np.log(p)
        p2 = p * p
        for i in range(n_samples):
            sq = 0.0
            for j in range(n_features):
                y = X[i, j] - means[k, j]
                sq += y * y
            out[i, k] = const - 0.5 * sq * p2
