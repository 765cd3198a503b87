"""benchmarks/playground.py must keep running end to end (speed itself is not tested here)."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "benchmarks" / "playground.py"
CHROMIUM = "/usr/bin/chromium"


def _run(*args, timeout=300):
    return subprocess.run(
        [sys.executable, str(SCRIPT), *args], capture_output=True, text=True, timeout=timeout
    )


def test_playground_benchmark_names_the_build_steps_for_a_missing_tf_dist(tmp_path):
    result = _run("--only", "tf", "--tf-dist", str(tmp_path), timeout=60)
    assert result.returncode == 2, result.stdout + result.stderr
    last = result.stderr.strip().splitlines()[-1]
    assert "has no index.html" in last and "npm run build" in last


@pytest.mark.skipif(not os.access(CHROMIUM, os.X_OK), reason=f"needs {CHROMIUM} (make test)")
def test_playground_benchmark_runs_sinapsi_side_and_writes_json(tmp_path):
    pytest.importorskip("sinapsi.playground")
    out = tmp_path / "playground.json"
    result = _run(
        "--only", "sinapsi", "--rounds", "1", "--seconds", "1", "--warmup", "0.5",
        "--loss-timeout", "0", "--json", str(out),
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert "binary cross-entropy" in result.stdout and "full frames/s >= 20" in result.stdout
    report = json.loads(out.read_text())
    assert report["impls"] == ["sinapsi"]
    assert {r["setting"] for r in report["runs"]} == {"default", "spiral"}
    for run in report["runs"]:
        assert run["epochs_per_s"] > 0 and run["frames_per_s"] > 0, run
        assert run["epoch_at_start"] == 0, run
    for targets in report["targets"].values():
        assert targets["training samples/s >= TF's"]["verdict"] == "n/a"
        assert targets["full frames/s >= 20"]["verdict"] in {"PASS", "MISS"}
