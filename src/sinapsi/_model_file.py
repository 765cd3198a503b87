"""The model file: what :func:`sinapsi.save` writes and :func:`sinapsi.load` reads.

A safetensors file (format version 2) whose tensors are the model's state_dict under its bare
keys (``0.weight``, ``1.running_mean``: torch's names, so ``safetensors.torch.load_file`` gives
a dict the matching torch module loads), plus the optimizer's arrays under ``optimizer/<index>/
<name>`` (a ``/`` never appears in a state_dict key, so the two cannot clash). The header's
``__metadata__`` holds the record, one JSON string per field: ``format``, ``version``, ``kind``,
``architecture`` (see :func:`sinapsi.nn.module_spec`), ``dtype``, ``module_rngs``, ``user``,
and optionally ``optimizer`` and ``training`` (what ``fit(resume_from=...)`` needs).

The zips of ``.npy`` arrays that sinapsi wrote before (format version 1, the arrays named
``model/<key>``) still load: :func:`load_arrays` tells the two containers apart by their first
bytes, :func:`model_prefix` the two namings by the names.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from . import backend
from ._filechecks import Refused as _Refused
from ._npz_format import metadata_json, read_npz
from ._safe_file import (
    FORMAT,
    FORMAT_VERSION,
    ModelFileError,
    check_format,
    container,
    source_file,
)
from ._safetensors import read_safetensors, write_safetensors


def model_prefix(arrays: dict[str, Any]) -> str:
    """How a file names its model's arrays: ``"model/"`` (format 1, and zips written by
    :func:`sinapsi.io.save_arrays` that way) or ``""`` (bare state_dict keys, format 2). Told by
    the names themselves, which a state_dict key never spells with a ``/``."""
    return "model/" if any(k.startswith("model/") for k in arrays) else ""


def load_arrays(
    path: str | os.PathLike[str], *, max_bytes: int | None = None
) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """Read a sinapsi file, whichever container: ``(arrays, metadata)``.

    A model file of :func:`sinapsi.save` (safetensors) or a zip of ``.npy`` arrays of
    :func:`sinapsi.io.save_arrays` (and of :func:`sinapsi.save` before format 2). Refuses with
    :class:`ModelFileError`, naming what is wrong: a file that is not a sinapsi file (foreign,
    truncated or corrupted), a newer format version, any entry that would need pickle, and any
    entry whose declared size disagrees with its content. Every size is checked before memory
    is allocated for it: a zip's arrays may expand to ``max_bytes`` at most (default: 64 MiB or
    8 times the file's size, whichever is larger, which stops zip bombs; a safetensors file's
    arrays are never larger than the file).
    """
    source, shown = source_file(path, "a sinapsi file's")
    if container(source, shown) == "zip":
        arrays, record = read_npz(source, shown, max_bytes)
    else:
        arrays, meta = read_safetensors(source, shown, max_bytes)
        record = _decode_metadata(meta, shown)
    check_format(record, shown)
    return arrays, record


def _decode_metadata(meta: dict[str, str], shown: str) -> dict[str, Any]:
    """The record of a safetensors model file: each ``__metadata__`` field is a JSON string."""
    try:
        if json.loads(meta.get("format", "null")) != FORMAT:
            raise ValueError
    except ValueError:
        raise ModelFileError(
            f"{shown}: not a sinapsi model file (a safetensors file without sinapsi's "
            "metadata, written by safetensors.torch.save_file?). Read its weights with "
            "sinapsi.load_state_dict and load them into the matching model."
        ) from None
    record = {}
    for key, text in meta.items():
        try:
            record[key] = json.loads(text)
        except RecursionError:
            raise ModelFileError(
                f"{shown}: its metadata field {key!r:.80} is nested too deeply to read. It was "
                "not written by sinapsi."
            ) from None
        except ValueError as e:
            raise ModelFileError(
                f"{shown}: its metadata field {key!r:.80} is not valid JSON ({str(e)[:120]})."
            ) from None
    return record


_MODEL_KIND = "sinapsi.model"


def _plain(value: Any) -> Any:
    """NumPy scalars and tuples as plain JSON-able Python values."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    return value


def _module_rngs(model: Any) -> dict[str, Any]:
    """The states of the random generators held by modules (e.g. Dropout masks)."""
    return {
        name: module.rng.bit_generator.state
        for name, module in model.named_modules()
        if isinstance(getattr(module, "rng", None), np.random.Generator)
    }


def _optimizer_payload(optimizer: Any, model: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    state = optimizer.state_dict()
    arrays, scalars = {}, {}
    for index, entries in state["state"].items():
        for key, value in entries.items():
            if getattr(value, "ndim", 0) > 0:
                arrays[f"optimizer/{index}/{key}"] = value
            else:
                scalars.setdefault(str(index), {})[key] = _plain(value)
    # the model key of each parameter index, so load can check the state's shapes
    names = {id(p): name for name, p in model.named_parameters()}
    index: dict[int, int] = {}
    for group in optimizer.param_groups:
        for p in group["params"]:
            index[id(p)] = len(index)
    keys: list[str | None] = [None] * len(index)
    for pid, i in index.items():
        keys[i] = names.get(pid)
    record = {
        "type": type(optimizer).__name__,
        "param_groups": _plain(state["param_groups"]),
        "scalars": scalars,
        "param_keys": keys,
    }
    return arrays, record


def _model_dtype_for_save(model: Any) -> str | None:
    """The one floating dtype of the model's parameters and buffers; refuses a mix, and
    non-finite values (a file :func:`load` would refuse)."""
    found: dict[str, str] = {}
    for name, value in [(k, p.data) for k, p in model.named_parameters()] + [
        (k, b) for k, b in model.named_buffers() if b is not None
    ]:
        if backend.is_floating(value.dtype):
            found.setdefault(str(value.dtype), name)
            finite = backend.get_array_module(value).isfinite(value).all()
            if not bool(finite):
                bad = int(value.size - backend.get_array_module(value).isfinite(value).sum())
                raise ValueError(
                    f"save: the model's {name!r} holds {bad} NaN or infinite values; a file with "
                    "them would not load. Save the model before training diverged (fit stops at "
                    "a non-finite loss), or with a lower learning rate."
                )
    if len(found) > 1:
        kinds = " and ".join(sorted(found))
        raise ValueError(
            f"save: the model mixes {kinds} parameters or buffers (e.g. {sorted(found.values())}); "
            "a file holds one dtype. Convert it first: model.astype('float32') (or 'float64')."
        )
    return next(iter(found), None)


def save(
    model: Any,
    path: str | os.PathLike[str],
    *,
    optimizer: Any = None,
    metadata: dict[str, Any] | None = None,
    training_state: dict[str, Any] | None = None,
) -> Path:
    """Save ``model`` (architecture, weights, buffers) to ``path``, atomically, without pickle.

    Args:
        optimizer: also save its state (moments, step counts, hyper-parameters).
        metadata: any JSON-able notes (kept under ``metadata["user"]``).
        training_state: JSON-able state of a training loop (``fit`` writes epoch, random
            generator states and history here for ``resume_from``).

    The file is a safetensors file (whatever its name's suffix): a torch user reads the
    weights with ``safetensors.torch.load_file(path)``, under the keys the matching torch
    module has (the optimizer's arrays, if saved, under ``optimizer/...``), and the
    architecture from its header. Built-in layers are rebuilt by :func:`load` with no user
    code; a custom module must be registered with ``@sinapsi.nn.register_module()``. Refuses
    (ValueError) weights that are NaN or infinite and models that mix float dtypes, which
    :func:`load` would refuse.
    """
    from . import _filechecks as checks
    from .nn.registry import check_spec, module_spec

    checks.check_savable(model)
    architecture = module_spec(model)
    try:
        check_spec(architecture, "the model")
    except ValueError as e:
        raise ValueError(f"save: {e}") from None
    record: dict[str, Any] = {
        "kind": _MODEL_KIND,
        "architecture": architecture,
        "dtype": _model_dtype_for_save(model),
        "module_rngs": _module_rngs(model),
        "user": _plain(metadata or {}),
    }
    tensors = {k: backend.to_numpy(v) for k, v in model.state_dict().items()}  # off a GPU
    if optimizer is not None:
        opt_arrays, record["optimizer"] = _optimizer_payload(optimizer, model)
        tensors.update({k: backend.to_numpy(v) for k, v in opt_arrays.items()})
    if training_state is not None:
        record["training"] = _plain(training_state)
    metadata_json(record, "save")  # the record's size and JSON-ability, checked as one
    fields = {"format": FORMAT, "version": FORMAT_VERSION, **record}
    meta = {key: json.dumps(value) for key, value in fields.items()}
    return write_safetensors(path, tensors, meta, "save")  # checks each array first


@dataclass
class Checkpoint:
    """What :func:`load_checkpoint` read: the rebuilt model, the optimizer's state (for
    ``optimizer.load_state_dict``) or None, the training state or None, the user metadata."""

    model: Any
    optimizer_state: dict[str, Any] | None
    optimizer_type: str | None
    training_state: dict[str, Any] | None
    metadata: dict[str, Any]
    model_state: dict[str, np.ndarray]
    module_rngs: dict[str, Any]


def load_checkpoint(path: str | os.PathLike[str], *, max_bytes: int | None = None) -> Checkpoint:
    """Read a file written by :func:`save`: model (rebuilt, in eval mode), optimizer state,
    training state and metadata.

    Everything is checked before the model is built, so a broken or hostile file costs no more
    memory than its arrays: every metadata field, the architecture (at most
    :data:`sinapsi.nn.registry.MAX_DEPTH` deep, :data:`~sinapsi.nn.registry.MAX_MODULES`
    modules), and the arrays against it (names, shapes, the declared dtype, finite values;
    custom modules' arrays once built). Any problem raises :class:`ModelFileError` naming the
    field, array or layer. ``max_bytes``: see :func:`load_arrays`.
    """
    arrays, record = load_arrays(path, max_bytes=max_bytes)
    shown = f"Cannot load {str(path)!r}"
    if record.get("kind") != _MODEL_KIND:
        raise ModelFileError(
            f"Cannot load {str(path)!r} as a model: it is a sinapsi array file of kind "
            f"{record.get('kind')!r:.80}, not a saved model. Use sinapsi.io.load_arrays for it."
        )
    try:
        return _checkpoint(arrays, record, model_prefix(arrays))
    except _Refused as e:
        raise ModelFileError(f"{shown}: {e}") from None
    except ValueError as e:  # from check_spec and build_module: they name the entry
        text = str(e)
        raise ModelFileError(
            f"{shown}: its metadata field {text}" if text.startswith("'") else f"{shown}: {text}"
        ) from e


@contextmanager
def _named(prefix: str) -> Iterator[None]:
    """The checks name a model's arrays 'model/<key>', as format 1 stored them; format 2 files
    hold them under their bare keys, so the message names those."""
    try:
        yield
    except _Refused as e:
        if prefix:
            raise
        raise _Refused(str(e).replace("'model/", "'")) from None


def _checkpoint(arrays: dict[str, np.ndarray], record: dict[str, Any], prefix: str) -> Checkpoint:
    from . import _filechecks as checks
    from .nn.registry import build_module, check_spec, declared_state

    declared_dtype, opt = checks.check_record(record)
    spec = record["architecture"]
    check_spec(spec, "architecture")
    model_state, opt_arrays = {}, {}
    for key, value in arrays.items():
        if key.startswith(prefix) and "/" not in key[len(prefix) :]:
            model_state[key[len(prefix) :]] = value
        elif key.startswith("optimizer/") and opt is not None:
            opt_arrays[key] = value
        else:
            model = f"'{prefix}...'" if prefix else "a state_dict key (no '/')"
            raise _Refused(
                f"it holds the array {key!r:.100}, which is neither {model} nor "
                "'optimizer/...' (of a saved optimizer). It was edited or written by another "
                "program."
            )
    dtype = checks.model_dtype(model_state, declared_dtype, backend.get_default_dtype())
    with _named(prefix):
        checks.check_model_arrays(model_state, dtype, *declared_state(spec))
    # the built-in layers' sizes are checked; custom modules may build what the arrays hold
    elements = sum(a.size for a in model_state.values())
    model = build_module(spec, "architecture", max_bytes=8 * elements + 65536)
    if any(p.dtype != dtype for p in model.parameters()) or dtype != backend.get_default_dtype():
        model.astype(dtype)
    with _named(prefix):
        checks.check_built(model_state, model)
    model.load_state_dict(model_state)
    modules = dict(model.named_modules())
    for name in record.get("module_rngs", {}):
        if not isinstance(getattr(modules.get(name), "rng", None), np.random.Generator):
            raise checks.field_error(
                f"module_rngs[{name!r}]",
                f"names the module {name!r}, which has no random generator",
            )
    _set_module_rngs(model, record.get("module_rngs", {}))
    model.eval()
    optimizer_state = None
    if opt is not None:
        shapes = {k: tuple(p.shape) for k, p in model.named_parameters()}
        state = checks.optimizer_state(opt_arrays, opt, shapes)
        optimizer_state = {"state": state, "param_groups": opt["param_groups"]}
    return Checkpoint(
        model=model,
        optimizer_state=optimizer_state,
        optimizer_type=None if opt is None else opt["type"],
        training_state=record.get("training"),
        metadata=record.get("user", {}),
        model_state=model_state,
        module_rngs=record.get("module_rngs", {}),
    )


def _set_module_rngs(model: Any, states: dict[str, Any]) -> None:
    modules = dict(model.named_modules())
    for name, state in states.items():
        module = modules.get(name)
        if module is not None and isinstance(getattr(module, "rng", None), np.random.Generator):
            module.rng.bit_generator.state = state


def load(path: str | os.PathLike[str], *, max_bytes: int | None = None) -> Any:
    """The model saved in ``path`` by :func:`save`, rebuilt with its weights, in eval mode.
    Refuses broken or hostile files with :class:`ModelFileError` (see :func:`load_checkpoint`)."""
    return load_checkpoint(path, max_bytes=max_bytes).model
