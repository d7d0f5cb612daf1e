"""A block's statistics for the fused fit (see :mod:`fastgmm._kernels._blocked`).

``nk``, ``sx`` and the upper ``sxx`` of each component from a block's
responsibilities ``(n_components, block)``: dense dot products over the block in
4 x 4 tiles, or, when few rows carry a non-zero responsibility (separated
clusters), only those rows, gathered and buffered per component across blocks.
Rows with a zero responsibility add exactly zero, so both ways give the same
statistics up to the order of the sums (tests/test_sparse_paths.py).
"""

from ._blocked import FLUSH_RESP_32, SMALL_FEATURES, _centre_rows, _feature, centred, split_mean
from ._jit import jit


@jit(reductions=True)
def _weigh(resp, k, nb, sample_weight, a, itemsize):
    """Multiply ``resp[k, :nb]`` by the sample weights in place; return its sum and how many kept.

    The sum is the component's ``nk`` in the block; the count is how many rows
    :func:`_rows_with_resp` would keep (one pass: the count is free here).
    """
    resp_row = resp[k]
    if sample_weight.shape[0] > 0:
        for i in range(nb):
            resp_row[i] *= sample_weight[a + i]
    tiny = FLUSH_RESP_32 if itemsize == 4 else 0.0
    t = 0.0
    n = 0
    for i in range(nb):
        v = resp_row[i]
        t += v
        n += 1 if (v > 0.0) & (v >= tiny) else 0
    return t, n


@jit(reductions=True)
def _copy_resp(r, nb, rT):
    """``rT[:nb] = r[:nb]`` in the dtype of ``rT``, below ``FLUSH_RESP_32`` as 0 for float32."""
    tiny = FLUSH_RESP_32 if rT.itemsize == 4 else 0.0
    for i in range(nb):
        v = r[i]
        rT[i] = v if v >= tiny else 0.0


@jit(reductions=True)
def _centre_weigh(XT, nb, shift, r, rT, dT, rdT, sx):
    """``dT = XT - shift``, ``rdT = r * dT`` and ``sx += sum_i rdT[:, i]``.

    ``shift`` is float64, subtracted as in :func:`~fastgmm._kernels._blocked.split_mean`.

    ``r`` (float64) is first copied to ``rT`` in the dtype of ``XT`` (see
    :func:`_copy_resp`); the sum over the block runs in float64 (it is cheap next
    to :func:`_upper_outer`).
    """
    _copy_resp(r, nb, rT)
    z = type(dT[0, 0])(0.0)
    for m in range(XT.shape[0]):
        hi, lo = split_mean(shift[m], z)
        xr = XT[m]
        dr = dT[m]
        rr = rdT[m]
        t = 0.0
        for i in range(nb):
            dr[i] = centred(xr[i], hi, lo)  # see split_mean
            v = dr[i]
            w = rT[i] * v
            rr[i] = w
            t += w
        sx[m] += t


@jit(reductions=True)
def _weighed_resp(r, i, sample_weight, a, weighted, tiny):
    """``(w_i r_i, the value used for the statistics)`` of :func:`_small_stats`."""
    v = r[i] * sample_weight[a + i] if weighted else r[i]
    return v, v if v >= tiny else 0.0


@jit(reductions=True)
def _two_stats(XT, nb, sample_weight, a, shift, r, sx, sxx):
    """:func:`_small_stats` for exactly 2 features (nothing padded)."""
    T = type(XT[0, 0])
    tiny = FLUSH_RESP_32 if XT.itemsize == 4 else 0.0
    weighted = sample_weight.shape[0] > 0
    x0, x1 = XT[0], XT[1]
    h0, l0 = split_mean(shift[0], T(0.0))
    h1, l1 = split_mean(shift[1], T(0.0))
    t = 0.0
    s0, s1 = 0.0, 0.0
    t00, t01, t11 = T(0.0), T(0.0), T(0.0)
    for i in range(nb):
        v, kept = _weighed_resp(r, i, sample_weight, a, weighted, tiny)
        t += v
        ri = T(kept)
        d0 = centred(x0[i], h0, l0)
        d1 = centred(x1[i], h1, l1)
        w0 = ri * d0
        w1 = ri * d1
        s0 += w0
        s1 += w1
        t00 += w0 * d0
        t01 += w0 * d1
        t11 += w1 * d1
    sx[0] += s0
    sx[1] += s1
    sxx[0, 0] += t00
    sxx[0, 1] += t01
    sxx[1, 1] += t11
    return t


@jit(reductions=True)
def _small_stats(XT, nb, sample_weight, a, shift, r, sx, sxx):
    """Add a component's block statistics in one pass, up to 3 features; return its ``nk``.

    ``r`` (float64, dense) is multiplied by the sample weights (``sample_weight``
    the whole vector or length 0, ``a`` the block's first row), summed into the
    returned ``nk`` (float64), flushed as in :func:`_copy_resp` and used in the
    dtype of ``XT`` for ``sx`` and the upper ``sxx``, as :func:`_centre_weigh` and
    :func:`_upper_outer` would. Every sum stays in a register (``SMALL_FEATURES``);
    padded features are multiplied by 0 and their sums are not stored. ``r`` is
    not modified. One pass instead of four (weigh and count, copy, centre,
    products): at N, D, K = 100k, 2, 4 the statistics took 0.4 ms per iteration
    before, 1 thread (benchmarks/profile_phases.py). Two features skip the padding
    (:func:`_two_stats`: 0.55 -> 0.28 ns per point and component, 1 thread).
    """
    if XT.shape[0] == 2:
        return _two_stats(XT, nb, sample_weight, a, shift, r, sx, sxx)
    T = type(XT[0, 0])
    tiny = FLUSH_RESP_32 if XT.itemsize == 4 else 0.0
    weighted = sample_weight.shape[0] > 0
    n_features = XT.shape[0]
    last = n_features - 1
    x0, x1, x2 = XT[0], _feature(XT, 1), _feature(XT, 2)
    h0, l0 = split_mean(shift[0], T(0.0))
    h1, l1 = split_mean(shift[min(1, last)], T(0.0))
    h2, l2 = split_mean(shift[min(2, last)], T(0.0))
    e1 = T(1.0) if n_features > 1 else T(0.0)
    e2 = T(1.0) if n_features > 2 else T(0.0)
    t = 0.0
    s0, s1, s2 = 0.0, 0.0, 0.0
    t00, t01, t02, t11, t12, t22 = T(0.0), T(0.0), T(0.0), T(0.0), T(0.0), T(0.0)
    for i in range(nb):
        v, kept = _weighed_resp(r, i, sample_weight, a, weighted, tiny)
        t += v
        ri = T(kept)
        d0 = centred(x0[i], h0, l0)
        d1 = centred(x1[i], h1, l1) * e1
        d2 = centred(x2[i], h2, l2) * e2
        w0 = ri * d0
        w1 = ri * d1
        w2 = ri * d2
        s0 += w0
        s1 += w1
        s2 += w2
        t00 += w0 * d0
        t01 += w0 * d1
        t02 += w0 * d2
        t11 += w1 * d1
        t12 += w1 * d2
        t22 += w2 * d2
    sx[0] += s0
    sxx[0, 0] += t00
    if n_features > 1:
        sx[1] += s1
        sxx[0, 1] += t01
        sxx[1, 1] += t11
    if n_features > 2:
        sx[2] += s2
        sxx[0, 2] += t02
        sxx[1, 2] += t12
        sxx[2, 2] += t22
    return t


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


#: Each component's buffer of gathered rows holds this many blocks' worth of rows
#: (at most :data:`SPARSE_BUFFER_VALUES` values per chunk; never less than one
#: block). Measured: benchmarks/report.py, 1M x 16 x 8.
BUFFER_BLOCKS = 2

#: Values a chunk's gathered-row buffers may take beyond one block per component.
SPARSE_BUFFER_VALUES = 1 << 18


@jit
def sparse_buffer_rows(n_components, n_features, block):
    """Columns of each component's gathered-row buffer: room for at least one block.

    Memory stays independent of ``n_samples``: ``(n_components, n_features, cap)``
    values per chunk, ``cap`` between ``block`` and ``BUFFER_BLOCKS * block``.
    """
    cap = SPARSE_BUFFER_VALUES // max(1, n_components * n_features)
    return max(block, min(cap, BUFFER_BLOCKS * block))


@jit(reductions=True)
def _flush_one(gdk, grk, n, rd, sx, sxx):
    """Add the statistics of a buffer's ``n`` columns: ``sx``, upper ``sxx`` (float64).

    ``gdk[:, :n]`` are centred rows and ``grk[:n]`` their responsibilities (dtype of
    the data); ``rd`` (n_features, cap) is scratch for the weighted rows. The
    sums over the buffer run in long, unit-stride loops.
    """
    for m in range(gdk.shape[0]):
        src = gdk[m]
        dst = rd[m]
        t = 0.0
        for j in range(n):
            w = grk[j] * src[j]
            dst[j] = w
            t += w
        sx[m] += t
    _upper_outer(rd, gdk, n, sxx)


@jit
def flush_rows_full(gd, gr, fill, room, rd, sx, sxx):
    """Empty every buffer with fewer than ``room`` free columns into ``sx``, ``sxx`` (full).

    ``room = cap`` (``gd.shape[2]``) empties every non-empty buffer: call it after
    the last block. ``room = block`` before a pruned block leaves space for
    whatever it gathers.
    """
    cap = gd.shape[2]
    for k in range(fill.shape[0]):
        if fill[k] > 0 and fill[k] + room > cap:
            _flush_one(gd[k], gr[k], fill[k], rd, sx[k], sxx[k])
            fill[k] = 0


@jit
def flush_rows_tied(gd, gr, fill, room, rd, sx, sxx):
    """As :func:`flush_rows_full` into one shared ``sxx`` (D, D)."""
    cap = gd.shape[2]
    for k in range(fill.shape[0]):
        if fill[k] > 0 and fill[k] + room > cap:
            _flush_one(gd[k], gr[k], fill[k], rd, sx[k], sxx)
            fill[k] = 0


@jit(reductions=True)
def _full_stats_into(XT, nb, r, kept, shift, rT, dT, rd, rows, gd, gr, fill, k, sx, sxx):
    """``sx``, upper ``sxx`` of component ``k`` from a block's dense responsibilities ``r``.

    Dense when more than :data:`SPARSE_FRACTION` of the rows have a non-zero
    responsibility (``kept`` of them, from :func:`_weigh`). Otherwise the centred
    rows and their responsibilities are appended to the component's buffers
    ``gd[k]``, ``gr[k]`` (``fill[k]`` columns used), whose statistics are added
    only when they are full (:func:`flush_rows_full`): the dot products then run
    over a whole buffer instead of a few rows per block.
    """
    if kept > SPARSE_FRACTION * nb:  # dense: skip the compaction
        _centre_weigh(XT, nb, shift, r, rT, dT, rd, sx)
        _upper_outer(rd, dT, nb, sxx)
        return
    f = fill[k]
    if f + nb > gd.shape[2]:  # _rows_with_resp may write one column past the kept ones
        _flush_one(gd[k], gr[k], f, rd, sx, sxx)
        f = 0
    n = _rows_with_resp(r, nb, gr[k][f:], rows)
    _centre_rows(XT, rows, n, shift, gd[k], f)
    fill[k] = f + n


@jit(reductions=True)
def _kept_resp(resp, kr, k, n, sample_weight, a, out, ko, start):
    """Weigh compact responsibilities into ``out[ko, start:start + n]``; return their sum.

    ``resp[k, j]`` belongs to the block's row ``kr[k, j]`` (row ``a + kr[k, j]``
    of the data, for the sample weights); the sum is float64 and the stored
    values (dtype of the data) are flushed as in :func:`_copy_resp`.
    """
    tiny = FLUSH_RESP_32 if out.itemsize == 4 else 0.0
    weighted = sample_weight.shape[0] > 0
    r = resp[k]
    rows = kr[k]
    grk = out[ko]
    t = 0.0
    for j in range(n):
        v = r[j] * sample_weight[a + rows[j]] if weighted else r[j]
        t += v
        grk[start + j] = v if v >= tiny else 0.0
    return t


@jit(reductions=True)
def _add_nk(resp, kr, kn, k, nb, sample_weight, a, gr, fill, itemsize, nk):
    """Add component ``k``'s block to ``nk``; return its kept rows, or -1 when it is done.

    Compact responsibilities (``kn[k] >= 0``, rows already in the buffer) are
    weighed into ``gr[k]`` and the buffer advanced: nothing is left to do. Dense ones are
    multiplied by the sample weights in place (:func:`_weigh`); -1 when they are
    all 0, else how many are kept, for :func:`_full_stats_into`.
    """
    n = kn[k]
    if n >= 0:
        t = _kept_resp(resp, kr, k, n, sample_weight, a, gr, k, fill[k])
        if t != 0.0:
            nk[k] += t
            fill[k] += n
        return -1
    t, kept = _weigh(resp, k, nb, sample_weight, a, itemsize)
    if t == 0.0:
        return -1
    nk[k] += t
    return kept


@jit(reductions=True)
def accumulate_full_T(
    XT, nb, sample_weight, a, resp, kr, kn, shift, rT, dT, rd, rows, gd, gr, fill, nk, sx, sxx
):
    """Add a block's ``nk``, ``sx`` and upper ``sxx`` (full) from its responsibilities.

    ``resp`` is laid out as :func:`~fastgmm._kernels._blocked_resp.resp_kept_T` leaves
    it. A component with compact rows (``kn[k] >= 0``, from
    :func:`~fastgmm._kernels._prune.log_prob_full_pruned_T`) already has its
    centred rows in its buffer ``gd[k]`` from column ``fill[k]`` on: only the
    responsibilities are added (``gr[k]``) and the buffer advanced. A dense one is
    multiplied by the sample weights in place and goes through
    :func:`_full_stats_into`. Components with no responsibility in the block are
    skipped. Call :func:`flush_rows_full` after the last block. ``shift``
    (float64), ``nk``, ``sx``, ``sxx`` are float64; the scratch ``rT`` (block,),
    ``dT`` (n_features, block), ``rd`` (n_features, cap) and the buffers ``gd``
    (n_components, n_features, cap), ``gr`` (n_components, cap) have the dtype of
    ``XT``; ``rows`` (block,) and ``fill`` (n_components,) are integer.
    """
    small = XT.shape[0] <= SMALL_FEATURES
    for k in range(shift.shape[0]):
        if small and kn[k] < 0:  # dense, one pass (gathering rows would not pay)
            nk[k] += _small_stats(XT, nb, sample_weight, a, shift[k], resp[k], sx[k], sxx[k])
            continue
        kept = _add_nk(resp, kr, kn, k, nb, sample_weight, a, gr, fill, rT.itemsize, nk)
        if kept >= 0:
            _full_stats_into(
                XT, nb, resp[k], kept, shift[k], rT, dT, rd, rows, gd, gr, fill, k, sx[k], sxx[k]
            )


@jit(reductions=True)
def accumulate_tied_T(
    XT, nb, sample_weight, a, resp, kr, kn, shift, rT, dT, rd, rows, gd, gr, fill, nk, sx, sxx
):
    """As :func:`accumulate_full_T` with one shared ``sxx`` (use :func:`flush_rows_tied`)."""
    small = XT.shape[0] <= SMALL_FEATURES
    for k in range(shift.shape[0]):
        if small and kn[k] < 0:  # dense, one pass (gathering rows would not pay)
            nk[k] += _small_stats(XT, nb, sample_weight, a, shift[k], resp[k], sx[k], sxx)
            continue
        kept = _add_nk(resp, kr, kn, k, nb, sample_weight, a, gr, fill, rT.itemsize, nk)
        if kept >= 0:
            _full_stats_into(
                XT, nb, resp[k], kept, shift[k], rT, dT, rd, rows, gd, gr, fill, k, sx[k], sxx
            )


@jit(reductions=True)
def _diag_sums_64(X, a, kr, kk, n, rT, shift, sx, sxx, k):
    """``sx[k]``, ``sxx[k]`` from the float64 rows ``a + kr[kk, :n]`` of ``X`` (gathered).

    ``rT[0, :n]`` are their responsibilities. The inner loop runs over the
    features of one row, so it vectorises without a gather. Callers choose
    between this and :func:`_diag_sums_32` themselves: a branch inside a kernel
    keeps the reference counts of its array arguments, two atomic operations
    each per call (see :func:`~fastgmm._kernels._blocked._scaled_sq`).
    """
    n_features = X.shape[1]
    rows = kr[kk]
    rt = rT[0]
    mu = shift[k]
    s1 = sx[k]
    s2 = sxx[k]
    for j in range(n):
        i = a + rows[j]
        r = rt[j]
        for m in range(n_features):
            v = X[i, m] - mu[m]
            w = r * v
            s1[m] += w
            s2[m] += w * v


@jit(reductions=True)
def _diag_sums_32(X, a, kr, kk, n, rT, shift, acc, sx, sxx, k):
    """As :func:`_diag_sums_64` for float32 rows: block sums in float32, added in float64.

    Rows are centred as in the dense path (``(x - hi) - lo``,
    :func:`~fastgmm._kernels._blocked.split_mean`) and summed over the block in
    float32, eight lanes wide, in ``acc[0]`` and ``acc[1]`` (``acc[2]``,
    ``acc[3]`` hold ``hi`` and ``lo``), as the dense path sums over its block.
    Rounding each difference through float64 and adding every row in float64
    took four conversions per value, and the float32 statistics cost as much as
    float64's.
    """
    T = type(X[0, 0])
    n_features = X.shape[1]
    rows = kr[kk]
    rt = rT[0]
    mu = shift[k]
    a1 = acc[0]
    a2 = acc[1]
    hi = acc[2]
    lo = acc[3]
    for m in range(n_features):
        hi[m], lo[m] = split_mean(mu[m], T(0.0))
        a1[m] = 0.0
        a2[m] = 0.0
    for j in range(n):
        i = a + rows[j]
        r = rt[j]
        for m in range(n_features):
            v = centred(X[i, m], hi[m], lo[m])
            w = r * v
            a1[m] += w
            a2[m] += w * v
    s1 = sx[k]
    s2 = sxx[k]
    for m in range(n_features):
        s1[m] += a1[m]
        s2[m] += a2[m]


@jit(reductions=True)
def _diag_rows_with_resp(X, a, nb, resp, k, shift, rT, rows, acc, sx, sxx):
    """``sx[k]``, ``sxx[k]`` from the block's rows (from row ``a`` of ``X``) kept in ``resp[k]``.

    A dense row of responsibilities with few non-zero entries (at most
    :data:`SPARSE_FRACTION_DIAG` of the block): those rows are gathered into
    ``rows[0]`` (:func:`_rows_with_resp`) and read from ``X`` row by row.
    """
    n = _rows_with_resp(resp[k], nb, rT[0], rows[0])
    if X.itemsize == 4:
        _diag_sums_32(X, a, rows, 0, n, rT, shift, acc, sx, sxx, k)
    else:
        _diag_sums_64(X, a, rows, 0, n, rT, shift, sx, sxx, k)


@jit(reductions=True)
def _diag_dense_sums(XT, nb, resp, k, shift, rT, sx, sxx):
    """``sx[k, m] += sum_i r_i d_im``, ``sxx[k, m] += sum_i r_i d_im^2`` over the block ``XT``.

    ``d = x - shift[k]`` and ``r = resp[k]`` (dense, flushed as in :func:`_copy_resp`
    into the scratch ``rT[0]``); the sums over the block run in the dtype of
    ``XT``. A branch-free leaf (see :func:`_diag_sums_64`).
    """
    T = type(XT[0, 0])
    tiny = FLUSH_RESP_32 if rT.itemsize == 4 else 0.0
    r = resp[k]
    rt = rT[0]
    for i in range(nb):
        v = r[i]
        rt[i] = v if v >= tiny else 0.0
    mu = shift[k]
    s1 = sx[k]
    s2 = sxx[k]
    for m in range(XT.shape[0]):
        hi, lo = split_mean(mu[m], T(0.0))
        xr = XT[m]
        t1 = T(0.0)
        t2 = T(0.0)
        for i in range(nb):
            v = centred(xr[i], hi, lo)
            w = rt[i] * v
            t1 += w
            t2 += w * v
        s1[m] += t1
        s2[m] += t2


@jit(reductions=True)
def accumulate_diag_T(X, a, XT, nb, sample_weight, resp, kr, kn, shift, rT, rows, acc, nk, sx, sxx):
    """As :func:`accumulate_full_T` with diagonal ``sxx`` (n_components, n_features).

    ``X`` is the whole data and ``a`` the block's first row (the sparse path reads
    rows of ``X``); ``sample_weight`` is indexed from ``a`` too. ``resp`` is laid
    out as :func:`~fastgmm._kernels._blocked_resp.resp_compact_T` leaves it: a compact
    component (``kn[k] >= 0``) adds only its kept rows ``kr[k, :kn[k]]``, read
    from ``X`` (no pass over the block to find them). ``rT`` (1, block) and
    ``acc`` (4, n_features) in the dtype of ``X`` and ``rows`` (1 or more, block)
    integer are scratch.
    """
    itemsize = rT.itemsize
    for k in range(shift.shape[0]):
        n = kn[k]
        if n >= 0:
            t = _kept_resp(resp, kr, k, n, sample_weight, a, rT, 0, 0)
            if t != 0.0:
                if X.itemsize == 4:
                    _diag_sums_32(X, a, kr, k, n, rT, shift, acc, sx, sxx, k)
                else:
                    _diag_sums_64(X, a, kr, k, n, rT, shift, sx, sxx, k)
        else:
            t, kept = _weigh(resp, k, nb, sample_weight, a, itemsize)
            if t != 0.0:
                if kept <= SPARSE_FRACTION_DIAG * nb:
                    _diag_rows_with_resp(X, a, nb, resp, k, shift, rT, rows, acc, sx, sxx)
                else:
                    _diag_dense_sums(XT, nb, resp, k, shift, rT, sx, sxx)
        nk[k] += t


@jit(reductions=True)
def accumulate_spherical_T(
    X, a, XT, nb, sample_weight, resp, kr, kn, shift, rT, rows, acc, nk, sx, sxx, sxx_diag
):
    """As :func:`accumulate_diag_T` (compact rows too) with the trace ``sxx`` (n_components,).

    ``sxx_diag`` (n_components, n_features) float64 is scratch: the block's
    diagonals, whose sums are added to ``sxx``.
    """
    sxx_diag[:] = 0.0
    # fmt: off
    accumulate_diag_T(
        X, a, XT, nb, sample_weight, resp, kr, kn, shift, rT, rows, acc, nk, sx, sxx_diag
    )
    # fmt: on
    for k in range(shift.shape[0]):
        t2 = 0.0
        for m in range(XT.shape[0]):
            t2 += sxx_diag[k, m]
        sxx[k] += t2
