"""The word2vec models: :class:`SkipGram` and :class:`CBOW`, Modules over two
:class:`~sinapsi.nn.Embedding` tables (``center``: input vectors, ``context``: output vectors),
whose ``forward`` is the negative-sampling loss of a batch (the dense autograd path: the
gradient of each table is a full array; :mod:`.sparse` has the training path)."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..backend import get_default_dtype, new_rng
from ..nn import Embedding, Module
from ..tensor import Tensor
from .negative_sampling import _masked_mean, negative_sampling_loss

__all__ = ["CBOW", "SkipGram"]


class _Word2VecModel(Module):
    def __init__(self, vocab_size: int, dim: int, rng: Any = None, dtype: Any = None) -> None:
        super().__init__()
        rng = new_rng(rng)
        self.vocab_size, self.dim = int(vocab_size), int(dim)
        # gensim 4's init: input vectors uniform(-1/dim, 1/dim), output vectors zero.
        # word2vec.c (and gensim 3) drew from (-0.5/dim, 0.5/dim); on head500 (8 seeds, one
        # worker) the wider range scored 0.0293 analogy accuracy and 0.382 Spearman, the
        # narrower 0.0240 and 0.362 (gensim 4 itself, 2 workers: 0.0256 and 0.372).
        # Drawn in place in the table's dtype: no float64 draw (twice a float32 table: 22 MB
        # for 28k words x 100, at the peak of word2vec's memory), and no N(0, 1) draw first.
        dt = np.dtype(dtype if dtype is not None else get_default_dtype())
        center = np.empty((self.vocab_size, self.dim), dtype=dt)
        if dt in (np.float32, np.float64):
            rng.random(out=center, dtype=dt)
        else:
            center[...] = rng.random(center.shape)
        center *= 2.0 / dim
        center -= 1.0 / dim
        context = np.zeros((self.vocab_size, self.dim), dtype=dt)
        self.center = Embedding(vocab_size, dim, dtype=dt, weight=center)
        self.context = Embedding(vocab_size, dim, dtype=dt, weight=context)

    def get_config(self) -> dict[str, Any]:
        return {"vocab_size": self.vocab_size, "dim": self.dim}


class SkipGram(_Word2VecModel):
    """Skip-gram: the center word's input vector predicts each context word.

    ``forward(center_ids (B,), context_ids (B,), negative_ids (B, K))`` returns the
    negative-sampling loss, the mean over the B pairs (``reduction="sum"`` for the sum).
    """

    def forward(
        self, center_ids: Any, context_ids: Any, negative_ids: Any, reduction: str = "mean"
    ) -> Tensor:
        return negative_sampling_loss(
            self.center(center_ids),
            self.context(context_ids),
            self.context(negative_ids),
            reduction,
        )


class CBOW(_Word2VecModel):
    """CBOW: the mean of the context words' input vectors predicts the center word.

    ``forward(center_ids (B,), context_ids (B, C), negative_ids (B, K), mask=None)``: each row
    of ``context_ids`` is a fixed-width window (as made by :func:`cbow_windows`); ``mask``
    (B, C) bool marks the real slots (None: all). Note the naming: ``self.center`` holds the
    *input* vectors (here looked up for the context words) and ``self.context`` the *output*
    vectors (looked up for the center word and the negatives).
    """

    def forward(
        self,
        center_ids: Any,
        context_ids: Any,
        negative_ids: Any,
        mask: Any = None,
        reduction: str = "mean",
    ) -> Tensor:
        ctx = np.asarray(context_ids)
        if mask is None:
            mask = np.ones(ctx.shape, dtype=bool)
        h = _masked_mean(self.center(ctx), mask)
        return negative_sampling_loss(
            h, self.context(center_ids), self.context(negative_ids), reduction
        )
