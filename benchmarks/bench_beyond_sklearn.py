"""Issue 8 features: GMR regression kernel vs its NumPy twin, model-selection grid, EM variants.

Run with timings: python -m pytest benchmarks/bench_beyond_sklearn.py --benchmark-enable -q
"""

import warnings

import numpy as np
import pytest

import fastgmm
from fastgmm import ConvergenceWarning, GaussianMixture


@pytest.fixture(scope="module")
def xy():
    rng = np.random.default_rng(0)
    x = rng.uniform(-3, 3, (20_000, 3))
    y = np.column_stack([np.sin(x.sum(axis=1)), np.cos(x[:, 0])]) + 0.1 * rng.normal(
        size=(20_000, 2)
    )
    return np.column_stack([x, y])


@pytest.mark.parametrize("backend", ["numba", "numpy"])
@pytest.mark.parametrize("cov", ["full", "diag"])
def test_regress(benchmark, xy, backend, cov):
    benchmark.group = f"regress 100k queries, K=16, {cov}, 3 -> 2 features"
    gm = GaussianMixture(16, covariance_type=cov, random_state=0, backend=backend, max_iter=20)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        gm.fit(xy)
    queries = np.random.default_rng(1).uniform(-3, 3, (100_000, 3))
    gm.regress([0, 1, 2], queries[:10])  # compile
    out = benchmark(gm.regress, [0, 1, 2], queries)
    assert out.shape == (100_000, 2)


def test_select_grid(benchmark, xy):
    benchmark.group = "select: k=1..8 x 4 covariance types on 20000 x 5"
    fastgmm.select(xy[:500], range(1, 3), "all", random_state=0)  # compile
    table, best = benchmark.pedantic(
        fastgmm.select,
        args=(xy, range(1, 9), "all"),
        kwargs={"random_state": 0, "max_iter": 50},
        rounds=1,
        iterations=1,
    )
    assert len(table) == 32 and best is not None


@pytest.mark.parametrize(
    "variant",
    [
        {"assignment": "soft", "stopping": "lower_bound"},
        {"assignment": "soft", "stopping": "resp_change"},
        {"assignment": "hard", "stopping": "lower_bound"},
        {"assignment": "hard", "stopping": "resp_change"},
    ],
    ids=["soft-lb", "soft-resp", "hard-lb", "hard-resp"],
)
def test_em_variant_iteration(benchmark, xy, variant):
    benchmark.group = "20 EM iterations, K=8 full, 20000 x 5 (tol/resp_tol 0: no early stop)"
    gm = GaussianMixture(8, max_iter=20, tol=0.0, resp_tol=0.0, random_state=0, **variant)

    def run():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            return gm.fit(xy)

    run()
    benchmark(run)
