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


def _run_quick(script, out):
    result = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / script), "--quick", "--json", str(out)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "agreement (rel <= 0.0001): PASS" in result.stdout
    return result.stdout, json.loads(out.read_text())


def test_mlp_benchmark_runs_quick_and_writes_json(tmp_path):
    stdout, report = _run_quick("mlp.py", tmp_path / "mlp.json")
    assert "> 1 means sinapsi is faster" in stdout
    assert {"environment", "peak", "checks", "checks_ok", "results"} <= set(report)
    assert report["mode"] == "quick" and report["checks_ok"]
    assert report["peak"]["peak_gflops"] > 0
    env = report["environment"]["env"]
    assert {"OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"} <= set(env)
    assert set(report["results"]) == {"tiny", "mnist", "wide", "deep"}
    for name, result in report["results"].items():
        impls = result["implementations"]
        expected = {"sinapsi", "sinapsi.fit", "torch"}
        expected |= {"torch fused"} if name != "tiny" else set()
        expected |= {"sklearn", "numpy"} if name != "deep" else set()
        if report["environment"]["numba_kernels"] and name != "tiny":  # tiny trains with SGD
            expected |= {"sinapsi.numpy"}
        assert set(impls) == expected, name
        for impl in impls.values():
            assert impl["samples_per_s"] > 0 and impl["gflops"] > 0 and impl["peak_fraction"] > 0
        for impl in ("sinapsi", "torch"):  # quick mode measures the memory of this pair only
            memory = impls[impl]["memory"]
            assert memory["raw_mib"] >= memory["net_mib"], (name, impl, memory)
        assert set(result["ratios"]) == {f"sinapsi/{impl}" for impl in expected - {"sinapsi"}}
        assert "sinapsi/torch" in result["targets"]
        assert "memory sinapsi/torch" in result["targets"]
        assert report["checks"][name]["ok"]
    assert "peak_fraction" in report["results"]["wide"]["targets"]


def test_inference_benchmark_runs_quick_and_writes_json(tmp_path):
    _, report = _run_quick("inference.py", tmp_path / "inference.json")
    assert {"environment", "peak", "results", "checks_ok"} <= set(report)
    assert set(report["results"]) == {"mnist", "wide"}
    for result in report["results"].values():
        assert set(result["batches"]) == {"256", "1024"}
        for row in result["batches"].values():
            assert row["check"]["ok"] and row["ratio"] > 0
            assert row["sinapsi"]["samples_per_s"] > 0 and row["torch"]["samples_per_s"] > 0


def test_word2vec_benchmark_runs_quick_and_writes_json(tmp_path):
    out = tmp_path / "word2vec.json"
    script = str(ROOT / "benchmarks" / "word2vec.py")
    result = subprocess.run(
        [sys.executable, script, "--quick", "--json", str(out), "--data-dir", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "sinapsi (workers=2) / gensim (workers=2)" in result.stdout
    report = json.loads(out.read_text())
    assert {"environment", "corpora", "targets_met"} <= set(report)
    assert report["mode"] == "quick" and set(report["corpora"]) == {"lee"}
    lee = report["corpora"]["lee"]
    assert lee["hyperparameters"]["epochs"] == 1 and lee["words"] == 60_533
    assert set(lee["results"]) == {
        "gensim (workers=2)",
        "gensim (workers=1)",
        "sinapsi (workers=2)",
        "sinapsi (workers=1)",
    }
    for row in lee["results"].values():
        assert row["words_per_s"] > 0 and row["vocab_size"] > 0
        assert row["analogy_answerable"] > 0 and "spearman" in row
        assert row["memory_mib"] >= 0 and row["peak_kib"] >= row["baseline_kib"] > 0
    # the quality and memory targets apply to the large corpus only: lee has the speed one
    assert list(report["targets_met"]) == ["lee"]
    assert list(report["targets_met"]["lee"]) == ["training words/s"]
    assert isinstance(report["targets_met"]["lee"]["training words/s"], bool)
