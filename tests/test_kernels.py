"""Every Numba kernel equals its pure-NumPy twin (fastgmm._reference)."""

from __future__ import annotations

import numpy as np
import pytest
from gmm_testing import COVARIANCE_TYPES, RTOL, random_params

from fastgmm import _kernels as K
from fastgmm import _reference as R
from fastgmm._covariance import sxx_shape

DTYPES = (np.float64, np.float32)
SHAPES = [  # (n_samples, n_features, n_components): includes edge shapes
    (257, 3, 4),
    (40, 5, 1),
    (3, 2, 3),  # n_samples == n_components
    (600, 1, 2),
]


def _data(rng, n, d, dtype):
    X = rng.normal(0, 3, size=(n, d))
    X[n // 2 :: 7] = X[0]  # duplicated points
    return np.ascontiguousarray(X.astype(dtype))


def _triu(a):
    return np.triu(a) if a.ndim >= 2 else a


def _close(a, b, dtype=np.float64):
    """Equal within the dtype's tolerance (the fused fit computes float32 blocks in float32)."""
    tol = RTOL[dtype]
    np.testing.assert_allclose(a, b, rtol=tol, atol=tol * max(1.0, np.abs(b).max()))


@pytest.mark.parametrize("cov", COVARIANCE_TYPES)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", SHAPES)
def test_log_gaussian_prob(rng, cov, dtype, shape):
    n, d, k = shape
    X = _data(rng, n, d, dtype)
    _, means, chol, _ = random_params(rng, cov, k, d)
    out_k = np.empty((n, k))
    out_r = np.empty((n, k))
    getattr(K, f"log_gaussian_prob_{cov}")(X, means, chol, out_k)
    getattr(R, f"log_gaussian_prob_{cov}")(X, means, chol, out_r)
    _close(out_k, out_r)


@pytest.mark.parametrize("cov", COVARIANCE_TYPES)
def test_log_density_far_below_float64_underflow(cov, rng):
    """Densities of 1e-2000 are represented exactly in the log domain (the seeds' under-flow)."""
    d, k = 2, 2
    _, means, chol, _ = random_params(rng, cov, k, d)
    X = np.array([[300.0, -300.0], [0.0, 0.0]])
    out = np.empty((2, k))
    getattr(K, f"log_gaussian_prob_{cov}")(X, means, chol, out)
    ref = np.empty((2, k))
    getattr(R, f"log_gaussian_prob_{cov}")(X, means, chol, ref)
    assert np.all(np.isfinite(out))
    assert out[0].max() < np.log(1e-308) - 1000  # exp() of it would be exactly 0.0
    _close(out, ref)


def test_normalize_log_resp_with_empty_component(rng):
    wlp = rng.normal(size=(50, 4)) * 10
    wlp[:, 2] = -np.inf  # zero-weight component
    wlp[7] = -np.inf  # a row impossible under every component
    a, b = wlp.copy(), wlp.copy()
    na, nb = np.empty(50), np.empty(50)
    K.normalize_log_resp(a, na)
    R.normalize_log_resp(b, nb)
    np.testing.assert_array_equal(np.isneginf(a), np.isneginf(b))
    fin = np.isfinite(b)
    np.testing.assert_allclose(a[fin], b[fin], rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(na, nb, rtol=1e-12)
    rows = np.isfinite(na)
    np.testing.assert_allclose(np.exp(a[rows]).sum(axis=1), 1.0, rtol=1e-12)
    assert np.all(np.exp(a[:, 2]) == 0.0)


@pytest.mark.parametrize("cov", COVARIANCE_TYPES)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("weighted", [False, True])
def test_accumulate(rng, cov, dtype, weighted):
    n, d, k = 123, 4, 3
    X = _data(rng, n, d, dtype)
    resp = rng.dirichlet(np.ones(k), size=n)
    resp[:, 1] = 0.0  # a component with no responsibility
    sw = rng.integers(0, 3, size=n).astype(float) if weighted else np.empty(0)
    shift = rng.normal(size=(k, d))
    outs = []
    for mod in (K, R):
        nk, sx, sxx = np.zeros(k), np.zeros((k, d)), np.zeros(sxx_shape(cov, k, d))
        getattr(mod, f"accumulate_{cov}")(X, sw, resp, shift, nk, sx, sxx)
        outs.append((nk, sx, _triu(sxx)))
    for a, b in zip(*outs, strict=True):
        _close(a, b)


@pytest.mark.parametrize("cov", COVARIANCE_TYPES)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("hard", [False, True])
@pytest.mark.parametrize("parallel", [False, True])
def test_suffstats(rng, cov, dtype, shape, hard, parallel):
    n, d, k = shape
    X = _data(rng, n, d, dtype)
    weights, means, chol, _ = random_params(rng, cov, k, d)
    if k > 2:
        weights[1] = 0.0  # zero-weight component: log weight -inf
        weights /= weights.sum()
    sw = rng.uniform(0, 2, size=n)
    sw[::5] = 0.0
    name = f"suffstats_{cov}" + ("_parallel" if parallel else "")
    outs = []
    for mod in (K, R):
        nk, sx, sxx = np.zeros(k), np.zeros((k, d)), np.zeros(sxx_shape(cov, k, d))
        ll = getattr(mod, name)(X, sw, weights, means, chol, hard, nk, sx, sxx)
        outs.append((np.array([ll]), nk, sx, _triu(sxx)))
    for a, b in zip(*outs, strict=True):
        _close(a, b, dtype)


@pytest.mark.parametrize("cov", COVARIANCE_TYPES)
def test_parallel_suffstats_overwrite_and_match_serial_sum(rng, cov):
    n, d, k = 5000, 3, 2  # several chunks
    X = _data(rng, n, d, np.float64)
    weights, means, chol, _ = random_params(rng, cov, k, d)
    nk, sx, sxx = np.full(k, 7.0), np.full((k, d), 7.0), np.full(sxx_shape(cov, k, d), 7.0)
    ll = getattr(K, f"suffstats_{cov}_parallel")(
        X, np.empty(0), weights, means, chol, False, nk, sx, sxx
    )
    nk2, sx2, sxx2 = np.zeros(k), np.zeros((k, d)), np.zeros(sxx_shape(cov, k, d))
    ll2 = getattr(K, f"suffstats_{cov}")(
        X, np.empty(0), weights, means, chol, False, nk2, sx2, sxx2
    )
    np.testing.assert_allclose(ll, ll2, rtol=1e-12)
    np.testing.assert_allclose(nk, nk2, rtol=1e-12)
    np.testing.assert_allclose(_triu(sxx), _triu(sxx2), rtol=1e-11)


@pytest.mark.parametrize("cov", COVARIANCE_TYPES)
@pytest.mark.parametrize("reg", [0.0, 1e-3])
def test_m_step(rng, cov, reg):
    n, d, k = 200, 3, 3
    X = _data(rng, n, d, np.float64)
    resp = rng.dirichlet(np.ones(k), size=n)
    shift = rng.normal(size=(k, d))
    nk, sx, sxx = np.zeros(k), np.zeros((k, d)), np.zeros(sxx_shape(cov, k, d))
    R.__dict__[f"accumulate_{cov}"](X, np.empty(0), resp, shift, nk, sx, sxx)
    cshape = {"full": (k, d, d), "tied": (d, d), "diag": (k, d), "spherical": (k,)}[cov]
    outs = []
    for mod in (K, R):
        w, m, c, p = np.empty(k), np.empty((k, d)), np.empty(cshape), np.empty(cshape)
        status = getattr(mod, f"m_step_{cov}")(nk, sx, sxx, shift, reg, w, m, c, p)
        assert status == 0
        outs.append((w, m, c, p))
    for a, b in zip(*outs, strict=True):
        _close(a, b)
    # Closed form straight from the responsibilities (no shift).
    w, m, c, _ = outs[0]
    np.testing.assert_allclose(w, resp.sum(0) / n, rtol=1e-12)
    np.testing.assert_allclose(m, (resp.T @ X) / resp.sum(0)[:, None], rtol=1e-12)
    if cov == "full":
        for j in range(k):
            diff = X - m[j]
            ref = (resp[:, j] * diff.T) @ diff / resp[:, j].sum() + reg * np.eye(d)
            np.testing.assert_allclose(c[j], ref, rtol=1e-11)


@pytest.mark.parametrize("cov", COVARIANCE_TYPES)
def test_m_step_reports_non_positive_definite(cov):
    k, d = 2, 3
    nk = np.array([5.0, 0.0])  # second component empty, reg_covar = 0 -> singular
    sx = np.zeros((k, d))
    sxx = np.zeros(sxx_shape(cov, k, d))
    if cov == "full":
        sxx[0] = np.eye(d) * 5
    elif cov == "tied":
        sxx[:] = np.eye(d) * 5  # pooled over components: still positive definite
    elif cov == "diag":
        sxx[0] = 5.0
    elif cov == "spherical":
        sxx[0] = 5.0 * d
    cshape = {"full": (k, d, d), "tied": (d, d), "diag": (k, d), "spherical": (k,)}[cov]
    for mod in (K, R):
        w, m, c, p = np.empty(k), np.empty((k, d)), np.empty(cshape), np.empty(cshape)
        status = getattr(mod, f"m_step_{cov}")(nk, sx, sxx, np.zeros((k, d)), 0.0, w, m, c, p)
        assert status == (0 if cov == "tied" else 2)


@pytest.mark.parametrize("cov", COVARIANCE_TYPES)
@pytest.mark.parametrize("dtype", DTYPES)
def test_e_step(rng, cov, dtype):
    n, d, k = 700, 3, 4
    X = _data(rng, n, d, dtype)
    weights, means, chol, _ = random_params(rng, cov, k, d)
    outs = []
    for mod in (K, R):
        norm, labels, log_resp = np.empty(n), np.empty(n, np.int64), np.empty((n, k))
        getattr(mod, f"e_step_{cov}_parallel")(X, weights, means, chol, norm, labels, log_resp)
        outs.append((norm, labels, log_resp))
    _close(outs[0][0], outs[1][0])
    np.testing.assert_array_equal(outs[0][1], outs[1][1])
    _close(outs[0][2], outs[1][2])
    # Skipped outputs: only labels requested.
    labels = np.empty(n, np.int64)
    getattr(K, f"e_step_{cov}_parallel")(
        X, weights, means, chol, np.empty(0), labels, np.empty((0, k))
    )
    np.testing.assert_array_equal(labels, outs[1][1])


@pytest.mark.parametrize("weighted", [False, True])
def test_kmeans_plusplus_and_assign(rng, weighted):
    n, d, k = 400, 2, 5
    X = _data(rng, n, d, np.float64)
    sw = rng.uniform(0.1, 3, size=n) if weighted else np.empty(0)
    first_u = 0.37
    trial_u = rng.uniform(size=(k - 1, 3))
    res = []
    for mod in (K, R):
        centers, idx = np.empty((k, d)), np.empty(k, np.int64)
        mod.kmeans_plusplus(X, sw, first_u, trial_u, centers, idx)
        labels, sums, counts = np.empty(n, np.int64), np.empty((k, d)), np.empty(k)
        inertia = mod.kmeans_assign_parallel(X, sw, centers, labels, sums, counts)
        res.append((centers, idx, labels, sums, counts, np.array([inertia])))
    np.testing.assert_array_equal(res[0][1], res[1][1])
    np.testing.assert_array_equal(res[0][2], res[1][2])
    for a, b in zip(res[0][3:], res[1][3:], strict=True):
        _close(a, b)
    assert len(set(res[0][1].tolist())) == k  # distinct seeds


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("dtype", DTYPES)
def test_kmeans_plusplus_parallel_equals_serial(rng, weighted, dtype):
    """Parallel k-means++ picks the serial kernel's rows (several chunks) and its twin's."""
    n, d, k = 9000, 3, 7  # 4 row chunks of the parallel driver
    X = _data(rng, n, d, dtype)
    sw = rng.uniform(0.0, 3.0, size=n) if weighted else np.empty(0)
    first_u = float(rng.uniform())
    trial_u = rng.uniform(size=(k - 1, 2 + int(np.log(k))))
    out = {}
    for name, fn in [
        ("serial", K.kmeans_plusplus),
        ("parallel", K.kmeans_plusplus_parallel),
        ("twin", R.kmeans_plusplus_parallel),
    ]:
        centers, idx = np.empty((k, d)), np.empty(k, np.int64)
        fn(X, sw, first_u, trial_u, centers, idx)
        np.testing.assert_array_equal(centers, X[idx].astype(np.float64))
        out[name] = idx
    np.testing.assert_array_equal(out["parallel"], out["serial"])
    np.testing.assert_array_equal(out["parallel"], out["twin"])
    assert len(set(out["parallel"].tolist())) == k


@pytest.mark.parametrize("d", [1, 2, 7])
def test_precision_cholesky(rng, d):
    a = rng.normal(size=(d, d))
    cov = a @ a.T + np.eye(d)
    outs = []
    for mod in (K, R):
        work, out = np.empty((d, d)), np.empty((d, d))
        assert mod.precision_cholesky_from_covariance(cov, work, out)
        outs.append(out)
    _close(outs[0], outs[1])
    np.testing.assert_allclose(outs[0] @ outs[0].T, np.linalg.inv(cov), rtol=1e-10, atol=1e-12)
    assert np.allclose(outs[0], np.triu(outs[0]))
    bad = -np.eye(d)
    assert not K.precision_cholesky_from_covariance(bad, np.empty((d, d)), np.empty((d, d)))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("d", [1, 3, 8])
def test_kmeans_assign_blocked_equals_per_row_distances(rng, d, dtype):
    """The blocked assignment gives each row the first nearest centre by the per-row
    distances of ``distance_to_assigned`` (bitwise), and the inertia their in-order sum."""
    n, k = 1500, 6  # several blocks, a partial last one
    X = _data(rng, n, d, dtype)
    centers = X[rng.choice(n, k, replace=False)].astype(np.float64)
    centers[3] = centers[1]  # a tie: the first of equal centres wins
    sw = rng.uniform(0.1, 3.0, size=n)
    labels, sums, counts = np.empty(n, np.int64), np.zeros((k, d)), np.zeros(k)
    inertia = K.kmeans_assign(X, sw, centers, labels, sums, counts)
    per_row = np.empty((n, k))
    for c in range(k):
        K.distance_to_assigned(X, centers, np.full(n, c, np.int64), per_row[:, c])
    np.testing.assert_array_equal(labels, per_row.argmin(axis=1))
    assert not (labels == 3).any()
    expected = 0.0
    for i in range(n):
        expected += sw[i] * per_row[i, labels[i]]
    assert inertia == expected
    np.testing.assert_allclose(counts, np.bincount(labels, sw, minlength=k), rtol=1e-12)


@pytest.mark.parametrize("dtype", DTYPES)
def test_centred_differences_split_the_mean_only_for_float32(rng, dtype):
    """``centred(x, *split_mean(c))``: float64 has the bits of ``x - c``; float32 keeps ``lo``.

    float64 skips the subtraction of ``lo`` (0 by construction) at compile time;
    float32 must still subtract it, or data far from the origin lose their
    differences to the float32 rounding of the mean.
    """
    from numba import njit

    from fastgmm._kernels._blocked import centred, split_mean

    @njit
    def diffs(x, c, out):
        z = type(x[0])(0.0)
        hi, lo = split_mean(c, z)
        for i in range(x.shape[0]):
            out[i] = centred(x[i], hi, lo)
        return lo

    c = 1e4 + 1.0 / 3.0  # not a float32 value
    x = (c + rng.normal(0.0, 1e-2, 50)).astype(dtype)
    out = np.empty_like(x)
    lo = diffs(x, c, out)
    if dtype == np.float64:
        assert lo == 0.0
        np.testing.assert_array_equal(out, x - c)
    else:
        hi = np.float32(c)
        assert lo != 0.0
        np.testing.assert_array_equal(out, (x - hi) - np.float32(lo))
        # the float64 differences of the float32 values, within a float32 ulp of each
        np.testing.assert_allclose(out, x.astype(np.float64) - c, rtol=0, atol=1e-6)
        assert not np.array_equal(out, x - hi)  # lo mattered


@pytest.mark.parametrize("dtype", DTYPES)
def test_scaled_centred_is_a_multiply_add_for_float32(rng, dtype):
    """``scaled_centred``: float64 keeps the bits of ``(x - hi) * p``; float32 forms
    ``fma(x - hi, p, -lo * p)``, within one float32 rounding of the exact value."""
    from numba import njit

    from fastgmm._kernels._blocked import scaled_centred, split_mean

    @njit
    def terms(x, c, p, out):
        z = type(x[0])(0.0)
        hi, lo = split_mean(c, z)
        q = -lo * p
        for i in range(x.shape[0]):
            out[i] = scaled_centred(x[i], hi, lo, p, q)

    c = 1e4 + 1.0 / 3.0  # not a float32 value
    x = (c + rng.normal(0.0, 1e-2, 200)).astype(dtype)
    p = dtype(1.0 / 3.0)
    out = np.empty_like(x)
    terms(x, c, p, out)
    if dtype == np.float64:
        np.testing.assert_array_equal(out, (x - c) * p)
        return
    exact = (x.astype(np.float64) - c) * np.float64(p)
    # one rounding of the result, plus lo * p's (at most half an ulp of hi * p)
    tol = np.spacing(np.abs(exact).astype(np.float32)).astype(np.float64) + np.spacing(
        np.float32(c * p)
    )
    assert np.all(np.abs(out - exact) <= tol)
    hi = np.float32(c)
    two_roundings = ((x - hi) - np.float32(c - hi)) * p
    assert np.abs(out - exact).max() <= np.abs(two_roundings - exact).max()


@pytest.mark.parametrize("layout", ["C", "F", "strided"])
@pytest.mark.parametrize("dtype", DTYPES)
def test_load_transposed_ahead_equals_load_transposed(rng, layout, dtype):
    """The prefetching load (fused passes from 8 features on) transposes the same values.

    Whatever the layout of ``X`` (the public ``suffstats_*`` kernels take any), up
    to the last rows, where the rows it asks for lie past the end of ``X``.
    """
    from fastgmm._kernels._blocked import load_transposed, load_transposed_ahead

    base = rng.normal(size=(1003, 24)).astype(dtype)
    X = {"C": base[:, :12].copy(), "F": np.asfortranarray(base[:, :12]), "strided": base[:, ::2]}
    X = X[layout]
    nb = 256
    want = np.empty((12, nb), dtype)
    got = np.empty((12, nb), dtype)
    for a in (0, 512, 747, 1000):
        n = min(nb, X.shape[0] - a)
        load_transposed(X, a, n, want)
        load_transposed_ahead(X, a, n, got, nb)
        np.testing.assert_array_equal(got[:, :n], want[:, :n])
        np.testing.assert_array_equal(got[:, :n], X[a : a + n].T)


@pytest.mark.parametrize("cov", COVARIANCE_TYPES)
def test_fused_suffstats_take_any_layout(rng, cov):
    """Fortran-ordered and strided data give the statistics of the C-contiguous copy."""
    k, d = 3, 9  # from 8 features on, the fused passes prefetch rows ahead
    X = _data(rng, 700, d, np.float64)
    weights, means, chol, _ = random_params(rng, cov, k, d)
    outs = []
    wide = np.repeat(X, 2, axis=1)
    for Xv in (X, np.asfortranarray(X), wide[:, ::2]):
        nk, sx, sxx = np.zeros(k), np.zeros((k, d)), np.zeros(sxx_shape(cov, k, d))
        suff = getattr(K, f"suffstats_{cov}")
        ll = suff(Xv, np.empty(0), weights, means, chol, False, nk, sx, sxx)
        outs.append((ll, nk, sx, sxx))
    for ll, nk, sx, sxx in outs[1:]:
        assert ll == outs[0][0]
        np.testing.assert_array_equal(nk, outs[0][1])
        np.testing.assert_array_equal(sx, outs[0][2])
        np.testing.assert_array_equal(sxx, outs[0][3])
