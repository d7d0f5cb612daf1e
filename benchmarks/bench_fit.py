"""Time per EM iteration: fastgmm vs its NumPy twin vs scikit-learn (and daal4py).

Each benchmark runs 3 EM iterations from the shared start of ``_problems.py``
and records ``lower_bound_`` and ``n_iter_`` in ``benchmark.extra_info`` so a
speed-up that changes the answer is visible. ``benchmarks/report.py`` prints
the per-iteration ratio table.
"""

from __future__ import annotations

import numpy as np
import pytest
from _problems import FULL, ROWS, available, fit_once, make_problem

COV_TYPES = ["full", "tied", "diag", "spherical"]
IMPLS = ["fastgmm", "reference", "sklearn", "daal4py"]


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["f64", "f32"])
@pytest.mark.parametrize("covariance_type", COV_TYPES)
@pytest.mark.parametrize("row", ROWS, ids=lambda r: "x".join(map(str, r)))
@pytest.mark.parametrize("impl", IMPLS)
def test_fit_em_iterations(benchmark, impl, row, covariance_type, dtype, threads):
    if not available(impl, covariance_type):
        pytest.skip(f"{impl} unavailable for {covariance_type}")
    if impl != "fastgmm" and threads != 2:
        pytest.skip("only fastgmm uses Numba threads")
    if FULL and impl in ("reference", "sklearn") and covariance_type in ("tied", "spherical"):
        pytest.skip("full grid: slow baselines only for full and diag")
    n, d, k = row
    X, weights, means = make_problem(n, d, k, dtype)
    fit_once(impl, X[:64], weights, means, covariance_type, 1)  # compile outside the timer
    benchmark.group = f"fit {covariance_type} {n}x{d}x{k} {np.dtype(dtype).name}"
    benchmark.extra_info["threads"] = threads
    lower_bound, n_iter = benchmark(fit_once, impl, X, weights, means, covariance_type, 3)
    benchmark.extra_info["lower_bound_"] = lower_bound
    benchmark.extra_info["n_iter_"] = n_iter
    assert n_iter == 3
    assert np.isfinite(lower_bound)
