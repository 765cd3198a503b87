"""The safetensors container, written and read by sinapsi's own code: model files
(:func:`sinapsi.save`), state_dict files (:func:`sinapsi.save_state_dict`) and word vectors
(:meth:`sinapsi.embeddings.KeyedVectors.save`, :class:`~sinapsi.embeddings.Word2Vec`).

A safetensors file is 8 bytes (the header's length), a JSON header (each tensor's dtype, shape
and byte range; ``__metadata__``: str -> str) and the tensors' bytes. :func:`write_safetensors`
streams it atomically; :func:`read_safetensors` checks the whole header against the file (each
tensor's dtype, shape and byte range, which must tile the data exactly) before any tensor is
read, then reads them with safetensors' own reader (``pread``, not a memory map: a file cut
short meanwhile is an error, not a crash), so a hostile or truncated file costs no more memory
than its own size and is refused with one :class:`~sinapsi.io.ModelFileError`. Non-finite
floats are refused on both sides.
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

from ._safe_file import MAX_METADATA_BYTES, ModelFileError, atomic_write

__all__ = ["MAX_HEADER_BYTES", "check_storable", "read_safetensors", "write_safetensors"]

_MIB = 2**20
MAX_HEADER_BYTES = 4 * MAX_METADATA_BYTES
"""The largest safetensors header (JSON: metadata plus every tensor's entry) that is read."""

# safetensors' dtype names <-> numpy's (the ones numpy holds; bfloat16 and float8 are torch's)
_DTYPES = {"F64": "float64", "F32": "float32", "F16": "float16", "I64": "int64",
           "I32": "int32", "I16": "int16", "I8": "int8", "U64": "uint64", "U32": "uint32",
           "U16": "uint16", "U8": "uint8", "BOOL": "bool"}  # fmt: skip
_NAMES = {np.dtype(v): k for k, v in _DTYPES.items()}


def check_storable(caller: str, key: str, array: np.ndarray) -> None:
    """Refuse an array that a safetensors file cannot hold (its dtype) or sinapsi would not
    load back (NaN or infinite values)."""
    if array.dtype not in _NAMES:
        raise TypeError(
            f"{caller}: {key!r:.100} has dtype {array.dtype}; a safetensors file holds "
            f"{', '.join(sorted(set(_DTYPES.values())))}. Convert it first."
        )
    if array.dtype.kind == "f":
        bad = array.size - int(np.count_nonzero(np.isfinite(array)))
        if bad:
            raise ValueError(
                f"{caller}: {key!r:.100} holds {bad} NaN or infinite values; a file with them "
                "would not load. Save the weights from before training diverged."
            )


def write_safetensors(
    path: str | os.PathLike[str],
    tensors: dict[str, np.ndarray],
    metadata: dict[str, str] | None,
    caller: str,
) -> Path:
    """Write ``tensors`` and the str -> str ``metadata`` to ``path`` atomically, streamed: the
    header, then each tensor's bytes from the array itself (little-endian, C order), so no copy
    of the whole file is built in memory (``safetensors.numpy.save`` builds one: twice the
    weights at the peak). Any file this writes, ``safetensors.safe_open`` reads."""
    size = sum(len(k.encode()) + len(v.encode()) for k, v in (metadata or {}).items())
    if size > MAX_METADATA_BYTES:
        raise ValueError(
            f"{caller}: the metadata is {size / _MIB:.1f} MiB; sinapsi reads up to "
            f"{MAX_METADATA_BYTES // _MIB} MiB of metadata. Store large data as arrays."
        )
    if "__metadata__" in tensors:
        raise ValueError(f"{caller}: the name '__metadata__' is reserved by safetensors.")
    arrays = {}
    for key, value in tensors.items():
        check_storable(caller, key, value)
        # astype, not ascontiguousarray, which makes a 0-d array 1-d
        arrays[key] = value.astype(value.dtype.newbyteorder("<"), order="C", copy=False)
    header: dict[str, Any] = {"__metadata__": dict(metadata)} if metadata else {}
    start = 0
    for key, a in arrays.items():
        header[key] = {
            "dtype": _NAMES[a.dtype.newbyteorder("=")], "shape": list(a.shape),
            "data_offsets": [start, start + a.nbytes],
        }  # fmt: skip
        start += a.nbytes
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * (-len(text) % 8)  # the data 8-byte aligned, as safetensors writes it
    if len(text) > MAX_HEADER_BYTES:
        raise ValueError(
            f"{caller}: the file's header would be over {MAX_HEADER_BYTES // _MIB} MiB (too "
            "many tensors or too long names); sinapsi would not read it back."
        )

    def write(f: BinaryIO) -> None:
        f.write(len(text).to_bytes(8, "little") + text)
        for a in arrays.values():
            if a.size:
                f.write(a.reshape(-1).view(np.uint8).data)

    return atomic_write(path, write)


def read_safetensors(
    source: Path, shown: str, max_bytes: int | None = None
) -> tuple[dict[str, np.ndarray], dict[str, str]]:
    """``(tensors, metadata)`` of a safetensors file, checked before anything is allocated."""
    from safetensors import SafetensorError, safe_open

    entries, metadata = _read_header(source, shown)
    total = sum(end - begin for _, _, (begin, end) in entries.values())
    if max_bytes is not None and total > max_bytes:
        raise ModelFileError(
            f"{shown}: its arrays hold {total / _MIB:.1f} MiB, more than max_bytes={max_bytes}."
        )
    tensors: dict[str, np.ndarray] = {}
    try:
        try:  # read(2), not mmap: a file cut short meanwhile is an error, not a SIGBUS crash
            handle = safe_open(source, framework="numpy", backend="pread")
        except TypeError:  # an older safetensors: mmap is its only backend
            handle = safe_open(source, framework="numpy")
        with handle as f:
            for key in entries:
                tensors[key] = np.array(f.get_tensor(key), copy=True)
    except PermissionError:
        raise PermissionError(f"{shown}: no permission to read it.") from None
    except (SafetensorError, OSError, ValueError, TypeError) as e:
        raise ModelFileError(
            f"{shown}: not a valid sinapsi file ({str(e).splitlines()[0][:160] if str(e) else e!r})"
            ". It may be truncated, corrupted, or written by another program."
        ) from None
    for key, array in tensors.items():
        dtype, shape, _ = entries[key]
        if array.dtype != dtype or array.shape != shape:  # the file changed under us
            raise ModelFileError(f"{shown}: the tensor {key!r:.100} changed while read.")
        if array.dtype.kind == "f" and not np.isfinite(array).all():
            bad = array.size - int(np.count_nonzero(np.isfinite(array)))
            raise ModelFileError(
                f"{shown}: the tensor {key!r:.100} holds {bad} NaN or infinite values; saved "
                "weights must be finite. The run diverged before this file was written, or the "
                "file was edited."
            )
    return tensors, metadata


def _read_header(
    source: Path, shown: str
) -> tuple[dict[str, tuple[np.dtype, tuple[int, ...], tuple[int, int]]], dict[str, str]]:
    """The tensors' ``(dtype, shape, byte range)`` and the ``__metadata__``, every size checked
    against the file before it is read."""
    broken = f"{shown}: not a valid sinapsi file"
    try:
        size = source.stat().st_size
        with open(source, "rb") as f:
            length = int.from_bytes(f.read(8), "little")
            if size < 8 or length > size - 8:
                raise ModelFileError(
                    f"{broken} (its header claims {length} bytes, but the file has {size}). It "
                    "is truncated, corrupted, or written by another program."
                )
            if length > MAX_HEADER_BYTES:
                raise ModelFileError(
                    f"{shown}: its header is {length / _MIB:.1f} MiB; sinapsi reads headers of "
                    f"up to {MAX_HEADER_BYTES // _MIB} MiB. It was not written by sinapsi."
                )
            text = f.read(length)
    except PermissionError:
        raise PermissionError(f"{shown}: no permission to read it.") from None
    except OSError as e:
        raise ModelFileError(f"{shown}: it cannot be read ({e.strerror or e}).") from None
    try:
        header = json.loads(text.decode("utf-8"))
    except RecursionError:
        raise ModelFileError(f"{broken} (its header is nested too deeply to read).") from None
    except ValueError as e:
        raise ModelFileError(
            f"{broken} (its header is not valid JSON: {str(e)[:120]}). It is truncated, "
            "corrupted, or written by another program."
        ) from None
    if not isinstance(header, dict):
        raise ModelFileError(f"{broken} (its header is not a JSON object).")
    metadata = header.pop("__metadata__", None) or {}
    if not isinstance(metadata, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in metadata.items()
    ):
        raise ModelFileError(f"{broken} (its __metadata__ is not a dict of str to str).")
    entries = {key: _entry(key, value, shown) for key, value in header.items()}
    position = 0  # the byte ranges must tile the data: no gap, no overlap, nothing past the end
    for key, (_, _, (begin, end)) in sorted(entries.items(), key=lambda e: e[1][2]):
        if begin != position:
            raise ModelFileError(
                f"{broken} (the tensor {key!r:.100} starts at byte {begin}, expected {position}: "
                "the tensors overlap or leave a gap). It was edited or is corrupted."
            )
        position = end
    if position != size - 8 - length:
        raise ModelFileError(
            f"{broken} (its tensors hold {position} bytes, but the file has {size - 8 - length} "
            "after the header). It is truncated, corrupted, or was edited."
        )
    return entries, metadata


def _entry(key: str, value: Any, shown: str) -> tuple[np.dtype, tuple[int, ...], tuple[int, int]]:
    """One tensor's ``(dtype, shape, (begin, end))``, its byte count matching its shape."""
    broken = f"{shown}: not a valid sinapsi file"
    if not isinstance(value, dict):
        raise ModelFileError(f"{broken} (the entry {key!r:.100} is not a tensor description).")
    name, shape, offsets = value.get("dtype"), value.get("shape"), value.get("data_offsets")
    if name not in _DTYPES:
        hint = (
            " (a torch dtype numpy lacks: convert with .float() in torch before saving)"
            if isinstance(name, str) and name.startswith(("BF", "F8"))
            else ""
        )
        raise ModelFileError(
            f"{shown}: the tensor {key!r:.100} has dtype "
            f"{name!r:.20}, which sinapsi does not read{hint}."
        )
    ints = lambda v, n: (  # noqa: E731
        isinstance(v, list)
        and len(v) <= n
        and all(isinstance(d, int) and not isinstance(d, bool) and 0 <= d < 2**62 for d in v)
    )
    if not ints(shape, 32) or not ints(offsets, 2) or len(offsets) != 2:
        raise ModelFileError(
            f"{broken} (the tensor {key!r:.100} has a malformed shape {shape!r:.60} or "
            f"data_offsets {offsets!r:.60}). It is corrupted or was edited."
        )
    dtype = np.dtype(_DTYPES[name])
    nbytes = math.prod(shape) * dtype.itemsize
    if offsets[1] - offsets[0] != nbytes:
        raise ModelFileError(
            f"{broken} (the tensor {key!r:.100} declares shape {tuple(shape)} {dtype} ({nbytes} "
            f"bytes), but its data_offsets span {offsets[1] - offsets[0]}). It is corrupted or "
            "was edited."
        )
    return dtype, tuple(shape), (offsets[0], offsets[1])
