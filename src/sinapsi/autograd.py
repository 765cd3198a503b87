"""Reverse-mode automatic differentiation: graph nodes, the backward walk, and grad modes.

Every op builds its result with :func:`make_result`, handing over the parents and a ``backward``
closure written directly under its forward. The closure receives the gradient of the result and
returns one gradient (or ``None``) per parent, shaped like that parent. :func:`run_backward` walks
the graph in reverse topological order (iteratively: no recursion limit on long graphs), checks
every gradient an op returns, and accumulates into the ``.grad`` of leaf tensors.

The grad mode (:class:`no_grad`, :class:`enable_grad`) is per thread, as in PyTorch: a
backward or a ``no_grad`` block in one thread does not turn off graph recording in another
(a server answering predictions while a model trains, word2vec's Hogwild workers).
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from . import backend
from .backend import get_array_module

if TYPE_CHECKING:
    from .tensor import Tensor

__all__ = [
    "Node",
    "make_result",
    "run_backward",
    "sum_to",
    "no_grad",
    "enable_grad",
    "is_grad_enabled",
    "detect_anomaly",
    "GraphFreedError",
]

BackwardFn = Callable[[Any], Sequence[Any]]
ReplayFn = Callable[[], None]
F = TypeVar("F", bound=Callable[..., Any])


class _ThreadMode(threading.local):
    """Per-thread grad mode: each thread starts with recording on. ``saved``: the modes that
    the open ``no_grad``/``enable_grad`` blocks of this thread replaced (innermost last)."""

    grad_enabled = True

    def __init__(self) -> None:  # runs once in each thread that touches the object
        self.saved: list[bool] = []
        # sinapsi.capture records here every op result made while it captures a step:
        # (result tensor, op name, replay) in forward order; None when nothing records
        self.tape: list[tuple[Any, str, Any]] | None = None
        self.host_read: str | None = None  # the first op result read into Python meanwhile
        # while sinapsi.capture walks a captured step's backward: ``out``, the array its plan
        # gives the running closure's result (ops._util.reused); ``made``, on the recording
        # walk, where the closure notes its result (ops._util.keep)
        self.out: Any = None
        self.made: list[Any] | None = None


_mode = _ThreadMode()
_anomaly_mode = False
_Tensor: Any = None  # set by tensor.py (which imports this module) to the Tensor class


class GraphFreedError(RuntimeError):
    """Raised when backward goes through a graph that an earlier backward already freed."""


class Node:
    """One recorded op: its name (for errors and pictures), its input tensors and its backward."""

    __slots__ = ("op", "parents", "backward", "__weakref__")

    def __init__(self, op: str, parents: tuple[Tensor, ...], backward: BackwardFn) -> None:
        self.op = op
        self.parents = parents
        self.backward: BackwardFn | None = backward


def make_result(
    data: Any,
    op: str,
    parents: tuple[Tensor, ...],
    backward: BackwardFn,
    replay: ReplayFn | None = None,
) -> Tensor:
    """Wrap ``data`` as the output of ``op``, recording a graph node when a gradient is needed.

    ``replay`` (optional) lets :func:`sinapsi.capture` run the op again without Python
    dispatch: a no-argument callable that recomputes, from the current values of the parents'
    ``.data`` arrays (and of any array argument the op holds by reference, such as labels),
    ``data`` in place (the very array handed over here) and every array ``backward`` reads,
    with the same floating-point operations as the forward (bit-identical results), and
    repeats the forward's side effects (random draws, running statistics). An op without one
    makes a step that uses it run eagerly. Only a capture's tape keeps it: an eager graph
    frees what it shares with ``backward`` node by node, as before.
    """
    out = _Tensor.__new__(_Tensor)
    out.data = data
    out.grad = None
    out.name = None
    mode = _mode
    if _anomaly_mode:
        _check_finite(data, op, parents, "forward")
    if mode.tape is not None:
        mode.tape.append((out, op, replay))
    if mode.grad_enabled:
        for p in parents:
            if p.requires_grad:
                out.requires_grad = True
                out._node = Node(op, parents, backward)
                return out
    out.requires_grad = False
    out._node = None
    return out


def note_host_read(tensor: Tensor, what: str) -> None:
    """While a step is captured, remember that an op result's value was read into Python
    (``item()``, ``bool()``, ``numpy()``...): the forward's control flow may depend on data."""
    mode = _mode
    if mode.tape is not None and mode.host_read is None:
        if any(result is tensor for result, _, _ in mode.tape):
            mode.host_read = what


def sum_to(grad: Any, shape: tuple[int, ...]) -> Any:
    """Sum ``grad`` over the axes that broadcasting added or stretched, so it has ``shape``.

    ``sum_to(ones((4, 3)), (1, 3))`` sums over axis 0 with keepdims; ``(3,)`` drops that axis.
    """
    if grad.shape == shape:
        return grad
    lead = grad.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(
        i + lead for i, n in enumerate(shape) if n == 1 and grad.shape[i + lead] != 1
    )
    out = grad.sum(axis=axes, keepdims=True) if axes else grad
    if lead:
        out = out.reshape(shape)
    return out


def _topological_order(root: Node) -> list[Node]:
    """Nodes reachable from ``root``, each after every node that consumes its output.

    Iterative depth-first post-order (an explicit stack, never recursion), then reversed.
    """
    order: list[Node] = []
    visited = {id(root)}
    stack: list[tuple[Node, int]] = [(root, 0)]
    while stack:
        node, i = stack.pop()
        parents = node.parents
        while i < len(parents):
            child = parents[i]._node
            i += 1
            if child is not None and id(child) not in visited:
                visited.add(id(child))
                stack.append((node, i))
                stack.append((child, 0))
                break
        else:
            order.append(node)
    order.reverse()
    return order


def _memory_owner(array: Any) -> int:
    base = getattr(array, "base", None)
    return id(array if base is None else base)


def _bad_grad(node: Node, index: int, parent: Tensor, grad: Any) -> None:
    """Blame the op whose backward returned a gradient of the wrong shape or dtype (chainer)."""
    raise RuntimeError(
        f"backward of op '{node.op}' returned a gradient of shape {tuple(grad.shape)} and dtype "
        f"{grad.dtype} for input {index}, which has shape {tuple(parent.data.shape)} and dtype "
        f"{parent.data.dtype}. This is a bug in the op '{node.op}': its backward must return "
        "one gradient per input, shaped like that input (use autograd.sum_to)."
    )


def run_backward(root: Tensor, grad: Any, retain_graph: bool = False) -> None:
    """Backpropagate ``grad`` (shaped like ``root``) to every leaf that requires a gradient."""
    # Gradient arrays may share memory: add's backward hands one array to both inputs, reshape
    # returns a view, the seed belongs to the caller. Pending node gradients are never mutated
    # (they accumulate out of place), but a leaf's .grad is accumulated in place, so a leaf only
    # takes an array whose memory nobody else holds; otherwise it takes a copy. The ledger:
    # `leaf_owned`, the memory (id of the owning array) of every leaf gradient and of the seed;
    # `held`, memory -> number of pending node gradients using it. It is inlined below: this
    # loop runs once per op, and for small networks its bookkeeping is most of the step.
    leaf_owned = {_memory_owner(grad)}  # the seed belongs to the caller
    held: dict[int, int] = {}
    if root._node is None:  # a leaf: its gradient is the seed itself
        _give_to_leaf(root, grad, leaf_owned, held)
        return
    order = _topological_order(root._node)
    for node in order:
        if node.backward is None:
            raise GraphFreedError(
                f"backward through op '{node.op}' a second time: its graph was freed by the first "
                "backward. Call backward(retain_graph=True) the first time if you need to "
                "backpropagate through the same graph again."
            )
    grads: dict[int, Any] = {id(root._node): grad}
    mode = _mode
    previous_mode, mode.grad_enabled = mode.grad_enabled, False  # no_grad(), minus its calls
    try:
        for node in order:
            g = grads.pop(id(node), None)
            if g is None:
                continue
            _release(held, g)
            input_grads = node.backward(g)
            if not retain_graph:
                node.backward = None
            for index, (parent, pg) in enumerate(zip(node.parents, input_grads)):
                if pg is None or not parent.requires_grad:
                    continue
                if pg.shape != parent.data.shape or pg.dtype != parent.data.dtype:
                    _bad_grad(node, index, parent, pg)
                if _anomaly_mode:
                    _check_finite(pg, node.op, node.parents, "backward")
                child = parent._node
                if child is None:
                    _give_to_leaf(parent, pg, leaf_owned, held)
                    continue
                key = id(child)
                previous = grads.get(key)
                if previous is not None:
                    _release(held, previous)
                    pg = previous + pg  # a fresh array: nobody else holds it
                else:
                    owner = _memory_owner(pg)
                    if owner in leaf_owned:
                        pg = pg.copy()
                        owner = id(pg)
                    held[owner] = held.get(owner, 0) + 1
                    grads[key] = pg
                    continue
                held[id(pg)] = 1
                grads[key] = pg
            if not retain_graph:
                node.parents = ()
    finally:
        mode.grad_enabled = previous_mode


def _release(held: dict[int, int], grad: Any) -> None:
    """One pending node gradient using ``grad``'s memory is done with it."""
    owner = _memory_owner(grad)
    count = held.get(owner, 0)
    if count > 1:
        held[owner] = count - 1
    else:
        held.pop(owner, None)


def _give_to_leaf(leaf: Tensor, grad: Any, leaf_owned: set[int], held: dict[int, int]) -> None:
    """Accumulate into ``leaf.grad``; a first gradient is adopted only if nobody else holds its
    memory (and it is writeable), else copied."""
    if leaf.grad is not None:
        leaf.grad += grad
        return
    owner = _memory_owner(grad)
    writeable = getattr(getattr(grad, "flags", None), "writeable", True)
    if owner in leaf_owned or owner in held or not writeable:
        grad = grad.copy()
        owner = id(grad)
    leaf_owned.add(owner)
    leaf.grad = grad


def _check_finite(array: Any, op: str, parents: tuple[Tensor, ...], phase: str) -> None:
    xp = get_array_module(array)
    if array.dtype.kind == "f" and not bool(xp.isfinite(array).all()):
        shapes = ", ".join(str(tuple(p.shape)) for p in parents)
        kind = "NaN" if bool(xp.isnan(array).any()) else "Inf"
        raise FloatingPointError(
            f"op '{op}' produced {kind} in its {phase} pass (input shapes: {shapes}). "
            "Check the inputs' domain (log or sqrt of a negative number, division by zero) "
            "or lower the learning rate."
        )


class _GradMode:
    """Context manager and decorator that sets whether ops record a graph."""

    enabled = False

    def __enter__(self) -> None:
        mode = _mode
        mode.saved.append(mode.grad_enabled)  # per thread, so one instance may serve many
        mode.grad_enabled = self.enabled

    def __exit__(self, *exc: object) -> None:
        mode = _mode
        mode.grad_enabled = mode.saved.pop()

    def __call__(self, fn: F) -> F:
        mode = type(self)

        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with mode():
                return fn(*args, **kwargs)

        return wrapper  # type: ignore[return-value]


class no_grad(_GradMode):  # noqa: N801 - named like torch.no_grad, which users know
    """Build no graph inside: for inference and for in-place parameter updates.

    >>> import sinapsi as sn
    >>> x = sn.tensor([1.0, 2.0], requires_grad=True)
    >>> with sn.no_grad():
    ...     y = x * 2
    >>> y.requires_grad
    False
    """

    enabled = False


class enable_grad(_GradMode):  # noqa: N801
    """Record a graph again inside a ``no_grad`` block."""

    enabled = True


def is_grad_enabled() -> bool:
    """Whether ops currently record a graph for backward (in this thread)."""
    return _mode.grad_enabled


class detect_anomaly:  # noqa: N801
    """Check every op's output and every gradient for NaN/Inf, and raise naming the op.

    Costs one pass over each array; use it to find where a NaN first appears. Inside the
    block NumPy's own floating-point warnings are silenced: this error replaces them.

    >>> import sinapsi as sn
    >>> with sn.detect_anomaly():
    ...     sn.tensor([-1.0]).log()
    Traceback (most recent call last):
    ...
    FloatingPointError: op 'log' produced NaN in its forward pass (input shapes: (1,))...
    """

    def __enter__(self) -> None:
        global _anomaly_mode
        self._previous = _anomaly_mode
        _anomaly_mode = True
        self._numpy_errors = backend.numpy.errstate(
            divide="ignore", invalid="ignore", over="ignore"
        )
        self._numpy_errors.__enter__()

    def __exit__(self, *exc: object) -> None:
        global _anomaly_mode
        _anomaly_mode = self._previous
        self._numpy_errors.__exit__(*exc)
