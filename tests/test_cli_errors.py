"""Malformed input files for every CLI command that reads data: one line on stderr, exit 1.

tests/test_cli.py covers the CLI's features and many bad files for ``fit``;
this file runs the malformed-file matrix of issue 7 through ``fit``,
``predict`` and ``select`` alike, plus data the estimator itself rejects.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import fastgmm
from fastgmm import cli

GOOD = "a,b\n" + "\n".join(
    f"{x:.3f},{y:.3f}" for x, y in [(0, 0), (0, 1), (1, 0), (5, 5), (5, 6), (6, 5)]
)


@pytest.fixture(scope="module")
def model_path(tmp_path_factory):
    d = tmp_path_factory.mktemp("model")
    data = d / "good.csv"
    data.write_text(GOOD + "\n")
    code = cli.main(["fit", str(data), "-k", "2", "-o", str(d / "m.npz"), "--random-state", "0"])
    assert code == 0
    return d / "m.npz"


def _argv(command, data, tmp_path, model_path):
    if command == "fit":
        return ["fit", data, "-k", "1", "-o", tmp_path / "out.npz"]
    if command == "predict":
        return ["predict", model_path, data]
    return ["select", data, "--k", "1", "--no-plot"]


def _run(capsys, argv):
    code = cli.main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def _assert_one_line_error(code, err, *words):
    assert code == 1, err
    assert err.startswith("fastgmm: error:"), err
    assert err.count("\n") == 1, err  # exactly one line
    assert "Traceback" not in err
    for word in words:
        assert word in err, (word, err)


MALFORMED = {
    "ragged: too many fields": ("a,b\n1,2\n3,4,5\n", ["line 3 has 3 fields, expected 2"]),
    "ragged: too few fields": ("a,b\n1,2\n3\n", ["line 3 has 1 fields, expected 2"]),
    "ragged TSV": ("a\tb\n1\t2\n3\t4\t5\n", ["ragged file"]),
    "text in a numeric column": ("a,b\n1,2\n3,oops\n", ["column 'b'", "non-numeric", "'oops'"]),
    "text in first data row": ("a,b\nx,2\n3,4\n", ["column 'a'", "non-numeric", "'x'"]),
    "empty file": ("", ["data file is empty"]),
    "blank lines only": ("\n  \n\n", ["empty"]),
    "header only": ("a,b\n", ["no data rows"]),
    "missing value": ("a,b\n1,2\n,4\n", ["missing value at line 3"]),
    "infinity": ("a,b\n1,2\ninf,4\n", ["non-finite value at line 3"]),
}


@pytest.mark.parametrize("command", ["fit", "predict", "select"])
@pytest.mark.parametrize("case", list(MALFORMED))
def test_malformed_csv(tmp_path, capsys, model_path, command, case):
    content, words = MALFORMED[case]
    path = tmp_path / "bad.csv"
    path.write_text(content)
    code, out, err = _run(capsys, _argv(command, path, tmp_path, model_path))
    _assert_one_line_error(code, err, *words)
    assert not (tmp_path / "out.npz").exists()


@pytest.mark.parametrize("command", ["fit", "predict", "select"])
def test_missing_file(tmp_path, capsys, model_path, command):
    missing = tmp_path / "does-not-exist.csv"
    code, _, err = _run(capsys, _argv(command, missing, tmp_path, model_path))
    _assert_one_line_error(code, err, "data file not found", "does-not-exist.csv")


def test_missing_model_file(tmp_path, capsys):
    data = tmp_path / "good.csv"
    data.write_text(GOOD + "\n")
    code, _, err = _run(capsys, ["predict", tmp_path / "nope.npz", data])
    _assert_one_line_error(code, err, "nope.npz")


@pytest.mark.parametrize(
    ("make", "words"),
    [
        (lambda p: p.write_bytes(b"this is not a numpy file"), ["npy"]),
        (lambda p: np.save(p, np.zeros((2, 2, 2))), ["2-D"]),
        (lambda p: np.save(p, np.array([[1.0, np.nan], [2.0, 3.0]])), ["non-finite"]),
    ],
    ids=["not-npy", "3-D", "nan"],
)
def test_malformed_npy(tmp_path, capsys, make, words):
    path = tmp_path / "bad.npy"
    make(path)
    code, _, err = _run(capsys, ["fit", path, "-k", "1", "-o", tmp_path / "m.npz"])
    assert code == 1 and err.startswith("fastgmm: error:") and err.count("\n") == 1, err
    assert any(w in err for w in words), err


def test_one_dimensional_npy_is_one_column(tmp_path, capsys):
    path = tmp_path / "one.npy"
    np.save(path, np.array([0.0, 0.1, 0.3, 5.0, 5.2]))
    code, out, err = _run(capsys, ["fit", path, "-k", "1", "-o", tmp_path / "m.npz"])
    assert code == 0, err
    assert "5 rows x 1 columns" in out


def test_data_the_estimator_rejects_is_one_line(tmp_path, capsys):
    path = tmp_path / "huge.csv"
    path.write_text("a,b\n1e200,2e200\n3e200,-1e200\n5e200,0\n")
    code, _, err = _run(capsys, ["fit", path, "-k", "1", "-o", tmp_path / "m.npz"])
    _assert_one_line_error(code, err, "cannot fit", "overflow float64", "Rescale X")


def test_tiny_data_is_fitted_with_a_warning_note(tmp_path, capsys):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(30, 2)) * 1e-6
    path = tmp_path / "tiny.csv"
    path.write_text("a,b\n" + "\n".join(f"{float(x)!r},{float(y)!r}" for x, y in X) + "\n")
    code, _, err = _run(capsys, ["fit", path, "-k", "1", "-o", tmp_path / "m.npz"])
    assert code == 0
    assert "warning: reg_covar=1e-06 is at least the variance" in err
    assert (tmp_path / "m.npz").exists()


def test_exit_status_through_the_real_entry_point(tmp_path):
    path = tmp_path / "ragged.csv"
    path.write_text("a,b\n1,2\n3,4,5\n")
    root = str(Path(fastgmm.__file__).resolve().parents[1])
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH")) if p)
    proc = subprocess.run(
        [sys.executable, "-m", "fastgmm", "fit", str(path), "-k", "1", "-o", str(tmp_path / "m")],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert proc.returncode == 1
    assert proc.stderr.count("\n") == 1 and "ragged file" in proc.stderr
    assert "Traceback" not in proc.stderr
