"""Out-of-core EM: fit data that is read block by block (``numpy.memmap``, Dask arrays).

An EM iteration is a sum of per-row statistics, so it never needs the whole
data set at once. This module holds the part shared by every out-of-core
source:

* :func:`fit_source` runs the estimator's EM loop (``n_init``, ``tol``,
  ``warm_start``, ``verbose``, ``ConvergenceWarning``) over a *source*, an
  object that returns the summed statistics of one pass;
* :func:`initial_parameters` initialises from a bounded random sample of at
  most :data:`SAMPLE_ROWS` rows (k-means / k-means++ / random data points are
  chosen on the sample), followed by one pass over all rows that turns the
  sample's centres into statistics. When the data has at most
  :data:`SAMPLE_ROWS` rows the "sample" is all rows, no random number is
  spent on sampling, and the initialisation equals the in-memory one;
* :class:`ArraySource` streams a ``numpy.memmap`` (or any 2-D array that
  supports row slicing) in blocks of at most :data:`BLOCK_BYTES` bytes. A
  memmap is read with plain file reads into one reusable buffer, so the
  process's resident memory stays bounded by the block size, not by the file
  size (pages touched through a memory map would count as resident).

Dask arrays are the other source (:mod:`fastgmm._dask`).
"""

from __future__ import annotations

import mmap
from typing import Any

import numpy as np

from ._backend import backend_module, gmm_ops
from ._covariance import sxx_shape
from ._em_variants import check_em_variant_params, classification_log_likelihood
from ._initialization import apply_given, given_parameters
from ._kmeans import KMeans, kmeans_plusplus_centers
from ._validation import (
    check_params,
    check_sample_weight,
)

#: Largest number of rows on which k-means (or k-means++ / random seeds) runs at initialisation.
SAMPLE_ROWS = 100_000
#: Bytes of data per block read by :class:`ArraySource` (64 MiB).
BLOCK_BYTES = 64 * 2**20

NONFINITE_MESSAGE = (
    "{name} contains NaN or infinity (found in rows {start}:{stop}). Remove or impute "
    "missing values (for example with numpy.nan_to_num or an imputer) before fitting."
)


def real_dtype(dtype: Any, name: str = "X") -> np.dtype:
    """Return the dtype kernels see for ``dtype`` (float32/float64 kept, else float64)."""
    dtype = np.dtype(dtype)
    if dtype.kind == "c":
        raise TypeError(
            f"{name} has complex dtype {dtype}. Gaussian mixtures need real data: "
            "pass the real and imaginary parts as separate features."
        )
    if dtype.kind not in "biuf":
        raise TypeError(
            f"{name} has dtype {dtype}, which is not numeric. "
            "Pass float32 or float64 data (encode text columns numerically first)."
        )
    return dtype if dtype in (np.float32, np.float64) else np.dtype(np.float64)


def check_block_finite(block: np.ndarray, start: int, name: str = "X") -> None:
    """Raise ``ValueError`` if a block of rows holds NaN or infinity."""
    if not np.isfinite(block).all():
        raise ValueError(
            NONFINITE_MESSAGE.format(name=name, start=start, stop=start + block.shape[0])
        )


def empty_stats(covariance_type: str, n_components: int, n_features: int):
    """Zeroed ``(nk, sx, sxx)`` for a covariance type."""
    return (
        np.zeros(n_components),
        np.zeros((n_components, n_features)),
        np.zeros(sxx_shape(covariance_type, n_components, n_features)),
    )


def seed_stats(seeds, seed_weight, covariance_type, backend):
    """Statistics of one-hot responsibilities on ``seeds`` (one row per component)."""
    n_components, n_features = seeds.shape
    nk, sx, sxx = empty_stats(covariance_type, n_components, n_features)
    accumulate = getattr(backend_module(backend), f"accumulate_{covariance_type}")
    accumulate(seeds, seed_weight, np.eye(n_components), seeds, nk, sx, sxx)
    return nk, sx, sxx


def one_hot(labels: np.ndarray, n_components: int) -> np.ndarray:
    """``(n, n_components)`` float64 one-hot rows of ``labels``."""
    resp = np.zeros((labels.shape[0], n_components))
    resp[np.arange(labels.shape[0]), labels] = 1.0
    return resp


def sample_indices(n_samples: int, n_rows: int, random_state: np.random.RandomState) -> np.ndarray:
    """Sorted indices of ``n_rows`` distinct rows (one draw from ``random_state``)."""
    # Generator.choice without replacement costs O(n_rows), not O(n_samples).
    rng = np.random.default_rng(random_state.randint(0, 2**31 - 1))
    return np.sort(rng.choice(n_samples, size=n_rows, replace=False))


# --------------------------------------------------------------------------- EM driver
def initial_parameters(est, source, random_state):
    """Return initial ``(weights, means, covariances, precisions_chol)`` without loading X.

    Follows :func:`fastgmm._initialization.initial_parameters` (user-given
    ``*_init`` arrays win), but k-means, k-means++ and ``random_from_data``
    run on a sample of at most :data:`SAMPLE_ROWS` rows; see the module docstring.
    """
    k = est.n_components
    cov = est.covariance_type
    n_features = source.n_features
    ops = gmm_ops(est.backend, cov)
    given = given_parameters(est, n_features)
    if given is not None:
        return given

    sample, sample_weight = source.sample(random_state, SAMPLE_ROWS)
    method = est.init_params
    if method == "random":
        shift = np.repeat(sample.mean(axis=0, dtype=np.float64)[np.newaxis], k, axis=0)
        nk, sx, sxx = source.random_resp_stats(random_state, shift)
    elif method == "kmeans":
        km = KMeans(k, n_init=1, random_state=random_state, backend=est.backend)
        km.fit(sample, sample_weight=sample_weight if sample_weight.shape[0] else None)
        shift = np.asarray(km.cluster_centers_, dtype=np.float64)
        nk, sx, sxx = source.assign_stats(shift)
    else:
        if method == "random_from_data":
            idx = random_state.choice(sample.shape[0], size=k, replace=False)
        else:  # "k-means++"
            _, idx = kmeans_plusplus_centers(sample, k, random_state, sample_weight, est.backend)
        shift = np.ascontiguousarray(sample[idx], dtype=np.float64)
        seed_w = sample_weight[idx] if sample_weight.shape[0] else sample_weight
        nk, sx, sxx = seed_stats(shift, seed_w, cov, est.backend)
    return apply_given(est, est._m_step(ops, nk, sx, sxx, shift), n_features)


def fit_source(est, source) -> None:
    """Fit ``est`` by EM over an out-of-core ``source`` (same loop as the in-memory fit).

    ``source`` provides ``n_samples``, ``n_features``, ``dtype``,
    ``total_weight``, ``sample``, ``random_resp_stats``, ``assign_stats`` and
    ``em_stats(params, hard) -> (log_likelihood_sum, nk, sx, sxx)``.
    ``assignment="hard"`` is supported; ``stopping="resp_change"`` is not (it
    stores ``n_samples x n_components`` responsibilities).
    """
    check_params(est)
    check_em_variant_params(est)
    if est.stopping != "lower_bound":
        raise ValueError(
            f"stopping={est.stopping!r} keeps n_samples x n_components responsibilities in "
            "memory, so it is not available for out-of-core data (dask arrays, memmaps). "
            "Use stopping='lower_bound'."
        )
    hard = est.assignment == "hard"
    n_samples, n_features = source.n_samples, source.n_features
    if n_samples < est.n_components:
        raise ValueError(
            f"Expected n_samples >= {est.n_components} for X, got n_samples={n_samples}. "
            "Provide more samples or reduce n_components."
        )
    est._check_init_arrays(n_features)
    if est.warm_start and hasattr(est, "converged_") and est.means_.shape[1] != n_features:
        raise ValueError(
            f"X has {n_features} features, but the model was fitted with "
            f"{est.means_.shape[1]} features. Pass data with the same columns."
        )
    ops = gmm_ops(est.backend, est.covariance_type)

    def em_step(params):
        log_lik, nk, sx, sxx = source.em_stats(params, hard)
        if hard:  # the objective hard EM increases (fastgmm._em_variants)
            log_lik = classification_log_likelihood(
                est.covariance_type, nk, sxx, params[0], params[3], n_features
            )
        return log_lik, est._m_step(ops, nk, sx, sxx, params[1])

    est._run_em(
        initial_parameters=lambda random_state: initial_parameters(est, source, random_state),
        em_step=em_step,
        total_weight=source.total_weight,
        n_features=n_features,
        dtype=source.dtype,
    )


# --------------------------------------------------------------------------- arrays, memmaps
def _file_position(X: np.ndarray) -> tuple[str, int] | None:
    """``(filename, byte offset of X[0, 0])`` for a C-contiguous memmap, else ``None``."""
    mm = getattr(X, "_mmap", None)
    filename = getattr(X, "filename", None)
    if mm is None or filename is None or not X.flags.c_contiguous or X.size == 0:
        return None
    # numpy maps the file from the allocation-granularity boundary below ``offset``.
    mapped_from = X.offset - X.offset % mmap.ALLOCATIONGRANULARITY
    base = np.frombuffer(mm, dtype=np.uint8)
    position = mapped_from + (X.ctypes.data - base.ctypes.data)
    del base
    return str(filename), int(position)


class ArraySource:
    """Rows of a 2-D array (``numpy.memmap`` or anything sliceable) read block by block.

    Parameters
    ----------
    X : numpy.memmap or array-like with ``shape``, ``dtype`` and row slicing
    sample_weight : array-like of shape (n_samples,) or None
    covariance_type : str
    backend : {"numba", "numpy"}
    block_rows : int, optional
        Rows per block; default: as many as fit in :data:`BLOCK_BYTES`.
    """

    def __init__(self, X, sample_weight, covariance_type, backend, block_rows=None):
        shape = tuple(X.shape)
        if len(shape) != 2:
            raise ValueError(
                f"Expected a 2-D array for X, got {len(shape)}-D. Pass a 2-D array of "
                "shape (n_samples, n_features)."
            )
        if shape[0] < 1 or shape[1] < 1:
            raise ValueError(
                f"X is empty (shape {shape}); at least one sample and one feature are needed."
            )
        self.X = X
        self.n_samples, self.n_features = shape
        self.dtype = real_dtype(X.dtype)
        itemsize = self.dtype.itemsize
        self.block_rows = int(block_rows or max(1, BLOCK_BYTES // (self.n_features * itemsize)))
        self.covariance_type = covariance_type
        self.backend = backend
        self.sample_weight = check_sample_weight(sample_weight, self.n_samples)
        sw = self.sample_weight
        self.total_weight = float(self.n_samples if sw.shape[0] == 0 else sw.sum())
        same_dtype = np.dtype(X.dtype) == self.dtype
        self._position = _file_position(X) if isinstance(X, np.memmap) and same_dtype else None
        self._checked = False  # finiteness is checked during the first full pass

    # -- reading
    def blocks(self):
        """Yield ``(start, block, block_sample_weight)``; ``block`` may be a reused buffer."""
        n, d = self.n_samples, self.n_features
        sw = self.sample_weight
        check = not self._checked
        handle = None
        buf = None
        try:
            if self._position is not None:
                handle = open(self._position[0], "rb", buffering=0)  # noqa: SIM115
                buf = np.empty((min(self.block_rows, n), d), dtype=self.dtype)
            for start in range(0, n, self.block_rows):
                stop = min(start + self.block_rows, n)
                if handle is not None:
                    block = buf[: stop - start]
                    handle.seek(self._position[1] + start * d * self.dtype.itemsize)
                    view = memoryview(block).cast("B")
                    got = 0
                    while got < view.nbytes:
                        r = handle.readinto(view[got:])
                        if not r:
                            raise OSError(f"{self._position[0]} is shorter than the memmap says.")
                        got += r
                else:
                    block = np.ascontiguousarray(self.X[start:stop], dtype=self.dtype)
                if check:
                    check_block_finite(block, start)
                yield start, block, (sw[start:stop] if sw.shape[0] else sw)
        finally:
            if handle is not None:
                handle.close()
        self._checked = True

    def sample(self, random_state, max_rows):
        """At most ``max_rows`` random rows (all rows, no draw, when there are few enough)."""
        n = self.n_samples
        idx = None if n <= max_rows else sample_indices(n, max_rows, random_state)
        parts, weights = [], []
        for start, block, w in self.blocks():
            if idx is None:
                parts.append(block.copy())
                weights.append(w)
                continue
            lo, hi = np.searchsorted(idx, [start, start + block.shape[0]])
            parts.append(block[idx[lo:hi] - start])
            if w.shape[0]:
                weights.append(w[idx[lo:hi] - start])
        sample = np.ascontiguousarray(np.concatenate(parts))
        sw = np.concatenate(weights) if self.sample_weight.shape[0] else self.sample_weight[:0]
        return sample, np.ascontiguousarray(sw, dtype=np.float64)

    # -- statistics of one pass
    def em_stats(self, params, hard=False):
        """``(sum_i w_i log p(x_i), nk, sx, sxx)`` around ``means`` (fused E-step)."""
        weights, means, _, prec_chol = params
        ops = gmm_ops(self.backend, self.covariance_type)
        k = means.shape[0]
        nk, sx, sxx = empty_stats(self.covariance_type, k, self.n_features)
        nk_b, sx_b, sxx_b = empty_stats(self.covariance_type, k, self.n_features)
        log_lik = 0.0
        for _, block, w in self.blocks():
            # The parallel driver overwrites its outputs; add them in block order.
            log_lik += ops.suffstats(block, w, weights, means, prec_chol, hard, nk_b, sx_b, sxx_b)
            nk += nk_b
            sx += sx_b
            sxx += sxx_b
        return float(log_lik), nk, sx, sxx

    def assign_stats(self, centers):
        """Statistics of hard assignments to the nearest of ``centers`` (shifted by them)."""
        mod = backend_module(self.backend)
        accumulate = getattr(mod, f"accumulate_{self.covariance_type}")
        k = centers.shape[0]
        nk, sx, sxx = empty_stats(self.covariance_type, k, self.n_features)
        sums = np.empty_like(centers)
        counts = np.empty(k)
        for _, block, w in self.blocks():
            labels = np.empty(block.shape[0], dtype=np.int64)
            mod.kmeans_assign_parallel(block, w, centers, labels, sums, counts)
            accumulate(block, w, one_hot(labels, k), centers, nk, sx, sxx)
        return nk, sx, sxx

    def random_resp_stats(self, random_state, shift):
        """Statistics of uniform random responsibilities, drawn block by block in row order."""
        accumulate = getattr(backend_module(self.backend), f"accumulate_{self.covariance_type}")
        k = shift.shape[0]
        nk, sx, sxx = empty_stats(self.covariance_type, k, self.n_features)
        for _, block, w in self.blocks():
            resp = random_state.uniform(size=(block.shape[0], k))
            resp /= resp.sum(axis=1)[:, np.newaxis]
            accumulate(block, w, resp, shift, nk, sx, sxx)
        return nk, sx, sxx


def is_streamed(X: Any) -> bool:
    """Whether ``GaussianMixture.fit`` streams ``X`` block by block (a ``numpy.memmap``)."""
    return isinstance(X, np.memmap)


def fit_streamed(est, X, sample_weight=None, block_rows: int | None = None) -> None:
    """Fit ``est`` on a memmap (or any sliceable 2-D array) block by block."""
    check_params(est)
    source = ArraySource(X, sample_weight, est.covariance_type, est.backend, block_rows)
    fit_source(est, source)
