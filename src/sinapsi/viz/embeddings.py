"""Word vectors on a page: a 2-D projection of chosen words, and an analogy's parallelogram.

:func:`plot_embeddings` projects the vectors of the words you pick onto their first two
principal components (NumPy SVD of the centred vectors; the vectors are unit-normalized first,
as cosine similarity, which analogies use, ignores length) and labels each point. With
``analogy=("man", "king", "woman", "queen")`` it draws the parallelogram ``king - man + woman
≈ queen``: arrows man→king and woman→queen (the same offset, if the analogy holds) and dashed
sides man→woman and king→queen.

>>> import numpy as np
>>> from sinapsi.embeddings import KeyedVectors
>>> from sinapsi.viz.embeddings import plot_embeddings
>>> rng = np.random.default_rng(0)
>>> kv = KeyedVectors(["man", "king", "woman", "queen", "apple"], rng.standard_normal((5, 8)))
>>> fig = plot_embeddings(kv, ["apple"], analogy=("man", "king", "woman", "queen"))
>>> sorted(t.get_text() for t in fig.axes[0].texts)
['apple', 'king', 'man', 'queen', 'woman']
>>> import matplotlib.pyplot as plt; plt.close(fig)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ._mpl import pyplot
from .curves import BLUE, DARK, GREY, VERMILLION, style

__all__ = ["plot_embeddings", "project_pca"]


def project_pca(X: np.ndarray, k: int = 2) -> tuple[np.ndarray, np.ndarray]:
    """``(points, explained)``: the rows of ``X`` on their first ``k`` principal components
    (SVD of the centred rows; zero columns when there are fewer than ``k`` directions), and the
    fraction of the variance each component explains."""
    X = np.asarray(X, dtype=np.float64)
    centred = X - X.mean(axis=0)
    _, s, vt = np.linalg.svd(centred, full_matrices=False)
    points = np.zeros((len(X), k))
    m = min(k, len(s))
    points[:, :m] = centred @ vt[:m].T
    total = float((s**2).sum())
    explained = np.zeros(k)
    if total > 0:
        explained[:m] = s[:m] ** 2 / total
    return points, explained


def _words(vectors: Any, words: Any, analogy: Any) -> list[str]:
    if isinstance(words, str):
        words = [words]
    words = list(words)
    if analogy is not None:
        if isinstance(analogy, str) or len(analogy) != 4:
            raise ValueError(
                "analogy must be four words (a, b, c, d) read 'a : b :: c : d', e.g. "
                f"('man', 'king', 'woman', 'queen'); got {analogy!r}"
            )
        words += [w for w in analogy if w not in words]
    bad = [w for w in words if not isinstance(w, str)]
    if bad:
        raise TypeError(f"words must be str, got {bad[0]!r}")
    words = list(dict.fromkeys(words))  # unique, in order
    unknown = [w for w in words if w not in vectors]
    if unknown:
        raise KeyError(
            f"{len(unknown)} word{'s' * (len(unknown) > 1)} not in the vectors' vocabulary: "
            + ", ".join(repr(w) for w in unknown)
        )
    if len(words) < 2:
        raise ValueError(
            f"plot_embeddings needs at least 2 distinct words to project, got {words!r}"
        )
    return words


def plot_embeddings(
    vectors: Any,
    words: Sequence[str],
    *,
    analogy: Sequence[str] | None = None,
    method: str = "pca",
    normalize: bool = True,
    title: str | None = None,
    ax: Any = None,
) -> Any:
    """Plot ``words`` (and the analogy's) in 2-D; returns the Figure.

    Args:
        vectors: :class:`~sinapsi.embeddings.KeyedVectors` (anything with ``word in vectors``
            and ``vectors[word]`` works).
        words: the words to show; each gets a point and a label.
        analogy: ``(a, b, c, d)`` for ``a : b :: c : d``; its words are added to ``words``, and
            the parallelogram a→b, c→d (arrows), a–c, b–d (dashed) is drawn.
        method: "pca" (the only one): the first two principal components of the chosen words.
        normalize: project unit-length vectors (cosine geometry, what analogies use).
        title, ax: a title (default: says what is drawn) and an Axes to draw into.

    Raises KeyError naming every unknown word, ValueError for fewer than 2 words, a vector
    holding NaN, a malformed analogy or an unknown method.
    """
    if method != "pca":
        raise ValueError(f"method must be 'pca', got {method!r}")
    chosen = _words(vectors, words, analogy)
    X = np.stack([np.asarray(vectors[w], dtype=np.float64) for w in chosen])
    bad = ~np.isfinite(X)
    if bad.any():
        row = int(np.flatnonzero(bad.any(axis=1))[0])
        raise ValueError(
            f"plot_embeddings: the vector of {chosen[row]!r} holds {int(bad[row].sum())} NaN or "
            "inf value" + "s" * (int(bad[row].sum()) > 1) + ": the training diverged (lower "
            "the learning rate), or leave the word out."
        )
    if normalize:
        X = X / np.maximum(np.linalg.norm(X, axis=1, keepdims=True), 1e-12)
    points, explained = project_pca(X)
    at = {w: points[i] for i, w in enumerate(chosen)}
    plt = pyplot()
    from matplotlib.patches import FancyArrowPatch

    with style():
        if ax is None:
            fig, ax = plt.subplots(figsize=(6.4, 5.2), layout="constrained")
        else:
            fig = ax.figure
        in_analogy = set(analogy or ())
        colours = [VERMILLION if w in in_analogy else BLUE for w in chosen]
        ax.scatter(points[:, 0], points[:, 1], s=36, c=colours, zorder=3, edgecolors="white")
        span = float(np.ptp(points, axis=0).max()) or 1.0
        for i, (w, (x, y)) in enumerate(zip(chosen, points)):
            # points that (nearly) coincide get their labels stacked instead of overprinted
            near = int((np.linalg.norm(points[:i] - points[i], axis=1) < 0.04 * span).sum())
            ax.annotate(
                w,
                (x, y),
                xytext=(5, 5 - 12 * near),
                textcoords="offset points",
                fontsize=10,
                color=DARK,
                fontweight="bold" if w in in_analogy else "normal",
                zorder=4,
            )
        if analogy is not None:
            a, b, c, d = analogy
            for start, end in ((a, b), (c, d)):
                ax.add_patch(
                    FancyArrowPatch(
                        at[start],
                        at[end],
                        arrowstyle="-|>",
                        mutation_scale=16,
                        lw=1.8,
                        color=VERMILLION,
                        shrinkA=6,
                        shrinkB=6,
                        zorder=2,
                    )
                )
            for start, end in ((a, c), (b, d)):
                xs, ys = zip(at[start], at[end])
                ax.plot(xs, ys, ls="--", lw=1.2, color=GREY, zorder=1)
        ax.margins(0.12)  # room for the labels
        ax.set_aspect("equal", adjustable="datalim")
        ax.set_xlabel(f"PC1 ({explained[0]:.0%} of the variance)")
        ax.set_ylabel(f"PC2 ({explained[1]:.0%} of the variance)")
        if title is None:
            title = f"{len(chosen)} word vectors, PCA"
            if analogy is not None:
                a, b, c, d = analogy
                title = f"{a} : {b} :: {c} : {d}  ({b} - {a} + {c} ≈ {d})"
        ax.set_title(title)
        ax.grid(True, alpha=0.3)
    return fig
