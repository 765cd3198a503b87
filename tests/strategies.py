"""Hypothesis strategies and input generators shared by the op tests."""

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra.numpy import array_shapes, mutually_broadcastable_shapes

seeds = st.integers(0, 2**32 - 1)
shapes = array_shapes(min_dims=0, max_dims=3, min_side=1, max_side=4)
nonscalar_shapes = array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=4)
two_broadcastable = mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=3, max_side=4)
three_broadcastable = mutually_broadcastable_shapes(
    num_shapes=3, min_dims=0, max_dims=3, max_side=3
)


def normal(seed, shape):
    return np.random.default_rng(seed).standard_normal(shape)


def positive(seed, shape, low=0.5):
    """Values in [low, low + 2): away from the poles of log, sqrt and division."""
    return low + 2.0 * np.random.default_rng(seed).random(shape)


def nonzero(seed, shape):
    """Values with |x| >= 0.5, either sign."""
    rng = np.random.default_rng(seed)
    return rng.choice([-1.0, 1.0], size=shape) * (0.5 + 2.0 * rng.random(shape))


def away_from(seed, shape, points, gap=0.05):
    """Normal values moved away from kinks by at least ``gap`` (finite differences break there)."""
    x = normal(seed, shape)
    for p in points:
        close = np.abs(x - p) < gap
        x = np.where(close, p + np.sign(x - p + 1e-12) * gap * 2, x)
    return x
