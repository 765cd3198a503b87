"""Train the same MLPs with sinapsi, PyTorch (CPU) and scikit-learn: speed, FLOP rate, memory.

What is measured
----------------
Four networks (``_common.NETS``), float32, on synthetic data (standard normal inputs; ``tiny``
has XOR labels, the others uniformly spread class labels):

* ``tiny``: 2-8-8-1 tanh, one logit and binary cross-entropy with logits, batch 10,
  SGD(lr=0.03, no momentum);
* ``mnist``: 784-256-256-10 ReLU, softmax cross-entropy, batch 128, Adam(lr=1e-3);
* ``wide``: 784-1024-1024-10 ReLU, softmax cross-entropy, batch 256, Adam(lr=1e-3);
* ``deep``: 784 -> 10 x (Linear 256 + BatchNorm + ReLU) -> 10, batch 128, Adam(lr=1e-3).

The unit of work is a training step: forward, loss, backward and the optimizer step, over one
epoch of batches cut once from the data set. Implementations:

* ``sinapsi``: the hand-written loop a user writes with the public API: ``opt.zero_grad()``,
  ``loss = nn.cross_entropy(model(x), y)`` (``nn.binary_cross_entropy_with_logits`` for
  ``tiny``), ``loss.backward()``, ``opt.step()``, over pre-made batches (``sn.tensor`` views);
* ``sinapsi.capture``: the same model, loss and optimizer trained through
  ``step = sn.capture(model, loss_fn, opt)``, ``step(x, y)`` over the same batches (issue 20):
  the step recorded on its first call, checked on its second (a replay and the eager step
  from the same state must agree bit for bit), replayed from the third on. Two calls per batch
  shape warm it up before any timing (on top of the untimed warm-up epoch every row has); the
  report says whether the timed step replayed (``step.captured``) or fell back to the eager
  step and why (``step.reason``);
* ``sinapsi.fit``: ``sn.fit(model, x, y, epochs=1, batch_size=..., verbose=0)`` on the same
  data: the loop plus its bookkeeping (shuffling and gathering the batches, the loss of every
  batch as a float, per-layer gradient norms, the data checks of each call); no metrics.
  fit captures its step by default, so it is compared with ``sinapsi.capture`` too;
* ``sinapsi.numpy``: the same loop with sinapsi's optional numba optimizer kernels switched
  off (only for Adam, and only when numba is installed: then ``sinapsi`` uses them);
* ``numpy``: a hand-written NumPy step with no autograd and no framework (forward, the loss
  gradient written out, backward matmuls, the same NumPy optimizer arithmetic): the issue's
  reference point, the floor that sinapsi's general machinery is measured against. Not run for
  ``deep`` (no hand-written BatchNorm);
* ``torch`` / ``torch fused``: the standard PyTorch loop (``optimizer.zero_grad()``, forward,
  ``BCEWithLogitsLoss`` / ``CrossEntropyLoss``, ``backward()``, ``optimizer.step()``) over
  pre-made batches (``torch.from_numpy`` views); default optimizer settings, and for Adam also
  ``fused=True``. The weights are copied from the sinapsi model;
* ``sklearn``: ``MLPClassifier(hidden_layer_sizes, activation, solver="sgd" | "adam",
  alpha=0, batch_size, learning_rate_init, shuffle=False, warm_start=True, max_iter=1)``
  (SGD: ``momentum=0``, constant rate): each timed call is one ``fit`` = one epoch over the same
  batches, in order; the per-call cost of ``fit`` (input validation, a new optimizer) counts.
  Not run for ``deep`` (scikit-learn has no BatchNorm).

Reported per implementation: samples/s (epoch samples / best epoch time), microseconds per
step, achieved GFLOP/s (``6 x weights x samples / time``, weights = entries of the Linear
weight matrices; 6 = 2 for the forward matmul + 4 for the two backward ones) and its fraction of
the machine's float32 matmul peak, measured in the same run (a 2048x2048 product in NumPy and in
PyTorch, from each one's fastest repeat; the higher one is "peak"). Ratios are samples/s of
sinapsi's loop over the other's, so **> 1 means sinapsi is faster**; next to them, the same
ratios for the captured loop (``sinapsi.capture`` / the other).

Peak memory: each implementation and network runs again in its own child process (same data,
same number of threads, ``memory_epochs`` epochs) that reports its peak resident set size as the
OS counts it (``VmHWM`` in /proc/self/status; ``ru_maxrss`` elsewhere). "raw" is that figure;
"net" subtracts the baseline of a child that only starts Python and imports the same framework
(sinapsi, torch or sklearn.neural_network, measured the same way; for a sinapsi child whose
training loaded numba's runtime, ~60 MiB of code: the Adam kernels, the captured step's flat
optimizer step, the baseline also loads it, as PyTorch's import loads its own). Each child
imports only its own framework. The children run first, up to one per CPU at a time, while the
main process imports and runs the checks; all of them have ended before the first timed block.
``--quick`` measures only sinapsi's loop, the captured loop and PyTorch's default loop (the
pair the memory target compares, and the new row).

Before any timing, every network is checked: two steps from the same weights (batch 0, then
batch 1 after the update) in sinapsi, PyTorch and PyTorch fused must give losses that agree to a
relative 1e-4; ``sinapsi.fit`` and scikit-learn (same weights via ``coefs_``, one epoch of those
two batches) must report the same epoch-mean loss. ``sinapsi.capture`` is held to more: from
the same weights as the eager ``sinapsi`` loop, over batches 0, 1, 0, 1 (its calls: record,
check, replay, replay), the losses and every parameter and buffer after every step must be
EQUAL BIT FOR BIT to the loop's.

Targets
-------
* tiny: sinapsi >= 3x PyTorch; mnist, wide, deep: >= 1.0x PyTorch (default optimizer; the
  fused ratio is reported next to it);
* every network: >= 2x scikit-learn;
* peak memory (net) <= PyTorch's;
* wide: >= 75% of the matmul peak.

Issue 20 (the captured step; ratios of ``sinapsi.capture``'s samples/s), printed in their own
summary next to the speed-up of capturing (capture / loop) and fit's ratios:

* tiny: >= 0.8x the hand-written NumPy step, >= 2x scikit-learn;
* mnist, wide, deep: >= 1.0x PyTorch with ``fused=True`` Adam.

Profile (``--profile``, ``_mlp_profile.py``): after the timings, for each network, where the
captured step's time goes (forward replays, backward closures, optimizer step, and the engine's
own overhead = the step's total minus those, with the backward walk's bookkeeping shown apart)
and the eager step's (forward + loss, backward, optimizer step, other), in microseconds per
step and as shares, each phase timed on its own over many steps. This is what a note on a
missed target quotes.

Methodology
-----------
One process times everything (sinapsi, PyTorch and scikit-learn loaded together) with the same
number of threads: ``torch.set_num_threads`` is set to the number of threads NumPy's OpenBLAS
uses (scikit-learn computes with NumPy). Each implementation is timed in blocks: a pause (so the
other library's spinning BLAS threads go idle), one untimed warm-up epoch, then repeats of one
epoch each; blocks of all implementations run in several rounds; the figure is the best
(fastest) of all repeats, as ``timeit`` advises and as the matmul peak is taken: on this shared
2-core VM the same implementation measured up to 1.85x slower from one run to the next while
the others did not (slow phases of a second or so hit whichever block is running), and that
noise only ever adds time. The median is kept in the JSON (``samples_per_s_median``).
``OPENBLAS_CORETYPE`` and ``OPENBLAS_L2_SIZE`` are reported as found; this script
never sets or unsets them, and its child processes inherit the environment unchanged.

Usage::

    python benchmarks/mlp.py                        # full run (a few minutes)
    python benchmarks/mlp.py --quick                # smoke test: small epochs, one repeat
    python benchmarks/mlp.py --profile              # also: where each step's time goes
    python benchmarks/mlp.py --configs tiny,mnist --repeats 5 --json out.json

Code: this script holds the targets, the timing and the report; ``_mlp_loops.py`` the
implementations, configurations and the agreement checks; ``_mlp_memory.py`` the memory
children (which run this script with a hidden ``--memory-child`` flag); ``_mlp_profile.py``
the ``--profile`` splits.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict, replace
from typing import Any

from _common import (
    NETS,
    Net,
    OtherLoad,
    Plan,
    blas_info,
    check_selection,
    environment,
    matmul_peak,
    measure,
    print_environment,
    print_load,
    write_json,
)
from _mlp_loops import (
    CAPTURE,
    CAPTURE_CHECK_STEPS,
    FULL,
    QUICK,
    REL_TOL,
    Config,
    check_net,
    epoch_fns,
    implementations,
    n_samples,
    numba_kernels,
)
from _mlp_memory import MemoryRuns, memory_child
from _mlp_profile import print_profile, profile_net

TORCH_TARGET = {"tiny": 3.0, "mnist": 1.0, "wide": 1.0, "deep": 1.0}  # sinapsi / torch
SKLEARN_TARGET = 2.0
PEAK_TARGET = {"wide": 0.75}  # fraction of the matmul peak
MEMORY_TARGET = 1.0  # sinapsi net peak memory / PyTorch's
CAPTURE_TARGET = {  # issue 20: sinapsi.capture's samples/s over the other's
    "tiny": {"numpy": 0.8, "sklearn": 2.0},
    "mnist": {"torch fused": 1.0},
    "wide": {"torch fused": 1.0},
    "deep": {"torch fused": 1.0},
}


# ------------------------------------------------------------------------------------ bench
def bench_net(net: Net, cfg: Config, peak: float) -> dict[str, Any]:
    impls = implementations(net)
    n = n_samples(net, cfg)
    fns = epoch_fns(net, cfg, impls)
    timings = measure(fns, cfg, 1)
    results: dict[str, dict[str, Any]] = {}
    for impl, t in timings.items():
        gflops = 6.0 * net.n_weights * n / t["min_s"] / 1e9
        results[impl] = {
            "samples_per_s": n / t["min_s"],
            "samples_per_s_median": n / t["median_s"],
            "us_per_step": t["min_s"] / cfg.batches[net.name] * 1e6,
            "epoch_median_s": t["median_s"],
            "epoch_min_s": t["min_s"],
            "repeats": t["repeats"],
            "gflops": gflops,
            "peak_fraction": gflops / peak,
        }
    s = results["sinapsi"]["samples_per_s"]
    ratios = {f"sinapsi/{impl}": s / r["samples_per_s"] for impl, r in results.items()
              if impl != "sinapsi"}  # fmt: skip
    out = {
        "spec": {**asdict(net), "description": net.describe(), "n_weights": net.n_weights},
        "samples_per_epoch": n,
        "batches_per_epoch": cfg.batches[net.name],
        "implementations": results,
        "ratios": ratios,
    }
    if CAPTURE in results:
        c = results[CAPTURE]["samples_per_s"]
        out["capture_ratios"] = {f"{CAPTURE}/{impl}": c / r["samples_per_s"]
                                 for impl, r in results.items() if impl != CAPTURE}  # fmt: skip
        epoch = fns[CAPTURE]
        out["capture"] = {  # what the timed step did: replayed, or ran eagerly and why
            **epoch.warmed,  # type: ignore[attr-defined]
            "captured_last_step": epoch.step.captured,  # type: ignore[attr-defined]
        }
    return out


def targets_for(name: str, result: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Each target of network ``name``: the value, the goal and whether it is met."""
    ratios, impl = result["ratios"], result["implementations"]
    out: dict[str, dict[str, Any]] = {}

    def add(key: str, value: float | None, goal: float, higher: bool = True) -> None:
        if value is None:
            return
        met = value >= goal if higher else value <= goal
        out[key] = {"value": value, "goal": goal, "higher_is_better": higher, "met": met}

    add("sinapsi/torch", ratios.get("sinapsi/torch"), TORCH_TARGET[name])
    add("sinapsi/sklearn", ratios.get("sinapsi/sklearn"), SKLEARN_TARGET)
    if name in PEAK_TARGET:
        add("peak_fraction", impl["sinapsi"]["peak_fraction"], PEAK_TARGET[name])
    mem_s = impl["sinapsi"].get("memory", {}).get("net_mib")
    mem_t = impl.get("torch", {}).get("memory", {}).get("net_mib")
    if mem_s is not None and mem_t:
        add("memory sinapsi/torch", mem_s / mem_t, MEMORY_TARGET, higher=False)
    for other, goal in CAPTURE_TARGET[name].items():
        add(f"{CAPTURE}/{other}", result.get("capture_ratios", {}).get(f"{CAPTURE}/{other}"), goal)
    return out


# ----------------------------------------------------------------------------------- report
def _fmt_ratio(r: dict[str, Any] | None, value: float | None = None) -> str:
    if r is None:
        return "-" if value is None else f"{value:.2f}"
    sign = ">=" if r["higher_is_better"] else "<="
    goal = f"{r['goal']:.0%}" if r["goal"] < 1 and r["higher_is_better"] else f"{r['goal']:g}"
    shown = f"{r['value']:.0%}" if "%" in goal else f"{r['value']:.2f}"
    return f"{shown} ({sign}{goal} {'ok' if r['met'] else 'MISS'})"


def _capture_check_line(c: dict[str, Any]) -> str:
    modes = ", ".join(c["modes"])
    verdict = "PASS" if c["bit_identical"] else f"FAIL at {c['difference']}"
    state = "captured" if c["captured"] else f"runs eagerly: {c['reason']}"
    return (
        f"{CAPTURE}: {CAPTURE_CHECK_STEPS} steps ({modes}) == eager loop bit for bit (losses, "
        f"weights, buffers): {verdict}; step {state}"
    )


def _capture_status(c: dict[str, Any]) -> str:
    if c["captured"] and c["captured_last_step"]:
        return "replayed (captured after the warm-up, and the last timed step replayed)"
    if c["captured"]:
        return "captured after the warm-up, but the last timed step ran eagerly"
    return f"FELL BACK to the eager step ({c['reason']})"


def _capture_cell(r: dict[str, Any], other: str) -> str:
    """sinapsi.capture / ``other``: with its goal where it is a target, else the bare ratio."""
    key = f"{CAPTURE}/{other}"
    target = r["targets"].get(key)
    return _fmt_ratio(target) if target else _fmt_ratio(None, r["capture_ratios"].get(key))


def print_capture_summary(report: dict[str, Any]) -> None:
    """Issue 20's targets: the captured step's samples/s over numpy, scikit-learn and fused
    PyTorch; the speed-up of capturing; fit (which captures by default) over the loop."""
    print(
        f"\nIssue 20, the captured step: ratios of samples/s, {CAPTURE} / the other "
        "(> 1 means the captured step is faster)"
    )
    print(
        f"  {'net':<6}{'step':>10}{'capture/loop':>14}{'vs numpy':>20}{'vs sklearn':>20}"
        f"{'vs fused':>20}{'fit/capture':>13}{'fit/loop':>10}"
    )
    for name, r in report["results"].items():
        if "capture_ratios" not in r:
            continue
        state = "replayed" if r["capture"]["captured"] else "EAGER"
        fit = r["capture_ratios"].get(f"{CAPTURE}/sinapsi.fit")
        loop_fit = r["ratios"].get("sinapsi/sinapsi.fit")
        print(
            f"  {name:<6}{state:>10}{_capture_cell(r, 'sinapsi'):>14}"
            f"{_capture_cell(r, 'numpy'):>20}{_capture_cell(r, 'sklearn'):>20}"
            f"{_capture_cell(r, 'torch fused'):>20}{'-' if fit is None else f'{1 / fit:.2f}':>13}"
            f"{'-' if loop_fit is None else f'{1 / loop_fit:.2f}':>10}"
        )
        if not r["capture"]["captured"]:
            print(f"  {'':<6}fell back: {r['capture']['reason']}")


def print_report(report: dict[str, Any], cfg: Config) -> None:
    env = report["environment"]
    print_environment("sinapsi vs PyTorch vs scikit-learn: training MLPs, CPU, float32", env)
    print("  child processes (memory) inherit this environment unchanged: nothing set or unset")
    kernels = env.get("numba_kernels")
    print(
        f"  sinapsi's numba optimizer kernels: on (numba {kernels}); sinapsi.numpy = the same "
        "loop with them off"
        if kernels
        else "  sinapsi's numba optimizer kernels: off (numba not installed or SINAPSI_NUMBA=0)"
    )
    print(
        f"  timing: best of {cfg.rounds} rounds x {cfg.repeats} repeats of one epoch; before "
        f"each block {cfg.settle_s:g} s pause + {cfg.warmup} untimed warm-up epoch(s)"
    )
    p = report["peak"]
    print(
        f"  float32 matmul {p['n']}x{p['n']} (fastest repeat): NumPy {p['numpy_gflops']:.1f} "
        f"GFLOP/s, torch {p['torch_gflops']:.1f} GFLOP/s -> peak {p['peak_gflops']:.1f} "
        f"({p['peak_source']}); medians {p['numpy_median_gflops']:.1f} / "
        f"{p['torch_median_gflops']:.1f}"
    )

    print(f"\nCheck: two steps from the same weights (rel <= {REL_TOL:g})")
    for name, c in report["checks"].items():
        losses = "  ".join(
            f"{k}=" + ",".join(f"{v:.6f}" for v in vs) for k, vs in c["losses"].items()
        )
        means = "  ".join(f"{k}={v:.6f}" for k, v in c["epoch_mean"].items())
        worst = max(c["rel_errors"].values(), default=0.0)
        print(f"  {name:<6} step losses {losses}")
        print(f"  {'':<6} epoch mean  {means}")
        print(f"  {'':<6} max rel err {worst:.1e}: {'PASS' if c['ok'] else 'FAIL'}")
        if "capture" in c:
            print(f"  {'':<6} {_capture_check_line(c['capture'])}")
    print(f"  agreement (rel <= {REL_TOL:g}): {'PASS' if report['checks_ok'] else 'FAIL'}")

    for name, r in report["results"].items():
        print(f"\n{name}: {r['spec']['description']}")
        print(
            f"  {r['spec']['n_weights']:,} weights, {r['samples_per_epoch']} samples = "
            f"{r['batches_per_epoch']} steps per epoch"
        )
        print(
            f"  {'implementation':<16}{'samples/s':>12}{'us/step':>11}{'GFLOP/s':>9}"
            f"{'%peak':>7}{'sinapsi/x':>11}{'capture/x':>11}{'mem MiB':>9}{'net MiB':>9}"
        )
        for impl, v in r["implementations"].items():
            ratio = r["ratios"].get(f"sinapsi/{impl}")
            cap = r.get("capture_ratios", {}).get(f"{CAPTURE}/{impl}")
            mem = v.get("memory", {})
            raw = f"{mem['raw_mib']:.1f}" if "raw_mib" in mem else "-"
            net = f"{mem['net_mib']:.1f}" if "net_mib" in mem else "-"
            print(
                f"  {impl:<16}{v['samples_per_s']:>12,.0f}{v['us_per_step']:>11.1f}"
                f"{v['gflops']:>9.2f}{v['peak_fraction']:>7.1%}"
                f"{'-' if ratio is None else f'{ratio:.2f}':>11}"
                f"{'-' if cap is None else f'{cap:.2f}':>11}{raw:>9}{net:>9}"
            )
        if "capture" in r:
            print(f"  {CAPTURE}: {_capture_status(r['capture'])}")
        if "profile" in r:
            print_profile(r["profile"])

    print(
        "\nSummary: ratios of samples/s, sinapsi's loop / the other (> 1 means sinapsi is "
        "faster);\n  memory: sinapsi net peak / PyTorch's (< 1 means sinapsi uses less)"
    )
    print(
        f"  {'net':<6}{'vs torch':>20}{'vs fused':>10}{'vs sklearn':>20}{'fit/loop':>10}"
        f"{'vs numpy':>10}{'%peak':>18}{'memory':>18}"
    )
    for name, r in report["results"].items():
        t, ratios = r["targets"], r["ratios"]
        fused = ratios.get("sinapsi/torch fused")
        fit = ratios.get("sinapsi/sinapsi.fit")
        hand = ratios.get("sinapsi/numpy")
        peak = t.get("peak_fraction")
        peak_s = (
            _fmt_ratio(peak) if peak else f"{r['implementations']['sinapsi']['peak_fraction']:.1%}"
        )
        sk = _fmt_ratio(t.get("sinapsi/sklearn")) if "sinapsi/sklearn" in t else "-"
        mem = t.get("memory sinapsi/torch")
        print(
            f"  {name:<6}{_fmt_ratio(t.get('sinapsi/torch')):>20}"
            f"{'-' if fused is None else f'{fused:.2f}':>10}{sk:>20}"
            f"{'-' if fit is None else f'{1 / fit:.2f}':>10}"
            f"{'-' if hand is None else f'{hand:.2f}':>10}{peak_s:>18}"
            f"{'-' if mem is None else _fmt_ratio(mem):>18}"
        )
    if any("capture_ratios" in r for r in report["results"].values()):
        print_capture_summary(report)
    missed = [f"{n}: {k}" for n, r in report["results"].items() for k, v in r["targets"].items()
              if not v["met"]]  # fmt: skip
    print(f"  targets missed: {', '.join(missed) if missed else 'none'}")
    print_load(env)


# ------------------------------------------------------------------------------------- main
def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small epochs, one repeat (~20 s)")
    parser.add_argument(
        "--configs", default=",".join(NETS), help=f"comma-separated subset of {','.join(NETS)}"
    )
    parser.add_argument("--repeats", type=int, help="repeats per round (default: 3; quick: 1)")
    parser.add_argument("--no-memory", action="store_true", help="skip the memory children")
    parser.add_argument(
        "--profile",
        action="store_true",
        help="also split the captured and the eager step into phases (after the timings)",
    )
    parser.add_argument("--json", metavar="PATH", help="also write the results as JSON to PATH")
    parser.add_argument("--memory-child", nargs=5, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    return check_selection(parser, args, NETS)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.memory_child:
        impl, config, samples, epochs, threads = args.memory_child
        print(json.dumps(memory_child(impl, config, int(samples), int(epochs), int(threads))))
        return 0

    cfg = QUICK if args.quick else FULL
    if args.repeats is not None:
        cfg = replace(cfg, repeats=args.repeats)
    nets = [NETS[name] for name in args.configs]
    blas = blas_info()
    memory = None if args.no_memory else MemoryRuns(nets, cfg, blas["threads"]).start()

    import sklearn.neural_network  # noqa: F401 - loaded now so that it is in the environment
    import torch

    torch.set_num_threads(blas["threads"])
    env = environment(blas)
    env["numba_kernels"] = numba_kernels()
    if env["numba_kernels"]:  # the same thread count for numba's kernels as for the BLAS
        import numba

        numba.set_num_threads(min(blas["threads"], numba.config.NUMBA_NUM_THREADS))
    checks = {net.name: check_net(net, implementations(net)) for net in nets}

    baselines: dict[str, dict] = {}
    if memory is not None:  # wait for the children: nothing else may run during the timings
        baselines, per_net, env["memory_children_s"] = memory.results()
    load = OtherLoad()
    peak_plan = Plan(
        rounds=cfg.rounds, settle_s=cfg.settle_s, warmup=1, repeats=max(cfg.repeats, 2)
    )
    peak = matmul_peak(cfg.peak_n, peak_plan)
    results = {net.name: bench_net(net, cfg, peak["peak_gflops"]) for net in nets}
    env["other_processes_cpus"] = load.cpus_used()
    if args.profile:  # after the timings, so that its blocks are not near a timed one
        for net in nets:
            steps = cfg.profile_steps[net.name]
            results[net.name]["profile"] = profile_net(net, steps, cfg.profile_rounds)
    if memory is not None:
        for name, per_impl in per_net.items():
            for impl, m in per_impl.items():
                results[name]["implementations"][impl]["memory"] = m
    for net in nets:
        results[net.name]["targets"] = targets_for(net.name, results[net.name])

    report = {
        "mode": "quick" if args.quick else "full",
        "config": asdict(cfg),
        "environment": env,
        "peak": peak,
        "checks": checks,
        "checks_ok": all(c["ok"] for c in checks.values()),
        "memory_baselines": baselines,
        "results": results,
    }
    print_report(report, cfg)
    if args.json:
        write_json(args.json, report)
    return 0 if report["checks_ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
