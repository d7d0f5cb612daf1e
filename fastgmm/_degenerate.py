"""Diagnostics for degenerate fits: which component's covariance broke, and why.

fastgmm keeps scikit-learn's behaviour for collapsing components (so fits stay
identical to scikit-learn's): with ``reg_covar > 0`` every covariance stays
positive definite, and a component that loses all its samples keeps its mean,
gets the covariance ``reg_covar * I`` and a weight of about ``1e-15``; it may win
samples back later. Only when a covariance is not positive definite (``reg_covar``
too small for the data) does the fit stop, with scikit-learn's message followed by
the details built here: the component, how many samples it held, and the fix.
"""

from __future__ import annotations

import numpy as np

from ._covariance import ILL_DEFINED_MESSAGE


def ill_defined_message(status: int, nk: np.ndarray, covariance_type: str, reg_covar: float) -> str:
    """Message for an M-step status ``k + 1`` (first component whose covariance failed).

    Parameters
    ----------
    status : int
        Non-zero status of an ``m_step_<cov>`` kernel: ``k + 1`` for component ``k``
        (always ``1`` for ``"tied"``, whose single covariance is shared).
    nk : ndarray of shape (n_components,)
        Effective (weighted) number of samples of every component.
    covariance_type : {"full", "tied", "diag", "spherical"}
    reg_covar : float

    Returns
    -------
    message : str
        scikit-learn's message (so code matching it keeps working), then the details.
    """
    n_components = nk.shape[0]
    if covariance_type == "tied":
        what = (
            f"The shared (tied) covariance of all {n_components} components is not positive "
            f"definite with reg_covar={reg_covar:g}"
        )
        cause = "features are collinear or constant"
    else:
        k = status - 1
        count = float(nk[k])
        what = (
            f"Component {k} of {n_components} holds {count:.3g} effective samples and its "
            f"covariance is not positive definite with reg_covar={reg_covar:g}"
        )
        if count < 1e-3:
            cause = "it lost all its samples"
        elif count <= 1.0 + 1e-6:
            cause = "it collapsed onto a single sample"
        else:
            cause = "its samples are collinear or identical along some feature"
    fix = (
        "set reg_covar > 0 (e.g. 1e-6 times the data variance)"
        if reg_covar == 0
        else f"raise reg_covar above {reg_covar:g}"
    )
    return f"{ILL_DEFINED_MESSAGE} {what} ({cause}): {fix}, or lower n_components."
