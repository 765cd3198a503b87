"""Benchmark sinapsi against PyTorch (CPU) in the same process.

What is measured
----------------
1. **MLP training step**: one forward+backward of a two-layer MLP written with raw ops, batch 128,
   784-256-10, float32::

       h = relu(x @ W1 + b1); logits = h @ W2 + b2
       loss = -mean(log_softmax(logits)[i, y[i]]); loss.backward()

   The PyTorch twin is the same math with the same raw ops (``@``, ``relu``, ``log_softmax``,
   ``gather``, ``mean``, ``backward``) from the same initial weights (drawn once with
   ``numpy.random.default_rng(0)``). Gradients are set to ``None`` before every step. Before any
   timing, the loss and the gradients of both libraries are compared (relative error <= 1e-4),
   and sinapsi's two ways of picking the label's log-probability (``gather`` and integer-array
   indexing) are checked against each other.

2. **Per-op overhead** on tiny (1x8) float32 tensors, where the arithmetic costs nothing and the
   time is the library's own bookkeeping: ``add``, ``mul``, ``exp``, ``relu``, ``sum`` and
   ``matmul`` (1x8 @ 8x8), forward only, with inputs that require a gradient (so each call builds
   a graph node); and forward+backward of a small chain, ``((a * b) + c).relu().sum()``.

Targets
-------
* per-op overhead below PyTorch's (ratio < 1);
* the 784-256-10 step within 1.2x of PyTorch (ratio <= 1.2).

Methodology
-----------
Both libraries run with the same number of threads: ``torch.set_num_threads`` is set to the
number of threads NumPy's OpenBLAS uses (read from OpenBLAS itself, falling back to the CPUs this
process may run on). Each candidate is timed in blocks: a short pause (so the other library's
spinning BLAS threads go idle), untimed warm-up calls, then several repeats, each timing
(``time.perf_counter``) a loop of N iterations. The blocks of all candidates run in a few rounds;
the reported figure is the median over all repeats of the time per iteration. Ratios are
sinapsi time / PyTorch time, so a ratio below 1 means sinapsi is faster. ``OPENBLAS_CORETYPE``
and ``OPENBLAS_L2_SIZE`` are reported as found in the environment; this script never sets them.

Usage::

    python benchmarks/ops.py                 # full run (about half a minute)
    python benchmarks/ops.py --quick         # smoke test: tiny repeat counts, a few seconds
    python benchmarks/ops.py --json out.json # also write the results as JSON
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import torch

import sinapsi as sn
from _common import (
    OtherLoad,
    blas_info,
    environment,
    measure,
    print_environment,
    print_load,
    rel_err,
    write_json,
)

BATCH, N_IN, N_HIDDEN, N_OUT = 128, 784, 256, 10
TINY = (1, 8)
REL_TOL = 1e-4
MLP_TARGET = 1.2  # sinapsi / PyTorch for the MLP step
OP_TARGET = 1.0  # sinapsi / PyTorch for the per-op overhead


@dataclass(frozen=True)
class Config:
    """How long to measure: rounds, settle pause, warm-up calls, repeats and loop lengths."""

    rounds: int
    settle_s: float
    warmup: int
    repeats: int
    mlp_iters: int
    op_iters: int


FULL = Config(rounds=3, settle_s=0.3, warmup=30, repeats=5, mlp_iters=100, op_iters=5000)
QUICK = Config(rounds=1, settle_s=0.0, warmup=2, repeats=2, mlp_iters=3, op_iters=50)


# ------------------------------------------------------------------------------------- MLP
def mlp_data(seed: int = 0) -> dict[str, np.ndarray]:
    """Inputs, labels and He-initialised weights, float32, from one seeded NumPy Generator."""
    rng = np.random.default_rng(seed)
    f32 = np.float32
    return {
        "x": rng.standard_normal((BATCH, N_IN)).astype(f32),
        "y": rng.integers(0, N_OUT, size=BATCH).astype(np.int64),
        "W1": (rng.standard_normal((N_IN, N_HIDDEN)) * np.sqrt(2.0 / N_IN)).astype(f32),
        "b1": (rng.standard_normal(N_HIDDEN) * 0.01).astype(f32),
        "W2": (rng.standard_normal((N_HIDDEN, N_OUT)) * np.sqrt(2.0 / N_HIDDEN)).astype(f32),
        "b2": (rng.standard_normal(N_OUT) * 0.01).astype(f32),
    }


PARAMS = ("W1", "b1", "W2", "b2")


def sinapsi_mlp(data: dict[str, np.ndarray], pick: str) -> tuple[Callable[[], Any], dict]:
    """A step function for sinapsi (``pick``: ``"gather"`` or ``"index"``) and its parameters."""
    params = {k: sn.tensor(data[k].copy(), requires_grad=True) for k in PARAMS}
    W1, b1, W2, b2 = (params[k] for k in PARAMS)  # noqa: N806 - matrix names
    x = sn.tensor(data["x"])
    y = data["y"]
    y_col, rows = y[:, None], np.arange(BATCH)
    if pick == "gather":  # (batch, 1): torch.gather's form, the twin of the PyTorch code

        def pick_label(lp: Any) -> Any:
            return sn.gather(lp, 1, y_col)
    else:  # (batch,): NumPy advanced indexing

        def pick_label(lp: Any) -> Any:
            return lp[rows, y]

    def step() -> Any:
        for p in params.values():
            p.grad = None
        h = (x @ W1 + b1).relu()
        logits = h @ W2 + b2
        loss = -pick_label(logits.log_softmax(1)).mean()
        loss.backward()
        return loss

    return step, params


def torch_mlp(data: dict[str, np.ndarray]) -> tuple[Callable[[], Any], dict]:
    """The PyTorch twin of :func:`sinapsi_mlp` (same raw ops, same weights)."""
    params = {k: torch.tensor(data[k].copy(), requires_grad=True) for k in PARAMS}
    W1, b1, W2, b2 = (params[k] for k in PARAMS)  # noqa: N806
    x = torch.from_numpy(data["x"].copy())
    y_col = torch.from_numpy(data["y"].copy())[:, None]

    def step() -> Any:
        for p in params.values():
            p.grad = None
        h = torch.relu(x @ W1 + b1)
        logits = h @ W2 + b2
        lp = torch.log_softmax(logits, 1)
        loss = -lp.gather(1, y_col).mean()
        loss.backward()
        return loss

    return step, params


def check_mlp(data: dict[str, np.ndarray]) -> dict[str, Any]:
    """One step of each implementation from the same weights: compare losses and gradients."""
    results: dict[str, dict[str, np.ndarray]] = {}
    for name in ("gather", "index"):
        step, params = sinapsi_mlp(data, name)
        loss = step()
        results[name] = {"loss": np.asarray(loss.data), **{k: params[k].grad for k in PARAMS}}
    step, params = torch_mlp(data)
    loss = step()
    results["torch"] = {
        "loss": loss.detach().numpy(),
        **{k: params[k].grad.numpy() for k in PARAMS},
    }
    errors = {}
    for name in ("gather", "index"):
        errors[f"sinapsi[{name}] vs torch"] = {
            k: rel_err(results[name][k], results["torch"][k]) for k in ("loss", *PARAMS)
        }
    errors["sinapsi gather vs index"] = {
        k: rel_err(results["gather"][k], results["index"][k]) for k in ("loss", *PARAMS)
    }
    ok = all(e <= REL_TOL for errs in errors.values() for e in errs.values())
    return {
        "losses": {name: float(r["loss"]) for name, r in results.items()},
        "rel_errors": errors,
        "ok": ok,
    }


def bench_mlp(cfg: Config) -> dict[str, Any]:
    """Time one training step of the 784-256-10 MLP in both libraries (and both sinapsi picks)."""
    data = mlp_data(0)
    check = check_mlp(data)
    steps = {f"sinapsi[{name}]": sinapsi_mlp(data, name)[0] for name in ("gather", "index")}
    steps["torch"] = torch_mlp(data)[0]
    timings = measure(steps, cfg, cfg.mlp_iters)
    t_torch = timings["torch"]["median_s"]
    ratios = {k: v["median_s"] / t_torch for k, v in timings.items() if k != "torch"}
    return {"check": check, "timings": timings, "ratios": ratios}


# ------------------------------------------------------------------------------ tiny ops
def _tiny_inputs(lib: str) -> dict[str, Any]:
    rng = np.random.default_rng(1)
    arrays = {
        "a": rng.standard_normal(TINY).astype(np.float32),
        "b": rng.standard_normal(TINY).astype(np.float32),
        "c": rng.standard_normal(TINY).astype(np.float32),
        "w": rng.standard_normal((TINY[1], TINY[1])).astype(np.float32),
    }
    if lib == "sinapsi":
        return {k: sn.tensor(v, requires_grad=True) for k, v in arrays.items()}
    return {k: torch.tensor(v, requires_grad=True) for k, v in arrays.items()}


def op_cases(lib: str) -> dict[str, Callable[[], Any]]:
    """The per-op micro-benchmarks for one library, each a zero-argument callable."""
    t = _tiny_inputs(lib)
    a, b, c, w = t["a"], t["b"], t["c"], t["w"]
    if lib == "sinapsi":
        add, mul, exp, relu, total, matmul = sn.add, sn.mul, sn.exp, sn.relu, sn.sum, sn.matmul
    else:
        add, mul, exp, relu, total, matmul = (
            torch.add, torch.mul, torch.exp, torch.relu, torch.sum, torch.matmul
        )  # fmt: skip
    leaves = (a, b, c)

    def chain() -> None:
        for p in leaves:
            p.grad = None
        ((a * b) + c).relu().sum().backward()

    return {
        "add": lambda: add(a, b),
        "mul": lambda: mul(a, b),
        "exp": lambda: exp(a),
        "relu": lambda: relu(a),
        "sum": lambda: total(a),
        "matmul 1x8@8x8": lambda: matmul(a, w),
        "chain fwd+bwd": chain,
    }


def bench_ops(cfg: Config) -> dict[str, Any]:
    """Per-call time of each tiny op (forward, building the graph) and of the chain."""
    cases = {lib: op_cases(lib) for lib in ("sinapsi", "torch")}
    out: dict[str, Any] = {}
    for name in cases["sinapsi"]:
        pair = measure(
            {"sinapsi": cases["sinapsi"][name], "torch": cases["torch"][name]}, cfg, cfg.op_iters
        )
        s, t = pair["sinapsi"], pair["torch"]
        out[name] = {"sinapsi": s, "torch": t, "ratio": s["median_s"] / t["median_s"]}
    return out


# --------------------------------------------------------------------------------- report
def _verdict(ratio: float, target: float) -> str:
    return "ok" if ratio <= target else "MISS"


def print_report(
    env: dict[str, Any], mlp: dict[str, Any], ops: dict[str, Any], cfg: Config
) -> None:
    print_environment("sinapsi vs PyTorch, CPU", env)
    print(
        f"  timing: median of {cfg.rounds} rounds x {cfg.repeats} repeats, loops of "
        f"{cfg.mlp_iters} (MLP) / {cfg.op_iters} (ops) iterations; before each block "
        f"{cfg.settle_s:g} s pause + {cfg.warmup} untimed warm-up calls"
    )

    check = mlp["check"]
    print(f"\n1. MLP {N_IN}-{N_HIDDEN}-{N_OUT}, batch {BATCH}, float32: forward + backward")
    losses = "  ".join(f"{k}={v:.6f}" for k, v in check["losses"].items())
    print(f"  loss: {losses}")
    for pair_name, errs in check["rel_errors"].items():
        worst = max(errs.values())
        detail = " ".join(f"{k}={v:.1e}" for k, v in errs.items())
        print(f"  check {pair_name:<24} max rel err {worst:.1e}  ({detail})")
    print(f"  agreement (rel <= {REL_TOL:g}): {'PASS' if check['ok'] else 'FAIL'}")
    header = f"{'implementation':<18}{'ms/step':>10}{'min':>10}{'ratio':>8}"
    print(f"\n  {header}  target <= {MLP_TARGET}")
    for name, t in mlp["timings"].items():
        ratio = mlp["ratios"].get(name)
        tail = "" if ratio is None else f"{ratio:>8.2f}  {_verdict(ratio, MLP_TARGET)}"
        print(f"  {name:<18}{t['median_s'] * 1e3:>10.3f}{t['min_s'] * 1e3:>10.3f}{tail}")

    print("\n2. Per-op overhead, 1x8 float32 inputs with requires_grad (forward builds the graph)")
    print(f"  {'op':<18}{'sinapsi us':>12}{'torch us':>10}{'ratio':>8}  target < {OP_TARGET}")
    for name, r in ops.items():
        s_us, t_us = r["sinapsi"]["median_s"] * 1e6, r["torch"]["median_s"] * 1e6
        verdict = "ok" if r["ratio"] < OP_TARGET else "MISS"
        print(f"  {name:<18}{s_us:>12.2f}{t_us:>10.2f}{r['ratio']:>8.2f}  {verdict}")
    print("\n  ratio = sinapsi time / PyTorch time (< 1: sinapsi is faster)")
    print_load(env)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--quick", action="store_true", help="tiny repeat counts: a smoke test, a few seconds"
    )
    parser.add_argument("--json", metavar="PATH", help="also write the results as JSON to PATH")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    cfg = QUICK if args.quick else FULL
    blas = blas_info()
    torch.set_num_threads(blas["threads"])
    env = environment(blas)
    load = OtherLoad()
    mlp = bench_mlp(cfg)
    ops = bench_ops(cfg)
    env["other_processes_cpus"] = load.cpus_used()
    print_report(env, mlp, ops, cfg)
    if args.json:
        result = {
            "mode": "quick" if args.quick else "full",
            "config": asdict(cfg),
            "environment": env,
            "mlp": mlp,
            "ops": ops,
        }
        write_json(args.json, result)
    return 0 if mlp["check"]["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
