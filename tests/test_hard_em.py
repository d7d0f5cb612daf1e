"""Hard-assignment (classification) EM and the responsibility-change stopping rule (issue 8)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from gmm_testing import COVARIANCE_TYPES, make_blobs

from fastgmm import ConvergenceWarning, GaussianMixture
from fastgmm._datasets import make_1d_lecture_mixture
from fastgmm._metrics import best_match_accuracy

EPS = 10.0 * np.finfo(np.float64).eps


# --------------------------------------------------------------------------- direct NumPy hard EM
def _full_covariances(cov_type, covariances, k, d):
    if cov_type == "full":
        return covariances
    if cov_type == "tied":
        return np.repeat(covariances[np.newaxis], k, axis=0)
    if cov_type == "diag":
        return np.stack([np.diag(c) for c in covariances])
    return np.stack([c * np.eye(d) for c in covariances])


def _log_joint(X, weights, means, full_covs):
    """log(pi_k N(x_i | mu_k, Sigma_k)) with plain linear algebra."""
    n, d = X.shape
    out = np.empty((n, len(weights)))
    for k, (mu, s) in enumerate(zip(means, full_covs, strict=True)):
        diff = X - mu
        quad = np.einsum("ij,ij->i", diff @ np.linalg.inv(s), diff)
        _, logdet = np.linalg.slogdet(s)
        out[:, k] = np.log(weights[k]) - 0.5 * (d * np.log(2 * np.pi) + logdet + quad)
    return out


def _m_step(X, w, labels, k, cov_type, reg):
    n, d = X.shape
    r = np.zeros((n, k))
    r[np.arange(n), labels] = w
    nk = r.sum(axis=0) + EPS
    means = (r.T @ X) / nk[:, np.newaxis]
    scatter = np.stack([(r[:, j, None] * (X - means[j])).T @ (X - means[j]) for j in range(k)])
    if cov_type == "full":
        covs = scatter / nk[:, None, None] + reg * np.eye(d)
    elif cov_type == "tied":
        covs = scatter.sum(axis=0) / nk.sum() + reg * np.eye(d)
    elif cov_type == "diag":
        covs = np.stack([np.diag(s) for s in scatter]) / nk[:, None] + reg
    else:
        covs = np.array([np.trace(s) for s in scatter]) / nk / d + reg
    return nk / nk.sum(), means, covs


def direct_hard_em(X, w, weights, means, covs, cov_type, *, tol, max_iter, reg, stopping):
    """Classification EM written out: argmax, M-step, classification log-likelihood."""
    k, d = means.shape
    lower_bound = -np.inf
    prev_labels = None
    lower_bounds = []
    for n_iter in range(1, max_iter + 1):
        log_joint = _log_joint(X, weights, means, _full_covariances(cov_type, covs, k, d))
        labels = log_joint.argmax(axis=1)
        if prev_labels is None:
            prev_labels = labels
        new_lb = float(w @ log_joint[np.arange(len(X)), labels]) / w.sum()
        weights, means, covs = _m_step(X, w, labels, k, cov_type, reg)
        change, lower_bound = new_lb - lower_bound, new_lb
        lower_bounds.append(lower_bound)
        if stopping == "lower_bound":
            if abs(change) < tol:
                return weights, means, covs, n_iter, lower_bounds
        else:  # labels the next E-step would use against the ones this one used
            next_joint = _log_joint(X, weights, means, _full_covariances(cov_type, covs, k, d))
            if np.array_equal(next_joint.argmax(axis=1), labels):
                return weights, means, covs, n_iter, lower_bounds
    return weights, means, covs, max_iter, lower_bounds


def _init(X, cov_type, k):
    d = X.shape[1]
    covs = {
        "full": np.stack([np.eye(d)] * k),
        "tied": np.eye(d),
        "diag": np.ones((k, d)),
        "spherical": np.ones(k),
    }[cov_type]
    means = X[np.linspace(0, len(X) - 1, k).astype(int)]
    return np.full(k, 1.0 / k), means, covs


@pytest.mark.parametrize("cov", COVARIANCE_TYPES)
@pytest.mark.parametrize("stopping", ["lower_bound", "resp_change"])
@pytest.mark.parametrize("backend", ["numba", "numpy"])
def test_hard_em_equals_direct_numpy(rng, cov, stopping, backend):
    X, _ = make_blobs(rng, n_samples=200, n_features=2, n_components=3, spread=2.5)
    w = rng.uniform(0.5, 2.0, size=len(X))
    weights, means, covs = _init(X, cov, 3)
    expected = direct_hard_em(
        X, w, weights, means, covs, cov, tol=1e-10, max_iter=50, reg=1e-6, stopping=stopping
    )
    gm = GaussianMixture(
        3,
        covariance_type=cov,
        assignment="hard",
        stopping=stopping,
        tol=1e-10,
        max_iter=50,
        weights_init=weights,
        means_init=means,
        precisions_init=np.linalg.inv(covs) if cov in ("full", "tied") else 1.0 / covs,
        backend=backend,
    ).fit(X, sample_weight=w)
    e_weights, e_means, e_covs, e_n_iter, e_lower_bounds = expected
    assert gm.converged_
    assert gm.n_iter_ == e_n_iter
    np.testing.assert_allclose(gm.weights_, e_weights, rtol=1e-10)
    np.testing.assert_allclose(gm.means_, e_means, rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(gm.covariances_, e_covs, rtol=1e-9, atol=1e-10)
    np.testing.assert_allclose(gm.lower_bounds_, e_lower_bounds, rtol=1e-10)


@pytest.mark.parametrize("cov", COVARIANCE_TYPES)
def test_lower_bound_never_decreases(rng, cov):
    """The classification log-likelihood is monotone (exactly so with reg_covar=0)."""
    X, _ = make_blobs(rng, n_samples=400, n_features=3, n_components=4, spread=1.5)
    gm = GaussianMixture(
        4,
        covariance_type=cov,
        assignment="hard",
        reg_covar=0.0,
        tol=0.0,
        max_iter=30,
        init_params="random",
        random_state=1,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        gm.fit(X)
    lb = np.asarray(gm.lower_bounds_)
    assert len(lb) == 30
    assert np.all(np.diff(lb) >= -1e-12 * np.abs(lb[1:]))
    assert lb[-1] > lb[0]  # it did move


@pytest.mark.parametrize("seed", range(5))
def test_lecture_example_is_separated(seed):
    """Seeds' lecture: blue N(0, 3^2), red N(10, 1); start at means 3 and 5, sd 1, weights 1/2."""
    X, y = make_1d_lecture_mixture("two", random_state=seed)
    gm = GaussianMixture(
        2,
        assignment="hard",
        weights_init=[0.5, 0.5],
        means_init=[[3.0], [5.0]],
        precisions_init=[[[1.0]], [[1.0]]],
    ).fit(X)
    labels = gm.predict(X)
    assert gm.converged_
    assert best_match_accuracy(y, labels) >= 0.95
    order = np.argsort(gm.means_[:, 0])
    np.testing.assert_allclose(gm.means_[order, 0], [0.0, 10.0], atol=1.0)
    np.testing.assert_allclose(np.sqrt(gm.covariances_[order, 0, 0]), [3.0, 1.0], atol=0.8)


def test_soft_resp_change_rule_matches_its_definition(rng):
    """Stops at the first t with max |r(theta_t) - r(theta_{t-1})| < resp_tol."""
    X, _ = make_blobs(rng, n_samples=300, n_features=2, n_components=3, spread=1.5)
    kw = {"n_components": 3, "init_params": "random_from_data", "random_state": 3}
    resp_tol = 1e-3
    gm = GaussianMixture(stopping="resp_change", resp_tol=resp_tol, **kw).fit(X)
    n = gm.n_iter_
    assert gm.converged_ and n >= 3

    def proba(max_iter):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            return GaussianMixture(tol=0.0, max_iter=max_iter, **kw).fit(X).predict_proba(X)

    p = [proba(t) for t in (n - 2, n - 1, n)]
    assert np.abs(p[2] - p[1]).max() < resp_tol
    assert np.abs(p[1] - p[0]).max() >= resp_tol
    np.testing.assert_allclose(gm.predict_proba(X), p[2], rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize(
    "params, error, match",
    [
        ({"assignment": "classification"}, ValueError, "assignment"),
        ({"stopping": "gamma"}, ValueError, "stopping"),
        ({"resp_tol": -1.0}, ValueError, "resp_tol"),
        ({"resp_tol": "small"}, TypeError, "resp_tol"),
    ],
)
def test_invalid_variant_params(params, error, match):
    with pytest.raises(error, match=match):
        GaussianMixture(2, **params).fit(np.arange(10.0).reshape(-1, 1))


def test_defaults_keep_scikit_learn_behaviour():
    params = GaussianMixture().get_params()
    assert params["assignment"] == "soft"
    assert params["stopping"] == "lower_bound"
    assert params["resp_tol"] == 1e-3
