"""What a playground run exports: the ``sinapsi train`` TOML that trains it again, the model
file for :func:`sinapsi.load`, and the HTML report. Called on the run's training thread (between
epochs), so the weights do not move while they are read."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from .protocol import ProtocolError, config_to_toml, settings_to_config

__all__ = ["toml", "file"]


def toml(run: Any, upload: str | None) -> tuple[str, str, bytes]:
    """The run as a ``sinapsi train`` TOML file at its current epoch, with comment lines
    giving the epoch, the losses and what would keep the file from repeating the run.
    ``upload``: the uploaded CSV's name, when the run trains on it."""
    if run.epoch < 1:
        raise ProtocolError("export: train at least one epoch first (press step or play).")
    cfg = settings_to_config(run.settings, upload)
    cfg["training"]["epochs"] = run.epoch
    train, test = run.losses[run.epoch]
    lines = [
        f"sinapsi playground run, exported at epoch {run.epoch}: "
        "'sinapsi train THIS_FILE.toml' trains it again",
        f"at epoch {run.epoch}: test loss {test!r}, train loss {train!r}",
    ]
    if upload:
        lines.append(f"the data: the uploaded file, saved as {upload} beside this file")
    if run.lr_changed_at is not None:
        lines.append(
            f"WARNING: the learning rate was changed during training (at epoch "
            f"{run.lr_changed_at}); lr here is the last value, so this file does not "
            "reproduce the run exactly"
        )
    if run.weights_edited_at is not None:
        lines.append(
            f"WARNING: weights were edited by hand (at epoch {run.weights_edited_at}); "
            "this file cannot repeat that, so it does not reproduce the run exactly"
        )
    text = config_to_toml(cfg, lines)
    return f"playground-epoch{run.epoch}.toml", "application/toml", text.encode("utf-8")


def file(run: Any, what: str, folder: Path) -> tuple[str, str, bytes]:
    """The model (.safetensors) or the HTML report of the run now, written in the session's
    ``folder`` and read back."""
    from .. import evaluate
    from ..experiment import _write_report
    from ..io import save

    if what == "report" and run.epoch < 1:
        raise ProtocolError("export: train at least one epoch first (press step or play).")
    prep = run.prep
    saved = prep.saved_model()
    classification = prep.data.task == "classification"
    metrics = ["accuracy"] if classification else ["mae", "r2"]
    with np.errstate(all="ignore"):
        test = evaluate(prep.model, *prep.data.test, loss=prep.fit_kwargs["loss"],
                        metrics=metrics)  # fmt: skip
    if what == "model":
        metadata = prep.metadata(saved, test, kind="sinapsi.playground.mlp")
        metadata["epoch"] = run.epoch
        path = save(saved, folder / "model.safetensors", metadata=metadata)
        filename, mime = f"playground-epoch{run.epoch}.safetensors", "application/octet-stream"
    else:
        cfg = {**prep.cfg, "training": {**prep.cfg["training"], "epochs": run.epoch}}
        with np.errstate(all="ignore"):
            path = _write_report(
                folder / "report.html", cfg, saved, run.trainer.history, prep.data,
                test, prep.n_front,
            )  # fmt: skip
        filename, mime = f"playground-epoch{run.epoch}-report.html", "text/html"
    try:
        return filename, mime, Path(path).read_bytes()
    finally:
        Path(path).unlink(missing_ok=True)
