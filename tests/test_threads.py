"""Fits and kernels give the same answer with 1 and 2 Numba threads (shared/STYLE.md 3, 6).

The parallel drivers split rows into chunks whose number depends only on
``n_samples`` and reduce the chunk buffers in chunk order, so the results are
expected to be bitwise identical; the tests allow nothing looser than 1e-12.
"""

from __future__ import annotations

import numba
import numpy as np
import pytest

from fastgmm import GaussianMixture
from fastgmm import _kernels as K
from fastgmm import _reference as R
from fastgmm._covariance import sxx_shape

COV_TYPES = ["full", "tied", "diag", "spherical"]
DTYPES = [np.float64, np.float32]


def _with_threads(n_threads, fn):
    old = numba.get_num_threads()
    numba.set_num_threads(min(n_threads, numba.config.NUMBA_NUM_THREADS))
    try:
        return fn()
    finally:
        numba.set_num_threads(old)


def _blobs(rng, n, d, k, dtype):
    centers = rng.normal(scale=3.0, size=(k, d))
    X = centers[rng.integers(k, size=n)] + rng.normal(size=(n, d))
    return np.ascontiguousarray(X, dtype=dtype)


@pytest.fixture
def rng():
    return np.random.default_rng(20240603)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("covariance_type", COV_TYPES)
def test_fit_same_with_one_and_two_threads(rng, covariance_type, dtype):
    # 9000 rows: 5 chunks of the parallel drivers, several blocks per chunk.
    X = _blobs(rng, 9000, 3, 3, dtype)

    def fit():
        return GaussianMixture(
            3, covariance_type=covariance_type, random_state=0, max_iter=300, tol=1e-7
        ).fit(X)

    one = _with_threads(1, fit)
    two = _with_threads(2, fit)
    assert one.n_iter_ == two.n_iter_
    for name in ("weights_", "means_", "covariances_", "precisions_cholesky_"):
        np.testing.assert_allclose(getattr(one, name), getattr(two, name), rtol=1e-12, atol=0)
    assert abs(one.lower_bound_ - two.lower_bound_) <= 1e-12 * abs(one.lower_bound_)
    np.testing.assert_array_equal(
        _with_threads(1, lambda: one.predict(X)), _with_threads(2, lambda: one.predict(X))
    )


@pytest.mark.parametrize("d", [2, 4])  # 2: the one-pass statistics of up to 3 features
@pytest.mark.parametrize("hard", [False, True])
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("covariance_type", COV_TYPES)
def test_suffstats_bitwise_thread_invariant_and_match_twin(rng, covariance_type, dtype, hard, d):
    n, k = 7000, 3
    X = _blobs(rng, n, d, k, dtype)
    sw = rng.random(n)
    sw[::5] = 0.0
    weights = np.array([0.5, 0.3, 0.2])
    means = rng.normal(scale=3.0, size=(k, d))
    prec = {
        "full": np.repeat(np.eye(d)[np.newaxis], k, axis=0) * 0.8,
        "tied": np.eye(d) * 0.8,
        "diag": np.full((k, d), 0.8),
        "spherical": np.full(k, 0.8),
    }[covariance_type]
    kernel = getattr(K, f"suffstats_{covariance_type}_parallel")
    twin = getattr(R, f"suffstats_{covariance_type}_parallel")

    def run(fn):
        nk = np.zeros(k)
        sx = np.zeros((k, d))
        sxx = np.zeros(sxx_shape(covariance_type, k, d))
        ll = fn(X, sw, weights, means, prec, hard, nk, sx, sxx)
        if covariance_type in ("full", "tied"):
            sxx = np.triu(sxx)
        return ll, nk, sx, sxx

    one = _with_threads(1, lambda: run(kernel))
    two = _with_threads(2, lambda: run(kernel))
    ref = run(twin)
    # float32 blocks compute in float32 (sums across blocks in float64): measured
    # <= 1e-7 relative to the largest entry here, so 1e-6 is a tight bound.
    tol = 1e-10 if dtype is np.float64 else 1e-6
    for a, b, r in zip(one, two, ref, strict=True):
        np.testing.assert_array_equal(a, b)  # bitwise: fixed chunks, ordered reduction
        np.testing.assert_allclose(a, r, rtol=tol, atol=tol * np.max(np.abs(r)))


@pytest.mark.parametrize("covariance_type", COV_TYPES)
def test_float32_suffstats_close_to_float64_arithmetic(rng, covariance_type):
    """float32 blocks vs the float64 kernel on the same (exactly upcast) data.

    Data offset by 50: differences to the float64 means are formed as
    ``(x - hi) - lo`` (split_mean), so the float32 rounding of the means (~2e-6
    here) does not enter.
    """
    n, d, k = 20000, 5, 3
    X32 = _blobs(rng, n, d, k, np.float32) + np.float32(50.0)
    X64 = X32.astype(np.float64)
    weights = np.array([0.5, 0.3, 0.2])
    means = 50.0 + rng.normal(scale=3.0, size=(k, d))
    prec = {
        "full": np.repeat(np.eye(d)[np.newaxis], k, axis=0) * 0.8,
        "tied": np.eye(d) * 0.8,
        "diag": np.full((k, d), 0.8),
        "spherical": np.full(k, 0.8),
    }[covariance_type]
    kernel = getattr(K, f"suffstats_{covariance_type}_parallel")
    res = []
    for X in (X32, X64):
        nk, sx = np.zeros(k), np.zeros((k, d))
        sxx = np.zeros(sxx_shape(covariance_type, k, d))
        ll = kernel(X, np.empty(0), weights, means, prec, False, nk, sx, sxx)
        if covariance_type in ("full", "tied"):
            sxx = np.triu(sxx)
        res.append((np.array([ll]), nk, sx, sxx))
    for a, b in zip(*res, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-6 * np.max(np.abs(b)))


@pytest.mark.parametrize("weighted", [False, True])
def test_kmeans_plusplus_parallel_thread_invariant(rng, weighted):
    n, d, k = 9000, 3, 6
    X = _blobs(rng, n, d, k, np.float64)
    sw = rng.random(n) if weighted else np.empty(0)
    trial_u = rng.random((k - 1, 3))

    def run():
        centers, idx = np.empty((k, d)), np.empty(k, np.int64)
        K.kmeans_plusplus_parallel(X, sw, 0.3, trial_u, centers, idx)
        return idx

    np.testing.assert_array_equal(_with_threads(1, run), _with_threads(2, run))


def test_exp_flush_is_exp_inplace_above_the_flush_and_zero_below():
    """The one-factor scaling of exp_flush gives the same bits as exp_inplace's two."""
    from fastgmm._kernels._blocked import FLUSH_BELOW, exp_flush, exp_inplace

    x = np.concatenate(
        [
            -np.linspace(0.0, -FLUSH_BELOW + 5.0, 20001),
            [-np.inf, FLUSH_BELOW, np.nextafter(FLUSH_BELOW, -1.0), -1e-300, 0.0, 3.5, 700.0],
        ]
    )
    exact, flushed = x.copy(), x.copy()
    bits = np.empty((2, x.shape[0]), dtype=np.int64)
    exp_inplace(exact, x.shape[0], bits)
    exp_flush(flushed, x.shape[0], bits)
    keep = x >= FLUSH_BELOW
    np.testing.assert_array_equal(flushed[keep], exact[keep])
    assert np.all(flushed[~keep] == 0.0)
    assert keep.sum() > 15000 and (~keep).sum() > 2000


def test_exp_flush32_within_a_float32_eps_of_exp_and_zero_below_the_flush():
    """float32 rows take float32 exponentials (Cephes expf): within one float32 eps,
    and 0 below e^-20 (float64 rows: e^-40)."""
    from fastgmm._kernels._blocked import FLUSH_BELOW, FLUSH_BELOW_32, exp_flush

    x = np.concatenate(
        [
            -np.linspace(0.0, -FLUSH_BELOW + 5.0, 200001),
            [-np.inf, FLUSH_BELOW_32, np.nextafter(FLUSH_BELOW_32, np.float32(-1.0))],
            [-1e-30, 0.0, 3.5, 88.0],
        ]
    ).astype(np.float32)
    out = x.copy()
    exp_flush(out, x.shape[0], np.empty((2, x.shape[0]), dtype=np.int64))
    keep = x >= FLUSH_BELOW_32  # e^-20: float32 rows flush 20 nats below the top
    assert FLUSH_BELOW_32 == np.float32(-20.0)
    ref = np.exp(x[keep].astype(np.float64))
    np.testing.assert_allclose(out[keep], ref, rtol=np.finfo(np.float32).eps, atol=0)
    assert out[x == 0.0][0] == 1.0
    assert np.all(out[~keep] == 0.0) and (~keep).sum() > 100000


def test_exp_inplace_matches_numpy_over_whole_range():
    from fastgmm._kernels._blocked import exp_inplace

    x = np.concatenate(
        [
            -np.linspace(0.0, 760.0, 20001),
            [-np.inf, -745.13, -745.14, -708.4, -708.39, -1e-300, 0.0, -0.5 * np.log(2.0)],
        ]
    )
    out = x.copy()
    exp_inplace(out, out.shape[0], np.empty((2, out.shape[0]), dtype=np.int64))
    ref = np.exp(x)
    normal = ref >= np.finfo(np.float64).tiny
    np.testing.assert_allclose(out[normal], ref[normal], rtol=4e-16, atol=0)
    # Subnormal results: within one unit of the last place of the subnormal grid.
    assert np.max(np.abs(out[~normal] - ref[~normal])) <= 5e-324
    assert out[x == -np.inf][0] == 0.0
