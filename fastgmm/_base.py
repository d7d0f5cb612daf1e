"""scikit-learn estimator conventions without importing scikit-learn.

``get_params``/``set_params`` come from the ``__init__`` signature, so
``sklearn.base.clone``, ``Pipeline`` and ``GridSearchCV`` work when
scikit-learn is installed; ``__sklearn_tags__`` imports it lazily because only
scikit-learn itself ever calls it.
"""

from __future__ import annotations

import inspect
from typing import Any

from ._validation import NotFittedError


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

        return Tags(
            estimator_type=self._estimator_type,
            target_tags=TargetTags(required=False),
            transformer_tags=None,
            classifier_tags=None,
            regressor_tags=None,
            input_tags=InputTags(allow_nan=False),
        )

    def _check_is_fitted(self, attribute: str) -> None:
        if not hasattr(self, attribute):
            raise NotFittedError(
                f"This {type(self).__name__} instance is not fitted yet. Call 'fit' with "
                "appropriate arguments before using this estimator."
            )
