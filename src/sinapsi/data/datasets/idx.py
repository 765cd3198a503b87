"""IDX files: the format of MNIST (and Fashion-MNIST), plain or gzipped.

An IDX file is a 4-byte magic number (two zero bytes, a type code, the number of dimensions),
one big-endian uint32 per dimension, then the values in C order, big-endian. A gzipped file is
recognised by its first two bytes (``1f 8b``), whatever its name.

================  =================
type code         values
================  =================
``0x08``          unsigned byte
``0x09``          signed byte
``0x0B``          int16
``0x0C``          int32
``0x0D``          float32
``0x0E``          float64
================  =================

:func:`load_mnist` reads the four MNIST files (``train-images-idx3-ubyte[.gz]``, ...) from a
directory you downloaded them to; nothing is downloaded here.
"""

from __future__ import annotations

import gzip
import os
import zlib
from pathlib import Path
from typing import Any

import numpy as np

from ..._errors import unknown_choice

__all__ = ["load_idx", "load_mnist"]

_TYPES = {
    0x08: np.dtype(">u1"),
    0x09: np.dtype(">i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
_GZIP_MAGIC = b"\x1f\x8b"


def _read_bytes(path: Path) -> bytes:
    if not path.is_file():
        what = "is a directory, not a file" if path.is_dir() else "does not exist"
        raise FileNotFoundError(
            f"load_idx: {str(path)!r} {what}. Check the path (MNIST files are named like "
            "'train-images-idx3-ubyte.gz')."
        )
    raw = path.read_bytes()
    if raw[:2] != _GZIP_MAGIC:
        return raw
    try:
        return gzip.decompress(raw)
    except (OSError, EOFError, zlib.error) as exc:
        raise ValueError(
            f"load_idx: {str(path)!r} starts like a gzip file but could not be decompressed "
            f"({exc}); the download is probably damaged or incomplete. Download it again."
        ) from None


def load_idx(path: str | os.PathLike[str]) -> np.ndarray:
    """Read an IDX file (plain or gzipped) into a NumPy array of its shape and type.

    Returns an array in native byte order, e.g. uint8 of shape (60000, 28, 28) for MNIST's
    training images. Raises ``FileNotFoundError`` for a missing file and ``ValueError`` for a
    file that is not IDX (bad magic number, unknown type code), truncated, or has extra bytes.
    """
    path = Path(path)
    raw = _read_bytes(path)
    name = repr(str(path))
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0:
        raise ValueError(
            f"load_idx: {name} is not an IDX file: its magic number (first 4 bytes) is "
            f"{raw[:4].hex(' ') or 'missing'}, but IDX files start with two zero bytes, a type "
            "code and the number of dimensions (e.g. 00 00 08 03 for MNIST images)."
        )
    code, ndim = raw[2], raw[3]
    if code not in _TYPES:
        codes = ", ".join(f"0x{c:02X} ({t.name})" for c, t in _TYPES.items())
        raise ValueError(
            f"load_idx: {name} has unknown IDX type code 0x{code:02X}; the known codes are "
            f"{codes}. The file is damaged or not an IDX file."
        )
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise ValueError(
            f"load_idx: {name} declares {ndim} dimensions, which need a {header}-byte header, "
            f"but the file has only {len(raw)} bytes: the file is truncated."
        )
    shape = tuple(int(d) for d in np.frombuffer(raw, dtype=">u4", count=ndim, offset=4))
    dtype = _TYPES[code]
    expected = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    found = len(raw) - header
    if found < expected:
        raise ValueError(
            f"load_idx: {name} has shape {shape} of {dtype.name}, so expected {expected} bytes "
            f"of data, found {found}: the file is truncated. Download it again."
        )
    if found > expected:
        raise ValueError(
            f"load_idx: {name} has shape {shape} of {dtype.name}, so expected {expected} bytes "
            f"of data, found {found}: {found - expected} bytes of trailing garbage after the "
            "data. The header or the file is damaged."
        )
    data = np.frombuffer(raw, dtype=dtype, count=expected // dtype.itemsize, offset=header)
    return data.reshape(shape).astype(dtype.newbyteorder("="))


def _find(directory: Path, stem: str) -> Path:
    names = [stem, stem + ".gz"]
    # Some mirrors (e.g. Kaggle) write "train-images.idx3-ubyte" instead.
    alternative = stem.replace("-idx", ".idx")
    names += [alternative, alternative + ".gz"]
    for candidate in names:
        if (directory / candidate).is_file():
            return directory / candidate
    raise FileNotFoundError(
        f"load_mnist: none of {names} is in {str(directory)!r}. Download the MNIST files "
        "(plain or .gz) into that directory, or pass the directory that holds them."
    )


def _layout(owner: str, flatten: bool | None, channels: bool) -> tuple[int, ...]:
    """The shape of one 28x28 image: (784,) flat, (28, 28), or (1, 28, 28) with a channel
    axis (what Conv2d takes); ``flatten`` defaults to True unless ``channels``."""
    if flatten and channels:
        raise ValueError(
            f"{owner}: flatten=True and channels=True ask for two shapes; pass channels=True "
            "alone for images of shape (n, 1, 28, 28), or flatten=True for (n, 784)."
        )
    if channels:
        return (1, 28, 28)
    return (784,) if flatten or flatten is None else (28, 28)


def load_mnist(
    directory: str | os.PathLike[str],
    kind: str = "train",
    flatten: bool | None = None,
    channels: bool = False,
) -> tuple[np.ndarray, np.ndarray]:
    """Load MNIST (or Fashion-MNIST, which uses the same file names) from ``directory``.

    Parameters
    ----------
    directory : path
        Holds ``{kind}-images-idx3-ubyte`` and ``{kind}-labels-idx1-ubyte``, plain or ``.gz``.
    kind : {"train", "t10k"}, default="train"
        ``"train"`` for the 60,000 training images, ``"t10k"`` for the 10,000 test images.
    flatten : bool, default True unless ``channels``
        X of shape (n, 784) when True, (n, 28, 28) when False.
    channels : bool, default=False
        X of shape (n, 1, 28, 28), the (N, C, H, W) a ``Conv2d`` takes.

    Returns
    -------
    X : ndarray, float32, pixel values scaled to [0, 1]
    y : ndarray of shape (n,), int64
    """
    if kind not in ("train", "t10k"):
        raise unknown_choice("kind", "load_mnist", ("train", "t10k"), kind)
    layout = _layout("load_mnist", flatten, channels)
    directory = Path(directory)
    if not directory.is_dir():
        raise FileNotFoundError(
            f"load_mnist: {str(directory)!r} is not a directory. Pass the directory that "
            "holds the MNIST files."
        )
    images_path = _find(directory, f"{kind}-images-idx3-ubyte")
    labels_path = _find(directory, f"{kind}-labels-idx1-ubyte")
    images, labels = load_idx(images_path), load_idx(labels_path)
    _expect(images_path, images, 3, "images, of shape (n, rows, cols)")
    _expect(labels_path, labels, 1, "labels, of shape (n,)")
    if len(images) != len(labels):
        raise ValueError(
            f"load_mnist: {images_path.name!r} holds {len(images)} images but "
            f"{labels_path.name!r} holds {len(labels)} labels. The files come from different "
            "sets or one is damaged; download them again."
        )
    X = images.astype(np.float32) / np.float32(255.0)
    if layout != (28, 28):  # other image sizes keep theirs (a flat row, or one channel)
        X = X.reshape(len(X), -1) if len(layout) == 1 else X[:, None]
    return X, labels.astype(np.int64)


def _expect(path: Path, array: Any, ndim: int, what: str) -> None:
    if array.ndim != ndim or array.dtype != np.uint8:
        raise ValueError(
            f"load_mnist: {path.name!r} should hold uint8 {what}; it holds {array.dtype} of "
            f"shape {array.shape}. Check that the file names match their contents."
        )
