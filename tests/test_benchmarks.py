"""The benchmark scripts must keep running end to end (speed itself is not tested here)."""

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_ops_benchmark_runs_quick_and_writes_json(tmp_path):
    out = tmp_path / "ops.json"
    result = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "ops.py"), "--quick", "--json", str(out)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "agreement (rel <= 0.0001): PASS" in result.stdout
    report = json.loads(out.read_text())
    assert {"environment", "mlp", "ops"} <= set(report) and report["mlp"]["check"]["ok"]
