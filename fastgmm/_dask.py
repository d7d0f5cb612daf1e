"""Dask arrays: EM on the workers, K x D x D-sized objects on the client.

``GaussianMixture.fit`` hands a ``dask.array.Array`` to :func:`fit_dask`; every
EM pass maps :func:`block_em_stats` over the row chunks (the same serial Numba
kernels as in memory, ``suffstats_<cov>``) and sums the packed per-chunk
statistics with Dask's tree reduction (``split_every`` = :data:`SPLIT_EVERY`),
so the client only ever receives one vector of ``1 + K + K*D + size(sxx)``
numbers per iteration. Initialisation follows :mod:`fastgmm._streaming`: k-means
on a random sample of at most ``SAMPLE_ROWS`` rows (gathered chunk by chunk),
then one pass over all chunks. ``predict``, ``predict_proba`` and
``score_samples`` return lazy Dask arrays (``map_blocks``).

Kernels inside a task are serial (Dask already runs one task per worker
thread), so use at least as many row chunks as worker threads. Results do not
depend on the scheduler: a lost worker's chunks are recomputed from the graph.

Nothing here imports Dask at module import: :func:`is_dask_array` looks at
``sys.modules``, so a program that never imports Dask never pays for it.
"""

from __future__ import annotations

import sys
from typing import Any

import numpy as np

from ._backend import backend_module
from ._covariance import sxx_shape
from ._streaming import (
    check_block_finite,
    empty_stats,
    fit_source,
    one_hot,
    real_dtype,
    sample_indices,
)
from ._validation import check_params

#: Fan-in of the tree that sums per-chunk statistics.
SPLIT_EVERY = 8


def is_dask_array(X: Any) -> bool:
    """Whether ``X`` is a ``dask.array.Array`` (without importing Dask)."""
    da = sys.modules.get("dask.array")
    return da is not None and isinstance(X, da.Array)


# --------------------------------------------------------------------------- per-chunk tasks
def _stats_size(covariance_type: str, n_components: int, n_features: int) -> int:
    n_sxx = int(np.prod(sxx_shape(covariance_type, n_components, n_features)))
    return 1 + n_components + n_components * n_features + n_sxx


def pack_stats(log_lik, nk, sx, sxx) -> np.ndarray:
    """One row ``[log_lik, nk, sx, sxx]`` (shape (1, size)) for the tree reduction."""
    return np.concatenate([[log_lik], nk, sx.ravel(), sxx.ravel()])[np.newaxis]


def unpack_stats(vec, covariance_type, n_components, n_features):
    """Inverse of :func:`pack_stats`: ``(log_lik, nk, sx, sxx)``."""
    k, d = n_components, n_features
    nk = vec[1 : 1 + k].copy()
    sx = vec[1 + k : 1 + k + k * d].reshape(k, d).copy()
    sxx = vec[1 + k + k * d :].reshape(sxx_shape(covariance_type, k, d)).copy()
    return float(vec[0]), nk, sx, sxx


def _block_weight(sample_weight):
    """Return a chunk's weights as float64 of shape (rows,), or (0,) when unweighted."""
    if sample_weight is None:
        return np.empty(0)
    return np.ascontiguousarray(np.ravel(sample_weight), dtype=np.float64)


def _row_start(block_info) -> int:
    return block_info[0]["array-location"][0][0] if block_info else 0


def block_em_stats(
    block, sample_weight=None, *, params, hard, covariance_type, backend, check, block_info=None
):
    """Packed EM statistics of one chunk (fused E-step, serial kernel)."""
    weights, means, prec_chol = params
    if check:
        check_block_finite(block, _row_start(block_info))
    suffstats = getattr(backend_module(backend), f"suffstats_{covariance_type}")
    nk, sx, sxx = empty_stats(covariance_type, means.shape[0], means.shape[1])
    block = np.ascontiguousarray(block)
    log_lik = suffstats(
        block, _block_weight(sample_weight), weights, means, prec_chol, hard, nk, sx, sxx
    )
    return pack_stats(log_lik, nk, sx, sxx)


def block_assign_stats(
    block, sample_weight=None, *, centers, covariance_type, backend, check, block_info=None
):
    """Packed statistics of hard assignments to the nearest centre (shifted by the centres)."""
    if check:
        check_block_finite(block, _row_start(block_info))
    mod = backend_module(backend)
    k = centers.shape[0]
    block = np.ascontiguousarray(block)
    w = _block_weight(sample_weight)
    labels = np.empty(block.shape[0], dtype=np.int64)
    mod.kmeans_assign(block, w, centers, labels, np.empty_like(centers), np.empty(k))
    nk, sx, sxx = empty_stats(covariance_type, k, block.shape[1])
    getattr(mod, f"accumulate_{covariance_type}")(
        block, w, one_hot(labels, k), centers, nk, sx, sxx
    )
    return pack_stats(0.0, nk, sx, sxx)


def block_random_stats(
    block, sample_weight=None, *, seeds, shift, covariance_type, backend, block_info=None
):
    """Packed statistics of uniform random responsibilities (one seed per chunk)."""
    k = shift.shape[0]
    block = np.ascontiguousarray(block)
    seed = int(seeds[block_info[0]["chunk-location"][0]])
    resp = np.random.RandomState(seed).uniform(size=(block.shape[0], k))
    resp /= resp.sum(axis=1)[:, np.newaxis]
    nk, sx, sxx = empty_stats(covariance_type, k, block.shape[1])
    accumulate = getattr(backend_module(backend), f"accumulate_{covariance_type}")
    accumulate(block, _block_weight(sample_weight), resp, shift, nk, sx, sxx)
    return pack_stats(0.0, nk, sx, sxx)


def block_e_step(block, *, params, covariance_type, backend, what):
    """``labels``, ``log_prob_norm`` or ``proba`` of one chunk (serial kernels)."""
    weights, means, prec_chol = params
    check_block_finite(block, 0)
    mod = backend_module(backend)
    block = np.ascontiguousarray(block)
    n = block.shape[0]
    lp = np.empty((n, means.shape[0]))
    getattr(mod, f"log_gaussian_prob_{covariance_type}")(block, means, prec_chol, lp)
    mod.add_log_weights(lp, np.log(weights))
    if what == "labels":
        labels = np.empty(n, dtype=np.int64)
        mod.argmax_rows(lp, labels)
        return labels
    norm = np.empty(n)
    mod.normalize_log_resp(lp, norm)
    if what == "log_prob_norm":
        return norm
    return np.exp(lp, out=lp)


# --------------------------------------------------------------------------- the source
def check_dask_X(X, n_features=None):
    """Validate a Dask array's metadata; return it with one column chunk and a float dtype."""
    if X.ndim != 2:
        raise ValueError(
            f"Expected a 2-D array for X, got {X.ndim}-D. Pass a 2-D dask array of "
            "shape (n_samples, n_features)."
        )
    if any(np.isnan(c) for c in X.chunks[0]):
        raise ValueError(
            "X has unknown chunk sizes (for example after boolean indexing). "
            "Call X.compute_chunk_sizes() first."
        )
    if X.shape[0] < 1 or X.shape[1] < 1:
        raise ValueError(
            f"X is empty (shape {X.shape}); at least one sample and one feature are needed."
        )
    if n_features is not None and X.shape[1] != n_features:
        raise ValueError(
            f"X has {X.shape[1]} features, but the model was fitted with {n_features} "
            "features. Pass data with the same columns as at fit time."
        )
    dtype = real_dtype(X.dtype)
    if dtype != X.dtype:
        X = X.astype(dtype)
    if len(X.chunks[1]) > 1:
        X = X.rechunk({1: -1})
    return X


class DaskSource:
    """Row chunks of a Dask array as an out-of-core source for :func:`fit_source`."""

    def __init__(self, X, sample_weight, covariance_type, backend):
        import dask
        import dask.array as da

        self.X = check_dask_X(X)
        self.n_samples, self.n_features = self.X.shape
        self.dtype = self.X.dtype
        self.covariance_type = covariance_type
        self.backend = backend
        self.sw = None
        self.total_weight = float(self.n_samples)
        if sample_weight is not None:
            sw = sample_weight if is_dask_array(sample_weight) else da.asarray(sample_weight)
            if sw.ndim != 1 or sw.shape[0] != self.n_samples:
                raise ValueError(
                    f"sample_weight has shape {sw.shape}; expected ({self.n_samples},), one "
                    "weight per sample."
                )
            if sw.dtype.kind not in "biuf":
                raise TypeError(f"sample_weight must be numeric, got dtype {sw.dtype}.")
            sw = sw.astype(np.float64).rechunk((self.X.chunks[0],))
            total, lowest, finite = dask.compute(sw.sum(), sw.min(), da.isfinite(sw).all())
            if not finite or lowest < 0:
                raise ValueError("sample_weight must be finite and non-negative.")
            if total <= 0:
                raise ValueError(
                    "sample_weight sums to zero; at least one sample needs a positive weight."
                )
            self.sw = sw
            self.total_weight = float(total)
        self._checked = False

    def _reduce(self, func, **kwargs):
        """Map ``func`` over the row chunks and tree-sum the packed statistics."""
        import dask.array as da

        k = kwargs["centers"] if "centers" in kwargs else kwargs.get("shift")
        k = (k if k is not None else kwargs["params"][1]).shape[0]
        size = _stats_size(self.covariance_type, k, self.n_features)
        args = [self.X] if self.sw is None else [self.X, self.sw[:, np.newaxis]]
        parts = da.map_blocks(
            func,
            *args,
            chunks=((1,) * len(self.X.chunks[0]), (size,)),
            dtype=np.float64,
            covariance_type=self.covariance_type,
            backend=self.backend,
            **kwargs,
        )
        vec = parts.sum(axis=0, split_every=SPLIT_EVERY).compute()
        return unpack_stats(np.asarray(vec), self.covariance_type, k, self.n_features)

    def em_stats(self, params, hard=False):
        """``(sum_i w_i log p(x_i), nk, sx, sxx)`` around ``means``, summed on the workers."""
        weights, means, _, prec_chol = params
        packed = (weights, means, prec_chol)
        out = self._reduce(block_em_stats, params=packed, hard=hard, check=not self._checked)
        self._checked = True
        return out

    def assign_stats(self, centers):
        """Statistics of hard assignments to the nearest of ``centers``."""
        out = self._reduce(block_assign_stats, centers=centers, check=not self._checked)
        self._checked = True
        return out[1:]

    def random_resp_stats(self, random_state, shift):
        """Statistics of random responsibilities (one seed per chunk from ``random_state``)."""
        n_chunks = len(self.X.chunks[0])
        seeds = random_state.randint(0, 2**31 - 1, size=n_chunks)
        return self._reduce(block_random_stats, seeds=seeds, shift=shift)[1:]

    def sample(self, random_state, max_rows):
        """At most ``max_rows`` random rows, gathered chunk by chunk (all rows when few)."""
        import dask

        n = self.n_samples
        if n <= max_rows:
            X, sw = self.X, self.sw
        else:
            idx = sample_indices(n, max_rows, random_state)
            X = self.X[idx]
            sw = None if self.sw is None else self.sw[idx]
        if sw is None:
            (sample,) = dask.compute(X)
            sample_w = np.empty(0)
        else:
            sample, sample_w = dask.compute(X, sw)
        sample = np.ascontiguousarray(sample)
        if not np.isfinite(sample).all():
            raise ValueError(
                "X contains NaN or infinity. Remove or impute missing values "
                "(for example with numpy.nan_to_num or an imputer) before fitting."
            )
        return sample, np.ascontiguousarray(sample_w, dtype=np.float64)


# --------------------------------------------------------------------------- estimator hooks
def fit_dask(est, X, sample_weight=None) -> None:
    """Fit ``est`` on a Dask array (EM statistics computed on the workers)."""
    check_params(est)
    fit_source(est, DaskSource(X, sample_weight, est.covariance_type, est.backend))


def _lazy_e_step(est, X, what):
    weights, means, prec_chol = est._fitted_params()
    X = check_dask_X(X, n_features=est.n_features_in_)
    kwargs = dict(
        params=(weights, means, prec_chol),
        covariance_type=est.covariance_type,
        backend=est.backend,
        what=what,
    )
    if what == "proba":
        return X.map_blocks(
            block_e_step, chunks=(X.chunks[0], (means.shape[0],)), dtype=np.float64, **kwargs
        )
    dtype = np.int64 if what == "labels" else np.float64
    return X.map_blocks(block_e_step, drop_axis=1, dtype=dtype, **kwargs)


def predict(est, X):
    """Lazy most-probable component of every row."""
    return _lazy_e_step(est, X, "labels")


def predict_proba(est, X):
    """Lazy responsibilities, shape (n_samples, n_components)."""
    return _lazy_e_step(est, X, "proba")


def score_samples(est, X):
    """Lazy ``log p(x_i)`` of every row."""
    return _lazy_e_step(est, X, "log_prob_norm")


def score(est, X, sample_weight=None) -> float:
    """Per-sample average log-likelihood (computed; a float like the in-memory method)."""
    import dask.array as da

    log_prob = score_samples(est, X)
    if sample_weight is None:
        return float(log_prob.mean().compute())
    sw = da.asarray(sample_weight).astype(np.float64)
    return float(((log_prob * sw).sum() / sw.sum()).compute())
