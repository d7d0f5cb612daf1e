"""Weighted EM: integer weights give the same fit as repeated rows, zero weights drop rows.

Run: python examples/sample_weights.py
"""

import numpy as np

from fastgmm import GaussianMixture

rng = np.random.default_rng(0)
X = np.concatenate([rng.normal(-4, 1, (300, 2)), rng.normal(4, 1.5, (300, 2))])
counts = rng.integers(0, 4, size=len(X))  # 0 = drop the row, 3 = the row three times

init = {"weights_init": [0.5, 0.5], "means_init": [[-1, -1], [1, 1]]}  # same start for both
weighted = GaussianMixture(2, **init, tol=1e-8).fit(X, sample_weight=counts)
repeated = GaussianMixture(2, **init, tol=1e-8).fit(np.repeat(X, counts, axis=0))

print("max |means difference|      :", np.abs(weighted.means_ - repeated.means_).max())
print("max |covariances difference|:", np.abs(weighted.covariances_ - repeated.covariances_).max())
print(
    "weighted BIC vs repeated BIC:",
    weighted.bic(X, sample_weight=counts),
    repeated.bic(np.repeat(X, counts, axis=0)),
)
print("weighted score              :", weighted.score(X, sample_weight=counts))

# Fractional weights work too, e.g. importance weights or down-weighting a noisy batch.
w = np.where(X[:, 0] > 0, 0.25, 1.0)
gm = GaussianMixture(2, random_state=0).fit(X, sample_weight=w)
print("weights_ with the right group down-weighted 4x:", np.round(np.sort(gm.weights_), 3))
