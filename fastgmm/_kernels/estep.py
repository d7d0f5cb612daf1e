"""Streamed E-step for prediction: per-sample log-likelihood, labels, responsibilities.

One parallel driver per covariance type. Rows are split into chunks (their
number depends only on ``n_samples``); each chunk allocates its scratch once and
walks its rows in transposed blocks (:mod:`fastgmm._kernels._blocked`), writing
only the outputs the caller asked for, so ``predict`` and ``score_samples`` never
allocate ``n_samples x n_components``. An output passed with length 0 is skipped.
Rows are independent, so the result does not depend on the thread count.
Blocks are float64 even for float32 ``X`` (unlike the fused fit), so
``score_samples`` equals the per-point kernels to 1e-12
(tests/test_public_kernels.py::test_float32_data_in_user_code).
"""

import numpy as np
from numba import prange

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
from ._blocked_resp import _argmax_T, log_norm_T
from ._jit import jit
from .suffstats import n_chunks_for


@jit
def _write_outputs(lpT, nb, a, norm, s, e, bits, log_prob_norm, labels, log_resp):
    """Write a block's requested outputs from its weighted log-probabilities ``lpT``."""
    if labels.shape[0] > 0:
        _argmax_T(lpT, nb, labels[a : a + nb])
    if log_prob_norm.shape[0] > 0 or log_resp.shape[0] > 0:
        log_norm_T(lpT, nb, norm, s, e, bits)
        if log_prob_norm.shape[0] > 0:
            for i in range(nb):
                log_prob_norm[a + i] = norm[i]
        if log_resp.shape[0] > 0:
            for i in range(nb):
                for k in range(lpT.shape[0]):
                    log_resp[a + i, k] = lpT[k, i] - norm[i]


@jit
def _chunk_range(c, n_chunks, n_samples):
    return c * n_samples // n_chunks, (c + 1) * n_samples // n_chunks


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
        Written if non-empty. Parallel over row chunks.
    """
    n_samples, n_features = X.shape
    n_components = means.shape[0]
    const = np.empty(n_components)
    const_full(precisions_chol, np.log(weights), const)
    block = block_rows_for(n_features)
    n_chunks = n_chunks_for(n_samples, 1)
    for c in prange(n_chunks):
        lo, hi = _chunk_range(c, n_chunks, n_samples)
        nbuf = min(block, hi - lo)
        XT = np.empty((n_features, nbuf))
        sq = np.empty(nbuf)
        lpT = np.empty((n_components, nbuf))
        dT = np.empty((n_features, nbuf))
        y = np.empty((2, nbuf))
        norm = np.empty(nbuf)
        s = np.empty(nbuf)
        e = np.empty(nbuf)
        bits = np.empty((2, nbuf), dtype=np.int64)
        for a in range(lo, hi, block):
            nb = min(block, hi - a)
            load_transposed(X, a, nb, XT)
            log_prob_full_T(XT, nb, means, precisions_chol, const, lpT, dT, y, sq)
            _write_outputs(lpT, nb, a, norm, s, e, bits, log_prob_norm, labels, log_resp)


@jit(parallel=True)
def e_step_tied_parallel(X, weights, means, precisions_chol, log_prob_norm, labels, log_resp):
    """As :func:`e_step_full_parallel` with a tied (n_features, n_features) precision factor."""
    n_samples, n_features = X.shape
    n_components = means.shape[0]
    const = np.empty(n_components)
    const_tied(precisions_chol, np.log(weights), const)
    block = block_rows_for(n_features)
    n_chunks = n_chunks_for(n_samples, 1)
    for c in prange(n_chunks):
        lo, hi = _chunk_range(c, n_chunks, n_samples)
        nbuf = min(block, hi - lo)
        XT = np.empty((n_features, nbuf))
        sq = np.empty(nbuf)
        lpT = np.empty((n_components, nbuf))
        dT = np.empty((n_features, nbuf))
        y = np.empty((2, nbuf))
        norm = np.empty(nbuf)
        s = np.empty(nbuf)
        e = np.empty(nbuf)
        bits = np.empty((2, nbuf), dtype=np.int64)
        for a in range(lo, hi, block):
            nb = min(block, hi - a)
            load_transposed(X, a, nb, XT)
            log_prob_tied_T(XT, nb, means, precisions_chol, const, lpT, dT, y, sq)
            _write_outputs(lpT, nb, a, norm, s, e, bits, log_prob_norm, labels, log_resp)


@jit(parallel=True)
def e_step_diag_parallel(X, weights, means, precisions_chol, log_prob_norm, labels, log_resp):
    """As :func:`e_step_full_parallel` with diagonal (n_components, n_features) factors."""
    n_samples, n_features = X.shape
    n_components = means.shape[0]
    const = np.empty(n_components)
    const_diag(precisions_chol, np.log(weights), const)
    block = block_rows_for(n_features)
    n_chunks = n_chunks_for(n_samples, 1)
    for c in prange(n_chunks):
        lo, hi = _chunk_range(c, n_chunks, n_samples)
        nbuf = min(block, hi - lo)
        XT = np.empty((n_features, nbuf))
        sq = np.empty(nbuf)
        lpT = np.empty((n_components, nbuf))
        norm = np.empty(nbuf)
        s = np.empty(nbuf)
        e = np.empty(nbuf)
        bits = np.empty((2, nbuf), dtype=np.int64)
        for a in range(lo, hi, block):
            nb = min(block, hi - a)
            load_transposed(X, a, nb, XT)
            log_prob_diag_T(XT, nb, means, precisions_chol, const, lpT, sq)
            _write_outputs(lpT, nb, a, norm, s, e, bits, log_prob_norm, labels, log_resp)


@jit(parallel=True)
def e_step_spherical_parallel(X, weights, means, precisions_chol, log_prob_norm, labels, log_resp):
    """As :func:`e_step_full_parallel` with spherical (n_components,) factors."""
    n_samples, n_features = X.shape
    n_components = means.shape[0]
    const = np.empty(n_components)
    const_spherical(precisions_chol, n_features, np.log(weights), const)
    block = block_rows_for(n_features)
    n_chunks = n_chunks_for(n_samples, 1)
    for c in prange(n_chunks):
        lo, hi = _chunk_range(c, n_chunks, n_samples)
        nbuf = min(block, hi - lo)
        XT = np.empty((n_features, nbuf))
        sq = np.empty(nbuf)
        lpT = np.empty((n_components, nbuf))
        norm = np.empty(nbuf)
        s = np.empty(nbuf)
        e = np.empty(nbuf)
        bits = np.empty((2, nbuf), dtype=np.int64)
        for a in range(lo, hi, block):
            nb = min(block, hi - a)
            load_transposed(X, a, nb, XT)
            log_prob_spherical_T(XT, nb, means, precisions_chol, const, lpT, sq)
            _write_outputs(lpT, nb, a, norm, s, e, bits, log_prob_norm, labels, log_resp)
