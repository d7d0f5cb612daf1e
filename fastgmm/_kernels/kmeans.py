"""k-means kernels: greedy k-means++ seeding and Lloyd steps.

Randomness is passed in as uniform draws, so every kernel is deterministic and
callable from nopython code; the Python side draws them from ``random_state``.
``sample_weight`` of length 0 means "all ones".
"""

import numpy as np
from numba import prange

from ._blocked import block_rows_for, load_transposed
from ._jit import jit
from .suffstats import n_chunks_for, sum_chunks


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
def _chunk_range(c, n_chunks, n_samples):
    return c * n_samples // n_chunks, (c + 1) * n_samples // n_chunks


@jit
def _first_index(sample_weight, first_u, n_samples):
    """Row of the first centre: uniform, or weighted by ``sample_weight``."""
    if sample_weight.shape[0] > 0:
        total_w = sample_weight.sum()
        return _pick_by_potential(np.ones(n_samples), sample_weight, first_u * total_w)
    return min(int(first_u * n_samples), n_samples - 1)


@jit
def _update_closest(X, sample_weight, center, closest, lo, hi):
    """``closest[i] = min(closest[i], ||x_i - c||^2)`` on rows ``lo:hi``; return their potential."""
    weighted = sample_weight.shape[0] > 0
    block, XT, dist = _block_scratch(X, hi - lo)
    pot = 0.0
    for a in range(lo, hi, block):
        nb = min(block, hi - a)
        load_transposed(X, a, nb, XT)  # float64 XT: exact upcast
        _sq_dist_T(XT, nb, center, dist)
        for r in range(nb):
            i = a + r
            if dist[r] < closest[i]:
                closest[i] = dist[r]
            pot += closest[i] * (sample_weight[i] if weighted else 1.0)
    return pot


@jit
def _trial_potentials(X, sample_weight, closest, cand, lo, hi, out):
    """``out[t] = sum_{lo <= i < hi} w_i min(closest_i, ||x_i - cand_t||^2)`` (rows in order)."""
    weighted = sample_weight.shape[0] > 0
    block, XT, dist = _block_scratch(X, hi - lo)
    for t in range(cand.shape[0]):
        out[t] = 0.0
    for a in range(lo, hi, block):
        nb = min(block, hi - a)
        load_transposed(X, a, nb, XT)  # float64 XT: exact upcast
        for t in range(cand.shape[0]):
            _sq_dist_T(XT, nb, cand[t], dist)
            acc = out[t]
            for r in range(nb):
                i = a + r
                acc += min(closest[i], dist[r]) * (sample_weight[i] if weighted else 1.0)
            out[t] = acc


@jit
def _pick_chunked(closest, sample_weight, target, pot_c):
    """First row whose running potential exceeds ``target``, summed chunk by chunk.

    The running sum is ``pot_c[0] + ... + pot_c[c - 1]`` plus the rows of chunk ``c``
    in order: the same numbers in the serial and the parallel kernel, so both pick
    the same row. Rounding can leave ``target`` at the total: then the last row
    with positive mass.
    """
    n_samples = closest.shape[0]
    n_chunks = pot_c.shape[0]
    weighted = sample_weight.shape[0] > 0
    base = 0.0
    for c in range(n_chunks):
        top = base + pot_c[c]
        if top > target:
            lo, hi = _chunk_range(c, n_chunks, n_samples)
            acc = base
            for i in range(lo, hi):
                acc += closest[i] * (sample_weight[i] if weighted else 1.0)
                if acc > target:
                    return i
        base = top
    for i in range(n_samples - 1, -1, -1):
        if closest[i] * (sample_weight[i] if weighted else 1.0) > 0.0:
            return i
    return n_samples - 1


@jit
def _choose_candidates(X, closest, sample_weight, u, pot_c, cand, cand_id):
    """Candidate rows for one centre from its uniform draws ``u`` (serial)."""
    pot = 0.0
    for c in range(pot_c.shape[0]):  # chunk order, as in _pick_chunked
        pot += pot_c[c]
    for t in range(u.shape[0]):
        cid = _pick_chunked(closest, sample_weight, u[t] * pot, pot_c)
        cand_id[t] = cid
        for j in range(X.shape[1]):
            cand[t, j] = X[cid, j]


@jit
def _best_trial(trial_c):
    """Index of the smallest total potential (chunk-ordered sums; first on ties)."""
    best = 0
    best_pot = np.inf
    for t in range(trial_c.shape[1]):
        p = 0.0
        for c in range(trial_c.shape[0]):
            p += trial_c[c, t]
        if p < best_pot:
            best_pot = p
            best = t
    return best


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
    Serial (safe inside a user's prange); memory is one ``n_samples`` vector
    (no ``n_trials x n_samples`` matrix). Potentials are summed over the same
    fixed row chunks as :func:`kmeans_plusplus_parallel`, so both choose the
    same rows for any thread count.
    """
    n_samples, n_features = X.shape
    n_clusters = centers.shape[0]
    n_trials = trial_u.shape[1]
    n_chunks = n_chunks_for(n_samples, 1)
    first = _first_index(sample_weight, first_u, n_samples)
    indices[0] = first
    for j in range(n_features):
        centers[0, j] = X[first, j]
    closest = np.full(n_samples, np.inf)
    pot_c = np.empty(n_chunks)
    for c in range(n_chunks):
        lo, hi = _chunk_range(c, n_chunks, n_samples)
        pot_c[c] = _update_closest(X, sample_weight, centers[0], closest, lo, hi)
    cand = np.empty((n_trials, n_features))
    cand_id = np.empty(n_trials, dtype=np.int64)
    trial_c = np.empty((n_chunks, n_trials))
    for m in range(1, n_clusters):
        _choose_candidates(X, closest, sample_weight, trial_u[m - 1], pot_c, cand, cand_id)
        for c in range(n_chunks):
            lo, hi = _chunk_range(c, n_chunks, n_samples)
            _trial_potentials(X, sample_weight, closest, cand, lo, hi, trial_c[c])
        best = _best_trial(trial_c)
        indices[m] = cand_id[best]
        for j in range(n_features):
            centers[m, j] = cand[best, j]
        for c in range(n_chunks):
            lo, hi = _chunk_range(c, n_chunks, n_samples)
            pot_c[c] = _update_closest(X, sample_weight, centers[m], closest, lo, hi)


@jit(parallel=True)
def kmeans_plusplus_parallel(X, sample_weight, first_u, trial_u, centers, indices):
    """Parallel :func:`kmeans_plusplus`: the same rows for any thread count.

    Parallel over the fixed row chunks (their number depends only on
    ``n_samples``) when computing distances and potentials; the candidate draws
    and the chunk-ordered sums are serial, so ``indices`` equal the serial
    kernel's. Same parameters as :func:`kmeans_plusplus`.
    """
    n_samples, n_features = X.shape
    n_clusters = centers.shape[0]
    n_trials = trial_u.shape[1]
    n_chunks = n_chunks_for(n_samples, 1)
    first = _first_index(sample_weight, first_u, n_samples)
    indices[0] = first
    for j in range(n_features):
        centers[0, j] = X[first, j]
    closest = np.full(n_samples, np.inf)
    pot_c = np.empty(n_chunks)
    for c in prange(n_chunks):
        lo, hi = _chunk_range(c, n_chunks, n_samples)
        pot_c[c] = _update_closest(X, sample_weight, centers[0], closest, lo, hi)
    cand = np.empty((n_trials, n_features))
    cand_id = np.empty(n_trials, dtype=np.int64)
    trial_c = np.empty((n_chunks, n_trials))
    for m in range(1, n_clusters):
        _choose_candidates(X, closest, sample_weight, trial_u[m - 1], pot_c, cand, cand_id)
        for c in prange(n_chunks):
            lo, hi = _chunk_range(c, n_chunks, n_samples)
            _trial_potentials(X, sample_weight, closest, cand, lo, hi, trial_c[c])
        best = _best_trial(trial_c)
        indices[m] = cand_id[best]
        for j in range(n_features):
            centers[m, j] = cand[best, j]
        center = centers[m]
        for c in prange(n_chunks):
            lo, hi = _chunk_range(c, n_chunks, n_samples)
            pot_c[c] = _update_closest(X, sample_weight, center, closest, lo, hi)


@jit
def _sq_dist_T(XT, nb, center, dist):
    """``dist[i] = sum_j (XT[j, i] - center[j])^2``, vectorised over the points.

    Added in feature order without fused multiply-adds: the same bits as
    :func:`_sq_dist` on the row (k-means++ and the assignment stay as they were
    before the kernels were blocked).
    """
    for i in range(nb):
        dist[i] = 0.0
    for j in range(XT.shape[0]):
        cj = center[j]
        row = XT[j]
        for i in range(nb):
            t = row[i] - cj
            dist[i] += t * t


@jit
def _block_scratch(X, n_rows):
    """``XT`` (n_features, block) and ``dist`` (block,) for blocks of ``n_rows`` rows at most."""
    block = min(block_rows_for(X.shape[1]), max(n_rows, 1))
    return block, np.empty((X.shape[1], block)), np.empty(block)


@jit
def _nearest_centres(XT, nb, centers, dist, best_d, best):
    """Nearest centre of the block ``XT``: ``best[i]`` (first minimum) and ``best_d[i]``."""
    for i in range(nb):
        best_d[i] = np.inf
        best[i] = 0
    for c in range(centers.shape[0]):
        _sq_dist_T(XT, nb, centers[c], dist)
        for i in range(nb):
            closer = dist[i] < best_d[i]
            best_d[i] = dist[i] if closer else best_d[i]
            best[i] = c if closer else best[i]


@jit
def kmeans_assign(X, sample_weight, centers, labels, sums, counts):
    """Assign rows to their nearest centre and add per-cluster sums (serial).

    Distances run in blocks of :func:`~fastgmm._kernels._blocked.block_rows_for`
    rows with the points along the inner loop (:func:`_nearest_centres`); the sums
    are added row by row in row order.

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
    weighted = sample_weight.shape[0] > 0
    block, XT, dist = _block_scratch(X, n_samples)
    best_d = np.empty(block)
    best = np.empty(block, dtype=np.int64)
    inertia = 0.0
    for a in range(0, n_samples, block):
        nb = min(block, n_samples - a)
        load_transposed(X, a, nb, XT)  # float64 XT: exact upcast
        _nearest_centres(XT, nb, centers, dist, best_d, best)
        for r in range(nb):
            i = a + r
            k = best[r]
            labels[i] = k
            w = sample_weight[i] if weighted else 1.0
            inertia += w * best_d[r]
            counts[k] += w
            for j in range(n_features):
                sums[k, j] += w * X[i, j]
    return inertia


@jit
def _chunk_buffers(n_chunks, n_clusters, n_features):
    return (
        np.zeros((n_chunks, n_clusters, n_features)),
        np.zeros((n_chunks, n_clusters)),
        np.zeros(n_chunks),
    )


@jit(parallel=True)
def kmeans_assign_parallel(X, sample_weight, centers, labels, sums, counts):
    """Parallel :func:`kmeans_assign`, chunk-ordered reduction; ``sums``/``counts`` overwritten."""
    n_samples, n_features = X.shape
    n_clusters = centers.shape[0]
    n_chunks = n_chunks_for(n_samples, n_clusters * (n_features + 1))
    sums_c, counts_c, inertia_c = _chunk_buffers(n_chunks, n_clusters, n_features)
    for c in prange(n_chunks):
        a = c * n_samples // n_chunks
        b = (c + 1) * n_samples // n_chunks
        sw = sample_weight[a:b] if sample_weight.shape[0] > 0 else sample_weight[0:0]
        inertia_c[c] = kmeans_assign(X[a:b], sw, centers, labels[a:b], sums_c[c], counts_c[c])
    sum_chunks(sums_c, sums)  # serial helpers: see suffstats.chunk_buffers
    sum_chunks(counts_c, counts)
    inertia = inertia_c[0]
    for c in range(1, n_chunks):
        inertia += inertia_c[c]
    return inertia


@jit(parallel=True)
def distance_to_assigned(X, centers, labels, out):
    """Squared distance of every row to its assigned centre (parallel over rows)."""
    for i in prange(X.shape[0]):
        out[i] = _sq_dist(X, i, centers[labels[i]])
