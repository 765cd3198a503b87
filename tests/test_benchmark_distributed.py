"""benchmarks/distributed.py must keep running end to end (speed itself is not tested here), and
its Allreduce fit and model must compute what they say."""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from mpi_checks import needs_mpi

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

SETTINGS = {
    "sinapsi 1p x 1t",
    "sinapsi 1p x 2t",
    "sinapsi 2r x 1t",
    "torch 1p x 1t",
    "torch 1p x 2t",
    "torch DDP 2r x 1t",
}
MACHINES = [1, 2, 4, 8, 16]


def test_fit_alpha_beta_recovers_a_line():
    from distributed import fit_alpha_beta

    sizes = np.array([4096.0, 65536.0, 1 << 20, 1 << 24])
    alpha, beta = 7e-6, 6e9
    got_alpha, got_beta = fit_alpha_beta(sizes, alpha + sizes / beta)
    assert got_alpha == pytest.approx(alpha, rel=1e-9)
    assert got_beta == pytest.approx(beta, rel=1e-9)


def test_ring_allreduce_cost_by_hand():
    from distributed import ring_allreduce_s

    assert ring_allreduce_s(1, 1e6, 1e-5, 1e9) == 0.0
    # 2 machines: each sends half the buffer twice (reduce-scatter, allgather): bytes / beta
    assert ring_allreduce_s(2, 1e6, 1e-5, 1e9) == pytest.approx(1e-3 + 2e-5)
    # 8 machines: 14 steps of bytes / 8 each
    assert ring_allreduce_s(8, 8e6, 1e-5, 1e9) == pytest.approx(14 * 1e6 / 1e9 + 14 * 1e-5)


@needs_mpi
def test_distributed_benchmark_runs_quick_and_writes_json(tmp_path):
    out = tmp_path / "distributed.json"
    result = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "distributed.py"), "--quick", "--json",
         str(out)],
        capture_output=True,
        text=True,
        timeout=300,  # ~20 s on an idle machine
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    stdout = result.stdout
    assert "> 1: sinapsi is faster" in stdout and "OPENBLAS_CORETYPE" in stdout
    assert "10 Gb/s, 50 us" in stdout

    report = json.loads(out.read_text())
    assert {"mode", "environment", "errors", "allreduce", "results", "model"} <= set(report)
    assert report["mode"] == "quick" and report["errors"] == []
    threads = report["environment"]["children_threads"]  # the children got the threads asked
    assert threads["sinapsi 1p x 1t"]["blas"] == 1 and threads["sinapsi 2r x 1t"]["blas"] == 1
    assert threads["sinapsi 1p x 2t"]["blas"] == 2 and threads["torch 1p x 2t"]["torch"] == 2
    assert threads["torch DDP 2r x 1t"]["torch"] == 1

    ar = report["allreduce"]
    assert ar["beta_Bps"] > 0 and ar["latency_8B_s"] > 0 and ar["at_1MiB_s"] > 0
    sizes = {row["bytes"] for row in ar["rows"]}
    assert {8, 4096, 1 << 20, 1 << 24} <= sizes
    for name, r in report["results"].items():
        assert r["gradient_bytes"] in sizes, name  # the gradient's own size is measured too
        assert set(r["settings"]) == SETTINGS
        for row in r["settings"].values():
            assert 0 < row["step_s"] <= row["step_median_s"]
        two = r["settings"]["sinapsi 2r x 1t"]
        assert 0 < two["allreduce_share"] < 1 and 0 < two["allreduce_s"] < two["step_s"]
        assert r["settings"]["torch DDP 2r x 1t"]["gloo_allreduce_s"] > 0
        for ratio in [*r["ratios_sinapsi_vs_torch"].values(), *r["speedups"].values()]:
            assert ratio["best"] > 0 and ratio["median"] > 0
        assert len(r["compute_2t_by_batch_s"]) == len(MACHINES)
        assert set(r["compute_2t_linear"]) == {"fixed_s", "per_sample_s"}

    assert set(report["model"]) == {"mnist", "wide"}
    for name, model in report["model"].items():
        r = report["results"][name]
        batch, nbytes = r["spec"]["batch"], r["gradient_bytes"]
        assert len(model) == 2  # measured here, and the 10 Gb/s network
        for link in model.values():
            alpha, beta = link["alpha_s"], link["beta_Bps"]
            assert [row["machines"] for row in link["rows"]] == MACHINES
            lin = r["compute_2t_linear"]
            t1 = lin["fixed_s"] + batch * lin["per_sample_s"]
            for row in link["rows"]:  # recomputed here from the JSON's own inputs
                n = row["machines"]
                comm = 0.0 if n == 1 else 2 * (n - 1) / n * nbytes / beta + 2 * (n - 1) * alpha
                compute = lin["fixed_s"] + batch // n * lin["per_sample_s"]
                assert row["measured_compute_s"] == r["compute_2t_by_batch_s"][str(batch // n)]
                assert row["step_s"] == pytest.approx(compute + comm, rel=1e-12)
                assert row["speedup"] == pytest.approx(t1 / (compute + comm), rel=1e-12)
                assert row["weak_speedup"] == pytest.approx(n * t1 / (t1 + comm), rel=1e-12)
