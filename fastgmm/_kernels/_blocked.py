"""Blocked building blocks of the fused EM pass, with the points along the inner loop.

A block of ``nb`` rows of ``X`` is first transposed into ``XT`` of shape
``(n_features, block)`` in the dtype of ``X``. Every loop below then runs over the
points of the block with unit stride, so LLVM vectorises it. For float32 data the
centred differences, triangular products and a block's statistics stay in float32
(eight lanes per 256-bit register instead of four); log-probabilities, the
log-sum-exp and every sum across blocks are float64. Differences ``x - mu`` are
always formed in float64 from the float64 means and then rounded to the dtype of
``XT``, so data far from the origin lose nothing to a rounded mean
(tests/test_extreme.py::test_float32_with_large_offset_matches_float64_of_the_same_values);
``precisions_chol`` of the full/tied/diag ``*_T`` kernels comes cast to the dtype of ``XT``:

* log-densities: ``y_j = sum_{m <= j} U[m, j] * (x_m - mu_m)`` as multiply-adds of
  whole rows of ``dT`` (no reduction), then ``sq += y_j * y_j``;
* log-sum-exp across components as element-wise max/sum over rows of a
  ``(n_components, block)`` array, with one exponential per (point, component)
  from :func:`exp_inplace` (a vectorised exp; Numba's scalar ``np.exp`` costs
  about 30 ns here, so it dominated the old kernels);
* statistics ``sum_i r_i d_i d_i^T`` as dot products over the block, vectorised
  through ``jit(reductions=True)`` (``reassoc``: the order of a block's sum is
  fixed at compile time, so results are deterministic and thread-independent);
* work that cannot change the answer is skipped (separated clusters): pairs whose
  responsibility is certainly flushed to 0 are pruned before their triangular
  product (:func:`log_prob_full_pruned_T`), only rows with a non-zero
  responsibility enter a component's statistics (gathered and buffered across
  blocks), and only surviving entries are exponentiated (:func:`_exp_shifted`).
  tests/test_sparse_paths.py holds these to the exact kernels and the twin.

Scratch arrays are allocated once per chunk by the callers in
:mod:`fastgmm._kernels.suffstats` and :mod:`fastgmm._kernels.estep`.
Measured by ``benchmarks/bench_kernels.py`` and ``benchmarks/report.py``.
"""

import numpy as np

from ._jit import jit

LOG_2PI = np.log(2.0 * np.pi)
LOG2E = 1.4426950408889634
LN2_HI = 6.93147180369123816490e-01
LN2_LO = 1.90821492927058770002e-10


@jit
def block_rows_for(n_features):
    """Rows per block: keeps the three ``(n_features, block)`` scratch arrays in L1/L2.

    Chosen by measurement (benchmarks/bench_kernels.py::test_block_rows and whole
    iterations): at most 256 rows from 8 features on (1M x 8 x 16: 512-row blocks
    were 10% slower once the 4 x 4 statistics tiles made the pass bound by L2
    traffic), up to 1024 below (100k x 2 x 4: 1024 beat 256 by 7%). The block
    length never changes results across thread counts (chunks are fixed).
    """
    b = 4096 // max(n_features, 1)
    b = (b // 16) * 16
    return min(max(b, 64), 256 if n_features >= 8 else 1024)


#: Below this, ``exp_flush`` returns 0 (a responsibility under ``e^-100 = 3.7e-44`` of
#: the point's top component). Without it, products of tiny responsibilities reach the
#: subnormal range, whose arithmetic traps to microcode on x86: an EM iteration at
#: N, D, K = 200k, 32, 16 took 990 ms instead of 140 ms (benchmarks/report.py).
#: Effect on results: ``log p(x)`` is unchanged (the sum of exponentials is >= 1 and the
#: dropped terms are below half an ulp of it); ``nk``, ``sx``, ``sxx`` change by at most
#: ``n_samples * 3.7e-44 * |x - mu|^2`` absolute, which the M-step's ``10 eps`` floor on
#: ``nk`` keeps below 1e-12 relative (tests/test_threads.py checks the twin at 1e-10).
FLUSH_BELOW = -100.0

#: float32 blocks: responsibilities below this are copied to float32 as 0. ``e^-100``
#: is itself subnormal in float32 (smallest normal 1.2e-38), and a product of such a
#: responsibility with a difference made the float32 iteration at N, D, K = 1M, 16, 8
#: 5x *slower* than float64. Dropping them changes ``nk``, ``sx``, ``sxx`` by at most
#: ``n_samples * 1e-20 * |x - mu|^2`` absolute. float64 blocks copy exactly.
FLUSH_RESP_32 = 1e-20


@jit  # no ``reassoc``: it would undo the two-part Cody-Waite reduction (1e-14 errors)
def _exp_core(x, n, bits, lo):
    for i in range(n):
        v0 = x[i]
        v = min(max(v0, lo), 709.0)
        t = np.floor(v * LOG2E + 0.5)
        r = (v - t * LN2_HI) - t * LN2_LO
        p = 1.0 / 6227020800.0
        p = p * r + 1.0 / 479001600.0
        p = p * r + 1.0 / 39916800.0
        p = p * r + 1.0 / 3628800.0
        p = p * r + 1.0 / 362880.0
        p = p * r + 1.0 / 40320.0
        p = p * r + 1.0 / 5040.0
        p = p * r + 1.0 / 720.0
        p = p * r + 1.0 / 120.0
        p = p * r + 1.0 / 24.0
        p = p * r + 1.0 / 6.0
        p = p * r + 0.5
        p = p * r + 1.0
        p = p * r + 1.0
        ti = np.int64(t)
        t1 = ti >> 1
        bits[0, i] = (t1 + 1023) << 52
        bits[1, i] = (ti - t1 + 1023) << 52
        x[i] = p if v0 >= lo else 0.0
    scale = bits.view(np.float64)
    for i in range(n):
        x[i] = x[i] * scale[0, i] * scale[1, i]


@jit
def exp_inplace(x, n, bits):
    """Overwrite ``x[:n]`` with ``exp(x[:n])`` (vectorised; within 1 ulp of ``np.exp``).

    Cody-Waite reduction ``x = t ln2 + r`` with ``|r| <= ln2 / 2``, a degree-13
    Taylor polynomial for ``exp(r)`` and ``2**t`` built from exponent bits in two
    factors, so results down to the subnormal range round once, like ``np.exp``.
    ``exp(x < -750) = 0``, ``exp(-inf) = 0``. ``bits`` is int64 scratch of shape
    (2, >= n). Serial.
    """
    _exp_core(x, n, bits, -750.0)


@jit
def exp_flush(x, n, bits):
    """As :func:`exp_inplace`, but 0 for ``x < FLUSH_BELOW`` (no subnormal results)."""
    _exp_core(x, n, bits, FLUSH_BELOW)


@jit
def load_transposed(X, a, nb, XT):
    """``XT[m, i] = X[a + i, m]`` for ``i < nb`` (serial; ``XT`` has the dtype of ``X``)."""
    n_features = X.shape[1]
    for i in range(nb):
        for m in range(n_features):
            XT[m, i] = X[a + i, m]


# --------------------------------------------------------------------------- constants
@jit
def const_full(precisions_chol, log_weights, out):
    """``-d/2 log(2 pi) + sum log diag(U_k) + log_weights[k]`` per component."""
    n_components, n_features = precisions_chol.shape[0], precisions_chol.shape[1]
    for k in range(n_components):
        log_det = 0.0
        for j in range(n_features):
            log_det += np.log(precisions_chol[k, j, j])
        out[k] = (-0.5 * n_features * LOG_2PI + log_det) + log_weights[k]


@jit
def const_tied(precisions_chol, log_weights, out):
    """As :func:`const_full` for one shared factor."""
    n_features = precisions_chol.shape[0]
    log_det = 0.0
    for j in range(n_features):
        log_det += np.log(precisions_chol[j, j])
    for k in range(log_weights.shape[0]):
        out[k] = (-0.5 * n_features * LOG_2PI + log_det) + log_weights[k]


@jit
def const_diag(precisions_chol, log_weights, out):
    """As :func:`const_full` for diagonal factors (n_components, n_features)."""
    n_components, n_features = precisions_chol.shape
    for k in range(n_components):
        log_det = 0.0
        for j in range(n_features):
            log_det += np.log(precisions_chol[k, j])
        out[k] = (-0.5 * n_features * LOG_2PI + log_det) + log_weights[k]


@jit
def const_spherical(precisions_chol, n_features, log_weights, out):
    """As :func:`const_full` for one precision factor per component."""
    for k in range(precisions_chol.shape[0]):
        log_det = n_features * np.log(precisions_chol[k])
        out[k] = (-0.5 * n_features * LOG_2PI + log_det) + log_weights[k]


# --------------------------------------------------------------------------- log-densities
@jit(reductions=True)
def _tri_sq(dT, nb, U, y, sq):
    """``sq[i] = ||d_i @ U||^2`` for upper-triangular ``U`` (rows of ``dT`` are features).

    Two columns of ``U`` per pass share every load of a row of ``dT``, and four
    rows per pass share each load/store of the partial products ``y`` (2, block):
    1.04-1.34x over one column per pass at D = 8..32, float32 and float64, one
    thread (benchmarks/bench_kernels.py::test_tri_sq).
    """
    n_features = dT.shape[0]
    y0 = y[0]
    y1 = y[1]
    for i in range(nb):
        sq[i] = 0.0
    j = 0
    while j + 1 < n_features:  # columns j and j + 1
        u0, v0 = U[0, j], U[0, j + 1]
        d0 = dT[0]
        for i in range(nb):
            y0[i] = u0 * d0[i]
            y1[i] = v0 * d0[i]
        m = 1
        while m + 3 <= j:
            u0, u1, u2, u3 = U[m, j], U[m + 1, j], U[m + 2, j], U[m + 3, j]
            v0, v1, v2, v3 = U[m, j + 1], U[m + 1, j + 1], U[m + 2, j + 1], U[m + 3, j + 1]
            da, db, dc, dd = dT[m], dT[m + 1], dT[m + 2], dT[m + 3]
            for i in range(nb):
                a0, a1, a2, a3 = da[i], db[i], dc[i], dd[i]
                y0[i] += (u0 * a0 + u1 * a1) + (u2 * a2 + u3 * a3)
                y1[i] += (v0 * a0 + v1 * a1) + (v2 * a2 + v3 * a3)
            m += 4
        while m <= j:
            u0, v0 = U[m, j], U[m, j + 1]
            da = dT[m]
            for i in range(nb):
                y0[i] += u0 * da[i]
                y1[i] += v0 * da[i]
            m += 1
        v0 = U[j + 1, j + 1]
        da = dT[j + 1]
        for i in range(nb):
            t = y1[i] + v0 * da[i]
            sq[i] += y0[i] * y0[i] + t * t
        j += 2
    if j < n_features:  # odd n_features: the last column alone
        u0 = U[0, j]
        d0 = dT[0]
        for i in range(nb):
            y0[i] = u0 * d0[i]
        for m in range(1, j + 1):
            u0 = U[m, j]
            da = dT[m]
            for i in range(nb):
                y0[i] += u0 * da[i]
        for i in range(nb):
            sq[i] += y0[i] * y0[i]


@jit(reductions=True)
def _centre(XT, nb, mean, dT):
    for m in range(XT.shape[0]):
        mk = mean[m]
        xr = XT[m]
        dr = dT[m]
        for i in range(nb):
            dr[i] = xr[i] - mk


@jit(reductions=True)
def log_prob_full_T(XT, nb, means, precisions_chol, const, lpT, dT, y, sq):
    """``lpT[k, i] = const[k] - ||(x_i - mu_k) @ U_k||^2 / 2`` for ``i < nb``.

    ``means``, ``precisions_chol`` and the scratch ``dT``, ``y`` (2, block), ``sq``
    have the dtype of ``XT``; ``lpT`` is float64.
    """
    for k in range(means.shape[0]):
        _centre(XT, nb, means[k], dT)
        _tri_sq(dT, nb, precisions_chol[k], y, sq)
        row = lpT[k]
        c = const[k]
        for i in range(nb):
            row[i] = c - 0.5 * sq[i]


@jit(reductions=True)
def log_prob_tied_T(XT, nb, means, precisions_chol, const, lpT, dT, y, sq):
    """As :func:`log_prob_full_T` with one shared factor ``U``."""
    for k in range(means.shape[0]):
        _centre(XT, nb, means[k], dT)
        _tri_sq(dT, nb, precisions_chol, y, sq)
        row = lpT[k]
        c = const[k]
        for i in range(nb):
            row[i] = c - 0.5 * sq[i]


@jit(reductions=True)
def _scaled_sq(XT, nb, mean, scale, sq):
    """``sq[i] = sum_m ((x_im - mean_m) * scale_m)^2``, four features per pass.

    Four features per pass share each load/store of ``sq`` (the loop is bound by
    memory traffic otherwise). ``scale`` has the dtype of ``XT``.
    """
    n_features = XT.shape[0]
    T = type(sq[0])
    for i in range(nb):
        sq[i] = 0.0
    m = 0
    while m + 4 <= n_features:
        c0, c1, c2, c3 = mean[m], mean[m + 1], mean[m + 2], mean[m + 3]
        p0, p1, p2, p3 = scale[m], scale[m + 1], scale[m + 2], scale[m + 3]
        x0, x1, x2, x3 = XT[m], XT[m + 1], XT[m + 2], XT[m + 3]
        for i in range(nb):
            v0 = T(x0[i] - c0) * p0
            v1 = T(x1[i] - c1) * p1
            v2 = T(x2[i] - c2) * p2
            v3 = T(x3[i] - c3) * p3
            sq[i] += (v0 * v0 + v1 * v1) + (v2 * v2 + v3 * v3)
        m += 4
    while m < n_features:
        c0, p0, x0 = mean[m], scale[m], XT[m]
        for i in range(nb):
            v0 = T(x0[i] - c0) * p0
            sq[i] += v0 * v0
        m += 1


@jit(reductions=True)
def log_prob_diag_T(XT, nb, means, precisions_chol, const, lpT, sq):
    """As :func:`log_prob_full_T` with diagonal factors (n_components, n_features)."""
    for k in range(means.shape[0]):
        _scaled_sq(XT, nb, means[k], precisions_chol[k], sq)
        row = lpT[k]
        c = const[k]
        for i in range(nb):
            row[i] = c - 0.5 * sq[i]


@jit(reductions=True)
def log_prob_spherical_T(XT, nb, means, precisions_chol, const, lpT, sq):
    """As :func:`log_prob_full_T` with one precision factor per component.

    ``precisions_chol`` stays float64 here (one scalar per component).
    """
    ones = np.ones(XT.shape[0], dtype=sq.dtype)
    for k in range(means.shape[0]):
        _scaled_sq(XT, nb, means[k], ones, sq)
        row = lpT[k]
        c = const[k]
        h = 0.5 * precisions_chol[k] * precisions_chol[k]
        for i in range(nb):
            row[i] = c - h * sq[i]


# --------------------------------------------------------------------------- pruned log-densities
#: A (point, component) pair is pruned when an upper bound of its log-probability is
#: more than ``-PRUNE_BELOW`` nats below a lower bound of the point's best one: its
#: responsibility would be flushed to exactly 0 by :func:`exp_flush` anyway
#: (``FLUSH_BELOW``), so pruning changes no responsibility, no ``log p(x)`` and no
#: statistic (the extra nat absorbs rounding of the bounds and of float32 blocks).
PRUNE_BELOW = FLUSH_BELOW - 1.0

#: Pruning pays when fewer than this fraction of a block's (point, component) pairs
#: still need their triangular product; otherwise the distances that bound them are
#: wasted (overlapping clusters: 5-10% slower), so the fused pass stops pruning for
#: :data:`PRUNE_RETRY_BLOCKS` blocks and then tries again. Results are the same
#: either way; the schedule depends only on the chunk's rows, not on threads.
PRUNE_PAYS_BELOW = 0.7
PRUNE_RETRY_BLOCKS = 16

#: Bounds on the eigenvalues are widened by this relative amount (rounding of the
#: squared distances, float32 blocks included, is far below it).
BOUND_SLACK = 1e-3


@jit
def _sym_norm_bound(A):
    """Bound the largest eigenvalue of symmetric ``A`` from above: min(inf-norm, Frobenius)."""
    n = A.shape[0]
    row_max = 0.0
    fro = 0.0
    for a in range(n):
        t = 0.0
        for b in range(n):
            t += abs(A[a, b])
            fro += A[a, b] * A[a, b]
        row_max = max(row_max, t)
    return min(row_max, np.sqrt(fro))


@jit
def precision_eig_bounds(U, work, out):
    """``out[0] <= lambda_min(U U^T)`` and ``out[1] >= lambda_max(U U^T)`` (upper ``U``).

    ``lambda_max(P) <= min(||P||_inf, ||P||_F)`` for ``P = U U^T``, and
    ``lambda_min(P) = 1 / lambda_max(P^-1)`` with ``P^-1 = V^T V``, ``V = U^-1``,
    bounded the same way. Both are widened by :data:`BOUND_SLACK`. ``work`` is
    float64 scratch (2, n, n). A singular or non-finite ``U`` gives ``(0, inf)``:
    nothing is pruned.
    """
    n = U.shape[0]
    P = work[0]
    V = work[1]
    out[0], out[1] = 0.0, np.inf
    for a in range(n):
        if not U[a, a] > 0.0:  # also NaN
            return
        for b in range(a, n):
            if not np.isfinite(U[a, b]):
                return
    for a in range(n):
        for b in range(n):
            t = 0.0
            for m in range(max(a, b), n):
                t += U[a, m] * U[b, m]
            P[a, b] = t
    hi = _sym_norm_bound(P)
    for j in range(n):  # V = U^-1 (upper), column by column
        for i in range(n):
            V[i, j] = 0.0
        V[j, j] = 1.0 / U[j, j]
        for i in range(j - 1, -1, -1):
            t = 0.0
            for m in range(i + 1, j + 1):
                t += U[i, m] * V[m, j]
            V[i, j] = -t / U[i, i]
    for a in range(n):  # P^-1 = V^T V, kept in P
        for b in range(n):
            t = 0.0
            for m in range(min(a, b) + 1):
                t += V[m, a] * V[m, b]
            P[a, b] = t
    inv_lo = _sym_norm_bound(P)
    lo = (1.0 - BOUND_SLACK) / inv_lo if inv_lo > 0.0 else 0.0
    if np.isfinite(lo) and np.isfinite(hi) and lo > 0.0:
        out[0], out[1] = lo, hi * (1.0 + BOUND_SLACK)


@jit(reductions=True)
def _bound_best(lpT, nb, const, eig, best):
    """Bound each point's best log-probability from below (``lpT``: squared distances).

    ``best[i] = max_k const[k] - eig[k, 1] / 2 * dist[k, i]``.
    """
    for i in range(nb):
        best[i] = -np.inf
    for k in range(lpT.shape[0]):
        row = lpT[k]
        c = const[k]
        h = 0.5 * eig[k, 1]
        for i in range(nb):
            v = c - h * row[i]
            best[i] = v if v > best[i] else best[i]


@jit(reductions=True)
def _kept_rows(dist, nb, c, h_lo, best, rows):
    """Rows whose log-probability bound ``c - h_lo * dist`` is not pruned; return their count."""
    n = 0
    for i in range(nb):  # branch-free, as in _rows_with_resp
        rows[n] = i
        n += 1 if c - h_lo * dist[i] >= best[i] + PRUNE_BELOW else 0
    return n


@jit(reductions=True)
def _centre_rows(XT, rows, n, mean, dT):
    """``dT[:, j] = XT[:, rows[j]] - mean`` for ``j < n`` (float64 difference, rounded)."""
    for m in range(XT.shape[0]):
        mk = mean[m]
        xr = XT[m]
        dr = dT[m]
        for j in range(n):
            dr[j] = xr[rows[j]] - mk


@jit(reductions=True)
def _log_prob_pruned_one(XT, nb, mean, U, c, h_lo, best, row, dT, y, sq, rows):
    """One component's row of :func:`log_prob_full_pruned_T` (``row`` holds distances)."""
    n = _kept_rows(row, nb, c, h_lo, best, rows)
    if n > SPARSE_FRACTION * nb:
        _centre(XT, nb, mean, dT)
        _tri_sq(dT, nb, U, y, sq)
        for i in range(nb):
            row[i] = c - 0.5 * sq[i]
        return nb
    _centre_rows(XT, rows, n, mean, dT)
    _tri_sq(dT, n, U, y, sq)
    for i in range(nb):
        row[i] = -np.inf
    for j in range(n):
        row[rows[j]] = c - 0.5 * sq[j]
    return n


@jit(reductions=True)
def _distances_T(XT, nb, means, ones, lpT, sq):
    """``lpT[k, i] = ||x_i - mu_k||^2`` (in the dtype of ``XT``, stored as float64)."""
    for k in range(means.shape[0]):
        _scaled_sq(XT, nb, means[k], ones, sq)
        row = lpT[k]
        for i in range(nb):
            row[i] = sq[i]


@jit(reductions=True)
def log_prob_full_pruned_T(XT, nb, means, precisions_chol, const, eig, lpT, dT, y, sq, best, rows):
    """As :func:`log_prob_full_T`, with ``-inf`` for pairs whose responsibility is certainly 0.

    Tied covariances use it with the shared factor repeated per component.

    Squared Euclidean distances and the eigenvalue bounds ``eig`` (n_components, 2)
    of :func:`precision_eig_bounds` bracket every log-probability:
    ``const - eig[k, 1] / 2 * dist <= log p <= const - eig[k, 0] / 2 * dist``.
    Pairs whose upper bound is more than ``-PRUNE_BELOW`` nats below the point's
    best lower bound get ``-inf``; :func:`resp_T` would flush them to a
    responsibility of exactly 0, so ``log p(x)``, the responsibilities and the
    statistics equal those of :func:`log_prob_full_T` (tests/test_kernels.py).
    Only the kept rows go through the triangular product (gathered, when they are
    at most :data:`SPARSE_FRACTION` of the block). For fits only: the pruned
    entries are not the log-probabilities themselves. ``best`` (float64) and
    ``rows`` (integer) are (block,) scratch.

    Returns
    -------
    computed : int
        (point, component) pairs that went through the triangular product; the
        caller stops pruning for a while when this is most of them
        (:data:`PRUNE_PAYS_BELOW`).
    """
    ones = np.ones(XT.shape[0], dtype=sq.dtype)
    _distances_T(XT, nb, means, ones, lpT, sq)
    _bound_best(lpT, nb, const, eig, best)
    computed = 0
    for k in range(means.shape[0]):
        h_lo = 0.5 * eig[k, 0]
        computed += _log_prob_pruned_one(
            XT, nb, means[k], precisions_chol[k], const[k], h_lo, best, lpT[k], dT, y, sq, rows
        )
    return computed


# --------------------------------------------------------------------------- log-sum-exp
@jit(reductions=True)
def _row_max(lpT, nb, mx):
    for i in range(nb):
        mx[i] = lpT[0, i]
    for k in range(1, lpT.shape[0]):
        row = lpT[k]
        for i in range(nb):
            v = row[i]
            mx[i] = v if v > mx[i] else mx[i]
    for i in range(nb):  # a row that is -inf everywhere: exp(-inf - 0) = 0, sum 0
        mx[i] = mx[i] if mx[i] > -np.inf else 0.0


@jit
def _argmax_T(lpT, nb, labels):
    for i in range(nb):
        best = 0
        for k in range(1, lpT.shape[0]):
            if lpT[k, i] > lpT[best, i]:
                best = k
        labels[i] = best


@jit(reductions=True)
def _exp_shifted(row, nb, norm, e, rows, bits):
    """``row[i] = exp(row[i] - norm[i])``, 0 below :data:`FLUSH_BELOW` (:func:`exp_flush`).

    When at most half of the row survives the flush (separated clusters: most
    pairs are far below the point's best component, or pruned to ``-inf``), only
    the survivors are gathered into ``e`` and exponentiated; the rest are 0, as
    :func:`exp_flush` would make them. ``exp`` is element-wise and compiled without
    fastmath, so both ways give the same bits. ``e`` (float64) and ``rows``
    (integer) are (block,) scratch.
    """
    kept = 0
    for i in range(nb):
        kept += 1 if row[i] - norm[i] >= FLUSH_BELOW else 0
    if 2 * kept > nb:
        for i in range(nb):
            row[i] = row[i] - norm[i]
        exp_flush(row, nb, bits)
        return
    n = 0
    for i in range(nb):  # branch-free compaction
        v = row[i] - norm[i]
        e[n] = v
        rows[n] = i
        n += 1 if v >= FLUSH_BELOW else 0
        row[i] = 0.0
    exp_flush(e, n, bits)
    for j in range(n):
        row[rows[j]] = e[j]


@jit(reductions=True)
def resp_T(lpT, nb, sample_weight, a, hard, norm, s, bits):
    """Weighted log-probabilities ``lpT`` (n_components, block) to responsibilities in place.

    ``norm[:nb]`` receives ``log p(x_i)``; rows that are ``-inf`` for every
    component get ``-inf`` and responsibility 0. ``hard`` makes responsibilities
    one-hot on the first most probable component. ``sample_weight`` is the whole
    weight vector (or length 0), ``a`` the first row of the block.

    Returns
    -------
    weighted_log_likelihood : float
        ``sum_i w_i log p(x_i)`` over rows with ``w_i != 0``.
    """
    n_components = lpT.shape[0]
    labels = bits[0, :0].copy()
    if hard:  # labels from the log-probabilities themselves (first maximum on ties)
        _argmax_T(lpT, nb, bits[0])
        labels = bits[0].copy()
    _row_max(lpT, nb, norm)
    e = np.empty(nb)
    rows = np.empty(nb, dtype=np.int64)
    for k in range(n_components):
        _exp_shifted(lpT[k], nb, norm, e, rows, bits)
    for i in range(nb):
        s[i] = 0.0
    for k in range(n_components):
        row = lpT[k]
        for i in range(nb):
            s[i] += row[i]
    for i in range(nb):
        norm[i] = norm[i] + np.log(s[i])
        s[i] = 1.0 / s[i] if s[i] > 0.0 else 0.0
    if hard:
        for k in range(n_components):
            row = lpT[k]
            for i in range(nb):
                row[i] = 1.0 if labels[i] == k else 0.0
    else:
        for k in range(n_components):
            row = lpT[k]
            for i in range(nb):
                row[i] *= s[i]
    total = 0.0
    weighted = sample_weight.shape[0] > 0
    for i in range(nb):
        w = sample_weight[a + i] if weighted else 1.0
        total += w * norm[i] if w != 0.0 else 0.0
    return total


# --------------------------------------------------------------------------- statistics
@jit(reductions=True)
def _weigh(resp_row, nb, sample_weight, a):
    """Multiply by the sample weights in place; return the row's sum (its ``nk``)."""
    if sample_weight.shape[0] > 0:
        for i in range(nb):
            resp_row[i] *= sample_weight[a + i]
    t = 0.0
    for i in range(nb):
        t += resp_row[i]
    return t


@jit(reductions=True)
def _copy_resp(r, nb, rT):
    """``rT[:nb] = r[:nb]`` in the dtype of ``rT``, below :data:`FLUSH_RESP_32` as 0 for float32."""
    tiny = FLUSH_RESP_32 if rT.itemsize == 4 else 0.0
    for i in range(nb):
        v = r[i]
        rT[i] = v if v >= tiny else 0.0


@jit(reductions=True)
def _centre_weigh(XT, nb, shift, r, rT, dT, rdT, sx):
    """``dT = XT - shift`` (float64 shift), ``rdT = r * dT`` and ``sx += sum_i rdT[:, i]``.

    ``r`` (float64) is first copied to ``rT`` in the dtype of ``XT`` (see
    :func:`_copy_resp`); the sum over the block runs in float64 (it is cheap next
    to :func:`_upper_outer`).
    """
    _copy_resp(r, nb, rT)
    for m in range(XT.shape[0]):
        c = shift[m]
        xr = XT[m]
        dr = dT[m]
        rr = rdT[m]
        t = 0.0
        for i in range(nb):
            dr[i] = xr[i] - c  # float64 difference, rounded to the dtype of dT
            v = dr[i]
            w = rT[i] * v
            rr[i] = w
            t += w
        sx[m] += t


@jit(reductions=True)
def _tile_4x4(rdT, dT, nb, a0, b0, sxx):
    """``sxx[a, b] += sum_i rdT[a, i] * dT[b, i]`` for the 4 x 4 tile at ``(a0, b0)``, ``a <= b``.

    Sixteen dot products share eight row loads per point (the 1 x 4 groups this
    replaced needed five loads per four): 1.3-1.9x faster in float64 at D = 8-32
    (benchmarks/bench_kernels.py::test_upper_outer). On the diagonal (``a0 == b0``)
    only the upper half is stored.
    """
    T = type(dT[0, 0])
    r0, r1, r2, r3 = rdT[a0], rdT[a0 + 1], rdT[a0 + 2], rdT[a0 + 3]
    d0, d1, d2, d3 = dT[b0], dT[b0 + 1], dT[b0 + 2], dT[b0 + 3]
    t00, t01, t02, t03 = T(0.0), T(0.0), T(0.0), T(0.0)
    t10, t11, t12, t13 = T(0.0), T(0.0), T(0.0), T(0.0)
    t20, t21, t22, t23 = T(0.0), T(0.0), T(0.0), T(0.0)
    t30, t31, t32, t33 = T(0.0), T(0.0), T(0.0), T(0.0)
    for i in range(nb):
        x0, x1, x2, x3 = r0[i], r1[i], r2[i], r3[i]
        y0, y1, y2, y3 = d0[i], d1[i], d2[i], d3[i]
        t00 += x0 * y0
        t01 += x0 * y1
        t02 += x0 * y2
        t03 += x0 * y3
        t10 += x1 * y0
        t11 += x1 * y1
        t12 += x1 * y2
        t13 += x1 * y3
        t20 += x2 * y0
        t21 += x2 * y1
        t22 += x2 * y2
        t23 += x2 * y3
        t30 += x3 * y0
        t31 += x3 * y1
        t32 += x3 * y2
        t33 += x3 * y3
    sxx[a0, b0] += t00
    sxx[a0, b0 + 1] += t01
    sxx[a0, b0 + 2] += t02
    sxx[a0, b0 + 3] += t03
    sxx[a0 + 1, b0 + 1] += t11
    sxx[a0 + 1, b0 + 2] += t12
    sxx[a0 + 1, b0 + 3] += t13
    sxx[a0 + 2, b0 + 2] += t22
    sxx[a0 + 2, b0 + 3] += t23
    sxx[a0 + 3, b0 + 3] += t33
    if b0 > a0:
        sxx[a0 + 1, b0] += t10
        sxx[a0 + 2, b0] += t20
        sxx[a0 + 2, b0 + 1] += t21
        sxx[a0 + 3, b0] += t30
        sxx[a0 + 3, b0 + 1] += t31
        sxx[a0 + 3, b0 + 2] += t32


@jit(reductions=True)
def _upper_outer(rdT, dT, nb, sxx):
    """``sxx[a, b] += sum_i rdT[a, i] * dT[b, i]`` for ``a <= b``.

    The sum over the block runs in the dtype of ``dT`` (float32 for float32 data:
    eight lanes; benchmarks/report.py's float32 table shows the error against
    float64 sums, far below the 1e-4 the issue allows); ``sxx`` is float64, so
    sums across blocks are float64. Features in whole groups of four go through
    4 x 4 tiles (:func:`_tile_4x4`); the last ``n_features % 4`` columns are single
    dot products.
    """
    n_features = dT.shape[0]
    T = type(dT[0, 0])
    tiled = n_features - n_features % 4
    for a0 in range(0, tiled, 4):
        for b0 in range(a0, tiled, 4):
            _tile_4x4(rdT, dT, nb, a0, b0, sxx)
    for b in range(tiled, n_features):
        db = dT[b]
        for a in range(b + 1):
            ra = rdT[a]
            t = T(0.0)
            for i in range(nb):
                t += ra[i] * db[i]
            sxx[a, b] += t


@jit(reductions=True)
def _count_resp(r, nb, itemsize):
    """How many of ``r[:nb]`` :func:`_rows_with_resp` keeps (vectorised count, no stores)."""
    tiny = FLUSH_RESP_32 if itemsize == 4 else 0.0
    n = 0
    for i in range(nb):
        v = r[i]
        n += 1 if (v > 0.0) & (v >= tiny) else 0
    return n


@jit(reductions=True)
def _rows_with_resp(r, nb, rT, rows):
    """Rows ``i < nb`` whose responsibility is kept, into ``rows[:n]``; return ``n``.

    Kept means non-zero after :func:`_copy_resp`'s flush (so a component's
    statistics from the kept rows alone equal those of the whole block: every
    other row adds exactly zero). ``rT[:n]`` receives those responsibilities in
    the dtype of ``rT``. NaN responsibilities are dropped, as in :func:`_copy_resp`.
    """
    tiny = FLUSH_RESP_32 if rT.itemsize == 4 else 0.0
    n = 0
    for i in range(nb):  # branch-free: a data-dependent branch mispredicts half the time
        v = r[i]
        rT[n] = v
        rows[n] = i
        n += 1 if (v > 0.0) & (v >= tiny) else 0
    return n


#: Sparse responsibilities: when at most this fraction of a block's rows has a
#: non-zero responsibility for a component (after the flushes above), its
#: statistics gather those rows and skip the rest, which add exactly zero.
#: With separated clusters most of a block is zero for all but one component, so
#: the D x D statistics cost ~1/K of the dense pass. The fraction is where the
#: gather stops paying (benchmarks/bench_kernels.py::test_sparse_resp).
SPARSE_FRACTION = 0.5

#: As :data:`SPARSE_FRACTION` for the diagonal and spherical statistics, whose dense
#: pass is only O(D) per row, so gathering pays off on fewer rows.
SPARSE_FRACTION_DIAG = 0.25


@jit(reductions=True)
def _append_rows(XT, rows, n, shift, rT, gd, grd, start, sx):
    """Append the centred columns ``rows[:n]`` of ``XT`` to a component's buffers.

    ``gd[:, start + j] = XT[:, rows[j]] - shift``, ``grd[:, start + j] = rT[j] * gd[:, start + j]``
    and ``sx += sum_j grd[:, start + j]`` (float64 differences, rounded as in
    :func:`_centre_weigh`).
    """
    for m in range(XT.shape[0]):
        c = shift[m]
        xr = XT[m]
        dr = gd[m]
        rr = grd[m]
        t = 0.0
        for j in range(n):
            v = xr[rows[j]] - c
            dr[start + j] = v
            w = rT[j] * dr[start + j]
            rr[start + j] = w
            t += w
        sx[m] += t


@jit
def sparse_buffer_rows(n_components, n_features, block):
    """Columns of each component's gathered-row buffers (at most ``block``).

    Two buffers of ``(n_components, n_features, cap)`` values per chunk, capped at
    :data:`SPARSE_BUFFER_VALUES` each so memory stays independent of ``n_samples``
    (and small next to the data) however many components there are.
    """
    cap = SPARSE_BUFFER_VALUES // max(1, n_components * n_features)
    return min(max(cap, 16), block)


#: Values per gathered-row buffer of one chunk (two such buffers): 2 MiB in float64.
SPARSE_BUFFER_VALUES = 1 << 18


@jit(reductions=True)
def _full_stats_into(XT, nb, r, shift, rT, dT, rdT, rows, gd, grd, fill, k, sx, sxx):
    """``sx``, upper ``sxx`` of component ``k`` from the block.

    Dense when more than :data:`SPARSE_FRACTION` of the rows have a non-zero
    responsibility. Otherwise the centred rows are appended to the component's
    buffers ``gd[k]``, ``grd[k]`` (``fill[k]`` columns used), whose outer products
    are added to ``sxx`` only when they are full (:func:`flush_rows`): the dot
    products then run over a whole buffer instead of a few rows per block.
    """
    if _count_resp(r, nb, rT.itemsize) > SPARSE_FRACTION * nb:  # dense: skip the compaction
        _centre_weigh(XT, nb, shift, r, rT, dT, rdT, sx)
        _upper_outer(rdT, dT, nb, sxx)
        return
    n = _rows_with_resp(r, nb, rT, rows)
    cap = gd.shape[2]
    if n > cap:  # a buffer narrower than the block: this block's rows on their own
        _append_rows(XT, rows, n, shift, rT, dT, rdT, 0, sx)
        _upper_outer(rdT, dT, n, sxx)
        return
    if fill[k] + n > cap:
        _upper_outer(grd[k], gd[k], fill[k], sxx)
        fill[k] = 0
    _append_rows(XT, rows, n, shift, rT, gd[k], grd[k], fill[k], sx)
    fill[k] += n


@jit
def flush_rows_full(gd, grd, fill, sxx):
    """Add the outer products still in the buffers to ``sxx`` (n_components, D, D); empty them."""
    for k in range(fill.shape[0]):
        if fill[k] > 0:
            _upper_outer(grd[k], gd[k], fill[k], sxx[k])
            fill[k] = 0


@jit
def flush_rows_tied(gd, grd, fill, sxx):
    """As :func:`flush_rows_full` into one shared ``sxx`` (D, D)."""
    for k in range(fill.shape[0]):
        if fill[k] > 0:
            _upper_outer(grd[k], gd[k], fill[k], sxx)
            fill[k] = 0


@jit(reductions=True)
def accumulate_full_T(
    XT, nb, sample_weight, a, resp, shift, rT, dT, rdT, rows, gd, grd, fill, nk, sx, sxx
):
    """Add a block's ``nk``, ``sx`` and upper ``sxx`` (full) from ``resp`` (n_components, block).

    ``resp`` is multiplied by the sample weights in place. Components with no
    responsibility in the block are skipped; a component with non-zero
    responsibility on few rows buffers those rows (:func:`_full_stats_into`): call
    :func:`flush_rows_full` after the last block. ``shift`` (float64), ``nk``,
    ``sx``, ``sxx`` are float64; the scratch ``rT``, ``dT``, ``rdT`` and the
    buffers ``gd``, ``grd`` (n_components, n_features, cap) have the dtype of
    ``XT``; ``rows`` (block,) and ``fill`` (n_components,) are integer.
    """
    for k in range(shift.shape[0]):
        t = _weigh(resp[k], nb, sample_weight, a)
        if t == 0.0:
            continue
        nk[k] += t
        _full_stats_into(
            XT, nb, resp[k], shift[k], rT, dT, rdT, rows, gd, grd, fill, k, sx[k], sxx[k]
        )


@jit(reductions=True)
def accumulate_tied_T(
    XT, nb, sample_weight, a, resp, shift, rT, dT, rdT, rows, gd, grd, fill, nk, sx, sxx
):
    """As :func:`accumulate_full_T` with one shared ``sxx`` (use :func:`flush_rows_tied`)."""
    for k in range(shift.shape[0]):
        t = _weigh(resp[k], nb, sample_weight, a)
        if t == 0.0:
            continue
        nk[k] += t
        _full_stats_into(XT, nb, resp[k], shift[k], rT, dT, rdT, rows, gd, grd, fill, k, sx[k], sxx)


@jit(reductions=True)
def _diag_stats_rows(X, a, rows, n, rT, shift, sx, sxx_diag):
    """``sx``, ``sxx_diag`` from the rows ``a + rows[:n]`` of ``X`` (row-major, gathered).

    The inner loop runs over the features of one row, so it vectorises without a
    gather; differences are rounded to the dtype of ``X`` as in the dense path.
    """
    T = type(X[0, 0])
    n_features = X.shape[1]
    for j in range(n):
        xi = X[a + rows[j]]
        r = rT[j]
        for m in range(n_features):
            v = T(xi[m] - shift[m])
            w = r * v
            sx[m] += w
            sxx_diag[m] += w * v


@jit(reductions=True)
def _diag_stats_into(X, a, XT, nb, r, shift, rT, rows, sx, sxx_diag):
    """``sx[m] += sum_i r_i d_im``, ``sxx_diag[m] += sum_i r_i d_im^2`` (``d = x - shift``).

    Rows ``a .. a + nb`` of ``X`` are the block (``XT`` its transpose). Uses only
    the rows with non-zero responsibility when they are at most
    :data:`SPARSE_FRACTION_DIAG` of the block (read from ``X`` row by row).
    """
    if _count_resp(r, nb, rT.itemsize) <= SPARSE_FRACTION_DIAG * nb:
        n = _rows_with_resp(r, nb, rT, rows)
        _diag_stats_rows(X, a, rows, n, rT, shift, sx, sxx_diag)
        return
    T = type(XT[0, 0])
    _copy_resp(r, nb, rT)
    for m in range(XT.shape[0]):
        c = shift[m]
        xr = XT[m]
        t1 = T(0.0)
        t2 = T(0.0)
        for i in range(nb):
            v = T(xr[i] - c)
            w = rT[i] * v
            t1 += w
            t2 += w * v
        sx[m] += t1
        sxx_diag[m] += t2


@jit(reductions=True)
def accumulate_diag_T(X, a, XT, nb, sample_weight, resp, shift, rT, rows, nk, sx, sxx):
    """As :func:`accumulate_full_T` with diagonal ``sxx`` (n_components, n_features).

    ``X`` is the whole data and ``a`` the block's first row (the sparse path reads
    rows of ``X``); ``sample_weight`` is indexed from ``a`` too.
    """
    for k in range(shift.shape[0]):
        t = _weigh(resp[k], nb, sample_weight, a)
        if t == 0.0:
            continue
        nk[k] += t
        _diag_stats_into(X, a, XT, nb, resp[k], shift[k], rT, rows, sx[k], sxx[k])


@jit(reductions=True)
def accumulate_spherical_T(X, a, XT, nb, sample_weight, resp, shift, rT, rows, nk, sx, sxx):
    """As :func:`accumulate_diag_T` with the trace ``sxx`` (n_components,)."""
    sxx_diag = np.empty(XT.shape[0])
    for k in range(shift.shape[0]):
        t = _weigh(resp[k], nb, sample_weight, a)
        if t == 0.0:
            continue
        nk[k] += t
        sxx_diag[:] = 0.0
        _diag_stats_into(X, a, XT, nb, resp[k], shift[k], rT, rows, sx[k], sxx_diag)
        t2 = 0.0
        for m in range(XT.shape[0]):
            t2 += sxx_diag[m]
        sxx[k] += t2


@jit(reductions=True)
def log_norm_T(lpT, nb, norm, s, e, bits):
    """``norm[i] = logsumexp_k lpT[k, i]`` without changing ``lpT`` (``e``, ``s``: scratch)."""
    _row_max(lpT, nb, norm)
    for i in range(nb):
        s[i] = 0.0
    for k in range(lpT.shape[0]):
        row = lpT[k]
        for i in range(nb):
            e[i] = row[i] - norm[i]
        exp_flush(e, nb, bits)
        for i in range(nb):
            s[i] += e[i]
    for i in range(nb):
        norm[i] = norm[i] + np.log(s[i])
