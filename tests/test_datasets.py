import sys
import types

import numpy as np
import pytest

from fastgmm._datasets import LECTURE_MIXTURES, load_iris, make_1d_lecture_mixture, make_mixture
from fastgmm._metrics import (
    MAX_LABELS,
    best_label_mapping,
    best_match_accuracy,
    confusion_matrix,
)
from fastgmm._progress import progress


def test_load_iris_shapes_and_classes():
    X, y, feature_names, target_names = load_iris()
    assert X.shape == (150, 4) and X.dtype == np.float64
    assert y.shape == (150,) and np.issubdtype(y.dtype, np.integer)
    assert feature_names == ["sepal_length", "sepal_width", "petal_length", "petal_width"]
    assert target_names == ["setosa", "versicolor", "virginica"]
    assert np.bincount(y).tolist() == [50, 50, 50]
    # First row of the classic table, and setosa's short petals.
    np.testing.assert_array_equal(X[0], [5.1, 3.5, 1.4, 0.2])
    assert X[y == 0, 2].max() < X[y != 0, 2].min()


@pytest.mark.parametrize("example", sorted(LECTURE_MIXTURES))
def test_lecture_mixture_matches_its_specification(example):
    spec = LECTURE_MIXTURES[example]
    X, y = make_1d_lecture_mixture(example, random_state=0)
    assert X.shape == (sum(spec["counts"]), 1)
    assert np.bincount(y).tolist() == list(spec["counts"])
    for k, (mean, std) in enumerate(zip(spec["means"], spec["stds"], strict=True)):
        group = X[y == k, 0]
        # 5 standard errors: fails only if the generator ignores the specification.
        assert abs(group.mean() - mean) < 5 * std / np.sqrt(len(group))
        assert 0.7 * std < group.std() < 1.3 * std


def test_lecture_mixture_values_from_the_notes():
    assert LECTURE_MIXTURES["two"] == {
        "means": (0.0, 10.0),
        "stds": (3.0, 1.0),
        "counts": (100, 100),
    }
    assert LECTURE_MIXTURES["three"]["means"] == (-0.5, -0.1, 0.2)
    assert LECTURE_MIXTURES["three"]["stds"] == (0.2, 0.07, 0.13)


def test_lecture_mixture_is_reproducible_and_seeded():
    a, _ = make_1d_lecture_mixture("two", random_state=3)
    b, _ = make_1d_lecture_mixture("two", random_state=3)
    c, _ = make_1d_lecture_mixture("two", random_state=4)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


def test_lecture_mixture_rejects_unknown_example():
    with pytest.raises(ValueError, match="example must be one of"):
        make_1d_lecture_mixture("four")


def test_make_mixture_multivariate_and_errors():
    X, y = make_mixture([[0, 0], [5, 5]], [[1, 1], [0.5, 0.5]], [30, 20], random_state=0)
    assert X.shape == (50, 2) and np.bincount(y).tolist() == [30, 20]
    with pytest.raises(ValueError, match="counts has 1 entries"):
        make_mixture([0, 1], [1, 1], [10])
    with pytest.raises(ValueError, match="non-negative"):
        make_mixture([0, 1], [1, -1], [10, 10])


def test_best_match_accuracy_ignores_label_names():
    y = np.array([0, 0, 1, 1, 2, 2])
    assert best_match_accuracy(y, np.array([2, 2, 0, 0, 1, 1])) == 1.0
    assert best_match_accuracy(y, np.array([2, 2, 0, 1, 1, 1])) == pytest.approx(5 / 6)
    assert best_label_mapping(y, np.array([2, 2, 0, 0, 1, 1])) == {2: 0, 0: 1, 1: 2}


def test_best_match_accuracy_against_brute_force():
    rng = np.random.default_rng(0)
    from itertools import permutations

    for _ in range(20):
        y = rng.integers(0, 4, size=40)
        p = rng.integers(0, 4, size=40)
        brute = max(np.mean(np.array(perm)[p] == y) for perm in permutations(range(4)))
        assert best_match_accuracy(y, p) == pytest.approx(brute)


def test_best_match_accuracy_more_clusters_than_classes():
    # Each class can take one cluster only: the extra cluster counts as wrong.
    assert best_match_accuracy([0, 0, 0, 1], [0, 1, 2, 3]) == 0.5


def test_metric_errors():
    with pytest.raises(ValueError, match="equal length"):
        best_match_accuracy([0, 1], [0])
    with pytest.raises(ValueError, match="non-negative integer"):
        best_match_accuracy([0, 1], [0, -1])
    with pytest.raises(ValueError, match="non-negative integer"):
        best_match_accuracy([0, 1], [0.5, 1])
    with pytest.raises(ValueError, match="empty"):
        best_match_accuracy([], [])
    too_many = np.arange(MAX_LABELS + 1)
    with pytest.raises(ValueError, match="at most"):
        best_match_accuracy(too_many, too_many)


def test_confusion_matrix_counts():
    counts = confusion_matrix([0, 0, 1, 2], [1, 1, 0, 2])
    assert counts.tolist() == [[0, 2, 0], [1, 0, 0], [0, 0, 1]]


def test_progress_disabled_is_a_silent_no_op(capsys):
    with progress(10, enabled=False) as bar:
        bar.update(3)
        bar.set_postfix_str("x")
    bar.close()
    assert capsys.readouterr() == ("", "")


def test_progress_without_tqdm_is_a_no_op(monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "tqdm", None)  # import tqdm now raises ImportError
    bar = progress(5, enabled=True)
    bar.update(5)
    bar.close()
    assert type(bar).__name__ == "_NoProgress"
    assert capsys.readouterr() == ("", "")


def test_progress_uses_tqdm_when_installed(monkeypatch):
    created = {}

    class FakeTqdm:
        def __init__(self, **kwargs):
            created.update(kwargs)
            self.n = 0

        def update(self, n=1):
            self.n += n

        def close(self):
            created["closed"] = True

    monkeypatch.setitem(sys.modules, "tqdm", types.SimpleNamespace(tqdm=FakeTqdm))
    bar = progress(7, enabled=True, desc="EM")
    bar.update(2)
    bar.close()
    assert isinstance(bar, FakeTqdm) and bar.n == 2
    assert created["total"] == 7 and created["desc"] == "EM" and created["closed"]
