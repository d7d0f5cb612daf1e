"""Kernels and inference: fused statistics, predict, score_samples, k-means++ seeding.

Also the compile-time benchmark (first call of a freshly compiled kernel) and
the block-length sweep behind ``_blocked.block_rows_for``.
"""

from __future__ import annotations

import numpy as np
import pytest
from _problems import ROWS, make_problem, precisions_init

from fastgmm import GaussianMixture
from fastgmm import _kernels as K
from fastgmm import _reference as R
from fastgmm._covariance import sxx_shape

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
