"""Train/eval mode across threads (issue 14.2): ``predict`` and ``evaluate`` in one thread never
change the mode that a concurrent ``fit`` in another thread sees, and the reverse.

The rule: a forward pass sees the innermost ``training_mode`` block of its own thread, else
the module's own flag (set by ``train()``/``eval()``). ``fit`` trains inside
``training_mode(True)``; ``predict``/``evaluate`` run inside ``training_mode(False)``.
"""

import threading

import numpy as np
import pytest

import sinapsi as sn
from sinapsi import nn
from sinapsi.nn.module import training_mode
from sinapsi.train import Callback

WAIT = 20.0  # seconds: a probe that deadlocks fails instead of hanging


def dropout_mlp():
    return nn.Sequential(
        nn.Linear(3, 8, rng=0), nn.ReLU(), nn.Dropout(0.5, rng=1), nn.Linear(8, 2, rng=2)
    )


def test_training_mode_overrides_the_flag_in_this_thread_only():
    model = dropout_mlp().train()
    seen = {}

    def other():
        seen["other"] = model[2].training

    with training_mode(False):
        assert not model.training and not model[2].training
        with training_mode(True):
            assert model[2].training
        assert not model[2].training
        t = threading.Thread(target=other)
        t.start()
        t.join()
    assert seen["other"] is True  # the other thread sees the module's own flag
    assert model.training  # the flag itself never changed
    model.eval()
    with training_mode(True):
        assert model[2].training
    assert not model[2].training


def test_training_mode_rejects_a_non_bool():
    with pytest.raises(TypeError, match=r"training_mode: mode must be True or False.*'yes'"):
        training_mode("yes")


def test_predict_in_another_thread_does_not_change_the_mode_fit_sees():
    """A deterministic two-thread probe: predict pauses inside its forward pass (after it set
    its mode) while fit runs a whole training step and starts a new epoch; then predict goes on.
    Before the fix predict flipped the shared flag (fit trained without dropout) and fit's
    ``model.train()`` at the epoch start turned dropout on inside predict."""
    model = dropout_mlp()
    fit_thread: dict[str, int] = {}
    records: list[tuple[str, bool]] = []
    predict_inside, fit_stepped = threading.Event(), threading.Event()
    predict_dropout_ran = threading.Event()

    def who() -> str:
        return "fit" if threading.get_ident() == fit_thread.get("id") else "predict"

    def record_dropout_mode(module, inputs, out):
        if who() == "fit" and not fit_thread.get("training"):
            return  # fit's check of the first samples before training runs in eval mode
        records.append((who(), module.training))
        if who() == "predict":
            predict_dropout_ran.set()

    def pause_predict(module, inputs, out):  # on the first Linear: before Dropout runs
        if who() == "predict" and not predict_inside.is_set():
            predict_inside.set()
            assert fit_stepped.wait(WAIT)

    model[2].register_forward_hook(record_dropout_mode)
    model[0].register_forward_hook(pause_predict)

    class Sync(Callback):
        def on_train_begin(self, logs):
            fit_thread["training"] = 1

        def on_epoch_begin(self, epoch, logs):
            if epoch == 1:
                assert predict_inside.wait(WAIT)

        def on_batch_end(self, batch, logs):
            if predict_inside.is_set() and len(self.trainer.history.epoch) >= 2:
                fit_stepped.set()  # fit has started epoch 3 (model.train() before the fix)
                assert predict_dropout_ran.wait(WAIT)  # predict goes on while fit is mid-epoch

    x = np.random.default_rng(0).standard_normal((32, 3))
    y = (x[:, 0] > 0).astype(np.int64)
    errors = []

    def run_fit():
        fit_thread["id"] = threading.get_ident()
        try:
            sn.fit(model, x, y, epochs=3, batch_size=16, callbacks=[Sync()], seed=0, verbose=0)
        except BaseException as e:  # noqa: BLE001 - reported by the main thread
            errors.append(e)
            predict_inside.set()

    t = threading.Thread(target=run_fit)
    t.start()
    while not fit_thread:
        pass
    p = sn.predict(model, x[:4])
    t.join(WAIT)
    assert not errors, errors
    assert p.shape == (4, 2)
    fit_modes = {mode for name, mode in records if name == "fit"}
    predict_modes = [mode for name, mode in records if name == "predict"]
    assert fit_modes == {True}, "fit trained in eval mode while predict ran in another thread"
    assert predict_modes == [False], "predict ran in training mode while fit ran"


def test_evaluate_inside_fit_is_eval_and_fit_trains_whatever_the_flag():
    """fit's validation runs in eval mode; ``model.eval()`` from another thread (or from a
    callback) does not stop dropout in the training steps that follow."""
    model = dropout_mlp()
    records: list[bool] = []

    class EvalFromOutside(Callback):
        def on_train_begin(self, logs):  # after fit's eval-mode check of the first samples
            self.trainer.model[2].register_forward_hook(lambda m, i, o: records.append(m.training))

        def on_batch_end(self, batch, logs):
            t = threading.Thread(target=self.trainer.model.eval)
            t.start()
            t.join()

    x = np.random.default_rng(1).standard_normal((32, 3))
    y = (x[:, 0] > 0).astype(np.int64)
    sn.fit(model, x, y, epochs=2, batch_size=16, validation_data=(x, y),
           callbacks=[EvalFromOutside()], seed=0, verbose=0)  # fmt: skip
    # per epoch: 2 training batches (train mode), then one validation batch (eval mode)
    assert records == [True, True, False] * 2
    assert not model.training  # fit leaves the model in eval mode, as documented


def test_a_second_fit_of_the_same_model_while_one_runs_is_refused():
    """Two fits of one model would mix their updates and modes: the second one is refused
    clearly, in another thread as in a callback of the first."""
    model = dropout_mlp()
    x = np.random.default_rng(2).standard_normal((32, 3))
    y = (x[:, 0] > 0).astype(np.int64)
    started, release = threading.Event(), threading.Event()
    inner_errors = []

    class Hold(Callback):
        def on_epoch_begin(self, epoch, logs):
            started.set()
            assert release.wait(WAIT)
            try:  # a nested fit from a callback of the running one
                sn.fit(model, x, y, epochs=1, verbose=0)
            except RuntimeError as e:
                inner_errors.append(e)

    t = threading.Thread(target=lambda: sn.fit(model, x, y, epochs=1, callbacks=[Hold()],
                                               verbose=0))  # fmt: skip
    t.start()
    assert started.wait(WAIT)
    try:
        with pytest.raises(RuntimeError, match=r"fit: this model is already being trained by "
                           r"another fit \(thread '.+'\).*copy\.deepcopy\(model\)"):  # fmt: skip
            sn.fit(model, x, y, epochs=1, verbose=0)
    finally:
        release.set()
        t.join(WAIT)
    assert len(inner_errors) == 1 and "already being trained" in str(inner_errors[0])
    sn.fit(model, x, y, epochs=1, verbose=0)  # once the first fit is over, fit works again
