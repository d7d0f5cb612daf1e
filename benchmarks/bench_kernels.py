"""Kernels and inference: fused statistics, predict, score_samples, k-means++ seeding.

Also single-thread microbenchmarks of the blocked building blocks: two columns
per pass in ``_tri_sq``, the gathered statistics behind ``SPARSE_FRACTION``, the
block-length sweep behind ``_blocked.block_rows_for`` and the fused multiply-adds
of the vectorised ``exp`` (``_jit.FASTMATH_CONTRACT``).
"""

from __future__ import annotations

import numpy as np
import pytest
from _problems import FULL, ROWS, make_problem, numba_threads, precisions_init

from fastgmm import GaussianMixture
from fastgmm import _kernels as K
from fastgmm import _reference as R
from fastgmm._covariance import sxx_shape
from fastgmm._kernels import _blocked as B
from fastgmm._kernels import _blocked_stats as S
from fastgmm._kernels import suffstats as SS
from fastgmm._kernels._jit import jit

COV_TYPES = ["full", "tied", "diag", "spherical"]


def _stats_args(X, weights, means, covariance_type):
    k, d = means.shape
    prec = precisions_init(covariance_type, k, d)
    if covariance_type == "full":
        prec = np.ascontiguousarray(prec)
    nk = np.empty(k)
    sx = np.empty((k, d))
    sxx = np.empty(sxx_shape(covariance_type, k, d))
    return (X, np.empty(0), weights, means, prec, False, nk, sx, sxx)


@pytest.mark.parametrize("impl", ["fastgmm", "reference"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["f64", "f32"])
@pytest.mark.parametrize("covariance_type", COV_TYPES)
@pytest.mark.parametrize("row", ROWS, ids=lambda r: "x".join(map(str, r)))
def test_suffstats(benchmark, impl, row, covariance_type, dtype, threads):
    if impl == "reference" and threads != 2:
        pytest.skip("the twin does not use Numba threads")
    X, weights, means = make_problem(*row, dtype)
    fn = getattr(K if impl == "fastgmm" else R, f"suffstats_{covariance_type}_parallel")
    args = _stats_args(X, weights, means, covariance_type)
    fn(*args)  # compile
    benchmark.group = f"suffstats {covariance_type} {'x'.join(map(str, row))} {dtype.__name__}"
    ll = benchmark(fn, *args)
    benchmark.extra_info["log_likelihood"] = float(ll)
    assert np.isfinite(ll)


def _fitted(row, covariance_type, dtype, backend="numba"):
    X, weights, means = make_problem(*row, dtype)
    gm = GaussianMixture(
        row[2],
        covariance_type=covariance_type,
        max_iter=1,
        tol=0.0,
        weights_init=weights,
        means_init=means,
        precisions_init=precisions_init(covariance_type, row[2], row[1]),
        backend=backend,
    )
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        gm.fit(X[: min(len(X), 5000)])
    return gm, X


@pytest.mark.parametrize("method", ["predict", "score_samples", "predict_proba"])
@pytest.mark.parametrize("covariance_type", ["full", "diag"])
@pytest.mark.parametrize("row", ROWS, ids=lambda r: "x".join(map(str, r)))
@pytest.mark.parametrize("backend", ["numba", "numpy"])
def test_inference(benchmark, backend, row, covariance_type, method, threads):
    if backend == "numpy" and threads != 2:
        pytest.skip("the twin does not use Numba threads")
    gm, X = _fitted(row, covariance_type, np.float64, backend)
    getattr(gm, method)(X[:64])
    benchmark.group = f"{method} {covariance_type} {'x'.join(map(str, row))}"
    out = benchmark(getattr(gm, method), X)
    assert out.shape[0] == X.shape[0]


@pytest.mark.parametrize("row", ROWS, ids=lambda r: "x".join(map(str, r)))
def test_kmeans_plusplus(benchmark, row):
    from fastgmm._kmeans import kmeans_plusplus_centers

    X, _, _ = make_problem(*row)
    sw = np.empty(0)
    kmeans_plusplus_centers(X[:64], row[2], np.random.RandomState(0), sw)
    benchmark.group = f"kmeans++ {'x'.join(map(str, row))}"
    centers, _ = benchmark(lambda: kmeans_plusplus_centers(X, row[2], np.random.RandomState(0), sw))
    assert centers.shape == (row[2], row[1])


# --------------------------------------------------------------------------- block kernels
# Single-thread microbenchmarks of the blocked building blocks (fastgmm/_kernels/_blocked.py)
# behind three of its choices: two columns per pass in ``_tri_sq``, the gathered
# ("sparse") statistics and SPARSE_FRACTION, and block_rows_for's block length.
BLOCK_FEATURES = [8, 16, 32] if FULL else [3]


@jit(reductions=True)
def _tri_sq_one_column(dT, nb, U, y, sq):
    """The previous ``_tri_sq``: one column of ``U`` per pass (the baseline)."""
    n_features = dT.shape[0]
    for i in range(nb):
        sq[i] = 0.0
    for j in range(n_features):
        for i in range(nb):
            y[i] = U[0, j] * dT[0, i]
        m = 1
        while m + 3 <= j:
            u0, u1, u2, u3 = U[m, j], U[m + 1, j], U[m + 2, j], U[m + 3, j]
            da, db, dc, dd = dT[m], dT[m + 1], dT[m + 2], dT[m + 3]
            for i in range(nb):
                y[i] += (u0 * da[i] + u1 * db[i]) + (u2 * dc[i] + u3 * dd[i])
            m += 4
        while m <= j:
            for i in range(nb):
                y[i] += U[m, j] * dT[m, i]
            m += 1
        for i in range(nb):
            sq[i] += y[i] * y[i]


def _block(n_features, dtype, nb=None):
    nb = nb or B.block_rows_for(n_features)
    rng = np.random.default_rng(0)
    dT = rng.normal(size=(n_features, nb)).astype(dtype)
    U = np.triu(rng.normal(size=(n_features, n_features))).astype(dtype)
    return nb, dT, U


@pytest.mark.parametrize("kernel", ["two_columns", "one_column"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["f64", "f32"])
@pytest.mark.parametrize("n_features", BLOCK_FEATURES)
def test_tri_sq(benchmark, n_features, dtype, kernel):
    nb, dT, U = _block(n_features, dtype)
    y = np.empty((2, nb), dtype)
    sq = np.empty(nb, dtype)
    ref = np.sum((dT.T.astype(np.float64) @ U.astype(np.float64)) ** 2, axis=1)
    with numba_threads(1):
        if kernel == "two_columns":
            benchmark(B._tri_sq, dT, nb, U, y, sq)
        else:
            benchmark(_tri_sq_one_column, dT, nb, U, y[0], sq)
    benchmark.group = f"tri_sq D={n_features} {dtype.__name__} block={nb}"
    benchmark.extra_info["gflops"] = n_features * (n_features + 1) * nb
    np.testing.assert_allclose(sq, ref, rtol=1e-4 if dtype == np.float32 else 1e-10)


@jit(reductions=True)
def _upper_outer_1x4(rdT, dT, nb, sxx):
    """The previous ``_upper_outer``: one row against four columns per pass (the baseline)."""
    n_features = dT.shape[0]
    for a in range(n_features):
        ra = rdT[a]
        b = a
        while b + 4 <= n_features:
            d0, d1, d2, d3 = dT[b], dT[b + 1], dT[b + 2], dT[b + 3]
            t0 = t1 = t2 = t3 = 0.0
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
            t = 0.0
            for i in range(nb):
                t += ra[i] * dT[b, i]
            sxx[a, b] += t
            b += 1


@pytest.mark.parametrize("kernel", ["tiles_4x4", "rows_1x4"])
@pytest.mark.parametrize("n_features", BLOCK_FEATURES + [5])
def test_upper_outer(benchmark, n_features, kernel):
    """The D x D statistics of one 256-row block (float64, one thread)."""
    nb = 256
    rng = np.random.default_rng(3)
    dT, rdT = rng.normal(size=(n_features, nb)), rng.normal(size=(n_features, nb))
    sxx = np.zeros((n_features, n_features))
    fn = S._upper_outer if kernel == "tiles_4x4" else _upper_outer_1x4
    with numba_threads(1):
        fn(rdT, dT, nb, sxx)
        np.testing.assert_allclose(np.triu(sxx), np.triu(rdT @ dT.T), rtol=1e-10, atol=1e-10)
        assert not np.tril(sxx, -1).any()  # upper triangle only
        benchmark(fn, rdT, dT, nb, sxx)
    benchmark.group = f"upper_outer D={n_features}"


@pytest.mark.parametrize("path", ["auto", "dense"])
@pytest.mark.parametrize("nonzero", [1 / 16, 1 / 4, 1 / 2, 3 / 4, 1.0])
@pytest.mark.parametrize("n_features", BLOCK_FEATURES)
def test_sparse_resp(benchmark, n_features, nonzero, path):
    """One component's block statistics with a fraction ``nonzero`` of rows responsible:
    ``auto`` is what the fused pass runs (gathered rows up to SPARSE_FRACTION),
    ``dense`` always uses the whole block."""
    nb = B.block_rows_for(n_features)
    rng = np.random.default_rng(1)
    XT = rng.normal(size=(n_features, nb))
    r = np.where(rng.random(nb) < nonzero, rng.random(nb), 0.0)
    shift = np.zeros(n_features)
    rT, dT, rdT = np.empty(nb), np.empty((n_features, nb)), np.empty((n_features, nb))
    rows = np.empty(nb, np.int64)
    sx, sxx = np.zeros(n_features), np.zeros((n_features, n_features))

    def dense():
        S._centre_weigh(XT, nb, shift, r, rT, dT, rdT, sx)
        S._upper_outer(rdT, dT, nb, sxx)

    gd, gr = np.empty((1, n_features, nb)), np.empty((1, nb))
    fill = np.zeros(1, np.int64)

    def auto():
        _, kept = S._weigh(r[np.newaxis], 0, nb, np.empty(0), 0, 8)
        S._full_stats_into(XT, nb, r, kept, shift, rT, dT, rdT, rows, gd, gr, fill, 0, sx, sxx)
        S.flush_rows_full(gd, gr, fill, nb, rdT, sx[np.newaxis], sxx[np.newaxis])

    fn = auto if path == "auto" else dense
    with numba_threads(1):
        fn()
        sx[:], sxx[:] = 0.0, 0.0
        fn()
        np.testing.assert_allclose(np.triu(sxx), np.triu((XT * r) @ XT.T), rtol=1e-10, atol=1e-12)
        benchmark(fn)
    benchmark.group = f"block stats D={n_features} nonzero={nonzero:g}"


@pytest.mark.parametrize("block", [64, 128, 256, 512, 1024])
@pytest.mark.parametrize("n_features", BLOCK_FEATURES)
def test_block_rows(benchmark, n_features, block):
    """Log-densities plus dense statistics of one component over 4096 rows, in blocks
    of ``block`` rows (one thread): the sweep behind ``block_rows_for``."""
    _, dT, U = _block(n_features, np.float64, nb=block)
    y, sq, rT = np.empty((2, block)), np.empty(block), np.empty(block)
    rdT = np.empty_like(dT)
    r = np.random.default_rng(2).random(block)
    shift = np.zeros(n_features)
    sx, sxx = np.zeros(n_features), np.zeros((n_features, n_features))

    def run():
        for _ in range(4096 // block):
            B._tri_sq(dT, block, U, y, sq)
            S._centre_weigh(dT, block, shift, r, rT, dT, rdT, sx)
            S._upper_outer(rdT, dT, block, sxx)

    with numba_threads(1):
        run()
        benchmark(run)
    benchmark.group = f"block length D={n_features}"
    benchmark.extra_info["default"] = int(B.block_rows_for(n_features))
    assert np.all(np.isfinite(sxx))


#: ``_blocked._exp_reduced`` compiled without ``contract`` (the baseline of
#: ``_jit.FASTMATH_CONTRACT``). Not cached: it shares its source with the cached kernel.
_exp_reduced_without_fma = jit(B._exp_reduced.py_func, cache=False)


@jit(cache=False)
def _exp_without_fma(x, n, bits):
    """``exp_flush`` with the polynomial compiled without fused multiply-adds."""
    for i in range(n):
        v0 = x[i]
        p, ti = _exp_reduced_without_fma(min(max(v0, B.FLUSH_BELOW), 709.0))
        bits[0, i] = (ti + 1023) << 52
        x[i] = p if v0 >= B.FLUSH_BELOW else 0.0
    scale = bits[0].view(np.float64)
    for i in range(n):
        x[i] = x[i] * scale[i]


@pytest.mark.parametrize("kernel", ["exp_flush", "without_fma", "numpy"])
def test_exp(benchmark, kernel):
    """Exponentials of one 1024-value block in [FLUSH_BELOW, 0] (one thread)."""
    nb = 1024
    x0 = np.random.default_rng(4).uniform(B.FLUSH_BELOW, 0.0, nb)
    x, bits = np.empty(nb), np.empty((2, nb), np.int64)

    def run():
        x[:] = x0
        if kernel == "numpy":
            np.exp(x, out=x)
        else:
            (B.exp_flush if kernel == "exp_flush" else _exp_without_fma)(x, nb, bits)

    with numba_threads(1):
        run()
        np.testing.assert_allclose(x, np.exp(x0), rtol=4e-16, atol=0)
        benchmark(run)
    benchmark.group = "exp of 1024 values"


@jit
def _serial_chunks(X, sample_weight, weights, means, precisions_chol, hard, nk, sx, sxx):
    """The work of ``suffstats_full_parallel`` (same chunks) in a plain serial loop."""
    n_samples, n_features = X.shape
    n_components = means.shape[0]
    n_chunks = SS.n_chunks_for(n_samples, n_components * (1 + n_features + n_features**2))
    nk_c, sx_c, sxx_c, ll_c = SS.chunk_buffers(n_chunks, nk, sx, sxx)
    for c in range(n_chunks):
        a, b = c * n_samples // n_chunks, (c + 1) * n_samples // n_chunks
        ll_c[c] = K.suffstats_full(
            X[a:b], sample_weight, weights, means, precisions_chol, hard, nk_c[c], sx_c[c],
            sxx_c[c]
        )  # fmt: skip
    return SS.reduce_chunks(nk_c, sx_c, sxx_c, ll_c, nk, sx, sxx)


@pytest.mark.parametrize("driver", ["parallel", "serial_chunks"])
def test_parallel_driver_overhead(benchmark, driver, threads):
    """The parallel driver against its chunks run serially, N, D, K = 100k, 2, 4.

    At 1 thread the difference is the driver's own overhead (parallel regions,
    buffers, reduction), at 2 threads the scaling.
    """
    if driver == "serial_chunks" and threads != 1:
        pytest.skip("serial")
    X, weights, means = make_problem(100_000, 2, 4)
    args = _stats_args(X, weights, means, "full")
    fn = K.suffstats_full_parallel if driver == "parallel" else _serial_chunks
    ll = fn(*args)
    ref = _serial_chunks(*args)
    assert ll == pytest.approx(ref, rel=1e-13)
    benchmark.group = "suffstats full driver 100000x2x4"
    benchmark(fn, *args)
