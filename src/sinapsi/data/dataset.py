"""Data sets: samples indexed along axis 0.

A data set is anything with ``__len__`` (the number of samples) and ``__getitem__`` that takes
an int and returns one sample, as in PyTorch (see :class:`Dataset`). :class:`ArrayDataset` is
that for in-memory NumPy arrays, indexed by whole batches, checked once up front so a broken
data set fails here with a clear message instead of as a NaN loss ten epochs later.

>>> import numpy as np
>>> from sinapsi.data import ArrayDataset
>>> ds = ArrayDataset(np.zeros((5, 3), dtype="float32"), np.arange(5))
>>> len(ds)
5
>>> [a.shape for a in ds[1:3]]
[(2, 3), (2,)]
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol, runtime_checkable

import numpy as np

__all__ = ["Dataset", "ArrayDataset"]


@runtime_checkable
class Dataset(Protocol):
    """What :class:`~sinapsi.data.DataLoader` needs: a length and indexing.

    A class of your own is written as in PyTorch: ``dataset[i]`` takes one int and returns one
    sample (a tuple of fields, a dict or an array), and the loader stacks the samples of a
    batch. :class:`ArrayDataset` also takes a slice or an integer array and returns a tuple of
    arrays whose first axis runs over the selected samples: the loader gives it whole batches.
    """

    def __len__(self) -> int: ...

    def __getitem__(self, index: Any) -> tuple[Any, ...]: ...


def _default_names(n: int) -> tuple[str, ...]:
    if n == 1:
        return ("X",)
    if n == 2:
        return ("X", "y")
    return tuple(f"arrays[{i}]" for i in range(n))


def _check_finite(array: np.ndarray, name: str, owner: str) -> None:
    """Refuse NaN or infinity in a floating ``array``: say how many, and where the first is."""
    if array.dtype.kind not in "fc" or array.size == 0:
        return
    finite = np.isfinite(array)
    if finite.all():
        return
    bad = ~finite
    count = int(np.count_nonzero(bad))
    first = tuple(int(i) for i in np.argwhere(bad)[0])
    value = array[first]
    where = f"row {first[0]}" if len(first) == 1 else f"row {first[0]}, position {first}"
    raise ValueError(
        f"{owner}: {name} contains {count} NaN or infinite value{'s' if count > 1 else ''} "
        f"(the first, {value}, at {where}). Impute or drop these rows before training, e.g. "
        f"keep = np.isfinite({name}).all(axis=tuple(range(1, {name}.ndim)))."
    )


def _check_arrays(
    arrays: Sequence[Any], names: Sequence[str], owner: str, *, finite: bool = True
) -> tuple[np.ndarray, ...]:
    """``arrays`` as NumPy arrays with one common, non-zero number of samples along axis 0."""
    out = tuple(np.asarray(a) for a in arrays)
    for a, name in zip(out, names):
        if a.ndim == 0:
            raise ValueError(
                f"{owner}: {name} is a scalar ({a!r}); it must be an array with one row per "
                "sample along axis 0. Wrap a single sample as np.array([value])."
            )
    lengths = [len(a) for a in out]
    for name, n in zip(names, lengths):
        if n != lengths[0]:
            raise ValueError(
                f"{owner}: {names[0]} has {lengths[0]} samples but {name} has {n}. Every array "
                "needs one row per sample along axis 0; check that they come from the same rows."
            )
    if lengths[0] == 0:
        shapes = ", ".join(f"{name} of shape {a.shape}" for a, name in zip(out, names))
        raise ValueError(
            f"{owner}: the data set is empty (0 samples): {shapes}. Check the file or the "
            "filter that produced it."
        )
    if finite:
        for a, name in zip(out, names):
            _check_finite(a, name, owner)
    return out


class ArrayDataset:
    """A data set of in-memory arrays that share their first axis (the samples).

    Parameters
    ----------
    *arrays : array-like
        E.g. ``X`` of shape (n_samples, n_features) and ``y`` of shape (n_samples,).
    names : sequence of str, default=None
        Names used in error messages; by default ``X``, ``y`` (or ``arrays[i]`` for 3+).

    Raises ``ValueError`` for no arrays, different numbers of samples, 0 samples or NaN/Inf in
    a floating array. ``ds[index]`` returns ``tuple(a[index] for a in ds.arrays)``; an integer
    array index copies only the selected rows.
    """

    def __init__(self, *arrays: Any, names: Sequence[str] | None = None) -> None:
        if not arrays:
            raise ValueError(
                "ArrayDataset: no arrays given. Pass the arrays that share the samples axis, "
                "e.g. ArrayDataset(X, y)."
            )
        if names is None:
            names = _default_names(len(arrays))
        elif len(names) != len(arrays):
            raise ValueError(
                f"ArrayDataset: got {len(arrays)} arrays but {len(names)} names. "
                f"Received: names={list(names)!r}"
            )
        self.names: tuple[str, ...] = tuple(names)
        self.arrays: tuple[np.ndarray, ...] = _check_arrays(arrays, self.names, "ArrayDataset")

    def __len__(self) -> int:
        return len(self.arrays[0])

    def __getitem__(self, index: Any) -> tuple[np.ndarray, ...]:
        return tuple(a[index] for a in self.arrays)

    def __repr__(self) -> str:
        fields = ", ".join(
            f"{name}: {a.shape} {a.dtype}" for name, a in zip(self.names, self.arrays)
        )
        return f"ArrayDataset({len(self)} samples; {fields})"
