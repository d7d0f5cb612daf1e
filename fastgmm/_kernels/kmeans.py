"""k-means kernels: greedy k-means++ seeding and Lloyd steps.

Randomness is passed in as uniform draws, so every kernel is deterministic and
callable from nopython code; the Python side draws them from ``random_state``.
``sample_weight`` of length 0 means "all ones".
"""

import numpy as np
from numba import prange

from ._jit import jit
from .suffstats import n_chunks_for


@jit
def _sq_dist(X, i, center):
    s = 0.0
    for j in range(X.shape[1]):
        d = X[i, j] - center[j]
        s += d * d
    return s


@jit
def _pick_by_potential(dist_sq, sample_weight, target):
    """First index whose running sum of ``w * dist_sq`` exceeds ``target`` (serial scan)."""
    n = dist_sq.shape[0]
    weighted = sample_weight.shape[0] > 0
    acc = 0.0
    for i in range(n):
        acc += dist_sq[i] * (sample_weight[i] if weighted else 1.0)
        if acc > target:
            return i
    # Rounding can leave target == total: take the last point with positive mass.
    for i in range(n - 1, -1, -1):
        if dist_sq[i] * (sample_weight[i] if weighted else 1.0) > 0.0:
            return i
    return n - 1


@jit
def kmeans_plusplus(X, sample_weight, first_u, trial_u, centers, indices):
    """Greedy k-means++ seeding (Arthur & Vassilvitskii; scikit-learn's variant).

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
    sample_weight : ndarray of shape (n_samples,) or (0,)
    first_u : float
        Uniform draw in [0, 1) choosing the first centre (weighted by ``sample_weight``).
    trial_u : ndarray of shape (n_clusters - 1, n_local_trials)
        Uniform draws in [0, 1) for the candidates of every further centre;
        scikit-learn uses ``n_local_trials = 2 + int(log(n_clusters))``.
    centers : ndarray of shape (n_clusters, n_features), float64, overwritten
    indices : ndarray of shape (n_clusters,), int64, overwritten with the chosen rows

    Notes
    -----
    Serial; memory is one ``n_samples`` vector (no ``n_trials x n_samples`` matrix).
    """
    n_samples, n_features = X.shape
    n_clusters = centers.shape[0]
    n_trials = trial_u.shape[1]
    weighted = sample_weight.shape[0] > 0
    ones = np.ones(n_samples)
    if weighted:
        total_w = sample_weight.sum()
        first = _pick_by_potential(ones, sample_weight, first_u * total_w)
    else:
        first = min(int(first_u * n_samples), n_samples - 1)
    indices[0] = first
    for j in range(n_features):
        centers[0, j] = X[first, j]
    closest = np.empty(n_samples)
    pot = 0.0
    for i in range(n_samples):
        closest[i] = _sq_dist(X, i, centers[0])
        pot += closest[i] * (sample_weight[i] if weighted else 1.0)
    cand = np.empty(n_features)
    for c in range(1, n_clusters):
        best_pot = np.inf
        best_id = 0
        for t in range(n_trials):
            cid = _pick_by_potential(closest, sample_weight, trial_u[c - 1, t] * pot)
            for j in range(n_features):
                cand[j] = X[cid, j]
            p = 0.0
            for i in range(n_samples):
                d = min(closest[i], _sq_dist(X, i, cand))
                p += d * (sample_weight[i] if weighted else 1.0)
            if p < best_pot:
                best_pot = p
                best_id = cid
        indices[c] = best_id
        for j in range(n_features):
            centers[c, j] = X[best_id, j]
        pot = 0.0
        for i in range(n_samples):
            d = _sq_dist(X, i, centers[c])
            if d < closest[i]:
                closest[i] = d
            pot += closest[i] * (sample_weight[i] if weighted else 1.0)


@jit
def kmeans_assign(X, sample_weight, centers, labels, sums, counts):
    """Assign rows to their nearest centre and add per-cluster sums (serial).

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
    sample_weight : ndarray of shape (n_samples,) or (0,)
    centers : ndarray of shape (n_clusters, n_features), float64
    labels : ndarray of shape (n_samples,), int64, overwritten
    sums : ndarray of shape (n_clusters, n_features), float64, added to
    counts : ndarray of shape (n_clusters,), float64, added to (weighted counts)

    Returns
    -------
    inertia : float
        ``sum_i w_i ||x_i - c_{label_i}||^2``.
    """
    n_samples, n_features = X.shape
    n_clusters = centers.shape[0]
    weighted = sample_weight.shape[0] > 0
    inertia = 0.0
    for i in range(n_samples):
        best = 0
        best_d = np.inf
        for c in range(n_clusters):
            d = _sq_dist(X, i, centers[c])
            if d < best_d:
                best_d = d
                best = c
        labels[i] = best
        w = sample_weight[i] if weighted else 1.0
        inertia += w * best_d
        counts[best] += w
        for j in range(n_features):
            sums[best, j] += w * X[i, j]
    return inertia


@jit(parallel=True)
def kmeans_assign_parallel(X, sample_weight, centers, labels, sums, counts):
    """Parallel :func:`kmeans_assign`, chunk-ordered reduction; ``sums``/``counts`` overwritten."""
    n_samples, n_features = X.shape
    n_clusters = centers.shape[0]
    n_chunks = n_chunks_for(n_samples, n_clusters * (n_features + 1))
    sums_c = np.zeros((n_chunks, n_clusters, n_features))
    counts_c = np.zeros((n_chunks, n_clusters))
    inertia_c = np.zeros(n_chunks)
    for c in prange(n_chunks):
        a = c * n_samples // n_chunks
        b = (c + 1) * n_samples // n_chunks
        sw = sample_weight[a:b] if sample_weight.shape[0] > 0 else sample_weight[0:0]
        inertia_c[c] = kmeans_assign(X[a:b], sw, centers, labels[a:b], sums_c[c], counts_c[c])
    sums[:] = sums_c[0]
    counts[:] = counts_c[0]
    inertia = inertia_c[0]
    for c in range(1, n_chunks):
        sums += sums_c[c]
        counts += counts_c[c]
        inertia += inertia_c[c]
    return inertia


@jit(parallel=True)
def distance_to_assigned(X, centers, labels, out):
    """Squared distance of every row to its assigned centre (parallel over rows)."""
    for i in prange(X.shape[0]):
        out[i] = _sq_dist(X, i, centers[labels[i]])
