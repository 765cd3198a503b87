"""The playground app over ASGI: the page, the WebSocket protocol end to end, its limits, and
the server bound to the requested host only."""

from __future__ import annotations

import json
import socket
import threading
import time

import httpx
import numpy as np
import pytest

pytest.importorskip("fastapi")

from playground_checks import SMALL  # noqa: E402
from starlette.websockets import WebSocketDisconnect  # noqa: E402

from sinapsi.playground.app import PortInUse, make_server, url_of  # noqa: E402


def receive_until(ws, kind, ack=True):
    """Messages (type -> last one) up to and including the first of ``kind``; frames are
    acknowledged as the page does."""
    got = {}
    for _ in range(200):
        message = ws.receive_json()
        got[message["type"]] = message
        if message["type"] == "frame" and ack:
            ws.send_json({"type": "ack"})
        if message["type"] == kind:
            return got
    raise AssertionError(f"no {kind!r} message in 200; got {sorted(got)}")


def open_small(ws):
    hello = ws.receive_json()
    assert hello["type"] == "hello"
    ws.send_json({"type": "settings", "settings": SMALL})
    receive_until(ws, "settings")
    receive_until(ws, "network")  # every frame after it shows the new run
    return hello, receive_until(ws, "frame")["frame"]


def frame_at_least(ws, epoch):
    for _ in range(500):
        frame = receive_until(ws, "frame")["frame"]
        if frame["epoch"] >= epoch:
            return frame
    raise AssertionError(f"no frame at epoch {epoch}")


def test_page_and_static_files(client):
    page = client.get("/")
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]
    assert "static/app.js" in page.text
    assert client.get("/static/app.js").status_code == 200
    assert client.get("/static/../session.py").status_code == 404


def test_hello_then_data_network_frame(client):
    with client.websocket_connect("/ws") as ws:
        hello = ws.receive_json()
        assert hello["type"] == "hello" and hello["settings"]["dataset"] == "circle"
        assert hello["bounds"]["hidden"]["maxLayers"] == 12 and len(hello["features"]) == 7
        got = receive_until(ws, "frame")
        assert got["data"]["problem"] == "classification"
        assert got["network"]["layers"] == [2, 4, 2, 1]
        frame = got["frame"]
        assert frame["epoch"] == 0 and len(frame["neurons"]) == 2 and frame["g"] == 20


def test_step_play_pause_and_reset(client):
    with client.websocket_connect("/ws") as ws:
        _, first = open_small(ws)
        ws.send_json({"type": "step"})
        frame = receive_until(ws, "frame")["frame"]
        assert frame["epoch"] == 1 and frame["playing"] is False
        ws.send_json({"type": "play"})
        frame = frame_at_least(ws, 5)
        assert frame["epoch"] >= 5
        ws.send_json({"type": "pause"})
        ws.send_json({"type": "reset"})
        got = receive_until(ws, "network")
        assert "data" in got
        frame = receive_until(ws, "frame")["frame"]
        assert frame["epoch"] == 0
        assert (frame["trainLoss"], frame["testLoss"]) == (first["trainLoss"], first["testLoss"])


def test_learning_rate_is_live_and_hidden_sizes_reset(client):
    with client.websocket_connect("/ws") as ws:
        open_small(ws)
        ws.send_json({"type": "step"})
        assert receive_until(ws, "frame")["frame"]["epoch"] == 1
        ws.send_json({"type": "settings", "settings": {"learningRate": 0.1}})
        assert receive_until(ws, "settings")["settings"]["settings"]["learningRate"] == 0.1
        ws.send_json({"type": "step"})
        assert receive_until(ws, "frame")["frame"]["epoch"] == 2  # not reset
        ws.send_json({"type": "settings", "settings": {"hidden": [5, 4, 3]}})
        got = receive_until(ws, "network")
        assert got["network"]["layers"] == [2, 5, 4, 3, 1]
        frame = receive_until(ws, "frame")["frame"]
        assert frame["epoch"] == 0
        assert [np.shape(w) for w in frame["weights"]] == [(5, 2), (4, 5), (3, 4), (2, 3)]


def test_regenerate_and_set_weight(client):
    with client.websocket_connect("/ws") as ws:
        open_small(ws)
        ws.send_json({"type": "regenerate"})
        got = receive_until(ws, "data")
        assert got["settings"]["settings"]["seed"] == 1
        receive_until(ws, "frame")
        ws.send_json({"type": "set_weight", "layer": 0, "row": 2, "col": 1, "value": 1.5})
        frame = receive_until(ws, "frame")["frame"]
        assert frame["weights"][0][2][1] == 1.5


@pytest.mark.parametrize(
    "raw",
    [
        "{not json",
        json.dumps({"type": "fly"}),
        json.dumps({"type": "settings", "settings": {"noise": 99}}),
        json.dumps({"type": "settings", "settings": {"hidden": "big"}}),
        json.dumps({"type": "set_weight", "layer": 9, "row": 0, "col": 0, "value": 1}),
        json.dumps({"type": "export", "what": "toml"}),  # no epoch trained yet
        "x" * (2 * 1024 * 1024 + 1),
    ],
)
def test_a_bad_message_gets_an_error_and_the_socket_keeps_working(client, raw):
    with client.websocket_connect("/ws") as ws:
        open_small(ws)
        ws.send_text(raw)
        error = receive_until(ws, "error")["error"]
        assert error["message"] and "\n" not in error["message"]
        ws.send_json({"type": "step"})
        assert receive_until(ws, "frame")["frame"]["epoch"] == 1


def test_export_over_the_socket(client):
    with client.websocket_connect("/ws") as ws:
        open_small(ws)
        ws.send_json({"type": "step"})
        receive_until(ws, "frame")
        ws.send_json({"type": "export", "what": "toml"})
        out = receive_until(ws, "export")["export"]
        assert out["filename"].endswith(".toml") and out["base64"]


def _run_threads():
    return [t for t in threading.enumerate() if t.name == "sinapsi-playground-run"]


def test_a_disconnect_stops_the_training_thread(client):
    before = len(_run_threads())
    with client.websocket_connect("/ws") as ws:
        open_small(ws)
        ws.send_json({"type": "play"})
        frame_at_least(ws, 2)
        assert len(_run_threads()) == before + 1
    deadline = time.monotonic() + 2.0
    while len(_run_threads()) > before:
        assert time.monotonic() < deadline, "the training thread outlived its socket by 2 s"
        time.sleep(0.02)


def test_more_than_max_sessions_is_refused(client):
    with client.websocket_connect("/ws") as a, client.websocket_connect("/ws") as b:
        assert a.receive_json()["type"] == b.receive_json()["type"] == "hello"
        with client.websocket_connect("/ws") as c:
            message = c.receive_json()
            assert message["type"] == "error" and "2 open sessions" in message["message"]
            with pytest.raises(WebSocketDisconnect):
                c.receive_json()
    with client.websocket_connect("/ws") as d:  # the slots came back
        assert d.receive_json()["type"] == "hello"


def test_another_sites_page_is_refused(client):
    with client.websocket_connect("/ws", headers={"origin": "http://evil.example"}) as ws:
        message = ws.receive_json()
        assert message["type"] == "error"


def test_the_server_binds_the_requested_host_only():
    server, sock = make_server("127.0.0.1", 0)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        host, port = sock.getsockname()
        assert host == "127.0.0.1" and port > 0
        assert url_of(sock) == f"http://127.0.0.1:{port}/"
        for _ in range(100):
            if server.started:
                break
            time.sleep(0.05)
        assert httpx.get(url_of(sock), timeout=5).status_code == 200
        with pytest.raises(PortInUse, match=f"port {port} on 127.0.0.1 is in use"):
            make_server("127.0.0.1", port)
        other = _an_address_not_loopback()
        if other is not None:
            with pytest.raises(OSError), socket.create_connection((other, port), timeout=1):
                pass
    finally:
        server.should_exit = True
        thread.join(timeout=5)
        sock.close()
    assert not thread.is_alive()


def _an_address_not_loopback():
    """This machine's address on its network, if it has one (a server bound to 127.0.0.1
    must not answer there)."""
    probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        probe.connect(("10.255.255.255", 1))  # no packet is sent
        address = probe.getsockname()[0]
    except OSError:
        return None
    finally:
        probe.close()
    return None if address.startswith("127.") else address


def test_one_sessions_training_does_not_block_another(client):
    """A tab training a big network flat out; a second tab still opens, steps and gets its
    frames promptly."""
    heavy = {"numSamples": 5000, "percTrainData": 90, "batchSize": 1, "hidden": [64] * 4}
    with client.websocket_connect("/ws") as busy:
        busy.receive_json()
        busy.send_json({"type": "settings", "settings": heavy})
        receive_until(busy, "network")
        busy.send_json({"type": "play"})
        receive_until(busy, "frame")
        with client.websocket_connect("/ws") as other:
            began = time.monotonic()
            open_small(other)
            other.send_json({"type": "step"})
            frame = frame_at_least(other, 1)
            waited = time.monotonic() - began
        assert frame["epoch"] == 1 and waited < 10, waited
        busy.send_json({"type": "pause"})
