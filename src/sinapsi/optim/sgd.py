"""Stochastic gradient descent with momentum, dampening and Nesterov momentum."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ..backend import get_array_module
from ..ops._util import scalar_array
from ..tensor import Tensor
from .optimizer import Optimizer, check_range, scratch

__all__ = ["SGD", "sgd_step"]


def sgd_step(
    grad: Any,
    lr: float,
    *,
    momentum: float = 0.0,
    buf: Any = None,
    first_step: bool = False,
    dampening: float = 0.0,
    nesterov: bool = False,
    out: Any = None,
) -> Any:
    """SGD's update math on arrays: the step to subtract from the parameter, ``lr * g``, where
    ``g`` is ``grad`` or, with ``momentum``, the momentum ``buf`` (updated in place; on the
    ``first_step`` it is taken as it is: pass a copy of ``grad``, PyTorch's ``v = g``) or,
    with ``nesterov``, ``grad + momentum * buf``. ``out``: an array shaped like ``grad`` to
    write into (a scratch buffer), else a new one. Used by :class:`SGD` and by word2vec's
    sparse SGD on the rows a batch uses."""
    xp = get_array_module(grad)
    if momentum:
        tmp = out if out is not None else xp.empty_like(grad)
        if not first_step:
            buf *= momentum
            xp.multiply(grad, 1.0 - dampening, out=tmp)
            buf += tmp
        if nesterov:
            xp.multiply(buf, momentum, out=tmp)
            tmp += grad
            grad = tmp
        else:
            grad = buf
    return xp.multiply(grad, lr, out=out)


class SGD(Optimizer):
    r"""Stochastic gradient descent, PyTorch's algorithm step for step::

        g = grad + weight_decay * p                   (L2 weight decay, if any)
        if momentum:
            v = g                                     on the first step
            v = momentum * v + (1 - dampening) * g    afterwards
            g = g + momentum * v  if nesterov  else  v
        p = p - lr * g

    The notes' form ``v = beta v + (1 - beta) grad J`` is ``SGD(momentum=beta,
    dampening=beta)``. One difference: PyTorch (and so sinapsi) starts with ``v = g`` instead of
    ``v = (1 - beta) g``, so the very first step is not damped.

    Args:
        params: parameters or parameter groups.
        lr: learning rate (default 0.01).
        momentum: beta in [0, 1) (default 0: plain SGD).
        dampening: in [0, 1] (default 0).
        weight_decay: L2 penalty coefficient (default 0).
        nesterov: Nesterov momentum (needs momentum > 0 and dampening 0).
    """

    def __init__(
        self,
        params: Iterable[Any],
        lr: float = 0.01,
        momentum: float = 0.0,
        dampening: float = 0.0,
        weight_decay: float = 0.0,
        nesterov: bool = False,
        on_nonfinite: str = "raise",
    ) -> None:
        defaults = dict(
            lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay,
            nesterov=nesterov,
        )  # fmt: skip
        super().__init__(params, defaults, on_nonfinite)

    def _validate_group(self, group: dict[str, Any]) -> None:
        super()._validate_group(group)
        check_range("momentum", group["momentum"], 0.0, 1.0)
        check_range("dampening", group["dampening"], 0.0, 1.0, high_open=False)
        if group["nesterov"] and (group["momentum"] <= 0 or group["dampening"] != 0):
            raise ValueError(
                "Nesterov momentum requires a momentum > 0 and zero dampening. Received: "
                f"momentum={group['momentum']}, dampening={group['dampening']}"
            )

    def update(self, param: Tensor, grad: Any, state: dict[str, Any], group: dict[str, Any]):
        momentum = group["momentum"]
        if not momentum and param.data.size <= 4096:
            # small: a temporary is cheaper than looking up the scratch buffer, and sgd_step's
            # plain case written inline (same numbers) saves a call per parameter per step; lr
            # as a 0-d array of grad's dtype: the bits of the Python float, a cheaper operand
            lr = group["lr"]
            if grad.dtype.kind == "f":
                lr = scalar_array(get_array_module(grad), lr, grad.dtype)
            param.data -= grad * lr
            return
        buf = state.get("momentum_buffer")
        first = momentum and buf is None
        if first:  # an array even where grad is a NumPy scalar (a 0-d parameter's
            # grad + wd * p): updated in place from then on, as a scalar's copy would not be
            buf = state["momentum_buffer"] = get_array_module(grad).array(grad)
        step = sgd_step(
            grad, group["lr"], momentum=momentum, buf=buf, first_step=first,
            dampening=group["dampening"], nesterov=group["nesterov"],
            out=scratch(self, param),  # no new arrays per step
        )  # fmt: skip
        param.data -= step
