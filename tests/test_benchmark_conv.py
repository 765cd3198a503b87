"""benchmarks/conv.py must keep running end to end (speed itself is not tested here)."""

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
NETS = {"lenet", "keras"}
PROFILE = {"conv fwd", "conv bwd", "pool", "relu", "linear", "loss", "adam", "other"}


def test_conv_benchmark_runs_quick_and_writes_json(tmp_path):
    out = tmp_path / "conv.json"
    result = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "conv.py"), "--quick", "--json", str(out)],
        capture_output=True,
        text=True,
        timeout=300,  # ~30 s on an idle machine; a loaded one (tests running beside it) is slower
    )
    assert result.returncode == 0, result.stdout + result.stderr
    stdout = result.stdout
    assert "agreement (rel <= 0.0001): PASS" in stdout
    assert "> 1 means sinapsi is faster" in stdout
    assert "OPENBLAS_CORETYPE" in stdout and "targets missed:" in stdout

    report = json.loads(out.read_text())
    assert {"mode", "environment", "checks", "checks_ok", "results"} <= set(report)
    assert report["mode"] == "quick" and report["checks_ok"]
    env = report["environment"]
    assert env["torch_threads"] == 2 and env["blas_threads"] == 2
    assert {"OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"} <= set(env["env"])
    assert set(report["checks"]) == NETS and set(report["results"]) == NETS
    for name, check in report["checks"].items():
        assert check["ok"], (name, check)
        assert max(check["rel_errors"].values()) <= 1e-4
        assert any(key.startswith("grad ") for key in check["rel_errors"]), name

    for name, r in report["results"].items():
        train = r["training"]
        assert set(train) == {"sinapsi", "torch"}, name
        for lib in ("sinapsi", "torch"):
            assert train[lib]["samples_per_s"] > 0 and train[lib]["repeats"] >= 1
            memory = train[lib]["memory"]
            assert memory["raw_mib"] >= memory["net_mib"] > 0, (name, lib, memory)
        assert set(r["inference"]) == {"64", "1000"}
        for row in r["inference"].values():
            assert row["sinapsi"]["samples_per_s"] > 0 and row["torch"]["samples_per_s"] > 0
            assert row["ratio"] > 0
        targets = r["targets"]
        assert {"training sinapsi/torch", "memory sinapsi/torch"} <= set(targets)
        for target in targets.values():
            assert isinstance(target["met"], bool) and target["value"] > 0
        training = targets["training sinapsi/torch"]
        assert training["goal"] == 0.8 and training["stretch"] == 1.0
        assert targets["memory sinapsi/torch"]["goal"] == 2.0
        profile = r["profile"]["sinapsi"]
        assert PROFILE <= set(profile["ms_per_step"]), profile
        parts = sum(profile["ms_per_step"][k] for k in PROFILE)
        assert abs(parts - profile["step_ms"]) <= 0.05 * profile["step_ms"] + 1e-6
        assert profile["ms_per_step"]["conv fwd"] > 0 and profile["ms_per_step"]["adam"] > 0
        for gap in r["gaps"]:  # matching torch in a slower category can only raise the ratio
            assert gap["category"] in PROFILE and gap["gap_ms"] > 0.02 * profile["step_ms"]
            assert gap["ratio_if_closed"] > r["training_ratio"]


def test_profile_names_each_op_and_leaves_autograd_as_it_was():
    from _conv_nets import NETS
    from _conv_profile import op_category, sinapsi_profile
    from sinapsi import autograd

    expected = {
        "aten::convolution_backward": "conv bwd",
        "aten::mkldnn_convolution": "conv fwd",
        "conv2d": "conv fwd",  # sinapsi's op name; its backward closure is counted as conv bwd
        "aten::max_pool2d_with_indices_backward": "pool",
        "max_pool2d": "pool",
        "aten::threshold_backward": "relu",
        "relu": "relu",
        "aten::addmm": "linear",
        "linear": "linear",
        "aten::_log_softmax": "loss",
        "softmax_cross_entropy": "loss",
        "Optimizer.step#Adam.step": "adam",
        "Optimizer.zero_grad#Adam.zero_grad": "other",
        "aten::empty": "",  # says nothing: takes its parent's category
    }
    assert {name: op_category(name) for name in expected} == expected

    node_init = autograd.Node.__init__
    profile = sinapsi_profile(NETS["lenet"], 1)
    assert autograd.Node.__init__ is node_init
    assert set(profile["forward_ms_by_layer"]) >= {"Conv2d", "MaxPool2d", "ReLU", "Linear"}
    assert {"conv2d", "linear"} <= set(profile["backward_ms_by_op"])
    assert profile["ms_per_step"]["conv bwd"] == profile["backward_ms_by_op"]["conv2d"]
