"""word2vec's windows of one sentence: :func:`window_pairs` (skip-gram's (center, context) id
pairs) and :func:`cbow_windows` (CBOW's fixed-width contexts), with word2vec's dynamic window.

The definition of the pairs a sentence gives, kept public for users and tests;
:func:`~.word2vec.train_word2vec` makes the same pairs a chunk of many sentences at a time
(:mod:`.pipeline`).
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["cbow_windows", "window_pairs"]


def _positive_int(name: str, value: Any, hint: str = "") -> int:
    """``value`` as an int, or ValueError naming the argument (``hint``: what values mean)."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{name} must be a positive int{hint}, got {value!r}")
    return int(value)


def _reduced_windows(n: int, window: int, rng: Any, dynamic: bool) -> np.ndarray:
    """word2vec's dynamic window: each position's size drawn uniformly in [1, window]."""
    if dynamic:
        if not isinstance(rng, np.random.Generator):
            raise TypeError(
                f"dynamic windows need rng, a numpy Generator (sinapsi.backend.new_rng(seed)), "
                f"got {rng!r}"
            )
        return rng.integers(1, window + 1, size=n)
    return np.full(n, window, dtype=np.int64)


def window_pairs(
    sentence_ids: Any, window: int, rng: Any = None, dynamic: bool = True
) -> tuple[np.ndarray, np.ndarray]:
    """(center, context) id pairs of one sentence, for skip-gram.

    Position ``i`` pairs with the words at ``i - d`` and ``i + d`` for ``d = 1..b_i``, where
    ``b_i = window`` or, when ``dynamic`` (word2vec's default), ``b_i`` is drawn uniformly in
    ``[1, window]`` -- near words are then sampled more often than far ones. Pairs come offset by
    offset (all ``+1`` pairs, all ``-1`` pairs, then ``+2``...), as two int64 arrays.

    >>> c, o = window_pairs([10, 11, 12], window=1, dynamic=False)
    >>> list(zip(c.tolist(), o.tolist()))
    [(10, 11), (11, 12), (11, 10), (12, 11)]
    """
    window = _positive_int("window", window)
    ids = np.asarray(sentence_ids, dtype=np.int64).ravel()
    n = ids.size
    b = _reduced_windows(n, window, rng, dynamic)
    centers, contexts = [], []
    for d in range(1, min(window, n - 1) + 1):
        ok = b[: n - d] >= d  # center i, context i + d
        centers.append(ids[: n - d][ok])
        contexts.append(ids[d:][ok])
        ok = b[d:] >= d  # center i, context i - d
        centers.append(ids[d:][ok])
        contexts.append(ids[: n - d][ok])
    if not centers:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    return np.concatenate(centers), np.concatenate(contexts)


def cbow_windows(
    sentence_ids: Any, window: int, rng: Any = None, dynamic: bool = True, width: int | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Fixed-width CBOW contexts of one sentence: ``(centers, contexts, mask)``.

    ``contexts`` has shape ``(n, 2 * w)``, with ``w = width`` (default: ``window``): column
    ``j < w`` holds the word at offset ``-(w - j)``, column ``w + j`` the word at ``+(j + 1)``;
    slots outside the sentence or beyond the (dynamic) window hold id 0 with ``mask`` False.
    The windows are drawn with ``window``; a smaller ``width`` only leaves out offsets that do
    not occur (``train_word2vec`` passes the longest sentence's, so that a window of 10**9
    costs no more than a whole sentence). Positions with no context word at all (a one-word
    sentence) are dropped.
    """
    window = _positive_int("window", window)
    w = window if width is None else min(window, _positive_int("width", width))
    ids = np.asarray(sentence_ids, dtype=np.int64).ravel()
    n = ids.size
    b = _reduced_windows(n, window, rng, dynamic)
    pos = np.arange(n)
    contexts = np.zeros((n, 2 * w), dtype=np.int64)
    mask = np.zeros((n, 2 * w), dtype=bool)
    for d in range(1, w + 1):
        for col, j in ((w - d, pos - d), (w + d - 1, pos + d)):
            ok = (j >= 0) & (j < n) & (b >= d)
            contexts[ok, col] = ids[j[ok]]
            mask[:, col] = ok
    keep = mask.any(axis=1)
    return ids[keep], contexts[keep], mask[keep]
