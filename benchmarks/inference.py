"""Inference throughput: ``sinapsi.predict`` vs PyTorch under ``torch.no_grad()`` (CPU).

What is measured
----------------
The ``mnist`` (784-256-256-10 ReLU) and ``wide`` (784-1024-1024-10 ReLU) networks of
``mlp.py`` (``_common.NETS``), float32, with the same weights in both libraries (sinapsi's,
copied to PyTorch), on the same synthetic inputs, with batch sizes 256 and 1024:

* sinapsi: ``sn.predict(model, x, batch_size=b)`` (eval mode, no graph, the outputs of all
  batches concatenated into one NumPy array);
* PyTorch: ``model.eval()`` and, under ``torch.no_grad()``,
  ``torch.cat([model(x[i:i + b]) for i in range(0, n, b)]).numpy()`` over a
  ``torch.from_numpy`` view of the same inputs.

Reported: samples/s, the ratio sinapsi / PyTorch of samples/s (**> 1 means sinapsi is
faster**), and the achieved GFLOP/s (``2 x weights x samples / time``) with its fraction of the
float32 matmul peak measured in the same run (as in ``mlp.py``). Before timing, the outputs of
both libraries are compared (relative error <= 1e-4).

Methodology
-----------
As ``ops.py`` and ``mlp.py``: same thread count (``torch.set_num_threads`` = NumPy's OpenBLAS
threads), blocks with a settle pause and an untimed warm-up call, several rounds, median of all
repeats; each call predicts the whole input set. ``OPENBLAS_CORETYPE`` and ``OPENBLAS_L2_SIZE``
are reported as found (never set or unset).

Usage::

    python benchmarks/inference.py                 # full run (about a minute)
    python benchmarks/inference.py --quick         # smoke test, a few seconds
    python benchmarks/inference.py --json out.json # also write the results as JSON
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from typing import Any

import numpy as np
import torch

import sinapsi as sn
from _common import (
    NETS,
    Net,
    OtherLoad,
    Plan,
    blas_info,
    check_selection,
    environment,
    make_data,
    matmul_peak,
    measure,
    print_environment,
    print_load,
    rel_err,
    sinapsi_net,
    torch_twin,
    write_json,
)

REL_TOL = 1e-4
DEFAULT_CONFIGS = ("mnist", "wide")
BATCHES = (256, 1024)


@dataclass(frozen=True)
class Config:
    """How long to measure: rounds, settle pause, warm-up calls, repeats, samples per call, and
    the matmul size for the peak."""

    rounds: int
    settle_s: float
    warmup: int
    repeats: int
    samples: int
    peak_n: int


FULL = Config(rounds=3, settle_s=0.3, warmup=1, repeats=3, samples=8192, peak_n=2048)
QUICK = Config(rounds=1, settle_s=0.0, warmup=1, repeats=1, samples=1024, peak_n=1024)


def predictors(net: Net, x: np.ndarray, batch: int) -> tuple[dict[str, Callable[[], Any]], dict]:
    """The two zero-argument predict calls (same weights, same inputs), and their outputs
    compared once."""
    model = sinapsi_net(net, seed=0)
    twin = torch_twin(net, model).eval()
    xt = torch.from_numpy(x)
    n = len(x)

    def run_sinapsi() -> np.ndarray:
        return sn.predict(model, x, batch_size=batch)

    def run_torch() -> np.ndarray:
        with torch.no_grad():
            return torch.cat([twin(xt[i : i + batch]) for i in range(0, n, batch)]).numpy()

    a, b = run_sinapsi(), run_torch()
    err = rel_err(a, b) if a.shape == b.shape else float("inf")
    check = {"rel_error": err, "shape": list(a.shape), "ok": err <= REL_TOL}
    return {"sinapsi": run_sinapsi, "torch": run_torch}, check


def bench(nets: list[Net], cfg: Config, peak: float) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for net in nets:
        x, _ = make_data(net, cfg.samples, seed=1)
        per_batch: dict[str, Any] = {}
        for batch in BATCHES:
            fns, check = predictors(net, x, batch)
            timings = measure(fns, cfg, 1)
            row: dict[str, Any] = {"check": check}
            for lib, t in timings.items():
                gflops = 2.0 * net.n_weights * cfg.samples / t["median_s"] / 1e9
                row[lib] = {
                    "samples_per_s": cfg.samples / t["median_s"],
                    "median_s": t["median_s"],
                    "min_s": t["min_s"],
                    "repeats": t["repeats"],
                    "gflops": gflops,
                    "peak_fraction": gflops / peak,
                }
            row["ratio"] = row["sinapsi"]["samples_per_s"] / row["torch"]["samples_per_s"]
            per_batch[str(batch)] = row
        out[net.name] = {
            "description": net.describe().split(",")[0],
            "n_weights": net.n_weights,
            "batches": per_batch,
        }
    return out


def print_report(report: dict[str, Any], cfg: Config) -> None:
    env = report["environment"]
    print_environment("sinapsi.predict vs PyTorch (no_grad, eval), CPU, float32", env)
    print(
        f"  timing: median of {cfg.rounds} rounds x {cfg.repeats} repeats, each predicting "
        f"{cfg.samples} samples; before each block {cfg.settle_s:g} s pause + {cfg.warmup} "
        "untimed warm-up call(s)"
    )
    p = report["peak"]
    print(
        f"  float32 matmul {p['n']}x{p['n']} (fastest repeat): NumPy {p['numpy_gflops']:.1f} "
        f"GFLOP/s, torch {p['torch_gflops']:.1f} GFLOP/s -> peak {p['peak_gflops']:.1f}"
    )
    print(
        "\n  ratio = sinapsi samples/s / PyTorch samples/s (> 1 means sinapsi is faster); "
        "GFLOP/s = 2 x weights x samples / time"
    )
    print(
        f"  {'net':<7}{'batch':>6}{'sinapsi/s':>12}{'torch/s':>12}{'ratio':>8}"
        f"{'GFLOP/s sn':>12}{'torch':>8}{'%peak sn':>10}{'check':>16}"
    )
    for name, r in report["results"].items():
        for batch, row in r["batches"].items():
            s, t, c = row["sinapsi"], row["torch"], row["check"]
            verdict = f"{c['rel_error']:.0e} {'PASS' if c['ok'] else 'FAIL'}"
            print(
                f"  {name:<7}{batch:>6}{s['samples_per_s']:>12,.0f}{t['samples_per_s']:>12,.0f}"
                f"{row['ratio']:>8.2f}{s['gflops']:>12.1f}{t['gflops']:>8.1f}"
                f"{s['peak_fraction']:>10.1%}{verdict:>16}"
            )
    print(f"  agreement (rel <= {REL_TOL:g}): {'PASS' if report['checks_ok'] else 'FAIL'}")
    print_load(env)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small inputs, one repeat")
    parser.add_argument(
        "--configs",
        default=",".join(DEFAULT_CONFIGS),
        help=f"comma-separated subset of {','.join(NETS)} (default: mnist,wide)",
    )
    parser.add_argument("--repeats", type=int, help="repeats per round (default: 3; quick: 1)")
    parser.add_argument("--json", metavar="PATH", help="also write the results as JSON to PATH")
    args = parser.parse_args(argv)
    return check_selection(parser, args, NETS)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    cfg = QUICK if args.quick else FULL
    if args.repeats is not None:
        cfg = replace(cfg, repeats=args.repeats)
    blas = blas_info()
    torch.set_num_threads(blas["threads"])
    env = environment(blas)
    load = OtherLoad()
    peak_plan = Plan(
        rounds=cfg.rounds, settle_s=cfg.settle_s, warmup=1, repeats=max(cfg.repeats, 2)
    )
    peak = matmul_peak(cfg.peak_n, peak_plan)
    results = bench([NETS[name] for name in args.configs], cfg, peak["peak_gflops"])
    env["other_processes_cpus"] = load.cpus_used()
    report = {
        "mode": "quick" if args.quick else "full",
        "config": asdict(cfg),
        "environment": env,
        "peak": peak,
        "results": results,
        "checks_ok": all(row["check"]["ok"] for r in results.values()
                         for row in r["batches"].values()),
    }  # fmt: skip
    print_report(report, cfg)
    if args.json:
        write_json(args.json, report)
    return 0 if report["checks_ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
