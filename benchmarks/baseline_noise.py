"""How much a baseline's per-iteration time moves with the way it is measured.

Usage (from the repository root)::

    python benchmarks/baseline_noise.py sklearn 200000x32x16 diag
    python benchmarks/baseline_noise.py daal4py 100000x2x4 full 6

``benchmarks/report.py`` times an EM iteration as ``(t(1 + m) - t(1)) / m`` with
the minimum of ``repeats`` fits for each term (``_problems.time_per_iteration``).
With ``m = 1`` and one repeat (``--baseline-iters 1 --baseline-repeats 1``, which
keeps the same-run table short) a slow ``t(1)`` or a fast ``t(2)`` moves the
difference by a whole iteration. This prints that estimate ``runs`` times (default
6) with ``m, repeats = 1, 1`` and with ``3, 3``, separated data.
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import numpy as np  # noqa: E402
from _problems import make_problem, time_per_iteration  # noqa: E402


def main() -> None:
    impl = sys.argv[1] if len(sys.argv) > 1 else "sklearn"
    row = sys.argv[2] if len(sys.argv) > 2 else "200000x32x16"
    cov = sys.argv[3] if len(sys.argv) > 3 else "diag"
    runs = int(sys.argv[4]) if len(sys.argv) > 4 else 6
    n, d, k = map(int, row.split("x"))
    X, w, m = make_problem(n, d, k, np.float64)
    for iters, repeats in ((1, 1), (3, 3)):
        v = [time_per_iteration(impl, X, w, m, cov, m=iters, repeats=repeats) for _ in range(runs)]
        print(
            f"{impl} {cov} {row}, m={iters} repeats={repeats}: "
            + " ".join(f"{x:.1f}" for x in v)
            + f" ms; min {min(v):.1f}, median {np.median(v):.1f}, max {max(v):.1f}"
        )


if __name__ == "__main__":
    main()
