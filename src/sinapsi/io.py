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

import functools
import hashlib
import io as pyio
import json
import math
import os
import re
import socket
import stat
import tempfile
import time
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

from . import backend

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
    machine that no longer runs, or not modified for :data:`STALE_TEMP_SECONDS` (a writer on
    another machine, or a file of an older sinapsi). A temp whose writer still runs here is never
    removed, so two processes saving the same file do not break each other's save.
    """
    shown, real = _writable_target(path)
    folder = real.parent
    try:
        folder.mkdir(parents=True, exist_ok=True)
        _remove_stale_temps(folder, _temp_base(real.name))
        fd, tmp = tempfile.mkstemp(
            prefix=f".{_temp_base(real.name)}.{_host_tag()}-{os.getpid()}.", suffix=".tmp",
            dir=folder,
        )
    except OSError as e:
        raise _save_error(shown, e, folder) from e
    try:
        try:  # mkstemp creates the file private (0600); keep the old file's mode, or open()'s
            mode = stat.S_IMODE(os.stat(real).st_mode)
        except OSError:
            mode = 0o666 & ~_umask()
        os.chmod(tmp, mode)
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, real)
    except BaseException as e:
        Path(tmp).unlink(missing_ok=True)
        if isinstance(e, OSError):
            raise _save_error(shown, e, folder) from e
        raise
    _fsync_folder(folder)
    return Path(path)


def _writable_target(path: str | os.PathLike[str]) -> tuple[str, Path]:
    """``(path as shown in errors, the real file to replace)``; refuses unwritable paths."""
    if not isinstance(path, (str, bytes, os.PathLike)):
        raise TypeError(
            f"Cannot save to {path!r}: the path must be a str or a pathlib.Path; got "
            f"{type(path).__name__}."
        )
    text = os.fsdecode(os.fspath(path))
    shown = f"Cannot save to {text!r}"
    if not text:
        raise ValueError(f"{shown}: the path is empty. Give a file name, e.g. 'model.npz'.")
    if "\0" in text:
        raise ValueError(f"{shown}: the path contains a NUL byte ('\\x00'). Remove it.")
    if text.endswith(("/", os.sep)):
        raise IsADirectoryError(
            f"{shown}: the path ends with '/', so it names a folder. Give a file name inside "
            f"it, e.g. {os.path.join(text, 'model.npz')!r}."
        )
    if os.path.isdir(text):
        raise IsADirectoryError(
            f"{shown}: it is a folder. Give a file name inside it, e.g. "
            f"{os.path.join(text, 'model.npz')!r}."
        )
    for parent in Path(text).parents:
        if os.path.exists(parent):
            if not os.path.isdir(parent):
                raise NotADirectoryError(
                    f"{shown}: {str(parent)!r} is a file, not a folder. Save in a folder "
                    "(or remove or rename that file)."
                )
            break
    return shown, Path(os.path.realpath(text))


def _save_error(shown: str, error: OSError, folder: Path) -> OSError:
    """``error`` as a one-line message of the same class (and errno)."""
    if isinstance(error, PermissionError):
        message = (
            f"{shown}: no permission to write in the folder {str(folder)!r}. Choose a folder "
            "you can write to, or change its permissions."
        )
    else:
        reason = error.strerror or str(error)
        message = f"{shown}: {reason}. The file was not changed."
    try:
        result = type(error)(message)
    except TypeError:
        result = OSError(message)
    result.errno = error.errno
    return result


def _temp_base(name: str) -> str:
    """The part of a temp file's name saying which target it belongs to (long names hashed, so
    the temp's name stays under the file-system limit when the target's does)."""
    raw = name.encode("utf-8", "surrogateescape")
    if len(raw) <= 200:
        return name
    digest = hashlib.blake2s(raw, digest_size=6).hexdigest()
    return raw[:80].decode("utf-8", "ignore") + "~" + digest


@functools.cache
def _host_tag() -> str:
    return hashlib.blake2s(socket.gethostname().encode(), digest_size=4).hexdigest()


def _remove_stale_temps(folder: Path, base: str) -> None:
    """Delete the temp files of the target ``base`` whose writer is gone (see atomic_write)."""
    pattern = re.compile(
        rf"\.{re.escape(base)}\.(?:(?P<host>[0-9a-f]{{8}})-(?P<pid>\d{{1,10}})\.)?[a-z0-9_]{{8}}\.tmp"
    )
    now = time.time()
    with os.scandir(folder) as entries:
        for entry in entries:
            match = pattern.fullmatch(entry.name)
            if match is None:
                continue
            try:
                info = entry.stat(follow_symlinks=False)
                if not stat.S_ISREG(info.st_mode):
                    continue
                if hasattr(os, "getuid") and info.st_uid != os.getuid():
                    continue  # another user's save
                gone = (
                    match["pid"] is not None
                    and match["host"] == _host_tag()
                    and not _process_runs(int(match["pid"]))
                )
                if gone or now - info.st_mtime > STALE_TEMP_SECONDS:
                    os.unlink(entry.path)
            except OSError:
                continue  # removed meanwhile, or not ours to remove


def _process_runs(pid: int) -> bool:
    if os.name != "posix" or pid == os.getpid():
        return True  # on Windows os.kill(pid, 0) would terminate it: rely on the age alone
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (OverflowError, ValueError):
        return False
    except OSError:
        return True  # e.g. PermissionError: it runs, as another user
    return True


def _umask() -> int:
    """The process umask, read without changing it where the system allows (os.umask(0) would
    make files created by other threads meanwhile world-writable)."""
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _fsync_folder(folder: Path) -> None:
    """Make the rename itself durable (POSIX); best effort."""
    if not hasattr(os, "O_DIRECTORY"):
        return
    try:
        fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


class ModelFileError(ValueError):
    """A file that sinapsi refuses to load: not a sinapsi file, truncated, corrupted, hostile or
    inconsistent. The message names the file, the field or array, and what is wrong. A
    ValueError, so ``except ValueError`` keeps working."""


MiB = 2**20
MAX_METADATA_BYTES = 8 * MiB
"""The largest metadata record (JSON) that is saved or loaded; larger data belongs in arrays."""
_MIN_BUDGET = 64 * MiB  # what any file may expand to (see load_arrays' max_bytes)


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
            f"save_arrays: the metadata is {len(text) / MiB:.1f} MiB as JSON; sinapsi reads up to "
            f"{MAX_METADATA_BYTES // MiB} MiB of metadata. Store large data as arrays."
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


class _Refused(Exception):
    """What is wrong with a file being loaded; the caller adds the file's name."""


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
    source = Path(path)
    shown = f"Cannot load {str(source)!r}"
    if source.is_dir():
        raise IsADirectoryError(f"{shown}: it is a folder, not a file. Give a .npz file's path.")
    if not source.is_file():
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
        members[name] = info
    budget = max(_MIN_BUDGET, 8 * file_size) if max_bytes is None else max_bytes
    total = sum(info.file_size for info in members.values())
    if total > budget:
        raise _Refused(
            f"its arrays expand to {total / MiB:.1f} MiB, more than the {budget / MiB:.1f} MiB "
            f"allowed for a file of {file_size} bytes (a zip bomb?). If you trust the file, pass "
            f"max_bytes={total} to load_arrays, load or load_checkpoint."
        )
    return {name: _read_npy(archive, info, name) for name, info in members.items()}


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
                f"its metadata record is {nbytes / MiB:.1f} MiB; sinapsi reads up to "
                f"{MAX_METADATA_BYTES // MiB} MiB of metadata. It was not written by sinapsi."
            )
        array = np.empty(count, dtype)
        raw = array.view(np.uint8)
        done = 0
        while done < nbytes:
            chunk = f.read(min(16 * MiB, nbytes - done))
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
