"""Fits from several Python threads at once equal the same fits run alone.

Numba's threading layer is picked at the first parallel launch (tbb, then omp,
then workqueue). tbb and omp accept concurrent launches; workqueue aborts the
process on them, so fastgmm serialises its launches under workqueue
(fastgmm._threading). The workqueue case runs in a subprocess, because the
layer cannot be changed once a process has launched a parallel kernel.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import numba
import numpy as np
import pytest
from gmm_testing import COVARIANCE_TYPES, make_blobs

import fastgmm
from fastgmm import GaussianMixture
from fastgmm._threading import THREAD_SAFE_LAYERS, launches_need_lock, threading_layer

N_THREADS = 4


def _fit(X, cov, seed, backend="numba"):
    gm = GaussianMixture(3, covariance_type=cov, random_state=seed, backend=backend, max_iter=30)
    gm.fit(X)
    return gm


def _run_threads(target, n_threads=N_THREADS):
    errors = []

    def wrapped(i):
        try:
            target(i)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    barrier = threading.Barrier(n_threads)

    def start(i):
        barrier.wait()  # start together so the launches overlap
        wrapped(i)

    threads = [threading.Thread(target=start, args=(i,)) for i in range(n_threads)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors


def test_threading_layer_is_known_and_lock_matches():
    rng = np.random.default_rng(0)
    _fit(make_blobs(rng, n_samples=60)[0], "diag", 0)  # at least one parallel launch
    layer = numba.threading_layer()
    assert layer in ("tbb", "omp", "workqueue")
    assert threading_layer() == layer
    assert launches_need_lock() == (layer not in THREAD_SAFE_LAYERS)


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_concurrent_fits_equal_fits_run_alone(rng, covariance_type):
    datasets = [make_blobs(rng, n_samples=400 + 50 * i)[0] for i in range(N_THREADS)]
    alone = [_fit(X, covariance_type, seed) for seed, X in enumerate(datasets)]
    results = [None] * N_THREADS

    def work(i):
        gm = _fit(datasets[i], covariance_type, i)
        results[i] = (gm, gm.predict_proba(datasets[i]), gm.score_samples(datasets[i]))

    _run_threads(work)
    for i, (gm, proba, log_prob) in enumerate(results):
        ref = alone[i]
        # Deterministic drivers: bitwise equal, not merely close.
        np.testing.assert_array_equal(gm.means_, ref.means_)
        np.testing.assert_array_equal(gm.covariances_, ref.covariances_)
        np.testing.assert_array_equal(gm.weights_, ref.weights_)
        assert gm.lower_bound_ == ref.lower_bound_
        assert gm.n_iter_ == ref.n_iter_
        np.testing.assert_array_equal(proba, ref.predict_proba(datasets[i]))
        np.testing.assert_array_equal(log_prob, ref.score_samples(datasets[i]))


def test_one_model_predicting_from_many_threads(rng):
    X, _ = make_blobs(rng, n_samples=500)
    gm = _fit(X, "full", 0)
    expected = gm.predict(X)
    out = [None] * N_THREADS

    def work(i):
        out[i] = gm.predict(X)

    _run_threads(work)
    for labels in out:
        np.testing.assert_array_equal(labels, expected)


WORKQUEUE_SCRIPT = textwrap.dedent(
    """
    import threading
    import numba
    import numpy as np
    from fastgmm import GaussianMixture, KMeans
    from fastgmm._threading import launches_need_lock

    rng = np.random.default_rng(1)
    X = np.concatenate([rng.normal(0, 1, (1500, 3)), rng.normal(5, 1, (1500, 3))])
    fit = lambda: GaussianMixture(2, covariance_type="diag", random_state=0).fit(X)
    ref = fit()
    ref_km = KMeans(2, random_state=0).fit(X).cluster_centers_
    ok = []
    barrier = threading.Barrier(4)

    def work():
        barrier.wait()
        for _ in range(3):
            gm = fit()
            km = KMeans(2, random_state=0).fit(X).cluster_centers_
            ok.append(np.array_equal(gm.means_, ref.means_) and np.array_equal(km, ref_km))

    threads = [threading.Thread(target=work) for _ in range(4)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    print(numba.threading_layer(), launches_need_lock(), len(ok), all(ok))
    """
)


@pytest.mark.slow
def test_concurrent_fits_survive_workqueue_layer():
    """Without fastgmm's lock this script aborts ("Concurrent access has been detected")."""
    env = dict(os.environ, NUMBA_THREADING_LAYER="workqueue")
    root = str(Path(fastgmm.__file__).resolve().parents[1])
    env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH")) if p)
    proc = subprocess.run(
        [sys.executable, "-c", WORKQUEUE_SCRIPT],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.split() == ["workqueue", "True", "12", "True"]
