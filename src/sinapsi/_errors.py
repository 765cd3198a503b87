"""Error-message helpers shared across the library, so every 'unknown name' reads the same."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any


def one_line(error: BaseException, ours: tuple[type[BaseException], ...] | None = None) -> str:
    """``error``'s message on one line (runs of whitespace, newlines included, become one
    space), or its type's name when it has none. With ``ours``, an error of another type is
    prefixed with its type's name (``"KeyError: 'x'"``): ours speak for themselves."""
    text = " ".join(str(error).split())
    if not text:
        return type(error).__name__
    if ours is None or isinstance(error, ours):
        return text
    return f"{type(error).__name__}: {text}"


def unknown_choice(parameter: str, owner: str, choices: Iterable[str], got: Any) -> ValueError:
    """scikit-learn's format: "The 'p' parameter of X must be a str among {...}. Got 'y' instead."""
    listed = ", ".join(repr(c) for c in sorted(choices))
    return ValueError(
        f"The '{parameter}' parameter of {owner} must be a str among {{{listed}}}. "
        f"Got {got!r} instead."
    )


def check_real(
    owner: str, name: str, value: Any, *, positive: bool = False, non_negative: bool = False
) -> float:
    """``value`` as a finite float (optionally > 0 or >= 0), else a one-line ValueError in
    Keras' "Received: name=value" form. Bools are not numbers here."""
    import math
    import numbers

    ok = isinstance(value, numbers.Real) and not isinstance(value, bool) and math.isfinite(value)
    if ok and positive:
        ok = value > 0
    if ok and non_negative:
        ok = value >= 0
    if not ok:
        kind = "a positive" if positive else "a non-negative" if non_negative else "a finite"
        raise ValueError(f"{owner}: {name} must be {kind} number. Received: {name}={value!r}")
    return float(value)


def check_bool(owner: str, name: str, value: Any) -> bool:
    """``value`` if it is True or False (NumPy's bool too), else a one-line TypeError."""
    import numpy as np

    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{owner}: {name} must be True or False. Received: {name}={value!r}")
    return bool(value)
