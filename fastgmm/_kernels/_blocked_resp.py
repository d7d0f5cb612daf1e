"""Blocked log-sum-exp of the fused EM pass: log-probabilities to responsibilities.

Works on the ``(n_components, block)`` log-probabilities of
:mod:`fastgmm._kernels._blocked`, one row per component, each component's row
dense (``lpT[k, :nb]``) or compact (``lpT[k, :kn[k]]`` for the rows
``kr[k, :kn[k]]``, every other row ``-inf``). Element-wise max and sums over
the rows, one exponential per surviving (point, component) from
:func:`~fastgmm._kernels._blocked.exp_flush`, and no exponential at all for a
block where every point keeps only its top component (:func:`_resp_single`).
Responsibilities below ``e^-40`` of a point's top are flushed to exactly 0
(:data:`~fastgmm._kernels._blocked.FLUSH_BELOW`; float32 rows: ``e^-20``,
:data:`~fastgmm._kernels._blocked.FLUSH_BELOW_32`); only surviving entries are
exponentiated (:func:`_exp_rows`). tests/test_sparse_paths.py holds the
dense, compact and shortcut paths to the same bits.
"""

import numpy as np

from ._blocked import (
    FLUSH_BELOW,
    FLUSH_BELOW_32,
    MAX_ARG_32,
    _exp_reduced,
    _exp_reduced32,
    exp_flush32,
    exp_flush64,
    flush_below,
)
from ._jit import jit


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
def _exp_dense64(lpT, k, nb, norm, s, bits):
    """``row = exp_flush(row - norm)``, ``s += row`` for ``row = lpT[k]`` (a dense row).

    The exponentials are :func:`~fastgmm._kernels._blocked.exp_flush64`'s, with the
    shift and the running sum folded into its two passes.
    """
    row = lpT[k]
    for i in range(nb):
        v0 = row[i] - norm[i]
        p, ti = _exp_reduced(min(max(v0, FLUSH_BELOW), 709.0))
        bits[0, i] = (ti + 1023) << 52
        row[i] = p if v0 >= FLUSH_BELOW else 0.0
    scale = bits[0].view(np.float64)
    for i in range(nb):
        v = row[i] * scale[i]
        row[i] = v
        s[i] += v


@jit(reductions=True)
def _exp_dense32(lpT, k, nb, norm, s, bits):
    """:func:`_exp_dense64` for float32 rows (:func:`~fastgmm._kernels._blocked.exp_flush32`)."""
    row = lpT[k]
    b = bits[0].view(np.int32)
    for i in range(nb):
        v0 = row[i] - norm[i]
        p, ti = _exp_reduced32(min(max(v0, FLUSH_BELOW_32), MAX_ARG_32))
        b[i] = (ti + np.int32(127)) << np.int32(23)
        row[i] = p if v0 >= FLUSH_BELOW_32 else np.float32(0.0)
    scale = b.view(np.float32)
    for i in range(nb):
        v = row[i] * scale[i]
        row[i] = v
        s[i] += v


@jit(reductions=True)
def _count_kept(lpT, k, nb, norm):
    """How many of ``lpT[k, :nb] - norm`` survive the flush (:func:`_exp_rows`)."""
    row = lpT[k]
    lim = flush_below(row)
    kept = 0
    for i in range(nb):
        kept += 1 if row[i] - norm[i] >= lim else 0
    return kept


@jit(reductions=True)
def _gather_shifted(lpT, k, nb, norm, e, rows, kr_row):
    """``e[:n] = lpT[k, i] - norm[i]`` for the ``n`` rows ``i`` that survive the flush.

    Their indices go to ``rows[kr_row, :n]``; returns ``n``. Branch-free: ``e``
    and ``rows[kr_row]`` need room for ``nb`` values.
    """
    row = lpT[k]
    out = rows[kr_row]
    lim = flush_below(row)
    n = 0
    for i in range(nb):
        v = row[i] - norm[i]
        e[n] = v
        out[n] = i
        n += 1 if v >= lim else 0
    return n


@jit(reductions=True)
def _scatter_exps(lpT, k, nb, e, n, rows, kr_row, s, keep):
    """Add the survivors' exponentials ``e[:n]`` to ``s`` and store them in ``lpT[k]``.

    With ``keep`` the row turns compact (``lpT[k, :n]``, rows in ``rows[kr_row]``);
    otherwise it stays dense, 0 where flushed.
    """
    row = lpT[k]
    idx = rows[kr_row]
    for j in range(n):
        s[idx[j]] += e[j]
    if keep:
        for j in range(n):
            row[j] = e[j]
        return
    for i in range(nb):
        row[i] = 0.0
    for j in range(n):
        row[idx[j]] = e[j]


@jit(reductions=True)
def _shift_kept(lpT, k, kr, n, norm):
    """``lpT[k, j] -= norm[kr[k, j]]`` for the ``n`` compact entries of component ``k``."""
    row = lpT[k]
    idx = kr[k]
    for j in range(n):
        row[j] = row[j] - norm[idx[j]]


@jit(reductions=True)
def _add_kept(lpT, k, kr, n, s):
    """``s[kr[k, j]] += lpT[k, j]`` for the ``n`` compact entries of component ``k``."""
    row = lpT[k]
    idx = kr[k]
    for j in range(n):
        s[idx[j]] += row[j]


@jit
def _exp_rows(lpT, kr, kn, nb, norm, s, e, bits, compact):
    """``lpT[k] = exp(lpT[k] - norm)``, 0 below the flush, ``s += lpT[k]``, every ``k``.

    The exponentials are :func:`~fastgmm._kernels._blocked.exp_flush64`'s
    (``exp_flush32``'s for float32 rows, within one float32 eps). A compact row
    (``kn[k] >= 0``) exponentiates its entries. A dense row with more than half
    its entries surviving the flush is exponentiated whole; otherwise only the
    survivors are gathered into ``e`` and exponentiated, the rest are 0, as the
    dense way would make them (``exp`` is element-wise and compiled without
    fastmath, so both ways give the same bits). With ``compact`` such a row stays
    compact: its survivors in ``lpT[k, :n]``, their indices in ``kr[k, :n]``,
    ``kn[k] = n`` (the layout of :func:`resp_kept_T`); otherwise their indices go
    to ``bits[1]`` and the row stays dense. ``e`` (block,) has the dtype of ``lpT``.

    The branches are here and the kernels it calls are branch-free leaves taking
    ``lpT`` and ``k``: Numba keeps the reference counts of a branching kernel's
    array arguments and of views passed to calls, two atomic operations each per
    call (1M x 8 x 16 diag: 19% of a float32 pass, 1 thread, ``perf``).
    """
    f32 = lpT.itemsize == 4
    rows = kr if compact else bits  # where a gathered row's indices go: rows[r]
    for k in range(lpT.shape[0]):
        n = kn[k]
        if n >= 0:
            _shift_kept(lpT, k, kr, n, norm)
            if f32:  # direct calls (see exp_flush)
                exp_flush32(lpT[k], n, bits)
            else:
                exp_flush64(lpT[k], n, bits)
            _add_kept(lpT, k, kr, n, s)
            continue
        if 2 * _count_kept(lpT, k, nb, norm) > nb:
            if f32:
                _exp_dense32(lpT, k, nb, norm, s, bits)
            else:
                _exp_dense64(lpT, k, nb, norm, s, bits)
            continue
        r = k if compact else 1
        n = _gather_shifted(lpT, k, nb, norm, e, rows, r)
        if f32:
            exp_flush32(e, n, bits)
        else:
            exp_flush64(e, n, bits)
        _scatter_exps(lpT, k, nb, e, n, rows, r, s, compact)
        if compact:
            kn[k] = n


@jit(reductions=True)
def _sum_log_sum_exp(norm, s, nb, n_components):
    """``sum_i (norm[i] + log s[i])`` for ``1 <= s[i] <= n_components`` (or 0).

    One ``log`` per run of points instead of one per point: ``log`` of the product
    of ``run`` sums, with ``n_components ** run < 1e300`` so the product cannot
    overflow (its relative rounding, ``run * 1.1e-16``, is far below the 1e-12 the
    tests ask of lower bounds). Saves ~0.6 us of a ~3.6 us iteration at N=200, K=3
    (benchmarks/bench_fit_many.py) and a quarter of the log-sum-exp of the fused fit
    at N, D, K = 100k, 2, 4. A point with ``s = 0`` (-inf everywhere) makes
    the result ``-inf``, as the per-point sum would.
    """
    run = 64
    while run > 1 and run * np.log(max(n_components, 1)) > 690.0:
        run //= 2
    total = 0.0
    for i in range(nb):
        total += norm[i]
    for a in range(0, nb, run):
        prod = 1.0
        for i in range(a, min(a + run, nb)):
            prod *= s[i]
        total += np.log(prod)
    return total


@jit(reductions=True)
def _max_kept(lpT, kr, kn, nb, mx):
    """``mx[i]`` = the largest entry of row ``i`` over the components (0 if all ``-inf``).

    Component ``k``'s entries are ``lpT[k, :nb]`` (``kn[k] < 0``) or the compact
    ``lpT[k, j]`` of row ``kr[k, j]`` for ``j < kn[k]`` (rows left out are ``-inf``).
    """
    for i in range(nb):
        mx[i] = -np.inf
    for k in range(lpT.shape[0]):
        row = lpT[k]
        if kn[k] < 0:
            for i in range(nb):
                v = row[i]
                mx[i] = v if v > mx[i] else mx[i]
            continue
        rows = kr[k]
        for j in range(kn[k]):
            i = rows[j]
            v = row[j]
            mx[i] = v if v > mx[i] else mx[i]
    for i in range(nb):  # a row that is -inf everywhere: exp(-inf - 0) = 0, sum 0
        mx[i] = mx[i] if mx[i] > -np.inf else 0.0


@jit
def _argmax_kept(lpT, kr, kn, nb, top, labels):
    """``labels[i]``: the first component with row ``i``'s largest entry (as :func:`_max_kept`)."""
    for i in range(nb):
        top[i] = -np.inf
        labels[i] = 0
    for k in range(lpT.shape[0]):
        row = lpT[k]
        dense = kn[k] < 0
        n = nb if dense else kn[k]
        for j in range(n):
            i = j if dense else kr[k, j]
            if row[j] > top[i]:
                top[i] = row[j]
                labels[i] = k


@jit(reductions=True)
def _max_dense(lpT, nb, mx, second):
    """``mx`` as :func:`_max_kept` for dense rows, ``second`` the runner-up (equal on ties).

    Returns the number of rows with a finite maximum whose runner-up also survives
    the flush (``second - mx >= FLUSH_BELOW``).
    """
    for i in range(nb):
        mx[i] = -np.inf
        second[i] = -np.inf
    for k in range(lpT.shape[0]):
        row = lpT[k]
        for i in range(nb):
            v = row[i]
            lo = v if v < mx[i] else mx[i]
            second[i] = lo if lo > second[i] else second[i]
            mx[i] = v if v > mx[i] else mx[i]
    lim = flush_below(mx)
    n_multi = 0
    for i in range(nb):
        fin = mx[i] > -np.inf
        n_multi += 1 if fin and second[i] - mx[i] >= lim else 0
        mx[i] = mx[i] if fin else 0.0
    return n_multi


@jit
def _resp_single(lpT, kr, kn, nb, sample_weight, a, norm, s, arg):
    """Responsibilities when each row keeps at most one component, its top.

    Then the top's shifted log-probability is exactly 0, its exponential exactly 1
    and every other one flushed: responsibility 1 (soft and hard alike), sum of
    exponentials 1 and ``log p(x_i) = norm[i] + log 1``, the bits of the general
    path without its exponentials. Rows that are ``-inf`` everywhere keep nothing
    and get ``s[i] = 0``. Leaves every row compact; ``arg`` is integer scratch.
    """
    lim = flush_below(norm)
    top_k = arg.view(np.int32)  # 32-bit: as many lanes as float32 rows
    for i in range(nb):
        top_k[i] = 0
    for k in range(1, lpT.shape[0]):  # the one survivor (row 0 if none survives)
        row = lpT[k]
        kk = np.int32(k)
        for i in range(nb):
            top_k[i] = kk if row[i] - norm[i] >= lim else top_k[i]
    for k in range(lpT.shape[0]):
        kn[k] = 0
    for i in range(nb):
        c = top_k[i]
        top = lpT[c, i] - norm[i] >= lim
        s[i] = 1.0 if top else 0.0
        if top:
            j = kn[c]
            kr[c, j] = i
            lpT[c, j] = 1.0
            kn[c] = j + 1
    return _weighted_log_lik(norm, s, nb, sample_weight, a, lpT.shape[0])


@jit(reductions=True)
def _weighted_log_lik(norm, s, nb, sample_weight, a, n_components):
    """``sum_i w_i (norm[i] + log s[i])`` over rows with ``w_i != 0`` (all 1 without weights)."""
    if sample_weight.shape[0] > 0:
        total = 0.0
        for i in range(nb):
            w = sample_weight[a + i]
            total += w * (np.float64(norm[i]) + np.log(np.float64(s[i]))) if w != 0.0 else 0.0
        return total
    return _sum_log_sum_exp(norm, s, nb, n_components)


@jit(reductions=True)
def resp_T(lpT, nb, sample_weight, a, hard, norm, s, bits):
    """Weighted log-probabilities ``lpT`` (n_components, block) to responsibilities in place.

    :func:`resp_kept_T` with every component's row dense.
    """
    n_components = lpT.shape[0]
    kr = np.empty((n_components, 0), dtype=np.int64)
    kn = np.full(n_components, -1, dtype=np.int64)
    return resp_kept_T(lpT, kr, kn, nb, sample_weight, a, hard, norm, s, np.empty(nb), bits)


@jit(reductions=True)
def resp_compact_T(lpT, kr, kn, nb, sample_weight, a, hard, norm, s, e, bits, single):
    """:func:`resp_kept_T` from dense rows, leaving compact the rows mostly flushed to 0.

    ``lpT`` (n_components, block) is dense on entry. A component whose row keeps
    at most half of the block after the flush (see :func:`_exp_rows`) leaves it
    compact, ``kn[k]`` responsibilities in ``lpT[k, :kn[k]]`` for the rows
    ``kr[k, :kn[k]]``; the others leave ``kn[k] = -1`` and a dense row. The
    statistics then read the kept rows only (diag:
    :func:`~fastgmm._kernels._blocked_stats.accumulate_diag_T`). ``kr``
    (n_components, >= block) and ``kn`` (n_components,) are integer, overwritten.

    With ``single``, a block where every point keeps only its top component
    (clusters separated by more than ``-FLUSH_BELOW`` in log-density: 1M x 16 x 8
    and 200k x 32 x 16 in the benchmarks) takes :func:`_resp_single`, with no
    exponentials: every row compact, the same responsibilities and log-likelihood
    bits (tests/test_sparse_paths.py).
    Finding out costs a runner-up per point on top of the maximum, so callers
    try it while it pays (:func:`one_per_row` of the previous block).
    """
    kn[:] = -1
    if not single:
        _max_kept(lpT, kr, kn, nb, norm)
    elif _max_dense(lpT, nb, norm, s) == 0:  # one survivor per point: its top
        return _resp_single(lpT, kr, kn, nb, sample_weight, a, norm, s, bits[1])
    return _resp_rows(lpT, kr, kn, nb, sample_weight, a, hard, norm, s, e, bits, True)


@jit
def one_per_row(kn, nb):
    """Whether :func:`resp_compact_T` left every row compact with at most ``nb`` entries.

    Then the next block is worth trying with ``single`` (separated clusters); not
    after dense rows or more entries than points (overlapping ones: the runner-up
    pass would be wasted, 4-8% of a diag pass at 1M x 8 x 16 and 100k x 2 x 4).
    """
    total = 0
    for k in range(kn.shape[0]):
        if kn[k] < 0:
            return False
        total += kn[k]
    return total <= nb


@jit(reductions=True)
def resp_kept_T(lpT, kr, kn, nb, sample_weight, a, hard, norm, s, e, bits):
    """Weighted log-probabilities to responsibilities in place, dense or compact rows.

    Component ``k``'s log-probabilities are ``lpT[k, :nb]`` (``kn[k] < 0``) or, as
    left by :func:`~fastgmm._kernels._prune.log_prob_full_pruned_T`, the compact
    ``lpT[k, :kn[k]]`` of the rows ``kr[k, :kn[k]]`` (every other row ``-inf``);
    the responsibilities take the same places. Compact rows cost their length, not
    the block's: with separated clusters each point keeps about one component. The
    results have the same bits as the dense rows with ``-inf`` filled in (max,
    exponentials and the sums over components run in the same order).

    ``norm`` and ``s`` are scratch (they end up holding each row's maximum and the
    reciprocal of its sum of exponentials); without sample weights the
    log-likelihood takes one ``log`` per run of points (:func:`_sum_log_sum_exp`)
    instead of one per point. Rows that are ``-inf`` for every component get
    responsibility 0 and make the result ``-inf``. ``hard`` makes responsibilities
    one-hot on the first most probable component. ``sample_weight`` is the whole
    weight vector (or length 0), ``a`` the first row of the block; ``e`` (block,)
    and ``bits`` (2, block) integer are scratch. ``lpT``, ``norm``, ``s`` and ``e``
    share one float dtype: float64, or float32 in the fused pass over float32 data
    (float32 exponentials; the log-likelihood is summed in float64 either way).

    Returns
    -------
    weighted_log_likelihood : float
        ``sum_i w_i log p(x_i)`` over rows with ``w_i != 0``.
    """
    return _resp_rows(lpT, kr, kn, nb, sample_weight, a, hard, norm, s, e, bits, False)


@jit(reductions=True)
def _resp_rows(lpT, kr, kn, nb, sample_weight, a, hard, norm, s, e, bits, compact):
    """:func:`resp_kept_T`; with ``compact`` dense rows may turn compact (resp_compact_T).

    With ``compact`` every row is dense and :func:`resp_compact_T` has filled in
    ``norm`` (the maxima).
    """
    n_components = lpT.shape[0]
    labels = bits[1, :0].copy()
    if hard:  # labels from the log-probabilities themselves (first maximum on ties)
        labels = np.empty(nb, dtype=np.int64)
        _argmax_kept(lpT, kr, kn, nb, s, labels)
    if not compact:
        _max_kept(lpT, kr, kn, nb, norm)
    for i in range(nb):
        s[i] = 0.0
    _exp_rows(lpT, kr, kn, nb, norm, s, e, bits, compact)
    total = _weighted_log_lik(norm, s, nb, sample_weight, a, n_components)
    one = type(s[0])(1.0)
    for i in range(nb):
        s[i] = one / s[i] if s[i] > 0.0 else 0.0
    for k in range(n_components):
        row = lpT[k]
        dense = kn[k] < 0
        n = nb if dense else kn[k]
        if hard:
            for j in range(n):
                i = j if dense else kr[k, j]
                row[j] = 1.0 if labels[i] == k else 0.0
        elif dense:
            for i in range(nb):
                row[i] *= s[i]
        else:
            rows_k = kr[k]
            for j in range(n):
                row[j] *= s[rows_k[j]]
    return total


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
        if e.itemsize == 4:  # a direct call (see exp_flush)
            exp_flush32(e, nb, bits)
        else:
            exp_flush64(e, nb, bits)
        for i in range(nb):
            s[i] += e[i]
    for i in range(nb):
        norm[i] = norm[i] + np.log(s[i])
