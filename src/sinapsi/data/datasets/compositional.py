"""A compositional (hierarchical) regression target: Mhaskar and Poggio's binary tree of
two-input functions, for depth versus width experiments.

With 8 inputs the target is

    f(x) = h(h(h(x1, x2), h(x3, x4)), h(h(x5, x6), h(x7, x8))),   h(a, b) = tanh(a - b + 2ab)

that is 7 copies of one smooth two-input constituent ``h`` arranged in 3 levels. A deep
network can follow the tree (a few units per constituent, one or two layers per level),
while one hidden layer, although it can approximate any continuous function, needs many more
units for the same error (Mhaskar, Liao and Poggio, "When and why are deep networks better
than shallow ones?", AAAI 2017). ``h`` is not additive (the ``ab`` term), so the target is no
sum of one-input functions; its values stay in (-1, 1) at every level.

>>> from sinapsi.data.datasets.compositional import compositional
>>> X, y = compositional(100, seed=0)
>>> X.shape, X.dtype, y.shape, y.dtype
((100, 8), dtype('float32'), (100,), dtype('float32'))
"""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np

from ...backend import new_rng
from .playground import _check as check_size_and_noise

__all__ = ["compositional", "constituent", "tree"]


def constituent(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The two-input function at every node of the tree: ``tanh(a - b + 2ab)``."""
    return np.tanh(a - b + 2.0 * a * b)


def tree(x: np.ndarray) -> np.ndarray:
    """The target of each row of ``x`` (n, 2^k): pair the columns level by level with
    :func:`constituent` until one column is left; float64 in, float64 out."""
    level = np.asarray(x, dtype=np.float64)
    while level.shape[1] > 1:
        level = constituent(level[:, 0::2], level[:, 1::2])
    return level[:, 0]


def compositional(
    n_samples: int = 400,
    noise: float = 0.0,
    seed: int | np.random.Generator | None = None,
    n_features: int = 8,
) -> tuple[np.ndarray, np.ndarray]:
    """``(X, y)``: ``X`` float32 (n_samples, n_features) uniform in [-1, 1], ``y`` float32
    (n_samples,) the tree of :func:`constituent` over the columns (:func:`tree`), plus gaussian
    noise of standard deviation ``noise`` (in [0, 1]; the target's own is about 0.5).

    ``n_features`` is a power of two >= 2 (the leaves of a binary tree); 8 gives 3 levels.
    """
    _check(n_samples, noise, n_features)
    rng = new_rng(seed)
    x = rng.uniform(-1.0, 1.0, size=(n_samples, n_features))
    y = tree(x)
    if noise:
        y = y + rng.normal(0.0, noise, size=n_samples)
    return x.astype(np.float32), y.astype(np.float32)


def _check(n_samples: Any, noise: Any, n_features: Any) -> None:
    owner = "compositional"
    check_size_and_noise(
        owner, n_samples, noise, "the standard deviation of the noise added to the target"
    )
    ok = isinstance(n_features, numbers.Integral) and not isinstance(n_features, bool)
    if not (ok and n_features >= 2 and n_features & (n_features - 1) == 0):
        raise ValueError(
            f"{owner}: n_features must be a power of two >= 2 (the leaves of a binary tree), "
            f"e.g. 8. Received: n_features={n_features!r}"
        )
