"""Allocation-free EM for small data sets (one mixture per group of a few hundred rows).

The row-parallel kernels of :mod:`fastgmm._kernels.suffstats` are built for large
``n_samples``; for a group of a few hundred rows their per-iteration set-up (about
fifteen scratch arrays, a transposed copy of every block) costs as much as the
arithmetic. The kernels here take that set-up out of the EM loop:

* ``em_workspace_<cov>(n_rows, n_components, n_features)`` allocates every scratch
  array one EM fit needs (a tuple: pass it back unchanged). Allocate it once per
  ``prange`` chunk and reuse it for every group and iteration of the chunk: a fit
  only reads what it wrote itself, so results never depend on earlier use.
* ``fit_em_workspace_<cov>(..., workspace)``: EM from the given parameters, serial,
  allocating nothing per iteration. Data of at most :func:`workspace_rows` rows
  (1024 at ``n_features=2``) are transposed to float64 ``(n_features, n_rows)`` once
  per fit; larger data are processed in blocks of that many rows.

Each iteration is one fused pass per block: log-densities with the points along
the inner loop (vectorised), log-sum-exp with the vectorised ``exp_flush64`` of
:mod:`fastgmm._kernels._blocked`, then the statistics centred at the current
means, then the estimator's M-step (:mod:`fastgmm._kernels.mstep`, ``10 eps``
added to ``nk``, ``reg_covar`` to the variances). Arithmetic is float64 for either
dtype of ``X``. The stopping rule is :func:`fastgmm._kernels.fit.fit_em_full`'s, so
fits equal :class:`fastgmm.GaussianMixture` to rounding (tests/test_fit_many.py).
Speed: benchmarks/bench_fit_many.py.
"""

import numpy as np

from ._blocked import exp_flush64
from ._blocked_resp import _sum_log_sum_exp
from ._jit import jit
from .mstep import m_step_diag, m_step_full, m_step_spherical, m_step_tied

LOG_2PI = np.log(2.0 * np.pi)


@jit
def workspace_rows(n_rows, n_features):
    """Return the block length of a workspace for ``n_rows`` rows (1 to 1024).

    Long enough that the inner loops over points vectorise, short enough that the
    ``3 * n_features + n_components + 3`` block rows stay in L1/L2.
    """
    cap = min(max(4096 // max(n_features, 1), 64), 1024)
    return max(1, min(n_rows, cap))


@jit
def _scratch(n_rows, n_components, n_features):
    length = workspace_rows(n_rows, n_features)
    work = np.empty((3 * n_features + n_components + 3, length))
    bits = np.empty((2, length), dtype=np.int64)
    vec = np.empty((2, n_components))  # const, nk
    sx = np.empty((n_components, n_features))
    return work, bits, vec, sx


@jit
def em_workspace_full(n_rows, n_components, n_features):
    """Allocate the scratch arrays of :func:`fit_em_workspace_full` (serial).

    Parameters
    ----------
    n_rows : int
        Largest number of rows the workspace will be used for (larger data still
        work, processed in blocks of :func:`workspace_rows` rows).
    n_components, n_features : int

    Returns
    -------
    workspace : tuple of ndarray
        Opaque; pass it to ``fit_em_workspace_full`` unchanged.
    """
    work, bits, vec, sx = _scratch(n_rows, n_components, n_features)
    return work, bits, vec, sx, np.empty((n_components, n_features, n_features))


@jit
def em_workspace_tied(n_rows, n_components, n_features):
    """Allocate the scratch of :func:`fit_em_workspace_tied`; see :func:`em_workspace_full`."""
    work, bits, vec, sx = _scratch(n_rows, n_components, n_features)
    return work, bits, vec, sx, np.empty((n_features, n_features))


@jit
def em_workspace_diag(n_rows, n_components, n_features):
    """Allocate the scratch of :func:`fit_em_workspace_diag`; see :func:`em_workspace_full`."""
    work, bits, vec, sx = _scratch(n_rows, n_components, n_features)
    return work, bits, vec, sx, np.empty((n_components, n_features))


@jit
def em_workspace_spherical(n_rows, n_components, n_features):
    """Allocate the scratch of :func:`fit_em_workspace_spherical`; see :func:`em_workspace_full`."""
    work, bits, vec, sx = _scratch(n_rows, n_components, n_features)
    return work, bits, vec, sx, np.empty(n_components)


@jit
def _fits(workspace, n_rows, n_components, n_features):
    """Whether ``workspace`` is large enough for data of this shape."""
    work, bits, vec, sx, sxx = workspace
    return (
        work.shape[0] == 3 * n_features + n_components + 3
        and work.shape[1] >= workspace_rows(n_rows, n_features)
        and sx.shape[0] == n_components
        and sx.shape[1] == n_features
    )


@jit
def _load(X, a, nb, XT):
    """``XT[m, i] = float64(X[a + i, m])`` for ``i < nb``."""
    for i in range(nb):
        for m in range(X.shape[1]):
            XT[m, i] = X[a + i, m]


# --------------------------------------------------------------------------- E-step pieces
@jit(reductions=True)
def _centre(XT, nb, mean, dT):
    for m in range(XT.shape[0]):
        c = mean[m]
        for i in range(nb):
            dT[m, i] = XT[m, i] - c


@jit(reductions=True)
def _tri_sq(dT, nb, U, y, sq):
    """``sq[i] = ||d_i @ U||^2`` for upper-triangular ``U`` (rows of ``dT``: features)."""
    for i in range(nb):
        sq[i] = 0.0
    for j in range(dT.shape[0]):
        u = U[0, j]
        for i in range(nb):
            y[i] = u * dT[0, i]
        for m in range(1, j + 1):
            u = U[m, j]
            for i in range(nb):
                y[i] += u * dT[m, i]
        for i in range(nb):
            sq[i] += y[i] * y[i]


@jit(reductions=True)
def _resp(lpT, nb, sample_weight, a, norm, s, bits):
    """Log-densities plus log-weights (n_components, nb) -> weighted responsibilities.

    ``norm`` is overwritten (row maxima); ``lpT`` row ``k`` becomes ``w_i r_ik``.
    Returns ``sum_i w_i log p(x_i)`` over rows with ``w_i != 0``.
    """
    n_components = lpT.shape[0]
    for i in range(nb):
        norm[i] = lpT[0, i]
    for k in range(1, n_components):
        for i in range(nb):
            v = lpT[k, i]
            norm[i] = v if v > norm[i] else norm[i]
    for i in range(nb):  # -inf everywhere: responsibilities 0, log p = -inf
        norm[i] = norm[i] if norm[i] > -np.inf else 0.0
    for k in range(n_components):
        row = lpT[k]
        for i in range(nb):
            row[i] = row[i] - norm[i]
        exp_flush64(row, nb, bits)  # float64 workspace
    for i in range(nb):
        s[i] = 0.0
    for k in range(n_components):
        for i in range(nb):
            s[i] += lpT[k, i]
    if sample_weight.shape[0] > 0:
        total = 0.0
        for i in range(nb):
            w = sample_weight[a + i]
            total += w * (norm[i] + np.log(s[i])) if w != 0.0 else 0.0
            s[i] = w / s[i] if s[i] > 0.0 else 0.0
    else:
        total = _sum_log_sum_exp(norm, s, nb, n_components)
        for i in range(nb):
            s[i] = 1.0 / s[i] if s[i] > 0.0 else 0.0
    for k in range(n_components):
        for i in range(nb):
            lpT[k, i] *= s[i]
    return total


@jit(reductions=True)
def _stats_centred(XT, nb, r, mean, dT, rdT, sx):
    """``dT = XT - mean``, ``rdT = r dT``, ``sx += sum_i rdT``; return ``sum_i r``."""
    t = 0.0
    for i in range(nb):
        t += r[i]
    for m in range(XT.shape[0]):
        c = mean[m]
        acc = 0.0
        for i in range(nb):
            v = XT[m, i] - c
            dT[m, i] = v
            w = r[i] * v
            rdT[m, i] = w
            acc += w
        sx[m] += acc
    return t


@jit(reductions=True)
def _upper(rdT, dT, nb, sxx):
    """``sxx[a, b] += sum_i rdT[a, i] dT[b, i]`` for ``a <= b``."""
    n_features = dT.shape[0]
    for a in range(n_features):
        for b in range(a, n_features):
            t = 0.0
            for i in range(nb):
                t += rdT[a, i] * dT[b, i]
            sxx[a, b] += t


@jit(reductions=True)
def _diag_stats(XT, nb, r, mean, sx, sxx_row):
    """Add one component's ``sx`` and diagonal ``sxx`` (skipped if ``sxx_row`` is empty).

    Returns ``sum_i r_i`` and ``sum_i r_i ||x_i - mean||^2``.
    """
    t = 0.0
    for i in range(nb):
        t += r[i]
    tr = 0.0
    for m in range(XT.shape[0]):
        c = mean[m]
        t1 = 0.0
        t2 = 0.0
        for i in range(nb):
            v = XT[m, i] - c
            w = r[i] * v
            t1 += w
            t2 += w * v
        sx[m] += t1
        if sxx_row.shape[0] > 0:
            sxx_row[m] += t2
        tr += t2
    return t, tr


@jit
def _done(lower_bound, ll, tw, tol):
    new = ll / tw
    return new, abs(new - lower_bound) < tol


@jit
def _total_weight(n_samples, sample_weight):
    if sample_weight.shape[0] == 0:
        return float(n_samples)
    return sample_weight.sum()


@jit
def _views(workspace, n_features, n_components):
    work, bits, vec, sx, sxx = workspace
    d, k = n_features, n_components
    return (
        work[0:d],
        work[d : 2 * d],
        work[2 * d : 3 * d],
        work[3 * d : 3 * d + k],
        work[3 * d + k],
        work[3 * d + k + 1],
        work[3 * d + k + 2],
    )


# --------------------------------------------------------------------------- passes
@jit
def _pass_full(X, sample_weight, transposed, weights, means, precisions_chol, workspace):
    """One E-step + statistics pass, full; statistics overwritten. Returns sum w log p."""
    work, bits, vec, sx, sxx = workspace
    n_samples, d = X.shape
    n_components = means.shape[0]
    XT, dT, rdT, lpT, norm, s, y = _views(workspace, d, n_components)
    const, nk = vec[0], vec[1]
    for k in range(n_components):
        log_det = 0.0
        for j in range(d):
            log_det += np.log(precisions_chol[k, j, j])
        const[k] = (-0.5 * d * LOG_2PI + log_det) + np.log(weights[k])
    nk[:] = 0.0
    sx[:] = 0.0
    sxx[:] = 0.0
    length = work.shape[1]
    total = 0.0
    for a in range(0, n_samples, length):
        nb = min(length, n_samples - a)
        if not transposed:
            _load(X, a, nb, XT)
        for k in range(n_components):
            _centre(XT, nb, means[k], dT)
            _tri_sq(dT, nb, precisions_chol[k], y, lpT[k])
            c = const[k]
            for i in range(nb):
                lpT[k, i] = c - 0.5 * lpT[k, i]
        total += _resp(lpT, nb, sample_weight, a, norm, s, bits)
        for k in range(n_components):
            t = _stats_centred(XT, nb, lpT[k], means[k], dT, rdT, sx[k])
            if t != 0.0:
                nk[k] += t
                _upper(rdT, dT, nb, sxx[k])
    return total


@jit
def _pass_tied(X, sample_weight, transposed, weights, means, precisions_chol, workspace):
    """One E-step + statistics pass, tied; see :func:`_pass_full`."""
    work, bits, vec, sx, sxx = workspace
    n_samples, d = X.shape
    n_components = means.shape[0]
    XT, dT, rdT, lpT, norm, s, y = _views(workspace, d, n_components)
    const, nk = vec[0], vec[1]
    log_det = 0.0
    for j in range(d):
        log_det += np.log(precisions_chol[j, j])
    for k in range(n_components):
        const[k] = (-0.5 * d * LOG_2PI + log_det) + np.log(weights[k])
    nk[:] = 0.0
    sx[:] = 0.0
    sxx[:] = 0.0
    length = work.shape[1]
    total = 0.0
    for a in range(0, n_samples, length):
        nb = min(length, n_samples - a)
        if not transposed:
            _load(X, a, nb, XT)
        for k in range(n_components):
            _centre(XT, nb, means[k], dT)
            _tri_sq(dT, nb, precisions_chol, y, lpT[k])
            c = const[k]
            for i in range(nb):
                lpT[k, i] = c - 0.5 * lpT[k, i]
        total += _resp(lpT, nb, sample_weight, a, norm, s, bits)
        for k in range(n_components):
            t = _stats_centred(XT, nb, lpT[k], means[k], dT, rdT, sx[k])
            if t != 0.0:
                nk[k] += t
                _upper(rdT, dT, nb, sxx)
    return total


@jit(reductions=True)
def _diag_sq(XT, nb, mean, prec, sq):
    for i in range(nb):
        sq[i] = 0.0
    for m in range(XT.shape[0]):
        c = mean[m]
        p = prec[m]
        for i in range(nb):
            v = (XT[m, i] - c) * p
            sq[i] += v * v


@jit
def _pass_diag(X, sample_weight, transposed, weights, means, precisions_chol, workspace):
    """One E-step + statistics pass, diag; see :func:`_pass_full`."""
    work, bits, vec, sx, sxx = workspace
    n_samples, d = X.shape
    n_components = means.shape[0]
    XT, dT, rdT, lpT, norm, s, y = _views(workspace, d, n_components)
    const, nk = vec[0], vec[1]
    for k in range(n_components):
        log_det = 0.0
        for j in range(d):
            log_det += np.log(precisions_chol[k, j])
        const[k] = (-0.5 * d * LOG_2PI + log_det) + np.log(weights[k])
    nk[:] = 0.0
    sx[:] = 0.0
    sxx[:] = 0.0
    length = work.shape[1]
    total = 0.0
    for a in range(0, n_samples, length):
        nb = min(length, n_samples - a)
        if not transposed:
            _load(X, a, nb, XT)
        for k in range(n_components):
            _diag_sq(XT, nb, means[k], precisions_chol[k], lpT[k])
            c = const[k]
            for i in range(nb):
                lpT[k, i] = c - 0.5 * lpT[k, i]
        total += _resp(lpT, nb, sample_weight, a, norm, s, bits)
        for k in range(n_components):
            t, tr = _diag_stats(XT, nb, lpT[k], means[k], sx[k], sxx[k])
            nk[k] += t
    return total


@jit
def _pass_spherical(X, sample_weight, transposed, weights, means, precisions_chol, workspace):
    """One E-step + statistics pass, spherical; see :func:`_pass_full`."""
    work, bits, vec, sx, sxx = workspace
    n_samples, d = X.shape
    n_components = means.shape[0]
    XT, dT, rdT, lpT, norm, s, y = _views(workspace, d, n_components)
    const, nk = vec[0], vec[1]
    for k in range(n_components):
        const[k] = (-0.5 * d * LOG_2PI + d * np.log(precisions_chol[k])) + np.log(weights[k])
    nk[:] = 0.0
    sx[:] = 0.0
    sxx[:] = 0.0
    length = work.shape[1]
    total = 0.0
    for a in range(0, n_samples, length):
        nb = min(length, n_samples - a)
        if not transposed:
            _load(X, a, nb, XT)
        for k in range(n_components):
            row = lpT[k]
            for i in range(nb):
                row[i] = 0.0
            for m in range(d):
                c = means[k, m]
                for i in range(nb):
                    v = XT[m, i] - c
                    row[i] += v * v
            h = 0.5 * precisions_chol[k] * precisions_chol[k]
            c = const[k]
            for i in range(nb):
                row[i] = c - h * row[i]
        total += _resp(lpT, nb, sample_weight, a, norm, s, bits)
        for k in range(n_components):
            t, tr = _diag_stats(XT, nb, lpT[k], means[k], sx[k], y[:0])
            nk[k] += t
            sxx[k] += tr
    return total


@jit
def fit_em_workspace_full(
    X,
    sample_weight,
    max_iter,
    tol,
    reg_covar,
    weights,
    means,
    covariances,
    precisions_chol,
    workspace,
):
    """Run serial EM (full) from the given parameters, allocating nothing per iteration.

    Same algorithm, stopping rule and results (to rounding) as
    :func:`~fastgmm.kernels.fit_em_full`; safe inside a user's ``prange`` when
    every thread uses its own workspace.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features), float32 or float64
    sample_weight : ndarray of shape (n_samples,) or (0,), float64
    max_iter : int
    tol : float
    reg_covar : float
    weights, means, covariances, precisions_chol : ndarray, float64
        Initial parameters on entry (``covariances`` is only written), fitted ones
        on exit; shapes as in :func:`~fastgmm.kernels.fit_em_full`.
    workspace : tuple
        From :func:`em_workspace_full`, overwritten. One too small for ``X`` is
        replaced by a temporary one (correct, but allocates).

    Returns
    -------
    lower_bound : float
    n_iter : int
    converged : bool
    status : int
        0, or ``k + 1`` for the first non-positive-definite covariance.
    """
    n_samples, n_features = X.shape
    n_components = means.shape[0]
    if not _fits(workspace, n_samples, n_components, n_features):
        workspace = em_workspace_full(n_samples, n_components, n_features)
    work, bits, vec, sx, sxx = workspace
    transposed = n_samples <= work.shape[1]
    if transposed:  # one block: transposed once for all iterations
        _load(X, 0, n_samples, work[0:n_features])
    tw = _total_weight(n_samples, sample_weight)
    lower_bound = -np.inf
    converged = False
    status = 0
    n_iter = 0
    for it in range(1, max_iter + 1):
        n_iter = it
        ll = _pass_full(X, sample_weight, transposed, weights, means, precisions_chol, workspace)
        status = m_step_full(
            vec[1], sx, sxx, means, reg_covar, weights, means, covariances, precisions_chol
        )
        lower_bound, converged = _done(lower_bound, ll, tw, tol)
        if status != 0:
            converged = False
            break
        if converged:
            break
    return lower_bound, n_iter, converged, status


@jit
def fit_em_workspace_tied(
    X,
    sample_weight,
    max_iter,
    tol,
    reg_covar,
    weights,
    means,
    covariances,
    precisions_chol,
    workspace,
):
    """Run allocation-free serial EM, tied; see :func:`fit_em_workspace_full`."""
    n_samples, n_features = X.shape
    n_components = means.shape[0]
    if not _fits(workspace, n_samples, n_components, n_features):
        workspace = em_workspace_tied(n_samples, n_components, n_features)
    work, bits, vec, sx, sxx = workspace
    transposed = n_samples <= work.shape[1]
    if transposed:  # one block: transposed once for all iterations
        _load(X, 0, n_samples, work[0:n_features])
    tw = _total_weight(n_samples, sample_weight)
    lower_bound = -np.inf
    converged = False
    status = 0
    n_iter = 0
    for it in range(1, max_iter + 1):
        n_iter = it
        ll = _pass_tied(X, sample_weight, transposed, weights, means, precisions_chol, workspace)
        status = m_step_tied(
            vec[1], sx, sxx, means, reg_covar, weights, means, covariances, precisions_chol
        )
        lower_bound, converged = _done(lower_bound, ll, tw, tol)
        if status != 0:
            converged = False
            break
        if converged:
            break
    return lower_bound, n_iter, converged, status


@jit
def fit_em_workspace_diag(
    X,
    sample_weight,
    max_iter,
    tol,
    reg_covar,
    weights,
    means,
    covariances,
    precisions_chol,
    workspace,
):
    """Run allocation-free serial EM, diag; see :func:`fit_em_workspace_full`."""
    n_samples, n_features = X.shape
    n_components = means.shape[0]
    if not _fits(workspace, n_samples, n_components, n_features):
        workspace = em_workspace_diag(n_samples, n_components, n_features)
    work, bits, vec, sx, sxx = workspace
    transposed = n_samples <= work.shape[1]
    if transposed:  # one block: transposed once for all iterations
        _load(X, 0, n_samples, work[0:n_features])
    tw = _total_weight(n_samples, sample_weight)
    lower_bound = -np.inf
    converged = False
    status = 0
    n_iter = 0
    for it in range(1, max_iter + 1):
        n_iter = it
        ll = _pass_diag(X, sample_weight, transposed, weights, means, precisions_chol, workspace)
        status = m_step_diag(
            vec[1], sx, sxx, means, reg_covar, weights, means, covariances, precisions_chol
        )
        lower_bound, converged = _done(lower_bound, ll, tw, tol)
        if status != 0:
            converged = False
            break
        if converged:
            break
    return lower_bound, n_iter, converged, status


@jit
def fit_em_workspace_spherical(
    X,
    sample_weight,
    max_iter,
    tol,
    reg_covar,
    weights,
    means,
    covariances,
    precisions_chol,
    workspace,
):
    """Run allocation-free serial EM, spherical; see :func:`fit_em_workspace_full`."""
    n_samples, n_features = X.shape
    n_components = means.shape[0]
    if not _fits(workspace, n_samples, n_components, n_features):
        workspace = em_workspace_spherical(n_samples, n_components, n_features)
    work, bits, vec, sx, sxx = workspace
    transposed = n_samples <= work.shape[1]
    if transposed:  # one block: transposed once for all iterations
        _load(X, 0, n_samples, work[0:n_features])
    tw = _total_weight(n_samples, sample_weight)
    lower_bound = -np.inf
    converged = False
    status = 0
    n_iter = 0
    for it in range(1, max_iter + 1):
        n_iter = it
        ll = _pass_spherical(
            X, sample_weight, transposed, weights, means, precisions_chol, workspace
        )
        status = m_step_spherical(
            vec[1], sx, sxx, means, reg_covar, weights, means, covariances, precisions_chol
        )
        lower_bound, converged = _done(lower_bound, ll, tw, tol)
        if status != 0:
            converged = False
            break
        if converged:
            break
    return lower_bound, n_iter, converged, status
