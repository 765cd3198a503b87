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

from ..backend import new_rng
from .dataset import ArrayDataset, Dataset

__all__ = ["DataLoader"]


class DataLoader:
    """Iterate over a data set in batches.

    Parameters
    ----------
    dataset : Dataset, or tuple/list of arrays, or one array
        An :class:`ArrayDataset` (or any object with ``__len__`` and a ``__getitem__`` that
        accepts slices and integer arrays); arrays are wrapped in an ``ArrayDataset``.
    batch_size : int, default=32
        Samples per batch. Larger than the data set gives a single batch.
    shuffle : bool, default=False
        Draw a new order of the samples at the start of every epoch.
    seed : int, numpy.random.Generator or None, default=None
        Seeds the one Generator used for all epochs (a Generator is used as is, shared).
    drop_last : bool, default=False
        Drop the last batch when it is smaller than ``batch_size``.

    Yields tuples of NumPy arrays, one per array of the data set, each with ``batch_size`` rows
    (the last may have fewer). Without shuffling the batches are views (contiguous slices).
    """

    def __init__(
        self,
        dataset: Dataset | tuple[Any, ...] | list[Any] | np.ndarray,
        batch_size: int = 32,
        shuffle: bool = False,
        seed: int | np.random.Generator | None = None,
        drop_last: bool = False,
    ) -> None:
        if isinstance(dataset, (tuple, list)):
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
        for flag, value in (("shuffle", shuffle), ("drop_last", drop_last)):
            if not isinstance(value, (bool, np.bool_)):
                raise TypeError(
                    f"DataLoader: {flag} must be True or False. Received: {flag}={value!r}"
                )
        self.dataset = dataset
        self.batch_size = int(batch_size)
        self.shuffle = bool(shuffle)
        self.drop_last = bool(drop_last)
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
            yield self.dataset[index]

    def __repr__(self) -> str:
        return (
            f"DataLoader({len(self.dataset)} samples, batch_size={self.batch_size}, "
            f"shuffle={self.shuffle}, drop_last={self.drop_last}; {len(self)} batches)"
        )
