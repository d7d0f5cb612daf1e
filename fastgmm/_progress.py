"""A progress bar that is tqdm when tqdm is installed and silent otherwise.

The API is two calls, so the fit loop need not know whether tqdm exists::

    bar = progress(total=n_init * max_iter, enabled=verbose > 0, desc="EM")
    for ...:
        bar.update(1)
    bar.close()

`progress` also works as a context manager (``with progress(...) as bar:``). When EM
converges early, call ``bar.update(remaining)`` or simply ``bar.close()``; the bar is
left off the screen after closing (``leave=False``) unless asked otherwise.
"""

from __future__ import annotations

import sys
from typing import Any, Protocol

__all__ = ["ProgressBar", "progress"]


class ProgressBar(Protocol):
    """What `progress` returns: tqdm's bar or a no-op with the same three methods."""

    def update(self, n: int = 1) -> Any:
        """Advance the bar by `n` steps."""

    def set_postfix_str(self, s: str = "", refresh: bool = True) -> Any:
        """Show a short status string (for example the current lower bound) after the bar."""

    def close(self) -> Any:
        """Finish the bar; further calls do nothing."""


class _NoProgress:
    """Does nothing: the bar used when tqdm is missing or the bar is disabled."""

    def update(self, n: int = 1) -> None:
        """Do nothing."""

    def set_postfix_str(self, s: str = "", refresh: bool = True) -> None:
        """Do nothing."""

    def close(self) -> None:
        """Do nothing."""

    def __enter__(self) -> _NoProgress:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def progress(
    total: int,
    enabled: bool = True,
    *,
    desc: str | None = None,
    leave: bool = False,
) -> ProgressBar:
    """Return a progress bar over `total` steps, or a silent stand-in.

    Parameters
    ----------
    total : int
        Number of steps, for example ``n_init * max_iter`` EM iterations.
    enabled : bool, default=True
        Whether a bar is wanted at all (the estimator passes ``verbose > 0``).
    desc : str, optional
        Label printed in front of the bar.
    leave : bool, default=False
        Keep the finished bar on the screen.

    Returns
    -------
    bar : ProgressBar
        A ``tqdm.tqdm`` instance writing to stderr when `enabled` and tqdm is importable;
        otherwise an object whose ``update(n)``, ``set_postfix_str(s)`` and ``close()`` do
        nothing. Both work as context managers.

    Examples
    --------
    >>> with progress(total=3, enabled=False) as bar:
    ...     for _ in range(3):
    ...         bar.update(1)
    """
    if not enabled:
        return _NoProgress()
    try:
        from tqdm import tqdm
    except ImportError:
        return _NoProgress()
    return tqdm(total=int(total), desc=desc, leave=leave, file=sys.stderr, dynamic_ncols=True)
