"""Cached parallel kernels stay correct when the thread count changes (shared/STYLE.md 4).

Older Numba releases had cache bugs with parallel kernels when the number of
threads changed between processes (numba#4807, pynndescent PR #175). Here one
process compiles and caches the kernels while fitting with 2 threads; a second
process loads them from the same (temporary) cache directory and fits with 1
thread. Both fits must agree, and match the pure-NumPy twin.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest

SCRIPT = r"""
import json, sys
import numba, numpy as np
from fastgmm import GaussianMixture
threads = int(sys.argv[1])
numba.set_num_threads(min(threads, numba.config.NUMBA_NUM_THREADS))
rng = np.random.default_rng(7)
X = np.concatenate([rng.normal(-3, 1, (3000, 2)), rng.normal(3, 1, (3000, 2))])
out = {}
for cov in ("full", "diag"):
    for backend in ("numba", "numpy"):
        gm = GaussianMixture(2, covariance_type=cov, random_state=0, backend=backend).fit(X)
        out[cov + "/" + backend] = {
            "means": gm.means_.tolist(), "lower_bound": gm.lower_bound_,
            "score": gm.score(X), "n_iter": gm.n_iter_,
        }
from fastgmm._kernels import suffstats
out["cached_disk"] = [
    str(k) for k in suffstats.suffstats_full_parallel.stats.cache_hits.keys()
]
print(json.dumps(out))
"""


def _run(threads, cache_dir):
    env = dict(os.environ, NUMBA_CACHE_DIR=str(cache_dir), FASTGMM_CACHE="1")
    env.pop("NUMBA_DISABLE_JIT", None)
    proc = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(threads)],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


@pytest.mark.slow
def test_cache_written_with_two_threads_is_right_with_one(tmp_path):
    first = _run(2, tmp_path)
    files = [p for p in tmp_path.rglob("*") if p.suffix in (".nbi", ".nbc")]
    assert files, "the first process wrote no cache files"
    second = _run(1, tmp_path)
    # The second process loaded the parallel driver from disk rather than compiling it.
    assert second["cached_disk"], "suffstats_full_parallel was not loaded from the cache"
    for cov in ("full", "diag"):
        a, b = first[f"{cov}/numba"], second[f"{cov}/numba"]
        ref = first[f"{cov}/numpy"]
        assert a["n_iter"] == b["n_iter"] == ref["n_iter"]
        np.testing.assert_allclose(a["means"], b["means"], rtol=1e-12, atol=1e-12)
        assert a["lower_bound"] == pytest.approx(b["lower_bound"], rel=1e-12)
        np.testing.assert_allclose(a["means"], ref["means"], rtol=1e-10, atol=1e-10)
        assert a["lower_bound"] == pytest.approx(ref["lower_bound"], rel=1e-10)
        assert b["score"] == pytest.approx(ref["score"], rel=1e-10)
