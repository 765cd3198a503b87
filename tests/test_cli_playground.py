"""``sinapsi playground``: options, the one-line errors (no extra, port in use), the warning
for a non-local host, and a real server started, answered and stopped with Ctrl-C."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time

import httpx
import pytest

import sinapsi.playground.app as app_module
from sinapsi.cli import main


def test_help_lists_the_options(capsys):
    with pytest.raises(SystemExit):
        main(["playground", "--help"])
    out = capsys.readouterr().out
    for option in ("--port", "--host", "--no-browser", "127.0.0.1"):
        assert option in out


def test_a_bad_port_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as e:
        main(["playground", "--port", "70000"])
    assert e.value.code == 2 and "0..65535" in capsys.readouterr().err


def test_without_the_extra_one_line_says_what_to_install(monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "fastapi", None)
    monkeypatch.delitem(sys.modules, "sinapsi.playground.app")
    assert main(["playground", "--no-browser"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "pip install 'sinapsi[playground]'" in err


def test_a_port_in_use_names_the_option(capsys):
    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen(1)
    try:
        port = taken.getsockname()[1]
        assert main(["playground", "--port", str(port), "--no-browser"]) == 2
    finally:
        taken.close()
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"port {port}" in err and "--port" in err


def test_a_non_local_host_prints_a_warning(monkeypatch, capsys):
    calls = []
    monkeypatch.setattr(app_module, "serve", lambda *a, **k: calls.append((a, k)))
    assert main(["playground", "--host", "0.0.0.0", "--port", "0", "--no-browser"]) == 0
    assert calls == [(("0.0.0.0", 0), {"open_browser": False})]
    assert "warning: --host 0.0.0.0" in capsys.readouterr().err
    assert main(["playground", "--no-browser"]) == 0
    assert calls[-1] == (("127.0.0.1", 8765), {"open_browser": False})
    assert "warning" not in capsys.readouterr().err


@pytest.mark.skipif(os.name != "posix", reason="sends SIGINT")
def test_port_0_serves_on_a_free_port_and_ctrl_c_stops_it():
    proc = subprocess.Popen(
        [sys.executable, "-m", "sinapsi", "playground", "--port", "0", "--no-browser"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        line = proc.stdout.readline()
        match = re.search(r"http://127\.0\.0\.1:(\d+)/", line)
        assert match, line
        url = match.group(0)
        deadline = time.monotonic() + 10
        while True:
            try:
                page = httpx.get(url, timeout=2)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, "the server did not answer in 10 s"
                time.sleep(0.05)
        assert page.status_code == 200 and "<html" in page.text.lower()
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, err
    assert "Traceback" not in err and "stopped" in out
