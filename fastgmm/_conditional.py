"""Conditioning a fitted Gaussian mixture (Gaussian mixture regression) for every covariance type.

For a mixture over features ``[x, y]`` (``x`` the features at ``indices_given``,
``y`` the others in increasing order), ``p(y | x = a)`` is again a Gaussian
mixture with, for component ``k``,

* weight ``pi_k N(a | mu_x,k, Sigma_xx,k) / sum_j pi_j N(a | mu_x,j, Sigma_xx,j)``:
  the responsibilities of the marginal mixture over ``x`` (computed by the
  streamed E-step kernel of the same covariance type);
* mean ``mu_y,k + A_k (a - mu_x,k)`` with ``A_k = Sigma_yx,k Sigma_xx,k^{-1}``
  (:mod:`fastgmm._kernels.condition`);
* covariance ``Sigma_yy,k - A_k Sigma_xy,k``, the same for every ``a``.

The conditional mixture keeps the covariance type: ``tied`` stays tied (one
``A`` and one conditional covariance); for ``diag`` and ``spherical``, ``y`` is
independent of ``x`` within a component, so ``A = 0`` and the covariances are
those of ``y``, but the weights still depend on ``a``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ._backend import gmm_ops
from ._covariance import precision_cholesky_from_covariances
from ._validation import check_X

__all__ = ["ConditionalMixture", "condition", "regress"]


def _condition_kernels(backend: str):
    if backend == "numpy":
        from . import _reference_condition

        return _reference_condition
    from ._kernels import condition

    return condition


def _split_features(model: Any, indices_given: Any) -> tuple[np.ndarray, np.ndarray]:
    """Return the validated (given, target) feature indices."""
    model._check_is_fitted("precisions_cholesky_")
    n_features = model.n_features_in_
    idx = np.atleast_1d(np.asarray(indices_given))
    if idx.dtype.kind == "b":
        if idx.shape != (n_features,):
            raise ValueError(
                f"A boolean indices_given needs one entry per feature ({n_features}), "
                f"got shape {idx.shape}."
            )
        idx = np.flatnonzero(idx)
    if idx.ndim != 1 or idx.size == 0 or idx.dtype.kind not in "iu":
        raise ValueError(
            f"indices_given must be a non-empty list of feature indices, got {indices_given!r}."
        )
    if idx.min() < -n_features or idx.max() >= n_features:
        raise ValueError(
            f"indices_given {idx.tolist()} out of range for a model with {n_features} features."
        )
    idx = np.where(idx < 0, idx + n_features, idx).astype(np.intp)
    if np.unique(idx).size != idx.size:
        raise ValueError(f"indices_given {idx.tolist()} repeats a feature; list each once.")
    target = np.setdiff1d(np.arange(n_features), idx)
    if target.size == 0:
        raise ValueError(
            "indices_given lists every feature: nothing is left to predict. "
            "Leave at least one feature out."
        )
    return idx, target


def conditional_parameters(model: Any, given: np.ndarray, target: np.ndarray) -> dict[str, Any]:
    """Per-component algebra of conditioning (independent of the query points).

    Parameters
    ----------
    model : GaussianMixture
        Fitted.
    given, target : ndarray of int
        Feature indices of ``x`` and ``y``.

    Returns
    -------
    params : dict
        ``weights``, ``means_given``, ``precisions_chol_given`` (the marginal
        mixture over ``x``), ``means_target``, ``regression`` (n_components,
        n_target, n_given) and ``covariances`` of the conditional components
        (shaped for the covariance type over ``y``).
    """
    cov_type = model.covariance_type
    f = np.float64
    weights = np.ascontiguousarray(model.weights_, f)
    means = np.asarray(model.means_, f)
    covs = np.asarray(model.covariances_, f)
    n_components = means.shape[0]
    if cov_type in ("full", "tied"):
        mats = covs if cov_type == "full" else covs[np.newaxis]
        s_xx = mats[:, given][:, :, given]
        s_xy = mats[:, given][:, :, target]
        s_yy = mats[:, target][:, :, target]
        regression = np.swapaxes(np.linalg.solve(s_xx, s_xy), 1, 2)  # Sigma_yx Sigma_xx^-1
        cond = s_yy - regression @ s_xy
        cond = 0.5 * (cond + np.swapaxes(cond, 1, 2))
        if cov_type == "tied":
            s_xx, cond = s_xx[0], cond[0]
            regression = np.repeat(regression, n_components, axis=0)
    elif cov_type == "diag":
        s_xx, cond = covs[:, given], covs[:, target]
        regression = np.zeros((n_components, target.size, given.size))
    else:  # spherical: one variance per component, on x and on y alike
        s_xx, cond = covs, covs.copy()
        regression = np.zeros((n_components, target.size, given.size))
    return {
        "weights": weights,
        "means_given": np.ascontiguousarray(means[:, given]),
        "precisions_chol_given": np.ascontiguousarray(
            precision_cholesky_from_covariances(s_xx, cov_type)
        ),
        "means_target": np.ascontiguousarray(means[:, target]),
        "regression": np.ascontiguousarray(regression),
        "covariances": np.ascontiguousarray(cond),
    }


def _conditional_weights(model: Any, params: dict[str, Any], X_given: np.ndarray) -> np.ndarray:
    """Responsibilities of the marginal mixture over ``x``: (n_queries, n_components)."""
    e_step = gmm_ops(model.backend, model.covariance_type).e_step
    n_components = params["weights"].shape[0]
    log_resp = np.empty((X_given.shape[0], n_components))
    e_step(
        X_given,
        params["weights"],
        params["means_given"],
        params["precisions_chol_given"],
        np.empty(0),
        np.empty(0, dtype=np.int64),
        log_resp,
    )
    return np.exp(log_resp, out=log_resp)


@dataclass
class ConditionalMixture:
    """The mixtures ``p(y | x = a_q)`` for many query points ``a_q``.

    Attributes
    ----------
    weights : ndarray of shape (n_queries, n_components)
        Conditional weights (rows sum to 1).
    means : ndarray of shape (n_queries, n_components, n_target)
        Conditional means of every component.
    covariances : ndarray
        Conditional covariances, the same for every query, shaped for
        ``covariance_type`` over the ``n_target`` features.
    covariance_type : str
    indices_given : ndarray of int
        Features conditioned on.
    indices_target : ndarray of int
        Features of ``y``, in the order of the last axis of ``means``.
    """

    weights: np.ndarray
    means: np.ndarray
    covariances: np.ndarray
    covariance_type: str
    indices_given: np.ndarray
    indices_target: np.ndarray

    def mean(self) -> np.ndarray:
        """``E[y | x = a_q]`` for every query.

        Returns
        -------
        mean : ndarray of shape (n_queries, n_target)
        """
        return np.einsum("qk,qkt->qt", self.weights, self.means)

    def mixture(self, query: int, model: Any = None):
        """Return the conditional mixture of one query point as a fitted `GaussianMixture`.

        Parameters
        ----------
        query : int
            Row of the query.
        model : GaussianMixture, optional
            Estimator whose ``backend`` and ``random_state`` the result inherits.

        Returns
        -------
        mixture : GaussianMixture
        """
        return _as_mixture(
            model,
            self.covariance_type,
            self.weights[query],
            self.means[query],
            self.covariances,
        )


def _as_mixture(model, cov_type, weights, means, covariances):
    from ._estimator import GaussianMixture

    gm = GaussianMixture(
        n_components=weights.shape[0],
        covariance_type=cov_type,
        backend="numba" if model is None else model.backend,
        random_state=None if model is None else model.random_state,
    )
    dtype = np.float64 if model is None else model.means_.dtype
    prec_chol = precision_cholesky_from_covariances(covariances, cov_type)
    gm._set_parameters((weights, means, covariances, prec_chol), dtype)
    gm.converged_ = True
    gm.n_iter_ = 0
    gm.lower_bound_ = -np.inf
    gm.lower_bounds_ = []
    gm.n_features_in_ = means.shape[1]
    return gm


def _check_given(X_given: Any, n_given: int) -> np.ndarray:
    return check_X(X_given, n_features=n_given, name="X_given")


def condition(model: Any, indices_given: Any, x_given: Any):
    """Condition a fitted mixture on ``x[indices_given] = x_given``.

    Parameters
    ----------
    model : GaussianMixture
        Fitted on features ``[x, y]``.
    indices_given : array-like of int or bool mask
        Features of ``x``.
    x_given : array-like of shape (n_given,) or (n_queries, n_given)
        One query point, or many.

    Returns
    -------
    conditional : GaussianMixture or ConditionalMixture
        For one point (1-D ``x_given``) a fitted `GaussianMixture` over the remaining
        features, of the same covariance type; for a 2-D ``x_given`` a
        `ConditionalMixture` holding the arrays for every query.
    """
    given, target = _split_features(model, indices_given)
    single = np.ndim(x_given) == 1
    X_given = _check_given(np.reshape(x_given, (1, -1)) if single else x_given, given.size)
    params = conditional_parameters(model, given, target)
    weights = _conditional_weights(model, params, X_given)
    means = np.empty((X_given.shape[0],) + params["means_target"].shape)
    _condition_kernels(model.backend).conditional_means_parallel(
        X_given, params["means_given"], params["means_target"], params["regression"], means
    )
    if single:
        return _as_mixture(
            model, model.covariance_type, weights[0], means[0], params["covariances"]
        )
    return ConditionalMixture(
        weights, means, params["covariances"], model.covariance_type, given, target
    )


def regress(model: Any, indices_given: Any, X_given: Any) -> np.ndarray:
    """Gaussian mixture regression: ``E[y | x = a]`` for every row ``a`` of ``X_given``.

    Parameters
    ----------
    model : GaussianMixture
        Fitted on features ``[x, y]``.
    indices_given : array-like of int or bool mask
        Features of ``x``.
    X_given : array-like of shape (n_queries, n_given)

    Returns
    -------
    y_mean : ndarray of shape (n_queries, n_target)
        Conditional means, float64; the target features are the ones not in
        ``indices_given``, in increasing order.
    """
    given, target = _split_features(model, indices_given)
    X_given = _check_given(X_given, given.size)
    params = conditional_parameters(model, given, target)
    weights = _conditional_weights(model, params, X_given)
    out = np.empty((X_given.shape[0], target.size))
    _condition_kernels(model.backend).conditional_expectation_parallel(
        X_given, weights, params["means_given"], params["means_target"], params["regression"], out
    )
    return out
