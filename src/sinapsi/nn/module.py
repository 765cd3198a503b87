"""Module: the base of every layer and model; Parameter; Sequential and ModuleList containers.

A module finds its parameters by attribute registration, as in PyTorch: assigning a
:class:`Parameter` or a :class:`Module` to an attribute records it, so nothing is listed by hand
and no layer is forgotten by the optimizer.

>>> import sinapsi as sn
>>> from sinapsi import nn
>>> class TwoLayer(nn.Module):
...     def __init__(self):
...         super().__init__()
...         self.hidden = nn.Linear(2, 4, rng=0)
...         self.out = nn.Linear(4, 1, rng=1)
...     def forward(self, x):
...         return self.out(sn.relu(self.hidden(x)))
>>> [name for name, _ in TwoLayer().named_parameters()]
['hidden.weight', 'hidden.bias', 'out.weight', 'out.bias']
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from .. import backend
from ..tensor import Tensor

__all__ = [
    "Parameter", "Module", "Sequential", "ModuleList", "StateDictError", "training_mode",
    "module_dtype",
]  # fmt: skip


class _ThreadTrainingMode(threading.local):
    """Per-thread override of every module's mode: None (use each module's own flag), or the
    mode of the innermost open :class:`training_mode` block of this thread."""

    forced: bool | None = None

    def __init__(self) -> None:  # runs once in each thread that touches the object
        self.saved: list[bool | None] = []  # what the open blocks replaced (innermost last)


_override = _ThreadTrainingMode()


class training_mode:  # noqa: N801 - a context manager, named like no_grad
    """Inside the block, every module called from *this thread* runs in training mode
    (``mode=True``) or eval mode (``False``), whatever its own flag; other threads, and this
    one after the block, see the modules' own flags (set by ``train()``/``eval()``).

    This is how a model can train in one thread while another thread serves predictions:
    :func:`~sinapsi.fit` trains inside ``training_mode(True)``, and
    :func:`~sinapsi.predict`/:func:`~sinapsi.evaluate` run inside ``training_mode(False)``,
    so neither changes what the other sees. ``model.train()``/``model.eval()`` change the
    flag for every thread that is not inside such a block. Blocks nest; the innermost wins.

    >>> import sinapsi as sn
    >>> from sinapsi import nn
    >>> drop = nn.Dropout(0.5, rng=0)
    >>> with nn.module.training_mode(False):
    ...     drop.training
    False
    >>> drop.training
    True
    """

    def __init__(self, mode: bool) -> None:
        if not isinstance(mode, bool):
            raise TypeError(f"training_mode: mode must be True or False. Received: {mode!r}")
        self.mode = mode

    def __enter__(self) -> training_mode:
        state = _override  # per thread, so one instance may serve many threads
        state.saved.append(state.forced)
        state.forced = self.mode
        return self

    def __exit__(self, *exc: object) -> None:
        state = _override
        state.forced = state.saved.pop()


_structure = [0]  # bumped whenever any module gains or drops a parameter, submodule, buffer or
# forward hook, or changes its train/eval flag


def _changed() -> None:
    _structure[0] += 1


def structure_version() -> int:
    """A number that changes whenever any module anywhere gains, loses or replaces a
    parameter, submodule, buffer or forward hook, or changes its train/eval flag: what
    :func:`sinapsi.capture` checks before it replays."""
    return _structure[0]


def module_dtype(model: Module) -> Any:
    """The floating dtype a model computes in: its first parameter's, else its first floating
    buffer's (a model of only ``Normalization`` or ``BatchNorm1d(affine=False)``), else the
    default dtype. Inputs are cast to it by ``fit``, ``predict``, ``summary`` and the pictures."""
    for p in model.parameters():
        return p.dtype
    for _, b in model.named_buffers():
        if b is not None and backend.is_floating(getattr(b, "dtype", None)):
            return b.dtype
    return backend.get_default_dtype()


class Parameter(Tensor):
    """A tensor that is a learnable part of a module (requires a gradient unless told not to)."""

    __slots__ = ()

    def __init__(self, data: Any, requires_grad: bool = True, dtype: Any = None) -> None:
        super().__init__(data, requires_grad=requires_grad, dtype=dtype)

    def __repr__(self) -> str:
        return "Parameter" + super().__repr__()[len("Tensor") :]


class StateDictError(KeyError):
    """``load_state_dict`` found missing, unexpected or mismatched entries (all listed)."""

    def __str__(self) -> str:  # KeyError would quote the whole message
        return str(self.args[0])


class Module:
    """Base class of layers and models: subclass it, create parts in ``__init__``, define
    ``forward``. Call the module (``model(x)``) rather than ``forward`` directly.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        if args or kwargs:  # a layer without its own __init__, e.g. Tanh(inplace=True)
            given = [repr(a) for a in args] + [f"{k}={v!r}" for k, v in kwargs.items()]
            raise TypeError(f"{type(self).__name__}() takes no arguments; got {', '.join(given)}.")
        object.__setattr__(self, "_parameters", OrderedDict())
        object.__setattr__(self, "_modules", OrderedDict())
        object.__setattr__(self, "_buffers", OrderedDict())
        object.__setattr__(self, "_forward_hooks", [])
        object.__setattr__(self, "_training", True)

    @property
    def training(self) -> bool:
        """The mode a forward pass uses: the innermost :class:`training_mode` block of the
        calling thread if any, else this module's own flag (``train()``/``eval()``). A read
        costs ~0.2 us (a thread-local lookup), ~0.5% of the smallest MLP's training step."""
        forced = _override.forced
        return self._training if forced is None else forced

    @training.setter
    def training(self, mode: bool) -> None:
        object.__setattr__(self, "_training", bool(mode))
        _changed()

    def __setstate__(self, state: dict[str, Any]) -> None:
        # modules pickled before the flag moved to ``_training`` still load
        if "training" in state:
            state = dict(state)
            state["_training"] = state.pop("training")
        self.__dict__.update(state)

    # ------------------------------------------------------------------ registration
    def __setattr__(self, name: str, value: Any) -> None:
        if "_parameters" not in self.__dict__:
            raise AttributeError(
                f"In {type(self).__name__}, attribute {name!r} was set before Module.__init__() "
                "ran. Call super().__init__() as the first statement of your __init__()."
            )
        params, modules, buffers = self._parameters, self._modules, self._buffers
        if name in buffers and not isinstance(value, (Parameter, Module)):
            buffers[name] = value.data if isinstance(value, Tensor) else value
            return
        for table in (params, modules, buffers):
            if table.pop(name, None) is not None:
                _changed()
        if isinstance(value, Parameter):
            params[name] = value
        elif isinstance(value, Tensor) and value.requires_grad and value.is_leaf:
            raise TypeError(
                f"{type(self).__name__}.{name}: a plain Tensor with requires_grad=True is not "
                "registered as a parameter, so an optimizer would never train it. Wrap it: "
                f"self.{name} = nn.Parameter(data)."
            )
        elif isinstance(value, Module):
            modules[name] = value
        elif (
            isinstance(value, (list, tuple)) and value and all(isinstance(v, Module) for v in value)
        ):
            modules[name] = ModuleList(value)  # a plain list of layers would never be trained
        elif isinstance(value, (list, tuple)) and any(isinstance(v, Module) for v in value):
            raise TypeError(
                f"{type(self).__name__}.{name}: a list mixing modules with other values cannot be "
                "registered. Put the modules in an nn.ModuleList or nn.Sequential."
            )
        else:
            object.__setattr__(self, name, value)
            return
        _changed()
        self.__dict__.pop(name, None)

    def __getattr__(self, name: str) -> Any:
        # Only called when normal lookup fails: registered parts live in the tables.
        d = self.__dict__
        for table in ("_parameters", "_modules", "_buffers"):
            if table in d and name in d[table]:
                return d[table][name]
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def __delattr__(self, name: str) -> None:
        for table in (self._parameters, self._modules, self._buffers):
            if name in table:
                del table[name]
                _changed()
                return
        object.__delattr__(self, name)

    def register_buffer(self, name: str, value: Any) -> None:
        """Keep an array that is state but not learned (e.g. BatchNorm's running mean); it is
        saved in ``state_dict`` and follows the module's dtype."""
        self._buffers[name] = value.data if isinstance(value, Tensor) else value
        _changed()

    def register_forward_hook(
        self, hook: Callable[[Module, tuple, Any], Any]
    ) -> Callable[[], None]:
        """Call ``hook(module, inputs, output)`` after each forward; returns a remover."""
        self._forward_hooks.append(hook)
        _changed()

        def remove() -> None:
            self._forward_hooks.remove(hook)
            _changed()

        return remove

    # --------------------------------------------------------------------- calling
    def forward(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError(f"{type(self).__name__} must define forward().")

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        out = self.forward(*args, **kwargs)
        if self._forward_hooks:  # costs nothing when no hook is set
            for hook in list(self._forward_hooks):
                result = hook(self, args, out)
                if result is not None:
                    out = result
        return out

    # ------------------------------------------------------------------ traversal
    def named_modules(self, prefix: str = "") -> Iterator[tuple[str, Module]]:
        """This module and every submodule, depth first, with dotted names ('' for self)."""
        seen: set[int] = set()
        stack: list[tuple[str, Module]] = [(prefix, self)]
        while stack:
            name, module = stack.pop()
            if id(module) in seen:
                continue
            seen.add(id(module))
            yield name, module
            children = list(module._modules.items())
            for child_name, child in reversed(children):
                stack.append((f"{name}.{child_name}" if name else child_name, child))

    def modules(self) -> Iterator[Module]:
        for _, m in self.named_modules():
            yield m

    def children(self) -> Iterator[Module]:
        yield from self._modules.values()

    def named_children(self) -> Iterator[tuple[str, Module]]:
        """The direct submodules with their attribute names (``torch.nn.Module``'s)."""
        yield from self._modules.items()

    def apply(self, fn: Any) -> Module:
        """Call ``fn(module)`` on every submodule, children first, then on self; return self
        (``torch.nn.Module.apply``, e.g. a custom initialization of every Linear)."""
        for child in self._modules.values():
            child.apply(fn)
        fn(self)
        return self

    def named_parameters(self, prefix: str = "") -> Iterator[tuple[str, Parameter]]:
        """Every parameter once (shared ones under their first name), with dotted names."""
        seen: set[int] = set()
        for module_name, module in self.named_modules(prefix):
            for name, p in module._parameters.items():
                if id(p) not in seen:
                    seen.add(id(p))
                    yield (f"{module_name}.{name}" if module_name else name), p

    def parameters(self) -> Iterator[Parameter]:
        for _, p in self.named_parameters():
            yield p

    def named_buffers(self) -> Iterator[tuple[str, Any]]:
        for module_name, module in self.named_modules():
            for name, b in module._buffers.items():
                yield (f"{module_name}.{name}" if module_name else name), b

    def num_parameters(self, trainable_only: bool = False) -> int:
        return sum(p.size for p in self.parameters() if p.requires_grad or not trainable_only)

    # ------------------------------------------------------------------ modes and grads
    def train(self, mode: bool = True) -> Module:
        """Training mode for this module and all below it (Dropout drops, BatchNorm uses batch
        statistics). Returns self. This sets the shared flag that every thread sees outside a
        :class:`training_mode` block; ``fit``, ``predict`` and ``evaluate`` do not rely on it."""
        for m in self.modules():
            object.__setattr__(m, "_training", bool(mode))
        _changed()
        return self

    def eval(self) -> Module:
        """Evaluation mode (same as ``train(False)``). Returns self."""
        return self.train(False)

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Forget every parameter's gradient (``grad = None``; zeros with
        ``set_to_none=False``, as torch's)."""
        for p in self.parameters():
            p.grad = None if set_to_none else backend.get_array_module(p.data).zeros_like(p.data)

    def requires_grad_(self, requires_grad: bool = True) -> Module:
        """Freeze (False) or unfreeze (True) every parameter."""
        for p in self.parameters():
            p.requires_grad = requires_grad
        return self

    def astype(self, dtype: Any) -> Module:
        """Convert every parameter and floating buffer to ``dtype`` in place (e.g. float64 for
        gradient checks). Returns self."""
        d = backend.resolve_dtype(dtype)
        for p in self.parameters():
            p.data = p.data.astype(d)
            p.grad = None
        for m in self.modules():
            for name, b in m._buffers.items():
                if b is not None and backend.is_floating(b.dtype):
                    m._buffers[name] = b.astype(d)
        return self

    def float(self) -> Module:
        """Parameters and floating buffers to float32, in place (``torch.nn.Module.float``)."""
        return self.astype("float32")

    def double(self) -> Module:
        """Parameters and floating buffers to float64, in place (``torch.nn.Module.double``):
        a model to take float64 inputs. The Parameter objects stay the same, so an optimizer
        built before keeps them; convert before its first step (its state keeps its dtype)."""
        return self.astype("float64")

    # ------------------------------------------------------------------ state
    def state_dict(self) -> OrderedDict[str, Any]:
        """Parameters and buffers by dotted name, as copies (later training cannot change it)."""
        state: OrderedDict[str, Any] = OrderedDict()
        for name, p in self.named_parameters():
            state[name] = p.data.copy()
        for name, b in self.named_buffers():
            if b is not None:
                state[name] = b.copy()
        return state

    def load_state_dict(self, state: dict[str, Any], strict: bool = True) -> Module:
        """Copy arrays from ``state`` into the parameters and buffers, in place.

        With ``strict=True`` (the default) every key must match: all missing and unexpected
        keys and all shape mismatches are reported together in one :class:`StateDictError`.
        With ``strict=False`` missing and unexpected keys are skipped (shapes must still match).
        """
        targets: dict[str, tuple[Module, str, str]] = {}
        for module_name, module in self.named_modules():
            for kind in ("_parameters", "_buffers"):
                for name, value in getattr(module, kind).items():
                    if value is not None:
                        key = f"{module_name}.{name}" if module_name else name
                        targets.setdefault(key, (module, kind, name))
        missing = [k for k in targets if k not in state]
        unexpected = [k for k in state if k not in targets]
        mismatched = []
        for key, (module, kind, name) in targets.items():
            if key in state:
                current = getattr(module, kind)[name]
                current_shape = tuple(current.shape)
                new_shape = tuple(getattr(state[key], "shape", ()))
                if current_shape != new_shape:
                    mismatched.append(f"{key}: expected shape {current_shape}, got {new_shape}")
        problems = []
        if strict and missing:
            problems.append("missing keys: " + ", ".join(missing))
        if strict and unexpected:
            problems.append("unexpected keys: " + ", ".join(unexpected))
        if mismatched:
            problems.append("shape mismatches: " + "; ".join(mismatched))
        if problems:
            raise StateDictError(
                f"load_state_dict for {type(self).__name__} failed: "
                + " | ".join(problems)
                + ". Build the model with the same architecture as the saved one"
                + (", or pass strict=False to skip missing/unexpected keys." if strict else ".")
            )
        for key, (module, kind, name) in targets.items():
            if key not in state:
                continue
            value = state[key]
            value = value.data if isinstance(value, Tensor) else value
            if kind == "_parameters":
                param = module._parameters[name]
                param.data[...] = value  # in place: optimizers keep their references
            else:
                buf = module._buffers[name]
                module._buffers[name] = backend.get_array_module(buf).array(value, dtype=buf.dtype)
        return self

    # ------------------------------------------------------------------ description
    def get_config(self) -> dict[str, Any]:
        """The constructor arguments as JSON-able values (used to save and rebuild models)."""
        return {}

    def extra_repr(self) -> str:
        """The arguments shown in ``repr`` (override in layers)."""
        return ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())

    def __repr__(self) -> str:
        lines = [f"{type(self).__name__}({self.extra_repr()}"]
        if not self._modules:
            return lines[0] + ")"
        for name, child in self._modules.items():
            child_repr = repr(child).replace("\n", "\n  ")
            lines.append(f"  ({name}): {child_repr}")
        return "\n".join(lines) + "\n)"

    def summary(self, input_shape: Iterable[int], print_fn: Callable[[str], Any] | None = print):
        """Print a Keras-style table: each layer, its output shape, parameter count, trainable.

        ``input_shape`` excludes the batch axis (e.g. ``(784,)``); a batch of 2 zeros is run
        through the model in eval mode, with no graph, to find the shapes. Returns the table.
        """
        from .summary import summary

        return summary(self, tuple(input_shape), print_fn)


class ModuleList(Module):
    """A list of modules whose parameters are registered (indexable, iterable, ``append``)."""

    def __init__(self, modules: Iterable[Module] = ()) -> None:
        super().__init__()
        for m in modules:
            self.append(m)

    def append(self, module: Module) -> ModuleList:
        if not isinstance(module, Module):
            raise TypeError(
                f"{type(self).__name__}.append needs a Module; got {type(module).__name__}."
            )
        self._modules[str(len(self._modules))] = module
        _changed()
        return self

    def extend(self, modules: Iterable[Module]) -> ModuleList:
        for m in modules:
            self.append(m)
        return self

    def __getitem__(self, index: int | slice) -> Any:
        items = list(self._modules.values())
        if isinstance(index, slice):
            return type(self)(items[index])
        return items[index]

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[Module]:
        return iter(list(self._modules.values()))


class Sequential(ModuleList):
    """Layers applied one after another: ``Sequential(Linear(2, 8), ReLU(), Linear(8, 1))``."""

    def __init__(self, *layers: Module) -> None:
        if len(layers) == 1 and isinstance(layers[0], (list, tuple)):
            layers = tuple(layers[0])
        super().__init__(layers)

    def forward(self, x: Any) -> Any:
        for layer in self._modules.values():
            x = layer(x)
        return x
