"""k-means initialisation timings: fastgmm's k-means++ (serial and parallel), one Lloyd
step, fastgmm.KMeans vs scikit-learn's ``kmeans_plusplus`` and ``KMeans(n_init=1)``.

Usage (from the repository root)::

    python benchmarks/kmeans_init.py            # N, D, K = 1,000,000, 8, 16
    python benchmarks/kmeans_init.py 200000 32 16

Prints the minimum of several repeats (milliseconds) and checks that the serial
and the parallel k-means++ kernels chose the same rows.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numba
import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

from _problems import make_problem, numba_threads  # noqa: E402

import fastgmm  # noqa: E402
from fastgmm import _kernels as K  # noqa: E402


def best_ms(fn, repeats=3):
    """Minimum wall time of ``repeats`` calls (ms) and the last result."""
    times = []
    out = None
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return min(times) * 1e3, out


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    n, d, k = (int(v) for v in argv) if argv else (1_000_000, 8, 16)
    X, _, _ = make_problem(n, d, k)
    rng = np.random.default_rng(0)
    trial_u = rng.random((k - 1, 2 + int(np.log(k))))
    sw = np.empty(0)

    def seed(kernel):
        centers, idx = np.empty((k, d)), np.empty(k, np.int64)
        kernel(X, sw, 0.3, trial_u, centers, idx)
        return idx

    seed(K.kmeans_plusplus)
    seed(K.kmeans_plusplus_parallel)
    print(f"N, D, K = {n:,}, {d}, {k}; Numba threads available: {numba.config.NUMBA_NUM_THREADS}")
    for th in (1, 2):
        with numba_threads(th):
            t_s, i_s = best_ms(lambda: seed(K.kmeans_plusplus))
            t_p, i_p = best_ms(lambda: seed(K.kmeans_plusplus_parallel))
        same = np.array_equal(i_s, i_p)
        print(
            f"- k-means++ {th} thread(s): serial {t_s:.0f} ms, parallel {t_p:.0f} ms, "
            f"same rows {same}"
        )
    labels, sums, counts = np.empty(n, np.int64), np.empty((k, d)), np.empty(k)
    centers = X[i_p].astype(np.float64)
    K.kmeans_assign_parallel(X, sw, centers, labels, sums, counts)
    with numba_threads(2):
        t, _ = best_ms(lambda: K.kmeans_assign_parallel(X, sw, centers, labels, sums, counts), 5)
        print(f"- one Lloyd step (kmeans_assign_parallel), 2 threads: {t:.1f} ms")
        km = fastgmm.KMeans(k, random_state=0)
        km.fit(X[:10_000])
        t, _ = best_ms(lambda: km.fit(X), 2)
        print(f"- fastgmm.KMeans(n_init=1).fit: {t:.0f} ms ({km.n_iter_} Lloyd iterations)")
    try:
        from sklearn.cluster import KMeans, kmeans_plusplus
        from threadpoolctl import threadpool_limits
    except ImportError:
        return
    with threadpool_limits(2):
        t, _ = best_ms(lambda: kmeans_plusplus(X, k, random_state=0))
        print(f"- scikit-learn kmeans_plusplus: {t:.0f} ms")
        skm = KMeans(k, n_init=1, random_state=0)
        t, _ = best_ms(lambda: skm.fit(X), 2)
        print(f"- scikit-learn KMeans(n_init=1).fit: {t:.0f} ms ({skm.n_iter_} Lloyd iterations)")


if __name__ == "__main__":
    main()
