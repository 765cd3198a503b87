"""Batch normalization: keeps each layer's inputs at zero mean and unit variance per feature,
which lets deep networks train with larger learning rates and eases vanishing gradients.
Normalization: the input standardization carried inside the model, so a saved model takes raw
data."""

from __future__ import annotations

import math
import numbers
from typing import Any

import numpy as np

from .. import backend, init, ops
from .._errors import check_bool, check_real
from ..data.split import _standardization_statistics
from ..tensor import Tensor
from .layers import _positive_int
from .module import Module, Parameter

__all__ = ["BatchNorm1d", "BatchNorm2d", "Normalization"]


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
        name = type(self).__name__  # BatchNorm1d, or a subclass's own name in its errors
        _positive_int(name, num_features=num_features)
        if momentum is not None and (
            isinstance(momentum, bool)
            or not isinstance(momentum, numbers.Real)
            or not 0.0 <= momentum <= 1.0
        ):
            raise ValueError(
                f"{name}: momentum must be in [0, 1] or None. Received: momentum={momentum!r}"
            )
        eps = check_real(name, "eps", eps, positive=True)
        affine = check_bool(name, "affine", affine)
        track_running_stats = check_bool(name, "track_running_stats", track_running_stats)
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
        self._check_input(x)
        use_batch_stats = self.training or not self.track_running_stats
        update = self.training and self.track_running_stats
        # the op counts num_batches_tracked up (in place) as it updates the statistics, so a
        # captured step's replay counts too: it must be an array (a loaded int is made one)
        if update and isinstance(self.num_batches_tracked, numbers.Integral):
            self.num_batches_tracked = np.asarray(int(self.num_batches_tracked), np.int64)
        return ops.batch_norm(
            x,
            self.weight,
            self.bias,
            self.running_mean if update or not use_batch_stats else None,
            self.running_var if update or not use_batch_stats else None,
            training=use_batch_stats,
            momentum=self.momentum,
            eps=self.eps,
            num_batches_tracked=self.num_batches_tracked if update else 0,
        )

    def _check_input(self, x: Tensor) -> None:
        if x.ndim not in (2, 3) or x.shape[1] != self.num_features:
            raise ValueError(
                f"BatchNorm1d({self.num_features}) expects input of shape (N, "
                f"{self.num_features}) or (N, {self.num_features}, L); got {x.shape}."
            )

    def get_config(self) -> dict[str, Any]:
        return {
            "num_features": self.num_features,
            "eps": self.eps,
            "momentum": self.momentum,
            "affine": self.affine,
            "track_running_stats": self.track_running_stats,
        }


class Normalization(Module):
    """Standardize features inside the model: ``y = (x - mean) / scale``, per feature (last axis).

    ``mean`` and ``scale`` are buffers: saved with the model, exported to ONNX and PyTorch, never
    trained. A model that starts with this layer takes raw inputs, so ``sn.load(path)`` then
    ``predict`` needs no preprocessing step kept beside it. Set the statistics in one of three
    ways:

    - :meth:`adapt` on the training set: the statistics of :class:`sinapsi.data.Standardizer`
      (population standard deviation, scale 1 for a constant feature), the same numbers;
    - ``mean=`` and ``scale=`` arrays of shape ``(num_features,)``;
    - :meth:`from_standardizer` with a fitted Standardizer.

    Differs from Keras' ``Normalization(mean, variance)``: this layer takes the standard
    deviation ``scale`` (as StandardScaler's ``scale_``) rather than the variance, so it divides
    by exactly the Standardizer's numbers. ``eps`` floors the scale, ``max(scale, eps)``, as Keras
    does with its epsilon; the default 0 leaves it alone.

    Args:
        num_features: F, the size of the last axis; None: learned by ``adapt`` (or from ``mean``).
        mean, scale: array-likes of shape (F,); both or neither. Without them (and before
            ``adapt``) the layer refuses to run.
        eps: a floor on the scale (>= 0).
        dtype: the buffers' dtype (default: the global default, float32); ``astype`` changes
            it, before or after ``adapt``.

    Shapes: input ``(..., F)`` -> output ``(..., F)``. Raw arrays and integer input (pixels)
    are converted to the buffers' dtype; a floating Tensor keeps its own.

    >>> import numpy as np
    >>> from sinapsi import nn
    >>> X = np.array([[0.0, 10.0], [2.0, 30.0]])
    >>> norm = nn.Normalization().adapt(X)
    >>> norm.mean.tolist(), norm.scale.tolist()
    ([1.0, 20.0], [1.0, 10.0])
    >>> norm(X).data.tolist()
    [[-1.0, -1.0], [1.0, 1.0]]
    """

    def __init__(
        self,
        num_features: int | None = None,
        mean: Any = None,
        scale: Any = None,
        eps: float = 0.0,
        dtype: Any = None,
    ) -> None:
        super().__init__()
        if num_features is not None:
            _positive_int("Normalization", num_features=num_features)
        if not isinstance(eps, numbers.Real) or isinstance(eps, bool) or not 0 <= eps < math.inf:
            raise ValueError(
                f"Normalization: eps must be >= 0 (a floor on the scale). Received: eps={eps!r}"
            )
        if (mean is None) != (scale is None):
            given = "mean" if scale is None else "scale"
            raise ValueError(
                f"Normalization: pass both mean and scale, or neither (then call adapt); got "
                f"only {given}."
            )
        self.num_features, self.eps = num_features, float(eps)
        dtype = backend.resolve_dtype(dtype)
        # Placeholders until adapt or load_state_dict fills them: scale 0 (never a valid scale)
        # marks "no statistics yet"; empty while the size is unknown. Always arrays, so astype()
        # sets the dtype that adapt keeps, and finite, so an unadapted model can be saved.
        xp, size = backend.array_module(), num_features or 0
        self.register_buffer("mean", xp.zeros((size,), dtype=dtype))
        self.register_buffer("scale", xp.zeros((size,), dtype=dtype))
        if mean is not None:
            self._set_statistics(*self._check_statistics(mean, scale))

    def _check_statistics(self, mean: Any, scale: Any) -> tuple[np.ndarray, np.ndarray]:
        mean = np.asarray(backend.to_numpy(getattr(mean, "data", mean)), dtype=np.float64)
        scale = np.asarray(backend.to_numpy(getattr(scale, "data", scale)), dtype=np.float64)
        if mean.ndim != 1 or scale.shape != mean.shape:
            raise ValueError(
                "Normalization: mean and scale must be 1-D, one value per feature, of the same "
                f"length; mean has {mean.size} features and scale has {scale.size} (shapes "
                f"{mean.shape} and {scale.shape})."
            )
        if self.num_features is not None and mean.size != self.num_features:
            raise ValueError(
                f"Normalization: num_features={self.num_features}, but mean has {mean.size} "
                "values. Pass matching statistics, or leave num_features out."
            )
        bad = ~np.isfinite(mean)
        if bad.any():
            i = int(np.argmax(bad))
            raise ValueError(f"Normalization: mean must be finite; got mean[{i}]={mean[i]}.")
        bad = ~np.isfinite(scale) | (scale <= 0)
        if bad.any():
            i = int(np.argmax(bad))
            raise ValueError(
                "Normalization: scale must be positive and finite (a standard deviation per "
                f"feature); got scale[{i}]={scale[i]}. Use 1 for a constant feature (as adapt "
                "does), or pass eps > 0 to floor small scales."
            )
        return mean, scale

    def _set_statistics(self, mean: np.ndarray, scale: np.ndarray) -> None:
        current = self.mean  # the placeholder or the previous statistics: keep their dtype
        dtype, xp = current.dtype, backend.get_array_module(current)
        self.num_features = int(mean.size)
        self.mean = xp.asarray(mean, dtype=dtype)
        self.scale = xp.asarray(scale, dtype=dtype)

    def adapt(self, x: Any) -> Normalization:
        """Learn ``mean`` and ``scale`` from ``x`` of shape (n_samples, num_features) (an array
        or a Tensor; more leading axes are pooled). Returns self.

        Same numbers as ``Standardizer().fit(x)``: population standard deviation (``ddof=0``),
        scale 1 for a constant feature. Call it on the training set only.
        """
        data = backend.to_numpy(x.data if isinstance(x, Tensor) else x)
        if data.ndim < 2:
            raise ValueError(
                "Normalization.adapt: x must have shape (n_samples, n_features); got shape "
                f"{data.shape}. Reshape a single feature with x.reshape(-1, 1)."
            )
        if data.dtype.kind not in "biuf":
            raise TypeError(
                f"Normalization.adapt: x must hold numbers; got dtype {data.dtype}. Convert "
                "categorical columns to numbers (e.g. one_hot) first."
            )
        if self.num_features is not None and data.shape[-1] != self.num_features:
            raise ValueError(
                f"Normalization.adapt: x has {data.shape[-1]} features, but the layer was built "
                f"for {self.num_features} (shape {data.shape}). Pass the training set with the "
                "columns the model takes."
            )
        data = data.reshape(math.prod(data.shape[:-1]), data.shape[-1])  # not -1: 0 features
        self._set_statistics(*_standardization_statistics(data, "x", "Normalization.adapt"))
        return self

    @classmethod
    def from_standardizer(cls, standardizer: Any, dtype: Any = None) -> Normalization:
        """The layer that computes ``standardizer.transform`` (a fitted
        :class:`sinapsi.data.Standardizer`, or anything with ``mean_`` and ``scale_``)."""
        if not (hasattr(standardizer, "mean_") and hasattr(standardizer, "scale_")):
            raise TypeError(
                "Normalization.from_standardizer needs a fitted Standardizer (with mean_ and "
                f"scale_); got {type(standardizer).__name__}."
            )
        if standardizer.mean_ is None or standardizer.scale_ is None:
            raise ValueError(
                "Normalization.from_standardizer: the Standardizer is not fitted. Call "
                "fit(X_train) first, or use Normalization().adapt(X_train)."
            )
        return cls(mean=standardizer.mean_, scale=standardizer.scale_, dtype=dtype)

    def _has_statistics(self) -> bool:
        """False before adapt: the placeholders are empty, or hold scale 0 (as ``sn.load``
        builds them before filling them in)."""
        scale = self.scale
        return scale is not None and scale.size > 0 and bool((scale > 0).all())

    def forward(self, x: Any) -> Tensor:
        if not self._has_statistics():
            name = "" if self.num_features is None else str(self.num_features)
            raise RuntimeError(
                f"Normalization({name}) has no statistics yet: call .adapt(X_train) on the "
                "training set, or build it with mean= and scale= (or from_standardizer). A "
                "loaded model in this state was saved before adapt (its scale holds zeros)."
            )
        mean, scale = self.mean, self.scale
        if not isinstance(x, Tensor):
            x = Tensor(x, dtype=mean.dtype)
        elif not backend.is_floating(x.dtype):
            x = x.astype(mean.dtype)
        if x.ndim == 0 or x.shape[-1] != self.num_features:
            raise ValueError(
                f"Normalization({self.num_features}) expects inputs whose last axis has "
                f"{self.num_features} features; got shape {x.shape}."
            )
        if self.eps > 0:
            scale = backend.get_array_module(scale).maximum(scale, scale.dtype.type(self.eps))
        return (x - Tensor(mean, dtype=x.dtype)) / Tensor(scale, dtype=x.dtype)

    def get_config(self) -> dict[str, Any]:
        config: dict[str, Any] = {"num_features": self.num_features}
        if self.eps:
            config["eps"] = self.eps
        return config


class BatchNorm2d(BatchNorm1d):
    """``torch.nn.BatchNorm2d``: batch normalization of (N, C, H, W) images per channel C.

    Each channel's mean and variance are taken over the batch and all pixels (N, H, W): one
    feature map shares one normalization, as its pixels share one filter. Arguments, training
    and evaluation behaviour, ``state_dict`` keys and running statistics are
    :class:`BatchNorm1d`'s (and PyTorch's). A channels-last input gives a channels-last output.
    """

    def _check_input(self, x: Tensor) -> None:
        if x.ndim != 4 or x.shape[1] != self.num_features:
            raise ValueError(
                f"BatchNorm2d({self.num_features}) expects input of shape (N, "
                f"{self.num_features}, H, W); got {x.shape}."
            )
