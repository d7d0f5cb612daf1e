"""Fit a mixture, draw new data from it with `sample`, and compare the two clouds.

A fitted GMM is a generative model: `sample(n)` draws the component of each point from
`weights_`, then the point from that component's Gaussian.

Run: python examples/sampling.py
"""

import numpy as np

from fastgmm import GaussianMixture

rng = np.random.default_rng(0)
X = np.vstack(
    [
        rng.multivariate_normal([0, 0], [[1.0, 0.8], [0.8, 1.0]], 300),
        rng.multivariate_normal([4, 1], [[0.3, 0.0], [0.0, 1.5]], 200),
    ]
)

gm = GaussianMixture(2, covariance_type="full", random_state=0).fit(X)
samples, components = gm.sample(500, random_state=1)

print("data mean      ", np.round(X.mean(axis=0), 3))
print("sampled mean   ", np.round(samples.mean(axis=0), 3))
print("data covariance", np.round(np.cov(X.T), 3).tolist())
print("sampled cov.   ", np.round(np.cov(samples.T), 3).tolist())
print("points per component in the sample:", np.bincount(components).tolist())
print(f"mean log-likelihood: data {gm.score(X):.3f}, samples {gm.score(samples):.3f}")

try:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from fastgmm.plot import plot_ellipses

    fig, axes = plt.subplots(1, 2, figsize=(10, 4.5), sharex=True, sharey=True)
    plot_ellipses(gm, X, ax=axes[0], title="original data")
    plot_ellipses(gm, samples, labels=components, ax=axes[1], title="sampled from the fit")
    fig.tight_layout()
    fig.savefig("sampling.png", dpi=100)
    print("wrote sampling.png")
except ImportError:
    print("matplotlib is not installed: no picture (pip install fastgmm[plot])")
