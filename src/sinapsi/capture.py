"""A training step captured once and replayed: the graph's bookkeeping paid once, not per step.

An eager step builds its graph anew every time: a Tensor and a Node per op, a topological sort,
a gradient ledger, one optimizer call per parameter. For the small networks the notes draw
that bookkeeping is most of the step. :func:`capture` records the step on its first call with
given input shapes and dtypes (the ops of forward and loss, each with its *replay*: see
:func:`sinapsi.autograd.make_result`), and on later calls replays it: the ops rewrite their
outputs in place, the recorded backward closures run in a precomputed order, the gradients land
in preallocated buffers, and the optimizer updates every parameter in one pass over one flat
buffer where it can (:class:`sinapsi.optim.flat.FlatStep`). The results are bit-identical to
the eager step's: same losses, same weights after any number of steps.

The second call with a shape is a check: it replays, then runs the eager step from the same
state, and keeps the captured step only if every output, gradient, buffer and random draw
agrees bit for bit. Anything that cannot be captured runs eagerly, with one
:class:`CaptureNotice` saying why: an op without a replay, a forward that reads a tensor's value
into Python (``if loss.item() > 1:``, data-dependent control flow), a replay that disagrees.
A change of input shape or dtype, of train/eval mode, of the model's structure or of a
parameter's array captures again. As with ``torch.jit.trace``, control flow that depends on the
data without reading a tensor (on ``.data`` directly) is not seen: keep such models eager
(``fit(..., capture=False)``).

>>> import numpy as np, sinapsi as sn
>>> model = sn.nn.Sequential(sn.nn.Linear(2, 8), sn.nn.Tanh(), sn.nn.Linear(8, 1))
>>> opt = sn.optim.SGD(model.parameters(), lr=0.1)
>>> step = sn.capture(model, sn.nn.mse_loss, opt)
>>> x, y = np.ones((4, 2), np.float32), np.zeros((4, 1), np.float32)
>>> losses = [float(step(x, y)) for _ in range(3)]
>>> step.captured, losses[2] < losses[0]
(True, True)
"""

from __future__ import annotations

import logging
import warnings
from typing import Any

from . import autograd, backend
from ._capture_walk import _LEAF, _NODE, compiled_walk, pooled
from .nn.module import Module, _override, _structure, structure_version
from .tensor import Tensor

__all__ = ["capture", "CapturedStep", "CaptureNotice"]

_log = logging.getLogger("sinapsi")


class CaptureNotice(UserWarning):
    """A step that :func:`capture` runs eagerly, and why (given once per captured step)."""


def capture(model: Any, loss_fn: Any, optimizer: Any = None) -> CapturedStep:
    """Record ``model``'s training step once, replay it on every later call.

    ``step = capture(model, loss_fn, optimizer)``; then ``loss = step(x, y)`` does what
    ``optimizer.zero_grad(); loss = loss_fn(model(x), y); loss.backward(); optimizer.step()``
    does, bit for bit, and returns the loss (a detached 0-d Tensor). Without an optimizer the
    step stops after backward, leaving the gradients in ``.grad`` (the model's parameters'
    gradients are reset first, as ``model.zero_grad()`` does). The gradients live in buffers
    that the next step overwrites: copy one to keep it. ``step.output`` is the model's output
    of the last call (an array that the next call overwrites).
    """
    return CapturedStep(model, loss_fn, optimizer)


class _Plan:
    """One captured step for one input signature: buffers, the forward's replays, the backward
    order, and the leaves' gradient buffers."""

    __slots__ = (
        "x", "y", "y_arg", "replays", "out", "loss", "seed", "steps", "n_slots", "leaves",
        "leaf_grads", "checked", "state", "copyto", "copyto_y", "walk", "pooled",
    )  # fmt: skip


_COMPILE_UP_TO = 4096  # backward steps; a longer walk loops over plan.steps instead
_MAX_REFUSALS = 3  # replays refusing batches of one shape before that shape stays eager


class CapturedStep:
    """A training step that records itself on its first call and replays afterwards; see
    :func:`capture`. ``captured``: whether the last call replayed; ``reason``: why the last
    call ran eagerly (None when it replayed or was the recording call)."""

    def __init__(
        self,
        model: Any,
        loss_fn: Any,
        optimizer: Any = None,
        *,
        notice: bool = True,
        own_modules_only: bool = False,
    ) -> None:
        if not callable(model) or not callable(loss_fn):
            raise TypeError(
                "capture(model, loss_fn, optimizer): model and loss_fn must be callable "
                f"(a Module and a loss); got {type(model).__name__} and {type(loss_fn).__name__}."
            )
        self.model, self.loss_fn, self.optimizer = model, loss_fn, optimizer
        self._plans: dict[tuple, _Plan | None] = {}
        self._guard: tuple | None = None
        self._told = not notice  # fit's default: fall back quietly (logged at INFO)
        # fit's default: only models built from sinapsi's own modules, whose forward has no
        # Python side effects a replay would skip (a user's forward may count its calls)
        self._own_only = own_modules_only
        self._flat: Any = None
        self._flat_tried = False
        self._refusals: dict[tuple, int] = {}
        self._version = -1
        self._modules: list[Any] = []
        self._param_list: list[Any] = []
        self._zero_list: list[Any] = []
        self._n_groups = 0
        self.captured = False
        self.reason: str | None = None
        self.output: Any = None

    # ------------------------------------------------------------------ public
    def __call__(self, x: Any, y: Any = None) -> Tensor:
        """One step on a batch: forward, loss, backward and (with an optimizer) the update."""
        loss = self._forward_backward(x, y)
        if self.optimizer is not None:
            self.optimizer.step()
        return loss

    def forward_backward(self, x: Any, y: Any = None) -> Tensor:
        """The step without the optimizer's update: gradients left in ``.grad``."""
        return self._forward_backward(x, y)

    def _forward_backward(self, x: Any, y: Any) -> Tensor:
        xa = x.data if isinstance(x, Tensor) else x
        xa = backend.get_array_module(xa).asarray(xa) if not hasattr(xa, "shape") else xa
        y_tensor = type(y) is Tensor
        ya = y.data if y_tensor else y
        guard = self._current_guard()
        if guard != self._guard:
            self._plans.clear()
            self._guard = guard
        if ya is None or not hasattr(ya, "dtype"):
            y_key: Any = None if ya is None else type(ya)
        else:
            y_key = (ya.shape, ya.dtype)
        key = (xa.shape, xa.dtype, y_tensor, y_key)
        plan = self._plans.get(key, False)
        if plan is False:
            return self._record(key, x, xa, y, ya)
        if plan is None:
            return self._eager(x, y)
        if not plan.checked:
            return self._check(key, plan, xa, ya, x, y)
        self._load(plan, xa, ya)
        self._zero_grads()
        if not self._replay_or_undo(plan, plan.state.save() if plan.state.held else None):
            return self._refused(key, x, y)
        self.captured, self.reason = True, None
        self.output = plan.out.data
        return _detached(plan.loss)

    # ------------------------------------------------------------------ guard
    def _refresh(self) -> None:
        """The modules and parameters the step uses, found again after a structure change."""
        model = self.model
        self._modules = list(model.modules()) if hasattr(model, "modules") else []
        seen: set[int] = set()
        params: list[Any] = []
        sources = [model.parameters()] if hasattr(model, "parameters") else []
        if self.optimizer is not None:
            sources.append(p for g in self.optimizer.param_groups for p in g["params"])
        for source in sources:
            for p in source:
                if id(p) not in seen:
                    seen.add(id(p))
                    params.append(p)
        self._param_list = params
        # what zero_grad() resets: the optimizer's parameters (other leaves accumulate, as
        # in the eager loop), or the model's without an optimizer
        self._zero_list = (
            params
            if self.optimizer is None
            else [p for g in self.optimizer.param_groups for p in g["params"]]
        )
        self._version = structure_version()
        self._n_groups = self._group_count()

    def _group_count(self) -> int:
        return 0 if self.optimizer is None else len(self.optimizer.param_groups)

    def _current_guard(self) -> tuple:
        """What a captured step depends on beyond the inputs: the modules (their structure,
        hooks and modes: one version number counts every change), the forced training mode,
        the grad mode, and the parameters' arrays."""
        if self._version != _structure[0] or self._n_groups != self._group_count():
            self._refresh()
        params = self._param_list
        return (
            self._version,
            autograd._mode.grad_enabled,
            _override.forced,
            *[id(p.data) for p in params],
            *[p.requires_grad for p in params],
        )

    def _zero_grads(self) -> None:
        for p in self._zero_list:
            p.grad = None

    # ------------------------------------------------------------------ eager
    def _eager(self, x: Any, y: Any) -> Tensor:
        self._zero_grads()
        out = self.model(x if isinstance(x, Tensor) else Tensor(x))
        loss = self.loss_fn(out, y)
        loss.backward()
        self.captured = False
        self.output = out.data
        return _detached(loss)

    def _decline(self, key: tuple, reason: str) -> None:
        self._plans[key] = None
        self.reason = reason
        _log.info("sinapsi.capture: a step runs eagerly: %s", reason)
        if not self._told:
            self._told = True
            warnings.warn(
                f"sinapsi.capture: this step runs eagerly (as fast as without capture, "
                f"results the same): {reason}.",
                CaptureNotice,
                stacklevel=5,  # the caller of step() or forward_backward()
            )

    # ------------------------------------------------------------------ recording
    def _record(self, key: tuple, x: Any, xa: Any, y: Any, ya: Any) -> Tensor:
        stale = self._flat is not None and not self._flat.holds()
        if self.optimizer is not None and (not self._flat_tried or stale):
            self._flat_tried = True
            self._flat = _flatten(self.optimizer)
            if self._flat is not None:
                self._plans.clear()  # the parameters' arrays are new views: record again
            self._guard = self._current_guard()
        xp = backend.get_array_module(xa)
        plan = _Plan()
        plan.checked = False
        plan.x = Tensor(xa) if not isinstance(x, Tensor) else Tensor(xa, dtype=xa.dtype)
        plan.x.data = xp.array(plan.x.data, copy=True, order="C")
        plan.copyto = xp.copyto
        if ya is None:
            plan.y, plan.y_arg = None, y
        else:
            y_xp = backend.get_array_module(ya)
            plan.y, plan.copyto_y = y_xp.array(ya, copy=True), y_xp.copyto
            plan.y_arg = Tensor(plan.y, dtype=plan.y.dtype) if isinstance(y, Tensor) else plan.y
        self._zero_grads()
        mode = autograd._mode
        previous, mode.tape = mode.tape, []
        mode.host_read = None
        try:
            out = self.model(plan.x)
            loss = self.loss_fn(out, plan.y_arg)
            tape = mode.tape
            host_read = mode.host_read
        finally:
            mode.tape = previous
            mode.host_read = None
        reason = _not_replayable(self._modules, self._own_only) or _not_recorded(
            out, loss, tape, host_read
        )
        if reason is not None:
            self._decline(key, reason)
            loss.backward()
            self.captured = False
            self.output = out.data
            return _detached(loss)
        plan.replays = [replay for _, _, replay in tape]
        plan.state = _State(self.model)
        plan.out, plan.loss = out, loss
        plan.seed = backend.get_array_module(loss.data).ones_like(loss.data)
        self._plan_backward(plan)
        self._plans[key] = plan
        self._backward(plan, record=True)
        self.captured, self.reason = False, None
        self.output = out.data
        return _detached(loss)

    def _plan_backward(self, plan: _Plan) -> None:
        order = autograd._topological_order(plan.loss._node)
        index = {id(node): i for i, node in enumerate(order)}
        leaves: list[Any] = []
        leaf_index: dict[int, int] = {}
        steps = []
        for node in order:
            targets = []
            for parent in node.parents:
                if not parent.requires_grad:
                    targets.append(None)
                elif parent._node is not None:
                    targets.append((_NODE, index[id(parent._node)]))
                else:
                    k = leaf_index.get(id(parent))
                    if k is None:
                        k = leaf_index[id(parent)] = len(leaves)
                        leaves.append(parent)
                    targets.append((_LEAF, k))
            steps.append((node.backward, tuple(targets)))
        plan.n_slots, plan.leaves = len(order), leaves
        flat_grads = {}
        if self._flat is not None:
            ordered = [p for g in self.optimizer.param_groups for p in g["params"]]
            flat_grads = {id(p): g for p, g in zip(ordered, self._flat.grads)}
        plan.leaf_grads = buffers = [
            flat_grads.get(id(p))
            if id(p) in flat_grads
            else backend.get_array_module(p.data).empty_like(p.data)
            for p in leaves
        ]
        # a backward that can write a gradient straight into its destination (``out=``) is
        # handed the buffer of each leaf it alone feeds and that each step resets: no copy
        counts = [0] * len(leaves)
        for _, targets in steps:
            for target in targets:
                if target is not None and target[0] == _LEAF:
                    counts[target[1]] += 1
        reset = {id(p) for p in self._zero_list}
        plan.steps = []
        for backward, targets in steps:
            outs = None
            if getattr(backward, "writes_into", False):
                outs = tuple(
                    buffers[t[1]]
                    if t is not None and t[0] == _LEAF and counts[t[1]] == 1
                    and id(leaves[t[1]]) in reset
                    else None
                    for t in targets
                )  # fmt: skip
                if not any(o is not None for o in outs):
                    outs = None
            nodes = tuple((j, t[1]) for j, t in enumerate(targets) if t and t[0] == _NODE)
            leafs = tuple((j, t[1]) for j, t in enumerate(targets) if t and t[0] == _LEAF)
            plan.steps.append((backward, targets, outs, nodes, leafs))
        plan.pooled, plan.walk = [None] * len(plan.steps), None  # made by the recording walk

    # ------------------------------------------------------------------ replay
    def _load(self, plan: _Plan, xa: Any, ya: Any) -> None:
        plan.copyto(plan.x.data, xa)
        if plan.y is not None:
            plan.copyto_y(plan.y, ya)

    def _replay(self, plan: _Plan) -> None:
        for replay in plan.replays:  # array code only: no op records anything
            replay()
        self._backward(plan)

    def _backward(self, plan: _Plan, record: bool = False) -> None:
        """The recorded backward closures in the eager walk's order, accumulating exactly as
        :func:`sinapsi.autograd.run_backward` does (a node's gradients summed in the order they
        arrive; a leaf's first gradient copied into its buffer, later ones added in place).
        On the recording walk (``record``) each closure notes the result it made
        (``ops._util.keep``) and the plan pools those arrays (``_capture_walk.pooled``); every
        later walk hands each closure its array (``_mode.out``) to write its result into."""
        mode = autograd._mode
        previous, mode.grad_enabled = mode.grad_enabled, False
        try:
            if plan.walk is not None and not record:  # straight-line code, as the loop
                plan.walk(plan.seed, mode)
                return
            made = self._walk(plan, mode, record)
            if record:
                plan.pooled = pooled(plan, made)
                plan.walk = compiled_walk(plan) if len(plan.steps) <= _COMPILE_UP_TO else None
        finally:
            mode.grad_enabled, mode.out, mode.made = previous, None, None

    def _walk(self, plan: _Plan, mode: Any, record: bool) -> list[Any] | None:
        """The walk as a loop over ``plan.steps``; recording, each step's noted result and its
        position among the closure's gradients (or None)."""
        slots: list[Any] = [None] * plan.n_slots
        slots[0] = plan.seed
        leaves, buffers, pooled = plan.leaves, plan.leaf_grads, plan.pooled
        made: list[Any] | None = [None] * len(plan.steps) if record else None
        for i, (backward, _, outs, nodes, leafs) in enumerate(plan.steps):
            g = slots[i]
            if g is None:
                continue
            slots[i] = None
            if made is not None:
                mode.made = []
            else:
                mode.out = pooled[i]
            grads = backward(g) if outs is None else backward(g, outs)
            if made is not None:  # the one result the closure noted, and its position
                noted, mode.made = mode.made, None
                if len(noted) == 1:
                    j = next((j for j, pg in enumerate(grads) if pg is noted[0]), None)
                    made[i] = None if j is None else (noted[0], j)
            for j, k in nodes:
                pg = grads[j]
                if pg is not None:
                    previous_g = slots[k]
                    slots[k] = pg if previous_g is None else previous_g + pg
            for j, k in leafs:
                pg = grads[j]
                if pg is None:
                    continue
                leaf = leaves[k]
                if leaf.grad is None:
                    buffer = buffers[k]
                    if pg is not buffer:  # else written there already (``out=``)
                        buffer[...] = pg
                    leaf.grad = buffer
                else:
                    leaf.grad += pg
        return made

    def _replay_or_undo(self, plan: _Plan, saved: Any) -> bool:
        """Replay; False where a replay refuses this batch (a label path the recording did
        not take: ignore_index appearing), its side effects undone from ``saved``."""
        try:
            self._replay(plan)
        except Exception:
            if saved is not None:
                plan.state.restore(saved)
            return False
        return True

    def _refused(self, key: tuple, x: Any, y: Any) -> Tensor:
        """A replay raised (its side effects undone): this batch runs eagerly, the shape is
        recorded again next time, or stays eager once its batches keep refusing."""
        del self._plans[key]
        self._refusals[key] = refusals = self._refusals.get(key, 0) + 1
        if refusals >= _MAX_REFUSALS:
            self._decline(key, "its replay refused a batch (a data-dependent path changed)")
        return self._eager(x, y)

    # ------------------------------------------------------------------ the check
    def _check(self, key: tuple, plan: _Plan, xa: Any, ya: Any, x: Any, y: Any) -> Tensor:
        """Replay once, then run the eager step from the same state; keep the plan only if
        both agree bit for bit."""
        state = plan.state
        before = state.save()
        self._load(plan, xa, ya)
        self._zero_grads()
        if not self._replay_or_undo(plan, before):
            return self._refused(key, x, y)
        params = self._param_list
        replayed = (
            backend.to_numpy(plan.loss.data).copy(),
            backend.to_numpy(plan.out.data).copy(),
            [None if p.grad is None else backend.to_numpy(p.grad).copy() for p in params],
            state.save(),
        )
        state.restore(before)
        loss = self._eager(x, y)
        eager = (
            backend.to_numpy(loss.data),
            backend.to_numpy(self.output),
            [None if p.grad is None else backend.to_numpy(p.grad) for p in params],
            state.save(),
        )
        difference = _first_difference(replayed, eager)
        if difference is not None:
            self._decline(key, f"its replay differs from the eager step ({difference})")
            return loss
        plan.checked = True
        for p, leaf_index in _leaf_positions(plan, params):  # the plan's buffers, same values
            if p.grad is not None and leaf_index is not None:
                buffer = plan.leaf_grads[leaf_index]
                buffer[...] = p.grad
                p.grad = buffer
        self.captured, self.reason = True, None
        return loss


def _not_replayable(modules: list[Any], own_only: bool) -> str | None:
    """Why a replay would skip Python that the model's forward runs: a forward hook, or (with
    ``own_only``) a module whose forward or call is not sinapsi's own."""
    for m in modules:
        if m._forward_hooks:
            return f"{type(m).__name__} has a forward hook, which a replay would not call"
        cls = type(m)
        own = getattr(cls.forward, "__module__", "").startswith("sinapsi.")
        if own_only and (not own or cls.__call__ is not Module.__call__):
            return f"{cls.__name__} has its own forward (fit(capture=True) captures it anyway)"
    return None


def _not_recorded(out: Any, loss: Any, tape: list[Any], host_read: str | None) -> str | None:
    """Why the recording cannot be replayed: a host read, an output that is not a Tensor, a
    loss without a gradient, an op without a replay."""
    if host_read is not None:
        return (
            f"the forward reads a tensor's value into Python ({host_read}), so its control "
            "flow may depend on the data"
        )
    if not isinstance(out, Tensor) or not isinstance(loss, Tensor):
        return "the model or the loss does not return a Tensor"
    if loss.data.size != 1 or not loss.requires_grad:
        return "the loss is not a one-element tensor that requires grad"
    missing = [op for _, op, replay in tape if replay is None]
    return f"op '{missing[0]}' has no replay" if missing else None


def _leaf_positions(plan: _Plan, params: list[Any]) -> list[tuple[Any, int | None]]:
    where = {id(p): k for k, p in enumerate(plan.leaves)}
    return [(p, where.get(id(p))) for p in params]


def _detached(t: Tensor) -> Tensor:
    """``t`` cut from the graph, on a copy of its data (the plan's buffer is rewritten by the
    next step)."""
    out = t.detach()
    out.data = out.data.copy()
    return out


def _flatten(optimizer: Any) -> Any:
    """The optimizer's parameters in one flat buffer, updated in one pass, where it applies."""
    from .optim.flat import FlatStep

    return FlatStep.build(optimizer)


class _State:
    """What a forward may change besides its outputs: the modules' buffers (running
    statistics) and their random generators (dropout masks)."""

    def __init__(self, model: Any) -> None:
        self.buffers: list[Any] = []
        self.generators: list[Any] = []
        numpy = backend.numpy
        for m in model.modules() if hasattr(model, "modules") else ():
            for b in m._buffers.values():
                if b is not None:
                    self.buffers.append(b)
            for value in vars(m).values():
                if isinstance(value, numpy.random.Generator):
                    self.generators.append(value)
        self.held = bool(self.buffers or self.generators)

    def save(self) -> tuple[list[Any], list[Any]]:
        return (
            [backend.to_numpy(b).copy() for b in self.buffers],
            [g.bit_generator.state for g in self.generators],
        )

    def restore(self, saved: tuple[list[Any], list[Any]]) -> None:
        for b, value in zip(self.buffers, saved[0]):
            b[...] = backend.get_array_module(b).asarray(value)
        for g, value in zip(self.generators, saved[1]):
            g.bit_generator.state = value


def _first_difference(a: Any, b: Any, where: str = "") -> str | None:
    """Where two nested results (arrays, lists, tuples, dicts) first differ, or None."""
    if isinstance(a, (list, tuple)):
        if len(a) != len(b):
            return where or "length"
        for i, (u, v) in enumerate(zip(a, b)):
            found = _first_difference(u, v, f"{where}[{i}]")
            if found is not None:
                return found
        return None
    if isinstance(a, dict):
        return None if a == b else (where or "generator state")
    if a is None or b is None:
        return None if a is None and b is None else where
    if not backend.same_bits(a, b):
        names = {"[0]": "the loss", "[1]": "the output"}
        return names.get(where, f"gradient or buffer {where}")
    return None
