"""Small ``K x D x D`` NumPy algebra between covariances, precisions and their factors.

Everything here is per component (never per sample), so plain NumPy is fast
enough; the per-sample work lives in :mod:`fastgmm._kernels`.
"""

from __future__ import annotations

import numpy as np

ILL_DEFINED_MESSAGE = (
    "Fitting the mixture model failed because some components have ill-defined "
    "empirical covariance (for instance caused by singleton or collapsed samples). "
    "Try to decrease the number of components, increase reg_covar, or scale the input data."
)


def _upper_factor_of_inverse(matrix: np.ndarray) -> np.ndarray:
    """Upper ``U`` with ``inv(matrix) = U @ U.T`` (via the Cholesky factor of ``matrix``)."""
    chol = np.linalg.cholesky(matrix)
    n = matrix.shape[0]
    return np.linalg.solve(chol, np.eye(n)).T


def _flip(a: np.ndarray) -> np.ndarray:
    return a[::-1, ::-1]


def precision_cholesky_from_covariances(
    covariances: np.ndarray, covariance_type: str
) -> np.ndarray:
    """scikit-learn's ``precisions_cholesky_`` from covariances.

    Raises
    ------
    ValueError
        If a covariance is not positive definite (same advice as scikit-learn).
    """
    covariances = np.asarray(covariances, dtype=np.float64)
    try:
        if covariance_type == "full":
            return np.stack([_upper_factor_of_inverse(c) for c in covariances])
        if covariance_type == "tied":
            return _upper_factor_of_inverse(covariances)
    except np.linalg.LinAlgError:
        raise ValueError(ILL_DEFINED_MESSAGE) from None
    if np.any(covariances <= 0.0):
        raise ValueError(ILL_DEFINED_MESSAGE)
    return 1.0 / np.sqrt(covariances)


def precision_cholesky_from_precisions(precisions: np.ndarray, covariance_type: str) -> np.ndarray:
    """Upper ``U`` with ``precision = U @ U.T`` (scikit-learn's flipped Cholesky)."""
    precisions = np.asarray(precisions, dtype=np.float64)
    if covariance_type == "full":
        return np.stack([_flip(np.linalg.cholesky(_flip(p))) for p in precisions])
    if covariance_type == "tied":
        return _flip(np.linalg.cholesky(_flip(precisions)))
    return np.sqrt(precisions)


def precisions_from_cholesky(precisions_chol: np.ndarray, covariance_type: str) -> np.ndarray:
    """``precisions_ = U @ U.T`` (or ``U**2`` for diag/spherical)."""
    if covariance_type == "full":
        return np.einsum("kij,klj->kil", precisions_chol, precisions_chol)
    if covariance_type == "tied":
        return precisions_chol @ precisions_chol.T
    return precisions_chol**2


def covariances_from_cholesky(precisions_chol: np.ndarray, covariance_type: str) -> np.ndarray:
    """Covariances implied by precision factors: ``inv(U @ U.T) = inv(U).T @ inv(U)``."""
    if covariance_type == "full":
        out = []
        for u in precisions_chol:
            inv_u = np.linalg.solve(u, np.eye(u.shape[0]))
            out.append(inv_u.T @ inv_u)
        return np.stack(out)
    if covariance_type == "tied":
        inv_u = np.linalg.solve(precisions_chol, np.eye(precisions_chol.shape[0]))
        return inv_u.T @ inv_u
    return 1.0 / precisions_chol**2


def n_parameters(covariance_type: str, n_components: int, n_features: int) -> int:
    """Count the free parameters of the mixture (for BIC/AIC)."""
    if covariance_type == "full":
        cov_params = n_components * n_features * (n_features + 1) / 2.0
    elif covariance_type == "diag":
        cov_params = n_components * n_features
    elif covariance_type == "tied":
        cov_params = n_features * (n_features + 1) / 2.0
    else:
        cov_params = n_components
    return int(cov_params + n_features * n_components + n_components - 1)


def covariance_shape(covariance_type: str, n_components: int, n_features: int) -> tuple[int, ...]:
    """Shape of ``covariances_``/``precisions_`` for a covariance type."""
    return {
        "full": (n_components, n_features, n_features),
        "tied": (n_features, n_features),
        "diag": (n_components, n_features),
        "spherical": (n_components,),
    }[covariance_type]


def sxx_shape(covariance_type: str, n_components: int, n_features: int) -> tuple[int, ...]:
    """Shape of the second-moment statistic ``sxx`` of a covariance type."""
    return covariance_shape(covariance_type, n_components, n_features)
