"""EM iterations and complete EM fits from given initial parameters, in nopython mode.

* ``em_step_<cov>``: one fused E+M iteration, serial (safe inside a user's
  ``prange``); parameters are updated in place.
* ``fit_em_<cov>``: EM until convergence or ``max_iter``, serial, in place.
* ``*_parallel``: the same over the row-parallel statistics drivers of
  :mod:`fastgmm._kernels.suffstats` (bitwise identical for any thread count, and
  the same arithmetic as :class:`fastgmm.GaussianMixture` with the numba backend).
  Never call a ``*_parallel`` function inside your own ``prange``.
* ``init_from_seeds_<cov>``: initial parameters from ``n_components`` seed rows
  (the estimator's ``"k-means++"`` initialisation: one-hot responsibilities on
  the seeds, statistics centred on the column means, then an M-step).

Convergence follows the estimator (and scikit-learn): the lower bound of an
iteration is the weighted mean ``log p(x)`` under the parameters *before* its
M-step; EM stops after the first iteration whose lower bound changed by less
than ``tol`` (the returned parameters include that iteration's M-step).

Every function returns a ``status``: 0 on success, otherwise ``k + 1`` for the
first component whose covariance was not positive definite (the parameters are
then partially updated and must not be used).
"""

import numpy as np

from ._jit import jit
from .mstep import m_step_diag, m_step_full, m_step_spherical, m_step_tied
from .suffstats import (
    accumulate_diag,
    accumulate_full,
    accumulate_spherical,
    accumulate_tied,
    suffstats_diag,
    suffstats_diag_parallel,
    suffstats_full,
    suffstats_full_parallel,
    suffstats_spherical,
    suffstats_spherical_parallel,
    suffstats_tied,
    suffstats_tied_parallel,
)


@jit
def _sxx_zeros_full(n_components, n_features):
    return np.zeros((n_components, n_features, n_features))


@jit
def _sxx_zeros_tied(n_components, n_features):
    return np.zeros((n_features, n_features))


@jit
def _sxx_zeros_diag(n_components, n_features):
    return np.zeros((n_components, n_features))


@jit
def _sxx_zeros_spherical(n_components, n_features):
    return np.zeros(n_components)


@jit
def total_weight(n_samples, sample_weight):
    """Sum of the sample weights (``n_samples`` when ``sample_weight`` is empty)."""
    if sample_weight.shape[0] == 0:
        return float(n_samples)
    return sample_weight.sum()


@jit
def column_means(X, out):
    """Write the unweighted mean of every column of ``X`` into ``out`` (float64); serial."""
    n_samples, n_features = X.shape
    for j in range(n_features):
        out[j] = 0.0
    for i in range(n_samples):
        for j in range(n_features):
            out[j] += X[i, j]
    for j in range(n_features):
        out[j] /= n_samples


@jit
def _lower_bound_step(lower_bound, ll, tw, tol):
    """Return the new lower bound and whether it changed by less than ``tol``."""
    new = ll / tw
    return new, abs(new - lower_bound) < tol


# --------------------------------------------------------------------------- full


@jit
def em_step_full(X, sample_weight, reg_covar, weights, means, covariances, precisions_chol):
    """Run one serial EM iteration, full covariances; parameters updated in place.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features), float32 or float64
    sample_weight : ndarray of shape (n_samples,) or (0,), float64
        Empty means unweighted.
    reg_covar : float
        Added to every variance.
    weights : ndarray of shape (n_components,), float64, overwritten
    means : ndarray of shape (n_components, n_features), float64, overwritten
    covariances : ndarray of shape (n_components, n_features, n_features), float64
        Overwritten (``(n_features, n_features)`` for tied, ``(n_components, n_features)``
        for diag, ``(n_components,)`` for spherical; same for ``precisions_chol``).
    precisions_chol : ndarray of shape (n_components, n_features, n_features), float64
        Read for the E-step, then overwritten.

    Returns
    -------
    weighted_log_likelihood : float
        ``sum_i w_i log p(x_i)`` under the parameters *before* the update.
    status : int
        0, or ``k + 1`` for the first non-positive-definite covariance.
    """
    n_components, n_features = means.shape
    nk = np.zeros(n_components)
    sx = np.zeros((n_components, n_features))
    sxx = _sxx_zeros_full(n_components, n_features)
    ll = suffstats_full(X, sample_weight, weights, means, precisions_chol, False, nk, sx, sxx)
    status = m_step_full(
        nk, sx, sxx, means, reg_covar, weights, means, covariances, precisions_chol
    )
    return ll, status


@jit
def fit_em_full(
    X, sample_weight, max_iter, tol, reg_covar, weights, means, covariances, precisions_chol
):
    """Run serial EM from the given parameters until convergence or ``max_iter``, full.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features), float32 or float64
    sample_weight : ndarray of shape (n_samples,) or (0,), float64
    max_iter : int
        Maximum number of EM iterations (0 leaves the parameters untouched).
    tol : float
        Stop after the first iteration whose lower bound changed by less than ``tol``.
    reg_covar : float
    weights, means, covariances, precisions_chol : ndarray, float64
        Initial parameters on entry (``covariances`` is only written), fitted
        parameters on exit; shapes as in :func:`em_step_full`.

    Returns
    -------
    lower_bound : float
        Weighted mean ``log p(x)`` at the last iteration (``-inf`` if ``max_iter == 0``).
    n_iter : int
    converged : bool
    status : int
        0, or ``k + 1`` for the first non-positive-definite covariance.
    """
    tw = total_weight(X.shape[0], sample_weight)
    lower_bound = -np.inf
    converged = False
    status = 0
    n_iter = 0
    for it in range(1, max_iter + 1):
        n_iter = it
        ll, status = em_step_full(
            X, sample_weight, reg_covar, weights, means, covariances, precisions_chol
        )
        lower_bound, converged = _lower_bound_step(lower_bound, ll, tw, tol)
        if status != 0:
            converged = False
            break
        if converged:
            break
    return lower_bound, n_iter, converged, status


@jit
def em_step_full_parallel(
    X, sample_weight, reg_covar, weights, means, covariances, precisions_chol
):
    """Run one row-parallel EM iteration, full; see :func:`em_step_full`."""
    n_components, n_features = means.shape
    nk = np.zeros(n_components)
    sx = np.zeros((n_components, n_features))
    sxx = _sxx_zeros_full(n_components, n_features)
    ll = suffstats_full_parallel(
        X, sample_weight, weights, means, precisions_chol, False, nk, sx, sxx
    )
    status = m_step_full(
        nk, sx, sxx, means, reg_covar, weights, means, covariances, precisions_chol
    )
    return ll, status


@jit
def fit_em_full_parallel(
    X, sample_weight, max_iter, tol, reg_covar, weights, means, covariances, precisions_chol
):
    """Run row-parallel EM to convergence, full; see :func:`fit_em_full`."""
    tw = total_weight(X.shape[0], sample_weight)
    lower_bound = -np.inf
    converged = False
    status = 0
    n_iter = 0
    for it in range(1, max_iter + 1):
        n_iter = it
        ll, status = em_step_full_parallel(
            X, sample_weight, reg_covar, weights, means, covariances, precisions_chol
        )
        lower_bound, converged = _lower_bound_step(lower_bound, ll, tw, tol)
        if status != 0:
            converged = False
            break
        if converged:
            break
    return lower_bound, n_iter, converged, status


@jit
def init_from_seeds_full(
    X, sample_weight, indices, reg_covar, weights, means, covariances, precisions_chol
):
    """Set initial parameters (full) from one-hot responsibilities on rows ``indices``.

    The estimator's ``"k-means++"`` / ``"random_from_data"`` initialisation:
    statistics of the seed rows only, centred on the column means of ``X``, then
    an M-step. Serial.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
    sample_weight : ndarray of shape (n_samples,) or (0,)
    indices : ndarray of shape (n_components,), int64
        Row of ``X`` seeding each component (e.g. from :func:`kmeans_plusplus`).
    reg_covar : float
    weights, means, covariances, precisions_chol : ndarray, float64, overwritten
        Shapes as in :func:`em_step_full`.

    Returns
    -------
    status : int
    """
    n_components, n_features = means.shape
    center = np.empty(n_features)
    column_means(X, center)
    shift = np.empty((n_components, n_features))
    seeds = np.empty((n_components, n_features))
    resp = np.zeros((n_components, n_components))
    sw = np.empty(n_components if sample_weight.shape[0] > 0 else 0)
    for k in range(n_components):
        for j in range(n_features):
            shift[k, j] = center[j]
            seeds[k, j] = X[indices[k], j]
        resp[k, k] = 1.0
        if sw.shape[0] > 0:
            sw[k] = sample_weight[indices[k]]
    nk = np.zeros(n_components)
    sx = np.zeros((n_components, n_features))
    sxx = _sxx_zeros_full(n_components, n_features)
    accumulate_full(seeds, sw, resp, shift, nk, sx, sxx)
    return m_step_full(nk, sx, sxx, shift, reg_covar, weights, means, covariances, precisions_chol)


# --------------------------------------------------------------------------- tied


@jit
def em_step_tied(X, sample_weight, reg_covar, weights, means, covariances, precisions_chol):
    """Run one serial EM iteration, tied; see :func:`em_step_full`."""
    n_components, n_features = means.shape
    nk = np.zeros(n_components)
    sx = np.zeros((n_components, n_features))
    sxx = _sxx_zeros_tied(n_components, n_features)
    ll = suffstats_tied(X, sample_weight, weights, means, precisions_chol, False, nk, sx, sxx)
    status = m_step_tied(
        nk, sx, sxx, means, reg_covar, weights, means, covariances, precisions_chol
    )
    return ll, status


@jit
def fit_em_tied(
    X, sample_weight, max_iter, tol, reg_covar, weights, means, covariances, precisions_chol
):
    """Run serial EM to convergence, tied; see :func:`fit_em_full`."""
    tw = total_weight(X.shape[0], sample_weight)
    lower_bound = -np.inf
    converged = False
    status = 0
    n_iter = 0
    for it in range(1, max_iter + 1):
        n_iter = it
        ll, status = em_step_tied(
            X, sample_weight, reg_covar, weights, means, covariances, precisions_chol
        )
        lower_bound, converged = _lower_bound_step(lower_bound, ll, tw, tol)
        if status != 0:
            converged = False
            break
        if converged:
            break
    return lower_bound, n_iter, converged, status


@jit
def em_step_tied_parallel(
    X, sample_weight, reg_covar, weights, means, covariances, precisions_chol
):
    """Run one row-parallel EM iteration, tied; see :func:`em_step_full`."""
    n_components, n_features = means.shape
    nk = np.zeros(n_components)
    sx = np.zeros((n_components, n_features))
    sxx = _sxx_zeros_tied(n_components, n_features)
    ll = suffstats_tied_parallel(
        X, sample_weight, weights, means, precisions_chol, False, nk, sx, sxx
    )
    status = m_step_tied(
        nk, sx, sxx, means, reg_covar, weights, means, covariances, precisions_chol
    )
    return ll, status


@jit
def fit_em_tied_parallel(
    X, sample_weight, max_iter, tol, reg_covar, weights, means, covariances, precisions_chol
):
    """Run row-parallel EM to convergence, tied; see :func:`fit_em_full`."""
    tw = total_weight(X.shape[0], sample_weight)
    lower_bound = -np.inf
    converged = False
    status = 0
    n_iter = 0
    for it in range(1, max_iter + 1):
        n_iter = it
        ll, status = em_step_tied_parallel(
            X, sample_weight, reg_covar, weights, means, covariances, precisions_chol
        )
        lower_bound, converged = _lower_bound_step(lower_bound, ll, tw, tol)
        if status != 0:
            converged = False
            break
        if converged:
            break
    return lower_bound, n_iter, converged, status


@jit
def init_from_seeds_tied(
    X, sample_weight, indices, reg_covar, weights, means, covariances, precisions_chol
):
    """Set initial parameters (tied) from seed rows; see :func:`init_from_seeds_full`."""
    n_components, n_features = means.shape
    center = np.empty(n_features)
    column_means(X, center)
    shift = np.empty((n_components, n_features))
    seeds = np.empty((n_components, n_features))
    resp = np.zeros((n_components, n_components))
    sw = np.empty(n_components if sample_weight.shape[0] > 0 else 0)
    for k in range(n_components):
        for j in range(n_features):
            shift[k, j] = center[j]
            seeds[k, j] = X[indices[k], j]
        resp[k, k] = 1.0
        if sw.shape[0] > 0:
            sw[k] = sample_weight[indices[k]]
    nk = np.zeros(n_components)
    sx = np.zeros((n_components, n_features))
    sxx = _sxx_zeros_tied(n_components, n_features)
    accumulate_tied(seeds, sw, resp, shift, nk, sx, sxx)
    return m_step_tied(nk, sx, sxx, shift, reg_covar, weights, means, covariances, precisions_chol)


# --------------------------------------------------------------------------- diag


@jit
def em_step_diag(X, sample_weight, reg_covar, weights, means, covariances, precisions_chol):
    """Run one serial EM iteration, diag; see :func:`em_step_full`."""
    n_components, n_features = means.shape
    nk = np.zeros(n_components)
    sx = np.zeros((n_components, n_features))
    sxx = _sxx_zeros_diag(n_components, n_features)
    ll = suffstats_diag(X, sample_weight, weights, means, precisions_chol, False, nk, sx, sxx)
    status = m_step_diag(
        nk, sx, sxx, means, reg_covar, weights, means, covariances, precisions_chol
    )
    return ll, status


@jit
def fit_em_diag(
    X, sample_weight, max_iter, tol, reg_covar, weights, means, covariances, precisions_chol
):
    """Run serial EM to convergence, diag; see :func:`fit_em_full`."""
    tw = total_weight(X.shape[0], sample_weight)
    lower_bound = -np.inf
    converged = False
    status = 0
    n_iter = 0
    for it in range(1, max_iter + 1):
        n_iter = it
        ll, status = em_step_diag(
            X, sample_weight, reg_covar, weights, means, covariances, precisions_chol
        )
        lower_bound, converged = _lower_bound_step(lower_bound, ll, tw, tol)
        if status != 0:
            converged = False
            break
        if converged:
            break
    return lower_bound, n_iter, converged, status


@jit
def em_step_diag_parallel(
    X, sample_weight, reg_covar, weights, means, covariances, precisions_chol
):
    """Run one row-parallel EM iteration, diag; see :func:`em_step_full`."""
    n_components, n_features = means.shape
    nk = np.zeros(n_components)
    sx = np.zeros((n_components, n_features))
    sxx = _sxx_zeros_diag(n_components, n_features)
    ll = suffstats_diag_parallel(
        X, sample_weight, weights, means, precisions_chol, False, nk, sx, sxx
    )
    status = m_step_diag(
        nk, sx, sxx, means, reg_covar, weights, means, covariances, precisions_chol
    )
    return ll, status


@jit
def fit_em_diag_parallel(
    X, sample_weight, max_iter, tol, reg_covar, weights, means, covariances, precisions_chol
):
    """Run row-parallel EM to convergence, diag; see :func:`fit_em_full`."""
    tw = total_weight(X.shape[0], sample_weight)
    lower_bound = -np.inf
    converged = False
    status = 0
    n_iter = 0
    for it in range(1, max_iter + 1):
        n_iter = it
        ll, status = em_step_diag_parallel(
            X, sample_weight, reg_covar, weights, means, covariances, precisions_chol
        )
        lower_bound, converged = _lower_bound_step(lower_bound, ll, tw, tol)
        if status != 0:
            converged = False
            break
        if converged:
            break
    return lower_bound, n_iter, converged, status


@jit
def init_from_seeds_diag(
    X, sample_weight, indices, reg_covar, weights, means, covariances, precisions_chol
):
    """Set initial parameters (diag) from seed rows; see :func:`init_from_seeds_full`."""
    n_components, n_features = means.shape
    center = np.empty(n_features)
    column_means(X, center)
    shift = np.empty((n_components, n_features))
    seeds = np.empty((n_components, n_features))
    resp = np.zeros((n_components, n_components))
    sw = np.empty(n_components if sample_weight.shape[0] > 0 else 0)
    for k in range(n_components):
        for j in range(n_features):
            shift[k, j] = center[j]
            seeds[k, j] = X[indices[k], j]
        resp[k, k] = 1.0
        if sw.shape[0] > 0:
            sw[k] = sample_weight[indices[k]]
    nk = np.zeros(n_components)
    sx = np.zeros((n_components, n_features))
    sxx = _sxx_zeros_diag(n_components, n_features)
    accumulate_diag(seeds, sw, resp, shift, nk, sx, sxx)
    return m_step_diag(nk, sx, sxx, shift, reg_covar, weights, means, covariances, precisions_chol)


# --------------------------------------------------------------------------- spherical


@jit
def em_step_spherical(X, sample_weight, reg_covar, weights, means, covariances, precisions_chol):
    """Run one serial EM iteration, spherical; see :func:`em_step_full`."""
    n_components, n_features = means.shape
    nk = np.zeros(n_components)
    sx = np.zeros((n_components, n_features))
    sxx = _sxx_zeros_spherical(n_components, n_features)
    ll = suffstats_spherical(X, sample_weight, weights, means, precisions_chol, False, nk, sx, sxx)
    status = m_step_spherical(
        nk, sx, sxx, means, reg_covar, weights, means, covariances, precisions_chol
    )
    return ll, status


@jit
def fit_em_spherical(
    X, sample_weight, max_iter, tol, reg_covar, weights, means, covariances, precisions_chol
):
    """Run serial EM to convergence, spherical; see :func:`fit_em_full`."""
    tw = total_weight(X.shape[0], sample_weight)
    lower_bound = -np.inf
    converged = False
    status = 0
    n_iter = 0
    for it in range(1, max_iter + 1):
        n_iter = it
        ll, status = em_step_spherical(
            X, sample_weight, reg_covar, weights, means, covariances, precisions_chol
        )
        lower_bound, converged = _lower_bound_step(lower_bound, ll, tw, tol)
        if status != 0:
            converged = False
            break
        if converged:
            break
    return lower_bound, n_iter, converged, status


@jit
def em_step_spherical_parallel(
    X, sample_weight, reg_covar, weights, means, covariances, precisions_chol
):
    """Run one row-parallel EM iteration, spherical; see :func:`em_step_full`."""
    n_components, n_features = means.shape
    nk = np.zeros(n_components)
    sx = np.zeros((n_components, n_features))
    sxx = _sxx_zeros_spherical(n_components, n_features)
    ll = suffstats_spherical_parallel(
        X, sample_weight, weights, means, precisions_chol, False, nk, sx, sxx
    )
    status = m_step_spherical(
        nk, sx, sxx, means, reg_covar, weights, means, covariances, precisions_chol
    )
    return ll, status


@jit
def fit_em_spherical_parallel(
    X, sample_weight, max_iter, tol, reg_covar, weights, means, covariances, precisions_chol
):
    """Run row-parallel EM to convergence, spherical; see :func:`fit_em_full`."""
    tw = total_weight(X.shape[0], sample_weight)
    lower_bound = -np.inf
    converged = False
    status = 0
    n_iter = 0
    for it in range(1, max_iter + 1):
        n_iter = it
        ll, status = em_step_spherical_parallel(
            X, sample_weight, reg_covar, weights, means, covariances, precisions_chol
        )
        lower_bound, converged = _lower_bound_step(lower_bound, ll, tw, tol)
        if status != 0:
            converged = False
            break
        if converged:
            break
    return lower_bound, n_iter, converged, status


@jit
def init_from_seeds_spherical(
    X, sample_weight, indices, reg_covar, weights, means, covariances, precisions_chol
):
    """Set initial parameters (spherical) from seed rows; see :func:`init_from_seeds_full`."""
    n_components, n_features = means.shape
    center = np.empty(n_features)
    column_means(X, center)
    shift = np.empty((n_components, n_features))
    seeds = np.empty((n_components, n_features))
    resp = np.zeros((n_components, n_components))
    sw = np.empty(n_components if sample_weight.shape[0] > 0 else 0)
    for k in range(n_components):
        for j in range(n_features):
            shift[k, j] = center[j]
            seeds[k, j] = X[indices[k], j]
        resp[k, k] = 1.0
        if sw.shape[0] > 0:
            sw[k] = sample_weight[indices[k]]
    nk = np.zeros(n_components)
    sx = np.zeros((n_components, n_features))
    sxx = _sxx_zeros_spherical(n_components, n_features)
    accumulate_spherical(seeds, sw, resp, shift, nk, sx, sxx)
    return m_step_spherical(
        nk, sx, sxx, shift, reg_covar, weights, means, covariances, precisions_chol
    )
