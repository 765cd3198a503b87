"""A run's ``report.html`` (what ``sinapsi train`` writes beside the model): the test set in
the user's units, the gradient flow under the saved model's layer names, one self-contained
page (:func:`sinapsi.viz.write_report`). Moved out of :mod:`sinapsi.experiment`, which
imports it back."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ._run_data import _Data
from .config import to_jsonable


def _next_index(name: str, shift: int = 1) -> str:
    """A layer name of the trained network ('0 Linear') as it is in the saved one, which has
    ``shift`` layers in front (the Normalization: '1 Linear')."""
    index, _, rest = name.partition(" ")
    return f"{int(index) + shift} {rest}" if index.isdigit() else name


def _write_report(
    path: Path,
    cfg: dict[str, Any],
    model: Any,
    history: Any,
    data: _Data,
    test: dict,
    shift: int = 0,
) -> Path:
    """report.html: summary, curves, diagram, gradient flow, activations, test metrics (and a
    confusion matrix and first-layer weight images where they apply), one self-contained file.

    ``model`` is the saved one: with standardized features its first layer is the
    Normalization (and before it the feature layer of ``[data] features``), so the pictures
    take the test set in the user's own units (a 2-D set's decision boundary is drawn over the
    raw plane that ``sinapsi predict`` takes), and the ``shift`` layers trained after them are
    renamed in the gradient flow to match the summary."""
    from .experiment import _jsonable, _targets
    from .train import History, predict_classes
    from .viz import write_report

    x_test, y_test = data.test
    if data.raw_test_x is not None:  # the feature layer in front takes the raw points
        x_test = data.raw_test_x
    elif data.standardizer is not None:
        x_test = data.standardizer.inverse_transform(x_test).astype(x_test.dtype)
    if shift:
        shifted = History.from_dict(history.to_dict())
        shifted.grad_norms = {
            _next_index(name, shift): norms for name, norms in history.grad_norms.items()
        }
        history = shifted
    classification = data.task == "classification"
    return write_report(
        path,
        title=f"sinapsi run '{cfg['name']}'",
        model=model,
        history=history,
        input_shape=tuple(x_test.shape[1:]),
        test_metrics=test,
        x=x_test,
        y_true=y_test if classification else None,
        y_pred=predict_classes(model, x_test) if classification else None,
        class_names=[str(c) for c in data.classes] if data.classes is not None else None,
        # an MLP's first-layer weights as images (a convnet's first Linear sees feature maps)
        image_shape=data.image_shape[1:]
        if data.image_shape and data.image_shape[0] == 1 and not cfg["model"].get("conv")
        else None,
        config=to_jsonable(_jsonable(cfg)),
        targets=_targets(test, cfg["target"]),
    )
