import sys
from types import SimpleNamespace

import numpy as np
import pytest

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")
import matplotlib.image  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.patches import Ellipse  # noqa: E402

from fastgmm import plot  # noqa: E402

FULL = np.array([[[1.0, 0.5], [0.5, 2.0]], [[0.3, -0.1], [-0.1, 0.2]], [[2.0, 0.0], [0.0, 0.5]]])


def fake_model(covariance_type):
    """A fitted-looking mixture: plot only reads these attributes."""
    covariances = {
        "full": FULL,
        "tied": FULL[0],
        "diag": np.array([[1.0, 2.0], [0.3, 0.2], [2.0, 0.5]]),
        "spherical": np.array([1.0, 0.3, 2.0]),
    }[covariance_type]
    means = np.array([[0.0, 0.0], [4.0, 1.0], [-3.0, 3.0]])
    return SimpleNamespace(
        covariance_type=covariance_type,
        weights_=np.array([0.5, 0.3, 0.2]),
        means_=means,
        covariances_=covariances,
        lower_bounds_=[-3.0, -2.5, -2.2, -2.19],
        converged_=True,
        predict=lambda X: np.argmin(((X[:, None, :] - means) ** 2).sum(-1), axis=1),
    )


@pytest.fixture
def X():
    return np.random.default_rng(0).normal(size=(120, 2)) * 2


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def assert_png(path, width_px, height_px):
    assert path.stat().st_size > 1000
    image = matplotlib.image.imread(path)
    assert image.shape[:2] == (height_px, width_px)
    # Something was drawn: the picture is not one flat colour.
    assert image[..., :3].std() > 0.01


def test_component_covariances_every_type():
    full = plot.component_covariances(fake_model("full"))
    np.testing.assert_array_equal(full, FULL)
    tied = plot.component_covariances(fake_model("tied"))
    assert tied.shape == (3, 2, 2) and np.all(tied == FULL[0])
    diag = plot.component_covariances(fake_model("diag"))
    np.testing.assert_array_equal(diag[1], np.diag([0.3, 0.2]))
    sph = plot.component_covariances(fake_model("spherical"))
    np.testing.assert_array_equal(sph[2], 2.0 * np.eye(2))
    with pytest.raises(ValueError, match="unknown covariance_type"):
        plot.component_covariances(
            fake_model("full").__class__(
                **{**vars(fake_model("full")), "covariance_type": "banana"}
            )
        )


@pytest.mark.parametrize("covariance_type", ["full", "tied", "diag", "spherical"])
def test_plot_ellipses_every_covariance_type(tmp_path, X, covariance_type):
    path = tmp_path / f"ellipses_{covariance_type}.png"
    fig, ax = plot.plot_ellipses(fake_model(covariance_type), X, path=path, figsize=(4, 3), dpi=50)
    ellipses = [p for p in ax.patches if isinstance(p, Ellipse)]
    assert len(ellipses) == 3 * 2  # 1 and 2 sigma for each component
    assert_png(path, 200, 150)


def test_ellipse_axes_follow_the_covariance(X):
    fig, ax = plot.plot_ellipses(fake_model("full"), X, n_std=(1.0,))
    first = [p for p in ax.patches if isinstance(p, Ellipse)][0]
    eigvals = np.linalg.eigvalsh(FULL[0])
    assert first.width == pytest.approx(2 * np.sqrt(eigvals[-1]))
    assert first.height == pytest.approx(2 * np.sqrt(eigvals[0]))
    assert first.center == pytest.approx((0.0, 0.0))


def test_plot_1d_curves_and_density(tmp_path):
    model = SimpleNamespace(
        covariance_type="full",
        weights_=np.array([0.5, 0.5]),
        means_=np.array([[0.0], [10.0]]),
        covariances_=np.array([[[9.0]], [[1.0]]]),
    )
    x = np.concatenate([np.random.default_rng(1).normal(0, 3, 100), np.full(100, 10.0)])
    path = tmp_path / "one_d.png"
    fig, ax = plot.plot_1d(model, x, path=path, bins=20)
    lines = {line.get_label(): line for line in ax.get_lines()}
    assert "mixture" in lines and len(lines) == 3
    grid, total = lines["mixture"].get_data()
    # The drawn mixture is a density: it integrates to about 1 over the grid.
    assert np.trapezoid(total, grid) == pytest.approx(1.0, abs=0.02)
    assert_png(path, 700, 400)


def test_plot_pairs_grid(tmp_path, X):
    X3 = np.column_stack([X, X[:, 0] - X[:, 1]])
    model = SimpleNamespace(
        covariance_type="diag",
        weights_=np.array([0.5, 0.5]),
        means_=np.array([[0.0, 0.0, 0.0], [1.0, 1.0, 0.0]]),
        covariances_=np.ones((2, 3)),
    )
    labels = (X3[:, 0] > 0).astype(int)
    path = tmp_path / "pairs.png"
    fig, axes = plot.plot_pairs(model, X3, labels, ["a", "b", "c"], path=path, panel_size=2, dpi=50)
    assert axes.shape == (3, 3)
    assert axes[2, 0].get_xlabel() == "a" and axes[1, 0].get_ylabel() == "b"
    assert len([p for p in axes[0, 1].patches if isinstance(p, Ellipse)]) == 4
    assert_png(path, 300, 300)


def test_plot_criterion_marks_the_minimum(tmp_path):
    rows = [
        {"n_components": k, "covariance_type": kind, "bic": (k - 3) ** 2 + off, "aic": -k + off}
        for kind, off in (("full", 0.0), ("diag", 5.0))
        for k in range(1, 6)
    ]
    path = tmp_path / "criterion.png"
    fig, axes = plot.plot_criterion(rows, path=path)
    bic_best = [line for line in axes[0].get_lines() if line.get_label().startswith("best")]
    assert bic_best[0].get_label() == "best: k=3, full"
    aic_best = [line for line in axes[1].get_lines() if line.get_label().startswith("best")]
    assert aic_best[0].get_label() == "best: k=5, full"
    assert_png(path, 1000, 400)
    with pytest.raises(ValueError, match="empty"):
        plot.plot_criterion([])


def test_plot_convergence(tmp_path):
    path = tmp_path / "convergence.png"
    fig, ax = plot.plot_convergence(fake_model("full"), path=path)
    x, y = ax.get_lines()[0].get_data()
    assert list(x) == [1, 2, 3, 4] and list(y) == [-3.0, -2.5, -2.2, -2.19]
    assert_png(path, 600, 400)
    with pytest.raises(ValueError, match="no lower_bounds_"):
        plot.plot_convergence(SimpleNamespace())


def test_draws_on_given_axes():
    fig, ax = plt.subplots()
    got_fig, got_ax = plot.plot_convergence(fake_model("full"), ax=ax)
    assert got_fig is fig and got_ax is ax


def test_with_a_real_fitted_mixture(tmp_path):
    from fastgmm import GaussianMixture

    rng = np.random.default_rng(0)
    X = np.vstack([rng.normal(0, 1, (60, 2)), rng.normal(6, 1, (60, 2))])
    gm = GaussianMixture(2, covariance_type="full", random_state=0).fit(X)
    fig, ax = plot.plot_ellipses(gm, X, path=tmp_path / "real.png")
    assert len(ax.patches) == 4
    fig, ax = plot.plot_convergence(gm)
    assert len(ax.get_lines()[0].get_xdata()) == len(gm.lower_bounds_)


def test_missing_matplotlib_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)
    with pytest.raises(ImportError, match=r"pip install fastgmm\[plot\]"):
        plot.plot_convergence(fake_model("full"))
