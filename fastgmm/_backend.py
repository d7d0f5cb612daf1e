"""Pick the kernels of a backend (``"numba"`` or its pure-NumPy twin ``"numpy"``)."""

from __future__ import annotations

from types import ModuleType, SimpleNamespace

from . import _reference
from ._threading import serialized


def backend_module(backend: str) -> ModuleType:
    """Return the module holding the kernels of ``backend`` (same names in both)."""
    if backend == "numpy":
        return _reference
    from . import _kernels

    return _kernels


def gmm_ops(backend: str, covariance_type: str) -> SimpleNamespace:
    """Return the functions one EM fit needs for a covariance type."""
    mod = backend_module(backend)
    cov = covariance_type
    # Parallel drivers go through a lock when Numba's threading layer is not
    # thread-safe (workqueue); see fastgmm._threading and tests/test_concurrency.py.
    guard = serialized if backend == "numba" else _unchanged
    return SimpleNamespace(
        suffstats=guard(getattr(mod, f"suffstats_{cov}_parallel")),
        accumulate=getattr(mod, f"accumulate_{cov}"),
        m_step=getattr(mod, f"m_step_{cov}"),
        e_step=guard(getattr(mod, f"e_step_{cov}_parallel")),
    )


def _unchanged(fn):
    return fn
