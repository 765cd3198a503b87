"""TensorFlow Playground's 2-D data sets, generated in code.

Each function is ``f(n_samples=400, noise=0.0, seed=None) -> (X, y)`` with ``X`` float32 of
shape (n_samples, 2), roughly in [-6, 6] as in the Playground, and the samples in random order.
Classification sets return labels ``y`` int64 in {0, 1} (the Playground's -1 is 0), about half
of each; regression sets return ``y`` float32 of shape (n_samples,).

The formulas are the Playground's (``dataset.ts``); ``noise`` in [0, 1] is its noise slider
divided by 100 (the slider stops at 50, i.e. 0.5). As there, noise moves the points of
``gaussian``, ``spiral`` and ``moons``, while for ``xor``, ``circles``, ``plane`` and
``gaussian_regression`` the points stay put and the label is computed at a jittered position,
which blurs the boundary.

>>> from sinapsi.data.datasets import spiral
>>> X, y = spiral(200, noise=0.1, seed=0)
>>> X.shape, X.dtype, y.dtype, int(y.sum())
((200, 2), dtype('float32'), dtype('int64'), 100)
"""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np

from ...backend import new_rng

__all__ = ["xor", "circles", "gaussian", "spiral", "moons", "plane", "gaussian_regression"]

Seed = int | np.random.Generator | None


def _check(
    owner: str,
    n_samples: Any,
    noise: Any,
    noise_is: str = "the Playground's slider / 100; 0.1 to 0.5 is typical",
) -> None:
    """One-line ValueErrors for a generator's n_samples and noise (``noise_is``: what it means)."""
    if not isinstance(n_samples, numbers.Integral) or isinstance(n_samples, bool) or n_samples < 1:
        raise ValueError(
            f"{owner}: n_samples must be an integer >= 1. Received: n_samples={n_samples!r}"
        )
    if not isinstance(noise, numbers.Real) or isinstance(noise, bool) or not 0 <= noise <= 1:
        raise ValueError(
            f"{owner}: noise must be a number in [0, 1] ({noise_is}). Received: noise={noise!r}"
        )


def _halves(n: int) -> tuple[int, int]:
    """Sizes of the positive and negative halves (the positives get the odd sample)."""
    return n - n // 2, n // 2


def _finish(rng: np.random.Generator, X: np.ndarray, y: np.ndarray, y_dtype: Any) -> Any:
    """Shuffle (the generators fill class by class) and cast."""
    order = rng.permutation(len(X))
    return X[order].astype(np.float32), y[order].astype(y_dtype)


def xor(n_samples: int = 400, noise: float = 0.0, seed: Seed = None) -> tuple[np.ndarray, ...]:
    """Exclusive or: label 1 where ``x1 * x2 >= 0`` (quadrants 1 and 3), else 0.

    Points are uniform in [-5, 5]^2 pushed 0.3 away from the axes; not linearly separable.
    """
    _check("xor", n_samples, noise)
    rng = new_rng(seed)
    pts = rng.uniform(-5, 5, size=(n_samples, 2))
    pts += np.where(pts > 0, 0.3, -0.3)
    jitter = rng.uniform(-5, 5, size=(n_samples, 2)) * noise
    shifted = pts + jitter
    y = shifted[:, 0] * shifted[:, 1] >= 0
    return _finish(rng, pts, y, np.int64)


def _polar(r: np.ndarray, angle: np.ndarray) -> np.ndarray:
    return np.stack([r * np.sin(angle), r * np.cos(angle)], axis=1)


def circles(n_samples: int = 400, noise: float = 0.0, seed: Seed = None) -> tuple[np.ndarray, ...]:
    """A disc (label 1, radius < 2.5) inside a ring (label 0, radius 3.5 to 5)."""
    _check("circles", n_samples, noise)
    rng = new_rng(seed)
    n_in, n_out = _halves(n_samples)
    r = np.concatenate([rng.uniform(0, 2.5, n_in), rng.uniform(3.5, 5, n_out)])
    pts = _polar(r, rng.uniform(0, 2 * np.pi, n_samples))
    jitter = rng.uniform(-5, 5, size=(n_samples, 2)) * noise
    y = np.linalg.norm(pts + jitter, axis=1) < 2.5
    return _finish(rng, pts, y, np.int64)


def gaussian(n_samples: int = 400, noise: float = 0.0, seed: Seed = None) -> tuple[np.ndarray, ...]:
    """Two gaussian clusters centred at (2, 2) (label 1) and (-2, -2) (label 0).

    The variance grows with the noise, 0.5 + 7 * noise (the Playground's 0.5 to 4 for 0 to 0.5).
    """
    _check("gaussian", n_samples, noise)
    rng = new_rng(seed)
    n_pos, n_neg = _halves(n_samples)
    std = np.sqrt(0.5 + 7.0 * noise)
    pts = np.concatenate(
        [rng.normal(2.0, std, size=(n_pos, 2)), rng.normal(-2.0, std, size=(n_neg, 2))]
    )
    y = np.concatenate([np.ones(n_pos), np.zeros(n_neg)])
    return _finish(rng, pts, y, np.int64)


def spiral(n_samples: int = 400, noise: float = 0.0, seed: Seed = None) -> tuple[np.ndarray, ...]:
    """Two interleaved spiral arms of 1.75 turns each, radius 0 to 5 (label 1 and its
    half-turn rotation, label 0); noise adds uniform jitter in [-noise, noise] to each point.

    With ``noise=0`` the points are evenly spaced along the arms: only their order is random.
    """
    _check("spiral", n_samples, noise)
    rng = new_rng(seed)
    arms = []
    for count, delta in zip(_halves(n_samples), (0.0, np.pi)):
        s = np.arange(count) / max(count, 1)
        arms.append(_polar(5 * s, 1.75 * 2 * np.pi * s + delta))
    pts = np.concatenate(arms)
    pts += rng.uniform(-1, 1, size=pts.shape) * noise
    y = np.concatenate([np.ones(len(arms[0])), np.zeros(len(arms[1]))])
    return _finish(rng, pts, y, np.int64)


def moons(n_samples: int = 400, noise: float = 0.0, seed: Seed = None) -> tuple[np.ndarray, ...]:
    """Two interleaving half circles, as scikit-learn's ``make_moons`` scaled by 3 and centred:
    the upper moon is label 0, the lower one label 1. ``noise`` is make_moons' gaussian noise
    (its standard deviation before scaling); the positions along the moons are random.
    """
    _check("moons", n_samples, noise)
    rng = new_rng(seed)
    n_upper, n_lower = n_samples - n_samples // 2, n_samples // 2
    t = rng.uniform(0, np.pi, n_samples)
    upper = np.stack([np.cos(t[:n_upper]), np.sin(t[:n_upper])], axis=1)
    lower = np.stack([1 - np.cos(t[n_upper:]), 0.5 - np.sin(t[n_upper:])], axis=1)
    pts = np.concatenate([upper, lower]) + rng.normal(0.0, 1.0, size=(n_samples, 2)) * noise
    pts = (pts - [0.5, 0.25]) * 3.0
    y = np.concatenate([np.zeros(n_upper), np.ones(n_lower)])
    return _finish(rng, pts, y, np.int64)


def plane(n_samples: int = 400, noise: float = 0.0, seed: Seed = None) -> tuple[np.ndarray, ...]:
    """Regression on a tilted plane: ``y = (x1 + x2) / 10`` for points uniform in [-6, 6]^2."""
    _check("plane", n_samples, noise)
    rng = new_rng(seed)
    pts = rng.uniform(-6, 6, size=(n_samples, 2))
    shifted = pts + rng.uniform(-6, 6, size=(n_samples, 2)) * noise
    y = shifted.sum(axis=1) / 10.0
    return _finish(rng, pts, y, np.float32)


# (centre x, centre y, sign) of the six bumps of the Playground's "multi gaussian" set.
_BUMPS = np.array(
    [[-4, 2.5, 1], [0, 2.5, -1], [4, 2.5, 1], [-4, -2.5, -1], [0, -2.5, 1], [4, -2.5, -1]],
    dtype=np.float64,
)


def gaussian_regression(
    n_samples: int = 400, noise: float = 0.0, seed: Seed = None
) -> tuple[np.ndarray, ...]:
    """Regression on six bumps: ``y`` in [-1, 1] falls linearly from +-1 at a bump's centre to
    0 at distance 2, alternating signs; the bump largest in absolute value wins."""
    _check("gaussian_regression", n_samples, noise)
    rng = new_rng(seed)
    pts = rng.uniform(-6, 6, size=(n_samples, 2))
    shifted = pts + rng.uniform(-6, 6, size=(n_samples, 2)) * noise
    dist = np.linalg.norm(shifted[:, None, :] - _BUMPS[None, :, :2], axis=2)
    values = _BUMPS[:, 2] * np.clip(1.0 - dist / 2.0, 0.0, 1.0)  # (n_samples, 6)
    y = np.take_along_axis(values, np.abs(values).argmax(axis=1)[:, None], axis=1)[:, 0]
    return _finish(rng, pts, y, np.float32)
