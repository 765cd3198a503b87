"""A Keras-style table of a model: each layer, its output shape, its parameters."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .. import backend
from ..autograd import no_grad
from ..tensor import Tensor
from .module import Module, module_dtype, training_mode

__all__ = ["summary"]


def _shape_of(output: Any) -> str:
    if isinstance(output, Tensor):
        return str((None,) + output.shape[1:]).replace("None", "None")
    if isinstance(output, (tuple, list)):
        return ", ".join(_shape_of(o) for o in output)
    return "?"


def summary(
    model: Module, input_shape: tuple[int, ...], print_fn: Callable[[str], Any] | None = print
) -> str:
    """Run a batch of 2 zero samples of ``input_shape`` through ``model`` (eval mode, no graph)
    and tabulate every layer that has no sublayers: name, type, output shape, parameter count
    and whether those parameters are trainable. Returns the table (and prints it unless
    ``print_fn`` is None)."""
    rows: list[tuple[str, str, str, int, str]] = []
    removers = []
    for name, module in model.named_modules():
        if module is model and module._modules:
            continue
        if module._modules:  # containers: their leaves are listed instead
            continue

        def record(m: Module, inputs: tuple, output: Any, name: str = name) -> None:
            params = list(m._parameters.values())
            count = sum(p.size for p in params if p is not None)
            trainable = [p.requires_grad for p in params if p is not None]
            flag = (
                "-"
                if not trainable
                else ("yes" if all(trainable) else "partly" if any(trainable) else "no")
            )
            rows.append(
                (name or type(m).__name__, type(m).__name__, _shape_of(output), count, flag)
            )

        removers.append(module.register_forward_hook(record))
    dtype = module_dtype(model)
    x = Tensor(backend.array_module().zeros((2,) + tuple(input_shape), dtype=dtype), dtype=dtype)
    try:
        with no_grad(), training_mode(False):  # eval mode for this thread only
            model(x)
    except Exception as e:
        raise ValueError(
            f"summary: running a batch of shape {(2,) + tuple(input_shape)} through "
            f"{type(model).__name__} failed: {str(e).rstrip('.')}. input_shape excludes the batch "
            "axis, e.g. (784,) for 784 features or (1, 28, 28) for 28x28 images with one "
            "channel (channels first)."
        ) from e
    finally:
        for remove in removers:
            remove()

    total = model.num_parameters()
    trainable = model.num_parameters(trainable_only=True)
    header = ("Layer", "Type", "Output shape", "Params", "Trainable")
    table = [header] + [(r[0], r[1], r[2], f"{r[3]:,}", r[4]) for r in rows]
    widths = [max(len(str(row[i])) for row in table) for i in range(len(header))]
    line = "  ".join("-" * w for w in widths)

    def fmt(row: tuple) -> str:
        cells = [
            str(c).ljust(w) if i < 3 else str(c).rjust(w)
            for i, (c, w) in enumerate(zip(row, widths))
        ]
        return "  ".join(cells).rstrip()

    out = [f'Model: "{type(model).__name__}"', line, fmt(header), line]
    out += [fmt(r) for r in table[1:]]
    out += [
        line,
        f"Total params: {total:,}",
        f"Trainable params: {trainable:,}",
        f"Non-trainable params: {total - trainable:,}",
    ]
    text = "\n".join(out)
    if print_fn is not None:
        print_fn(text)
    return text
