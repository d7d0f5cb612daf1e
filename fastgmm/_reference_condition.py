"""Pure-NumPy twins of :mod:`fastgmm._kernels.condition` (same names and signatures).

Like :mod:`fastgmm._reference`, it never imports :mod:`fastgmm._kernels`; it is
the oracle of tests/test_conditional.py and the ``backend="numpy"`` path of
:meth:`fastgmm.GaussianMixture.condition`. ``*_parallel`` are aliases.
"""

from __future__ import annotations

import numpy as np


def conditional_means(X_given, means_given, means_target, regression, out):
    """Twin of :func:`fastgmm._kernels.condition.conditional_means`."""
    diff = X_given[:, np.newaxis, :] - means_given[np.newaxis]
    out[:] = means_target[np.newaxis] + np.einsum("ktj,qkj->qkt", regression, diff)


def conditional_expectation(X_given, resp, means_given, means_target, regression, out):
    """Twin of :func:`fastgmm._kernels.condition.conditional_expectation`."""
    means = np.empty((X_given.shape[0],) + means_target.shape)
    conditional_means(X_given, means_given, means_target, regression, means)
    out[:] = np.einsum("qk,qkt->qt", resp, means)


conditional_means_parallel = conditional_means
conditional_expectation_parallel = conditional_expectation
