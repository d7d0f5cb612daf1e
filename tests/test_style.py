"""Project contracts that a grep can check (shared/STYLE.md section 4)."""

from __future__ import annotations

import ast
import pathlib
import re
import subprocess
import sys

PKG = pathlib.Path(__file__).resolve().parents[1] / "fastgmm"


def _numba_option_uses(tree):
    """Calls of numba.njit/jit/vectorize or with numba option keywords (code, not docstrings)."""
    names = {"njit", "jit", "vectorize", "guvectorize", "generated_jit"}
    options = {"fastmath", "cache", "error_model", "nogil", "boundscheck"}
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        attr = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
        base = (
            func.value.id
            if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name)
            else None
        )
        numba_decorator = attr in names and (base == "numba" or (base is None and attr != "jit"))
        if numba_decorator:
            yield node.lineno
        elif any(kw.arg in options for kw in node.keywords):
            yield node.lineno


def test_numba_options_only_in_jit_helper():
    """No kernel spells a Numba option itself: everything goes through _kernels/_jit.py."""
    offenders = []
    for path in PKG.rglob("*.py"):
        if path.name == "_jit.py":
            continue
        tree = ast.parse(path.read_text())
        offenders += [f"{path.relative_to(PKG)}:{n}" for n in _numba_option_uses(tree)]
    # fastgmm's own helper is called `jit` (imported from _jit): plain `@jit` is allowed.
    assert not offenders, offenders


def test_fastmath_never_allows_nan_or_inf_assumptions():
    from fastgmm._kernels import _jit

    for flags in (_jit.FASTMATH, _jit.FASTMATH_REDUCTIONS, _jit.FASTMATH_CONTRACT):
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
