"""Model selection over (n_components, covariance_type) by BIC or AIC.

`select` fits every candidate of a grid back to back on data validated once
(kernels are compiled once per covariance type and cached), scores each with the
same arithmetic as :meth:`GaussianMixture.bic`/:meth:`~GaussianMixture.aic`, and
returns the table with the best candidate itself: nothing is refitted, so the
table's BIC of the best row equals ``best.bic(X)`` exactly.
`GaussianMixtureIC` wraps it as a scikit-learn style estimator.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Iterable
from typing import Any

import numpy as np

from ._base import ParamsMixin
from ._estimator import GaussianMixture
from ._types import COVARIANCE_TYPES
from ._validation import ConvergenceWarning, check_sample_weight, check_X

__all__ = ["GaussianMixtureIC", "information_criteria", "select"]

CRITERIA: tuple[str, ...] = ("bic", "aic")


def information_criteria(model: GaussianMixture, X: np.ndarray, sample_weight: np.ndarray):
    """BIC, AIC and total log-likelihood of a fitted model on validated data.

    Unweighted, this is scikit-learn's arithmetic (``-2 * score * n + p * log n``).
    With weights, the mean log-likelihood is weighted and ``n`` becomes the
    effective sample size ``sum_i w_i``, so integer weights equal repeated rows.

    Parameters
    ----------
    model : GaussianMixture
        A fitted model.
    X : ndarray of shape (n_samples, n_features)
        Data already checked by ``check_X``.
    sample_weight : ndarray of shape (n_samples,) or (0,)
        From ``check_sample_weight`` (length 0: unweighted).

    Returns
    -------
    criteria : dict
        ``{"bic", "aic", "log_likelihood", "n_parameters"}``; ``log_likelihood`` is
        the (weighted) sum ``sum_i w_i log p(x_i)``.
    """
    log_prob = model._e_step_outputs(X, norm=True)[0]
    if sample_weight.shape[0] == 0:
        mean_ll = float(log_prob.mean())
        n_eff = X.shape[0]
    else:
        n_eff = float(sample_weight.sum())
        mean_ll = float(np.dot(sample_weight, log_prob) / n_eff)
    n_params = model._n_parameters()
    return {
        "bic": float(-2.0 * mean_ll * n_eff + n_params * np.log(n_eff)),
        "aic": float(-2.0 * mean_ll * n_eff + 2 * n_params),
        "log_likelihood": float(mean_ll * n_eff),
        "n_parameters": n_params,
    }


def _grid(n_components: Any, covariance_type: Any) -> tuple[list[int], list[str]]:
    if isinstance(n_components, (int, np.integer)) and not isinstance(n_components, bool):
        ks = [int(n_components)]
    elif isinstance(n_components, Iterable) and not isinstance(n_components, (str, bytes)):
        ks = list(n_components)
    else:
        raise TypeError(
            f"n_components must be an int or an iterable of ints (e.g. range(1, 11)), "
            f"got {n_components!r}."
        )
    if not ks:
        raise ValueError("n_components is empty; pass at least one number of components.")
    for k in ks:
        if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
            raise ValueError(f"n_components must hold positive ints, got {k!r}.")
    if covariance_type == "all":
        types = list(COVARIANCE_TYPES)
    elif isinstance(covariance_type, str):
        types = [covariance_type]
    else:
        types = list(covariance_type)
    bad = [t for t in types if t not in COVARIANCE_TYPES]
    if not types or bad:
        raise ValueError(
            f"Invalid covariance_type {covariance_type!r}; pass 'all', one of "
            f"{COVARIANCE_TYPES} or a list of them."
        )
    return [int(k) for k in dict.fromkeys(ks)], list(dict.fromkeys(types))


def select(
    X: Any,
    n_components: Any = range(1, 11),
    covariance_type: Any = "all",
    *,
    criterion: str = "bic",
    sample_weight: Any = None,
    **params: Any,
) -> tuple[list[dict[str, Any]], GaussianMixture]:
    """Fit a grid of Gaussian mixtures and return the table and the best model.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
        Validated once for the whole grid.
    n_components : int or iterable of int, default=(1, 2, ..., 10)
        Numbers of components to try (each at most ``n_samples``).
    covariance_type : "all", str or list of str, default="all"
        Covariance types to try; ``"all"`` is full, tied, diag and spherical.
    criterion : {"bic", "aic"}, default="bic"
        The best model has the lowest value.
    sample_weight : array-like of shape (n_samples,), default=None
        Weights used in every fit and in the criteria (``n = sum of weights``).
    **params
        Further `GaussianMixture` parameters for every candidate (``random_state``,
        ``n_init``, ``max_iter``, ``tol``, ``reg_covar``, ``backend``, ``assignment``, ...).

    Returns
    -------
    results : list of dict
        One row per candidate, in grid order (covariance type, then n_components),
        with keys ``n_components``, ``covariance_type``, ``bic``, ``aic``,
        ``log_likelihood`` (weighted sum), ``n_parameters``, ``converged``,
        ``n_iter``, ``fit_time`` (seconds) and ``error`` (``None``, or the message
        of a fit that failed, whose criteria are then ``inf``).
    best : GaussianMixture
        The fitted candidate with the lowest criterion (not refitted).

    Raises
    ------
    ValueError
        On an invalid grid or criterion, or if every candidate failed.

    Notes
    -----
    A candidate that stops at ``max_iter`` is recorded with ``converged=False``
    instead of warning; a `ConvergenceWarning` is raised only if the best one did not
    converge.

    Examples
    --------
    >>> import numpy as np
    >>> import fastgmm
    >>> rng = np.random.default_rng(0)
    >>> X = np.concatenate([rng.normal(0, 1, (100, 2)), rng.normal(8, 1, (100, 2))])
    >>> table, best = fastgmm.select(X, range(1, 5), "full", random_state=0)
    >>> best.n_components, len(table)
    (2, 4)
    """
    results, models, best_index = _fit_grid(
        X, n_components, covariance_type, criterion, sample_weight, params
    )
    return results, models[best_index]


def _fit_grid(X, n_components, covariance_type, criterion, sample_weight, params):
    if criterion not in CRITERIA:
        raise ValueError(f"Invalid criterion {criterion!r}; choose one of {CRITERIA}.")
    for name in ("n_components", "covariance_type"):
        if name in params:
            raise TypeError(f"{name} is given twice.")
    ks, types = _grid(n_components, covariance_type)
    X = check_X(X, min_samples=max(ks))
    sw = check_sample_weight(sample_weight, X.shape[0])
    results: list[dict[str, Any]] = []
    models: list[GaussianMixture | None] = []
    for cov in types:  # one covariance type at a time: its kernels are compiled once
        for k in ks:
            model = GaussianMixture(k, covariance_type=cov, **params)
            row: dict[str, Any] = {"n_components": k, "covariance_type": cov}
            start = time.perf_counter()
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", ConvergenceWarning)
                    model._fit(X, sw, validated=True)
            except ValueError as exc:  # e.g. a collapsed component for too large k
                row.update(
                    bic=np.inf, aic=np.inf, log_likelihood=-np.inf, converged=False, n_iter=0
                )
                row.update(fit_time=time.perf_counter() - start, error=str(exc))
                row["n_parameters"] = None
                results.append(row)
                models.append(None)
                continue
            fit_time = time.perf_counter() - start
            row.update(information_criteria(model, X, sw))
            row.update(
                converged=bool(model.converged_),
                n_iter=int(model.n_iter_),
                fit_time=fit_time,
                error=None,
            )
            results.append(row)
            models.append(model)
    scores = np.array([row[criterion] for row in results], dtype=np.float64)
    if not np.isfinite(scores).any():
        raise ValueError(
            "Every candidate failed to fit: " + results[0]["error"] + " Use fewer components."
        )
    best_index = int(np.argmin(scores))
    if not results[best_index]["converged"]:
        warnings.warn(
            f"The best candidate ({results[best_index]['n_components']} components, "
            f"{results[best_index]['covariance_type']!r}) did not converge; increase "
            "max_iter or tol.",
            ConvergenceWarning,
            stacklevel=3,
        )
    return results, models, best_index


class GaussianMixtureIC(ParamsMixin):
    """Gaussian mixture whose size and covariance type are chosen by BIC or AIC.

    Fits one `GaussianMixture` per (n_components, covariance_type) of the grid on
    data validated once, keeps the fitted candidate with the lowest criterion as
    ``best_estimator_`` (no refit) and delegates ``predict``, ``score`` etc. to it.

    Parameters
    ----------
    n_components : int or iterable of int, default=(1, 2, ..., 10)
        Numbers of components to try.
    covariance_type : "all", str or list of str, default="all"
        Covariance types to try.
    criterion : {"bic", "aic"}, default="bic"
        Lower is better.
    tol, reg_covar, max_iter, n_init, init_params, random_state, backend, assignment, stopping
        Passed to every candidate `GaussianMixture` (same meaning and defaults).

    Attributes
    ----------
    results_ : list of dict
        One row per candidate (see `select` for the keys).
    best_index_ : int
        Row of ``results_`` of the best candidate.
    best_estimator_ : GaussianMixture
        The best fitted candidate.
    best_params_ : dict
        Its ``n_components`` and ``covariance_type``.
    n_features_in_ : int

    Examples
    --------
    >>> import numpy as np
    >>> from fastgmm import GaussianMixtureIC
    >>> rng = np.random.default_rng(0)
    >>> X = np.concatenate([rng.normal(0, 1, (100, 2)), rng.normal(8, 1, (100, 2))])
    >>> ic = GaussianMixtureIC(n_components=range(1, 5), random_state=0).fit(X)
    >>> ic.best_params_["n_components"]
    2
    """

    def __init__(
        self,
        n_components: Any = (1, 2, 3, 4, 5, 6, 7, 8, 9, 10),
        *,
        covariance_type: Any = "all",
        criterion: str = "bic",
        tol: float = 1e-3,
        reg_covar: float = 1e-6,
        max_iter: int = 100,
        n_init: int = 1,
        init_params: str = "kmeans",
        random_state: Any = None,
        backend: str = "numba",
        assignment: str = "soft",
        stopping: str = "lower_bound",
    ) -> None:
        self.n_components = n_components
        self.covariance_type = covariance_type
        self.criterion = criterion
        self.tol = tol
        self.reg_covar = reg_covar
        self.max_iter = max_iter
        self.n_init = n_init
        self.init_params = init_params
        self.random_state = random_state
        self.backend = backend
        self.assignment = assignment
        self.stopping = stopping

    def fit(self, X: Any, y: Any = None, sample_weight: Any = None) -> GaussianMixtureIC:
        """Fit every candidate and keep the best.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : Ignored
        sample_weight : array-like of shape (n_samples,), default=None

        Returns
        -------
        self : GaussianMixtureIC
        """
        params = self.get_params()
        grid = {name: params.pop(name) for name in ("n_components", "covariance_type")}
        criterion = params.pop("criterion")
        results, models, best = _fit_grid(
            X, grid["n_components"], grid["covariance_type"], criterion, sample_weight, params
        )
        self.results_ = results
        self.best_index_ = best
        self.best_estimator_ = models[best]
        self.best_params_ = {
            "n_components": results[best]["n_components"],
            "covariance_type": results[best]["covariance_type"],
        }
        self.n_features_in_ = self.best_estimator_.n_features_in_
        return self

    def _best(self) -> GaussianMixture:
        self._check_is_fitted("best_estimator_")
        return self.best_estimator_

    def predict(self, X: Any) -> np.ndarray:
        """Most probable component of every sample under the best model.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        labels : ndarray of shape (n_samples,)
        """
        return self._best().predict(X)

    def fit_predict(self, X: Any, y: Any = None, sample_weight: Any = None) -> np.ndarray:
        """Fit, then label ``X`` with the best model.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : Ignored
        sample_weight : array-like of shape (n_samples,), default=None

        Returns
        -------
        labels : ndarray of shape (n_samples,)
        """
        return self.fit(X, sample_weight=sample_weight).predict(X)

    def predict_proba(self, X: Any) -> np.ndarray:
        """Responsibilities under the best model.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        resp : ndarray of shape (n_samples, best n_components)
        """
        return self._best().predict_proba(X)

    def score_samples(self, X: Any) -> np.ndarray:
        """Log-likelihood of every sample under the best model.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        log_prob : ndarray of shape (n_samples,)
        """
        return self._best().score_samples(X)

    def score(self, X: Any, y: Any = None, sample_weight: Any = None) -> float:
        """Per-sample average log-likelihood under the best model.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : Ignored
        sample_weight : array-like of shape (n_samples,), default=None

        Returns
        -------
        log_likelihood : float
        """
        return self._best().score(X, sample_weight=sample_weight)

    def bic(self, X: Any, sample_weight: Any = None) -> float:
        """BIC of the best model on ``X``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        sample_weight : array-like of shape (n_samples,), default=None

        Returns
        -------
        bic : float
        """
        return self._best().bic(X, sample_weight=sample_weight)

    def aic(self, X: Any, sample_weight: Any = None) -> float:
        """AIC of the best model on ``X``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        sample_weight : array-like of shape (n_samples,), default=None

        Returns
        -------
        aic : float
        """
        return self._best().aic(X, sample_weight=sample_weight)

    def sample(self, n_samples: int = 1, random_state: Any = None):
        """Draw samples from the best model.

        Parameters
        ----------
        n_samples : int, default=1
        random_state : int, RandomState instance or None, default=None

        Returns
        -------
        X : ndarray of shape (n_samples, n_features)
        y : ndarray of shape (n_samples,)
        """
        return self._best().sample(n_samples, random_state=random_state)
