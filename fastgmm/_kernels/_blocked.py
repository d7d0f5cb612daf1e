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
  fixed at compile time, so results are deterministic and thread-independent).

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

    Chosen by measurement (benchmarks/bench_kernels.py::test_block_rows); the
    block length never changes results across thread counts (chunks are fixed).
    """
    b = 4096 // max(n_features, 1)
    b = (b // 16) * 16
    return min(max(b, 64), 1024)


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
    """``sq[i] = ||d_i @ U||^2`` for upper-triangular ``U`` (rows of ``dT`` are features)."""
    n_features = dT.shape[0]
    for i in range(nb):
        sq[i] = 0.0
    for j in range(n_features):
        u0 = U[0, j]
        d0 = dT[0]
        for i in range(nb):
            y[i] = u0 * d0[i]
        m = 1
        while m + 3 <= j:  # four rows per pass: one load/store of y per 4 multiply-adds
            u0, u1, u2, u3 = U[m, j], U[m + 1, j], U[m + 2, j], U[m + 3, j]
            da, db, dc, dd = dT[m], dT[m + 1], dT[m + 2], dT[m + 3]
            for i in range(nb):
                y[i] += (u0 * da[i] + u1 * db[i]) + (u2 * dc[i] + u3 * dd[i])
            m += 4
        while m <= j:
            u0 = U[m, j]
            da = dT[m]
            for i in range(nb):
                y[i] += u0 * da[i]
            m += 1
        for i in range(nb):
            sq[i] += y[i] * y[i]


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

    ``means``, ``precisions_chol`` and the scratch ``dT``, ``y``, ``sq`` have the
    dtype of ``XT``; ``lpT`` is float64.
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
def log_prob_diag_T(XT, nb, means, precisions_chol, const, lpT, sq):
    """As :func:`log_prob_full_T` with diagonal factors (n_components, n_features)."""
    n_features = XT.shape[0]
    T = type(sq[0])
    for k in range(means.shape[0]):
        for i in range(nb):
            sq[i] = 0.0
        for m in range(n_features):
            mk = means[k, m]
            p = precisions_chol[k, m]
            xr = XT[m]
            for i in range(nb):
                v = T(xr[i] - mk) * p
                sq[i] += v * v
        row = lpT[k]
        c = const[k]
        for i in range(nb):
            row[i] = c - 0.5 * sq[i]


@jit(reductions=True)
def log_prob_spherical_T(XT, nb, means, precisions_chol, const, lpT, sq):
    """As :func:`log_prob_full_T` with one precision factor per component.

    ``precisions_chol`` stays float64 here (one scalar per component).
    """
    n_features = XT.shape[0]
    T = type(sq[0])
    for k in range(means.shape[0]):
        for i in range(nb):
            sq[i] = 0.0
        for m in range(n_features):
            mk = means[k, m]
            xr = XT[m]
            for i in range(nb):
                v = T(xr[i] - mk)
                sq[i] += v * v
        row = lpT[k]
        c = const[k]
        h = 0.5 * precisions_chol[k] * precisions_chol[k]
        for i in range(nb):
            row[i] = c - h * sq[i]


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
    for k in range(n_components):
        row = lpT[k]
        for i in range(nb):
            row[i] = row[i] - norm[i]
        exp_flush(row, nb, bits)
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
def _upper_outer(rdT, dT, nb, sxx):
    """``sxx[a, b] += sum_i rdT[a, i] * dT[b, i]`` for ``a <= b``.

    The sum over the block runs in the dtype of ``dT`` (float32 for float32 data:
    eight lanes; benchmarks/report.py's float32 table shows the error against
    float64 sums, far below the 1e-4 the issue allows); ``sxx`` is float64, so
    sums across blocks are float64.

    Four ``b`` at a time share each load of ``rdT[a]``: 1.4x over one at a time at
    D=8 and 16 with 256-row blocks, none at D=32 with 128-row blocks (microbenchmark
    on a loaded machine; end to end: benchmarks/bench_kernels.py::test_suffstats).
    """
    n_features = dT.shape[0]
    T = type(dT[0, 0])
    for a in range(n_features):
        ra = rdT[a]
        b = a
        while b + 4 <= n_features:
            d0, d1, d2, d3 = dT[b], dT[b + 1], dT[b + 2], dT[b + 3]
            t0 = T(0.0)
            t1 = T(0.0)
            t2 = T(0.0)
            t3 = T(0.0)
            for i in range(nb):
                r = ra[i]
                t0 += r * d0[i]
                t1 += r * d1[i]
                t2 += r * d2[i]
                t3 += r * d3[i]
            sxx[a, b] += t0
            sxx[a, b + 1] += t1
            sxx[a, b + 2] += t2
            sxx[a, b + 3] += t3
            b += 4
        while b < n_features:
            db = dT[b]
            t = T(0.0)
            for i in range(nb):
                t += ra[i] * db[i]
            sxx[a, b] += t
            b += 1


@jit(reductions=True)
def accumulate_full_T(XT, nb, sample_weight, a, resp, shift, rT, dT, rdT, nk, sx, sxx):
    """Add a block's ``nk``, ``sx`` and upper ``sxx`` (full) from ``resp`` (n_components, block).

    ``resp`` is multiplied by the sample weights in place. Components with no
    responsibility in the block are skipped. ``shift`` (float64), ``nk``, ``sx``,
    ``sxx`` are float64; the scratch ``rT``, ``dT``, ``rdT`` has the dtype of ``XT``.
    """
    for k in range(shift.shape[0]):
        t = _weigh(resp[k], nb, sample_weight, a)
        if t == 0.0:
            continue
        nk[k] += t
        _centre_weigh(XT, nb, shift[k], resp[k], rT, dT, rdT, sx[k])
        _upper_outer(rdT, dT, nb, sxx[k])


@jit(reductions=True)
def accumulate_tied_T(XT, nb, sample_weight, a, resp, shift, rT, dT, rdT, nk, sx, sxx):
    """As :func:`accumulate_full_T` with one shared ``sxx`` (n_features, n_features)."""
    for k in range(shift.shape[0]):
        t = _weigh(resp[k], nb, sample_weight, a)
        if t == 0.0:
            continue
        nk[k] += t
        _centre_weigh(XT, nb, shift[k], resp[k], rT, dT, rdT, sx[k])
        _upper_outer(rdT, dT, nb, sxx)


@jit(reductions=True)
def accumulate_diag_T(XT, nb, sample_weight, a, resp, shift, rT, nk, sx, sxx):
    """As :func:`accumulate_full_T` with diagonal ``sxx`` (n_components, n_features)."""
    n_features = XT.shape[0]
    T = type(XT[0, 0])
    for k in range(shift.shape[0]):
        r = resp[k]
        t = _weigh(r, nb, sample_weight, a)
        if t == 0.0:
            continue
        nk[k] += t
        _copy_resp(r, nb, rT)
        for m in range(n_features):
            c = shift[k, m]
            xr = XT[m]
            t1 = T(0.0)
            t2 = T(0.0)
            for i in range(nb):
                v = T(xr[i] - c)
                w = rT[i] * v
                t1 += w
                t2 += w * v
            sx[k, m] += t1
            sxx[k, m] += t2


@jit(reductions=True)
def accumulate_spherical_T(XT, nb, sample_weight, a, resp, shift, rT, nk, sx, sxx):
    """As :func:`accumulate_full_T` with the trace ``sxx`` (n_components,)."""
    n_features = XT.shape[0]
    T = type(XT[0, 0])
    for k in range(shift.shape[0]):
        r = resp[k]
        t = _weigh(r, nb, sample_weight, a)
        if t == 0.0:
            continue
        nk[k] += t
        _copy_resp(r, nb, rT)
        t2 = 0.0
        for m in range(n_features):
            c = shift[k, m]
            xr = XT[m]
            t1 = T(0.0)
            t3 = T(0.0)
            for i in range(nb):
                v = T(xr[i] - c)
                w = rT[i] * v
                t1 += w
                t3 += w * v
            sx[k, m] += t1
            t2 += t3
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
