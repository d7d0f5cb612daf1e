"""Gaussian mixture regression: fit p(x, y), then predict E[y | x] and p(y | x).

Run: python examples/gmr_regression.py
"""

import numpy as np

from fastgmm import GaussianMixture

rng = np.random.default_rng(0)
x = rng.uniform(-3, 3, 3000)
y = np.sin(2 * x) + 0.1 * rng.normal(size=x.size)
XY = np.column_stack([x, y])

x_test = np.linspace(-2.8, 2.8, 200)[:, np.newaxis]
for cov in ("full", "tied", "diag", "spherical"):
    gm = GaussianMixture(12, covariance_type=cov, random_state=0).fit(XY)
    y_pred = gm.regress([0], x_test)[:, 0]  # condition on feature 0, predict feature 1
    rmse = np.sqrt(np.mean((y_pred - np.sin(2 * x_test[:, 0])) ** 2))
    print(f"{cov:>9}: RMSE of E[y|x] against sin(2x) = {rmse:.4f}")

# The whole conditional distribution at one point is a GaussianMixture over y ...
gm = GaussianMixture(12, random_state=0).fit(XY)
p_y = gm.condition([0], [1.0])
print("p(y | x=1):", p_y.n_components, "components, mean", float(p_y.weights_ @ p_y.means_[:, 0]))
print("           90% interval by sampling:", np.percentile(p_y.sample(20000)[0], [5, 95]))
# ... and for many points the arrays of weights (n, K), means (n, K, 1) and covariances (K, 1, 1)
cond = gm.condition([0], x_test)
print("vectorised:", cond.weights.shape, cond.means.shape, cond.covariances.shape)
