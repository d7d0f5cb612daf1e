"""The ``fastgmm`` command line: fit, predict, select, sample, demo and bench.

Run ``fastgmm --help`` or ``python -m fastgmm --help``; every command has its own ``--help``
with an example. Exit status: 0 on success, 1 for a bad data or model file, 2 for bad
options (argparse's convention). Errors are one line on stderr starting with ``fastgmm:``.
"""

from __future__ import annotations

import argparse
import os
import sys
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np

from fastgmm._cli_data import DataError, Table, read_table, standardize, write_csv
from fastgmm._select_cli import COVARIANCE_TYPES, best_rows, criterion_table, parse_k_range

__all__ = ["build_parser", "main"]

EXIT_OK, EXIT_DATA, EXIT_USAGE = 0, 1, 2

_MAIN_EPILOG = """\
examples:
  fastgmm demo                                  EM vs k-means on the embedded Iris data
  fastgmm fit data.csv -k 3 --standardize -o model.npz --labels labels.csv
  fastgmm predict model.npz new.csv --proba
  fastgmm select data.csv --k 1..10 --covariance-type all
  fastgmm sample model.npz -n 500 -o samples.csv
  fastgmm bench

exit status: 0 success, 1 bad data or model file, 2 bad options
"""


def _emit(text: str = "") -> None:
    sys.stdout.write(text + "\n")


def _note(text: str) -> None:
    sys.stderr.write(f"fastgmm: {text}\n")


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return value


def _non_negative_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not value >= 0.0:
        raise argparse.ArgumentTypeError(f"expected a non-negative number, got {text!r}")
    return value


def _k_range(text: str) -> list[int]:
    try:
        return parse_k_range(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _add_data_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--columns",
        metavar="COLS",
        help="comma-separated column names or 0-based indices (default: all numeric columns)",
    )
    parser.add_argument(
        "--header",
        choices=("auto", "yes", "no"),
        default="auto",
        help="whether the first CSV line holds column names (default: auto-detect)",
    )


def _add_model_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--n-init", type=_positive_int, default=1, help="initialisations (1)")
    parser.add_argument(
        "--max-iter", type=_positive_int, default=100, help="EM iterations per init (100)"
    )
    parser.add_argument(
        "--random-state", type=int, default=0, help="seed for initialisation (default 0)"
    )
    parser.add_argument(
        "--backend",
        choices=("numba", "numpy"),
        default="numba",
        help="compute backend: numba kernels or the NumPy twin (numba)",
    )
    parser.add_argument(
        "--standardize",
        action="store_true",
        help="z-score every column before fitting; the saved model applies the same shift "
        "and scale in predict and undoes it in sample",
    )


def build_parser() -> argparse.ArgumentParser:
    """Build the argument parser of the ``fastgmm`` command.

    Returns
    -------
    parser : argparse.ArgumentParser
    """
    fmt = argparse.RawDescriptionHelpFormatter
    parser = argparse.ArgumentParser(
        prog="fastgmm",
        description="Gaussian mixture models fitted by EM with Numba kernels.",
        epilog=_MAIN_EPILOG,
        formatter_class=fmt,
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True

    p = sub.add_parser(
        "fit",
        help="fit a mixture to a data file and save it",
        description="Fit a GaussianMixture to DATA (CSV with or without header, .npy, or "
        "Parquet with pyarrow) and save it as a .npz model file.",
        epilog="example:\n  fastgmm fit iris.csv -k 3 --standardize -o model.npz "
        "--labels labels.csv",
        formatter_class=fmt,
    )
    p.add_argument("data", metavar="DATA", help="CSV, TSV, .npy or .parquet file")
    p.add_argument("-k", "--n-components", type=_positive_int, required=True, dest="k")
    p.add_argument(
        "--covariance-type", choices=COVARIANCE_TYPES, default="full", help="(default: full)"
    )
    p.add_argument("--tol", type=_non_negative_float, default=1e-3, help="(default: 1e-3)")
    p.add_argument("--reg-covar", type=_non_negative_float, default=1e-6, help="(1e-6)")
    p.add_argument(
        "--init-params",
        choices=("kmeans", "k-means++", "random", "random_from_data"),
        default="kmeans",
        help="initialisation (default: kmeans)",
    )
    p.add_argument("-o", "--output", required=True, metavar="MODEL.npz", help="model file")
    p.add_argument("--labels", metavar="LABELS.csv", help="also write the fitted labels")
    p.add_argument("-v", "--verbose", action="count", default=0, help="EM progress (-vv: more)")
    _add_model_options(p)
    _add_data_options(p)
    p.set_defaults(handler=_cmd_fit)

    p = sub.add_parser(
        "predict",
        help="label new data with a saved model",
        description="Print the component of every row of DATA (or the probabilities of every "
        "component with --proba) as CSV.",
        epilog="example:\n  fastgmm predict model.npz new.csv --proba -o proba.csv",
        formatter_class=fmt,
    )
    p.add_argument("model", metavar="MODEL.npz")
    p.add_argument("data", metavar="DATA")
    p.add_argument("--proba", action="store_true", help="print probabilities, not labels")
    p.add_argument("-o", "--output", metavar="OUT.csv", help="write there instead of stdout")
    _add_data_options(p)
    p.set_defaults(handler=_cmd_predict)

    p = sub.add_parser(
        "select",
        help="BIC/AIC table over numbers of components and covariance types",
        description="Fit one model per (k, covariance type), print BIC and AIC with the best "
        "marked, and draw the curves when matplotlib is installed.",
        epilog="example:\n  fastgmm select data.csv --k 1..10 --covariance-type all --plot bic.png",
        formatter_class=fmt,
    )
    p.add_argument("data", metavar="DATA")
    p.add_argument(
        "--k", type=_k_range, default=parse_k_range("1..10"), help="e.g. 1..10 or 2,4,8 (1..10)"
    )
    p.add_argument(
        "--covariance-type",
        choices=(*COVARIANCE_TYPES, "all"),
        default="full",
        help="one type or all (default: full)",
    )
    p.add_argument(
        "--plot", default="fastgmm-select.png", metavar="PNG", help="(fastgmm-select.png)"
    )
    p.add_argument("--no-plot", action="store_true", help="do not draw the curves")
    _add_model_options(p)
    _add_data_options(p)
    p.set_defaults(handler=_cmd_select)

    p = sub.add_parser(
        "sample",
        help="draw new data from a saved model",
        description="Draw N points from a saved mixture and print them as CSV (in the "
        "original units when the model was fitted with --standardize).",
        epilog="example:\n  fastgmm sample model.npz -n 500 --with-labels -o samples.csv",
        formatter_class=fmt,
    )
    p.add_argument("model", metavar="MODEL.npz")
    p.add_argument("-n", "--n-samples", type=_positive_int, default=100, dest="n")
    p.add_argument("--random-state", type=int, default=None, help="seed (default: fresh)")
    p.add_argument("--with-labels", action="store_true", help="add the component column")
    p.add_argument("-o", "--output", metavar="OUT.csv", help="write there instead of stdout")
    p.set_defaults(handler=_cmd_sample)

    p = sub.add_parser(
        "demo",
        help="EM vs k-means on the embedded Iris data, plus the 1-D lecture examples",
        description="Fit fastgmm.KMeans(3) and GaussianMixture(3, full, k-means init) to the "
        "Iris data shipped with fastgmm, print the accuracy after best label matching and "
        "the fitted parameters, fit the 1-D lecture examples, and write pictures to --out "
        "when matplotlib is installed.",
        epilog="example:\n  fastgmm demo --out docs/img\n  fastgmm demo --standardize --no-plots",
        formatter_class=fmt,
    )
    p.add_argument("--out", default="fastgmm-demo", help="picture directory (./fastgmm-demo)")
    p.add_argument("--standardize", action="store_true", help="z-score the Iris features first")
    p.add_argument("--random-state", type=int, default=0, help="seed (default 0)")
    p.add_argument("--no-plots", action="store_true", help="do not draw pictures")
    p.add_argument("--backend", choices=("numba", "numpy"), default="numba")
    p.set_defaults(handler=_cmd_demo)

    p = sub.add_parser(
        "bench",
        help="quick timing table: numba backend vs NumPy twin vs scikit-learn",
        description="Time GaussianMixture.fit with the numba backend, the NumPy backend and "
        "scikit-learn (when installed) on a few synthetic problems, after compiling once.",
        epilog="example:\n  fastgmm bench\n  fastgmm bench --sizes 10000x2x3,100000x8x5 "
        "--covariance-type diag --repeat 5",
        formatter_class=fmt,
    )
    p.add_argument(
        "--sizes",
        default=None,
        metavar="NxDxK,...",
        help="problems as n_samples x n_features x n_components (default: three sizes)",
    )
    p.add_argument("--covariance-type", choices=COVARIANCE_TYPES, default="full")
    p.add_argument("--max-iter", type=_positive_int, default=20, help="EM iterations (20)")
    p.add_argument("--repeat", type=_positive_int, default=3, help="best of R runs (3)")
    p.add_argument("--no-sklearn", action="store_true", help="skip scikit-learn")
    p.set_defaults(handler=_cmd_bench)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``fastgmm`` command.

    Parameters
    ----------
    argv : sequence of str, optional
        Arguments without the program name; ``sys.argv[1:]`` when omitted.

    Returns
    -------
    status : int
        0 on success, 1 for a bad data or model file, 2 for bad options.
    """
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, --version and usage errors
        return int(exc.code) if isinstance(exc.code, int) else EXIT_USAGE
    try:
        return int(args.handler(args) or EXIT_OK)
    except DataError as exc:
        _note(f"error: {exc}")
        return EXIT_DATA
    except _UsageError as exc:
        parser.print_usage(sys.stderr)
        _note(f"error: {exc}")
        return EXIT_USAGE
    except KeyboardInterrupt:
        _note("interrupted")
        return 130
    except BrokenPipeError:
        # The reader (e.g. `| head`) went away: stop quietly, as the Python docs advise.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_DATA


class _UsageError(Exception):
    """An option value that passed argparse but makes no sense with the data."""


# ----------------------------------------------------------------------------- helpers


def _version() -> str:
    try:
        from importlib.metadata import version

        return version("fastgmm")
    except Exception:  # running from a source tree
        return "(source tree)"


def _open_output(path: str | None) -> Any:
    if path is None:
        return _NoClose(sys.stdout)
    try:
        return open(path, "w", encoding="utf-8", newline="")
    except OSError as exc:
        raise DataError(f"cannot write {path}: {exc.strerror}") from None


class _NoClose:
    def __init__(self, stream: Any) -> None:
        self.stream = stream

    def __enter__(self) -> Any:
        return self.stream

    def __exit__(self, *exc_info: object) -> None:
        self.stream.flush()


def _read(args: argparse.Namespace, columns: str | None = None) -> Table:
    table = read_table(args.data, columns=columns, header=args.header)
    if table.dropped:
        _note(f"ignoring non-numeric column(s): {', '.join(table.dropped)}")
    return table


def _load(path: str) -> tuple[Any, dict[str, np.ndarray]]:
    from fastgmm.io import load_metadata, load_model

    try:
        model, metadata = load_model(path), load_metadata(path)
    except (FileNotFoundError, ValueError, KeyError, OSError) as exc:
        message = str(exc).strip("'\"") or type(exc).__name__
        raise DataError(message) from None
    if type(model).__name__ != "GaussianMixture":
        raise DataError(f"{path} holds a {type(model).__name__}, not a GaussianMixture")
    return model, metadata


def _fmt(array: np.ndarray, precision: int = 4) -> str:
    return np.array2string(
        np.asarray(array), precision=precision, suppress_small=True, max_line_width=200
    )


def _fit_quietly(model: Any, X: np.ndarray) -> Any:
    """Fit, turning a convergence warning into a note instead of a traceback."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model.fit(X)
    for warning in caught:
        _note(f"warning: {str(warning.message).splitlines()[0]}")
    return model


# ---------------------------------------------------------------------------- commands


def _cmd_fit(args: argparse.Namespace) -> int:
    from fastgmm import GaussianMixture
    from fastgmm.io import save_model

    table = _read(args, args.columns)
    X = table.X
    if args.k > X.shape[0]:
        raise _UsageError(f"-k {args.k} is more than the {X.shape[0]} rows of {args.data}")
    metadata: dict[str, np.ndarray] = {"columns": np.array(table.columns)}
    X_fit = X
    if args.standardize:
        X_fit, mean, scale = standardize(X)
        metadata["standardize_mean"] = mean
        metadata["standardize_scale"] = scale
    model = GaussianMixture(
        args.k,
        covariance_type=args.covariance_type,
        tol=args.tol,
        reg_covar=args.reg_covar,
        max_iter=args.max_iter,
        n_init=args.n_init,
        init_params=args.init_params,
        random_state=args.random_state,
        verbose=args.verbose,
        backend=args.backend,
    )
    try:
        _fit_quietly(model, X_fit)
    except ValueError as exc:
        raise DataError(f"cannot fit {args.data}: {exc}") from None
    save_model(model, args.output, metadata=metadata)
    scaled = " (z-scored)" if args.standardize else ""
    _emit(
        f"fitted GaussianMixture(n_components={args.k}, covariance_type={args.covariance_type!r})"
        f" to {X.shape[0]} rows x {X.shape[1]} columns{scaled}: {', '.join(table.columns)}"
    )
    _emit(
        f"converged: {model.converged_} after {model.n_iter_} iterations; "
        f"lower bound {model.lower_bound_:.6g} per sample"
    )
    _emit(f"BIC {model.bic(X_fit):.6g}  AIC {model.aic(X_fit):.6g}")
    _emit(f"weights: {_fmt(model.weights_)}")
    _emit(f"means{scaled}:")
    _emit(_fmt(model.means_))
    _emit(f"model saved to {args.output}")
    if args.labels:
        with _open_output(args.labels) as stream:
            write_csv(stream, model.predict(X_fit), ["label"])
        _emit(f"labels written to {args.labels}")
    return EXIT_OK


def _cmd_predict(args: argparse.Namespace) -> int:
    model, metadata = _load(args.model)
    saved = [str(c) for c in metadata.get("columns", np.array([], dtype=str)).tolist()]
    if args.columns is None and saved:
        # Prefer the columns the model was fitted on, by name; fall back to all numeric ones.
        try:
            table = read_table(args.data, columns=",".join(saved), header=args.header)
        except DataError:
            table = _read(args, None)
    else:
        table = _read(args, args.columns)
    n_features = int(model.n_features_in_)
    if table.X.shape[1] != n_features:
        raise DataError(
            f"the model expects {n_features} columns ({', '.join(saved)}); "
            f"{args.data} gives {table.X.shape[1]} ({', '.join(table.columns)})"
        )
    X = table.X
    if "standardize_mean" in metadata:
        X = (X - metadata["standardize_mean"]) / metadata["standardize_scale"]
    with _open_output(args.output) as stream:
        if args.proba:
            proba = model.predict_proba(X)
            write_csv(stream, proba, [f"p{k}" for k in range(proba.shape[1])], fmt="%.6g")
        else:
            write_csv(stream, model.predict(X), ["label"])
    return EXIT_OK


def _cmd_sample(args: argparse.Namespace) -> int:
    model, metadata = _load(args.model)
    X, labels = model.sample(args.n, random_state=args.random_state)
    if "standardize_mean" in metadata:
        X = X * metadata["standardize_scale"] + metadata["standardize_mean"]
    names = [str(c) for c in metadata.get("columns", np.array([], dtype=str)).tolist()]
    if len(names) != X.shape[1]:
        names = [f"x{j}" for j in range(X.shape[1])]
    with _open_output(args.output) as stream:
        if args.with_labels:
            stream.write(",".join([*names, "label"]) + "\n")
            for row, label in zip(X, labels, strict=True):
                stream.write(",".join(f"{v:.10g}" for v in row) + f",{int(label)}\n")
        else:
            write_csv(stream, X, names)
    return EXIT_OK


def _cmd_select(args: argparse.Namespace) -> int:
    table = _read(args, args.columns)
    X = table.X
    if args.standardize:
        X = standardize(X)[0]
    ks = [k for k in args.k if k <= X.shape[0]]
    if not ks:
        raise _UsageError(f"every --k is above the {X.shape[0]} rows of {args.data}")
    kinds = COVARIANCE_TYPES if args.covariance_type == "all" else (args.covariance_type,)
    try:
        rows = criterion_table(
            X,
            ks,
            kinds,
            random_state=args.random_state,
            n_init=args.n_init,
            max_iter=args.max_iter,
            backend=args.backend,
        )
    except ValueError as exc:
        raise DataError(f"cannot fit {args.data}: {exc}") from None
    best = best_rows(rows)
    _emit(
        f"model selection on {args.data}: {X.shape[0]} rows x {X.shape[1]} columns"
        + (" (z-scored)" if args.standardize else "")
    )
    _emit(f"{'k':>3}  {'covariance':<10}  {'BIC':>12}  {'AIC':>12}  {'iter':>4}  conv  best")
    for i, row in enumerate(rows):
        marks = [name.upper() for name, index in best.items() if index == i]
        _emit(
            f"{row['n_components']:>3}  {row['covariance_type']:<10}  {row['bic']:>12.2f}  "
            f"{row['aic']:>12.2f}  {row['n_iter']:>4}  {'yes' if row['converged'] else 'no ':<4}"
            f"  {'* ' + ' '.join(marks) if marks else ''}"
        )
    for name, index in best.items():
        row = rows[index]
        _emit(
            f"best by {name.upper()}: k={row['n_components']}, "
            f"covariance_type={row['covariance_type']!r}"
        )
    if not args.no_plot:
        _save_picture(
            lambda path: _plot().plot_criterion(rows, title=f"BIC / AIC: {args.data}", path=path),
            args.plot,
        )
    return EXIT_OK


def _plot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    from fastgmm import plot

    return plot


def _have_matplotlib() -> bool:
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        return False
    return True


def _save_picture(draw: Any, path: str) -> bool:
    """Call ``draw(path)`` when matplotlib is installed; say what happened on stderr."""
    if not _have_matplotlib():
        _note("matplotlib is not installed: no picture (pip install fastgmm[plot])")
        return False
    import matplotlib.pyplot as plt

    parent = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(parent):
        raise DataError(f"cannot write {path}: directory {parent} does not exist")
    fig = draw(path)[0]
    plt.close(fig)
    _emit(f"picture written to {path}")
    return True


def _cmd_demo(args: argparse.Namespace) -> int:
    from fastgmm._cli_demo import run_demo

    return run_demo(args, emit=_emit, note=_note, plot_module=_plot if _have_matplotlib() else None)


def _cmd_bench(args: argparse.Namespace) -> int:
    from fastgmm._cli_bench import parse_sizes, run_bench

    try:
        sizes = parse_sizes(args.sizes)
    except ValueError as exc:
        raise _UsageError(str(exc)) from None
    return run_bench(
        sizes,
        covariance_type=args.covariance_type,
        max_iter=args.max_iter,
        repeat=args.repeat,
        use_sklearn=not args.no_sklearn,
        emit=_emit,
    )
