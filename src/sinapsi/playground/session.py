"""One browser tab's playground: its settings, its run and the thread that trains it.

A run is what ``sinapsi train`` would do with :func:`~.protocol.settings_to_config` of the
settings: :func:`sinapsi.experiment.prepare_run`, then ONE :func:`sinapsi.fit` call (in a
thread, for up to a million epochs) with a callback that records the losses after each epoch,
holds while paused, and runs the session's commands (a frame, a weight edited, the learning
rate, an export) between epochs, so the model is only ever touched by its own thread. That is
why an exported TOML run by ``sinapsi train`` gives the same test loss at the same epoch.

Every method is thread-safe. Messages for the page (data, network, settings, stopped, frames)
come out of :meth:`Session.next_message`, in order; a frame only after the previous one was
acknowledged (:meth:`Session.ack`), so a slow page never falls behind.
"""

from __future__ import annotations

import base64
import collections
import math
import shutil
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np

from . import export, protocol
from .protocol import ProtocolError, settings_to_config, validate_settings

__all__ = ["Session"]

_MAX_EPOCHS = 1_000_000
_COMMAND_TIMEOUT = 30.0  # seconds a command waits for the training thread (a long epoch)
_GENERATED_DOMAIN = (-6.0, 6.0)


class _Stopped(BaseException):
    """Raised inside fit by the session's callback to end the run (reset, close)."""


class _Command:
    """A function to run on the training thread between epochs (``anytime``: between two
    steps, for what only reads the model, such as a frame), and its result."""

    def __init__(self, fn: Any, anytime: bool = False) -> None:
        self.fn, self.anytime, self.done = fn, anytime, threading.Event()
        self.result: Any = None
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            self.result = self.fn()
        except Exception as e:  # given back to the caller
            self.error = e
        finally:
            self.done.set()


class _Run:
    """One run: the prepared configuration, its thread and what it measured."""

    def __init__(self, prep: Any, raw: Any, settings: dict[str, Any], builder: Any) -> None:
        self.prep, self.raw, self.settings, self.builder = prep, raw, settings, builder
        self.epoch = 0
        self.losses: list[tuple[float, float]] = []  # (train, test) after each epoch, 0 first
        self.commands: list[_Command] = []
        self.steps = 0
        self.stop = False
        self.done = False
        self.trainer: Any = None
        self.lr_changed_at: int | None = None
        self.weights_edited_at: int | None = None
        self.rates = collections.deque(maxlen=20)  # (time, epoch) while training
        self.thread: threading.Thread | None = None


def _make_stream_callback(session: Session, run: _Run) -> Any:
    from ..train import Callback

    class _Stream(Callback):
        """Feeds the session: losses after each epoch, a hold while paused, the commands."""

        def on_train_begin(self, logs: dict[str, Any]) -> None:
            run.trainer = self.trainer
            session._record(run, 0)
            session._hold(run)

        def on_batch_end(self, batch: int, logs: dict[str, Any]) -> None:
            if run.stop:
                raise _Stopped
            if run.commands:  # a frame waits one step, not the rest of a long epoch
                session._run_anytime(run)

        def on_epoch_end(self, epoch: int, logs: dict[str, Any]) -> None:
            session._record(run, epoch + 1, logs.get("loss"))
            session._hold(run)

    return _Stream()


class Session:
    """A playground session: call :meth:`start`, then :meth:`handle` for each client message
    and :meth:`next_message` for what to send; :meth:`close` at the end (stops the thread
    within a second and deletes the session's temporary folder)."""

    def __init__(self, settings: dict[str, Any] | None = None) -> None:
        self.settings = validate_settings(settings or {})
        self.folder = Path(tempfile.mkdtemp(prefix="sinapsi-playground-"))
        self._upload: Path | None = None
        self._upload_name: str | None = None
        self._cond = threading.Condition()
        self._run: _Run | None = None
        self._playing = False
        self._acked = True
        self._version = 0
        self._outbox: collections.deque[dict[str, Any]] = collections.deque()
        self.closed = False

    # -------------------------------------------------------------------------- public
    def hello(self) -> dict[str, Any]:
        from .. import __version__

        return {
            "type": "hello",
            "settings": dict(self.settings),
            "bounds": protocol.BOUNDS,
            "features": list(protocol.FEATURES),
            "version": __version__,
        }

    def start(self) -> None:
        """Prepare the first run (paused at epoch 0); its data and network are queued."""
        self._reset(self.settings)

    @property
    def epoch(self) -> int:
        run = self._run
        return 0 if run is None else run.epoch

    @property
    def playing(self) -> bool:
        return self._playing

    def losses(self) -> list[tuple[float, float]]:
        """(train loss, test loss) at epoch 0, 1, ... of the current run."""
        run = self._run
        return [] if run is None else list(run.losses)

    def handle(self, kind: str, payload: dict[str, Any]) -> dict[str, Any] | None:
        """Apply one checked client message (:func:`~.protocol.validate_message`); return the
        reply to send now (an export), or None. Raises :class:`ProtocolError` (one line)."""
        if kind == "ack":
            self.ack()
        elif kind in ("play", "pause"):
            self._set_playing(kind == "play")
        elif kind == "step":
            self.step()
        elif kind == "reset":
            self._reset(self.settings)
        elif kind == "regenerate":
            seed = (self.settings["seed"] + 1) % (protocol.BOUNDS["seed"]["max"] + 1)
            self._reset({**self.settings, "seed": seed}, announce=True)
        elif kind == "settings":
            self.apply_settings(payload["settings"])
        elif kind == "set_weight":
            self.set_weight(payload["layer"], payload["row"], payload["col"], payload["value"])
        elif kind == "upload":
            self.upload(payload["name"], payload["text"])
        elif kind == "export":
            return self.export(payload["what"])
        else:  # validate_message lets no other type through
            raise ProtocolError(f"unknown message type {kind!r}.")
        return None

    def ack(self) -> None:
        with self._cond:
            self._acked = True
            self._cond.notify_all()

    def step(self) -> None:
        """Train exactly one more epoch, then stay paused."""
        with self._cond:
            if self._playing:  # the frame's "playing" changes
                self._playing = False
                self._version += 1
            if self._run is not None:
                self._run.steps += 1
            self._cond.notify_all()

    def apply_settings(self, partial: Any) -> None:
        """Apply a partial settings object: a new run unless only live or display keys changed
        (the learning rate goes to the running optimizer at its next epoch)."""
        new = validate_settings(partial, self.settings)
        if new["dataset"] == "upload" and self._upload is None:
            raise ProtocolError("setting dataset = 'upload' needs a CSV file: upload one first.")
        if protocol.needs_reset(self.settings, new):
            self._reset(new, announce=True)
            return
        if new["learningRate"] != self.settings["learningRate"] and self._run is not None:
            self._set_lr(self._run, new["learningRate"])
        with self._cond:
            self.settings = new
            self._outbox.append({"type": "settings", "settings": dict(new)})
            self._cond.notify_all()

    def set_weight(self, layer: int, row: int, col: int, value: float) -> None:
        """weight[row][col] = value in the ``layer``-th Linear layer (row: its output neuron,
        col: its input), live."""
        run = self._current()

        def edit() -> None:
            from ..viz._mpl import linear_layers  # the order of the frame's "weights"

            linears = linear_layers(run.prep.model)
            if layer >= len(linears):
                raise ProtocolError(
                    f"set_weight: layer {layer} does not exist; the network has "
                    f"{len(linears)} weight layers (0..{len(linears) - 1})."
                )
            w = linears[layer].weight.data
            if row >= w.shape[0] or col >= w.shape[1]:
                raise ProtocolError(
                    f"set_weight: weight [{row}][{col}] is outside layer {layer}'s "
                    f"{w.shape[0]} x {w.shape[1]} weights."
                )
            w[row, col] = value
            if run.weights_edited_at is None:
                run.weights_edited_at = run.epoch

        self._submit(run, edit)
        self._bump()

    def upload(self, name: str, text: str) -> None:
        """Keep an uploaded CSV (x1, x2, target) in the session's folder and train on it."""
        problem = protocol.check_upload(name, text)
        path = self.folder / "upload.csv"
        previous = path.read_bytes() if path.exists() else None
        path.write_text(text, encoding="utf-8")
        old = (self._upload, self._upload_name)
        self._upload, self._upload_name = path, name
        new = validate_settings({"dataset": "upload", "problem": problem}, self.settings)
        try:
            self._reset(new, announce=True)
        except Exception:
            self._upload, self._upload_name = old
            if previous is None:
                path.unlink()
            else:
                path.write_bytes(previous)
            raise

    def next_message(self, last_version: int, timeout: float) -> tuple[dict[str, Any], int] | None:
        """The next message for the page and the state version it shows: queued messages
        first (data, network, settings, stopped), else a frame when the state changed since
        ``last_version`` and the last frame was acknowledged; None after ``timeout`` s."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                if self._outbox:
                    return self._outbox.popleft(), last_version
                run = self._run
                if run is not None and self._acked and self._version != last_version:
                    version = self._version
                    break
                left = deadline - time.monotonic()
                if self.closed or left <= 0:
                    return None
                self._cond.wait(left)

        def build() -> tuple[dict[str, Any], int]:
            with self._cond:
                shown = self._version  # what the frame shows (later changes: another frame)
            return self._frame(run), shown

        try:
            frame, version = self._submit(run, build, anytime=True)
        except Exception as e:  # the page is told once; the next change tries again
            text = " ".join(str(e).split())[:300]
            return {"type": "error", "message": f"cannot draw this state: {text}"}, version
        with self._cond:
            self._acked = False
        return frame, version

    def export(self, what: str) -> dict[str, Any]:
        """An export message: the run as TOML (``sinapsi train`` reproduces it), the model
        (``sinapsi.load`` reads it) or the HTML report, base64-encoded."""
        run = self._current()
        if what not in ("toml", "model", "report"):
            raise ProtocolError(f"export: what = {what!r} must be toml, model or report.")
        if what == "toml":
            upload = self._upload_name if run.settings["dataset"] == "upload" else None
            filename, mime, data = self._submit(run, lambda: export.toml(run, upload))
        else:
            filename, mime, data = self._submit(run, lambda: export.file(run, what, self.folder))
        return {
            "type": "export",
            "what": what,
            "filename": filename,
            "mime": mime,
            "base64": base64.b64encode(data).decode("ascii"),
        }

    def close(self) -> None:
        """Stop the training thread (within a second) and delete the temporary folder."""
        with self._cond:
            self.closed = True
            run = self._run
            if run is not None:
                run.stop = True
            self._cond.notify_all()
        if run is not None and run.thread is not None:
            run.thread.join(timeout=1.0)
        shutil.rmtree(self.folder, ignore_errors=True)

    # -------------------------------------------------------------------------- runs
    def _current(self) -> _Run:
        run = self._run
        if run is None:
            raise ProtocolError("no run yet: the session is starting; try again in a moment.")
        return run

    def _bump(self) -> None:
        with self._cond:
            self._version += 1
            self._cond.notify_all()

    def _set_playing(self, playing: bool) -> None:
        with self._cond:
            self._playing = playing
            self._version += 1
            self._cond.notify_all()

    def _prepare(self, settings: dict[str, Any]) -> _Run:
        """The run of ``settings``, prepared (data, model) but not started."""
        from ..config import ConfigError, validate_config
        from ..experiment import prepare_run
        from .frames import FrameBuilder

        cfg = settings_to_config(settings, str(self._upload) if self._upload else None)
        cfg["training"]["epochs"] = _MAX_EPOCHS
        try:
            checked = validate_config(cfg, "playground")
            prep = prepare_run(checked, origin="playground")
            raw = self._raw_points(prep)
        except ConfigError as e:
            raise ProtocolError(" ".join(str(e).split())) from None
        domain = (
            _GENERATED_DOMAIN
            if self._upload is None or settings["dataset"] != "upload"
            else (_domain(raw))
        )
        builder = FrameBuilder(prep.model, prep.features, domain, prep.data.task)
        return _Run(prep, raw, dict(settings), builder)

    @staticmethod
    def _raw_points(prep: Any) -> dict[str, Any]:
        """The run's train and test points before the input features (the page draws them)."""
        data = prep.data
        return {"train": (data.raw_train_x, data.train[1]), "test": (data.raw_test_x, data.test[1])}

    def _reset(self, settings: dict[str, Any], announce: bool = False) -> None:
        """Replace the run by a new one of ``settings`` (prepared first: a failure leaves the
        old run as it was), paused at epoch 0; queue its data and network messages."""
        new = self._prepare(settings)
        new.thread = threading.Thread(
            target=self._train, args=(new,), name="sinapsi-playground-run", daemon=True
        )  # before the run is seen: commands for it wait for this thread
        with self._cond:
            if self.closed:
                return
            old = self._run
            if old is not None:
                old.stop = True
            self._run = new
            self.settings = dict(settings)
            self._playing = False
            if announce:
                self._outbox.append({"type": "settings", "settings": dict(settings)})
            self._outbox.append(self._data_message(new))
            self._outbox.append(self._network_message(new))
            self._version += 1
            self._cond.notify_all()
        if old is not None and old.thread is not None:
            old.thread.join(timeout=1.0)
        new.thread.start()

    def _train(self, run: _Run) -> None:
        """The training thread: one fit() for the whole run."""
        from .. import fit

        kwargs = dict(run.prep.fit_kwargs)
        kwargs.update(epochs=_MAX_EPOCHS, verbose=0)
        kwargs["callbacks"] = [*kwargs["callbacks"], _make_stream_callback(self, run)]
        stopped = None
        try:
            with np.errstate(all="ignore"):
                fit(run.prep.model, *run.prep.data.train, **kwargs)
        except _Stopped:
            pass
        except Exception as e:  # diverged (NaN/Inf), or anything else: the page is told
            text = " ".join(str(e).split()).removeprefix("fit: ")
            stopped = {"type": "stopped", "epoch": run.epoch, "message": text}
        finally:
            with self._cond:
                run.done = True
                if stopped is not None and self._run is run:
                    self._playing = False
                    self._outbox.append(stopped)
                    self._version += 1
                commands, run.commands = run.commands, []
                self._cond.notify_all()
            for command in commands:
                command.run()

    def _submit(self, run: _Run, fn: Any, anytime: bool = False) -> Any:
        """Run ``fn`` on ``run``'s training thread between epochs (``anytime``: between two
        steps), or here once the thread has ended, and return its result."""
        command = _Command(fn, anytime)
        with self._cond:
            queued = not run.done and run.thread is not None
            if queued:
                run.commands.append(command)
                self._cond.notify_all()
        if not queued:
            command.run()
        elif not command.done.wait(_COMMAND_TIMEOUT):
            raise ProtocolError("the training thread did not answer in time; press reset.")
        if command.error is not None:
            raise command.error
        return command.result

    def _set_lr(self, run: _Run, lr: float) -> None:
        def change() -> None:
            for group in run.prep.optimizer.param_groups:
                group["lr"] = lr
            run.settings["learningRate"] = lr
            if run.epoch > 0 and run.lr_changed_at is None:
                run.lr_changed_at = run.epoch

        self._submit(run, change)

    # -------------------------------------------------------------------------- in the thread
    def _record(self, run: _Run, epoch: int, train: float | None = None) -> None:
        """After epoch ``epoch`` (0: before training): the train and test losses. The
        training loss after an epoch is fit's own (the mean over the epoch's batches, as
        Keras and ``sinapsi train``'s history show it), so it costs no extra pass."""
        from .. import evaluate

        loss = run.prep.fit_kwargs["loss"]
        model, data = run.prep.model, run.prep.data
        if train is None:
            train = evaluate(model, *data.train, loss=loss)["loss"]
        test = evaluate(model, *data.test, loss=loss)["loss"]
        now = time.perf_counter()
        with self._cond:
            run.epoch = epoch
            run.losses.append((float(train), float(test)))
            if self._playing:
                run.rates.append((now, epoch))
            else:
                run.rates.clear()
            if self._run is run:
                self._version += 1
            self._cond.notify_all()
        if not (math.isfinite(train) and math.isfinite(test)):
            raise FloatingPointError(
                f"the loss became {test if not math.isfinite(test) else train} at epoch "
                f"{epoch}. Lower the learning rate (try 10x lower) or set clipGradNorm, then "
                "press reset."
            )

    def _run_anytime(self, run: _Run) -> None:
        """Between two steps: the queued commands that only read the model (frames)."""
        with self._cond:
            now = [c for c in run.commands if c.anytime]
            run.commands = [c for c in run.commands if not c.anytime]
        for command in now:
            command.run()

    def _hold(self, run: _Run) -> None:
        """Between epochs: run the queued commands; wait while paused; end on stop."""
        while True:
            with self._cond:
                if run.stop:
                    raise _Stopped
                commands, run.commands = run.commands, []
                if not commands:
                    if self._playing:
                        return
                    if run.steps > 0:
                        run.steps -= 1
                        return
                    self._cond.wait(0.5)
                    continue
            for command in commands:
                command.run()

    def _frame(self, run: _Run) -> dict[str, Any]:
        from .frames import dead_fractions, diagnose, grad_norms

        model, s = run.prep.model, run.settings
        content = run.builder.frame(model)
        norms = grad_norms(model)
        dead = dead_fractions(model, run.prep.data.train[0]) if s["activation"] == "relu" else {}
        train, test = run.losses[-1] if run.losses else (math.nan, math.nan)
        rates = list(run.rates)
        eps = 0.0
        if len(rates) > 1 and rates[-1][0] > rates[0][0]:
            eps = (rates[-1][1] - rates[0][1]) / (rates[-1][0] - rates[0][0])
        return {
            "type": "frame",
            "epoch": run.epoch,
            "trainLoss": _finite(train),
            "testLoss": _finite(test),
            "playing": self._playing,
            **content,
            "gradNorms": [{"layer": k, "norm": _finite(v)} for k, v in norms.items()],
            "diagnosis": diagnose(
                norms, dead, s["activation"], s["init"], s["batchNorm"], s["clipGradNorm"]
            ),
            "samplesPerSecond": eps * len(run.prep.data.train[0]),
            "epochsPerSecond": eps,
        }

    # -------------------------------------------------------------------------- messages
    @staticmethod
    def _data_message(run: _Run) -> dict[str, Any]:
        def part(xy: tuple[np.ndarray, np.ndarray]) -> dict[str, Any]:
            x, y = xy
            y = np.asarray(y).reshape(len(y), -1)[:, 0]
            return {"x": np.round(x.astype(np.float64), 4).tolist(), "y": y.tolist()}

        return {
            "type": "data",
            "domain": list(run.builder.domain),
            "train": part(run.raw["train"]),
            "test": part(run.raw["test"]),
            "problem": run.prep.data.task,
        }

    @staticmethod
    def _network_message(run: _Run) -> dict[str, Any]:
        hidden = run.prep.architecture["hidden"]
        return {
            "type": "network",
            "layers": [len(run.prep.features), *hidden, 1],
            "features": list(run.prep.features),
            "inputMaps": run.builder.input_maps(),
            "grid": run.builder.grid,
            # the output nodes' names: an uploaded CSV's own labels ("in", "out"), else 0, 1
            "classes": [str(c) for c in run.prep.data.classes] if run.prep.data.classes else None,
        }


def _finite(value: float) -> float | None:
    return float(value) if math.isfinite(value) else None


def _domain(raw: dict[str, Any]) -> tuple[float, float]:
    """A square plane around an uploaded data set's points, symmetric about 0."""
    points = np.concatenate([raw["train"][0], raw["test"][0]])
    reach = float(np.abs(points).max()) if points.size else 1.0
    reach = reach * 1.1 if math.isfinite(reach) and reach > 0 else 1.0
    return (-reach, reach)
