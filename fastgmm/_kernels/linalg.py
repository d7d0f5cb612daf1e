"""Small dense linear algebra in nopython mode (no SciPy/LAPACK needed).

Numba's ``np.linalg`` needs SciPy's LAPACK bindings; fastgmm depends on NumPy and
Numba only, so the few factorisations EM needs are written here. They work on
one ``n_features x n_features`` matrix at a time, which is tiny next to the
``n_samples x n_components x n_features**2`` work of one EM pass.
"""

import numpy as np

from ._jit import jit


@jit
def cholesky_lower(a, out):
    """Cholesky factor ``L`` (lower) of a symmetric matrix, ``a = L @ L.T``.

    Parameters
    ----------
    a : ndarray of shape (n, n), float64
        Only the lower triangle is read.
    out : ndarray of shape (n, n), float64
        Receives ``L``; the strict upper triangle is set to zero.

    Returns
    -------
    ok : bool
        False when ``a`` is not (numerically) positive definite; ``out`` is then
        partially written.
    """
    n = a.shape[0]
    for j in range(n):
        s = a[j, j]
        for m in range(j):
            s -= out[j, m] * out[j, m]
        if not s > 0.0:  # also catches NaN
            return False
        ljj = np.sqrt(s)
        out[j, j] = ljj
        for i in range(j + 1, n):
            t = a[i, j]
            for m in range(j):
                t -= out[i, m] * out[j, m]
            out[i, j] = t / ljj
        for i in range(j):
            out[i, j] = 0.0
    return True


@jit
def precision_cholesky_from_covariance(cov, work, out):
    """Upper-triangular ``U`` with ``inv(cov) = U @ U.T`` (scikit-learn's convention).

    ``U = inv(L).T`` where ``cov = L @ L.T``; no explicit inverse of ``cov`` is formed.

    Parameters
    ----------
    cov : ndarray of shape (n, n), float64
    work : ndarray of shape (n, n), float64
        Scratch space (receives ``L``).
    out : ndarray of shape (n, n), float64
        Receives ``U``.

    Returns
    -------
    ok : bool
        False when ``cov`` is not positive definite.
    """
    n = cov.shape[0]
    if not cholesky_lower(cov, work):
        return False
    # Solve L @ P = I column by column; P = inv(L) is lower, U = P.T is upper.
    for j in range(n):
        for i in range(n):
            out[j, i] = 0.0
        out[j, j] = 1.0 / work[j, j]
        for i in range(j + 1, n):
            s = 0.0
            for m in range(j, i):
                s += work[i, m] * out[j, m]
            out[j, i] = -s / work[i, i]
    return True
