"""Error-message helpers shared across the library, so every 'unknown name' reads the same."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any


def unknown_choice(parameter: str, owner: str, choices: Iterable[str], got: Any) -> ValueError:
    """scikit-learn's format: "The 'p' parameter of X must be a str among {...}. Got 'y' instead."""
    listed = ", ".join(repr(c) for c in sorted(choices))
    return ValueError(
        f"The '{parameter}' parameter of {owner} must be a str among {{{listed}}}. "
        f"Got {got!r} instead."
    )
