"""Print the side-by-side table of the performance issue (markdown).

Milliseconds per EM iteration for fastgmm (1 and 2 Numba threads), its NumPy
twin, scikit-learn and daal4py (when importable), ratios, GFLOP/s against the
3 N K D^2 floor, float32 vs float64, peak RSS during a fit, ``import fastgmm``
time and the first fit in a fresh process with a cold and a warm cache.

Usage (from the repository root)::

    python benchmarks/report.py                 # the issue's four rows, full + diag
    python benchmarks/report.py --quick         # small rows, for a smoke run
    python benchmarks/report.py --only-fastgmm  # skip the slow baselines
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

from _problems import (  # noqa: E402
    ROWS_FULL,
    available,
    fit_once,
    flop_floor,
    make_problem,
    numba_threads,
    time_per_iteration,
)

RSS_SCRIPT = r"""
import sys, json, warnings
sys.path.insert(0, sys.argv[1]); sys.path.insert(0, sys.argv[2])
from _problems import make_problem, precisions_init
impl, n, d, k, cov = sys.argv[3], int(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6]), sys.argv[7]
X, w, m = make_problem(n, d, k)
def status(key):
    for line in open("/proc/self/status"):
        if line.startswith(key):
            return int(line.split()[1]) * 1024
if impl == "sklearn":
    from sklearn.mixture import GaussianMixture
    kw = {}
else:
    from fastgmm import GaussianMixture
    kw = {"backend": "numba" if impl == "fastgmm" else "numpy"}
    if impl == "fastgmm":  # compile before measuring: code is not data
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            GaussianMixture(k, covariance_type=cov, max_iter=1, tol=0.0, weights_init=w,
                means_init=m, precisions_init=precisions_init(cov, k, d), **kw).fit(X[:5000])
gm = GaussianMixture(k, covariance_type=cov, max_iter=3, tol=0.0, weights_init=w, means_init=m,
                     precisions_init=precisions_init(cov, k, d), **kw)
open("/proc/self/clear_refs", "w").write("5")  # reset the peak (VmHWM) to the current RSS
before = status("VmRSS:")
with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    gm.fit(X)
print(json.dumps({"before": before, "peak": status("VmHWM:"), "input": X.nbytes}))
"""

FIRST_FIT_SCRIPT = r"""
import time, warnings
t0 = time.perf_counter()
import fastgmm
t1 = time.perf_counter()
import numpy as np
rng = np.random.default_rng(0)
X = rng.normal(size=(2000, 3))
with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    fastgmm.GaussianMixture(3, random_state=0).fit(X)
t2 = time.perf_counter()
print(t1 - t0, t2 - t1)
"""


def peak_rss(impl, row, cov="full"):
    """Extra peak RSS of a 3-iteration fit above the loaded data, as a fraction of the input."""
    out = subprocess.run(
        [sys.executable, "-c", RSS_SCRIPT, str(HERE), str(HERE.parent), impl, *map(str, row), cov],
        capture_output=True,
        text=True,
        check=True,
    )
    r = json.loads(out.stdout.strip().splitlines()[-1])
    return (r["peak"] - r["before"]) / r["input"], r["input"]


def first_fit(cache_dir):
    env = dict(os.environ, NUMBA_CACHE_DIR=str(cache_dir), PYTHONPATH=str(HERE.parent))
    out = subprocess.run(
        [sys.executable, "-c", FIRST_FIT_SCRIPT],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    t_import, t_fit = map(float, out.stdout.split())
    return t_import, t_fit


def _cell(value, fmt, suffix=""):
    """A table cell: the number, or a dash when it was not measured (NaN)."""
    return "–" if value != value else f"{value:{fmt}}{suffix}"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small rows (smoke run)")
    parser.add_argument("--only-fastgmm", action="store_true", help="skip the baselines")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--covs", default="full,diag")
    parser.add_argument(
        "--spread", type=float, default=None, help="blob centre scale (default 4: separated)"
    )
    parser.add_argument("--rows", default=None, help="e.g. 1000000x16x8,200000x32x16")
    parser.add_argument("--baseline-iters", type=int, default=2, help="m for twin/sklearn")
    parser.add_argument("--baseline-repeats", type=int, default=2)
    parser.add_argument(
        "--baselines-f64-only", action="store_true", help="twin/sklearn on float64 rows only"
    )
    args = parser.parse_args(argv)
    rows = [(20_000, 8, 16), (10_000, 2, 4)] if args.quick else ROWS_FULL
    if args.rows:
        rows = [tuple(int(v) for v in r.split("x")) for r in args.rows.split(",")]
    covs = args.covs.split(",")
    import numba
    import sklearn

    print(
        f"Machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores; "
        f"Python {platform.python_version()}, NumPy {np.__version__}, Numba {numba.__version__}, "
        f"scikit-learn {sklearn.__version__}"
    )
    print()
    print(
        "| N, D, K | cov | dtype | fastgmm 1 thr | fastgmm 2 thr | NumPy twin | scikit-learn "
        "| daal4py (2 thr) | sklearn / fastgmm | daal4py / fastgmm | floor GFLOP/s |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    f32 = {}
    for row in rows:
        for cov in covs:
            for dtype in (np.float64, np.float32):
                X, w, m = make_problem(*row, dtype, spread=args.spread)
                t = {}
                for th in (1, 2):
                    with numba_threads(th):
                        t[f"fast{th}"] = time_per_iteration(
                            "fastgmm", X, w, m, cov, m=5, repeats=args.repeats
                        )
                with numba_threads(2):
                    lb = {"fastgmm": fit_once("fastgmm", X, w, m, cov, 3)[0]}
                for impl in ("reference", "sklearn", "daal4py"):
                    slow = impl != "daal4py"
                    skip = slow and args.baselines_f64_only and dtype is np.float32
                    if args.only_fastgmm or skip or not available(impl, cov):
                        t[impl] = float("nan")
                        continue
                    reps = args.baseline_repeats if slow else args.repeats
                    iters = args.baseline_iters if slow else 5
                    t[impl] = time_per_iteration(impl, X, w, m, cov, m=iters, repeats=reps)
                best = min(t["fast1"], t["fast2"])
                gflops = flop_floor(*row) / (best * 1e-3) / 1e9 if cov == "full" else float("nan")
                f32.setdefault((row, cov), {})[np.dtype(dtype).name] = (best, lb["fastgmm"])
                cells = [
                    _cell(t["fast1"], ".1f"),
                    _cell(t["fast2"], ".1f"),
                    _cell(t["reference"], ".1f"),
                    _cell(t["sklearn"], ".1f"),
                    _cell(t["daal4py"], ".1f"),
                    _cell(t["sklearn"] / best, ".1f", "x"),
                    _cell(t["daal4py"] / best, ".2f", "x"),
                    _cell(gflops, ".1f"),
                ]
                print(
                    f"| {row[0]:,}, {row[1]}, {row[2]} | {cov} | {np.dtype(dtype).name} | "
                    + " | ".join(cells)
                    + " |",
                    flush=True,
                )
    print()
    print("float32 vs float64 (fastgmm, best thread count):")
    print()
    print("| N, D, K | cov | f64 ms | f32 ms | speed-up | lower bound rel. diff |")
    print("|---|---|---|---|---|---|")
    for (row, cov), d in f32.items():
        (t64, lb64), (t32, lb32) = d["float64"], d["float32"]
        print(
            f"| {row[0]:,}, {row[1]}, {row[2]} | {cov} | {t64:.1f} | {t32:.1f} "
            f"| {t64 / t32:.2f}x | {abs(lb32 - lb64) / abs(lb64):.1e} |"
        )
    print()
    rss_row = rows[0]
    print(f"Peak RSS above the loaded data during fit (N, D, K = {rss_row}, full, float64):")
    print()
    for impl in ("fastgmm", "reference", "sklearn"):
        if args.only_fastgmm and impl != "fastgmm":
            continue
        frac, nbytes = peak_rss(impl, rss_row)
        print(f"- {impl}: {frac * 100:.1f}% of the input ({nbytes / 2**20:.0f} MiB)")
    print()
    with tempfile.TemporaryDirectory() as tmp:
        cold = first_fit(tmp)
        warm = first_fit(tmp)
    print(
        f"`import fastgmm`: {min(cold[0], warm[0]):.3f} s; first fit in a fresh process: "
        f"cold cache {cold[1]:.2f} s, warm cache {warm[1]:.2f} s"
    )


if __name__ == "__main__":
    main()
