"""Numba kernels (internal layout; the stable public names are in :mod:`fastgmm.kernels`)."""

from .estep import (
    e_step_diag_parallel,
    e_step_full_parallel,
    e_step_spherical_parallel,
    e_step_tied_parallel,
)
from .kmeans import (
    distance_to_assigned,
    kmeans_assign,
    kmeans_assign_parallel,
    kmeans_plusplus,
    kmeans_plusplus_parallel,
)
from .linalg import cholesky_lower, precision_cholesky_from_covariance
from .logprob import (
    log_gaussian_prob_diag,
    log_gaussian_prob_full,
    log_gaussian_prob_spherical,
    log_gaussian_prob_tied,
)
from .mstep import m_step_diag, m_step_full, m_step_spherical, m_step_tied
from .resp import add_log_weights, argmax_rows, normalize_log_resp
from .suffstats import (
    accumulate_diag,
    accumulate_full,
    accumulate_spherical,
    accumulate_tied,
    resp_from_log_prob,
    suffstats_diag,
    suffstats_diag_parallel,
    suffstats_full,
    suffstats_full_parallel,
    suffstats_spherical,
    suffstats_spherical_parallel,
    suffstats_tied,
    suffstats_tied_parallel,
)

__all__ = [
    "accumulate_diag",
    "accumulate_full",
    "accumulate_spherical",
    "accumulate_tied",
    "add_log_weights",
    "argmax_rows",
    "cholesky_lower",
    "distance_to_assigned",
    "e_step_diag_parallel",
    "e_step_full_parallel",
    "e_step_spherical_parallel",
    "e_step_tied_parallel",
    "kmeans_assign",
    "kmeans_assign_parallel",
    "kmeans_plusplus",
    "kmeans_plusplus_parallel",
    "log_gaussian_prob_diag",
    "log_gaussian_prob_full",
    "log_gaussian_prob_spherical",
    "log_gaussian_prob_tied",
    "m_step_diag",
    "m_step_full",
    "m_step_spherical",
    "m_step_tied",
    "normalize_log_resp",
    "precision_cholesky_from_covariance",
    "resp_from_log_prob",
    "suffstats_diag",
    "suffstats_diag_parallel",
    "suffstats_full",
    "suffstats_full_parallel",
    "suffstats_spherical",
    "suffstats_spherical_parallel",
    "suffstats_tied",
    "suffstats_tied_parallel",
]
