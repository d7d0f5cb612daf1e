"""Initial parameters of an EM fit (scikit-learn's rules), streamed over row blocks.

scikit-learn builds initial responsibilities (k-means labels, k-means++ seeds,
random rows, or random responsibilities) and runs one M-step on them; user-given
``weights_init`` / ``means_init`` / ``precisions_init`` then replace what they
cover, and when all three are given nothing is estimated. Here the
responsibilities are produced block by block, so no ``n_samples x n_components``
array is built (except for the caller's own data).
"""

from __future__ import annotations

import numpy as np

from ._backend import gmm_ops
from ._covariance import precision_cholesky_from_precisions, sxx_shape
from ._kmeans import KMeans, kmeans_plusplus_centers
from ._validation import check_means, check_precisions, check_weights

#: Rows per Python-level block when initial responsibilities are built.
INIT_BLOCK = 8192


def given_parameters(est, n_features: int):
    """Return the user's complete initial parameters, or ``None`` if one is missing."""
    if any(p is None for p in (est.weights_init, est.means_init, est.precisions_init)):
        return None
    k, cov = est.n_components, est.covariance_type
    precisions = check_precisions(est.precisions_init, cov, k, n_features)
    return (
        check_weights(est.weights_init, k),
        check_means(est.means_init, k, n_features),
        None,
        precision_cholesky_from_precisions(precisions, cov),
    )


def apply_given(est, params, n_features: int):
    """Replace estimated initial parameters by the ones the user gave."""
    weights, means, covariances, prec_chol = params
    k = est.n_components
    if est.weights_init is not None:
        weights = check_weights(est.weights_init, k)
    if est.means_init is not None:
        means = check_means(est.means_init, k, n_features)
    if est.precisions_init is not None:
        prec_chol = precision_cholesky_from_precisions(
            np.asarray(est.precisions_init, dtype=np.float64), est.covariance_type
        )
        covariances = None
    return weights, means, covariances, prec_chol


def initial_parameters(est, X, sw, random_state):
    """Return ``(weights, means, covariances, precisions_chol)`` in float64 for in-memory ``X``."""
    given = given_parameters(est, X.shape[1])
    if given is not None:
        return given
    params = parameters_from_resp(est, X, sw, initial_resp_fn(est, X, sw, random_state))
    return apply_given(est, params, X.shape[1])


def initial_resp_fn(est, X, sw, random_state):
    """Return ``(start, stop) -> resp block`` giving the initial responsibilities."""
    n_samples = X.shape[0]
    k = est.n_components
    method = est.init_params
    if method == "random":
        # Drawn block by block from one stream: identical to one (n, k) draw.
        def random_resp(start, stop):
            resp = random_state.uniform(size=(stop - start, k))
            return resp / resp.sum(axis=1)[:, np.newaxis]

        return random_resp
    if method == "kmeans":
        labels = (
            KMeans(k, n_init=1, random_state=random_state, backend=est.backend)
            .fit(X, sample_weight=sw if sw.shape[0] else None)
            .labels_
        )
    else:
        if method == "random_from_data":
            indices = random_state.choice(n_samples, size=k, replace=False)
        else:  # "k-means++"
            _, indices = kmeans_plusplus_centers(X, k, random_state, sw, est.backend)
        labels = np.full(n_samples, -1, dtype=np.int64)
        labels[indices] = np.arange(k)

    def one_hot(start, stop):
        lab = labels[start:stop]
        resp = np.zeros((stop - start, k))
        rows = np.flatnonzero(lab >= 0)
        resp[rows, lab[rows]] = 1.0
        return resp

    return one_hot


def parameters_from_resp(est, X, sw, resp_fn):
    """Streamed M-step from initial responsibilities (no n_samples x n_components array)."""
    ops = gmm_ops(est.backend, est.covariance_type)
    n_samples, n_features = X.shape
    k = est.n_components
    # Centre the statistics on the data mean so offset data keeps its accuracy.
    shift = np.repeat(X.mean(axis=0, dtype=np.float64)[np.newaxis], k, axis=0)
    nk = np.zeros(k)
    sx = np.zeros((k, n_features))
    sxx = np.zeros(sxx_shape(est.covariance_type, k, n_features))
    for start in range(0, n_samples, INIT_BLOCK):
        stop = min(start + INIT_BLOCK, n_samples)
        w = sw[start:stop] if sw.shape[0] else sw
        ops.accumulate(X[start:stop], w, resp_fn(start, stop), shift, nk, sx, sxx)
    return est._m_step(ops, nk, sx, sxx, shift)
