"""Saving safely: one ``.npz`` file, loaded with ``allow_pickle=False``, written atomically.

A file holds named arrays and a JSON metadata record. Nothing in it can run code when loaded
(no pickle). Writes go to a temporary file in the same folder, are flushed to disk, then renamed
over the target: a crash mid-write leaves the old file intact, never a half-written one.

On top of that, :func:`save` / :func:`load` store a whole model: its architecture as JSON (see
:func:`sinapsi.nn.module_spec`), its weights and buffers, and optionally the optimizer's state
and the training state (epoch, random generators, history) that ``fit(resume_from=...)`` needs
to continue exactly where a run stopped.

Loading trusts nothing in the file: every size is checked before memory is allocated for it,
the architecture before anything is built, and every field before it is used; a broken or
hostile file raises :class:`ModelFileError` (a ValueError) naming what is wrong.

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

import io as pyio
import json
import math
import os
import stat
import tempfile
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

from . import _atomic, backend
from ._filechecks import Refused as _Refused

__all__ = [
    "atomic_write", "save_arrays", "load_arrays", "save", "load", "load_checkpoint", "Checkpoint",
    "FORMAT", "FORMAT_VERSION", "ModelFileError", "STALE_TEMP_SECONDS", "MAX_METADATA_BYTES",
]  # fmt: skip

FORMAT = "sinapsi.arrays"
FORMAT_VERSION = 1
_META_KEY = "__sinapsi_metadata__"


STALE_TEMP_SECONDS = 600.0
"""A temp file of a save that nothing has written to for this long is stale (see atomic_write)."""


def atomic_write(path: str | os.PathLike[str], write: Callable[[BinaryIO], None]) -> Path:
    """Call ``write(file)`` on a temporary file beside ``path``, then rename it to ``path``.

    The rename is atomic on POSIX and Windows: readers see the old file or the new one. A path
    that cannot be written (its folder is a file, it is a folder, no permission, ...) raises a
    one-line error before ``write`` runs. Re-saving keeps the file's permissions; a symlink is
    written through (its target is replaced, the link stays).

    A save killed mid-write leaves its temp file (``.NAME.HOST-PID.XXXXXXXX.tmp``). The next save
    of the same target removes the ones whose writer is gone: written by a process of this
    machine that no longer runs, or, where the writer cannot be told (another machine, an older
    sinapsi, Windows), not modified for :data:`STALE_TEMP_SECONDS`. A temp whose writer still
    runs here is never removed, so two processes saving the same file do not break each other's
    save.
    """
    shown, real = _atomic.writable_target(path)
    folder = real.parent
    try:
        folder.mkdir(parents=True, exist_ok=True)
        _atomic.remove_stale_temps(folder, real, STALE_TEMP_SECONDS)
        fd, tmp = tempfile.mkstemp(prefix=_atomic.temp_prefix(real), suffix=".tmp", dir=folder)
    except OSError as e:
        raise _atomic.save_error(shown, e, folder) from e
    try:
        try:  # mkstemp creates the file private (0600); keep the old file's mode, or open()'s
            mode = stat.S_IMODE(os.stat(real).st_mode)
        except OSError:
            mode = 0o666 & ~_atomic.umask()
        os.chmod(tmp, mode)
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, real)
    except BaseException as e:
        Path(tmp).unlink(missing_ok=True)
        if isinstance(e, OSError):
            raise _atomic.save_error(shown, e, folder) from e
        raise
    _atomic.fsync_folder(folder)
    return Path(path)


class ModelFileError(ValueError):
    """A file that sinapsi refuses to load: not a sinapsi file, truncated, corrupted, hostile or
    inconsistent. The message names the file, the field or array, and what is wrong. A
    ValueError, so ``except ValueError`` keeps working."""


_MIB = 2**20
MAX_METADATA_BYTES = 8 * _MIB
"""The largest metadata record (JSON) that is saved or loaded; larger data belongs in arrays."""
_MIN_BUDGET = 64 * _MIB  # what any file may expand to (see load_arrays' max_bytes)


def save_arrays(
    path: str | os.PathLike[str], arrays: dict[str, Any], metadata: dict[str, Any] | None = None
) -> Path:
    """Write ``arrays`` (name -> array) and JSON-able ``metadata`` to ``path`` atomically."""
    record = {"format": FORMAT, "version": FORMAT_VERSION, **(metadata or {})}
    payload = {k: backend.to_numpy(v) for k, v in arrays.items()}
    if _META_KEY in payload:
        raise ValueError(f"save_arrays: the name {_META_KEY!r} is reserved.")
    for name, value in payload.items():
        if value.dtype.hasobject:
            raise TypeError(f"save_arrays: array {name!r} has dtype object, which needs pickle.")
        if value.dtype.kind == "V":
            raise TypeError(
                f"save_arrays: array {name!r} has a structured dtype {value.dtype}, which sinapsi "
                "does not store. Save each field as its own array."
            )
    payload[_META_KEY] = np.frombuffer(_metadata_json(record), dtype=np.uint8)
    return atomic_write(path, lambda f: np.savez(f, **payload))


def _metadata_json(record: dict[str, Any]) -> bytes:
    try:
        text = json.dumps(record).encode("utf-8")
    except (TypeError, ValueError, RecursionError) as e:
        where, value = _first_non_json(record, "")
        what = f"{where} is a {type(value).__name__}" if where else str(e)
        raise TypeError(
            f"save_arrays: the metadata {what}, which JSON cannot hold. Convert it to numbers, "
            "strings, lists and dicts (or store arrays as arrays)."
        ) from None
    if len(text) > MAX_METADATA_BYTES:
        raise ValueError(
            f"save_arrays: the metadata is {len(text) / _MIB:.1f} MiB as JSON; sinapsi reads up to "
            f"{MAX_METADATA_BYTES // _MIB} MiB of metadata. Store large data as arrays."
        )
    return text


def _first_non_json(value: Any, where: str, depth: int = 0) -> tuple[str, Any]:
    if depth > 100:
        return where, value
    if isinstance(value, dict):
        for k, v in value.items():
            if not isinstance(k, (str, int, float, bool)) and k is not None:
                return f"{where}[{k!r}] (a key)", k
            found = _first_non_json(v, f"{where}[{k!r}]", depth + 1)
            if found[0]:
                return found
    elif isinstance(value, (list, tuple)):
        for i, v in enumerate(value):
            found = _first_non_json(v, f"{where}[{i}]", depth + 1)
            if found[0]:
                return found
    elif not isinstance(value, (str, int, float, bool)) and value is not None:
        return where or "value", value
    return "", None


def load_arrays(
    path: str | os.PathLike[str], *, max_bytes: int | None = None
) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """Read what :func:`save_arrays` wrote: ``(arrays, metadata)``.

    Refuses with :class:`ModelFileError`, naming what is wrong: a file that is not a sinapsi
    array file (foreign, truncated or corrupted), a newer format version, any entry that would
    need pickle, and any entry whose ``.npy`` header disagrees with its content. Every size is
    checked before memory is allocated for it: the arrays may expand to ``max_bytes`` at most
    (default: 64 MiB or 8 times the file's size, whichever is larger, which stops zip bombs;
    files written by sinapsi are not compressed, so they are never near it).
    """
    if not isinstance(path, (str, bytes, os.PathLike)):
        raise TypeError(
            f"Cannot load {path!r:.80}: the path must be a str or a pathlib.Path; got "
            f"{type(path).__name__}."
        )
    source = Path(os.fsdecode(path))
    shown = f"Cannot load {str(source)!r}"
    if source.is_dir():
        raise IsADirectoryError(f"{shown}: it is a folder, not a file. Give a .npz file's path.")
    if not source.is_file():
        if source.exists():
            raise ModelFileError(f"{shown}: it is not a regular file (a pipe or a device?).")
        raise FileNotFoundError(f"No such file: {str(source)!r}.")
    try:
        with zipfile.ZipFile(source) as archive:
            arrays = _read_members(archive, source.stat().st_size, max_bytes)
    except PermissionError:
        raise PermissionError(f"{shown}: no permission to read it.") from None
    except _Refused as e:
        raise ModelFileError(f"{shown}: {e}") from None
    except (zipfile.BadZipFile, OSError, EOFError, ValueError, KeyError, RuntimeError) as e:
        raise ModelFileError(
            f"{shown}: not a valid sinapsi file ({str(e) or type(e).__name__}). It may be "
            "truncated, corrupted, or written by another program."
        ) from None
    if _META_KEY not in arrays:
        raise ModelFileError(
            f"{shown}: not a valid sinapsi file (it has no sinapsi metadata record). It may be "
            "written by another program (numpy.savez?): read it with numpy.load."
        )
    try:
        record = _decode_record(arrays.pop(_META_KEY))
    except _Refused as e:
        raise ModelFileError(f"{shown}: {e}") from None
    if not isinstance(record, dict) or record.get("format") != FORMAT:
        raise ModelFileError(f"{shown}: it is not a sinapsi array file.")
    version = record.get("version", 0)
    if not isinstance(version, int) or isinstance(version, bool):
        raise ModelFileError(
            f"{shown}: the metadata field 'version' must be an int; got {version!r:.80}. The file "
            "was edited or written by another program."
        )
    if version > FORMAT_VERSION:
        raise ModelFileError(
            f"{shown}: written by a newer sinapsi (format version {version}, this one reads up "
            f"to {FORMAT_VERSION}). Upgrade sinapsi."
        )
    return arrays, record


def _read_members(
    archive: zipfile.ZipFile, file_size: int, max_bytes: int | None
) -> dict[str, np.ndarray]:
    members: dict[str, zipfile.ZipInfo] = {}
    for info in archive.infolist():
        if not info.filename.endswith(".npy"):
            raise _Refused(
                f"its member {info.filename!r:.100} is not a .npy array; a sinapsi file holds only "
                ".npy arrays. It was written by another program."
            )
        name = info.filename[: -len(".npy")]
        if name in members:
            raise _Refused(f"it holds two arrays named {name!r:.100}; which one is meant?")
        if info.flag_bits & 0x1:
            raise _Refused(f"the array {name!r:.100} is encrypted; sinapsi files never are.")
        _check_member_sizes(info, name, file_size)
        members[name] = info
    budget = max(_MIN_BUDGET, 8 * file_size) if max_bytes is None else max_bytes
    total = sum(info.file_size for info in members.values())
    if total > budget:
        raise _Refused(
            f"its arrays expand to {total / _MIB:.1f} MiB, more than the {budget / _MIB:.1f} MiB "
            f"allowed for a file of {file_size} bytes (a zip bomb?). If you trust the file, pass "
            f"max_bytes={total} to load_arrays, load or load_checkpoint."
        )
    return {name: _read_npy(archive, info, name) for name, info in members.items()}


def _check_member_sizes(info: zipfile.ZipInfo, name: str, file_size: int) -> None:
    """A member's claimed sizes must fit in the file: stored, it holds what it claims; deflated,
    it expands at most 1032 times (deflate's limit)."""
    if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
        raise _Refused(
            f"the array {name!r:.100} is compressed with method {info.compress_type}, which "
            "sinapsi does not read (it reads stored and deflated arrays, as numpy.savez and "
            "numpy.savez_compressed write them)."
        )
    stored = info.compress_type == zipfile.ZIP_STORED
    if info.compress_size > file_size or (stored and info.file_size != info.compress_size):
        raise _Refused(
            f"the array {name!r:.100} claims {info.file_size} bytes, but the whole file has "
            f"{file_size}. It is truncated, corrupted or was edited."
        )
    if info.file_size > 1032 * info.compress_size + 1024:
        raise _Refused(
            f"the array {name!r:.100} claims {info.file_size} bytes from {info.compress_size} "
            "compressed ones, more than deflate can expand. It is corrupted or was edited."
        )


def _read_npy(archive: zipfile.ZipFile, info: zipfile.ZipInfo, name: str) -> np.ndarray:
    """One member, reading its header first: nothing is allocated before the declared size is
    checked against the member's size."""
    with archive.open(info) as f:
        shape, fortran, dtype, header_size = _npy_header(f, name)
        count = math.prod(shape)
        nbytes = count * dtype.itemsize
        if header_size + nbytes != info.file_size:
            raise _Refused(
                f"the array {name!r:.100} declares shape {shape} {dtype} ({nbytes} bytes), but "
                f"the file holds {info.file_size - header_size} bytes of it. It is corrupted or "
                "was edited."
            )
        if name == _META_KEY and nbytes > MAX_METADATA_BYTES:
            raise _Refused(
                f"its metadata record is {nbytes / _MIB:.1f} MiB; sinapsi reads up to "
                f"{MAX_METADATA_BYTES // _MIB} MiB of metadata. It was not written by sinapsi."
            )
        array = np.empty(count, dtype)
        raw = array.view(np.uint8)
        done = 0
        while done < nbytes:
            chunk = f.read(min(16 * _MIB, nbytes - done))
            if not chunk:
                raise EOFError(f"the array {name!r:.100} ends early")
            raw[done : done + len(chunk)] = np.frombuffer(chunk, np.uint8)
            done += len(chunk)
    array = array.reshape(shape[::-1]).T.copy() if fortran else array.reshape(shape)
    if not dtype.isnative:
        array = array.astype(dtype.newbyteorder("="))
    return array


_NPY_HEADERS = {(1, 0): (2, np.lib.format.read_array_header_1_0),
                (2, 0): (4, np.lib.format.read_array_header_2_0)}  # fmt: skip


def _npy_header(f: BinaryIO, name: str) -> tuple[tuple[int, ...], bool, np.dtype, int]:
    """``(shape, fortran_order, dtype, header size in bytes)`` of a ``.npy`` stream."""
    bad = f"the array {name!r:.100} has a malformed .npy header"
    prefix = f.read(8)
    version = (prefix[6], prefix[7]) if len(prefix) == 8 else None
    if prefix[:6] != b"\x93NUMPY" or version not in _NPY_HEADERS:
        raise _Refused(f"{bad} (not .npy format 1.0 or 2.0). It is corrupted or was edited.")
    length_size, reader = _NPY_HEADERS[version]
    length = f.read(length_size)
    size = int.from_bytes(length, "little")
    if len(length) < length_size or size > 65536:
        raise _Refused(f"{bad} (it declares {size} bytes of header). It is corrupted or edited.")
    header = f.read(size)
    try:
        shape, fortran, dtype = reader(pyio.BytesIO(length + header))
    except (ValueError, TypeError, SyntaxError, EOFError) as e:
        reason = str(e).splitlines()[0][:120] if str(e) else type(e).__name__
        raise _Refused(f"{bad} ({reason}). It is corrupted or was edited.") from None
    if any(d < 0 for d in shape):
        raise _Refused(f"{bad} (negative shape {shape}). It is corrupted or was edited.")
    if dtype.hasobject:
        raise _Refused(
            f"the array {name!r:.100} needs pickle to load, which sinapsi never does (it could "
            "run code). Do not load files from untrusted sources with pickle."
        )
    if dtype.kind == "V" or dtype.itemsize == 0:
        raise _Refused(
            f"the array {name!r:.100} has dtype {dtype}, which sinapsi does not store (structured "
            "or raw bytes). It was written by another program."
        )
    return shape, fortran, dtype, 8 + length_size + size


def _decode_record(raw: np.ndarray) -> Any:
    if raw.dtype != np.uint8 or raw.ndim != 1:
        raise _Refused(
            f"the metadata record is not UTF-8 JSON bytes (it is {raw.dtype} of shape "
            f"{raw.shape}). It was written by another program."
        )
    try:
        return json.loads(raw.tobytes().decode("utf-8"))
    except RecursionError:
        raise _Refused(
            "its metadata record is nested too deeply to read. It was not written by sinapsi."
        ) from None
    except ValueError as e:
        raise _Refused(f"the metadata record is not valid JSON ({str(e)[:120]}).") from None


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

    Built-in layers are rebuilt by :func:`load` with no user code; a custom module must be
    registered with ``@sinapsi.nn.register_module()``. Refuses (ValueError) weights that are
    NaN or infinite and models that mix float dtypes, which :func:`load` would refuse.
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
    arrays = {f"model/{k}": v for k, v in model.state_dict().items()}
    if optimizer is not None:
        opt_arrays, record["optimizer"] = _optimizer_payload(optimizer, model)
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
        return _checkpoint(arrays, record)
    except _Refused as e:
        raise ModelFileError(f"{shown}: {e}") from None
    except ValueError as e:  # from check_spec and build_module: they name the entry
        text = str(e)
        raise ModelFileError(
            f"{shown}: its metadata field {text}" if text.startswith("'") else f"{shown}: {text}"
        ) from e


def _checkpoint(arrays: dict[str, np.ndarray], record: dict[str, Any]) -> Checkpoint:
    from . import _filechecks as checks
    from .nn.registry import build_module, check_spec, declared_state

    declared_dtype, opt = checks.check_record(record)
    spec = record["architecture"]
    check_spec(spec, "architecture")
    model_state, opt_arrays = {}, {}
    for key, value in arrays.items():
        if key.startswith("model/"):
            model_state[key[len("model/") :]] = value
        elif key.startswith("optimizer/") and opt is not None:
            opt_arrays[key] = value
        else:
            raise _Refused(
                f"it holds the array {key!r:.100}, which is neither 'model/...' nor "
                "'optimizer/...' (of a saved optimizer). It was edited or written by another "
                "program."
            )
    dtype = checks.model_dtype(model_state, declared_dtype, backend.get_default_dtype())
    checks.check_model_arrays(model_state, dtype, *declared_state(spec))
    # the built-in layers' sizes are checked; custom modules may build what the arrays hold
    elements = sum(a.size for a in model_state.values())
    model = build_module(spec, "architecture", max_bytes=8 * elements + 65536)
    if any(p.dtype != dtype for p in model.parameters()) or dtype != backend.get_default_dtype():
        model.astype(dtype)
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
