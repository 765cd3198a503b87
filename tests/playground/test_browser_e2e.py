"""The playground end to end in a real browser: Debian's Chromium driven by Playwright against
the real server (uvicorn in a thread), as a user would use it (issue 15).

Pick the spiral, add a layer, choose Adam and batch norm, press play, wait for the test loss to
fall, pause; the output map and every neuron map are drawn; the exported TOML, run by
``sinapsi train``'s code, reaches the very test loss the page showed. A shared URL restores
the same settings. Screenshots go to ``$SINAPSI_ARTIFACTS/playground/`` (default: pytest's
temporary folder).

``make test`` installs Chromium when it is missing (``make browser``); set
SINAPSI_SKIP_BROWSER=1 to skip these tests on a machine without it.
"""

from __future__ import annotations

import math
import os
import re
import threading
import time
from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"
if os.environ.get("SINAPSI_SKIP_BROWSER") == "1":
    pytest.skip("SINAPSI_SKIP_BROWSER=1", allow_module_level=True)
if not Path(CHROMIUM).exists():
    pytest.fail(
        f"{CHROMIUM} is missing: run `make browser` (apt-get install chromium), or set "
        "SINAPSI_SKIP_BROWSER=1 to skip the browser tests.",
        pytrace=False,
    )
sync_playwright = pytest.importorskip("playwright.sync_api").sync_playwright

from sinapsi.config import tomllib, validate_config  # noqa: E402
from sinapsi.experiment import run  # noqa: E402
from sinapsi.playground.app import make_server, url_of  # noqa: E402

TIMEOUT_MS = 120_000


@pytest.fixture(scope="module")
def server_url():
    server, sock = make_server("127.0.0.1", 0)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started, "the playground server did not start in 20 s"
    yield url_of(sock)
    server.should_exit = True
    thread.join(10)


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as p:
        chromium = p.chromium.launch(
            executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"]
        )
        yield chromium
        chromium.close()


@pytest.fixture
def artifacts(tmp_path):
    root = os.environ.get("SINAPSI_ARTIFACTS")
    folder = Path(root) / "playground" if root else tmp_path / "screenshots"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture
def page(browser, server_url):
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, accept_downloads=True)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    # offline: the page may fetch nothing but its own server
    page.route(
        re.compile(r"^(?!https?://127\.0\.0\.1[:/]|ws://127\.0\.0\.1[:/]).*"),
        lambda route: (
            errors.append(f"request outside 127.0.0.1: {route.request.url}"),
            route.abort(),
        ),  # fmt: skip
    )
    page.errors = errors
    yield page
    context.close()


def _wait_connected(page) -> None:
    page.wait_for_function(
        "window.playgroundStats && window.playgroundStats.frames > 0", timeout=TIMEOUT_MS
    )


def _number(page, selector: str) -> float:
    text = page.inner_text(selector).strip()
    return float(text) if re.fullmatch(r"-?\d+(\.\d+)?(e-?\d+)?", text) else math.nan


def _epoch(page) -> int:
    return int(re.sub(r"\D", "", page.inner_text("#epoch")) or 0)


_COLOURS = """(sel) => Array.from(document.querySelectorAll(sel)).map((c) => {
  const d = c.getContext("2d").getImageData(0, 0, c.width, c.height).data;
  const seen = new Set();
  for (let i = 0; i < d.length; i += 4)
    if (d[i + 3] > 0) seen.add(d[i] << 16 | d[i + 1] << 8 | d[i + 2]);
  return seen.size;
})"""


def test_spiral_adam_batch_norm_trains_and_the_exported_toml_repeats_it(
    page, server_url, artifacts
):
    # more inputs and neurons than the default 4-2 (via a shared link), as the spiral needs
    page.goto(server_url + "#features=x1,x2,sin(x1),sin(x2)&hidden=8,8")
    _wait_connected(page)
    page.click('[data-dataset="spiral"]')
    page.click("#add-layer")
    page.select_option("#optimizer", "adam")
    page.check("#batchNorm")
    page.wait_for_function("location.hash.includes('batchNorm=true')")
    assert "optimizer=adam" in page.evaluate("location.hash")
    assert "hidden=8,8,2" in page.evaluate("location.hash")  # the added layer: 2 neurons
    page.wait_for_timeout(500)
    assert _epoch(page) == 0
    page.screenshot(path=str(artifacts / "1-before.png"))

    page.click("#play-pause")
    page.wait_for_function(
        "() => parseFloat(document.querySelector('#test-loss').textContent) < 0.25",
        timeout=TIMEOUT_MS,
    )
    page.screenshot(path=str(artifacts / "2-training.png"))
    page.click("#play-pause")  # pause
    page.wait_for_function("!document.querySelector('#play-pause').classList.contains('playing')")
    page.wait_for_timeout(700)  # the last frame after the pause
    epoch = _epoch(page)
    assert epoch > 0 and _epoch(page) == epoch  # paused: the counter stands still
    page.wait_for_timeout(500)
    assert _epoch(page) == epoch
    shown = _number(page, "#test-loss")
    assert shown < 0.35
    page.screenshot(path=str(artifacts / "3-paused.png"))

    # drawn: the output map and every neuron map hold many colours, not a blank canvas
    output = page.evaluate(_COLOURS, "canvas#output-map")
    neurons = page.evaluate(_COLOURS, "canvas.neuron-map")
    assert output[0] > 50, output
    assert len(neurons) == 8 + 8 + 2 and min(neurons) >= 2, neurons

    with page.expect_download() as download:
        page.click("#export-toml")
    text = Path(download.value.path()).read_text()
    (artifacts / "exported.toml").write_text(text)
    cfg = tomllib.loads(text)
    assert cfg["training"]["epochs"] == epoch and cfg["training"]["optimizer"] == "adam"
    assert cfg["model"]["batch_norm"] is True and cfg["model"]["hidden"] == [8, 8, 2]
    assert cfg["data"]["source"] == "spiral"
    reported = float(re.search(r"test loss ([0-9.e-]+)", text).group(1))
    assert reported == pytest.approx(shown, abs=6e-4)  # the page shows 3 decimals

    result = run(validate_config(cfg, "exported.toml"), artifacts / "run", verbose=0)
    assert result.test["loss"] == pytest.approx(reported, rel=1e-6)
    assert page.errors == []


def test_a_shared_url_restores_the_settings(page, server_url, artifacts):
    page.goto(server_url + "#dataset=xor&hidden=3,5&activation=relu&learningRate=0.1&noise=20")
    _wait_connected(page)
    page.wait_for_function("document.querySelectorAll('canvas.neuron-map').length === 8")
    assert page.input_value("#activation") == "relu"
    assert page.input_value("#learningRate") == "0.1"
    assert page.input_value("#noise") == "20"
    assert "selected" in (page.get_attribute('[data-dataset="xor"]', "class") or "")
    page.click("#step")
    page.wait_for_function("document.querySelector('#epoch').textContent.includes('1')")
    assert _epoch(page) == 1
    page.screenshot(path=str(artifacts / "shared-url.png"))
    assert page.errors == []


def test_a_bad_upload_shows_a_one_line_error_and_the_page_keeps_working(
    page, server_url, tmp_path, artifacts
):
    page.goto(server_url)
    _wait_connected(page)
    bad = tmp_path / "bad.csv"
    bad.write_text("x1,x2,label\n1,2\nnot,a,number\n")
    page.set_input_files("#upload", str(bad))
    page.wait_for_function("document.querySelector('#error').textContent.trim().length > 0")
    message = page.inner_text("#error").strip()
    assert "\n" not in message and "csv" in message.lower(), message
    page.screenshot(path=str(artifacts / "bad-upload.png"))
    page.click("#step")
    page.wait_for_function("document.querySelector('#epoch').textContent.includes('1')")
    assert page.errors == []
