"""Training, validation and test sets; feature scaling fitted on the training set; one-hot labels.

The model learns on the training set, choices (epochs, learning rate, architecture) are made on
the validation set, and the test set is looked at once, at the end. Anything learned from data,
including the mean and scale of a :class:`Standardizer`, is fitted on the training set only.

>>> import numpy as np
>>> from sinapsi.data import train_val_test_split, Standardizer
>>> X, y = np.arange(40, dtype="float32").reshape(20, 2), np.repeat([0, 1], 10)
>>> split = train_val_test_split(X, y, val_size=0.2, test_size=0.2, seed=0)
>>> [len(part[1]) for part in split], np.bincount(split.val[1]).tolist()
([12, 4, 4], [2, 2])
>>> scaler = Standardizer().fit(split.train[0])
>>> X_val = scaler.transform(split.val[0])
"""

from __future__ import annotations

import numbers
from typing import Any, NamedTuple

import numpy as np

from ..backend import get_default_dtype, new_rng, resolve_dtype
from .dataset import _check_arrays, _check_finite

__all__ = ["Split", "train_val_test_split", "Standardizer", "one_hot"]


class Split(NamedTuple):
    """``train``, ``val`` and ``test``, each an ``(X, y)`` pair of arrays."""

    train: tuple[np.ndarray, np.ndarray]
    val: tuple[np.ndarray, np.ndarray]
    test: tuple[np.ndarray, np.ndarray]


def _check_fraction(name: str, value: Any) -> float:
    if (
        not isinstance(value, numbers.Real)
        or isinstance(value, bool)
        or not 0.0 <= float(value) < 1.0
    ):
        raise ValueError(
            f"train_val_test_split: {name} must be a fraction of the samples in [0, 1), e.g. "
            f"0.15 for 15%. Received: {name}={value!r}"
        )
    return float(value)


def _part_sizes(n: int, fractions: np.ndarray) -> np.ndarray:
    """Split ``n`` samples into parts of the given ``fractions`` (train first; they sum to 1).

    Largest remainders: each part gets the floor of its target and the leftover samples go to
    the largest fractional parts, so every size is within one sample of its target. A part
    with a positive target that got nothing takes one from a part that was rounded up, which
    keeps at least one sample of every class for training.
    """
    targets = n * fractions
    sizes = np.floor(targets).astype(np.int64)
    leftover = n - int(sizes.sum())
    rounded_up = np.argsort(-(targets - sizes), kind="stable")[:leftover]
    sizes[rounded_up] += 1
    if n > 0 and sizes[0] == 0:
        donor = next(i for i in rounded_up if i != 0)
        sizes[donor] -= 1
        sizes[0] = 1
    return sizes


def _is_label_vector(y: np.ndarray) -> bool:
    return y.ndim == 1 and y.dtype.kind in "iub"


def train_val_test_split(
    X: Any,
    y: Any,
    val_size: float = 0.15,
    test_size: float = 0.15,
    stratify: bool | None = None,
    seed: int | np.random.Generator | None = None,
) -> Split:
    """Shuffle and split ``(X, y)`` into training, validation and test sets.

    Parameters
    ----------
    X : array-like of shape (n_samples, ...)
    y : array-like of shape (n_samples, ...)
    val_size, test_size : float, default=0.15
        Fractions of the samples in [0, 1), with ``val_size + test_size < 1``; 0 gives an empty
        set. Each count is within one sample of its target (per class when stratified), and at
        least one sample (of each class) stays in training.
    stratify : bool or None, default=None
        Split each class separately so every set keeps the class proportions. ``None`` stratifies
        when ``y`` is a 1-D vector of integer or bool class labels; ``True``/``False`` force it.
    seed : int, numpy.random.Generator or None, default=None

    Returns
    -------
    Split
        ``Split(train=(X, y), val=(X, y), test=(X, y))``; the samples of each set are shuffled.
    """
    val_size = _check_fraction("val_size", val_size)
    test_size = _check_fraction("test_size", test_size)
    if val_size + test_size >= 1.0:
        raise ValueError(
            "train_val_test_split: val_size + test_size must be below 1, or nothing is left to "
            f"train on. Received: val_size={val_size!r}, test_size={test_size!r}"
        )
    if stratify is not None and not isinstance(stratify, (bool, np.bool_)):
        raise TypeError(
            "train_val_test_split: stratify must be None (automatic), True or False. "
            f"Received: stratify={stratify!r}"
        )
    X, y = _check_arrays((X, y), ("X", "y"), "train_val_test_split", finite=False)
    if stratify is None:
        stratify = _is_label_vector(y)
    elif stratify and y.ndim != 1:
        raise ValueError(
            "train_val_test_split: stratify=True needs y to be a 1-D vector of class labels; "
            f"got y of shape {y.shape}. Pass the label vector (e.g. y.argmax(axis=1) for one-hot "
            "rows), or stratify=False."
        )

    rng = new_rng(seed)
    n = len(X)
    if stratify:
        groups = [np.flatnonzero(y == c) for c in np.unique(y)]
    else:
        groups = [np.arange(n)]
    fractions = np.array([1.0 - val_size - test_size, val_size, test_size])
    parts: list[list[np.ndarray]] = [[], [], []]
    for members in groups:
        members = rng.permutation(members)
        n_train, n_val, _ = _part_sizes(len(members), fractions)
        parts[0].append(members[:n_train])
        parts[1].append(members[n_train : n_train + n_val])
        parts[2].append(members[n_train + n_val :])
    sets = []
    for chunks in parts:
        index = rng.permutation(np.concatenate(chunks))
        sets.append((X[index], y[index]))
    return Split(*sets)


def _standardization_statistics(
    X: np.ndarray, name: str = "X", owner: str = "_standardization_statistics"
) -> tuple[np.ndarray, np.ndarray]:
    """Per-column ``mean`` and ``scale`` of a 2-D numeric array, both float64: the statistics of
    :class:`Standardizer` and :class:`sinapsi.nn.Normalization` (one definition, so the two agree
    exactly).

    ``scale`` is the population standard deviation (``ddof=0``, as scikit-learn's
    StandardScaler); a constant column gets scale 1, so it maps to 0 instead of dividing by zero.
    Refuses 0 samples, 0 features and NaN or infinite values; ``name`` and ``owner`` appear in
    the errors.

    >>> mean, scale = _standardization_statistics(np.array([[1, 5], [3, 5]]))
    >>> mean.tolist(), scale.tolist()
    ([2.0, 5.0], [1.0, 1.0])
    """
    if len(X) == 0:
        raise ValueError(f"{owner}: {name} has 0 samples (shape {X.shape}); pass the training set.")
    if X.shape[1] == 0:
        raise ValueError(
            f"{owner}: {name} has 0 features (shape {X.shape}); pass the training set's columns."
        )
    _check_finite(X, name, owner)
    mean = X.mean(axis=0, dtype=np.float64)
    std = X.std(axis=0, dtype=np.float64)
    constant = X.max(axis=0) == X.min(axis=0)
    return mean, np.where(constant, 1.0, std)


class Standardizer:
    """Scale features to zero mean and unit variance: ``(X - mean_) / scale_``.

    Fit on the training set only, then transform the training, validation and test sets with
    the same numbers. ``scale_`` is the population standard deviation (``ddof=0``, as
    scikit-learn's StandardScaler); a constant feature gets scale 1, so it maps to 0 instead of
    dividing by zero.

    Attributes
    ----------
    mean_ : ndarray of shape (n_features,), float64
    scale_ : ndarray of shape (n_features,), float64
    n_features_in_ : int

    Floating input keeps its dtype (float32 in, float32 out); integer input becomes the default
    float dtype.
    """

    def __init__(self) -> None:
        self.mean_: np.ndarray | None = None
        self.scale_: np.ndarray | None = None
        self.n_features_in_: int | None = None

    def _check_X(self, X: Any, method: str) -> np.ndarray:
        X = np.asarray(X)
        if X.ndim != 2:
            raise ValueError(
                f"Standardizer.{method}: X must have shape (n_samples, n_features); got shape "
                f"{X.shape}. Reshape a single feature with X.reshape(-1, 1) or a single sample "
                "with X.reshape(1, -1)."
            )
        if X.dtype.kind not in "biuf":
            raise TypeError(
                f"Standardizer.{method}: X must hold numbers; got dtype {X.dtype}. Convert "
                "categorical columns to numbers (e.g. one_hot) first."
            )
        if method != "fit" and X.shape[1] != self.n_features_in_:
            raise ValueError(
                f"Standardizer.{method}: X has {X.shape[1]} features, but the Standardizer was "
                f"fitted on {self.n_features_in_} features. Pass data with the same columns, in "
                "the same order, as the training set."
            )
        return X

    def _check_fitted(self, method: str) -> None:
        if self.mean_ is None:
            raise RuntimeError(
                f"Standardizer.{method}: this Standardizer is not fitted yet: call fit on the "
                "training set first (scaler.fit(X_train)), then transform the validation and "
                "test sets."
            )

    def fit(self, X: Any) -> Standardizer:
        """Learn ``mean_`` and ``scale_`` from ``X`` of shape (n_samples, n_features)."""
        X = self._check_X(X, "fit")
        self.mean_, self.scale_ = _standardization_statistics(X, "X", "Standardizer.fit")
        self.n_features_in_ = X.shape[1]
        return self

    def _dtype(self, X: np.ndarray) -> np.dtype:
        return X.dtype if X.dtype.kind == "f" else get_default_dtype()

    def transform(self, X: Any) -> np.ndarray:
        """``(X - mean_) / scale_``, a new array."""
        self._check_fitted("transform")
        X = self._check_X(X, "transform")
        dtype = self._dtype(X)
        out = X.astype(dtype, copy=True)
        out -= self.mean_.astype(dtype)
        out /= self.scale_.astype(dtype)
        return out

    def fit_transform(self, X: Any) -> np.ndarray:
        """``fit(X)`` then ``transform(X)``: for the training set only."""
        return self.fit(X).transform(X)

    def inverse_transform(self, X: Any) -> np.ndarray:
        """``X * scale_ + mean_``: back to the original units."""
        self._check_fitted("inverse_transform")
        X = self._check_X(X, "inverse_transform")
        dtype = self._dtype(X)
        out = X.astype(dtype, copy=True)
        out *= self.scale_.astype(dtype)
        out += self.mean_.astype(dtype)
        return out

    def __repr__(self) -> str:
        fitted = "not fitted" if self.mean_ is None else f"{self.n_features_in_} features"
        return f"Standardizer({fitted})"


def one_hot(labels: Any, num_classes: int | None = None, dtype: Any = "float32") -> np.ndarray:
    """Class labels as one-hot rows.

    Parameters
    ----------
    labels : array-like of int, shape (n_samples,) or any shape
        Class ids in ``[0, num_classes)``.
    num_classes : int or None, default=None
        ``labels.max() + 1`` when None.
    dtype : dtype, default="float32"

    Returns
    -------
    ndarray of shape ``labels.shape + (num_classes,)``

    >>> one_hot([0, 2, 1]).tolist()
    [[1.0, 0.0, 0.0], [0.0, 0.0, 1.0], [0.0, 1.0, 0.0]]
    """
    labels = np.asarray(labels)
    if labels.dtype.kind not in "iub":
        raise TypeError(
            f"one_hot: labels must be integer class ids; got dtype {labels.dtype}. Map class "
            "names to ids with np.unique(labels, return_inverse=True), or cast whole-number "
            "floats with labels.astype('int64')."
        )
    labels = labels.astype(np.int64)
    if num_classes is not None and (
        not isinstance(num_classes, numbers.Integral)
        or isinstance(num_classes, bool)
        or num_classes < 1
    ):
        raise ValueError(
            f"one_hot: num_classes must be a positive integer or None. Received: "
            f"num_classes={num_classes!r}"
        )
    if labels.size:
        low = int(labels.min())
        if low < 0:
            position = tuple(int(i) for i in np.argwhere(labels < 0)[0])
            raise ValueError(
                f"one_hot: labels must be >= 0; got {low} (first negative label at position "
                f"{position}). Shift or remap the labels to 0..num_classes-1."
            )
        high = int(labels.max())
        if num_classes is not None and high >= num_classes:
            position = tuple(int(i) for i in np.argwhere(labels >= num_classes)[0])
            raise ValueError(
                f"one_hot: label {high} is out of range for num_classes={num_classes} (first "
                f"at position {position}); labels must be in [0, {num_classes}). Pass a larger "
                "num_classes, or None to use labels.max() + 1."
            )
    if num_classes is None:
        num_classes = int(labels.max()) + 1 if labels.size else 0
    out = np.zeros(labels.shape + (int(num_classes),), dtype=resolve_dtype(dtype))
    np.put_along_axis(out, labels[..., None], 1, axis=-1)
    return out
