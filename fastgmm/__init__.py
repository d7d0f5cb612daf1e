"""fastgmm: Gaussian Mixture Models fitted by EM with fused, parallel Numba kernels.

Importing fastgmm compiles nothing: kernels are compiled on first use and
cached on disk.
"""

from ._bridge import from_params
from ._datasets import load_iris
from ._estimator import GaussianMixture
from ._fit_many import FitManyResult, fit_many
from ._kmeans import KMeans
from ._metrics import best_match_accuracy
from ._selection import GaussianMixtureIC, select
from ._validation import ConvergenceWarning, DataScaleWarning, NotFittedError
from .io import load_model as load
from .io import save_model

__version__ = "0.1.0"

__all__ = [
    "ConvergenceWarning",
    "DataScaleWarning",
    "FitManyResult",
    "GaussianMixture",
    "GaussianMixtureIC",
    "KMeans",
    "NotFittedError",
    "__version__",
    "best_match_accuracy",
    "load",
    "load_iris",
    "save_model",
    "fit_many",
    "from_params",
    "select",
]
