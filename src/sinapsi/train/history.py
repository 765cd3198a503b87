"""History: what happened during :func:`~sinapsi.fit`, epoch by epoch."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["History"]


class History:
    """What happened during :func:`fit`, epoch by epoch (like Keras' History).

    ``history``: a dict of lists: ``loss``, ``val_loss``, each metric and ``val_`` metric,
    ``lr`` (the learning rate at the end of the epoch, before an epoch-wise schedule steps),
    ``time`` (seconds per epoch). ``grad_norms``: per layer, the mean gradient norm of
    each epoch. ``epoch``: the epoch numbers (1-based).
    """

    def __init__(self) -> None:
        self.history: dict[str, list[float]] = {}
        self.grad_norms: dict[str, list[float]] = {}
        self.epoch: list[int] = []

    def append(self, epoch: int, logs: dict[str, Any]) -> None:
        self.epoch.append(epoch + 1)
        for key, value in logs.items():
            if key == "grad_norms":
                for layer, norm in value.items():
                    self.grad_norms.setdefault(layer, []).append(norm)
            else:
                self.history.setdefault(key, []).append(value)

    def best_epoch(self, monitor: str = "val_loss", mode: str = "auto") -> int:
        """The 1-based epoch where ``monitor`` was best (min for losses, max for accuracy)."""
        if monitor not in self.history:
            raise KeyError(
                f"History has no {monitor!r}; available: {', '.join(sorted(self.history))}."
            )
        values = np.asarray(self.history[monitor])
        maximize = mode == "max" or (mode == "auto" and any(k in monitor for k in ("acc", "r2")))
        return self.epoch[int(np.argmax(values) if maximize else np.argmin(values))]

    def to_dict(self) -> dict[str, Any]:
        return {"epoch": self.epoch, "history": self.history, "grad_norms": self.grad_norms}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> History:
        """The History that :meth:`to_dict` (or a saved ``history.json``) describes."""
        history = cls()
        history.epoch = list(data.get("epoch", []))
        history.history = {k: list(v) for k, v in data.get("history", {}).items()}
        history.grad_norms = {k: list(v) for k, v in data.get("grad_norms", {}).items()}
        return history

    def save(self, path: str | Path) -> None:
        """Write the history as JSON (atomically)."""
        from ..io import atomic_write

        text = json.dumps(self.to_dict(), indent=1).encode("utf-8")
        atomic_write(path, lambda f: f.write(text))

    def __len__(self) -> int:
        return len(self.epoch)

    def __repr__(self) -> str:
        last = {k: round(v[-1], 4) for k, v in self.history.items() if v}
        return f"History({len(self.epoch)} epochs, last: {last})"
