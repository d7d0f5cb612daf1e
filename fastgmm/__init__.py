"""fastgmm: Gaussian Mixture Models fitted by EM with fused, parallel Numba kernels.

Importing fastgmm compiles nothing: kernels are compiled on first use and
cached on disk.
"""

from ._estimator import GaussianMixture
from ._kmeans import KMeans
from ._selection import GaussianMixtureIC, select
from ._validation import ConvergenceWarning, NotFittedError

__version__ = "0.1.0"

__all__ = [
    "ConvergenceWarning",
    "GaussianMixture",
    "GaussianMixtureIC",
    "KMeans",
    "NotFittedError",
    "__version__",
    "select",
]
