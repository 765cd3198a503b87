"""The MLP benchmark's implementations (one training epoch each), its configurations and
the check that all implementations agree before timing (and that the captured step is the
eager step bit for bit). ``mlp.py`` runs them."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from _common import (
    Net,
    make_data,
    rel_err,
    sinapsi_net,
    targets,
    torch_twin,
)

REL_TOL = 1e-4
IMPLS = (
    "sinapsi", "sinapsi.capture", "sinapsi.numpy", "sinapsi.fit", "numpy", "torch",
    "torch fused", "sklearn",
)  # fmt: skip
CAPTURE = "sinapsi.capture"
FRAMEWORK = {  # which library each implementation's child process imports
    "sinapsi": "sinapsi",
    CAPTURE: "sinapsi",
    "sinapsi.numpy": "sinapsi",
    "sinapsi.fit": "sinapsi",
    "numpy": "numpy",
    "sinapsi+numba": "sinapsi+numba",  # a baseline only: see framework_of
    "torch": "torch",
    "torch fused": "torch",
    "sklearn": "sklearn",
}


@dataclass(frozen=True)
class Config:
    """How long to measure: rounds, settle pause, warm-up epochs, repeats, batches per epoch,
    the matmul size for the peak, the epochs each memory child runs and which
    implementations get one; for ``--profile``, the rounds and the steps per timed block."""

    rounds: int
    settle_s: float
    warmup: int
    repeats: int
    batches: dict[str, int]
    peak_n: int
    memory_epochs: int
    memory_impls: tuple[str, ...]
    profile_rounds: int
    profile_steps: dict[str, int]


FULL = Config(
    rounds=6,
    settle_s=0.3,
    warmup=1,
    repeats=3,
    batches={"tiny": 300, "mnist": 20, "wide": 8, "deep": 10},
    peak_n=2048,
    memory_epochs=2,
    memory_impls=IMPLS,
    profile_rounds=5,
    profile_steps={"tiny": 500, "mnist": 20, "wide": 8, "deep": 10},
)
QUICK = Config(
    rounds=1,
    settle_s=0.0,
    warmup=1,
    repeats=1,
    batches={"tiny": 10, "mnist": 2, "wide": 2, "deep": 2},
    peak_n=1024,
    memory_epochs=1,
    # the pair the memory target compares, and the captured loop; children cost
    memory_impls=("sinapsi", CAPTURE, "torch"),
    profile_rounds=1,
    profile_steps={"tiny": 20, "mnist": 2, "wide": 2, "deep": 2},
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


def framework_of(impl: str, numba_loaded: bool) -> str:
    """The framework whose import baseline ``impl``'s peak memory is measured against.

    A sinapsi implementation whose training loaded numba's runtime (llvmlite, ~60 MiB: the
    Adam kernels of the loop and of fit, the checks of the captured step's flat optimizer
    step) is measured against sinapsi plus that runtime, as PyTorch's baseline holds its own
    runtime; the child says whether it did (``numba_loaded``). Everything else: the library's
    plain import.
    """
    if FRAMEWORK[impl] == "sinapsi" and numba_loaded:
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


# -------------------------------------------------------------------------------- the loops
def sinapsi_parts(net: Net, model: Any) -> tuple[Callable[..., Any], Any]:
    """The loss function and a new optimizer over ``model``'s parameters, as ``net`` says."""
    from sinapsi import nn, optim

    loss_fn = nn.binary_cross_entropy_with_logits if net.loss == "bce" else nn.cross_entropy
    if net.optimizer == "sgd":
        return loss_fn, optim.SGD(model.parameters(), lr=net.lr)
    return loss_fn, optim.Adam(model.parameters(), lr=net.lr)


def sinapsi_step(net: Net, model: Any) -> Callable[[Any, Any], Any]:
    """One training step of ``model`` with sinapsi's public API, as a user writes it."""
    loss_fn, opt = sinapsi_parts(net, model)

    def step(xb: Any, yb: Any) -> Any:
        opt.zero_grad()
        loss = loss_fn(model(xb), yb)
        loss.backward()
        opt.step()
        return loss

    return step


def capture_step(net: Net, model: Any) -> Any:
    """``sinapsi.capture(model, loss_fn, optimizer)``: the same step as :func:`sinapsi_step`,
    recorded on its first call per batch shape, checked on the second, replayed afterwards
    (or run eagerly, ``step.reason`` saying why). Call :func:`warm_up` before timing it."""
    import sinapsi as sn

    loss_fn, opt = sinapsi_parts(net, model)
    return sn.capture(model, loss_fn, opt)


def warm_up(step: Any, batches: list[tuple[Any, Any]]) -> dict[str, Any]:
    """Two calls of a captured ``step`` per batch shape (the recording and the check), so that
    every later call can replay; what happened: ``captured`` (whether the check's replay
    agreed and was kept, for every shape) and ``reason`` (why not, the first one)."""
    import sinapsi as sn

    seen: dict[tuple, tuple[Any, Any]] = {}
    for xb, yb in batches:
        seen.setdefault((tuple(xb.shape), tuple(yb.shape)), (xb, yb))
    captured, reason = True, None
    with warnings.catch_warnings():  # the report says why a step runs eagerly
        warnings.simplefilter("ignore", sn.CaptureNotice)
        for xb, yb in seen.values():
            step(xb, yb)
            step(xb, yb)
            if not step.captured:
                captured, reason = False, reason or step.reason or "not captured"
    return {"captured": captured, "reason": reason}


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


class Epoch:
    """One epoch of ``step`` over ``batches`` when called. Keeps both, and for a captured step
    what its warm-up found (``warmed``; the report also reads ``step.captured`` afterwards)."""

    def __init__(self, step: Callable[[Any, Any], Any], batches: list) -> None:
        self.step, self.batches = step, batches
        self.warmed: dict[str, Any] | None = None

    def __call__(self) -> Any:
        step = self.step
        for xb, yb in self.batches:
            loss = step(xb, yb)
        return loss


def epoch_of(step: Callable[[Any, Any], Any], batches: list) -> Epoch:
    return Epoch(step, batches)


def numpy_only(epoch: Callable[[], Any]) -> Callable[[], Any]:
    """``epoch`` with sinapsi's numba kernels off: the pure-NumPy fallback's speed."""
    from sinapsi.optim import _numba

    def run() -> Any:
        with _numba.use_kernels(False):
            return epoch()

    return run


def epoch_fns(net: Net, cfg: Config, impls: tuple[str, ...]) -> dict[str, Callable[[], Any]]:
    """A zero-argument callable per implementation that trains one epoch (sinapsi's weights,
    copied to PyTorch; scikit-learn initializes its own). The captured step is warmed up here
    (:func:`warm_up`); its :class:`Epoch` keeps what that found in ``warmed``."""
    x, y = make_data(net, n_samples(net, cfg), seed=1)
    fns: dict[str, Callable[[], Any]] = {}
    for impl in impls:
        if impl in ("sinapsi", "sinapsi.numpy"):
            model = sinapsi_net(net, seed=0)
            fns[impl] = epoch_of(sinapsi_step(net, model), sinapsi_batches(net, x, y))
            if impl == "sinapsi.numpy":
                fns[impl] = numpy_only(fns[impl])
        elif impl == CAPTURE:
            batches = sinapsi_batches(net, x, y)
            step = capture_step(net, sinapsi_net(net, seed=0))
            epoch = Epoch(step, batches)
            epoch.warmed = warm_up(step, batches)
            fns[impl] = epoch
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
    capture = check_capture(net, net_x, net_y) if CAPTURE in impls else None
    if capture is not None:  # its first two steps, next to the others' (its own check: exact)
        losses[CAPTURE] = capture["losses"][:2]
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
    out = {
        "losses": losses,
        "epoch_mean": epoch_mean,
        "rel_errors": errors,
        "ok": all(e <= REL_TOL for e in errors.values()),
    }
    if capture is not None:
        out["capture"] = capture
        out["ok"] = out["ok"] and capture["bit_identical"]
    return out


CAPTURE_CHECK_STEPS = 4  # batches 0, 1, 0, 1: record, check, replay, replay


def check_capture(net: Net, x: np.ndarray, y: np.ndarray) -> dict[str, Any]:
    """The captured step against the eager loop, from the same weights, bit for bit.

    Both train on batches 0, 1, 0, 1 of ``x``. The captured step's first call records, its
    second checks (replays, then runs the eager step and returns that), the third and fourth
    replay where the step was captured; so the first two steps are the issue's "two steps"
    and the last two are the replays themselves. After every step the losses, and every
    parameter and buffer (``state_dict``), must be equal bit for bit (dtype, shape, bytes).
    ``modes`` says what each call of the captured step did.
    """
    import sinapsi as sn

    batches = sinapsi_batches(net, x, y)
    eager_model, captured_model = sinapsi_net(net, seed=0), sinapsi_net(net, seed=0)
    eager, step = sinapsi_step(net, eager_model), capture_step(net, captured_model)
    losses: list[float] = []
    modes: list[str] = []
    difference = None
    with warnings.catch_warnings():  # the report says why a step runs eagerly
        warnings.simplefilter("ignore", sn.CaptureNotice)
        for i in range(CAPTURE_CHECK_STEPS):
            xb, yb = batches[i % 2]
            want, got = eager(xb, yb).data, step(xb, yb).data
            losses.append(float(got))
            modes.append(_mode(i, step.captured))
            where = None if _same_bits(got, want) else "the loss"
            if where is None:
                where = _state_difference(captured_model.state_dict(), eager_model.state_dict())
            if where is not None and difference is None:
                difference = f"step {i + 1} ({modes[-1]}): {where}"
    return {
        "losses": losses,
        "modes": modes,
        "captured": step.captured,
        "reason": step.reason,
        "bit_identical": difference is None,
        "difference": difference,
    }


def _mode(call: int, captured: bool) -> str:
    if not captured:
        return "record" if call == 0 else "eager"
    return "check" if call == 1 else "replay"


def _same_bits(a: Any, b: Any) -> bool:
    a, b = np.asarray(a), np.asarray(b)
    return a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes()


def _state_difference(got: dict[str, Any], want: dict[str, Any]) -> str | None:
    """The first parameter or buffer whose bits differ, or None."""
    if list(got) != list(want):
        return "the parameter and buffer names"
    for name, value in want.items():
        if not _same_bits(got[name], value):
            return name
    return None


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
