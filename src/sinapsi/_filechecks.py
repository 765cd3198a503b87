"""Checks of a model file's metadata record and arrays, made before anything is built.

:func:`sinapsi.io.load_checkpoint` calls these on what :func:`sinapsi.io.load_arrays` read, so
a broken or hostile file is refused with one :class:`sinapsi.io.ModelFileError` naming the
field, the array or the layer, instead of a raw KeyError/TypeError deep inside, a silently wrong
model, or gigabytes allocated for weights the file does not hold.
"""

from __future__ import annotations

import math
import re
from typing import Any

import numpy as np

_FLOATS = ("float16", "float32", "float64")
_BIT_GENERATORS = ("PCG64", "PCG64DXSM", "MT19937", "Philox", "SFC64")
_EDITED = "The file was edited or written by another program."


class Refused(Exception):
    """What is wrong with a file being loaded; sinapsi.io adds the file's name."""


def field_error(name: str, problem: str) -> Refused:
    return Refused(f"its metadata field '{name}' {problem}. {_EDITED}")


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


# ------------------------------------------------------------------------------- the record
def check_record(record: dict[str, Any]) -> tuple[np.dtype | None, dict[str, Any] | None]:
    """Check every field of a model record but the architecture's content; returns the
    declared dtype (None if the file declares none) and the optimizer record (or None)."""
    if "architecture" not in record:
        raise field_error("architecture", "is missing")
    dtype = record.get("dtype")
    if dtype is not None and dtype not in _FLOATS:
        raise field_error("dtype", f"must be 'float16', 'float32' or 'float64'; got {dtype!r:.80}")
    for name in ("module_rngs", "user"):
        value = record.get(name, {})
        if not isinstance(value, dict):
            raise field_error(name, f"must be a dict; got {value!r:.80}")
    for name, state in record.get("module_rngs", {}).items():
        check_rng_state(state, f"module_rngs[{name!r}]")
    training = record.get("training")
    if training is not None:
        check_training(training)
    optimizer = record.get("optimizer")
    if optimizer is not None:
        check_optimizer(optimizer)
    return (None if dtype is None else np.dtype(dtype)), optimizer


def check_rng_state(state: Any, name: str) -> None:
    """``state`` must be a ``bit_generator.state`` dict of a NumPy bit generator."""
    kind = state.get("bit_generator") if isinstance(state, dict) else None
    if kind not in _BIT_GENERATORS:
        raise field_error(name, f"is not a random generator state; got {state!r:.80}")
    try:
        getattr(np.random, kind)().state = state
    except (TypeError, ValueError, KeyError, OverflowError) as e:
        raise field_error(name, f"is not a random generator state ({str(e)[:80]})") from None


def check_training(training: Any) -> None:
    """The training state; the fields ``fit`` writes (epoch, fit_rng, history, scheduler)."""
    if not isinstance(training, dict):
        raise field_error("training", f"must be a dict or null; got {training!r:.80}")
    epoch = training.get("epoch", 0)
    if not _is_int(epoch) or epoch < 0:
        raise field_error("training.epoch", f"must be an int >= 0; got {epoch!r:.80}")
    if training.get("fit_rng") is not None:
        check_rng_state(training["fit_rng"], "training.fit_rng")
    history = training.get("history", {})
    if not isinstance(history, dict):
        raise field_error("training.history", f"must be a dict; got {history!r:.80}")
    for key in ("history", "grad_norms"):
        table = history.get(key, {})
        if not isinstance(table, dict) or not all(isinstance(v, list) for v in table.values()):
            raise field_error(
                f"training.history.{key}", f"must be a dict of lists; got {table!r:.80}"
            )
    if not isinstance(history.get("epoch", []), list):
        raise field_error("training.history.epoch", f"must be a list; got {history['epoch']!r:.80}")
    scheduler = training.get("scheduler")
    if scheduler is not None and not isinstance(scheduler, dict):
        raise field_error("training.scheduler", f"must be a dict or null; got {scheduler!r:.80}")
    callbacks = training.get("callbacks", [])
    if not isinstance(callbacks, list) or not all(
        isinstance(e, dict) and isinstance(e.get("class"), str) and isinstance(e.get("state"), dict)
        for e in callbacks
    ):
        raise field_error(
            "training.callbacks",
            f"must be a list of {{'class': name, 'state': {{...}}}}; got {callbacks!r:.80}",
        )


def _check_hyper(value: Any, name: str, nested: bool = False) -> None:
    if value is None or isinstance(value, (bool, str)):
        return
    if isinstance(value, (int, float)):
        if not math.isfinite(value):
            raise field_error(name, f"must be finite; got {value!r}")
        return
    if isinstance(value, list) and not nested:
        for v in value:
            _check_hyper(v, name, nested=True)
        return
    raise field_error(
        name, f"must be a number, a bool, a str or a list of numbers; got {value!r:.80}"
    )


def check_optimizer(optimizer: Any) -> None:
    """The optimizer record: type, param_groups (hyper-parameters), scalars, param_keys."""
    if not isinstance(optimizer, dict):
        raise field_error("optimizer", f"must be a dict or null; got {optimizer!r:.80}")
    if not isinstance(optimizer.get("type"), str):
        raise field_error("optimizer.type", f"must be a str; got {optimizer.get('type')!r:.80}")
    if "param_groups" not in optimizer:
        raise field_error("optimizer.param_groups", "is missing")
    groups = optimizer["param_groups"]
    if not isinstance(groups, list) or not all(isinstance(g, dict) for g in groups):
        raise field_error("optimizer.param_groups", f"must be a list of dicts; got {groups!r:.80}")
    ids: set[int] = set()
    for i, group in enumerate(groups):
        params = group.get("params")
        ok = isinstance(params, list) and all(_is_int(p) and p >= 0 for p in params)
        if not ok or len(set(params)) != len(params) or ids & set(params):
            raise field_error(
                f"optimizer.param_groups[{i}].params",
                f"must be a list of distinct ints (parameter indices); got {params!r:.80}",
            )
        ids.update(params)
        for key, value in group.items():
            if key != "params":
                _check_hyper(value, f"optimizer.param_groups[{i}].{key}")
    scalars = optimizer.get("scalars", {})
    if not isinstance(scalars, dict):
        raise field_error("optimizer.scalars", f"must be a dict; got {scalars!r:.80}")
    for index, entries in scalars.items():
        if (
            not (isinstance(index, str) and index.isascii() and index.isdigit())
            or int(index) not in ids
        ):
            raise field_error(
                "optimizer.scalars",
                f"has the key {index!r:.40}, which is not a parameter index in param_groups",
            )
        if not isinstance(entries, dict):
            raise field_error(
                f"optimizer.scalars[{index!r}]", f"must be a dict; got {entries!r:.80}"
            )
        for key, value in entries.items():
            if key == "step" and (not _is_int(value) or value < 0):
                raise field_error(
                    f"optimizer.scalars[{index!r}].step", f"must be an int >= 0; got {value!r:.80}"
                )
            if not isinstance(value, (int, float)) or isinstance(value, bool):
                raise field_error(
                    f"optimizer.scalars[{index!r}].{key}", f"must be a number; got {value!r:.80}"
                )
            _check_hyper(value, f"optimizer.scalars[{index!r}].{key}")
    keys = optimizer.get("param_keys")
    if keys is not None and (
        not isinstance(keys, list) or not all(k is None or isinstance(k, str) for k in keys)
    ):
        raise field_error(
            "optimizer.param_keys", f"must be a list of str or null; got {keys!r:.80}"
        )


# ------------------------------------------------------------------------------- the arrays
def _nonfinite(name: str, array: np.ndarray) -> None:
    bad = array.size - int(np.count_nonzero(np.isfinite(array)))
    if bad:
        raise Refused(
            f"the array {name!r} holds {bad} NaN or infinite values; saved weights and "
            "optimizer state must be finite. The run diverged before this file was written, or "
            "the file was edited."
        )


def model_dtype(arrays: dict[str, np.ndarray], declared: np.dtype | None, default: Any) -> np.dtype:
    """The file's dtype: the declared one, or (older files of models without parameters) the
    one its floating arrays share."""
    if declared is not None:
        return declared
    floats = sorted({str(a.dtype) for a in arrays.values() if a.dtype.kind == "f"})
    if len(floats) > 1:
        raise Refused(f"its arrays mix {' and '.join(floats)}, and it declares no dtype. {_EDITED}")
    return np.dtype(floats[0]) if floats else np.dtype(default)


def check_model_arrays(
    arrays: dict[str, np.ndarray],
    dtype: np.dtype,
    declared: dict[str, tuple[tuple[int, ...], str]],
    unknown: list[str],
) -> None:
    """Dtypes, finiteness, and the keys and shapes the architecture declares (``declared``:
    from :func:`sinapsi.nn.registry.declared_state`; keys under an ``unknown`` prefix belong to
    custom modules and are checked once the model is built)."""
    for key, array in arrays.items():
        kind = declared[key][1] if key in declared else None
        integer = array.dtype.kind in "iu" and kind != "f"
        if array.dtype != dtype and not integer:
            raise Refused(
                f"the array 'model/{key}' has dtype {array.dtype}; a model's weights are {dtype} "
                f"(the file's declared dtype). {_EDITED}"
            )
        if array.dtype.kind == "f":
            _nonfinite(f"model/{key}", array)
    for key, (shape, _) in declared.items():
        if key not in arrays:
            raise Refused(
                f"the architecture declares {key!r} with shape {shape}, but the file holds no "
                "such array. The file is incomplete or was edited."
            )
        if arrays[key].shape != shape:
            layer, _, name = key.rpartition(".")
            where = f"the layer {layer!r}" if layer else "the model"
            raise Refused(
                f"{where} declares {name} {shape}, but the file holds {arrays[key].shape}. The "
                "architecture and the weights disagree: the file was edited or is corrupted."
            )
    for key in arrays:
        if key not in declared and not any(key.startswith(p) for p in unknown):
            raise Refused(
                f"it holds 'model/{key}', which the architecture does not declare. The file was "
                "edited or is corrupted."
            )


def check_built(arrays: dict[str, np.ndarray], model: Any) -> None:
    """After building: every parameter and buffer has its array, of the same shape and dtype."""
    targets = {k: p.data for k, p in model.named_parameters()}
    targets.update({k: b for k, b in model.named_buffers() if b is not None})
    for key, target in targets.items():
        if key not in arrays:
            raise Refused(f"the model has {key!r}, but the file holds no such array. {_EDITED}")
        array = arrays[key]
        if array.shape != tuple(target.shape) or array.dtype != target.dtype:
            raise Refused(
                f"the array 'model/{key}' is {array.dtype} {array.shape}, but the model built "
                f"from its architecture has {target.dtype} {tuple(target.shape)}. {_EDITED}"
            )
    for key in arrays:
        if key not in targets:
            raise Refused(
                f"it holds 'model/{key}', which the architecture does not declare. {_EDITED}"
            )


_OPTIMIZER_KEY = re.compile(r"optimizer/(\d{1,9})/(.+)", re.ASCII | re.DOTALL)


def optimizer_state(
    arrays: dict[str, np.ndarray], record: dict[str, Any], shapes: dict[str, tuple[int, ...]]
) -> dict[int, dict[str, Any]]:
    """The optimizer's per-parameter state from its arrays and scalars, each array checked: its
    name, its parameter index, finite floats, and (files that name each index's parameter,
    ``param_keys``) the shape of that parameter. ``record``: checked by :func:`check_record`."""
    ids = {p for group in record["param_groups"] for p in group["params"]}
    keys = record.get("param_keys") or []
    state: dict[int, dict[str, Any]] = {}
    for key, array in arrays.items():
        match = _OPTIMIZER_KEY.fullmatch(key)
        if match is None:
            raise Refused(
                f"the array {key!r:.100} is not named 'optimizer/<parameter index>/<name>'. "
                f"{_EDITED}"
            )
        index, name = int(match[1]), match[2]
        if index not in ids:
            raise Refused(
                f"the array {key!r:.100} is for parameter {index}, which param_groups does not "
                f"list. {_EDITED}"
            )
        if array.dtype.kind != "f":
            raise Refused(
                f"the array {key!r:.100} has dtype {array.dtype}; optimizer state is "
                f"floating-point. {_EDITED}"
            )
        _nonfinite(key, array)
        param = keys[index] if index < len(keys) else None
        if param in shapes and array.shape != shapes[param]:
            raise Refused(
                f"the array {key!r:.100} has shape {array.shape}, but its parameter {param!r} has "
                f"shape {shapes[param]}. {_EDITED}"
            )
        state.setdefault(index, {})[name] = array
    for index, scalars in record.get("scalars", {}).items():
        entries = state.setdefault(int(index), {})
        for name, value in scalars.items():
            if name in entries:
                raise Refused(
                    f"the optimizer's {name!r} of parameter {index} is both an array and a "
                    f"number. {_EDITED}"
                )
            entries[name] = value
    return state


def check_savable(model: Any) -> None:
    """``save``'s first argument is a Module: a state dict (``torch.save`` habit) or anything
    else is a one-line TypeError saying what to pass."""
    from .nn.module import Module

    if isinstance(model, Module):
        return
    hint = (
        " (the torch.save(model.state_dict()) habit: sinapsi saves the model itself, "
        "architecture and weights, and sinapsi.load rebuilds it; for bare arrays use "
        "sinapsi.io.save_arrays)"
        if isinstance(model, dict)
        else ""
    )
    raise TypeError(
        f"save: model must be a sinapsi nn.Module; got {type(model).__name__}{hint}. "
        "Call sinapsi.save(model, path)."
    )
