"""Project contracts that a grep can check (shared/STYLE.md section 4)."""

from __future__ import annotations

import pathlib
import re
import subprocess
import sys

PKG = pathlib.Path(__file__).resolve().parents[1] / "fastgmm"


def test_numba_options_only_in_jit_helper():
    """No kernel spells a Numba option itself: everything goes through _kernels/_jit.py."""
    pattern = re.compile(r"\b(fastmath|cache|error_model|nogil)\s*=|numba\.njit|@njit|numba\.jit\(")
    offenders = []
    for path in PKG.rglob("*.py"):
        if path.name == "_jit.py":
            continue
        for lineno, line in enumerate(path.read_text().splitlines(), 1):
            if pattern.search(line) and not line.lstrip().startswith("#"):
                offenders.append(f"{path.relative_to(PKG)}:{lineno}: {line.strip()}")
    assert not offenders, "\n".join(offenders)


def test_fastmath_never_allows_nan_or_inf_assumptions():
    from fastgmm._kernels import _jit

    flags = _jit.FASTMATH
    assert flags is False or not ({"nnan", "ninf", "fast"} & set(flags))


def test_import_compiles_nothing():
    """`import fastgmm` triggers no Numba compilation (kernels compile on first use)."""
    code = (
        "import importlib, importlib.util, pkgutil, fastgmm, fastgmm._kernels as k\n"
        "if importlib.util.find_spec('fastgmm.kernels'): import fastgmm.kernels\n"
        "mods = [importlib.import_module('fastgmm._kernels.' + m.name)"
        " for m in pkgutil.iter_modules(k.__path__)]\n"
        "n = sum(len(getattr(f, 'overloads', ())) for m in mods for f in vars(m).values())\n"
        "print(n)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "0"


def test_reference_twin_never_imports_kernels():
    src = (PKG / "_reference.py").read_text()
    assert "_kernels" not in re.sub(r'""".*?"""', "", src, flags=re.S).replace(
        "fastgmm._kernels", ""
    )
