"""Per-point Gaussian log-densities, one serial kernel per covariance type.

All kernels work in the log domain through the Cholesky factor of the precision
(scikit-learn's ``precisions_cholesky_``): ``log N(x | mu, Sigma) =
-0.5 * (d log(2 pi) + ||(x - mu) @ U||^2) + sum(log diag(U))``. No inverse or
determinant is formed, so densities far below the smallest float64 (1e-308)
are still represented exactly.

Kernels are serial over the rows they are given (call them on ``X[a:b]`` for a
block); the parallel drivers in :mod:`fastgmm._kernels.estep` split rows.
Internally rows go through the transposed blocks of :mod:`fastgmm._kernels._blocked`
(inner loops over points, vectorised), the same code the fused fit runs.
"""

import numpy as np

from ._blocked import (
    block_rows_for,
    const_diag,
    const_full,
    const_spherical,
    const_tied,
    load_transposed,
    log_prob_diag_T,
    log_prob_full_T,
    log_prob_spherical_T,
    log_prob_tied_T,
)
from ._jit import jit

LOG_2PI = np.log(2.0 * np.pi)


@jit
def _scatter_T(lpT, nb, a, out):
    for i in range(nb):
        for k in range(lpT.shape[0]):
            out[a + i, k] = lpT[k, i]


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
    block = block_rows_for(n_features)
    nbuf = min(block, n_samples)
    const = np.empty(n_components)
    const_full(precisions_chol, np.zeros(n_components), const)
    XT = np.empty((n_features, nbuf))
    sq = np.empty(nbuf)
    lpT = np.empty((n_components, nbuf))
    dT = np.empty((n_features, nbuf))
    y = np.empty((2, nbuf))
    for a in range(0, n_samples, block):
        nb = min(block, n_samples - a)
        load_transposed(X, a, nb, XT)
        log_prob_full_T(XT, nb, means, precisions_chol, const, lpT, dT, y, sq)
        _scatter_T(lpT, nb, a, out)


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
    block = block_rows_for(n_features)
    nbuf = min(block, n_samples)
    const = np.empty(n_components)
    const_tied(precisions_chol, np.zeros(n_components), const)
    XT = np.empty((n_features, nbuf))
    sq = np.empty(nbuf)
    lpT = np.empty((n_components, nbuf))
    dT = np.empty((n_features, nbuf))
    y = np.empty((2, nbuf))
    for a in range(0, n_samples, block):
        nb = min(block, n_samples - a)
        load_transposed(X, a, nb, XT)
        log_prob_tied_T(XT, nb, means, precisions_chol, const, lpT, dT, y, sq)
        _scatter_T(lpT, nb, a, out)


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
    block = block_rows_for(n_features)
    nbuf = min(block, n_samples)
    const = np.empty(n_components)
    const_diag(precisions_chol, np.zeros(n_components), const)
    XT = np.empty((n_features, nbuf))
    sq = np.empty(nbuf)
    lpT = np.empty((n_components, nbuf))
    for a in range(0, n_samples, block):
        nb = min(block, n_samples - a)
        load_transposed(X, a, nb, XT)
        log_prob_diag_T(XT, nb, means, precisions_chol, const, lpT, sq)
        _scatter_T(lpT, nb, a, out)


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
    block = block_rows_for(n_features)
    nbuf = min(block, n_samples)
    const = np.empty(n_components)
    const_spherical(precisions_chol, n_features, np.zeros(n_components), const)
    XT = np.empty((n_features, nbuf))
    sq = np.empty(nbuf)
    lpT = np.empty((n_components, nbuf))
    for a in range(0, n_samples, block):
        nb = min(block, n_samples - a)
        load_transposed(X, a, nb, XT)
        log_prob_spherical_T(XT, nb, means, precisions_chol, const, lpT, sq)
        _scatter_T(lpT, nb, a, out)
