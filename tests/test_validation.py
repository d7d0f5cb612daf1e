"""Validation matrix (issue 7): each bad input gets a clear error, each odd one a correct fit.

Errors are checked by type and by the key words of the message (the problem
and the fix); accepted inputs are checked against the fit on a plain
C-contiguous float64 copy, bitwise where the data are the same numbers.
"""

from __future__ import annotations

import warnings

import numba
import numpy as np
import pytest
from gmm_testing import COVARIANCE_TYPES, make_blobs

from fastgmm import GaussianMixture, NotFittedError
from fastgmm._validation import (
    DataScaleWarning,
    check_data_scale,
    check_precisions,
    check_weights,
    check_X,
    column_reduce,
)


@pytest.fixture
def X(rng):
    return make_blobs(rng, n_samples=60, n_features=2, n_components=2)[0]


def _gm(**kw):
    kw.setdefault("random_state", 0)
    kw.setdefault("n_components", 2)
    return GaussianMixture(**kw)


def _assert_same_fit(a, b):
    for name in ("weights_", "means_", "covariances_", "precisions_cholesky_"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name), err_msg=name)
    assert a.lower_bound_ == b.lower_bound_
    assert a.n_iter_ == b.n_iter_


# --------------------------------------------------------------------------- bad X at fit
BAD_X = {
    "nan": (
        lambda X: np.where(np.arange(X.size).reshape(X.shape) == 3, np.nan, X),
        ValueError,
        ["NaN or infinity", "impute"],
    ),
    "inf": (
        lambda X: np.where(np.arange(X.size).reshape(X.shape) == 3, np.inf, X),
        ValueError,
        ["NaN or infinity"],
    ),
    "-inf": (
        lambda X: np.where(np.arange(X.size).reshape(X.shape) == 0, -np.inf, X),
        ValueError,
        ["NaN or infinity"],
    ),
    "no rows": (lambda X: X[:0], ValueError, ["empty", "at least one sample"]),
    "no columns": (lambda X: X[:, :0], ValueError, ["empty", "feature"]),
    "one sample": (lambda X: X[:1], ValueError, ["n_samples >= 2", "reduce n_components"]),
    "1-D": (lambda X: X[:, 0], ValueError, ["2-D", "reshape(-1, 1)"]),
    "3-D": (lambda X: X[np.newaxis], ValueError, ["2-D", "n_samples, n_features"]),
    "0-D": (lambda X: np.float64(1.0), ValueError, ["2-D"]),
    "strings": (lambda X: X.astype(str), TypeError, ["not numeric", "encode text"]),
    "object text": (
        lambda X: np.array([["a", 1.0]] * 5, dtype=object),
        TypeError,
        ["non-numeric", "numeric array"],
    ),
    "object None": (  # None becomes NaN
        lambda X: np.array([[None, 1.0]] * 5, dtype=object),
        ValueError,
        ["NaN or infinity", "impute"],
    ),
    "bytes": (lambda X: X.astype("S8"), TypeError, ["not numeric"]),
    "complex": (lambda X: X.astype(complex), TypeError, ["complex", "real and imaginary"]),
    "datetime": (lambda X: np.zeros((5, 2), dtype="datetime64[s]"), TypeError, ["not numeric"]),
    "ragged lists": (
        lambda X: [[1.0, 2.0], [3.0]],
        ValueError,
        ["could not be converted", "2-D array"],
    ),
}


@pytest.mark.parametrize("case", list(BAD_X))
def test_bad_X_at_fit(X, case):
    make, exc, words = BAD_X[case]
    with pytest.raises(exc) as info:
        _gm().fit(make(X))
    for word in words:
        assert word in str(info.value), (word, str(info.value))


def test_fewer_samples_than_components(X):
    with pytest.raises(ValueError, match=r"n_samples >= 5.*got n_samples=4.*reduce n_components"):
        _gm(n_components=5).fit(X[:4])


def test_n_samples_equal_n_components_fits(X):
    gm = _gm(n_components=3).fit(X[:3])
    assert np.isfinite(gm.lower_bound_)
    np.testing.assert_allclose(np.sort(gm.means_[:, 0]), np.sort(X[:3, 0]), rtol=1e-9)


# --------------------------------------------------------------------------- hyper-parameters
BAD_PARAMS = [
    ({"n_components": 0}, ValueError, "n_components must be >= 1"),
    ({"n_components": -3}, ValueError, "n_components must be >= 1"),
    ({"n_components": 1.5}, TypeError, "n_components must be an int"),
    ({"n_components": "2"}, TypeError, "n_components must be an int"),
    ({"n_components": True}, TypeError, "n_components must be an int"),
    ({"covariance_type": "fulll"}, ValueError, "Invalid covariance_type 'fulll'; choose one of"),
    ({"init_params": "kmeans+"}, ValueError, "Invalid init_params 'kmeans+'; choose one of"),
    ({"reg_covar": -1e-6}, ValueError, "reg_covar must be >= 0"),
    ({"reg_covar": float("nan")}, ValueError, "reg_covar must be >= 0"),
    ({"reg_covar": "small"}, TypeError, "reg_covar must be a number"),
    ({"tol": -1.0}, ValueError, "tol must be >= 0"),
    ({"max_iter": -1}, ValueError, "max_iter must be >= 0"),
    ({"max_iter": 2.5}, TypeError, "max_iter must be an int"),
    ({"n_init": 0}, ValueError, "n_init must be >= 1"),
    ({"verbose_interval": 0}, ValueError, "verbose_interval must be >= 1"),
    ({"backend": "cuda"}, ValueError, "Invalid backend 'cuda'; choose one of"),
    ({"random_state": "seed"}, ValueError, "cannot be used to seed"),
]


@pytest.mark.parametrize(("params", "exc", "message"), BAD_PARAMS)
def test_bad_hyper_parameters(X, params, exc, message):
    with pytest.raises(exc) as info:
        _gm(**params).fit(X)
    assert message in str(info.value)


def test_max_iter_zero_is_allowed_like_scikit_learn(X):
    """scikit-learn's constraint is max_iter in [0, inf): 0 returns the initial parameters."""
    gm = _gm(max_iter=0).fit(X)
    assert gm.n_iter_ == 0
    assert np.isfinite(gm.means_).all() and np.isfinite(gm.covariances_).all()


# --------------------------------------------------------------------------- init arrays
def _spd(rng, d):
    a = rng.normal(size=(d, d))
    return a @ a.T + d * np.eye(d)


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("weights_init", [0.5, 0.3, 0.2], "weights_init has shape (3,); expected (2,)"),
        ("weights_init", [0.3, 0.3], "must sum to 1, but they sum to 0.6; divide them by their"),
        ("weights_init", [1.5, -0.5], "finite and in the range [0, 1]"),
        ("weights_init", [np.nan, 1.0], "finite and in the range [0, 1]"),
        ("means_init", np.zeros((3, 2)), "means_init has shape (3, 2); expected (2, 2)"),
        ("means_init", np.zeros((2, 3)), "means_init has shape (2, 3); expected (2, 2)"),
        ("means_init", [[0.0, np.inf], [0.0, 0.0]], "means_init contains NaN or infinity"),
        ("precisions_init", np.ones((2, 3, 3)), "expected (2, 2, 2) for covariance_type='full'"),
        ("precisions_init", np.eye(2), "expected (2, 2, 2) for covariance_type='full'"),
    ],
)
def test_bad_init_arrays(X, name, value, message):
    with pytest.raises(ValueError) as info:
        _gm(**{name: value}).fit(X)
    assert message in str(info.value)


PRECISION_SHAPES = {"full": (2, 2, 2), "tied": (2, 2), "diag": (2, 2), "spherical": (2,)}


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_precisions_init_wrong_shape(X, covariance_type):
    with pytest.raises(ValueError, match="precisions_init has shape") as info:
        _gm(covariance_type=covariance_type, precisions_init=np.ones((5,))).fit(X)
    assert str(PRECISION_SHAPES[covariance_type]) in str(info.value)


@pytest.mark.parametrize(
    ("covariance_type", "precisions", "words"),
    [
        ("full", [[[1.0, 0.5], [0.0, 1.0]], np.eye(2)], ["precisions_init[0]", "not symmetric"]),
        (
            "full",
            [np.eye(2), [[1.0, 2.0], [2.0, 1.0]]],
            ["precisions_init[1]", "positive definite"],
        ),
        ("full", [np.eye(2), -np.eye(2)], ["precisions_init[1]", "positive definite"]),
        ("tied", [[1.0, 3.0], [3.0, 1.0]], ["precisions_init[0]", "positive definite"]),
        ("tied", [[0.0, 0.0], [0.0, 0.0]], ["precisions_init[0]", "positive definite"]),
        ("diag", [[1.0, -1.0], [1.0, 1.0]], ["'diag'", "must be positive"]),
        ("spherical", [1.0, 0.0], ["'spherical'", "must be positive"]),
        ("spherical", [1.0, np.nan], ["NaN or infinity"]),
    ],
)
def test_precisions_init_not_spd(X, covariance_type, precisions, words):
    with pytest.raises(ValueError) as info:
        _gm(covariance_type=covariance_type, precisions_init=np.asarray(precisions)).fit(X)
    for word in words:
        assert word in str(info.value)


def test_valid_init_arrays_are_used_and_not_modified(X, rng):
    weights = np.array([0.4, 0.6])
    means = np.array([[0.0, 0.0], [1.0, 1.0]])
    precisions = np.stack([_spd(rng, 2), _spd(rng, 2)])
    copies = [a.copy() for a in (weights, means, precisions)]
    gm = _gm(weights_init=weights, means_init=means, precisions_init=precisions, max_iter=0)
    gm.fit(X)
    np.testing.assert_array_equal(gm.weights_, weights)
    np.testing.assert_array_equal(gm.means_, means)
    np.testing.assert_allclose(gm.precisions_, precisions, rtol=1e-12)
    for a, b in zip((weights, means, precisions), copies, strict=True):
        np.testing.assert_array_equal(a, b)


def test_check_weights_tolerance():
    """Sums within 1e-6 of one pass (float rounding), beyond that the message gives the sum."""
    check_weights(np.full(3, 1 / 3), 3)
    with pytest.raises(ValueError, match="sum to 1.00001"):
        check_weights([0.5, 0.50001], 2)


def test_check_precisions_returns_input_values(rng):
    p = np.stack([_spd(rng, 3) for _ in range(2)])
    np.testing.assert_array_equal(check_precisions(p, "full", 2, 3), p)


# --------------------------------------------------------------------------- sample_weight
@pytest.mark.parametrize(
    ("sample_weight", "exc", "message"),
    [
        (-np.ones(60), ValueError, "finite and non-negative"),
        (np.full(60, np.nan), ValueError, "finite and non-negative"),
        (np.ones(59), ValueError, "expected (60,), one weight per sample"),
        (np.ones((60, 1)), ValueError, "expected (60,), one weight per sample"),
        (np.zeros(60), ValueError, "sums to zero"),
        (np.array(["a"] * 60), TypeError, "sample_weight must be numeric"),
    ],
)
def test_bad_sample_weight(X, sample_weight, exc, message):
    with pytest.raises(exc) as info:
        _gm().fit(X, sample_weight=sample_weight)
    assert message in str(info.value)


# --------------------------------------------------------------------------- after fit
@pytest.mark.parametrize(
    "call",
    [
        lambda gm, X: gm.predict(X),
        lambda gm, X: gm.predict_proba(X),
        lambda gm, X: gm.score_samples(X),
        lambda gm, X: gm.score(X),
        lambda gm, X: gm.sample(3),
        lambda gm, X: gm.bic(X),
        lambda gm, X: gm.aic(X),
    ],
    ids=["predict", "predict_proba", "score_samples", "score", "sample", "bic", "aic"],
)
def test_unfitted_model(X, call):
    with pytest.raises(NotFittedError, match="not fitted yet. Call 'fit'") as info:
        call(_gm(), X)
    # scikit-learn's NotFittedError has these bases too: except clauses for either work.
    assert isinstance(info.value, ValueError) and isinstance(info.value, AttributeError)


def test_unfitted_model_is_scikit_learn_not_fitted():
    sklearn_validation = pytest.importorskip("sklearn.utils.validation")
    with pytest.raises(Exception, match="not fitted") as info:
        sklearn_validation.check_is_fitted(_gm())
    assert isinstance(info.value, ValueError)


@pytest.mark.parametrize("n_features", [1, 3])
def test_wrong_number_of_features_at_predict(X, n_features):
    gm = _gm().fit(X)
    bad = np.zeros((4, n_features))
    for method in (gm.predict, gm.predict_proba, gm.score_samples, gm.score):
        with pytest.raises(ValueError) as info:
            method(bad)
        msg = f"X has {n_features} features, but GaussianMixture is expecting 2 features"
        assert msg in str(info.value)


def test_nan_at_predict(X):
    gm = _gm().fit(X)
    with pytest.raises(ValueError, match="NaN or infinity"):
        gm.predict(np.array([[0.0, np.nan]]))


@pytest.mark.parametrize("n_samples", [0, -1, 2.5])
def test_bad_n_samples_for_sample(X, n_samples):
    gm = _gm().fit(X)
    with pytest.raises(ValueError, match="n_samples"):
        gm.sample(n_samples)


# --------------------------------------------------------------------------- accepted inputs
@pytest.mark.parametrize(
    ("convert", "dtype"),
    [
        (lambda X: np.round(X * 10).astype(np.int64), np.float64),
        (lambda X: np.round(X * 10).astype(np.int32), np.float64),
        (lambda X: np.round((X - X.min()) * 10).astype(np.uint16), np.float64),
        (lambda X: X.astype(np.float16), np.float64),
        (lambda X: X > 0, np.float64),
        (lambda X: X.tolist(), np.float64),
        (lambda X: X.astype(object), np.float64),
    ],
    ids=["int64", "int32", "uint16", "float16", "bool", "list", "object-numbers"],
)
def test_non_float_input_is_fitted_as_float64(X, convert, dtype):
    data = convert(X)
    expected = np.asarray(data, dtype=np.float64)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # bool data may not converge / be degenerate
        gm = _gm(reg_covar=1e-3).fit(data)
        ref = _gm(reg_covar=1e-3).fit(expected)
    assert gm.means_.dtype == dtype
    _assert_same_fit(gm, ref)


def test_float16_goes_to_float64_like_scikit_learn(X):
    assert check_X(X.astype(np.float16)).dtype == np.float64
    assert check_X(X.astype(np.float32)).dtype == np.float32


@pytest.mark.parametrize(
    "layout",
    [
        lambda X: np.asfortranarray(X),
        lambda X: np.repeat(X, 2, axis=1)[:, ::2],
        lambda X: np.repeat(X, 2, axis=0)[::2],
        lambda X: X[::-1][::-1],
    ],
    ids=["fortran", "column-stride", "row-stride", "negative-stride-view"],
)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_memory_layouts_give_the_same_fit(X, layout, dtype):
    data = layout(X.astype(dtype))
    before = data.copy()
    ref = _gm().fit(np.ascontiguousarray(X.astype(dtype)))
    gm = _gm().fit(data)
    _assert_same_fit(gm, ref)
    assert gm.means_.dtype == dtype
    np.testing.assert_array_equal(data, before)  # never modified
    np.testing.assert_array_equal(gm.predict(data), ref.predict(X.astype(dtype)))


def _compiled_signatures():
    """Every (kernel, signature) compiled so far in fastgmm._kernels."""
    import fastgmm._kernels as kernels

    out = set()
    for name in dir(kernels):
        obj = getattr(kernels, name)
        for sig in getattr(obj, "signatures", ()):
            out.add((name, sig))
    return out


def test_read_only_array_no_copy_and_no_recompile(X):
    """Numba compiles a read-only specialisation of a kernel once; no copy is made."""
    ro = X.copy()
    ro.flags.writeable = False
    assert np.shares_memory(check_X(ro), ro)
    ref = _gm(covariance_type="diag").fit(X)
    gm = _gm(covariance_type="diag").fit(ro)
    _assert_same_fit(gm, ref)
    np.testing.assert_array_equal(gm.predict(ro), ref.predict(X))
    compiled = _compiled_signatures()
    assert any(not sig[0].mutable for _, sig in compiled if sig and hasattr(sig[0], "mutable"))
    for _ in range(2):  # more read-only fits and predictions: no new specialisations
        _assert_same_fit(_gm(covariance_type="diag").fit(ro), ref)
        gm.predict(ro)
    assert _compiled_signatures() == compiled


@pytest.mark.parametrize("mode", ["r", "r+", "c"])
def test_memmap(tmp_path, X, mode):
    path = tmp_path / "x.dat"
    mm = np.memmap(path, dtype=np.float64, mode="w+", shape=X.shape)
    mm[:] = X
    mm.flush()
    del mm
    data = np.memmap(path, dtype=np.float64, mode=mode, shape=X.shape)
    ref = _gm(covariance_type="diag").fit(X)
    gm = _gm(covariance_type="diag").fit(data)
    # A memmap is read block by block (fastgmm._streaming): same EM, another summation order.
    for name in ("weights_", "means_", "covariances_", "precisions_cholesky_"):
        np.testing.assert_allclose(getattr(gm, name), getattr(ref, name), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(gm.lower_bound_, ref.lower_bound_, rtol=1e-12)
    assert gm.n_iter_ == ref.n_iter_
    np.testing.assert_array_equal(np.fromfile(path, dtype=np.float64).reshape(X.shape), X)


def test_pandas_dataframe(X):
    pd = pytest.importorskip("pandas")
    df = pd.DataFrame(X, columns=["a", "b"])
    _assert_same_fit(_gm().fit(df), _gm().fit(X))
    mixed = pd.DataFrame({"a": X[:, 0], "b": np.round(X[:, 1] * 10).astype(int)})
    expected = np.column_stack([X[:, 0], np.round(X[:, 1] * 10)])
    _assert_same_fit(_gm().fit(mixed), _gm().fit(expected))
    text = df.assign(b=["x"] * len(df))
    with pytest.raises(TypeError, match="non-numeric"):
        _gm().fit(text)
    missing = pd.DataFrame({"a": pd.array([1, None] * 30, dtype="Int64"), "b": X[:, 1]})
    with pytest.raises((TypeError, ValueError), match="missing|NaN"):
        _gm().fit(missing)


def test_numba_typing_errors_never_escape(X):
    """Every rejected input above fails in Python validation, before any kernel runs."""
    for make, exc, _ in BAD_X.values():
        try:
            _gm().fit(make(X))
        except (ValueError, TypeError) as err:
            assert not isinstance(err, numba.core.errors.NumbaError)
        else:  # pragma: no cover
            raise AssertionError("accepted bad input")
        assert exc in (ValueError, TypeError)


# --------------------------------------------------------------------------- data scale
def test_scale_check_messages():
    X = np.random.default_rng(0).normal(size=(100, 2))
    with pytest.raises(ValueError, match=r"spans .* overflow float64.*Rescale X"):
        check_data_scale(X * 1e160, 1e-6, 100.0)
    with pytest.raises(ValueError, match=r"float32 .* overflow float32.*float64"):
        check_data_scale((X * 1e20).astype(np.float32), 1e-6, 100.0)
    with pytest.warns(DataScaleWarning, match=r"reg_covar=1e-06 .* 2 of 2 features.*Rescale X"):
        check_data_scale(X * 1e-4, 1e-6, 100.0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        check_data_scale(X, 1e-6, 100.0)  # ordinary data: silent
        check_data_scale(np.ones((5, 2)), 1e-6, 5.0)  # constant data: reg_covar is the fix
        check_data_scale(X * 1e-150, 0.0, 100.0)  # no regularisation: nothing dominates


def test_constant_feature_does_not_warn(X):
    data = np.column_stack([X, np.full(len(X), 7.0)])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        gm = _gm(covariance_type="diag").fit(data)
    np.testing.assert_array_equal(gm.means_[:, 2], 7.0)


@pytest.mark.parametrize("shape", [(1, 1), (7, 3), (511, 2), (1000, 1), (3000, 8), (20, 1500)])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_column_reduce_equals_numpy(shape, dtype):
    """The grouped view of check_data_scale gives exactly ``X.max(axis=0)`` / ``min``."""
    X = np.random.default_rng(0).normal(size=shape).astype(dtype)
    for op in (np.maximum, np.minimum):
        expected = op.reduce(X, axis=0).astype(np.float64)
        np.testing.assert_array_equal(column_reduce(op, X), expected)
        np.testing.assert_array_equal(column_reduce(op, np.asfortranarray(X)), expected)
