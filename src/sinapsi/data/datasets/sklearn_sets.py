"""Small classic data sets bundled with scikit-learn (no download needed).

Each loader returns ``(X, y)`` with ``X`` float32 of shape (n_samples, n_features); ``y`` is
int64 class labels for the classification sets and float32 targets for ``diabetes``.

=================  ==========  ==========  =====================================
name               n_samples   n_features  y
=================  ==========  ==========  =====================================
``digits``         1797        64          0-9 (8x8 images, pixels 0 to 16)
``iris``           150         4           3 species
``wine``           178         13          3 cultivars
``breast_cancer``  569         30          0 malignant, 1 benign
``diabetes``       442         10          disease progression (float, regression)
=================  ==========  ==========  =====================================

The features are scikit-learn's, unscaled (``diabetes`` comes mean-centred and scaled):
standardize them with :class:`~sinapsi.data.Standardizer` fitted on the training set.

>>> from sinapsi.data.datasets import load
>>> X, y = load("iris")
>>> X.shape, X.dtype, y.dtype
((150, 4), dtype('float32'), dtype('int64'))
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..._errors import unknown_choice

__all__ = ["load_digits", "load_iris", "load_wine", "load_breast_cancer", "load_diabetes", "load"]


def _load(name: str, classification: bool) -> tuple[np.ndarray, np.ndarray]:
    try:  # imported here: it takes a while, and only these loaders need it
        import sklearn.datasets
    except ImportError as e:
        raise ImportError(
            f"load_{name}: the bundled data sets come with scikit-learn, which cannot be imported "
            f"({e}). Install it: pip install scikit-learn"
        ) from None

    X, y = getattr(sklearn.datasets, f"load_{name}")(return_X_y=True)
    return X.astype(np.float32), y.astype(np.int64 if classification else np.float32)


def load_digits() -> tuple[np.ndarray, np.ndarray]:
    """8x8 handwritten digits: X (1797, 64) with pixel values 0 to 16, y in 0..9."""
    return _load("digits", True)


def load_iris() -> tuple[np.ndarray, np.ndarray]:
    """Fisher's iris flowers: X (150, 4), y in 0..2 (setosa, versicolor, virginica)."""
    return _load("iris", True)


def load_wine() -> tuple[np.ndarray, np.ndarray]:
    """Wine chemical analysis: X (178, 13), y in 0..2 (three cultivars)."""
    return _load("wine", True)


def load_breast_cancer() -> tuple[np.ndarray, np.ndarray]:
    """Wisconsin breast cancer: X (569, 30), y 0 = malignant, 1 = benign."""
    return _load("breast_cancer", True)


def load_diabetes() -> tuple[np.ndarray, np.ndarray]:
    """Diabetes progression (regression): X (442, 10), y float32 (25 to 346)."""
    return _load("diabetes", False)


_LOADERS: dict[str, Any] = {
    "digits": load_digits,
    "iris": load_iris,
    "wine": load_wine,
    "breast_cancer": load_breast_cancer,
    "diabetes": load_diabetes,
}


def load(name: str) -> tuple[np.ndarray, np.ndarray]:
    """Load a bundled data set by name: one of ``digits``, ``iris``, ``wine``,
    ``breast_cancer``, ``diabetes``."""
    if name not in _LOADERS:
        raise unknown_choice("name", "load", _LOADERS, name)
    return _LOADERS[name]()
