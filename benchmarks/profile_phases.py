"""Cumulative time of the fused pass's phases, 1 thread, full covariance.

Usage: ``python benchmarks/profile_phases.py 200000x32x16 [float32]``. Runs the
block loop of ``suffstats_full`` (pruned blocks of ``pruned_block_rows`` rows
throughout, from 8 features on) stopping after load / log-densities / log-sum-exp /
statistics and prints the cumulative and incremental times (ms).
"""

import os
import sys
import time

import numba
import numpy as np

R = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, R)
sys.path.insert(0, R + "/benchmarks")
from _problems import make_problem  # noqa: E402

from fastgmm._kernels import _blocked as B  # noqa: E402
from fastgmm._kernels import _blocked_resp as BR  # noqa: E402
from fastgmm._kernels import _blocked_stats as S  # noqa: E402
from fastgmm._kernels import _prune  # noqa: E402
from fastgmm._kernels._jit import jit  # noqa: E402
from fastgmm._kernels.suffstats import (  # noqa: E402
    PRUNE_MIN_FEATURES,
    STRIDE_PAD,
    pruned_block_rows,
)

n, d, k = map(int, sys.argv[1].split("x"))
dt = np.dtype(sys.argv[2]) if len(sys.argv) > 2 else np.dtype("float64")
X, w, m = make_problem(n, d, k, dt)
if os.environ.get("FASTGMM_PROFILE_PREC"):
    # Synthetic factors: FASTGMM_PROFILE_PREC scales unit precisions (0.5 widens
    # every component, so less is pruned).
    rng = np.random.default_rng(1)
    prec = float(os.environ["FASTGMM_PROFILE_PREC"])
    pc = np.ascontiguousarray(
        np.repeat(np.eye(d)[None], k, 0) * prec + np.triu(rng.normal(scale=0.05, size=(k, d, d)), 1)
    )
else:
    # The state after two EM iterations from the benchmarks' start (what a fit sees).
    import warnings

    from fastgmm import GaussianMixture

    gm = GaussianMixture(
        k,
        max_iter=2,
        tol=0.0,
        weights_init=w,
        means_init=m,
        precisions_init=np.repeat(np.eye(d)[None], k, 0),
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        gm.fit(X)
    w, m, pc = gm.weights_, gm.means_, np.ascontiguousarray(gm.precisions_cholesky_)


@jit
def run(X, w, m, pc, phase):
    n, D = X.shape
    K = m.shape[0]
    block = pruned_block_rows(K, D, X.itemsize) if D >= PRUNE_MIN_FEATURES else B.block_rows_for(D)
    nbuf = block + STRIDE_PAD
    const = np.empty(K)
    B.const_full(pc, np.log(w), const)
    shift = m.astype(X.dtype)
    fac = pc.astype(X.dtype)
    XT = np.empty((D, nbuf), X.dtype)
    dT = np.empty((D, nbuf), X.dtype)
    kr = np.empty((K, nbuf), np.int64)
    kn = np.full(K, -1, np.int64)
    y = np.empty((2, nbuf), X.dtype)
    sq = np.empty(nbuf, X.dtype)
    lpT = np.empty((K, nbuf), X.dtype)  # the dtype of the data, as in the fused pass
    norm = np.empty(nbuf, X.dtype)
    s = np.empty(nbuf, X.dtype)
    e = np.empty(nbuf, X.dtype)
    best = np.empty(nbuf)
    bits = np.empty((2, nbuf), np.int64)
    nk = np.zeros(K)
    sx = np.zeros((K, D))
    sxx = np.zeros((K, D, D))
    sw = np.empty(0)
    eig = np.empty((K, 2))
    work = np.empty((2, D, D))
    for kk in range(K):
        _prune.precision_eig_bounds(pc[kk], work, eig[kk])
    cap = S.sparse_buffer_rows(K, D, block) + STRIDE_PAD
    gd = np.empty((K, D, cap), X.dtype)
    gr = np.empty((K, cap), X.dtype)
    rd = np.empty((D, cap), X.dtype)
    fill = np.zeros(K, np.int64)
    tot = 0.0
    kept = 0
    pruned = D >= PRUNE_MIN_FEATURES  # as the fit does
    for a in range(0, n - block + 1, block):
        nb = block
        B.load_transposed(X, a, nb, XT)
        if phase >= 1:
            if pruned:
                S.flush_rows_full(gd, gr, fill, nb, rd, sx, sxx)
                # fmt: off
                kept += _prune.log_prob_full_pruned_T(
                    XT, nb, m, fac, const, eig, lpT, dT, y, sq, best, kr, kn, gd, fill
                )
                # fmt: on
            else:
                B.log_prob_full_T(XT, nb, shift, fac, const, lpT, dT, y, sq)
        if phase >= 2:
            tot += BR.resp_kept_T(lpT, kr, kn, nb, sw, a, False, norm, s, e, bits)
        if phase >= 3:
            # fmt: off
            S.accumulate_full_T(
                XT, nb, sw, a, lpT, kr, kn, shift, y[0], dT, rd, bits[0], gd, gr, fill, nk, sx,
                sxx
            )
            # fmt: on
    S.flush_rows_full(gd, gr, fill, cap, rd, sx, sxx)
    return kept / (n * K)


PHASES = ["load", "logprob", "resp", "stats"]
numba.set_num_threads(1)
prev = 0
for ph in range(4):
    run(X[:5000], w, m, pc, ph)
    ts = []
    for _ in range(3):
        t0 = time.perf_counter()
        frac = run(X, w, m, pc, ph)
        ts.append(time.perf_counter() - t0)
    t = min(ts) * 1e3
    print(
        f"{sys.argv[1]} {dt} phase {ph} ({PHASES[ph]}): cum {t:.2f} ms, +{t - prev:.2f}"
        + (
            f" (triangular products for {frac:.1%} of the pairs)"
            if ph == 1 and d >= PRUNE_MIN_FEATURES
            else ""
        )
    )
    prev = t
