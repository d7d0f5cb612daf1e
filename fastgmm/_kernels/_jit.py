"""The one place where Numba options are set for every fastgmm kernel.

Every kernel is compiled through :func:`jit`, so options cannot drift between
modules (a test greps for option keywords spelled anywhere else).

Environment switches
--------------------
``FASTGMM_CACHE=0``
    Do not cache compiled kernels on disk (default: cache, so a second process
    starts without compiling).
"""

from __future__ import annotations

import os

import numba

#: Cache compiled machine code on disk next to the sources (``__pycache__``).
CACHE: bool = os.environ.get("FASTGMM_CACHE", "1") not in ("0", "false", "False", "")

#: ``fastmath`` stays off: log-sum-exp and empty components rely on ``-inf``
#: and IEEE semantics, which ``nnan``/``ninf`` would break.
FASTMATH: bool | set[str] = False

#: IEEE results (inf/nan) instead of ``ZeroDivisionError`` inside kernels.
ERROR_MODEL: str = "numpy"

#: Opt-in flags for the blocked hot loops (``jit(reductions=True)``): ``reassoc``
#: lets LLVM vectorise sums over rows, ``contract`` fuses multiply-adds. Never
#: ``nnan``/``ninf``: inf/nan keep IEEE semantics. Evidence (this machine, 1 thread):
#: a 256-long dot product 4x faster (benchmarks/bench_kernels.py::test_upper_outer);
#: tests/test_threads.py holds the results to the NumPy twin.
FASTMATH_REDUCTIONS: set[str] = {"reassoc", "contract", "nsz"}

#: Opt-in flags for element-wise polynomials (``jit(contract=True)``): fused
#: multiply-adds only, no reordering, so a Cody-Waite reduction stays exact. The
#: vectorised ``exp`` is 1.4x faster with them at the same accuracy (within 1 ulp):
#: 1.49 against 2.15 us per 1024 values (benchmarks/bench_kernels.py::test_exp).
FASTMATH_CONTRACT: set[str] = {"contract"}


def jit(*args, parallel: bool = False, reductions: bool = False, contract: bool = False, **kwargs):
    """Compile a kernel in nopython mode with fastgmm's options.

    Parameters
    ----------
    parallel : bool, default=False
        Enable ``prange`` parallel regions. Only drivers are parallel; the serial
        building blocks stay serial so users can call them inside their own ``prange``.
    reductions : bool, default=False
        Use :data:`FASTMATH_REDUCTIONS` (for blocked loops whose sums run over rows;
        the order is fixed when LLVM compiles the kernel, so results are the same
        for any thread count, but a freshly compiled kernel and the cached one can
        differ in the last bits: docs/readme/performance.md, "Numba options").
    contract : bool, default=False
        Use :data:`FASTMATH_CONTRACT` (fused multiply-adds; ignored with ``reductions``,
        which includes it).
    """
    options = dict(
        nogil=True,
        cache=CACHE,
        fastmath=(
            FASTMATH_REDUCTIONS if reductions else FASTMATH_CONTRACT if contract else FASTMATH
        ),
        error_model=ERROR_MODEL,
        parallel=parallel,
    )
    options.update(kwargs)
    if args and callable(args[0]):
        return numba.njit(**options)(args[0])
    return numba.njit(*args, **options)
