"""The zip of ``.npy`` arrays: what :func:`sinapsi.io.save_arrays` writes, and the model
files of sinapsi before format 2 (which :func:`sinapsi.load` still reads).

The reader trusts nothing: every member's sizes are checked against the file before memory is
allocated for it, a zip bomb is refused before it expands, and nothing that needs pickle is
ever loaded. What is wrong is raised as ``Refused`` (or a low-level error) for
:func:`read_npz` to turn into one :class:`~sinapsi.io.ModelFileError` naming the file.
"""

from __future__ import annotations

import io as pyio
import json
import math
import os
import zipfile
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

from . import backend
from ._filechecks import Refused as _Refused
from ._safe_file import FORMAT, MAX_METADATA_BYTES, ModelFileError, atomic_write

NPZ_VERSION = 1
"""The format version of the zips :func:`save_arrays` writes (their arrays keep the names given)."""
_META_KEY = "__sinapsi_metadata__"
_MIB = 2**20
_MIN_BUDGET = 64 * _MIB  # what any file may expand to (see read_npz's max_bytes)


def save_arrays(
    path: str | os.PathLike[str], arrays: dict[str, Any], metadata: dict[str, Any] | None = None
) -> Path:
    """Write ``arrays`` (name -> array) and JSON-able ``metadata`` to ``path`` atomically, as a
    zip of ``.npy`` arrays (any numpy dtype but object and structured ones)."""
    record = {"format": FORMAT, "version": NPZ_VERSION, **(metadata or {})}
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
    payload[_META_KEY] = np.frombuffer(metadata_json(record), dtype=np.uint8)
    return atomic_write(path, lambda f: np.savez(f, **payload))


def read_npz(
    source: Path, shown: str, max_bytes: int | None
) -> tuple[dict[str, np.ndarray], Any]:
    """``(arrays, record)`` of a zip of ``.npy`` arrays; the record is not checked yet."""
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
        return arrays, _decode_record(arrays.pop(_META_KEY))
    except _Refused as e:
        raise ModelFileError(f"{shown}: {e}") from None


def metadata_json(record: dict[str, Any], caller: str = "save_arrays") -> bytes:
    try:
        text = json.dumps(record).encode("utf-8")
    except (TypeError, ValueError, RecursionError) as e:
        where, value = _first_non_json(record, "")
        what = f"{where} is a {type(value).__name__}" if where else str(e)
        raise TypeError(
            f"{caller}: the metadata {what}, which JSON cannot hold. Convert it to numbers, "
            "strings, lists and dicts (or store arrays as arrays)."
        ) from None
    if len(text) > MAX_METADATA_BYTES:
        raise ValueError(
            f"{caller}: the metadata is {len(text) / _MIB:.1f} MiB as JSON; sinapsi reads up to "
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
