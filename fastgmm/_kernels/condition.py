"""Gaussian mixture regression: conditional means of every component for many query points.

Conditioning a Gaussian component ``N([x, y] | mu, Sigma)`` on ``x = a`` gives
``N(y | mu_y + A (a - mu_x), Sigma_yy - A Sigma_xy)`` with the regression matrix
``A = Sigma_yx Sigma_xx^{-1}``. The small per-component algebra (``A``, the
conditional covariances, the marginal of ``x``) is NumPy in
:mod:`fastgmm._conditional`; the per-query work is here:

* ``conditional_means``: ``mu_y,k + A_k (a_q - mu_x,k)`` for every query and component.
* ``conditional_expectation``: ``E[y | x = a_q] = sum_k r_qk (mu_y,k + A_k (a_q - mu_x,k))``
  with ``r_qk`` the conditional weights, without forming the (n_queries, K, Dy) array.

Serial kernels work on the rows they are given (safe inside a user's prange);
the ``_parallel`` drivers split rows into blocks of ``BLOCK_ROWS``. Rows are
independent, so results do not depend on the thread count. The NumPy twins are
in :mod:`fastgmm._reference_condition` (tests/test_conditional.py holds them together).
"""

import numpy as np
from numba import prange

from ._jit import jit
from .suffstats import BLOCK_ROWS


@jit
def conditional_means(X_given, means_given, means_target, regression, out):
    """Conditional mean of every component at every query point (serial).

    Parameters
    ----------
    X_given : ndarray of shape (n_queries, n_given), float32 or float64
    means_given : ndarray of shape (n_components, n_given), float64
    means_target : ndarray of shape (n_components, n_target), float64
    regression : ndarray of shape (n_components, n_target, n_given), float64
        ``A_k = Sigma_yx,k Sigma_xx,k^{-1}``.
    out : ndarray of shape (n_queries, n_components, n_target), float64
        Overwritten with ``means_target[k] + regression[k] @ (X_given[q] - means_given[k])``.
    """
    n_queries, n_given = X_given.shape
    n_components, n_target = means_target.shape
    diff = np.empty(n_given)
    for q in range(n_queries):
        for k in range(n_components):
            for j in range(n_given):
                diff[j] = X_given[q, j] - means_given[k, j]
            for t in range(n_target):
                s = means_target[k, t]
                for j in range(n_given):
                    s += regression[k, t, j] * diff[j]
                out[q, k, t] = s


@jit
def conditional_expectation(X_given, resp, means_given, means_target, regression, out):
    """``E[y | x]`` of the conditional mixture at every query point (serial).

    Parameters
    ----------
    X_given : ndarray of shape (n_queries, n_given), float32 or float64
    resp : ndarray of shape (n_queries, n_components), float64
        Conditional weights (rows sum to 1); components of weight 0 are skipped.
    means_given, means_target, regression : ndarray
        As in :func:`conditional_means`.
    out : ndarray of shape (n_queries, n_target), float64
        Overwritten with ``sum_k resp[q, k] * conditional mean (q, k)``.
    """
    n_queries, n_given = X_given.shape
    n_components, n_target = means_target.shape
    diff = np.empty(n_given)
    for q in range(n_queries):
        for t in range(n_target):
            out[q, t] = 0.0
        for k in range(n_components):
            r = resp[q, k]
            if r == 0.0:
                continue
            for j in range(n_given):
                diff[j] = X_given[q, j] - means_given[k, j]
            for t in range(n_target):
                s = means_target[k, t]
                for j in range(n_given):
                    s += regression[k, t, j] * diff[j]
                out[q, t] += r * s


@jit(parallel=True)
def conditional_means_parallel(X_given, means_given, means_target, regression, out):
    """Parallel :func:`conditional_means` over blocks of query rows."""
    n_queries = X_given.shape[0]
    n_blocks = (n_queries + BLOCK_ROWS - 1) // BLOCK_ROWS
    for blk in prange(n_blocks):
        a = blk * BLOCK_ROWS
        b = min(a + BLOCK_ROWS, n_queries)
        conditional_means(X_given[a:b], means_given, means_target, regression, out[a:b])


@jit(parallel=True)
def conditional_expectation_parallel(X_given, resp, means_given, means_target, regression, out):
    """Parallel :func:`conditional_expectation` over blocks of query rows."""
    n_queries = X_given.shape[0]
    n_blocks = (n_queries + BLOCK_ROWS - 1) // BLOCK_ROWS
    for blk in prange(n_blocks):
        a = blk * BLOCK_ROWS
        b = min(a + BLOCK_ROWS, n_queries)
        conditional_expectation(
            X_given[a:b], resp[a:b], means_given, means_target, regression, out[a:b]
        )
