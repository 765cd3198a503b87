"""The MLP benchmark's peak-memory children: each trains one implementation in its own
process (``mlp.py --memory-child ...``) and reports its peak resident set size."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from _common import (
    NETS,
    Net,
    cpu_count,
    make_data,
    peak_rss_kib,
    peak_table,
    sinapsi_net,
    torch_net,
)
from _mlp_loops import (
    CAPTURE,
    FRAMEWORK,
    Config,
    capture_step,
    epoch_of,
    framework_of,
    implementations,
    n_samples,
    numba_kernels,
    numpy_batches,
    numpy_only,
    numpy_step,
    sinapsi_batches,
    sinapsi_fit,
    sinapsi_step,
    sklearn_epoch,
    sklearn_model,
    torch_batches,
    torch_step,
    warm_up,
)

MLP_SCRIPT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "mlp.py")


# ----------------------------------------------------------------------------------- memory
def memory_child(impl: str, config: str, samples: int, epochs: int, threads: int) -> dict:
    """Runs in a child process: import one framework, train, report the peak RSS (KiB).

    ``config == "baseline"``: only the imports (the interpreter + import baseline).
    """
    framework = FRAMEWORK[impl]
    if framework == "torch":
        import torch

        torch.set_num_threads(threads)
    elif framework == "sklearn":
        import sklearn.neural_network  # noqa: F401
    elif framework == "numpy":
        pass  # numpy itself is imported by every child
    else:
        import sinapsi  # noqa: F401

        if framework == "sinapsi+numba":  # the runtime that Adam's first step loads
            from sinapsi.optim import _numba

            _numba.enabled()
    after_import = peak_rss_kib()
    if config != "baseline":
        net = NETS[config]
        x, y = make_data(net, samples, seed=1)
        if impl in ("sinapsi", "sinapsi.numpy"):
            epoch = epoch_of(
                sinapsi_step(net, sinapsi_net(net, seed=0)), sinapsi_batches(net, x, y)
            )
            if impl == "sinapsi.numpy":
                epoch = numpy_only(epoch)
        elif impl == CAPTURE:  # warmed up as in the timings (recording and check count)
            batches = sinapsi_batches(net, x, y)
            step = capture_step(net, sinapsi_net(net, seed=0))
            warm_up(step, batches)
            epoch = epoch_of(step, batches)
        elif impl == "sinapsi.fit":
            epoch = sinapsi_fit(net, sinapsi_net(net, seed=0), x, y)
        elif impl == "numpy":
            epoch = epoch_of(numpy_step(net, sinapsi_net(net, seed=0)), numpy_batches(net, x, y))
        elif impl in ("torch", "torch fused"):
            step = torch_step(net, torch_net(net), fused=impl == "torch fused")
            epoch = epoch_of(step, torch_batches(net, x, y))
        else:
            epoch = sklearn_epoch(sklearn_model(net), x, y)
        for _ in range(epochs):
            epoch()
    return {
        "impl": impl,
        "config": config,
        "peak_kib": peak_rss_kib(),
        "after_import_kib": after_import,
        "numba_loaded": "numba" in sys.modules,
    }


def run_memory_child(impl: str, config: str, samples: int, epochs: int, threads: int) -> dict:
    cmd = [sys.executable, MLP_SCRIPT, "--memory-child", impl, config,
           str(samples), str(epochs), str(threads)]  # fmt: skip
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    if proc.returncode != 0:
        return {"impl": impl, "config": config, "error": proc.stderr.strip()[-2000:]}
    return json.loads(proc.stdout.strip().splitlines()[-1])


class MemoryRuns:
    """The memory children: started with :meth:`start` (before the main process imports PyTorch
    and scikit-learn and runs the checks, which they overlap), collected with :meth:`results`
    before any timing starts, so that no child competes with a timed block."""

    def __init__(self, nets: list[Net], cfg: Config, threads: int) -> None:
        jobs = []
        for net in nets:
            jobs += [(impl, net.name, n_samples(net, cfg)) for impl in implementations(net)
                     if impl in cfg.memory_impls]  # fmt: skip
        frameworks = {FRAMEWORK[impl] for impl, _, _ in jobs}
        if "sinapsi" in frameworks and numba_kernels():  # for children that load numba
            frameworks.add("sinapsi+numba")
        self.jobs = [(fw, "baseline", 0) for fw in sorted(frameworks)] + jobs
        self.nets, self.cfg, self.threads = nets, cfg, threads
        self.pool: ThreadPoolExecutor | None = None
        self.futures: list[Any] = []
        self.started = 0.0

    def start(self) -> MemoryRuns:
        self.started = time.perf_counter()
        self.pool = ThreadPoolExecutor(max_workers=max(1, min(cpu_count(), 4)))
        self.futures = [
            self.pool.submit(run_memory_child, impl, config, n, self.cfg.memory_epochs,
                             self.threads)
            for impl, config, n in self.jobs
        ]  # fmt: skip
        return self

    def results(self) -> tuple[dict[str, dict], dict[str, dict[str, dict]], float]:
        """Baselines per framework, raw/net peak MiB per (network, implementation), and the
        seconds the children took."""
        results = [f.result() for f in self.futures]
        if self.pool is not None:
            self.pool.shutdown()
        elapsed = time.perf_counter() - self.started
        baselines, per_net = peak_table(
            results, [net.name for net in self.nets], "config", "impl",
            lambda r: framework_of(r["impl"], r.get("numba_loaded", False)),
        )  # fmt: skip
        return baselines, per_net, elapsed
