"""Problems, implementations and timers shared by the benchmarks and ``report.py``.

Every implementation starts EM from the same parameters (the true centres,
slightly perturbed, unit covariances, equal weights), so the time of one EM
iteration can be compared side by side. Per-iteration time is
``(t(1 + m iterations) - t(1 iteration)) / m``, taking the minimum of several
repeats of each, so validation and set-up costs cancel.
"""

from __future__ import annotations

import contextlib
import os
import sys
import time
import types
import warnings

import numba
import numpy as np

FULL = os.environ.get("FASTGMM_BENCH_FULL", "0") not in ("0", "", "false", "False")

#: The issue's rows (n_samples, n_features, n_components); tiny stand-ins by default.
ROWS_FULL = [(1_000_000, 8, 16), (1_000_000, 16, 8), (200_000, 32, 16), (100_000, 2, 4)]
ROWS_SMOKE = [(2_000, 3, 3), (1_000, 2, 2)]
ROWS = ROWS_FULL if FULL else ROWS_SMOKE


#: Scale of the blob centres (unit-variance blobs); ``FASTGMM_BENCH_SPREAD`` or
#: ``report.py --spread`` change it. 4 separates the clusters by about 16 standard
#: deviations at D = 8 (most responsibilities exactly 0: the fused pass skips work);
#: 1 or less makes them overlap (every responsibility counts).
SPREAD = float(os.environ.get("FASTGMM_BENCH_SPREAD", "4.0"))


def make_problem(n_samples, n_features, n_components, dtype=np.float64, seed=0, spread=None):
    """Blobs plus shared initial parameters ``(X, weights, means)``."""
    rng = np.random.default_rng(seed)
    scale = SPREAD if spread is None else spread
    centers = rng.normal(scale=scale, size=(n_components, n_features))
    X = centers[rng.integers(n_components, size=n_samples)] + rng.normal(
        size=(n_samples, n_features)
    )
    X = np.ascontiguousarray(X, dtype=dtype)
    weights = np.full(n_components, 1.0 / n_components)
    means = centers + 0.3 * rng.normal(size=centers.shape)
    return X, weights, means


def precisions_init(covariance_type, n_components, n_features):
    """Unit precisions in the shape of ``precisions_`` for a covariance type."""
    return {
        "full": np.repeat(np.eye(n_features)[np.newaxis], n_components, axis=0),
        "tied": np.eye(n_features),
        "diag": np.ones((n_components, n_features)),
        "spherical": np.ones(n_components),
    }[covariance_type]


@contextlib.contextmanager
def numba_threads(n):
    """Run with ``n`` Numba threads (restored afterwards, STYLE.md section 4)."""
    old = numba.get_num_threads()
    numba.set_num_threads(min(n, numba.config.NUMBA_NUM_THREADS))
    try:
        yield
    finally:
        numba.set_num_threads(old)


def import_daal4py():
    """daal4py's EM-GMM, or None. Its package ``__init__`` also imports its
    scikit-learn patches, which break on scikit-learn >= 1.8; only the compiled
    ``_daal4py`` module is needed here, so the two submodules are stubbed."""
    for name in ("daal4py.sklearn", "daal4py.mb"):
        sys.modules.setdefault(name, types.ModuleType(name))
    try:
        import daal4py
    except ImportError:
        return None
    return daal4py


IMPLS = ["fastgmm", "reference", "sklearn", "daal4py"]


def available(impl, covariance_type):
    """Whether an implementation can run a covariance type here."""
    if impl == "sklearn":
        try:
            import sklearn  # noqa: F401
        except ImportError:
            return False
    if impl == "daal4py":
        return covariance_type in ("full", "diag") and import_daal4py() is not None
    return True


def fastgmm_from_start(X, weights, means, covariance_type, max_iter, sample_weight=None, **kw):
    """A fastgmm ``GaussianMixture`` after ``max_iter`` iterations from the shared start."""
    from fastgmm import GaussianMixture

    return _fit_from_start(
        GaussianMixture, X, weights, means, covariance_type, max_iter, sample_weight, **kw
    )


def _fit_from_start(cls, X, weights, means, covariance_type, max_iter, sample_weight=None, **kw):
    """``cls`` (fastgmm's or scikit-learn's ``GaussianMixture``) fitted from the shared start."""
    n_components, n_features = means.shape
    gm = cls(
        n_components,
        covariance_type=covariance_type,
        max_iter=max_iter,
        tol=0.0,
        weights_init=weights,
        means_init=means,
        precisions_init=precisions_init(covariance_type, n_components, n_features),
        **kw,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if sample_weight is None:  # scikit-learn's fit may not take sample_weight
            gm.fit(X)
        else:
            gm.fit(X, sample_weight=sample_weight)
    return gm


def fit_once(impl, X, weights, means, covariance_type, max_iter):
    """Run ``max_iter`` EM iterations from the shared start; return (lower_bound, n_iter)."""
    n_components, n_features = means.shape
    if impl in ("fastgmm", "reference", "sklearn"):
        if impl == "sklearn":
            from sklearn.mixture import GaussianMixture

            gm = _fit_from_start(GaussianMixture, X, weights, means, covariance_type, max_iter)
        else:
            backend = "numba" if impl == "fastgmm" else "numpy"
            gm = fastgmm_from_start(X, weights, means, covariance_type, max_iter, backend=backend)
        return float(gm.lower_bound_), int(gm.n_iter_)
    d4p = import_daal4py()
    if covariance_type == "full":
        covs = [np.eye(n_features, dtype=X.dtype) for _ in range(n_components)]
        storage = "full"
    else:
        covs = [np.ones((1, n_features), dtype=X.dtype) for _ in range(n_components)]
        storage = "diagonal"
    algo = d4p.em_gmm(
        nComponents=n_components,
        maxIterations=max_iter,
        accuracyThreshold=0.0,
        covarianceStorage=storage,
        fptype="float" if X.dtype == np.float32 else "double",
    )
    res = algo.compute(X, weights[np.newaxis].astype(X.dtype), means.astype(X.dtype), covs)
    return float(res.goalFunction[0, 0]) / X.shape[0], int(res.nIterations[0, 0])


def time_per_iteration(impl, X, weights, means, covariance_type, m=3, repeats=3):
    """Milliseconds per EM iteration (min over repeats of ``(t(1+m) - t(1)) / m``)."""
    fit_once(impl, X[:64], weights, means, covariance_type, 1)  # JIT warm-up

    def best(max_iter):
        times = []
        for _ in range(repeats):
            t = time.perf_counter()
            fit_once(impl, X, weights, means, covariance_type, max_iter)
            times.append(time.perf_counter() - t)
        return min(times)

    return max(best(1 + m) - best(1), 0.0) / m * 1e3


def flop_floor(n_samples, n_features, n_components):
    """The issue's arithmetic floor of one full-covariance EM iteration: 3 N K D^2."""
    return 3.0 * n_samples * n_components * n_features**2
