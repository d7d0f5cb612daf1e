"""fit_many vs Python loops of GaussianMixture: 10,000 groups x 200 points, D=2, K=3.

Run as a script for the numbers quoted in docs/readme/numba-api.md::

    python benchmarks/bench_fit_many.py                 # full problem
    python benchmarks/bench_fit_many.py --groups 2000   # quicker

``fit_many`` runs on all groups. The two Python loops (scikit-learn and
fastgmm.GaussianMixture, same init="k-means++", max_iter, tol, reg_covar) are
timed on a subset of ``--loop-groups`` groups and **extrapolated linearly** to
all groups (each fit is independent, so the loop cost is linear in the number
of groups). The script also checks that fit_many agrees with the fastgmm loop
on the subset (same seeds -> same fits), so a speed-up that changed the answer
would show.

Under pytest (``--benchmark-disable`` in addopts) the ``test_*`` functions run as
small smoke tests.
"""

from __future__ import annotations

import argparse
import os
import time
import warnings

import numpy as np

from fastgmm import ConvergenceWarning, GaussianMixture, fit_many

K, D, N = 3, 2, 200
MAX_ITER, TOL, REG = 100, 1e-3, 1e-6


def make_groups(n_groups: int, n: int = N, seed: int = 0) -> np.ndarray:
    """``(n_groups, n, D)``: three Gaussian blobs per group at random centres."""
    rng = np.random.default_rng(seed)
    centers = rng.normal(0.0, 4.0, (n_groups, K, D))
    labels = rng.integers(0, K, (n_groups, n))
    X = np.take_along_axis(centers, labels[:, :, None], axis=1)
    return X + rng.normal(0.0, 1.0, (n_groups, n, D))


def run_fit_many(X: np.ndarray, seeds: np.ndarray):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return fit_many(
            X, None, K, covariance_type="full", max_iter=MAX_ITER, tol=TOL, reg_covar=REG,
            seeds=seeds,
        )  # fmt: skip


def run_loop(cls, X: np.ndarray, seeds: np.ndarray) -> list:
    out = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # sklearn/fastgmm ConvergenceWarning
        for g in range(X.shape[0]):
            gm = cls(
                K, covariance_type="full", max_iter=MAX_ITER, tol=TOL, reg_covar=REG,
                init_params="k-means++", random_state=int(seeds[g]),
            )  # fmt: skip
            out.append(gm.fit(X[g]))
    return out


def _best_of(fn, repeat: int) -> float:
    return _best_of_wall_cpu(fn, repeat)[0]


def _best_of_wall_cpu(fn, repeat: int) -> tuple[float, float]:
    """Best wall-clock time and the process CPU time (all threads) of that run."""
    best, cpu = np.inf, np.inf
    for _ in range(repeat):
        t, c = time.perf_counter(), time.process_time()
        fn()
        wall = time.perf_counter() - t
        if wall < best:
            best, cpu = wall, time.process_time() - c
    return best, cpu


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--groups", type=int, default=10_000)
    p.add_argument("--loop-groups", type=int, default=200)
    p.add_argument("--repeat", type=int, default=3)
    args = p.parse_args(argv)
    import numba
    from sklearn.mixture import GaussianMixture as SkGaussianMixture

    X = make_groups(args.groups)
    seeds = np.arange(args.groups, dtype=np.int64)
    sub = slice(0, args.loop_groups)

    t0 = time.perf_counter()
    run_fit_many(X[:2], seeds[:2])  # compile (or load from the on-disk cache)
    t_compile = time.perf_counter() - t0
    t_many, cpu_many = _best_of_wall_cpu(lambda: run_fit_many(X, seeds), args.repeat)
    threads = numba.get_num_threads()
    try:  # the same on one thread: CPU cost per group without contention from our own threads
        numba.set_num_threads(1)
        t_one = _best_of(lambda: run_fit_many(X, seeds), args.repeat)
    finally:
        numba.set_num_threads(threads)
    res = run_fit_many(X, seeds)

    run_loop(GaussianMixture, X[:2], seeds[:2])  # warm up the estimator's kernels
    t_fast = _best_of(lambda: run_loop(GaussianMixture, X[sub], seeds[sub]), 1)
    t_sk = _best_of(lambda: run_loop(SkGaussianMixture, X[sub], seeds[sub]), 1)
    scale = args.groups / args.loop_groups

    fast = run_loop(GaussianMixture, X[sub], seeds[sub])
    max_diff = max(float(np.abs(gm.means_ - res.means[g]).max()) for g, gm in enumerate(fast))
    same_iter = all(gm.n_iter_ == res.n_iter[g] for g, gm in enumerate(fast))

    print(f"groups={args.groups} x {N} points, D={D}, K={K}, full, max_iter={MAX_ITER}, tol={TOL}")
    print(f"threads={numba.get_num_threads()} (numba {numba.__version__})")
    print(f"first call (compile or cache load): {t_compile:.2f} s")
    print(f"mean n_iter={res.n_iter.mean():.2f}, converged={res.converged.mean():.4f}")
    print(
        f"fit_many, all groups:        {t_many:9.3f} s  ({1e6 * t_many / args.groups:.1f} us/group)"
        f"; CPU {cpu_many:.3f} s over {threads} threads"
    )
    print(f"fit_many on 1 thread:        {t_one:9.3f} s  ({1e6 * t_one / args.groups:.1f} us/g)")
    print(f"load average at the end: {', '.join(f'{v:.2f}' for v in os.getloadavg())}")
    for name, t in (("fastgmm.GaussianMixture", t_fast), ("sklearn GaussianMixture", t_sk)):
        print(
            f"{name} loop: {t:8.3f} s on {args.loop_groups} groups -> {t * scale:9.2f} s "
            f"extrapolated to {args.groups} ({t * scale / t_many:7.1f}x fit_many)"
        )
    print(f"fit_many vs fastgmm loop on the subset: max |means diff| = {max_diff:.2e}, "
          f"same n_iter: {same_iter}")  # fmt: skip


# --------------------------------------------------------------------------- pytest-benchmark
def test_fit_many_benchmark(benchmark):
    X = make_groups(50, n=60)
    seeds = np.arange(50)
    run_fit_many(X, seeds)
    benchmark.group = "fit_many 50x60"
    res = benchmark(run_fit_many, X, seeds)
    assert res.means.shape == (50, K, D) and np.isfinite(res.lower_bound).all()


def test_fastgmm_loop_benchmark(benchmark):
    X = make_groups(5, n=60)
    seeds = np.arange(5)
    benchmark.group = "fit_many 50x60"
    out = benchmark(run_loop, GaussianMixture, X, seeds)
    res = run_fit_many(X, seeds)
    np.testing.assert_allclose(np.stack([gm.means_ for gm in out]), res.means, rtol=1e-10)


if __name__ == "__main__":
    main()
