"""Pure-NumPy twin of every fastgmm kernel: same names, same signatures.

Vectorised and obviously correct rather than fast; it is the oracle that the
Numba kernels are tested against (tests/test_kernels.py) and the ``"numpy"``
backend of :class:`fastgmm.GaussianMixture`, so users can benchmark the two
through one class. It never imports :mod:`fastgmm._kernels`.

Parallel drivers of the kernels (``*_parallel``) are plain aliases here.
"""

from __future__ import annotations

import numpy as np

LOG_2PI = np.log(2.0 * np.pi)
NK_EPS = 10.0 * np.finfo(np.float64).eps


# --------------------------------------------------------------------------- linalg
def cholesky_lower(a, out):
    """Lower Cholesky factor of ``a`` into ``out``; False if not positive definite."""
    try:
        out[:] = np.linalg.cholesky(np.tril(a) + np.tril(a, -1).T)
    except np.linalg.LinAlgError:
        return False
    return True


def precision_cholesky_from_covariance(cov, work, out):
    """Upper ``U`` with ``inv(cov) = U @ U.T``; False if ``cov`` is not positive definite."""
    if not cholesky_lower(cov, work):
        return False
    n = cov.shape[0]
    # inv(L) by triangular solve against the identity (NumPy has no solve_triangular).
    inv_l = np.linalg.solve(work, np.eye(n))
    out[:] = np.triu(inv_l.T)
    return True


# --------------------------------------------------------------------------- log-densities
def _gaussian_const(n_features, log_det):
    return -0.5 * n_features * LOG_2PI + log_det


def log_gaussian_prob_full(X, means, precisions_chol, out):
    """Twin of :func:`fastgmm._kernels.logprob.log_gaussian_prob_full`."""
    n_features = X.shape[1]
    for k in range(means.shape[0]):
        y = (X - means[k]) @ precisions_chol[k]
        log_det = np.log(np.diagonal(precisions_chol[k])).sum()
        out[:, k] = _gaussian_const(n_features, log_det) - 0.5 * np.einsum("ij,ij->i", y, y)


def log_gaussian_prob_tied(X, means, precisions_chol, out):
    """Twin of :func:`fastgmm._kernels.logprob.log_gaussian_prob_tied`."""
    n_features = X.shape[1]
    log_det = np.log(np.diagonal(precisions_chol)).sum()
    for k in range(means.shape[0]):
        y = (X - means[k]) @ precisions_chol
        out[:, k] = _gaussian_const(n_features, log_det) - 0.5 * np.einsum("ij,ij->i", y, y)


def log_gaussian_prob_diag(X, means, precisions_chol, out):
    """Twin of :func:`fastgmm._kernels.logprob.log_gaussian_prob_diag`."""
    n_features = X.shape[1]
    for k in range(means.shape[0]):
        y = (X - means[k]) * precisions_chol[k]
        log_det = np.log(precisions_chol[k]).sum()
        out[:, k] = _gaussian_const(n_features, log_det) - 0.5 * np.einsum("ij,ij->i", y, y)


def log_gaussian_prob_spherical(X, means, precisions_chol, out):
    """Twin of :func:`fastgmm._kernels.logprob.log_gaussian_prob_spherical`."""
    n_features = X.shape[1]
    for k in range(means.shape[0]):
        d = X - means[k]
        log_det = n_features * np.log(precisions_chol[k])
        out[:, k] = _gaussian_const(n_features, log_det) - 0.5 * np.einsum("ij,ij->i", d, d) * (
            precisions_chol[k] ** 2
        )


# --------------------------------------------------------------------------- responsibilities
def add_log_weights(log_prob, log_weights):
    """Twin of :func:`fastgmm._kernels.resp.add_log_weights`."""
    log_prob += log_weights


def normalize_log_resp(weighted_log_prob, log_prob_norm):
    """Twin of :func:`fastgmm._kernels.resp.normalize_log_resp`."""
    m = weighted_log_prob.max(axis=1, keepdims=True)
    finite = np.isfinite(m[:, 0])
    safe_m = np.where(np.isfinite(m), m, 0.0)
    with np.errstate(divide="ignore"):
        norm = safe_m[:, 0] + np.log(np.exp(weighted_log_prob - safe_m).sum(axis=1))
    norm[~finite] = -np.inf
    log_prob_norm[:] = norm
    weighted_log_prob[finite] -= norm[finite, np.newaxis]


def argmax_rows(a, labels):
    """Twin of :func:`fastgmm._kernels.resp.argmax_rows`."""
    labels[:] = a.argmax(axis=1)


def resp_from_log_prob(log_prob, log_weights, log_prob_norm, sample_weight, hard):
    """Twin of :func:`fastgmm._kernels.suffstats.resp_from_log_prob`."""
    add_log_weights(log_prob, log_weights)
    normalize_log_resp(log_prob, log_prob_norm)
    w = sample_weight if sample_weight.shape[0] > 0 else np.ones(log_prob.shape[0])
    nz = w != 0
    total = float(np.sum(w[nz] * log_prob_norm[nz]))
    if hard:
        labels = log_prob.argmax(axis=1)
        log_prob[:] = 0.0
        log_prob[np.arange(log_prob.shape[0]), labels] = 1.0
    else:
        np.exp(log_prob, out=log_prob)
    return total


# --------------------------------------------------------------------------- statistics
def _weighted_resp(sample_weight, resp):
    if sample_weight.shape[0] > 0:
        return resp * sample_weight[:, np.newaxis]
    return resp


def accumulate_full(X, sample_weight, resp, shift, nk, sx, sxx):
    """Twin of :func:`fastgmm._kernels.suffstats.accumulate_full` (fills both triangles)."""
    r = _weighted_resp(sample_weight, resp)
    nk += r.sum(axis=0)
    for k in range(shift.shape[0]):
        d = X - shift[k]
        sx[k] += r[:, k] @ d
        sxx[k] += (d * r[:, k, np.newaxis]).T @ d


def accumulate_tied(X, sample_weight, resp, shift, nk, sx, sxx):
    """Twin of :func:`fastgmm._kernels.suffstats.accumulate_tied` (fills both triangles)."""
    r = _weighted_resp(sample_weight, resp)
    nk += r.sum(axis=0)
    for k in range(shift.shape[0]):
        d = X - shift[k]
        sx[k] += r[:, k] @ d
        sxx += (d * r[:, k, np.newaxis]).T @ d


def accumulate_diag(X, sample_weight, resp, shift, nk, sx, sxx):
    """Twin of :func:`fastgmm._kernels.suffstats.accumulate_diag`."""
    r = _weighted_resp(sample_weight, resp)
    nk += r.sum(axis=0)
    for k in range(shift.shape[0]):
        d = X - shift[k]
        sx[k] += r[:, k] @ d
        sxx[k] += r[:, k] @ (d * d)


def accumulate_spherical(X, sample_weight, resp, shift, nk, sx, sxx):
    """Twin of :func:`fastgmm._kernels.suffstats.accumulate_spherical`."""
    r = _weighted_resp(sample_weight, resp)
    nk += r.sum(axis=0)
    for k in range(shift.shape[0]):
        d = X - shift[k]
        sx[k] += r[:, k] @ d
        sxx[k] += r[:, k] @ np.einsum("ij,ij->i", d, d)


def _fused(log_prob_fn, accumulate_fn):
    def suffstats(X, sample_weight, weights, means, precisions_chol, hard, nk, sx, sxx):
        lp = np.empty((X.shape[0], means.shape[0]))
        log_prob_fn(X, means, precisions_chol, lp)
        with np.errstate(divide="ignore"):
            log_weights = np.log(weights)
        total = resp_from_log_prob(lp, log_weights, np.empty(X.shape[0]), sample_weight, hard)
        accumulate_fn(X, sample_weight, lp, means, nk, sx, sxx)
        return total

    suffstats.__doc__ = (
        "Twin of the fused serial statistics kernel: E-step, then "
        f"``{accumulate_fn.__name__}`` centred at ``means``; returns sum of w log p(x)."
    )
    return suffstats


suffstats_full = _fused(log_gaussian_prob_full, accumulate_full)
suffstats_tied = _fused(log_gaussian_prob_tied, accumulate_tied)
suffstats_diag = _fused(log_gaussian_prob_diag, accumulate_diag)
suffstats_spherical = _fused(log_gaussian_prob_spherical, accumulate_spherical)


def _overwriting(serial):
    def parallel(X, sample_weight, weights, means, precisions_chol, hard, nk, sx, sxx):
        nk[...] = 0.0
        sx[...] = 0.0
        sxx[...] = 0.0
        return serial(X, sample_weight, weights, means, precisions_chol, hard, nk, sx, sxx)

    parallel.__doc__ = "Twin of the parallel driver: outputs are overwritten, not added to."
    return parallel


suffstats_full_parallel = _overwriting(suffstats_full)
suffstats_tied_parallel = _overwriting(suffstats_tied)
suffstats_diag_parallel = _overwriting(suffstats_diag)
suffstats_spherical_parallel = _overwriting(suffstats_spherical)


# --------------------------------------------------------------------------- M-step
def _weights_from_nk(nk, weights):
    n = nk + NK_EPS
    weights[:] = n / n.sum()
    return n


def m_step_full(nk, sx, sxx, shift, reg_covar, weights, means, covariances, precisions_chol):
    """Twin of :func:`fastgmm._kernels.mstep.m_step_full` (reads the upper triangle)."""
    n = _weights_from_nk(nk, weights)
    d = sx / n[:, np.newaxis]
    n_features = sx.shape[1]
    upper = np.triu(sxx)
    sym = upper + np.triu(upper, 1).transpose(0, 2, 1)
    covariances[:] = sym / n[:, np.newaxis, np.newaxis] - d[:, :, np.newaxis] * d[:, np.newaxis]
    covariances[:, np.arange(n_features), np.arange(n_features)] += reg_covar
    means[:] = shift + d
    work = np.empty((n_features, n_features))
    for k in range(sx.shape[0]):
        if not precision_cholesky_from_covariance(covariances[k], work, precisions_chol[k]):
            return k + 1
    return 0


def m_step_tied(nk, sx, sxx, shift, reg_covar, weights, means, covariances, precisions_chol):
    """Twin of :func:`fastgmm._kernels.mstep.m_step_tied` (reads the upper triangle)."""
    n = _weights_from_nk(nk, weights)
    d = sx / n[:, np.newaxis]
    upper = np.triu(sxx)
    sym = upper + np.triu(upper, 1).T
    covariances[:] = (sym - (d * n[:, np.newaxis]).T @ d) / n.sum()
    covariances[np.diag_indices_from(covariances)] += reg_covar
    means[:] = shift + d
    work = np.empty_like(covariances)
    return 0 if precision_cholesky_from_covariance(covariances, work, precisions_chol) else 1


def m_step_diag(nk, sx, sxx, shift, reg_covar, weights, means, covariances, precisions_chol):
    """Twin of :func:`fastgmm._kernels.mstep.m_step_diag`."""
    n = _weights_from_nk(nk, weights)
    d = sx / n[:, np.newaxis]
    covariances[:] = sxx / n[:, np.newaxis] - d * d + reg_covar
    means[:] = shift + d
    bad = np.flatnonzero(~(covariances > 0).all(axis=1))
    with np.errstate(invalid="ignore", divide="ignore"):
        precisions_chol[:] = 1.0 / np.sqrt(covariances)
    return int(bad[0]) + 1 if bad.size else 0


def m_step_spherical(nk, sx, sxx, shift, reg_covar, weights, means, covariances, precisions_chol):
    """Twin of :func:`fastgmm._kernels.mstep.m_step_spherical`."""
    n = _weights_from_nk(nk, weights)
    d = sx / n[:, np.newaxis]
    covariances[:] = (sxx / n - (d * d).sum(axis=1)) / sx.shape[1] + reg_covar
    means[:] = shift + d
    bad = np.flatnonzero(~(covariances > 0))
    with np.errstate(invalid="ignore", divide="ignore"):
        precisions_chol[:] = 1.0 / np.sqrt(covariances)
    return int(bad[0]) + 1 if bad.size else 0


# --------------------------------------------------------------------------- streamed E-step
def _e_step(log_prob_fn):
    def e_step(X, weights, means, precisions_chol, log_prob_norm, labels, log_resp):
        lp = np.empty((X.shape[0], means.shape[0]))
        log_prob_fn(X, means, precisions_chol, lp)
        with np.errstate(divide="ignore"):
            lp += np.log(weights)
        if labels.shape[0] > 0:
            labels[:] = lp.argmax(axis=1)
        norm = np.empty(X.shape[0])
        normalize_log_resp(lp, norm)
        if log_prob_norm.shape[0] > 0:
            log_prob_norm[:] = norm
        if log_resp.shape[0] > 0:
            log_resp[:] = lp

    e_step.__doc__ = "Twin of the streamed E-step driver (writes the non-empty outputs)."
    return e_step


e_step_full_parallel = _e_step(log_gaussian_prob_full)
e_step_tied_parallel = _e_step(log_gaussian_prob_tied)
e_step_diag_parallel = _e_step(log_gaussian_prob_diag)
e_step_spherical_parallel = _e_step(log_gaussian_prob_spherical)


# --------------------------------------------------------------------------- k-means
def _sq_dists(X, centers):
    return ((X[:, np.newaxis, :] - centers[np.newaxis, :, :]) ** 2).sum(axis=2)


def _pick_by_potential(dist_sq, sample_weight, target):
    w = sample_weight if sample_weight.shape[0] > 0 else np.ones(dist_sq.shape[0])
    mass = dist_sq * w
    idx = int(np.searchsorted(np.cumsum(mass), target, side="right"))
    if idx >= dist_sq.shape[0]:
        pos = np.flatnonzero(mass > 0)
        idx = int(pos[-1]) if pos.size else dist_sq.shape[0] - 1
    return idx


def kmeans_plusplus(X, sample_weight, first_u, trial_u, centers, indices):
    """Twin of :func:`fastgmm._kernels.kmeans.kmeans_plusplus`."""
    n_samples = X.shape[0]
    w = sample_weight if sample_weight.shape[0] > 0 else np.ones(n_samples)
    if sample_weight.shape[0] > 0:
        first = _pick_by_potential(np.ones(n_samples), sample_weight, first_u * w.sum())
    else:
        first = min(int(first_u * n_samples), n_samples - 1)
    indices[0] = first
    centers[0] = X[first]
    closest = _sq_dists(X, centers[:1])[:, 0]
    pot = closest @ w
    for c in range(1, centers.shape[0]):
        cand = [_pick_by_potential(closest, sample_weight, u * pot) for u in trial_u[c - 1]]
        d = np.minimum(closest[:, np.newaxis], _sq_dists(X, X[cand]))
        pots = w @ d
        best = int(np.argmin(pots))
        indices[c] = cand[best]
        centers[c] = X[cand[best]]
        closest = d[:, best]
        pot = closest @ w


#: Twin of :func:`fastgmm._kernels.kmeans.kmeans_plusplus_parallel` (same rows as the serial one).
kmeans_plusplus_parallel = kmeans_plusplus


def kmeans_assign(X, sample_weight, centers, labels, sums, counts):
    """Twin of :func:`fastgmm._kernels.kmeans.kmeans_assign`."""
    d = _sq_dists(X, centers)
    labels[:] = d.argmin(axis=1)
    w = sample_weight if sample_weight.shape[0] > 0 else np.ones(X.shape[0])
    for c in range(centers.shape[0]):
        mask = labels == c
        counts[c] += w[mask].sum()
        sums[c] += w[mask] @ X[mask]
    return float(w @ d[np.arange(X.shape[0]), labels])


def kmeans_assign_parallel(X, sample_weight, centers, labels, sums, counts):
    """Twin of the parallel driver: ``sums``/``counts`` overwritten."""
    sums[...] = 0.0
    counts[...] = 0.0
    return kmeans_assign(X, sample_weight, centers, labels, sums, counts)


def distance_to_assigned(X, centers, labels, out):
    """Twin of :func:`fastgmm._kernels.kmeans.distance_to_assigned`."""
    out[:] = ((X - centers[labels]) ** 2).sum(axis=1)
