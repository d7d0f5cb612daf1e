"""Save fitted models to a versioned ``.npz`` file and load them back without pickle.

The file is a plain NumPy ``.npz`` archive readable with ``np.load(path, allow_pickle=False)``:

==========================  ================================================================
key                         content
==========================  ================================================================
``__format__``              the string ``"fastgmm-model"``
``__format_version__``      integer format version (`FORMAT_VERSION`)
``__class__``               estimator class name, ``"GaussianMixture"`` or ``"KMeans"``
``__params__``              constructor parameters as a JSON string (``get_params()``)
``__attrs__``               JSON object: fitted attribute name -> kind (array, int, ...)
``__fastgmm_version__``     version of fastgmm that wrote the file
``attr:<name>``             one array per fitted attribute (``weights_``, ``means_``, ...)
``param:<name>``            array-valued constructor parameters (``means_init``, ...)
``meta:<name>``             optional caller metadata, e.g. the CLI's standardisation arrays
==========================  ================================================================

Pickling works too: the estimators hold only arrays and plain parameters.
"""

from __future__ import annotations

import json
import os
import tempfile
import warnings
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["FORMAT_VERSION", "load_metadata", "load_model", "save_model"]

#: Version of the ``.npz`` layout written by `save_model`; `load_model` reads versions up to it.
FORMAT_VERSION = 1
_FORMAT_NAME = "fastgmm-model"

# Classes that may be rebuilt from a file: name -> (module, attribute). Nothing else is
# ever imported from what a file says.
_CLASSES = {
    "GaussianMixture": ("fastgmm._estimator", "GaussianMixture"),
    "KMeans": ("fastgmm._kmeans", "KMeans"),
}


def save_model(
    model: Any,
    path: str | os.PathLike[str],
    *,
    metadata: dict[str, np.ndarray] | None = None,
) -> Path:
    """Write a fitted estimator to a ``.npz`` file.

    Parameters
    ----------
    model : GaussianMixture or KMeans
        A fitted fastgmm estimator.
    path : str or path-like
        Destination, written as given (no ``.npz`` suffix is appended). The file is written
        to a temporary name first and then renamed, so a failed save leaves no partial file.
    metadata : dict of str to array-like, optional
        Extra numeric or string arrays stored under ``meta:<name>`` and returned by
        `load_metadata` (the CLI stores its z-score ``mean`` and ``scale`` here).

    Returns
    -------
    path : Path
        The path written.

    Raises
    ------
    TypeError
        If `model` is not a supported estimator or a fitted attribute cannot be stored
        without pickle.
    ValueError
        If `model` is not fitted.

    Examples
    --------
    >>> import numpy as np, tempfile, os
    >>> from fastgmm import GaussianMixture
    >>> X = np.random.default_rng(0).normal(size=(50, 2))
    >>> gm = GaussianMixture(2, random_state=0).fit(X)
    >>> path = os.path.join(tempfile.mkdtemp(), "model.npz")
    >>> _ = save_model(gm, path)
    >>> bool(np.array_equal(load_model(path).predict(X), gm.predict(X)))
    True
    """
    class_name = type(model).__name__
    if class_name not in _CLASSES or not hasattr(model, "get_params"):
        raise TypeError(
            f"save_model supports {', '.join(sorted(_CLASSES))}, got {type(model).__name__}"
        )
    attrs = {
        name: value
        for name, value in vars(model).items()
        if name.endswith("_") and not name.startswith("_")
    }
    if not attrs:
        raise ValueError(f"this {class_name} is not fitted yet: call fit before saving it")

    arrays: dict[str, np.ndarray] = {
        "__format__": np.array(_FORMAT_NAME),
        "__format_version__": np.array(FORMAT_VERSION, dtype=np.int64),
        "__class__": np.array(class_name),
        "__fastgmm_version__": np.array(_fastgmm_version()),
    }
    kinds: dict[str, str] = {}
    for name, value in attrs.items():
        kind, array = _encode(name, value)
        kinds[name] = kind
        arrays[f"attr:{name}"] = array
    arrays["__attrs__"] = np.array(json.dumps(kinds, sort_keys=True))

    params: dict[str, Any] = {}
    for name, value in model.get_params(deep=False).items():
        if isinstance(value, np.ndarray):
            arrays[f"param:{name}"] = _plain_array(name, value)
            params[name] = {"__array__": name}
        elif isinstance(value, np.random.RandomState | np.random.Generator):
            warnings.warn(
                f"{name} is a {type(value).__name__}; it is saved as None",
                UserWarning,
                stacklevel=2,
            )
            params[name] = None
        else:
            params[name] = _json_scalar(name, value)
    arrays["__params__"] = np.array(json.dumps(params, sort_keys=True))

    for name, value in (metadata or {}).items():
        arrays[f"meta:{name}"] = _plain_array(f"metadata {name!r}", np.asarray(value))

    path = Path(path)
    fd, tmp_name = tempfile.mkstemp(prefix=path.name + ".", suffix=".tmp", dir=path.parent or ".")
    try:
        with os.fdopen(fd, "wb") as handle:
            np.savez(handle, **arrays)
        os.replace(tmp_name, path)
    except BaseException:
        if os.path.exists(tmp_name):
            os.unlink(tmp_name)
        raise
    return path


def load_model(path: str | os.PathLike[str]) -> Any:
    """Read an estimator written by `save_model`.

    Parameters
    ----------
    path : str or path-like
        A ``.npz`` file written by `save_model`.

    Returns
    -------
    model : GaussianMixture or KMeans
        A new estimator with the saved constructor parameters and fitted attributes; it
        predicts exactly as the saved one did.

    Raises
    ------
    FileNotFoundError
        If `path` does not exist.
    ValueError
        If the file is not a fastgmm model or was written by a newer format version.
    """
    with _open(path) as data:
        class_name = str(data["__class__"][()])
        if class_name not in _CLASSES:
            raise ValueError(f"{os.fspath(path)}: unknown model class {class_name!r}")
        module_name, attr = _CLASSES[class_name]
        import importlib

        cls = getattr(importlib.import_module(module_name), attr)
        params = json.loads(str(data["__params__"][()]))
        for name, value in params.items():
            if isinstance(value, dict) and set(value) == {"__array__"}:
                params[name] = data[f"param:{value['__array__']}"]
        model = cls(**params)
        kinds = json.loads(str(data["__attrs__"][()]))
        for name, kind in kinds.items():
            setattr(model, name, _decode(kind, data[f"attr:{name}"]))
    return model


def load_metadata(path: str | os.PathLike[str]) -> dict[str, np.ndarray]:
    """Return the ``metadata`` arrays stored by `save_model` (empty dict when none).

    Parameters
    ----------
    path : str or path-like
        A ``.npz`` file written by `save_model`.

    Returns
    -------
    metadata : dict of str to ndarray
        The arrays passed as ``metadata=`` when saving.
    """
    with _open(path) as data:
        return {key[5:]: data[key] for key in data.files if key.startswith("meta:")}


def _open(path: str | os.PathLike[str]) -> Any:
    """Open `path` as a fastgmm ``.npz`` and check its format key and version."""
    if not os.path.exists(path):
        raise FileNotFoundError(f"model file not found: {os.fspath(path)}")
    try:
        data = np.load(path, allow_pickle=False)
    except Exception as exc:  # not a zip / not an npz at all
        raise ValueError(f"{os.fspath(path)} is not a fastgmm model file ({exc})") from exc
    if not hasattr(data, "files") or "__format__" not in data.files:
        if hasattr(data, "close"):
            data.close()
        raise ValueError(f"{os.fspath(path)} is not a fastgmm model file")
    version = int(data["__format_version__"][()])
    if str(data["__format__"][()]) != _FORMAT_NAME or version > FORMAT_VERSION:
        data.close()
        raise ValueError(
            f"{os.fspath(path)} has model format version {version}; this fastgmm "
            f"({_fastgmm_version()}) reads versions up to {FORMAT_VERSION}: upgrade fastgmm"
        )
    return data


def _encode(name: str, value: Any) -> tuple[str, np.ndarray]:
    """Turn a fitted attribute into (kind, array) storable without pickle."""
    if isinstance(value, bool | np.bool_):
        return "bool", np.array(bool(value))
    if isinstance(value, int | np.integer):
        return "int", np.array(int(value), dtype=np.int64)
    if isinstance(value, float | np.floating):
        return "float", np.array(float(value), dtype=np.float64)
    if isinstance(value, str):
        return "str", np.array(value)
    if isinstance(value, list | tuple):
        return "list", _plain_array(name, np.asarray(value))
    if isinstance(value, np.ndarray):
        return "array", _plain_array(name, value)
    raise TypeError(f"cannot save fitted attribute {name} of type {type(value).__name__}")


def _decode(kind: str, array: np.ndarray) -> Any:
    if kind == "bool":
        return bool(array[()])
    if kind == "int":
        return int(array[()])
    if kind == "float":
        return float(array[()])
    if kind == "str":
        return str(array[()])
    if kind == "list":
        return array.tolist()
    return array


def _plain_array(name: str, value: np.ndarray) -> np.ndarray:
    """Return `value` as an array loadable with ``allow_pickle=False``."""
    if value.dtype == object:
        try:
            return value.astype(str)
        except (TypeError, ValueError) as exc:
            raise TypeError(f"cannot save {name}: object array") from exc
    return value


def _json_scalar(name: str, value: Any) -> Any:
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"cannot save parameter {name} of type {type(value).__name__}")


def _fastgmm_version() -> str:
    import fastgmm

    if isinstance(getattr(fastgmm, "__version__", None), str):
        return fastgmm.__version__
    try:
        from importlib.metadata import version

        return version("fastgmm")
    except Exception:  # not installed (running from a source tree)
        return "unknown"
