"""The convnet benchmark's peak-memory children: each trains one library's network in its own
process (``conv.py --memory-child LIB NET SAMPLES EPOCHS``) and reports its peak resident set
size; a "baseline" child of each library only imports it (and, for sinapsi with numba on,
numba's runtime, which the first Adam step loads as PyTorch's import loads its own)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from _common import cpu_count, peak_rss_kib, peak_table
from _conv_nets import (
    NETS,
    THREADS,
    ConvNet,
    epoch_of,
    make_data,
    sinapsi_batches,
    sinapsi_model,
    sinapsi_step,
    torch_batches,
    torch_model,
    torch_step,
)

CONV_SCRIPT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "conv.py")
LIBS = ("sinapsi", "torch")


def set_threads(threads: int) -> dict[str, Any]:
    """``threads`` threads for PyTorch (if imported), NumPy's OpenBLAS and numba (if sinapsi's
    kernels are on); returns what each now uses (OpenBLAS: None when its library is not found)."""
    import ctypes

    from _common import _openblas_lib

    lib = _openblas_lib()
    blas = None
    if lib is not None:
        for name in ("scipy_openblas_set_num_threads64_", "openblas_set_num_threads64_",
                     "openblas_set_num_threads"):  # fmt: skip
            fn = getattr(lib, name, None)
            if fn is not None:
                fn.argtypes = [ctypes.c_int]
                fn(threads)
                blas = threads
                break
    out: dict[str, Any] = {"blas": blas}
    if "torch" in sys.modules:
        torch = sys.modules["torch"]
        torch.set_num_threads(threads)
        out["torch"] = torch.get_num_threads()
    if "sinapsi" in sys.modules:
        from sinapsi import _numba

        if _numba.enabled():
            import numba

            numba.set_num_threads(min(threads, numba.config.NUMBA_NUM_THREADS))
            out["numba"] = numba.get_num_threads()
    return out


def memory_child(lib: str, name: str, samples: int, epochs: int) -> dict[str, Any]:
    """Runs in a child process: import one library, train ``epochs`` epochs of ``samples``
    samples, report the peak RSS (KiB). ``name == "baseline"``: only the imports."""
    if lib == "torch":
        import torch  # noqa: F401
    else:
        import sinapsi  # noqa: F401
        from sinapsi import _numba

        _numba.enabled()  # imports numba when present and on: part of the baseline
    set_threads(THREADS)
    after_import = peak_rss_kib()
    if name != "baseline":
        net = NETS[name]
        x, y = make_data(samples)
        if lib == "torch":
            epoch = epoch_of(torch_step(net, torch_model(net).train()),
                             torch_batches(x, y, net.batch))  # fmt: skip
        else:
            step, _ = sinapsi_step(net, sinapsi_model(net).train())
            epoch = epoch_of(step, sinapsi_batches(x, y, net.batch))
        for _ in range(epochs):
            epoch()
    return {"lib": lib, "net": name, "peak_kib": peak_rss_kib(), "after_import_kib": after_import}


def run_memory_child(lib: str, name: str, samples: int, epochs: int) -> dict[str, Any]:
    cmd = [sys.executable, CONV_SCRIPT, "--memory-child", lib, name, str(samples), str(epochs)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    if proc.returncode != 0:
        return {"lib": lib, "net": name, "error": proc.stderr.strip()[-2000:]}
    return json.loads(proc.stdout.strip().splitlines()[-1])


class MemoryRuns:
    """The memory children, started (:meth:`start`) before the main process imports the
    libraries and runs the checks, collected (:meth:`results`) before any timing starts."""

    def __init__(self, nets: list[ConvNet], samples: int, epochs: int) -> None:
        self.jobs = [(lib, "baseline") for lib in LIBS]
        self.jobs += [(lib, net.name) for net in nets for lib in LIBS]
        self.nets, self.samples, self.epochs = nets, samples, epochs
        self.pool: ThreadPoolExecutor | None = None
        self.futures: list[Any] = []
        self.started = 0.0

    def start(self) -> MemoryRuns:
        self.started = time.perf_counter()
        self.pool = ThreadPoolExecutor(max_workers=max(1, min(cpu_count(), 4)))
        self.futures = [self.pool.submit(run_memory_child, lib, name, self.samples, self.epochs)
                        for lib, name in self.jobs]  # fmt: skip
        return self

    def results(self) -> tuple[dict[str, dict], dict[str, dict[str, dict]], float]:
        """Baselines per library, raw / net peak MiB per (network, library), and the seconds
        the children took. "net" = raw minus the library's import baseline."""
        results = [f.result() for f in self.futures]
        if self.pool is not None:
            self.pool.shutdown()
        elapsed = time.perf_counter() - self.started
        baselines, per_net = peak_table(
            results, [net.name for net in self.nets], "net", "lib", lambda r: r["lib"]
        )
        return baselines, per_net, elapsed
