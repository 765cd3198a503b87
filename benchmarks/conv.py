"""Train the same convnets with sinapsi and PyTorch (CPU): training and inference speed, memory.

What is measured
----------------
Two networks (``_conv_nets.NETS``), float32, 28x28 one-channel inputs (synthetic: standard
normal pixels, labels spread over 10 classes), batch 64, Adam(lr=1e-3), softmax cross-entropy:

* ``lenet``: LeNet-5-sized: conv 1->6 5x5, relu, maxpool 2, conv 6->16 5x5, relu, maxpool 2,
  flatten, 256->120, relu, 120->84, relu, 84->10;
* ``keras``: the Keras MNIST example: conv 1->32 3x3, relu, maxpool 2, conv 32->64 3x3, relu,
  maxpool 2, flatten, dropout 0.5, 1600->10.

Both libraries start from the same weights (sinapsi's PyTorch-style initialization, copied into
the PyTorch network through its state_dict) and train on the same batches.

* training: samples/s of the loop a user writes (``zero_grad``, forward, loss, ``backward``,
  ``step``) over one epoch of pre-made batches, dropout on;
* inference: forward only, eval mode, no graph (``sn.no_grad()`` / ``torch.no_grad()``), in
  batches of 64 and of 1000;
* peak memory: each library trains each network again in its own child process (same data),
  which reports its peak resident set size (``VmHWM``); "net" subtracts the peak of a child
  that only imports the same library (for sinapsi with numba on: and numba's runtime);
* profile: where a sinapsi training step's time goes (conv fwd, conv bwd, pool, relu, linear,
  loss, adam, other), next to PyTorch's split from ``torch.profiler`` (``_conv_profile.py``).

Ratios are sinapsi's samples/s over PyTorch's, so **> 1 means sinapsi is faster**; memory is
sinapsi's net peak over PyTorch's (< 1 means sinapsi uses less).

Before any timing, each network is checked with dropout off: one training step from the same
weights on the same batch must give the same loss and parameter gradients, and the next
batch's loss after the Adam update must agree too (rel <= 1e-4); the inference outputs are
compared the same way.

Targets (issue 16)
------------------
* training: sinapsi >= 0.8x PyTorch on both networks (stretch: 1.0x);
* peak memory (net): sinapsi <= 2x PyTorch's.

Methodology
-----------
Two threads each: ``torch.set_num_threads(2)``, NumPy's OpenBLAS set to 2 threads (through its
``openblas_set_num_threads``), numba's kernels (when on) 2 threads; the memory children do the
same. The two libraries take turns: in each round, sinapsi's block then PyTorch's, each after a
pause (so the other library's spinning BLAS threads go idle) and an untimed warm-up epoch;
several rounds; the reported figure is the **median** of all repeats (the best is kept in the
JSON). The memory children run first, while the main process runs the checks, and all have
ended before the first timed block. The OpenBLAS environment variables (``OPENBLAS_CORETYPE``,
``OPENBLAS_L2_SIZE``, ``OPENBLAS_NUM_THREADS``, ``OMP_NUM_THREADS``) are reported as found:
this script never sets or unsets them, and its children inherit the environment unchanged.

Usage::

    python benchmarks/conv.py                 # full run (a few minutes, on an idle machine)
    python benchmarks/conv.py --quick         # smoke test (~30 s), numbers not meaningful
    python benchmarks/conv.py --configs keras --repeats 5 --json out.json
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import asdict, dataclass, replace
from typing import Any

from _common import (
    OtherLoad,
    blas_info,
    check_selection,
    environment,
    measure,
    print_environment,
    print_load,
    write_json,
)
from _conv_memory import MemoryRuns, memory_child, set_threads
from _conv_nets import NETS, REL_TOL, THREADS, ConvNet, check_net, inference_fns, training_fns
from _conv_profile import CATEGORIES, sinapsi_profile, torch_profile

TRAIN_TARGET, TRAIN_STRETCH = 0.8, 1.0  # sinapsi / torch training samples/s
MEMORY_TARGET = 2.0  # sinapsi net peak memory / PyTorch's
LIBS = ("sinapsi", "torch")


@dataclass(frozen=True)
class Config:
    """How long to measure: rounds, settle pause, warm-up calls, repeats, training batches per
    epoch, samples per inference call set (by batch size), the memory children's epochs and
    batches, and the profiled steps."""

    rounds: int
    settle_s: float
    warmup: int
    repeats: int
    train_batches: int
    infer_samples: dict[str, int]
    memory_batches: int
    memory_epochs: int
    profile_steps: int


FULL = Config(
    rounds=5,
    settle_s=0.3,
    warmup=1,
    repeats=3,
    train_batches=8,
    infer_samples={"64": 640, "1000": 1000},
    memory_batches=8,
    memory_epochs=2,
    profile_steps=16,
)
QUICK = Config(
    rounds=1,
    settle_s=0.0,
    warmup=1,
    repeats=1,
    train_batches=2,
    infer_samples={"64": 64, "1000": 1000},
    memory_batches=2,
    memory_epochs=1,
    profile_steps=2,
)


# ------------------------------------------------------------------------------------ bench
def _speed(t: dict[str, Any], samples: int) -> dict[str, Any]:
    return {
        "samples_per_s": samples / t["median_s"],
        "samples_per_s_best": samples / t["min_s"],
        "median_s": t["median_s"],
        "min_s": t["min_s"],
        "repeats": t["repeats"],
    }


def bench_net(net: ConvNet, cfg: Config, phases: dict[str, float]) -> dict[str, Any]:
    """Training and inference speed of both libraries (the seconds each part took go to
    ``phases``)."""
    clock = time.perf_counter()
    n = net.batch * cfg.train_batches
    timings = measure(training_fns(net, n), cfg, 1)
    phases[f"{net.name} training"] = time.perf_counter() - clock
    training = {lib: _speed(timings[lib], n) for lib in LIBS}
    inference: dict[str, Any] = {}
    for batch, samples in cfg.infer_samples.items():
        fns, check = inference_fns(net, samples, int(batch))
        t = measure(fns, cfg, 1)
        row: dict[str, Any] = {lib: _speed(t[lib], samples) for lib in LIBS}
        row["ratio"] = row["sinapsi"]["samples_per_s"] / row["torch"]["samples_per_s"]
        row["check"] = check
        inference[batch] = row
    phases[f"{net.name} inference"] = time.perf_counter() - clock - phases[f"{net.name} training"]
    return {
        "spec": {**asdict(net), "samples_per_epoch": n, "steps_per_epoch": cfg.train_batches},
        "training": training,
        "training_ratio": training["sinapsi"]["samples_per_s"] / training["torch"]["samples_per_s"],
        "inference": inference,
    }


def profile_net(net: ConvNet, cfg: Config, phases: dict[str, float]) -> dict[str, Any]:
    """Where a training step's time goes, sinapsi's and PyTorch's (run after every timing, so
    that neither the patched autograd nor the profiler is near a timed block)."""
    clock = time.perf_counter()
    out = {
        "sinapsi": sinapsi_profile(net, cfg.profile_steps),
        "torch": torch_profile(net, cfg.profile_steps),
    }
    phases[f"{net.name} profile"] = time.perf_counter() - clock
    return out


def targets_for(result: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Each target of one network: the value, the goal and whether it is met."""
    ratio = result["training_ratio"]
    out = {
        "training sinapsi/torch": {
            "value": ratio,
            "goal": TRAIN_TARGET,
            "stretch": TRAIN_STRETCH,
            "higher_is_better": True,
            "met": ratio >= TRAIN_TARGET,
            "stretch_met": ratio >= TRAIN_STRETCH,
        }
    }
    mem_s = result["training"]["sinapsi"].get("memory", {}).get("net_mib")
    mem_t = result["training"]["torch"].get("memory", {}).get("net_mib")
    if mem_s is not None and mem_t:
        value = mem_s / mem_t
        out["memory sinapsi/torch"] = {
            "value": value,
            "goal": MEMORY_TARGET,
            "higher_is_better": False,
            "met": value <= MEMORY_TARGET,
        }
    return out


# ----------------------------------------------------------------------------------- report
def _target(t: dict[str, Any] | None) -> str:
    if t is None:
        return "-"
    sign = ">=" if t["higher_is_better"] else "<="
    text = f"{t['value']:.2f} ({sign}{t['goal']:g} {'ok' if t['met'] else 'MISS'}"
    if "stretch" in t:
        text += f"; stretch {t['stretch']:g} {'ok' if t['stretch_met'] else 'not yet'}"
    return text + ")"


def print_checks(report: dict[str, Any]) -> None:
    print(f"\nCheck: same weights and batches, dropout off (rel <= {REL_TOL:g})")
    for name, c in report["checks"].items():
        losses = "  ".join(
            f"{lib}=" + ",".join(f"{v:.6f}" for v in vs) for lib, vs in c["losses"].items()
        )
        worst = max(c["rel_errors"], key=c["rel_errors"].get)
        print(f"  {name:<6} step losses {losses}")
        print(
            f"  {'':<6} loss + {sum(k.startswith('grad ') for k in c['rel_errors'])} gradients:"
            f" max rel err {c['rel_errors'][worst]:.1e} ({worst}): {'PASS' if c['ok'] else 'FAIL'}"
        )
        for batch, row in report["results"].get(name, {}).get("inference", {}).items():
            ck = row["check"]
            print(
                f"  {'':<6} inference batch {batch}: rel err {ck['rel_error']:.1e}: "
                f"{'PASS' if ck['ok'] else 'FAIL'}"
            )
    print(f"  agreement (rel <= {REL_TOL:g}): {'PASS' if report['checks_ok'] else 'FAIL'}")


def print_profile(r: dict[str, Any]) -> None:
    s, t = r["profile"]["sinapsi"], r["profile"]["torch"]
    print(
        f"  profile of one training step, ms (sinapsi: {s['steps']} steps timed op by op; "
        f"torch: torch.profiler self CPU time)"
    )
    print(f"    {'':<10}{'sinapsi':>9}{'%':>5}{'torch':>9}{'%':>5}{'s - t':>8}")
    for cat in CATEGORIES:
        a, b = s["ms_per_step"][cat], t["ms_per_step"][cat]
        print(
            f"    {cat:<10}{a:>9.2f}{a / s['step_ms']:>5.0%}{b:>9.2f}{b / t['step_ms']:>5.0%}"
            f"{a - b:>+8.2f}"
        )
    print(
        f"    {'step':<10}{s['step_ms']:>9.2f}{'':>5}{t['step_ms']:>9.2f}{'':>5}"
        f"{s['step_ms'] - t['step_ms']:>+8.2f}"
    )
    ops = ", ".join(f"{k} {v:.2f}" for k, v in list(s["backward_ms_by_op"].items())[:6])
    print(f"    sinapsi backward by op: {ops}; graph walk {s['backward_engine_ms']:.2f}")
    worst = ", ".join(
        f"{g['category']} +{g['gap_ms']:.2f} ms (as fast as torch there: "
        f"{g['ratio_if_closed']:.2f}x)"
        for g in r["gaps"]
    )
    print(f"    where sinapsi loses most: {worst or 'nowhere'}")


def gaps(r: dict[str, Any], top: int = 3) -> list[dict[str, Any]]:
    """The categories where sinapsi's step spends most more than PyTorch's (gaps under 2% of
    the step are noise and left out), and the training ratio that matching PyTorch in that one
    category would give (the profiled gap taken off the step, in proportion)."""
    s, t = r["profile"]["sinapsi"], r["profile"]["torch"]
    diffs = sorted(
        ((s["ms_per_step"][c] - t["ms_per_step"][c], c) for c in CATEGORIES), reverse=True
    )
    out = []
    for gap, cat in diffs[:top]:
        if gap <= 0.02 * s["step_ms"]:
            break
        left = max(s["step_ms"] - gap, 1e-9)
        out.append(
            {"category": cat, "gap_ms": gap,
             "ratio_if_closed": r["training_ratio"] * s["step_ms"] / left}
        )  # fmt: skip
    return out


def print_report(report: dict[str, Any], cfg: Config) -> None:
    env = report["environment"]
    print_environment("sinapsi vs PyTorch: training convnets, CPU, float32", env)
    print(
        "  this script sets no environment variable and unsets none (OpenBLAS threads are set "
        "through its API); the memory children inherit the environment unchanged"
    )
    kernels = env.get("numba")
    print(
        f"  sinapsi's numba kernels: {'on (numba ' + kernels + ')' if kernels else 'off'}; "
        f"threads set: {env['threads_set']}"
    )
    print(
        f"  timing: median of {cfg.rounds} rounds x {cfg.repeats} repeats, libraries taking "
        f"turns; before each block {cfg.settle_s:g} s pause + {cfg.warmup} untimed warm-up call"
    )
    print_checks(report)

    for name, r in report["results"].items():
        spec = r["spec"]
        print(f"\n{name}: {spec['description']}")
        print(
            f"  batch {spec['batch']}, Adam(lr={spec['lr']:g}), softmax cross-entropy; "
            f"{spec['samples_per_epoch']} samples = {spec['steps_per_epoch']} steps per "
            "training call"
        )
        print(f"  {'':<26}{'sinapsi':>12}{'torch':>12}{'sinapsi/torch':>15}")
        tr = r["training"]
        print(
            f"  {'training samples/s':<26}{tr['sinapsi']['samples_per_s']:>12,.0f}"
            f"{tr['torch']['samples_per_s']:>12,.0f}{r['training_ratio']:>15.2f}"
        )
        for batch, row in r["inference"].items():
            label = f"inference b{batch} samples/s"
            print(
                f"  {label:<26}{row['sinapsi']['samples_per_s']:>12,.0f}"
                f"{row['torch']['samples_per_s']:>12,.0f}{row['ratio']:>15.2f}"
            )
        mem = {lib: tr[lib].get("memory", {}) for lib in LIBS}
        if all("net_mib" in m for m in mem.values()):
            raw = f"{mem['sinapsi']['raw_mib']:.0f} / {mem['torch']['raw_mib']:.0f} raw"
            print(
                f"  {'peak memory, net MiB':<26}{mem['sinapsi']['net_mib']:>12.1f}"
                f"{mem['torch']['net_mib']:>12.1f}"
                f"{mem['sinapsi']['net_mib'] / mem['torch']['net_mib']:>15.2f}  ({raw})"
            )
        for lib, m in mem.items():
            if "error" in m:
                print(f"  peak memory of {lib}: child failed: {m['error'].splitlines()[-1]}")
        print_profile(r)

    print(
        "\nSummary: training samples/s, sinapsi / PyTorch (> 1 means sinapsi is faster);\n"
        "  memory: sinapsi net peak / PyTorch's (< 1 means sinapsi uses less)"
    )
    print(f"  {'net':<7}{'training':>40}{'memory':>22}")
    for name, r in report["results"].items():
        t = r["targets"]
        print(
            f"  {name:<7}{_target(t.get('training sinapsi/torch')):>40}"
            f"{_target(t.get('memory sinapsi/torch')):>22}"
        )
    missed = [
        f"{n}: {k}"
        for n, r in report["results"].items()
        for k, v in r["targets"].items()
        if not v["met"]
    ]
    print(f"  targets missed: {', '.join(missed) if missed else 'none'}")
    if missed:
        print("  (see each network's profile above: 'where sinapsi loses most')")
    print_load(env)
    phases = ", ".join(f"{k} {v:.1f}" for k, v in env.get("phases_s", {}).items())
    print(f"  seconds taken: {phases}")


# ------------------------------------------------------------------------------------- main
def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="tiny epochs, one repeat (~30 s)")
    parser.add_argument(
        "--configs", default=",".join(NETS), help=f"comma-separated subset of {','.join(NETS)}"
    )
    parser.add_argument("--repeats", type=int, help="repeats per round (default: 3; quick: 1)")
    parser.add_argument("--no-memory", action="store_true", help="skip the memory children")
    parser.add_argument("--json", metavar="PATH", help="also write the results as JSON to PATH")
    parser.add_argument("--memory-child", nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    return check_selection(parser, args, NETS)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.memory_child:
        lib, name, samples, epochs = args.memory_child
        print(json.dumps(memory_child(lib, name, int(samples), int(epochs))))
        return 0

    phases: dict[str, float] = {}
    clock = time.perf_counter()
    cfg = QUICK if args.quick else FULL
    if args.repeats is not None:
        cfg = replace(cfg, repeats=args.repeats)
    nets = [NETS[name] for name in args.configs]
    memory = None
    if not args.no_memory:
        memory = MemoryRuns(nets, 64 * cfg.memory_batches, cfg.memory_epochs).start()

    import torch  # noqa: F401 - set_threads sets PyTorch's threads once it is imported

    import sinapsi  # noqa: F401
    from sinapsi import _numba

    threads = set_threads(THREADS)
    env = environment(blas_info())
    env["threads_set"] = threads
    env["numba"] = None
    if _numba.enabled():
        import numba

        env["numba"] = numba.__version__
    phases["imports"] = time.perf_counter() - clock
    checks = {net.name: check_net(net) for net in nets}
    phases["checks"] = time.perf_counter() - clock - sum(phases.values())

    baselines: dict[str, dict] = {}
    per_net: dict[str, dict] = {}
    if memory is not None:  # wait for the children: nothing else may run during the timings
        baselines, per_net, env["memory_children_s"] = memory.results()
    phases["waiting for the memory children"] = time.perf_counter() - clock - sum(phases.values())
    load = OtherLoad()
    results = {net.name: bench_net(net, cfg, phases) for net in nets}
    env["other_processes_cpus"] = load.cpus_used()
    for net in nets:
        results[net.name]["profile"] = profile_net(net, cfg, phases)
    for name, r in results.items():
        for lib, m in per_net.get(name, {}).items():
            r["training"][lib]["memory"] = m
        r["targets"] = targets_for(r)
        r["gaps"] = gaps(r)

    checks_ok = all(c["ok"] for c in checks.values()) and all(
        row["check"]["ok"] for r in results.values() for row in r["inference"].values()
    )
    env["phases_s"] = phases
    report = {
        "mode": "quick" if args.quick else "full",
        "config": asdict(cfg),
        "environment": env,
        "checks": checks,
        "checks_ok": checks_ok,
        "memory_baselines": baselines,
        "results": results,
    }
    print_report(report, cfg)
    if args.json:
        write_json(args.json, report)
    return 0 if checks_ok else 1


if __name__ == "__main__":
    sys.exit(main())
