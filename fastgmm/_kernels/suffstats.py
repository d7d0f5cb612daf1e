"""Sufficient statistics of one EM pass, fused with the E-step.

Statistics are accumulated *around a shift* (the current means): for component
``k`` with shift ``c_k`` they are ``nk = sum r``, ``sx = sum r (x - c_k)`` and
``sxx = sum r (x - c_k)(x - c_k)^T`` (or its diagonal / trace). The M-step then
recovers ``mu = c + sx / nk`` and ``Sigma = sxx / nk - d d^T`` with
``d = sx / nk`` small, so data offset by 1e8 keeps float64 accuracy
(tests/test_estimator.py::test_offset_invariance).

Layout (shared/STYLE.md section 3):

* ``accumulate_<cov>``: add one block's statistics given its responsibilities.
* ``suffstats_<cov>``: serial and fused over the rows it is given; processes
  ``block_rows_for(n_features)`` rows at a time, transposed so the inner loops
  run over points (log-densities, log-sum-exp, statistics: see
  :mod:`fastgmm._kernels._blocked`), so no ``n_samples x n_components`` array
  ever exists. Safe inside a user's prange.
* ``suffstats_<cov>_parallel``: splits rows into chunks whose number depends
  only on ``n_samples`` (never on the thread count), runs the serial kernel on
  each chunk into its own buffers, then sums the buffers in chunk order. Results
  are therefore bitwise identical for any number of threads.

Only the upper triangle (``a <= b``) of the full/tied ``sxx`` is accumulated.
``sample_weight`` of length 0 means "all ones".
"""

import numpy as np
from numba import prange

from ._blocked import (
    AHEAD_MIN_FEATURES,
    block_rows_for,
    const_diag,
    const_full,
    const_spherical,
    const_tied,
    load_transposed,
    load_transposed_ahead,
    log_prob_diag_T,
    log_prob_full_T,
    log_prob_spherical_T,
    rows_view,
)
from ._blocked_resp import one_per_row, resp_compact_T, resp_kept_T
from ._blocked_stats import (
    accumulate_diag_T,
    accumulate_full_T,
    accumulate_spherical_T,
    accumulate_tied_T,
    flush_rows_full,
    flush_rows_tied,
    sparse_buffer_rows,
)
from ._jit import jit
from ._prune import (
    PRUNE_PAYS_BELOW,
    PRUNE_RETRY_BLOCKS,
    log_prob_full_pruned_T,
    precision_eig_bounds,
)
from .resp import add_log_weights, normalize_log_resp

#: The fused full/tied passes prune (point, component) pairs (``log_prob_full_pruned_T``)
#: from this many features on: below it the distance pass that bounds them costs as
#: much as the triangular products it saves (100k, 2, 4 was 60% slower with pruning).
#: At N, D, K = 1M, 8, 16 pruning was 8% slower while the flush sat at ``e^-100`` and
#: is 7% faster since it sits at ``e^-40`` (2 threads, 75 -> 70 ms per iteration on
#: separated clusters, 99 -> 94 ms on overlapping ones, where the retry schedule
#: below turns it off); 1M, 16, 8 and 200k, 32, 16 gain 1.5-3x (report.py).
PRUNE_MIN_FEATURES = 8

#: Pruned blocks of the fused full/tied passes are longer than dense ones
#: (:func:`pruned_block_rows`). A pruned block keeps a few components per row, so
#: each component's gather and triangular product run over about ``block / K``
#: rows: at 256 rows, 16 of them per component at K = 16, too few for the loops to
#: pay for themselves. Caps, in bytes: a feature row of the block, the whole
#: transposed block, and the block's share of all components' gathered rows.
#: Measured (1 thread, separated clusters, whole passes, minimum of 3 alternating
#: runs): 1M x 16 x 8 float64 86 -> 71 ms per pass (2048 rows instead of 256),
#: float32 65 -> 48 (4096); 200k x 32 x 16 float64 65 -> 45 (1024 instead of 128),
#: float32 54 -> 30 (2048). Longer blocks were slower for float64 (1M x 8 x 16: 73
#: at 2048, 84 at 4096, 92 at 8192).
PRUNED_ROW_BYTES = 1 << 14
PRUNED_BLOCK_BYTES = 1 << 19
PRUNED_GATHER_BYTES = 1 << 22

#: Columns added to the rows of the fused full/tied passes' block scratch and
#: statistics buffers: with a power-of-two width their rows would lie a multiple of
#: 4 KiB apart, in one L1 cache set. Measured, 1 thread, separated clusters, minimum
#: of 3 alternating runs: 200k x 32 x 16 float64 48.3 -> 42.2 ms per pass, 1M x 16 x 8
#: 71.3 -> 69.0 (float32 52.3 -> 49.3); overlapping clusters unchanged.
STRIDE_PAD = 16

#: Rows per block of the streamed prediction drivers (the fused fit uses block_rows_for).
BLOCK_ROWS = 256
#: Chunks of the parallel drivers: at least this many rows each...
MIN_CHUNK_ROWS = 2048
#: ... and at most this many chunks, ...
MAX_CHUNKS = 128
#: ... with per-chunk buffers taking at most this many float64 values in total, ...
MAX_BUFFER_VALUES = 16_000_000
#: ... and, past :data:`MIN_STAT_CHUNKS` chunks, at most this many values per row
#: of data. Every chunk zeroes, fills, flushes and adds up statistics of
#: ``n_components * (1 + d + d^2)`` values whatever its length. At 200k x 32 x 16
#: (16,912 values), 1 thread, a full pass took 44.5 ms (float64) and 31.9 (float32)
#: with 98 chunks, 37.9 and 25.5 with one; with 23 chunks 40.1 and 26.8 (2 threads:
#: 20.9 and 14.6, against 22.7 and 15.9 with 94 chunks).
MAX_BUFFER_PER_ROW = 2
MIN_STAT_CHUNKS = 16


@jit
def n_chunks_for(n_samples, values_per_chunk):
    """Return the number of row chunks of a parallel driver (depends on its arguments only)."""
    n = (n_samples + MIN_CHUNK_ROWS - 1) // MIN_CHUNK_ROWS
    n = min(n, MAX_CHUNKS)
    n = min(n, max(1, MAX_BUFFER_VALUES // max(1, values_per_chunk)))
    per_row = MAX_BUFFER_PER_ROW * n_samples // max(1, values_per_chunk)
    n = min(n, max(MIN_STAT_CHUNKS, per_row))
    return max(1, n)


@jit
def pruned_block_rows(n_components, n_features, itemsize):
    """Rows per pruned block of the fused full/tied passes (dense blocks: ``block_rows_for``).

    The largest power of two within :data:`PRUNED_ROW_BYTES` per feature row,
    :data:`PRUNED_BLOCK_BYTES` for the block and :data:`PRUNED_GATHER_BYTES` for the
    components' gathered rows, and never shorter than a dense block. It depends
    only on the shapes and dtype, so results do not depend on the thread count.
    """
    row = max(1, n_features * itemsize)
    b = min(
        PRUNED_ROW_BYTES // max(1, itemsize),
        PRUNED_BLOCK_BYTES // row,
        PRUNED_GATHER_BYTES // max(1, n_components * row),
    )
    p = 16
    while 2 * p <= b:
        p *= 2
    return max(p, block_rows_for(n_features))


@jit
def resp_from_log_prob(log_prob, log_weights, log_prob_norm, sample_weight, hard):
    """Turn a block's log-densities into responsibilities in place.

    Parameters
    ----------
    log_prob : ndarray of shape (n_rows, n_components), float64
        ``log N(x_i | k)`` on entry; responsibilities ``r_ik`` on exit (one-hot
        on the most probable component when ``hard``).
    log_weights : ndarray of shape (n_components,)
    log_prob_norm : ndarray of shape (n_rows,), float64
        Receives ``log p(x_i)``.
    sample_weight : ndarray of shape (n_rows,) or (0,)
    hard : bool
        Classification EM: assign each row wholly to its most probable component.

    Returns
    -------
    weighted_log_likelihood : float
        ``sum_i w_i log p(x_i)`` over the block.
    """
    n_rows, n_components = log_prob.shape
    add_log_weights(log_prob, log_weights)
    normalize_log_resp(log_prob, log_prob_norm)
    weighted = sample_weight.shape[0] > 0
    total = 0.0
    for i in range(n_rows):
        w = sample_weight[i] if weighted else 1.0
        if w != 0.0:
            total += w * log_prob_norm[i]
        if hard:
            best = 0
            for k in range(1, n_components):
                if log_prob[i, k] > log_prob[i, best]:
                    best = k
            for k in range(n_components):
                log_prob[i, k] = 1.0 if k == best else 0.0
        else:
            for k in range(n_components):
                log_prob[i, k] = np.exp(log_prob[i, k])
    return total


# --------------------------------------------------------------------------- accumulate
@jit
def accumulate_full(X, sample_weight, resp, shift, nk, sx, sxx):
    """Add ``nk``, ``sum r (x - c)`` and upper ``sum r (x - c)(x - c)^T`` per component.

    Parameters
    ----------
    X : ndarray of shape (n_rows, n_features)
    sample_weight : ndarray of shape (n_rows,) or (0,)
    resp : ndarray of shape (n_rows, n_components)
    shift : ndarray of shape (n_components, n_features), float64
    nk : ndarray of shape (n_components,), float64, updated in place
    sx : ndarray of shape (n_components, n_features), float64, updated in place
    sxx : ndarray of shape (n_components, n_features, n_features), float64
        Upper triangle updated in place. Serial.
    """
    n_rows, n_features = X.shape
    n_components = shift.shape[0]
    weighted = sample_weight.shape[0] > 0
    diff = np.empty(n_features)
    for i in range(n_rows):
        w = sample_weight[i] if weighted else 1.0
        for k in range(n_components):
            r = w * resp[i, k]
            if r == 0.0:  # zero weight or zero responsibility: nothing to add
                continue
            nk[k] += r
            for a in range(n_features):
                diff[a] = X[i, a] - shift[k, a]
                sx[k, a] += r * diff[a]
            for a in range(n_features):
                ra = r * diff[a]
                for b in range(a, n_features):
                    sxx[k, a, b] += ra * diff[b]


@jit
def accumulate_tied(X, sample_weight, resp, shift, nk, sx, sxx):
    """As :func:`accumulate_full`; ``sxx`` (n_features, n_features) sums all components."""
    n_rows, n_features = X.shape
    n_components = shift.shape[0]
    weighted = sample_weight.shape[0] > 0
    diff = np.empty(n_features)
    for i in range(n_rows):
        w = sample_weight[i] if weighted else 1.0
        for k in range(n_components):
            r = w * resp[i, k]
            if r == 0.0:
                continue
            nk[k] += r
            for a in range(n_features):
                diff[a] = X[i, a] - shift[k, a]
                sx[k, a] += r * diff[a]
            for a in range(n_features):
                ra = r * diff[a]
                for b in range(a, n_features):
                    sxx[a, b] += ra * diff[b]


@jit
def accumulate_diag(X, sample_weight, resp, shift, nk, sx, sxx):
    """As :func:`accumulate_full`; ``sxx`` (n_components, n_features) holds the diagonal."""
    n_rows, n_features = X.shape
    n_components = shift.shape[0]
    weighted = sample_weight.shape[0] > 0
    for i in range(n_rows):
        w = sample_weight[i] if weighted else 1.0
        for k in range(n_components):
            r = w * resp[i, k]
            if r == 0.0:
                continue
            nk[k] += r
            for a in range(n_features):
                d = X[i, a] - shift[k, a]
                sx[k, a] += r * d
                sxx[k, a] += r * d * d


@jit
def accumulate_spherical(X, sample_weight, resp, shift, nk, sx, sxx):
    """As :func:`accumulate_full`, but ``sxx`` of shape (n_components,) holds the trace."""
    n_rows, n_features = X.shape
    n_components = shift.shape[0]
    weighted = sample_weight.shape[0] > 0
    for i in range(n_rows):
        w = sample_weight[i] if weighted else 1.0
        for k in range(n_components):
            r = w * resp[i, k]
            if r == 0.0:
                continue
            nk[k] += r
            t = 0.0
            for a in range(n_features):
                d = X[i, a] - shift[k, a]
                sx[k, a] += r * d
                t += d * d
            sxx[k] += r * t


# --------------------------------------------------------------------------- fused, serial
@jit
def eig_bounds_full(precisions_chol, n_features):
    """Per-component eigenvalue bounds for pruning (:func:`precision_eig_bounds`), shape (K, 2).

    ``(0, inf)`` (prune nothing, compute nothing) below :data:`PRUNE_MIN_FEATURES`.
    O(K D^3): the parallel drivers compute them once, not per chunk (per chunk they
    cost 7% of an iteration at N, D, K = 200k, 32, 16).
    """
    n_components = precisions_chol.shape[0]
    eig = np.empty((n_components, 2))
    eig[:, 0] = 0.0
    eig[:, 1] = np.inf
    if n_features >= PRUNE_MIN_FEATURES:
        d = precisions_chol.shape[1]  # not X's: Dask's metadata calls pass a (0, 0) X
        work = np.empty((2, d, d))
        for k in range(n_components):
            precision_eig_bounds(precisions_chol[k], work, eig[k])
    return eig


@jit
def eig_bounds_tied(precisions_chol, n_components, n_features):
    """As :func:`eig_bounds_full` for one shared factor (the same row for every component)."""
    eig = np.empty((n_components, 2))
    eig[:, 0] = 0.0
    eig[:, 1] = np.inf
    if n_features >= PRUNE_MIN_FEATURES and n_components > 0:
        d = precisions_chol.shape[0]
        precision_eig_bounds(precisions_chol, np.empty((2, d, d)), eig[0])
        for k in range(1, n_components):
            eig[k] = eig[0]
    return eig


@jit
def _log_prob_block(
    XT, nb, means, factors, const, eig, lpT, dT, y, sq, best, kr, kn, gd, fill, wait
):
    """One block's log-densities for the fused full/tied pass; return the new ``wait``.

    Pruned (:func:`~fastgmm._kernels._prune.log_prob_full_pruned_T`: compact rows
    ``kr``, ``kn``, centred rows gathered into the buffers ``gd`` from ``fill``
    on) when ``wait`` is 0; when that spared too few triangular products, the next
    :data:`PRUNE_RETRY_BLOCKS` blocks are computed in full (``kn = -1``).
    ``factors`` holds one factor per component (tied: the shared one repeated).
    """
    if wait > 0:
        log_prob_full_T(XT, nb, means, factors, const, lpT, dT, y, sq)
        kn[:] = -1
        return wait - 1
    # fmt: off
    computed = log_prob_full_pruned_T(
        XT, nb, means, factors, const, eig, lpT, dT, y, sq, best, kr, kn, gd, fill
    )
    # fmt: on
    return PRUNE_RETRY_BLOCKS if computed >= PRUNE_PAYS_BELOW * nb * means.shape[0] else 0


@jit
def suffstats_full(X, sample_weight, weights, means, precisions_chol, hard, nk, sx, sxx):
    """Fused E-step and statistics over all rows of ``X`` (serial), full covariances.

    Statistics are centred at ``means`` and *added* to ``nk``, ``sx``, ``sxx``
    (see :func:`accumulate_full` for shapes). Rows are processed in blocks of
    :func:`~fastgmm._kernels._blocked.block_rows_for` rows, transposed so the
    inner loops run over points (see :mod:`fastgmm._kernels._blocked`); no
    ``n_samples x n_components`` array exists. For float32 ``X`` the differences
    ``x - mu`` (:func:`~fastgmm._kernels._blocked.split_mean`), the triangular
    products, log-probabilities, responsibilities and each block's sums are
    float32; the log-likelihood and every sum across blocks are float64.

    Returns
    -------
    weighted_log_likelihood : float
        ``sum_i w_i log p(x_i)`` under the given parameters.
    """
    eig = eig_bounds_full(precisions_chol, X.shape[1])
    return _suffstats_full_with(
        X, sample_weight, weights, means, precisions_chol, hard, eig, nk, sx, sxx
    )


@jit
def _fused_blocks(n_components, n_features, itemsize):
    """``(block, pblock)``: dense and pruned block lengths of the fused full/tied passes.

    Dense blocks have :func:`~fastgmm._kernels._blocked.block_rows_for` rows,
    pruned ones :func:`pruned_block_rows` (from :data:`PRUNE_MIN_FEATURES` features
    on). A chunk tries pruning on a dense-length block first and goes on with
    pruned-length blocks while pruning pays: a failed attempt (overlapping
    clusters) costs no more rows than with one block length.
    """
    block = block_rows_for(n_features)
    if n_features < PRUNE_MIN_FEATURES:
        return block, block
    return block, pruned_block_rows(n_components, n_features, itemsize)


@jit
def block_views(nb, n_features, n_components, XTb, dTb, krb, yb, lpb, bitsb):
    """Return a block's scratch arrays, packed at its own width (see :func:`rows_view`).

    Returns ``XT``, ``dT`` (n_features, w), ``kr``, ``lpT`` (n_components, w),
    ``y``, ``bits`` (2, w) as views of the flat buffers (of at least
    ``max(n_features, n_components, 2) * (pblock + 16 + STRIDE_PAD)`` values), ``w``
    being ``nb`` rounded up to 16, plus :data:`STRIDE_PAD` past 256 (dense blocks
    keep the widths they had before pruned blocks grew).
    """
    w = (nb + 15) // 16 * 16
    w += STRIDE_PAD if w > 256 else 0
    # fmt: off
    return (
        rows_view(XTb, n_features, w), rows_view(dTb, n_features, w),
        rows_view(krb, n_components, w), rows_view(lpb, n_components, w),
        rows_view(yb, 2, w), rows_view(bitsb, 2, w),
    )
    # fmt: on


@jit
def _fused_buffers(X, n_components):
    """Block lengths and every buffer of a fused full/tied pass over ``X`` (one chunk).

    Returns ``block``, ``pblock`` (:func:`_fused_blocks`), the gathered-row buffers
    ``gd`` (n_components, n_features, cap), ``gr`` (n_components, cap), ``fill``
    and the scratch ``rd`` (n_features, cap) of
    :func:`~fastgmm._kernels._blocked_stats.accumulate_full_T`, the flat block
    buffers of :func:`block_views`, and ``kn``, ``sq``, ``norm``, ``s``, ``e``.
    Sizes depend on the shapes and dtype only.
    """
    n_samples, n_features = X.shape
    block, pblock = _fused_blocks(n_components, n_features, X.itemsize)
    nbuf = min(pblock, n_samples)
    cap = sparse_buffer_rows(n_components, n_features, nbuf) + STRIDE_PAD
    gd = np.empty((n_components, n_features, cap), X.dtype)  # gathered centred rows
    gr = np.empty((n_components, cap), X.dtype)  # and their responsibilities
    fill = np.zeros(n_components, dtype=np.int64)
    rd = np.empty((n_features, cap), X.dtype)
    nbuf += 16 + STRIDE_PAD
    XTb = np.empty(n_features * nbuf, X.dtype)
    dTb = np.empty(n_features * nbuf, X.dtype)
    krb = np.empty(n_components * nbuf, dtype=np.int64)
    yb = np.empty(2 * nbuf, X.dtype)
    lpb = np.empty(n_components * nbuf, X.dtype)
    bitsb = np.empty(2 * nbuf, dtype=np.int64)
    kn = np.full(n_components, -1, dtype=np.int64)
    sq = np.empty(nbuf, X.dtype)
    norm, s, e = np.empty(nbuf, X.dtype), np.empty(nbuf, X.dtype), np.empty(nbuf, X.dtype)
    best = np.empty(nbuf)  # float64: the pruning bounds
    # fmt: off
    return (
        block, pblock, gd, gr, fill, rd, XTb, dTb, krb, yb, lpb, bitsb, kn, sq, norm, s, e, best,
    )
    # fmt: on


@jit
def _flush_rows(gd, gr, fill, room, rd, sx, sxx):
    """Call :func:`flush_rows_full` (``sxx`` (K, D, D)) or :func:`flush_rows_tied` ((D, D))."""
    if sxx.ndim == 3:
        flush_rows_full(gd, gr, fill, room, rd, sx, sxx)
    else:
        flush_rows_tied(gd, gr, fill, room, rd, sx, sxx)


@jit
def _accumulate_T(
    XT, nb, sample_weight, a, resp, kr, kn, shift, rT, dT, rd, rows, gd, gr, fill, nk, sx, sxx
):
    """Call :func:`accumulate_full_T` (``sxx`` (K, D, D)) or :func:`accumulate_tied_T` ((D, D))."""
    # fmt: off
    if sxx.ndim == 3:
        accumulate_full_T(
            XT, nb, sample_weight, a, resp, kr, kn, shift, rT, dT, rd, rows, gd, gr, fill, nk, sx,
            sxx
        )
    else:
        accumulate_tied_T(
            XT, nb, sample_weight, a, resp, kr, kn, shift, rT, dT, rd, rows, gd, gr, fill, nk, sx,
            sxx
        )
    # fmt: on


@jit
def _fused_pass(X, sample_weight, means, factors, const, eig, hard, nk, sx, sxx):
    """Run the block loop of the fused full (``sxx`` (K, D, D)) or tied ((D, D)) pass.

    ``factors`` holds one factor per component in the dtype of ``X`` (tied: the
    shared one repeated), ``const`` the per-component constants
    (:func:`~fastgmm._kernels._blocked.const_full` / ``const_tied``) and ``eig``
    the pruning bounds.
    """
    n_samples, n_features = X.shape
    n_components = means.shape[0]
    # fmt: off
    (block, pblock, gd, gr, fill, rd, XTb, dTb, krb, yb, lpb, bitsb, kn, sq, norm, s,
     e, best) = _fused_buffers(X, n_components)
    # fmt: on
    total = 0.0
    wait = 0 if n_features >= PRUNE_MIN_FEATURES else n_samples  # blocks until pruning
    paid = False  # whether the last block was pruned and that paid
    a = 0
    while a < n_samples:
        nb = min(pblock if paid else block, n_samples - a)
        XT, dT, kr, lpT, y, bits = block_views(
            nb, n_features, n_components, XTb, dTb, krb, yb, lpb, bitsb
        )
        if n_features >= AHEAD_MIN_FEATURES:
            load_transposed_ahead(X, a, nb, XT, nb)
        else:
            load_transposed(X, a, nb, XT)
        pruned = wait == 0
        if pruned:  # room for the rows a pruned block gathers
            _flush_rows(gd, gr, fill, nb, rd, sx, sxx)
        # fmt: off
        wait = _log_prob_block(
            XT, nb, means, factors, const, eig, lpT, dT, y, sq, best, kr, kn, gd, fill, wait
        )
        paid = pruned and wait == 0
        total += resp_kept_T(lpT, kr, kn, nb, sample_weight, a, hard, norm, s, e, bits)
        _accumulate_T(
            XT, nb, sample_weight, a, lpT, kr, kn, means, y[0], dT, rd, bits[0], gd, gr, fill, nk,
            sx, sxx
        )
        # fmt: on
        a += nb
    _flush_rows(gd, gr, fill, gd.shape[2], rd, sx, sxx)
    return total


@jit
def _suffstats_full_with(X, sample_weight, weights, means, precisions_chol, hard, eig, nk, sx, sxx):
    """:func:`suffstats_full` with the pruning bounds ``eig`` of :func:`eig_bounds_full`."""
    const = np.empty(means.shape[0])
    const_full(precisions_chol, np.log(weights), const)
    factors = precisions_chol.astype(X.dtype)
    return _fused_pass(X, sample_weight, means, factors, const, eig, hard, nk, sx, sxx)


@jit
def suffstats_tied(X, sample_weight, weights, means, precisions_chol, hard, nk, sx, sxx):
    """Fused E-step and statistics (serial), tied covariance; see :func:`suffstats_full`."""
    eig = eig_bounds_tied(precisions_chol, means.shape[0], X.shape[1])
    return _suffstats_tied_with(
        X, sample_weight, weights, means, precisions_chol, hard, eig, nk, sx, sxx
    )


@jit
def _suffstats_tied_with(X, sample_weight, weights, means, precisions_chol, hard, eig, nk, sx, sxx):
    """:func:`suffstats_tied` with the pruning bounds ``eig`` of :func:`eig_bounds_tied`."""
    n_components = means.shape[0]
    const = np.empty(n_components)
    const_tied(precisions_chol, np.log(weights), const)
    factor = precisions_chol.astype(X.dtype)
    d = precisions_chol.shape[0]  # not X's: Dask's metadata calls pass a (0, 0) X
    factors = np.empty((n_components, d, d), X.dtype)  # the pruned pass takes one per component
    for k in range(n_components):
        factors[k] = factor
    return _fused_pass(X, sample_weight, means, factors, const, eig, hard, nk, sx, sxx)


@jit
def suffstats_diag(X, sample_weight, weights, means, precisions_chol, hard, nk, sx, sxx):
    """Fused E-step and statistics (serial), diagonal covariances; see :func:`suffstats_full`."""
    const = np.empty(means.shape[0])
    const_diag(precisions_chol, np.log(weights), const)
    factor = precisions_chol.astype(X.dtype)
    return _axis_pass(X, sample_weight, means, factor, const, hard, nk, sx, sxx)


@jit
def suffstats_spherical(X, sample_weight, weights, means, precisions_chol, hard, nk, sx, sxx):
    """Fused E-step and statistics (serial), spherical covariances; see :func:`suffstats_full`."""
    const = np.empty(means.shape[0])
    const_spherical(precisions_chol, X.shape[1], np.log(weights), const)
    return _axis_pass(X, sample_weight, means, precisions_chol, const, hard, nk, sx, sxx)


@jit
def _axis_pass(X, sample_weight, means, factor, const, hard, nk, sx, sxx):
    """Run the block loop of the fused diag and spherical passes.

    Diag: ``factor`` (K, D) in the dtype of ``X``, ``sxx`` (K, D); spherical:
    ``factor`` (K,) float64, ``sxx`` (K,). Rows the log-sum-exp leaves mostly
    flushed to 0 stay compact for the statistics
    (:func:`~fastgmm._kernels._blocked_resp.resp_compact_T`).
    """
    n_samples, n_features = X.shape
    n_components = means.shape[0]
    block = block_rows_for(n_features)
    nbuf = min(block, n_samples)
    XT = np.empty((n_features, nbuf), X.dtype)
    sq = np.empty(nbuf, X.dtype)
    rT = np.empty((1, nbuf), X.dtype)
    acc = np.empty((4, n_features), X.dtype)
    traces = sxx.ndim == 1  # spherical: the block's diagonals, summed per component
    sxx_diag = np.empty((n_components, n_features) if traces else (0, 0))
    lpT = np.empty((n_components, nbuf), X.dtype)
    norm = np.empty(nbuf, X.dtype)
    s = np.empty(nbuf, X.dtype)
    e = np.empty(nbuf, X.dtype)
    bits = np.empty((2, nbuf), dtype=np.int64)
    kr = np.empty((n_components, nbuf), dtype=np.int64)
    kn = np.empty(n_components, dtype=np.int64)
    total = 0.0
    # Try the one-survivor shortcut while blocks allow it; the first try costs a
    # runner-up pass, worth it only over several blocks (100k x 2 x 4: 2 per chunk).
    single = n_samples >= 4 * block
    for a in range(0, n_samples, block):
        nb = min(block, n_samples - a)
        if n_features >= AHEAD_MIN_FEATURES:
            load_transposed_ahead(X, a, nb, XT, block)
        else:
            load_transposed(X, a, nb, XT)
        if factor.ndim == 2:
            log_prob_diag_T(XT, nb, means, factor, const, lpT, sq)
        else:
            log_prob_spherical_T(XT, nb, means, factor, const, lpT, sq)
        total += resp_compact_T(lpT, kr, kn, nb, sample_weight, a, hard, norm, s, e, bits, single)
        single = one_per_row(kn, nb)
        # fmt: off
        if sxx.ndim == 2:
            accumulate_diag_T(
                X, a, XT, nb, sample_weight, lpT, kr, kn, means, rT, bits, acc, nk, sx, sxx
            )
        else:
            accumulate_spherical_T(
                X, a, XT, nb, sample_weight, lpT, kr, kn, means, rT, bits, acc, nk, sx, sxx,
                sxx_diag
            )
        # fmt: on
    return total


# --------------------------------------------------------------------------- parallel drivers
@jit
def _chunk_bounds(c, n_chunks, n_samples):
    return c * n_samples // n_chunks, (c + 1) * n_samples // n_chunks


# Allocation and reduction of the per-chunk buffers are serial functions: in a
# ``parallel=True`` driver every ``np.zeros`` and every array ``+=`` becomes a
# parallel region of its own (Numba's parfor pass), and the reduction loop launched
# three per chunk. At N, D, K = 100k, 2, 4 (49 chunks) that took 0.25 ms of a
# 1.03 ms pass on 2 threads and 0.15 ms of 1.64 on 1
# (benchmarks/bench_kernels.py::test_parallel_driver_overhead).
@jit
def chunk_buffers(n_chunks, nk, sx, sxx):
    """Zeroed per-chunk statistics ``(n_chunks,) + shape`` and log-likelihoods (n_chunks,)."""
    # fmt: off
    return (
        np.zeros((n_chunks,) + nk.shape), np.zeros((n_chunks,) + sx.shape),
        np.zeros((n_chunks,) + sxx.shape), np.zeros(n_chunks),
    )
    # fmt: on


@jit
def sum_chunks(parts, out):
    """Overwrite ``out`` with ``parts[0] + parts[1] + ...``, added in chunk order (serial)."""
    out[:] = parts[0]
    for c in range(1, parts.shape[0]):
        out += parts[c]


@jit
def reduce_chunks(nk_c, sx_c, sxx_c, ll_c, nk, sx, sxx):
    """Overwrite ``nk``, ``sx``, ``sxx`` with the chunks' sums (chunk order); return ``ll_c``'s."""
    sum_chunks(nk_c, nk)
    sum_chunks(sx_c, sx)
    sum_chunks(sxx_c, sxx)
    total = ll_c[0]
    for c in range(1, ll_c.shape[0]):
        total += ll_c[c]
    return total


@jit(parallel=True)
def suffstats_full_parallel(X, sample_weight, weights, means, precisions_chol, hard, nk, sx, sxx):
    """Parallel :func:`suffstats_full`: fixed chunks, chunk-ordered reduction.

    ``nk``, ``sx``, ``sxx`` are overwritten (not added to). Parallel over row chunks.
    """
    n_samples, n_features = X.shape
    n_components = means.shape[0]
    n_chunks = n_chunks_for(n_samples, n_components * (1 + n_features + n_features * n_features))
    nk_c, sx_c, sxx_c, ll_c = chunk_buffers(n_chunks, nk, sx, sxx)
    eig = eig_bounds_full(precisions_chol, n_features)
    for c in prange(n_chunks):
        a, b = _chunk_bounds(c, n_chunks, n_samples)
        sw = sample_weight[a:b] if sample_weight.shape[0] > 0 else sample_weight[0:0]
        ll_c[c] = _suffstats_full_with(
            X[a:b], sw, weights, means, precisions_chol, hard, eig, nk_c[c], sx_c[c], sxx_c[c]
        )
    return reduce_chunks(nk_c, sx_c, sxx_c, ll_c, nk, sx, sxx)


@jit(parallel=True)
def suffstats_tied_parallel(X, sample_weight, weights, means, precisions_chol, hard, nk, sx, sxx):
    """Parallel :func:`suffstats_tied`; see :func:`suffstats_full_parallel`."""
    n_samples, n_features = X.shape
    n_components = means.shape[0]
    n_chunks = n_chunks_for(n_samples, n_components * (1 + n_features) + n_features * n_features)
    nk_c, sx_c, sxx_c, ll_c = chunk_buffers(n_chunks, nk, sx, sxx)
    eig = eig_bounds_tied(precisions_chol, n_components, n_features)
    for c in prange(n_chunks):
        a, b = _chunk_bounds(c, n_chunks, n_samples)
        sw = sample_weight[a:b] if sample_weight.shape[0] > 0 else sample_weight[0:0]
        ll_c[c] = _suffstats_tied_with(
            X[a:b], sw, weights, means, precisions_chol, hard, eig, nk_c[c], sx_c[c], sxx_c[c]
        )
    return reduce_chunks(nk_c, sx_c, sxx_c, ll_c, nk, sx, sxx)


@jit(parallel=True)
def suffstats_diag_parallel(X, sample_weight, weights, means, precisions_chol, hard, nk, sx, sxx):
    """Parallel :func:`suffstats_diag`; see :func:`suffstats_full_parallel`."""
    n_samples, n_features = X.shape
    n_components = means.shape[0]
    n_chunks = n_chunks_for(n_samples, n_components * (1 + 2 * n_features))
    nk_c, sx_c, sxx_c, ll_c = chunk_buffers(n_chunks, nk, sx, sxx)
    for c in prange(n_chunks):
        a, b = _chunk_bounds(c, n_chunks, n_samples)
        sw = sample_weight[a:b] if sample_weight.shape[0] > 0 else sample_weight[0:0]
        ll_c[c] = suffstats_diag(
            X[a:b], sw, weights, means, precisions_chol, hard, nk_c[c], sx_c[c], sxx_c[c]
        )
    return reduce_chunks(nk_c, sx_c, sxx_c, ll_c, nk, sx, sxx)


@jit(parallel=True)
def suffstats_spherical_parallel(
    X, sample_weight, weights, means, precisions_chol, hard, nk, sx, sxx
):
    """Parallel :func:`suffstats_spherical`; see :func:`suffstats_full_parallel`."""
    n_samples, n_features = X.shape
    n_components = means.shape[0]
    n_chunks = n_chunks_for(n_samples, n_components * (2 + n_features))
    nk_c, sx_c, sxx_c, ll_c = chunk_buffers(n_chunks, nk, sx, sxx)
    for c in prange(n_chunks):
        a, b = _chunk_bounds(c, n_chunks, n_samples)
        sw = sample_weight[a:b] if sample_weight.shape[0] > 0 else sample_weight[0:0]
        ll_c[c] = suffstats_spherical(
            X[a:b], sw, weights, means, precisions_chol, hard, nk_c[c], sx_c[c], sxx_c[c]
        )
    return reduce_chunks(nk_c, sx_c, sxx_c, ll_c, nk, sx, sxx)
