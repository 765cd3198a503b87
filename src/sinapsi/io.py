"""Saving safely: model files a torch user can read, written atomically, loaded without pickle.

:func:`save` / :func:`load` store a whole model in one safetensors file: its weights and
buffers as tensors named by their state_dict keys (torch's names), its architecture as JSON in
the header (see :func:`sinapsi.nn.module_spec`), and optionally the optimizer's state and the
training state (epoch, random generators, history) that ``fit(resume_from=...)`` needs to
continue exactly where a run stopped (see :mod:`sinapsi._model_file`). The model files of older
sinapsi versions (zips of ``.npy`` arrays) still load. :func:`save_state_dict` /
:func:`load_state_dict` write and read bare weights the PyTorch way (:mod:`sinapsi.state_dict`);
:func:`save_arrays` / :func:`load_arrays` any named arrays with a JSON record.

Nothing in a file can run code when loaded (no pickle). Writes go to a temporary file in the
same folder, are flushed to disk, then renamed over the target: a crash mid-write leaves the
old file intact, never a half-written one. Loading trusts nothing in the file: every size is
checked before memory is allocated for it, the architecture before anything is built, and
every field before it is used; a broken or hostile file raises :class:`ModelFileError` (a
ValueError) naming what is wrong.

>>> import sinapsi as sn, tempfile, os
>>> from sinapsi import nn
>>> model = nn.Sequential(nn.Linear(3, 4, rng=0), nn.ReLU(), nn.Linear(4, 2, rng=1))
>>> path = os.path.join(tempfile.mkdtemp(), "model.safetensors")
>>> _ = sn.save(model, path)
>>> clone = sn.load(path)
>>> bool((clone[0].weight.data == model[0].weight.data).all())
True
>>> sorted(sn.load_state_dict(path))  # the weights alone, as torch names them
['0.bias', '0.weight', '2.bias', '2.weight']
"""

from __future__ import annotations

from ._model_file import Checkpoint, _set_module_rngs, load, load_arrays, load_checkpoint, save
from ._npz_format import save_arrays
from ._safe_file import (
    FORMAT,
    FORMAT_VERSION,
    MAX_METADATA_BYTES,
    STALE_TEMP_SECONDS,
    ModelFileError,
    atomic_write,
)
from .state_dict import load_state_dict, save_state_dict

__all__ = [
    "atomic_write", "save_arrays", "load_arrays", "save", "load", "load_checkpoint", "Checkpoint",
    "save_state_dict", "load_state_dict",
    "FORMAT", "FORMAT_VERSION", "ModelFileError", "STALE_TEMP_SECONDS", "MAX_METADATA_BYTES",
]  # fmt: skip

_ = _set_module_rngs  # the trainer restores the modules' generators through sinapsi.io
ModelFileError.__module__ = __name__  # shown (and documented) where users import it from
