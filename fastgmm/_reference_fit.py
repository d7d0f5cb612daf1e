"""Pure-NumPy twins of the public-API kernels added for Numba users.

Same names and signatures as :mod:`fastgmm._kernels.predict`, ``.fit``,
``.sample``, ``.small`` and ``.batched``; built on the twins in :mod:`fastgmm._reference`.
Obviously correct rather than fast. Never imports :mod:`fastgmm._kernels`.
"""

from __future__ import annotations

import numpy as np

from . import _reference as ref

COVARIANCE_TYPES = ("full", "tied", "diag", "spherical")


def _sxx_zeros(cov, n_components, n_features):
    return np.zeros(
        {
            "full": (n_components, n_features, n_features),
            "tied": (n_features, n_features),
            "diag": (n_components, n_features),
            "spherical": (n_components,),
        }[cov]
    )


def total_weight(n_samples, sample_weight):
    """Twin of :func:`fastgmm._kernels.fit.total_weight`."""
    return float(n_samples) if sample_weight.shape[0] == 0 else float(sample_weight.sum())


def column_means(X, out):
    """Twin of :func:`fastgmm._kernels.fit.column_means`."""
    out[:] = X.mean(axis=0, dtype=np.float64)


def pick_component(weights, u):
    """Twin of :func:`fastgmm._kernels.sample.pick_component`."""
    positive = weights > 0
    cum = np.cumsum(np.where(positive, weights, 0.0))
    hit = np.flatnonzero(positive & (cum > u * weights.sum()))
    return int(hit[0]) if hit.size else int(np.flatnonzero(positive)[-1])


def _make(cov):
    log_prob = getattr(ref, f"log_gaussian_prob_{cov}")
    e_step = getattr(ref, f"e_step_{cov}_parallel")
    suffstats = getattr(ref, f"suffstats_{cov}")
    accumulate = getattr(ref, f"accumulate_{cov}")
    m_step = getattr(ref, f"m_step_{cov}")

    def score_samples(X, weights, means, precisions_chol, out):
        e_step(X, weights, means, precisions_chol, out, np.empty(0, np.int64), np.empty((0, 0)))

    def predict(X, weights, means, precisions_chol, labels):
        e_step(X, weights, means, precisions_chol, np.empty(0), labels, np.empty((0, 0)))

    def predict_proba(X, weights, means, precisions_chol, out):
        e_step(X, weights, means, precisions_chol, np.empty(0), np.empty(0, np.int64), out)
        np.exp(out, out=out)

    def score_one(x, weights, means, precisions_chol):
        out = np.empty(1)
        score_samples(np.asarray(x)[np.newaxis], weights, means, precisions_chol, out)
        return float(out[0])

    def em_step(X, sample_weight, reg_covar, weights, means, covariances, precisions_chol):
        n_components, n_features = means.shape
        nk = np.zeros(n_components)
        sx = np.zeros((n_components, n_features))
        sxx = _sxx_zeros(cov, n_components, n_features)
        ll = suffstats(X, sample_weight, weights, means, precisions_chol, False, nk, sx, sxx)
        shift = means.copy()
        status = m_step(nk, sx, sxx, shift, reg_covar, weights, means, covariances, precisions_chol)
        return ll, status

    def fit_em(
        X, sample_weight, max_iter, tol, reg_covar, weights, means, covariances, precisions_chol
    ):
        tw = total_weight(X.shape[0], sample_weight)
        lower_bound, converged, status, n_iter = -np.inf, False, 0, 0
        for n_iter in range(1, max_iter + 1):  # noqa: B007
            ll, status = em_step(
                X, sample_weight, reg_covar, weights, means, covariances, precisions_chol
            )
            new = ll / tw
            converged = abs(new - lower_bound) < tol
            lower_bound = new
            if status != 0:
                converged = False
                break
            if converged:
                break
        return lower_bound, n_iter, converged, status

    def init_from_seeds(
        X, sample_weight, indices, reg_covar, weights, means, covariances, precisions_chol
    ):
        n_components, n_features = means.shape
        shift = np.repeat(X.mean(axis=0, dtype=np.float64)[np.newaxis], n_components, axis=0)
        sw = sample_weight[indices] if sample_weight.shape[0] else sample_weight
        nk = np.zeros(n_components)
        sx = np.zeros((n_components, n_features))
        sxx = _sxx_zeros(cov, n_components, n_features)
        accumulate(X[indices], sw, np.eye(n_components), shift, nk, sx, sxx)
        return m_step(nk, sx, sxx, shift, reg_covar, weights, means, covariances, precisions_chol)

    def em_workspace(n_rows, n_components, n_features):
        return ()  # the twin needs no scratch: fit_em_workspace allocates freely

    def fit_em_workspace(
        X, sample_weight, max_iter, tol, reg_covar,
        weights, means, covariances, precisions_chol, workspace,
    ):  # fmt: skip
        return fit_em(
            X, sample_weight, max_iter, tol, reg_covar, weights, means, covariances, precisions_chol
        )

    def sample(weights, means, precisions_chol, u, z, X, labels):
        n_features = means.shape[1]
        for i in range(X.shape[0]):
            k = pick_component(weights, u[i])
            labels[i] = k
            if cov == "full":
                y = np.linalg.solve(precisions_chol[k].T, z[i])
            elif cov == "tied":
                y = np.linalg.solve(precisions_chol.T, z[i])
            elif cov == "diag":
                y = z[i] / precisions_chol[k]
            else:
                y = z[i] / precisions_chol[k] * np.ones(n_features)
            X[i] = means[k] + y

    def sample_random(weights, means, precisions_chol, X, labels):
        n_samples, n_features = X.shape
        u = np.empty(n_samples)
        z = np.empty((n_samples, n_features))
        for i in range(n_samples):  # draw order of the kernel: u, then the normals
            u[i] = np.random.random_sample()
            z[i] = np.random.standard_normal(n_features)
        sample(weights, means, precisions_chol, u, z, X, labels)

    def init_many_kmeanspp(
        X, offsets, sample_weight, first_u, trial_u, reg_covar,
        weights, means, covariances, precisions_chol, status,
    ):  # fmt: skip
        n_components, n_features = means.shape[1], means.shape[2]
        for g in range(offsets.shape[0] - 1):
            a, b = offsets[g], offsets[g + 1]
            sw = sample_weight[a:b] if sample_weight.shape[0] else sample_weight
            centers = np.empty((n_components, n_features))
            indices = np.empty(n_components, dtype=np.int64)
            ref.kmeans_plusplus(X[a:b], sw, first_u[g], trial_u[g], centers, indices)
            status[g] = init_from_seeds(
                X[a:b], sw, indices, reg_covar,
                weights[g], means[g], covariances[g], precisions_chol[g],
            )  # fmt: skip

    def fit_many(
        X, offsets, sample_weight, max_iter, tol, reg_covar,
        weights, means, covariances, precisions_chol, lower_bound, n_iter, converged, status,
    ):  # fmt: skip
        for g in range(offsets.shape[0] - 1):
            if status[g] != 0:
                lower_bound[g], n_iter[g], converged[g] = np.nan, 0, False
                continue
            a, b = offsets[g], offsets[g + 1]
            sw = sample_weight[a:b] if sample_weight.shape[0] else sample_weight
            lower_bound[g], n_iter[g], converged[g], status[g] = fit_em(
                X[a:b], sw, max_iter, tol, reg_covar,
                weights[g], means[g], covariances[g], precisions_chol[g],
            )  # fmt: skip

    del log_prob
    funcs = {
        f"e_step_{cov}": e_step,
        f"score_samples_{cov}": score_samples,
        f"predict_{cov}": predict,
        f"predict_proba_{cov}": predict_proba,
        f"score_one_{cov}": score_one,
        f"em_step_{cov}": em_step,
        f"em_step_{cov}_parallel": em_step,
        f"fit_em_{cov}": fit_em,
        f"fit_em_{cov}_parallel": fit_em,
        f"init_from_seeds_{cov}": init_from_seeds,
        f"em_workspace_{cov}": em_workspace,
        f"fit_em_workspace_{cov}": fit_em_workspace,
        f"sample_{cov}": sample,
        f"sample_{cov}_random": sample_random,
        f"init_many_kmeanspp_{cov}": init_many_kmeanspp,
        f"fit_many_{cov}": fit_many,
    }
    for name, fn in funcs.items():
        if fn is not e_step:
            fn.__name__ = fn.__qualname__ = name
            fn.__doc__ = f"Twin of the nopython kernel ``{name}`` (same signature)."
    return funcs


for _cov in COVARIANCE_TYPES:
    globals().update(_make(_cov))


def kmeanspp_uniforms(seeds, first_u, trial_u):
    """Twin of :func:`fastgmm._kernels.batched.kmeanspp_uniforms` (no global side effect)."""
    for g in range(seeds.shape[0]):
        rs = np.random.RandomState(int(seeds[g]))
        first_u[g] = rs.uniform()
        trial_u[g] = rs.uniform(size=trial_u.shape[1:])
