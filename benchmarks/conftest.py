"""pytest-benchmark set-up: tiny problems by default (smoke tests under
``--benchmark-disable``), the issue's grid with ``FASTGMM_BENCH_FULL=1``.

Run the real grid with::

    FASTGMM_BENCH_FULL=1 python -m pytest benchmarks/ -p no:cacheprovider \
        --benchmark-enable --benchmark-columns=min,median --benchmark-group-by=group
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _problems import numba_threads  # noqa: E402


@pytest.fixture(params=[1, 2], ids=["1thread", "2threads"])
def threads(request):
    """Run a benchmark with 1 and with 2 Numba threads."""
    with numba_threads(request.param):
        yield request.param
