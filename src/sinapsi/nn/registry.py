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

from collections.abc import Callable
from typing import Any, TypeVar

from .._errors import unknown_choice
from .module import Module, ModuleList, Sequential

__all__ = ["register_module", "module_spec", "build_module", "registered_modules"]

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


def build_module(spec: dict[str, Any]) -> Module:
    """A new module (fresh weights) from :func:`module_spec`'s data."""
    if not isinstance(spec, dict) or "type" not in spec:
        raise ValueError(f"Not a module description: {spec!r:.200}")
    kind = spec["type"]
    if kind == "Sequential":
        return Sequential(*[build_module(s) for s in spec.get("layers", [])])
    if kind == "ModuleList":
        return ModuleList([build_module(s) for s in spec.get("modules", [])])
    if kind not in _REGISTRY:
        raise unknown_choice("type", "a saved module", _REGISTRY, kind)
    config = spec.get("config", {})
    try:
        return _REGISTRY[kind](**config)
    except TypeError as e:
        raise ValueError(
            f"Cannot rebuild {kind} from its saved config {config}: {e}. Its get_config() "
            "must return exactly the constructor's arguments."
        ) from None
