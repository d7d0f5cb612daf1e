"""fit_many: many small mixtures in one parallel call equal per-group GaussianMixture fits."""

import warnings

import numba
import numpy as np
import pytest

from fastgmm import ConvergenceWarning, GaussianMixture, _reference_fit, fit_many, kernels
from fastgmm._covariance import precisions_from_cholesky
from fastgmm._kernels import batched

COVS = ("full", "tied", "diag", "spherical")


@pytest.fixture
def rng():
    return np.random.default_rng(2024)


def _ragged(rng, sizes, d=2):
    """Groups of two or three blobs, one group after another, with their offsets."""
    parts = []
    for n in sizes:
        centers = rng.normal(0, 5, (3, d))
        labels = rng.integers(0, 3, n)
        parts.append(centers[labels] + rng.normal(0, 1, (n, d)))
    offsets = np.concatenate([[0], np.cumsum(sizes)])
    return np.ascontiguousarray(np.concatenate(parts)), offsets


def _per_group(X, offsets, cov, k, kw):
    out = []
    for g in range(len(offsets) - 1):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            out.append(
                GaussianMixture(k, covariance_type=cov, **kw(g)).fit(X[offsets[g] : offsets[g + 1]])
            )
    return out


def _assert_group_equal(res, g, gm, rtol=1e-10):
    assert res.n_iter[g] == gm.n_iter_ and bool(res.converged[g]) == gm.converged_
    assert res.lower_bound[g] == pytest.approx(gm.lower_bound_, rel=1e-12)
    np.testing.assert_allclose(res.weights[g], gm.weights_, rtol=rtol)
    np.testing.assert_allclose(res.means[g], gm.means_, rtol=rtol, atol=rtol)
    np.testing.assert_allclose(res.covariances[g], gm.covariances_, rtol=rtol, atol=rtol * 1e-2)
    np.testing.assert_allclose(
        res.precisions_cholesky[g], gm.precisions_cholesky_, rtol=1e-8, atol=1e-9
    )


@pytest.mark.parametrize("cov", COVS)
def test_kmeanspp_groups_equal_per_group_estimator_fits(rng, cov):
    X, offsets = _ragged(rng, [40, 25, 61, 30, 50])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        res = fit_many(X, offsets, 3, covariance_type=cov, random_state=0, max_iter=50, tol=1e-4)
    assert res.covariance_type == cov and res.seeds.shape == (5,)
    assert (res.status == 0).all()
    gms = _per_group(
        X, offsets, cov, 3,
        lambda g: dict(
            init_params="k-means++", random_state=int(res.seeds[g]), max_iter=50, tol=1e-4
        ),
    )  # fmt: skip
    for g, gm in enumerate(gms):
        _assert_group_equal(res, g, gm)


@pytest.mark.parametrize("cov", ["full", "diag"])
def test_given_initial_parameters_equal_per_group_fits(rng, cov):
    X, offsets = _ragged(rng, [30, 45, 33])
    k = 2
    starts = _per_group(X, offsets, cov, k, lambda g: dict(random_state=g, max_iter=1))
    w = np.stack([s.weights_ for s in starts])
    m = np.stack([s.means_ for s in starts])
    prec = np.stack([s.precisions_ for s in starts])
    w_copy = w.copy()
    res = fit_many(
        X, offsets, k, covariance_type=cov, weights_init=w, means_init=m, precisions_init=prec
    )
    np.testing.assert_array_equal(w, w_copy)  # user input untouched
    assert res.seeds is None
    gms = _per_group(
        X, offsets, cov, k,
        lambda g: dict(weights_init=w[g], means_init=m[g], precisions_init=prec[g]),
    )  # fmt: skip
    for g, gm in enumerate(gms):
        _assert_group_equal(res, g, gm)


def test_three_d_equals_offsets_and_each_group_reproducible_alone(rng):
    X = rng.normal(0, 1, (6, 40, 2)) + rng.normal(0, 4, (6, 1, 2)) * (np.arange(40) % 2)[:, None]
    seeds = np.arange(100, 106)
    a = fit_many(X, None, 2, covariance_type="spherical", seeds=seeds)
    b = fit_many(X.reshape(240, 2), np.arange(7) * 40, 2, covariance_type="spherical", seeds=seeds)
    for u, v in zip(a[1:9], b[1:9], strict=True):
        np.testing.assert_array_equal(u, v)
    # Group 4 alone, with its own seed, gives exactly its result in the batch.
    c = fit_many(X[4:5], None, 2, covariance_type="spherical", seeds=seeds[4:5])
    np.testing.assert_array_equal(c.means[0], a.means[4])
    assert c.lower_bound[0] == a.lower_bound[4]


def test_thread_count_does_not_change_results(rng):
    X, offsets = _ragged(rng, [30] * 8)
    a = fit_many(X, offsets, 2, covariance_type="full", random_state=3)
    before = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        b = fit_many(X, offsets, 2, covariance_type="full", random_state=3)
    finally:
        numba.set_num_threads(before)
    np.testing.assert_array_equal(a.means, b.means)
    np.testing.assert_array_equal(a.lower_bound, b.lower_bound)


def test_weighted_groups_and_float32(rng):
    X, offsets = _ragged(rng, [35, 40])
    sw = rng.uniform(0.2, 3.0, len(X))
    res = fit_many(X.astype(np.float32), offsets, 2, covariance_type="diag", seeds=[5, 6],
                   sample_weight=sw)  # fmt: skip
    for g in range(2):
        sl = slice(offsets[g], offsets[g + 1])
        gm = GaussianMixture(2, covariance_type="diag", init_params="k-means++", random_state=5 + g)
        gm.fit(X[sl].astype(np.float32), sample_weight=sw[sl])
        assert res.means.dtype == np.float64
        np.testing.assert_allclose(res.means[g], gm.means_, rtol=1e-5, atol=1e-5)
        assert res.n_iter[g] == gm.n_iter_


def test_njit_callable_core_equals_python_entry_point_and_twin(rng):
    X, offsets = _ragged(rng, [30, 44, 52])
    seeds = np.array([7, 8, 9], dtype=np.int64)
    expected = fit_many(X, offsets, 3, covariance_type="tied", seeds=seeds)

    @numba.njit
    def user_pipeline(X, offsets, seeds):
        n_groups, k, d = offsets.shape[0] - 1, 3, X.shape[1]
        first_u = np.empty(n_groups)
        trial_u = np.empty((n_groups, k - 1, 2 + int(np.log(k))))
        kernels.kmeanspp_uniforms(seeds, first_u, trial_u)
        weights = np.empty((n_groups, k))
        means = np.empty((n_groups, k, d))
        covs = np.empty((n_groups, d, d))
        prec = np.empty((n_groups, d, d))
        status = np.zeros(n_groups, dtype=np.int64)
        kernels.init_many_kmeanspp_tied(
            X, offsets, np.empty(0), first_u, trial_u, 1e-6, weights, means, covs, prec, status
        )
        lower = np.empty(n_groups)
        n_iter = np.empty(n_groups, dtype=np.int64)
        conv = np.empty(n_groups, dtype=np.bool_)
        kernels.fit_many_tied(
            X, offsets, np.empty(0), 100, 1e-3, 1e-6,
            weights, means, covs, prec, lower, n_iter, conv, status,
        )  # fmt: skip
        return means, lower, n_iter

    means, lower, n_iter = user_pipeline(X, offsets, seeds)
    np.testing.assert_allclose(means, expected.means, rtol=1e-12)
    np.testing.assert_array_equal(n_iter, expected.n_iter)

    # NumPy twin of the same pipeline.
    first_u, trial_u = np.empty(3), np.empty((3, 2, 3))
    _reference_fit.kmeanspp_uniforms(seeds, first_u, trial_u)
    w, m = np.empty((3, 3)), np.empty((3, 3, 2))
    c, p = np.empty((3, 2, 2)), np.empty((3, 2, 2))
    st = np.zeros(3, dtype=np.int64)
    _reference_fit.init_many_kmeanspp_tied(
        X, offsets, np.empty(0), first_u, trial_u, 1e-6, w, m, c, p, st
    )
    lb, it, cv = np.empty(3), np.empty(3, np.int64), np.empty(3, bool)
    _reference_fit.fit_many_tied(
        X, offsets, np.empty(0), 100, 1e-3, 1e-6, w, m, c, p, lb, it, cv, st
    )
    np.testing.assert_allclose(m, expected.means, rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(lb, expected.lower_bound, rtol=1e-12)
    np.testing.assert_array_equal(it, expected.n_iter)


def test_kmeanspp_uniforms_are_randomstate_draws_and_numba_state_is_restored():
    seeds = np.array([0, 1, 2**32 - 1], dtype=np.int64)
    a, b = np.empty(3), np.empty((3, 2, 3))
    batched.kmeanspp_uniforms(seeds, a, b)
    for g, s in enumerate(seeds):
        rs = np.random.RandomState(int(s))
        assert a[g] == rs.uniform()
        np.testing.assert_array_equal(b[g], rs.uniform(size=(2, 3)))

    @numba.njit
    def draw(seed_first):
        if seed_first:
            np.random.seed(42)
        return np.random.random()

    draw(True)
    expected_next = np.random.RandomState(42).uniform(size=2)[1]
    X = np.random.default_rng(0).normal(size=(20, 1))
    fit_many(X, [0, 10, 20], 2, covariance_type="spherical", random_state=0)
    assert draw(False) == expected_next  # fit_many left the user's Numba stream alone


def test_errors_and_result_model(rng):
    X, offsets = _ragged(rng, [20, 20])
    with pytest.raises(ValueError, match="group_offsets is required"):
        fit_many(X, None, 2)
    with pytest.raises(ValueError, match="start at 0 and end at n_samples=40"):
        fit_many(X, [0, 20, 39], 2)
    with pytest.raises(ValueError, match="Group 1 has 1 rows"):
        fit_many(X, [0, 39, 40], 2)
    with pytest.raises(ValueError, match="must be None for 3-D"):
        fit_many(X.reshape(2, 20, 2), offsets, 2)
    with pytest.raises(ValueError, match="seeds must lie in"):
        fit_many(X, offsets, 2, seeds=[0, 2**32])
    with pytest.raises(ValueError, match="all of weights_init, means_init and precisions_init"):
        fit_many(X, offsets, 2, means_init=np.zeros((2, 2, 2)))
    with pytest.raises(ValueError, match="Invalid covariance_type"):
        fit_many(X, offsets, 2, covariance_type="banana")
    with pytest.raises(ValueError, match="contains NaN"):
        fit_many(np.where(np.arange(40)[:, None] == 3, np.nan, X), offsets, 2)

    # A collapsed group with no regularisation: ill-defined covariance.
    Xd = X.copy()
    Xd[20:] = 1.0
    with pytest.raises(ValueError, match="Group\\(s\\) 1"):
        fit_many(Xd, offsets, 2, reg_covar=0.0, covariance_type="diag", random_state=0)
    res = fit_many(Xd, offsets, 2, reg_covar=0.0, covariance_type="diag", random_state=0,
                   errors="ignore")  # fmt: skip
    assert res.status[0] == 0 and res.status[1] != 0
    assert np.isnan(res.means[1]).all() and np.isfinite(res.means[0]).all()

    with pytest.warns(ConvergenceWarning, match="2 of 2 groups did not converge"):
        fit_many(X, offsets, 2, max_iter=1, random_state=0)

    res = fit_many(X, offsets, 2, covariance_type="full", random_state=0)
    gm = res.model(1)
    np.testing.assert_allclose(gm.score(X[20:]), res.lower_bound[1], rtol=1e-9)
    assert gm.n_iter_ == res.n_iter[1]
    np.testing.assert_allclose(
        gm.precisions_, precisions_from_cholesky(res.precisions_cholesky[1], "full")
    )


# ----------------------------------------------------------------------------- workspace EM
@numba.njit
def user_workspace_fits(workspace_fn, fit_fn, X, offsets, ws_rows, params):
    """One workspace reused for groups of different sizes, as in a user's prange chunk."""
    weights, means, covariances, precisions_chol = params
    n_groups = offsets.shape[0] - 1
    workspace = workspace_fn(ws_rows, means.shape[1], means.shape[2])
    out = np.empty((n_groups, 4))
    for g in range(n_groups):
        a, b = offsets[g], offsets[g + 1]
        lb, it, conv, st = fit_fn(
            X[a:b], np.empty(0), 100, 1e-4, 1e-6,
            weights[g], means[g], covariances[g], precisions_chol[g], workspace,
        )  # fmt: skip
        out[g, 0], out[g, 1], out[g, 2], out[g, 3] = lb, it, conv, st
    return out


def _starts(X, offsets, cov, k):
    """Per-group initial parameters (one k-means++ EM step of the estimator), stacked."""
    gms = _per_group(X, offsets, cov, k, lambda g: dict(random_state=g, max_iter=1))
    return [
        np.stack([np.asarray(getattr(gm, a), np.float64) for gm in gms])
        for a in ("weights_", "means_", "covariances_", "precisions_cholesky_")
    ]


@pytest.mark.parametrize("cov", COVS)
def test_workspace_fit_equals_fit_em_and_twin(rng, cov):
    # Sizes: one-block groups (transposed once), and 1100 rows > 1024-row block at D=2.
    X, offsets = _ragged(rng, [60, 25, 1100, 40])
    starts = _starts(X, offsets, cov, 3)
    ws_fn = getattr(kernels, f"em_workspace_{cov}")
    fit_ws = getattr(kernels, f"fit_em_workspace_{cov}")
    fit_em = getattr(kernels, f"fit_em_{cov}")
    twin = getattr(_reference_fit, f"fit_em_workspace_{cov}")
    # Workspace sized for all groups, then one too small (a temporary one is used).
    for ws_rows in (2000, 10):
        params = tuple(a.copy() for a in starts)
        out = user_workspace_fits(ws_fn, fit_ws, X, offsets, ws_rows, params)
        for g in range(len(offsets) - 1):
            sl = slice(offsets[g], offsets[g + 1])
            ref = [a[g].copy() for a in starts]
            lb, it, conv, st = fit_em(X[sl], np.empty(0), 100, 1e-4, 1e-6, *ref)
            tw = [a[g].copy() for a in starts]
            lb_t, it_t, _, _ = twin(X[sl], np.empty(0), 100, 1e-4, 1e-6, *tw, ())
            assert (out[g, 1], out[g, 2], out[g, 3]) == (it, conv, st) and it == it_t
            assert out[g, 0] == pytest.approx(lb, rel=1e-12)
            assert lb_t == pytest.approx(lb, rel=1e-12)
            for fitted, expected, expected_twin in zip(params, ref, tw, strict=True):
                np.testing.assert_allclose(fitted[g], expected, rtol=1e-10, atol=1e-12)
                np.testing.assert_allclose(fitted[g], expected_twin, rtol=1e-9, atol=1e-10)


def test_workspace_fit_weighted_float32_wide_blocks(rng):
    # D=70: 64-row blocks, so 150 rows take three blocks; float32 X, sample weights.
    X = rng.normal(size=(150, 70)).astype(np.float32)
    X[75:] += 3.0
    sw = rng.uniform(0.5, 2.0, 150)
    start = _starts(X.astype(np.float64), np.array([0, 150]), "diag", 2)
    a = [p[0].copy() for p in start]
    b = [p[0].copy() for p in start]
    ws = kernels.em_workspace_diag(150, 2, 70)
    assert ws[0].shape[1] == 64
    res = kernels.fit_em_workspace_diag(X, sw, 50, 1e-6, 1e-6, *a, ws)
    ref = _reference_fit.fit_em_diag(X, sw, 50, 1e-6, 1e-6, *b)
    assert res[1:] == ref[1:] and res[0] == pytest.approx(ref[0], rel=1e-12)
    for u, v in zip(a, b, strict=True):
        np.testing.assert_allclose(u, v, rtol=1e-9, atol=1e-9)


def test_chunking_does_not_change_a_group(rng):
    # 40 groups -> 3 chunks of 13-14 groups; the same groups alone or reordered agree exactly.
    X, offsets = _ragged(rng, list(rng.integers(20, 80, 40)))
    seeds = np.arange(40)
    res = fit_many(X, offsets, 2, covariance_type="tied", seeds=seeds)
    assert batched.n_group_chunks(40) == 3
    order = np.arange(40)[::-1]
    parts = [X[offsets[g] : offsets[g + 1]] for g in order]
    Xr = np.concatenate(parts)
    offr = np.concatenate([[0], np.cumsum([len(p) for p in parts])])
    rev = fit_many(Xr, offr, 2, covariance_type="tied", seeds=seeds[order])
    np.testing.assert_array_equal(rev.means[::-1], res.means)
    np.testing.assert_array_equal(rev.lower_bound[::-1], res.lower_bound)
    np.testing.assert_array_equal(rev.n_iter[::-1], res.n_iter)
