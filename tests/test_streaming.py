"""Out-of-core fits of numpy.memmap data, block by block, with bounded resident memory."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from gmm_testing import COVARIANCE_TYPES, assert_same_fit, init_params_from_short_fit, make_blobs

import fastgmm._streaming as streaming
from fastgmm import GaussianMixture
from fastgmm._streaming import ArraySource, fit_streamed


@pytest.fixture
def blobs(rng):
    X, _ = make_blobs(rng, n_samples=1200, n_features=3, n_components=3, spread=1.5)
    return X


@pytest.fixture
def memmap(tmp_path, blobs):
    path = tmp_path / "X.npy"
    np.save(path, blobs)
    return np.load(path, mmap_mode="r")


@pytest.fixture
def small_blocks(monkeypatch):
    monkeypatch.setattr(streaming, "BLOCK_BYTES", 100 * 3 * 8)  # 100 rows of 3 float64


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_memmap_fit_equals_in_memory_from_same_init(blobs, memmap, small_blocks, covariance_type):
    kw = dict(covariance_type=covariance_type, tol=1e-9, max_iter=300)
    kw.update(init_params_from_short_fit(blobs, covariance_type))
    ref = GaussianMixture(3, **kw).fit(blobs)
    got = GaussianMixture(3, **kw).fit(memmap)
    assert got.n_iter_ > 3
    assert_same_fit(got, ref)


@pytest.mark.parametrize("init_params", ["kmeans", "k-means++", "random", "random_from_data"])
def test_memmap_default_init_equals_in_memory(blobs, memmap, small_blocks, init_params):
    # At most SAMPLE_ROWS rows: the initialisation is the in-memory one, draw for draw.
    kw = dict(init_params=init_params, random_state=5, tol=1e-8, max_iter=300)
    assert_same_fit(GaussianMixture(3, **kw).fit(memmap), GaussianMixture(3, **kw).fit(blobs))


def test_memmap_view_offset_and_weights(blobs, memmap, rng):
    # A row slice of a memmap starts mid-file: the reader must seek to the right byte.
    w = rng.uniform(0.1, 2.0, size=blobs.shape[0] - 137)
    kw = dict(tol=1e-9, **init_params_from_short_fit(blobs, "full"))
    ref = GaussianMixture(3, **kw).fit(blobs[137:], sample_weight=w)
    view = memmap[137:]
    source = ArraySource(view, w, "full", "numba", block_rows=64)
    assert source._position is not None  # read with file reads, not through the map
    got = GaussianMixture(3, **kw)
    fit_streamed(got, view, sample_weight=w, block_rows=64)
    assert_same_fit(got, ref)


def test_any_sliceable_array(blobs):
    class Rows:  # what h5py / zarr datasets offer: shape, dtype and row slicing
        shape = blobs.shape
        dtype = blobs.dtype

        def __getitem__(self, key):
            return blobs[key]

    kw = dict(tol=1e-9, **init_params_from_short_fit(blobs, "tied"), covariance_type="tied")
    got = GaussianMixture(3, **kw)
    fit_streamed(got, Rows(), block_rows=77)
    assert_same_fit(got, GaussianMixture(3, **kw).fit(blobs))


def test_integer_memmap_is_read_as_float64(tmp_path, rng):
    X = (rng.normal(size=(500, 2)) * 3 + [[0, 20]] * (np.arange(500)[:, None] % 2)).astype(np.int32)
    path = tmp_path / "i.npy"
    np.save(path, X)
    kw = dict(random_state=0, tol=1e-8)
    got = GaussianMixture(2, **kw).fit(np.load(path, mmap_mode="r"))
    assert got.means_.dtype == np.float64
    assert_same_fit(got, GaussianMixture(2, **kw).fit(X))


def test_fit_predict_and_predict_on_memmap(blobs, memmap, small_blocks):
    gm = GaussianMixture(3, random_state=0)
    labels = gm.fit_predict(memmap)
    np.testing.assert_array_equal(labels, gm.predict(blobs))


def test_nonfinite_block_is_reported(blobs, tmp_path, small_blocks):
    bad = blobs.copy()
    bad[777, 2] = np.inf
    path = tmp_path / "bad.npy"
    np.save(path, bad)
    init = init_params_from_short_fit(blobs, "diag")
    with pytest.raises(ValueError, match=r"NaN or infinity \(found in rows 700:800\)"):
        GaussianMixture(3, covariance_type="diag", **init).fit(np.load(path, mmap_mode="r"))


def test_bad_input(tmp_path, memmap):
    with pytest.raises(ValueError, match="2-D"):
        fit_streamed(GaussianMixture(2), memmap[:, 0])
    with pytest.raises(ValueError, match="n_samples >= 3"):
        GaussianMixture(3).fit(memmap[:2])
    with pytest.raises(ValueError, match="stopping='lower_bound'"):
        GaussianMixture(3, stopping="resp_change").fit(memmap)
    np.save(tmp_path / "c.npy", np.ones((10, 2), dtype=complex))
    with pytest.raises(TypeError, match="complex"):
        GaussianMixture(2).fit(np.load(tmp_path / "c.npy", mmap_mode="r"))


RSS_SCRIPT = textwrap.dedent(
    """
    import json, sys, threading, time
    import numpy as np, psutil
    import fastgmm._streaming as streaming
    from fastgmm import GaussianMixture

    X = np.load(sys.argv[1], mmap_mode="r")
    streaming.BLOCK_BYTES = 4 * 2**20
    # Compile the kernels before measuring.
    GaussianMixture(2, covariance_type="diag", max_iter=2, tol=0.0).fit(np.asarray(X[:5000]))
    proc = psutil.Process()
    base = proc.memory_info().rss
    peak = [base]
    done = threading.Event()

    def watch():
        while not done.is_set():
            peak[0] = max(peak[0], proc.memory_info().rss)
            time.sleep(0.005)

    t = threading.Thread(target=watch)
    t.start()
    gm = GaussianMixture(2, covariance_type="diag", max_iter=3, tol=0.0, random_state=0)
    import warnings
    warnings.simplefilter("ignore")
    gm.fit(X)
    done.set()
    t.join()
    peak[0] = max(peak[0], proc.memory_info().rss)
    # Control: reading the same file through the memory map does show up in RSS.
    before = proc.memory_info().rss
    X.sum()
    control = proc.memory_info().rss - before
    print(json.dumps({"growth": peak[0] - base, "control": control, "means": gm.means_.tolist()}))
    """
)


def test_resident_memory_is_bounded_by_block_size(tmp_path):
    pytest.importorskip("psutil")
    n_rows, n_features = 12_500_000, 4  # 400 MB of float64
    path = tmp_path / "big.npy"
    try:
        big = np.lib.format.open_memmap(path, mode="w+", dtype=np.float64, shape=(n_rows, 4))
        rng = np.random.default_rng(0)
        step = 1_000_000
        for start in range(0, n_rows, step):
            stop = min(start + step, n_rows)
            block = rng.standard_normal((stop - start, n_features))
            block[: (stop - start) // 2] += 6.0  # two clusters: first half of each block
            big[start:stop] = block
        big.flush()
        del big
        env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
        out = subprocess.run(
            [sys.executable, "-c", RSS_SCRIPT, str(path)],
            capture_output=True,
            text=True,
            timeout=300,
            env=env,
            check=True,
        )
        result = json.loads(out.stdout.strip().splitlines()[-1])
    finally:
        path.unlink(missing_ok=True)
    file_size = n_rows * n_features * 8
    # The sample for k-means (100k rows, 3.2 MB), 4 MB blocks and K x D statistics.
    assert result["growth"] < 64 * 2**20, result["growth"]
    assert result["growth"] < file_size / 6
    assert result["control"] > file_size / 2  # the measurement does see mapped pages
    np.testing.assert_allclose(np.sort(np.array(result["means"])[:, 0]), [0.0, 6.0], atol=0.01)
