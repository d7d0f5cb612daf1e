"""Pruned log-densities for the fused fit: skip pairs whose responsibility is certainly 0.

A responsibility more than ``-FLUSH_BELOW`` nats below a point's best component
(``-FLUSH_BELOW_32`` for float32 rows) is flushed to exactly 0 by
:func:`~fastgmm._kernels._blocked.exp_flush`. The
squared Euclidean distance to each mean and bounds on the eigenvalues of each
precision matrix bracket every log-probability, so such pairs can be found
before their ``D x D`` triangular product and given ``-inf`` instead: the
responsibilities, ``log p(x)`` and the statistics are unchanged
(tests/test_sparse_paths.py). Used by the fused full/tied passes in
:mod:`fastgmm._kernels.suffstats` from ``PRUNE_MIN_FEATURES`` features on.
"""

import numpy as np

from ._blocked import (
    FLUSH_BELOW,
    FLUSH_BELOW_32,
    _centre,
    _centre_rows,
    _scaled_sq,
    _tri_sq,
    _tri_sq_at,
    const_minus_half,
    split_mean,
)
from ._blocked_stats import SPARSE_FRACTION
from ._jit import jit

#: A (point, component) pair is pruned when an upper bound of its log-probability is
#: more than ``-PRUNE_BELOW`` nats below a lower bound of the point's best one: its
#: responsibility would be flushed to exactly 0 by :func:`exp_flush` anyway
#: (``FLUSH_BELOW``), so pruning changes no responsibility, no ``log p(x)`` and no
#: statistic (the extra nat absorbs rounding of the bounds and of float32 blocks).
PRUNE_BELOW = FLUSH_BELOW - 1.0
#: :data:`PRUNE_BELOW` of float32 rows, whose exponentials flush at ``e^-20``
#: (:data:`~fastgmm._kernels._blocked.FLUSH_BELOW_32`). The bounds stay float64.
PRUNE_BELOW_32 = float(FLUSH_BELOW_32) - 1.0

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
def _kept_flags(dist, nb, c, h_lo, best, flags):
    """``flags[i] = 1`` for rows whose bound ``c - h_lo * dist`` is not pruned; return their count.

    Vectorised; ``flags[nb:]`` up to the next multiple of 8 are zeroed for
    :func:`_rows_from_flags`.
    """
    cut = PRUNE_BELOW if dist.itemsize == 8 else PRUNE_BELOW_32
    n = 0
    for i in range(nb):
        f = 1 if c - h_lo * dist[i] >= best[i] + cut else 0
        flags[i] = f
        n += f
    for i in range(nb, (nb + 7) // 8 * 8):
        flags[i] = 0
    return n


def _kept_positions():
    """``at[m, :count[m]]``: the set bits of the byte ``m``, in order (``at`` int64)."""
    at = np.zeros((256, 8), dtype=np.int64)
    count = np.zeros(256, dtype=np.int64)
    for m in range(256):
        pos = [j for j in range(8) if m >> j & 1]
        at[m, : len(pos)] = pos
        count[m] = len(pos)
    return at, count


#: Lookup tables of :func:`_rows_from_flags` (frozen into the compiled code).
_KEPT_AT, _KEPT_COUNT = _kept_positions()
#: Multiplying eight 0/1 bytes by this moves byte ``j`` to bit ``56 + j``.
_BYTES_TO_BITS = np.uint64(0x0102040810204080)
_TOP_BYTE = np.uint64(56)


@jit
def _rows_from_flags(flags, nb, rows):
    """Compact the indices of the set ``flags[:nb]`` into ``rows``; return their count.

    Eight rows at a time: their flags, read as one 64-bit word, become an 8-bit
    mask that indexes :data:`_KEPT_AT` (the positions of its set bits), and all
    eight candidate indices are stored at once; the count advances by the mask's
    popcount. ``rows`` needs room for 7 indices past the count. 25-35% faster than
    a branch-free scalar loop (1M x 16 pairs, 14% kept: 8.8-9.4 against 11.0-12.5
    ms for count plus compaction).
    """
    words = flags.view(np.uint64)
    n = 0
    for j in range((nb + 7) // 8):
        m = (words[j] * _BYTES_TO_BITS) >> _TOP_BYTE
        base = 8 * j
        for t in range(8):
            rows[n + t] = base + _KEPT_AT[m, t]
        n += _KEPT_COUNT[m]
    return n


@jit(reductions=True)
def _log_prob_pruned_one(XT, nb, mean, U, c, h_lo, best, row, dT, y, sq, rows, gd, start, flags):
    """One component's row of :func:`log_prob_full_pruned_T` (``row`` holds distances).

    Returns how many rows were kept (their compact log-probabilities in
    ``row[:n]``, their indices in ``rows[:n]``, centred into ``gd[:, start:start + n]``),
    or -1 when the whole block went through the triangular product (``row[:nb]``,
    centred rows in ``dT``).
    """
    c_hi, c_lo = split_mean(c, type(row[0])(0.0))
    if _kept_flags(row, nb, c, h_lo, best, flags) > SPARSE_FRACTION * nb:  # dense: no compaction
        _centre(XT, nb, mean, dT)
        _tri_sq(dT, nb, U, y, sq)
        for i in range(nb):
            row[i] = const_minus_half(c_hi, c_lo, sq[i])
        return -1
    n = _rows_from_flags(flags, nb, rows)
    _centre_rows(XT, rows, n, mean, gd, start)
    _tri_sq_at(gd, start, n, U, y, sq)
    for j in range(n):
        row[j] = const_minus_half(c_hi, c_lo, sq[j])
    return n


@jit(reductions=True)
def _distances_T(XT, nb, means, ones, lpT):
    """``lpT[k, i] = ||x_i - mu_k||^2``, in the dtype of ``lpT`` (``ones``: (1, n_features))."""
    for k in range(means.shape[0]):
        _scaled_sq(XT, nb, means, k, ones, 0, lpT, k)


#: Rounding allowance of :func:`_expanded_distances_T`, in units of
#: ``2**-53 * (||x - c||^2 + ||mu - c||^2)`` per feature: the expanded form's sums
#: (at most ``n_features + 2`` roundings of terms bounded by that) and the rounded
#: centred values (``2 * 2**-53`` relative each), with room to spare.
EXPANDED_ROUNDING = 4.0


@jit(reductions=True)
def _dot4_into(xc, nb, mc, k0, r0, r1, r2, r3):
    """``r_j[i] -= 2 mc[k0 + j] . xc[:, i]`` for four components, four features per pass."""
    n_features = xc.shape[0]
    m = 0
    while m + 4 <= n_features:
        a0, a1, a2, a3 = mc[k0, m], mc[k0, m + 1], mc[k0, m + 2], mc[k0, m + 3]
        b0, b1, b2, b3 = mc[k0 + 1, m], mc[k0 + 1, m + 1], mc[k0 + 1, m + 2], mc[k0 + 1, m + 3]
        c0, c1, c2, c3 = mc[k0 + 2, m], mc[k0 + 2, m + 1], mc[k0 + 2, m + 2], mc[k0 + 2, m + 3]
        d0, d1, d2, d3 = mc[k0 + 3, m], mc[k0 + 3, m + 1], mc[k0 + 3, m + 2], mc[k0 + 3, m + 3]
        x0, x1, x2, x3 = xc[m], xc[m + 1], xc[m + 2], xc[m + 3]
        for i in range(nb):
            v0, v1, v2, v3 = x0[i], x1[i], x2[i], x3[i]
            r0[i] += (a0 * v0 + a1 * v1) + (a2 * v2 + a3 * v3)
            r1[i] += (b0 * v0 + b1 * v1) + (b2 * v2 + b3 * v3)
            r2[i] += (c0 * v0 + c1 * v1) + (c2 * v2 + c3 * v3)
            r3[i] += (d0 * v0 + d1 * v1) + (d2 * v2 + d3 * v3)
        m += 4
    while m < n_features:
        a0, b0, c0, d0 = mc[k0, m], mc[k0 + 1, m], mc[k0 + 2, m], mc[k0 + 3, m]
        x0 = xc[m]
        for i in range(nb):
            v0 = x0[i]
            r0[i] += a0 * v0
            r1[i] += b0 * v0
            r2[i] += c0 * v0
            r3[i] += d0 * v0
        m += 1


@jit(reductions=True)
def _expanded_distances_T(XT, nb, means, lpT, xc, xx):
    """Squared distances as ``||x - c||^2 + ||mu - c||^2 - 2 (mu - c).(x - c)`` (float64).

    ``c`` is the mean of the means. Four components share every load of ``x``, so
    the pass is multiply-adds (N, D, K = 1M, 16, 8: 1.5x faster than the direct
    differences). Unlike the direct form its rounding is relative to
    ``||x - c||^2 + ||mu - c||^2``, not to the distance: the returned ``lpT`` is
    the distance *less* :data:`EXPANDED_ROUNDING` of that, a lower bound, and
    ``xx[i] = ||x_i - c||^2`` and the returned ``mm[k] = ||mu_k - c||^2`` let the
    caller add the same to get an upper bound. ``xc`` (n_features, block) is
    scratch.
    """
    n_components, n_features = means.shape
    c = np.zeros(n_features)
    for k in range(n_components):
        for m in range(n_features):
            c[m] += means[k, m]
    for m in range(n_features):
        c[m] /= max(n_components, 1)
    mc = np.empty((n_components, n_features))
    mm = np.zeros(n_components)
    for k in range(n_components):
        for m in range(n_features):
            mc[k, m] = means[k, m] - c[m]
            mm[k] += mc[k, m] * mc[k, m]
    for i in range(nb):
        xx[i] = 0.0
    for m in range(n_features):
        cm = c[m]
        xr = XT[m]
        xo = xc[m]
        for i in range(nb):
            v = xr[i] - cm
            xo[i] = v
            xx[i] += v * v
    for k in range(n_components):
        row = lpT[k]
        t = mm[k]
        for i in range(nb):
            row[i] = xx[i] + t
        for m in range(n_features):
            mc[k, m] *= -2.0
    k = 0
    while k + 4 <= n_components:
        _dot4_into(xc, nb, mc, k, lpT[k], lpT[k + 1], lpT[k + 2], lpT[k + 3])
        k += 4
    while k < n_components:  # the last n_components % 4 alone
        row = lpT[k]
        for m in range(n_features):
            a0 = mc[k, m]
            x0 = xc[m]
            for i in range(nb):
                row[i] += a0 * x0[i]
        k += 1
    g = EXPANDED_ROUNDING * (n_features + 4) * 2.0**-53
    for k in range(n_components):
        row = lpT[k]
        t = mm[k]
        for i in range(nb):
            row[i] -= g * (xx[i] + t)
    for i in range(nb):
        xx[i] *= 2.0 * g
    for k in range(n_components):
        mm[k] *= 2.0 * g
    return mm


@jit(reductions=True)
def _bound_best(lpT, nb, const, eig, best, xx, mm):
    """Bound each point's best log-probability from below.

    ``best[i] = max_k const[k] - eig[k, 1] / 2 * (lpT[k, i] + xx[i] + mm[k])``:
    ``lpT`` holds lower bounds of the squared distances, ``xx[i] + mm[k]`` their
    rounding allowance (0 for the direct differences).
    """
    for i in range(nb):
        best[i] = -np.inf
    for k in range(lpT.shape[0]):
        row = lpT[k]
        c = const[k]
        h = 0.5 * eig[k, 1]
        t = mm[k]
        for i in range(nb):
            v = c - h * (row[i] + (xx[i] + t))
            best[i] = v if v > best[i] else best[i]


@jit(reductions=True)
def _distance_bounds_T(XT, nb, means, const, eig, lpT, best, dT, sq):
    """Lower bounds of the squared distances into ``lpT``; ``best`` from :func:`_bound_best`.

    float64 data take the expanded form (:func:`_expanded_distances_T`, with its
    rounding allowance); float32 data the direct differences (rounding far below
    :data:`BOUND_SLACK`). ``dT`` and ``sq`` are scratch.
    """
    if XT.itemsize == 8:
        mm = _expanded_distances_T(XT, nb, means, lpT, dT, sq)
        _bound_best(lpT, nb, const, eig, best, sq, mm)
        return
    ones = np.ones((1, XT.shape[0]), dtype=sq.dtype)
    _distances_T(XT, nb, means, ones, lpT)
    sq[:nb] = 0.0  # the direct differences need no allowance
    _bound_best(lpT, nb, const, eig, best, sq, np.zeros(means.shape[0]))


@jit(reductions=True)
def log_prob_full_pruned_T(
    XT, nb, means, precisions_chol, const, eig, lpT, dT, y, sq, best, kr, kn, gd, fill
):
    """As :func:`log_prob_full_T`, leaving out pairs whose responsibility is certainly 0.

    Tied covariances use it with the shared factor repeated per component.

    Squared Euclidean distances and the eigenvalue bounds ``eig`` (n_components, 2)
    of :func:`precision_eig_bounds` bracket every log-probability:
    ``const - eig[k, 1] / 2 * dist <= log p <= const - eig[k, 0] / 2 * dist``.
    Pairs whose upper bound is more than ``-PRUNE_BELOW`` nats below the point's
    best lower bound are left out (``-inf``):
    :func:`~fastgmm._kernels._blocked_resp.resp_kept_T` would flush them to a
    responsibility of exactly 0, so ``log p(x)``, the responsibilities and the
    statistics equal those of :func:`~fastgmm._kernels._blocked.log_prob_full_T`
    (tests/test_sparse_paths.py). For fits only.

    When component ``k`` keeps at most
    :data:`~fastgmm._kernels._blocked_stats.SPARSE_FRACTION` of the block, only the
    kept rows go through the triangular product, and the result is compact:
    ``kn[k]`` rows ``kr[k, :kn[k]]`` with log-probabilities ``lpT[k, :kn[k]]``
    (the layout :func:`~fastgmm._kernels._blocked_resp.resp_kept_T` takes). Their
    centred rows are gathered straight into the component's statistics buffer,
    ``gd[k, :, fill[k]:fill[k] + kn[k]]``, where
    :func:`~fastgmm._kernels._blocked_stats.accumulate_full_T` uses them without
    a copy (the caller leaves room for a whole block:
    :func:`~fastgmm._kernels._blocked_stats.flush_rows_full`). Otherwise
    ``kn[k] = -1`` and ``lpT[k, :nb]`` is the whole row. ``dT`` (n_features, block)
    and ``gd`` (n_components, n_features, cap) have the dtype of ``XT``; ``kr``
    (n_components, block), ``kn`` and ``fill`` (n_components,) are integer,
    ``best`` (block,) float64 scratch.

    Returns
    -------
    computed : int
        (point, component) pairs that went through the triangular product; the
        caller stops pruning for a while when this is most of them
        (:data:`PRUNE_PAYS_BELOW`).
    """
    _distance_bounds_T(XT, nb, means, const, eig, lpT, best, dT, sq)
    computed = 0
    flags = np.empty((nb + 7) // 8 * 8, dtype=np.uint8)
    for k in range(means.shape[0]):
        h_lo = 0.5 * eig[k, 0]
        # fmt: off
        n = _log_prob_pruned_one(
            XT, nb, means[k], precisions_chol[k], const[k], h_lo, best, lpT[k], dT, y, sq, kr[k],
            gd[k], fill[k], flags
        )
        # fmt: on
        kn[k] = n
        computed += nb if n < 0 else n
    return computed
