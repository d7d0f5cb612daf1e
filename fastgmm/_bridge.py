"""Bridge between :class:`~fastgmm.GaussianMixture` and users' own Numba code.

``gm.to_numba()`` gives a :class:`NumbaParams` namedtuple of float64 C-contiguous
arrays that njit functions take as one argument; :func:`from_params` (and
``GaussianMixture.from_numba``) builds a fitted estimator back from such arrays,
so a model fitted in Numba code can be scored, saved and plotted from Python.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from ._covariance import (
    covariance_shape,
    covariances_from_cholesky,
    precision_cholesky_from_covariances,
    precisions_from_cholesky,
)

__all__ = ["COVARIANCE_CODES", "NumbaParams", "from_params", "to_numba"]

#: Integer code of each covariance type (the ``covariance_type`` field of `NumbaParams`).
COVARIANCE_CODES: dict[str, int] = {"full": 0, "tied": 1, "diag": 2, "spherical": 3}
_NAMES = {v: k for k, v in COVARIANCE_CODES.items()}


class NumbaParams(NamedTuple):
    """A fitted mixture as plain arrays, passable to ``@numba.njit`` functions.

    Attributes
    ----------
    covariance_type : int
        Code from `COVARIANCE_CODES`: 0 full, 1 tied, 2 diag, 3 spherical. Numba
        code calls the kernel of that type (``fastgmm.kernels.score_samples_full``, ...).
    weights : ndarray of shape (n_components,), float64
    means : ndarray of shape (n_components, n_features), float64
    covariances : ndarray, float64
        (n_components, n_features, n_features) full, (n_features, n_features) tied,
        (n_components, n_features) diag, (n_components,) spherical.
    precisions_chol : ndarray, float64
        Same shape as ``covariances``: scikit-learn's ``precisions_cholesky_``.
    """

    covariance_type: int
    weights: np.ndarray
    means: np.ndarray
    covariances: np.ndarray
    precisions_chol: np.ndarray


def _f64(a: Any) -> np.ndarray:
    return np.array(a, dtype=np.float64, order="C")  # always a copy


def to_numba(model: Any) -> NumbaParams:
    """Copy a fitted model's parameters into a :class:`NumbaParams` (float64, C order).

    Parameters
    ----------
    model : GaussianMixture
        A fitted estimator.

    Returns
    -------
    params : NumbaParams
    """
    model._check_is_fitted("precisions_cholesky_")
    return NumbaParams(
        COVARIANCE_CODES[model.covariance_type],
        _f64(model.weights_),
        _f64(model.means_),
        _f64(model.covariances_),
        _f64(model.precisions_cholesky_),
    )


def _covariance_name(covariance_type: Any) -> str:
    if isinstance(covariance_type, (int, np.integer)) and not isinstance(covariance_type, bool):
        if int(covariance_type) in _NAMES:
            return _NAMES[int(covariance_type)]
    elif covariance_type in COVARIANCE_CODES:
        return str(covariance_type)
    raise ValueError(
        f"Invalid covariance_type {covariance_type!r}; pass one of "
        f"{tuple(COVARIANCE_CODES)} or its code {tuple(COVARIANCE_CODES.values())}."
    )


def from_params(
    weights: Any,
    means: Any,
    covariances: Any = None,
    precisions_cholesky: Any = None,
    *,
    covariance_type: str | int = "full",
    converged: bool = True,
    n_iter: int = 0,
    lower_bound: float = -np.inf,
    **params: Any,
):
    """Build a fitted :class:`~fastgmm.GaussianMixture` from parameter arrays.

    Parameters
    ----------
    weights : array-like of shape (n_components,)
        Non-negative, summing to 1.
    means : array-like of shape (n_components, n_features)
    covariances : array-like, default=None
        Shaped like ``covariances_`` of ``covariance_type``. Give this,
        ``precisions_cholesky``, or both (then they must agree; they are not re-checked).
    precisions_cholesky : array-like, default=None
        Shaped like ``covariances``: upper ``U`` with ``precision = U @ U.T``.
    covariance_type : {"full", "tied", "diag", "spherical"} or int code, default="full"
    converged : bool, default=True
        Stored as ``converged_``.
    n_iter : int, default=0
        Stored as ``n_iter_``.
    lower_bound : float, default=-inf
        Stored as ``lower_bound_``.
    **params
        Other constructor parameters of the estimator (``random_state``, ``backend``, ...).

    Returns
    -------
    model : GaussianMixture
        Ready for ``score_samples``, ``predict``, ``sample``, ``save``, ...

    Examples
    --------
    >>> import numpy as np
    >>> from fastgmm import from_params
    >>> gm = from_params([0.5, 0.5], [[0.0], [4.0]], [[[1.0]], [[1.0]]])
    >>> gm.predict(np.array([[0.1], [3.9]])).tolist()
    [0, 1]
    """
    from ._estimator import GaussianMixture

    cov = _covariance_name(covariance_type)
    w = _f64(weights)
    m = _f64(means)
    if w.ndim != 1 or m.ndim != 2 or m.shape[0] != w.shape[0]:
        raise ValueError(
            f"weights must have shape (n_components,) and means (n_components, n_features); "
            f"got {w.shape} and {m.shape}."
        )
    k, d = m.shape
    if not (np.isfinite(w).all() and np.isfinite(m).all()):
        raise ValueError("weights and means must be finite.")
    if (w < 0).any() or not np.isclose(w.sum(), 1.0, rtol=0.0, atol=1e-6):
        raise ValueError(f"weights must be non-negative and sum to 1 (they sum to {w.sum():.6g}).")
    expected = covariance_shape(cov, k, d)
    if covariances is None and precisions_cholesky is None:
        raise ValueError("Pass covariances, precisions_cholesky or both.")
    c = None if covariances is None else _f64(covariances)
    p = None if precisions_cholesky is None else _f64(precisions_cholesky)
    for name, a in (("covariances", c), ("precisions_cholesky", p)):
        if a is not None and a.shape != expected:
            raise ValueError(
                f"{name} has shape {a.shape}; expected {expected} for covariance_type={cov!r}."
            )
        if a is not None and not np.isfinite(a).all():
            raise ValueError(f"{name} contains NaN or infinity.")
    if p is None:
        p = precision_cholesky_from_covariances(c, cov)
    if c is None:
        c = covariances_from_cholesky(p, cov)
    model = GaussianMixture(n_components=k, covariance_type=cov, **params)
    model.weights_ = w
    model.means_ = m
    model.covariances_ = np.ascontiguousarray(c)
    model.precisions_cholesky_ = np.ascontiguousarray(p)
    model.precisions_ = precisions_from_cholesky(model.precisions_cholesky_, cov)
    model.converged_ = bool(converged)
    model.n_iter_ = int(n_iter)
    model.lower_bound_ = float(lower_bound)
    model.lower_bounds_ = []
    model.n_features_in_ = d
    return model


def from_numba(params: Any, **kwargs: Any):
    """Build a fitted :class:`~fastgmm.GaussianMixture` from a :class:`NumbaParams`.

    Parameters
    ----------
    params : NumbaParams or tuple
        ``(covariance_type code, weights, means, covariances, precisions_chol)``.
    **kwargs
        Passed to :func:`from_params` (``converged``, ``n_iter``, ``lower_bound``,
        constructor parameters).

    Returns
    -------
    model : GaussianMixture
    """
    code, weights, means, covariances, precisions_chol = params
    return from_params(
        weights,
        means,
        covariances,
        precisions_chol,
        covariance_type=int(code),
        **kwargs,
    )
