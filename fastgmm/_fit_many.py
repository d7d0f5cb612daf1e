"""``fit_many``: fit thousands of small independent mixtures in one parallel call."""

from __future__ import annotations

import warnings
from typing import Any, NamedTuple

import numpy as np

from ._covariance import ILL_DEFINED_MESSAGE, covariance_shape
from ._validation import (
    ConvergenceWarning,
    _check_number,
    check_random_state,
    check_sample_weight,
    check_X,
)

__all__ = ["FitManyResult", "fit_many"]

_COVARIANCE_TYPES = ("full", "tied", "diag", "spherical")
_INITS = ("k-means++",)
_MAX_SEED = 2**32 - 1


class FitManyResult(NamedTuple):
    """Stacked parameters and convergence facts of :func:`fit_many` (group axis first).

    Attributes
    ----------
    covariance_type : str
    weights : ndarray of shape (n_groups, n_components)
    means : ndarray of shape (n_groups, n_components, n_features)
    covariances : ndarray of shape (n_groups,) + one model's covariance shape
    precisions_cholesky : ndarray, same shape as ``covariances``
    lower_bound : ndarray of shape (n_groups,)
        Weighted mean log-likelihood of each group at its last iteration.
    n_iter : ndarray of shape (n_groups,), int64
    converged : ndarray of shape (n_groups,), bool
    status : ndarray of shape (n_groups,), int64
        0, or ``k + 1`` when component ``k`` of the group had an ill-defined
        covariance (only with ``errors="ignore"``; its parameters are then NaN).
    seeds : ndarray of shape (n_groups,), int64, or None
        The k-means++ seed of each group (None when initial parameters were given).
    """

    covariance_type: str
    weights: np.ndarray
    means: np.ndarray
    covariances: np.ndarray
    precisions_cholesky: np.ndarray
    lower_bound: np.ndarray
    n_iter: np.ndarray
    converged: np.ndarray
    status: np.ndarray
    seeds: np.ndarray | None

    def model(self, group: int, **params: Any):
        """Build a fitted :class:`~fastgmm.GaussianMixture` for one group.

        Parameters
        ----------
        group : int
            Index of the group.
        **params
            Extra constructor parameters for the estimator.

        Returns
        -------
        model : GaussianMixture
        """
        from ._bridge import from_params

        return from_params(
            self.weights[group],
            self.means[group],
            covariances=self.covariances[group],
            precisions_cholesky=self.precisions_cholesky[group],
            covariance_type=self.covariance_type,
            converged=bool(self.converged[group]),
            n_iter=int(self.n_iter[group]),
            lower_bound=float(self.lower_bound[group]),
            **params,
        )


def _check_offsets(group_offsets: Any, n_samples: int, n_components: int) -> np.ndarray:
    offsets = np.asarray(group_offsets)
    if offsets.ndim != 1 or offsets.shape[0] < 2 or offsets.dtype.kind not in "iu":
        raise ValueError(
            "group_offsets must be a 1-D integer array [0, end_0, end_1, ..., n_samples] "
            f"with at least 2 entries; got shape {offsets.shape} and dtype {offsets.dtype}."
        )
    offsets = np.ascontiguousarray(offsets, dtype=np.int64)
    if offsets[0] != 0 or offsets[-1] != n_samples:
        raise ValueError(
            f"group_offsets must start at 0 and end at n_samples={n_samples}; got "
            f"{offsets[0]} ... {offsets[-1]}."
        )
    sizes = np.diff(offsets)
    small = np.flatnonzero(sizes < n_components)
    if small.size:
        g = int(small[0])
        raise ValueError(
            f"Group {g} has {int(sizes[g])} rows but n_components={n_components} needs at "
            f"least that many ({small.size} group(s) too small). Merge small groups or "
            "reduce n_components."
        )
    return offsets


def _check_seeds(seeds: Any, random_state: Any, n_groups: int) -> np.ndarray:
    if seeds is None:
        rng = check_random_state(random_state)
        return rng.randint(0, _MAX_SEED, size=n_groups, dtype=np.int64)
    s = np.asarray(seeds)
    if s.shape != (n_groups,) or s.dtype.kind not in "iu":
        raise ValueError(
            f"seeds must be an integer array of shape ({n_groups},), one per group; got "
            f"shape {s.shape} and dtype {s.dtype}."
        )
    if (s < 0).any() or (s > _MAX_SEED).any():
        raise ValueError(f"seeds must lie in [0, {_MAX_SEED}] (numpy.random.RandomState seeds).")
    return np.ascontiguousarray(s, dtype=np.int64)


def _stacked(name: str, value: Any, shape: tuple[int, ...]) -> np.ndarray:
    arr = np.array(value, dtype=np.float64, order="C")  # a copy: never modify user input
    if arr.shape != shape:
        raise ValueError(f"{name} has shape {arr.shape}; expected {shape} (n_groups first).")
    if not np.isfinite(arr).all():
        raise ValueError(f"{name} contains NaN or infinity.")
    return arr


def _precisions_chol_from_precisions(precisions: np.ndarray, cov: str) -> np.ndarray:
    """Batched scikit-learn flipped Cholesky ``U`` with ``precision = U @ U.T``."""
    if cov in ("diag", "spherical"):
        if (precisions <= 0).any():
            raise ValueError(f"precisions_init for {cov!r} must be positive.")
        return np.sqrt(precisions)
    flipped = precisions[..., ::-1, ::-1]
    try:
        chol = np.linalg.cholesky(flipped)
    except np.linalg.LinAlgError:
        raise ValueError(
            "precisions_init holds a matrix that is not positive definite; pass symmetric "
            "positive-definite precision matrices (inverse covariances)."
        ) from None
    return np.ascontiguousarray(chol[..., ::-1, ::-1])


def _covariances_from_precisions(precisions: np.ndarray, cov: str) -> np.ndarray:
    if cov in ("diag", "spherical"):
        return 1.0 / precisions
    return np.ascontiguousarray(np.linalg.inv(precisions))


def _given_init(weights_init, means_init, precisions_init, cov, n_groups, k, d):
    given = [p is not None for p in (weights_init, means_init, precisions_init)]
    if not any(given):
        return None
    if not all(given):
        raise ValueError(
            "fit_many needs all of weights_init, means_init and precisions_init, or none "
            "(then every group is initialised by k-means++)."
        )
    weights = _stacked("weights_init", weights_init, (n_groups, k))
    if (weights < 0).any() or not np.allclose(weights.sum(axis=1), 1.0, rtol=0, atol=1e-6):
        raise ValueError("weights_init rows must be non-negative and sum to 1.")
    means = _stacked("means_init", means_init, (n_groups, k, d))
    precisions = _stacked(
        "precisions_init", precisions_init, (n_groups, *covariance_shape(cov, k, d))
    )
    prec_chol = _precisions_chol_from_precisions(precisions, cov)
    return weights, means, _covariances_from_precisions(precisions, cov), prec_chol


def _draw_kmeanspp_uniforms(kernels, seeds: np.ndarray, n_components: int):
    n_trials = 2 + int(np.log(n_components))
    first_u = np.empty(seeds.shape[0])
    trial_u = np.empty((seeds.shape[0], max(n_components - 1, 0), n_trials))
    state = _numba_random_state()
    try:
        kernels.kmeanspp_uniforms(seeds, first_u, trial_u)
    finally:
        _restore_numba_random_state(state)
    return first_u, trial_u


def _numba_random_state():
    """Save the main thread's Numba generator state (``kmeanspp_uniforms`` reseeds it)."""
    try:
        from numba import _helperlib

        return _helperlib.rnd_get_state(_helperlib.rnd_get_np_state_ptr())
    except (ImportError, AttributeError):  # pragma: no cover - private Numba API moved
        return None


def _restore_numba_random_state(state) -> None:
    if state is None:  # pragma: no cover
        return
    from numba import _helperlib

    _helperlib.rnd_set_state(_helperlib.rnd_get_np_state_ptr(), state)


def fit_many(
    X: Any,
    group_offsets: Any = None,
    n_components: int = 1,
    *,
    covariance_type: str = "full",
    tol: float = 1e-3,
    reg_covar: float = 1e-6,
    max_iter: int = 100,
    init: str = "k-means++",
    weights_init: Any = None,
    means_init: Any = None,
    precisions_init: Any = None,
    random_state: Any = None,
    seeds: Any = None,
    sample_weight: Any = None,
    errors: str = "raise",
) -> FitManyResult:
    """Fit one Gaussian mixture per group, in parallel over groups.

    Each group is fitted exactly as ``GaussianMixture(n_components,
    covariance_type=..., tol=..., reg_covar=..., max_iter=..., init_params="k-means++",
    random_state=int(seeds[g]))`` would fit it alone (or from the given initial
    parameters), but all groups run in one compiled parallel loop with no
    per-group Python overhead.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features) or (n_groups, group_size, n_features)
        All groups' rows, group after group; a 3-D array holds equal-size groups.
    group_offsets : array-like of shape (n_groups + 1,), default=None
        Group ``g`` is ``X[group_offsets[g]:group_offsets[g + 1]]``. Required for 2-D ``X``,
        not allowed for 3-D ``X``.
    n_components : int, default=1
        Components per mixture; every group needs at least this many rows.
    covariance_type : {"full", "tied", "diag", "spherical"}, default="full"
    tol : float, default=1e-3
        Per-group convergence threshold on the change of the lower bound.
    reg_covar : float, default=1e-6
    max_iter : int, default=100
    init : {"k-means++"}, default="k-means++"
        Initialisation when no initial parameters are given.
    weights_init : array-like of shape (n_groups, n_components), default=None
    means_init : array-like of shape (n_groups, n_components, n_features), default=None
    precisions_init : array-like, default=None
        Shape ``(n_groups,)`` + one model's ``precisions_`` shape. Give all three
        ``*_init`` arrays (EM then starts from them) or none.
    random_state : int, RandomState instance or None, default=None
        Draws the per-group ``seeds`` when they are not given.
    seeds : array-like of shape (n_groups,), default=None
        k-means++ seed of every group, in [0, 2**32 - 1]. A group's fit depends only
        on its rows and its seed.
    sample_weight : array-like of shape (n_samples,), default=None
    errors : {"raise", "ignore"}, default="raise"
        What to do when a group's covariance becomes ill-defined: raise a
        ``ValueError`` naming the groups, or give that group NaN parameters and a
        non-zero ``status``.

    Returns
    -------
    result : FitManyResult
        Stacked parameters, lower bounds, iteration counts, convergence flags.
        ``result.model(g)`` builds a fitted :class:`~fastgmm.GaussianMixture`.

    Warns
    -----
    ConvergenceWarning
        When some groups reached ``max_iter`` without converging (one warning with
        their number).

    Examples
    --------
    >>> import numpy as np
    >>> from fastgmm import fit_many
    >>> rng = np.random.default_rng(0)
    >>> X = np.concatenate([rng.normal(c, 1.0, (50, 2)) for c in (0, 0, 8, 8)])
    >>> X = X.reshape(2, 100, 2)  # two groups of 100 points
    >>> res = fit_many(X, n_components=2, covariance_type="diag", random_state=0)
    >>> res.means.shape, bool(res.converged.all())
    ((2, 2, 2), True)
    """
    from ._kernels import batched

    _check_number("n_components", n_components, int, 1, True)
    _check_number("tol", tol, float, 0.0, True)
    _check_number("reg_covar", reg_covar, float, 0.0, True)
    _check_number("max_iter", max_iter, int, 0, True)
    if covariance_type not in _COVARIANCE_TYPES:
        raise ValueError(
            f"Invalid covariance_type {covariance_type!r}; choose one of {_COVARIANCE_TYPES}."
        )
    if init not in _INITS:
        raise ValueError(
            f"Invalid init {init!r}; fit_many supports {_INITS} or given "
            "weights_init/means_init/precisions_init."
        )
    if errors not in ("raise", "ignore"):
        raise ValueError(f"errors must be 'raise' or 'ignore', got {errors!r}.")

    arr = np.asarray(X) if not isinstance(X, np.ndarray) else X
    if arr.ndim == 3:
        if group_offsets is not None:
            raise ValueError(
                "group_offsets must be None for 3-D X (equal-size groups); pass 2-D X "
                "with group_offsets for ragged groups."
            )
        n_groups, size = arr.shape[0], arr.shape[1]
        X2 = check_X(arr.reshape(n_groups * size, arr.shape[2]))
        offsets = _check_offsets(np.arange(n_groups + 1) * size, X2.shape[0], n_components)
    else:
        if group_offsets is None:
            raise ValueError(
                "group_offsets is required for 2-D X: pass [0, end_0, ..., n_samples], or "
                "pass a 3-D array (n_groups, group_size, n_features) of equal-size groups."
            )
        X2 = check_X(arr)
        offsets = _check_offsets(group_offsets, X2.shape[0], n_components)
    n_groups = offsets.shape[0] - 1
    n_features = X2.shape[1]
    k = int(n_components)
    cov = covariance_type
    sw = check_sample_weight(sample_weight, X2.shape[0])

    given = _given_init(weights_init, means_init, precisions_init, cov, n_groups, k, n_features)
    shape = (n_groups, *covariance_shape(cov, k, n_features))
    status = np.zeros(n_groups, dtype=np.int64)
    if given is not None:
        weights, means, covariances, prec_chol = given
        group_seeds = None
    else:
        group_seeds = _check_seeds(seeds, random_state, n_groups)
        weights = np.empty((n_groups, k))
        means = np.empty((n_groups, k, n_features))
        covariances = np.empty(shape)
        prec_chol = np.empty(shape)
        first_u, trial_u = _draw_kmeanspp_uniforms(batched, group_seeds, k)
        getattr(batched, f"init_many_kmeanspp_{cov}")(
            X2, offsets, sw, first_u, trial_u, float(reg_covar),
            weights, means, covariances, prec_chol, status,
        )  # fmt: skip

    lower_bound = np.empty(n_groups)
    n_iter = np.zeros(n_groups, dtype=np.int64)
    converged = np.zeros(n_groups, dtype=bool)
    getattr(batched, f"fit_many_{cov}")(
        X2, offsets, sw, int(max_iter), float(tol), float(reg_covar),
        weights, means, covariances, prec_chol, lower_bound, n_iter, converged, status,
    )  # fmt: skip

    failed = np.flatnonzero(status)
    if failed.size:
        if errors == "raise":
            shown = ", ".join(str(int(g)) for g in failed[:10])
            more = f" and {failed.size - 10} more" if failed.size > 10 else ""
            raise ValueError(
                f"Group(s) {shown}{more}: {ILL_DEFINED_MESSAGE} Pass errors='ignore' to get "
                "NaN parameters for those groups instead."
            )
        for arr_ in (weights, means, covariances, prec_chol):
            arr_[failed] = np.nan
        lower_bound[failed] = np.nan
        converged[failed] = False
    not_converged = int(np.count_nonzero(~converged & (status == 0)))
    if not_converged and max_iter > 0:
        warnings.warn(
            f"{not_converged} of {n_groups} groups did not converge within max_iter={max_iter}. "
            "Increase max_iter or tol, or check those groups for degenerate data.",
            ConvergenceWarning,
            stacklevel=2,
        )
    return FitManyResult(
        covariance_type=cov,
        weights=weights,
        means=means,
        covariances=covariances,
        precisions_cholesky=prec_chol,
        lower_bound=lower_bound,
        n_iter=n_iter,
        converged=converged,
        status=status,
        seeds=group_seeds,
    )
