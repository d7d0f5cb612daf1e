"""Pick the kernels of a backend (``"numba"`` or its pure-NumPy twin ``"numpy"``)."""

from __future__ import annotations

from types import ModuleType, SimpleNamespace

from . import _reference


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
    return SimpleNamespace(
        suffstats=getattr(mod, f"suffstats_{cov}_parallel"),
        accumulate=getattr(mod, f"accumulate_{cov}"),
        m_step=getattr(mod, f"m_step_{cov}"),
        e_step=getattr(mod, f"e_step_{cov}_parallel"),
    )
