"""Time one fused E+M statistics pass (the parallel driver) per row, for one checkout.

Usage (from the repository root)::

    git worktree add /tmp/base <rev>
    python benchmarks/fused_pass.py /tmp/base 1        # checkout, threads
    python benchmarks/fused_pass.py . 1
    COV=spherical SPREADS=4,1 python benchmarks/fused_pass.py . 2 float32

Run the two checkouts alternately, each with its own ``NUMBA_CACHE_DIR`` (a
cached caller keeps the callee code it was compiled with). The parameters are
those after two EM iterations from the benchmarks' start (what a fit sees);
prints the minimum over ``REP`` calls (ms) and the pass's log-likelihood, which
must agree between checkouts. Environment: ``COV`` (diag, full, spherical,
tied), ``ROWS`` (e.g. ``1000000x8x16,100000x2x4``), ``SPREADS`` (4 separated,
1 overlapping), ``REP``.
"""

import os
import sys
import time

ROOT = sys.argv[1] if len(sys.argv) > 1 else "."
THREADS = int(sys.argv[2]) if len(sys.argv) > 2 else 1
DTYPE = sys.argv[3] if len(sys.argv) > 3 else "float64"
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import numba  # noqa: E402
import numpy as np  # noqa: E402
from _problems import fastgmm_from_start, make_problem  # noqa: E402

from fastgmm import _kernels as K  # noqa: E402
from fastgmm._covariance import sxx_shape  # noqa: E402


def main() -> None:
    cov = os.environ.get("COV", "diag")
    rows = os.environ.get("ROWS", "1000000x8x16,1000000x16x8,200000x32x16,100000x2x4")
    spreads = [float(s) for s in os.environ.get("SPREADS", "4").split(",")]
    rep = int(os.environ.get("REP", "7"))
    numba.set_num_threads(THREADS)
    cells = []
    for spread in spreads:
        for row in rows.split(","):
            n, d, k = map(int, row.split("x"))
            X, w, m = make_problem(n, d, k, np.dtype(DTYPE), spread=spread)
            gm = fastgmm_from_start(X, w, m, cov, max_iter=2)
            pc = np.ascontiguousarray(gm.precisions_cholesky_)
            kernel = getattr(K, f"suffstats_{cov}_parallel")
            nk, sx, sxx = np.zeros(k), np.zeros((k, d)), np.zeros(sxx_shape(cov, k, d))
            args = (X, np.empty(0), gm.weights_, gm.means_, pc, False, nk, sx, sxx)
            kernel(*args)
            times = []
            for _ in range(rep):
                t0 = time.perf_counter()
                ll = kernel(*args)
                times.append(time.perf_counter() - t0)
            cells.append(f"{spread:g} {row} {min(times) * 1e3:.2f} ll={ll!r}")
    print(ROOT, THREADS, DTYPE, cov, " | ".join(cells))


if __name__ == "__main__":
    main()
