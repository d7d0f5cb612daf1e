"""Streamed E-step for prediction: per-sample log-likelihood, labels, responsibilities.

One parallel driver per covariance type. Rows are processed in blocks of
``BLOCK_ROWS``; each block computes its ``(block, n_components)`` log-probabilities
in scratch space and writes only the outputs the caller asked for, so
``predict`` and ``score_samples`` never allocate ``n_samples x n_components``.
An output passed with length 0 is skipped. Rows are independent, so the result
does not depend on the thread count.
"""

import numpy as np
from numba import prange

from ._jit import jit
from .logprob import (
    log_gaussian_prob_diag,
    log_gaussian_prob_full,
    log_gaussian_prob_spherical,
    log_gaussian_prob_tied,
)
from .resp import add_log_weights, argmax_rows, normalize_log_resp
from .suffstats import BLOCK_ROWS


@jit
def _write_outputs(lp, a, b, log_weights, log_prob_norm, labels, log_resp):
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


@jit(parallel=True)
def e_step_full_parallel(X, weights, means, precisions_chol, log_prob_norm, labels, log_resp):
    """Stream ``log p(x_i)``, argmax labels and/or log-responsibilities, full covariances.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
    weights : ndarray of shape (n_components,)
    means : ndarray of shape (n_components, n_features)
    precisions_chol : ndarray of shape (n_components, n_features, n_features)
    log_prob_norm : ndarray of shape (n_samples,) or (0,), float64, written if non-empty
    labels : ndarray of shape (n_samples,) or (0,), int64, written if non-empty
    log_resp : ndarray of shape (n_samples, n_components) or (0, n_components), float64
        Written if non-empty. Parallel over row blocks.
    """
    n_samples = X.shape[0]
    n_components = means.shape[0]
    log_weights = np.log(weights)
    n_blocks = (n_samples + BLOCK_ROWS - 1) // BLOCK_ROWS
    for blk in prange(n_blocks):
        a = blk * BLOCK_ROWS
        b = min(a + BLOCK_ROWS, n_samples)
        lp = np.empty((b - a, n_components))
        log_gaussian_prob_full(X[a:b], means, precisions_chol, lp)
        _write_outputs(lp, a, b, log_weights, log_prob_norm, labels, log_resp)


@jit(parallel=True)
def e_step_tied_parallel(X, weights, means, precisions_chol, log_prob_norm, labels, log_resp):
    """As :func:`e_step_full_parallel` with a tied (n_features, n_features) precision factor."""
    n_samples = X.shape[0]
    n_components = means.shape[0]
    log_weights = np.log(weights)
    n_blocks = (n_samples + BLOCK_ROWS - 1) // BLOCK_ROWS
    for blk in prange(n_blocks):
        a = blk * BLOCK_ROWS
        b = min(a + BLOCK_ROWS, n_samples)
        lp = np.empty((b - a, n_components))
        log_gaussian_prob_tied(X[a:b], means, precisions_chol, lp)
        _write_outputs(lp, a, b, log_weights, log_prob_norm, labels, log_resp)


@jit(parallel=True)
def e_step_diag_parallel(X, weights, means, precisions_chol, log_prob_norm, labels, log_resp):
    """As :func:`e_step_full_parallel` with diagonal (n_components, n_features) factors."""
    n_samples = X.shape[0]
    n_components = means.shape[0]
    log_weights = np.log(weights)
    n_blocks = (n_samples + BLOCK_ROWS - 1) // BLOCK_ROWS
    for blk in prange(n_blocks):
        a = blk * BLOCK_ROWS
        b = min(a + BLOCK_ROWS, n_samples)
        lp = np.empty((b - a, n_components))
        log_gaussian_prob_diag(X[a:b], means, precisions_chol, lp)
        _write_outputs(lp, a, b, log_weights, log_prob_norm, labels, log_resp)


@jit(parallel=True)
def e_step_spherical_parallel(X, weights, means, precisions_chol, log_prob_norm, labels, log_resp):
    """As :func:`e_step_full_parallel` with spherical (n_components,) factors."""
    n_samples = X.shape[0]
    n_components = means.shape[0]
    log_weights = np.log(weights)
    n_blocks = (n_samples + BLOCK_ROWS - 1) // BLOCK_ROWS
    for blk in prange(n_blocks):
        a = blk * BLOCK_ROWS
        b = min(a + BLOCK_ROWS, n_samples)
        lp = np.empty((b - a, n_components))
        log_gaussian_prob_spherical(X[a:b], means, precisions_chol, lp)
        _write_outputs(lp, a, b, log_weights, log_prob_norm, labels, log_resp)
