"""Z-score features before fitting, as the lecture notes do, keeping scikit-learn conventions.

GaussianMixture itself never rescales its input (as in scikit-learn). Standardise outside it:

1. with scikit-learn installed: `make_pipeline(StandardScaler(), GaussianMixture(...))`; the
   pipeline's `predict`, `predict_proba` and `score_samples` apply the same scaling;
2. with NumPy only: keep the mean and scale, and apply them to every new array (this is what
   `fastgmm fit --standardize` stores in the saved model file).

Run: python examples/standardize_pipeline.py
"""

import numpy as np

from fastgmm import GaussianMixture
from fastgmm._datasets import load_iris
from fastgmm._metrics import best_match_accuracy

X, y, _, _ = load_iris()

# NumPy only ---------------------------------------------------------------------------
mean, scale = X.mean(axis=0), X.std(axis=0)
scale[scale == 0] = 1.0  # constant columns: leave them as they are, like StandardScaler


def zscore(A):
    return (A - mean) / scale


gm = GaussianMixture(3, covariance_type="full", random_state=0).fit(zscore(X))
labels = gm.predict(zscore(X))
print(f"NumPy z-score + GaussianMixture: accuracy {best_match_accuracy(y, labels):.3f}")
# Parameters back in the original units:
means_cm = gm.means_ * scale + mean
covariances_cm = gm.covariances_ * np.outer(scale, scale)
print("component means in cm:\n", np.round(means_cm, 2))

# scikit-learn pipeline ----------------------------------------------------------------
try:
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
except ImportError:
    print("scikit-learn is not installed: skipping the Pipeline version")
else:
    pipe = make_pipeline(StandardScaler(), GaussianMixture(3, random_state=0)).fit(X)
    pipe_labels = pipe.predict(X)
    accuracy = best_match_accuracy(y, pipe_labels)
    print(f"Pipeline(StandardScaler, GaussianMixture): accuracy {accuracy:.3f}")
    print("same labels as the NumPy version:", bool(np.array_equal(pipe_labels, labels)))
