"""Batch normalization: keeps each layer's inputs at zero mean and unit variance per feature,
which lets deep networks train with larger learning rates and eases vanishing gradients."""

from __future__ import annotations

from typing import Any

from .. import backend, init, ops
from ..tensor import Tensor
from .layers import _positive_int
from .module import Module, Parameter

__all__ = ["BatchNorm1d"]


class BatchNorm1d(Module):
    """Batch normalization over a ``(N, C)`` or ``(N, C, L)`` input, per feature/channel C.

    Training: ``y = (x - batch_mean) / sqrt(batch_var + eps) * weight + bias`` and the running
    statistics move toward the batch's: ``running = (1 - momentum) * running + momentum * stat``
    (PyTorch's definition: ``momentum=0.1`` means 10% new; Keras' momentum=0.99 is this 0.01).
    The running variance uses the unbiased batch variance. ``momentum=None`` gives a cumulative
    average. Eval: normalize with the running statistics.

    Args:
        num_features: C.
        eps: added to the variance for stability.
        momentum: see above.
        affine: learn ``weight`` (gamma, init 1) and ``bias`` (beta, init 0).
        track_running_stats: keep running statistics; without them eval also uses batch stats.
    """

    def __init__(
        self,
        num_features: int,
        eps: float = 1e-5,
        momentum: float | None = 0.1,
        affine: bool = True,
        track_running_stats: bool = True,
        dtype: Any = None,
    ) -> None:
        super().__init__()
        _positive_int("BatchNorm1d", num_features=num_features)
        if momentum is not None and not 0.0 <= momentum <= 1.0:
            raise ValueError(
                f"BatchNorm1d: momentum must be in [0, 1] or None. Received: momentum={momentum!r}"
            )
        if eps <= 0:
            raise ValueError(f"BatchNorm1d: eps must be positive. Received: eps={eps!r}")
        self.num_features, self.eps, self.momentum = num_features, eps, momentum
        self.affine, self.track_running_stats = affine, track_running_stats
        if affine:
            self.weight = Parameter(init.ones((num_features,), dtype=dtype), dtype=dtype)
            self.bias = Parameter(init.zeros((num_features,), dtype=dtype), dtype=dtype)
        else:
            self.weight = self.bias = None
        if track_running_stats:
            self.register_buffer("running_mean", init.zeros((num_features,), dtype=dtype))
            self.register_buffer("running_var", init.ones((num_features,), dtype=dtype))
            self.register_buffer("num_batches_tracked", backend.numpy.zeros((), "int64"))
        else:
            self.running_mean = self.running_var = self.num_batches_tracked = None

    def forward(self, x: Any) -> Tensor:
        if not isinstance(x, Tensor):
            dtype = self.weight.dtype if self.affine else None
            x = Tensor(x, dtype=dtype)
        if x.ndim not in (2, 3) or x.shape[1] != self.num_features:
            raise ValueError(
                f"BatchNorm1d({self.num_features}) expects input of shape (N, "
                f"{self.num_features}) or (N, {self.num_features}, L); got {x.shape}."
            )
        use_batch_stats = self.training or not self.track_running_stats
        update = self.training and self.track_running_stats
        if update:
            self.num_batches_tracked += 1
        return ops.batch_norm(
            x,
            self.weight,
            self.bias,
            self.running_mean if update or not use_batch_stats else None,
            self.running_var if update or not use_batch_stats else None,
            training=use_batch_stats,
            momentum=self.momentum,
            eps=self.eps,
            num_batches_tracked=int(self.num_batches_tracked) if update else 0,
        )

    def get_config(self) -> dict[str, Any]:
        return {
            "num_features": self.num_features,
            "eps": self.eps,
            "momentum": self.momentum,
            "affine": self.affine,
            "track_running_stats": self.track_running_stats,
        }
