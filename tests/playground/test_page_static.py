"""The playground page (static/): the contract's DOM ids, nothing fetched from elsewhere, and
its behaviour against a scripted WebSocket in headless Chromium (no server needed)."""

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

STATIC = Path(__file__).resolve().parents[2] / "src" / "sinapsi" / "playground" / "static"
CHROMIUM = "/usr/bin/chromium"
IDS = """dataset problem activation init optimizer loss regularization learningRate
regularizationRate momentum dropout clipGradNorm seed batchNorm batchSize noise percTrainData
numSamples showTestData discretize play-pause step reset regenerate add-layer remove-layer
export-toml export-model export-report upload epoch train-loss test-loss error grad-panel
output-map loss-chart weight-tip weight-edit""".split()
IDS.remove("dataset")  # data sets are [data-dataset] thumbnails, not a select


def _text(name: str) -> str:
    return (STATIC / name).read_text(encoding="utf-8")


def test_index_html_has_every_contract_id_and_the_seven_data_sets():
    html = _text("index.html")
    ids = set(re.findall(r'\bid="([^"]+)"', html))
    assert not set(IDS) - ids, f"missing ids: {sorted(set(IDS) - ids)}"
    sets = re.findall(r'data-dataset="([^"]+)"', html)
    assert set(sets) >= {"circle", "xor", "gauss", "spiral", "moons", "reg-plane", "reg-gauss"}


def test_static_files_fetch_nothing_from_elsewhere():
    for path in STATIC.iterdir():
        text = path.read_text(encoding="utf-8")
        urls = re.findall(r"(?:https?:)?//[A-Za-z0-9.-]+\.[a-z]{2,}[^\s\"')]*", text)
        urls = [u for u in urls if not u.startswith("http://www.w3.org/")]
        assert not urls, f"{path.name} references {urls[:3]}"


def test_static_files_are_short_and_the_scripts_parse():
    for path in STATIC.iterdir():
        n = len(path.read_text(encoding="utf-8").splitlines())
        assert n <= 600, f"{path.name} has {n} lines; split it (at most ~600)"
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed: the scripts' syntax is not checked")
    for path in STATIC.glob("*.js"):
        r = subprocess.run([node, "--input-type=module", "--check"], input=path.read_text(),
                           capture_output=True, text=True, timeout=60)  # fmt: skip
        assert r.returncode == 0, f"{path.name}: {r.stderr}"


# ------------------------------------------------------------------------ in the browser
def _frame(epoch: int) -> dict:
    import base64

    def b64(n: int) -> str:
        return base64.b64encode(bytes(range(256)) * (n // 256) + bytes(n % 256)).decode()

    return {
        "type": "frame", "epoch": epoch, "trainLoss": 0.5, "testLoss": 0.25, "playing": False,
        "output": b64(100 * 100), "neurons": [[b64(400)] * 3], "g": 20,
        "weights": [[[0.5, -0.5]] * 3, [[1.0, -2.0, 0.1]]], "biases": [[0.0] * 3, [0.0]],
        "gradNorms": [{"layer": "layer 0", "norm": 1e-3}, {"layer": "layer 1", "norm": 2e-2}],
        "diagnosis": [{"kind": "vanishing", "layer": "layer 0", "message": "try relu"}],
        "samplesPerSecond": 1000.0, "epochsPerSecond": 4.0,
    }  # fmt: skip


@pytest.mark.skipif(not os.access(CHROMIUM, os.X_OK), reason=f"needs {CHROMIUM} (make test)")
def test_page_drives_a_scripted_socket_through_the_contract():
    sync_api = pytest.importorskip("playwright.sync_api")
    got: list[dict] = []
    socket = {}

    def on_ws(ws):
        socket["ws"] = ws
        ws.on_message(lambda m: got.append(json.loads(m)))
        defaults = {"dataset": "circle", "problem": "classification", "hidden": [4, 2],
                    "features": ["x1", "x2"], "activation": "tanh", "loss": "auto"}  # fmt: skip
        ws.send(json.dumps({"type": "hello", "settings": defaults, "bounds": {},
                            "features": ["x1", "x2", "x1^2", "x2^2", "x1*x2", "sin(x1)",
                                         "sin(x2)"], "version": "test"}))  # fmt: skip

    def serve(route):
        name = route.request.url.split("/")[-1].split("#")[0] or "index.html"
        mime = {"js": "text/javascript", "css": "text/css"}.get(name.rsplit(".")[-1], "text/html")
        if not (STATIC / name).is_file():
            return route.fulfill(status=404, body="")
        return route.fulfill(status=200, body=(STATIC / name).read_bytes(), content_type=mime)

    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM,
                                    args=["--no-sandbox", "--disable-gpu"])  # fmt: skip
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            errors: list[str] = []
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.route("http://playground.test/**", serve)
            page.route_web_socket("ws://playground.test/ws", on_ws)
            page.goto("http://playground.test/#hidden=3&activation=relu&features=x1,x1%5E2")
            page.wait_for_function("window.playgroundStats !== undefined")
            page.wait_for_timeout(300)
            # the hash is read at load and sent as the first settings message
            assert got and got[0] == {
                "type": "settings",
                "settings": {"hidden": [3], "activation": "relu", "features": ["x1", "x1^2"]},
            }, got
            ws = socket["ws"]
            ws.send(json.dumps({"type": "data", "domain": [-6, 6], "problem": "classification",
                                "train": {"x": [[1, 2], [-3, 4]], "y": [0, 1]},
                                "test": {"x": [[0, 0]], "y": [1]}}))  # fmt: skip
            ws.send(
                json.dumps(
                    {
                        "type": "network",
                        "layers": [2, 3, 1],
                        "features": ["x1", "x1^2"],
                        "inputMaps": [],
                        "grid": 100,
                    }
                )
            )
            ws.send(json.dumps(_frame(1234)))
            page.wait_for_function("window.playgroundStats.frames === 1")
            page.wait_for_timeout(100)
            assert got[-1] == {"type": "ack"}
            assert page.locator("canvas.neuron-map").count() == 3
            assert page.locator("canvas.input-map").count() == 2
            assert page.locator("[data-feature]").count() == 7
            assert page.locator("path.link").count() == 3 * 2 + 1 * 3
            assert int(re.sub(r"\D", "", page.inner_text("#epoch"))) == 1234
            assert page.inner_text("#test-loss") == "0.250"
            assert page.inner_text("#train-loss") == "0.500"
            assert "try relu" in page.inner_text("#grad-panel")
            # a control change goes to the server and into the hash
            page.click('[data-layer="0"] .add-neuron')
            assert got[-1] == {"type": "settings", "settings": {"hidden": [4]}}
            assert "hidden=4" in page.evaluate("location.hash")
            page.select_option("#activation", "elu")
            assert got[-1] == {"type": "settings", "settings": {"activation": "elu"}}
            page.click('[data-feature="sin(x2)"]')
            assert got[-1]["settings"] == {"features": ["x1", "x1^2", "sin(x2)"]}
            # weights: hover shows the value, click opens the editor, Enter sends set_weight
            link = page.locator('path.link[data-layer="1"][data-row="0"][data-col="1"]')
            link.dispatch_event("mouseover")
            assert "-2.00" in page.inner_text("#weight-tip")
            link.dispatch_event("click")
            page.fill("#weight-edit", "0.75")
            page.press("#weight-edit", "Enter")
            assert got[-1] == {"type": "set_weight", "layer": 1, "row": 0, "col": 1,
                               "value": 0.75}  # fmt: skip
            page.click("#play-pause")
            assert got[-1] == {"type": "play"}
            assert "playing" in page.get_attribute("#play-pause", "class")
            ws.send(json.dumps({"type": "error", "message": "seed must be an int"}))
            page.wait_for_timeout(100)
            assert page.is_visible("#error") and "seed must" in page.inner_text("#error")
            # refused: the page shows the settings the server last accepted (here: hello's)
            assert "hidden=4,2&" in page.evaluate("location.hash")
            assert page.input_value("#activation") == "tanh"
            with page.expect_download() as dl:
                page.click("#export-toml")
                assert got[-1] == {"type": "export", "what": "toml"}
                ws.send(json.dumps({"type": "export", "what": "toml", "filename": "run.toml",
                                    "mime": "text/plain", "base64": "W2RhdGFdCg=="}))  # fmt: skip
            assert dl.value.suggested_filename == "run.toml"
            assert errors == []
        finally:
            browser.close()
