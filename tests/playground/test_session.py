"""The playground Session: one fit() per run in a thread, driven by the page's messages; an
exported TOML trains to the very numbers the session showed."""

from __future__ import annotations

import base64
import threading
import time

import numpy as np
import pytest
from playground_checks import SMALL

import sinapsi
from sinapsi.config import tomllib, validate_config
from sinapsi.experiment import run as run_config
from sinapsi.playground.protocol import ProtocolError
from sinapsi.playground.session import Session


@pytest.fixture
def session():
    s = Session(SMALL)
    s.start()
    yield s
    s.close()


def messages_until(session, kind, version=-1, timeout=10.0):
    """Messages (type -> last one) up to and including the first of ``kind``."""
    got = {}
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        out = session.next_message(version, 0.2)
        if out is None:
            continue
        message, version = out
        got[message["type"]] = message
        if message["type"] == "frame":
            session.ack()
        if message["type"] == kind:
            return got, version
    raise AssertionError(f"no {kind!r} message within {timeout} s; got {sorted(got)}")


def frame_at(session, epoch, timeout=10.0):
    version = -1
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        got, version = messages_until(session, "frame", version)
        if got["frame"]["epoch"] >= epoch:
            return got["frame"]
    raise AssertionError(f"no frame at epoch {epoch}")


def wait_epoch(session, epoch, timeout=10.0):
    deadline = time.monotonic() + timeout
    while session.epoch < epoch:
        assert time.monotonic() < deadline, f"epoch {session.epoch} < {epoch}"
        time.sleep(0.005)


def test_start_sends_data_network_and_an_epoch_0_frame(session):
    got, _ = messages_until(session, "frame")
    assert got["data"]["problem"] == "classification" and got["data"]["domain"] == [-6.0, 6.0]
    assert len(got["data"]["train"]["x"]) == 50 and len(got["data"]["train"]["x"][0]) == 2
    assert got["network"]["layers"] == [2, 3, 2, 1]
    assert len(got["network"]["inputMaps"]) == 2
    frame = got["frame"]
    assert frame["epoch"] == 0 and frame["playing"] is False
    assert [np.shape(w) for w in frame["weights"]] == [(3, 2), (2, 3), (2, 2)]
    assert len(base64.b64decode(frame["output"])) == 100 * 100
    assert frame["trainLoss"] > 0 and frame["testLoss"] > 0


def test_no_frame_before_the_ack(session):
    messages_until(session, "frame")  # acked by the helper
    session.step()
    out = session.next_message(-1, 2.0)
    assert out[0]["type"] == "frame"
    session.step()
    assert session.next_message(out[1], 0.3) is None  # not acknowledged
    session.ack()
    assert session.next_message(out[1], 2.0)[0]["type"] == "frame"


def test_step_trains_exactly_one_epoch(session):
    for n in (1, 2, 3):
        session.step()
        wait_epoch(session, n)
        time.sleep(0.05)
        assert session.epoch == n and not session.playing


def test_play_pause_and_reset_repeats_the_run(session):
    messages_until(session, "frame")
    first = session.losses()
    assert len(first) == 1
    session.handle("play", {})
    wait_epoch(session, 5)
    session.handle("pause", {})
    assert session.losses()[:1] == first[:1]
    trained = session.losses()
    assert trained[5][1] != trained[0][1]
    session.handle("reset", {})
    assert session.epoch == 0 and not session.playing
    for _ in range(5):
        session.step()
    wait_epoch(session, 5)
    assert session.losses()[:6] == trained[:6]  # same data, same seed: the same numbers


def test_learning_rate_is_live_and_keeps_the_epoch(session):
    session.step()
    wait_epoch(session, 1)
    run = session._run
    session.handle("settings", {"settings": {"learningRate": 0.3}})
    assert session._run is run and session.epoch == 1
    assert run.prep.optimizer.param_groups[0]["lr"] == 0.3
    assert session.settings["learningRate"] == 0.3


def test_hidden_sizes_change_the_weights_next_frame(session):
    messages_until(session, "frame")
    session.apply_settings({"hidden": [5]})
    got, _ = messages_until(session, "frame")
    assert got["network"]["layers"] == [2, 5, 1]
    assert [np.shape(w) for w in got["frame"]["weights"]] == [(5, 2), (2, 5)]
    assert got["settings"]["settings"]["hidden"] == [5]


def test_regenerate_changes_the_data_and_the_seed(session):
    before, _ = messages_until(session, "data")
    session.handle("regenerate", {})
    after, _ = messages_until(session, "data")
    assert session.settings["seed"] == 1
    assert before["data"]["train"]["x"] != after["data"]["train"]["x"]


def test_set_weight_edits_one_weight(session):
    session.set_weight(1, 1, 2, 0.75)
    w = session._run.prep.model[2].weight.data
    assert float(w[1, 2]) == 0.75
    with pytest.raises(ProtocolError, match="layer 7 does not exist"):
        session.set_weight(7, 0, 0, 1.0)
    with pytest.raises(ProtocolError, match=r"outside layer 0's 3 x 2"):
        session.set_weight(0, 3, 0, 1.0)


def test_a_bad_setting_leaves_the_run_alone(session):
    run = session._run
    with pytest.raises(ProtocolError, match="upload one first"):
        session.apply_settings({"dataset": "upload"})
    with pytest.raises(ProtocolError):
        session.apply_settings({"batchNorm": True, "batchSize": 1})
    assert session._run is run and session.settings["batchNorm"] is False


def test_close_stops_the_thread_and_deletes_the_folder():
    s = Session({"numSamples": 5000, "batchSize": 1, "hidden": [16, 16]})
    s.start()
    s.handle("play", {})
    wait_epoch(s, 0)
    time.sleep(0.2)
    thread, folder = s._run.thread, s.folder
    assert thread.is_alive() and folder.is_dir()
    began = time.monotonic()
    s.close()
    assert not thread.is_alive() and time.monotonic() - began < 1.0
    assert not folder.exists()
    assert "sinapsi-playground-run" not in [t.name for t in threading.enumerate()]


def test_a_diverged_run_says_stopped():
    s = Session({**SMALL, "problem": "regression", "learningRate": 10.0, "numSamples": 50})
    try:
        s.start()
        s.handle("play", {})
        got, _ = messages_until(s, "stopped", timeout=20)
        assert "\n" not in got["stopped"]["message"] and got["stopped"]["epoch"] >= 1
        assert not s.playing
    finally:
        s.close()


def test_exported_toml_trains_to_the_same_test_loss(tmp_path):
    s = Session({**SMALL, "optimizer": "momentum", "regularization": "l2",
                 "regularizationRate": 0.001, "features": ["x1", "x2", "x1*x2"]})  # fmt: skip
    try:
        s.start()
        with pytest.raises(ProtocolError, match="at least one epoch"):
            s.export("toml")
        for _ in range(4):
            s.step()
        wait_epoch(s, 4)
        reported_train, reported = s.losses()[4]
        out = s.export("toml")
    finally:
        s.close()
    text = base64.b64decode(out["base64"]).decode()
    assert out["filename"].endswith(".toml") and repr(reported) in text
    assert "WARNING" not in text
    cfg = validate_config(tomllib.loads(text), "export.toml")
    assert cfg["training"]["epochs"] == 4
    result = run_config(cfg, tmp_path / "run", verbose=0)
    assert result.test["loss"] == reported  # exactly the same numbers
    assert result.history.history["loss"][-1] == reported_train  # fit's own training loss


def test_export_warns_after_a_live_change():
    s = Session(SMALL)
    try:
        s.start()
        s.step()
        wait_epoch(s, 1)
        s.apply_settings({"learningRate": 0.1})
        s.set_weight(0, 0, 0, 0.5)
        text = base64.b64decode(s.export("toml")["base64"]).decode()
    finally:
        s.close()
    assert "learning rate was changed" in text and "weights were edited" in text


def test_export_model_loads_and_report_is_html():
    s = Session(SMALL)
    try:
        s.start()
        s.step()
        wait_epoch(s, 1)
        model_out = s.export("model")
        report = s.export("report")
        x = np.array([[1.0, -2.0], [0.5, 3.0]], dtype=np.float32)
        expected = s._run.prep.saved_model()(x).numpy()
        folder = s.folder
    finally:
        s.close()
    path = folder.parent / f"{folder.name}-model.safetensors"
    path.write_bytes(base64.b64decode(model_out["base64"]))
    try:
        loaded = sinapsi.load(path)
        np.testing.assert_allclose(loaded(x).numpy(), expected, rtol=1e-6)
    finally:
        path.unlink()
    html = base64.b64decode(report["base64"]).decode()
    assert report["mime"] == "text/html" and html.lstrip().lower().startswith("<!doctype html")


def test_upload_trains_on_the_file():
    rng = np.random.default_rng(0)
    pts = rng.uniform(-2, 2, size=(60, 2))
    names = ("apart", "together")  # the labels name the output nodes
    text = "x1,x2,label\n" + "".join(f"{a:.3f},{b:.3f},{names[int(a * b > 0)]}\n" for a, b in pts)
    s = Session(SMALL)
    try:
        s.start()
        s.handle("upload", {"name": "pts.csv", "text": text})
        got, _ = messages_until(s, "frame")
        assert s.settings["dataset"] == "upload" and got["data"]["domain"][1] < 2.5
        assert 28 <= len(got["data"]["train"]["x"]) <= 32  # half, stratified
        assert (s.folder / "upload.csv").is_file()
        assert got["network"]["classes"] == ["apart", "together"]
    finally:
        s.close()


def test_a_frame_comes_between_two_steps_not_after_a_long_epoch():
    """A long epoch (4,500 single-sample steps) does not hold the page's next frame back:
    frames are built between two steps, while a weight edit waits for the epoch's end."""
    s = Session({"numSamples": 5000, "percTrainData": 90, "batchSize": 1, "hidden": [32, 32]})
    s.start()
    try:
        got, version = messages_until(s, "frame")
        s.handle("play", {})
        time.sleep(0.05)  # inside epoch 1
        began = time.monotonic()
        frame = None
        while frame is None:
            out = s.next_message(version, 5.0)
            frame = out[0] if out and out[0]["type"] == "frame" else None
            version = out[1] if out else version
        waited = time.monotonic() - began
        assert frame["epoch"] == 0 and s.epoch == 0, (frame["epoch"], s.epoch, waited)
        weights = np.asarray(frame["weights"][0])
        assert not np.allclose(weights, got["frame"]["weights"][0])  # trained some steps
    finally:
        s.close()


def test_the_training_thread_replays_a_captured_step(monkeypatch):
    """The playground's fit records its step once and replays it (issue 20)."""
    from sinapsi.capture import CapturedStep

    replays = []
    original = CapturedStep._replay

    def counting(self, plan):
        replays.append(threading.get_ident())
        return original(self, plan)

    monkeypatch.setattr(CapturedStep, "_replay", counting)
    s = Session(SMALL)
    s.start()
    try:
        for n in (1, 2, 3):
            s.step()
            wait_epoch(s, n)
    finally:
        s.close()
    assert replays and threading.get_ident() not in replays  # in the training thread
