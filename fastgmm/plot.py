"""Pictures of fitted mixtures, drawn with matplotlib (optional: ``pip install fastgmm[plot]``).

matplotlib is imported inside each function, so ``import fastgmm.plot`` works without it and
the functions raise an `ImportError` naming the extra to install. Every function returns the
matplotlib objects it drew on and, given ``path=``, saves a PNG of ``figsize * dpi`` pixels.

==========================  ===============================================================
function                    picture
==========================  ===============================================================
`plot_1d`                   histogram, mixture density and each weighted component
`plot_ellipses`             2-D scatter with 1- and 2-sigma covariance ellipses
`plot_pairs`                all feature pairs coloured by cluster, with the ellipses
`plot_criterion`            BIC and AIC against the number of components
`plot_convergence`          the lower bound after every EM iteration (``lower_bounds_``)
==========================  ===============================================================
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np

__all__ = [
    "component_covariances",
    "plot_1d",
    "plot_convergence",
    "plot_criterion",
    "plot_ellipses",
    "plot_pairs",
]

_INSTALL_HINT = "fastgmm.plot needs matplotlib: pip install fastgmm[plot]"


def _pyplot() -> Any:
    try:
        import matplotlib.pyplot as plt
    except ImportError as exc:
        raise ImportError(_INSTALL_HINT) from exc
    return plt


def _colour(k: int) -> Any:
    plt = _pyplot()
    return plt.get_cmap("tab10")(int(k) % 10)


def component_covariances(model: Any) -> np.ndarray:
    """Return every component's covariance as a full matrix, whatever the covariance type.

    Parameters
    ----------
    model : GaussianMixture
        A fitted mixture with ``covariance_type`` in {"full", "tied", "diag", "spherical"}.

    Returns
    -------
    covariances : ndarray of shape (n_components, n_features, n_features)
    """
    means = np.asarray(model.means_, dtype=np.float64)
    n_components, n_features = means.shape
    cov = np.asarray(model.covariances_, dtype=np.float64)
    kind = model.covariance_type
    if kind == "full":
        return cov.reshape(n_components, n_features, n_features)
    if kind == "tied":
        return np.broadcast_to(cov, (n_components, n_features, n_features)).copy()
    if kind == "diag":
        return np.einsum("kd,de->kde", cov, np.eye(n_features))
    if kind == "spherical":
        return cov[:, np.newaxis, np.newaxis] * np.eye(n_features)
    raise ValueError(f"unknown covariance_type {kind!r}")


def _finish(fig: Any, path: str | os.PathLike[str] | None, dpi: int) -> None:
    if path is not None:
        fig.savefig(path, dpi=dpi)


def _new_axes(ax: Any, figsize: tuple[float, float], dpi: int) -> tuple[Any, Any]:
    if ax is not None:
        return ax.figure, ax
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=figsize, dpi=dpi)
    return fig, ax


def _as_2d(X: np.ndarray) -> np.ndarray:
    X = np.asarray(X, dtype=np.float64)
    return X[:, np.newaxis] if X.ndim == 1 else X


def _normal_pdf(x: np.ndarray, mean: float, var: float) -> np.ndarray:
    return np.exp(-0.5 * (x - mean) ** 2 / var) / np.sqrt(2.0 * np.pi * var)


def plot_1d(
    model: Any,
    X: np.ndarray,
    ax: Any = None,
    *,
    bins: int | str = "auto",
    dim: int = 0,
    title: str | None = None,
    path: str | os.PathLike[str] | None = None,
    figsize: tuple[float, float] = (7.0, 4.0),
    dpi: int = 100,
) -> tuple[Any, Any]:
    """Draw a histogram of one feature with the mixture density and each weighted component.

    For a model with several features the curves are the marginal densities along `dim`.

    Parameters
    ----------
    model : GaussianMixture
        A fitted mixture.
    X : array-like of shape (n_samples,) or (n_samples, n_features)
        The data to histogram.
    ax : matplotlib Axes, optional
        Axes to draw on; a new figure is made when omitted.
    bins : int or str, default="auto"
        Passed to ``numpy.histogram_bin_edges``.
    dim : int, default=0
        The feature to draw.
    title : str, optional
        Axes title.
    path : str or path-like, optional
        Save the figure there as PNG.
    figsize : tuple of float, default=(7, 4)
        Size in inches of a new figure.
    dpi : int, default=100
        Resolution of a new figure and of the saved PNG.

    Returns
    -------
    fig : matplotlib Figure
    ax : matplotlib Axes
    """
    X = _as_2d(X)
    fig, ax = _new_axes(ax, figsize, dpi)
    x = X[:, dim]
    means = np.asarray(model.means_, dtype=np.float64)[:, dim]
    variances = component_covariances(model)[:, dim, dim]
    weights = np.asarray(model.weights_, dtype=np.float64)
    sds = np.sqrt(variances)
    lo = min(x.min(), float(np.min(means - 3 * sds)))
    hi = max(x.max(), float(np.max(means + 3 * sds)))
    grid = np.linspace(lo, hi, 500)
    edges = np.histogram_bin_edges(x, bins=bins)
    ax.hist(x, bins=edges, density=True, color="0.8", edgecolor="0.6", label="data")
    total = np.zeros_like(grid)
    for k in range(len(weights)):
        density = weights[k] * _normal_pdf(grid, means[k], variances[k])
        total += density
        ax.plot(
            grid,
            density,
            "--",
            color=_colour(k),
            linewidth=2,
            zorder=3,
            label=f"{weights[k]:.2f} N({means[k]:.3g}, {np.sqrt(variances[k]):.3g}²)",
        )
    ax.plot(grid, total, color="black", linewidth=1.5, alpha=0.8, label="mixture")
    ax.set_xlabel(f"x{dim}" if X.shape[1] > 1 else "x")
    ax.set_ylabel("density")
    ax.legend(fontsize="small")
    if title:
        ax.set_title(title)
    _finish(fig, path, dpi)
    return fig, ax


def _draw_ellipses(
    ax: Any, mean: np.ndarray, cov: np.ndarray, colour: Any, n_std: Iterable[float]
) -> list[Any]:
    from matplotlib.patches import Ellipse

    eigvals, eigvecs = np.linalg.eigh(cov)
    eigvals = np.clip(eigvals, 0.0, None)
    angle = float(np.degrees(np.arctan2(eigvecs[1, -1], eigvecs[0, -1])))
    patches = []
    for n in n_std:
        ellipse = Ellipse(
            xy=(float(mean[0]), float(mean[1])),
            width=2 * n * float(np.sqrt(eigvals[-1])),
            height=2 * n * float(np.sqrt(eigvals[0])),
            angle=angle,
            facecolor="none",
            edgecolor=colour,
            linewidth=1.5,
            linestyle="-" if n <= 1 else "--",
        )
        ax.add_patch(ellipse)
        patches.append(ellipse)
    ax.plot(mean[0], mean[1], "x", color="black", markersize=7, markeredgewidth=2)
    return patches


def plot_ellipses(
    model: Any,
    X: np.ndarray,
    labels: np.ndarray | None = None,
    dims: tuple[int, int] = (0, 1),
    ax: Any = None,
    *,
    n_std: Sequence[float] = (1.0, 2.0),
    feature_names: Sequence[str] | None = None,
    title: str | None = None,
    path: str | os.PathLike[str] | None = None,
    figsize: tuple[float, float] = (6.0, 5.0),
    dpi: int = 100,
) -> tuple[Any, Any]:
    """Scatter two features coloured by label, with each component's covariance ellipses.

    Works for every covariance type: the ellipse of component k is the 2 x 2 block
    ``(dims, dims)`` of its full covariance (`component_covariances`), drawn at 1 and 2
    standard deviations (solid and dashed).

    Parameters
    ----------
    model : GaussianMixture
        A fitted mixture.
    X : array-like of shape (n_samples, n_features)
        The data the model describes.
    labels : array-like of shape (n_samples,), optional
        Colour of each point; ``model.predict(X)`` when omitted.
    dims : tuple of two int, default=(0, 1)
        The features on the x and y axes.
    ax : matplotlib Axes, optional
        Axes to draw on; a new figure is made when omitted.
    n_std : sequence of float, default=(1, 2)
        Radii of the ellipses in standard deviations.
    feature_names : sequence of str, optional
        Axis labels.
    title : str, optional
        Axes title.
    path : str or path-like, optional
        Save the figure there as PNG.
    figsize : tuple of float, default=(6, 5)
        Size in inches of a new figure.
    dpi : int, default=100
        Resolution of a new figure and of the saved PNG.

    Returns
    -------
    fig : matplotlib Figure
    ax : matplotlib Axes
    """
    X = _as_2d(X)
    if labels is None:
        labels = model.predict(X)
    labels = np.asarray(labels)
    i, j = dims
    fig, ax = _new_axes(ax, figsize, dpi)
    colours = [_colour(int(c)) for c in labels]
    ax.scatter(X[:, i], X[:, j], c=colours, s=14, alpha=0.7, edgecolors="none")
    covs = component_covariances(model)
    means = np.asarray(model.means_, dtype=np.float64)
    for k in range(len(means)):
        block = covs[k][np.ix_([i, j], [i, j])]
        _draw_ellipses(ax, means[k, [i, j]], block, _colour(k), n_std)
    names = feature_names or [f"x{d}" for d in range(X.shape[1])]
    ax.set_xlabel(names[i])
    ax.set_ylabel(names[j])
    if title:
        ax.set_title(title)
    ax.autoscale_view()
    _finish(fig, path, dpi)
    return fig, ax


def plot_pairs(
    model: Any,
    X: np.ndarray,
    labels: np.ndarray | None = None,
    feature_names: Sequence[str] | None = None,
    *,
    n_std: Sequence[float] = (1.0, 2.0),
    title: str | None = None,
    path: str | os.PathLike[str] | None = None,
    panel_size: float = 2.4,
    dpi: int = 100,
) -> tuple[Any, np.ndarray]:
    """Draw every pair of features coloured by cluster, with the component ellipses.

    Off-diagonal panel (r, c) shows feature c against feature r as `plot_ellipses` does;
    diagonal panels show per-cluster histograms of that feature.

    Parameters
    ----------
    model : GaussianMixture
        A fitted mixture.
    X : array-like of shape (n_samples, n_features)
        The data the model describes.
    labels : array-like of shape (n_samples,), optional
        Colour of each point; ``model.predict(X)`` when omitted.
    feature_names : sequence of str, optional
        Axis labels.
    n_std : sequence of float, default=(1, 2)
        Radii of the ellipses in standard deviations.
    title : str, optional
        Figure title.
    path : str or path-like, optional
        Save the figure there as PNG.
    panel_size : float, default=2.4
        Width and height of one panel in inches.
    dpi : int, default=100
        Resolution of the figure and of the saved PNG.

    Returns
    -------
    fig : matplotlib Figure
    axes : ndarray of matplotlib Axes, shape (n_features, n_features)
    """
    plt = _pyplot()
    X = _as_2d(X)
    if labels is None:
        labels = model.predict(X)
    labels = np.asarray(labels)
    n_features = X.shape[1]
    names = list(feature_names) if feature_names else [f"x{d}" for d in range(n_features)]
    size = panel_size * n_features
    fig, axes = plt.subplots(n_features, n_features, figsize=(size, size), dpi=dpi, squeeze=False)
    for r in range(n_features):
        for c in range(n_features):
            ax = axes[r, c]
            if r == c:
                edges = np.histogram_bin_edges(X[:, c], bins=15)
                for value in np.unique(labels):
                    ax.hist(X[labels == value, c], bins=edges, color=_colour(value), alpha=0.55)
            else:
                plot_ellipses(model, X, labels, dims=(c, r), ax=ax, n_std=n_std)
                ax.set_xlabel("")
                ax.set_ylabel("")
            if r == n_features - 1:
                ax.set_xlabel(names[c])
            if c == 0:
                ax.set_ylabel(names[r])
            ax.tick_params(labelsize="x-small")
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    _finish(fig, path, dpi)
    return fig, axes


def plot_criterion(
    table: Sequence[Mapping[str, Any]],
    *,
    title: str | None = None,
    path: str | os.PathLike[str] | None = None,
    figsize: tuple[float, float] = (10.0, 4.0),
    dpi: int = 100,
) -> tuple[Any, np.ndarray]:
    """Draw BIC and AIC against the number of components, one line per covariance type.

    Parameters
    ----------
    table : sequence of mappings
        One row per fitted model with keys ``n_components``, ``covariance_type``, ``bic``
        and ``aic`` (the rows printed by ``fastgmm select``). The lowest value of each
        criterion is marked with a star.
    title : str, optional
        Figure title.
    path : str or path-like, optional
        Save the figure there as PNG.
    figsize : tuple of float, default=(10, 4)
        Size in inches.
    dpi : int, default=100
        Resolution of the figure and of the saved PNG.

    Returns
    -------
    fig : matplotlib Figure
    axes : ndarray of two matplotlib Axes (BIC, AIC)
    """
    plt = _pyplot()
    if not table:
        raise ValueError("the criterion table is empty")
    fig, axes = plt.subplots(1, 2, figsize=figsize, dpi=dpi, squeeze=False)
    axes = axes[0]
    kinds = list(dict.fromkeys(str(row["covariance_type"]) for row in table))
    for ax, criterion in zip(axes, ("bic", "aic"), strict=True):
        best = min(table, key=lambda row: float(row[criterion]))
        for idx, kind in enumerate(kinds):
            rows = sorted(
                (row for row in table if row["covariance_type"] == kind),
                key=lambda row: int(row["n_components"]),
            )
            ks = [int(row["n_components"]) for row in rows]
            values = [float(row[criterion]) for row in rows]
            ax.plot(ks, values, "o-", color=_colour(idx), label=kind, markersize=4)
        ax.plot(
            int(best["n_components"]),
            float(best[criterion]),
            "*",
            color="black",
            markersize=16,
            label=f"best: k={best['n_components']}, {best['covariance_type']}",
        )
        ax.set_xlabel("number of components")
        ax.set_ylabel(criterion.upper())
        ax.set_title(f"{criterion.upper()} (lower is better)")
        ax.legend(fontsize="small")
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    _finish(fig, path, dpi)
    return fig, axes


def plot_convergence(
    model: Any,
    ax: Any = None,
    *,
    title: str | None = None,
    path: str | os.PathLike[str] | None = None,
    figsize: tuple[float, float] = (6.0, 4.0),
    dpi: int = 100,
) -> tuple[Any, Any]:
    """Draw the per-sample lower bound after every EM iteration of the best initialisation.

    Parameters
    ----------
    model : GaussianMixture
        A fitted mixture with ``lower_bounds_``.
    ax : matplotlib Axes, optional
        Axes to draw on; a new figure is made when omitted.
    title : str, optional
        Axes title.
    path : str or path-like, optional
        Save the figure there as PNG.
    figsize : tuple of float, default=(6, 4)
        Size in inches of a new figure.
    dpi : int, default=100
        Resolution of a new figure and of the saved PNG.

    Returns
    -------
    fig : matplotlib Figure
    ax : matplotlib Axes
    """
    bounds = np.asarray(getattr(model, "lower_bounds_", []), dtype=np.float64)
    if bounds.size == 0:
        raise ValueError("the model has no lower_bounds_: fit it first")
    fig, ax = _new_axes(ax, figsize, dpi)
    iterations = np.arange(1, bounds.size + 1)
    ax.plot(iterations, bounds, "o-", markersize=3)
    ax.set_xlabel("EM iteration")
    ax.set_ylabel("lower bound (mean log-likelihood)")
    converged = getattr(model, "converged_", None)
    ax.set_title(title or f"convergence: {bounds.size} iterations, converged={converged}")
    _finish(fig, path, dpi)
    return fig, ax
