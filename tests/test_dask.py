"""GaussianMixture on dask arrays: same answer as in memory, lazy predictions, a real cluster."""

from __future__ import annotations

import os
import signal
import threading
import time
import warnings

import numpy as np
import pytest

da = pytest.importorskip("dask.array")
dask = pytest.importorskip("dask")

from gmm_testing import (  # noqa: E402
    COVARIANCE_TYPES,
    assert_same_fit,
    init_params_from_short_fit,
    make_blobs,
)

import fastgmm._streaming as streaming  # noqa: E402
from fastgmm import ConvergenceWarning, GaussianMixture  # noqa: E402
from fastgmm._dask import DaskSource, is_dask_array  # noqa: E402

CHUNKINGS = [97, 500, (1000, 1), ((37, 400, 1, 562), (3,))]


@pytest.fixture
def sync():
    with dask.config.set(scheduler="synchronous"):
        yield


@pytest.fixture
def blobs(rng):
    # Overlapping blobs, so EM needs many iterations from a random start.
    X, _ = make_blobs(rng, n_samples=1000, n_features=3, n_components=3, spread=1.5)
    return X


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
@pytest.mark.parametrize("chunks", CHUNKINGS, ids=["97", "500", "1000x1", "uneven"])
def test_dask_fit_equals_in_memory_from_same_init(sync, blobs, covariance_type, chunks):
    init = init_params_from_short_fit(blobs, covariance_type)
    kw = dict(covariance_type=covariance_type, tol=1e-9, max_iter=300, **init)
    ref = GaussianMixture(3, **kw).fit(blobs)
    Xd = da.from_array(blobs, chunks=chunks)
    got = GaussianMixture(3, **kw).fit(Xd)
    assert got.n_iter_ > 3  # several passes over the chunks, not a trivial fit
    assert_same_fit(got, ref)


@pytest.mark.parametrize("init_params", ["kmeans", "k-means++", "random_from_data"])
def test_default_initialisation_equals_in_memory_when_sample_is_all_rows(sync, blobs, init_params):
    # n_samples <= SAMPLE_ROWS: k-means runs on all rows with the same random stream.
    kw = dict(init_params=init_params, random_state=3, tol=1e-8, max_iter=300)
    ref = GaussianMixture(3, **kw).fit(blobs)
    got = GaussianMixture(3, **kw).fit(da.from_array(blobs, chunks=128))
    assert_same_fit(got, ref)


def test_weighted_fit_equals_in_memory(sync, blobs, rng):
    w = rng.uniform(0.0, 3.0, size=blobs.shape[0])
    init = init_params_from_short_fit(blobs, "full")
    ref = GaussianMixture(3, tol=1e-9, **init).fit(blobs, sample_weight=w)
    Xd = da.from_array(blobs, chunks=150)
    got_np = GaussianMixture(3, tol=1e-9, **init).fit(Xd, sample_weight=w)
    got_da = GaussianMixture(3, tol=1e-9, **init).fit(Xd, sample_weight=da.from_array(w, 333))
    assert_same_fit(got_np, ref)
    assert_same_fit(got_da, ref)


def test_hard_assignment_equals_in_memory(sync, blobs):
    init = init_params_from_short_fit(blobs, "diag")
    kw = dict(covariance_type="diag", assignment="hard", tol=1e-9, **init)
    ref = GaussianMixture(3, **kw).fit(blobs)
    got = GaussianMixture(3, **kw).fit(da.from_array(blobs, chunks=111))
    assert_same_fit(got, ref)


def test_float32_stays_float32(sync, blobs):
    X32 = blobs.astype(np.float32)
    init = init_params_from_short_fit(blobs, "full")
    ref = GaussianMixture(3, tol=1e-6, **init).fit(X32)
    got = GaussianMixture(3, tol=1e-6, **init).fit(da.from_array(X32, chunks=200))
    assert got.means_.dtype == np.float32
    np.testing.assert_allclose(got.means_, ref.means_, rtol=1e-5, atol=1e-5)


def test_columns_in_several_chunks_and_integer_data(sync, rng):
    X = rng.integers(0, 20, size=(400, 4))
    init = init_params_from_short_fit(X.astype(float), "spherical")
    ref = GaussianMixture(3, covariance_type="spherical", **init).fit(X)
    got = GaussianMixture(3, covariance_type="spherical", **init)
    got.fit(da.from_array(X, chunks=(100, 2)))
    assert_same_fit(got, ref)


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_predictions_are_lazy_and_match(sync, blobs, covariance_type):
    gm = GaussianMixture(3, covariance_type=covariance_type, random_state=0).fit(blobs)
    Xd = da.from_array(blobs, chunks=(300, 3))
    labels = gm.predict(Xd)
    proba = gm.predict_proba(Xd)
    log_prob = gm.score_samples(Xd)
    for lazy in (labels, proba, log_prob):
        assert is_dask_array(lazy)
    assert proba.shape == (blobs.shape[0], 3)
    np.testing.assert_array_equal(labels.compute(), gm.predict(blobs))
    np.testing.assert_allclose(proba.compute(), gm.predict_proba(blobs), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(log_prob.compute(), gm.score_samples(blobs), rtol=1e-12)
    np.testing.assert_allclose(gm.score(Xd), gm.score(blobs), rtol=1e-12)
    np.testing.assert_array_equal(
        GaussianMixture(3, covariance_type=covariance_type, random_state=0).fit_predict(Xd),
        gm.predict(blobs),
    )


def test_initialisation_uses_a_bounded_sample(sync, blobs, monkeypatch):
    # With more rows than SAMPLE_ROWS, k-means sees only SAMPLE_ROWS rows.
    monkeypatch.setattr(streaming, "SAMPLE_ROWS", 200)
    seen = []
    original = streaming.KMeans.fit

    def spy(self, X, *args, **kwargs):
        seen.append(X.shape[0])
        return original(self, X, *args, **kwargs)

    monkeypatch.setattr(streaming.KMeans, "fit", spy)
    gm = GaussianMixture(3, random_state=0, tol=1e-8).fit(da.from_array(blobs, chunks=250))
    assert seen == [200]
    ref = GaussianMixture(3, random_state=0, tol=1e-8).fit(blobs)
    # A different start, the same well-separated optimum.
    np.testing.assert_allclose(np.sort(gm.means_, axis=0), np.sort(ref.means_, axis=0), atol=1e-6)


def test_client_receives_only_statistics(sync, blobs):
    src = DaskSource(da.from_array(blobs, chunks=100), None, "full", "numba")
    gm = GaussianMixture(3, random_state=0).fit(blobs)
    params = (gm.weights_, gm.means_, gm.covariances_, gm.precisions_cholesky_)
    log_lik, nk, sx, sxx = src.em_stats(params)
    assert nk.shape == (3,) and sx.shape == (3, 3) and sxx.shape == (3, 3, 3)
    np.testing.assert_allclose(log_lik / blobs.shape[0], gm.score(blobs), rtol=1e-12)
    np.testing.assert_allclose(nk.sum(), blobs.shape[0], rtol=1e-12)


def test_bad_input(sync, blobs):
    bad = blobs.copy()
    bad[523, 1] = np.nan
    with pytest.raises(ValueError, match="NaN or infinity"):  # found in the init sample
        GaussianMixture(3, random_state=0).fit(da.from_array(bad, chunks=100))
    # Given init: no sample is drawn, the first pass checks chunk by chunk.
    init = init_params_from_short_fit(blobs, "full")
    with pytest.raises(ValueError, match=r"NaN or infinity \(found in rows 500:600\)"):
        GaussianMixture(3, **init).fit(da.from_array(bad, chunks=100))
    with pytest.raises(ValueError, match="2-D"):
        GaussianMixture(3).fit(da.from_array(blobs[:, 0], chunks=100))
    Xd = da.from_array(blobs, chunks=100)
    with pytest.raises(ValueError, match="compute_chunk_sizes"):
        GaussianMixture(3).fit(Xd[Xd[:, 0] > 0])
    with pytest.raises(ValueError, match="stopping='lower_bound'"):
        GaussianMixture(3, stopping="resp_change").fit(Xd)
    with pytest.raises(ValueError, match="non-negative"):
        GaussianMixture(3).fit(Xd, sample_weight=-np.ones(blobs.shape[0]))
    with pytest.raises(ValueError, match="expected"):
        GaussianMixture(3).fit(Xd, sample_weight=np.ones(5))
    gm = GaussianMixture(3, random_state=0).fit(blobs)
    with pytest.raises(ValueError, match="features"):
        gm.predict(da.from_array(blobs[:, :2], chunks=100))


# --------------------------------------------------------------------------- a real cluster
@pytest.fixture(scope="module")
def client():
    distributed = pytest.importorskip("distributed")
    cluster = distributed.LocalCluster(
        n_workers=2,
        processes=True,
        threads_per_worker=1,
        dashboard_address=None,
        silence_logs=50,
    )
    client = distributed.Client(cluster)
    try:
        yield client
    finally:
        client.close()
        cluster.close()


def test_local_cluster_fit_equals_in_memory(client, blobs):
    assert len(client.scheduler_info()["workers"]) == 2
    init = init_params_from_short_fit(blobs, "full")
    ref = GaussianMixture(3, tol=1e-9, **init).fit(blobs)
    Xd = da.from_array(blobs, chunks=125)
    got = GaussianMixture(3, tol=1e-9, **init).fit(Xd)
    assert_same_fit(got, ref)
    # Both workers computed statistics.
    assert len({ts for ts in client.run(lambda: os.getpid()).values()}) == 2
    np.testing.assert_array_equal(got.predict(Xd).compute(), ref.predict(blobs))


def _slow(block):
    time.sleep(0.02)
    return block


def test_fit_survives_a_killed_worker(client, blobs):
    init = init_params_from_short_fit(blobs, "full")
    kw = dict(tol=0.0, max_iter=12, **init)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        ref = GaussianMixture(3, **kw).fit(blobs)
    # Slow chunks so the fit is still running when the worker dies.
    Xd = da.from_array(blobs, chunks=50).map_blocks(_slow, dtype=blobs.dtype)
    pids = client.run(os.getpid)
    victim = sorted(pids.values())[0]
    result = {}

    def fit():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            result["gm"] = GaussianMixture(3, **kw).fit(Xd)

    thread = threading.Thread(target=fit)
    thread.start()
    time.sleep(1.5)
    alive_when_killed = thread.is_alive()
    os.kill(victim, signal.SIGKILL)
    thread.join(timeout=120)
    assert alive_when_killed, "the fit ended before the worker was killed"
    assert not thread.is_alive()
    client.wait_for_workers(2, timeout=60)
    assert victim not in client.run(os.getpid).values()  # the worker really died
    assert_same_fit(result["gm"], ref)
