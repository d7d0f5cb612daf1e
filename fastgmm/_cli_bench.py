"""``fastgmm bench``: a quick side-by-side timing of fastgmm, its NumPy twin and scikit-learn.

Every implementation fits the same data from the same ``random_from_data`` start with
``tol=0`` and a fixed ``max_iter``, so all run the same number of EM iterations; the table
shows the best of ``repeat`` wall-clock times, the time per iteration and the ratios to the
numba backend, and the final lower bounds so a fast-but-wrong result would show. The numba
kernels are compiled (or loaded from the cache) first, and that time is reported separately.
For careful numbers use the pytest-benchmark suite in ``benchmarks/``.
"""

from __future__ import annotations

import os
import platform
import time
import warnings
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

__all__ = ["DEFAULT_SIZES", "machine_facts", "parse_sizes", "run_bench"]

#: (n_samples, n_features, n_components) of the default run (well under a minute on 2 cores).
DEFAULT_SIZES: tuple[tuple[int, int, int], ...] = ((10_000, 2, 3), (50_000, 8, 5), (100_000, 16, 8))

#: Stop repeating an implementation once its runs on one size took this long (seconds).
TIME_BUDGET = 2.0


def parse_sizes(text: str | None) -> list[tuple[int, int, int]]:
    """Parse ``"10000x2x3,50000x8x5"`` into ``[(10000, 2, 3), (50000, 8, 5)]``.

    Parameters
    ----------
    text : str or None
        Comma-separated ``NxDxK`` triples; None gives `DEFAULT_SIZES`.

    Returns
    -------
    sizes : list of tuple of int
    """
    if text is None:
        return list(DEFAULT_SIZES)
    sizes = []
    for part in text.split(","):
        try:
            n, d, k = (int(v) for v in part.strip().lower().split("x"))
        except ValueError:
            raise ValueError(f"bad --sizes entry {part!r}: use NxDxK, e.g. 10000x2x3") from None
        if min(n, d, k) < 1 or k > n:
            raise ValueError(f"bad --sizes entry {part!r}: need N >= K >= 1 and D >= 1")
        sizes.append((n, d, k))
    return sizes


def machine_facts() -> dict[str, str]:
    """Collect what a reader needs to interpret the timings.

    Returns
    -------
    facts : dict of str to str
        Platform, logical cores, numba threads and threading layer, library versions.
    """
    import numba

    facts = {
        "platform": f"{platform.system()} {platform.machine()}, {_cpu_name()}",
        "cores (logical)": str(os.cpu_count()),
        "numba threads": str(numba.get_num_threads()),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "numba": numba.__version__,
    }
    try:
        facts["numba threading layer"] = numba.threading_layer()
    except ValueError:  # no parallel kernel has run yet
        facts["numba threading layer"] = "(not initialised)"
    try:
        import sklearn

        facts["scikit-learn"] = sklearn.__version__
    except ImportError:
        facts["scikit-learn"] = "not installed"
    return facts


def _make_data(n: int, d: int, k: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centers = rng.normal(scale=5.0, size=(k, d))
    labels = rng.integers(0, k, size=n)
    return centers[labels] + rng.normal(size=(n, d))


def _timed_fit(make: Callable[[], Any], X: np.ndarray, repeat: int) -> tuple[float, Any]:
    best, model, spent = np.inf, None, 0.0
    for _ in range(repeat):
        model = make()
        start = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # tol=0 never "converges": that is the point
            model.fit(X)
        elapsed = time.perf_counter() - start
        best, spent = min(best, elapsed), spent + elapsed
        if spent > TIME_BUDGET:  # long runs vary little; keeps the default run short
            break
    return best, model


def _cpu_name() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            for line in handle:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def run_bench(
    sizes: Sequence[tuple[int, int, int]],
    *,
    covariance_type: str = "full",
    max_iter: int = 20,
    repeat: int = 3,
    use_sklearn: bool = True,
    emit: Callable[[str], None],
) -> int:
    """Time the implementations on every size and print the table.

    Parameters
    ----------
    sizes : sequence of (n_samples, n_features, n_components)
        Problems to time.
    covariance_type : str, default="full"
        Covariance type of every fit.
    max_iter : int, default=20
        EM iterations of every fit (``tol=0`` makes every fit run all of them).
    repeat : int, default=3
        Report the best of this many fits.
    use_sklearn : bool, default=True
        Include scikit-learn when it is installed.
    emit : callable
        Writes one line of output.

    Returns
    -------
    status : int
        0.
    """
    from fastgmm import GaussianMixture

    impls: dict[str, Callable[[int], Any]] = {
        "fastgmm numba": lambda k: GaussianMixture(
            k,
            covariance_type=covariance_type,
            max_iter=max_iter,
            tol=0.0,
            init_params="random_from_data",
            random_state=0,
            backend="numba",
        ),
        "fastgmm numpy": lambda k: GaussianMixture(
            k,
            covariance_type=covariance_type,
            max_iter=max_iter,
            tol=0.0,
            init_params="random_from_data",
            random_state=0,
            backend="numpy",
        ),
    }
    if use_sklearn:
        try:
            from sklearn.mixture import GaussianMixture as SkGaussianMixture
        except ImportError:
            emit("scikit-learn is not installed: its column is left out")
        else:
            impls["scikit-learn"] = lambda k: SkGaussianMixture(
                k,
                covariance_type=covariance_type,
                max_iter=max_iter,
                tol=0.0,
                init_params="random_from_data",
                random_state=0,
            )

    start = time.perf_counter()
    warm = _make_data(200, sizes[0][1], sizes[0][2], 1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        impls["fastgmm numba"](sizes[0][2]).fit(warm)
    compile_seconds = time.perf_counter() - start

    emit(
        f"fastgmm bench: GaussianMixture.fit, best of up to {repeat} runs, {max_iter} EM "
        f"iterations (tol=0), covariance_type={covariance_type!r}"
    )
    for key, value in machine_facts().items():
        emit(f"  {key:<22} {value}")
    emit(f"  {'first numba fit':<22} {compile_seconds:.2f} s (compilation or cache load)")
    emit("")
    names = list(impls)
    short = {"fastgmm numba": "numba", "fastgmm numpy": "numpy", "scikit-learn": "sklearn"}
    header = f"{'n_samples':>9} {'D':>3} {'K':>3} " + "".join(f"{n:>16}" for n in names)
    header += "".join(f"{short[n] + '/numba':>16}" for n in names[1:])
    emit(header + "   lower bounds")
    for n, d, k in sizes:
        X = _make_data(n, d, k, seed=n + d + k)
        times, bounds = [], []
        for name in names:
            seconds, model = _timed_fit(lambda impl=impls[name], k=k: impl(k), X, repeat)
            times.append(seconds)
            bounds.append(float(model.lower_bound_))
        line = f"{n:>9} {d:>3} {k:>3} " + "".join(f"{t * 1e3:>13.1f} ms" for t in times)
        line += "".join(f"{t / times[0]:>15.2f}x" for t in times[1:])
        emit(line + "   " + " ".join(f"{b:.5f}" for b in bounds))
    emit("")
    emit("ratios above 1 mean the numba backend is faster by that factor")
    return 0
