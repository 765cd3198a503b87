"""Optimizer base class: parameter groups, lazily created state, zero_grad, state_dict.

A subclass sets ``defaults`` (its hyper-parameters) and implements ``update(param, grad, state,
group)``, which changes ``param.data`` in place. The base class owns what every algorithm
shares, once: the loop over groups and parameters, L2 weight decay (``grad + wd * param``,
PyTorch's coupled form), the non-finite-gradient guard, and saving and restoring state.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterable
from typing import Any

from .. import backend
from ..tensor import Tensor

__all__ = ["Optimizer", "NonFiniteGradientError"]


class NonFiniteGradientError(FloatingPointError):
    """A gradient holds NaN or Inf at ``step()``."""


def check_lr(lr: Any) -> float:
    if not isinstance(lr, (int, float)) or isinstance(lr, bool) or not lr > 0 or math.isinf(lr):
        raise ValueError(
            f"Invalid learning rate: {lr!r}. It must be a positive, finite number "
            "(typical values: 0.1 to 1e-4)."
        )
    return float(lr)


def check_range(name: str, value: Any, low: float, high: float, high_open: bool = True) -> float:
    """``value`` in [low, high) (or [low, high]); else an 'Invalid <name>' error."""
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and value >= low
    ok = ok and (value < high if high_open else value <= high)
    if not ok:
        bracket = ")" if high_open else "]"
        raise ValueError(f"Invalid {name} value: {value!r}. It must be in [{low}, {high}{bracket}.")
    return float(value)


def scratch(optimizer: Optimizer, param: Tensor) -> Any:
    """A work array shaped like ``param``, kept for the optimizer's lifetime and shared by all
    parameters of that shape and dtype (updates run one parameter at a time). Not saved in
    ``state_dict``: it holds nothing between steps."""
    key = (param.data.shape, param.data.dtype)
    buffers = optimizer.__dict__.setdefault("_scratch", {})
    buffer = buffers.get(key)
    if buffer is None:
        buffer = buffers[key] = backend.get_array_module(param.data).empty_like(param.data)
    return buffer


class Optimizer:
    """Base class. ``params``: an iterable of parameters, or of dicts (parameter groups) each
    with ``"params"`` and any hyper-parameter overrides, e.g.
    ``[{"params": body.parameters()}, {"params": head.parameters(), "lr": 1e-3}]``.

    ``on_nonfinite``: what ``step()`` does when a gradient holds NaN/Inf: ``"raise"`` (default,
    naming the parameter) or ``"skip"`` (warn and leave every parameter unchanged this step).
    """

    defaults: dict[str, Any] = {}

    def __init__(
        self, params: Iterable[Any], defaults: dict[str, Any], on_nonfinite: str = "raise"
    ):
        if on_nonfinite not in ("raise", "skip"):
            raise ValueError(
                "The 'on_nonfinite' parameter must be a str among {'raise', 'skip'}. "
                f"Got {on_nonfinite!r} instead."
            )
        self.defaults = dict(defaults)
        self.on_nonfinite = on_nonfinite
        if isinstance(params, Tensor):
            raise TypeError(
                f"{type(self).__name__} expects an iterable of parameters (e.g. "
                "model.parameters()), not a single Tensor. Wrap it in a list: [tensor]."
            )
        items = list(params)
        if not items:
            raise ValueError(
                f"{type(self).__name__} got an empty parameter list: nothing to optimize. "
                "Did you pass model.parameters() of a model with no layers, or an exhausted "
                "generator?"
            )
        groups = items if isinstance(items[0], dict) else [{"params": items}]
        self.param_groups: list[dict[str, Any]] = []
        for g in groups:
            self.add_param_group(g)
        self.state: dict[int, dict[str, Any]] = {}  # id(param) -> state, created lazily

    def add_param_group(self, group: dict[str, Any]) -> None:
        """Add a group of parameters with its own hyper-parameters (the rest from defaults)."""
        group = dict(group)
        params = group["params"]
        group["params"] = [params] if isinstance(params, Tensor) else list(params)
        for p in group["params"]:
            if not isinstance(p, Tensor):
                raise TypeError(f"Optimizer parameters must be Tensors; got {type(p).__name__}.")
            if not p.is_leaf:
                raise ValueError("Optimizer cannot update a tensor computed by an op (not a leaf).")
        seen = {id(p) for g in self.param_groups for p in g["params"]}
        if any(id(p) in seen for p in group["params"]):
            raise ValueError("Some parameters appear in more than one parameter group.")
        for key, value in self.defaults.items():
            group.setdefault(key, value)
        self._validate_group(group)
        self.param_groups.append(group)

    def _validate_group(self, group: dict[str, Any]) -> None:
        """Check a group's hyper-parameters (subclasses extend; the base checks lr and wd)."""
        group["lr"] = check_lr(group["lr"])
        if "weight_decay" in group:
            wd = group["weight_decay"]
            if not isinstance(wd, (int, float)) or not wd >= 0 or math.isinf(wd):
                raise ValueError(f"Invalid weight_decay value: {wd!r}. It must be >= 0.")

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Forget every parameter's gradient (``grad = None``, as PyTorch's default; zeros
        with ``set_to_none=False``)."""
        for group in self.param_groups:
            for p in group["params"]:
                p.grad = (
                    None if set_to_none else backend.get_array_module(p.data).zeros_like(p.data)
                )

    def _nonfinite(self) -> str | None:
        """The first parameter whose gradient is not finite, described; None if all are.

        One read of each gradient: its sum is NaN or Inf whenever an element is (and only
        overflows for gradients of ~1e38, which are broken anyway), with no boolean temporary.
        """
        isfinite = math.isfinite
        numpy_sum = backend.numpy.add.reduce  # ndarray.sum's Python wrapper costs ~0.7 us more
        for gi, group in enumerate(self.param_groups):
            for pi, p in enumerate(group["params"]):
                g = p.grad
                if g is None:
                    continue
                total = numpy_sum(g, axis=None) if type(g) is backend.numpy.ndarray else g.sum()
                if not isfinite(total):
                    return f"parameter {pi} of group {gi} (shape {p.shape})"
        return None

    _flat: Any = None  # a FlatStep (sinapsi.optim.flat), once built: step() tries it first

    def step(self) -> None:
        """Update every parameter that has a gradient, in place."""
        flat = self._flat
        if flat is not None and flat.step():
            return  # the same update as whole-buffer passes (see sinapsi.optim.flat)
        bad = self._nonfinite()
        if bad is not None:
            message = (
                f"{type(self).__name__}.step(): the gradient of {bad} holds NaN or Inf. Usual "
                "causes: a learning rate too high, no gradient clipping, log/division of zero "
                "in the loss."
            )
            if self.on_nonfinite == "raise":
                raise NonFiniteGradientError(message + " (on_nonfinite='skip' skips such steps.)")
            warnings.warn(message + " This step was skipped.", RuntimeWarning, stacklevel=2)
            return
        states, update = self.state, self.update
        for group in self.param_groups:
            wd = 0.0 if self._decoupled_weight_decay else group.get("weight_decay", 0.0)
            for p in group["params"]:
                grad = p.grad
                if grad is None:
                    continue
                state = states.get(id(p))
                if state is None:
                    state = states[id(p)] = {"step": 0}
                state["step"] += 1
                if wd:
                    grad = grad + wd * p.data
                update(p, grad, state, group)

    _decoupled_weight_decay = False  # AdamW applies its own decay inside update()

    def update(self, param: Tensor, grad: Any, state: dict[str, Any], group: dict[str, Any]):
        """Change ``param.data`` in place from ``grad``; ``state`` persists per parameter."""
        raise NotImplementedError

    # ------------------------------------------------------------------ state
    def state_dict(self) -> dict[str, Any]:
        """Hyper-parameters of every group and the per-parameter state (copied), keyed by the
        parameter's position, so training resumes exactly in a rebuilt optimizer."""
        index = {}
        groups = []
        for group in self.param_groups:
            ids = []
            for p in group["params"]:
                index[id(p)] = len(index)
                ids.append(index[id(p)])
            groups.append({**{k: v for k, v in group.items() if k != "params"}, "params": ids})
        state = {}
        for pid, s in self.state.items():
            if pid in index:
                state[index[pid]] = {
                    k: (v.copy() if hasattr(v, "copy") else v) for k, v in s.items()
                }
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore what :meth:`state_dict` saved (same parameters, in the same order).

        Everything is checked before anything changes: the groups' hyper-parameters as the
        constructor checks them, and every saved array against its parameter's shape.
        """
        saved_groups = state_dict["param_groups"]
        if len(saved_groups) != len(self.param_groups) or any(
            len(s["params"]) != len(g["params"]) for s, g in zip(saved_groups, self.param_groups)
        ):
            raise ValueError(
                "load_state_dict: the saved optimizer has a different number of parameter groups "
                "or parameters per group than this one. Build the optimizer over the same "
                "model's parameters, in the same order."
            )
        groups = []
        for group, saved in zip(self.param_groups, saved_groups):
            candidate = {**group, **{k: v for k, v in saved.items() if k != "params"}}
            self._validate_group(candidate)  # the constructor's checks: lr, betas, ...
            groups.append(candidate)
        params = [p for g in self.param_groups for p in g["params"]]
        state = {}
        for key, s in state_dict["state"].items():
            try:
                p = params[int(key)]
            except (ValueError, IndexError, TypeError):
                raise ValueError(
                    f"load_state_dict: the saved state names parameter {key!r}, but this "
                    f"optimizer has parameters 0 to {len(params) - 1}. Build the optimizer over "
                    "the same model's parameters."
                ) from None
            restored = {}
            for k, v in s.items():
                if getattr(v, "ndim", 0) > 0:
                    if tuple(v.shape) != p.shape:
                        raise ValueError(
                            f"load_state_dict: the saved {k!r} of parameter {key} has shape "
                            f"{tuple(v.shape)}, but the parameter has shape {p.shape}. Build "
                            "the optimizer over the same model's parameters, in the same order."
                        )
                    v = backend.get_array_module(p.data).array(v, dtype=p.data.dtype)
                elif hasattr(v, "copy"):
                    v = v.copy()
                restored[k] = v
            state[id(p)] = restored
        self.state = state
        for group, candidate in zip(self.param_groups, groups):
            group.update(candidate)
        if self._flat is not None:  # the restored arrays go into the flat buffers, as views
            self._flat.adopt_state()

    def __repr__(self) -> str:
        lines = [f"{type(self).__name__} ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            for k in sorted(group):
                if k != "params":
                    lines.append(f"    {k}: {group[k]}")
        return "\n".join(lines) + "\n)"
