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
* ``sinapsi.fit``: ``sn.fit(model, x, y, epochs=1, batch_size=..., verbose=0)`` on the same
  data: the loop plus its bookkeeping (shuffling and gathering the batches, the loss of every
  batch as a float, per-layer gradient norms, the data checks of each call); no metrics;
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
sinapsi's loop over the other's, so **> 1 means sinapsi is faster**.

Peak memory: each implementation and network runs again in its own child process (same data,
same number of threads, ``memory_epochs`` epochs) that reports its peak resident set size as the
OS counts it (``VmHWM`` in /proc/self/status; ``ru_maxrss`` elsewhere). "raw" is that figure;
"net" subtracts the baseline of a child that only starts Python and imports the same framework
(sinapsi, torch or sklearn.neural_network, measured the same way; for sinapsi with Adam and the
numba kernels on, the baseline also loads numba's runtime, ~60 MiB of code that the first step
loads, as PyTorch's import loads its own). Each child imports only its own framework. The
children run first, up to one per CPU at a time, while the main process imports and runs the
checks; all of them have ended before the first timed block. ``--quick``
measures only sinapsi's loop and PyTorch's default loop (the pair the memory target compares).

Before any timing, every network is checked: two steps from the same weights (batch 0, then
batch 1 after the update) in sinapsi, PyTorch and PyTorch fused must give losses that agree to a
relative 1e-4; ``sinapsi.fit`` and scikit-learn (same weights via ``coefs_``, one epoch of those
two batches) must report the same epoch-mean loss.

Targets
-------
* tiny: sinapsi >= 3x PyTorch; mnist, wide, deep: >= 1.0x PyTorch (default optimizer; the
  fused ratio is reported next to it);
* every network: >= 2x scikit-learn;
* peak memory (net) <= PyTorch's;
* wide: >= 75% of the matmul peak.

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
    python benchmarks/mlp.py --configs tiny,mnist --repeats 5 --json out.json
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
import warnings
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, replace
from typing import Any

import numpy as np

from _common import (
    NETS,
    Net,
    OtherLoad,
    Plan,
    blas_info,
    check_selection,
    cpu_count,
    environment,
    make_data,
    matmul_peak,
    measure,
    peak_rss_kib,
    print_environment,
    print_load,
    rel_err,
    sinapsi_net,
    targets,
    torch_net,
    torch_twin,
    write_json,
)

REL_TOL = 1e-4
IMPLS = ("sinapsi", "sinapsi.numpy", "sinapsi.fit", "numpy", "torch", "torch fused", "sklearn")
FRAMEWORK = {  # which library each implementation's child process imports
    "sinapsi": "sinapsi",
    "sinapsi.numpy": "sinapsi",
    "sinapsi.fit": "sinapsi",
    "numpy": "numpy",
    "sinapsi+numba": "sinapsi+numba",  # a baseline only: see framework_of
    "torch": "torch",
    "torch fused": "torch",
    "sklearn": "sklearn",
}
TORCH_TARGET = {"tiny": 3.0, "mnist": 1.0, "wide": 1.0, "deep": 1.0}  # sinapsi / torch
SKLEARN_TARGET = 2.0
PEAK_TARGET = {"wide": 0.75}  # fraction of the matmul peak
MEMORY_TARGET = 1.0  # sinapsi net peak memory / PyTorch's


@dataclass(frozen=True)
class Config:
    """How long to measure: rounds, settle pause, warm-up epochs, repeats, batches per epoch,
    the matmul size for the peak, the epochs each memory child runs and which
    implementations get one."""

    rounds: int
    settle_s: float
    warmup: int
    repeats: int
    batches: dict[str, int]
    peak_n: int
    memory_epochs: int
    memory_impls: tuple[str, ...]


FULL = Config(
    rounds=6,
    settle_s=0.3,
    warmup=1,
    repeats=3,
    batches={"tiny": 300, "mnist": 20, "wide": 8, "deep": 10},
    peak_n=2048,
    memory_epochs=2,
    memory_impls=IMPLS,
)
QUICK = Config(
    rounds=1,
    settle_s=0.0,
    warmup=1,
    repeats=1,
    batches={"tiny": 10, "mnist": 2, "wide": 2, "deep": 2},
    peak_n=1024,
    memory_epochs=1,
    memory_impls=("sinapsi", "torch"),  # the pair the memory target compares; children cost
)


def n_samples(net: Net, cfg: Config) -> int:
    return net.batch * cfg.batches[net.name]


def numba_kernels() -> str | None:
    """numba's version when sinapsi's optional fused optimizer kernels are active, else None."""
    from sinapsi.optim import _numba

    if not _numba.enabled():
        return None
    import numba

    return numba.__version__


def framework_of(impl: str, net: Net) -> str:
    """The framework whose import baseline ``impl``'s peak memory is measured against.

    sinapsi's loop and fit with Adam load numba's runtime (llvmlite, ~60 MiB) at their first
    step when the kernels are on: their baseline is sinapsi plus that runtime, as PyTorch's
    baseline holds its own runtime. Everything else: the library's plain import.
    """
    if impl in ("sinapsi", "sinapsi.fit") and net.optimizer == "adam" and numba_kernels():
        return "sinapsi+numba"
    return FRAMEWORK[impl]


def implementations(net: Net) -> tuple[str, ...]:
    """The implementations that apply: fused only for Adam, scikit-learn only without BN,
    sinapsi.numpy (the loop with the numba kernels off) only for Adam when numba is active."""
    return tuple(
        impl
        for impl in IMPLS
        if not (impl == "torch fused" and net.optimizer != "adam")
        and not (impl in ("sklearn", "numpy") and net.batchnorm)
        and not (impl == "sinapsi.numpy" and (net.optimizer != "adam" or not numba_kernels()))
    )


# -------------------------------------------------------------------------- the three loops
def sinapsi_step(net: Net, model: Any) -> Callable[[Any, Any], Any]:
    """One training step of ``model`` with sinapsi's public API, as a user writes it."""
    from sinapsi import nn, optim

    loss_fn = nn.binary_cross_entropy_with_logits if net.loss == "bce" else nn.cross_entropy
    if net.optimizer == "sgd":
        opt = optim.SGD(model.parameters(), lr=net.lr)
    else:
        opt = optim.Adam(model.parameters(), lr=net.lr)

    def step(xb: Any, yb: Any) -> Any:
        opt.zero_grad()
        loss = loss_fn(model(xb), yb)
        loss.backward()
        opt.step()
        return loss

    return step


def sinapsi_batches(net: Net, x: np.ndarray, y: np.ndarray) -> list[tuple[Any, np.ndarray]]:
    import sinapsi as sn

    t, b = targets(net, y), net.batch
    return [(sn.tensor(x[i : i + b]), t[i : i + b]) for i in range(0, len(x), b)]


def sinapsi_fit(net: Net, model: Any, x: np.ndarray, y: np.ndarray) -> Callable[[], Any]:
    """One epoch of ``sinapsi.fit`` (shuffled, no metrics, silent)."""
    import sinapsi as sn

    t = targets(net, y)
    loss = "bce_with_logits" if net.loss == "bce" else "cross_entropy"

    def epoch() -> Any:
        return sn.fit(model, x, t, loss=loss, optimizer=net.optimizer, lr=net.lr, epochs=1,
                      batch_size=net.batch, verbose=0, seed=0)  # fmt: skip

    return epoch


def numpy_step(net: Net, model: Any) -> Callable[[Any, Any], Any]:
    """The issue's reference point: a hand-written NumPy training step, no autograd.

    Forward through the Linear layers (``h @ W.T + b``, activation in place), the loss and its
    gradient written out (softmax - onehot; sigmoid - y), the backward matmuls, and the same
    NumPy optimizer arithmetic as sinapsi's (SGD; Adam in 12 passes with one scratch buffer,
    PyTorch's formula). Starts from ``model``'s weights (a sinapsi Sequential without BN).
    """
    params = [np.array(p.data, dtype=np.float32) for p in model.parameters()]
    weights, biases = params[0::2], params[1::2]
    relu = net.activation == "relu"
    moments = [(np.zeros_like(p), np.zeros_like(p), np.empty_like(p)) for p in params]
    count = [0]
    beta1, beta2, eps, lr = 0.9, 0.999, 1e-8, net.lr

    def step(x: np.ndarray, y: np.ndarray) -> float:
        acts, h = [x], x
        for i, (w, b) in enumerate(zip(weights, biases)):
            h = h @ w.T
            h += b
            if i < len(weights) - 1:
                if relu:
                    np.maximum(h, 0.0, out=h)
                else:
                    np.tanh(h, out=h)
            acts.append(h)
        n = len(x)
        if net.loss == "bce":
            loss = (np.maximum(h, 0.0) - h * y + np.log1p(np.exp(-np.abs(h)))).mean()
            g = (1.0 / (1.0 + np.exp(-h)) - y) * (1.0 / h.size)
        else:
            z = h - h.max(axis=1, keepdims=True)
            e = np.exp(z)
            total = e.sum(axis=1, keepdims=True)
            rows = np.arange(n)
            loss = (np.log(total[:, 0]) - z[rows, y]).mean()
            g = e / total
            g[rows, y] -= 1.0
            g *= 1.0 / n
        grads: list[Any] = [None] * len(params)
        for i in range(len(weights) - 1, -1, -1):
            grads[2 * i] = g.T @ acts[i]
            grads[2 * i + 1] = g.sum(axis=0)
            if i:
                g = g @ weights[i]
                a = acts[i]
                if relu:
                    g *= a > 0
                else:
                    g *= 1.0 - a * a
        count[0] += 1
        t = count[0]
        for p, grad, (m, v, tmp) in zip(params, grads, moments):
            if net.optimizer == "sgd":
                np.multiply(grad, lr, out=tmp)
                p -= tmp
                continue
            np.subtract(grad, m, out=tmp)
            tmp *= 1.0 - beta1
            m += tmp
            v *= beta2
            np.multiply(grad, grad, out=tmp)
            tmp *= 1.0 - beta2
            v += tmp
            np.sqrt(v, out=tmp)
            tmp /= (1.0 - beta2**t) ** 0.5
            tmp += eps
            np.divide(m, tmp, out=tmp)
            tmp *= lr / (1.0 - beta1**t)
            p -= tmp
        return float(loss)

    return step


def numpy_batches(net: Net, x: np.ndarray, y: np.ndarray) -> list[tuple[Any, np.ndarray]]:
    t, b = targets(net, y), net.batch
    return [(x[i : i + b], t[i : i + b]) for i in range(0, len(x), b)]


def torch_step(net: Net, model: Any, fused: bool) -> Callable[[Any, Any], Any]:
    """One training step of the standard PyTorch loop (default settings, or fused Adam)."""
    import torch

    if net.optimizer == "sgd":
        opt = torch.optim.SGD(model.parameters(), lr=net.lr)
    else:
        opt = torch.optim.Adam(model.parameters(), lr=net.lr, fused=True if fused else None)
    loss_fn = torch.nn.BCEWithLogitsLoss() if net.loss == "bce" else torch.nn.CrossEntropyLoss()

    def step(xb: Any, yb: Any) -> Any:
        opt.zero_grad()
        loss = loss_fn(model(xb), yb)
        loss.backward()
        opt.step()
        return loss

    return step


def torch_batches(net: Net, x: np.ndarray, y: np.ndarray) -> list[tuple[Any, Any]]:
    import torch

    t, b = torch.from_numpy(targets(net, y)), net.batch
    xt = torch.from_numpy(x)
    return [(xt[i : i + b], t[i : i + b]) for i in range(0, len(x), b)]


def sklearn_model(net: Net) -> Any:
    """scikit-learn's MLPClassifier for ``net``: one ``fit`` call = one epoch, in order."""
    from sklearn.neural_network import MLPClassifier

    extra = {}
    if net.optimizer == "sgd":
        extra = {"learning_rate": "constant", "momentum": 0.0, "nesterovs_momentum": False}
    return MLPClassifier(
        hidden_layer_sizes=net.sizes[1:-1], activation=net.activation, solver=net.optimizer,
        alpha=0.0, batch_size=net.batch, learning_rate_init=net.lr, max_iter=1, shuffle=False,
        warm_start=True, random_state=0, **extra,
    )  # fmt: skip


def sklearn_epoch(clf: Any, x: np.ndarray, y: np.ndarray) -> Callable[[], Any]:
    from sklearn.exceptions import ConvergenceWarning

    def epoch() -> Any:
        with warnings.catch_warnings():  # max_iter=1 always "fails to converge"
            warnings.simplefilter("ignore", ConvergenceWarning)
            return clf.fit(x, y)

    return epoch


def epoch_of(step: Callable[[Any, Any], Any], batches: list) -> Callable[[], Any]:
    def epoch() -> Any:
        for xb, yb in batches:
            loss = step(xb, yb)
        return loss

    return epoch


def numpy_only(epoch: Callable[[], Any]) -> Callable[[], Any]:
    """``epoch`` with sinapsi's numba kernels off: the pure-NumPy fallback's speed."""
    from sinapsi.optim import _numba

    def run() -> Any:
        with _numba.use_kernels(False):
            return epoch()

    return run


def epoch_fns(net: Net, cfg: Config, impls: tuple[str, ...]) -> dict[str, Callable[[], Any]]:
    """A zero-argument callable per implementation that trains one epoch (sinapsi's weights,
    copied to PyTorch; scikit-learn initializes its own)."""
    x, y = make_data(net, n_samples(net, cfg), seed=1)
    fns: dict[str, Callable[[], Any]] = {}
    for impl in impls:
        if impl in ("sinapsi", "sinapsi.numpy"):
            model = sinapsi_net(net, seed=0)
            fns[impl] = epoch_of(sinapsi_step(net, model), sinapsi_batches(net, x, y))
            if impl == "sinapsi.numpy":
                fns[impl] = numpy_only(fns[impl])
        elif impl == "sinapsi.fit":
            fns[impl] = sinapsi_fit(net, sinapsi_net(net, seed=0), x, y)
        elif impl == "numpy":
            step = numpy_step(net, sinapsi_net(net, seed=0))
            fns[impl] = epoch_of(step, numpy_batches(net, x, y))
        elif impl in ("torch", "torch fused"):
            model = torch_twin(net, sinapsi_net(net, seed=0))
            step = torch_step(net, model, fused=impl == "torch fused")
            fns[impl] = epoch_of(step, torch_batches(net, x, y))
        else:
            fns[impl] = sklearn_epoch(sklearn_model(net), x, y)
    return fns


# ------------------------------------------------------------------------------------ check
def check_net(net: Net, impls: tuple[str, ...]) -> dict[str, Any]:
    """Two steps from the same weights in each implementation: the losses must agree.

    sinapsi, torch and torch fused: the loss of batch 0, then of batch 1 after one update.
    sinapsi.fit and sklearn report one number for the epoch: the mean of those two losses.
    """
    net_x, net_y = make_data(net, 2 * net.batch, seed=1)
    losses: dict[str, list[float]] = {}
    model = sinapsi_net(net, seed=0)
    twins = {impl: torch_twin(net, model) for impl in impls if impl.startswith("torch")}
    step = sinapsi_step(net, model)
    losses["sinapsi"] = [
        float(step(xb, yb).item()) for xb, yb in sinapsi_batches(net, net_x, net_y)
    ]
    for impl, twin in twins.items():
        step = torch_step(net, twin, fused=impl == "torch fused")
        losses[impl] = [float(step(xb, yb).item()) for xb, yb in torch_batches(net, net_x, net_y)]
    if "numpy" in impls:
        step = numpy_step(net, sinapsi_net(net, seed=0))
        losses["numpy"] = [step(xb, yb) for xb, yb in numpy_batches(net, net_x, net_y)]
    epoch_mean = {"sinapsi": float(np.mean(losses["sinapsi"]))}
    if "sinapsi.fit" in impls:
        import sinapsi as sn

        loss = "bce_with_logits" if net.loss == "bce" else "cross_entropy"
        history = sn.fit(sinapsi_net(net, seed=0), net_x, targets(net, net_y), loss=loss,
                         optimizer=net.optimizer, lr=net.lr, epochs=1, batch_size=net.batch,
                         shuffle=False, verbose=0)  # fmt: skip
        epoch_mean["sinapsi.fit"] = float(history.history["loss"][0])
    if "sklearn" in impls:
        epoch_mean["sklearn"] = _sklearn_epoch_loss(net, model_weights(sinapsi_net(net)), net_x,
                                                    net_y)  # fmt: skip
    errors = {impl: max(rel_err(a, b) for a, b in zip(losses[impl], losses["sinapsi"]))
              for impl in losses if impl != "sinapsi"}  # fmt: skip
    errors.update(
        {impl: rel_err(v, epoch_mean["sinapsi"]) for impl, v in epoch_mean.items()
         if impl != "sinapsi"}
    )  # fmt: skip
    return {
        "losses": losses,
        "epoch_mean": epoch_mean,
        "rel_errors": errors,
        "ok": all(e <= REL_TOL for e in errors.values()),
    }


def model_weights(model: Any) -> list[tuple[np.ndarray, np.ndarray]]:
    """(weight (out, in), bias) of each Linear layer of a sinapsi Sequential without BN."""
    params = [np.array(p.data, dtype=np.float32) for p in model.parameters()]
    return list(zip(params[0::2], params[1::2]))


def _sklearn_epoch_loss(
    net: Net, weights: list[tuple[np.ndarray, np.ndarray]], x: np.ndarray, y: np.ndarray
) -> float:
    """scikit-learn's loss over one epoch of ``x`` from the given weights (set as ``coefs_``
    and ``intercepts_`` after a first ``fit`` that builds the model; ``warm_start`` keeps them,
    and each ``fit`` starts a new optimizer)."""
    clf = sklearn_model(net)
    sklearn_epoch(clf, x, y)()
    clf.coefs_ = [np.ascontiguousarray(w.T) for w, _ in weights]
    clf.intercepts_ = [b.copy() for _, b in weights]
    sklearn_epoch(clf, x, y)()
    return float(clf.loss_curve_[-1])


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
    }


def run_memory_child(impl: str, config: str, samples: int, epochs: int, threads: int) -> dict:
    cmd = [sys.executable, os.path.abspath(__file__), "--memory-child", impl, config,
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
        frameworks = sorted({framework_of(impl, NETS[name]) for impl, name, _ in jobs})
        self.jobs = [(fw, "baseline", 0) for fw in frameworks] + jobs
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
        kib = 1024.0
        baselines = {
            r["impl"]: {"raw_mib": r["peak_kib"] / kib} if "error" not in r else r
            for r in results
            if r["config"] == "baseline"
        }
        per_net: dict[str, dict[str, dict]] = {net.name: {} for net in self.nets}
        for r in results:
            if r["config"] == "baseline":
                continue
            framework = framework_of(r["impl"], NETS[r["config"]])
            base = baselines.get(framework, {}).get("raw_mib")
            if "error" in r or base is None:
                per_net[r["config"]][r["impl"]] = {"error": r.get("error", "no baseline")}
                continue
            raw = r["peak_kib"] / kib
            per_net[r["config"]][r["impl"]] = {
                "raw_mib": raw,
                "net_mib": raw - base,
                "baseline_mib": base,
                "after_import_mib": r["after_import_kib"] / kib,
            }
        return baselines, per_net, elapsed


# ------------------------------------------------------------------------------------ bench
def bench_net(net: Net, cfg: Config, peak: float) -> dict[str, Any]:
    impls = implementations(net)
    n = n_samples(net, cfg)
    timings = measure(epoch_fns(net, cfg, impls), cfg, 1)
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
    return {
        "spec": {**asdict(net), "description": net.describe(), "n_weights": net.n_weights},
        "samples_per_epoch": n,
        "batches_per_epoch": cfg.batches[net.name],
        "implementations": results,
        "ratios": ratios,
    }


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
    return out


# ----------------------------------------------------------------------------------- report
def _fmt_ratio(r: dict[str, Any] | None, value: float | None = None) -> str:
    if r is None:
        return "-" if value is None else f"{value:.2f}"
    sign = ">=" if r["higher_is_better"] else "<="
    goal = f"{r['goal']:.0%}" if r["goal"] < 1 and r["higher_is_better"] else f"{r['goal']:g}"
    shown = f"{r['value']:.0%}" if "%" in goal else f"{r['value']:.2f}"
    return f"{shown} ({sign}{goal} {'ok' if r['met'] else 'MISS'})"


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
    print(f"  agreement (rel <= {REL_TOL:g}): {'PASS' if report['checks_ok'] else 'FAIL'}")

    for name, r in report["results"].items():
        print(f"\n{name}: {r['spec']['description']}")
        print(
            f"  {r['spec']['n_weights']:,} weights, {r['samples_per_epoch']} samples = "
            f"{r['batches_per_epoch']} steps per epoch"
        )
        print(
            f"  {'implementation':<14}{'samples/s':>12}{'us/step':>11}{'GFLOP/s':>9}"
            f"{'%peak':>7}{'sinapsi/x':>11}{'mem MiB':>9}{'net MiB':>9}"
        )
        for impl, v in r["implementations"].items():
            ratio = r["ratios"].get(f"sinapsi/{impl}")
            mem = v.get("memory", {})
            raw = f"{mem['raw_mib']:.1f}" if "raw_mib" in mem else "-"
            net = f"{mem['net_mib']:.1f}" if "net_mib" in mem else "-"
            print(
                f"  {impl:<14}{v['samples_per_s']:>12,.0f}{v['us_per_step']:>11.1f}"
                f"{v['gflops']:>9.2f}{v['peak_fraction']:>7.1%}"
                f"{'-' if ratio is None else f'{ratio:.2f}':>11}{raw:>9}{net:>9}"
            )

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
