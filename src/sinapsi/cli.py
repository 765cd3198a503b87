"""The ``sinapsi`` command line (also ``python -m sinapsi``).

``sinapsi demo``
    Trains a deep network with the remedies that make depth train (He initialization, batch
    normalization, dropout, Adam with weight decay, a cosine learning-rate schedule) on
    scikit-learn's 8x8 handwritten digits, prints the test accuracy and saves the run. Fails
    (exit 1) below 97% test accuracy.
``sinapsi train CONFIG.toml``
    The same for any data set, network and optimizer described in a TOML file: the schema is in
    :mod:`sinapsi.config` and ``examples/README.md``.
``sinapsi predict MODEL DATA [--out FILE]``
    Applies a saved run's model to a CSV or ``.npy`` file of raw samples: one predicted class
    (its name) or value per row, as CSV; ``--proba`` adds the class probabilities.
``sinapsi word2vec CORPUS.txt --out vectors.txt``
    Trains word vectors (skip-gram or CBOW, negative sampling) on a text file, one sentence a
    line, and writes them in word2vec format (``--binary`` for the binary one), which gensim reads.
``sinapsi analogy vectors.txt man king woman``
    ``man : king :: woman : ?``: the words nearest to ``king - man + woman`` (queen), with scores.

A run writes four files into ``<out>/<name>/`` (a new folder: when ``<name>`` exists, the next
free ``<name>-2``, ``<name>-3``, ...; ``--overwrite`` replaces it instead), all at once at the
end (a failed or interrupted run leaves nothing): ``model.safetensors`` (the model, in
:func:`sinapsi.save`'s format: ``sinapsi.load`` rebuilds it, and it takes raw data: with
``[data] standardize`` its first layer is a :class:`~sinapsi.nn.Normalization` holding the
training set's mean and scale; the classes are in its metadata, read with
``sinapsi.io.load_checkpoint(path).metadata``), ``history.json`` (loss and metrics per epoch),
``config.json`` (the configuration that ran, defaults included; ``sinapsi train`` reads it) and
``report.html`` (curves, network diagram, gradient flow, test metrics: one self-contained page).

Exit codes: 0 done; 1 a ``[target]`` was missed (the run is saved); 2 a usage error (a bad
option, configuration or data file, a run too big for the memory) or a run that diverged
(nothing is saved), told in one line on stderr; 130 interrupted (Ctrl-C), 143 terminated
(SIGTERM): nothing is saved.

Adding a command: write ``_add_<name>(subparsers)``, which declares the command's arguments and
sets ``handler=`` to a function ``(args) -> exit code``, and list it in ``_COMMANDS``. A handler
raises :class:`~sinapsi.config.ConfigError` for a user's mistake.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import signal
import sys
import tempfile
import threading
import warnings
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from ._cli_grid import add_grid
from ._cli_playground import add_playground
from ._cli_predict import add_predict
from ._cli_word2vec import add_analogy, add_word2vec
from ._distributed_cli import RankGuard, on_ranks
from .config import ConfigError, check_run_name, load_config, to_jsonable, validate_config
from .experiment import _LOWER_IS_BETTER, RunResult, TargetMissed, build_mlp, run

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
        "model.safetensors": "the model, scaling included: sinapsi.load() it, or sinapsi predict",
        "history.json": "loss and metrics per epoch",
        "config.json": "the settings that ran: sinapsi train reruns it",
        "report.html": "curves, network, gradient flow, test metrics: open it in a browser",
    }
    if result.folder is not None and result.folder.name != cfg["name"]:
        print(
            f"folder    {result.folder.with_name(cfg['name'])} holds an earlier run, kept: this "
            f"one is {result.folder.name} (--overwrite replaces it instead)"
        )
    width = max(len(str(path)) for path in result.files)
    for i, path in enumerate(result.files):
        print(f"{'saved' if i == 0 else '':<10}{str(path):<{width}}  {notes.get(path.name, '')}")


def _out_folder(out: str) -> Path:
    """``--out`` as a folder this process can write into, checked before anything trains."""
    if "\x00" in out:
        raise ConfigError(f"--out {out!r} must not contain a NUL character.")
    path = Path(out)
    if path.exists() and not path.is_dir():
        raise ConfigError(
            f"--out {out!r} is a file, not a folder. Give the folder for the runs, e.g. --out runs."
        )
    try:
        path.mkdir(parents=True, exist_ok=True)
        tempfile.TemporaryDirectory(dir=path).cleanup()  # can we create (and remove) a folder?
    except OSError as e:
        raise ConfigError(
            f"cannot write the run into --out {out!r}: {e.strerror or e}. Choose a folder you "
            "can write to."
        ) from None
    return path


def _execute(
    cfg: dict[str, Any], args: argparse.Namespace, origin: str, guard: RankGuard | None = None
) -> int:
    """Run ``cfg``, print the report; raise TargetMissed when a target was missed.

    Warnings raised while the run trains are printed after its result (one line each); when
    the run fails, its one-line error says it all. Under ``mpirun -n N`` (``guard``) the ranks
    train together; rank 0 prints and writes the run."""
    if args.name is not None:
        cfg = {**cfg, "name": check_run_name(args.name, "--name")}
    comm = None if guard is None else guard.comm
    main = comm is None or comm.rank == 0
    out_dir = (_out_folder(args.out) if main else Path(args.out)) / cfg["name"]
    log = lambda text: print(text, flush=True)  # noqa: E731 (the plan must precede the bars)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = run(
            cfg,
            out_dir,
            verbose=0 if args.quiet or not main else 1,
            origin=origin,
            log=log,
            overwrite=args.overwrite,
            comm=comm,
            before_training=None if guard is None else guard.agree,
        )
    if main:
        _report(result, cfg)
        for w in {str(w.message): w for w in caught}.values():  # each message once
            print(f"sinapsi: warning: {w.message}", file=sys.stderr)
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
    return on_ranks(lambda guard: _train_on(args, guard))  # under mpirun: every rank


def _train_on(args: argparse.Namespace, guard: RankGuard | None) -> int:
    cfg = load_config(args.config)
    overrides = {"epochs": args.epochs, "seed": args.seed}
    if any(v is not None for v in overrides.values()):
        raw = to_jsonable(cfg)
        raw["training"].update({k: v for k, v in overrides.items() if v is not None})
        cfg = validate_config(raw, args.config)
    return _execute(cfg, args, args.config, guard)


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
        "--overwrite",
        action="store_true",
        help="replace DIR/NAME/ if it exists (default: a new run never touches an old one: it "
        "goes to DIR/NAME-2/, DIR/NAME-3/, ...)",
    )
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
        "accuracy and saves the run into a new folder (never over an older run); exits with 1 "
        "below the target. The same run as a file: examples/digits.toml.",
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
        "run into a new folder (never over an older run). Exits with 1 when a [target] is "
        "missed, 2 when the configuration or data is wrong or training diverged.",
    )
    p.add_argument("config", metavar="CONFIG.toml", help="the run's configuration file")
    p.add_argument("--epochs", type=_int_at_least(1), help="override [training] epochs")
    _add_run_options(p, "[training] seed", "the config's name, else its file name")
    p.set_defaults(handler=_train)


_COMMANDS = (
    _add_demo, _add_train, add_grid, add_predict, add_word2vec, add_analogy, add_playground,
)  # fmt: skip


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


class _Terminated(BaseException):
    """SIGTERM (``kill``, a job scheduler's timeout) met while a command ran."""


@contextlib.contextmanager
def _terminate_as_interrupt() -> Iterator[None]:
    """Turn SIGTERM into an exception while a command runs, so it unwinds as Ctrl-C does and
    leaves no half-written run; only in the main thread, where Python handles signals."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def stop(signum: int, frame: Any) -> None:
        raise _Terminated

    previous = signal.signal(signal.SIGTERM, stop)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line on ``argv`` (default: ``sys.argv[1:]``); return the exit code.

    A bad option exits through argparse (code 2, usage on stderr); a bad configuration or data
    file, or a run that diverged, returns 2 (nothing saved); a missed target 1 (the run saved);
    each with one line on stderr. Ctrl-C returns 130, SIGTERM 143, leaving no half-written
    run; a closed output pipe (``| head``) 141, quietly.
    """
    args = build_parser().parse_args(argv)
    try:
        with _terminate_as_interrupt():
            return args.handler(args)
    except (ConfigError, FloatingPointError) as e:
        print(f"sinapsi: error: {e}", file=sys.stderr)
        return 2
    except TargetMissed as e:
        print(f"sinapsi: error: {e}", file=sys.stderr)
        return 1
    except _Terminated:
        print("sinapsi: terminated", file=sys.stderr)
        return 143
    except KeyboardInterrupt:
        print("sinapsi: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # the reader of the output left (sinapsi predict ... | head)
        _silence_stdout()
        return 141  # as a shell reports a command ended by SIGPIPE; no traceback, like cat


def _silence_stdout() -> None:
    """Point stdout at the null device, so that flushing it at exit does not raise again."""
    try:
        null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError, io.UnsupportedOperation):
        pass  # no real file behind stdout (e.g. captured in tests): nothing will be flushed
