"""``fastgmm demo``: the seeds' experiments on data shipped with fastgmm.

1. Iris: `fastgmm.KMeans` with 3 clusters versus `GaussianMixture` (3 full components,
   k-means initialisation), accuracy after the best matching of clusters to species, and the
   fitted parameters.
2. The 1-D lecture examples: N(0, 3^2) + N(10, 1), and three Gaussians with means
   -0.5/-0.1/0.2 and standard deviations 0.2/0.07/0.13, fitted and compared with the truth.
3. Pictures in ``--out`` when matplotlib is installed.

Nothing printed is hard-coded: every number comes from the fits just made.
"""

from __future__ import annotations

import argparse
import copy
import os
import time
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

from fastgmm._cli_data import DataError, standardize
from fastgmm._datasets import LECTURE_MIXTURES, load_iris, make_1d_lecture_mixture
from fastgmm._metrics import best_label_mapping, confusion_matrix

__all__ = ["permute_components", "run_demo"]


def permute_components(model: Any, order: np.ndarray) -> Any:
    """Return a copy of a fitted mixture whose component ``i`` is component ``order[i]``.

    Used to give clusters the colour and index of the species they match.

    Parameters
    ----------
    model : GaussianMixture
        A fitted mixture.
    order : ndarray of shape (n_components,)
        A permutation of ``range(n_components)``.

    Returns
    -------
    model : GaussianMixture
        The relabelled copy; it gives the same densities.
    """
    out = copy.deepcopy(model)
    per_component = ["weights_", "means_"]
    if model.covariance_type != "tied":
        per_component += ["covariances_", "precisions_", "precisions_cholesky_"]
    for name in per_component:
        if hasattr(out, name):
            setattr(out, name, np.asarray(getattr(out, name))[order].copy())
    return out


def _matched_order(y_true: np.ndarray, y_pred: np.ndarray, n: int) -> np.ndarray:
    """order[t] = the cluster matched to class t (clusters without a class go last)."""
    mapping = best_label_mapping(y_true, y_pred)  # cluster -> class
    inverse = {cls: cluster for cluster, cls in mapping.items()}
    order = [inverse[t] for t in range(n) if t in inverse]
    order += [c for c in range(n) if c not in order]
    return np.array(order[:n])


def _accuracy_row(name: str, y: np.ndarray, labels: np.ndarray) -> tuple[str, float, int]:
    mapping = best_label_mapping(y, labels)
    hits = int(sum(mapping[int(c)] == t for c, t in zip(labels, y, strict=True)))
    return name, hits / len(y), hits


def run_demo(
    args: argparse.Namespace,
    *,
    emit: Callable[[str], None],
    note: Callable[[str], None],
    plot_module: Callable[[], Any] | None,
) -> int:
    """Run the demo and print its report.

    Parameters
    ----------
    args : argparse.Namespace
        ``out``, ``standardize``, ``random_state``, ``no_plots`` and ``backend``.
    emit, note : callable
        Write a line to stdout / a note to stderr.
    plot_module : callable or None
        Returns `fastgmm.plot` with the Agg backend; None when matplotlib is missing.

    Returns
    -------
    status : int
        0.
    """
    from fastgmm import GaussianMixture, KMeans

    seed = args.random_state
    X_raw, y, feature_names, target_names = load_iris()
    if args.standardize:
        X, mean, scale = standardize(X_raw)
    else:
        X, mean, scale = X_raw, np.zeros(X_raw.shape[1]), np.ones(X_raw.shape[1])
    units = "z-scored features" if args.standardize else "raw features (cm)"
    emit(f"Iris: {X.shape[0]} samples x {X.shape[1]} features, 3 species, {units}")
    emit("")

    start = time.perf_counter()
    # Ten k-means++ restarts keep the lowest inertia, as scikit-learn's KMeans did by default
    # when the seeds' homework was written; one restart can stop in a worse local optimum.
    km = KMeans(3, n_init=10, random_state=seed).fit(X)
    t_km = time.perf_counter() - start
    gm = GaussianMixture(
        3, covariance_type="full", init_params="kmeans", random_state=seed, backend=args.backend
    )
    start = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        gm.fit(X)
    t_gm = time.perf_counter() - start
    for warning in caught:
        note(f"warning: {str(warning.message).splitlines()[0]}")
    gm_labels = gm.predict(X)
    km_labels = np.asarray(km.labels_)

    rows = [
        _accuracy_row("k-means: KMeans(3, n_init=10)", y, km_labels),
        _accuracy_row("EM: GaussianMixture(3, 'full'), k-means init", y, gm_labels),
    ]
    width = max(len(r[0]) for r in rows)
    emit("Accuracy after best matching of clusters to species")
    emit(f"  {'method':<{width}}  accuracy  hits")
    for name, accuracy, hits in rows:
        emit(f"  {name:<{width}}  {accuracy:8.3f}  {hits}/{len(y)}")
    emit(
        f"  (k-means: {km.n_iter_} iterations, {t_km * 1e3:.0f} ms; EM: {gm.n_iter_} "
        f"iterations, converged={gm.converged_}, {t_gm * 1e3:.0f} ms incl. any compilation)"
    )
    emit("")

    order = _matched_order(y, gm_labels, 3)
    gm_sorted = permute_components(gm, order)
    km_order = _matched_order(y, km_labels, 3)
    km_sorted = np.argsort(km_order)[km_labels]  # cluster index -> matched species index
    gm_sorted_labels = gm_sorted.predict(X)
    for title, labels in (("k-means", km_sorted), ("EM", gm_sorted_labels)):
        counts = confusion_matrix(y, labels)
        emit(f"Confusion matrix, {title} (rows: species, columns: matched cluster)")
        emit("  " + " " * 12 + "".join(f"{t[:10]:>12}" for t in target_names))
        for t, name in enumerate(target_names):
            emit(f"  {name:<12}" + "".join(f"{int(v):>12}" for v in counts[t, :3]))
        emit("")

    emit(
        "Fitted EM parameters (components named after the species they match"
        + (", back in cm" if args.standardize else "")
        + ")"
    )
    means = gm_sorted.means_ * scale + mean
    from fastgmm.plot import component_covariances

    covariances = component_covariances(gm_sorted) * np.outer(scale, scale)
    header = "".join(f"{n:>14}" for n in feature_names)
    for k, name in enumerate(target_names):
        emit(f"  component {k} ~ {name}: weight {gm_sorted.weights_[k]:.4f}")
        emit(f"    {'mean':<10}" + "".join(f"{v:>14.4f}" for v in means[k]))
        emit(f"    {'covariance':<10}{header}")
        for d, fname in enumerate(feature_names):
            emit(f"      {fname[:12]:<12}" + "".join(f"{v:>14.4f}" for v in covariances[k, d]))
    emit(f"  lower bound (mean log-likelihood per sample): {gm.lower_bound_:.4f}")
    emit("")

    lecture = {}
    for example in ("two", "three"):
        spec = LECTURE_MIXTURES[example]
        X1, y1 = make_1d_lecture_mixture(example, random_state=seed)
        n_components = len(spec["means"])
        g1 = GaussianMixture(n_components, random_state=seed, backend=args.backend)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            g1.fit(X1)
        lecture[example] = (X1, y1, g1)
        fitted = np.argsort(g1.means_[:, 0])
        truth = np.argsort(spec["means"])
        emit(
            f"1-D lecture example '{example}': {len(X1)} points, {n_components} components "
            f"(EM {g1.n_iter_} iterations, converged={g1.converged_})"
        )
        emit(
            f"  {'':>3} {'true w':>8} {'fit w':>8} {'true mean':>10} {'fit mean':>10}"
            f" {'true sd':>8} {'fit sd':>8}"
        )
        total = float(sum(spec["counts"]))
        for t, f in zip(truth, fitted, strict=True):
            emit(
                f"  {t:>3} {spec['counts'][t] / total:8.3f} {g1.weights_[f]:8.3f} "
                f"{spec['means'][t]:10.3f} {g1.means_[f, 0]:10.3f} "
                f"{spec['stds'][t]:8.3f} {np.sqrt(component_covariances(g1)[f, 0, 0]):8.3f}"
            )
        accuracy = _accuracy_row("", y1, g1.predict(X1))[1]
        emit(f"  accuracy after best matching: {accuracy:.3f}")
        emit("")

    if args.no_plots:
        return 0
    if plot_module is None:
        note("matplotlib is not installed: no pictures (pip install fastgmm[plot])")
        return 0
    _draw(
        args.out,
        plot_module(),
        X,
        y,
        km_sorted,
        km,
        km_order,
        gm_sorted,
        feature_names,
        target_names,
        lecture,
        units,
        emit,
        seed,
        args.backend,
    )
    return 0


def _draw(
    out: str,
    plot: Any,
    X: np.ndarray,
    y: np.ndarray,
    km_sorted: np.ndarray,
    km: Any,
    km_order: np.ndarray,
    gm_sorted: Any,
    feature_names: list[str],
    target_names: list[str],
    lecture: dict[str, tuple[np.ndarray, np.ndarray, Any]],
    units: str,
    emit: Callable[[str], None],
    seed: int,
    backend: str,
) -> None:
    import matplotlib.pyplot as plt

    try:
        os.makedirs(out, exist_ok=True)
    except OSError as exc:
        raise DataError(f"cannot create picture directory {out}: {exc.strerror}") from None
    written = []

    def save(fig: Any, name: str) -> None:
        path = os.path.join(out, name)
        fig.savefig(path, dpi=100)
        plt.close(fig)
        written.append(path)

    fig, axes = plt.subplots(1, 3, figsize=(15, 4.6), dpi=100, sharex=True, sharey=True)
    dims = (2, 3)
    colours = plt.get_cmap("tab10")
    for t, name in enumerate(target_names):
        mask = y == t
        axes[0].scatter(X[mask, 2], X[mask, 3], color=colours(t), s=14, label=name)
    axes[0].legend(fontsize="small")
    axes[0].set_title("true species")
    for t in range(3):
        mask = km_sorted == t
        axes[1].scatter(X[mask, 2], X[mask, 3], color=colours(t), s=14)
    centers = np.asarray(km.cluster_centers_)[km_order]
    axes[1].scatter(centers[:, 2], centers[:, 3], marker="x", color="black", s=60)
    axes[1].set_title("k-means clusters (x = centroid)")
    plot.plot_ellipses(
        gm_sorted, X, gm_sorted.predict(X), dims=dims, ax=axes[2], feature_names=feature_names
    )
    axes[2].set_ylabel("")
    axes[2].set_title("EM clusters, 1 and 2 sigma ellipses")
    for ax in axes:
        ax.set_xlabel(feature_names[2])
    axes[0].set_ylabel(feature_names[3])
    fig.suptitle(f"Iris, {units}: colours matched to species")
    fig.tight_layout()
    save(fig, "iris_species_kmeans_em.png")

    fig, _ = plot.plot_pairs(
        gm_sorted,
        X,
        gm_sorted.predict(X),
        feature_names,
        title="Iris: EM clusters with component ellipses",
    )
    save(fig, "iris_pairs_em.png")

    fig, _ = plot.plot_convergence(gm_sorted, title="Iris EM: lower bound per iteration")
    save(fig, "iris_convergence.png")

    from fastgmm._select_cli import COVARIANCE_TYPES, criterion_table

    rows = criterion_table(X, range(1, 7), COVARIANCE_TYPES, random_state=seed, backend=backend)
    fig, _ = plot.plot_criterion(rows, title="Iris: BIC / AIC by number of components")
    save(fig, "iris_bic_aic.png")

    for example, (X1, _, g1) in lecture.items():
        spec = LECTURE_MIXTURES[example]
        parts = ", ".join(
            f"N({m:g}, {s:g}²)" for m, s in zip(spec["means"], spec["stds"], strict=True)
        )
        fig, _ = plot.plot_1d(g1, X1, bins=30, title=f"lecture example: {parts}")
        save(fig, f"lecture_1d_{example}.png")

    emit(f"Pictures written to {out}:")
    for path in written:
        emit(f"  {path}")
