"""Loop one fused pass under ``perf``, with Numba's compiled kernels named.

Linux ``perf`` sees Numba's machine code as anonymous addresses. This script
compiles the pass's kernels in the process (``FASTGMM_CACHE=0``), writes
``/tmp/perf-<pid>.map`` (every function of the compiled library, its address
and length) and then runs the pass for ``SECONDS``, so ``perf record -p`` can
attribute the samples by name. Usage (from the repository root)::

    python benchmarks/perf_pass.py . diag 200000x32x16 float32 12 pass.data
    perf report -i pass.data --no-children --sort sym

Arguments: checkout, covariance type, row, dtype, seconds (default 20) and,
optionally, a file for ``perf record`` (started on this process once the map is
written, for all but the last second). One
Numba thread; the parameters are those after two EM iterations from the
benchmarks' start (as in ``fused_pass.py``). Prints the time per pass. Round
12 found the reference counting of array arguments (``NRT_incref`` and
``NRT_decref``) this way: 21% of a float32 diag pass at 200k x 32 x 16.
"""

import os

os.environ["FASTGMM_CACHE"] = "0"  # compile here: a cached library has no function table

import shutil  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402

ROOT = sys.argv[1] if len(sys.argv) > 1 else "."
COV = sys.argv[2] if len(sys.argv) > 2 else "diag"
ROW = sys.argv[3] if len(sys.argv) > 3 else "200000x32x16"
DTYPE = sys.argv[4] if len(sys.argv) > 4 else "float64"
SECONDS = float(sys.argv[5]) if len(sys.argv) > 5 else 20.0
PERF_OUT = sys.argv[6] if len(sys.argv) > 6 else None
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import numba  # noqa: E402
import numpy as np  # noqa: E402
from _problems import fastgmm_from_start, make_problem  # noqa: E402

from fastgmm import _kernels as K  # noqa: E402
from fastgmm._covariance import sxx_shape  # noqa: E402


def write_perf_map(dispatcher, path: str) -> int:
    """Write ``address length name`` for every function compiled for ``dispatcher``."""
    entries = []
    for cres in dispatcher.overloads.values():
        library = cres.library
        for fn in library._final_module.functions:
            if fn.is_declaration:
                continue
            address = library.get_pointer_to_function(fn.name)
            if address:
                entries.append((address, fn.name))
    entries.sort()
    with open(path, "w") as out:
        for j, (address, name) in enumerate(entries):
            length = entries[j + 1][0] - address if j + 1 < len(entries) else 4096
            out.write(f"{address:x} {length:x} {name}\n")
    return len(entries)


def main() -> None:
    numba.set_num_threads(1)
    n, d, k = map(int, ROW.split("x"))
    X, w, m = make_problem(n, d, k, np.dtype(DTYPE))
    gm = fastgmm_from_start(X, w, m, COV, max_iter=2)
    kernel = getattr(K, f"suffstats_{COV}_parallel")
    nk, sx, sxx = np.zeros(k), np.zeros((k, d)), np.zeros(sxx_shape(COV, k, d))
    args = (X, np.empty(0), gm.weights_, gm.means_, np.ascontiguousarray(gm.precisions_cholesky_))
    kernel(*args, False, nk, sx, sxx)
    count = write_perf_map(kernel, f"/tmp/perf-{os.getpid()}.map")
    print(f"pid {os.getpid()}: {count} functions mapped", flush=True)
    recorder = None
    if PERF_OUT:
        if shutil.which("perf") is None:
            sys.exit("perf is not installed")
        # fmt: off
        recorder = subprocess.Popen([
            "perf", "record", "-F", "4000", "-p", str(os.getpid()), "-o", PERF_OUT,
            "--", "sleep", str(max(SECONDS - 1.0, 1.0)),
        ])
        # fmt: on
    t0 = time.perf_counter()
    passes = 0
    while time.perf_counter() - t0 < SECONDS:
        kernel(*args, False, nk, sx, sxx)
        passes += 1
    print(f"{COV} {ROW} {DTYPE}: {(time.perf_counter() - t0) / passes * 1e3:.2f} ms per pass")
    if recorder is not None:
        recorder.wait()


if __name__ == "__main__":
    main()
