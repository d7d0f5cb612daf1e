"""scikit-learn estimator conventions without importing scikit-learn.

``get_params``/``set_params`` come from the ``__init__`` signature, so
``sklearn.base.clone``, ``Pipeline`` and ``GridSearchCV`` work when
scikit-learn is installed; ``__sklearn_tags__`` imports it lazily because only
scikit-learn itself ever calls it. ``tests/test_sklearn_checks.py`` runs
scikit-learn's estimator checks on these estimators.
"""

from __future__ import annotations

import inspect
import sys
from typing import Any

from ._validation import NotFittedError

_SKLEARN_NOT_FITTED: dict[type, type] = {}


def not_fitted_error(message: str) -> NotFittedError:
    """Build a `fastgmm.NotFittedError`, also scikit-learn's once that is imported.

    ``except fastgmm.NotFittedError`` always catches it. When
    ``sklearn.exceptions`` is already imported (as it must be for code that
    catches scikit-learn's class), the error is an instance of a subclass of
    both, so ``except sklearn.exceptions.NotFittedError`` catches it too;
    scikit-learn is never imported here.
    """
    module = sys.modules.get("sklearn.exceptions")
    sk_cls = getattr(module, "NotFittedError", None)
    if not isinstance(sk_cls, type) or issubclass(NotFittedError, sk_cls):
        return NotFittedError(message)
    cls = _SKLEARN_NOT_FITTED.get(sk_cls)
    if cls is None:
        cls = type(
            "NotFittedError",
            (NotFittedError, sk_cls),
            {
                "__doc__": NotFittedError.__doc__,
                "__module__": NotFittedError.__module__,
                "__reduce__": _reduce_not_fitted,  # pickles as the plain fastgmm class
            },
        )
        _SKLEARN_NOT_FITTED[sk_cls] = cls
    return cls(message)


def _reduce_not_fitted(self):
    return (NotFittedError, self.args)


class ParamsMixin:
    """``get_params``/``set_params``/``__repr__`` from the constructor signature."""

    _estimator_type = "DensityEstimator"

    @classmethod
    def _get_param_names(cls) -> list[str]:
        sig = inspect.signature(cls.__init__)
        return sorted(p.name for p in sig.parameters.values() if p.name != "self")

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """Get the constructor parameters of this estimator.

        Parameters
        ----------
        deep : bool, default=True
            Kept for scikit-learn compatibility (no nested estimators here).

        Returns
        -------
        params : dict
            Parameter names mapped to their values.
        """
        return {name: getattr(self, name) for name in self._get_param_names()}

    def set_params(self, **params: Any):
        """Set constructor parameters; returns ``self``.

        Raises
        ------
        ValueError
            For a name that is not a constructor parameter.
        """
        valid = set(self._get_param_names())
        for name, value in params.items():
            if name not in valid:
                raise ValueError(
                    f"Invalid parameter {name!r} for estimator {type(self).__name__}. "
                    f"Valid parameters are: {sorted(valid)!r}."
                )
            setattr(self, name, value)
        return self

    def __repr__(self) -> str:
        defaults = {
            p.name: p.default for p in inspect.signature(type(self).__init__).parameters.values()
        }
        changed = []
        for name, value in self.get_params().items():
            default = defaults.get(name, inspect.Parameter.empty)
            try:
                same = value is default or (value == default) is True
            except Exception:  # arrays compare elementwise
                same = False
            if not same:
                changed.append(f"{name}={value!r}")
        return f"{type(self).__name__}({', '.join(changed)})"

    def __sklearn_tags__(self):
        """Estimator tags for scikit-learn >= 1.6 (imports scikit-learn lazily)."""
        from sklearn.utils import InputTags, Tags, TargetTags

        # Dense 2-D numeric input only: NaN/inf, sparse and text are refused with
        # an error that names the fix (fastgmm._validation.check_X). Fits are
        # deterministic for a given random_state and thread count does not matter.
        return Tags(
            estimator_type=self._estimator_type,
            target_tags=TargetTags(required=False),
            transformer_tags=None,
            classifier_tags=None,
            regressor_tags=None,
            non_deterministic=False,
            requires_fit=True,
            input_tags=InputTags(two_d_array=True, sparse=False, allow_nan=False, string=False),
        )

    def _check_is_fitted(self, attribute: str) -> None:
        if not hasattr(self, attribute):
            raise not_fitted_error(
                f"This {type(self).__name__} instance is not fitted yet. Call 'fit' with "
                "appropriate arguments before using this estimator."
            )
