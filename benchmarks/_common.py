"""Helpers shared by the benchmark scripts (``ops.py``, ``mlp.py``, ``inference.py``).

Only the standard library and NumPy are imported at module level: ``mlp.py`` starts child
processes that import one framework each (to measure its memory), and they must not pay for the
others. Functions that need PyTorch or sinapsi import them when called.

What is here:

* the environment: NumPy's OpenBLAS thread count and kernel set, versions, the OpenBLAS
  environment variables as found (:func:`blas_info`, :func:`environment`,
  :func:`print_environment`), and the CPU time other processes used during a run
  (:class:`OtherLoad`);
* timing: :func:`measure` (blocks with a settle pause and warm-up, several rounds, median of all
  repeats) and :func:`matmul_peak` (the machine's float32 matmul rate, NumPy's and PyTorch's);
* memory: :func:`peak_rss_kib`, the process's peak resident set size as the OS counts it;
* the benchmark networks (:data:`NETS`), their data, and builders for the same network in
  sinapsi and PyTorch with the same weights.
"""

from __future__ import annotations

import ctypes
import gc
import glob
import json
import os
import platform
import resource
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

BUSY_CPUS = 0.2  # CPUs used by other processes above which the reports warn
OPENBLAS_VARS = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS")


# ------------------------------------------------------------------------------ environment
def _openblas_lib() -> ctypes.CDLL | None:
    """NumPy's bundled OpenBLAS (already loaded by ``import numpy``), or None if not found."""
    libdir = os.path.join(os.path.dirname(os.path.dirname(np.__file__)), "numpy.libs")
    for path in sorted(glob.glob(os.path.join(libdir, "*openblas*"))):
        try:
            return ctypes.CDLL(path)
        except OSError:
            continue
    return None


def _openblas_call(lib: ctypes.CDLL | None, names: tuple[str, ...], restype: Any) -> Any:
    """Call the first of ``names`` that ``lib`` exports (scipy-openblas prefixes its symbols)."""
    if lib is None:
        return None
    for name in names:
        fn = getattr(lib, name, None)
        if fn is not None:
            fn.restype = restype
            return fn()
    return None


def cpu_count() -> int:
    """CPUs this process may run on."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def cpu_name() -> str:
    """The CPU model from /proc/cpuinfo (Linux), else the machine type."""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def blas_info() -> dict[str, Any]:
    """How many threads NumPy's OpenBLAS uses, and which kernel set (core type) it picked."""
    lib = _openblas_lib()
    threads = _openblas_call(
        lib,
        ("scipy_openblas_get_num_threads64_", "openblas_get_num_threads64_",
         "openblas_get_num_threads"),
        ctypes.c_int,
    )  # fmt: skip
    corename = _openblas_call(
        lib,
        ("scipy_openblas_get_corename64_", "openblas_get_corename64_", "openblas_get_corename"),
        ctypes.c_char_p,
    )
    source = "OpenBLAS"
    if not threads:
        threads = cpu_count()
        source = "CPU count (OpenBLAS not found)"
    return {
        "threads": int(threads or 1),
        "threads_source": source,
        "corename": corename.decode() if corename else None,
    }


def environment(blas: dict[str, Any]) -> dict[str, Any]:
    """Versions, threads and the OpenBLAS environment variables, as found (never changed).

    Imports torch and sinapsi (every benchmark's main process uses both); scikit-learn's version
    is reported when the caller has imported it.
    """
    import torch

    import sinapsi as sn

    sklearn = sys.modules.get("sklearn")
    env = {
        "python": platform.python_version(),
        "numpy": np.__version__,
        "torch": torch.__version__,
        "sinapsi": getattr(sn, "__version__", "unknown"),
        "cpu": cpu_name(),
        "cpus_available": cpu_count(),
        "blas_threads": blas["threads"],
        "blas_threads_source": blas["threads_source"],
        "openblas_corename": blas["corename"],
        "torch_threads": torch.get_num_threads(),
        "env": {name: os.environ.get(name) for name in OPENBLAS_VARS},
    }
    if sklearn is not None:
        env["sklearn"] = sklearn.__version__
    return env


def print_environment(title: str, env: dict[str, Any]) -> None:
    """The report's header: versions, CPU, threads and the OpenBLAS variables."""
    print(title)
    versions = f"numpy {env['numpy']}  torch {env['torch']}  sinapsi {env['sinapsi']}"
    if "sklearn" in env:
        versions += f"  scikit-learn {env['sklearn']}"
    print(
        f"  python {env['python']}  {versions}  cpu {env['cpu']} "
        f"({env['cpus_available']} available)"
    )
    threads = (
        f"  threads: NumPy/OpenBLAS {env['blas_threads']} ({env['blas_threads_source']}, "
        f"core {env['openblas_corename']}), torch.set_num_threads({env['torch_threads']})"
    )
    if "sklearn" in env:
        threads += ", scikit-learn uses NumPy's OpenBLAS"
    print(threads)
    for name, value in env["env"].items():
        print(f"  {name}: {'not set' if value is None else repr(value)}")


def print_load(env: dict[str, Any]) -> None:
    """One line: how busy other processes kept the machine while the benchmark ran."""
    other = env.get("other_processes_cpus")
    if other is None:
        return
    note = ""
    if other > BUSY_CPUS:
        note = " -- WARNING: the machine was busy, timings are unreliable; run again idle"
    print(f"  other processes kept {other:.2f} CPUs busy during the run{note}")


class OtherLoad:
    """CPU time used by other processes while the benchmark ran (Linux ``/proc/stat``).

    Busy CPU time of the whole machine minus this process's own CPU time (and, with
    ``children=True``, that of its finished child processes): a few tenths of a CPU means
    another job (a test run, a build) competed for the cores and the timings are noisy.
    """

    def __init__(self, children: bool = False) -> None:
        self.children = children
        self.start = self._sample()

    def _sample(self) -> tuple[float, float, float] | None:
        try:
            with open("/proc/stat") as f:
                fields = [int(v) for v in f.readline().split()[1:]]
        except (OSError, ValueError):
            return None
        tick = os.sysconf("SC_CLK_TCK")
        idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
        own = os.times()
        mine = own.user + own.system
        if self.children:
            mine += own.children_user + own.children_system
        return (sum(fields[:8]) - idle) / tick, mine, time.perf_counter()

    def cpus_used(self) -> float | None:
        """Average number of CPUs kept busy by other processes since construction."""
        end = self._sample()
        if self.start is None or end is None or end[2] <= self.start[2]:
            return None
        other = (end[0] - self.start[0]) - (end[1] - self.start[1])
        return max(other, 0.0) / (end[2] - self.start[2])


# ---------------------------------------------------------------------------------- timing
class Timing(Protocol):
    """What :func:`measure` needs from a benchmark's configuration."""

    rounds: int
    settle_s: float
    warmup: int
    repeats: int


@dataclass(frozen=True)
class Plan:
    """A plain :class:`Timing`: rounds, settle pause, warm-up calls, repeats."""

    rounds: int
    settle_s: float
    warmup: int
    repeats: int


def measure(fns: dict[str, Callable[[], Any]], cfg: Timing, iters: int) -> dict[str, dict]:
    """Median seconds per call of each of ``fns``, over ``cfg.rounds * cfg.repeats`` repeats.

    Each repeat times a loop of ``iters`` calls. The candidates run in blocks (A's repeats, then
    B's), and the whole sequence runs ``cfg.rounds`` times so that slow drift of the machine hits
    every candidate. Before each block the process sleeps ``cfg.settle_s`` and runs
    ``cfg.warmup`` untimed calls: both BLAS thread pools (OpenBLAS for NumPy, OpenMP for
    PyTorch) busy-wait for a while after their last call, and on a small machine a candidate
    timed right after the other one runs against the other's spinning threads (measured here:
    PyTorch's MLP step about 1.6x slower when timed right after sinapsi's).
    """
    times: dict[str, list[float]] = {name: [] for name in fns}
    for _ in range(cfg.rounds):
        for name, fn in fns.items():
            time.sleep(cfg.settle_s)
            for _ in range(cfg.warmup):
                fn()
            gc.collect()
            for _ in range(cfg.repeats):
                start = time.perf_counter()
                for _ in range(iters):
                    fn()
                times[name].append((time.perf_counter() - start) / iters)
    return {
        name: {"median_s": statistics.median(ts), "min_s": min(ts), "repeats": len(ts)}
        for name, ts in times.items()
    }


def rel_err(a: Any, b: Any) -> float:
    """``||a - b|| / ||b||`` in float64 (norm-wise, so tiny entries do not dominate)."""
    a64, b64 = np.asarray(a, np.float64), np.asarray(b, np.float64)
    return float(np.linalg.norm(a64 - b64) / max(np.linalg.norm(b64), 1e-30))


def matmul_peak(n: int, cfg: Timing) -> dict[str, Any]:
    """The machine's float32 matmul rate: an ``n x n @ n x n`` product in NumPy and in PyTorch.

    ``2 n^3`` flops per product; each library's rate is taken from its fastest repeat (a peak is
    a ceiling, not a typical value; the median is reported too). ``peak_gflops`` is the higher
    of the two libraries.
    """
    import torch

    rng = np.random.default_rng(0)
    a = rng.standard_normal((n, n), dtype=np.float32)
    b = rng.standard_normal((n, n), dtype=np.float32)
    ta, tb = torch.from_numpy(a), torch.from_numpy(b)
    t = measure({"numpy": lambda: a @ b, "torch": lambda: ta @ tb}, cfg, 1)
    flops = 2.0 * n**3
    out: dict[str, Any] = {"n": n}
    for lib, r in t.items():
        out[f"{lib}_gflops"] = flops / r["min_s"] / 1e9
        out[f"{lib}_median_gflops"] = flops / r["median_s"] / 1e9
    out["peak_source"] = max(("numpy", "torch"), key=lambda lib: out[f"{lib}_gflops"])
    out["peak_gflops"] = out[f"{out['peak_source']}_gflops"]
    return out


# ---------------------------------------------------------------------------------- memory
def peak_rss_kib() -> int:
    """This process's peak resident set size in KiB: ``VmHWM`` from /proc/self/status (Linux),
    else ``getrusage(RUSAGE_SELF).ru_maxrss`` (KiB on Linux, bytes on macOS)."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return rss // 1024 if sys.platform == "darwin" else rss


def peak_table(
    results: list[dict[str, Any]],
    net_names: list[str],
    net_key: str,
    impl_key: str,
    baseline_of: Callable[[dict[str, Any]], str],
) -> tuple[dict[str, dict], dict[str, dict[str, dict]]]:
    """Fold the memory children's reports (``peak_kib``, ``after_import_kib`` or ``error``; the
    network under ``net_key``, "baseline" for an import-only child, the implementation under
    ``impl_key``) into (baselines by implementation, MiB per network and implementation).
    "net" MiB = the raw peak minus the import baseline ``baseline_of(row)`` names."""
    kib = 1024.0
    baselines = {
        r[impl_key]: {"raw_mib": r["peak_kib"] / kib} if "error" not in r else r
        for r in results
        if r[net_key] == "baseline"
    }
    per_net: dict[str, dict[str, dict]] = {name: {} for name in net_names}
    for r in results:
        if r[net_key] == "baseline":
            continue
        base = baselines.get(baseline_of(r), {}).get("raw_mib")
        if "error" in r or base is None:
            per_net[r[net_key]][r[impl_key]] = {"error": r.get("error", "no baseline")}
            continue
        raw = r["peak_kib"] / kib
        per_net[r[net_key]][r[impl_key]] = {
            "raw_mib": raw,
            "net_mib": raw - base,
            "baseline_mib": base,
            "after_import_mib": r["after_import_kib"] / kib,
        }
    return baselines, per_net


# -------------------------------------------------------------------------------- networks
@dataclass(frozen=True)
class Net:
    """A benchmark network: layer sizes, activation, BatchNorm, loss, batch and optimizer."""

    name: str
    sizes: tuple[int, ...]
    activation: str  # "tanh" or "relu"
    batchnorm: bool  # BatchNorm1d after every hidden Linear (before the activation)
    loss: str  # "bce" (one logit, binary cross-entropy with logits) or "ce" (softmax CE)
    batch: int
    optimizer: str  # "sgd" (no momentum) or "adam" (PyTorch's defaults)
    lr: float

    @property
    def n_weights(self) -> int:
        """Entries of the Linear weight matrices (biases and BatchNorm excluded)."""
        return sum(a * b for a, b in zip(self.sizes, self.sizes[1:]))

    @property
    def n_classes(self) -> int:
        return 2 if self.loss == "bce" else self.sizes[-1]

    def describe(self) -> str:
        sizes = self.sizes
        hidden = sizes[1:-1]
        if len(hidden) > 3 and len(set(hidden)) == 1:
            bn = " + BatchNorm" if self.batchnorm else ""
            arch = f"{sizes[0]} -> {len(hidden)} x (Linear {hidden[0]}{bn} + {self.activation})"
            arch += f" -> {sizes[-1]}"
        else:
            arch = "-".join(map(str, sizes)) + f" {self.activation}"
            if self.batchnorm:
                arch += " + BatchNorm"
        loss = "BCE with logits" if self.loss == "bce" else "softmax cross-entropy"
        opt = f"SGD(lr={self.lr:g})" if self.optimizer == "sgd" else f"Adam(lr={self.lr:g})"
        return f"{arch}, {loss}, batch {self.batch}, {opt}"


NETS: dict[str, Net] = {
    "tiny": Net("tiny", (2, 8, 8, 1), "tanh", False, "bce", 10, "sgd", 0.03),
    "mnist": Net("mnist", (784, 256, 256, 10), "relu", False, "ce", 128, "adam", 1e-3),
    "wide": Net("wide", (784, 1024, 1024, 10), "relu", False, "ce", 256, "adam", 1e-3),
    "deep": Net("deep", (784,) + (256,) * 10 + (10,), "relu", True, "ce", 128, "adam", 1e-3),
}


def make_data(net: Net, n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """``n`` synthetic samples (float32, drawn directly in float32: no float64 temporaries that
    would count in the peak memory) and their class labels (int64, every class present).

    ``tiny``: 2-D points labelled by the sign of ``x0 * x1`` (XOR). The others: standard normal
    inputs and uniformly spread labels.
    """
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, net.sizes[0]), dtype=np.float32)
    if net.loss == "bce":
        y = (x[:, 0] * x[:, 1] > 0).astype(np.int64)
    else:
        y = rng.permutation(np.arange(n) % net.n_classes).astype(np.int64)
    return x, y


def targets(net: Net, y: np.ndarray) -> np.ndarray:
    """What the loss takes: float (n, 1) targets for one logit, the int64 labels otherwise."""
    return y.astype(np.float32)[:, None] if net.loss == "bce" else y


def sinapsi_net(net: Net, seed: int = 0) -> Any:
    """The network as a sinapsi ``nn.Sequential`` (PyTorch's default initialization)."""
    from sinapsi import nn

    act = {"tanh": nn.Tanh, "relu": nn.ReLU}[net.activation]
    layers: list[Any] = []
    pairs = list(zip(net.sizes, net.sizes[1:]))
    for i, (a, b) in enumerate(pairs):
        layers.append(nn.Linear(a, b, rng=seed + i))
        if i < len(pairs) - 1:
            if net.batchnorm:
                layers.append(nn.BatchNorm1d(b))
            layers.append(act())
    return nn.Sequential(*layers)


def torch_net(net: Net) -> Any:
    """The network as a ``torch.nn.Sequential`` (PyTorch's own initialization)."""
    import torch

    act = {"tanh": torch.nn.Tanh, "relu": torch.nn.ReLU}[net.activation]
    layers: list[Any] = []
    pairs = list(zip(net.sizes, net.sizes[1:]))
    for i, (a, b) in enumerate(pairs):
        layers.append(torch.nn.Linear(a, b))
        if i < len(pairs) - 1:
            if net.batchnorm:
                layers.append(torch.nn.BatchNorm1d(b))
            layers.append(act())
    return torch.nn.Sequential(*layers)


def torch_twin(net: Net, model: Any) -> Any:
    """A PyTorch network with copies of the sinapsi ``model``'s parameters (same order, same
    shapes: Linear weight (out, in) and bias, BatchNorm weight and bias)."""
    import torch

    twin = torch_net(net)
    sn_params = list(model.parameters())
    t_params = list(twin.parameters())
    if len(sn_params) != len(t_params):
        raise RuntimeError(f"{len(sn_params)} sinapsi parameters vs {len(t_params)} in PyTorch")
    with torch.no_grad():
        for p, q in zip(sn_params, t_params):
            if tuple(p.shape) != tuple(q.shape):
                raise RuntimeError(f"parameter shapes differ: {p.shape} vs {tuple(q.shape)}")
            q.copy_(torch.from_numpy(np.array(p.data, dtype=np.float32)))
    return twin


def check_selection(parser: Any, args: Any, known: Any) -> Any:
    """Validate ``--configs`` (comma-separated names among ``known``) and ``--repeats``;
    ``args.configs`` becomes the list of names. Exits through ``parser.error`` when wrong."""
    names = [c.strip() for c in args.configs.split(",") if c.strip()]
    unknown = [c for c in names if c not in known]
    if unknown or not names:
        parser.error(f"--configs: unknown {unknown}; choose among {', '.join(known)}")
    args.configs = names
    if args.repeats is not None and args.repeats < 1:
        parser.error("--repeats must be >= 1")
    return args


def write_json(path: str, report: dict[str, Any]) -> None:
    """Write ``report`` as indented JSON to ``path`` (creating its folder) and say where."""
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with open(path, "w") as f:
        json.dump(report, f, indent=2)
    print(f"\nresults written to {path}")
