"""Guards of :func:`~sinapsi.train.fit`, kept out of the training loop's module: one fit per
model at a time, checked penalty strengths, and the one-line error of a checkpoint that does
not fit the run it should resume."""

from __future__ import annotations

import math
import numbers
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np

from ..nn.module import Module

_fitting: dict[int, str] = {}  # id(model) -> the name of the thread whose fit trains it
_fitting_lock = threading.Lock()


@contextmanager
def _only_fit(model: Module) -> Iterator[None]:
    """Refuse a second fit of a model while one runs (in another thread, or from a callback):
    the two would interleave their updates and training modes."""
    with _fitting_lock:
        owner = _fitting.get(id(model))
        if owner is not None:
            raise RuntimeError(
                f"fit: this model is already being trained by another fit (thread {owner!r}); "
                "two fits would mix their updates. Wait for it to finish, or train a copy "
                "(copy.deepcopy(model)). Predicting meanwhile is fine."
            )
        _fitting[id(model)] = threading.current_thread().name
    try:
        yield
    finally:
        with _fitting_lock:
            del _fitting[id(model)]


def _resume_error(path: Any, what: str, error: BaseException) -> Exception:
    """A checkpoint whose saved state of ``what`` does not fit this run: one line, as every
    other refused file (:class:`~sinapsi.io.ModelFileError`)."""
    from ..io import ModelFileError

    return ModelFileError(
        f"Cannot resume from {str(path)!r}: its saved state of the {what} does not fit this "
        f"run ({type(error).__name__}: {str(error)[:120]}). Resume with the callbacks and "
        "schedule of the run that wrote it, or start a new run."
    )


def _penalty(name: str, value: Any) -> float:
    """An l1/l2 strength: a finite number >= 0 (bools are not numbers here)."""
    if (
        isinstance(value, (bool, np.bool_))
        or not isinstance(value, numbers.Real)
        or not (math.isfinite(value) and value >= 0)
    ):
        raise ValueError(
            f"fit: {name} must be a finite number >= 0 (the penalty on the weights; 0 turns it "
            f"off). Received: {name}={value!r}"
        )
    return float(value)
