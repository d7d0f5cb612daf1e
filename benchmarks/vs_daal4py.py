"""fastgmm (2 Numba threads) against daal4py on chosen rows, alternating, several rounds.

Usage (from the repository root)::

    python benchmarks/vs_daal4py.py                       # 100k x 2 x 4, full, f64 and f32
    python benchmarks/vs_daal4py.py 1000000x16x8 --covs full,diag --rounds 2

Each figure is ``_problems.time_per_iteration`` with 10 extra iterations and the
best of 5 repeats; fastgmm and daal4py alternate within a round, so a noisy
window hits both. Needs daal4py.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from _problems import import_daal4py, make_problem, numba_threads, time_per_iteration  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("rows", nargs="*", default=["100000x2x4"])
    parser.add_argument("--covs", default="full")
    parser.add_argument("--dtypes", default="float64,float32")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    if import_daal4py() is None:
        sys.exit("daal4py is not installed")
    for _ in range(args.rounds):
        cells = []
        for row in args.rows:
            n, d, k = map(int, row.split("x"))
            for dtype in args.dtypes.split(","):
                X, w, m = make_problem(n, d, k, np.dtype(dtype))
                for cov in args.covs.split(","):
                    with numba_threads(2):
                        fg = time_per_iteration("fastgmm", X, w, m, cov, m=10, repeats=5)
                    dl = time_per_iteration("daal4py", X, w, m, cov, m=10, repeats=5)
                    cells.append(
                        f"{row} {cov} {dtype}: fastgmm {fg:.3f} ms, daal4py {dl:.3f} ms"
                        f" (daal4py / fastgmm {dl / fg:.2f}x)"
                    )
        print(" | ".join(cells), flush=True)


if __name__ == "__main__":
    main()
