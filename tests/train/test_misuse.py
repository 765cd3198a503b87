"""fit, evaluate and the callbacks met with common mistakes: each one fails before training with
a one-line message naming what was given, or is accepted when its meaning is unambiguous."""

import warnings

import numpy as np
import pytest

import sinapsi as sn
from sinapsi import nn, optim
from sinapsi.train import Callback, EarlyStopping, LearningRateScheduler, ModelCheckpoint


def xy(n=10, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, 3))
    return x, (x[:, 0] > 0).astype(np.int64)


def linear(outputs=2):
    return nn.Sequential(nn.Linear(3, outputs, rng=0))


# ---------------------------------------------------------------------------- targets
def test_a_column_of_class_labels_is_accepted_like_a_vector():
    x, y = xy()
    a = sn.fit(linear(), x, y, epochs=2, seed=0, verbose=0)
    b = sn.fit(linear(), x, y.reshape(-1, 1), epochs=2, seed=0, verbose=0)
    assert a.history["loss"] == b.history["loss"]


def test_a_vector_of_targets_is_accepted_for_a_single_output_regression():
    x, y = xy()
    target = x[:, 0] * 2.0
    a = sn.fit(linear(1), x, target.reshape(-1, 1), loss="mse", epochs=2, seed=0, verbose=0)
    b = sn.fit(linear(1), x, target, loss="mse", epochs=2, seed=0, verbose=0,
               validation_data=(x, target))  # fmt: skip
    assert a.history["loss"] == b.history["loss"]
    assert sn.evaluate(linear(1), x, target, loss="mse")["loss"] > 0


@pytest.mark.parametrize(
    "y_shape, outputs, pattern",
    [
        ((10,), 2, r"fit: the model outputs shape \(N, 2\) but y has shape \(10,\); the loss mse "
                   r"compares them element by element\. Give y the shape \(10, 2\)"),
        ((10, 2, 1), 2, r"fit: the model outputs shape \(N, 2\) but y has shape \(10, 2, 1\)"),
    ],
)  # fmt: skip
def test_regression_targets_of_another_shape_name_the_full_shapes(y_shape, outputs, pattern):
    x, _ = xy()
    with pytest.raises(ValueError, match=pattern):
        sn.fit(linear(outputs), x, np.zeros(y_shape), loss="mse", epochs=1, verbose=0)


def test_a_metric_that_does_not_fit_the_outputs_fails_before_training():
    x, _ = xy()
    seen = []

    class Count(Callback):
        def on_epoch_end(self, epoch, logs):
            seen.append(epoch)

    with pytest.raises(
        ValueError,
        match=r"fit: the metric 'accuracy' cannot be computed on "
        r"these outputs and targets \(checked on the first samples\): accuracy",
    ):
        sn.fit(linear(), x, np.zeros((10, 2)), loss="mse", metrics=["accuracy"], epochs=1,
               callbacks=[Count()], verbose=0)  # fmt: skip
    assert seen == []


# ---------------------------------------------------------------------------- callbacks
def test_a_checkpoint_path_with_an_unknown_placeholder_fails_before_training(tmp_path):
    x, y = xy()
    with pytest.raises(ValueError, match=r"ModelCheckpoint: the path '.*ckpt_\{ep\}\.npz' may "
                       r"contain only the placeholder \{epoch\}"):  # fmt: skip
        sn.fit(
            linear(),
            x,
            y,
            epochs=1,
            verbose=0,
            callbacks=[ModelCheckpoint(tmp_path / "ckpt_{ep}.npz", monitor="loss")],
        )


def test_a_checkpoint_folder_that_cannot_be_written_fails_before_training(tmp_path):
    x, y = xy()
    (tmp_path / "a_file").write_text("not a folder")
    model = linear()
    before = model.state_dict()
    with pytest.raises(OSError, match=r"ModelCheckpoint: cannot write checkpoints to '.*a_file'"
                       r" \(.*\)\. Pass a path in a writable folder"):  # fmt: skip
        sn.fit(
            model,
            x,
            y,
            epochs=1,
            verbose=0,
            callbacks=[ModelCheckpoint(tmp_path / "a_file" / "c.npz", monitor="loss")],
        )
    for k, v in model.state_dict().items():
        np.testing.assert_array_equal(v, before[k])


def test_an_error_in_a_callback_names_the_callback_and_hook():
    class Broken(Callback):
        def on_epoch_end(self, epoch, logs):
            raise RuntimeError("my callback failed")

    x, y = xy()
    with pytest.raises(RuntimeError, match="my callback failed") as info:
        sn.fit(linear(), x, y, epochs=2, callbacks=[Broken()], verbose=0)
    assert any("Broken.on_epoch_end" in note for note in info.value.__notes__)


def test_a_non_finite_monitored_value_counts_as_no_improvement_with_a_warning():
    class NanMonitor(Callback):
        def on_epoch_end(self, epoch, logs):
            logs["score"] = float("nan") if epoch >= 1 else 1.0

    x, y = xy()
    stopper = EarlyStopping(monitor="score", patience=1, restore_best_weights=True)
    with pytest.warns(RuntimeWarning, match=r"EarlyStopping: the monitored 'score' is nan at "
                      r"epoch 2; it counts as no improvement"):  # fmt: skip
        history = sn.fit(linear(), x, y, epochs=6, callbacks=[NanMonitor(), stopper], verbose=0)
    assert len(history) == 3 and stopper.best == 1.0 and stopper.best_epoch == 0


def test_reduce_on_plateau_without_its_monitored_key_warns_once_and_uses_the_loss():
    x, y = xy()
    model = linear()
    opt = optim.SGD(list(model.parameters()), lr=0.1)
    sched = LearningRateScheduler(optim.lr_scheduler.ReduceLROnPlateau(opt, patience=0))
    with pytest.warns(
        RuntimeWarning,
        match=r"LearningRateScheduler: the monitored value "
        r"'val_loss' is not in the logs .* steps on 'loss' instead",
    ) as record:
        sn.fit(model, x, y, optimizer=opt, epochs=3, callbacks=[sched], verbose=0)
    assert len([w for w in record if "LearningRateScheduler" in str(w.message)]) == 1


def test_resuming_a_finished_run_says_there_is_nothing_to_train(tmp_path):
    x, y = xy()
    sn.fit(
        linear(),
        x,
        y,
        epochs=2,
        verbose=0,
        callbacks=[ModelCheckpoint(tmp_path / "c.npz", save_best_only=False)],
    )
    with pytest.warns(UserWarning, match=r"fit\(resume_from=...\): the checkpoint is at epoch 2 "
                      r"and epochs=2: nothing left to train\. Pass epochs > 2"):  # fmt: skip
        history = sn.fit(linear(), x, y, epochs=2, verbose=0, resume_from=tmp_path / "c.npz")
    assert len(history) == 2


def test_healthy_runs_stay_quiet():
    x, y = xy()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        sn.fit(linear(), x, y, epochs=2, validation_split=0.2, metrics=["accuracy"], verbose=0,
               callbacks=[EarlyStopping(patience=1)])  # fmt: skip


# ---------------------------------------------------------------------------- data types
@pytest.mark.parametrize(
    "make_x, make_y, loss, error, pattern",
    [
        (lambda x: x.astype(str), lambda y: y, "cross_entropy", TypeError,
         r"fit: x must hold real numbers; got dtype <U\d+ with shape \(10, 3\)\. Convert"),
        (lambda x: x.astype(complex), lambda y: y, "cross_entropy", TypeError,
         r"fit: x must hold real numbers; got dtype complex128"),
        (lambda x: x, lambda y: np.zeros((10, 2)).astype(str), "mse", TypeError,
         r"fit: the loss mse needs numbers as targets; y is <U\d+ with shape \(10, 2\)"),
        (lambda x: [[1.0, 2.0, 3.0]] * 9 + [[1.0, 2.0]], lambda y: y, "cross_entropy", ValueError,
         r"fit: x must be a rectangular array \(every sample of the same shape\)"),
    ],
)  # fmt: skip
def test_inputs_and_targets_that_are_not_numbers_are_refused(make_x, make_y, loss, error,
                                                             pattern):  # fmt: skip
    x, y = xy()
    with pytest.raises(error, match=pattern):
        sn.fit(linear(), make_x(x), make_y(y), loss=loss, epochs=1, verbose=0)


def test_predict_refuses_text():
    with pytest.raises(TypeError, match=r"predict: x must hold real numbers; got dtype <U"):
        sn.predict(linear(), np.array([["a", "b", "c"]]))


# ---------------------------------------------------------------------------- arguments
def test_numpy_integers_are_accepted_for_epochs_and_batch_size():
    x, y = xy()
    history = sn.fit(linear(), x, y, epochs=np.int64(2), batch_size=np.int32(4), verbose=0)
    assert len(history) == 2
    assert sn.predict(linear(), x, batch_size=np.int64(3)).shape == (10, 2)


@pytest.mark.parametrize(
    "call, pattern",
    [
        (lambda x, y: sn.fit(linear(), x, y, epochs=True, verbose=0),
         r"fit: epochs must be an integer >= 1\. Received: epochs=True"),
        (lambda x, y: sn.fit(linear(), x, y, batch_size=2.0, verbose=0),
         r"fit: batch_size must be an integer >= 1\. Received: batch_size=2\.0"),
        (lambda x, y: sn.evaluate(linear(), x, y, batch_size=0),
         r"evaluate: batch_size must be an integer >= 1\. Received: batch_size=0"),
    ],
)  # fmt: skip
def test_integer_arguments_name_what_was_given(call, pattern):
    x, y = xy()
    with pytest.raises(ValueError, match=pattern):
        call(x, y)
