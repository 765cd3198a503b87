"""The schema of a run configuration (:mod:`sinapsi.config`): every section's keys with their
TOML type, default and range check, the schedules and ``[target]`` thresholds, and the phrases
that describe a type or a choice in an error message.

Data only, plus the small checks and wording it needs; the checking itself (and
:class:`~sinapsi.config.ConfigError`) stays in :mod:`sinapsi.config`, which re-exports
``SCHEDULES``.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Callable, Iterable
from typing import Any


# ------------------------------------------------------------------------------ the schema
class _Key:
    """One key: its TOML type (``kind``), default, and an optional check of the value that
    returns what is wrong (a phrase such as "must be >= 1") or None."""

    def __init__(
        self, kind: str, default: Any = None, check: Callable[[Any], str | None] | None = None
    ):
        self.kind, self.default, self.check = kind, default, check


def _at_least(low: float) -> Callable[[Any], str | None]:
    return lambda v: None if v >= low else f"must be >= {low}"


def _positive(v: Any) -> str | None:
    return None if v > 0 else "must be > 0"


def _fraction(low_open: bool) -> Callable[[Any], str | None]:
    low = "(0" if low_open else "[0"
    return lambda v: (
        None if (v > 0 if low_open else v >= 0) and v < 1 else f"must be a fraction in {low}, 1)"
    )


def _unit_interval(v: Any) -> str | None:
    return None if 0 <= v <= 1 else "must be in [0, 1]"


def _at_most(high: int) -> Callable[[Any], str | None]:
    return lambda v: None if v <= high else f"must be <= {high}"


def _sizes(v: Any) -> str | None:
    return None if all(n >= 1 for n in v) else "must hold layer sizes >= 1"


def _all(*checks: Callable[[Any], str | None]) -> Callable[[Any], str | None]:
    return lambda v: next((p for p in (c(v) for c in checks) if p), None)


_INT64_MAX = 2**63 - 1
# A run of more epochs would not end in a lifetime (and its history would not fit a file).
_MAX_EPOCHS = 1_000_000


def _image_shape(v: Any) -> str | None:
    if len(v) == 3 and all(n >= 1 for n in v):
        return None
    return "must be [C, H, W] (channels, height, width), three integers >= 1, e.g. [1, 28, 28]"


def _one_char(v: Any) -> str | None:
    return None if len(v) == 1 else "must be a single character such as ',', ';' or '\\t'"


_SCHEMA: dict[str, dict[str, _Key]] = {
    "data": {
        "source": _Key("str"),
        "path": _Key("str"),
        "target": _Key("column", -1),
        "delimiter": _Key("str", ",", _one_char),
        "header": _Key("bool"),
        "n_samples": _Key("int", 400, _at_least(10)),
        "noise": _Key("float", 0.0, _unit_interval),
        "val_size": _Key("float", 0.15, _fraction(low_open=False)),
        "test_size": _Key("float", 0.15, _fraction(low_open=True)),
        "standardize": _Key("bool", True),
        "features": _Key("strs"),
        # images (a convnet, or shifts): the shape of one CSV row or IDX image as [C, H, W]
        "image_shape": _Key("ints", None, _image_shape),
        "random_shift": _Key("int", None, _at_least(0)),
    },
    "model": {
        "task": _Key("str", "auto"),
        "hidden": _Key("ints", [32, 32], _sizes),
        "activation": _Key("str", "relu"),
        "init": _Key("str", "auto"),
        "batch_norm": _Key("bool", False),
        "dropout": _Key("float", 0.0, _fraction(low_open=False)),
        # a convnet: conv blocks before the hidden layers; the others default (3, "same", 2)
        # when conv is set and stay unset (None) for a multilayer perceptron
        "conv": _Key("ints", None, _sizes),
        "kernel_size": _Key("int", None, _at_least(1)),
        "padding": _Key("str"),
        "pool": _Key("int", None, _at_least(1)),
    },
    "training": {
        "epochs": _Key("int", 20, _all(_at_least(1), _at_most(_MAX_EPOCHS))),
        "batch_size": _Key("int", 32, _at_least(1)),
        "optimizer": _Key("str", "adam"),
        "lr": _Key("float", None, _positive),
        "weight_decay": _Key("float", 0.0, _at_least(0)),
        "momentum": _Key("float", None, _fraction(low_open=False)),
        "dampening": _Key("float", None, _fraction(low_open=False)),
        "nesterov": _Key("bool"),
        "l1": _Key("float", 0.0, _at_least(0)),
        "l2": _Key("float", 0.0, _at_least(0)),
        "loss": _Key("str"),
        "metrics": _Key("strs"),
        "clip_grad_norm": _Key("float", None, _positive),
        "seed": _Key("int", 0, _at_least(0)),
        "early_stopping": _Key("table"),
        "lr_schedule": _Key("table"),
    },
}
_TOP_LEVEL = {"name": _Key("str"), "description": _Key("str", "")}
_SECTIONS = (*_SCHEMA, "target")

_EARLY_STOPPING = {
    "patience": _Key("int", 10, _at_least(0)),
    "monitor": _Key("str", "val_loss"),
    "min_delta": _Key("float", 0.0, _at_least(0)),
    "restore_best_weights": _Key("bool", True),
}
SCHEDULES: dict[str, dict[str, _Key]] = {
    "step": {"step_size": _Key("int", None, _at_least(1)), "gamma": _Key("float", 0.1, _positive)},
    "multistep": {
        "milestones": _Key("ints", None, _sizes),
        "gamma": _Key("float", 0.1, _positive),
    },
    "exponential": {"gamma": _Key("float", None, _positive)},
    "cosine": {"T_max": _Key("int", None, _at_least(1)), "eta_min": _Key("float", 0.0)},
    "plateau": {
        "factor": _Key("float", 0.1, _fraction(low_open=True)),
        "patience": _Key("int", 10, _at_least(0)),
        "min_lr": _Key("float", 0.0, _at_least(0)),
    },
}
_REQUIRED_SCHEDULE_KEYS = {"step": "step_size", "multistep": "milestones", "exponential": "gamma"}

_KIND_NAMES = {
    "str": "a string",
    "int": "an integer",
    "float": "a number",
    "bool": "true or false",
    "ints": "an array of integers, e.g. [64, 32]",
    "strs": 'an array of strings, e.g. ["accuracy"]',
    "table": "a table, e.g. { name = value }",
    "column": "a column name (string) or a 0-based column index (integer)",
}


def _type_ok(kind: str, value: Any) -> bool:
    if kind == "str":
        return isinstance(value, str)
    if kind == "int":
        return isinstance(value, int) and not isinstance(value, bool)
    if kind == "float":
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if kind == "bool":
        return isinstance(value, bool)
    if kind == "ints":
        return isinstance(value, list) and all(_type_ok("int", v) for v in value)
    if kind == "strs":
        return isinstance(value, list) and all(isinstance(v, str) for v in value)
    if kind == "table":
        return isinstance(value, dict)
    return _type_ok("str", value) or _type_ok("int", value)  # column


def _toml_type(value: Any) -> str:
    if isinstance(value, bool):
        return "a boolean"
    names = {
        str: "a string",
        int: "an integer",
        float: "a float",
        list: "an array",
        dict: "a table",
    }
    return names.get(type(value), type(value).__name__)


# (low, high, the bounds in words) of each [target] threshold: scores in [0, 1] (r2 can be
# negative, never above 1), errors >= 0.
_TARGET_BOUNDS = {
    "accuracy": (0.0, 1.0, "in [0, 1]"),
    "top5": (0.0, 1.0, "in [0, 1]"),
    "r2": (-math.inf, 1.0, "<= 1"),
    "loss": (0.0, math.inf, ">= 0"),
    "mae": (0.0, math.inf, ">= 0"),
    "rmse": (0.0, math.inf, ">= 0"),
}
_TARGETS = tuple(_TARGET_BOUNDS)  # the [target] keys
_TARGET_HINTS = {
    "accuracy": "Write a fraction, e.g. accuracy = 0.95 for 95%.",
    "top5": "Write a fraction, e.g. top5 = 0.99 for 99%.",
}


# ------------------------------------------------------------------------------ messages
def _choices_message(what: str, choices: Iterable[str], got: Any) -> str:
    """scikit-learn's format, plus a suggestion for a near miss."""
    choices = sorted(choices)
    listed = ", ".join(repr(c) for c in choices)
    text = f"{what} must be a str among {{{listed}}}. Got {got!r} instead."
    close = difflib.get_close_matches(str(got), choices, n=1) if isinstance(got, str) else []
    return text + (f" Did you mean {close[0]!r}?" if close else "")
