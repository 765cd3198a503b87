"""Data-parallel training over MPI: step time, the Allreduce's share, and a model of N machines.

What is measured (one command; it launches its ``mpirun`` children itself)
--------------------------------------------------------------------------
* **Allreduce** between 2 local ranks (``mpirun -n 2``, mpi4py's in-place float32
  ``Allreduce``): 8 B (the latency), 4 KiB .. 16 MiB and the gradient size of each network.
  ``t(s) = alpha + s / beta`` is fitted by least squares on the relative error (each size counts
  alike; plain least squares would fit the 16 MiB point and little else) over 4 KiB .. 16 MiB.
* **Training step** of ``sinapsi.fit`` on ``mnist`` (784-256-256-10, batch 128) and ``wide``
  (784-1024-1024-10, batch 256), Adam, at their global batch sizes, in three settings:
  (a) 1 process, 1 BLAS thread; (b) 1 process, 2 BLAS threads; (c) ``mpirun -n 2``, 1 BLAS
  thread per rank, ``fit(distributed=TimedComm(...))``, a subclass of
  ``sinapsi.distributed.Comm`` whose ``allreduce_`` (once per step, one flat buffer) adds up
  its seconds: the Allreduce's share of the step. A step is timed by a callback from one
  batch's end to the next, so it holds all of fit's work (gather, forward, backward,
  Allreduce, optimizer, bookkeeping); the first epoch is warm-up; the figure is the median
  step. The time inside ``allreduce_`` includes waiting for
  the other rank.
* **PyTorch beside it**: the standard loop (Adam, ``CrossEntropyLoss``, each batch gathered
  from a shuffled order as fit does) with 1 and 2 threads, and ``DistributedDataParallel``
  (gloo, ``tcp://127.0.0.1``, 2 ranks x 1 thread, each rank its half of every global batch).
  Ratios are torch's step time / sinapsi's, so **> 1 means sinapsi is faster**.
* **The model of N machines** (each one rank with all of this machine's cores): step(N) =
  compute(B / N) + ring Allreduce of the gradient, ``2 (N-1)/N * bytes / beta + 2 (N-1) alpha``.
  compute(b) = fixed + b * per-sample, a line fitted (relative least squares) to setting (b),
  1 process with 2 threads, measured at b = B/N for every N: the fixed per-step work (Adam on
  every weight, fit's bookkeeping) does not shrink with N; the measured points are printed
  beside the line (single points swing too much to use alone). Two interconnects:
  the alpha and beta measured here (shared memory: what one machine's ranks get; a real network
  is slower) and a 10 Gb/s network with 50 us latency. Speed-up = step(1) / step(N) at the
  same global batch (fit's semantics); "weak" keeps batch B per machine (global N * B) and
  gives samples/s(N) / samples/s(1).

Methodology: each setting runs in its own process(es) with ``OMP_NUM_THREADS`` /
``OPENBLAS_NUM_THREADS`` / ``MKL_NUM_THREADS`` set to its thread count (the children report
what their BLAS and PyTorch use); every other variable, ``OPENBLAS_CORETYPE`` and
``OPENBLAS_L2_SIZE`` included, is passed on as found. Settings take turns: every round runs all
of them, in an order rotated each round, with a pause between. A run's figure is its median
step; a setting's figure is its best round's (other processes only ever add time, and here a
2-thread BLAS run lost 5-100x for its whole length when another process took a core, so the
median over rounds, printed beside, is only as good as the quietest half of the rounds). Each
ratio is given both ways: of the best rounds, and the median (range) of the ratios within a
round.

Usage::

    python benchmarks/distributed.py               # full run (~5 minutes on an idle machine)
    python benchmarks/distributed.py --quick       # smoke test (~20 s)
    python benchmarks/distributed.py --rounds 5 --json out.json
    python benchmarks/distributed.py --reanalyse out.json   # the report again, nothing measured

Code: this script runs the rounds, the fit and the model and prints the report;
``_distributed_ranks.py`` is what each child process runs.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from _common import (
    NETS,
    OtherLoad,
    blas_info,
    environment,
    print_environment,
    print_load,
    write_json,
)
from _distributed_ranks import n_params

HERE = Path(__file__).resolve().parent
RANKS_SCRIPT = str(HERE / "_distributed_ranks.py")
MACHINES = (1, 2, 4, 8, 16)
NETWORK = {"name": "10 Gb/s, 50 us", "alpha_s": 50e-6, "beta_Bps": 10e9 / 8}
KIB = 1024
CHILD_TIMEOUT_S = 600


@dataclass(frozen=True)
class Config:
    """Rounds, the pause before each child, steps per epoch at the full batch, epochs (the first
    is warm-up), the Allreduce sizes (bytes) and repeats, and the seconds one repeat aims at."""

    rounds: int
    settle_s: float
    steps: int
    epochs: int
    sizes: tuple[int, ...]
    ar_repeats: int
    ar_target_s: float


FULL = Config(
    rounds=4,
    settle_s=0.5,
    steps=20,
    epochs=4,
    sizes=(8,) + tuple(4 * KIB * 4**k for k in range(7)),  # 8 B, 4 KiB .. 16 MiB
    ar_repeats=7,
    ar_target_s=0.01,
)
QUICK = Config(
    rounds=1,
    settle_s=0.0,
    steps=4,
    epochs=2,
    sizes=(8, 4 * KIB, 64 * KIB, 1024 * KIB, 16 * 1024 * KIB),
    ar_repeats=2,
    ar_target_s=0.002,
)


@dataclass(frozen=True)
class Setting:
    """One row: what the child runs, on how many processes, with how many threads each."""

    name: str
    mode: str  # "sinapsi" or "torch"
    ranks: int
    threads: int
    divisors: tuple[int, ...] = (1,)  # batch / d for each d (sinapsi)


SETTINGS = (
    Setting("sinapsi 1p x 1t", "sinapsi", 1, 1, (1, 2)),
    Setting("sinapsi 1p x 2t", "sinapsi", 1, 2, MACHINES),
    Setting("sinapsi 2r x 1t", "sinapsi", 2, 1),
    Setting("torch 1p x 1t", "torch", 1, 1),
    Setting("torch 1p x 2t", "torch", 1, 2),
    Setting("torch DDP 2r x 1t", "torch", 2, 1),
)
PAIRS = (  # (sinapsi, torch) settings compared
    ("sinapsi 1p x 1t", "torch 1p x 1t"),
    ("sinapsi 1p x 2t", "torch 1p x 2t"),
    ("sinapsi 2r x 1t", "torch DDP 2r x 1t"),
)


# ---------------------------------------------------------------------------------- children
def _mpirun() -> str:
    """mpirun beside this interpreter (mpich's wheel puts it there), else the one on PATH."""
    local = Path(sys.executable).parent / "mpirun"
    return str(local) if local.exists() else "mpirun"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def run_child(args: list[str], ranks: int, threads: int, mpi: bool) -> dict[str, Any]:
    """Run ``_distributed_ranks.py args`` (under ``mpirun -n ranks`` when ``mpi``) with
    ``threads`` BLAS threads per process; its ``RESULT`` line, or ``{"error": ...}``."""
    env = dict(os.environ)
    for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        env[name] = str(threads)
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")
    command = [sys.executable, RANKS_SCRIPT, *args]
    if mpi:
        command = [_mpirun(), "-n", str(ranks), *command]
    try:
        done = subprocess.run(command, env=env, capture_output=True, text=True,
                              timeout=CHILD_TIMEOUT_S, cwd=HERE)  # fmt: skip
    except subprocess.TimeoutExpired:
        return {"error": f"{' '.join(command)} did not end within {CHILD_TIMEOUT_S} s"}
    lines = [ln for ln in done.stdout.splitlines() if ln.startswith("RESULT ")]
    if done.returncode != 0 or not lines:
        tail = (done.stderr.strip() or done.stdout.strip()).splitlines()[-1:] or ["no output"]
        return {"error": f"exit {done.returncode}: {tail[0][:300]}"}
    return json.loads(lines[-1][len("RESULT ") :])


def setting_args(s: Setting, nets: list[str], cfg: Config) -> list[str]:
    args = [s.mode, "--nets", ",".join(nets), "--steps", str(cfg.steps),
            "--epochs", str(cfg.epochs), "--threads", str(s.threads)]  # fmt: skip
    if s.mode == "sinapsi":
        args += ["--divisors", ",".join(map(str, s.divisors))]
        if s.ranks > 1:
            args.append("--distributed")
    elif s.ranks > 1:
        args += ["--world", str(s.ranks), "--port", str(_free_port())]
    return args


def allreduce_args(nets: list[str], cfg: Config) -> list[str]:
    sizes = sorted(set(cfg.sizes) | {4 * n_params(NETS[n]) for n in nets})
    return ["allreduce", "--sizes", ",".join(map(str, sizes)), "--repeats", str(cfg.ar_repeats),
            "--target-s", str(cfg.ar_target_s)]  # fmt: skip


def run_rounds(nets: list[str], cfg: Config) -> tuple[list[dict[str, Any]], list[str]]:
    """Every setting and the Allreduce benchmark once per round, the order rotated each round.
    Returns the rounds ({setting: child result}) and the errors met."""
    jobs: list[tuple[str, Any]] = [(s.name, s) for s in SETTINGS] + [("allreduce", None)]
    rounds, errors = [], []
    for r in range(cfg.rounds):
        shift = r % len(jobs)
        results: dict[str, Any] = {}
        for name, s in jobs[shift:] + jobs[:shift]:
            time.sleep(cfg.settle_s)
            if s is None:
                out = run_child(allreduce_args(nets, cfg), 2, 1, mpi=True)
            else:
                out = run_child(setting_args(s, nets, cfg), s.ranks, s.threads, mpi=s.ranks > 1)
            if "error" in out:
                errors.append(f"round {r + 1}, {name}: {out['error']}")
            results[name] = out
        rounds.append(results)
        print(f"  round {r + 1}/{cfg.rounds} done", flush=True)
    return rounds, errors


# ---------------------------------------------------------------------------------- analysis
def fit_alpha_beta(sizes: np.ndarray, times: np.ndarray) -> tuple[float, float]:
    """``t = alpha + s / beta`` by least squares on the relative error: rows divided by t."""
    a = np.stack([np.ones_like(sizes), sizes], axis=1) / times[:, None]
    (alpha, inv_beta), *_ = np.linalg.lstsq(a, np.ones_like(times), rcond=None)
    return float(alpha), float(1.0 / inv_beta)


def ring_allreduce_s(n: int, nbytes: float, alpha: float, beta: float) -> float:
    """Ring Allreduce of ``nbytes`` over ``n`` machines: ``2 (n-1)/n * bytes / beta +
    2 (n-1) alpha`` (reduce-scatter then allgather, each n-1 steps of bytes/n)."""
    if n <= 1:
        return 0.0
    return 2.0 * (n - 1) / n * nbytes / beta + 2.0 * (n - 1) * alpha


def summarize_allreduce(rounds: list[dict[str, Any]]) -> dict[str, Any]:
    """Each size's median of repeats, in its best round (and the median over rounds); the
    alpha/beta fit; the latency and the 1 MiB time."""
    per_size: dict[int, list[float]] = {}
    for r in rounds:
        for row in r.get("allreduce", {}).get("rows", []):
            per_size.setdefault(row["bytes"], []).append(row["median_s"])
    if not per_size:
        return {"error": "no Allreduce measurement"}
    rows = [{"bytes": b, "best_s": min(ts), "median_s": statistics.median(ts), "rounds": ts}
            for b, ts in sorted(per_size.items())]  # fmt: skip
    fit = [r for r in rows if 4 * KIB <= r["bytes"] <= 16 * 1024 * KIB]
    sizes = np.array([r["bytes"] for r in fit], np.float64)
    times = np.array([r["best_s"] for r in fit], np.float64)
    alpha, beta = fit_alpha_beta(sizes, times)
    for r in rows:
        r["fit_s"] = alpha + r["bytes"] / beta
    by_size = {r["bytes"]: r["best_s"] for r in rows}
    return {
        "rows": rows,
        "alpha_s": alpha,
        "beta_Bps": beta,
        "fit_sizes": [int(s) for s in sizes],
        "latency_8B_s": by_size.get(8),
        "at_1MiB_s": by_size.get(1024 * KIB),
        "issue_1MiB_s": 0.14e-3,
    }


def _over_rounds(rounds: list[dict[str, Any]], setting: str, net: str, key: str = "median_s",
                 divisor: int = 1) -> list[float]:  # fmt: skip
    """``key`` of ``setting``'s row for ``net`` (at batch / ``divisor``), one value per round."""
    rows = [r.get(setting, {}).get("nets", {}).get(net, {}).get(str(divisor), {}) for r in rounds]
    return [row[key] for row in rows if key in row]


def _best(values: list[float]) -> float | None:
    return min(values) if values else None


def _ratio(rounds: list[dict[str, Any]], net: str, num: str, den: str) -> dict[str, Any] | None:
    """``num``'s step time / ``den``'s: of their best rounds, and within each round (the median
    and range of those)."""
    pairs = [(_over_rounds([r], num, net), _over_rounds([r], den, net)) for r in rounds]
    pairs = [(x[0], y[0]) for x, y in pairs if x and y]
    if not pairs:
        return None
    a, b = zip(*pairs)
    values = [x / y for x, y in pairs]
    return {"best": min(a) / min(b), "median": statistics.median(values), "min": min(values),
            "max": max(values), "rounds": values}  # fmt: skip


def summarize_net(rounds: list[dict[str, Any]], net_name: str) -> dict[str, Any]:
    """One network's figures: each setting's best round (interference from other processes only
    adds time, and a 2-thread BLAS loses 5-100x for a whole run when another process takes a
    core) with the median over rounds beside it; ratios; the 2-thread compute line."""
    net = NETS[net_name]
    settings: dict[str, Any] = {}
    for s in SETTINGS:
        steps = _over_rounds(rounds, s.name, net_name)
        row: dict[str, Any] = {"ranks": s.ranks, "threads": s.threads, "step_s": _best(steps),
                               "step_median_s": statistics.median(steps) if steps else None,
                               "rounds_s": steps}  # fmt: skip
        if steps:
            row["samples_per_s"] = net.batch / min(steps)
        if s.mode == "sinapsi" and s.ranks > 1 and steps:
            best = steps.index(min(steps))  # the Allreduce figures of the best round
            row["allreduce_s"] = _over_rounds(rounds, s.name, net_name, "allreduce_median_s")[best]
            row["allreduce_share"] = _over_rounds(rounds, s.name, net_name, "allreduce_share")[best]
            shares = _over_rounds(rounds, s.name, net_name, "allreduce_share")
            row["allreduce_share_rounds"] = shares
        if s.mode == "torch" and s.ranks > 1:
            gloo = [r.get(s.name, {}).get("nets", {}).get(net_name, {}).get("gloo_allreduce")
                    for r in rounds]  # fmt: skip
            row["gloo_allreduce_s"] = _best([g["median_s"] for g in gloo if g])
        settings[s.name] = row
    # sinapsi / torch: torch's step time over sinapsi's (> 1: sinapsi faster)
    ratios = {f"{sn_name} vs {t_name}": _ratio(rounds, net_name, t_name, sn_name)
              for sn_name, t_name in PAIRS}  # fmt: skip
    two_ranks = "sinapsi 2r x 1t"
    speedups = {  # the question: what 2 ranks give against 1 rank
        "2r x 1t vs 1p x 2t": _ratio(rounds, net_name, "sinapsi 1p x 2t", two_ranks),
        "2r x 1t vs 1p x 1t": _ratio(rounds, net_name, "sinapsi 1p x 1t", two_ranks),
        "1p x 2t vs 1p x 1t": _ratio(rounds, net_name, "sinapsi 1p x 1t", "sinapsi 1p x 2t"),
        "torch DDP vs torch 1p x 2t": _ratio(
            rounds, net_name, "torch 1p x 2t", "torch DDP 2r x 1t"
        ),
    }
    compute = {d: _best(_over_rounds(rounds, "sinapsi 1p x 2t", net_name, divisor=d))
               for d in MACHINES}  # fmt: skip
    half_1t = _best(_over_rounds(rounds, "sinapsi 1p x 1t", net_name, divisor=2))
    known = [(net.batch // d, t) for d, t in compute.items() if t is not None]
    per_sample = None
    if len(known) >= 2:
        b, t = np.array(known, np.float64).T
        fixed, slope = fit_alpha_beta(b, t)  # the same line fit: t = fixed + b / (1 / slope)
        per_sample = {"fixed_s": fixed, "per_sample_s": 1.0 / slope}
    return {
        "spec": {**asdict(net), "description": net.describe(), "params": n_params(net)},
        "gradient_bytes": 4 * n_params(net),
        "settings": settings,
        "ratios_sinapsi_vs_torch": ratios,
        "speedups": speedups,
        "compute_2t_by_batch_s": {str(net.batch // d): t for d, t in compute.items()},
        "half_batch_1t_s": half_1t,
        "compute_2t_linear": per_sample,
    }


def model_net(result: dict[str, Any], ar: dict[str, Any]) -> dict[str, Any]:
    """Step time and speed-up of N machines for one network, on both interconnects."""
    nbytes = result["gradient_bytes"]
    batch = result["spec"]["batch"]
    measured = result["compute_2t_by_batch_s"]
    lin = result["compute_2t_linear"]
    links = {
        "here (shared memory)": (ar.get("alpha_s"), ar.get("beta_Bps")),
        NETWORK["name"]: (NETWORK["alpha_s"], NETWORK["beta_Bps"]),
    }
    out: dict[str, Any] = {}
    for link, (alpha, beta) in links.items():
        if alpha is None or beta is None or lin is None:
            continue
        alpha = max(alpha, 0.0)
        t1 = lin["fixed_s"] + batch * lin["per_sample_s"]
        rows = []
        for n in MACHINES:
            c = lin["fixed_s"] + batch // n * lin["per_sample_s"]
            comm = ring_allreduce_s(n, nbytes, alpha, beta)
            weak = n * t1 / (t1 + comm)
            rows.append({"machines": n, "batch_per_machine": batch // n, "compute_s": c,
                         "measured_compute_s": measured.get(str(batch // n)),
                         "allreduce_s": comm, "step_s": c + comm, "speedup": t1 / (c + comm),
                         "weak_speedup": weak})  # fmt: skip
        out[link] = {"alpha_s": alpha, "beta_Bps": beta, "rows": rows}
    return out


# ------------------------------------------------------------------------------------ report
def _ms(v: float | None) -> str:
    return "-" if v is None else f"{v * 1e3:.3f}"


def _r(r: dict[str, Any] | None) -> str:
    if r is None:
        return f"{'-':>6}{'-':>24}"
    return f"{r['best']:>6.2f}{r['median']:>10.2f} ({r['min']:.2f}-{r['max']:.2f})"


def print_report(report: dict[str, Any], cfg: Config) -> None:
    env = report["environment"]
    print_environment("sinapsi data-parallel training over MPI vs PyTorch DDP, CPU, float32", env)
    print(
        "  children: OMP_NUM_THREADS / OPENBLAS_NUM_THREADS / MKL_NUM_THREADS set to each "
        "setting's thread count; everything else (OPENBLAS_CORETYPE, OPENBLAS_L2_SIZE) as above"
    )
    print(
        f"  {cfg.rounds} round(s), settings taking turns (order rotated per round, "
        f"{cfg.settle_s:g} s pause each); {cfg.steps} steps x {cfg.epochs} epochs per setting, "
        "first epoch warm-up; a run's step = its median step; figures = the best round's run "
        "(median over rounds beside)"
    )
    print_load(env)
    for err in report["errors"]:
        print(f"  ERROR {err}")

    ar = report["allreduce"]
    print("\nAllreduce between 2 local ranks (mpi4py, in place, float32 SUM; median of repeats)")
    print("  best = the best round's, median = over rounds; the fit and the model use best")
    if "error" in ar:
        print(f"  {ar['error']}")
    else:
        print(f"  {'bytes':>10}{'best us':>10}{'median us':>10}{'fit us':>10}")
        for row in ar["rows"]:
            print(
                f"  {row['bytes']:>10,}{row['best_s'] * 1e6:>10.1f}{row['median_s'] * 1e6:>10.1f}"
                f"{row['fit_s'] * 1e6:>10.1f}"
            )
        print(
            f"  fit t(s) = alpha + s / beta over 4 KiB .. 16 MiB (relative least squares): "
            f"alpha = {ar['alpha_s'] * 1e6:.1f} us, beta = {ar['beta_Bps'] / 1e9:.2f} GB/s"
        )
        print(
            f"  latency (8 B) {ar['latency_8B_s'] * 1e6:.1f} us; 1 MiB {_ms(ar['at_1MiB_s'])} ms "
            f"(the issue measured about {_ms(ar['issue_1MiB_s'])} ms)"
        )

    for name, r in report["results"].items():
        print(f"\n{name}: {r['spec']['description']}; gradient {r['gradient_bytes']:,} bytes")
        print(
            f"  {'setting':<20}{'step ms':>10}{'median':>9}{'samples/s':>11}{'allreduce ms':>14}"
            f"{'share':>8}"
        )
        for s_name, row in r["settings"].items():
            share = row.get("allreduce_share")
            comm = row.get("allreduce_s", row.get("gloo_allreduce_s"))
            sps = row.get("samples_per_s")
            print(
                f"  {s_name:<20}{_ms(row['step_s']):>10}{_ms(row['step_median_s']):>9}"
                f"{'-' if sps is None else f'{sps:,.0f}':>11}{_ms(comm):>14}"
                f"{'-' if share is None else f'{share:.1%}':>8}"
            )
        print("  (allreduce ms: sinapsi's time inside comm.allreduce_ per step; for DDP, a "
              "separate gloo all_reduce of the gradient's size)")  # fmt: skip
        print(f"  {'torch step / sinapsi step (> 1: sinapsi is faster)':<52}{'best':>6}"
              "    per round: median (range)")  # fmt: skip
        for key, v in r["ratios_sinapsi_vs_torch"].items():
            print(f"    {key:<50}{_r(v)}")
        print("  speed-up (step time of the second / the first)")
        for key, v in r["speedups"].items():
            print(f"    {key:<50}{_r(v)}")
        two, half = r["settings"]["sinapsi 2r x 1t"], r["half_batch_1t_s"]
        if two.get("step_s") and two.get("allreduce_s") is not None and half:
            rest = two["step_s"] - two["allreduce_s"]
            print(
                f"  2 ranks: step - allreduce = {rest * 1e3:.3f} ms vs {half * 1e3:.3f} ms for 1 "
                f"process, 1 thread at batch {r['spec']['batch'] // 2}: the rest of the "
                f"distributed cost {(rest - half) * 1e3:+.3f} ms (flat-buffer copies, two "
                "processes sharing caches and memory)"
            )

    print("\nModel of N machines (each: 1 rank, this machine's 2 cores; fit's semantics: global")
    print("batch fixed, each machine B/N). step = compute(B/N) + ring Allreduce of the gradient;")
    print(
        "compute(b) = fixed + b x per-sample, fitted to 1 process x 2 threads measured at b = B/N"
    )
    print("(measured: those points); weak = batch B per machine (global N x B)")
    for name, model in report["model"].items():
        links = list(model)
        if not links:
            print(f"\n{name}: no model (a measurement is missing)")
            continue
        nbytes = report["results"][name]["gradient_bytes"]
        lin = report["results"][name]["compute_2t_linear"]
        print(
            f"\n{name}: gradient {nbytes:,} bytes; compute(b) = {lin['fixed_s'] * 1e3:.3f} ms + "
            f"b x {lin['per_sample_s'] * 1e6:.2f} us"
        )
        print(f"  {'':<25}" + "".join(f" | {link[:28]:<28}" for link in links))
        sub = "".join(f" | {'ar ms':>6}{'step ms':>8}{'speedup':>8}{'weak':>6}" for _ in links)
        print(f"  {'N':>3}{'B/N':>5}{'measured':>9}{'compute':>8}{sub}")
        for i, row in enumerate(model[links[0]]["rows"]):
            cells = ""
            for link in links:
                x = model[link]["rows"][i]
                cells += (f" | {x['allreduce_s'] * 1e3:>6.2f}{x['step_s'] * 1e3:>8.2f}"
                          f"{x['speedup']:>8.2f}{x['weak_speedup']:>6.2f}")  # fmt: skip
            print(f"  {row['machines']:>3}{row['batch_per_machine']:>5}"
                  f"{_ms(row['measured_compute_s']):>9}"
                  f"{row['compute_s'] * 1e3:>8.3f}{cells}")  # fmt: skip
        two = report["results"][name]["settings"]["sinapsi 2r x 1t"]
        at2 = next((x for x in model[links[0]]["rows"] if x["machines"] == 2), None)
        alone = {r["bytes"]: r["best_s"] for r in report["allreduce"].get("rows", [])}
        if at2 and two.get("step_s") and two.get("allreduce_s") is not None:
            print(
                f"  against the measurement: 2 ranks x 1 thread here took "
                f"{two['step_s'] * 1e3:.3f} ms per step, {two['allreduce_s'] * 1e3:.3f} ms of it "
                f"in allreduce_; an Allreduce of this size alone takes {_ms(alone.get(nbytes))} "
                f"ms (the model's N = 2: {at2['allreduce_s'] * 1e3:.3f} ms): the rest is waiting "
                "for the other rank"
            )
    print(
        "\nAssumptions: one rank per machine using all its cores; compute(B/N) from the line "
        "fitted here;\n  the ring's alpha/beta as measured between 2 local ranks (shared "
        "memory, the reduction's arithmetic included)\n  or the 10 Gb/s, 50 us network; no "
        "overlap of the Allreduce with backward (sinapsi reduces after backward); no\n  "
        "stragglers; the flat-buffer copies and fit's per-step bookkeeping are inside "
        "compute(B/N) only as far as\n  1-process fit does them. A real network is slower than "
        "shared memory: read the second column set."
    )
    print("\nSummary")
    for line in report["summary"]:
        print(f"  {line}")


def summary(report: dict[str, Any]) -> list[str]:
    """The answers in words: 2 ranks against 1 process, the Allreduce's share, vs PyTorch."""
    lines = []
    for name, r in report["results"].items():
        sp, ratios = r["speedups"], r["ratios_sinapsi_vs_torch"]
        vs2t, vs1t = sp.get("2r x 1t vs 1p x 2t"), sp.get("2r x 1t vs 1p x 1t")
        share = r["settings"]["sinapsi 2r x 1t"].get("allreduce_share")
        if vs2t and vs1t and share is not None:
            lines.append(
                f"{name}: 2 ranks x 1 thread run a step {vs2t['best']:.2f}x as fast as 1 "
                f"process with 2 BLAS threads ({vs1t['best']:.2f}x as fast as 1 thread); "
                f"{share:.0%} of the 2-rank step is inside the Allreduce"
            )
        ddp = ratios.get("sinapsi 2r x 1t vs torch DDP 2r x 1t")
        one = ratios.get("sinapsi 1p x 2t vs torch 1p x 2t")
        if ddp and one:
            lines.append(
                f"{name}: torch step / sinapsi step = {one['best']:.2f} on 1 process x 2 "
                f"threads, {ddp['best']:.2f} on 2 ranks (DDP, gloo) (> 1: sinapsi faster)"
            )
        for link, m in report["model"].get(name, {}).items():
            best = max(m["rows"], key=lambda x: x["speedup"])
            last = m["rows"][-1]
            lines.append(
                f"{name}, model over {link}: best speed-up {best['speedup']:.2f}x at N = "
                f"{best['machines']}; N = {last['machines']}: {last['speedup']:.2f}x (weak "
                f"scaling, batch {r['spec']['batch']} per machine: {last['weak_speedup']:.2f}x)"
            )
    return lines


# -------------------------------------------------------------------------------------- main
def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes, one round (smoke test)")
    parser.add_argument("--configs", default="mnist,wide", help="networks: mnist,wide")
    parser.add_argument("--rounds", type=int, help="rounds of all settings (default 4)")
    parser.add_argument("--json", metavar="PATH", help="also write the results as JSON to PATH")
    parser.add_argument(
        "--reanalyse", metavar="PATH", help="measure nothing: report a saved JSON's rounds again"
    )
    args = parser.parse_args(argv)
    if args.rounds is not None and args.rounds < 1:
        parser.error("--rounds must be >= 1")
    args.configs = [c.strip() for c in args.configs.split(",") if c.strip()]
    unknown = [c for c in args.configs if c not in ("mnist", "wide")]
    if unknown or not args.configs:
        parser.error(f"--configs: unknown {unknown}; choose among mnist, wide")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    cfg = QUICK if args.quick else FULL
    if args.rounds is not None:
        cfg = replace(cfg, rounds=args.rounds)
    if args.reanalyse:
        with open(args.reanalyse) as f:
            saved = json.load(f)
        cfg = Config(**{k: tuple(v) if k == "sizes" else v for k, v in saved["config"].items()})
        env, errors, rounds = saved["environment"], saved["errors"], saved["rounds"]
        args.configs, args.quick = list(saved["results"]), saved["mode"] == "quick"
    else:
        env = environment(blas_info())
        load = OtherLoad(children=True)
        started = time.perf_counter()
        rounds, errors = run_rounds(args.configs, cfg)
        env["other_processes_cpus"] = load.cpus_used()
        env["wall_s"] = time.perf_counter() - started
        env["children_threads"] = {
            name: {"blas": r.get("blas_threads"), "torch": r.get("torch_threads")}
            for name, r in rounds[0].items()
        }
    ar = summarize_allreduce(rounds)
    results = {name: summarize_net(rounds, name) for name in args.configs}
    model = {name: model_net(results[name], ar) if "error" not in ar else {}
             for name in args.configs}  # fmt: skip
    report = {
        "mode": "quick" if args.quick else "full",
        "config": asdict(cfg),
        "environment": env,
        "errors": errors,
        "allreduce": ar,
        "results": results,
        "model": model,
        "network": NETWORK,
        "rounds": rounds,
    }
    report["summary"] = summary(report)
    print_report(report, cfg)
    if args.json:
        write_json(args.json, report)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
