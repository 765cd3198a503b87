"""``sinapsi predict MODEL DATA``: apply a saved model to a CSV or ``.npy`` file.

The model is a ``model.safetensors`` from ``sinapsi train``/``demo`` (or any :func:`sinapsi.save`
file). DATA's columns are matched to the model's features: by the header names the run was
trained on when DATA has a header (in any order, other columns ignored; a header without them
is an error, as in scikit-learn), else every column except ``--target`` (or the training
target's header name). The predictions are
printed as CSV, or written to ``--out`` atomically: class names for a classifier (``--proba``
adds a probability column per class), values for a regression.
"""

from __future__ import annotations

import argparse
import csv
import io
import re
import sys
from pathlib import Path
from typing import Any

import numpy as np

from .config import ConfigError


def add_predict(sub: Any) -> None:
    """Declare ``sinapsi predict`` and its options."""
    p = sub.add_parser(
        "predict",
        help="apply a saved model to a CSV or .npy file",
        description="Predict with MODEL (a model.safetensors from 'sinapsi train' or 'sinapsi "
        "demo') for each row of DATA: a CSV file, with or without a header, of raw feature values "
        "(the model standardizes them itself), or a .npy array of shape (n_samples, "
        "n_features). A column holding the training target is left out (found by its header "
        "name, or given with --target). Prints CSV: the predicted class (its name) or value per "
        "row; --out writes it to a file instead.",
    )
    p.add_argument(
        "model", metavar="MODEL", help="the saved model, e.g. runs/demo/model.safetensors"
    )
    p.add_argument("data", metavar="DATA", help="the samples: a .csv (or any text) or .npy file")
    p.add_argument("--out", metavar="FILE", help="write the predictions to FILE (CSV)")
    p.add_argument(
        "--target",
        metavar="COLUMN",
        help="a column of DATA to leave out, by header name or 0-based index (default: the "
        "training target's name, when DATA's header has it)",
    )
    p.add_argument("--proba", action="store_true", help="classifiers: add each class's probability")
    p.add_argument(
        "--task",
        choices=("classification", "regression"),
        help="what the model's outputs are, for a model saved with sinapsi.save (runs of "
        "sinapsi train record it): classification prints the class index (or --proba), "
        "regression the values",
    )
    p.add_argument(
        "--delimiter",
        default=",",
        metavar="CHAR",
        help="CSV column separator, e.g. ';' or '\\t' (default: ,)",
    )
    p.set_defaults(handler=predict_command)


# ------------------------------------------------------------------------------ --out FILE
def check_out_file(out: str, example: str) -> None:
    """``--out FILE`` can be written (its folder is one, or can be made, and is writable):
    checked before anything is computed, as a one-line ConfigError."""
    import os

    from ._atomic import writable_target

    if not out:
        raise ConfigError(f"--out is empty; give a file name, e.g. --out {example}")
    if Path(out).is_dir():
        raise ConfigError(f"--out {out!r} is a folder; give a file name, e.g. {example}")
    try:
        writable_target(out)
    except (OSError, ValueError) as e:
        reason = str(e).removeprefix(f"Cannot save to {out!r}: ")
        reason = reason.replace("model.safetensors'", example + "'")
        raise ConfigError(f"--out {out!r}: {reason}") from None
    folder = Path(out).absolute().parent
    while not folder.exists():
        folder = folder.parent
    if not os.access(folder, os.W_OK | os.X_OK):
        raise ConfigError(
            f"--out {out!r}: no permission to write in the folder {str(folder)!r}. Choose a "
            "folder you can write to."
        )


# ------------------------------------------------------------------------------ the model
def _load_model(path: str) -> tuple[Any, dict[str, Any]]:
    from .io import load_checkpoint

    source = Path(path)
    if not source.is_file():
        what = "is a folder, not a file" if source.is_dir() else "does not exist"
        raise ConfigError(
            f"MODEL {path!r} {what}. Give a model.safetensors saved by sinapsi train, e.g. "
            "runs/demo/model.safetensors."
        )
    try:
        checkpoint = load_checkpoint(source)
    except (OSError, ValueError) as e:
        raise ConfigError(f"MODEL {path!r}: {e}") from None
    return checkpoint.model, dict(checkpoint.metadata or {})


def _input_size(model: Any, meta: dict[str, Any]) -> int | None:
    """The number of features the model takes: from its metadata, else its first layer."""
    architecture = meta.get("architecture")
    if isinstance(architecture, dict) and isinstance(architecture.get("in_features"), int):
        return architecture["in_features"]
    for _, module in model.named_modules():
        for attribute in ("num_features", "in_features"):
            size = getattr(module, attribute, None)
            if isinstance(size, int):
                return size
    return None


def _old_standardizer(model: Any, meta: dict[str, Any]) -> tuple[Any, Any] | None:
    """(mean, scale) from the metadata of a model saved before its scaling moved into a
    Normalization layer; None when the model scales its input itself."""
    from .nn import Normalization

    saved = meta.get("standardizer")
    if not isinstance(saved, dict) or any(isinstance(m, Normalization) for m in model.modules()):
        return None
    try:
        mean = np.asarray(saved["mean"], dtype=np.float64).reshape(-1)
        scale = np.asarray(saved["scale"], dtype=np.float64).reshape(-1)
    except (KeyError, TypeError, ValueError):
        mean = scale = np.zeros(0)
    size = _input_size(model, meta)
    valid = np.isfinite(mean).all() and np.isfinite(scale).all() and (scale > 0).all()
    if not valid or len(mean) != len(scale) or len(mean) == 0 or size not in (None, len(mean)):
        raise ConfigError(
            "MODEL's metadata 'standardizer' is not a mean and a positive scale per feature: "
            "the file was edited or damaged. Retrain it with sinapsi train."
        )
    return mean, scale


# ------------------------------------------------------------------------------ the data
def _column_index(text: str, names: list[str] | None, n_columns: int, where: str) -> int:
    from .data.datasets.csv import _target_index

    target: int | str = text
    try:
        target = int(text)
    except ValueError:
        pass
    try:
        return _target_index(target, names, n_columns)
    except ValueError as e:
        reason = str(e).removeprefix("load_csv: ")
        raise ConfigError(f"--target {text!r}: {where}: {reason}") from None


def _check_count(n: int, expected: int | None, how: str, args: argparse.Namespace) -> None:
    """DATA gives as many features as the model takes (checked before parsing the cells)."""
    if expected is None or n == expected:
        return
    hint = ""
    if n == expected + 1 and args.target is None:
        hint = " Pass --target COLUMN to leave out the target column."
    raise ConfigError(
        f"DATA {args.data!r} gives {n} features per row ({how}), but the model takes "
        f"{expected}.{hint}"
    )


def _named_features(
    names: list[str], trained_on: list[str], dropped: int | None, where: str, args: Any
) -> list[int]:
    """The columns of a headed DATA file that hold the training features, matched by name (as
    scikit-learn matches feature names): a header without them is an error, not a guess."""
    from .data.datasets.csv import _check_unique

    missing = [n for n in trained_on if n not in names]
    if missing:
        raise ConfigError(
            f"{where}: its header names the columns {', '.join(map(repr, names))}, but the "
            f"model was trained on {', '.join(map(repr, trained_on))} (missing: "
            f"{', '.join(map(repr, missing))}). Rename those columns, or remove the header row "
            "to use DATA's columns by position."
        )
    try:
        _check_unique(where, names, among=trained_on)
    except ValueError as e:
        raise ConfigError(str(e)) from None
    features = [names.index(n) for n in trained_on]
    if dropped is not None and dropped in features:
        raise ConfigError(
            f"--target {args.target!r}: {where}: the column {names[dropped]!r} is one of the "
            "features the model was trained on, not the target. Leave out --target, or name "
            "the target column."
        )
    return features


def _read_csv(args: argparse.Namespace, meta: dict[str, Any], expected: int | None) -> np.ndarray:
    """The feature matrix of a CSV DATA file."""
    from .data.datasets.csv import _check_delimiter, _detect_header, _features, _read_rows

    path = Path(args.data)
    where = f"DATA {args.data!r}"
    if args.delimiter == "\\t":  # as typed in a shell
        args.delimiter = "\t"
    if len(args.delimiter) != 1:
        raise ConfigError(f"--delimiter must be one character, e.g. ';'. Got {args.delimiter!r}.")
    try:
        rows, lines = _read_rows(path, args.delimiter)
    except ValueError as e:  # csv's errors, e.g. a field too large
        if not isinstance(e, UnicodeDecodeError):
            reason = str(e).removeprefix(f"load_csv: {str(path)!r}: ")
            raise ConfigError(f"{where}: {reason}") from None
        raise ConfigError(
            f"{where} is not a UTF-8 text file: give a CSV file or a .npy array."
        ) from None
    if not rows:
        raise ConfigError(f"{where} is empty: it needs one sample per row.")
    if expected != 1:  # a single column is then a delimiter that does not split the rows
        try:
            _check_delimiter(where, rows, lines, args.delimiter)
        except ValueError as e:
            raise ConfigError(re.sub(r"Pass delimiter=", "Pass --delimiter ", str(e))) from None
    header = _detect_header(rows)
    names = [cell.strip() for cell in rows[0]] if header else None
    if header:
        rows, lines = rows[1:], lines[1:]
        if not rows:
            raise ConfigError(f"{where} has a header row but no samples.")
    n_columns = len(names) if names is not None else len(rows[0])
    for row, line in zip(rows, lines):
        if len(row) != n_columns:
            raise ConfigError(
                f"{where}: row {line} has {len(row)} columns, but "
                f"{'the header' if names else f'row {lines[0]}'} has {n_columns}. Every row "
                "needs the same columns."
            )
    features, how = list(range(n_columns)), "all its columns"
    trained_on = meta.get("features")
    dropped = None if args.target is None else _column_index(args.target, names, n_columns, where)
    if names and isinstance(trained_on, list) and trained_on:
        features = _named_features(names, [str(n) for n in trained_on], dropped, where, args)
        how = "the columns named as in training"
    elif dropped is not None:
        features.remove(dropped)
        how = f"its columns except --target {args.target}"
    elif names and meta.get("target") in names:
        features.remove(names.index(meta["target"]))
        how = f"its columns except the target {meta['target']!r}"

    _check_count(len(features), expected, how, args)

    def label(i: int) -> str:
        return f"column {names[i]!r} (index {i})" if names is not None else f"column {i}"

    try:
        return _features(where, rows, lines, features, label)
    except ValueError as e:  # predict has no header option: say how a header is recognised
        raise ConfigError(
            str(e).replace(
                "If this row is a header, pass header=True.",
                "A first row is read as a header only when none of its cells is a number.",
            )
        ) from None


def _read_npy(args: argparse.Namespace, expected: int | None) -> np.ndarray:
    where = f"DATA {args.data!r}"
    try:
        X = np.load(args.data, allow_pickle=False)
    except (OSError, ValueError) as e:
        raise ConfigError(f"{where}: not a readable .npy array ({e}).") from None
    if isinstance(X, np.ndarray) and X.ndim > 2 and X.dtype.kind in "biuf" and len(X):
        X = X.reshape(len(X), -1)  # images (n, 8, 8): flattened, as sinapsi train does
    if not isinstance(X, np.ndarray) or X.dtype.kind not in "biuf" or X.ndim not in (1, 2):
        shape = getattr(X, "shape", None)
        raise ConfigError(
            f"{where} must hold numbers of shape (n_samples, n_features); it holds "
            f"{getattr(X, 'dtype', type(X).__name__)} of shape {shape}."
        )
    X = X.reshape(1, -1) if X.ndim == 1 else X
    if len(X) == 0:
        raise ConfigError(f"{where} holds no samples (shape {X.shape}): it needs one row each.")
    how = "all its columns"
    if args.target is not None:
        column = _column_index(args.target, None, X.shape[1], where)
        X = np.delete(X, column, axis=1)
        how = f"its columns except --target {args.target}"
    _check_count(X.shape[1], expected, how, args)
    if X.dtype.kind == "f" and not np.isfinite(X).all():
        r, c = np.argwhere(~np.isfinite(X))[0]
        raise ConfigError(
            f"{where}: value {X[r, c]} at row {r}, column {c} is not a finite number. Impute or "
            "drop rows with nan/inf."
        )
    return X.astype(np.float32)


def _read_data(args: argparse.Namespace, meta: dict[str, Any], expected: int | None) -> np.ndarray:
    """DATA's feature matrix, its columns checked against the ``expected`` count."""
    path = Path(args.data)
    if not path.is_file():
        what = "is a folder, not a file" if path.is_dir() else "does not exist"
        raise ConfigError(f"DATA {args.data!r} {what}. Give a CSV file or a .npy array.")
    if path.suffix.lower() == ".npy":
        return _read_npy(args, expected)
    return _read_csv(args, meta, expected)


# ------------------------------------------------------------------------------ the command
def _with_task(meta: dict[str, Any], task: str | None, model: str) -> dict[str, Any]:
    """``meta`` with ``--task`` filled in; a task the run recorded wins, and a different
    ``--task`` is an error. Without either, the raw outputs are printed, with a note."""
    recorded = meta.get("task")
    if task is not None and recorded is not None and task != recorded:
        raise ConfigError(
            f"--task {task} contradicts MODEL {model!r}, which its run saved as a {recorded} "
            "model. Leave --task out."
        )
    if task is None and recorded is None:
        print(
            f"sinapsi: note: MODEL {model!r} records no task (saved with sinapsi.save, not by "
            "sinapsi train): printing its raw outputs. Pass --task classification for classes "
            "(and --proba), or --task regression.",
            file=sys.stderr,
        )
    return {**meta, "task": recorded or task}


def _finite(values: np.ndarray, data: str) -> np.ndarray:
    if not np.isfinite(values).all():
        row = int(np.argwhere(~np.isfinite(values))[0][0])
        raise ConfigError(
            f"the model's output for row {row} of DATA {data!r} is not finite (nan/inf): values "
            "far outside the training range? Check that row."
        )
    return values


def _table(
    model: Any, X: np.ndarray, meta: dict[str, Any], proba: bool, data: str
) -> list[list[str]]:
    """The rows of the output CSV, header first."""
    from .train import predict, predict_proba

    if meta.get("task") == "classification":
        p = _finite(predict_proba(model, X), data)
        classes = meta.get("classes")
        if not isinstance(classes, list) or len(classes) != p.shape[1]:
            classes = list(range(p.shape[1]))  # not recorded (or not matching): the indices
        header = ["prediction"] + ([str(c) for c in classes] if proba else [])
        rows = [[str(classes[int(i)])] for i in p.argmax(axis=1)]
        if proba:
            rows = [row + [f"{v:.6g}" for v in values] for row, values in zip(rows, p)]
        return [header, *rows]
    if proba:
        raise ConfigError(
            "--proba needs a classifier, but this model's task is "
            f"{meta.get('task', 'not recorded (a model not saved by sinapsi train)')}."
        )
    out = _finite(np.asarray(predict(model, X)).reshape(len(X), -1), data)
    header = (
        ["prediction"] if out.shape[1] == 1 else [f"prediction_{i}" for i in range(out.shape[1])]
    )
    return [header, *([f"{v:.6g}" for v in row] for row in out)]


def predict_command(args: argparse.Namespace) -> int:
    """``sinapsi predict``: read, check, predict, print or write."""
    from .io import atomic_write

    if args.out is not None:
        check_out_file(args.out, "predictions.csv")
    if Path(args.model).suffix.lower() in (".csv", ".tsv", ".txt", ".npy") and (
        Path(args.data).suffix.lower() in (".safetensors", ".npz")  # .npz: older model files
    ):
        raise ConfigError(
            f"MODEL {args.model!r} and DATA {args.data!r} look swapped: the model comes first, "
            f"sinapsi predict MODEL DATA, e.g. sinapsi predict {args.data} {args.model}"
        )
    model, meta = _load_model(args.model)
    meta = _with_task(meta, args.task, args.model)
    X = _read_data(args, meta, _input_size(model, meta))
    scaling = _old_standardizer(model, meta)
    if scaling is not None:  # a model saved before the scaling moved into the model
        X = ((X - scaling[0]) / scaling[1]).astype(np.float32)
    with np.errstate(all="ignore"):
        table = _table(model, X, meta, args.proba, args.data)
    text = io.StringIO()
    csv.writer(text, lineterminator="\n").writerows(table)
    if args.out is None:
        print(text.getvalue(), end="")
        return 0
    try:
        atomic_write(args.out, lambda f: f.write(text.getvalue().encode("utf-8")))
    except (OSError, ValueError) as e:
        reason = str(e).removeprefix(f"Cannot save to {args.out!r}: ")
        raise ConfigError(f"cannot write --out {args.out!r}: {reason}") from None
    print(f"saved     {args.out}  ({len(table) - 1} predictions)")
    return 0
