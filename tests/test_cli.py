"""The command line: `sinapsi demo` trains to its target; bad commands get argparse's usage."""

import subprocess
import sys

import pytest

from sinapsi.__main__ import demo, main


def test_demo_reaches_its_accuracy_target(capsys):
    accuracy = demo(epochs=80, seed=0)
    assert accuracy >= 0.95
    out = capsys.readouterr().out
    assert "epoch    1  loss" in out and "test accuracy" in out


def test_demo_loss_falls():
    import io
    import re
    from contextlib import redirect_stdout

    buffer = io.StringIO()
    with redirect_stdout(buffer):
        demo(epochs=50, seed=1, target=0.0)
    losses = [float(v) for v in re.findall(r"loss (\d+\.\d+)", buffer.getvalue())]
    assert losses[-1] < 0.5 * losses[0]


def test_unknown_command_exits_with_usage(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["fly"])
    assert exc.value.code == 2
    assert "invalid choice: 'fly'" in capsys.readouterr().err


def test_module_entry_point_runs():
    out = subprocess.run(
        [sys.executable, "-m", "sinapsi", "--help"], capture_output=True, text=True, check=True
    )
    assert "demo" in out.stdout
