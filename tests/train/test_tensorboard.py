"""The TensorBoard callback (issue 19): the event files, read back with TensorBoard's own
reader, hold the History's numbers and the parameters' and gradients' histograms; nothing is
written outside log_dir; the writer is closed at the end, and after an exception."""

import numpy as np
import pytest
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

import sinapsi as sn
from sinapsi import nn, optim
from sinapsi.train import Callback, TensorBoard
from sinapsi.train.tensorboard import grad_norm_tag


def run(log_dir, epochs=4, **kwargs):
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((40, 3)).astype(np.float32), np.arange(40) % 2
    model = nn.Sequential(nn.Linear(3, 5, rng=0), nn.BatchNorm1d(5), nn.ReLU(),
                          nn.Linear(5, 2, rng=1))  # fmt: skip
    opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    tb = TensorBoard(log_dir, **kwargs)
    history = sn.fit(model, x, y, optimizer=opt, epochs=epochs, batch_size=8, seed=0,
                     validation_split=0.25, metrics=["accuracy"], verbose=0, callbacks=[tb],
                     lr_scheduler=optim.StepLR(opt, step_size=1, gamma=0.5))  # fmt: skip
    return model, history, tb


def events(log_dir):
    reader = EventAccumulator(str(log_dir), size_guidance={"scalars": 0, "histograms": 0})
    reader.Reload()
    return reader


def test_scalars_are_the_historys_numbers_and_histograms_the_parameters(tmp_path):
    model, history, tb = run(tmp_path / "logs", histogram_freq=2, update_freq=2)
    reader = events(tmp_path / "logs")
    tags = reader.Tags()
    for key in ("loss", "val_loss", "accuracy", "val_accuracy", "lr", "time"):
        scalars = reader.Scalars(key)
        assert [s.step for s in scalars] == history.epoch == [1, 2, 3, 4]
        expected = np.float32(history.history[key])  # event files hold float32
        np.testing.assert_array_equal(np.float32([s.value for s in scalars]), expected)
    assert [s.value for s in reader.Scalars("lr")] == list(np.float32([0.1, 0.05, 0.025, 0.0125]))
    for layer, norms in history.grad_norms.items():
        got = [s.value for s in reader.Scalars(grad_norm_tag(layer))]
        np.testing.assert_allclose(got, norms, rtol=1e-6)
    assert [s.step for s in reader.Scalars("batch_loss")] == list(range(2, 17, 2))  # 4 a epoch
    assert len([t for t in tags["scalars"] if t.startswith("grad_norm/")]) == 3  # with parameters
    params = dict(model.named_parameters())
    assert set(tags["histograms"]) == {
        f"{k.replace('.', '/')}{s}" for k in params for s in ("", "_grad")
    }
    for name, p in params.items():
        for suffix, array in (("", p.data), ("_grad", p.grad)):
            saved = reader.Histograms(name.replace(".", "/") + suffix)
            assert [h.step for h in saved] == [2, 4]  # every histogram_freq epochs
            last = saved[-1].histogram_value  # epoch 4 is the end: the model as it is now
            assert last.num == array.size and sum(last.bucket) == array.size
            assert last.min == float(array.min()) and last.max == float(array.max())
            assert last.sum == pytest.approx(float(array.astype(np.float64).sum()), abs=1e-6)
    assert tb.writer is None  # closed at train end


def test_nothing_is_written_outside_log_dir(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # a stray relative path would land here
    run(tmp_path / "a" / "logs", epochs=1, write_graph=True)
    written = sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*"))
    assert written[:2] == ["a", "a/logs"] and len(written) == 3
    assert written[2].startswith("a/logs/events.out.tfevents.")
    assert "model/text_summary" in events(tmp_path / "a" / "logs").Tags()["tensors"]


def test_defaults_write_epoch_scalars_and_histograms_every_epoch(tmp_path):
    model, history, _ = run(tmp_path, epochs=2)
    reader = events(tmp_path)
    assert "batch_loss" not in reader.Tags()["scalars"]
    assert [h.step for h in reader.Histograms("0/weight")] == [1, 2]
    off = tmp_path / "off"
    run(off, epochs=1, histogram_freq=0)
    assert events(off).Tags()["histograms"] == []


class Boom(Callback):
    def on_epoch_end(self, epoch, logs):
        if epoch == 1:
            raise RuntimeError("boom")


def test_the_finished_epochs_are_on_disk_and_the_writer_closes_after_an_exception(tmp_path):
    x, y = np.ones((8, 2), np.float32), np.arange(8) % 2
    model = nn.Sequential(nn.Linear(2, 2, rng=0))
    with TensorBoard(tmp_path) as tb:
        with pytest.raises(RuntimeError, match="boom"):
            sn.fit(model, x, y, epochs=5, callbacks=[tb, Boom()], verbose=0)
        assert tb.writer is not None  # fit does not tell callbacks of its exception
    assert tb.writer is None  # the with block closed it
    assert [s.step for s in events(tmp_path).Scalars("loss")] == [1, 2]
    again = TensorBoard(tmp_path / "again")  # a later fit closes what a failed one left open
    with pytest.raises(RuntimeError, match="boom"):
        sn.fit(model, x, y, epochs=5, callbacks=[again, Boom()], verbose=0)
    left_open = again.writer
    sn.fit(model, x, y, epochs=1, callbacks=[again], verbose=0)
    assert left_open is not None and left_open.all_writers is None  # closed: no event files
    assert again.writer is None


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"histogram_freq": -1}, ValueError, r"histogram_freq must be an int >= 0"),
        ({"histogram_freq": 1.5}, ValueError, r"histogram_freq must be an int >= 0"),
        ({"update_freq": "step"}, ValueError, r"update_freq must be 'epoch', 'batch' or an int"),
        ({"update_freq": 0}, ValueError, r"update_freq must be 'epoch', 'batch' or an int"),
        ({"write_graph": "yes"}, TypeError, r"write_graph must be a bool"),
        ({"log_dir": 5}, TypeError, r"log_dir must be a folder's path"),
    ],
)
def test_bad_arguments_are_refused_in_one_line(tmp_path, kwargs, error, match):
    with pytest.raises(error, match=match):
        TensorBoard(**{"log_dir": tmp_path, **kwargs})


def test_a_log_dir_that_is_a_file_is_refused(tmp_path):
    (tmp_path / "f").write_text("x")
    with pytest.raises(NotADirectoryError, match=r"log_dir '.*f' is a file"):
        TensorBoard(tmp_path / "f")
    assert TensorBoard(tmp_path, update_freq="batch").update_freq == 1
