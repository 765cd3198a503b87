"""Modules by name, so a saved model's architecture is data (JSON), never code.

Built-in layers are registered under their class names. A custom model is registered with
``@register_module()`` and must have ``get_config()`` returning its constructor arguments, so
``load`` can rebuild it as ``cls(**config)`` and then fill in the weights.

>>> from sinapsi import nn
>>> spec = nn.module_spec(nn.Sequential(nn.Linear(2, 3), nn.ReLU()))
>>> spec["type"], [layer["type"] for layer in spec["layers"]]
('Sequential', ['Linear', 'ReLU'])
>>> type(nn.build_module(spec)[1]).__name__
'ReLU'
"""

from __future__ import annotations

import functools
import inspect
import math
import types
import typing
from collections.abc import Callable
from typing import Any, TypeVar

from .._errors import unknown_choice
from .module import Module, ModuleList, Sequential

__all__ = [
    "register_module", "module_spec", "build_module", "registered_modules", "check_spec",
    "declared_state", "MAX_DEPTH", "MAX_MODULES",
]  # fmt: skip

M = TypeVar("M", bound=type)
_REGISTRY: dict[str, type[Module]] = {}


def register_module(name: str | None = None) -> Callable[[M], M]:
    """Class decorator: make a Module subclass loadable by ``name`` (default: its class name).

    >>> from sinapsi import nn
    >>> @nn.register_module()
    ... class Scale(nn.Module):
    ...     def __init__(self, factor=2.0):
    ...         super().__init__()
    ...         self.factor = factor
    ...     def forward(self, x):
    ...         return x * self.factor
    ...     def get_config(self):
    ...         return {"factor": self.factor}
    """

    def decorate(cls: M) -> M:
        if not (isinstance(cls, type) and issubclass(cls, Module)):
            raise TypeError(f"register_module decorates Module subclasses; got {cls!r}.")
        key = name or cls.__name__
        existing = _REGISTRY.get(key)
        if existing is not None and existing is not cls:
            raise ValueError(
                f"register_module: the name {key!r} is already taken by "
                f"{existing.__module__}.{existing.__qualname__}. Pass another name: "
                f"@register_module('My{key}')."
            )
        _REGISTRY[key] = cls
        return cls

    return decorate


def registered_modules() -> dict[str, type[Module]]:
    return dict(_REGISTRY)


def _name_of(module: Module) -> str:
    for key, cls in _REGISTRY.items():
        if type(module) is cls:
            return key
    raise TypeError(
        f"{type(module).__name__} is not a registered module, so a saved file could not "
        "rebuild it. Decorate the class with @sinapsi.nn.register_module() and give it a "
        "get_config() that returns its constructor arguments."
    )


def module_spec(module: Module) -> dict[str, Any]:
    """The architecture of ``module`` as JSON-able data (no weights)."""
    if type(module) in (Sequential, ModuleList):
        key = "layers" if type(module) is Sequential else "modules"
        return {"type": type(module).__name__, key: [module_spec(m) for m in module]}
    return {"type": _name_of(module), "config": module.get_config()}


_CHILDREN = {"Sequential": "layers", "ModuleList": "modules"}
"""The containers of a module description, and the key of their children's list."""

MAX_DEPTH = 64
"""How deeply containers may nest in a module description (a deeper file is refused)."""
MAX_MODULES = 10_000
"""How many modules a module description may declare (each costs memory to build)."""


def check_spec(spec: Any, where: str = "spec") -> int:
    """Check the shape of a module description without building anything: dicts with a
    registered ``type``, ``config`` a dict, ``layers``/``modules`` lists, nested at most
    :data:`MAX_DEPTH` deep, at most :data:`MAX_MODULES` modules. Returns the number of modules;
    raises ValueError naming the faulty entry (``where`` is the name of the root)."""
    count, deepest = 0, 0
    stack = [(spec, where, 0)]
    while stack:
        node, path, depth = stack.pop()
        count, deepest = count + 1, max(deepest, depth)
        if not isinstance(node, dict) or not isinstance(node.get("type"), str):
            raise ValueError(
                f"{path!r} must be a module description (a dict with 'type'); got {node!r:.80}."
            )
        kind = node["type"]
        key = _CHILDREN.get(kind)
        if key is not None:
            children = node.get(key, [])
            if not isinstance(children, list):
                raise ValueError(f"{path + '.' + key!r} must be a list; got {children!r:.80}.")
            stack.extend((c, f"{path}.{key}[{i}]", depth + 1) for i, c in enumerate(children))
            continue
        if kind not in _REGISTRY:
            raise unknown_choice("type", f"a saved module ({path})", _REGISTRY, kind)
        config = node.get("config", {})
        if not isinstance(config, dict) or not all(isinstance(k, str) for k in config):
            raise ValueError(f"{path + '.config'!r} must be a dict; got {config!r:.80}.")
    if deepest > MAX_DEPTH:
        raise ValueError(
            f"{where!r} is nested {deepest} deep; sinapsi reads up to {MAX_DEPTH} levels of "
            "Sequential/ModuleList."
        )
    if count > MAX_MODULES:
        raise ValueError(f"{where!r} declares {count} modules; sinapsi builds up to {MAX_MODULES}.")
    return count


@functools.cache
def _hints(cls: type) -> dict[str, Any]:
    try:
        return typing.get_type_hints(cls.__init__)
    except Exception:  # an annotation that does not evaluate: fall back on the defaults
        return {}


def _kinds(cls: type, name: str) -> tuple[type, ...] | None:
    """The plain types (int, float, bool, str, None) a constructor argument takes: from its
    annotation, else from its default's type; None when it cannot be told."""
    hint = _hints(cls).get(name)
    plain = (int, float, bool, str, type(None))
    if hint is not None:
        union = typing.get_origin(hint) in (typing.Union, types.UnionType)
        args = typing.get_args(hint) if union else (hint,)
        return args if all(a in plain for a in args) else None
    try:
        parameter = inspect.signature(cls).parameters.get(name)
    except (TypeError, ValueError):
        return None
    default = None if parameter is None else parameter.default
    if isinstance(default, bool):
        return (bool, type(None))
    if isinstance(default, (int, float)):
        return (int, float, type(None))
    return (str, type(None)) if isinstance(default, str) else None


def _check_config(cls: type, config: dict[str, Any], kind: str, where: str) -> None:
    """Config values must be of the kind their constructor argument takes (its annotation, or
    its default's type), and finite: constructors that do not check their arguments must not
    build a silently wrong module from an edited file."""
    for name, value in config.items():
        if isinstance(value, float) and not math.isfinite(value):
            raise ValueError(
                f"Cannot rebuild {kind} ({where}): its config value {name}={value!r} is not finite."
            )
        kinds = _kinds(cls, name)
        if kinds is None:
            continue
        if isinstance(value, bool):
            ok = bool in kinds
        elif isinstance(value, int):
            ok = int in kinds or float in kinds
        else:
            ok = isinstance(value, kinds)
        if not ok:
            wanted = " or ".join("None" if k is type(None) else k.__name__ for k in kinds)
            raise ValueError(
                f"Cannot rebuild {kind} ({where}): its config value {name}={value!r:.60} is a "
                f"{type(value).__name__}; {cls.__name__}({name}=...) takes {wanted}."
            )


def _ints(config: dict[str, Any], *names: str) -> tuple[int, ...] | None:
    values = tuple(config.get(n) for n in names)
    ok = all(isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in values)
    return values if ok else None


def _linear(config: dict[str, Any]) -> dict[str, tuple[tuple[int, ...], str]] | None:
    sizes = _ints(config, "in_features", "out_features")
    if sizes is None:
        return None
    state = {"weight": ((sizes[1], sizes[0]), "f")}
    return {**state, "bias": ((sizes[1],), "f")} if config.get("bias", True) else state


def _embedding(config: dict[str, Any]) -> dict[str, tuple[tuple[int, ...], str]] | None:
    sizes = _ints(config, "num_embeddings", "embedding_dim")
    return None if sizes is None else {"weight": (sizes, "f")}


def _batch_norm(config: dict[str, Any]) -> dict[str, tuple[tuple[int, ...], str]] | None:
    sizes = _ints(config, "num_features")
    if sizes is None:
        return None
    state: dict[str, tuple[tuple[int, ...], str]] = {}
    if config.get("affine", True):
        state.update(weight=(sizes, "f"), bias=(sizes, "f"))
    if config.get("track_running_stats", True):
        state.update(running_mean=(sizes, "f"), running_var=(sizes, "f"))
        state["num_batches_tracked"] = ((), "i")
    return state


def _conv(config: dict[str, Any], n: int) -> dict[str, tuple[tuple[int, ...], str]] | None:
    sizes = _ints(config, "in_channels", "out_channels")
    groups = config.get("groups", 1)
    kernel = config.get("kernel_size")
    kernel = [kernel] * n if isinstance(kernel, int) and not isinstance(kernel, bool) else kernel
    if (
        sizes is None
        or not isinstance(kernel, list)
        or len(kernel) != n
        or _ints(dict(enumerate(kernel)), *range(n)) is None
        or _ints({"groups": groups}, "groups") is None
        or sizes[0] % groups
    ):
        return None  # Conv2d's own checks name the problem when it is built
    state = {"weight": ((sizes[1], sizes[0] // groups, *kernel), "f")}
    return {**state, "bias": ((sizes[1],), "f")} if config.get("bias", True) else state


def _normalization(config: dict[str, Any]) -> dict[str, tuple[tuple[int, ...], str]] | None:
    size = (0,) if config.get("num_features") is None else _ints(config, "num_features")
    return None if size is None else {"mean": (size, "f"), "scale": (size, "f")}


def declared_state(
    spec: dict[str, Any],
) -> tuple[dict[str, tuple[tuple[int, ...], str]], list[str]]:
    """What a checked description (see :func:`check_spec`) will build, from the configs alone,
    so a file's arrays can be checked before anything is allocated: ``(state, unknown)``.

    ``state`` maps each ``state_dict`` key of the built-in layers to its shape and dtype kind
    (``"f"`` floating, ``"i"`` integer); ``unknown`` lists the key prefixes (``"2."``; ``""`` for
    the root) of modules whose state is known only once built (custom modules)."""
    from . import activations, conv, features, layers, normalization, pooling

    stateless = (
        features.PointFeatures, pooling.MaxPool2d, pooling.AvgPool2d, pooling.AdaptiveAvgPool2d,
        layers.Dropout2d, layers.Unflatten,
        layers.Dropout, layers.Flatten, layers.Identity, activations.Sigmoid, activations.Tanh,
        activations.ReLU, activations.LeakyReLU, activations.ELU, activations.GELU,
        activations.Softplus, activations.Softmax, activations.LogSoftmax,
    )  # fmt: skip
    rules = {layers.Linear: _linear, layers.Embedding: _embedding,
             normalization.BatchNorm1d: _batch_norm, normalization.BatchNorm2d: _batch_norm,
             conv.Conv2d: lambda c: _conv(c, 2), conv.Conv1d: lambda c: _conv(c, 1)}  # fmt: skip
    if hasattr(normalization, "Normalization"):
        rules[normalization.Normalization] = _normalization
    state: dict[str, tuple[tuple[int, ...], str]] = {}
    unknown: list[str] = []
    stack = [(spec, "")]
    while stack:
        node, prefix = stack.pop()
        key = _CHILDREN.get(node["type"])
        if key is not None:
            children = list(enumerate(node.get(key, [])))
            stack.extend((c, f"{prefix}{i}.") for i, c in reversed(children))
            continue
        cls = _REGISTRY[node["type"]]
        if cls in stateless:
            continue
        rule = rules.get(cls)
        found = None if rule is None else rule(node.get("config", {}))
        if found is None:
            unknown.append(prefix)
        else:
            state.update({prefix + name: value for name, value in found.items()})
    return state, unknown


def build_module(spec: dict[str, Any], where: str = "spec", max_bytes: int | None = None) -> Module:
    """A new module (fresh weights) from :func:`module_spec`'s data, checked first with
    :func:`check_spec`. Errors are ValueErrors naming the entry (``where`` names the root).

    ``max_bytes``: stop, with a ValueError, as soon as the modules built so far hold more bytes
    of parameters and buffers (a file's arrays bound what its architecture may build)."""
    check_spec(spec, where)
    return _build(spec, where, [0, max_bytes])


def _build(spec: dict[str, Any], where: str, budget: list[Any]) -> Module:
    kind = spec["type"]
    if kind == "Sequential":
        layers = spec.get("layers", [])
        return Sequential(
            *[_build(s, f"{where}.layers[{i}]", budget) for i, s in enumerate(layers)]
        )
    if kind == "ModuleList":
        modules = spec.get("modules", [])
        return ModuleList(
            [_build(s, f"{where}.modules[{i}]", budget) for i, s in enumerate(modules)]
        )
    config = spec.get("config", {})
    _check_config(_REGISTRY[kind], config, kind, where)
    try:
        module = _REGISTRY[kind](**config)
    except Exception as e:
        raise ValueError(
            f"Cannot rebuild {kind} ({where}) from its saved config {config!r:.200}: {e}. Its "
            "get_config() must return exactly the constructor's arguments."
        ) from e
    if budget[1] is not None:
        budget[0] += sum(p.data.nbytes for p in module.parameters())
        budget[0] += sum(b.nbytes for _, b in module.named_buffers() if b is not None)
        if budget[0] > budget[1]:
            raise ValueError(
                f"{where!r} ({kind} with config {config!r:.100}) builds {budget[0]} bytes of "
                f"weights and buffers so far, more than the {budget[1]} bytes allowed. Its config "
                "does not match the weights."
            )
    return module
