"""What :func:`sinapsi.experiment.run` checks and does around a run: is its name one folder
name, will it fit in memory, and its folder, written in full at the end or not at all, never
over an older run.

A run is written into a hidden staging folder beside its final one (``<out>/.<name>.*.partial``)
and renamed into place when everything is written: a failed, diverged or interrupted run leaves
nothing behind, and readers never see a half-written run.
"""

from __future__ import annotations

import itertools
import os
import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path

# Reading a CSV file holds each cell as a Python string in a list: about this many bytes of
# memory per byte of file (a 6-byte cell such as "1.234," takes ~60 bytes), then the arrays.
CSV_BYTES_PER_BYTE = 16
# Optimizer state per parameter value, in copies of the parameter.
_OPTIMIZER_SLOTS = {"sgd": 1, "adagrad": 1, "rmsprop": 2, "adam": 2, "adamw": 2}


_NAME_FORBIDDEN = ("/", "\\", ":")
# Device names Windows reserves in any folder (with any extension).
_WINDOWS_DEVICES = {"con", "prn", "aux", "nul"} | {
    f"{p}{i}" for p in ("com", "lpt") for i in range(10)
}


def check_run_name(name: str, origin: str) -> str:
    """Return ``name`` if it can be a run's folder ``<out>/<name>/``: one path component on any
    OS (no separator, not ``.`` or ``..``, no NUL or control character, no surrounding spaces
    or final dot, not a Windows device name such as ``con``, at most 200 characters); else
    raise :class:`~sinapsi.config.ConfigError` with ``origin`` in front.

    >>> from sinapsi.config import check_run_name
    >>> check_run_name("spiral-3", "run.toml")
    'spiral-3'
    """
    bad = (
        not isinstance(name, str)
        or name.strip() in ("", ".", "..")
        or name != name.strip()
        or name.endswith(".")
        or name.split(".")[0].lower() in _WINDOWS_DEVICES
        or len(name) > 200
        or any(c in name for c in _NAME_FORBIDDEN)
        or any(ord(c) < 32 or ord(c) == 127 for c in name)
    )
    if bad:
        from .config import ConfigError

        raise ConfigError(
            f"{origin}: the run name {name!r} must be a single folder name (the run is saved in "
            "<out>/<name>/) on any system: not empty, no '/', '\\' or ':', no control "
            "characters, surrounding spaces or final '.', not a Windows device name (con, nul, "
            "com1, ...), at most 200 characters. Use e.g. 'spiral-2'."
        )
    return name


def physical_memory() -> int | None:
    """This machine's memory in bytes, or None where the OS does not say (then nothing is
    refused)."""
    try:
        return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (AttributeError, ValueError, OSError):
        return None


def human_bytes(n: float) -> str:
    """``1536`` -> ``'1.5 KiB'``; any size, however large."""
    for unit in ("B", "KiB", "MiB", "GiB", "TiB", "PiB"):
        if n < 1024 or unit == "PiB":
            return f"{n:,.0f} {unit}" if unit == "B" else f"{n:,.1f} {unit}"
        n /= 1024
    raise AssertionError("unreachable")


def data_bytes(n_samples: int, n_values: int) -> int:
    """The data of a run: ``n_values`` numbers per sample (features and target), held as the
    loaded array, the split and the standardized copy, with float64 where loaders compute."""
    return 8 * 3 * n_samples * n_values


def model_bytes(
    sizes: Sequence[int], batch_norm: bool, optimizer: str, batch_size: int, eval_rows: int
) -> tuple[int, int]:
    """``(parameters, activations)`` in bytes of an MLP with layer ``sizes`` (in, hidden...,
    out) in float32: weights, gradients, the optimizer's state and a copy of the best weights;
    activations of a training batch (kept for backward, with their gradients) or of an
    evaluation batch, whichever is larger."""
    params = sum(a * b + b for a, b in zip(sizes[:-1], sizes[1:]))
    if batch_norm:
        params += 4 * sum(sizes[1:-1])  # weight, bias, running mean and variance
    copies = 3 + _OPTIMIZER_SLOTS.get(optimizer, 2)
    width = sum(sizes[1:])
    activations = max(batch_size * 2 * 4, eval_rows) * width  # ~4 tensors a layer, and grads
    return 4 * copies * params, 4 * activations


def check_memory(parts: dict[str, int], origin: str, advice: str) -> None:
    """Raise :class:`~sinapsi.config.ConfigError` when the bytes in ``parts`` add up to more
    than this machine's memory."""
    from .config import ConfigError

    limit, need = physical_memory(), sum(parts.values())
    if limit is None or need <= limit:
        return
    listed = ", ".join(f"{what} {human_bytes(n)}" for what, n in parts.items() if n)
    raise ConfigError(
        f"{origin}: this run needs about {human_bytes(need)} of memory ({listed}), more than "
        f"the {human_bytes(limit)} this machine has. {advice}"
    )


def new_staging(final: Path) -> Path:
    """A new hidden folder beside ``final`` to write the run into (creating ``final``'s parent);
    :func:`publish` moves it into place, :func:`discard` removes what is left on failure."""
    final.parent.mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(prefix=f".{final.name}.", suffix=".partial", dir=final.parent))


def discard(staging: Path) -> None:
    """Remove a staging folder that was not published (nothing if it was)."""
    if staging.exists():
        shutil.rmtree(staging, ignore_errors=True)


def publish(staging: Path, final: Path, overwrite: bool) -> Path:
    """Rename ``staging`` to ``final``, or to the first free ``final-2``, ``final-3``, ... when
    ``final`` exists; with ``overwrite``, replace ``final`` instead. Returns the folder used."""
    if overwrite and (final.exists() or final.is_symlink()):
        old = Path(tempfile.mkdtemp(prefix=f".{final.name}.", suffix=".old", dir=final.parent))
        os.replace(final, old / final.name)
        os.replace(staging, final)
        shutil.rmtree(old, ignore_errors=True)
        return final
    for i in itertools.count(1):
        candidate = final if i == 1 else final.with_name(f"{final.name}-{i}")
        if candidate.exists() or candidate.is_symlink():
            continue
        try:
            os.rename(staging, candidate)  # fails if another run took the name meanwhile
        except OSError:
            if candidate.exists():
                continue
            raise
        return candidate
    raise AssertionError("unreachable")
