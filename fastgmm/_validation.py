"""Input validation: runs once, in Python, before any kernel (kernels trust their inputs).

Every check raises ``ValueError`` or ``TypeError`` with a message that names
the problem and the fix.
"""

from __future__ import annotations

import numbers
import warnings
from typing import Any

import numpy as np

from ._types import BACKENDS, COVARIANCE_TYPES, INIT_PARAMS


class NotFittedError(ValueError, AttributeError):
    """Raised when a method needs a fitted model (same bases as scikit-learn's)."""


class ConvergenceWarning(UserWarning):
    """EM stopped at ``max_iter`` before the lower bound changed by less than ``tol``."""


class DataScaleWarning(UserWarning):
    """``reg_covar`` (an absolute variance) is as large as the variance of some features."""


class ComplexDataError(TypeError, ValueError):
    """Complex input: a TypeError (wrong dtype) that is also the ValueError scikit-learn raises."""


def _all_finite(arr: np.ndarray, values_per_block: int = 1 << 22) -> bool:
    """Whether every value is finite, checked in row blocks (no ``N x D`` boolean mask)."""
    step = max(1, values_per_block // max(1, arr.shape[1]))
    return all(np.isfinite(arr[a : a + step]).all() for a in range(0, arr.shape[0], step))


def check_X(
    X: Any,
    *,
    n_features: int | None = None,
    min_samples: int = 1,
    name: str = "X",
    estimator: str = "the model",
) -> np.ndarray:
    """Validate data and return a C-contiguous float32/float64 2-D array.

    The input is never modified: a copy is made only when the dtype or memory
    layout must change. float32 stays float32, float64 stays float64; integer,
    bool and float16 input is converted to float64. ``estimator`` (a class
    name) is named in the wrong-``n_features`` message, worded as scikit-learn's.
    """
    if hasattr(X, "nnz") and (hasattr(X, "toarray") or hasattr(X, "todense")):
        # scipy.sparse matrix/array or pydata sparse, detected without importing them.
        densify = "toarray" if hasattr(X, "toarray") else "todense"
        raise TypeError(
            f"Sparse input is not supported: {name} is a sparse {type(X).__name__} "
            f"(format {getattr(X, 'format', '?')!r}). Gaussian mixtures need dense data: "
            f"pass {name}.{densify}() if it fits in memory."
        )
    if hasattr(X, "dtypes") and hasattr(X, "to_numpy"):  # pandas DataFrame
        X = X.to_numpy()
    if isinstance(X, np.ndarray):
        arr = X
    else:
        try:
            arr = np.asarray(X)
        except (ValueError, TypeError) as exc:
            raise ValueError(
                f"{name} could not be converted to a numeric array ({exc}). "
                "Pass a 2-D array of numbers, shape (n_samples, n_features)."
            ) from None
    kind = arr.dtype.kind
    if kind in "OUSV" or kind == "M" or kind == "m":
        if kind == "O":
            try:
                arr = arr.astype(np.float64)
            except (ValueError, TypeError) as exc:
                raise TypeError(
                    f"{name} has dtype object with non-numeric entries ({exc}; text, or "
                    "missing values such as None or pandas.NA). Convert it to a numeric array "
                    "(float32 or float64) and impute missing values first."
                ) from None
        else:
            raise TypeError(
                f"{name} has dtype {arr.dtype}, which is not numeric. "
                "Pass float32 or float64 data (encode text columns numerically first)."
            )
    if arr.dtype.kind == "c":
        raise ComplexDataError(
            f"Complex data not supported: {name} has complex dtype {arr.dtype}. "
            "Gaussian mixtures need real data: "
            "pass the real and imaginary parts as separate features."
        )
    if arr.ndim != 2:
        if arr.ndim == 1:
            hint = (
                "Reshape your data with X.reshape(-1, 1) if it has a single feature "
                "or X.reshape(1, -1) if it is a single sample."
            )
        else:
            hint = "Pass a 2-D array of shape (n_samples, n_features)."
        raise ValueError(f"Expected a 2-D array for {name}, got {arr.ndim}-D. {hint}")
    if arr.dtype not in (np.float32, np.float64):
        arr = arr.astype(np.float64)
    n_samples, n_feat = arr.shape
    if n_samples < 1:
        raise ValueError(
            f"{name} is empty: 0 sample(s) (shape={arr.shape}); at least one sample is needed."
        )
    if n_feat < 1:  # worded as scikit-learn's check_array
        raise ValueError(
            f"{name} is empty: 0 feature(s) (shape={arr.shape}) while a minimum of 1 is required. "
            "Pass at least one feature column."
        )
    if n_samples < min_samples:
        raise ValueError(
            f"Expected n_samples >= {min_samples} for {name}, got n_samples={n_samples}. "
            "Provide more samples or reduce n_components."
        )
    if n_features is not None and n_feat != n_features:
        raise ValueError(  # worded as scikit-learn's validate_data
            f"{name} has {n_feat} features, but {estimator} is expecting {n_features} features "
            "as input (the number of features at fit time). Pass data with the same columns."
        )
    if not _all_finite(arr):
        raise ValueError(
            f"{name} contains NaN or infinity. Remove or impute missing values "
            "(for example with numpy.nan_to_num or an imputer) before fitting."
        )
    return np.ascontiguousarray(arr)


def column_reduce(op: np.ufunc, X: np.ndarray) -> np.ndarray:
    """``op.reduce(X, axis=0)`` in float64, without NumPy's slow path for narrow rows.

    NumPy reduces axis 0 of a narrow C-ordered array one row (``n_features``
    values) per inner-loop call: ``X.max(axis=0)`` took 56 ms for 1M x 8 (longer
    than an EM iteration) and 1.7 ms for 100k x 2. Viewing the rows in groups of
    ``m`` (``(n / m, m * n_features)``, no copy) gives inner loops of about 1024
    values: 4.4 and 0.16 ms. For ``np.maximum``/``np.minimum`` the result is
    exactly ``op.reduce(X, axis=0)``.
    """
    n_samples, n_features = X.shape
    m = max(1, 1024 // max(1, n_features))
    n0 = n_samples - n_samples % m if X.flags.c_contiguous else 0  # the view needs C order
    parts = []
    if n0:
        grouped = op.reduce(X[:n0].reshape(-1, m * n_features), axis=0)
        parts.append(op.reduce(grouped.reshape(m, n_features), axis=0))
    if n0 < n_samples:
        parts.append(op.reduce(X[n0:], axis=0))
    return op.reduce(np.stack(parts), axis=0).astype(np.float64)


def check_data_scale(X: np.ndarray, reg_covar: float, total_weight: float) -> None:
    """Refuse data whose EM sums would overflow; warn when ``reg_covar`` swamps a feature.

    EM accumulates ``sum_i w_i (x_i - c)^2`` in float64 and stores covariances in
    the dtype of ``X``. Data spread so widely that these overflow (for example
    float64 data of order 1e155, or float32 data of order 1e19) cannot give a
    correct fit, so a ``ValueError`` asks the user to rescale. ``reg_covar`` is an
    absolute variance: when it is at least the variance of a non-constant
    feature, the regularisation dominates that feature, and a
    :class:`DataScaleWarning` says so.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
        Validated data (float32 or float64, finite).
    reg_covar : float
        The estimator's ``reg_covar``.
    total_weight : float
        ``n_samples``, or the sum of the sample weights.

    Raises
    ------
    ValueError
        If the squared spread of the data overflows float64 sums or the dtype of ``X``.
    """
    n_samples, n_features = X.shape
    if n_samples == 0:
        return
    # Per-feature max - min in float64 (no n_samples x n_features temporary).
    with np.errstate(over="ignore", invalid="ignore"):
        spread = column_reduce(np.maximum, X) - column_reduce(np.minimum, X)
    widest = float(spread.max())
    f64_max = float(np.finfo(np.float64).max)
    # Each sum of squares is at most W * D * spread^2; keep a factor 4 of headroom.
    limit64 = np.sqrt(f64_max / (4.0 * max(total_weight, 1.0) * n_features))
    if not widest <= limit64:
        raise ValueError(
            f"X spans {widest:.3g} along one feature (largest max - min), too wide for EM: "
            f"sums of squared deviations over {n_samples} samples would overflow float64. "
            "Rescale X first, e.g. fit on X / s with s = np.abs(X).max(); the fitted means "
            "scale back by s and the covariances by s**2."
        )
    if X.dtype == np.float32:
        f32_max = float(np.finfo(np.float32).max)
        if (widest / 2.0) ** 2 + reg_covar > f32_max / 2.0:
            raise ValueError(
                f"X is float32 and spans {widest:.3g} along one feature: its variances would "
                f"overflow float32 (largest {f32_max:.3g}) in covariances_. Pass float64 data "
                "(X.astype(np.float64)) or rescale X."
            )
    # Variance <= (spread / 2)^2, so this only fires when reg_covar really dominates.
    swamped = np.flatnonzero((spread > 0) & ((spread / 2.0) ** 2 <= reg_covar))
    if swamped.size:
        listed = ", ".join(str(j) for j in swamped[:5]) + (", ..." if swamped.size > 5 else "")
        warnings.warn(
            f"reg_covar={reg_covar:g} is at least the variance of {swamped.size} of "
            f"{n_features} features (features {listed}; smallest max - min "
            f"{float(spread[swamped].min()):.3g}): the regularisation dominates them and the "
            "fit cannot resolve structure along them. Rescale X (e.g. X / X.std(axis=0)) or "
            "lower reg_covar.",
            DataScaleWarning,
            stacklevel=4,  # check_data_scale <- _fit <- fit/fit_predict <- user
        )


def check_sample_weight(sample_weight: Any, n_samples: int) -> np.ndarray:
    """Validate ``sample_weight``; return float64 of shape (n_samples,) (or (0,) for None)."""
    if sample_weight is None:
        return np.empty(0, dtype=np.float64)
    if isinstance(sample_weight, numbers.Number):
        return np.full(n_samples, float(sample_weight))
    w = np.asarray(sample_weight)
    if w.dtype.kind not in "biuf":
        raise TypeError(f"sample_weight must be numeric, got dtype {w.dtype}.")
    w = np.ascontiguousarray(w, dtype=np.float64)
    if w.ndim != 1 or w.shape[0] != n_samples:
        raise ValueError(
            f"sample_weight has shape {w.shape}; expected ({n_samples},), one weight per sample."
        )
    if not np.isfinite(w).all() or (w < 0).any():
        raise ValueError("sample_weight must be finite and non-negative.")
    if w.sum() <= 0:
        raise ValueError("sample_weight sums to zero; at least one sample needs a positive weight.")
    return w


def _check_number(name: str, value: Any, kind: type, low: float, low_inclusive: bool) -> None:
    ok_type = isinstance(
        value, numbers.Integral if kind is int else numbers.Real
    ) and not isinstance(value, bool)
    if not ok_type:
        raise TypeError(f"{name} must be {'an int' if kind is int else 'a number'}, got {value!r}.")
    if not (value >= low if low_inclusive else value > low) or value != value:
        op = ">=" if low_inclusive else ">"
        raise ValueError(f"{name} must be {op} {low}, got {value!r}.")


def check_params(est: Any) -> None:
    """Validate the hyper-parameters of a :class:`~fastgmm.GaussianMixture`."""
    _check_number("n_components", est.n_components, int, 1, True)
    _check_number("tol", est.tol, float, 0.0, True)
    _check_number("reg_covar", est.reg_covar, float, 0.0, True)
    _check_number("max_iter", est.max_iter, int, 0, True)
    _check_number("n_init", est.n_init, int, 1, True)
    _check_number("verbose_interval", est.verbose_interval, int, 1, True)
    if est.covariance_type not in COVARIANCE_TYPES:
        raise ValueError(
            f"Invalid covariance_type {est.covariance_type!r}; choose one of {COVARIANCE_TYPES}."
        )
    if est.init_params not in INIT_PARAMS:
        raise ValueError(f"Invalid init_params {est.init_params!r}; choose one of {INIT_PARAMS}.")
    if est.backend not in BACKENDS:
        raise ValueError(f"Invalid backend {est.backend!r}; choose one of {BACKENDS}.")


def check_weights(weights: Any, n_components: int) -> np.ndarray:
    """Validate ``weights_init``: shape (n_components,), in [0, 1], summing to 1."""
    w = np.asarray(weights, dtype=np.float64)
    if w.shape != (n_components,):
        raise ValueError(
            f"weights_init has shape {w.shape}; expected ({n_components},) for "
            f"n_components={n_components}."
        )
    if not np.isfinite(w).all() or (w < 0).any() or (w > 1).any():
        raise ValueError("weights_init must be finite and in the range [0, 1].")
    if not np.allclose(w.sum(), 1.0, rtol=0.0, atol=1e-6):
        raise ValueError(
            f"weights_init must sum to 1, but they sum to {w.sum():.6g}; divide them by their sum."
        )
    return w


def check_means(means: Any, n_components: int, n_features: int) -> np.ndarray:
    """Validate ``means_init``: shape (n_components, n_features), finite."""
    m = np.asarray(means, dtype=np.float64)
    if m.shape != (n_components, n_features):
        raise ValueError(
            f"means_init has shape {m.shape}; expected ({n_components}, {n_features}) "
            "(n_components, n_features)."
        )
    if not np.isfinite(m).all():
        raise ValueError("means_init contains NaN or infinity.")
    return m


def check_precisions(
    precisions: Any, covariance_type: str, n_components: int, n_features: int
) -> np.ndarray:
    """Validate ``precisions_init`` for a covariance type (shape, symmetry, positivity)."""
    p = np.asarray(precisions, dtype=np.float64)
    expected = {
        "full": (n_components, n_features, n_features),
        "tied": (n_features, n_features),
        "diag": (n_components, n_features),
        "spherical": (n_components,),
    }[covariance_type]
    if p.shape != expected:
        raise ValueError(
            f"precisions_init has shape {p.shape}; expected {expected} for "
            f"covariance_type={covariance_type!r}."
        )
    if not np.isfinite(p).all():
        raise ValueError("precisions_init contains NaN or infinity.")
    if covariance_type in ("diag", "spherical"):
        if (p <= 0).any():
            raise ValueError(f"precisions_init for {covariance_type!r} must be positive.")
        return p
    mats = p if covariance_type == "full" else p[np.newaxis]
    for k, mat in enumerate(mats):
        if not np.allclose(mat, mat.T, rtol=1e-10, atol=1e-12 * np.abs(mat).max()):
            raise ValueError(f"precisions_init[{k}] is not symmetric; pass symmetric matrices.")
        try:
            np.linalg.cholesky(mat)
        except np.linalg.LinAlgError:
            raise ValueError(
                f"precisions_init[{k}] is not positive definite; pass symmetric "
                "positive-definite precision matrices (inverse covariances)."
            ) from None
    return p


def check_random_state(seed: Any) -> np.random.RandomState:
    """Turn ``None``, an int or a ``RandomState`` into a ``RandomState`` (scikit-learn rules)."""
    if seed is None or seed is np.random:
        return np.random.mtrand._rand
    if isinstance(seed, numbers.Integral) and not isinstance(seed, bool):
        return np.random.RandomState(int(seed))
    if isinstance(seed, np.random.RandomState):
        return seed
    raise ValueError(
        f"random_state={seed!r} cannot be used to seed a numpy.random.RandomState; "
        "pass None, an int or a RandomState instance."
    )
