"""Saving safely: one ``.npz`` file, loaded with ``allow_pickle=False``, written atomically.

A file holds named arrays and a JSON metadata record. Nothing in it can run code when loaded
(no pickle). Writes go to a temporary file in the same folder, are flushed to disk, then renamed
over the target: a crash mid-write leaves the old file intact, never a half-written one.

On top of that, :func:`save` / :func:`load` store a whole model: its architecture as JSON (see
:func:`sinapsi.nn.module_spec`), its weights and buffers, and optionally the optimizer's state
and the training state (epoch, random generators, history) that ``fit(resume_from=...)`` needs
to continue exactly where a run stopped.

>>> import sinapsi as sn, tempfile, os
>>> from sinapsi import nn
>>> model = nn.Sequential(nn.Linear(3, 4, rng=0), nn.ReLU(), nn.Linear(4, 2, rng=1))
>>> path = os.path.join(tempfile.mkdtemp(), "model.npz")
>>> _ = sn.save(model, path)
>>> clone = sn.load(path)
>>> bool((clone[0].weight.data == model[0].weight.data).all())
True
"""

from __future__ import annotations

import json
import os
import tempfile
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

from . import backend

__all__ = [
    "atomic_write", "save_arrays", "load_arrays", "save", "load", "load_checkpoint", "Checkpoint",
    "FORMAT", "FORMAT_VERSION",
]  # fmt: skip

FORMAT = "sinapsi.arrays"
FORMAT_VERSION = 1
_META_KEY = "__sinapsi_metadata__"


def atomic_write(path: str | os.PathLike[str], write: Callable[[BinaryIO], None]) -> Path:
    """Call ``write(file)`` on a temporary file beside ``path``, then rename it to ``path``.

    The rename is atomic on POSIX and Windows: readers see the old file or the new one.
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        # mkstemp creates the file private (0600); give it the permissions open() would
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target


def save_arrays(
    path: str | os.PathLike[str], arrays: dict[str, Any], metadata: dict[str, Any] | None = None
) -> Path:
    """Write ``arrays`` (name -> array) and JSON-able ``metadata`` to ``path`` atomically."""
    record = {"format": FORMAT, "version": FORMAT_VERSION, **(metadata or {})}
    payload = {k: backend.to_numpy(v) for k, v in arrays.items()}
    if _META_KEY in payload:
        raise ValueError(f"save_arrays: the name {_META_KEY!r} is reserved.")
    for name, value in payload.items():
        if value.dtype == object:
            raise TypeError(f"save_arrays: array {name!r} has dtype object, which needs pickle.")
    payload[_META_KEY] = np.frombuffer(json.dumps(record).encode("utf-8"), dtype=np.uint8)
    return atomic_write(path, lambda f: np.savez(f, **payload))


def load_arrays(path: str | os.PathLike[str]) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """Read what :func:`save_arrays` wrote: ``(arrays, metadata)``.

    Refuses, with a message saying what is wrong, a missing file, a file that is not a sinapsi
    array file (foreign, truncated or corrupted), a newer format version, or any entry that
    would need pickle to load.
    """
    source = Path(path)
    if not source.is_file():
        raise FileNotFoundError(f"No such file: {str(source)!r}.")
    try:
        with np.load(source, allow_pickle=False) as data:
            names = list(data.files)
            if _META_KEY not in names:
                raise ValueError("it has no sinapsi metadata record")
            record = json.loads(bytes(data[_META_KEY]).decode("utf-8"))
            arrays = {k: data[k] for k in names if k != _META_KEY}
    except (zipfile.BadZipFile, OSError, EOFError, ValueError, KeyError) as e:
        if isinstance(e, ValueError) and "pickle" in str(e).lower():
            reason = "an entry needs pickle to load, which sinapsi never does (it could run code)"
        else:
            reason = str(e) or type(e).__name__
        raise ValueError(
            f"Cannot load {str(source)!r}: not a valid sinapsi file ({reason}). It may be "
            "truncated, corrupted, or written by another program."
        ) from None
    if not isinstance(record, dict) or record.get("format") != FORMAT:
        raise ValueError(f"Cannot load {str(source)!r}: it is not a sinapsi array file.")
    if int(record.get("version", 0)) > FORMAT_VERSION:
        raise ValueError(
            f"Cannot load {str(source)!r}: written by a newer sinapsi (format version "
            f"{record['version']}, this one reads up to {FORMAT_VERSION}). Upgrade sinapsi."
        )
    return arrays, record


# ----------------------------------------------------------------------------- models
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


def _optimizer_payload(optimizer: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    state = optimizer.state_dict()
    arrays, scalars = {}, {}
    for index, entries in state["state"].items():
        for key, value in entries.items():
            if getattr(value, "ndim", 0) > 0:
                arrays[f"optimizer/{index}/{key}"] = value
            else:
                scalars.setdefault(str(index), {})[key] = _plain(value)
    record = {
        "type": type(optimizer).__name__,
        "param_groups": _plain(state["param_groups"]),
        "scalars": scalars,
    }
    return arrays, record


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

    Built-in layers are rebuilt by :func:`load` with no user code; a custom module must be
    registered with ``@sinapsi.nn.register_module()``.
    """
    from .nn.registry import module_spec

    dtype = next((str(p.dtype) for p in model.parameters()), None)
    record: dict[str, Any] = {
        "kind": _MODEL_KIND,
        "architecture": module_spec(model),
        "dtype": dtype,
        "module_rngs": _module_rngs(model),
        "user": _plain(metadata or {}),
    }
    arrays = {f"model/{k}": v for k, v in model.state_dict().items()}
    if optimizer is not None:
        opt_arrays, record["optimizer"] = _optimizer_payload(optimizer)
        arrays.update(opt_arrays)
    if training_state is not None:
        record["training"] = _plain(training_state)
    return save_arrays(path, arrays, record)


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


def load_checkpoint(path: str | os.PathLike[str]) -> Checkpoint:
    """Read a file written by :func:`save`: model (rebuilt, in eval mode), optimizer state,
    training state and metadata. Refuses files that are not sinapsi model files."""
    from . import backend as _backend
    from .nn.registry import build_module

    arrays, record = load_arrays(path)
    if record.get("kind") != _MODEL_KIND:
        raise ValueError(
            f"Cannot load {str(path)!r} as a model: it is a sinapsi array file of kind "
            f"{record.get('kind')!r}, not a saved model. Use sinapsi.io.load_arrays for it."
        )
    try:
        model = build_module(record["architecture"])
    except (TypeError, ValueError) as e:
        raise ValueError(f"Cannot rebuild the model saved in {str(path)!r}: {e}") from None
    if record.get("dtype") and str(record["dtype"]) != str(_backend.get_default_dtype()):
        model.astype(record["dtype"])
    model_state = {k[len("model/") :]: v for k, v in arrays.items() if k.startswith("model/")}
    model.load_state_dict(model_state)
    _set_module_rngs(model, record.get("module_rngs", {}))
    model.eval()
    optimizer_state = None
    opt = record.get("optimizer")
    if opt is not None:
        state: dict[int, dict[str, Any]] = {}
        for key, value in arrays.items():
            if key.startswith("optimizer/"):
                _, index, name = key.split("/", 2)
                state.setdefault(int(index), {})[name] = value
        for index, scalars in opt.get("scalars", {}).items():
            state.setdefault(int(index), {}).update(scalars)
        optimizer_state = {"state": state, "param_groups": opt["param_groups"]}
    return Checkpoint(
        model=model,
        optimizer_state=optimizer_state,
        optimizer_type=None if opt is None else opt.get("type"),
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


def load(path: str | os.PathLike[str]) -> Any:
    """The model saved in ``path`` by :func:`save`, rebuilt with its weights, in eval mode."""
    return load_checkpoint(path).model
