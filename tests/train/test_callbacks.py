"""Callbacks: early stopping restores the best weights, checkpoints survive a crash mid-write,
the gradient monitor names vanishing layers, schedules step, progress prints."""

import json
import warnings

import numpy as np
import pytest

import sinapsi as sn
from sinapsi import io, nn, optim
from sinapsi.train import (
    Callback,
    EarlyStopping,
    GradientMonitor,
    LearningRateScheduler,
    ModelCheckpoint,
)


class ScriptedLogs(Callback):
    """Replaces the epoch's val_loss with a scripted sequence and marks the weights with the
    epoch number, so which weights were restored is visible."""

    def __init__(self, values):
        self.values = values

    def on_epoch_end(self, epoch, logs):
        logs["val_loss"] = self.values[epoch]
        for p in self.trainer.model.parameters():
            p.data[...] = epoch + 1


def data(n=40, seed=0):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, 3)), rng.integers(0, 2, n)


def model():
    return nn.Sequential(nn.Linear(3, 4, rng=0), nn.ReLU(), nn.Linear(4, 2, rng=1))


def test_early_stopping_stops_after_patience_and_restores_best_weights():
    x, y = data()
    m = model()
    stopper = EarlyStopping(monitor="val_loss", patience=2, restore_best_weights=True)
    # best at epoch 3 (index 2); epochs 4 and 5 do not improve; stop at the 6th
    script = ScriptedLogs([5.0, 4.0, 1.0, 2.0, 3.0, 4.0, 0.5, 0.1])
    h = sn.fit(m, x, y, epochs=8, callbacks=[script, stopper], verbose=0)
    assert len(h) == 6 and stopper.stopped_epoch == 5 and stopper.best_epoch == 2
    assert all((p.data == 3).all() for p in m.parameters())  # weights of the best epoch


def test_early_stopping_min_delta_and_max_mode():
    x, y = data()
    stopper = EarlyStopping(monitor="val_loss", patience=0, min_delta=0.5)
    h = sn.fit(model(), x, y, epochs=5, callbacks=[ScriptedLogs([3.0, 2.8, 1.0, 0.9, 0.1]),
                                                   stopper], verbose=0)  # fmt: skip
    assert len(h) == 2  # 2.8 is not 0.5 better than 3.0
    assert EarlyStopping(monitor="val_accuracy").mode == "max"
    with pytest.raises(ValueError, match=r"'mode' parameter of EarlyStopping must be a str"):
        EarlyStopping(mode="up")


def test_missing_monitor_warns_listing_the_available_keys():
    x, y = data()
    with pytest.warns(RuntimeWarning, match=r"'val_loss' is not in the logs \(available: .*loss"):
        sn.fit(model(), x, y, epochs=1, callbacks=[EarlyStopping()], verbose=0)


def test_model_checkpoint_saves_the_best_weights_atomically(tmp_path):
    x, y = data()
    m = model()
    path = tmp_path / "best.npz"
    ckpt = ModelCheckpoint(path, monitor="val_loss")
    sn.fit(m, x, y, epochs=4, callbacks=[ScriptedLogs([3.0, 1.0, 2.0, 4.0]), ckpt], verbose=0)
    checkpoint = io.load_checkpoint(path)
    assert checkpoint.metadata["epoch"] == 2 and checkpoint.metadata["logs"]["val_loss"] == 1.0
    assert all((p.data == 2).all() for p in checkpoint.model.parameters())  # epoch 2's weights
    assert checkpoint.optimizer_state is not None and checkpoint.training_state["epoch"] == 2
    assert ckpt.saved == [str(path), str(path)]  # epochs 1 and 2 improved
    assert list(tmp_path.iterdir()) == [path]  # no temporary files left behind


def test_model_checkpoint_every_n_epochs_with_epoch_in_the_name(tmp_path):
    x, y = data()
    ckpt = ModelCheckpoint(tmp_path / "ep{epoch}.npz", save_best_only=False, every_n_epochs=2)
    sn.fit(model(), x, y, epochs=5, callbacks=[ckpt], verbose=0)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ep2.npz", "ep4.npz"]


def test_a_crash_mid_write_leaves_the_previous_checkpoint_intact(tmp_path, monkeypatch):
    path = tmp_path / "model.safetensors"
    io.save_arrays(path, {"w": np.ones(3)}, {"epoch": 1})

    def crash(file, **arrays):
        file.write(b"PK\x03\x04 half a zip")
        raise OSError("disk full (simulated)")

    monkeypatch.setattr(np, "savez", crash)
    with pytest.raises(OSError, match="simulated"):
        io.save_arrays(path, {"w": np.zeros(3)}, {"epoch": 2})
    monkeypatch.undo()
    arrays, meta = io.load_arrays(path)
    np.testing.assert_array_equal(arrays["w"], np.ones(3))
    assert meta["epoch"] == 1
    assert list(tmp_path.iterdir()) == [path]


def test_gradient_monitor_names_the_vanishing_layer_and_the_remedies():
    rng = np.random.default_rng(0)
    layers = []
    for _ in range(12):
        layers += [nn.Linear(16, 16, rng=rng), nn.Sigmoid()]
    deep = nn.Sequential(*layers, nn.Linear(16, 2, rng=rng))
    x, y = rng.standard_normal((64, 16)), rng.integers(0, 2, 64)
    with pytest.warns(RuntimeWarning) as record:
        sn.fit(deep, x, y, epochs=1, optimizer="sgd", callbacks=[GradientMonitor(vanish=1e-3)],
               verbose=0)  # fmt: skip
    messages = [str(w.message) for w in record if "vanishes" in str(w.message)]
    assert messages and "layer 0 Linear vanishes" in messages[0]
    assert "ReLU" in messages[0] and "He initialization" in messages[0]


def test_gradient_monitor_is_quiet_for_a_healthy_network():
    x, y = data()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        sn.fit(model(), x, y, epochs=2, callbacks=[GradientMonitor()], verbose=0)


def test_reduce_on_plateau_through_the_scheduler_callback():
    """An absolute threshold of 10 makes every epoch after the first a plateau."""
    x, y = data()
    m = model()
    opt = optim.SGD(m.parameters(), lr=0.1)
    plateau = optim.ReduceLROnPlateau(opt, patience=0, factor=0.5, threshold=10.0,
                                      threshold_mode="abs")  # fmt: skip
    h = sn.fit(m, x, y, optimizer=opt, epochs=4, verbose=0,
               callbacks=[LearningRateScheduler(plateau, monitor="loss")])  # fmt: skip
    assert h.history["lr"] == pytest.approx([0.1, 0.1, 0.05, 0.025])


def test_schedulers_step_before_other_callbacks_see_the_epoch_end():
    seen = []

    class Spy(Callback):
        def on_epoch_end(self, epoch, logs):
            seen.append(self.trainer.optimizer.param_groups[0]["lr"])

    x, y = data()
    m = model()
    opt = optim.SGD(m.parameters(), lr=0.1)
    sn.fit(m, x, y, optimizer=opt, epochs=2, verbose=0,
           callbacks=[Spy(), LearningRateScheduler(optim.StepLR(opt, 1, gamma=0.5))])  # fmt: skip
    assert seen == pytest.approx([0.05, 0.025])  # the next epoch's rates


def test_verbose_two_prints_one_line_per_epoch(capsys):
    x, y = data()
    sn.fit(model(), x, y, epochs=2, metrics=["accuracy"], verbose=2)
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 2 and lines[0].startswith("Epoch 1/2 - loss ")
    assert "accuracy" in lines[1]


def test_only_callback_objects_are_accepted():
    x, y = data()
    with pytest.raises(TypeError, match="callbacks must be sinapsi.train.Callback objects"):
        sn.fit(model(), x, y, epochs=1, callbacks=[lambda: None], verbose=0)


def test_callback_argument_errors():
    with pytest.raises(ValueError, match="patience must be an integer >= 0"):
        EarlyStopping(patience=-1)
    with pytest.raises(ValueError, match="every_n_epochs must be an integer >= 1"):
        ModelCheckpoint("x.npz", every_n_epochs=0)
    with pytest.raises(ValueError, match=r"'interval' parameter .* must be a str among"):
        LearningRateScheduler(None, interval="batch")


def test_history_json_is_plain_json(tmp_path):
    x, y = data()
    h = sn.fit(model(), x, y, epochs=2, verbose=0)
    h.save(tmp_path / "h.json")
    assert set(json.loads((tmp_path / "h.json").read_text())) == {"epoch", "history", "grad_norms"}


def test_gradient_monitor_flags_exploding_gradients_with_clipping_advice():
    x, y = data()
    with pytest.warns(RuntimeWarning) as record:
        sn.fit(model(), x, y, epochs=1, callbacks=[GradientMonitor(explode=1e-9)], verbose=0)
    messages = [str(w.message) for w in record]
    assert any("layer 0 Linear explodes" in m and "clip_grad_norm=1.0" in m for m in messages)
    assert any("layer 2 Linear explodes" in m for m in messages)
