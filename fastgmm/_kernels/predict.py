"""Serial inference on a block of rows: score_samples, predict, predict_proba.

These are the building blocks a user calls inside their own ``prange`` loop
(they never open a parallel region). Rows are processed ``BLOCK_ROWS`` at a
time in a small scratch buffer, so no ``n_samples x n_components`` array is
allocated unless the caller asks for responsibilities. ``score_one_<cov>``
scores a single point without allocating at all (a particle filter's hot loop).

The parallel drivers over rows are :mod:`fastgmm._kernels.estep`
(``e_step_<cov>_parallel``, same signature as ``e_step_<cov>`` here).
"""

import numpy as np

from ._jit import jit
from .logprob import (
    LOG_2PI,
    log_gaussian_prob_diag,
    log_gaussian_prob_full,
    log_gaussian_prob_spherical,
    log_gaussian_prob_tied,
)
from .resp import add_log_weights, argmax_rows, normalize_log_resp
from .suffstats import BLOCK_ROWS


@jit
def _e_step_block(lp, a, b, log_weights, log_prob_norm, labels, log_resp):
    """Turn one block's log-densities into the requested outputs (rows ``a:b``)."""
    add_log_weights(lp, log_weights)
    if labels.shape[0] > 0:
        argmax_rows(lp, labels[a:b])
    if log_prob_norm.shape[0] > 0 or log_resp.shape[0] > 0:
        norm = np.empty(b - a)
        normalize_log_resp(lp, norm)
        if log_prob_norm.shape[0] > 0:
            log_prob_norm[a:b] = norm
        if log_resp.shape[0] > 0:
            log_resp[a:b] = lp


@jit
def e_step_full(X, weights, means, precisions_chol, log_prob_norm, labels, log_resp):
    """Write ``log p(x_i)``, labels and/or log-responsibilities, full covariances (serial).

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features), float32 or float64
    weights : ndarray of shape (n_components,), float64
    means : ndarray of shape (n_components, n_features), float64
    precisions_chol : ndarray of shape (n_components, n_features, n_features), float64
    log_prob_norm : ndarray of shape (n_samples,) or (0,), float64
        Overwritten with ``log p(x_i)`` unless empty.
    labels : ndarray of shape (n_samples,) or (0,), int64
        Overwritten with the most probable component unless empty.
    log_resp : ndarray of shape (n_samples, n_components) or (0, n_components), float64
        Overwritten with ``log r_ik`` unless empty. Serial over samples.
    """
    n_samples = X.shape[0]
    n_components = means.shape[0]
    log_weights = np.log(weights)
    buf = np.empty((min(BLOCK_ROWS, n_samples), n_components))
    for a in range(0, n_samples, BLOCK_ROWS):
        b = min(a + BLOCK_ROWS, n_samples)
        lp = buf[: b - a]
        log_gaussian_prob_full(X[a:b], means, precisions_chol, lp)
        _e_step_block(lp, a, b, log_weights, log_prob_norm, labels, log_resp)


@jit
def e_step_tied(X, weights, means, precisions_chol, log_prob_norm, labels, log_resp):
    """As :func:`e_step_full` with a tied (n_features, n_features) precision factor."""
    n_samples = X.shape[0]
    n_components = means.shape[0]
    log_weights = np.log(weights)
    buf = np.empty((min(BLOCK_ROWS, n_samples), n_components))
    for a in range(0, n_samples, BLOCK_ROWS):
        b = min(a + BLOCK_ROWS, n_samples)
        lp = buf[: b - a]
        log_gaussian_prob_tied(X[a:b], means, precisions_chol, lp)
        _e_step_block(lp, a, b, log_weights, log_prob_norm, labels, log_resp)


@jit
def e_step_diag(X, weights, means, precisions_chol, log_prob_norm, labels, log_resp):
    """As :func:`e_step_full` with diagonal (n_components, n_features) factors."""
    n_samples = X.shape[0]
    n_components = means.shape[0]
    log_weights = np.log(weights)
    buf = np.empty((min(BLOCK_ROWS, n_samples), n_components))
    for a in range(0, n_samples, BLOCK_ROWS):
        b = min(a + BLOCK_ROWS, n_samples)
        lp = buf[: b - a]
        log_gaussian_prob_diag(X[a:b], means, precisions_chol, lp)
        _e_step_block(lp, a, b, log_weights, log_prob_norm, labels, log_resp)


@jit
def e_step_spherical(X, weights, means, precisions_chol, log_prob_norm, labels, log_resp):
    """As :func:`e_step_full` with spherical (n_components,) factors."""
    n_samples = X.shape[0]
    n_components = means.shape[0]
    log_weights = np.log(weights)
    buf = np.empty((min(BLOCK_ROWS, n_samples), n_components))
    for a in range(0, n_samples, BLOCK_ROWS):
        b = min(a + BLOCK_ROWS, n_samples)
        lp = buf[: b - a]
        log_gaussian_prob_spherical(X[a:b], means, precisions_chol, lp)
        _e_step_block(lp, a, b, log_weights, log_prob_norm, labels, log_resp)


# --------------------------------------------------------------------------- one point
@jit
def _lse_push(m, s, v):
    """Online log-sum-exp: fold ``v`` into (running max ``m``, scaled sum ``s``)."""
    if v == -np.inf:
        return m, s
    if v > m:
        return v, s * np.exp(m - v) + 1.0
    return m, s + np.exp(v - m)


@jit
def score_one_full(x, weights, means, precisions_chol):
    """``log p(x)`` of one point under a full-covariance mixture, allocation-free.

    Parameters
    ----------
    x : ndarray of shape (n_features,), float32 or float64
    weights : ndarray of shape (n_components,), float64
    means : ndarray of shape (n_components, n_features), float64
    precisions_chol : ndarray of shape (n_components, n_features, n_features), float64

    Returns
    -------
    log_prob : float
        Serial; safe in a user's ``prange``.
    """
    n_components, n_features = means.shape
    m = -np.inf
    s = 0.0
    for k in range(n_components):
        log_det = 0.0
        sq = 0.0
        for j in range(n_features):
            log_det += np.log(precisions_chol[k, j, j])
            y = 0.0
            for i in range(j + 1):
                y += (x[i] - means[k, i]) * precisions_chol[k, i, j]
            sq += y * y
        v = np.log(weights[k]) - 0.5 * n_features * LOG_2PI + log_det - 0.5 * sq
        m, s = _lse_push(m, s, v)
    return m + np.log(s) if s > 0.0 else -np.inf


@jit
def score_one_tied(x, weights, means, precisions_chol):
    """As :func:`score_one_full` with a tied (n_features, n_features) precision factor."""
    n_components, n_features = means.shape
    log_det = 0.0
    for j in range(n_features):
        log_det += np.log(precisions_chol[j, j])
    m = -np.inf
    s = 0.0
    for k in range(n_components):
        sq = 0.0
        for j in range(n_features):
            y = 0.0
            for i in range(j + 1):
                y += (x[i] - means[k, i]) * precisions_chol[i, j]
            sq += y * y
        v = np.log(weights[k]) - 0.5 * n_features * LOG_2PI + log_det - 0.5 * sq
        m, s = _lse_push(m, s, v)
    return m + np.log(s) if s > 0.0 else -np.inf


@jit
def score_one_diag(x, weights, means, precisions_chol):
    """As :func:`score_one_full` with diagonal (n_components, n_features) factors."""
    n_components, n_features = means.shape
    m = -np.inf
    s = 0.0
    for k in range(n_components):
        log_det = 0.0
        sq = 0.0
        for j in range(n_features):
            log_det += np.log(precisions_chol[k, j])
            y = (x[j] - means[k, j]) * precisions_chol[k, j]
            sq += y * y
        v = np.log(weights[k]) - 0.5 * n_features * LOG_2PI + log_det - 0.5 * sq
        m, s = _lse_push(m, s, v)
    return m + np.log(s) if s > 0.0 else -np.inf


@jit
def score_one_spherical(x, weights, means, precisions_chol):
    """As :func:`score_one_full` with spherical (n_components,) factors."""
    n_components, n_features = means.shape
    m = -np.inf
    s = 0.0
    for k in range(n_components):
        p = precisions_chol[k]
        sq = 0.0
        for j in range(n_features):
            y = x[j] - means[k, j]
            sq += y * y
        v = (
            np.log(weights[k])
            - 0.5 * n_features * LOG_2PI
            + n_features * np.log(p)
            - 0.5 * sq * p * p
        )
        m, s = _lse_push(m, s, v)
    return m + np.log(s) if s > 0.0 else -np.inf


# --------------------------------------------------------------------------- conveniences


@jit
def score_samples_full(X, weights, means, precisions_chol, out):
    """Write per-sample ``log p(x_i)`` into ``out`` of shape (n_samples,), float64 (serial).

    Shapes as in :func:`e_step_full`.
    """
    empty_labels = np.empty(0, dtype=np.int64)
    empty_resp = np.empty((0, means.shape[0]))
    e_step_full(X, weights, means, precisions_chol, out, empty_labels, empty_resp)


@jit
def predict_full(X, weights, means, precisions_chol, labels):
    """Write the most probable component into ``labels`` of shape (n_samples,), int64 (serial).

    Shapes as in :func:`e_step_full`.
    """
    e_step_full(
        X, weights, means, precisions_chol, np.empty(0), labels, np.empty((0, means.shape[0]))
    )


@jit
def predict_proba_full(X, weights, means, precisions_chol, out):
    """Write responsibilities into ``out`` of shape (n_samples, n_components), float64 (serial).

    Shapes as in :func:`e_step_full`.
    """
    e_step_full(X, weights, means, precisions_chol, np.empty(0), np.empty(0, dtype=np.int64), out)
    for i in range(out.shape[0]):
        for k in range(out.shape[1]):
            out[i, k] = np.exp(out[i, k])


@jit
def score_samples_tied(X, weights, means, precisions_chol, out):
    """Write per-sample ``log p(x_i)`` into ``out`` of shape (n_samples,), float64 (serial).

    Shapes as in :func:`e_step_tied`.
    """
    empty_labels = np.empty(0, dtype=np.int64)
    empty_resp = np.empty((0, means.shape[0]))
    e_step_tied(X, weights, means, precisions_chol, out, empty_labels, empty_resp)


@jit
def predict_tied(X, weights, means, precisions_chol, labels):
    """Write the most probable component into ``labels`` of shape (n_samples,), int64 (serial).

    Shapes as in :func:`e_step_tied`.
    """
    e_step_tied(
        X, weights, means, precisions_chol, np.empty(0), labels, np.empty((0, means.shape[0]))
    )


@jit
def predict_proba_tied(X, weights, means, precisions_chol, out):
    """Write responsibilities into ``out`` of shape (n_samples, n_components), float64 (serial).

    Shapes as in :func:`e_step_tied`.
    """
    e_step_tied(X, weights, means, precisions_chol, np.empty(0), np.empty(0, dtype=np.int64), out)
    for i in range(out.shape[0]):
        for k in range(out.shape[1]):
            out[i, k] = np.exp(out[i, k])


@jit
def score_samples_diag(X, weights, means, precisions_chol, out):
    """Write per-sample ``log p(x_i)`` into ``out`` of shape (n_samples,), float64 (serial).

    Shapes as in :func:`e_step_diag`.
    """
    empty_labels = np.empty(0, dtype=np.int64)
    empty_resp = np.empty((0, means.shape[0]))
    e_step_diag(X, weights, means, precisions_chol, out, empty_labels, empty_resp)


@jit
def predict_diag(X, weights, means, precisions_chol, labels):
    """Write the most probable component into ``labels`` of shape (n_samples,), int64 (serial).

    Shapes as in :func:`e_step_diag`.
    """
    e_step_diag(
        X, weights, means, precisions_chol, np.empty(0), labels, np.empty((0, means.shape[0]))
    )


@jit
def predict_proba_diag(X, weights, means, precisions_chol, out):
    """Write responsibilities into ``out`` of shape (n_samples, n_components), float64 (serial).

    Shapes as in :func:`e_step_diag`.
    """
    e_step_diag(X, weights, means, precisions_chol, np.empty(0), np.empty(0, dtype=np.int64), out)
    for i in range(out.shape[0]):
        for k in range(out.shape[1]):
            out[i, k] = np.exp(out[i, k])


@jit
def score_samples_spherical(X, weights, means, precisions_chol, out):
    """Write per-sample ``log p(x_i)`` into ``out`` of shape (n_samples,), float64 (serial).

    Shapes as in :func:`e_step_spherical`.
    """
    empty_labels = np.empty(0, dtype=np.int64)
    empty_resp = np.empty((0, means.shape[0]))
    e_step_spherical(X, weights, means, precisions_chol, out, empty_labels, empty_resp)


@jit
def predict_spherical(X, weights, means, precisions_chol, labels):
    """Write the most probable component into ``labels`` of shape (n_samples,), int64 (serial).

    Shapes as in :func:`e_step_spherical`.
    """
    e_step_spherical(
        X, weights, means, precisions_chol, np.empty(0), labels, np.empty((0, means.shape[0]))
    )


@jit
def predict_proba_spherical(X, weights, means, precisions_chol, out):
    """Write responsibilities into ``out`` of shape (n_samples, n_components), float64 (serial).

    Shapes as in :func:`e_step_spherical`.
    """
    e_step_spherical(
        X, weights, means, precisions_chol, np.empty(0), np.empty(0, dtype=np.int64), out
    )
    for i in range(out.shape[0]):
        for k in range(out.shape[1]):
            out[i, k] = np.exp(out[i, k])
