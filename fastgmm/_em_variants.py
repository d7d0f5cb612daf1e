"""EM variants beyond scikit-learn: hard-assignment EM and the responsibility-change rule.

Hard EM (``GaussianMixture(assignment="hard")``) is classification EM: the E-step
gives every sample wholly to its most probable component (one-hot
responsibilities, first component on ties), the M-step is the usual one on those
responsibilities. The fused kernels already do this (``suffstats_<cov>(...,
hard=True)``); this module adds the objective hard EM increases, the
*classification log-likelihood*

    L_C(z, theta) = sum_i w_i log(pi_{z_i} N(x_i | mu_{z_i}, Sigma_{z_i})),

with ``z_i`` the assignment made from ``theta``. Each iteration first maximises
over ``z`` (argmax) and then over ``theta`` (M-step), so ``L_C`` never decreases
(exactly so for ``reg_covar=0``; tests/test_hard_em.py::test_lower_bound_never_decreases),
whereas the mixture log-likelihood ``sum_i w_i log p(x_i)`` may. It is computed
from the statistics the kernel returns (centred at the means), with no extra pass
over the data: ``sum_{i in k} w_i (x_i - mu_k)^T P_k (x_i - mu_k) = tr(P_k S_k)``.

The responsibility-change rule (``stopping="resp_change"``) stops when
``max_ik |r_ik(theta_t) - r_ik(theta_{t-1})| < resp_tol``: the responsibilities
the next E-step would use against the ones this iteration used. It needs the
previous responsibilities, so it stores them: two ``n_samples x n_components``
float64 arrays (``16 * n_samples * n_components`` bytes, e.g. 160 MB for 10^6
samples and 10 components) and one extra streamed E-step per iteration. With
``assignment="hard"`` responsibilities are one-hot, so only the labels are
stored (``16 * n_samples`` bytes) and the change is 1 if any label moved, else 0.
Samples of zero weight are left out of the comparison (as if dropped).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ._reference import LOG_2PI

#: Values of ``GaussianMixture(assignment=...)``.
ASSIGNMENTS: tuple[str, ...] = ("soft", "hard")
#: Values of ``GaussianMixture(stopping=...)``.
STOPPING_RULES: tuple[str, ...] = ("lower_bound", "resp_change")
#: Rows per block when comparing stored responsibilities (bounds the temporaries).
_COMPARE_BLOCK = 65536


def check_em_variant_params(est: Any) -> None:
    """Validate ``assignment``, ``stopping`` and ``resp_tol`` of a GaussianMixture.

    Raises
    ------
    ValueError
        For a value outside the allowed set or a negative ``resp_tol``.
    TypeError
        For a ``resp_tol`` that is not a real number.
    """
    if est.assignment not in ASSIGNMENTS:
        raise ValueError(f"Invalid assignment {est.assignment!r}; choose one of {ASSIGNMENTS}.")
    if est.stopping not in STOPPING_RULES:
        raise ValueError(f"Invalid stopping {est.stopping!r}; choose one of {STOPPING_RULES}.")
    tol = est.resp_tol
    if isinstance(tol, bool) or not isinstance(tol, (int, float, np.integer, np.floating)):
        raise TypeError(f"resp_tol must be a number, got {tol!r}.")
    if not tol >= 0:
        raise ValueError(f"resp_tol must be >= 0, got {tol!r}.")


def _symmetric_from_upper(sxx: np.ndarray) -> np.ndarray:
    """Full symmetric matrices from their upper triangle (last two axes)."""
    upper = np.triu(sxx)
    return upper + np.swapaxes(np.triu(sxx, 1), -1, -2)


def classification_log_likelihood(
    covariance_type: str,
    nk: np.ndarray,
    sxx: np.ndarray,
    weights: np.ndarray,
    precisions_chol: np.ndarray,
    n_features: int,
) -> float:
    """Classification log-likelihood ``L_C`` from hard-EM statistics.

    Parameters
    ----------
    covariance_type : {"full", "tied", "diag", "spherical"}
    nk : ndarray of shape (n_components,)
        Weighted counts of the samples assigned to each component.
    sxx : ndarray
        Second moments centred at the means of the E-step (the upper triangle is
        enough for full/tied), shapes as in ``suffstats_<cov>``.
    weights : ndarray of shape (n_components,)
        Mixture weights of the E-step.
    precisions_chol : ndarray
        Precision Cholesky factors of the E-step.
    n_features : int

    Returns
    -------
    log_likelihood : float
        ``sum_i w_i log(pi_{z_i} N(x_i | mu_{z_i}, Sigma_{z_i}))``.
    """
    used = nk > 0  # empty components add nothing (and may have weight 0)
    if covariance_type == "full":
        log_det = np.log(np.diagonal(precisions_chol, axis1=1, axis2=2)).sum(axis=1)
        prec = np.einsum("kij,klj->kil", precisions_chol, precisions_chol)
        quad = np.einsum("kab,kab->k", prec, _symmetric_from_upper(sxx))
    elif covariance_type == "tied":
        log_det = np.full(nk.shape[0], np.log(np.diagonal(precisions_chol)).sum())
        prec = precisions_chol @ precisions_chol.T
        quad = np.zeros(nk.shape[0])  # the shared quadratic term is added once below
    elif covariance_type == "diag":
        log_det = np.log(precisions_chol).sum(axis=1)
        quad = np.sum(precisions_chol**2 * sxx, axis=1)
    else:  # spherical: sxx holds the traces
        log_det = n_features * np.log(precisions_chol)
        quad = precisions_chol**2 * sxx
    const = -0.5 * n_features * LOG_2PI + log_det
    total = float(np.sum(nk[used] * (np.log(weights[used]) + const[used]) - 0.5 * quad[used]))
    if covariance_type == "tied":
        total -= 0.5 * float(np.sum(prec * _symmetric_from_upper(sxx)))
    return total


class RespChangeTracker:
    """Responsibilities of the previous iteration, for ``stopping="resp_change"``.

    Parameters
    ----------
    e_step : callable
        ``e_step_<cov>_parallel`` of the backend.
    X : ndarray of shape (n_samples, n_features)
        Validated data.
    sample_weight : ndarray of shape (n_samples,) or (0,)
        Rows of zero weight are ignored.
    hard : bool
        Compare labels (one-hot responsibilities) instead of soft responsibilities.
    params : tuple
        ``(weights, means, covariances, precisions_chol)`` the first E-step uses.
    """

    def __init__(self, e_step, X, sample_weight, hard, params) -> None:
        self.e_step = e_step
        self.X = X
        self.hard = hard
        n_samples = X.shape[0]
        n_components = params[1].shape[0]
        self.keep = None if sample_weight.shape[0] == 0 else sample_weight > 0
        if hard:
            self.prev = np.empty(n_samples, dtype=np.int64)
            self.cur = np.empty(n_samples, dtype=np.int64)
        else:
            self.prev = np.empty((n_samples, n_components))
            self.cur = np.empty((n_samples, n_components))
        self._responsibilities(params, self.prev)

    def _responsibilities(self, params, out) -> None:
        weights, means, _, prec_chol = params
        weights, means, prec_chol = (
            np.ascontiguousarray(a, dtype=np.float64) for a in (weights, means, prec_chol)
        )
        empty = np.empty(0)
        if self.hard:
            self.e_step(
                self.X, weights, means, prec_chol, empty, out, np.empty((0, means.shape[0]))
            )
        else:
            self.e_step(self.X, weights, means, prec_chol, empty, np.empty(0, np.int64), out)
            np.exp(out, out=out)

    def update(self, params) -> float:
        """Store the responsibilities under ``params``; return the max change since the last call.

        Parameters
        ----------
        params : tuple
            ``(weights, means, covariances, precisions_chol)`` after an M-step.

        Returns
        -------
        change : float
            ``max |r_ik - r_ik_prev|`` over samples of positive weight (0 or 1 when hard).
        """
        self._responsibilities(params, self.cur)
        change = 0.0
        for start in range(0, self.X.shape[0], _COMPARE_BLOCK):
            stop = start + _COMPARE_BLOCK
            moved = self.cur[start:stop] != self.prev[start:stop]
            if not self.hard:
                moved = np.abs(self.cur[start:stop] - self.prev[start:stop]).max(axis=1)
            if self.keep is not None:
                moved = moved[self.keep[start:stop]]
            if moved.size:
                change = max(change, float(moved.max()))
        self.prev, self.cur = self.cur, self.prev
        return change
