"""Core layers: Linear, Dropout, Embedding, Flatten, Identity."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from .. import backend, ops
from .. import init as initializers  # `init` is also Linear's argument name
from .._errors import check_bool
from ..ops._util import numpy_or_torch_name
from ..tensor import Tensor
from .module import Module, Parameter

__all__ = ["Linear", "Dropout", "Embedding", "Flatten", "Identity", "Dropout2d", "Unflatten"]


def _positive_int(layer: str, **values: Any) -> None:
    for name, v in values.items():
        if not isinstance(v, int) or isinstance(v, bool) or v <= 0:
            raise ValueError(f"{layer}: {name} must be a positive integer. Received: {name}={v!r}")


class Linear(Module):
    """A fully connected layer: ``y = x @ weight.T + bias``.

    Each output neuron is a linear function of the inputs: its row of ``weight`` holds the
    slopes, its ``bias`` the intercept. An activation layer usually follows.

    Args:
        in_features: size of each input sample (the last axis).
        out_features: number of neurons.
        bias: whether to learn a bias.
        init: weight initializer by name (``"default"`` = PyTorch's, ``"he"``, ``"xavier"``,
            ``"lecun"``, ... see :func:`sinapsi.init.get`) or a callable
            ``f(shape, rng=, dtype=)``. Named schemes other than the default set the bias to 0.
        rng: seed or ``numpy.random.Generator`` for the initial weights.
        dtype: parameter dtype (default: the global default, float32).

    Shapes: input ``(..., in_features)`` -> output ``(..., out_features)``; ``weight`` is
    ``(out_features, in_features)`` as in PyTorch, so weights can be shared for comparisons.
    """

    def __init__(
        self,
        in_features: int,
        out_features: int,
        bias: bool = True,
        init: str | Callable[..., Any] = "default",
        rng: Any = None,
        dtype: Any = None,
    ) -> None:
        super().__init__()
        _positive_int("Linear", in_features=in_features, out_features=out_features)
        bias = check_bool("Linear", "bias", bias)
        self.in_features, self.out_features = in_features, out_features
        self.init = init
        generator = backend.new_rng(rng)
        initializer = initializers.get(init)
        self.weight = Parameter(
            initializer((out_features, in_features), rng=generator, dtype=dtype), dtype=dtype
        )
        if bias:
            if init in ("default", "torch"):
                bound = 1.0 / math.sqrt(in_features)
                b = initializers.uniform((out_features,), -bound, bound, generator, dtype)
            else:
                b = initializers.zeros((out_features,), dtype=dtype)
            self.bias = Parameter(b, dtype=dtype)
        else:
            self.bias = None

    def forward(self, x: Any) -> Tensor:
        x = x if isinstance(x, Tensor) else Tensor(x, dtype=self.weight.dtype)
        if x.ndim == 0 or x.shape[-1] != self.in_features:
            raise ValueError(
                f"Linear({self.in_features} -> {self.out_features}) expects inputs whose last "
                f"axis has {self.in_features} features; got shape {x.shape}."
            )
        return ops.linear(x, self.weight, self.bias)

    def get_config(self) -> dict[str, Any]:
        config: dict[str, Any] = {
            "in_features": self.in_features,
            "out_features": self.out_features,
            "bias": self.bias is not None,
        }
        if isinstance(self.init, str) and self.init != "default":
            config["init"] = self.init
        return config


class Dropout(Module):
    """Inverted dropout: in training, zero each input with probability ``p`` and scale the
    others by ``1 / (1 - p)``; in eval mode, pass inputs through unchanged.

    ``rng`` (seed or Generator) makes the masks reproducible.
    """

    def __init__(self, p: float = 0.5, rng: Any = None) -> None:
        super().__init__()
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"Dropout: p must be a probability in [0, 1]. Received: p={p!r}")
        self.p = float(p)
        self.rng = backend.new_rng(rng)

    def forward(self, x: Any) -> Tensor:
        return ops.dropout(x, self.p, self.rng, self.training)

    def get_config(self) -> dict[str, Any]:
        return {"p": self.p}


class Embedding(Module):
    """A lookup table: row ``i`` of ``weight`` is the vector of item (word) ``i``.

    Input: integer ids of any shape; output: that shape plus ``(embedding_dim,)``. Only the rows
    looked up receive gradient. Initialized from N(0, 1), as in PyTorch; or, as PyTorch's
    ``_weight``, from ``weight``: a ``(num_embeddings, embedding_dim)`` array taken as it is
    (no draw, no copy when its dtype is the layer's: word2vec's tables are filled in place).
    """

    def __init__(
        self, num_embeddings: int, embedding_dim: int, rng: Any = None, dtype: Any = None,
        weight: Any = None,
    ) -> None:  # fmt: skip
        super().__init__()
        _positive_int("Embedding", num_embeddings=num_embeddings, embedding_dim=embedding_dim)
        self.num_embeddings, self.embedding_dim = num_embeddings, embedding_dim
        shape = (num_embeddings, embedding_dim)
        if weight is None:
            weight = initializers.normal(shape, rng=rng, dtype=dtype)
        elif tuple(getattr(weight, "shape", ())) != shape:
            raise ValueError(
                f"Embedding: weight must have shape {shape} (num_embeddings, embedding_dim), "
                f"got {tuple(getattr(weight, 'shape', ()))}"
            )
        self.weight = Parameter(weight, dtype=dtype)

    def forward(self, ids: Any) -> Tensor:
        xp = backend.get_array_module(self.weight.data)
        idx = ids.data if isinstance(ids, Tensor) else xp.asarray(ids)
        if idx.dtype.kind not in "iu":
            raise TypeError(
                f"Embedding expects integer ids; got dtype {idx.dtype}. Convert with "
                ".astype('int64')."
            )
        if idx.size and (int(idx.min()) < 0 or int(idx.max()) >= self.num_embeddings):
            bad = int(idx.min()) if int(idx.min()) < 0 else int(idx.max())
            raise IndexError(
                f"Embedding: id {bad} is out of range for {self.num_embeddings} embeddings "
                f"(valid ids: 0 to {self.num_embeddings - 1})."
            )
        return ops.getitem(self.weight, idx)

    def get_config(self) -> dict[str, Any]:
        return {"num_embeddings": self.num_embeddings, "embedding_dim": self.embedding_dim}


class Flatten(Module):
    """Merge axes ``start_axis..end_axis`` (default: all but the batch axis).

    PyTorch's names ``start_dim=`` and ``end_dim=`` are keyword aliases, so
    ``Flatten(start_dim=2)`` works as in ``torch.nn.Flatten``.
    """

    def __init__(
        self,
        start_axis: int | None = None,
        end_axis: int | None = None,
        *,
        start_dim: int | None = None,
        end_dim: int | None = None,
    ) -> None:
        super().__init__()
        self.start_axis = numpy_or_torch_name(
            "Flatten", "start_axis", start_axis, "start_dim", start_dim, 1
        )
        self.end_axis = numpy_or_torch_name("Flatten", "end_axis", end_axis, "end_dim", end_dim, -1)

    def forward(self, x: Any) -> Tensor:
        return ops.flatten(x, self.start_axis, self.end_axis)

    def get_config(self) -> dict[str, Any]:
        return {"start_axis": self.start_axis, "end_axis": self.end_axis}


class Identity(Module):
    """Returns its input unchanged (a linear activation; a placeholder layer)."""

    def forward(self, x: Any) -> Any:
        return x


class Dropout2d(Module):
    """``torch.nn.Dropout2d``: in training, zero whole channels (feature maps) of an
    (N, C, H, W) batch or a (C, H, W) image with probability ``p`` and scale the others by
    ``1 / (1 - p)``; in eval mode, pass inputs through unchanged.

    Neighbouring pixels are strongly correlated, so dropping single pixels barely regularizes a
    conv layer: dropping a whole map does. ``rng`` (seed or Generator) makes the masks
    reproducible.
    """

    def __init__(self, p: float = 0.5, rng: Any = None) -> None:
        super().__init__()
        if isinstance(p, bool) or not isinstance(p, (int, float)) or not 0.0 <= p <= 1.0:
            raise ValueError(f"Dropout2d: p must be a probability in [0, 1]. Received: p={p!r}")
        self.p = float(p)
        self.rng = backend.new_rng(rng)

    def forward(self, x: Any) -> Tensor:
        ndim = x.ndim if hasattr(x, "ndim") else len(getattr(x, "shape", ()))
        if ndim not in (3, 4):
            shape = tuple(getattr(x, "shape", ()))
            raise ValueError(
                f"Dropout2d(p={self.p}) expects input of shape (N, C, H, W) or (C, H, W); got "
                f"{shape}."
            )
        return ops.dropout2d(x, self.p, self.rng, self.training)

    def get_config(self) -> dict[str, Any]:
        return {"p": self.p}


class Unflatten(Module):
    """``torch.nn.Unflatten(dim, unflattened_size)``: split axis ``dim`` into a shape.

    The inverse of :class:`Flatten`: ``Unflatten(1, (1, 28, 28))`` turns flat rows of 784
    pixels into (N, 1, 28, 28) images, so a model that takes CSV rows can start with conv
    layers. One size may be -1 (inferred). A reshape: no copy for contiguous input.
    """

    def __init__(self, dim: int, unflattened_size: tuple[int, ...]) -> None:
        super().__init__()
        if isinstance(dim, bool) or not isinstance(dim, int):
            raise TypeError(f"Unflatten: dim must be an int. Received: dim={dim!r}")
        try:
            sizes = tuple(unflattened_size)
        except TypeError:
            sizes = ()
        ok = (
            len(sizes) > 0
            and all(isinstance(v, int) and not isinstance(v, bool) for v in sizes)
            and all(v > 0 or v == -1 for v in sizes)
            and sizes.count(-1) <= 1
        )
        if not ok:
            raise ValueError(
                "Unflatten: unflattened_size must be a non-empty sequence of positive ints (one "
                f"may be -1). Received: unflattened_size={unflattened_size!r}"
            )
        self.dim, self.unflattened_size = dim, sizes

    def forward(self, x: Any) -> Tensor:
        if not isinstance(x, Tensor):
            x = Tensor(x)
        shape, sizes = x.shape, self.unflattened_size
        name = f"Unflatten({self.dim}, {sizes})"
        if not -len(shape) <= self.dim < len(shape):
            raise ValueError(
                f"{name} cannot split axis {self.dim}: the input has {len(shape)} axes; got input "
                f"shape {shape}."
            )
        dim = self.dim % len(shape)
        known = math.prod(v for v in sizes if v != -1)
        size = shape[dim]
        fits = size % known == 0 if -1 in sizes else size == known
        if not fits:
            raise ValueError(
                f"{name} cannot split axis {dim} of size {size} into {sizes}; got input shape "
                f"{shape}."
            )
        return x.reshape(*shape[:dim], *sizes, *shape[dim + 1 :])

    def get_config(self) -> dict[str, Any]:
        return {"dim": self.dim, "unflattened_size": list(self.unflattened_size)}

    def extra_repr(self) -> str:
        return f"dim={self.dim}, unflattened_size={self.unflattened_size}"
