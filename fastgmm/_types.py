"""Shared type aliases."""

from __future__ import annotations

from typing import Literal

CovarianceType = Literal["full", "tied", "diag", "spherical"]
InitParams = Literal["kmeans", "k-means++", "random", "random_from_data"]
Backend = Literal["numba", "numpy"]

COVARIANCE_TYPES: tuple[str, ...] = ("full", "tied", "diag", "spherical")
INIT_PARAMS: tuple[str, ...] = ("kmeans", "k-means++", "random", "random_from_data")
BACKENDS: tuple[str, ...] = ("numba", "numpy")
