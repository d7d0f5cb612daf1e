"""The public nopython API: kernels to call from your own ``@numba.njit`` code.

Everything here is a Numba dispatcher compiled in nopython mode on first use
(and cached on disk). The names and argument lists are a stable API, pinned by
``tests/test_public_kernels.py``. Functions named ``*_parallel``, ``fit_many_*``
and ``init_many_kmeanspp_*`` open a parallel region: call them from Python or
from a plain ``@njit`` function, never inside your own ``prange``. Every other
function is serial and safe to call from inside a ``prange`` loop.

``<cov>`` is one of ``full``, ``tied``, ``diag``, ``spherical``: Numba cannot
dispatch on a string, so every covariance type has its own function. Shapes of
the covariance-dependent arrays (``covariances``, ``precisions_chol``, ``sxx``):
full ``(n_components, n_features, n_features)``, tied ``(n_features, n_features)``,
diag ``(n_components, n_features)``, spherical ``(n_components,)``.

Conventions
-----------
* ``X`` is C-contiguous float32 or float64; parameters are float64 C-contiguous
  (``GaussianMixture.to_numba()`` returns them so); accumulators are float64.
* ``precisions_chol`` is scikit-learn's ``precisions_cholesky_``: upper ``U`` with
  ``precision = U @ U.T``.
* ``sample_weight`` of length 0 means unweighted.
* Outputs are written into arrays you pass (named ``out``, ``labels``, ...); an
  optional output passed with length 0 is skipped.
* Kernels trust their inputs (no validation in nopython mode).
* Randomness comes in as draws you pass (``kmeans_plusplus``, ``sample_<cov>``) or
  from Numba's generator (``sample_<cov>_random``), which after
  ``np.random.seed(s)`` reproduces ``numpy.random.RandomState(s)``.

Contents
--------
========================  ==============================================================
``log_gaussian_prob_*``   log N(x_i | k) of every row under every component (serial)
``add_log_weights``,      log-sum-exp over components, responsibilities of a block,
``normalize_log_resp``,   argmax (serial)
``resp_from_log_prob``,
``argmax_rows``
``e_step_*``              log p(x_i), labels and/or log-responsibilities (serial);
                          ``e_step_*_parallel``: the same, parallel over row blocks
``score_samples_*``,      the estimator's ``score_samples`` / ``predict`` /
``predict_*``,            ``predict_proba`` on a block of rows (serial)
``predict_proba_*``
``score_one_*``           log p(x) of one point, allocation-free (hot loops)
``accumulate_*``          add one block's statistics given responsibilities (serial)
``suffstats_*``           fused E-step + statistics over rows (serial);
                          ``suffstats_*_parallel``: fixed row chunks, ordered reduction
``m_step_*``              new parameters from statistics (serial)
``em_step_*``             one EM iteration in place (serial; ``*_parallel`` over rows)
``fit_em_*``              EM to convergence from given parameters (serial; ``*_parallel``)
``em_workspace_*``,       allocation-free EM for small data (one mixture per group):
``fit_em_workspace_*``    allocate a workspace once per ``prange`` chunk, reuse it (serial)
``init_from_seeds_*``     initial parameters from seed rows (k-means++ initialisation)
``kmeans_plusplus``       greedy k-means++ from given uniform draws (serial)
``kmeans_assign``         Lloyd assignment + sums (serial; ``kmeans_assign_parallel``)
``sample_*``              draw from a mixture given uniform/normal draws (serial);
                          ``sample_*_random`` draws from Numba's generator
``pick_component``        inverse-CDF choice of a component from a uniform draw
``kmeanspp_uniforms``     per-group seeds -> k-means++ draws of RandomState(seed)
``init_many_kmeanspp_*``  k-means++ initialisation of many groups (parallel over groups)
``fit_many_*``            EM on many groups (parallel over groups)
``cholesky_lower``,       small dense linear algebra, no SciPy (serial)
``precision_cholesky_
from_covariance``
========================  ==============================================================

Examples
--------
>>> import numba
>>> import numpy as np
>>> from fastgmm import GaussianMixture, kernels
>>> X = np.array([[0.0, 0.1], [0.2, 0.0], [5.0, 5.1], [5.2, 4.9]])
>>> @numba.njit(parallel=True)
... def score(points, p):
...     out = np.empty(points.shape[0])
...     for i in numba.prange(points.shape[0]):
...         out[i] = kernels.score_one_diag(points[i], p.weights, p.means, p.precisions_chol)
...     return out
>>> gm = GaussianMixture(2, covariance_type="diag", random_state=0).fit(X)
>>> bool(np.allclose(score(X, gm.to_numba()), gm.score_samples(X)))
True
"""

from ._bridge import COVARIANCE_CODES, NumbaParams
from ._kernels import (
    accumulate_diag,
    accumulate_full,
    accumulate_spherical,
    accumulate_tied,
    add_log_weights,
    argmax_rows,
    cholesky_lower,
    e_step_diag_parallel,
    e_step_full_parallel,
    e_step_spherical_parallel,
    e_step_tied_parallel,
    kmeans_assign,
    kmeans_assign_parallel,
    kmeans_plusplus,
    log_gaussian_prob_diag,
    log_gaussian_prob_full,
    log_gaussian_prob_spherical,
    log_gaussian_prob_tied,
    m_step_diag,
    m_step_full,
    m_step_spherical,
    m_step_tied,
    normalize_log_resp,
    precision_cholesky_from_covariance,
    resp_from_log_prob,
    suffstats_diag,
    suffstats_diag_parallel,
    suffstats_full,
    suffstats_full_parallel,
    suffstats_spherical,
    suffstats_spherical_parallel,
    suffstats_tied,
    suffstats_tied_parallel,
)
from ._kernels.batched import (
    fit_many_diag,
    fit_many_full,
    fit_many_spherical,
    fit_many_tied,
    init_many_kmeanspp_diag,
    init_many_kmeanspp_full,
    init_many_kmeanspp_spherical,
    init_many_kmeanspp_tied,
    kmeanspp_uniforms,
)
from ._kernels.fit import (
    em_step_diag,
    em_step_diag_parallel,
    em_step_full,
    em_step_full_parallel,
    em_step_spherical,
    em_step_spherical_parallel,
    em_step_tied,
    em_step_tied_parallel,
    fit_em_diag,
    fit_em_diag_parallel,
    fit_em_full,
    fit_em_full_parallel,
    fit_em_spherical,
    fit_em_spherical_parallel,
    fit_em_tied,
    fit_em_tied_parallel,
    init_from_seeds_diag,
    init_from_seeds_full,
    init_from_seeds_spherical,
    init_from_seeds_tied,
)
from ._kernels.predict import (
    e_step_diag,
    e_step_full,
    e_step_spherical,
    e_step_tied,
    predict_diag,
    predict_full,
    predict_proba_diag,
    predict_proba_full,
    predict_proba_spherical,
    predict_proba_tied,
    predict_spherical,
    predict_tied,
    score_one_diag,
    score_one_full,
    score_one_spherical,
    score_one_tied,
    score_samples_diag,
    score_samples_full,
    score_samples_spherical,
    score_samples_tied,
)
from ._kernels.sample import (
    pick_component,
    sample_diag,
    sample_diag_random,
    sample_full,
    sample_full_random,
    sample_spherical,
    sample_spherical_random,
    sample_tied,
    sample_tied_random,
)
from ._kernels.small import (
    em_workspace_diag,
    em_workspace_full,
    em_workspace_spherical,
    em_workspace_tied,
    fit_em_workspace_diag,
    fit_em_workspace_full,
    fit_em_workspace_spherical,
    fit_em_workspace_tied,
)

__all__ = [
    "COVARIANCE_CODES",
    "NumbaParams",
    "accumulate_diag",
    "accumulate_full",
    "accumulate_spherical",
    "accumulate_tied",
    "add_log_weights",
    "argmax_rows",
    "cholesky_lower",
    "e_step_diag",
    "e_step_diag_parallel",
    "e_step_full",
    "e_step_full_parallel",
    "e_step_spherical",
    "e_step_spherical_parallel",
    "e_step_tied",
    "e_step_tied_parallel",
    "em_step_diag",
    "em_step_diag_parallel",
    "em_step_full",
    "em_step_full_parallel",
    "em_step_spherical",
    "em_step_spherical_parallel",
    "em_step_tied",
    "em_step_tied_parallel",
    "em_workspace_diag",
    "em_workspace_full",
    "em_workspace_spherical",
    "em_workspace_tied",
    "fit_em_diag",
    "fit_em_diag_parallel",
    "fit_em_full",
    "fit_em_full_parallel",
    "fit_em_spherical",
    "fit_em_spherical_parallel",
    "fit_em_tied",
    "fit_em_tied_parallel",
    "fit_em_workspace_diag",
    "fit_em_workspace_full",
    "fit_em_workspace_spherical",
    "fit_em_workspace_tied",
    "fit_many_diag",
    "fit_many_full",
    "fit_many_spherical",
    "fit_many_tied",
    "init_from_seeds_diag",
    "init_from_seeds_full",
    "init_from_seeds_spherical",
    "init_from_seeds_tied",
    "init_many_kmeanspp_diag",
    "init_many_kmeanspp_full",
    "init_many_kmeanspp_spherical",
    "init_many_kmeanspp_tied",
    "kmeans_assign",
    "kmeans_assign_parallel",
    "kmeans_plusplus",
    "kmeanspp_uniforms",
    "log_gaussian_prob_diag",
    "log_gaussian_prob_full",
    "log_gaussian_prob_spherical",
    "log_gaussian_prob_tied",
    "m_step_diag",
    "m_step_full",
    "m_step_spherical",
    "m_step_tied",
    "normalize_log_resp",
    "pick_component",
    "precision_cholesky_from_covariance",
    "predict_diag",
    "predict_full",
    "predict_proba_diag",
    "predict_proba_full",
    "predict_proba_spherical",
    "predict_proba_tied",
    "predict_spherical",
    "predict_tied",
    "resp_from_log_prob",
    "sample_diag",
    "sample_diag_random",
    "sample_full",
    "sample_full_random",
    "sample_spherical",
    "sample_spherical_random",
    "sample_tied",
    "sample_tied_random",
    "score_one_diag",
    "score_one_full",
    "score_one_spherical",
    "score_one_tied",
    "score_samples_diag",
    "score_samples_full",
    "score_samples_spherical",
    "score_samples_tied",
    "suffstats_diag",
    "suffstats_diag_parallel",
    "suffstats_full",
    "suffstats_full_parallel",
    "suffstats_spherical",
    "suffstats_spherical_parallel",
    "suffstats_tied",
    "suffstats_tied_parallel",
]
