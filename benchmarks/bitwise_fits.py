"""Lower bounds and parameter hashes of 80 short fits, to diff two checkouts bit for bit.

Usage (from the repository root)::

    git worktree add /tmp/base <rev>
    NUMBA_CACHE_DIR=/tmp/nc_base python benchmarks/bitwise_fits.py /tmp/base > base.txt
    NUMBA_CACHE_DIR=/tmp/nc_head python benchmarks/bitwise_fits.py . > head.txt
    diff base.txt head.txt

Each line: spread, row, dtype, covariance type, variant (soft, hard EM, sample
weights), ``lower_bound_`` after 4 iterations from the benchmarks' start, and a
hash of the fitted weights, means and covariances. Compare runs that both load
their kernels from a warm cache (run each command twice and keep the second):
a process that compiles the kernels can differ from one that loads them in the
last bits (docs/readme/performance.md, "Numba options"). ``ROWS`` picks rows.
"""

import hashlib
import os
import sys

ROOT = sys.argv[1] if len(sys.argv) > 1 else "."
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import numpy as np  # noqa: E402
from _problems import fastgmm_from_start, make_problem  # noqa: E402


def main() -> None:
    rows = os.environ.get("ROWS", "1000000x8x16,1000000x16x8,200000x32x16,100000x2x4")
    for spread in (4.0, 1.0):
        for row in rows.split(","):
            n, d, k = map(int, row.split("x"))
            for dtype in (np.float64, np.float32):
                X, w, m = make_problem(n, d, k, dtype, spread=spread)
                for cov in ("diag", "full", "spherical"):
                    for variant in ("soft", "hard", "weighted"):
                        if variant != "soft" and (dtype is np.float32 or cov == "spherical"):
                            continue
                        sw = None
                        if variant == "weighted":
                            sw = np.random.default_rng(1).uniform(0.5, 1.5, n)
                        assignment = "hard" if variant == "hard" else "soft"
                        gm = fastgmm_from_start(
                            X, w, m, cov, 4, sample_weight=sw, assignment=assignment
                        )
                        params = np.concatenate(
                            [gm.means_.ravel(), np.ravel(gm.covariances_), gm.weights_]
                        )
                        digest = hashlib.sha1(params.tobytes()).hexdigest()[:12]
                        print(
                            f"{spread:g} {row} {np.dtype(dtype).name} {cov} {variant} "
                            f"{gm.lower_bound_!r} {digest}",
                            flush=True,
                        )


if __name__ == "__main__":
    main()
