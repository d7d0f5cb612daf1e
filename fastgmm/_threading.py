"""Make fastgmm's parallel kernel launches safe from several Python threads at once.

Numba runs ``parallel=True`` kernels on one of three threading layers, picked at
the first parallel launch in the order ``tbb``, ``omp``, ``workqueue`` (the
first one that loads). ``tbb`` and ``omp`` accept launches from several Python
threads at once. ``workqueue`` (the fallback when neither TBB nor an OpenMP
runtime is installed, common on macOS) does not: a second concurrent launch
aborts the whole process ("Concurrent access has been detected").

fastgmm therefore runs its parallel drivers through :func:`serialized`, which
takes one process-wide lock around each launch when, and only when, the layer
in use is not known to be thread-safe. Under ``tbb``/``omp`` nothing is locked.
Results never depend on the lock: the drivers are deterministic for any
number of threads.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from typing import Any, TypeVar

F = TypeVar("F", bound=Callable[..., Any])

#: Layers that accept parallel launches from several Python threads at once.
THREAD_SAFE_LAYERS = frozenset({"tbb", "omp"})

_LAUNCH_LOCK = threading.RLock()
_needs_lock: bool | None = None


def threading_layer() -> str:
    """Name of the Numba threading layer fastgmm's parallel kernels run on.

    Starts Numba's thread pool if no parallel kernel has run yet (this is what
    the first parallel launch would do anyway).

    Returns
    -------
    layer : str
        ``"tbb"``, ``"omp"`` or ``"workqueue"``; ``"unknown"`` when Numba cannot
        tell (for example with ``NUMBA_DISABLE_JIT=1``).
    """
    import numba

    try:
        from numba.np.ufunc.parallel import _launch_threads

        _launch_threads()
        return str(numba.threading_layer())
    except Exception:  # internal API moved, or JIT disabled: be conservative
        return "unknown"


def launches_need_lock() -> bool:
    """Whether concurrent parallel launches must be serialised (layer not thread-safe)."""
    global _needs_lock
    if _needs_lock is None:
        _needs_lock = threading_layer() not in THREAD_SAFE_LAYERS
    return _needs_lock


def serialized(kernel: F) -> F:
    """Wrap a parallel kernel so concurrent calls from Python threads cannot crash Numba.

    Parameters
    ----------
    kernel : callable
        A ``parallel=True`` Numba dispatcher (or any callable).

    Returns
    -------
    wrapped : callable
        Calls ``kernel`` directly under a thread-safe layer, under a
        process-wide lock otherwise. Not usable inside nopython-compiled code (call the
        dispatcher itself there).
    """

    @functools.wraps(kernel, updated=())
    def call(*args: Any, **kwargs: Any) -> Any:
        if not launches_need_lock():
            return kernel(*args, **kwargs)
        with _LAUNCH_LOCK:
            return kernel(*args, **kwargs)

    return call  # type: ignore[return-value]
