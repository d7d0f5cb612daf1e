"""GaussianMixture: the thin estimator that orchestrates EM over the kernels."""

from __future__ import annotations

import time
import warnings
from typing import Any

import numpy as np

from ._backend import backend_module, gmm_ops
from ._base import ParamsMixin
from ._covariance import (
    covariance_shape,
    covariances_from_cholesky,
    n_parameters,
    precisions_from_cholesky,
    sxx_shape,
)
from ._dask import is_dask_array
from ._degenerate import ill_defined_message
from ._em_variants import (
    RespChangeTracker,
    check_em_variant_params,
    classification_log_likelihood,
)
from ._initialization import initial_parameters
from ._progress import progress
from ._streaming import is_streamed
from ._validation import (
    ConvergenceWarning,
    check_data_scale,
    check_means,
    check_params,
    check_precisions,
    check_random_state,
    check_sample_weight,
    check_weights,
    check_X,
)


class GaussianMixture(ParamsMixin):
    """Gaussian mixture model fitted by expectation-maximisation on Numba kernels.

    A drop-in for :class:`sklearn.mixture.GaussianMixture` (same parameters,
    attributes and methods), whose EM iteration is one fused, blocked, parallel
    pass over the data: no ``n_samples x n_components`` array exists during
    ``fit``, and results do not depend on the number of threads.

    Parameters
    ----------
    n_components : int, default=1
        Number of mixture components.
    covariance_type : {"full", "tied", "diag", "spherical"}, default="full"
        Each component has its own general covariance (``full``), all share one
        (``tied``), each has a diagonal one (``diag``) or a single variance (``spherical``).
    tol : float, default=1e-3
        Stop when the per-sample average log-likelihood (the lower bound) changes
        by less than ``tol``.
    reg_covar : float, default=1e-6
        Added to the diagonal of every covariance, keeping it positive definite.
    max_iter : int, default=100
        Maximum EM iterations per initialisation.
    n_init : int, default=1
        Number of initialisations; the one with the best lower bound is kept.
    init_params : {"kmeans", "k-means++", "random", "random_from_data"}, default="kmeans"
        How the initial responsibilities are chosen: k-means labels, k-means++
        seeds, random responsibilities, or random data points as means.
    weights_init : array-like of shape (n_components,), default=None
        Initial weights (must sum to 1).
    means_init : array-like of shape (n_components, n_features), default=None
        Initial means.
    precisions_init : array-like, default=None
        Initial precisions (inverse covariances), shaped like ``precisions_``.
    random_state : int, RandomState instance or None, default=None
        Seed of the initialisation (and of :meth:`sample`).
    warm_start : bool, default=False
        Start the next ``fit`` from the current parameters (``n_init`` ignored then).
    verbose : int, default=0
        1 prints each initialisation and every ``verbose_interval``-th iteration;
        2 adds time, lower bound and its change.
    verbose_interval : int, default=10
        Iterations between two verbose lines.
    backend : {"numba", "numpy"}, default="numba"
        ``"numpy"`` runs the same algorithm on the pure-NumPy twin (for
        comparisons and debugging).
    assignment : {"soft", "hard"}, default="soft"
        ``"hard"`` runs classification EM: each sample is given wholly to its most
        probable component before the M-step; ``lower_bound_`` is then the
        classification log-likelihood per unit weight, which never decreases.
    stopping : {"lower_bound", "resp_change"}, default="lower_bound"
        Stop when the lower bound changes by less than ``tol`` (scikit-learn), or
        when no responsibility changes by ``resp_tol`` or more between two
        iterations (stores ``2 * n_samples * n_components`` float64 values).
    resp_tol : float, default=1e-3
        Threshold of ``stopping="resp_change"`` on ``max |r_ik - r_ik_prev|``.
    learning_decay : float, default=0.7
        ``kappa`` of the :meth:`partial_fit` step size
        ``rho_t = (t + learning_offset) ** -learning_decay``; in (0.5, 1].
    learning_offset : float, default=10.0
        ``t0 >= 0`` of the :meth:`partial_fit` step size (damps the first batches).

    Attributes
    ----------
    weights_ : ndarray of shape (n_components,)
    means_ : ndarray of shape (n_components, n_features)
    covariances_ : ndarray
        (n_components, n_features, n_features) if full, (n_features, n_features)
        if tied, (n_components, n_features) if diag, (n_components,) if spherical.
    precisions_ : ndarray
        Inverses of ``covariances_``, same shapes.
    precisions_cholesky_ : ndarray
        Upper-triangular ``U`` with ``precisions_ = U @ U.T`` (same shapes).
    converged_ : bool
    n_iter_ : int
        EM iterations of the best initialisation.
    lower_bound_ : float
        Per-sample average log-likelihood of the best initialisation at its last iteration.
    lower_bounds_ : list of float
        ``lower_bound`` at every iteration of the best initialisation.
    n_features_in_ : int

    Examples
    --------
    >>> import numpy as np
    >>> from fastgmm import GaussianMixture
    >>> X = np.array([[1, 2], [1, 4], [1, 0], [10, 2], [10, 4], [10, 0]], dtype=float)
    >>> gm = GaussianMixture(n_components=2, random_state=0).fit(X)
    >>> np.round(np.sort(gm.means_[:, 0]), 3)
    array([ 1., 10.])
    """

    def __init__(
        self,
        n_components: int = 1,
        *,
        covariance_type: str = "full",
        tol: float = 1e-3,
        reg_covar: float = 1e-6,
        max_iter: int = 100,
        n_init: int = 1,
        init_params: str = "kmeans",
        weights_init: Any = None,
        means_init: Any = None,
        precisions_init: Any = None,
        random_state: Any = None,
        warm_start: bool = False,
        verbose: int = 0,
        verbose_interval: int = 10,
        backend: str = "numba",
        assignment: str = "soft",
        stopping: str = "lower_bound",
        resp_tol: float = 1e-3,
        learning_decay: float = 0.7,
        learning_offset: float = 10.0,
    ) -> None:
        self.n_components = n_components
        self.covariance_type = covariance_type
        self.tol = tol
        self.reg_covar = reg_covar
        self.max_iter = max_iter
        self.n_init = n_init
        self.init_params = init_params
        self.weights_init = weights_init
        self.means_init = means_init
        self.precisions_init = precisions_init
        self.random_state = random_state
        self.warm_start = warm_start
        self.verbose = verbose
        self.verbose_interval = verbose_interval
        self.backend = backend
        self.assignment = assignment
        self.stopping = stopping
        self.resp_tol = resp_tol
        self.learning_decay = learning_decay
        self.learning_offset = learning_offset

    # ------------------------------------------------------------------ fitting
    def fit(self, X: Any, y: Any = None, sample_weight: Any = None) -> GaussianMixture:
        """Estimate the model parameters with EM.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            float32 data stays float32 (statistics are accumulated in float64).
            A ``dask.array.Array`` is fitted on its workers and a ``numpy.memmap``
            is streamed block by block (see `fastgmm._dask`, `fastgmm._streaming`).
        y : Ignored
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weight of every sample (an integer weight counts as that
            many repeated rows).

        Returns
        -------
        self : GaussianMixture
        """
        if is_dask_array(X) or is_streamed(X):  # out of core: bounded client memory
            from ._dask import fit_dask
            from ._streaming import fit_streamed

            (fit_dask if is_dask_array(X) else fit_streamed)(self, X, sample_weight)
            return self
        self._fit(X, sample_weight)
        return self

    def fit_predict(self, X: Any, y: Any = None, sample_weight: Any = None) -> np.ndarray:
        """Fit, then return the most probable component of every sample.

        Equal to ``fit(X).predict(X)`` for any ``max_iter``, ``tol`` and seed.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : Ignored
        sample_weight : array-like of shape (n_samples,), default=None

        Returns
        -------
        labels : ndarray of shape (n_samples,)
        """
        if is_dask_array(X) or is_streamed(X):
            return self.fit(X, sample_weight=sample_weight).predict(X)
        X = self._fit(X, sample_weight)
        return self._predict_validated(X)

    def partial_fit(self, X: Any, y: Any = None, sample_weight: Any = None) -> GaussianMixture:
        """Update the model with one batch by stepwise online EM (Cappé & Moulines, 2009).

        The first call on an unfitted model is an ordinary :meth:`fit` on the batch.
        Each later call does one E-step on the batch, moves running averages of the
        sufficient statistics by ``rho_t = (t + learning_offset) ** -learning_decay``
        and does one M-step (see `fastgmm._online`). ``lower_bound_`` becomes the
        batch's average log-likelihood under the parameters before the update.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : Ignored
        sample_weight : array-like of shape (n_samples,), default=None

        Returns
        -------
        self : GaussianMixture
        """
        from ._online import partial_fit

        partial_fit(self, X, sample_weight)
        return self

    def _fit(self, X: Any, sample_weight: Any, *, validated: bool = False) -> np.ndarray:
        check_params(self)
        check_em_variant_params(self)
        if not validated:  # fastgmm._selection validates once for a whole grid
            X = check_X(X, min_samples=self.n_components)
            sample_weight = check_sample_weight(sample_weight, X.shape[0])
        n_samples, n_features = X.shape
        sw = sample_weight
        check_data_scale(X, float(self.reg_covar), float(sw.sum() if sw.shape[0] else n_samples))
        self._check_init_arrays(n_features)

        ops = gmm_ops(self.backend, self.covariance_type)
        tracker = None
        if self.stopping == "resp_change":

            def tracker(params):
                return RespChangeTracker(ops.e_step, X, sw, self.assignment == "hard", params)

        self._run_em(
            initial_parameters=lambda random_state: initial_parameters(self, X, sw, random_state),
            em_step=lambda params: self._em_step(ops, X, sw, params),
            total_weight=float(n_samples if sw.shape[0] == 0 else sw.sum()),
            n_features=n_features,
            dtype=X.dtype,
            make_tracker=tracker,
        )
        return X

    def _run_em(
        self, *, initial_parameters, em_step, total_weight, n_features, dtype, make_tracker=None
    ) -> None:
        """Run the EM loop shared by every data source (in memory, memmap, Dask).

        ``initial_parameters(random_state)`` and ``em_step(params) -> (weighted
        log-likelihood sum, new params)`` are the source-specific parts;
        ``make_tracker(params)``, if given, returns an object whose
        ``update(params)`` is the responsibility change that replaces ``tol``.
        Applies scikit-learn's rules: ``n_init`` keeps the best lower bound,
        ``warm_start`` continues, a ``ConvergenceWarning`` when ``max_iter`` ends it.
        """
        do_init = not (self.warm_start and hasattr(self, "converged_"))
        n_init = self.n_init if do_init else 1
        random_state = check_random_state(self.random_state)
        max_lower_bound = -np.inf
        best = None
        # tqdm bar over n_init x max_iter when verbose and tqdm is installed; else a no-op.
        bar = progress(total=n_init * self.max_iter, enabled=bool(self.verbose), desc="EM")
        for init in range(n_init):
            self._verbose_init_begin(init)
            if do_init:
                params = initial_parameters(random_state)
            else:
                params = self._current_parameters()
            lower_bound = -np.inf if do_init else self.lower_bound_
            lower_bounds: list[float] = []
            converged = False
            n_iter = 0
            tracker = make_tracker(params) if make_tracker and self.max_iter > 0 else None
            for n_iter in range(1, self.max_iter + 1):  # noqa: B007
                prev_lower_bound = lower_bound
                log_lik, params = em_step(params)
                lower_bound = log_lik / total_weight
                lower_bounds.append(lower_bound)
                change = lower_bound - prev_lower_bound
                self._verbose_iter_end(n_iter, lower_bound, change)
                bar.update(1)
                if tracker is None:
                    stop = abs(change) < self.tol
                else:
                    stop = tracker.update(params) < self.resp_tol
                if stop:
                    converged = True
                    break
            if self.max_iter > 0:
                self._verbose_init_end(lower_bound, converged)
            if best is None or lower_bound > max_lower_bound or max_lower_bound == -np.inf:
                max_lower_bound = lower_bound if self.max_iter > 0 else -np.inf
                best = (params, n_iter, lower_bounds, converged)
        bar.close()
        params, n_iter, lower_bounds, converged = best
        if not converged and self.max_iter > 0:
            warnings.warn(
                "Best performing initialization did not converge. Try different init "
                "parameters, or increase max_iter, tol, or check for degenerate data.",
                ConvergenceWarning,
                stacklevel=4,
            )
        self._set_parameters(params, dtype)
        self.converged_ = converged
        self.n_iter_ = n_iter
        self.lower_bound_ = max_lower_bound
        self.lower_bounds_ = lower_bounds
        self.n_features_in_ = n_features

    def _em_step(self, ops, X, sw, params):
        """One fused E+M pass: returns (weighted log-likelihood sum, new parameters)."""
        weights, means, _, prec_chol = params
        n_components, n_features = means.shape
        cov = self.covariance_type
        nk = np.empty(n_components)
        sx = np.empty((n_components, n_features))
        sxx = np.empty(sxx_shape(cov, n_components, n_features))
        hard = self.assignment == "hard"
        log_lik = ops.suffstats(X, sw, weights, means, prec_chol, hard, nk, sx, sxx)
        if hard:  # the objective hard EM increases (fastgmm._em_variants)
            log_lik = classification_log_likelihood(cov, nk, sxx, weights, prec_chol, n_features)
        return float(log_lik), self._m_step(ops, nk, sx, sxx, means)

    def _m_step(self, ops, nk, sx, sxx, shift):
        n_components, n_features = sx.shape
        cov_shape = covariance_shape(self.covariance_type, n_components, n_features)
        weights = np.empty(n_components)
        means = np.empty((n_components, n_features))
        covariances = np.empty(cov_shape)
        prec_chol = np.empty(cov_shape)
        status = ops.m_step(
            nk, sx, sxx, shift, float(self.reg_covar), weights, means, covariances, prec_chol
        )
        if status:
            raise ValueError(ill_defined_message(status, nk, self.covariance_type, self.reg_covar))
        return weights, means, covariances, prec_chol

    # ------------------------------------------------------------------ initialisation
    def _check_init_arrays(self, n_features: int) -> None:
        k = self.n_components
        if self.weights_init is not None:
            check_weights(self.weights_init, k)
        if self.means_init is not None:
            check_means(self.means_init, k, n_features)
        if self.precisions_init is not None:
            check_precisions(self.precisions_init, self.covariance_type, k, n_features)

    def _current_parameters(self):
        f = np.float64
        return (
            np.asarray(self.weights_, f),
            np.asarray(self.means_, f),
            np.asarray(self.covariances_, f),
            np.asarray(self.precisions_cholesky_, f),
        )

    def _set_parameters(self, params, dtype) -> None:
        weights, means, covariances, prec_chol = params
        if covariances is None:  # max_iter=0 from precisions_init
            covariances = covariances_from_cholesky(prec_chol, self.covariance_type)
        self.weights_ = np.asarray(weights, dtype=dtype)
        self.means_ = np.asarray(means, dtype=dtype)
        self.covariances_ = np.asarray(covariances, dtype=dtype)
        self.precisions_cholesky_ = np.asarray(prec_chol, dtype=dtype)
        self.precisions_ = np.asarray(
            precisions_from_cholesky(np.asarray(prec_chol, np.float64), self.covariance_type),
            dtype=dtype,
        )

    # ------------------------------------------------------------------ verbose output
    def _verbose_init_begin(self, init: int) -> None:
        if self.verbose:
            print(f"Initialization {init}")
            self._t_init = self._t_iter = time.perf_counter()

    def _verbose_iter_end(self, n_iter: int, lower_bound: float, change: float) -> None:
        if not self.verbose or n_iter % self.verbose_interval:
            return
        if self.verbose == 1:
            print(f"  Iteration {n_iter}")
        else:
            now = time.perf_counter()
            print(
                f"  Iteration {n_iter}\t time lapse {now - self._t_iter:.5f}s\t "
                f"lower bound {lower_bound:.5f}\t ll change {change:.5f}"
            )
            self._t_iter = now

    def _verbose_init_end(self, lower_bound: float, converged: bool) -> None:
        if not self.verbose:
            return
        msg = "converged" if converged else "did not converge"
        if self.verbose == 1:
            print(f"Initialization {msg}.")
        else:
            lapse = time.perf_counter() - self._t_init
            print(f"Initialization {msg}. time lapse {lapse:.5f}s\t lower bound {lower_bound:.5f}.")

    # ------------------------------------------------------------------ inference
    def _fitted_params(self):
        self._check_is_fitted("precisions_cholesky_")
        f = np.float64
        return (
            np.ascontiguousarray(self.weights_, f),
            np.ascontiguousarray(self.means_, f),
            np.ascontiguousarray(self.precisions_cholesky_, f),
        )

    def _validate_for_inference(self, X: Any) -> np.ndarray:
        self._check_is_fitted("precisions_cholesky_")
        return check_X(X, n_features=self.n_features_in_, estimator=type(self).__name__)

    def _e_step_outputs(self, X, *, norm=False, labels=False, log_resp=False):
        weights, means, prec_chol = self._fitted_params()
        ops = gmm_ops(self.backend, self.covariance_type)
        n = X.shape[0]
        k = means.shape[0]
        out_norm = np.empty(n if norm else 0)
        out_labels = np.empty(n if labels else 0, dtype=np.int64)
        out_resp = np.empty((n if log_resp else 0, k))
        ops.e_step(X, weights, means, prec_chol, out_norm, out_labels, out_resp)
        return out_norm, out_labels, out_resp

    def _predict_validated(self, X: np.ndarray) -> np.ndarray:
        return self._e_step_outputs(X, labels=True)[1]

    def score_samples(self, X: Any) -> np.ndarray:
        """Log-likelihood ``log p(x_i)`` of every sample under the model.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        log_prob : ndarray of shape (n_samples,)
            A lazy dask array when ``X`` is one.
        """
        if is_dask_array(X):
            from ._dask import score_samples

            return score_samples(self, X)
        X = self._validate_for_inference(X)
        return self._e_step_outputs(X, norm=True)[0]

    def score(self, X: Any, y: Any = None, sample_weight: Any = None) -> float:
        """Per-sample average log-likelihood (weighted average with ``sample_weight``).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : Ignored
        sample_weight : array-like of shape (n_samples,), default=None

        Returns
        -------
        log_likelihood : float
        """
        if is_dask_array(X):
            from ._dask import score

            return score(self, X, sample_weight)
        X = self._validate_for_inference(X)
        log_prob = self._e_step_outputs(X, norm=True)[0]
        sw = check_sample_weight(sample_weight, X.shape[0])
        if sw.shape[0] == 0:
            return float(log_prob.mean())
        return float(np.dot(sw, log_prob) / sw.sum())

    def predict(self, X: Any) -> np.ndarray:
        """Most probable component of every sample.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        labels : ndarray of shape (n_samples,)
            A lazy dask array when ``X`` is one.
        """
        if is_dask_array(X):
            from ._dask import predict

            return predict(self, X)
        return self._predict_validated(self._validate_for_inference(X))

    def predict_proba(self, X: Any) -> np.ndarray:
        """Posterior probability (responsibility) of every component for every sample.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        resp : ndarray of shape (n_samples, n_components)
            Rows sum to 1. A lazy dask array when ``X`` is one.
        """
        if is_dask_array(X):
            from ._dask import predict_proba

            return predict_proba(self, X)
        X = self._validate_for_inference(X)
        log_resp = self._e_step_outputs(X, log_resp=True)[2]
        return np.exp(log_resp, out=log_resp)

    def sample(self, n_samples: int = 1, random_state: Any = None) -> tuple[np.ndarray, np.ndarray]:
        """Draw samples from the fitted mixture (scikit-learn's algorithm and stream).

        Parameters
        ----------
        n_samples : int, default=1
        random_state : int, RandomState instance or None, default=None
            Seed for this call; ``None`` uses the estimator's ``random_state``
            (as scikit-learn does, so repeated calls with an int seed repeat).

        Returns
        -------
        X : ndarray of shape (n_samples, n_features)
        y : ndarray of shape (n_samples,)
            Component of every sample.
        """
        self._check_is_fitted("precisions_cholesky_")
        if not isinstance(n_samples, (int, np.integer)) or n_samples < 1:
            raise ValueError(
                f"Invalid value for 'n_samples': {n_samples!r}. The sampling requires at "
                "least one sample."
            )
        rng = check_random_state(self.random_state if random_state is None else random_state)
        weights = np.asarray(self.weights_, np.float64)
        weights = weights / weights.sum()
        n_features = self.means_.shape[1]
        means = np.asarray(self.means_, np.float64)
        covs = np.asarray(self.covariances_, np.float64)
        counts = rng.multinomial(n_samples, weights)
        if self.covariance_type == "full":
            parts = [
                rng.multivariate_normal(m, c, int(n))
                for m, c, n in zip(means, covs, counts, strict=True)
            ]
        elif self.covariance_type == "tied":
            parts = [
                rng.multivariate_normal(m, covs, int(n)) for m, n in zip(means, counts, strict=True)
            ]
        else:
            parts = [
                m + rng.standard_normal(size=(n, n_features)) * np.sqrt(c)
                for m, c, n in zip(means, covs, counts, strict=True)
            ]
        X = np.vstack(parts).astype(self.means_.dtype, copy=False)
        y = np.concatenate([np.full(n, j, dtype=int) for j, n in enumerate(counts)])
        return X, y

    def _n_parameters(self) -> int:
        return n_parameters(self.covariance_type, self.means_.shape[0], self.means_.shape[1])

    def bic(self, X: Any, sample_weight: Any = None) -> float:
        """Bayesian information criterion on ``X`` (lower is better).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        sample_weight : array-like of shape (n_samples,), default=None
            Weights: the log-likelihood is ``sum_i w_i log p(x_i)`` and the sample
            size in the penalty is ``sum_i w_i`` (integer weights = repeated rows).

        Returns
        -------
        bic : float
        """
        from ._selection import information_criteria

        X = self._validate_for_inference(X)
        sw = check_sample_weight(sample_weight, X.shape[0])
        return information_criteria(self, X, sw)["bic"]

    def aic(self, X: Any, sample_weight: Any = None) -> float:
        """Akaike information criterion on ``X`` (lower is better).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        sample_weight : array-like of shape (n_samples,), default=None
            Weights, as in :meth:`bic`.

        Returns
        -------
        aic : float
        """
        from ._selection import information_criteria

        X = self._validate_for_inference(X)
        sw = check_sample_weight(sample_weight, X.shape[0])
        return information_criteria(self, X, sw)["aic"]

    def condition(self, indices_given: Any, x_given: Any) -> Any:
        """Conditional mixture ``p(y | x = x_given)`` over the features not in ``indices_given``.

        Gaussian mixture regression for every covariance type (see `fastgmm._conditional`).

        Parameters
        ----------
        indices_given : array-like of int or bool mask
            Features of ``x``; the others (in increasing order) form ``y``.
        x_given : array-like of shape (n_given,) or (n_queries, n_given)
            One query point, or many.

        Returns
        -------
        conditional : GaussianMixture or ConditionalMixture
            One point: a fitted `GaussianMixture` over ``y`` of the same covariance type.
            Many: arrays ``weights`` (n_queries, n_components), ``means``
            (n_queries, n_components, n_target) and the shared ``covariances``.
        """
        from ._conditional import condition

        return condition(self, indices_given, x_given)

    def regress(self, indices_given: Any, X_given: Any) -> np.ndarray:
        """Predict ``E[y | x]`` for every row of ``X_given`` (Gaussian mixture regression).

        Parameters
        ----------
        indices_given : array-like of int or bool mask
            Features of ``x``; the others (in increasing order) form ``y``.
        X_given : array-like of shape (n_queries, n_given)

        Returns
        -------
        y_mean : ndarray of shape (n_queries, n_target)
        """
        from ._conditional import regress

        return regress(self, indices_given, X_given)

    def save(self, path: Any) -> None:
        """Save the fitted model to a versioned ``.npz`` file (see `fastgmm.io.save_model`).

        Parameters
        ----------
        path : str or path-like
        """
        from .io import save_model

        save_model(self, path)

    @classmethod
    def load(cls, path: Any) -> GaussianMixture:
        """Load a model written by `save` (see `fastgmm.io.load_model`).

        Parameters
        ----------
        path : str or path-like

        Returns
        -------
        model : GaussianMixture
        """
        from .io import load_model

        model = load_model(path)
        if not isinstance(model, cls):
            raise TypeError(f"{path} holds a {type(model).__name__}, not a {cls.__name__}")
        return model

    def to_numba(self):
        """Parameters as a namedtuple of float64 arrays for ``@numba.njit`` code.

        Returns
        -------
        params : fastgmm.kernels.NumbaParams
            ``(covariance_type code, weights, means, covariances, precisions_chol)``;
            see `fastgmm._bridge.to_numba`.
        """
        from ._bridge import to_numba

        return to_numba(self)

    @classmethod
    def from_numba(cls, params: Any, **kwargs: Any) -> GaussianMixture:
        """Build a fitted model from `to_numba`-style parameters (see `fastgmm.from_params`).

        Parameters
        ----------
        params : NumbaParams or tuple
        **kwargs
            ``converged``, ``n_iter``, ``lower_bound`` and constructor parameters.

        Returns
        -------
        model : GaussianMixture
        """
        from ._bridge import from_numba

        return from_numba(params, **kwargs)


__all__ = ["GaussianMixture", "backend_module"]
