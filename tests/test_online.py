"""partial_fit: stepwise online EM (Cappé & Moulines 2009)."""

from __future__ import annotations

import numpy as np
import pytest
from gmm_testing import COVARIANCE_TYPES

from fastgmm import GaussianMixture
from fastgmm._backend import gmm_ops
from fastgmm._online import stats_from_parameters, step_size

TRUE_MEANS = np.array([[0.0, 0.0], [4.0, 4.0], [0.0, 5.0]])
TRUE_WEIGHTS = np.array([0.5, 0.3, 0.2])


def draw(rng, n):
    z = rng.choice(3, size=n, p=TRUE_WEIGHTS)
    return TRUE_MEANS[z] + rng.normal(size=(n, 2)) * np.array([1.0, 0.6])


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_plain_average_schedule_reproduces_the_batch_gaussian(rng, covariance_type):
    # K = 1 and rho_t = 1 / (t + 1): the running statistics are the average over
    # equal batches, so the model is the Gaussian fitted to all rows (closed form).
    X = rng.normal(size=(4000, 3)) @ np.array([[1.0, 0.2, 0.0], [0.0, 1.0, 0.3], [0, 0, 2]]) + 5
    online = GaussianMixture(1, covariance_type=covariance_type)
    online.set_params(learning_decay=1.0, learning_offset=1.0)
    for batch in np.split(X, 8):
        online.partial_fit(batch)
    batch_fit = GaussianMixture(1, covariance_type=covariance_type).fit(X)
    np.testing.assert_allclose(online.means_[0], X.mean(axis=0), rtol=1e-12)
    np.testing.assert_allclose(online.means_, batch_fit.means_, rtol=1e-12)
    np.testing.assert_allclose(online.covariances_, batch_fit.covariances_, rtol=1e-10)
    assert online._online_state.t == 7


def test_stream_approaches_batch_log_likelihood(rng):
    test = draw(rng, 20_000)
    batch = GaussianMixture(3, random_state=0).fit(draw(rng, 20_000))
    online = GaussianMixture(3, random_state=0)
    online.partial_fit(draw(rng, 200))
    first = online.score(test)
    for _ in range(150):
        online.partial_fit(draw(rng, 400))
    gap_first = batch.score(test) - first
    gap_last = batch.score(test) - online.score(test)
    assert abs(gap_last) < 5e-3
    assert abs(gap_last) < abs(gap_first)
    order = np.argsort(online.means_[:, 0] + 10 * online.means_[:, 1])  # TRUE_MEANS' order
    np.testing.assert_allclose(online.means_[order], TRUE_MEANS, atol=0.1)
    np.testing.assert_allclose(online.weights_[order], TRUE_WEIGHTS, atol=0.03)


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_numba_equals_numpy_twin(rng, covariance_type):
    batches = [draw(rng, 300) for _ in range(6)]
    weights = [rng.uniform(0.5, 2.0, 300) for _ in range(6)]
    models = []
    for backend in ("numba", "numpy"):
        gm = GaussianMixture(3, covariance_type=covariance_type, random_state=1, backend=backend)
        for X, w in zip(batches, weights, strict=True):
            gm.partial_fit(X, sample_weight=w)
        models.append(gm)
    a, b = models
    np.testing.assert_allclose(a.means_, b.means_, rtol=1e-10)
    np.testing.assert_allclose(a.covariances_, b.covariances_, rtol=1e-10)
    np.testing.assert_allclose(a.weights_, b.weights_, rtol=1e-10)
    np.testing.assert_allclose(a.lower_bound_, b.lower_bound_, rtol=1e-10)


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_statistics_from_parameters_round_trip(rng, covariance_type):
    gm = GaussianMixture(3, covariance_type=covariance_type, random_state=0).fit(draw(rng, 500))
    means = gm.means_.copy()
    nk, sx, sxx = stats_from_parameters(
        gm.weights_, means, gm.covariances_, covariance_type, gm.reg_covar
    )
    params = gm._m_step(gmm_ops("numba", covariance_type), nk, sx, sxx, means)
    np.testing.assert_allclose(params[0], gm.weights_, rtol=1e-12)
    np.testing.assert_allclose(params[1], gm.means_, rtol=1e-12)
    np.testing.assert_allclose(params[2], gm.covariances_, rtol=1e-12)


def test_step_size_schedule():
    assert step_size(1, 1.0, 1.0) == 0.5
    assert step_size(3, 0.7, 10.0) == pytest.approx(13.0**-0.7, rel=1e-15)


def test_first_call_is_a_fit_and_fit_resets_the_stream(rng):
    X = draw(rng, 500)
    first = GaussianMixture(3, random_state=0).partial_fit(X)
    ref = GaussianMixture(3, random_state=0).fit(X)
    np.testing.assert_array_equal(first.means_, ref.means_)
    first.partial_fit(draw(rng, 100))
    first.partial_fit(draw(rng, 100))
    assert first._online_state.t == 2
    first.fit(X)  # a new fit: the next partial_fit starts a new stream from it
    first.partial_fit(draw(rng, 100))
    assert first._online_state.t == 1
    np.testing.assert_allclose(first.means_, ref.means_, atol=0.3)


def test_bad_input(rng):
    X = draw(rng, 100)
    for decay in (0.5, 1.5):
        with pytest.raises(ValueError, match=r"learning_decay must be in \(0.5, 1\]"):
            GaussianMixture(2, learning_decay=decay).partial_fit(X)
    with pytest.raises(ValueError, match="learning_offset must be >= 0"):
        GaussianMixture(2, learning_offset=-1.0).partial_fit(X)
    with pytest.raises(TypeError, match="learning_decay must be a number"):
        GaussianMixture(2, learning_decay="fast").partial_fit(X)
    gm = GaussianMixture(2, random_state=0).partial_fit(X)
    with pytest.raises(ValueError, match="features"):
        gm.partial_fit(np.ones((10, 3)))
    with pytest.raises(ValueError, match="NaN"):
        gm.partial_fit(np.full((10, 2), np.nan))
