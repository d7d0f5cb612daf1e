"""Blocked building blocks of the fused EM pass, with the points along the inner loop.

A block of ``nb`` rows of ``X`` is first transposed into ``XT`` of shape
``(n_features, block)`` in the dtype of ``X``. Every loop below then runs over the
points of the block with unit stride, so LLVM vectorises it. For float32 data the
centred differences, triangular products, the fused fit's log-probabilities,
log-sum-exp (:func:`exp_flush32`) and responsibilities, and a block's statistics
stay in float32 (eight lanes per 256-bit register instead of four); the
log-likelihood and every sum across blocks are float64. Differences ``x - mu`` are
formed as ``(x - hi) - lo`` from the float64 means split into two values of the
dtype of ``XT`` (:func:`split_mean`), so data far from the origin lose nothing to a
rounded mean
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
  product (:mod:`fastgmm._kernels._prune`), only rows with a non-zero
  responsibility enter a component's statistics (gathered and buffered across
  blocks, :mod:`fastgmm._kernels._blocked_stats`), and only surviving entries are
  exponentiated (:mod:`fastgmm._kernels._blocked_resp`). tests/test_sparse_paths.py
  holds these to the exact kernels and the twin.

The log-sum-exp of a block lives in :mod:`fastgmm._kernels._blocked_resp`, its
statistics in :mod:`fastgmm._kernels._blocked_stats`.
Scratch arrays are allocated once per chunk by the callers in
:mod:`fastgmm._kernels.suffstats` and :mod:`fastgmm._kernels.estep`.
Measured by ``benchmarks/bench_kernels.py`` and ``benchmarks/report.py``.
"""

import numpy as np
from numba import types
from numba.extending import overload

from ._jit import jit
from ._prefetch import prefetch

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


#: Below this, ``exp_flush`` returns 0: a responsibility under ``e^-40 = 4.2e-18`` of
#: the point's top component, i.e. under half an ulp of it (``eps / 2 = 1.1e-16``).
#: Why: such exact zeros are what the fused fit skips on separated clusters (pruned
#: log-densities, sparse statistics and exponentials). At ``e^-100`` (before this
#: value) a point of N, D, K = 1M, 8, 16 kept 7.8 components out of 16, at ``e^-40``
#: 2.1, and the iteration's statistics took 52 ms instead of 87 (1 thread,
#: benchmarks/profile_phases.py). It also keeps subnormal numbers, whose arithmetic
#: traps to microcode on x86, out of the loops.
#: Effect on results: ``log p(x)`` changes by less than ``n_components * 4.2e-18``
#: relative to the sum of exponentials (which is >= 1): below its rounding for up to
#: 26 components. ``nk``, ``sx``, ``sxx`` change by at most ``n_samples * 4.2e-18 *
#: (1, |x - mu|, |x - mu|^2)`` absolute: below 1e-12 relative for a component holding
#: at least 4 millionths of the data. (A component that lives only on responsibilities
#: under ``e^-40`` of every point's best is degenerate either way: its covariance is
#: ``reg_covar`` within rounding.) tests/test_sklearn_parity.py holds fits to
#: scikit-learn at 1e-8 and tests/test_threads.py the fused pass to the twin at 1e-10.
FLUSH_BELOW = -40.0

#: float32 blocks: responsibilities below this are copied to float32 as 0. Products of
#: tiny responsibilities with differences reach float32's subnormal range (smallest
#: normal 1.2e-38): with the flush at ``e^-100`` that made the float32 iteration at
#: N, D, K = 1M, 16, 8 5x *slower* than float64. Dropping them changes ``nk``, ``sx``,
#: ``sxx`` by at most ``n_samples * 1e-20 * |x - mu|^2`` absolute. float64 blocks copy
#: exactly.
FLUSH_RESP_32 = 1e-20


# No ``reassoc``: it would undo the two-part Cody-Waite reduction (1e-14 errors).
# ``contract`` (fused multiply-adds) keeps it exact and makes exp 1.4x faster.
@jit(contract=True)
def _exp_reduced(v):
    """Return ``(p, t)`` with ``exp(v) = p * 2**t``.

    Cody-Waite reduction ``v = t ln2 + r``, ``|r| <= ln2 / 2``, and a degree-13
    Taylor polynomial ``p = exp(r)``.
    """
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
    return p, np.int64(t)


@jit
def exp_inplace(x, n, bits):
    """Overwrite ``x[:n]`` with ``exp(x[:n])`` (vectorised; within 1 ulp of ``np.exp``).

    Cody-Waite reduction ``x = t ln2 + r`` with ``|r| <= ln2 / 2``, a degree-13
    Taylor polynomial for ``exp(r)`` and ``2**t`` built from exponent bits in two
    factors, so results down to the subnormal range round once, like ``np.exp``.
    ``exp(x < -750) = 0``, ``exp(-inf) = 0``. ``bits`` is int64 scratch of shape
    (2, >= n). Serial.
    """
    for i in range(n):
        v0 = x[i]
        p, ti = _exp_reduced(min(max(v0, -750.0), 709.0))
        t1 = ti >> 1
        bits[0, i] = (t1 + 1023) << 52
        bits[1, i] = (ti - t1 + 1023) << 52
        x[i] = p if v0 >= -750.0 else 0.0
    scale = bits.view(np.float64)
    for i in range(n):
        x[i] = x[i] * scale[0, i] * scale[1, i]


# float32 constants of :func:`_exp_reduced32` (Cephes ``expf``): every operand of
# its arithmetic is float32, so the loops run eight lanes wide (256-bit vectors).
_F32 = np.float32
LOG2E_32 = _F32(1.4426950408889634)
LN2_HI_32 = _F32(0.693359375)
LN2_LO_32 = _F32(-2.12194440e-4)
HALF_32 = _F32(0.5)
ONE_32 = _F32(1.0)
#: :data:`FLUSH_BELOW` of float32 rows (the fused fit over float32 data): ``e^-20 =
#: 2.1e-9``, the same margin below half a float32 ulp (``eps / 2 = 6.0e-8``) as
#: ``e^-40`` below half a float64 one. Such a term no longer changes a float32 sum of
#: exponentials that holds the top's 1; ``log p(x)`` changes by at most
#: ``n_components * 2.1e-9`` (float32 fits' lower bounds are within 1e-8 of float64's;
#: the issue allows 1e-4). Why: at N, D, K = 1M, 8, 16 a point has 2.1 of 16
#: components within 40 nats of its top and 1.2 within 20; the pruned triangular
#: products fall from 13.9% to 7.8% of the pairs (benchmarks/profile_phases.py) and
#: the float32 pass took 42.2-42.7 ms instead of 52.1-53.5 (1 thread,
#: benchmarks/fused_pass.py): fewer pairs to gather, exponentiate and accumulate.
FLUSH_BELOW_32 = _F32(-20.0)
MAX_ARG_32 = _F32(88.0)
_EXPF = (
    _F32(1.9875691500e-4), _F32(1.3981999507e-3), _F32(8.3334519073e-3),
    _F32(4.1665795894e-2), _F32(1.6666665459e-1), _F32(5.0000001201e-1),
)  # fmt: skip


@jit
def flush_below(a):
    """Return the flush of rows in the dtype of array ``a``, typed like them.

    :data:`FLUSH_BELOW` for float64 rows, :data:`FLUSH_BELOW_32` for float32 ones
    (float32 loops stay float32).

    Only the type of ``a[0]`` matters; callers pass arrays of at least one value.
    """
    return type(a[0])(FLUSH_BELOW if a.itemsize == 8 else FLUSH_BELOW_32)


@jit(contract=True)
def _exp_reduced32(v):
    """float32 ``(p, t)`` with ``exp(v) = p * 2**t`` (Cephes ``expf``).

    Measured on [-40, 0] against float64 ``exp``: relative error below 8e-8 (0.67
    float32 eps; tests/test_threads.py holds it to one eps).
    """
    t = np.floor(v * LOG2E_32 + HALF_32)
    r = (v - t * LN2_HI_32) - t * LN2_LO_32
    z = r * r
    p = _EXPF[0]
    p = p * r + _EXPF[1]
    p = p * r + _EXPF[2]
    p = p * r + _EXPF[3]
    p = p * r + _EXPF[4]
    p = p * r + _EXPF[5]
    p = (p * z + r) + ONE_32
    return p, np.int32(t)


@jit
def exp_flush32(x, n, bits):
    """:func:`exp_flush` for float32 ``x`` (float32 arithmetic, 0 below :data:`FLUSH_BELOW_32`)."""
    b = bits[0].view(np.int32)
    for i in range(n):
        v0 = x[i]
        p, ti = _exp_reduced32(min(max(v0, FLUSH_BELOW_32), MAX_ARG_32))
        b[i] = (ti + np.int32(127)) << np.int32(23)
        x[i] = p if v0 >= FLUSH_BELOW_32 else _F32(0.0)
    scale = b.view(np.float32)
    for i in range(n):
        x[i] = x[i] * scale[i]


@jit
def exp_flush64(x, n, bits):
    """As :func:`exp_inplace`, but 0 for ``x < FLUSH_BELOW`` (no subnormal results).

    Results are never subnormal, so ``2**t`` is one factor (one multiply and one
    exponent store per value fewer than :func:`exp_inplace`; the same bits). Only
    ``bits[0]`` is used.
    """
    for i in range(n):
        v0 = x[i]
        p, ti = _exp_reduced(min(max(v0, FLUSH_BELOW), 709.0))
        bits[0, i] = (ti + 1023) << 52
        x[i] = p if v0 >= FLUSH_BELOW else 0.0
    scale = bits[0].view(np.float64)
    for i in range(n):
        x[i] = x[i] * scale[i]


@jit
def exp_flush(x, n, bits):
    """``x[:n] = exp(x[:n])``, 0 below :data:`FLUSH_BELOW`, in the dtype of ``x``.

    :func:`exp_flush64` or :func:`exp_flush32`. Hot loops branch on the dtype
    themselves and call those directly: through this extra call level, 8 values
    took 43-59 ns instead of 26-30 (1 thread), and the fused diag pass at
    1M x 8 x 16 makes about 65,000 such calls.
    """
    if x.itemsize == 4:
        exp_flush32(x, n, bits)
    else:
        exp_flush64(x, n, bits)


@jit
def load_transposed(X, a, nb, XT):
    """``XT[m, i] = X[a + i, m]`` for ``i < nb`` (serial; ``XT`` has the dtype of ``X``).

    Four rows per pass: each store into a row of ``XT`` fills four neighbouring
    values (per 1M rows, 1 thread: D = 16 float32 8.8 -> 6.0 ms, float64 11.2 -> 9.6;
    D = 32 26-28 -> 16-18 ms; ``X.sum()`` takes 5.5 / 8.9 ms at D = 16).
    """
    i = 0
    while i + 4 <= nb:
        _transpose_four(X, a + i, XT, i)
        i += 4
    _transpose_rest(X, a, i, nb, XT)


@jit(inline="always")  # inlined by Numba: as a call, 100k x 2 x 4 lost 15%
def _transpose_four(X, r, XT, i):
    """``XT[:, i:i + 4] = X[r:r + 4].T``: each store fills four neighbouring values."""
    x0, x1, x2, x3 = X[r], X[r + 1], X[r + 2], X[r + 3]
    for m in range(X.shape[1]):
        XT[m, i] = x0[m]
        XT[m, i + 1] = x1[m]
        XT[m, i + 2] = x2[m]
        XT[m, i + 3] = x3[m]


@jit(inline="always")
def _transpose_rest(X, a, i, nb, XT):
    """``XT[:, i:nb] = X[a + i:a + nb].T`` one row at a time (the last ``nb % 4`` rows)."""
    while i < nb:
        for m in range(X.shape[1]):
            XT[m, i] = X[a + i, m]
        i += 1


#: The fused passes load blocks with :func:`load_transposed_ahead` from this many
#: features on (rows of 32 bytes or more); below, a row is a fraction of a cache
#: line and the whole problem usually sits in L2 (100k x 2 x 4: 1.6 MB).
AHEAD_MIN_FEATURES = 8


@jit
def load_transposed_ahead(X, a, nb, XT, ahead):
    """:func:`load_transposed`, also asking for the rows ``ahead`` rows further on.

    Every four rows transposed, the cache lines of the four rows ``ahead`` rows
    later are prefetched (:func:`~fastgmm._kernels._prefetch.prefetch`), so the
    next block's rows are on their way while this block is computed, when the
    hardware prefetcher sees no access to ``X``. Same values as
    :func:`load_transposed`, for any layout of ``X``. Measured (2 threads, one
    fused pass, alternating with the plain load): diag 200k x 32 x 16 float64
    11.5-11.6 -> 9.7-10.8 ms, full 1M x 16 x 8 float32 24.2-24.9 -> 22.9-24.9;
    1 thread, 1M x 16 x 8 float32, the load alone 9.4-9.9 -> 5.8 ms
    (benchmarks/profile_phases.py).
    """
    n_samples, n_features = X.shape
    step = max(64 // X.itemsize, 1)  # values per cache line (of a C-contiguous row)
    i = 0
    while i + 4 <= nb:
        for r in range(a + ahead + i, min(a + ahead + i + 4, n_samples)):
            for m in range(0, n_features, step):
                prefetch(X, r, m)
        _transpose_four(X, a + i, XT, i)
        i += 4
    _transpose_rest(X, a, i, nb, XT)


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

    :func:`_tri_sq_at` from column 0.
    """
    _tri_sq_at(dT, 0, nb, U, y, sq)


@jit(reductions=True)
def _tri_sq_at(dT, start, nb, U, y, sq):
    """``sq[i] = ||d_i @ U||^2`` for the columns ``start .. start + nb`` of ``dT``.

    Two columns of ``U`` per pass share every load of a row of ``dT``, and four
    rows per pass share each load/store of the partial products ``y`` (2, block):
    1.04-1.34x over one column per pass at D = 8..32, float32 and float64, one
    thread (benchmarks/bench_kernels.py::test_tri_sq). ``start`` lets the pruned
    log-densities work in place in a component's row buffer
    (:func:`~fastgmm._kernels._prune.log_prob_full_pruned_T`).
    """
    n_features = dT.shape[0]
    y0 = y[0]
    y1 = y[1]
    for i in range(nb):
        sq[i] = 0.0
    j = 0
    while j + 1 < n_features:  # columns j and j + 1
        u0, v0 = U[0, j], U[0, j + 1]
        d0 = dT[0][start:]
        for i in range(nb):
            y0[i] = u0 * d0[i]
            y1[i] = v0 * d0[i]
        m = 1
        while m + 3 <= j:
            u0, u1, u2, u3 = U[m, j], U[m + 1, j], U[m + 2, j], U[m + 3, j]
            v0, v1, v2, v3 = U[m, j + 1], U[m + 1, j + 1], U[m + 2, j + 1], U[m + 3, j + 1]
            da, db, dc, dd = dT[m][start:], dT[m + 1][start:], dT[m + 2][start:], dT[m + 3][start:]
            for i in range(nb):
                a0, a1, a2, a3 = da[i], db[i], dc[i], dd[i]
                y0[i] += (u0 * a0 + u1 * a1) + (u2 * a2 + u3 * a3)
                y1[i] += (v0 * a0 + v1 * a1) + (v2 * a2 + v3 * a3)
            m += 4
        while m <= j:
            u0, v0 = U[m, j], U[m, j + 1]
            da = dT[m][start:]
            for i in range(nb):
                y0[i] += u0 * da[i]
                y1[i] += v0 * da[i]
            m += 1
        v0 = U[j + 1, j + 1]
        da = dT[j + 1][start:]
        for i in range(nb):
            t = y1[i] + v0 * da[i]
            sq[i] += y0[i] * y0[i] + t * t
        j += 2
    if j < n_features:  # odd n_features: the last column alone
        u0 = U[0, j]
        d0 = dT[0][start:]
        for i in range(nb):
            y0[i] = u0 * d0[i]
        for m in range(1, j + 1):
            u0 = U[m, j]
            da = dT[m][start:]
            for i in range(nb):
                y0[i] += u0 * da[i]
        for i in range(nb):
            sq[i] += y0[i] * y0[i]


@jit
def rows_view(buf, n_rows, n_cols):
    """View the first ``n_rows * n_cols`` values of C-contiguous ``buf`` as (n_rows, n_cols).

    Lets one allocation serve blocks of different lengths, each with its rows
    packed at its own width (:func:`~fastgmm._kernels.suffstats.block_views`): the
    fused passes' short dense blocks then touch as few cache lines and pages as
    with short buffers (with their rows a long block apart, overlapping float32
    passes at 200k x 32 x 16 took 187-197 ms instead of 154-158, 1 thread).
    """
    return buf.reshape(buf.size)[: n_rows * n_cols].reshape((n_rows, n_cols))


@jit
def split_mean(c, zero):
    """``c`` (float64) as ``hi + lo`` in the type of ``zero`` (``lo = 0`` for float64).

    float32 blocks subtract a float64 mean as ``(x - hi) - lo`` in float32: eight
    lanes and no conversions, where ``x - c`` formed in float64 and rounded costs two
    conversions per value and runs four lanes wide (1M x 16 x 8: 96 against 120 ms
    per iteration, 1 thread). ``x - hi`` is exact when ``x`` is within a factor 2 of
    ``hi`` (Sterbenz), so data far from the origin keep their differences to within
    about one float32 ulp, where a float32-rounded mean alone would lose them
    (tests/test_extreme.py::test_float32_with_large_offset_matches_float64_of_the_same_values).
    For float64 it is ``(x - c) - 0``: the same bits as ``x - c``.
    """
    T = type(zero)
    hi = T(c)
    return hi, T(c - hi)


def _minus_lo(d, lo):
    """``d - lo``; compiled as ``d`` when ``lo`` is float64 (see :func:`centred`)."""
    return d - lo


@overload(_minus_lo)
def _minus_lo_typed(d, lo):
    """Numba's implementation of :func:`_minus_lo`, chosen by the type of ``lo``."""
    if isinstance(lo, types.Float) and lo.bitwidth == 64:
        return lambda d, lo: d
    return lambda d, lo: d - lo


@jit  # no ``reassoc``, which would fold it into ``x - (hi + lo)``: see split_mean
def centred(x, hi, lo):
    """``(x - hi) - lo`` in the type of ``x`` (a mean split by :func:`split_mean`).

    Its own function so that it keeps its strict floating-point semantics when
    inlined into the ``reassoc`` loops of the callers (LLVM's fast-math flags are
    per instruction). For float64, :func:`split_mean` makes ``lo`` exactly 0 and
    ``(x - hi) - 0`` has the bits of ``x - hi``, so the second subtraction is left
    out at compile time (LLVM cannot drop it: it does not know ``c - c`` is 0).
    """
    return _minus_lo(x - hi, lo)


@jit
def const_minus_half(hi, lo, s):
    """``c - s / 2`` for a log-density constant ``c = hi + lo`` split by :func:`split_mean`.

    Formed as ``-((s / 2 - hi) - lo)``, in the type of ``hi`` (the log-densities'):
    float32 rows stay float32, where ``c - s / 2`` with the float64 ``c`` cost two
    conversions per value. float64 has the bits of ``c - s / 2`` (``s / 2`` is
    exact and ``lo`` is 0).
    """
    T = type(hi)
    return -centred(T(0.5) * T(s), hi, lo)


def scaled_centred(x, hi, lo, p, q):
    """``((x - hi) - lo) * p``, formed as ``fma(x - hi, p, q)`` for float32 (``q = -lo * p``).

    The diagonal log-densities' term. float64 keeps :func:`centred` times ``p``
    (``lo`` is 0 there, and the bits stay those of ``(x - hi) * p``). float32 folds
    the subtraction of ``lo`` into a multiply-add (:func:`_fma_centred`): three
    operations per value instead of four, with one rounding fewer (``q`` is
    rounded once per feature, and ``|q|`` is at most half an ulp of ``hi * p``).
    """
    return centred(x, hi, lo) * p


@jit(contract=True)  # a fused multiply-add, and nothing reassociated
def _fma_centred(x, hi, p, q):
    """``(x - hi) * p + q`` with one rounding for the product and the sum."""
    return (x - hi) * p + q


@overload(scaled_centred)
def _scaled_centred_typed(x, hi, lo, p, q):
    """Numba's implementation of :func:`scaled_centred`, chosen by the type of ``lo``."""
    if isinstance(lo, types.Float) and lo.bitwidth == 64:
        return lambda x, hi, lo, p, q: centred(x, hi, lo) * p
    return lambda x, hi, lo, p, q: _fma_centred(x, hi, p, q)


@jit(reductions=True)
def _centre(XT, nb, mean, dT):
    """``dT[:, :nb] = XT[:, :nb] - mean`` (float64 ``mean``; see :func:`split_mean`)."""
    z = type(dT[0, 0])(0.0)
    for m in range(XT.shape[0]):
        hi, lo = split_mean(mean[m], z)
        xr = XT[m]
        dr = dT[m]
        for i in range(nb):
            dr[i] = centred(xr[i], hi, lo)


@jit(reductions=True)
def _centre_rows(XT, rows, n, mean, dT, start):
    """``dT[:, start + j] = XT[:, rows[j]] - mean`` for ``j < n`` (as :func:`_centre`).

    Gathers a block's rows into a column range of ``dT``: the pruned
    log-densities and the sparse statistics write them straight into a
    component's statistics buffer.
    """
    z = type(dT[0, 0])(0.0)
    for m in range(XT.shape[0]):
        hi, lo = split_mean(mean[m], z)
        xr = XT[m]
        dr = dT[m][start:]
        for j in range(n):
            dr[j] = centred(xr[rows[j]], hi, lo)


#: Up to this many features the full/tied log-densities (and the dense statistics,
#: :mod:`fastgmm._kernels._blocked_stats`) take one fused pass per component with
#: every feature in registers, instead of a pass per feature and per column
#: (N, D, K = 100k, 2, 4: 0.47 -> 0.10 ms of log-densities per iteration, 1 thread).
SMALL_FEATURES = 3


@jit
def _feature(XT, m):
    """Row ``m`` of ``XT``, or row 0 when ``m`` is past the last (a padded feature)."""
    return XT[m] if m < XT.shape[0] else XT[0]


@jit
def _entry(U, a, b):
    """``U[a, b]``, or 0 past the last feature (a padded feature adds exactly 0)."""
    return U[a, b] if b < U.shape[0] else type(U[0, 0])(0.0)


@jit(reductions=True)
def _log_prob_two(XT, nb, mean, U, c, row):
    """:func:`_log_prob_small` for exactly 2 features (nothing padded)."""
    z = type(XT[0, 0])(0.0)
    x0, x1 = XT[0], XT[1]
    h0, l0 = split_mean(mean[0], z)
    h1, l1 = split_mean(mean[1], z)
    u00, u01, u11 = U[0, 0], U[0, 1], U[1, 1]
    c_hi, c_lo = split_mean(c, type(row[0])(0.0))
    for i in range(nb):
        d0 = centred(x0[i], h0, l0)
        d1 = centred(x1[i], h1, l1)
        y0 = u00 * d0
        y1 = u01 * d0 + u11 * d1
        row[i] = const_minus_half(c_hi, c_lo, y0 * y0 + y1 * y1)


@jit(reductions=True)
def _log_prob_small(XT, nb, mean, U, c, row):
    """``row[i] = c - ||(x_i - mean) @ U||^2 / 2`` in one pass, up to 3 features.

    Missing features are padded with zero factor entries (they add exactly 0).
    Two features, the commonest case, skip the padding (:func:`_log_prob_two`:
    0.40 -> 0.24 ns per point and component, 1 thread).
    """
    if XT.shape[0] == 2:
        _log_prob_two(XT, nb, mean, U, c, row)
        return
    z = type(XT[0, 0])(0.0)
    last = XT.shape[0] - 1
    x0, x1, x2 = XT[0], _feature(XT, 1), _feature(XT, 2)
    h0, l0 = split_mean(mean[0], z)
    h1, l1 = split_mean(mean[min(1, last)], z)
    h2, l2 = split_mean(mean[min(2, last)], z)
    u00, u01, u02 = U[0, 0], _entry(U, 0, 1), _entry(U, 0, 2)
    u11, u12, u22 = _entry(U, 1, 1), _entry(U, 1, 2), _entry(U, 2, 2)
    c_hi, c_lo = split_mean(c, type(row[0])(0.0))
    for i in range(nb):
        d0 = centred(x0[i], h0, l0)
        d1 = centred(x1[i], h1, l1)
        d2 = centred(x2[i], h2, l2)
        y0 = u00 * d0
        y1 = u01 * d0 + u11 * d1
        y2 = (u02 * d0 + u12 * d1) + u22 * d2
        row[i] = const_minus_half(c_hi, c_lo, (y0 * y0 + y1 * y1) + y2 * y2)


@jit(reductions=True)
def log_prob_full_T(XT, nb, means, precisions_chol, const, lpT, dT, y, sq):
    """``lpT[k, i] = const[k] - ||(x_i - mu_k) @ U_k||^2 / 2`` for ``i < nb``.

    ``means``, ``precisions_chol`` and the scratch ``dT``, ``y`` (2, block), ``sq``
    have the dtype of ``XT``; ``lpT`` is float64 or (the fused fit) the dtype of
    ``XT``. Up to :data:`SMALL_FEATURES`
    features, one fused pass per component (:func:`_log_prob_small`).
    """
    small = XT.shape[0] <= SMALL_FEATURES
    for k in range(means.shape[0]):
        if small:
            _log_prob_small(XT, nb, means[k], precisions_chol[k], const[k], lpT[k])
            continue
        _centre(XT, nb, means[k], dT)
        _tri_sq(dT, nb, precisions_chol[k], y, sq)
        row = lpT[k]
        c_hi, c_lo = split_mean(const[k], type(row[0])(0.0))
        for i in range(nb):
            row[i] = const_minus_half(c_hi, c_lo, sq[i])


@jit(reductions=True)
def log_prob_tied_T(XT, nb, means, precisions_chol, const, lpT, dT, y, sq):
    """As :func:`log_prob_full_T` with one shared factor ``U``."""
    small = XT.shape[0] <= SMALL_FEATURES
    for k in range(means.shape[0]):
        if small:
            _log_prob_small(XT, nb, means[k], precisions_chol, const[k], lpT[k])
            continue
        _centre(XT, nb, means[k], dT)
        _tri_sq(dT, nb, precisions_chol, y, sq)
        row = lpT[k]
        c_hi, c_lo = split_mean(const[k], type(row[0])(0.0))
        for i in range(nb):
            row[i] = const_minus_half(c_hi, c_lo, sq[i])


@jit(reductions=True)
def _scaled_sq(XT, nb, means, k, scales, ks, out, ko):
    """``out[ko, i] = sum_m ((x_im - means[k, m]) * scales[ks, m])^2``, four features per pass.

    Four features per pass share each load/store of ``sq`` (the loop is bound by
    memory traffic otherwise). ``scales`` has the dtype of ``XT``.

    Kernels called once per block and component take the whole arrays and the
    row indices, not the rows: Numba keeps the reference counts of a view
    passed to a call (two atomic operations per view and call) and of every
    array argument of a caller that branches. The fused fit's per-component
    calls are branch-free leaves like this one (200k x 32 x 16 diag, float32:
    the reference counts took 21% of a pass, 1 thread, ``perf``).
    """
    n_features = XT.shape[0]
    mean = means[k]
    scale = scales[ks]
    sq = out[ko]
    z = type(sq[0])(0.0)
    for i in range(nb):
        sq[i] = 0.0
    m = 0
    while m + 4 <= n_features:
        h0, l0 = split_mean(mean[m], z)
        h1, l1 = split_mean(mean[m + 1], z)
        h2, l2 = split_mean(mean[m + 2], z)
        h3, l3 = split_mean(mean[m + 3], z)
        p0, p1, p2, p3 = scale[m], scale[m + 1], scale[m + 2], scale[m + 3]
        q0, q1, q2, q3 = -l0 * p0, -l1 * p1, -l2 * p2, -l3 * p3
        x0, x1, x2, x3 = XT[m], XT[m + 1], XT[m + 2], XT[m + 3]
        for i in range(nb):
            v0 = scaled_centred(x0[i], h0, l0, p0, q0)
            v1 = scaled_centred(x1[i], h1, l1, p1, q1)
            v2 = scaled_centred(x2[i], h2, l2, p2, q2)
            v3 = scaled_centred(x3[i], h3, l3, p3, q3)
            sq[i] += (v0 * v0 + v1 * v1) + (v2 * v2 + v3 * v3)
        m += 4
    while m < n_features:
        h0, l0 = split_mean(mean[m], z)
        p0, x0 = scale[m], XT[m]
        q0 = -l0 * p0
        for i in range(nb):
            v0 = scaled_centred(x0[i], h0, l0, p0, q0)
            sq[i] += v0 * v0
        m += 1


@jit(reductions=True)
def log_prob_diag_T(XT, nb, means, precisions_chol, const, lpT, sq):
    """As :func:`log_prob_full_T` with diagonal factors (n_components, n_features)."""
    sq2 = sq.reshape((1, sq.shape[0]))
    for k in range(means.shape[0]):
        _scaled_sq(XT, nb, means, k, precisions_chol, k, sq2, 0)
        c_hi, c_lo = split_mean(const[k], type(lpT[0, 0])(0.0))
        for i in range(nb):
            lpT[k, i] = const_minus_half(c_hi, c_lo, sq[i])


@jit(reductions=True)
def log_prob_spherical_T(XT, nb, means, precisions_chol, const, lpT, sq):
    """As :func:`log_prob_full_T` with one precision factor per component.

    ``precisions_chol`` stays float64 here (one scalar per component).
    """
    ones = np.ones((1, XT.shape[0]), dtype=sq.dtype)
    sq2 = sq.reshape((1, sq.shape[0]))
    for k in range(means.shape[0]):
        _scaled_sq(XT, nb, means, k, ones, 0, sq2, 0)
        c = const[k]
        h = 0.5 * precisions_chol[k] * precisions_chol[k]
        for i in range(nb):
            lpT[k, i] = c - h * sq[i]
