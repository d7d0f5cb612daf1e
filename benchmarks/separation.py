"""Per-iteration time of full-covariance EM on separated and on overlapping clusters.

Compares two fastgmm checkouts back to back (the fused fit skips work only where
responsibilities are exactly zero, so the gain depends on how far apart the
clusters are; see docs/readme/performance.md). Usage::

    git worktree add /tmp/before 4f6281b
    python benchmarks/separation.py /tmp/before
    python benchmarks/separation.py .

Prints ms per EM iteration (2 threads, float64, same initial parameters:
``(t(4 iterations) - t(1)) / 3``, minimum of 3) and the lower bound after 4
iterations, which must agree between checkouts.
"""

import sys
import time
import warnings

ROOT = sys.argv[1] if len(sys.argv) > 1 else "."
sys.path.insert(0, ROOT)

import numpy as np  # noqa: E402

from fastgmm import GaussianMixture  # noqa: E402

ROWS = [(1_000_000, 8, 16), (1_000_000, 16, 8), (200_000, 32, 16), (100_000, 2, 4)]


def problem(n, d, k, spread):
    """Unit-variance blobs around centres of scale ``spread``, and the shared start."""
    rng = np.random.default_rng(0)
    centers = rng.normal(scale=spread, size=(k, d))
    X = np.ascontiguousarray(centers[rng.integers(k, size=n)] + rng.normal(size=(n, d)))
    return X, np.full(k, 1.0 / k), centers + 0.3 * rng.normal(size=centers.shape)


def fit(X, weights, means, max_iter):
    k, d = means.shape
    gm = GaussianMixture(
        k,
        max_iter=max_iter,
        tol=0.0,
        weights_init=weights,
        means_init=means,
        precisions_init=np.repeat(np.eye(d)[np.newaxis], k, axis=0),
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        gm.fit(X)
    return gm.lower_bound_


def best_time(X, weights, means, max_iter, repeats=3):
    """Minimum wall time of ``repeats`` fits, and the lower bound reached."""
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        lb = fit(X, weights, means, max_iter)
        times.append(time.perf_counter() - t)
    return min(times), lb


def main():
    for spread in (4.0, 1.0):
        for n, d, k in ROWS:
            X, w, m = problem(n, d, k, spread)
            fit(X[:1000], w, m, 2)  # compile / load the cache

            t1, _ = best_time(X, w, m, 1)
            t4, lb = best_time(X, w, m, 4)
            print(
                f"{ROOT} spread={spread} {n}x{d}x{k}: {(t4 - t1) / 3 * 1e3:7.1f} ms/iter"
                f"  lower_bound {lb:.10f}",
                flush=True,
            )


if __name__ == "__main__":
    main()
