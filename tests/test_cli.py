import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import fastgmm
from fastgmm import cli
from fastgmm.io import load_metadata, load_model

COMMANDS = ["fit", "predict", "select", "sample", "demo", "bench"]


@pytest.fixture(scope="module")
def blobs():
    rng = np.random.default_rng(0)
    X = np.vstack([rng.normal([0, 0, 10], 0.5, (40, 3)), rng.normal([5, 5, 20], 0.5, (40, 3))])
    y = np.repeat([0, 1], 40)
    return X, y


def write_csv(path, X, header=("a", "b", "c"), extra=None):
    lines = [",".join(header)] if header else []
    for i, row in enumerate(X):
        fields = [repr(float(v)) for v in row]
        if extra is not None:
            fields.append(extra[i])
        lines.append(",".join(fields))
    path.write_text("\n".join(lines) + "\n")
    return path


def run(capsys, *argv):
    code = cli.main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def read_labels(text):
    lines = text.strip().splitlines()
    assert lines[0] == "label"
    return np.array([int(v) for v in lines[1:]])


def test_fit_predict_roundtrip(tmp_path, capsys, blobs):
    X, y = blobs
    data = write_csv(tmp_path / "data.csv", X)
    model, labels = tmp_path / "m.npz", tmp_path / "labels.csv"
    code, out, err = run(capsys, "fit", data, "-k", 2, "-o", model, "--labels", labels)
    assert code == 0, err
    assert "converged: True" in out and f"model saved to {model}" in out
    fitted = read_labels(labels.read_text())
    assert len(fitted) == 80 and len(set(fitted[:40])) == 1 and fitted[0] != fitted[-1]

    code, out, err = run(capsys, "predict", model, data)
    assert code == 0, err
    np.testing.assert_array_equal(read_labels(out), fitted)

    code, out, err = run(capsys, "predict", model, data, "--proba")
    assert code == 0, err
    lines = out.strip().splitlines()
    assert lines[0] == "p0,p1"
    proba = np.array([[float(v) for v in line.split(",")] for line in lines[1:]])
    assert proba.shape == (80, 2)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=1e-5)
    np.testing.assert_array_equal(proba.argmax(axis=1), fitted)


def test_fit_options_reach_the_model(tmp_path, capsys, blobs):
    data = write_csv(tmp_path / "data.csv", blobs[0])
    model = tmp_path / "m.npz"
    code, _, err = run(
        capsys,
        "fit",
        data,
        "-k",
        2,
        "-o",
        model,
        "--covariance-type",
        "diag",
        "--n-init",
        2,
        "--max-iter",
        50,
        "--random-state",
        7,
        "--backend",
        "numpy",
        "--columns",
        "a,c",
    )
    assert code == 0, err
    gm = load_model(model)
    params = gm.get_params()
    assert params["covariance_type"] == "diag" and params["n_init"] == 2
    assert params["max_iter"] == 50 and params["random_state"] == 7
    assert params["backend"] == "numpy"
    assert gm.n_features_in_ == 2
    assert load_metadata(model)["columns"].tolist() == ["a", "c"]


def test_standardize_is_stored_and_applied(tmp_path, capsys, blobs):
    X, _ = blobs
    data = write_csv(tmp_path / "data.csv", X)
    model, labels = tmp_path / "m.npz", tmp_path / "labels.csv"
    code, _, err = run(
        capsys, "fit", data, "-k", 2, "--standardize", "-o", model, "--labels", labels
    )
    assert code == 0, err
    meta = load_metadata(model)
    np.testing.assert_allclose(meta["standardize_mean"], X.mean(axis=0))
    np.testing.assert_allclose(meta["standardize_scale"], X.std(axis=0))
    gm = load_model(model)
    # The model lives in z-score units...
    assert np.abs(gm.means_).max() < 3
    # ...and predict applies the same transform to raw data.
    code, out, _ = run(capsys, "predict", model, data)
    np.testing.assert_array_equal(read_labels(out), read_labels(labels.read_text()))
    # sample returns points in the original units.
    code, out, _ = run(capsys, "sample", model, "-n", 400, "--random-state", 0)
    assert code == 0
    lines = out.strip().splitlines()
    assert lines[0] == "a,b,c"
    S = np.array([[float(v) for v in line.split(",")] for line in lines[1:]])
    assert S.shape == (400, 3)
    np.testing.assert_allclose(S.mean(axis=0), X.mean(axis=0), atol=1.0)


def test_predict_selects_saved_columns_by_name(tmp_path, capsys, blobs):
    X, _ = blobs
    model = tmp_path / "m.npz"
    run(capsys, "fit", write_csv(tmp_path / "d.csv", X), "-k", 2, "-o", model, "--columns", "b,c")
    # New file: columns in another order plus an extra one.
    shuffled = write_csv(tmp_path / "new.csv", X[:, [2, 0, 1]], header=("c", "a", "b"))
    code, out, err = run(capsys, "predict", model, shuffled)
    assert code == 0, err
    expected = load_model(model).predict(X[:, [1, 2]])
    np.testing.assert_array_equal(read_labels(out), expected)


def test_sample_with_labels_and_output_file(tmp_path, capsys, blobs):
    model = tmp_path / "m.npz"
    run(capsys, "fit", write_csv(tmp_path / "d.csv", blobs[0]), "-k", 2, "-o", model)
    out_file = tmp_path / "s.csv"
    code, out, err = run(
        capsys, "sample", model, "-n", 25, "--with-labels", "-o", out_file, "--random-state", 1
    )
    assert code == 0 and out == "", err
    lines = out_file.read_text().strip().splitlines()
    assert lines[0] == "a,b,c,label" and len(lines) == 26
    assert {line.split(",")[-1] for line in lines[1:]} <= {"0", "1"}
    # Same seed, same draw.
    run(
        capsys,
        "sample",
        model,
        "-n",
        25,
        "--with-labels",
        "-o",
        tmp_path / "t.csv",
        "--random-state",
        1,
    )
    assert (tmp_path / "t.csv").read_text() == out_file.read_text()


def test_headerless_csv_npy_and_whitespace(tmp_path, capsys, blobs):
    X, _ = blobs
    for name, writer in (
        ("plain.csv", lambda p: write_csv(p, X, header=None)),
        ("arr.npy", lambda p: np.save(p, X)),
        ("ws.txt", lambda p: p.write_text("\n".join(" ".join(map(str, r)) for r in X))),
    ):
        path = tmp_path / name
        writer(path)
        code, out, err = run(capsys, "fit", path, "-k", 2, "-o", tmp_path / f"{name}.npz")
        assert code == 0, (name, err)
        assert "80 rows x 3 columns: x0, x1, x2" in out
        code, out, err = run(capsys, "predict", tmp_path / f"{name}.npz", path)
        assert code == 0 and len(read_labels(out)) == 80, (name, err)


def test_text_column_is_dropped_with_a_note(tmp_path, capsys, blobs):
    X, y = blobs
    species = ["small" if v == 0 else "big" for v in y]
    data = write_csv(tmp_path / "d.csv", X, header=("a", "b", "c", "kind"), extra=species)
    code, out, err = run(capsys, "fit", data, "-k", 2, "-o", tmp_path / "m.npz")
    assert code == 0
    assert "ignoring non-numeric column(s): kind" in err
    assert "columns: a, b, c" in out


def test_select_table_marks_best_and_draws(tmp_path, capsys, blobs):
    data = write_csv(tmp_path / "d.csv", blobs[0])
    png = tmp_path / "sel.png"
    code, out, err = run(
        capsys, "select", data, "--k", "1..4", "--covariance-type", "all", "--plot", png
    )
    assert code == 0, err
    rows = [line for line in out.splitlines() if line.strip()[:1].isdigit()]
    assert len(rows) == 4 * 4
    bic = {(r.split()[0], r.split()[1]): float(r.split()[2]) for r in rows}
    best = min(bic, key=bic.get)
    marked = [r for r in rows if "BIC" in r.split("*")[-1] and "*" in r]
    assert len(marked) == 1 and marked[0].split()[:2] == list(best)
    assert best[0] == "2"  # two well separated blobs
    assert f"best by BIC: k=2, covariance_type='{best[1]}'" in out
    if _have_matplotlib():
        assert png.exists() and png.stat().st_size > 1000
    code, out, _ = run(
        capsys, "select", data, "--k", "2,3", "--no-plot", "--plot", tmp_path / "no.png"
    )
    assert code == 0 and not (tmp_path / "no.png").exists()
    assert len([line for line in out.splitlines() if line.strip()[:1].isdigit()]) == 2


def _have_matplotlib():
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        return False
    return True


def test_demo_prints_accuracy_table_and_parameters(tmp_path, capsys):
    code, out, err = run(capsys, "demo", "--no-plots", "--out", tmp_path / "pics")
    assert code == 0, err
    em = next(line for line in out.splitlines() if line.strip().startswith("EM:"))
    km = next(line for line in out.splitlines() if line.strip().startswith("k-means:"))
    em_acc, km_acc = float(em.split()[-2]), float(km.split()[-2])
    # The seeds' homework: EM about 0.97, k-means about 0.89 on raw Iris.
    assert em_acc == pytest.approx(0.97, abs=0.02)
    assert km_acc == pytest.approx(0.89, abs=0.02)
    assert em_acc > km_acc
    assert em.split()[-1] == f"{round(em_acc * 150)}/150"
    assert "component 0 ~ setosa" in out and "covariance" in out
    assert "1-D lecture example 'two'" in out and "1-D lecture example 'three'" in out
    assert not (tmp_path / "pics").exists()


def test_demo_writes_pictures(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    out_dir = tmp_path / "pics"
    code, out, err = run(capsys, "demo", "--out", out_dir, "--standardize")
    assert code == 0, err
    assert "z-scored features" in out
    names = sorted(p.name for p in out_dir.iterdir())
    assert names == sorted(
        [
            "iris_species_kmeans_em.png",
            "iris_pairs_em.png",
            "iris_convergence.png",
            "iris_bic_aic.png",
            "lecture_1d_two.png",
            "lecture_1d_three.png",
        ]
    )
    assert all((out_dir / n).stat().st_size > 5000 for n in names)


def test_demo_without_matplotlib_says_so(tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    code, out, err = run(capsys, "demo", "--out", tmp_path / "pics")
    assert code == 0
    assert "matplotlib is not installed" in err and "pip install fastgmm[plot]" in err
    assert not (tmp_path / "pics").exists()


def test_bench_small(capsys):
    code, out, err = run(
        capsys, "bench", "--sizes", "300x2x2,500x3x3", "--repeat", 1, "--max-iter", 3
    )
    assert code == 0, err
    assert "cores (logical)" in out and "numba threads" in out
    table = [line for line in out.splitlines() if line.split()[:1] in (["300"], ["500"])]
    assert len(table) == 2
    assert "fastgmm numpy" in out and "numpy/numba" in out and "first numba fit" in out
    assert out.count(" ms") >= 4


# ----------------------------------------------------------------------- errors


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("", "data file is empty"),
        ("\n\n", "data file is empty"),
        ("a,b\n", "no data rows"),
        ("a,b\n1,2\n3\n", "line 3 has 1 fields, expected 2 (ragged file)"),
        ("a,b\n1,2\n3,x\n", "column 'b' has a non-numeric value at line 3: 'x'"),
        ("a,b\n1,2\n3,\n", "missing value at line 3, column 'b'"),
        ("a,b\n1,2\n3,nan\n", "non-finite value at line 3, column 'b'"),
        ("a,a\n1,2\n", "duplicate column names a"),
        ("name\nx\ny\n", "no numeric columns"),
    ],
)
def test_bad_csv_files(tmp_path, capsys, content, message):
    path = tmp_path / "bad.csv"
    path.write_text(content)
    code, out, err = run(capsys, "fit", path, "-k", 1, "-o", tmp_path / "m.npz")
    assert code == 1
    assert message in err
    assert err.startswith("fastgmm: error:") and err.count("\n") == 1
    assert not (tmp_path / "m.npz").exists()


def test_missing_binary_and_directory_inputs(tmp_path, capsys):
    code, _, err = run(capsys, "fit", tmp_path / "nope.csv", "-k", 2, "-o", tmp_path / "m.npz")
    assert code == 1 and "data file not found" in err
    code, _, err = run(capsys, "fit", tmp_path, "-k", 2, "-o", tmp_path / "m.npz")
    assert code == 1 and "is a directory" in err
    (tmp_path / "bin.csv").write_bytes(b"\xff\xfe\x00\x81" * 10)
    code, _, err = run(capsys, "fit", tmp_path / "bin.csv", "-k", 2, "-o", tmp_path / "m.npz")
    assert code == 1 and "not a UTF-8 text file" in err
    np.save(tmp_path / "s.npy", np.array(["a", "b"]))
    code, _, err = run(capsys, "fit", tmp_path / "s.npy", "-k", 1, "-o", tmp_path / "m.npz")
    assert code == 1 and "is not numeric" in err
    np.save(tmp_path / "e.npy", np.zeros((0, 3)))
    code, _, err = run(capsys, "fit", tmp_path / "e.npy", "-k", 1, "-o", tmp_path / "m.npz")
    assert code == 1 and "empty" in err


def test_parquet_needs_pyarrow(tmp_path, capsys):
    try:
        import pyarrow  # noqa: F401
    except ImportError:
        path = tmp_path / "d.parquet"
        path.write_bytes(b"PAR1")
        code, _, err = run(capsys, "fit", path, "-k", 1, "-o", tmp_path / "m.npz")
        assert code == 1 and "needs pyarrow: pip install pyarrow" in err
    else:
        import pyarrow as pa
        import pyarrow.parquet as pq

        path = tmp_path / "d.parquet"
        pq.write_table(pa.table({"a": [1.0, 2.0, 3.0, 4.0], "b": [0.0, 1.0, 0.5, 2.0]}), path)
        code, out, err = run(capsys, "fit", path, "-k", 1, "-o", tmp_path / "m.npz")
        assert code == 0 and "columns: a, b" in out, err


@pytest.mark.parametrize(
    ("columns", "message"),
    [
        ("a,zzz", "unknown column 'zzz'"),
        ("0,7", "column index 7 out of range"),
        ("a,a", "selected twice"),
        ("a,kind", "column 'kind' is not numeric"),
    ],
)
def test_bad_columns(tmp_path, capsys, blobs, columns, message):
    X, y = blobs
    data = write_csv(
        tmp_path / "d.csv", X, header=("a", "b", "c", "kind"), extra=[str(v) + "x" for v in y]
    )
    code, _, err = run(capsys, "fit", data, "-k", 2, "-o", tmp_path / "m.npz", "--columns", columns)
    assert code == 1 and message in err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["fit", "d.csv", "-k", "0", "-o", "m.npz"], "expected a positive integer"),
        (["fit", "d.csv", "-k", "two", "-o", "m.npz"], "expected a positive integer"),
        (["fit", "d.csv", "-k", "2"], "required: -o/--output"),
        (["fit", "d.csv", "-k", "2", "-o", "m.npz", "--covariance-type", "big"], "invalid choice"),
        (["fit", "d.csv", "-k", "2", "-o", "m.npz", "--tol", "-1"], "non-negative"),
        (["select", "d.csv", "--k", "5..2"], "empty range"),
        (["select", "d.csv", "--k", "0..3"], "at least 1"),
        (["select", "d.csv", "--k", "a..b"], "use e.g. 1..10"),
        (["bench", "--sizes", "10x2"], "bad --sizes entry"),
        (["bench", "--sizes", "2x2x5"], "need N >= K"),
        (["frobnicate"], "invalid choice"),
        ([], "required: COMMAND"),
        (["fit", "d.csv", "-k", "500", "-o", "m.npz"], "more than the 80 rows"),
    ],
)
def test_bad_options_exit_2(tmp_path, capsys, monkeypatch, blobs, argv, message):
    write_csv(tmp_path / "d.csv", blobs[0])
    monkeypatch.chdir(tmp_path)
    code, out, err = run(capsys, *argv)
    assert code == 2
    assert message in err
    assert not (tmp_path / "m.npz").exists()


def test_bad_model_files(tmp_path, capsys, blobs):
    data = write_csv(tmp_path / "d.csv", blobs[0])
    code, _, err = run(capsys, "predict", tmp_path / "none.npz", data)
    assert code == 1 and "model file not found" in err
    code, _, err = run(capsys, "predict", data, data)
    assert code == 1 and "not a fastgmm model file" in err
    code, _, err = run(capsys, "sample", data, "-n", 3)
    assert code == 1 and "not a fastgmm model file" in err
    from fastgmm import KMeans
    from fastgmm.io import save_model

    save_model(KMeans(2, random_state=0).fit(blobs[0]), tmp_path / "k.npz")
    code, _, err = run(capsys, "sample", tmp_path / "k.npz", "-n", 3)
    assert code == 1 and "holds a KMeans, not a GaussianMixture" in err
    # A model fitted on 3 columns cannot label 2.
    model = tmp_path / "m.npz"
    run(capsys, "fit", data, "-k", 2, "-o", model)
    two = write_csv(tmp_path / "two.csv", blobs[0][:, :2], header=("p", "q"))
    code, _, err = run(capsys, "predict", model, two)
    assert code == 1 and "the model expects 3 columns" in err


def test_unwritable_output(tmp_path, capsys, blobs):
    data = write_csv(tmp_path / "d.csv", blobs[0])
    model = tmp_path / "m.npz"
    run(capsys, "fit", data, "-k", 2, "-o", model)
    code, _, err = run(capsys, "predict", model, data, "-o", tmp_path / "no" / "such" / "x.csv")
    assert code == 1 and "cannot write" in err


@pytest.mark.parametrize("command", COMMANDS)
def test_help_has_an_example(capsys, command):
    code, out, _ = run(capsys, command, "--help")
    assert code == 0
    assert "example:" in out and f"fastgmm {command}" in out


def test_main_help_lists_commands(capsys):
    code, out, _ = run(capsys, "--help")
    assert code == 0
    for command in COMMANDS:
        assert command in out
    assert "exit status" in out


# ------------------------------------------------------------ real subprocesses


def _env():
    env = dict(os.environ)
    root = str(Path(fastgmm.__file__).resolve().parent.parent)
    env["PYTHONPATH"] = root + os.pathsep + env.get("PYTHONPATH", "")
    return env


def test_python_m_fastgmm_end_to_end(tmp_path, blobs):
    data = write_csv(tmp_path / "d.csv", blobs[0])
    fit = subprocess.run(
        # The NumPy backend keeps this child process free of JIT compilation.
        [sys.executable, "-m", "fastgmm", "fit", str(data), "-k", "2", "-o", "m.npz"]
        + ["--backend", "numpy"],
        cwd=tmp_path,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert fit.returncode == 0, fit.stderr
    predict = subprocess.run(
        [sys.executable, "-m", "fastgmm", "predict", "m.npz", str(data)],
        cwd=tmp_path,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert predict.returncode == 0, predict.stderr
    assert len(read_labels(predict.stdout)) == 80


def test_python_m_fastgmm_error_exit_code(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "fastgmm", "predict", "missing.npz", "missing.csv"],
        cwd=tmp_path,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 1
    assert result.stderr.strip() == "fastgmm: error: model file not found: missing.npz"
    assert "Traceback" not in result.stderr
