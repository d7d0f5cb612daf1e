"""Stepwise online EM for ``GaussianMixture.partial_fit`` (Cappé & Moulines, 2009).

The model keeps running averages ``s`` of the per-sample sufficient statistics
(``nk``, ``sx = sum r (x - c)``, ``sxx = sum r (x - c)(x - c)^T``, all divided
by the batch's total weight and taken around a fixed shift ``c``). For batch
``t = 1, 2, ...`` after the first:

1. E-step on the batch with the current parameters (the same kernels as
   ``fit``): its normalised statistics ``s_hat``;
2. ``s <- (1 - rho_t) s + rho_t s_hat`` with step size
   ``rho_t = (t + learning_offset) ** -learning_decay``;
3. M-step from ``s`` (the same kernel as ``fit``, ``reg_covar`` included).

``learning_decay`` (kappa) must lie in (0.5, 1] so that ``sum rho_t`` diverges
and ``sum rho_t**2`` converges (the Robbins-Monro conditions); ``learning_offset``
(t0 >= 0) damps the first steps. The names and defaults are those of
scikit-learn's online ``LatentDirichletAllocation`` (kappa = 0.7, t0 = 10).
With ``learning_decay=1`` and ``learning_offset=1``, ``rho_t = 1 / (t + 1)``
and ``s`` is the plain average over equally sized batches.

Warm start: the first call on an unfitted model runs an ordinary ``fit`` on the
first batch. On a fitted model (first batch, ``fit``, ``load``...), ``s`` is
the statistics implied by the current parameters, so the next M-step without
new data would return them unchanged.
"""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np

from ._backend import backend_module, gmm_ops
from ._streaming import empty_stats
from ._validation import check_params, check_sample_weight, check_X


class OnlineState:
    """Running averages of the statistics, their shift and the batch counter ``t``."""

    def __init__(self, nk, sx, sxx, shift, owner):
        self.nk, self.sx, self.sxx, self.shift = nk, sx, sxx, shift
        self.t = 0
        self.owner = owner  # the ``means_`` array these statistics belong to


def check_schedule(learning_decay: Any, learning_offset: Any) -> tuple[float, float]:
    """Validate ``(kappa, t0)`` of the step-size schedule."""
    for name, value in (("learning_decay", learning_decay), ("learning_offset", learning_offset)):
        if not isinstance(value, numbers.Real) or isinstance(value, bool):
            raise TypeError(f"{name} must be a number, got {value!r}.")
    if not 0.5 < learning_decay <= 1.0:
        raise ValueError(
            f"learning_decay must be in (0.5, 1] (stepwise EM converges only there), "
            f"got {learning_decay!r}."
        )
    if not learning_offset >= 0.0:
        raise ValueError(f"learning_offset must be >= 0, got {learning_offset!r}.")
    return float(learning_decay), float(learning_offset)


def step_size(t: int, learning_decay: float, learning_offset: float) -> float:
    """``rho_t = (t + learning_offset) ** -learning_decay``."""
    return float((t + learning_offset) ** -learning_decay)


def stats_from_parameters(weights, means, covariances, covariance_type, reg_covar):
    """Normalised statistics around ``means`` whose M-step returns these parameters."""
    w = np.asarray(weights, dtype=np.float64)
    cov = np.asarray(covariances, dtype=np.float64)
    n_components, n_features = np.shape(means)
    nk, sx, sxx = empty_stats(covariance_type, n_components, n_features)
    nk[:] = w
    if covariance_type == "full":
        sxx[:] = w[:, np.newaxis, np.newaxis] * (cov - reg_covar * np.eye(n_features))
    elif covariance_type == "tied":
        sxx[:] = w.sum() * (cov - reg_covar * np.eye(n_features))
    elif covariance_type == "diag":
        sxx[:] = w[:, np.newaxis] * (cov - reg_covar)
    else:
        sxx[:] = w * n_features * (cov - reg_covar)
    return nk, sx, sxx


def batch_stats(est, X, sw, shift):
    """Normalised statistics of a batch around ``shift`` and its weighted log-likelihood."""
    weights, means, prec_chol = est._fitted_params()
    cov = est.covariance_type
    ops = gmm_ops(est.backend, cov)
    n, k = X.shape[0], means.shape[0]
    log_prob_norm = np.empty(n)
    log_resp = np.empty((n, k))
    ops.e_step(X, weights, means, prec_chol, log_prob_norm, np.empty(0, np.int64), log_resp)
    resp = np.exp(log_resp, out=log_resp)
    nk, sx, sxx = empty_stats(cov, k, X.shape[1])
    getattr(backend_module(est.backend), f"accumulate_{cov}")(X, sw, resp, shift, nk, sx, sxx)
    total = float(n if sw.shape[0] == 0 else sw.sum())
    log_lik = float(log_prob_norm.sum() if sw.shape[0] == 0 else np.dot(sw, log_prob_norm))
    return nk / total, sx / total, sxx / total, log_lik / total


def partial_fit(est, X: Any, sample_weight: Any = None) -> None:
    """One stepwise-EM update of ``est`` from a batch (see the module docstring)."""
    check_params(est)
    kappa, t0 = check_schedule(est.learning_decay, est.learning_offset)
    fitted = hasattr(est, "precisions_cholesky_")
    if not fitted:
        est.fit(X, sample_weight=sample_weight)
        est._online_state = _state_from_model(est)
        return
    X = check_X(X, n_features=est.n_features_in_, estimator=type(est).__name__)
    sw = check_sample_weight(sample_weight, X.shape[0])
    state = getattr(est, "_online_state", None)
    if state is None or state.owner is not est.means_:
        state = _state_from_model(est)
    state.t += 1
    rho = step_size(state.t, kappa, t0)
    nk_b, sx_b, sxx_b, lower_bound = batch_stats(est, X, sw, state.shift)
    state.nk = (1.0 - rho) * state.nk + rho * nk_b
    state.sx = (1.0 - rho) * state.sx + rho * sx_b
    state.sxx = (1.0 - rho) * state.sxx + rho * sxx_b
    ops = gmm_ops(est.backend, est.covariance_type)
    params = est._m_step(ops, state.nk, state.sx, state.sxx, state.shift)
    est._set_parameters(params, est.means_.dtype)
    est.lower_bound_ = lower_bound
    state.owner = est.means_
    est._online_state = state


def _state_from_model(est) -> OnlineState:
    means = np.array(est.means_, dtype=np.float64)
    nk, sx, sxx = stats_from_parameters(
        est.weights_, means, est.covariances_, est.covariance_type, float(est.reg_covar)
    )
    return OnlineState(nk, sx, sxx, means, est.means_)
