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


def royal_corpus(n_sentences: int, seed: int) -> list[list[str]]:
    """Sentences in which gender and royalty are independent, planted factors.

    Each sentence picks a gender (male/female) and a status (royal/common); the subject word is
    fixed by both (king, queen, man, woman) and the other words are drawn from the gender's
    context words, the status' context words and shared fillers. So king - man and
    queen - woman both point from "common" to "royal" by construction.
    """
    rng = np.random.default_rng(seed)
    subject = {("m", "r"): "king", ("f", "r"): "queen", ("m", "c"): "man", ("f", "c"): "woman"}
    gender_words = {"m": ["he", "his", "him", "himself"], "f": ["she", "her", "hers", "herself"]}
    status_words = {
        "r": ["palace", "crown", "throne", "kingdom", "royal", "rules"],
        "c": ["field", "home", "village", "works", "farm", "market"],
    }
    fillers = ["the", "a", "and", "of", "to", "in", "is", "was", "on", "at", "with", "for"]
    sentences = []
    for _ in range(n_sentences):
        g, s = rng.choice(["m", "f"]), rng.choice(["r", "c"])
        words = [subject[(g, s)]]
        words += list(rng.choice(gender_words[g], 2))
        words += list(rng.choice(status_words[s], 2))
        words += list(rng.choice(fillers, 3))
        rng.shuffle(words)
        sentences.append([str(w) for w in words])
    return sentences


# Edge shapes: 0-d tensors, zero-size axes and broadcasting between them (issue 14.6).
edge_shapes = array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=3)
edge_nonscalar_shapes = array_shapes(min_dims=1, max_dims=3, min_side=0, max_side=3)
edge_two_broadcastable = mutually_broadcastable_shapes(
    num_shapes=2, min_dims=0, max_dims=3, min_side=0, max_side=3
)
edge_three_broadcastable = mutually_broadcastable_shapes(
    num_shapes=3, min_dims=0, max_dims=3, min_side=0, max_side=3
)
