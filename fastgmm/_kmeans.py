"""k-means (Lloyd, greedy k-means++ seeding): the default initialiser and the seeds' baseline."""

from __future__ import annotations

from typing import Any

import numpy as np

from ._backend import backend_module
from ._base import ParamsMixin
from ._threading import serialized
from ._validation import check_random_state, check_sample_weight, check_X


def kmeans_plusplus_centers(
    X: np.ndarray,
    n_clusters: int,
    random_state: np.random.RandomState,
    sample_weight: np.ndarray,
    backend: str = "numba",
) -> tuple[np.ndarray, np.ndarray]:
    """Greedy k-means++ seeds of validated data (scikit-learn's number of local trials).

    Returns
    -------
    centers : ndarray of shape (n_clusters, n_features), float64
    indices : ndarray of shape (n_clusters,), int64
        Rows of ``X`` chosen as centres.
    """
    ops = backend_module(backend)
    n_trials = 2 + int(np.log(n_clusters))
    first_u = float(random_state.uniform())
    trial_u = random_state.uniform(size=(max(n_clusters - 1, 0), n_trials))
    centers = np.empty((n_clusters, X.shape[1]))
    indices = np.empty(n_clusters, dtype=np.int64)
    # Parallel over fixed row chunks; picks the same rows as the serial kernel.
    seed = serialized(ops.kmeans_plusplus_parallel) if backend == "numba" else ops.kmeans_plusplus
    seed(X, sample_weight, first_u, trial_u, centers, indices)
    return centers, indices


def lloyd(
    X: np.ndarray,
    sample_weight: np.ndarray,
    centers: np.ndarray,
    max_iter: int,
    tol: float,
    backend: str = "numba",
) -> tuple[np.ndarray, np.ndarray, float, int]:
    """Lloyd iterations from ``centers`` until labels stop changing or centres move < ``tol``.

    ``tol`` is absolute (squared centre shift summed over clusters). Empty
    clusters are moved to the points farthest from their centres.

    Returns
    -------
    centers, labels, inertia, n_iter
    """
    ops = backend_module(backend)
    assign = serialized(ops.kmeans_assign_parallel)  # fastgmm._threading: workqueue-safe
    n_samples = X.shape[0]
    n_clusters = centers.shape[0]
    centers = centers.copy()
    labels = np.full(n_samples, -1, dtype=np.int64)
    prev = np.empty_like(labels)
    sums = np.empty_like(centers)
    counts = np.empty(n_clusters)
    n_iter = 0
    for n_iter in range(1, max_iter + 1):  # noqa: B007 (n_iter is returned)
        prev[:] = labels
        assign(X, sample_weight, centers, labels, sums, counts)
        empty = np.flatnonzero(counts == 0)
        if empty.size:
            dist = np.empty(n_samples)
            serialized(ops.distance_to_assigned)(X, centers, labels, dist)
            far = np.argsort(dist, kind="stable")[::-1][: empty.size]
            for j, i in zip(empty, far, strict=True):
                sums[j] = X[i]
                counts[j] = 1.0
        new_centers = sums / counts[:, np.newaxis]
        shift = float(((new_centers - centers) ** 2).sum())
        centers = new_centers
        if np.array_equal(labels, prev) or shift <= tol:
            break
    # Final assignment so labels, centres and inertia agree.
    inertia = assign(X, sample_weight, centers, labels, sums, counts)
    return centers, labels, float(inertia), n_iter


class KMeans(ParamsMixin):
    """k-means clustering (Lloyd's algorithm, greedy k-means++ seeding, Numba kernels).

    Parameters
    ----------
    n_clusters : int, default=8
        Number of clusters.
    init : {"k-means++", "random"} or ndarray of shape (n_clusters, n_features), default="k-means++"
        Seeding: greedy k-means++, ``n_clusters`` distinct random rows, or given centres.
    n_init : int, default=1
        Number of seedings; the one with the lowest inertia is kept.
    max_iter : int, default=300
        Maximum Lloyd iterations per seeding.
    tol : float, default=1e-4
        Relative tolerance: stop when the squared centre shift is at most
        ``tol`` times the mean feature variance (scikit-learn's rule).
    random_state : int, RandomState instance or None, default=None
        Seed for the seeding.
    backend : {"numba", "numpy"}, default="numba"
        Kernels to run (``"numpy"`` is the pure-NumPy twin).

    Attributes
    ----------
    cluster_centers_ : ndarray of shape (n_clusters, n_features)
    labels_ : ndarray of shape (n_samples,)
    inertia_ : float
        Sum of squared distances of samples to their closest centre (weighted).
    n_iter_ : int
    n_features_in_ : int

    Examples
    --------
    >>> import numpy as np
    >>> from fastgmm import KMeans
    >>> X = np.array([[0.0, 0.0], [0.1, 0.0], [5.0, 5.0], [5.1, 5.0]])
    >>> km = KMeans(n_clusters=2, random_state=0).fit(X)
    >>> sorted(np.bincount(km.labels_).tolist())
    [2, 2]
    """

    _estimator_type = "clusterer"

    def __init__(
        self,
        n_clusters: int = 8,
        *,
        init: Any = "k-means++",
        n_init: int = 1,
        max_iter: int = 300,
        tol: float = 1e-4,
        random_state: Any = None,
        backend: str = "numba",
    ) -> None:
        self.n_clusters = n_clusters
        self.init = init
        self.n_init = n_init
        self.max_iter = max_iter
        self.tol = tol
        self.random_state = random_state
        self.backend = backend

    def _check_params(self) -> None:
        for name, low in (("n_clusters", 1), ("n_init", 1), ("max_iter", 1)):
            value = getattr(self, name)
            if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < low:
                raise ValueError(f"{name} must be an int >= {low}, got {value!r}.")
        if not isinstance(self.tol, (int, float)) or self.tol < 0:
            raise ValueError(f"tol must be a number >= 0, got {self.tol!r}.")
        if self.backend not in ("numba", "numpy"):
            raise ValueError(f"Invalid backend {self.backend!r}; choose 'numba' or 'numpy'.")
        if isinstance(self.init, str) and self.init not in ("k-means++", "random"):
            raise ValueError(
                f"Invalid init {self.init!r}; choose 'k-means++', 'random' or pass an array."
            )

    def fit(self, X: Any, y: Any = None, sample_weight: Any = None) -> KMeans:
        """Compute k-means clustering.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : Ignored
        sample_weight : array-like of shape (n_samples,), default=None

        Returns
        -------
        self : KMeans
        """
        self._check_params()
        X = check_X(X, min_samples=self.n_clusters)
        sw = check_sample_weight(sample_weight, X.shape[0])
        rng = check_random_state(self.random_state)
        variances = X.var(axis=0, dtype=np.float64)
        tol = float(self.tol * variances.mean())
        best = None
        for _ in range(self.n_init):
            if isinstance(self.init, str) and self.init == "k-means++":
                centers, _ = kmeans_plusplus_centers(X, self.n_clusters, rng, sw, self.backend)
            elif isinstance(self.init, str):
                idx = rng.choice(X.shape[0], size=self.n_clusters, replace=False)
                centers = X[idx].astype(np.float64)
            else:
                centers = np.array(self.init, dtype=np.float64)
                if centers.shape != (self.n_clusters, X.shape[1]):
                    raise ValueError(
                        f"init array has shape {centers.shape}; expected "
                        f"({self.n_clusters}, {X.shape[1]})."
                    )
            result = lloyd(X, sw, centers, self.max_iter, tol, self.backend)
            if best is None or result[2] < best[2]:
                best = result
        centers, labels, inertia, n_iter = best
        self.cluster_centers_ = centers.astype(X.dtype, copy=False)
        self.labels_ = labels
        self.inertia_ = inertia
        self.n_iter_ = n_iter
        self.n_features_in_ = X.shape[1]
        return self

    def predict(self, X: Any) -> np.ndarray:
        """Index of the closest centre for each sample.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        labels : ndarray of shape (n_samples,)
        """
        self._check_is_fitted("cluster_centers_")
        X = check_X(X, n_features=self.n_features_in_, estimator=type(self).__name__)
        ops = backend_module(self.backend)
        labels = np.empty(X.shape[0], dtype=np.int64)
        centers = self.cluster_centers_.astype(np.float64)
        sums = np.empty_like(centers)
        counts = np.empty(centers.shape[0])
        serialized(ops.kmeans_assign_parallel)(X, np.empty(0), centers, labels, sums, counts)
        return labels

    def fit_predict(self, X: Any, y: Any = None, sample_weight: Any = None) -> np.ndarray:
        """Fit and return the labels of the training data.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : Ignored
        sample_weight : array-like of shape (n_samples,), default=None

        Returns
        -------
        labels : ndarray of shape (n_samples,)
        """
        return self.fit(X, sample_weight=sample_weight).labels_
