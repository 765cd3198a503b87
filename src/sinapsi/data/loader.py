"""DataLoader: mini-batches of a data set, one epoch per iteration.

Shuffling permutes the sample *indices* with a ``numpy.random.Generator`` made once from
``seed``, and each batch gathers only its own rows: the data set itself is never copied.
Each ``for batch in loader`` is one epoch and draws a new permutation, so epochs differ, while
two loaders built with the same ``seed`` give the same batches epoch after epoch.

>>> import numpy as np
>>> from sinapsi.data import DataLoader
>>> X, y = np.arange(10, dtype="float32").reshape(5, 2), np.arange(5)
>>> loader = DataLoader((X, y), batch_size=2)
>>> len(loader)
3
>>> [yb.tolist() for _, yb in loader]
[[0, 1], [2, 3], [4]]
"""

from __future__ import annotations

import numbers
from collections.abc import Iterator
from typing import Any

import numpy as np

from .._errors import check_bool
from ..backend import new_rng
from .dataset import ArrayDataset, Dataset

__all__ = ["DataLoader"]


def _collate(samples: list[Any], rows: list[int] | None = None, field: str = "") -> Any:
    """Stack one sample per row into a batch, as torch's ``default_collate``: a tuple (or
    list) of fields gives a tuple of batches, a dict a dict, anything else (an array, a
    :class:`~sinapsi.Tensor`, a number) one NumPy array with the samples along axis 0.
    ``rows`` (the samples' positions in the data set) name them in errors."""
    from ..backend import to_numpy
    from ..tensor import Tensor

    rows = list(range(len(samples))) if rows is None else rows
    first = samples[0]
    if isinstance(first, (tuple, list)):
        for s, r in zip(samples, rows):
            if not isinstance(s, (tuple, list)) or len(s) != len(first):
                raise ValueError(
                    f"DataLoader: sample {rows[0]} has {len(first)} fields but sample {r} is "
                    f"{type(s).__name__} {_short(s)}; every sample must have the same fields."
                )
        return tuple(
            _collate([s[i] for s in samples], rows, f"{field}{i}" if not field else f"{field}[{i}]")
            for i in range(len(first))
        )
    if isinstance(first, dict):
        for s, r in zip(samples, rows):
            if not isinstance(s, dict) or s.keys() != first.keys():
                raise ValueError(
                    f"DataLoader: sample {rows[0]} has the keys {sorted(first)} but sample {r} "
                    f"is {_short(s)}; every sample must have the same keys."
                )
        return {k: _collate([s[k] for s in samples], rows, repr(k)) for k in first}
    arrays = [to_numpy(s.data) if isinstance(s, Tensor) else np.asarray(s) for s in samples]
    for a, r in zip(arrays, rows):
        if a.shape != arrays[0].shape:
            raise ValueError(
                f"DataLoader: the samples of field {field or 0} have different shapes, "
                f"{arrays[0].shape} at sample {rows[0]} and {a.shape} at sample {r}; every "
                "sample of a field needs one shape to be stacked into a batch (pad or crop them "
                "in __getitem__)."
            )
    return np.stack(arrays)


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


class DataLoader:
    """Iterate over a data set in batches.

    Parameters
    ----------
    dataset : Dataset, or tuple/list of arrays, or one array
        An :class:`ArrayDataset`, indexed by whole batches (a slice or an integer array); or
        any object with ``__len__`` and ``__getitem__`` (a PyTorch-style data set), indexed
        one sample at a time and the samples stacked, as torch's default collate does (a
        tuple of fields, a dict of fields, or one array per sample; tensors become arrays).
        A tuple/list of arrays (the fields, e.g. ``(X, y)``) is wrapped in an ``ArrayDataset``;
        a list of tuples or dicts (samples, e.g. ``list(zip(X, y))``) is a data set of samples.
    batch_size : int, default=32
        Samples per batch. Larger than the data set gives a single batch.
    shuffle : bool, default=False
        Draw a new order of the samples at the start of every epoch.
    seed : int, numpy.random.Generator or None, default=None
        Seeds the one Generator used for all epochs (a Generator is used as is, shared).
    drop_last : bool, default=False
        Drop the last batch when it is smaller than ``batch_size``.

    Yields tuples of NumPy arrays, one per array of the data set, each with ``batch_size`` rows
    (the last may have fewer). Without shuffling the batches of an ``ArrayDataset`` are views
    (contiguous slices).
    """

    def __init__(
        self,
        dataset: Dataset | tuple[Any, ...] | list[Any] | np.ndarray,
        batch_size: int = 32,
        shuffle: bool = False,
        seed: int | np.random.Generator | None = None,
        drop_last: bool = False,
    ) -> None:
        if isinstance(dataset, list) and dataset and isinstance(dataset[0], (tuple, dict)):
            pass  # samples, e.g. list(zip(X, y)), as a list is in torch: indexed one by one
        elif isinstance(dataset, (tuple, list)):
            dataset = ArrayDataset(*dataset)
        elif isinstance(dataset, np.ndarray):
            dataset = ArrayDataset(dataset)
        elif not (hasattr(dataset, "__len__") and hasattr(dataset, "__getitem__")):
            raise TypeError(
                "DataLoader: dataset must be an ArrayDataset (or an object with __len__ and "
                f"__getitem__) or a tuple of arrays such as (X, y); got {type(dataset).__name__}."
            )
        if (
            not isinstance(batch_size, numbers.Integral)
            or isinstance(batch_size, bool)
            or batch_size < 1
        ):
            raise ValueError(
                f"DataLoader: batch_size must be a positive integer. Received: "
                f"batch_size={batch_size!r}"
            )
        shuffle = check_bool("DataLoader", "shuffle", shuffle)
        drop_last = check_bool("DataLoader", "drop_last", drop_last)
        self.dataset = dataset
        self.batch_size = int(batch_size)
        self.shuffle = shuffle
        self.drop_last = drop_last
        self.rng = new_rng(seed)
        # fit sets this for models with BatchNorm: a last batch of one sample (no variance)
        # joins the previous batch instead of failing mid-epoch
        self._merge_lone_last = False

    def _lone_last(self, n: int) -> bool:
        return self._merge_lone_last and not self.drop_last and n > 1 and n % self.batch_size == 1

    def __len__(self) -> int:
        """Number of batches in one epoch."""
        n = len(self.dataset)
        if self.drop_last:
            return n // self.batch_size
        return -(-n // self.batch_size) - self._lone_last(n)

    def __iter__(self) -> Iterator[tuple[Any, ...]]:
        n = len(self.dataset)
        stop = n - n % self.batch_size if self.drop_last else n
        if self._lone_last(n):
            stop -= 1
        order = self.rng.permutation(n) if self.shuffle else None
        for start in range(0, stop, self.batch_size):
            end = min(start + self.batch_size, n)
            if end == n - 1 and self._lone_last(n):
                end = n
            index = slice(start, end) if order is None else order[start:end]
            if isinstance(self.dataset, ArrayDataset):
                yield self.dataset[index]
            else:
                rows = range(start, end) if order is None else order[start:end].tolist()
                yield _collate([self.dataset[i] for i in rows], list(rows))

    def __repr__(self) -> str:
        return (
            f"DataLoader({len(self.dataset)} samples, batch_size={self.batch_size}, "
            f"shuffle={self.shuffle}, drop_last={self.drop_last}; {len(self)} batches)"
        )
