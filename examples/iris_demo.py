"""EM versus k-means on the Iris data shipped with fastgmm (the Python-API twin of `fastgmm demo`).

Run: python examples/iris_demo.py
"""

import numpy as np

from fastgmm import GaussianMixture, KMeans
from fastgmm._datasets import load_iris
from fastgmm._metrics import best_match_accuracy

X, y, feature_names, target_names = load_iris()

km = KMeans(3, n_init=10, random_state=0).fit(X)
gm = GaussianMixture(3, covariance_type="full", init_params="kmeans", random_state=0).fit(X)

print(f"k-means accuracy after best label matching: {best_match_accuracy(y, km.labels_):.3f}")
print(f"EM accuracy after best label matching:      {best_match_accuracy(y, gm.predict(X)):.3f}")
print("EM weights:", np.round(gm.weights_, 3))
print("EM means:")
for name, value in zip(feature_names, gm.means_.T, strict=True):
    print(f"  {name:<13}", np.round(value, 3))

try:
    import matplotlib

    matplotlib.use("Agg")
    from fastgmm.plot import plot_pairs

    plot_pairs(gm, X, feature_names=feature_names, path="iris_pairs.png")
    print("wrote iris_pairs.png")
except ImportError:
    print("matplotlib is not installed: no picture (pip install fastgmm[plot])")
