"""Weights the PyTorch way: a module's state_dict in a safetensors file.

:func:`save_state_dict` writes the arrays of ``module.state_dict()`` under the very keys the
matching torch module uses (``0.weight``, ``0.bias``, ``1.running_mean``,
``1.num_batches_tracked``, ...) and in torch's layouts (Linear ``(out, in)``, Conv2d ``(out,
in/groups, kh, kw)``: sinapsi's own, so nothing is transposed). So::

    sinapsi.save_state_dict(model, "w.safetensors")
    torch_model.load_state_dict(safetensors.torch.load_file("w.safetensors"))

and back::

    safetensors.torch.save_file(torch_model.state_dict(), "w.safetensors")
    model.load_state_dict(sinapsi.load_state_dict("w.safetensors"))

Writes are atomic (a temp file beside the target, renamed over it). Reading trusts nothing: the
header is parsed with bounded sizes and checked against the file (every tensor's dtype, shape
and byte range, which must tile the data exactly) before any tensor is read, so a hostile or
truncated file costs no more memory than its own size and is refused with one
:class:`~sinapsi.io.ModelFileError` naming what is wrong. Non-finite weights are refused on both
sides, as :func:`sinapsi.save` / :func:`sinapsi.load` do.

The model files of :func:`sinapsi.save` are safetensors files of the same layout (plus the
architecture in the header's ``__metadata__``), so :func:`load_state_dict` reads their weights
too.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from . import backend
from ._safe_file import container, source_file
from ._safetensors import MAX_HEADER_BYTES, read_safetensors, write_safetensors

__all__ = ["save_state_dict", "load_state_dict", "MAX_HEADER_BYTES"]



# ----------------------------------------------------------------------------- the public API
def save_state_dict(
    module_or_state_dict: Any,
    path: str | os.PathLike[str],
    *,
    metadata: dict[str, str] | None = None,
) -> Path:
    """Write a module's ``state_dict()`` (or a dict name -> array) to ``path`` as safetensors.

    The keys are the module's state_dict keys, which are torch's for the matching torch module,
    so ``torch_module.load_state_dict(safetensors.torch.load_file(path))`` takes the file.
    ``metadata``: str -> str notes kept in the header's ``__metadata__``. Refuses (ValueError,
    TypeError) arrays that are not finite or of a dtype safetensors-numpy cannot hold, before
    anything is written.
    """
    from .nn.module import Module

    if isinstance(module_or_state_dict, Module):
        state = module_or_state_dict.state_dict()
    elif isinstance(module_or_state_dict, dict):
        state = module_or_state_dict
    else:
        raise TypeError(
            "save_state_dict: the first argument must be a sinapsi nn.Module or a dict of "
            f"arrays; got {type(module_or_state_dict).__name__}."
        )
    if metadata is not None and not (
        isinstance(metadata, dict)
        and all(isinstance(k, str) and isinstance(v, str) for k, v in metadata.items())
    ):
        raise TypeError(
            "save_state_dict: metadata must be a dict of str to str (safetensors' header holds "
            "only text); json.dumps other values first."
        )
    tensors = {}
    for key, value in state.items():
        if not isinstance(key, str):
            raise TypeError(f"save_state_dict: the key {key!r:.80} is not a str.")
        array = backend.to_numpy(getattr(value, "data", value))
        array = array if isinstance(array, np.ndarray) else np.asarray(array)
        tensors[key] = array
    return write_safetensors(path, tensors, metadata, "save_state_dict")  # checks each array


def load_state_dict(path: str | os.PathLike[str]) -> dict[str, np.ndarray]:
    """The arrays of a safetensors file, name -> array, for ``module.load_state_dict(...)``.

    Reads what :func:`save_state_dict` writes, what ``safetensors.torch.save_file`` writes
    (float32/float64/float16 and integer tensors; bfloat16 and float8 are refused: convert them
    with ``.float()`` in torch first), and the weights of a model file of :func:`sinapsi.save`
    (its optimizer arrays left out; the old zip model files too).
    """
    source, shown = source_file(path)
    if container(source, shown) == "zip":
        from ._model_file import load_arrays, model_prefix

        arrays, _ = load_arrays(source)
        prefix = model_prefix(arrays)
        return {k[len(prefix) :]: v for k, v in arrays.items() if _is_model_key(k, prefix)}
    tensors, meta = read_safetensors(source, shown)
    sinapsi_model = meta.get("kind") == '"sinapsi.model"'
    return {k: v for k, v in tensors.items() if not sinapsi_model or _is_model_key(k, "")}


def _is_model_key(key: str, prefix: str) -> bool:
    return key.startswith(prefix) and "/" not in key[len(prefix) :]
