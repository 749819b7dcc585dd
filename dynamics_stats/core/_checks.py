"""Parameter checks used in ``__post_init__`` of configuration objects and detectors.

Each check raises `ConfigError` naming the parameter, its owner, what is allowed and
what was received.
"""

from __future__ import annotations

import math
from collections.abc import Collection
from typing import Any

from dynamics_stats.core.errors import ConfigError

__all__ = ["check_choice", "check_float", "check_int"]


def _owner(obj: Any) -> str:
    return type(obj).__name__


def check_int(obj: Any, name: str, *, low: int | None = None, high: int | None = None) -> None:
    """Check that ``obj.<name>`` is an int within ``[low, high]``.

    Parameters
    ----------
    obj : object
        The object holding the parameter (its class name goes into the message).
    name : str
        Attribute name.
    low, high : int or None, default=None
        Inclusive bounds; None means unbounded.

    Raises
    ------
    ConfigError
        If the value is not an int (bools are refused) or is out of bounds.
    """
    value = getattr(obj, name)
    ok = isinstance(value, int) and not isinstance(value, bool)
    ok = ok and (low is None or value >= low) and (high is None or value <= high)
    if not ok:
        raise ConfigError(
            f"{_owner(obj)}.{name} must be an int{_bounds(low, high)}; got {value!r}."
        )


def check_float(
    obj: Any,
    name: str,
    *,
    low: float | None = None,
    high: float | None = None,
    low_open: bool = False,
) -> None:
    """Check that ``obj.<name>`` is a finite real number within bounds.

    Parameters
    ----------
    obj : object
        The object holding the parameter.
    name : str
        Attribute name.
    low, high : float or None, default=None
        Bounds; None means unbounded. ``high`` is inclusive.
    low_open : bool, default=False
        Whether ``low`` itself is excluded.

    Raises
    ------
    ConfigError
        If the value is not a finite number or is out of bounds.
    """
    value = getattr(obj, name)
    ok = isinstance(value, (int, float)) and not isinstance(value, bool)
    ok = ok and math.isfinite(value)
    if ok and low is not None:
        ok = value > low if low_open else value >= low
    if ok and high is not None:
        ok = value <= high
    if not ok:
        bound = _bounds(low, high).replace(">=", ">") if low_open else _bounds(low, high)
        raise ConfigError(f"{_owner(obj)}.{name} must be a finite number{bound}; got {value!r}.")


def check_choice(obj: Any, name: str, choices: Collection[str]) -> None:
    """Check that ``obj.<name>`` is one of ``choices``.

    Parameters
    ----------
    obj : object
        The object holding the parameter.
    name : str
        Attribute name.
    choices : collection of str
        Allowed values.

    Raises
    ------
    ConfigError
        If the value is not one of the choices.
    """
    value = getattr(obj, name)
    if value not in choices:
        allowed = ", ".join(repr(c) for c in sorted(choices))
        raise ConfigError(f"{_owner(obj)}.{name} must be one of {allowed}; got {value!r}.")


def _bounds(low: float | None, high: float | None) -> str:
    if low is not None and high is not None:
        return f" in [{low}, {high}]"
    if low is not None:
        return f" >= {low}"
    if high is not None:
        return f" <= {high}"
    return ""
