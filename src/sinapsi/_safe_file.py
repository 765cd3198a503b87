"""What every sinapsi file shares: atomic writes, the error of a refused file, the format
record's name and version, and opening a path to read with one-line errors.

Both containers (the safetensors files written today, the zips of ``.npy`` arrays written
before) use these, so a refusal reads the same whichever container a file is.
"""

from __future__ import annotations

import os
import stat
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any, BinaryIO

from . import _atomic

FORMAT = "sinapsi.arrays"
FORMAT_VERSION = 2
"""The newest format version this sinapsi reads and :func:`sinapsi.save` writes. Version 2: a
model's arrays are named by their bare state_dict keys (``0.weight``); version 1 (the zips of
``.npy`` arrays) named them ``model/0.weight``."""

_MIB = 2**20
MAX_METADATA_BYTES = 8 * _MIB
"""The largest metadata record (JSON) that is saved or loaded; larger data belongs in arrays."""

STALE_TEMP_SECONDS = 600.0
"""A temp file of a save that nothing has written to for this long is stale (see atomic_write)."""


class ModelFileError(ValueError):
    """A file that sinapsi refuses to load: not a sinapsi file, truncated, corrupted, hostile or
    inconsistent. The message names the file, the field or array, and what is wrong. A
    ValueError, so ``except ValueError`` keeps working."""


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


def source_file(path: Any, example: str = "a .safetensors file's") -> tuple[Path, str]:
    """``(path, "Cannot load '<path>'")`` of a regular file to read; a path that is not one
    raises the one-line error saying what it is instead."""
    if not isinstance(path, (str, bytes, os.PathLike)):
        raise TypeError(
            f"Cannot load {path!r:.80}: the path must be a str or a pathlib.Path; got "
            f"{type(path).__name__}."
        )
    source = Path(os.fsdecode(path))
    shown = f"Cannot load {str(source)!r}"
    if source.is_dir():
        raise IsADirectoryError(f"{shown}: it is a folder, not a file. Give {example} path.")
    if not source.is_file():
        if source.exists():
            raise ModelFileError(f"{shown}: it is not a regular file (a pipe or a device?).")
        raise FileNotFoundError(f"No such file: {str(source)!r}.")
    return source, shown


def container(source: Path, shown: str) -> str:
    """``"zip"`` (the ``.npy`` arrays of sinapsi before format 2, numpy.savez's files) or
    ``"safetensors"``, told by the first bytes; anything else is refused."""
    try:
        with open(source, "rb") as f:
            head = f.read(9)
    except PermissionError:
        raise PermissionError(f"{shown}: no permission to read it.") from None
    except OSError as e:
        raise ModelFileError(f"{shown}: it cannot be read ({e.strerror or e}).") from None
    if head[:2] == b"PK":
        return "zip"
    if len(head) == 9 and head[8:9] == b"{":
        return "safetensors"
    raise ModelFileError(
        f"{shown}: not a valid sinapsi file (neither safetensors nor a zip of .npy arrays). It "
        "may be truncated, corrupted, or written by another program."
    )


def check_format(record: Any, shown: str, what: str = "sinapsi array file") -> None:
    """The record names sinapsi's format and a version this sinapsi reads."""
    if not isinstance(record, dict) or record.get("format") != FORMAT:
        raise ModelFileError(f"{shown}: it is not a {what}.")
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
