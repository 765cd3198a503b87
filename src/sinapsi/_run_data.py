"""A configured run's data: :func:`_prepare_data` loads the ``[data]`` source, encodes the
labels, splits it (stratified for classes) and standardizes it on the training part, into a
:class:`_Data`.

Kept apart from :mod:`sinapsi.experiment`, which runs the rest (model, training, files), so
each stays one concept; ``experiment`` re-exports both names.
"""

from __future__ import annotations

import ast
import json
import re
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np

from .config import GENERATED_SOURCES, IMAGE_SHAPES, SKLEARN_SOURCES, ConfigError, shift_problem


@dataclass
class _Data:
    """The split (and standardized) data of a run, with what was learned about it."""

    train: tuple[np.ndarray, np.ndarray]
    val: tuple[np.ndarray, np.ndarray] | None
    test: tuple[np.ndarray, np.ndarray]
    task: str
    classes: list[Any] | None
    n_samples: int
    standardizer: Any = None
    features: list[str] | None = None
    target: str | int | None = None
    # the training and test points before ``[data] features`` (None without features)
    raw_train_x: np.ndarray | None = None
    raw_test_x: np.ndarray | None = None
    # (C, H, W) of one image when the data is images (the rows stay flat), else None
    image_shape: tuple[int, int, int] | None = None


def _load_source(data: dict[str, Any], rng: np.random.Generator) -> tuple[Any, ...]:
    """``(X, y, test, class_names)`` for a checked ``[data]`` table; ``test`` is an (X, y) pair
    for sets that come with their own test set (MNIST), else None."""
    from .data import datasets

    source = data["source"]
    if source in SKLEARN_SOURCES:
        return *datasets.load(source), None, None
    if source in GENERATED_SOURCES:
        generate = getattr(datasets, source)
        return *generate(data["n_samples"], noise=data["noise"], seed=rng), None, None
    if source == "csv":
        X, y, names = datasets.load_csv(
            data["path"],
            target=data["target"],
            delimiter=data["delimiter"],
            header=data["header"],
            return_classes=True,
        )
        return X, y, None, names
    if source == "mnist_5k":
        return *datasets.load_mnist_5k(), None, None
    X, y = datasets.load_mnist(data["path"], kind="train", channels=True)
    return X, y, datasets.load_mnist(data["path"], kind="t10k", channels=True), None


def _image_shape(data: dict[str, Any], X: np.ndarray, origin: str) -> tuple[int, ...] | None:
    """(C, H, W) of one image: ``[data] image_shape``, else the source's (X's own for mnist,
    loaded as (n, 1, H, W)); checked against the rows' length. None for data not images."""
    given = data.get("image_shape")
    shape = tuple(given) if given else IMAGE_SHAPES.get(data["source"])
    if shape is None and X.ndim == 4:
        shape = X.shape[1:]
    if shape is None:
        return None
    n_values = int(np.prod(X.shape[1:]))
    if given and int(np.prod(shape)) != n_values:
        raise ConfigError(
            f"{origin}: [data] image_shape = {list(shape)} holds {int(np.prod(shape))} values, "
            f"but each sample has {n_values} feature columns. Give the [C, H, W] of one image, "
            f"with C x H x W = {n_values}."
        )
    problem = shift_problem(data.get("random_shift"), shape)
    if problem:
        raise ConfigError(f"{origin}: {problem}")
    return tuple(int(n) for n in shape)


_PYTHON_ADVICE = re.compile(r"\b([Pp]ass|got) (header|delimiter)=(True|False|'[^']*'|\"[^\"]*\")")


def _as_toml(error: Exception) -> str:
    """A data loader's message in the words of the TOML file: load_csv's ``Pass
    delimiter=';'`` becomes ``set delimiter = ";" in [data]`` (a TOML string that works as
    written, escapes included), ``header=True`` becomes ``header = true``."""

    def key(match: re.Match[str]) -> str:
        verb, name, value = match.groups()
        if value in ("True", "False"):
            value = value.lower()
        else:
            value = json.dumps(ast.literal_eval(value))
        if verb == "got":
            return f"got {name} = {value}"
        return f"{'S' if verb[0] == 'P' else 's'}et {name} = {value} in [data]"

    return _PYTHON_ADVICE.sub(key, str(error).removeprefix("load_csv: "))


def _task(task: str, y: np.ndarray, origin: str) -> str:
    if task == "auto":
        return "classification" if y.dtype.kind in "iubUS" else "regression"
    fractional = y.dtype.kind == "f" and not np.all(y == np.round(y))
    if task == "classification" and fractional:
        raise ConfigError(
            f"{origin}: [model] task = 'classification' needs class labels, but the target holds "
            f"fractional values such as {float(y[y != np.round(y)][0])!r}. Use task = "
            "'regression', or another target column."
        )
    return task


def _the_target(target: Any) -> str:
    """The target column in a message: by its header name when it has one."""
    return f"the target {target!r}" if isinstance(target, str) else "the target"


def _check_many_classes(origin: str, n_classes: int, n: int, target: Any) -> None:
    """Integer targets read as classes (task = "auto") that look like a quantity (prices,
    counts): more classes than half the rows cannot be learned or split, an error; fewer than
    5 rows per class is most likely a regression, a warning."""
    column = _the_target(target)
    advice = 'if it is a quantity to predict (a price, a count), set task = "regression" in [model]'
    if n_classes <= 10:  # a few labels: classes indeed (a tiny file is told it is too small)
        return
    if n_classes > n / 2:
        raise ConfigError(
            f"{origin}: [data] {column} holds {n_classes} distinct integers in {n} rows, read "
            f"as {n_classes} classes with about one row each: {advice}."
        )
    if n_classes * 5 > n:
        warnings.warn(
            f"{column} holds {n_classes} distinct integers in {n} rows, read as classes with "
            f"fewer than 5 rows each; {advice}.",
            stacklevel=2,
        )


def _prepare_data(cfg: dict[str, Any], origin: str, rngs: list[np.random.Generator]) -> _Data:
    """Load, encode labels, split (stratified for classes), standardize on the training set."""
    from ._convnet import image_standardizer
    from .data import Standardizer, datasets, train_val_test_split

    data = cfg["data"]
    try:
        X, y, test, names = _load_source(data, rngs[0])
    except (OSError, ValueError, TypeError, ImportError) as e:
        raise ConfigError(f"{origin}: [data] source = {data['source']!r}: {_as_toml(e)}") from None
    image_shape = _image_shape(data, X, origin)
    X = X.reshape(len(X), -1)
    features, target = None, None
    if data["source"] == "csv":  # the column names, for `sinapsi predict` on a CSV file
        features, target = datasets.csv_columns(
            data["path"], data["target"], data["delimiter"], data["header"]
        )
    n_samples = len(X) + (0 if test is None else len(test[0]))
    task = _task(cfg["model"]["task"], y, origin)
    classes = None
    if task == "classification":
        values, y = np.unique(y, return_inverse=True)  # any labels become 0..C-1
        classes = names or values.tolist()
        if len(values) < 2:
            raise ConfigError(
                f"{origin}: [data] the target holds a single class ({classes[0]!r}): nothing to "
                "tell apart. Check the target column."
            )
        if cfg["model"]["task"] == "auto" and names is None:
            _check_many_classes(origin, len(values), len(y), target)
        if test is not None:
            test = (test[0], np.searchsorted(values, test[1]))
    else:
        y = y.astype(np.float32).reshape(len(y), -1)  # (n, targets), the model's output shape
        if test is not None:
            test = (test[0], test[1].astype(np.float32).reshape(len(test[1]), -1))
    try:
        split = train_val_test_split(
            X,
            y,
            val_size=data["val_size"],
            test_size=0.0 if test is not None else data["test_size"],
            seed=rngs[1],
        )
    except ValueError as e:
        raise ConfigError(f"{origin}: [data] cannot split the {len(X)} samples: {e}") from None
    _check_split(split, data, test is not None, len(X), origin, classes, target)
    if test is not None:
        test = (test[0].reshape(len(test[0]), -1), test[1])
    raw = split
    if data.get("features"):
        split = _with_point_features(split, data["features"], origin)
    out = _Data(
        train=split.train,
        val=split.val if data["val_size"] else None,
        test=test if test is not None else split.test,
        task=task,
        classes=classes,
        n_samples=n_samples,
        features=features,
        target=target,
        raw_train_x=raw.train[0] if split is not raw else None,
        raw_test_x=raw.test[0] if split is not raw else None,
        image_shape=image_shape,
    )
    if data["standardize"]:
        if cfg["model"].get("conv"):  # images: one mean and scale per channel (see why there)
            out.standardizer = scaler = image_standardizer(out.train[0], image_shape)
        else:
            out.standardizer = scaler = Standardizer().fit(out.train[0])
        out.train = (scaler.transform(out.train[0]), out.train[1])
        out.test = (scaler.transform(out.test[0]), out.test[1])
        if out.val is not None:
            out.val = (scaler.transform(out.val[0]), out.val[1])
    return out


def _with_point_features(split: Any, names: list[str], origin: str) -> Any:
    """Each part's 2-D points as the Playground's input features (``[data] features``), by the
    layer a saved model puts in front, so training and prediction compute them alike."""
    from .nn.features import PointFeatures

    n_columns = split.train[0].shape[1]
    if n_columns != 2:
        raise ConfigError(
            f"{origin}: [data] features needs 2-D points (x1, x2), but the data has {n_columns} "
            "feature columns. Remove features, or use a CSV of two columns and the target."
        )
    layer = PointFeatures(names)

    def expand(part: tuple[np.ndarray, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        x = np.asarray(layer(part[0]).numpy(), dtype=part[0].dtype)
        return x.reshape(len(part[0]), len(names)), part[1]

    return type(split)(*(expand(part) for part in (split.train, split.val, split.test)))


def _check_split(
    split: Any,
    data: dict[str, Any],
    own_test: bool,
    n: int,
    origin: str,
    classes: list[Any] | None = None,
    target: Any = None,
) -> None:
    """Every set the configuration asks for holds samples (a tiny CSV can leave one empty; so
    can a stratified split of many classes of a few rows each, such as integer prices)."""
    wanted = {"training": True, "validation": data["val_size"] > 0, "test": not own_test}
    sizes = {"training": len(split.train[0]), "validation": len(split.val[0])}
    sizes["test"] = len(split.test[0])
    empty = [part for part, want in wanted.items() if want and sizes[part] == 0]
    if empty:
        keys = ("val_size", "test_size")
        fractions = ", ".join(f"{k} = {data[k]:g}" for k in keys if data[k] is not None)
        if classes is not None and len(classes) > 10 and len(classes) * 5 > n:
            column = _the_target(target)
            raise ConfigError(
                f"{origin}: [data] the {empty[0]} set is empty: {column} holds {len(classes)} "
                f"classes in {n} rows, too few rows per class for a stratified split. If it is "
                'a quantity to predict (a price, a count), set task = "regression" in [model].'
            )
        raise ConfigError(
            f"{origin}: [data] too few samples: the {n} samples leave the {empty[0]} set empty "
            f"({fractions}). Use more data, or a larger val_size / test_size."
        )
