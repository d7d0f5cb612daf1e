"""M-step: new weights, means, covariances and precision factors from statistics.

Inputs are the shifted statistics of :mod:`fastgmm._kernels.suffstats`
(``nk``, ``sx = sum r (x - c)``, ``sxx = sum r (x - c)(x - c)^T``, upper triangle)
and the shift ``c`` they were taken around. As in scikit-learn,
``10 * eps`` is added to every ``nk`` (so an empty component gets a finite mean)
and ``reg_covar`` is added to every variance.

Every kernel returns a status: ``0`` on success, otherwise ``k + 1`` for the
first component whose covariance is not positive definite (``1`` for tied).
The caller turns that into a clear error; kernels never raise.
"""

import numpy as np

from ._jit import jit
from .linalg import precision_cholesky_from_covariance

NK_EPS = 10.0 * np.finfo(np.float64).eps


@jit
def _weights_from_nk(nk, weights):
    total = 0.0
    for k in range(nk.shape[0]):
        total += nk[k] + NK_EPS
    for k in range(nk.shape[0]):
        weights[k] = (nk[k] + NK_EPS) / total


@jit
def m_step_full(nk, sx, sxx, shift, reg_covar, weights, means, covariances, precisions_chol):
    """M-step for full covariances.

    Parameters
    ----------
    nk : ndarray of shape (n_components,)
    sx : ndarray of shape (n_components, n_features)
    sxx : ndarray of shape (n_components, n_features, n_features), upper triangle read
    shift : ndarray of shape (n_components, n_features)
    reg_covar : float
    weights : ndarray of shape (n_components,), overwritten
    means : ndarray of shape (n_components, n_features), overwritten (may alias ``shift``)
    covariances : ndarray of shape (n_components, n_features, n_features), overwritten
    precisions_chol : ndarray of shape (n_components, n_features, n_features), overwritten

    Returns
    -------
    status : int
        0, or ``k + 1`` for the first non-positive-definite covariance.
    """
    n_components, n_features = sx.shape
    _weights_from_nk(nk, weights)
    d = np.empty(n_features)
    work = np.empty((n_features, n_features))
    status = 0
    for k in range(n_components):
        n = nk[k] + NK_EPS
        for a in range(n_features):
            d[a] = sx[k, a] / n
        for a in range(n_features):
            for b in range(a, n_features):
                v = sxx[k, a, b] / n - d[a] * d[b]
                covariances[k, a, b] = v
                covariances[k, b, a] = v
            covariances[k, a, a] += reg_covar
            means[k, a] = shift[k, a] + d[a]
        if status == 0 and not precision_cholesky_from_covariance(
            covariances[k], work, precisions_chol[k]
        ):
            status = k + 1
    return status


@jit
def m_step_tied(nk, sx, sxx, shift, reg_covar, weights, means, covariances, precisions_chol):
    """M-step for one covariance shared by all components.

    ``sxx``, ``covariances`` and ``precisions_chol`` have shape
    (n_features, n_features); other shapes as in :func:`m_step_full`.
    """
    n_components, n_features = sx.shape
    _weights_from_nk(nk, weights)
    total = 0.0
    for a in range(n_features):
        for b in range(a, n_features):
            covariances[a, b] = sxx[a, b]
    for k in range(n_components):
        n = nk[k] + NK_EPS
        total += n
        for a in range(n_features):
            da = sx[k, a] / n
            for b in range(a, n_features):
                covariances[a, b] -= n * da * (sx[k, b] / n)
    for k in range(n_components):
        n = nk[k] + NK_EPS
        for a in range(n_features):
            means[k, a] = shift[k, a] + sx[k, a] / n
    for a in range(n_features):
        for b in range(a, n_features):
            v = covariances[a, b] / total
            covariances[a, b] = v
            covariances[b, a] = v
        covariances[a, a] += reg_covar
    work = np.empty((n_features, n_features))
    if not precision_cholesky_from_covariance(covariances, work, precisions_chol):
        return 1
    return 0


@jit
def m_step_diag(nk, sx, sxx, shift, reg_covar, weights, means, covariances, precisions_chol):
    """M-step for diagonal covariances.

    ``sxx``, ``covariances`` and ``precisions_chol`` have shape
    (n_components, n_features); other shapes as in :func:`m_step_full`.
    """
    n_components, n_features = sx.shape
    _weights_from_nk(nk, weights)
    status = 0
    for k in range(n_components):
        n = nk[k] + NK_EPS
        for a in range(n_features):
            d = sx[k, a] / n
            v = sxx[k, a] / n - d * d + reg_covar
            covariances[k, a] = v
            means[k, a] = shift[k, a] + d
            if v > 0.0:
                precisions_chol[k, a] = 1.0 / np.sqrt(v)
            elif status == 0:
                status = k + 1
    return status


@jit
def m_step_spherical(nk, sx, sxx, shift, reg_covar, weights, means, covariances, precisions_chol):
    """M-step for one variance per component (the mean of the diagonal variances).

    ``sxx``, ``covariances`` and ``precisions_chol`` have shape (n_components,);
    other shapes as in :func:`m_step_full`.
    """
    n_components, n_features = sx.shape
    _weights_from_nk(nk, weights)
    status = 0
    for k in range(n_components):
        n = nk[k] + NK_EPS
        dd = 0.0
        for a in range(n_features):
            d = sx[k, a] / n
            dd += d * d
            means[k, a] = shift[k, a] + d
        v = (sxx[k] / n - dd) / n_features + reg_covar
        covariances[k] = v
        if v > 0.0:
            precisions_chol[k] = 1.0 / np.sqrt(v)
        elif status == 0:
            status = k + 1
    return status
