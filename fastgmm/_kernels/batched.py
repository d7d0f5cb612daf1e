"""Many independent small mixtures at once: parallel over groups, serial inside each.

Groups are rows ``offsets[g]:offsets[g + 1]`` of one C-contiguous ``X`` (ragged
groups; equal-size groups are ``offsets = arange(n_groups + 1) * group_size``).
Parameters are stacked along a leading ``n_groups`` axis. Every group is fitted
by the serial kernels of :mod:`fastgmm._kernels.fit` inside one ``prange`` over
groups, so a group's result never depends on the others or on the thread count.

* :func:`kmeanspp_uniforms`: per-group seeds -> the uniform draws of k-means++,
  exactly those of ``numpy.random.RandomState(seed)`` (serial).
* ``init_many_kmeanspp_<cov>``: k-means++ seeding + initial parameters per group.
* ``fit_many_<cov>``: EM per group from the current parameters, in place.

These are njit-callable (call them from your own njit code, not inside a ``prange``);
:func:`fastgmm.fit_many` is the validated Python entry point.

Groups are processed in chunks of :data:`GROUPS_PER_CHUNK` consecutive groups (the
``prange`` runs over chunks; their number depends only on ``n_groups``). Each chunk
allocates one EM workspace (:mod:`fastgmm._kernels.small`) and reuses it for all of
its groups and iterations, so EM allocates nothing per group or iteration. A
group's result depends only on its rows and its draws: never on the chunking or
the thread count (tests/test_fit_many.py).
"""

import numpy as np
from numba import prange

from ._jit import jit
from .fit import (
    init_from_seeds_diag,
    init_from_seeds_full,
    init_from_seeds_spherical,
    init_from_seeds_tied,
)
from .kmeans import kmeans_plusplus
from .small import (
    em_workspace_diag,
    em_workspace_full,
    em_workspace_spherical,
    em_workspace_tied,
    fit_em_workspace_diag,
    fit_em_workspace_full,
    fit_em_workspace_spherical,
    fit_em_workspace_tied,
)

#: Consecutive groups per ``prange`` iteration (one workspace each). Small enough to
#: balance 2-64 threads on 10,000 groups, large enough that allocating the chunk's
#: workspace is negligible (benchmarks/bench_fit_many.py).
GROUPS_PER_CHUNK = 16


@jit
def kmeanspp_uniforms(seeds, first_u, trial_u):
    """Fill the k-means++ draws of every group from its own seed (serial).

    Group ``g`` gets the first ``1 + trial_u.shape[1] * trial_u.shape[2]`` values of
    ``numpy.random.RandomState(seeds[g]).uniform()``, the draws
    :class:`fastgmm.GaussianMixture` (``init_params="k-means++"``) makes. Reseeds
    the calling thread's Numba generator (``np.random``) as a side effect.

    Parameters
    ----------
    seeds : ndarray of shape (n_groups,), int64, each in [0, 2**32 - 1]
    first_u : ndarray of shape (n_groups,), float64, overwritten
    trial_u : ndarray of shape (n_groups, n_components - 1, n_local_trials), float64
        Overwritten; ``n_local_trials = 2 + int(log(n_components))``.
    """
    for g in range(seeds.shape[0]):
        np.random.seed(seeds[g])
        first_u[g] = np.random.random()
        for c in range(trial_u.shape[1]):
            for t in range(trial_u.shape[2]):
                trial_u[g, c, t] = np.random.random()


@jit
def n_group_chunks(n_groups):
    """Return the number of ``prange`` chunks for ``n_groups`` groups (thread-independent)."""
    return max(1, (n_groups + GROUPS_PER_CHUNK - 1) // GROUPS_PER_CHUNK)


@jit
def _chunk(c, n_chunks, offsets):
    """First and last group of chunk ``c`` and the largest group size in it."""
    n_groups = offsets.shape[0] - 1
    g0 = c * n_groups // n_chunks
    g1 = (c + 1) * n_groups // n_chunks
    rows = 0
    for g in range(g0, g1):
        rows = max(rows, offsets[g + 1] - offsets[g])
    return g0, g1, rows


@jit
def _group_weights(sample_weight, a, b):
    if sample_weight.shape[0] > 0:
        return sample_weight[a:b]
    return sample_weight[0:0]


# --------------------------------------------------------------------------- full


@jit(parallel=True)
def init_many_kmeanspp_full(
    X,
    offsets,
    sample_weight,
    first_u,
    trial_u,
    reg_covar,
    weights,
    means,
    covariances,
    precisions_chol,
    status,
):
    """Seed every group by k-means++ and set its initial parameters (parallel over groups).

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features), float32 or float64
    offsets : ndarray of shape (n_groups + 1,), int64
        Group ``g`` is ``X[offsets[g]:offsets[g + 1]]`` (at least ``n_components`` rows).
    sample_weight : ndarray of shape (n_samples,) or (0,), float64
    first_u, trial_u : ndarray, float64
        Per-group k-means++ draws (see :func:`kmeanspp_uniforms`).
    reg_covar : float
    weights : ndarray of shape (n_groups, n_components), float64, overwritten
    means : ndarray of shape (n_groups, n_components, n_features), float64, overwritten
    covariances, precisions_chol : ndarray, float64, overwritten
        ``(n_groups,) + shape`` of one model's arrays (e.g. (n_groups, n_components,
        n_features, n_features) for full).
    status : ndarray of shape (n_groups,), int64, overwritten
        0, or ``k + 1`` when component ``k`` of a group is ill-defined.
    """
    n_components, n_features = means.shape[1], means.shape[2]
    n_chunks = n_group_chunks(offsets.shape[0] - 1)
    for c in prange(n_chunks):
        g0, g1, rows = _chunk(c, n_chunks, offsets)
        centers = np.empty((n_components, n_features))
        indices = np.empty(n_components, dtype=np.int64)
        for g in range(g0, g1):
            a, b = offsets[g], offsets[g + 1]
            sw = _group_weights(sample_weight, a, b)
            kmeans_plusplus(X[a:b], sw, first_u[g], trial_u[g], centers, indices)
            status[g] = init_from_seeds_full(
                X[a:b], sw, indices, reg_covar, weights[g], means[g], covariances[g],
                precisions_chol[g],
            )  # fmt: skip


@jit(parallel=True)
def fit_many_full(
    X,
    offsets,
    sample_weight,
    max_iter,
    tol,
    reg_covar,
    weights,
    means,
    covariances,
    precisions_chol,
    lower_bound,
    n_iter,
    converged,
    status,
):
    """Run EM on every group from its current parameters (parallel over groups).

    Groups whose ``status`` is non-zero on entry are skipped. Shapes as in
    :func:`init_many_kmeanspp_full`; ``max_iter``, ``tol``, ``reg_covar`` as in
    :func:`fastgmm.kernels.fit_em_full`.

    Parameters
    ----------
    X, offsets, sample_weight : ndarray
    max_iter : int
    tol : float
    reg_covar : float
    weights, means, covariances, precisions_chol : ndarray, float64
        Initial parameters on entry, fitted ones on exit.
    lower_bound : ndarray of shape (n_groups,), float64, overwritten
    n_iter : ndarray of shape (n_groups,), int64, overwritten
    converged : ndarray of shape (n_groups,), bool, overwritten
    status : ndarray of shape (n_groups,), int64, read and updated
    """
    n_components, n_features = means.shape[1], means.shape[2]
    n_chunks = n_group_chunks(offsets.shape[0] - 1)
    for c in prange(n_chunks):
        g0, g1, rows = _chunk(c, n_chunks, offsets)
        workspace = em_workspace_full(rows, n_components, n_features)
        for g in range(g0, g1):
            if status[g] != 0:
                lower_bound[g] = np.nan
                n_iter[g] = 0
                converged[g] = False
                continue
            a, b = offsets[g], offsets[g + 1]
            lb, it, conv, st = fit_em_workspace_full(
                X[a:b],
                _group_weights(sample_weight, a, b),
                max_iter,
                tol,
                reg_covar,
                weights[g],
                means[g],
                covariances[g],
                precisions_chol[g],
                workspace,
            )
            lower_bound[g] = lb
            n_iter[g] = it
            converged[g] = conv
            status[g] = st


# --------------------------------------------------------------------------- tied


@jit(parallel=True)
def init_many_kmeanspp_tied(
    X,
    offsets,
    sample_weight,
    first_u,
    trial_u,
    reg_covar,
    weights,
    means,
    covariances,
    precisions_chol,
    status,
):
    """Seed every group and initialise it (tied); see :func:`init_many_kmeanspp_full`."""
    n_components, n_features = means.shape[1], means.shape[2]
    n_chunks = n_group_chunks(offsets.shape[0] - 1)
    for c in prange(n_chunks):
        g0, g1, rows = _chunk(c, n_chunks, offsets)
        centers = np.empty((n_components, n_features))
        indices = np.empty(n_components, dtype=np.int64)
        for g in range(g0, g1):
            a, b = offsets[g], offsets[g + 1]
            sw = _group_weights(sample_weight, a, b)
            kmeans_plusplus(X[a:b], sw, first_u[g], trial_u[g], centers, indices)
            status[g] = init_from_seeds_tied(
                X[a:b], sw, indices, reg_covar, weights[g], means[g], covariances[g],
                precisions_chol[g],
            )  # fmt: skip


@jit(parallel=True)
def fit_many_tied(
    X,
    offsets,
    sample_weight,
    max_iter,
    tol,
    reg_covar,
    weights,
    means,
    covariances,
    precisions_chol,
    lower_bound,
    n_iter,
    converged,
    status,
):
    """Run EM on every group (tied); see :func:`fit_many_full`."""
    n_components, n_features = means.shape[1], means.shape[2]
    n_chunks = n_group_chunks(offsets.shape[0] - 1)
    for c in prange(n_chunks):
        g0, g1, rows = _chunk(c, n_chunks, offsets)
        workspace = em_workspace_tied(rows, n_components, n_features)
        for g in range(g0, g1):
            if status[g] != 0:
                lower_bound[g] = np.nan
                n_iter[g] = 0
                converged[g] = False
                continue
            a, b = offsets[g], offsets[g + 1]
            lb, it, conv, st = fit_em_workspace_tied(
                X[a:b],
                _group_weights(sample_weight, a, b),
                max_iter,
                tol,
                reg_covar,
                weights[g],
                means[g],
                covariances[g],
                precisions_chol[g],
                workspace,
            )
            lower_bound[g] = lb
            n_iter[g] = it
            converged[g] = conv
            status[g] = st


# --------------------------------------------------------------------------- diag


@jit(parallel=True)
def init_many_kmeanspp_diag(
    X,
    offsets,
    sample_weight,
    first_u,
    trial_u,
    reg_covar,
    weights,
    means,
    covariances,
    precisions_chol,
    status,
):
    """Seed every group and initialise it (diag); see :func:`init_many_kmeanspp_full`."""
    n_components, n_features = means.shape[1], means.shape[2]
    n_chunks = n_group_chunks(offsets.shape[0] - 1)
    for c in prange(n_chunks):
        g0, g1, rows = _chunk(c, n_chunks, offsets)
        centers = np.empty((n_components, n_features))
        indices = np.empty(n_components, dtype=np.int64)
        for g in range(g0, g1):
            a, b = offsets[g], offsets[g + 1]
            sw = _group_weights(sample_weight, a, b)
            kmeans_plusplus(X[a:b], sw, first_u[g], trial_u[g], centers, indices)
            status[g] = init_from_seeds_diag(
                X[a:b], sw, indices, reg_covar, weights[g], means[g], covariances[g],
                precisions_chol[g],
            )  # fmt: skip


@jit(parallel=True)
def fit_many_diag(
    X,
    offsets,
    sample_weight,
    max_iter,
    tol,
    reg_covar,
    weights,
    means,
    covariances,
    precisions_chol,
    lower_bound,
    n_iter,
    converged,
    status,
):
    """Run EM on every group (diag); see :func:`fit_many_full`."""
    n_components, n_features = means.shape[1], means.shape[2]
    n_chunks = n_group_chunks(offsets.shape[0] - 1)
    for c in prange(n_chunks):
        g0, g1, rows = _chunk(c, n_chunks, offsets)
        workspace = em_workspace_diag(rows, n_components, n_features)
        for g in range(g0, g1):
            if status[g] != 0:
                lower_bound[g] = np.nan
                n_iter[g] = 0
                converged[g] = False
                continue
            a, b = offsets[g], offsets[g + 1]
            lb, it, conv, st = fit_em_workspace_diag(
                X[a:b],
                _group_weights(sample_weight, a, b),
                max_iter,
                tol,
                reg_covar,
                weights[g],
                means[g],
                covariances[g],
                precisions_chol[g],
                workspace,
            )
            lower_bound[g] = lb
            n_iter[g] = it
            converged[g] = conv
            status[g] = st


# --------------------------------------------------------------------------- spherical


@jit(parallel=True)
def init_many_kmeanspp_spherical(
    X,
    offsets,
    sample_weight,
    first_u,
    trial_u,
    reg_covar,
    weights,
    means,
    covariances,
    precisions_chol,
    status,
):
    """Seed every group and initialise it (spherical); see :func:`init_many_kmeanspp_full`."""
    n_components, n_features = means.shape[1], means.shape[2]
    n_chunks = n_group_chunks(offsets.shape[0] - 1)
    for c in prange(n_chunks):
        g0, g1, rows = _chunk(c, n_chunks, offsets)
        centers = np.empty((n_components, n_features))
        indices = np.empty(n_components, dtype=np.int64)
        for g in range(g0, g1):
            a, b = offsets[g], offsets[g + 1]
            sw = _group_weights(sample_weight, a, b)
            kmeans_plusplus(X[a:b], sw, first_u[g], trial_u[g], centers, indices)
            status[g] = init_from_seeds_spherical(
                X[a:b], sw, indices, reg_covar, weights[g], means[g], covariances[g],
                precisions_chol[g],
            )  # fmt: skip


@jit(parallel=True)
def fit_many_spherical(
    X,
    offsets,
    sample_weight,
    max_iter,
    tol,
    reg_covar,
    weights,
    means,
    covariances,
    precisions_chol,
    lower_bound,
    n_iter,
    converged,
    status,
):
    """Run EM on every group (spherical); see :func:`fit_many_full`."""
    n_components, n_features = means.shape[1], means.shape[2]
    n_chunks = n_group_chunks(offsets.shape[0] - 1)
    for c in prange(n_chunks):
        g0, g1, rows = _chunk(c, n_chunks, offsets)
        workspace = em_workspace_spherical(rows, n_components, n_features)
        for g in range(g0, g1):
            if status[g] != 0:
                lower_bound[g] = np.nan
                n_iter[g] = 0
                converged[g] = False
                continue
            a, b = offsets[g], offsets[g + 1]
            lb, it, conv, st = fit_em_workspace_spherical(
                X[a:b],
                _group_weights(sample_weight, a, b),
                max_iter,
                tol,
                reg_covar,
                weights[g],
                means[g],
                covariances[g],
                precisions_chol[g],
                workspace,
            )
            lower_bound[g] = lb
            n_iter[g] = it
            converged[g] = conv
            status[g] = st
