"""Row-wise log-sum-exp: from weighted log-probabilities to log-responsibilities."""

import numpy as np

from ._jit import jit


@jit
def add_log_weights(log_prob, log_weights):
    """Add ``log(weights_k)`` to column ``k`` of ``log_prob`` in place (serial)."""
    n_samples, n_components = log_prob.shape
    for i in range(n_samples):
        for k in range(n_components):
            log_prob[i, k] += log_weights[k]


@jit
def normalize_log_resp(weighted_log_prob, log_prob_norm):
    """Overwrite ``log p(x_i, k)`` with ``log r_ik``; write ``log p(x_i)``.

    Parameters
    ----------
    weighted_log_prob : ndarray of shape (n_samples, n_components), float64
        ``log weights_k + log N(x_i | k)`` on entry, log-responsibilities on exit.
        A row that is ``-inf`` everywhere stays ``-inf`` (responsibility 0) and
        gets ``log p(x_i) = -inf``. Serial over samples.
    log_prob_norm : ndarray of shape (n_samples,), float64
        Receives ``log p(x_i) = logsumexp_k weighted_log_prob[i, k]``.
    """
    n_samples, n_components = weighted_log_prob.shape
    for i in range(n_samples):
        m = -np.inf
        for k in range(n_components):
            if weighted_log_prob[i, k] > m:
                m = weighted_log_prob[i, k]
        if m == -np.inf:
            log_prob_norm[i] = -np.inf
            continue
        s = 0.0
        for k in range(n_components):
            s += np.exp(weighted_log_prob[i, k] - m)
        norm = m + np.log(s)
        log_prob_norm[i] = norm
        for k in range(n_components):
            weighted_log_prob[i, k] -= norm


@jit
def argmax_rows(a, labels):
    """Index of the largest entry of every row (first one on ties), serial."""
    n_samples, n_components = a.shape
    for i in range(n_samples):
        best = 0
        for k in range(1, n_components):
            if a[i, k] > a[i, best]:
                best = k
        labels[i] = best
