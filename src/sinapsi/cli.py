"""The ``sinapsi`` command line (also ``python -m sinapsi``).

``sinapsi demo``
    Trains a deep network with the remedies that make depth train (He initialization, batch
    normalization, dropout, Adam with weight decay, a cosine learning-rate schedule) on
    scikit-learn's 8x8 handwritten digits, prints the test accuracy and saves the run. Fails
    (exit 1) below 97% test accuracy.
``sinapsi train CONFIG.toml``
    The same for any data set, network and optimizer described in a TOML file: the schema is in
    :mod:`sinapsi.config` and ``examples/README.md``.
``sinapsi word2vec CORPUS.txt --out vectors.txt``
    Trains word vectors (skip-gram or CBOW, negative sampling) on a text file, one sentence a
    line, and writes them in word2vec format (``--binary`` for the binary one), which gensim reads.
``sinapsi analogy vectors.txt man king woman``
    ``man : king :: woman : ?``: the words nearest to ``king - man + woman`` (queen), with scores.

A run writes four files into ``<out>/<name>/``: ``model.npz`` (the model, in
:func:`sinapsi.save`'s format: ``sinapsi.load`` rebuilds it; the classes and the
standardizer's mean and scale are in its metadata, read with
``sinapsi.io.load_checkpoint(path).metadata``), ``history.json`` (loss and metrics per epoch),
``config.json`` (the configuration that ran, defaults included; ``sinapsi train`` reads it) and
``report.html`` (curves, network diagram, gradient flow, test metrics: one self-contained page).

Exit codes: 0 done; 1 a ``[target]`` was missed or training diverged; 2 a usage error (a bad
option, configuration or data file), told in one line on stderr.

Adding a command: write ``_add_<name>(subparsers)``, which declares the command's arguments and
sets ``handler=`` to a function ``(args) -> exit code``, and list it in ``_COMMANDS``. A handler
raises :class:`~sinapsi.config.ConfigError` for a user's mistake.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .config import (
    CLASSIFICATION_LOSSES,
    GENERATED_SOURCES,
    SKLEARN_SOURCES,
    ConfigError,
    build_scheduler,
    load_config,
    optimizer_kwargs,
    to_jsonable,
    validate_config,
)

__all__ = ["main", "build_parser", "run", "build_mlp", "RunResult", "TargetMissed", "DEMO_CONFIG"]

#: What ``sinapsi demo`` runs (``examples/digits.toml`` is the same, as a file).
DEMO_CONFIG: dict[str, Any] = {
    "name": "demo",
    "description": "a deep network learns to read handwritten digits",
    "data": {"source": "digits", "val_size": 0.15, "test_size": 0.15, "standardize": True},
    "model": {
        "hidden": [256, 128],
        "activation": "relu",
        "init": "he",
        "batch_norm": True,
        "dropout": 0.2,
    },
    "training": {
        "epochs": 30,
        "batch_size": 64,
        "optimizer": "adam",
        "lr": 0.003,
        "weight_decay": 1e-4,
        "lr_schedule": {"name": "cosine"},
        "metrics": ["accuracy"],
        "seed": 0,
    },
    "target": {"accuracy": 0.97},
}

_CLASSIFICATION_METRICS = ("accuracy", "acc", "top5", "top_k_accuracy")
_LOWER_IS_BETTER = ("loss", "mae", "rmse")


class TargetMissed(RuntimeError):
    """A run finished, but a test result missed its ``[target]`` threshold."""


@dataclass
class RunResult:
    """What :func:`run` did: the test results, the History, the training time and the whole
    run's, the files written and the targets missed (each as ``"test accuracy 0.951 < 0.97"``).
    ``monitor`` is the value ``best_epoch`` refers to (early stopping's, else the val_loss)."""

    test: dict[str, float]
    history: Any
    epochs_run: int
    best_epoch: int
    monitor: str
    seconds: float
    total_seconds: float
    files: list[Path] = field(default_factory=list)
    missed: list[str] = field(default_factory=list)


# ------------------------------------------------------------------------------ data
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
    X, y = datasets.load_mnist(data["path"], kind="train")
    return X, y, datasets.load_mnist(data["path"], kind="t10k"), None


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


def _prepare_data(cfg: dict[str, Any], origin: str, rngs: list[np.random.Generator]) -> _Data:
    """Load, encode labels, split (stratified for classes), standardize on the training set."""
    from .data import Standardizer, train_val_test_split

    data = cfg["data"]
    try:
        X, y, test, names = _load_source(data, rngs[0])
    except (OSError, ValueError, TypeError) as e:
        raise ConfigError(f"{origin}: [data] source = {data['source']!r}: {e}") from None
    X = X.reshape(len(X), -1)
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
    if test is not None:
        test = (test[0].reshape(len(test[0]), -1), test[1])
    out = _Data(
        train=split.train,
        val=split.val if data["val_size"] else None,
        test=test if test is not None else split.test,
        task=task,
        classes=classes,
        n_samples=n_samples,
    )
    if data["standardize"]:
        out.standardizer = scaler = Standardizer().fit(out.train[0])
        out.train = (scaler.transform(out.train[0]), out.train[1])
        out.test = (scaler.transform(out.test[0]), out.test[1])
        if out.val is not None:
            out.val = (scaler.transform(out.val[0]), out.val[1])
    return out


# ------------------------------------------------------------------------------ model
def build_mlp(
    in_features: int,
    hidden: Sequence[int],
    out_features: int,
    activation: str = "relu",
    init: str = "he",
    batch_norm: bool = False,
    dropout: float = 0.0,
    rng: Any = None,
) -> Any:
    """A multilayer perceptron: for each hidden size, Linear -> [BatchNorm1d] -> activation ->
    [Dropout]; then a Linear output layer with no activation (logits, or regression values).

    >>> build_mlp(4, [8], 3, activation="tanh", init="xavier", rng=0)
    Sequential(
      (0): Linear(in_features=4, out_features=8, bias=True, init='xavier')
      (1): Tanh()
      (2): Linear(in_features=8, out_features=3, bias=True, init='xavier')
    )
    """
    from . import nn
    from .backend import new_rng

    rng = new_rng(rng)
    layers: list[Any] = []
    size = in_features
    for width in hidden:
        layers.append(nn.Linear(size, width, init=init, rng=rng))
        if batch_norm:
            layers.append(nn.BatchNorm1d(width))
        layers.append(nn.get_activation(activation))
        if dropout:
            layers.append(nn.Dropout(dropout, rng=rng))
        size = width
    layers.append(nn.Linear(size, out_features, init=init, rng=rng))
    return nn.Sequential(*layers)


# ------------------------------------------------------------------------------ a run
def _defaults_by_task(cfg: dict[str, Any], task: str, origin: str) -> dict[str, Any]:
    """``cfg`` with the task, loss and metrics filled in and checked against the task."""
    classification = task == "classification"
    training = dict(cfg["training"])
    loss = training["loss"] or ("cross_entropy" if classification else "mse")
    if (loss in CLASSIFICATION_LOSSES) != classification:
        raise ConfigError(
            f"{origin}: [training] loss = {loss!r} does not fit this {task} data. Use "
            + ("cross_entropy" if classification else "mse, mae or huber")
            + ", or set [model] task."
        )
    if training["metrics"] is None:
        training["metrics"] = ["accuracy"] if classification else ["mae", "r2"]
    for where, names in (("[training] metrics", training["metrics"]), ("[target]", cfg["target"])):
        wrong = [
            m for m in names if m != "loss" and (m in _CLASSIFICATION_METRICS) != classification
        ]
        if wrong:
            raise ConfigError(
                f"{origin}: {where} has {wrong[0]!r}, which does not apply to {task}. Use "
                + ("accuracy or top5" if classification else "mae, rmse or r2")
                + "."
            )
    es = training["early_stopping"]
    if es is not None:
        logged = ["loss", *training["metrics"]]
        if es["monitor"] not in logged + [f"val_{m}" for m in logged]:
            raise ConfigError(
                f"{origin}: [training.early_stopping] monitor = {es['monitor']!r} is not logged. "
                f"Use one of {', '.join(logged)} or their val_ versions (val_loss, ...)."
            )
    training["loss"] = loss
    return {**cfg, "model": {**cfg["model"], "task": task}, "training": training}


def _missed(test: dict[str, float], target: dict[str, float]) -> list[str]:
    missed = []
    for key, threshold in target.items():
        lower = key in _LOWER_IS_BETTER
        if (test[key] > threshold) if lower else (test[key] < threshold):
            missed.append(f"test {key} {test[key]:.4f} {'>' if lower else '<'} {threshold:g}")
    return missed


def _jsonable(value: Any) -> Any:
    """Plain JSON types (NumPy scalars become numbers, anything else its str)."""
    return json.loads(
        json.dumps(value, default=lambda v: v.item() if hasattr(v, "item") else str(v))
    )


def _say_plan(
    say: Callable[[str], None], cfg: dict[str, Any], data: _Data, model: Any, n_out: int
) -> None:
    """The lines printed before training: data, model and training settings."""
    from . import __version__

    model_cfg, training = cfg["model"], cfg["training"]
    n_train, n_features = data.train[0].shape
    sizes = [n_features, *model_cfg["hidden"], n_out]
    if data.classes is not None:
        kind = f"{len(data.classes)} classes"
    else:
        kind = f"{sizes[-1]} target{'s' if sizes[-1] > 1 else ''}"
    n_val = 0 if data.val is None else len(data.val[0])
    title = f"sinapsi {__version__}, run {cfg['name']!r}"
    say(f"{title}: {cfg['description']}" if cfg["description"] else title)
    say(
        f"  data      {cfg['data']['source']}: {data.n_samples} samples, {n_features} features, "
        f"{kind}; train {n_train} / val {n_val} / test {len(data.test[0])}"
    )
    if data.standardizer is not None:
        say("            features standardized with the training set's mean and scale")
    say(f"  model     {' -> '.join(map(str, sizes))}: {model.num_parameters():,} parameters")
    if model_cfg["hidden"]:
        layer = [f"Linear(init={model_cfg['init']})"]
        activation = type(model[2 if model_cfg["batch_norm"] else 1]).__name__  # e.g. ReLU
        layer += ["BatchNorm1d"] * model_cfg["batch_norm"] + [activation]
        layer += [f"Dropout({model_cfg['dropout']:g})"] * bool(model_cfg["dropout"])
        say(f"            each hidden layer: {' + '.join(layer)}")
    else:
        say(f"            a linear model (init={model_cfg['init']})")
    settings = [f"{k}={training[k]:g}" for k in ("lr", "weight_decay", "momentum") if training[k]]
    say(f"  training  {' '.join([training['optimizer'], *settings])}, {training['loss']} loss")
    schedule = training["lr_schedule"]
    extras = [f"{schedule['name']} learning-rate schedule"] if schedule else []
    if training["early_stopping"]:
        extras.append(f"early stopping (patience {training['early_stopping']['patience']})")
    if training["clip_grad_norm"]:
        extras.append(f"gradient norm clipped at {training['clip_grad_norm']:g}")
    say(
        f"            {training['epochs']} epochs in batches of {training['batch_size']}, "
        f"seed {training['seed']}"
    )
    if extras:
        say(f"            {', '.join(extras)}")


def run(
    cfg: dict[str, Any],
    out_dir: str | Path,
    verbose: int = 1,
    origin: str = "<config>",
    log: Callable[[str], None] = print,
) -> RunResult:
    """Train what a checked configuration describes, test it once, and save the run.

    Args:
        cfg: a configuration from :func:`sinapsi.config.load_config` or ``validate_config``.
        out_dir: the folder for ``model.npz``, ``history.json`` and ``config.json``.
        verbose: 1 prints the plan and a progress bar per epoch (through ``log``); 0 nothing.
        origin: the configuration's name for error messages (its file name).

    The seed spawns four independent streams: data generation, the split, the initial weights
    and dropout, and the shuffling. Raises :class:`~sinapsi.config.ConfigError` for a
    configuration that does not fit the data; a missed target is reported in ``missed``.
    """
    from . import __version__, evaluate, fit
    from .io import atomic_write, save
    from .optim import get as get_optimizer
    from .train import EarlyStopping

    began = time.perf_counter()
    say = log if verbose else (lambda _: None)
    streams = np.random.SeedSequence(cfg["training"]["seed"]).spawn(4)
    rngs = [np.random.default_rng(s) for s in streams]
    data = _prepare_data(cfg, origin, rngs)
    cfg = _defaults_by_task(cfg, data.task, origin)
    model_cfg, training = cfg["model"], cfg["training"]
    n_train, n_features = data.train[0].shape
    if model_cfg["batch_norm"] and n_train % training["batch_size"] == 1:
        raise ConfigError(
            f"{origin}: [training] batch_size = {training['batch_size']} leaves a last batch of "
            f"1 of the {n_train} training samples, which batch_norm cannot normalize. Use "
            f"batch_size = {training['batch_size'] + 1}."
        )

    n_out = len(data.classes) if data.classes is not None else data.train[1].shape[1]
    layer_keys = ("hidden", "activation", "init", "batch_norm", "dropout")
    architecture = {"in_features": n_features, "out_features": n_out}
    architecture.update({k: model_cfg[k] for k in layer_keys})
    model = build_mlp(**architecture, rng=rngs[2])
    _say_plan(say, cfg, data, model, n_out)

    optimizer = get_optimizer(
        training["optimizer"], list(model.parameters()), **optimizer_kwargs(training)
    )
    callbacks = []
    if training["early_stopping"] is not None:
        callbacks.append(EarlyStopping(**training["early_stopping"]))
    start = time.perf_counter()
    history = fit(
        model,
        *data.train,
        loss=training["loss"],
        optimizer=optimizer,
        epochs=training["epochs"],
        batch_size=training["batch_size"],
        validation_data=data.val,
        metrics=training["metrics"],
        clip_grad_norm=training["clip_grad_norm"],
        lr_scheduler=build_scheduler(training["lr_schedule"], optimizer, training["epochs"]),
        seed=rngs[3],
        callbacks=callbacks,
        verbose=verbose,
    )
    seconds = time.perf_counter() - start
    measured = sorted(set(training["metrics"]) | (set(cfg["target"]) - {"loss"}))
    test = evaluate(model, *data.test, loss=training["loss"], metrics=measured)
    if training["early_stopping"] is not None:
        monitor = training["early_stopping"]["monitor"]
    else:
        monitor = "val_loss" if data.val is not None else "loss"

    out = Path(out_dir)
    scaler = data.standardizer
    metadata = {
        "kind": "sinapsi.cli.mlp",
        "sinapsi_version": __version__,
        "architecture": architecture,
        "layers": [
            {"name": name, "type": type(m).__name__, "config": m.get_config()}
            for name, m in model.named_modules()
            if name
        ],
        "task": data.task,
        "classes": data.classes,
        "loss": training["loss"],
        "standardizer": None
        if scaler is None
        else {"mean": scaler.mean_.tolist(), "scale": scaler.scale_.tolist()},
        "test": test,
    }
    files = [save(model, out / "model.npz", metadata=_jsonable(metadata))]
    history.save(out / "history.json")
    files.append(out / "history.json")
    text = json.dumps(to_jsonable(_jsonable(cfg)), indent=2) + "\n"
    files.append(atomic_write(out / "config.json", lambda f: f.write(text.encode("utf-8"))))
    files.append(_write_report(out / "report.html", cfg, model, history, data, test))
    return RunResult(
        test=test,
        history=history,
        epochs_run=len(history),
        best_epoch=history.best_epoch(monitor),
        monitor=monitor,
        seconds=seconds,
        total_seconds=time.perf_counter() - began,
        files=files,
        missed=_missed(test, cfg["target"]),
    )


_IMAGE_SHAPES = {"digits": (8, 8), "mnist": (28, 28)}


def _write_report(
    path: Path, cfg: dict[str, Any], model: Any, history: Any, data: _Data, test: dict
) -> Path:
    """report.html: summary, curves, diagram, gradient flow, activations, test metrics (and a
    confusion matrix and first-layer weight images where they apply), one self-contained file."""
    from .train import predict_classes
    from .viz import write_report

    x_test, y_test = data.test
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
        image_shape=_IMAGE_SHAPES.get(cfg["data"]["source"]),
        config=to_jsonable(_jsonable(cfg)),
    )


# ------------------------------------------------------------------------------ commands
def _number(value: float) -> str:
    """4 decimals for scores and small losses, fewer for large values (a regression's mse)."""
    return f"{value:.4f}" if abs(value) < 100 else f"{value:.1f}"


def _report(result: RunResult, cfg: dict[str, Any]) -> None:
    test, training = result.test, cfg["training"]
    scores = [f"test {k} {_number(v)}" for k, v in test.items() if k != "loss"]
    scores.append(f"test loss {_number(test['loss'])}")
    es = training["early_stopping"]
    early = " (early stopping)" if result.epochs_run < training["epochs"] else ""
    print(f"result    {', '.join(scores)}", flush=True)
    print(f"          after {result.epochs_run} of {training['epochs']} epochs{early}")
    kept = " (its weights kept)" if es is not None and es["restore_best_weights"] else ""
    best = result.history.history[result.monitor][result.best_epoch - 1]
    print(f"          best {result.monitor} {_number(best)} at epoch {result.best_epoch}{kept}")
    print(f"time      {result.seconds:.1f} s training, {result.total_seconds:.1f} s in all")
    for key, threshold in cfg["target"].items():
        sign = "<=" if key in _LOWER_IS_BETTER else ">="
        missed = any(m.startswith(f"test {key} ") for m in result.missed)
        print(f"target    test {key} {sign} {threshold:g}: {'MISSED' if missed else 'met'}")
    notes = {
        "model.npz": "the model: sinapsi.load() it; scaling and classes in its metadata",
        "history.json": "loss and metrics per epoch",
        "config.json": "the settings that ran: sinapsi train reruns it",
        "report.html": "curves, network, gradient flow, test metrics: open it in a browser",
    }
    width = max(len(str(path)) for path in result.files)
    for i, path in enumerate(result.files):
        print(f"{'saved' if i == 0 else '':<10}{str(path):<{width}}  {notes.get(path.name, '')}")


def _execute(cfg: dict[str, Any], args: argparse.Namespace, origin: str) -> int:
    """Run ``cfg``, print the report; raise TargetMissed when a target was missed."""
    if args.name:
        cfg = {**cfg, "name": args.name}
    out_dir = Path(args.out) / cfg["name"]
    log = lambda text: print(text, flush=True)  # noqa: E731 (the plan must precede the bars)
    result = run(cfg, out_dir, verbose=0 if args.quiet else 1, origin=origin, log=log)
    _report(result, cfg)
    if result.missed:
        raise TargetMissed(
            f"run {cfg['name']!r} missed its target: {'; '.join(result.missed)}. Train longer "
            "(--epochs) or change the configuration."
        )
    return 0


def _demo(args: argparse.Namespace) -> int:
    raw = json.loads(json.dumps(DEMO_CONFIG))  # a deep copy
    if args.seed is not None:
        raw["training"]["seed"] = args.seed
    if args.epochs is not None:
        raw["training"]["epochs"] = args.epochs
    if args.target is not None:
        raw["target"]["accuracy"] = args.target
    return _execute(validate_config(raw, "sinapsi demo"), args, "sinapsi demo")


def _train(args: argparse.Namespace) -> int:
    cfg = load_config(args.config)
    overrides = {"epochs": args.epochs, "seed": args.seed}
    if any(v is not None for v in overrides.values()):
        raw = to_jsonable(cfg)
        raw["training"].update({k: v for k, v in overrides.items() if v is not None})
        cfg = validate_config(raw, args.config)
    return _execute(cfg, args, args.config)


def _int_at_least(low: int) -> Callable[[str], int]:
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be an integer, got {text!r}") from None
        if value < low:
            raise argparse.ArgumentTypeError(f"must be >= {low}, got {value}")
        return value

    return parse


def _fraction(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"must be a number in [0, 1], got {text!r}")
    return value


def _add_run_options(p: argparse.ArgumentParser, default_seed: str, default_name: str) -> None:
    p.add_argument(
        "--seed", type=_int_at_least(0), help=f"seeds everything (default: {default_seed})"
    )
    p.add_argument(
        "--out",
        default="runs",
        metavar="DIR",
        help="where to save the run: DIR/NAME/ (default: runs)",
    )
    p.add_argument("--name", help=f"the run's folder name (default: {default_name})")
    p.add_argument(
        "--quiet",
        action="store_true",
        help="no plan and no progress bars: only the result and the files",
    )


def _add_demo(sub: Any) -> None:
    epochs, target = DEMO_CONFIG["training"]["epochs"], DEMO_CONFIG["target"]["accuracy"]
    p = sub.add_parser(
        "demo",
        help="train a deep network on handwritten digits and save it (start here)",
        description="Train 64 -> 256 -> 128 -> 10 (He init, batch norm, ReLU, dropout; Adam "
        "with weight decay, cosine learning-rate schedule) on scikit-learn's 8x8 digits: a "
        "stratified 70/15/15 split, features standardized on the training set. Prints the test "
        "accuracy and saves the run; exits with 1 below the target. The same run as a file: "
        "examples/digits.toml.",
    )
    p.add_argument("--epochs", type=_int_at_least(1), help=f"epochs to train (default: {epochs})")
    p.add_argument(
        "--target",
        type=_fraction,
        metavar="ACC",
        help=f"fail below this test accuracy (default: {target})",
    )
    _add_run_options(p, str(DEMO_CONFIG["training"]["seed"]), "demo")
    p.set_defaults(handler=_demo)


def _add_train(sub: Any) -> None:
    p = sub.add_parser(
        "train",
        help="train what a TOML file describes (schema: examples/README.md)",
        description="Train the data set, network and optimizer that CONFIG describes (TOML, "
        "schema in examples/README.md; a run's config.json works too), test it and save the "
        "run. Exits with 1 when a [target] is missed, 2 when the configuration is wrong.",
    )
    p.add_argument("config", metavar="CONFIG.toml", help="the run's configuration file")
    p.add_argument("--epochs", type=_int_at_least(1), help="override [training] epochs")
    _add_run_options(p, "[training] seed", "the config's name, else its file name")
    p.set_defaults(handler=_train)


# ------------------------------------------------------------------------------ word vectors
def _word2vec(args: argparse.Namespace) -> int:
    from collections import Counter

    from .embeddings import read_corpus, train_word2vec

    corpus_path, out = Path(args.corpus), Path(args.out)
    if not corpus_path.is_file():
        raise ConfigError(
            f"corpus file {args.corpus!r} does not exist or is not a file; pass a plain-text "
            "file with one sentence per line"
        )
    if out.is_dir():
        raise ConfigError(f"--out {args.out!r} is a folder; give a file name, e.g. vectors.txt")
    try:
        counts: Counter[str] = Counter()
        for sentence in read_corpus(corpus_path):
            counts.update(sentence)
    except UnicodeDecodeError as e:
        raise ConfigError(f"{args.corpus}: not a UTF-8 text file ({e})") from None
    if not counts:
        raise ConfigError(f"{args.corpus}: the corpus has no words; it needs one sentence per line")
    if not args.quiet:
        print(
            f"word2vec  {args.model} on {args.corpus}: {sum(counts.values()):,} words, "
            f"{len(counts):,} distinct; dim {args.dim}, window {args.window}, "
            f"{args.negative} negatives, {args.epochs} epochs, {args.optimizer} lr {args.lr:g}"
            + (f", {args.workers} workers" if args.workers > 1 else ""),
            flush=True,
        )
    start = time.perf_counter()
    try:
        kv = train_word2vec(
            corpus_path,
            model=args.model,
            dim=args.dim,
            window=args.window,
            negative=args.negative,
            min_count=args.min_count,
            sample=args.sample,
            epochs=args.epochs,
            batch_size=args.batch_size,
            lr=args.lr,
            optimizer=args.optimizer,
            seed=args.seed,
            verbose=0 if args.quiet else 1,
            workers=args.workers,
        )
    except ValueError as e:
        raise ConfigError(f"{args.corpus}: {e}") from None
    seconds = time.perf_counter() - start
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        kv.save_word2vec_format(out, binary=args.binary)
    except (OSError, ValueError) as e:
        raise ConfigError(f"cannot write --out {args.out!r}: {e}") from None
    trained = sum(counts[w] for w in kv.words) * args.epochs  # in-vocabulary words, all epochs
    print(f"vocabulary {len(kv):,} words (min count {args.min_count}), {kv.dim} dimensions")
    print(
        f"time      {seconds:.1f} s: {trained / max(seconds, 1e-9):,.0f} words/s over "
        f"{args.epochs} epoch{'s' * (args.epochs > 1)}"
    )
    kind = "binary" if args.binary else "text"
    print(f"saved     {out}  (word2vec {kind} format; try: sinapsi analogy {out} man king woman)")
    return 0


def _analogy(args: argparse.Namespace) -> int:
    from .embeddings import KeyedVectors

    try:
        kv = KeyedVectors.load_word2vec_format(args.vectors, binary=args.binary)
    except FileNotFoundError:
        raise ConfigError(f"vectors file {args.vectors!r} does not exist") from None
    except IsADirectoryError:
        raise ConfigError(f"vectors file {args.vectors!r} is a folder") from None
    except ValueError as e:
        binary_like = not args.binary and "UTF-8" in str(e)
        hint = " (a binary file? add --binary)" if binary_like else ""
        raise ConfigError(f"{e}{hint}") from None
    try:
        answers = kv.analogy(args.a, args.b, args.c, method=args.method, topn=args.topn)
    except KeyError as e:
        raise ConfigError(f"{args.vectors}: {e.args[0]}") from None
    print(f"{args.a} : {args.b} :: {args.c} : ?   ({args.b} - {args.a} + {args.c}, {args.method})")
    width = max([len(w) for w, _ in answers] + [4])
    for i, (word, score) in enumerate(answers, 1):
        print(f"{i:>3}. {word:<{width}}  {score:.4f}")
    return 0


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not (value > 0 and np.isfinite(value)):
        raise argparse.ArgumentTypeError(f"must be a positive number, got {text!r}")
    return value


def _non_negative_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not (value >= 0 and np.isfinite(value)):
        raise argparse.ArgumentTypeError(f"must be a number >= 0, got {text!r}")
    return value


def _add_word2vec(sub: Any) -> None:
    p = sub.add_parser(
        "word2vec",
        help="train word vectors (skip-gram or CBOW) on a text file",
        description="Train word2vec with negative sampling on CORPUS (plain text, one sentence "
        "per line; lower-cased and split into words) and write the vectors in word2vec format, "
        "which gensim and 'sinapsi analogy' read.",
    )
    p.add_argument("corpus", metavar="CORPUS.txt", help="the text to learn from")
    p.add_argument("--out", required=True, metavar="FILE", help="where to write the vectors")
    p.add_argument("--binary", action="store_true", help="binary word2vec format (default: text)")
    p.add_argument(
        "--model", choices=("skipgram", "cbow"), default="skipgram", help="(default: %(default)s)"
    )
    p.add_argument("--dim", type=_int_at_least(1), default=100, help="vector size (default: 100)")
    p.add_argument(
        "--window", type=_int_at_least(1), default=5, help="context words each side (default: 5)"
    )
    p.add_argument(
        "--negative", type=_int_at_least(1), default=5, help="negatives per pair (default: 5)"
    )
    p.add_argument(
        "--min-count",
        type=_int_at_least(1),
        default=5,
        help="drop words seen fewer times (default: 5)",
    )
    p.add_argument(
        "--sample",
        type=_non_negative_float,
        default=1e-3,
        help="subsampling of frequent words; 0 keeps all (default: 1e-3)",
    )
    p.add_argument("--epochs", type=_int_at_least(1), default=5, help="(default: 5)")
    p.add_argument(
        "--batch-size",
        type=_int_at_least(1),
        help="pairs per step (default: 4096 / workers, so 4096 pairs are in flight)",
    )
    p.add_argument(
        "--lr", type=_positive_float, default=0.025, help="learning rate (default: 0.025)"
    )
    p.add_argument(
        "--optimizer",
        choices=("sgd", "adam", "adagrad"),
        default="sgd",
        help="sgd decays lr linearly, as word2vec (default: sgd)",
    )
    p.add_argument(
        "--seed", type=_int_at_least(0), help="for identical vectors run to run (with 1 worker)"
    )
    p.add_argument(
        "--workers",
        type=_int_at_least(1),
        default=1,
        help="training threads, lock-free as word2vec.c's: faster on several cores, but the "
        "vectors then vary run to run even with --seed (default: 1)",
    )
    p.add_argument("--quiet", action="store_true", help="no plan and no progress bar")
    p.set_defaults(handler=_word2vec)


def _add_analogy(sub: Any) -> None:
    p = sub.add_parser(
        "analogy",
        help="a : b :: c : ?  with word vectors (man king woman -> queen)",
        description="Answer 'a is to b as c is to ?' with the words nearest to b - a + c, e.g. "
        "'sinapsi analogy vectors.txt man king woman' -> queen. The three words themselves are "
        "left out of the answers.",
    )
    p.add_argument("vectors", metavar="VECTORS", help="a word2vec-format file")
    p.add_argument("a", help="e.g. man")
    p.add_argument("b", help="e.g. king")
    p.add_argument("c", help="e.g. woman")
    p.add_argument("--binary", action="store_true", help="VECTORS is in binary format")
    p.add_argument("--topn", type=_int_at_least(1), default=5, help="answers shown (default: 5)")
    p.add_argument(
        "--method",
        choices=("3cosadd", "3cosmul"),
        default="3cosadd",
        help="3cosadd: cosine with b - a + c; 3cosmul: Levy & Goldberg's (default: 3cosadd)",
    )
    p.set_defaults(handler=_analogy)


_COMMANDS = (_add_demo, _add_train, _add_word2vec, _add_analogy)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser: one subparser per command in ``_COMMANDS``."""
    from . import __version__

    parser = argparse.ArgumentParser(
        prog="sinapsi",
        description="sinapsi: a NumPy deep-learning library you can read. New here? Run: "
        "sinapsi demo",
        epilog="'sinapsi COMMAND --help' tells a command's options.",
    )
    parser.add_argument("--version", action="version", version=f"sinapsi {__version__}")
    sub = parser.add_subparsers(title="commands", dest="command", required=True, metavar="COMMAND")
    for add in _COMMANDS:
        add(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line on ``argv`` (default: ``sys.argv[1:]``); return the exit code.

    A bad option exits through argparse (code 2, usage on stderr); a bad configuration or data
    file returns 2, a missed target or diverged training 1, each with one line on stderr.
    """
    args = build_parser().parse_args(argv)
    try:
        return args.handler(args)
    except ConfigError as e:
        print(f"sinapsi: error: {e}", file=sys.stderr)
        return 2
    except (TargetMissed, FloatingPointError) as e:
        print(f"sinapsi: error: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("sinapsi: interrupted", file=sys.stderr)
        return 130
