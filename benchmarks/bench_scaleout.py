"""Scale-out: the same EM in memory, streamed from a memmap, and on Dask.

Smoke benchmarks (pytest-benchmark, small N):

    python -m pytest benchmarks/bench_scaleout.py --benchmark-enable -q

The issue-5 measurement (N = 20 million, D = 8, K = 8, float64 = 1.28 GB on disk;
each mode runs in its own process so peak RSS is its own; the file is deleted):

    python benchmarks/bench_scaleout.py --n-samples 20000000 --max-iter 5

All modes start from the same parameters (``*_init`` from a fit on a 100k-row
sample), run ``max_iter`` iterations with ``tol=0`` and report seconds per
iteration (fit time / iterations, including the first pass's finiteness check),
peak RSS of every process involved (sampled every 10 ms; baseline = after
imports and JIT warm-up), and ``lower_bound_`` (which must agree).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
import warnings

import numpy as np
import pytest

from fastgmm import ConvergenceWarning, GaussianMixture

N_FEATURES = 8
N_COMPONENTS = 8


def write_data(path, n_samples, n_features=N_FEATURES, n_components=N_COMPONENTS, seed=0):
    """Write a float64 mixture to ``path`` (.npy) block by block; return the file size."""
    rng = np.random.default_rng(seed)
    centers = rng.normal(0.0, 4.0, size=(n_components, n_features))
    out = np.lib.format.open_memmap(
        path, mode="w+", dtype=np.float64, shape=(n_samples, n_features)
    )
    step = 1_000_000
    for start in range(0, n_samples, step):
        stop = min(start + step, n_samples)
        z = rng.integers(0, n_components, size=stop - start)
        out[start:stop] = centers[z] + rng.standard_normal((stop - start, n_features))
    out.flush()
    del out
    return os.path.getsize(path)


def initial_parameters(X, seed=0):
    """``*_init`` keyword arguments from a short fit on the first 100k rows."""
    sample = np.ascontiguousarray(X[:100_000])
    gm = GaussianMixture(N_COMPONENTS, random_state=seed, max_iter=20).fit(sample)
    return dict(weights_init=gm.weights_, means_init=gm.means_, precisions_init=gm.precisions_)


def fit_timed(X, init, max_iter):
    gm = GaussianMixture(N_COMPONENTS, tol=0.0, max_iter=max_iter, **init)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        t0 = time.perf_counter()
        gm.fit(X)
        seconds = time.perf_counter() - t0
    return gm, seconds


class PeakRSS:
    """Sample the RSS of some processes every 10 ms in a thread; keep each one's peak.

    (``getrusage``'s ``ru_maxrss`` is inherited across fork+exec on Linux, so a
    child would report its parent's peak: sampling is the honest measure.)
    """

    def __init__(self, pids):
        import psutil

        self.procs = {pid: psutil.Process(pid) for pid in pids}
        self.peak = {pid: p.memory_info().rss for pid, p in self.procs.items()}
        self.baseline = dict(self.peak)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self):
        while not self._stop.is_set():
            for pid, proc in self.procs.items():
                self.peak[pid] = max(self.peak[pid], proc.memory_info().rss)
            time.sleep(0.01)

    def stop(self):
        self._stop.set()
        self._thread.join()
        return self


def _load_rows(path, start, stop):
    return np.array(np.load(path, mmap_mode="r")[start:stop])


def run_mode(mode, path, init_path, max_iter, chunk_rows):
    """Run one mode in this process; return a JSON-able dict."""
    init = dict(np.load(init_path))
    # Compile (or load the cached) kernels before timing.
    warm = np.ascontiguousarray(np.load(path, mmap_mode="r")[:10_000])
    fit_timed(warm, init, 1)
    result = {"mode": mode}
    if mode == "in-memory":
        rss = PeakRSS([os.getpid()])
        t0 = time.perf_counter()
        X = np.load(path)
        result["load_seconds"] = time.perf_counter() - t0
        gm, seconds = fit_timed(X, init, max_iter)
    elif mode == "memmap":
        rss = PeakRSS([os.getpid()])
        gm, seconds = fit_timed(np.load(path, mmap_mode="r"), init, max_iter)
    else:  # dask on a 2-worker LocalCluster, data persisted in the workers' memory
        import dask
        import dask.array as da
        from distributed import Client, LocalCluster, wait

        n_samples = np.load(path, mmap_mode="r").shape[0]
        with (
            LocalCluster(
                n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
            ) as cluster,
            Client(cluster) as client,
        ):
            blocks = [
                da.from_delayed(
                    dask.delayed(_load_rows)(path, a, min(a + chunk_rows, n_samples)),
                    shape=(min(a + chunk_rows, n_samples) - a, N_FEATURES),
                    dtype=np.float64,
                )
                for a in range(0, n_samples, chunk_rows)
            ]
            client.run(lambda: fit_timed(warm, init, 1))  # compile on the workers
            workers = sorted(client.run(os.getpid).values())
            rss = PeakRSS([os.getpid(), *workers])
            X = da.concatenate(blocks).persist()
            wait(X)
            gm, seconds = fit_timed(X, init, max_iter)
            rss.stop()
            result["worker_baseline_rss_bytes"] = [rss.baseline[p] for p in workers]
            result["worker_peak_rss_bytes"] = [rss.peak[p] for p in workers]
    rss.stop()
    result.update(
        fit_seconds=seconds,
        n_iter=gm.n_iter_,
        seconds_per_iteration=seconds / gm.n_iter_,
        lower_bound=gm.lower_bound_,
        baseline_rss_bytes=rss.baseline[os.getpid()],
        peak_rss_bytes=rss.peak[os.getpid()],
        load_average=os.getloadavg()[0],
    )
    return result


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-samples", type=int, default=20_000_000)
    parser.add_argument("--max-iter", type=int, default=5)
    parser.add_argument("--chunk-rows", type=int, default=500_000)
    parser.add_argument("--dir", default=tempfile.gettempdir())
    parser.add_argument("--modes", default="in-memory,memmap,dask")
    parser.add_argument("--run", help=argparse.SUPPRESS)  # internal: one mode per process
    parser.add_argument("--path", help=argparse.SUPPRESS)
    parser.add_argument("--init", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.run:
        result = run_mode(args.run, args.path, args.init, args.max_iter, args.chunk_rows)
        sys.stdout.write(json.dumps(result) + "\n")
        return
    workdir = tempfile.mkdtemp(dir=args.dir)
    path = os.path.join(workdir, "X.npy")
    init_path = os.path.join(workdir, "init.npz")
    try:
        t0 = time.perf_counter()
        size = write_data(path, args.n_samples)
        sys.stdout.write(f"wrote {size / 1e9:.2f} GB in {time.perf_counter() - t0:.1f} s\n")
        np.savez(init_path, **initial_parameters(np.load(path, mmap_mode="r")))
        for mode in args.modes.split(","):
            cmd = [sys.executable, __file__, "--run", mode, "--path", path, "--init", init_path]
            cmd += ["--max-iter", str(args.max_iter), "--chunk-rows", str(args.chunk_rows)]
            out = subprocess.run(cmd, capture_output=True, text=True, check=True)
            sys.stdout.write(out.stdout.strip().splitlines()[-1] + "\n")
            sys.stdout.flush()
    finally:
        for p in (path, init_path):
            if os.path.exists(p):
                os.unlink(p)
        os.rmdir(workdir)


# --------------------------------------------------------------------------- smoke benchmarks
@pytest.fixture(scope="module")
def data_file(tmp_path_factory):
    path = str(tmp_path_factory.mktemp("scaleout") / "X.npy")
    write_data(path, 200_000)
    X = np.load(path, mmap_mode="r")
    return path, initial_parameters(X)


@pytest.mark.parametrize("mode", ["in-memory", "memmap", "dask-threads"])
def test_em_iterations(benchmark, data_file, mode):
    path, init = data_file
    benchmark.group = "3 EM iterations, N=200k, D=8, K=8, full, same init"
    if mode == "in-memory":
        X = np.load(path)
    elif mode == "memmap":
        X = np.load(path, mmap_mode="r")
    else:
        da = pytest.importorskip("dask.array")
        X = da.from_array(np.load(path), chunks=(25_000, N_FEATURES))
    fit_timed(np.load(path)[:5000], init, 1)  # warm up the JIT
    gm, _ = benchmark(fit_timed, X, init, 3)
    benchmark.extra_info["lower_bound"] = gm.lower_bound_
    ref, _ = fit_timed(np.load(path), init, 3)
    np.testing.assert_allclose(gm.lower_bound_, ref.lower_bound_, rtol=1e-10)


if __name__ == "__main__":
    main()
