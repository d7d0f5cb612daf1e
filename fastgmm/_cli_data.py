"""Reading and writing the numeric tables of the command line (CSV, ``.npy``, Parquet).

Every problem with a file becomes a `DataError` whose message is one line meant for a person;
`fastgmm.cli` prints it on stderr and exits with status 1.
"""

from __future__ import annotations

import csv
import io
import os
from dataclasses import dataclass
from typing import IO

import numpy as np

__all__ = ["DataError", "Table", "read_table", "standardize", "write_csv"]


class DataError(Exception):
    """A data or model file that cannot be used; the message is one line."""


@dataclass
class Table:
    """Numeric columns read from a file.

    Attributes
    ----------
    X : ndarray of shape (n_samples, n_features), dtype float64
        The selected columns.
    columns : list of str
        Their names (``x0``, ``x1``, ... when the file has none).
    has_header : bool
        Whether the names came from the file.
    dropped : list of str
        Text columns left out because no ``--columns`` was given (e.g. ``species``).
    """

    X: np.ndarray
    columns: list[str]
    has_header: bool
    dropped: list[str]


def read_table(
    path: str | os.PathLike[str],
    columns: str | None = None,
    header: str = "auto",
) -> Table:
    """Read a numeric table from CSV/TSV text, ``.npy`` or Parquet.

    Parameters
    ----------
    path : str or path-like
        The file; ``.npy`` and ``.parquet``/``.pq`` by suffix, anything else as delimited text
        (comma, tab, semicolon or whitespace, guessed from the first line).
    columns : str, optional
        Comma-separated column names or 0-based indices to keep, e.g. ``"petal_length,3"``.
        When omitted every numeric column is kept and columns with no number at all (such as
        a species name) are dropped.
    header : {"auto", "yes", "no"}, default="auto"
        Whether the first text line holds column names; "auto" says yes when any of its
        fields is not a number.

    Returns
    -------
    table : Table

    Raises
    ------
    DataError
        Missing, empty, ragged or non-numeric files, missing or non-finite values, unknown
        columns, or Parquet without pyarrow.
    """
    path = os.fspath(path)
    if not os.path.exists(path):
        raise DataError(f"data file not found: {path}")
    if os.path.isdir(path):
        raise DataError(f"data path is a directory, not a file: {path}")
    suffix = os.path.splitext(path)[1].lower()
    if suffix == ".npy":
        X, names, has_header = _read_npy(path), None, False
        names = [f"x{j}" for j in range(X.shape[1])]
        numeric = [True] * X.shape[1]
        bad: list[str | None] = [None] * X.shape[1]
    elif suffix in (".parquet", ".pq"):
        X, names, numeric, bad = _read_parquet(path)
        has_header = True
    else:
        X, names, numeric, bad, has_header = _read_text(path, header)
    if X.shape[0] == 0:
        raise DataError(f"no data rows in {path}")
    keep = _resolve_columns(path, columns, names, numeric, bad)
    X = np.ascontiguousarray(X[:, keep], dtype=np.float64)
    finite = np.isfinite(X)
    if not finite.all():
        row, col = np.argwhere(~finite)[0]
        line = f"line {row + 1 + int(has_header)}" if suffix not in (".npy",) else f"row {row}"
        raise DataError(
            f"{path}: missing or non-finite value at {line}, column {names[keep[col]]!r}"
        )
    dropped = [name for j, name in enumerate(names) if not numeric[j] and j not in keep]
    return Table(X=X, columns=[names[j] for j in keep], has_header=has_header, dropped=dropped)


def _read_npy(path: str) -> np.ndarray:
    try:
        array = np.load(path, allow_pickle=False)
    except ValueError as exc:
        raise DataError(f"{path}: cannot read .npy without pickle ({exc})") from exc
    except OSError as exc:
        raise DataError(f"{path}: not a valid .npy file ({exc})") from exc
    if not isinstance(array, np.ndarray):
        raise DataError(f"{path}: not a single .npy array")
    if array.size == 0:
        raise DataError(f"data file is empty: {path}")
    if array.dtype.kind not in "biuf":
        raise DataError(f"{path}: array of dtype {array.dtype} is not numeric")
    if array.ndim == 1:
        array = array[:, np.newaxis]
    if array.ndim != 2:
        raise DataError(f"{path}: expected a 1-D or 2-D array, got shape {array.shape}")
    return array.astype(np.float64)


def _read_parquet(path: str) -> tuple[np.ndarray, list[str], list[bool], list[str | None]]:
    try:
        import pyarrow.parquet as pq
    except ImportError:
        raise DataError(
            f"{path}: reading Parquet files needs pyarrow: pip install pyarrow "
            "(or convert the file to CSV or .npy)"
        ) from None
    try:
        table = pq.read_table(path)
    except Exception as exc:
        raise DataError(f"{path}: not a valid Parquet file ({exc})") from exc
    names = [str(name) for name in table.column_names]
    if not names:
        raise DataError(f"data file is empty: {path}")
    cols, numeric, bad = [], [], []
    for name in names:
        values = table.column(name).to_numpy(zero_copy_only=False)
        ok = values.dtype.kind in "biuf"
        numeric.append(ok)
        bad.append(None if ok else (repr(values[0]) if len(values) else None))
        cols.append(values.astype(np.float64) if ok else np.full(len(values), np.nan))
    return np.column_stack(cols), names, numeric, bad


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _read_text(
    path: str, header: str
) -> tuple[np.ndarray, list[str], list[bool], list[str | None], bool]:
    try:
        with open(path, encoding="utf-8-sig") as handle:
            text = handle.read()
    except UnicodeDecodeError:
        raise DataError(f"{path}: not a UTF-8 text file (expected CSV, .npy or Parquet)") from None
    lines = [
        (number, line)
        for number, line in enumerate(text.splitlines(), start=1)
        if line.strip() and not line.lstrip().startswith("#")
    ]
    if not lines:
        raise DataError(f"data file is empty: {path}")
    first = lines[0][1]
    delimiter = next((d for d in (",", "\t", ";") if d in first), None)

    def split(line: str) -> list[str]:
        if delimiter is None:
            return line.split()
        return [field.strip() for field in next(csv.reader(io.StringIO(line), delimiter=delimiter))]

    rows = [(number, split(line)) for number, line in lines]
    if header == "auto":
        has_header = not all(_is_number(field) for field in rows[0][1])
    else:
        has_header = header == "yes"
    n_columns = len(rows[0][1])
    if has_header:
        names = [name or f"x{j}" for j, name in enumerate(rows[0][1])]
        duplicates = sorted({name for name in names if names.count(name) > 1})
        if duplicates:
            raise DataError(f"{path}: duplicate column names {', '.join(duplicates)}")
        rows = rows[1:]
    else:
        names = [f"x{j}" for j in range(n_columns)]
    for number, fields in rows:
        if len(fields) != n_columns:
            raise DataError(
                f"{path}: line {number} has {len(fields)} fields, expected {n_columns} "
                "(ragged file)"
            )
    X = np.full((len(rows), n_columns), np.nan)
    numeric = [True] * n_columns
    bad: list[str | None] = [None] * n_columns
    n_bad = [0] * n_columns
    for i, (number, fields) in enumerate(rows):
        for j, field in enumerate(fields):
            if field == "":
                raise DataError(f"{path}: missing value at line {number}, column {names[j]!r}")
            try:
                X[i, j] = float(field)
            except ValueError:
                numeric[j] = False
                n_bad[j] += 1
                if bad[j] is None:
                    bad[j] = f"line {number}: {field!r}"
    # A column is "text" only when no value in it is a number; partly numeric columns are
    # marked by a negative count so that _resolve_columns reports them as errors.
    for j in range(n_columns):
        if 0 < n_bad[j] < len(rows):
            bad[j] = "partly: " + str(bad[j])
    return X, names, numeric, bad, has_header


def _resolve_columns(
    path: str,
    spec: str | None,
    names: list[str],
    numeric: list[bool],
    bad: list[str | None],
) -> list[int]:
    if spec is None:
        for j, ok in enumerate(numeric):
            if not ok and bad[j] is not None and bad[j].startswith("partly: "):
                raise DataError(
                    f"{path}: column {names[j]!r} has a non-numeric value at "
                    f"{bad[j][len('partly: ') :]}"
                )
        keep = [j for j, ok in enumerate(numeric) if ok]
        if not keep:
            raise DataError(f"{path}: no numeric columns (columns: {', '.join(names)})")
        return keep
    keep = []
    for token in (t.strip() for t in spec.split(",")):
        if not token:
            raise DataError(f"empty column name in --columns {spec!r}")
        if token in names:
            j = names.index(token)
        elif token.lstrip("-").isdigit():
            j = int(token)
            if not 0 <= j < len(names):
                raise DataError(
                    f"column index {j} out of range: {path} has {len(names)} columns (0-based)"
                )
        else:
            raise DataError(f"unknown column {token!r} in {path}; columns are: {', '.join(names)}")
        if not numeric[j]:
            where = str(bad[j]).removeprefix("partly: ")
            raise DataError(f"{path}: column {names[j]!r} is not numeric ({where})")
        if j in keep:
            raise DataError(f"column {names[j]!r} selected twice in --columns")
        keep.append(j)
    return keep


def standardize(X: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Z-score the columns of `X` as scikit-learn's ``StandardScaler`` does.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)

    Returns
    -------
    Z : ndarray of shape (n_samples, n_features)
        ``(X - mean) / scale``.
    mean : ndarray of shape (n_features,)
    scale : ndarray of shape (n_features,)
        Population standard deviation, with 1 for constant columns.
    """
    mean = X.mean(axis=0)
    scale = X.std(axis=0)
    scale[scale == 0.0] = 1.0
    return (X - mean) / scale, mean, scale


def write_csv(stream: IO[str], array: np.ndarray, header: list[str], fmt: str = "%.10g") -> None:
    """Write a 1-D or 2-D array as CSV with a header line.

    Parameters
    ----------
    stream : text stream
        Where to write.
    array : ndarray of shape (n_rows,) or (n_rows, n_columns)
        Values; integers are written without a decimal point.
    header : list of str
        Column names.
    fmt : str, default="%.10g"
        ``printf`` format for floating values.
    """
    array = np.asarray(array)
    if array.ndim == 1:
        array = array[:, np.newaxis]
    stream.write(",".join(header) + "\n")
    if array.dtype.kind in "iub":
        lines = (",".join(str(int(v)) for v in row) for row in array)
    else:
        lines = (",".join(fmt % v for v in row) for row in array)
    for line in lines:
        stream.write(line + "\n")
