"""The fused fit's shortcuts for separated clusters change no result.

``fastgmm/_kernels/_blocked.py`` skips work that cannot change the answer:

* pruning: (point, component) pairs whose log-probability is bounded more than
  41 nats below the point's best get ``-inf`` instead of a triangular product
  (their responsibility is flushed to exactly 0 either way);
* sparse statistics: a component's rows with zero responsibility are skipped, and
  the few kept rows are buffered across blocks before their outer products.

Both only engage on well-separated data with enough features, which the core
tests (3-5 features) do not exercise; these tests do, against the exact kernels,
the NumPy twin and across thread counts.
"""

from __future__ import annotations

import numba
import numpy as np
import pytest

from fastgmm import _kernels as K
from fastgmm import _reference as R
from fastgmm._covariance import sxx_shape
from fastgmm._kernels import _blocked as B
from fastgmm._kernels import _blocked_resp as BR
from fastgmm._kernels import _blocked_stats as S
from fastgmm._kernels import _prune
from fastgmm._kernels.suffstats import PRUNE_MIN_FEATURES

COV_TYPES = ["full", "tied", "diag", "spherical"]


@pytest.fixture
def rng():
    return np.random.default_rng(20261122)


def _blobs(rng, n, d, k, spread, dtype=np.float64):
    centers = rng.normal(scale=spread, size=(k, d))
    X = centers[rng.integers(k, size=n)] + rng.normal(size=(n, d))
    return np.ascontiguousarray(X, dtype=dtype), centers


def _precisions_chol(rng, cov, k, d, scale=1.0):
    """Random well-conditioned factors in the kernels' shapes."""
    if cov == "full":
        U = np.triu(rng.normal(scale=0.1, size=(k, d, d)), 1)
        U += np.eye(d) * rng.uniform(0.7, 1.3, size=(k, 1, d))
        return np.ascontiguousarray(U * scale)
    if cov == "tied":
        return np.triu(rng.normal(scale=0.1, size=(d, d)), 1) + np.eye(d) * scale
    if cov == "diag":
        return rng.uniform(0.7, 1.3, size=(k, d)) * scale
    return rng.uniform(0.7, 1.3, size=k) * scale


def _with_threads(n, fn):
    old = numba.get_num_threads()
    numba.set_num_threads(min(n, numba.config.NUMBA_NUM_THREADS))
    try:
        return fn()
    finally:
        numba.set_num_threads(old)


# --------------------------------------------------------------------------- bounds
@pytest.mark.parametrize("condition", [1.0, 1e2, 1e6])
@pytest.mark.parametrize("d", [1, 2, 7, 16])
def test_precision_eig_bounds_bracket_the_eigenvalues(rng, d, condition):
    Q, _ = np.linalg.qr(rng.normal(size=(d, d)))
    eigs = np.geomspace(1.0, condition, d) if d > 1 else np.array([condition])
    P = (Q * eigs) @ Q.T
    U = np.linalg.cholesky(P[::-1, ::-1])[::-1, ::-1]  # upper, P = U U^T
    np.testing.assert_allclose(U @ U.T, P, rtol=1e-8, atol=1e-8 * condition)
    out = np.empty(2)
    _prune.precision_eig_bounds(np.ascontiguousarray(U), np.empty((2, d, d)), out)
    true = np.linalg.eigvalsh(U @ U.T)
    assert 0.0 < out[0] <= true[0]
    assert out[1] >= true[-1]
    # Useful, not just valid: within a factor sqrt(d) of the truth for these.
    assert out[0] >= true[0] / (np.sqrt(d) * 1.01)
    assert out[1] <= true[-1] * np.sqrt(d) * 1.01


@pytest.mark.parametrize("bad", [np.nan, np.inf, 0.0])
def test_precision_eig_bounds_disable_pruning_on_a_degenerate_factor(bad):
    U = np.eye(4)
    U[2, 2] = bad
    out = np.empty(2)
    _prune.precision_eig_bounds(U, np.empty((2, 4, 4)), out)
    assert out[0] == 0.0 and out[1] == np.inf  # nothing is ever pruned


# --------------------------------------------------------------------------- pruning
@pytest.mark.parametrize("offset", [0.0, 1e4, 1e8])
@pytest.mark.parametrize("k", [1, 5, 8])
def test_expanded_distances_bracket_the_exact_ones(rng, k, offset):
    """float64 distances in the expanded form, widened by their rounding allowance,
    bracket the exact squared distances, however far the data sit from the origin
    (cancellation) and for any number of components (groups of four and the rest)."""
    d, nb = 13, 200
    centers = offset + rng.normal(scale=3.0, size=(k, d))
    XT = np.ascontiguousarray((centers[rng.integers(k, size=nb)] + rng.normal(size=(nb, d))).T)
    XT[:, 0] = centers[0]  # a point on a mean: distance 0, the hardest case
    exact = ((XT.T[None, :, :] - centers[:, None, :]) ** 2).sum(axis=2)  # rounding ~1e-16 rel
    lo, xc, xx = np.empty((k, nb)), np.empty((d, nb)), np.empty(nb)
    mm = _prune._expanded_distances_T(XT, nb, centers, lo, xc, xx)
    hi = lo + (xx[None, :] + mm[:, None])
    slack = 4e-16 * exact  # rounding of `exact` itself
    assert np.all(lo <= exact + slack)
    assert np.all(hi >= exact - slack)
    # Tight, not just valid: the allowance is tiny next to the spread of the data.
    assert np.max(hi - lo) <= 1e-11 * max(1.0, offset**2) * d
    # And the bound on each point's best log-probability holds.
    const, eig = rng.normal(size=k), np.tile([0.5, 2.0], (k, 1))
    best = np.empty(nb)
    _prune._distance_bounds_T(XT, nb, centers, const, eig, lo.copy(), best, xc, np.empty(nb))
    truth = (const[:, None] - 0.5 * eig[:, 1:2] * exact).max(axis=0)
    assert np.all(best <= truth + 1e-9 * np.abs(truth))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_kept_rows_cut_at_the_flush_of_the_rows_dtype(dtype):
    """A pair is pruned when its bound is more than the flush plus one nat below the
    best: 41 nats for float64 rows, 21 for float32 ones (their exponentials flush
    at e^-20, below float32 resolution). The compaction lists the kept rows in order."""
    gaps = np.array([-5.0, -19.5, -20.5, -22.0, -30.0, -40.5, -41.5, 0.0, -60.0, -2.0])
    nb = gaps.size
    best = np.zeros(nb)
    dist = (-gaps).astype(dtype)  # c = 0, h_lo = 1: the bound is -dist
    flags = np.full(16, 7, dtype=np.uint8)
    n = _prune._kept_flags(dist, nb, 0.0, 1.0, best, flags)
    cut = _flush(dtype) - 1.0
    expect = np.flatnonzero(gaps >= cut)
    assert n == expect.size and np.array_equal(flags[:nb], (gaps >= cut).astype(np.uint8))
    assert not flags[nb:16].any()  # padded to a multiple of 8 for the compaction
    rows = np.empty(nb + 8, dtype=np.int64)
    assert _prune._rows_from_flags(flags, nb, rows) == n
    np.testing.assert_array_equal(rows[:n], expect)
    assert n == (8 if dtype == np.float64 else 5)


@pytest.mark.parametrize("nb", [1, 7, 8, 9, 64, 203])
def test_rows_from_flags_matches_flatnonzero(rng, nb):
    """The table-driven compaction (eight flags per step) against np.flatnonzero."""
    for p in (0.0, 0.1, 0.5, 1.0):
        flags = np.zeros((nb + 7) // 8 * 8, dtype=np.uint8)
        flags[:nb] = rng.random(nb) < p
        rows = np.full(nb + 8, -1, dtype=np.int64)
        n = _prune._rows_from_flags(flags, nb, rows)
        np.testing.assert_array_equal(rows[:n], np.flatnonzero(flags[:nb]))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("cov", ["full", "tied"])
def test_pruned_log_prob_keeps_every_responsibility(rng, cov, dtype):
    d, k = 16, 8
    assert d >= PRUNE_MIN_FEATURES
    X, centers = _blobs(rng, 300, d, k, spread=8.0, dtype=dtype)
    nb = X.shape[0]
    XT = np.ascontiguousarray(X.T)
    means = centers + 0.2 * rng.normal(size=centers.shape)
    chol = _precisions_chol(rng, cov, k, d)
    weights = rng.uniform(0.5, 1.0, size=k)
    weights[3] = 0.0  # a zero-weight component: log weight -inf
    log_w = np.log(weights / weights.sum(), where=weights > 0, out=np.full(k, -np.inf))
    const = np.empty(k)
    eig = np.empty((k, 2))
    work = np.empty((2, d, d))
    if cov == "full":
        B.const_full(chol, log_w, const)
        for j in range(k):
            _prune.precision_eig_bounds(chol[j], work, eig[j])
    else:
        B.const_tied(chol, log_w, const)
        _prune.precision_eig_bounds(chol, work, eig[0])
        eig[1:] = eig[0]
    fac = chol.astype(dtype)
    exact, pruned = np.empty((k, nb)), np.empty((k, nb))
    dT, y, sq = np.empty((d, nb), dtype), np.empty((2, nb), dtype), np.empty(nb, dtype)
    best = np.empty(nb)
    getattr(B, f"log_prob_{cov}_T")(XT, nb, means, fac, const, exact, dT, y, sq)
    factors = fac if cov == "full" else np.ascontiguousarray(np.repeat(fac[None], k, 0))
    kr, kn = np.empty((k, nb), np.int64), np.empty(k, np.int64)
    cap = 2 * nb
    gd, fill = np.full((k, d, cap), np.nan, dtype), rng.integers(0, cap - nb, size=k)
    _prune.log_prob_full_pruned_T(
        XT, nb, means, factors, const, eig, pruned, dT, y, sq, best, kr, kn, gd, fill
    )
    compact = pruned.copy()  # what resp_kept_T takes
    # The kept rows, their log-probabilities and their centred rows, gathered straight
    # into the statistics buffers from fill[j] on (the rest of the buffer untouched).
    assert (kn >= 0).any()
    for j in range(k):
        if kn[j] < 0:
            continue
        rows = kr[j, : kn[j]]
        assert np.all(np.diff(rows) > 0)
        pruned[j] = -np.inf
        pruned[j, rows] = compact[j, : kn[j]]
        cols = slice(fill[j], fill[j] + kn[j])
        centred = XT[:, rows].astype(np.float64) - means[j][:, None]
        tol = 1e-12 if dtype == np.float64 else 1e-5
        np.testing.assert_allclose(gd[j][:, cols], centred, rtol=tol, atol=tol)
        assert np.isnan(gd[j][:, : fill[j]]).all() and np.isnan(gd[j][:, cols.stop :]).all()
    cut = pruned == -np.inf
    gap = exact - exact.max(axis=0)
    # Work was skipped on most pairs, and only on pairs whose responsibility is flushed.
    assert cut.mean() > 0.5
    assert np.all(gap[cut & np.isfinite(exact)] < _flush(dtype))
    np.testing.assert_allclose(pruned[~cut], exact[~cut], rtol=1e-12)
    # Hence identical log p(x) and responsibilities: dense from the exact log-densities,
    # compact from the pruned ones, the same bits.
    for hard, sw in [(False, np.empty(0)), (True, np.empty(0)), (False, rng.random(nb))]:
        norm, s, bits = np.empty(nb), np.empty(nb), np.empty((2, nb), np.int64)
        lpT = exact.copy()
        total = BR.resp_T(lpT, nb, sw, 0, hard, norm, s, bits)
        lpK = compact.copy()
        total_k = BR.resp_kept_T(lpK, kr, kn, nb, sw, 0, hard, np.empty(nb), s, np.empty(nb), bits)
        assert total_k == total
        for j in range(k):
            if kn[j] < 0:
                np.testing.assert_array_equal(lpK[j], lpT[j])
            else:
                np.testing.assert_array_equal(lpK[j, : kn[j]], lpT[j, kr[j, : kn[j]]])
                assert not lpT[j, cut[j]].any()  # every row left out has responsibility 0
        # resp_compact_T (diag): dense log-densities in, rows mostly flushed left compact.
        lpC, krC, knC = exact.copy(), np.empty((k, nb), np.int64), np.empty(k, np.int64)
        # fmt: off
        total_c = BR.resp_compact_T(
            lpC, krC, knC, nb, sw, 0, hard, norm, s, np.empty(nb), bits, True
        )
        # fmt: on
        assert total_c == total and (knC >= 0).any()
        for j in range(k):
            if knC[j] < 0:
                np.testing.assert_array_equal(lpC[j], lpT[j])
                continue
            assert 2 * knC[j] <= nb
            full_row = np.zeros(nb)
            full_row[krC[j, : knC[j]]] = lpC[j, : knC[j]]
            np.testing.assert_array_equal(full_row, lpT[j])
            # exactly the entries that survive the flush are kept
            kept = exact[j] - exact.max(axis=0) >= B.FLUSH_BELOW
            np.testing.assert_array_equal(krC[j, : knC[j]], np.flatnonzero(kept))


def _flush(dtype):
    """The flush of float64 rows (e^-40) or of float32 ones (e^-20)."""
    return B.FLUSH_BELOW if np.dtype(dtype) == np.float64 else float(B.FLUSH_BELOW_32)


def _expand(lp, kr, kn, nb):
    """Dense (n_components, nb) responsibilities from rows that may be compact."""
    out = np.zeros((lp.shape[0], nb))
    for j in range(lp.shape[0]):
        if kn[j] < 0:
            out[j] = lp[j, :nb]
        else:
            out[j, kr[j, : kn[j]]] = lp[j, : kn[j]]
    return out


@pytest.mark.parametrize("case", ["one-survivor", "second-survivor", "tie", "inf-top"])
@pytest.mark.parametrize("mode", ["soft", "hard", "weighted"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_resp_compact_single_survivor_shortcut_same_bits(rng, case, mode, dtype):
    # Every point's top component 60-90 nats above the rest: only the top survives the
    # flush, and resp_compact_T skips the exponentials (_resp_single). Component 0 is
    # the top of 3/4 of the points, so the general path would leave its row dense.
    # float32 rows (the fused pass over float32 data) take float32 exponentials.
    k, nb = 5, 64
    top = np.where(rng.random(nb) < 0.75, 0, rng.integers(1, k, size=nb))
    lp = rng.normal(scale=3.0, size=(k, nb)) - 75.0 + rng.uniform(-15, 15, size=(k, nb))
    lp[top, np.arange(nb)] = rng.normal(scale=3.0, size=nb)
    lp[:, 7] = -np.inf  # a point with no finite log-probability: s = 0, log p = -inf
    lp[2, 9] = -np.inf
    if case == "second-survivor":  # one point keeps two components: general path
        lp[(top[11] + 1) % k, 11] = lp[top[11], 11] - 10.0
    elif case == "tie":
        lp[(top[11] + 2) % k, 11] = lp[top[11], 11]
    elif case == "inf-top":  # +inf top: shifted value nan, nothing survives
        lp[top[12], 12] = np.inf
    if mode == "hard":
        # Hard responsibilities of a point with no finite (or a +inf) log-probability
        # depend on whether a row is dense or compact (1 or 0); such points end a fit
        # with a -inf lower bound anyway, so they are left out here.
        if case == "inf-top":
            pytest.skip("layout-dependent for a degenerate point")
        lp[:, 7] = rng.normal(size=k) - 100.0
        lp[top[7], 7] = -50.0
    lp = lp.astype(dtype)
    sw = rng.uniform(0.5, 2.0, size=nb) if mode == "weighted" else np.empty(0)
    sw[3:5] = 0.0 if mode == "weighted" else sw[3:5]
    hard = mode == "hard"
    norm, s, bits = np.empty(nb, dtype), np.empty(nb, dtype), np.empty((2, nb), np.int64)
    dense = lp.copy()
    with np.errstate(invalid="ignore"):
        total = BR.resp_T(dense, nb, sw, 0, hard, norm, s, bits)
    for single in (False, True):  # without and with the shortcut: the same bits
        lpC, kr, kn = lp.copy(), np.empty((k, nb), np.int64), np.empty(k, np.int64)
        with np.errstate(invalid="ignore"):
            # fmt: off
            total_c = BR.resp_compact_T(
                lpC, kr, kn, nb, sw, 0, hard, norm, s, np.empty(nb, dtype), bits, single
            )
            # fmt: on
        np.testing.assert_array_equal(total_c, total)
        np.testing.assert_array_equal(_expand(lpC, kr, kn, nb), dense)
        # row 0 (the top of most points) stays dense on the general path: no retry
        assert BR.one_per_row(kn, nb) == (single and case in ("one-survivor", "inf-top"))
    # resp_kept_T with row 0 dense and the others compact, leaving out what pruning
    # would (entries 45 nats below the top): the same bits again.
    top_lp = lp.max(axis=0)
    lpK, krK, knK = lp.copy(), np.empty((k, nb), np.int64), np.full(k, -1, np.int64)
    for j in range(1, k):
        with np.errstate(invalid="ignore"):
            rows = np.flatnonzero(~(lp[j] - top_lp < -45.0))
        knK[j], krK[j, : rows.size], lpK[j, : rows.size] = rows.size, rows, lp[j, rows]
    with np.errstate(invalid="ignore"):
        # fmt: off
        total_k = BR.resp_kept_T(
            lpK, krK, knK, nb, sw, 0, hard, norm, s, np.empty(nb, dtype), bits
        )
        # fmt: on
    np.testing.assert_array_equal(total_k, total)
    np.testing.assert_array_equal(_expand(lpK, krK, knK, nb), dense)
    # Independently: a point whose top alone survives has responsibilities exactly 1
    # and 0, whichever path its block took (exp(0) = 1 in the general one).
    norm_ref = np.where(top_lp > -np.inf, top_lp, 0.0).astype(dtype)  # as _max_kept leaves it
    with np.errstate(invalid="ignore"):
        survives = lp - norm_ref >= _flush(dtype)
    single = survives.sum(axis=0) == 1
    np.testing.assert_array_equal(dense[:, single], survives[:, single].astype(float))
    # the shortcut leaves every row compact (nothing survives at the +inf top: nan)
    shortcut = case in ("one-survivor", "inf-top")
    assert (kn[0] >= 0) == shortcut
    if shortcut:
        assert kn.sum() == np.count_nonzero(dense)  # at most one entry per point
        assert np.all(lpC[0, : kn[0]] == 1.0)
        # log p(x_i) = top + log 1 (0 with nothing left), from the general path's sum
        s_ref = survives.any(axis=0).astype(dtype)
        with np.errstate(invalid="ignore", divide="ignore"):
            expected = BR._weighted_log_lik(norm_ref, s_ref, nb, sw, 0, k)
        np.testing.assert_array_equal(total, expected)


def _assert_matches_twin_and_thread_invariant(cov, dtype, run):
    """``run(fn)`` of the parallel pass at 1 and 2 threads (bitwise equal) and of the
    serial pass equals ``run`` of the NumPy twin (1e-10 float64, 1e-6 float32)."""
    kernel = getattr(K, f"suffstats_{cov}_parallel")
    one = _with_threads(1, lambda: run(kernel))
    two = _with_threads(2, lambda: run(kernel))
    serial = run(getattr(K, f"suffstats_{cov}"))
    twin = run(getattr(R, f"suffstats_{cov}_parallel"))
    tol = 1e-10 if dtype is np.float64 else 1e-6
    for a, b, s, r in zip(one, two, serial, twin, strict=True):
        np.testing.assert_array_equal(a, b)  # bitwise across thread counts
        np.testing.assert_allclose(s, r, rtol=tol, atol=tol * np.max(np.abs(r)))
        np.testing.assert_allclose(a, r, rtol=tol, atol=tol * np.max(np.abs(r)))


# --------------------------------------------------------------------------- fused pass
@pytest.mark.parametrize("spread", [4.0, 0.5], ids=["separated", "overlapping"])
@pytest.mark.parametrize("hard", [False, True])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("cov", COV_TYPES)
def test_fused_pass_matches_twin_and_is_thread_invariant(rng, cov, dtype, hard, spread):
    n, d, k = 9000, 16, 8  # several chunks, many blocks per chunk, buffers refilled
    X, centers = _blobs(rng, n, d, k, spread, dtype)
    means = centers + 0.1 * rng.normal(size=centers.shape)
    chol = _precisions_chol(rng, cov, k, d)
    weights = rng.uniform(0.5, 1.0, size=k)
    weights[2] = 0.0
    weights /= weights.sum()
    sw = rng.uniform(0.0, 2.0, size=n)
    sw[::7] = 0.0

    def run(fn):
        nk, sx, sxx = np.zeros(k), np.zeros((k, d)), np.zeros(sxx_shape(cov, k, d))
        ll = fn(X, sw, weights, means, chol, hard, nk, sx, sxx)
        if cov in ("full", "tied"):
            sxx = np.triu(sxx)
        return np.array([ll]), nk, sx, sxx

    _assert_matches_twin_and_thread_invariant(cov, dtype, run)


def _pruning_computed(X, centers, chol, weights):
    """Pairs :func:`log_prob_full_pruned_T` computed for the rows ``X``, as a fraction."""
    n, d = X.shape
    k = centers.shape[0]
    XT = np.ascontiguousarray(X.T)
    eig = np.empty((k, 2))
    for j in range(k):
        _prune.precision_eig_bounds(chol[j], np.empty((2, d, d)), eig[j])
    const = np.empty(k)
    B.const_full(chol, np.log(weights), const)
    dt = X.dtype
    # fmt: off
    computed = _prune.log_prob_full_pruned_T(
        XT, n, centers, chol.astype(dt), const, eig, np.empty((k, n)), np.empty((d, n), dt),
        np.empty((2, n), dt), np.empty(n, dt), np.empty(n), np.empty((k, n + 1), np.int64),
        np.empty(k, np.int64), np.empty((k, d, n + 1), dt), np.zeros(k, np.int64)
    )
    # fmt: on
    return computed / (n * k)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("cov", ["full", "tied"])
def test_block_schedule_switching_within_a_chunk(rng, cov, dtype):
    """Pruned blocks are longer than dense ones and a chunk switches between them.

    Rows alternate between separated points (pruning pays: long pruned blocks) and
    points at the centre of a sphere of means (every component within a few nats:
    pruning fails, dense blocks, then short attempts). One serial pass over all
    rows (one chunk) and the parallel pass at 1 and 2 threads must equal the twin.
    """
    d, k = 16, 8
    u = rng.normal(size=(k, d))
    centers = 16.0 * u / np.linalg.norm(u, axis=1, keepdims=True)
    parts = []
    for n_part, near in [(5000, False), (3000, True), (7000, False), (700, True), (2500, False)]:
        if near:
            parts.append(0.1 * rng.normal(size=(n_part, d)))
        else:
            parts.append(centers[rng.integers(k, size=n_part)] + rng.normal(size=(n_part, d)))
    X = np.ascontiguousarray(np.concatenate(parts), dtype=dtype)
    n = X.shape[0]
    block, pblock = K.suffstats._fused_blocks(k, d, X.itemsize)
    assert pblock >= 8 * block  # the long pruned blocks are exercised
    chol = np.repeat(np.eye(d)[None], k, 0) * rng.uniform(0.9, 1.1, size=(k, 1, 1))
    if cov == "tied":
        chol = np.repeat(chol[:1], k, 0)
    weights = np.full(k, 1.0 / k)
    assert _pruning_computed(X[:pblock], centers, chol, weights) < 0.3
    assert _pruning_computed(X[5000 : 5000 + block], centers, chol, weights) == 1.0
    arg = chol if cov == "full" else np.ascontiguousarray(chol[0])
    sw = rng.uniform(0.5, 2.0, size=n)

    def run(fn):
        nk, sx, sxx = np.zeros(k), np.zeros((k, d)), np.zeros(sxx_shape(cov, k, d))
        ll = fn(X, sw, weights, centers, arg, False, nk, sx, sxx)
        return np.array([ll]), nk, sx, np.triu(sxx)

    _assert_matches_twin_and_thread_invariant(cov, dtype, run)


def test_separated_blocks_take_the_sparse_paths(rng):
    """The fixture above really reaches the shortcuts it is meant to check."""
    d, k = 16, 8
    X, centers = _blobs(rng, 512, d, k, 4.0)
    nb = B.block_rows_for(d)
    XT = np.ascontiguousarray(X[:nb].T)
    lpT = np.empty((k, nb))
    eig = np.empty((k, 2))
    chol = np.ascontiguousarray(np.repeat(np.eye(d)[None], k, 0))
    for j in range(k):
        _prune.precision_eig_bounds(chol[j], np.empty((2, d, d)), eig[j])
    const = np.empty(k)
    B.const_full(chol, np.full(k, -np.log(k)), const)
    y, sq, best = np.empty((2, nb)), np.empty(nb), np.empty(nb)
    kr, kn, dT = np.empty((k, nb), np.int64), np.empty(k, np.int64), np.empty((d, nb))
    gd, fill = np.empty((k, d, nb)), np.zeros(k, np.int64)
    _prune.log_prob_full_pruned_T(
        XT, nb, centers, chol, const, eig, lpT, dT, y, sq, best, kr, kn, gd, fill
    )
    assert np.all(kn >= 0)  # every component's kept rows were gathered
    assert kn.sum() < 0.3 * k * nb  # most pairs pruned
    bits = np.empty((2, nb), np.int64)
    BR.resp_kept_T(
        lpT, kr, kn, nb, np.empty(0), 0, False, np.empty(nb), np.empty(nb), np.empty(nb), bits
    )
    for j in range(k):  # sparse statistics per component
        assert (lpT[j, : kn[j]] > 0).sum() <= S.SPARSE_FRACTION * nb


@pytest.mark.parametrize("cap", [256, 300, 512])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_buffered_statistics_equal_dense_ones(rng, cap, dtype):
    """Rows buffered across blocks (flushed when a block might not fit, and at the end)
    give the dense statistics."""
    d, nb, n_blocks = 16, 256, 6
    shift = rng.normal(size=d)
    sx_dense, sxx_dense = np.zeros(d), np.zeros((d, d))
    sx, sxx = np.zeros(d), np.zeros((d, d))
    rT, dT, rd = np.empty(nb, dtype), np.empty((d, nb), dtype), np.empty((d, cap), dtype)
    rows = np.empty(nb, np.int64)
    gd, gr = np.empty((1, d, cap), dtype), np.empty((1, cap), dtype)
    fill = np.zeros(1, np.int64)
    taken = []
    for b in range(n_blocks):
        XT = rng.normal(size=(d, nb)).astype(dtype)
        frac = [0.05, 0.2, 0.45, 0.1, 0.9, 0.3][b]
        r = np.where(rng.random(nb) < frac, rng.random(nb), 0.0)
        S._centre_weigh(XT, nb, shift, r, rT, dT, rd, sx_dense)
        S._upper_outer(rd, dT, nb, sxx_dense)
        total, kept = S._weigh(r[np.newaxis], 0, nb, np.empty(0), 0, rT.itemsize)
        assert total == pytest.approx(r.sum()) and kept == np.count_nonzero(r)
        S._full_stats_into(XT, nb, r, kept, shift, rT, dT, rd, rows, gd, gr, fill, 0, sx, sxx)
        taken.append(int(fill[0]))
    S.flush_rows_full(gd, gr, fill, cap, rd, sx[np.newaxis], sxx[np.newaxis])
    assert fill[0] == 0
    assert max(taken) > 0  # rows were buffered
    if cap >= 2 * nb:
        assert any(t > nb for t in taken)  # across blocks
    tol = 1e-12 if dtype is np.float64 else 1e-5
    np.testing.assert_allclose(sx, sx_dense, rtol=tol, atol=tol * np.abs(sx_dense).max())
    np.testing.assert_allclose(
        np.triu(sxx), np.triu(sxx_dense), rtol=tol, atol=tol * np.abs(sxx_dense).max()
    )


@pytest.mark.parametrize("cov", COV_TYPES)
@pytest.mark.parametrize("shape", [(0, 0), (0, 16)])
def test_fused_pass_on_no_rows(rng, cov, shape):
    """Dask infers metadata by calling the kernel on a (0, 0) block; nothing may be
    written out of bounds (scratch sized from the parameters, not from X)."""
    k, d = 3, 16
    chol = _precisions_chol(rng, cov, k, d)
    nk, sx, sxx = np.zeros(k), np.zeros((k, d)), np.zeros(sxx_shape(cov, k, d))
    X = np.empty(shape)
    ll = getattr(K, f"suffstats_{cov}")(
        X, np.empty(0), np.full(k, 1 / k), rng.normal(size=(k, d)), chol, False, nk, sx, sxx
    )
    assert ll == 0.0 and not nk.any()


# --------------------------------------------------------------------------- few features
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("d", [1, 2, 3])
def test_small_feature_kernels_equal_the_general_ones(rng, d, dtype):
    """Up to SMALL_FEATURES features the log-densities and dense statistics take one
    fused pass (padded features add exactly 0); they equal the per-feature passes."""
    assert d <= B.SMALL_FEATURES
    nb, k = 200, 3
    XT = (rng.normal(size=(d, nb)) + 50.0).astype(dtype)
    means = 50.0 + rng.normal(size=(k, d))
    chol = np.triu(rng.normal(size=(k, d, d))) + 2.0 * np.eye(d)
    fac = chol.astype(dtype)
    const = rng.normal(size=k)
    dT, y, sq = np.empty((d, nb), dtype), np.empty((2, nb), dtype), np.empty(nb, dtype)
    small = np.empty((k, nb))
    B.log_prob_full_T(XT, nb, means, fac, const, small, dT, y, sq)
    general = np.empty((k, nb))
    for j in range(k):
        B._centre(XT, nb, means[j], dT)
        B._tri_sq(dT, nb, fac[j], y, sq)
        general[j] = const[j] - 0.5 * sq
    tol = 1e-12 if dtype == np.float64 else 2e-5
    np.testing.assert_allclose(small, general, rtol=tol)
    tied = np.empty((k, nb))
    B.log_prob_tied_T(XT, nb, means, fac[0], const, tied, dT, y, sq)
    np.testing.assert_allclose(tied[0], general[0], rtol=tol)

    r = rng.random(nb)
    r[::7] = 0.0
    rT, rdT = np.empty(nb, dtype), np.empty((d, nb), dtype)
    sx_s, sxx_s = np.zeros(d), np.zeros((d, d))
    sx_g, sxx_g = np.zeros(d), np.zeros((d, d))
    nk_s = S._small_stats(XT, nb, np.empty(0), 0, means[0], r, sx_s, sxx_s)
    assert nk_s == pytest.approx(r.sum(), rel=1e-14)
    S._centre_weigh(XT, nb, means[0], r, rT, dT, rdT, sx_g)
    S._upper_outer(rdT, dT, nb, sxx_g)
    np.testing.assert_allclose(sx_s, sx_g, rtol=tol, atol=tol * np.abs(sx_g).max())
    np.testing.assert_allclose(sxx_s, sxx_g, rtol=tol, atol=tol * np.abs(sxx_g).max())
    assert not np.tril(sxx_s, -1).any()  # upper triangle only, as _upper_outer
