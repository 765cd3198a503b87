"""Resuming keeps the callbacks' state (issue 14.9): a run stopped after k epochs and resumed
equals the uninterrupted run with EarlyStopping and ModelCheckpoint(save_best_only=True),
in history, weights and best file."""

import json

import numpy as np
import pytest

import sinapsi as sn
from sinapsi import io, nn
from sinapsi.train import Callback, EarlyStopping, ModelCheckpoint


def setup():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((60, 4))
    y = (x[:, 0] + 0.5 * rng.standard_normal(60) > 0).astype(np.int64)
    xv = rng.standard_normal((30, 4))
    yv = (xv[:, 0] + 0.5 * rng.standard_normal(30) > 0).astype(np.int64)
    model = nn.Sequential(
        nn.Linear(4, 32, rng=0), nn.ReLU(), nn.Dropout(0.3, rng=3), nn.Linear(32, 2, rng=1)
    )
    kwargs = dict(lr=0.05, batch_size=16, validation_data=(xv, yv), seed=0, verbose=0)
    return model, x, y, kwargs


def callbacks(folder):
    # the every-epoch checkpoint first: it must still hold the others' state after the epoch
    return [
        ModelCheckpoint(folder / "last.npz", save_best_only=False),
        EarlyStopping(patience=3, restore_best_weights=True),
        ModelCheckpoint(folder / "best.npz", save_best_only=True),
    ]


def drop_time(history):
    return {k: v for k, v in history.history.items() if k != "time"}


def test_a_resumed_run_with_early_stopping_and_best_checkpoint_is_bit_identical(tmp_path):
    # val_loss of this run: best at epoch 4, then worse for 4 epochs: stops after epoch 8
    (tmp_path / "full").mkdir()
    (tmp_path / "cut").mkdir()
    model, x, y, kwargs = setup()
    full_cbs = callbacks(tmp_path / "full")
    full = sn.fit(model, x, y, epochs=12, callbacks=full_cbs, **kwargs)
    assert full.epoch == [1, 2, 3, 4, 5, 6, 7, 8]
    assert full.best_epoch() == 4

    first, x, y, kwargs = setup()
    sn.fit(first, x, y, epochs=5, callbacks=callbacks(tmp_path / "cut"), **kwargs)
    resumed_model, x, y, kwargs = setup()
    cut_cbs = callbacks(tmp_path / "cut")
    resumed = sn.fit(resumed_model, x, y, epochs=12, callbacks=cut_cbs,
                     resume_from=tmp_path / "cut" / "last.npz", **kwargs)  # fmt: skip

    assert resumed.epoch == full.epoch
    assert drop_time(resumed) == drop_time(full)
    for a, b in zip(model.parameters(), resumed_model.parameters()):
        np.testing.assert_array_equal(a.data, b.data)  # the restored best weights (epoch 4)
    best_full = io.load_checkpoint(tmp_path / "full" / "best.npz")
    best_cut = io.load_checkpoint(tmp_path / "cut" / "best.npz")
    assert best_cut.metadata["epoch"] == best_full.metadata["epoch"] == 4
    for key, value in best_full.model_state.items():
        np.testing.assert_array_equal(best_cut.model_state[key], value)
    assert cut_cbs[1].stopped_epoch == full_cbs[1].stopped_epoch == 7
    assert cut_cbs[2].best == full_cbs[2].best


def test_callback_state_is_plain_json_and_round_trips():
    stopper = EarlyStopping(patience=2, restore_best_weights=True)
    stopper.on_train_begin({})
    state = json.loads(json.dumps(stopper.state_dict(), allow_nan=False))  # no Infinity/NaN
    fresh = EarlyStopping(patience=2, restore_best_weights=True)
    fresh.on_train_begin({})
    fresh.load_state_dict(state)
    assert fresh.best == stopper.best and fresh.wait == 0 and fresh.best_state is None
    assert Callback().state_dict() == {}


def test_callbacks_are_matched_by_class_and_order_not_by_position(tmp_path):
    model, x, y, kwargs = setup()
    stoppers = [EarlyStopping(patience=9), EarlyStopping(monitor="loss", patience=9)]
    sn.fit(model, x, y, epochs=6, callbacks=[*stoppers,
           ModelCheckpoint(tmp_path / "c.npz", save_best_only=False)], **kwargs)  # fmt: skip
    model, x, y, kwargs = setup()
    again = [EarlyStopping(patience=9), EarlyStopping(monitor="loss", patience=9)]
    with pytest.warns(UserWarning, match="nothing left to train"):  # the states are loaded
        sn.fit(model, x, y, epochs=6, callbacks=[again[0], Callback(), again[1]],
               resume_from=tmp_path / "c.npz", **kwargs)  # fmt: skip
    for before, after in zip(stoppers, again):
        assert (after.best, after.wait, after.best_epoch) == (
            before.best, before.wait, before.best_epoch)  # fmt: skip
    assert stoppers[0].best != stoppers[1].best


def test_the_gradient_monitor_does_not_repeat_its_warnings_after_a_resume():
    from sinapsi.train import GradientMonitor

    monitor = GradientMonitor()
    monitor.flagged.add(("0 Linear", "explodes"))
    fresh = GradientMonitor()
    fresh.load_state_dict(json.loads(json.dumps(monitor.state_dict())))
    assert fresh.flagged == {("0 Linear", "explodes")}


def _edited_checkpoint(folder, edit):
    """A real checkpoint after 2 epochs whose training state ``edit`` changes in place."""
    model, x, y, kwargs = setup()
    sn.fit(model, x, y, epochs=2, callbacks=callbacks(folder), **kwargs)
    arrays, record = io.load_arrays(folder / "last.npz")
    edit(record["training"])
    user = {k: v for k, v in record.items() if k not in ("format", "version")}
    io.save_arrays(folder / "edited.npz", arrays, user)
    return folder / "edited.npz"


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda t: t.update(callbacks="x"), r"metadata field 'training\.callbacks' must be a list"),
        (lambda t: t.update(callbacks=[{"class": 3}]), r"'training\.callbacks' must be a list"),
        (
            lambda t: t["callbacks"][1].update(state={"best": 1.0}),
            r"Cannot resume from .*saved state of the callbacks \(EarlyStopping\) does not fit "
            r"this run \(KeyError",
        ),
    ],
)
def test_a_malformed_callback_state_in_a_checkpoint_is_one_model_file_error(
    tmp_path, edit, message
):
    path = _edited_checkpoint(tmp_path, edit)
    model, x, y, kwargs = setup()
    with pytest.raises(io.ModelFileError, match=message):
        sn.fit(model, x, y, epochs=4, callbacks=callbacks(tmp_path), resume_from=path, **kwargs)


def test_a_scheduler_state_that_does_not_fit_is_one_model_file_error(tmp_path):
    from sinapsi import optim

    model, x, y, kwargs = setup()
    kwargs.pop("lr")
    opt = optim.SGD(model.parameters(), lr=0.1)
    sched = optim.StepLR(opt, step_size=2)
    every = ModelCheckpoint(tmp_path / "s.npz", save_best_only=False)
    sn.fit(model, x, y, optimizer=opt, lr_scheduler=sched, epochs=2, callbacks=[every], **kwargs)
    arrays, record = io.load_arrays(tmp_path / "s.npz")
    record["training"]["scheduler"] = {"unexpected": 1}
    io.save_arrays(tmp_path / "bad.npz", arrays, {k: v for k, v in record.items()
                                                  if k not in ("format", "version")})  # fmt: skip
    model, x, y, _ = setup()
    opt = optim.SGD(model.parameters(), lr=0.1)
    with pytest.raises(io.ModelFileError, match=r"saved state of the scheduler \(StepLR\)"):
        sn.fit(model, x, y, optimizer=opt, lr_scheduler=optim.StepLR(opt, step_size=2),
               epochs=4, resume_from=tmp_path / "bad.npz", **kwargs)  # fmt: skip
