"""Clustering accuracy after the best matching of cluster labels to classes.

Cluster indices are arbitrary, so comparing them with true classes needs a matching first.
For the handful of clusters of a demo, trying every permutation is exact and needs no scipy.
"""

from __future__ import annotations

from itertools import permutations

import numpy as np

__all__ = ["best_label_mapping", "best_match_accuracy", "confusion_matrix"]

#: Largest number of labels for the exhaustive search (9! = 362,880 permutations).
MAX_LABELS = 9


def confusion_matrix(y_true: np.ndarray, y_pred: np.ndarray) -> np.ndarray:
    """Count pairs of (true label, predicted label).

    Parameters
    ----------
    y_true, y_pred : array-like of shape (n_samples,)
        Non-negative integer labels.

    Returns
    -------
    counts : ndarray of shape (n, n), dtype int64
        ``counts[i, j]`` is the number of samples with true label i and predicted label j;
        ``n`` is one more than the largest label of either array (the matrix is square).
    """
    y_true, y_pred = _check_labels(y_true, y_pred)
    n = int(max(y_true.max(initial=-1), y_pred.max(initial=-1))) + 1
    counts = np.zeros((n, n), dtype=np.int64)
    np.add.at(counts, (y_true, y_pred), 1)
    return counts


def best_label_mapping(y_true: np.ndarray, y_pred: np.ndarray) -> dict[int, int]:
    """Find the one-to-one relabelling of predictions that agrees most with the truth.

    Parameters
    ----------
    y_true, y_pred : array-like of shape (n_samples,)
        Non-negative integer labels, at most `MAX_LABELS` distinct values each.

    Returns
    -------
    mapping : dict of int to int
        ``mapping[predicted label] = true label`` for every predicted label in `y_pred`.

    Examples
    --------
    >>> best_label_mapping([0, 0, 1, 1, 2], [2, 2, 0, 0, 1])
    {0: 1, 1: 2, 2: 0}
    """
    counts = confusion_matrix(y_true, y_pred)
    n = counts.shape[0]
    if n > MAX_LABELS:
        raise ValueError(
            f"best label matching tries every permutation and supports at most {MAX_LABELS} "
            f"labels, got {n}"
        )
    perms = np.array(list(permutations(range(n))), dtype=np.intp).reshape(-1, n)
    # perms[p, j] is the true label given to predicted label j.
    hits = counts[perms, np.arange(n)].sum(axis=1)
    best = perms[int(np.argmax(hits))]
    present = np.unique(np.asarray(y_pred, dtype=np.int64))
    return {int(j): int(best[j]) for j in present}


def best_match_accuracy(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """Fraction of samples whose cluster maps to their class under the best matching.

    Parameters
    ----------
    y_true, y_pred : array-like of shape (n_samples,)
        Non-negative integer labels, at most `MAX_LABELS` distinct values each.

    Returns
    -------
    accuracy : float
        Between 0 and 1; 1 when the clustering equals the classes up to renaming.

    Examples
    --------
    >>> best_match_accuracy([0, 0, 1, 1], [1, 1, 0, 0])
    1.0
    >>> best_match_accuracy([0, 0, 1, 1], [0, 1, 1, 1])
    0.75
    """
    y_true_arr, y_pred_arr = _check_labels(y_true, y_pred)
    if y_true_arr.size == 0:
        raise ValueError("y_true and y_pred are empty")
    mapping = best_label_mapping(y_true_arr, y_pred_arr)
    relabelled = np.array([mapping[int(j)] for j in y_pred_arr], dtype=np.int64)
    return float(np.mean(relabelled == y_true_arr))


def _check_labels(y_true: np.ndarray, y_pred: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    y_true = np.asarray(y_true)
    y_pred = np.asarray(y_pred)
    if y_true.ndim != 1 or y_true.shape != y_pred.shape:
        raise ValueError(
            f"y_true and y_pred must be 1-D of equal length, got {y_true.shape} and {y_pred.shape}"
        )
    for name, y in (("y_true", y_true), ("y_pred", y_pred)):
        if y.size == 0:
            continue
        numeric = np.issubdtype(y.dtype, np.integer) or np.issubdtype(y.dtype, np.floating)
        if not numeric or y.min() < 0 or np.any(y != np.round(y)):
            raise ValueError(f"{name} must hold non-negative integer labels")
    return y_true.astype(np.int64), y_pred.astype(np.int64)
