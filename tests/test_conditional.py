"""Conditioning / Gaussian mixture regression for every covariance type (issue 8)."""

from __future__ import annotations

import numpy as np
import pytest
from gmm_testing import COVARIANCE_TYPES, make_blobs

from fastgmm import GaussianMixture
from fastgmm import _reference_condition as twin
from fastgmm._conditional import ConditionalMixture
from fastgmm._kernels import condition as kernels

TWINS = {
    "conditional_means": (kernels.conditional_means, twin.conditional_means),
    "conditional_means_parallel": (kernels.conditional_means_parallel, twin.conditional_means),
}


def _full_covs(gm):
    """Every component's covariance as a full matrix, whatever the covariance type."""
    k, d = gm.means_.shape
    c = np.asarray(gm.covariances_, np.float64)
    if gm.covariance_type == "full":
        return c
    if gm.covariance_type == "tied":
        return np.repeat(c[np.newaxis], k, axis=0)
    if gm.covariance_type == "diag":
        return np.stack([np.diag(v) for v in c])
    return np.stack([v * np.eye(d) for v in c])


def reference_condition(gm, given, a):
    """Textbook conditioning with inverses: weights (K,), means (K, Dy), covariances (K, Dy, Dy)."""
    d = gm.means_.shape[1]
    target = np.setdiff1d(np.arange(d), given)
    log_w, means, covs = [], [], []
    for pi, mu, s in zip(gm.weights_, gm.means_, _full_covs(gm), strict=True):
        s_xx = s[np.ix_(given, given)]
        s_yx = s[np.ix_(target, given)]
        inv = np.linalg.inv(s_xx)
        diff = a - mu[given]
        _, logdet = np.linalg.slogdet(s_xx)
        log_w.append(
            np.log(pi) - 0.5 * (len(given) * np.log(2 * np.pi) + logdet + diff @ inv @ diff)
        )
        means.append(mu[target] + s_yx @ inv @ diff)
        covs.append(s[np.ix_(target, target)] - s_yx @ inv @ s_yx.T)
    log_w = np.array(log_w)
    w = np.exp(log_w - log_w.max())
    return w / w.sum(), np.array(means), np.array(covs)


@pytest.fixture
def data(rng):
    X, _ = make_blobs(rng, n_samples=300, n_features=4, n_components=3, spread=3.0)
    return X


@pytest.mark.parametrize("cov", COVARIANCE_TYPES)
def test_single_gaussian_equals_closed_form(rng, data, cov):
    gm = GaussianMixture(1, covariance_type=cov).fit(data)
    given = np.array([0, 2])
    a = rng.normal(size=2)
    mu, s = gm.means_[0], _full_covs(gm)[0]
    s_xx, s_yx = s[np.ix_(given, given)], s[np.ix_([1, 3], given)]
    mean = mu[[1, 3]] + s_yx @ np.linalg.inv(s_xx) @ (a - mu[given])
    covariance = s[np.ix_([1, 3], [1, 3])] - s_yx @ np.linalg.inv(s_xx) @ s_yx.T
    cond = gm.condition(given, a)
    assert isinstance(cond, GaussianMixture)
    assert cond.covariance_type == cov
    np.testing.assert_allclose(cond.weights_, [1.0])
    np.testing.assert_allclose(cond.means_[0], mean, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(_full_covs(cond)[0], covariance, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(gm.regress(given, a[np.newaxis]), mean[np.newaxis], rtol=1e-10)


@pytest.mark.parametrize("cov", COVARIANCE_TYPES)
@pytest.mark.parametrize("backend", ["numba", "numpy"])
def test_mixture_equals_reference(rng, data, cov, backend):
    gm = GaussianMixture(3, covariance_type=cov, random_state=0, backend=backend).fit(data)
    given = [3, 1]
    queries = data[:40][:, given] + rng.normal(scale=0.5, size=(40, 2))
    cond = gm.condition(given, queries)
    assert isinstance(cond, ConditionalMixture)
    assert cond.indices_target.tolist() == [0, 2]
    expected_mean = np.empty((40, 2))
    for q, a in enumerate(queries):
        w, m, c = reference_condition(gm, np.array(given), a)
        np.testing.assert_allclose(cond.weights[q], w, rtol=1e-9, atol=1e-14)
        np.testing.assert_allclose(cond.means[q], m, rtol=1e-10, atol=1e-12)
        single = cond.mixture(q, gm)
        np.testing.assert_allclose(_full_covs(single), c, rtol=1e-10, atol=1e-12)
        expected_mean[q] = w @ m
    np.testing.assert_allclose(cond.mean(), expected_mean, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(gm.regress(given, queries), expected_mean, rtol=1e-9, atol=1e-12)


def test_conditional_density_is_joint_over_marginal(rng, data):
    """log p(y | x=a) - log p(a, y) does not depend on y."""
    gm = GaussianMixture(3, random_state=0).fit(data)
    a = data[5, :2]
    cond = gm.condition([0, 1], a)
    Y = data[:50, 2:] + rng.normal(size=(50, 2))
    joint = gm.score_samples(np.column_stack([np.tile(a, (50, 1)), Y]))
    gap = joint - cond.score_samples(Y)
    np.testing.assert_allclose(gap, gap[0], rtol=0, atol=1e-10)


@pytest.mark.parametrize("name", sorted(TWINS))
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_kernel_twins(rng, name, dtype):
    kernel, reference = TWINS[name]
    n, k, dx, dy = 600, 3, 2, 3
    args = (
        rng.normal(size=(n, dx)).astype(dtype),
        rng.normal(size=(k, dx)),
        rng.normal(size=(k, dy)),
        rng.normal(size=(k, dy, dx)),
    )
    out, expected = np.empty((n, k, dy)), np.empty((n, k, dy))
    kernel(*args, out)
    reference(*args, expected)
    np.testing.assert_allclose(out, expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("parallel", [False, True])
def test_expectation_kernel_twin(rng, parallel):
    n, k, dx, dy = 600, 4, 3, 2
    resp = rng.uniform(size=(n, k))
    resp[:, 1] = 0.0  # a component of weight 0 is skipped
    resp /= resp.sum(axis=1, keepdims=True)
    args = (
        rng.normal(size=(n, dx)),
        resp,
        rng.normal(size=(k, dx)),
        rng.normal(size=(k, dy)),
        rng.normal(size=(k, dy, dx)),
    )
    fn = kernels.conditional_expectation_parallel if parallel else kernels.conditional_expectation
    out, expected = np.empty((n, dy)), np.empty((n, dy))
    fn(*args, out)
    twin.conditional_expectation(*args, expected)
    np.testing.assert_allclose(out, expected, rtol=1e-12, atol=1e-12)


def test_float32_model(rng, data):
    gm32 = GaussianMixture(2, random_state=0).fit(data.astype(np.float32))
    cond = gm32.condition([0], np.float32([0.5]))
    assert cond.means_.dtype == np.float32
    assert gm32.regress([0], data[:5, :1].astype(np.float32)).shape == (5, 3)


def test_boolean_mask_and_negative_indices(data):
    gm = GaussianMixture(2, random_state=0).fit(data)
    q = data[:7, [0, 3]]
    expected = gm.regress([0, 3], q)
    np.testing.assert_array_equal(gm.regress([True, False, False, True], q), expected)
    np.testing.assert_array_equal(gm.regress([0, -1], q), expected)


@pytest.mark.parametrize(
    "given, x, match",
    [
        ([0, 0], [[1.0, 2.0]], "repeats"),
        ([7], [[1.0]], "out of range"),
        ([0, 1, 2, 3], [[1.0, 2.0, 3.0, 4.0]], "nothing is left"),
        ([], [[1.0]], "non-empty"),
        ([0, 1], [[1.0, 2.0, 3.0]], "features"),
        ([0], [[np.nan]], "NaN"),
    ],
)
def test_invalid_input(data, given, x, match):
    gm = GaussianMixture(2, random_state=0).fit(data)
    with pytest.raises(ValueError, match=match):
        gm.regress(given, x)
