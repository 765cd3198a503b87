"""Learning-rate schedules: change each parameter group's ``group["lr"]`` as training goes on.

A scheduler wraps an optimizer. Call ``scheduler.step()`` after ``optimizer.step()``: once per
epoch, or once per batch for per-step schedules such as warmup; the caller decides what one
step means. ``ReduceLROnPlateau.step(metric)`` takes the monitored value instead.

The values are PyTorch's, float for float (``torch.optim.lr_scheduler``): the chainable
schedulers update the current ``group["lr"]`` recursively, exactly as PyTorch does, so a change
made to the learning rate from outside carries on. Differences from PyTorch: ``step()`` takes no
``epoch`` argument (deprecated there), nothing wraps ``optimizer.step`` to warn about call order,
``state_dict()`` holds only plain JSON-able values, and invalid arguments raise at construction.

Example (halve the learning rate every 2 epochs):

>>> import sinapsi as sn
>>> from sinapsi.optim import SGD
>>> from sinapsi.optim.lr_scheduler import StepLR
>>> optimizer = SGD([sn.Tensor([0.0], requires_grad=True)], lr=0.1)
>>> scheduler = StepLR(optimizer, step_size=2, gamma=0.5)
>>> for epoch in range(4):
...     optimizer.step()  # ... after the epoch's batches
...     scheduler.step()
...     print(epoch, scheduler.get_last_lr())
0 [0.1]
1 [0.05]
2 [0.05]
3 [0.025]
"""

from ._base import LRScheduler
from .lambda_lr import LambdaLR, MultiplicativeLR
from .plateau import ReduceLROnPlateau
from .schedules import (
    CosineAnnealingLR,
    ExponentialLR,
    LinearLR,
    LinearWarmup,
    MultiStepLR,
    StepLR,
)
from .sequential import SequentialLR

__all__ = [
    "LRScheduler", "StepLR", "MultiStepLR", "ExponentialLR", "CosineAnnealingLR", "LinearLR",
    "LinearWarmup", "ReduceLROnPlateau", "SequentialLR", "LambdaLR", "MultiplicativeLR",
]  # fmt: skip
