"""Small data sets shipped with fastgmm or generated on the fly.

`load_iris` reads the Iris table packaged in ``fastgmm/data/iris.csv`` (no download), and
`make_1d_lecture_mixture` draws the one-dimensional examples of the lecture notes that the
``fastgmm demo`` command fits and draws.
"""

from __future__ import annotations

import csv
import io
from importlib import resources
from typing import Literal

import numpy as np

__all__ = ["LECTURE_MIXTURES", "load_iris", "make_1d_lecture_mixture", "make_mixture"]

#: The 1-D examples of the lecture notes: component means, standard deviations and sizes.
#: ``"two"`` is the EM example (blue N(0, 3^2) and red N(10, 1), 100 points each);
#: ``"three"`` is the three-Gaussian picture (means -0.5/-0.1/0.2, sd 0.2/0.07/0.13).
LECTURE_MIXTURES: dict[str, dict[str, tuple[float, ...] | tuple[int, ...]]] = {
    "two": {"means": (0.0, 10.0), "stds": (3.0, 1.0), "counts": (100, 100)},
    "three": {"means": (-0.5, -0.1, 0.2), "stds": (0.2, 0.07, 0.13), "counts": (100, 100, 100)},
}


def load_iris() -> tuple[np.ndarray, np.ndarray, list[str], list[str]]:
    """Load the Iris data set packaged with fastgmm.

    Returns
    -------
    X : ndarray of shape (150, 4), dtype float64
        Sepal length, sepal width, petal length and petal width in cm.
    y : ndarray of shape (150,), dtype int64
        Species index into `target_names` (0, 1, 2 in order of first appearance).
    feature_names : list of str
        The four column names of `X`.
    target_names : list of str
        The species names, ``["setosa", "versicolor", "virginica"]``.

    Examples
    --------
    >>> from fastgmm._datasets import load_iris
    >>> X, y, feature_names, target_names = load_iris()
    >>> X.shape, y.shape, target_names
    ((150, 4), (150,), ['setosa', 'versicolor', 'virginica'])
    """
    text = (resources.files("fastgmm") / "data" / "iris.csv").read_text(encoding="utf-8")
    rows = list(csv.reader(io.StringIO(text)))
    header, body = rows[0], [row for row in rows[1:] if row]
    feature_names = header[:4]
    X = np.array([[float(v) for v in row[:4]] for row in body], dtype=np.float64)
    target_names: list[str] = []
    for row in body:
        if row[4] not in target_names:
            target_names.append(row[4])
    y = np.array([target_names.index(row[4]) for row in body], dtype=np.int64)
    return X, y, feature_names, target_names


def make_mixture(
    means: np.ndarray | list[float] | tuple[float, ...],
    stds: np.ndarray | list[float] | tuple[float, ...],
    counts: list[int] | tuple[int, ...],
    random_state: int | np.random.Generator | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Draw points from axis-aligned Gaussian groups, like scikit-learn's ``make_blobs``.

    Parameters
    ----------
    means : array-like of shape (n_components,) or (n_components, n_features)
        Centre of each group; a 1-D sequence gives one feature.
    stds : array-like of shape (n_components,) or (n_components, n_features)
        Standard deviation of each group (per feature when 2-D).
    counts : sequence of int of length n_components
        Number of points drawn from each group.
    random_state : int, Generator or None
        Seed or generator for `numpy.random.default_rng`.

    Returns
    -------
    X : ndarray of shape (sum(counts), n_features)
        The points, group by group (not shuffled).
    y : ndarray of shape (sum(counts),)
        The group index of each point.

    Examples
    --------
    >>> X, y = make_mixture([0.0, 10.0], [3.0, 1.0], [100, 100], random_state=0)
    >>> X.shape, int(y.sum())
    ((200, 1), 100)
    """
    means_arr = np.asarray(means, dtype=np.float64)
    if means_arr.ndim == 1:
        means_arr = means_arr[:, np.newaxis]
    stds_arr = np.broadcast_to(
        np.asarray(stds, dtype=np.float64).reshape(len(means_arr), -1), means_arr.shape
    )
    if len(counts) != len(means_arr):
        raise ValueError(f"counts has {len(counts)} entries, means has {len(means_arr)}")
    if np.any(stds_arr < 0):
        raise ValueError("standard deviations must be non-negative")
    rng = np.random.default_rng(random_state)
    X = np.concatenate(
        [
            rng.normal(means_arr[k], stds_arr[k], size=(int(n), means_arr.shape[1]))
            for k, n in enumerate(counts)
        ]
    )
    y = np.repeat(np.arange(len(counts)), [int(n) for n in counts])
    return X, y


def make_1d_lecture_mixture(
    example: Literal["two", "three"] = "two",
    random_state: int | np.random.Generator | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Draw one of the 1-D examples of the lecture notes.

    Parameters
    ----------
    example : {"two", "three"}, default="two"
        ``"two"``: 100 points from N(0, 3^2) and 100 from N(10, 1).
        ``"three"``: 100 points each from N(-0.5, 0.2^2), N(-0.1, 0.07^2) and N(0.2, 0.13^2).
        The parameters are in `LECTURE_MIXTURES`.
    random_state : int, Generator or None
        Seed or generator for `numpy.random.default_rng`.

    Returns
    -------
    X : ndarray of shape (n_samples, 1)
        The points.
    y : ndarray of shape (n_samples,)
        The component each point was drawn from.

    Examples
    --------
    >>> X, y = make_1d_lecture_mixture("three", random_state=0)
    >>> X.shape, sorted(set(y.tolist()))
    ((300, 1), [0, 1, 2])
    """
    if example not in LECTURE_MIXTURES:
        raise ValueError(f"example must be one of {sorted(LECTURE_MIXTURES)}, got {example!r}")
    spec = LECTURE_MIXTURES[example]
    return make_mixture(
        spec["means"],
        spec["stds"],
        tuple(int(n) for n in spec["counts"]),
        random_state=random_state,
    )
