"""Interoperability with other frameworks: ONNX export and a PyTorch bridge.

Neither ``onnx`` nor ``torch`` is imported until a function here is called, so importing
sinapsi never needs them (``pip install 'sinapsi[onnx]'`` for the exporter; ``pip install torch``
for the bridge).
"""

from .onnx import export_onnx
from .torch_bridge import from_torch, to_torch

__all__ = ["export_onnx", "to_torch", "from_torch"]
