"""Model selection over (n_components, covariance_type): fastgmm.select and GaussianMixtureIC."""

from __future__ import annotations

import numpy as np
import pytest
from gmm_testing import COVARIANCE_TYPES

import fastgmm
from fastgmm import ConvergenceWarning, GaussianMixture, GaussianMixtureIC, NotFittedError
from fastgmm._covariance import n_parameters

CENTERS = np.array([[0.0, 0.0], [12.0, 0.0], [0.0, 12.0]])


def sample_from_type(rng, cov, n_per=120):
    """Three well-separated groups whose shapes follow the covariance type's model."""
    rotation = np.array([[1.0, 0.6], [-0.3, 0.8]])
    parts = []
    for k, c in enumerate(CENTERS):
        z = rng.normal(size=(n_per, 2))
        if cov == "full":
            a = rotation if k % 2 else rotation.T * (1.0 + 0.3 * k)
        elif cov == "tied":
            a = rotation
        elif cov == "diag":
            a = np.diag([1.0 + 0.5 * k, 0.6 + 0.2 * k])
        else:
            a = (0.7 + 0.4 * k) * np.eye(2)
        parts.append(c + z @ a)
    return np.concatenate(parts)


@pytest.mark.parametrize("cov", COVARIANCE_TYPES)
def test_picks_true_number_of_components(rng, cov):
    X = sample_from_type(rng, cov)
    table, best = fastgmm.select(X, range(1, 6), cov, random_state=0)
    assert best.n_components == 3
    assert best.covariance_type == cov
    assert [row["n_components"] for row in table] == [1, 2, 3, 4, 5]
    bics = np.array([row["bic"] for row in table])
    assert int(np.argmin(bics)) == 2
    best_row = table[2]
    # refit-free: the table's numbers are the best model's own
    assert best_row["bic"] == best.bic(X)
    assert best_row["aic"] == best.aic(X)
    np.testing.assert_allclose(best_row["log_likelihood"], best.score(X) * len(X), rtol=1e-12)
    assert best_row["converged"] == best.converged_
    assert best_row["n_iter"] == best.n_iter_
    # a refit of the chosen candidate with the same seed gives the same BIC
    refit = GaussianMixture(3, covariance_type=cov, random_state=0).fit(X)
    assert refit.bic(X) == pytest.approx(best_row["bic"], rel=1e-12)


def test_estimator_over_all_types(rng):
    X = sample_from_type(rng, "full")
    ic = GaussianMixtureIC(n_components=range(1, 5), random_state=0).fit(X)
    assert len(ic.results_) == 4 * len(COVARIANCE_TYPES)
    assert {row["covariance_type"] for row in ic.results_} == set(COVARIANCE_TYPES)
    bics = [row["bic"] for row in ic.results_]
    assert ic.best_index_ == int(np.argmin(bics))
    best = ic.best_estimator_
    assert ic.best_params_ == {"n_components": 3, "covariance_type": best.covariance_type}
    assert ic.bic(X) == bics[ic.best_index_]
    np.testing.assert_array_equal(ic.predict(X), best.predict(X))
    np.testing.assert_array_equal(ic.predict_proba(X), best.predict_proba(X))
    assert ic.score(X) == best.score(X)
    assert ic.n_features_in_ == 2
    for row in ic.results_:
        assert row["fit_time"] >= 0 and row["error"] is None
        assert row["n_parameters"] == n_parameters(row["covariance_type"], row["n_components"], 2)


def test_aic_criterion_and_weights(rng):
    X = sample_from_type(rng, "diag")
    w = rng.integers(1, 3, size=len(X)).astype(float)
    table, best = fastgmm.select(
        X, [2, 3], ["diag", "spherical"], criterion="aic", sample_weight=w, random_state=0
    )
    aics = [row["aic"] for row in table]
    assert best is not None and best.aic(X, sample_weight=w) == min(aics)
    for row in table:
        assert row["bic"] > row["aic"]  # log(sum w) > 2 here


def test_clone_and_params():
    sklearn_base = pytest.importorskip("sklearn.base")
    ic = GaussianMixtureIC(n_components=[2, 3], covariance_type=["full"], criterion="aic")
    clone = sklearn_base.clone(ic)
    assert clone.get_params() == ic.get_params()


def test_not_fitted():
    with pytest.raises(NotFittedError):
        GaussianMixtureIC().predict(np.zeros((3, 2)))


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"criterion": "likelihood"}, ValueError, "criterion"),
        ({"covariance_type": "round"}, ValueError, "covariance_type"),
        ({"n_components": []}, ValueError, "empty"),
        ({"n_components": [0, 1]}, ValueError, "positive"),
        ({"n_components": "3"}, TypeError, "n_components"),
        ({"n_components": [2, 50]}, ValueError, "n_samples"),
    ],
)
def test_invalid_grid(kwargs, error, match):
    X = np.random.default_rng(0).normal(size=(20, 2))
    with pytest.raises(error, match=match):
        fastgmm.select(X, **{"n_components": [1, 2], **kwargs})


def test_best_not_converged_warns(rng):
    X = sample_from_type(rng, "full")
    with pytest.warns(ConvergenceWarning, match="best candidate"):
        table, _ = fastgmm.select(X, [3], "full", max_iter=1, tol=0.0, random_state=0)
    assert table[0]["converged"] is False
