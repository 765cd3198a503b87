"""Saving arrays safely: one ``.npz`` file, loaded with ``allow_pickle=False``, written atomically.

A file holds named arrays (a model's ``state_dict``) and a JSON metadata record. Nothing in it
can run code when loaded (no pickle). Writes go to a temporary file in the same folder, are
flushed to disk, then renamed over the target: a crash mid-write leaves the old file intact,
never a half-written one.
"""

from __future__ import annotations

import json
import os
import tempfile
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

from . import backend

__all__ = ["atomic_write", "save_arrays", "load_arrays", "FORMAT", "FORMAT_VERSION"]

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
