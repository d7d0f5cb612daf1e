import json
import pickle
import zipfile

import numpy as np
import pytest

from fastgmm import GaussianMixture, KMeans
from fastgmm.io import FORMAT_VERSION, load_metadata, load_model, save_model

COVARIANCE_TYPES = ["full", "tied", "diag", "spherical"]


@pytest.fixture(scope="module")
def X():
    rng = np.random.default_rng(0)
    return np.vstack([rng.normal(0, 1, (80, 3)), rng.normal(4, 0.5, (60, 3))])


def fitted(X, covariance_type="full", **kwargs):
    return GaussianMixture(2, covariance_type=covariance_type, random_state=0, **kwargs).fit(X)


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_saved_model_predicts_identically(tmp_path, X, covariance_type):
    model = fitted(X, covariance_type)
    path = save_model(model, tmp_path / "model.npz")
    loaded = load_model(path)
    assert type(loaded) is GaussianMixture
    assert loaded.get_params() == model.get_params()
    np.testing.assert_array_equal(loaded.predict(X), model.predict(X))
    np.testing.assert_array_equal(loaded.predict_proba(X), model.predict_proba(X))
    np.testing.assert_array_equal(loaded.score_samples(X), model.score_samples(X))
    assert loaded.bic(X) == model.bic(X)
    for name in ("weights_", "means_", "covariances_", "precisions_", "precisions_cholesky_"):
        np.testing.assert_array_equal(getattr(loaded, name), getattr(model, name))
        assert getattr(loaded, name).dtype == getattr(model, name).dtype
    assert loaded.converged_ is model.converged_
    assert loaded.n_iter_ == model.n_iter_ and isinstance(loaded.n_iter_, int)
    assert loaded.lower_bound_ == model.lower_bound_
    assert list(loaded.lower_bounds_) == list(model.lower_bounds_)
    assert loaded.n_features_in_ == 3


def test_sampling_after_load_repeats(tmp_path, X):
    model = fitted(X)
    loaded = load_model(save_model(model, tmp_path / "m.npz"))
    a, la = model.sample(20, random_state=5)
    b, lb = loaded.sample(20, random_state=5)
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(la, lb)


def test_file_is_versioned_npz_readable_without_pickle(tmp_path, X):
    path = save_model(fitted(X), tmp_path / "m.npz")
    with np.load(path, allow_pickle=False) as data:
        assert str(data["__format__"]) == "fastgmm-model"
        assert int(data["__format_version__"]) == FORMAT_VERSION
        assert str(data["__class__"]) == "GaussianMixture"
        params = json.loads(str(data["__params__"]))
        assert params["n_components"] == 2 and params["covariance_type"] == "full"
        assert data["attr:means_"].shape == (2, 3)
        for key in data.files:
            assert data[key].dtype != object


def test_path_is_written_as_given(tmp_path, X):
    path = tmp_path / "model.gmm"  # np.savez would append .npz to a name
    assert save_model(fitted(X), path) == path
    assert path.exists() and not (tmp_path / "model.gmm.npz").exists()
    assert zipfile.is_zipfile(path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.gmm"]  # no temp file left


def test_metadata_roundtrip(tmp_path, X):
    meta = {"standardize_mean": np.arange(3.0), "columns": np.array(["a", "bb", "c"])}
    path = save_model(fitted(X), tmp_path / "m.npz", metadata=meta)
    got = load_metadata(path)
    np.testing.assert_array_equal(got["standardize_mean"], meta["standardize_mean"])
    assert got["columns"].tolist() == ["a", "bb", "c"]
    assert load_metadata(save_model(fitted(X), tmp_path / "plain.npz")) == {}


def test_array_init_params_roundtrip(tmp_path, X):
    means_init = np.array([[0.0, 0.0, 0.0], [4.0, 4.0, 4.0]])
    model = fitted(X, means_init=means_init)
    loaded = load_model(save_model(model, tmp_path / "m.npz"))
    np.testing.assert_array_equal(loaded.means_init, means_init)
    np.testing.assert_array_equal(loaded.predict(X), model.predict(X))


def test_generator_random_state_is_saved_as_none_with_warning(tmp_path, X):
    model = GaussianMixture(2, random_state=np.random.RandomState(0)).fit(X)
    with pytest.warns(UserWarning, match="saved as None"):
        path = save_model(model, tmp_path / "m.npz")
    loaded = load_model(path)
    assert loaded.random_state is None
    np.testing.assert_array_equal(loaded.predict(X), model.predict(X))


def test_kmeans_roundtrip(tmp_path, X):
    model = KMeans(2, random_state=0).fit(X)
    loaded = load_model(save_model(model, tmp_path / "k.npz"))
    assert type(loaded) is KMeans
    np.testing.assert_array_equal(loaded.predict(X), model.predict(X))
    np.testing.assert_array_equal(loaded.cluster_centers_, model.cluster_centers_)
    assert loaded.inertia_ == model.inertia_


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_pickle_roundtrip(X, covariance_type):
    model = fitted(X, covariance_type)
    loaded = pickle.loads(pickle.dumps(model))
    np.testing.assert_array_equal(loaded.predict_proba(X), model.predict_proba(X))
    assert loaded.get_params() == model.get_params()


def test_unfitted_model_is_refused(tmp_path):
    with pytest.raises(ValueError, match="not fitted"):
        save_model(GaussianMixture(2), tmp_path / "m.npz")
    assert not (tmp_path / "m.npz").exists()


def test_other_objects_are_refused(tmp_path):
    with pytest.raises(TypeError, match="save_model supports"):
        save_model(object(), tmp_path / "m.npz")


def test_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="model file not found"):
        load_model(tmp_path / "nope.npz")


def test_not_a_model_file(tmp_path):
    text = tmp_path / "data.csv"
    text.write_text("1,2\n3,4\n")
    with pytest.raises(ValueError, match="not a fastgmm model file"):
        load_model(text)
    other = tmp_path / "other.npz"
    np.savez(other, a=np.zeros(3))
    with pytest.raises(ValueError, match="not a fastgmm model file"):
        load_model(other)


def test_newer_format_version_is_refused(tmp_path, X):
    path = save_model(fitted(X), tmp_path / "m.npz")
    with np.load(path) as data:
        arrays = {key: data[key] for key in data.files}
    arrays["__format_version__"] = np.array(FORMAT_VERSION + 1)
    np.savez(path, **arrays)
    with pytest.raises(ValueError, match=f"format version {FORMAT_VERSION + 1}"):
        load_model(path)


def test_unknown_class_is_refused(tmp_path, X):
    path = save_model(fitted(X), tmp_path / "m.npz")
    with np.load(path) as data:
        arrays = {key: data[key] for key in data.files}
    arrays["__class__"] = np.array("os.system")
    np.savez(path, **arrays)
    with pytest.raises(ValueError, match="unknown model class"):
        load_model(path)


def test_estimator_save_and_load_methods(tmp_path, X):
    model = fitted(X, "diag")
    model.save(tmp_path / "m.npz")
    loaded = GaussianMixture.load(tmp_path / "m.npz")
    np.testing.assert_array_equal(loaded.predict_proba(X), model.predict_proba(X))
    save_model(KMeans(2, random_state=0).fit(X), tmp_path / "k.npz")
    with pytest.raises(TypeError, match="holds a KMeans"):
        GaussianMixture.load(tmp_path / "k.npz")
