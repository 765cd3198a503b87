"""A configured run, what ``sinapsi demo`` and ``sinapsi train`` do: data, model, training, files.

:func:`run` takes a checked configuration (:mod:`sinapsi.config`): it loads and splits the
data (standardized on the training part; that part lives in :mod:`sinapsi._run_data`),
refuses a run too big for the machine's memory, builds the network (:func:`build_mlp`), trains
it with :func:`sinapsi.train.fit`, tests it (a blown-up run raises :class:`Diverged`), checks
the ``[target]`` thresholds and writes ``model.safetensors`` (the network behind a
:class:`~sinapsi.nn.Normalization` layer, so it takes raw data), ``history.json``,
``config.json`` and ``report.html`` into a new run folder, all at once at the end (see
:mod:`sinapsi._runs`).
The command line (:mod:`sinapsi.cli`) parses the arguments and prints the result.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from . import _runs
from ._convnet import (
    build_convnet,
    convnet_architecture,
    convnet_bytes,
    plan_lines,
    shift_callback,
)
from ._run_data import _Data, _prepare_data
from ._run_report import _write_report
from .config import (
    CLASSIFICATION_LOSSES,
    GENERATED_COLUMNS,
    GENERATED_SOURCES,
    ConfigError,
    build_scheduler,
    optimizer_kwargs,
    to_jsonable,
)
from .train.metrics import LOWER_IS_BETTER as _LOWER_IS_BETTER  # cli imports it from here

__all__ = [
    "RunResult", "TargetMissed", "Diverged", "Prepared", "build_mlp", "build_convnet",
    "prepare_run", "run",
]  # fmt: skip

_CLASSIFICATION_METRICS = ("accuracy", "acc", "top5", "top_k_accuracy")


class TargetMissed(RuntimeError):
    """A run finished, but a test result missed its ``[target]`` threshold."""


class Diverged(FloatingPointError):
    """Training blew up: a loss or weight became NaN/Inf, or the test loss ended far above the
    untrained model's. Nothing of the run is saved."""


@dataclass
class RunResult:
    """What :func:`run` did: the test results, the History, the training time and the whole
    run's, the files written and the targets missed (each as ``"test accuracy 0.951 < 0.97"``).
    ``monitor`` is the value ``best_epoch`` refers to (early stopping's, else the val_loss).
    ``train`` (with ``run(measure_train=True)``, else empty) holds the trained model's loss
    and metrics on the training set, measured as the test set's are (eval mode: no dropout,
    BatchNorm's running statistics), so ``train`` minus ``test`` is the overfitting gap; the
    history's last training numbers are running averages taken while the weights moved, with
    dropout on."""

    test: dict[str, float]
    history: Any
    epochs_run: int
    best_epoch: int
    monitor: str
    seconds: float
    total_seconds: float
    files: list[Path] = field(default_factory=list)
    missed: list[str] = field(default_factory=list)
    folder: Path | None = None
    train: dict[str, float] = field(default_factory=dict)


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


def _targets(test: dict[str, float], target: dict[str, float]) -> list[dict[str, Any]]:
    """Each ``[target]`` threshold with the test value and whether it was met (the rows of
    the report's targets table)."""
    rows = []
    for key, threshold in target.items():
        lower = key in _LOWER_IS_BETTER
        met = test[key] <= threshold if lower else test[key] >= threshold
        goal = "<=" if lower else ">="
        rows.append(
            {"metric": key, "value": test[key], "threshold": threshold, "goal": goal, "met": met}
        )
    return rows


def _missed(test: dict[str, float], target: dict[str, float]) -> list[str]:
    return [
        f"test {t['metric']} {t['value']:.4f} {'>' if t['goal'] == '<=' else '<'} "
        f"{t['threshold']:g}"
        for t in _targets(test, target)
        if not t["met"]
    ]


def _jsonable(value: Any) -> Any:
    """Plain JSON types (NumPy scalars become numbers, anything else its str)."""
    return json.loads(
        json.dumps(value, default=lambda v: v.item() if hasattr(v, "item") else str(v))
    )


def _say_plan(
    say: Callable[[str], None],
    cfg: dict[str, Any],
    data: _Data,
    model: Any,
    architecture: dict[str, Any],
    processes: int = 1,
) -> None:
    """The lines printed before training: data, model and training settings."""
    from . import __version__

    model_cfg, training = cfg["model"], cfg["training"]
    n_train, n_features = data.train[0].shape
    sizes = [n_features, *model_cfg["hidden"], architecture["out_features"]]
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
    if data.standardizer is not None and model_cfg["conv"]:
        say("            pixels standardized with the training set's mean and scale per channel")
    elif data.standardizer is not None:
        say("            features standardized with the training set's mean and scale")
    if shift := cfg["data"].get("random_shift"):
        pixels = "1 pixel" if shift == 1 else f"{shift} pixels"
        say(f"            training images shifted by up to {pixels}, anew each epoch")
    if model_cfg["conv"]:  # a convnet: the image through its blocks, then each block
        first, *rest = plan_lines(architecture)
        say(f"  model     {first}: {model.num_parameters():,} parameters")
        for line in rest:
            say(f"            {line}")
    elif model_cfg["hidden"]:
        say(f"  model     {' -> '.join(map(str, sizes))}: {model.num_parameters():,} parameters")
        layer = [f"Linear(init={model_cfg['init']})"]
        activation = type(model[2 if model_cfg["batch_norm"] else 1]).__name__  # e.g. ReLU
        layer += ["BatchNorm1d"] * model_cfg["batch_norm"] + [activation]
        layer += [f"Dropout({model_cfg['dropout']:g})"] * bool(model_cfg["dropout"])
        say(f"            each hidden layer: {' + '.join(layer)}")
    else:
        say(f"  model     {' -> '.join(map(str, sizes))}: {model.num_parameters():,} parameters")
        say(f"            a linear model (init={model_cfg['init']})")
    settings = [f"{k}={training[k]:g}" for k in ("lr", "weight_decay", "momentum") if training[k]]
    say(f"  training  {' '.join([training['optimizer'], *settings])}, {training['loss']} loss")
    schedule = training["lr_schedule"]
    extras = [f"{schedule['name']} learning-rate schedule"] if schedule else []
    if training["early_stopping"]:
        extras.append(f"early stopping (patience {training['early_stopping']['patience']})")
    if training["clip_grad_norm"]:
        extras.append(f"gradient norm clipped at {training['clip_grad_norm']:g}")
    mpi = f", on {processes} processes (MPI)" if processes > 1 else ""
    say(
        f"            {training['epochs']} epochs in batches of {training['batch_size']}, "
        f"seed {training['seed']}{mpi}"
    )
    if extras:
        say(f"            {', '.join(extras)}")


def run(
    cfg: dict[str, Any],
    out_dir: str | Path,
    verbose: int = 1,
    origin: str = "<config>",
    log: Callable[[str], None] = print,
    overwrite: bool = False,
    report: bool = True,
    comm: Any = None,
    before_training: Callable[[], None] | None = None,
    measure_train: bool = False,
) -> RunResult:
    """Train what a checked configuration describes, test it once, and save the run.

    Args:
        cfg: a configuration from :func:`sinapsi.config.load_config` or ``validate_config``.
        out_dir: the folder for ``model.safetensors``, ``history.json``, ``config.json`` and
            ``report.html``. It is never overwritten: when it exists, the run goes to the first
            free ``out_dir-2``, ``out_dir-3``, ... (``RunResult.folder`` says which).
        verbose: 1 prints the plan and a progress bar per epoch (through ``log``); 0 nothing.
        origin: the configuration's name for error messages (its file name).
        overwrite: replace ``out_dir`` if it exists.
        report: write ``report.html`` (about a second of drawing); a grid's runs skip it.
        measure_train: also measure the trained model on the training set, as on the test set
            (``RunResult.train``: one more pass over the training data; a grid's runs do, for
            the train-vs-test gap).
        comm: a :class:`sinapsi.distributed.Comm` of several ranks (``sinapsi train`` under
            ``mpirun``): every rank prepares the same data and model, they train together
            (``fit(distributed=comm)``) and only rank 0 writes the run folder; the others
            return a result with no folder and no files.
        before_training: called once the data and model are ready, just before training
            (``sinapsi train`` checks there that every rank got that far).

    The seed spawns four independent streams: data generation, the split, the initial weights
    and dropout, and the shuffling. Raises :class:`~sinapsi.config.ConfigError` for a
    configuration that does not fit the data or the machine's memory, :class:`Diverged` when
    training blows up; a missed target is reported in ``missed``. The files are written into a
    hidden folder beside ``out_dir`` and moved into place at the end: a run that fails or is
    interrupted leaves nothing.
    """
    began = time.perf_counter()
    data = cfg["data"]
    if data["source"] in GENERATED_SOURCES:  # before generating them
        _runs.check_memory(
            {"data": _runs.data_bytes(data["n_samples"], GENERATED_COLUMNS[data["source"]])},
            origin,
            "Use a smaller [data] n_samples.",
        )
    elif data["source"] == "csv" and Path(data["path"]).is_file():  # before reading it
        _runs.check_memory(
            {
                "the CSV file read as text": _runs.CSV_BYTES_PER_BYTE
                * Path(data["path"]).stat().st_size
            },
            origin,
            "Use a sample of the rows (or a machine with more memory).",
        )
    final, staging = Path(out_dir), None
    if comm is None or comm.rank == 0:  # the other ranks of a distributed run write nothing
        try:
            staging = _runs.new_staging(final)
        except OSError as e:
            raise ConfigError(
                f"cannot write the run into {str(final.parent)!r}: {e.strerror or e}. Choose a "
                "folder you can write to."
            ) from None
    try:  # Ctrl-C included: nothing half-written stays
        result = _train_and_save(
            cfg, staging, verbose, origin, log, report, comm, before_training, measure_train
        )
        if staging is not None:
            result.folder = _runs.publish(staging, final, overwrite)
            result.files = [result.folder / path.name for path in result.files]
    finally:
        if staging is not None:
            _runs.discard(staging)
    result.total_seconds = time.perf_counter() - began
    return result


def _check_model_memory(
    cfg: dict[str, Any], data: _Data, architecture: dict[str, Any], origin: str
) -> None:
    """Refuse, before building it, a network whose weights, optimizer state and activations
    (with the data) would not fit in this machine's memory."""
    training = cfg["training"]
    n_features = data.train[0].shape[1]
    batch = min(training["batch_size"], len(data.train[0]))
    if architecture.get("conv"):
        params, activations = convnet_bytes(architecture, training["optimizer"], batch, 256)
    else:
        sizes = [n_features, *cfg["model"]["hidden"], architecture["out_features"]]
        params, activations = _runs.model_bytes(
            sizes, cfg["model"]["batch_norm"], training["optimizer"], batch, 256
        )
    parts = {
        "weights, gradients and optimizer state": params,
        "activations": activations,
        "data": _runs.data_bytes(data.n_samples, n_features + 1),
    }
    layers = "conv blocks or hidden layers," if architecture.get("conv") else "hidden layers"
    _runs.check_memory(
        parts, origin, f"Use fewer or smaller [model] {layers} or a smaller batch_size."
    )


@dataclass
class Prepared:
    """A configured run up to the first epoch: the data, the network, the optimizer and the
    arguments of :func:`sinapsi.fit`. ``sinapsi train`` and the playground both start here, so
    a playground run exported as TOML trains to the same numbers.

    ``fit(prep.model, *prep.data.train, **prep.fit_kwargs)`` trains it; the random streams are
    already in the objects (weights, dropout, shuffling), so nothing else is seeded.
    """

    cfg: dict[str, Any]
    data: _Data
    model: Any
    optimizer: Any
    architecture: dict[str, Any]
    fit_kwargs: dict[str, Any]

    @property
    def features(self) -> list[str] | None:
        """The Playground input features the network sees (``[data] features``), or None."""
        return self.cfg["data"].get("features")

    def saved_model(self) -> Any:
        """The model to save: the feature layer and the Normalization in front when the run
        used them, so it takes the raw data (it shares the trained layers)."""
        return _with_preprocessing(self.model, self.data, self.features)

    @property
    def n_front(self) -> int:
        """How many layers :meth:`saved_model` puts in front of the trained ones (the feature
        layer, the Normalization): the saved model's layer indices are the trained ones plus
        this."""
        return (self.features is not None) + (self.data.standardizer is not None)

    def metadata(self, saved: Any, test: dict[str, float], kind: str) -> dict[str, Any]:
        """What a saved model file records beside the weights (JSON-safe): the architecture,
        task, classes, loss, the layers put in front (``preprocessing``), the CSV's column
        names (``features``, for ``sinapsi predict``) and the test results. ``kind`` labels
        the writer (``sinapsi.cli.mlp`` for ``sinapsi train``: kept when this code left
        cli.py)."""
        from . import __version__

        return _jsonable(
            {
                "kind": kind,
                "sinapsi_version": __version__,
                "architecture": self.architecture,
                "layers": [
                    {"name": name, "type": type(m).__name__, "config": m.get_config()}
                    for name, m in saved.named_modules()
                    if name
                ],
                "task": self.data.task,
                "classes": self.data.classes,
                "loss": self.cfg["training"]["loss"],
                # The model standardizes its input itself (its first layers): None tells
                # readers of older files, where the mean and scale were here, to apply nothing.
                "standardizer": None,
                "preprocessing": ",".join(map(str, range(self.n_front))) or None,
                "features": self.data.features,
                "target": self.data.target,
                "test": test,
            }
        )


def prepare_run(cfg: dict[str, Any], origin: str = "<config>") -> Prepared:
    """Data, model, optimizer and fit arguments of a checked configuration (the seed spawns
    four streams: data generation, the split, the initial weights and dropout, the
    shuffling). Raises :class:`~sinapsi.config.ConfigError` for a configuration that does not
    fit the data or the machine's memory."""
    from .optim import get as get_optimizer
    from .train import EarlyStopping

    streams = np.random.SeedSequence(cfg["training"]["seed"]).spawn(4)
    rngs = [np.random.default_rng(s) for s in streams]
    data = _prepare_data(cfg, origin, rngs)
    cfg = _defaults_by_task(cfg, data.task, origin)
    model_cfg, training = cfg["model"], cfg["training"]
    n_train, n_features = data.train[0].shape
    # BatchNorm1d needs 2+ samples per training batch; fit merges a lone last sample into the
    # previous batch, and refuses batches of one or a single sample: say so here, in one line.
    if model_cfg["batch_norm"] and min(training["batch_size"], n_train) == 1:
        got = (
            "[training] batch_size = 1"
            if training["batch_size"] == 1
            else "[data] leaves a single training sample"
        )
        raise ConfigError(
            f"{origin}: {got} with [model] batch_norm = true: BatchNorm1d needs at least 2 "
            "samples per batch to normalize. Use batch_size >= 2 and more data, or "
            "batch_norm = false."
        )

    n_out = len(data.classes) if data.classes is not None else data.train[1].shape[1]
    layer_keys = ("hidden", "activation", "init", "batch_norm", "dropout")
    architecture = {"in_features": n_features, "out_features": n_out}
    architecture.update({k: model_cfg[k] for k in layer_keys})
    if model_cfg["conv"]:  # a convnet: the conv keys and the image shape, flat rows in
        architecture.update(convnet_architecture(model_cfg, data.image_shape, origin))
    _check_model_memory(cfg, data, architecture, origin)
    build = build_convnet if model_cfg["conv"] else build_mlp
    model = build(**architecture, rng=rngs[2])
    optimizer = get_optimizer(
        training["optimizer"], list(model.parameters()), **optimizer_kwargs(training)
    )
    callbacks = []
    if cfg["data"].get("random_shift"):
        callbacks.append(shift_callback(cfg, data.train[0], data.image_shape))
    if training["early_stopping"] is not None:
        callbacks.append(EarlyStopping(**training["early_stopping"]))
    fit_kwargs = {
        "loss": training["loss"],
        "optimizer": optimizer,
        "epochs": training["epochs"],
        "batch_size": training["batch_size"],
        "validation_data": data.val,
        "metrics": training["metrics"],
        "clip_grad_norm": training["clip_grad_norm"],
        "lr_scheduler": build_scheduler(training["lr_schedule"], optimizer, training["epochs"]),
        "seed": rngs[3],
        "callbacks": callbacks,
    }
    for key in ("l1", "l2"):  # only when set: fit's hot path stays as it was without them
        if training.get(key):
            fit_kwargs[key] = training[key]
    return Prepared(cfg, data, model, optimizer, architecture, fit_kwargs)


def _train_and_save(
    cfg: dict[str, Any],
    out: Path | None,
    verbose: int,
    origin: str,
    log: Callable[[str], None],
    report: bool = True,
    comm: Any = None,
    before_training: Callable[[], None] | None = None,
    measure_train: bool = False,
) -> RunResult:
    """The run itself: data, model, training, test, and the files written into ``out`` (none
    when ``out`` is None: a distributed run's rank > 0)."""
    from . import evaluate, fit

    began = time.perf_counter()
    say = log if verbose else (lambda _: None)
    prep = prepare_run(cfg, origin)
    cfg, data, model, architecture = prep.cfg, prep.data, prep.model, prep.architecture
    training = cfg["training"]
    _say_plan(say, cfg, data, model, architecture, 1 if comm is None else comm.size)
    if before_training is not None:
        before_training()

    measured = sorted(set(training["metrics"]) | (set(cfg["target"]) - {"loss"}))
    start = time.perf_counter()
    # NumPy's overflow warnings are not shown: a loss or weight gone NaN/Inf stops fit, and a
    # loss that exploded while staying finite is caught below; either is one Diverged error.
    with np.errstate(all="ignore"):
        untrained = evaluate(model, *data.test, loss=training["loss"])["loss"]
        try:
            history = fit(
                model, *data.train, **prep.fit_kwargs, verbose=verbose, distributed=comm or False
            )
        except FloatingPointError as e:
            reason = str(e).removeprefix("fit: ")
            raise Diverged(f"run {cfg['name']!r} diverged: {reason} Nothing was saved.") from None
        seconds = time.perf_counter() - start
        test = evaluate(model, *data.test, loss=training["loss"], metrics=measured)
        train = (
            evaluate(model, *data.train, loss=training["loss"], metrics=measured)
            if measure_train
            else {}
        )
    _check_diverged(cfg, untrained, test)
    if training["early_stopping"] is not None:
        monitor = training["early_stopping"]["monitor"]
    else:
        monitor = "val_loss" if data.val is not None else "loss"

    files = [] if out is None else _save_run(out, prep, history, test, report)
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
        train=train,
    )


def _save_run(
    out: Path, prep: Prepared, history: Any, test: dict[str, float], report: bool
) -> list[Path]:
    """Write the run's files into ``out``: model.safetensors, history.json, config.json and
    report.html."""
    from .io import atomic_write, save

    saved = prep.saved_model()
    metadata = prep.metadata(saved, test, kind="sinapsi.cli.mlp")
    files = [save(saved, out / "model.safetensors", metadata=metadata)]
    history.save(out / "history.json")
    files.append(out / "history.json")
    text = json.dumps(to_jsonable(_jsonable(prep.cfg)), indent=2) + "\n"
    files.append(atomic_write(out / "config.json", lambda f: f.write(text.encode("utf-8"))))
    if report:
        files.append(
            _write_report(
                out / "report.html", prep.cfg, saved, history, prep.data, test, prep.n_front
            )
        )
    return files


def _with_preprocessing(model: Any, data: _Data, features: list[str] | None = None) -> Any:
    """The model to save: with a Normalization layer in front when the run standardized its
    features, and the Playground's feature layer before it when the run used ``features``, so
    the saved model takes raw data (it shares the trained layers)."""
    from . import nn

    front = []
    if features is not None:
        front.append(nn.PointFeatures(features))
    if data.standardizer is not None:
        front.append(nn.Normalization.from_standardizer(data.standardizer))
    return nn.Sequential(*front, *model) if front else model


def _check_diverged(cfg: dict[str, Any], untrained: float, test: dict[str, float]) -> None:
    """A test loss that is not finite, or ten times the untrained model's, is a diverged run
    (a learning rate far too high, e.g. lr = 1e9, leaves a finite loss of 1e26)."""
    loss = test["loss"]
    if math.isfinite(loss) and not (math.isfinite(untrained) and loss > 10 * untrained):
        return
    lr = cfg["training"]["lr"]
    raise Diverged(
        f"run {cfg['name']!r} diverged: the test loss is {loss:.4g} after training, against "
        f"{untrained:.4g} before it. Usual causes: a learning rate too high (lr = "
        f"{'the default' if lr is None else f'{lr:g}'}: try 10x lower), or exploding gradients "
        "(set clip_grad_norm = 1.0). Nothing was saved."
    )
