"""Model selection for ``fastgmm select``: BIC and AIC over (n_components, covariance_type)."""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np

__all__ = ["COVARIANCE_TYPES", "best_rows", "criterion_table", "parse_k_range"]

COVARIANCE_TYPES = ("full", "tied", "diag", "spherical")


def parse_k_range(text: str) -> list[int]:
    """Parse ``"1..10"``, ``"2,4,8"``, ``"3"`` or a mix such as ``"1..3,6"`` into sorted ints.

    Parameters
    ----------
    text : str
        The ``--k`` argument.

    Returns
    -------
    ks : list of int
        Distinct positive numbers of components, ascending.

    Raises
    ------
    ValueError
        On anything else, including empty ranges and numbers below 1.
    """
    ks: set[int] = set()
    for part in text.split(","):
        part = part.strip()
        try:
            if ".." in part:
                lo_text, hi_text = part.split("..", 1)
                lo, hi = int(lo_text), int(hi_text)
                if hi < lo:
                    raise ValueError(f"empty range {part!r}")
                ks.update(range(lo, hi + 1))
            else:
                ks.add(int(part))
        except ValueError as exc:
            if "empty range" in str(exc):
                raise
            raise ValueError(f"cannot read {part!r}: use e.g. 1..10 or 2,4,8") from None
    if not ks or min(ks) < 1:
        raise ValueError(f"numbers of components must be at least 1, got {text!r}")
    return sorted(ks)


def criterion_table(
    X: np.ndarray,
    ks: Sequence[int],
    covariance_types: Sequence[str],
    *,
    random_state: int | None = 0,
    n_init: int = 1,
    max_iter: int = 100,
    backend: str = "numba",
) -> list[dict[str, Any]]:
    """Fit one `GaussianMixture` per (k, covariance type) and collect BIC and AIC.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
        The data.
    ks : sequence of int
        Numbers of components; values above ``n_samples`` are skipped.
    covariance_types : sequence of str
        Covariance types to try.
    random_state : int or None, default=0
        Seed of every fit.
    n_init : int, default=1
        Initialisations per fit.
    max_iter : int, default=100
        EM iterations per initialisation.
    backend : {"numba", "numpy"}, default="numba"
        Estimator backend.

    Returns
    -------
    rows : list of dict
        The rows of :func:`fastgmm.select` (``n_components``, ``covariance_type``,
        ``bic``, ``aic``, ``log_likelihood``, ``n_iter``, ``converged``, ``fit_time``, ...).
        Convergence warnings are not raised: they show as ``converged=False``.
    """
    from fastgmm._selection import select

    ks = [k for k in ks if k <= X.shape[0]]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        rows, _ = select(
            X,
            ks,
            list(covariance_types),
            random_state=random_state,
            n_init=n_init,
            max_iter=max_iter,
            backend=backend,
        )
    return rows


def best_rows(rows: Sequence[dict[str, Any]]) -> dict[str, int]:
    """Return the index of the row with the lowest value of each criterion.

    Parameters
    ----------
    rows : sequence of dict
        Output of `criterion_table`.

    Returns
    -------
    best : dict
        ``{"bic": index, "aic": index}``.
    """
    return {
        criterion: int(np.argmin([row[criterion] for row in rows])) for criterion in ("bic", "aic")
    }
