"""The file-system side of :func:`sinapsi.io.atomic_write`: refusing paths that cannot be
written, naming temp files after their writer, removing the temps of killed saves."""

from __future__ import annotations

import functools
import hashlib
import os
import re
import socket
import stat
import time
from pathlib import Path


def temp_prefix(real: Path) -> str:
    """The start of a new temp file's name: ``.NAME.HOST-PID.``."""
    return f".{_temp_base(real.name)}.{_host_tag()}-{os.getpid()}."


def writable_target(path: str | os.PathLike[str]) -> tuple[str, Path]:
    """``(path as shown in errors, the real file to replace)``; refuses unwritable paths."""
    if not isinstance(path, (str, bytes, os.PathLike)):
        raise TypeError(
            f"Cannot save to {path!r}: the path must be a str or a pathlib.Path; got "
            f"{type(path).__name__}."
        )
    text = os.fsdecode(os.fspath(path))
    shown = f"Cannot save to {text!r}"
    if not text:
        raise ValueError(f"{shown}: the path is empty. Give a file name, e.g. 'model.safetensors'.")
    if "\0" in text:
        raise ValueError(f"{shown}: the path contains a NUL byte ('\\x00'). Remove it.")
    if text.endswith(("/", os.sep)):
        raise IsADirectoryError(
            f"{shown}: the path ends with '/', so it names a folder. Give a file name inside "
            f"it, e.g. {os.path.join(text, 'model.safetensors')!r}."
        )
    if os.path.isdir(text):
        raise IsADirectoryError(
            f"{shown}: it is a folder. Give a file name inside it, e.g. "
            f"{os.path.join(text, 'model.safetensors')!r}."
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


def save_error(shown: str, error: OSError, folder: Path) -> OSError:
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


def remove_stale_temps(folder: Path, target: Path, stale_seconds: float) -> None:
    """Delete the temp files of ``target`` whose writer is gone (see atomic_write): those of a
    process of this machine that no longer runs; those whose writer cannot be told (another
    machine's, an older sinapsi's, or on Windows) once untouched for ``stale_seconds``
    (sinapsi.io.STALE_TEMP_SECONDS)."""
    base = _temp_base(target.name)
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
                runs = None  # unknown: a writer on another machine, or an old-style temp
                if match["pid"] is not None and match["host"] == _host_tag():
                    runs = _process_runs(int(match["pid"]))
                if runs is False or (runs is None and now - info.st_mtime > float(stale_seconds)):
                    os.unlink(entry.path)
            except OSError:
                continue  # removed meanwhile, or not ours to remove


def _process_runs(pid: int) -> bool | None:
    """Whether process ``pid`` of this machine runs; None where that cannot be told."""
    if os.name != "posix":
        return None  # on Windows os.kill(pid, 0) would terminate it: rely on the age alone
    if pid == os.getpid():
        return True  # another thread of this process may be saving
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (OverflowError, ValueError):
        return False  # no such process can exist
    except OSError:
        return True  # e.g. PermissionError: it runs, as another user
    return True


def umask() -> int:
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


def fsync_folder(folder: Path) -> None:
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
