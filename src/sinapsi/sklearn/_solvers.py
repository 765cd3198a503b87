"""scikit-learn's stochastic solvers as sinapsi optimizers, its learning-rate schedules, and its
L-BFGS solver over a sinapsi network.

scikit-learn's SGD keeps the step size inside the velocity (``v = momentum * v - lr * g``),
which differs from :class:`sinapsi.optim.SGD` (PyTorch's ``v = momentum * v + g``,
``p -= lr * v``) as soon as the learning rate changes ("invscaling", "adaptive"); its Adam
folds the bias corrections into the step size (``eps`` is added to the uncorrected ``sqrt(v)``).
Both are reproduced here so that ``solver="sgd"`` and ``solver="adam"`` take scikit-learn's
steps exactly."""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np
import scipy.optimize
from sklearn.exceptions import ConvergenceWarning

from ..backend import get_array_module
from ..optim.optimizer import Optimizer, check_range
from ..tensor import Tensor

__all__ = ["SklearnSGD", "SklearnAdam", "LearningRateSchedule", "minimize_lbfgs"]


class SklearnSGD(Optimizer):
    r"""scikit-learn's ``SGDOptimizer``, per parameter::

        v = momentum * v - lr * g                      (v starts at zero)
        p = p + momentum * v - lr * g   if nesterov   else   p + v
    """

    def __init__(
        self, params: Iterable[Any], lr: float = 0.1, momentum: float = 0.9, nesterov: bool = True
    ) -> None:
        super().__init__(params, dict(lr=lr, momentum=momentum, nesterov=bool(nesterov)))

    def _validate_group(self, group: dict[str, Any]) -> None:
        super()._validate_group(group)
        check_range("momentum", group["momentum"], 0.0, 1.0, high_open=False)

    def update(self, param: Tensor, grad: Any, state: dict[str, Any], group: dict[str, Any]):
        lr, momentum = group["lr"], group["momentum"]
        velocity = state.get("velocity")
        if velocity is None:
            velocity = state["velocity"] = get_array_module(param.data).zeros_like(param.data)
        velocity *= momentum
        velocity -= lr * grad
        if group["nesterov"]:
            param.data += momentum * velocity - lr * grad
        else:
            param.data += velocity


class SklearnAdam(Optimizer):
    r"""scikit-learn's ``AdamOptimizer``, per parameter (t counts the steps)::

        m = beta_1 * m + (1 - beta_1) * g
        v = beta_2 * v + (1 - beta_2) * g**2
        p = p - lr * sqrt(1 - beta_2**t) / (1 - beta_1**t) * m / (sqrt(v) + eps)
    """

    def __init__(
        self,
        params: Iterable[Any],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
    ) -> None:
        super().__init__(params, dict(lr=lr, betas=tuple(betas), eps=eps))

    def _validate_group(self, group: dict[str, Any]) -> None:
        super()._validate_group(group)
        group["betas"] = tuple(group["betas"])
        for i, beta in enumerate(group["betas"]):
            check_range(f"beta_{i + 1}", beta, 0.0, 1.0)
        check_range("epsilon", group["eps"], 0.0, math.inf)

    def update(self, param: Tensor, grad: Any, state: dict[str, Any], group: dict[str, Any]):
        beta_1, beta_2 = group["betas"]
        xp = get_array_module(param.data)
        if "m" not in state:
            state["m"] = xp.zeros_like(param.data)
            state["v"] = xp.zeros_like(param.data)
        m, v, t = state["m"], state["v"], state["step"]
        m *= beta_1
        m += (1 - beta_1) * grad
        v *= beta_2
        v += (1 - beta_2) * grad * grad
        lr = group["lr"] * math.sqrt(1 - beta_2**t) / (1 - beta_1**t)
        param.data -= (lr * m / (xp.sqrt(v) + group["eps"])).astype(param.data.dtype, copy=False)


class LearningRateSchedule:
    """scikit-learn's ``learning_rate`` for solver="sgd", applied to an optimizer's ``lr``.

    ``"constant"`` keeps ``learning_rate_init``; ``"invscaling"`` sets
    ``learning_rate_init / (t + 1) ** power_t`` at the end of every epoch, ``t`` being the
    number of samples seen (the estimator's ``t_``); ``"adaptive"`` divides the rate by 5 each
    time the stopping rule fires, and stops only once it is below 1e-6. ``history`` holds the
    rate each epoch's updates used. It keeps no reference to the optimizer (pickles alone)."""

    def __init__(self, kind: str, lr_init: float, power_t: float) -> None:
        self.kind, self.lr_init, self.power_t = kind, float(lr_init), float(power_t)
        self.history: list[float] = []

    @staticmethod
    def _set(optimizer: Optimizer, lr: float) -> None:
        for group in optimizer.param_groups:
            group["lr"] = lr

    def epoch_ends(self, optimizer: Optimizer, t: int) -> None:
        """Record this epoch's rate; with "invscaling", set the next one from ``t``."""
        self.history.append(float(optimizer.param_groups[0]["lr"]))
        if self.kind == "invscaling":
            self._set(optimizer, self.lr_init / (t + 1) ** self.power_t)

    def should_stop(self, optimizer: Optimizer, message: str, verbose: Any) -> bool:
        """The stopping rule fired: stop, or (``"adaptive"``) divide the rate by 5 and go on.
        ``message`` (why) is printed with ``verbose``, as scikit-learn does."""
        lr = float(optimizer.param_groups[0]["lr"])
        if self.kind != "adaptive":
            if verbose:
                print(message + " Stopping.")
            return True
        if lr <= 1e-6:
            if verbose:
                print(message + " Learning rate too small. Stopping.")
            return True
        self._set(optimizer, lr / 5.0)
        if verbose:
            print(message + f" Setting learning rate to {lr / 5.0:f}")
        return False


def minimize_lbfgs(
    params: list[Tensor],
    loss_and_grads: Callable[[], float],
    max_iter: int,
    max_fun: int,
    tol: float,
    verbose: bool,
) -> tuple[int, float]:
    """scikit-learn's solver="lbfgs": ``scipy.optimize.minimize(method="L-BFGS-B")`` over the
    flattened ``params`` (``maxiter=max_iter``, ``maxfun=max_fun``, ``gtol=tol``), with the
    gradient from sinapsi's autograd. ``loss_and_grads()`` computes the full-batch loss for the
    parameters' current values and leaves each gradient in ``p.grad``. Warns
    ``ConvergenceWarning`` when L-BFGS stops short, as scikit-learn does; returns
    ``(n_iter, final loss)``. The search runs in float64; the parameters keep their dtype."""
    shapes = [p.data.shape for p in params]
    sizes = [int(np.prod(s)) for s in shapes]
    bounds = np.cumsum([0, *sizes])

    def unpack(flat: np.ndarray) -> None:
        for p, lo, hi, shape in zip(params, bounds[:-1], bounds[1:], shapes):
            p.data[...] = flat[lo:hi].reshape(shape)

    def fun(flat: np.ndarray) -> tuple[float, np.ndarray]:
        unpack(flat)
        loss = loss_and_grads()
        grad = np.concatenate(
            [np.zeros(n) if p.grad is None else np.ravel(p.grad) for p, n in zip(params, sizes)]
        )
        return float(loss), grad.astype(np.float64)

    x0 = np.concatenate([np.ravel(p.data) for p in params]).astype(np.float64)
    options = {"maxfun": int(max_fun), "maxiter": int(max_iter), "gtol": float(tol)}
    if verbose:
        options["iprint"] = 1
    with warnings.catch_warnings():  # scipy >= 1.15 deprecates iprint; the output still works
        warnings.simplefilter("ignore", DeprecationWarning)
        result = scipy.optimize.minimize(fun, x0, method="L-BFGS-B", jac=True, options=options)
    if result.status != 0:
        message = result.message.decode() if isinstance(result.message, bytes) else result.message
        warnings.warn(
            f"lbfgs failed to converge after {result.nit} iteration(s) (status={result.status}): "
            f"{message}. Increase the number of iterations (max_iter) or scale the data as "
            "shown in https://scikit-learn.org/stable/modules/preprocessing.html",
            ConvergenceWarning,
            stacklevel=5,  # the caller of fit
        )
    unpack(result.x)
    return min(int(result.nit), int(max_iter)), float(result.fun)
