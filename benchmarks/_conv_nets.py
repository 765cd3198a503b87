"""The convnet benchmark's networks, data, training steps, inference calls and the check that
sinapsi and PyTorch agree before anything is timed. ``conv.py`` runs them.

Only NumPy is imported at module level: the memory children (``_conv_memory.py``) import one
framework each.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from _common import rel_err

REL_TOL = 1e-4
THREADS = 2  # torch.set_num_threads and NumPy's OpenBLAS (and numba, when used)
IMAGE = (1, 28, 28)


@dataclass(frozen=True)
class ConvNet:
    """A benchmark convnet: its name, the layers in words, batch size and Adam's rate."""

    name: str
    description: str
    batch: int = 64
    lr: float = 1e-3
    dropout: float = 0.0  # the Dropout before the last Linear (0: none in the network)


NETS: dict[str, ConvNet] = {
    "lenet": ConvNet(
        "lenet",
        "LeNet-5-sized: conv 1->6 5x5, relu, maxpool 2, conv 6->16 5x5, relu, maxpool 2, "
        "flatten, 256->120, relu, 120->84, relu, 84->10",
    ),
    "keras": ConvNet(
        "keras",
        "Keras example: conv 1->32 3x3, relu, maxpool 2, conv 32->64 3x3, relu, maxpool 2, "
        "flatten, dropout 0.5, 1600->10",
        dropout=0.5,
    ),
}


def make_data(n: int, seed: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """``n`` synthetic 28x28 one-channel images (standard normal, drawn directly in float32 so
    no float64 temporary counts in the peak memory) and int64 labels spread over 10 classes."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, *IMAGE), dtype=np.float32)
    y = rng.permutation(np.arange(n) % 10).astype(np.int64)
    return x, y


# ------------------------------------------------------------------------------- the models
def _layers(nn: Any, net: ConvNet, dropout: float | None, seed: int) -> list[Any]:
    """The layer list of ``net`` with sinapsi's ``nn`` or ``torch.nn`` (same order and indices,
    so the state_dict keys match). sinapsi layers get seeded generators; torch's do not."""
    is_torch = not hasattr(nn, "cross_entropy")

    def rng(i: int) -> dict[str, Any]:
        return {} if is_torch else {"rng": seed + i}

    p = net.dropout if dropout is None else dropout
    if net.name == "lenet":
        return [
            nn.Conv2d(1, 6, 5, **rng(0)), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(6, 16, 5, **rng(1)), nn.ReLU(), nn.MaxPool2d(2),
            nn.Flatten(),
            nn.Linear(256, 120, **rng(2)), nn.ReLU(),
            nn.Linear(120, 84, **rng(3)), nn.ReLU(),
            nn.Linear(84, 10, **rng(4)),
        ]  # fmt: skip
    return [
        nn.Conv2d(1, 32, 3, **rng(0)), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3, **rng(1)), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Dropout(p, **rng(2)),
        nn.Linear(1600, 10, **rng(3)),
    ]  # fmt: skip


def sinapsi_model(net: ConvNet, dropout: float | None = None, seed: int = 0) -> Any:
    """``net`` as a sinapsi Sequential (PyTorch's default initialization, seeded);
    ``dropout`` overrides the network's rate (0 for the agreement check)."""
    from sinapsi import nn

    return nn.Sequential(*_layers(nn, net, dropout, seed))


def torch_model(net: ConvNet, dropout: float | None = None) -> Any:
    """``net`` as a ``torch.nn.Sequential`` (PyTorch's own initialization)."""
    import torch

    return torch.nn.Sequential(*_layers(torch.nn, net, dropout, 0))


def torch_twin(net: ConvNet, model: Any, dropout: float | None = None) -> Any:
    """A PyTorch network holding copies of the sinapsi ``model``'s weights (its state_dict,
    loaded key by key: the keys and shapes must match exactly)."""
    import torch

    twin = torch_model(net, dropout)
    state = {k: torch.from_numpy(np.array(v, dtype=np.float32)) for k, v in
             model.state_dict().items()}  # fmt: skip
    twin.load_state_dict(state, strict=True)
    return twin


# ---------------------------------------------------------------------------- training steps
def sinapsi_step(net: ConvNet, model: Any) -> tuple[Callable[[Any, Any], Any], Any]:
    """One training step with sinapsi's public API, as a user writes it, and its optimizer."""
    from sinapsi import nn, optim

    opt = optim.Adam(model.parameters(), lr=net.lr)

    def step(xb: Any, yb: Any) -> Any:
        opt.zero_grad()
        loss = nn.cross_entropy(model(xb), yb)
        loss.backward()
        opt.step()
        return loss

    return step, opt


def torch_step(net: ConvNet, model: Any) -> Callable[[Any, Any], Any]:
    """One training step of the standard PyTorch loop (Adam with its default settings)."""
    import torch

    opt = torch.optim.Adam(model.parameters(), lr=net.lr)
    loss_fn = torch.nn.CrossEntropyLoss()

    def step(xb: Any, yb: Any) -> Any:
        opt.zero_grad()
        loss = loss_fn(model(xb), yb)
        loss.backward()
        opt.step()
        return loss

    return step


def sinapsi_batches(x: np.ndarray, y: np.ndarray, b: int) -> list[tuple[Any, np.ndarray]]:
    import sinapsi as sn

    return [(sn.tensor(x[i : i + b]), y[i : i + b]) for i in range(0, len(x), b)]


def torch_batches(x: np.ndarray, y: np.ndarray, b: int) -> list[tuple[Any, Any]]:
    import torch

    xt, yt = torch.from_numpy(x), torch.from_numpy(y)
    return [(xt[i : i + b], yt[i : i + b]) for i in range(0, len(x), b)]


def epoch_of(step: Callable[[Any, Any], Any], batches: list) -> Callable[[], Any]:
    def epoch() -> Any:
        for xb, yb in batches:
            loss = step(xb, yb)
        return loss

    return epoch


def training_fns(net: ConvNet, n: int) -> dict[str, Callable[[], Any]]:
    """One training epoch of ``n`` samples per library, from the same weights and data
    (dropout at the network's rate, training mode)."""
    x, y = make_data(n)
    model = sinapsi_model(net)
    twin = torch_twin(net, model)
    model.train()
    twin.train()
    step, _ = sinapsi_step(net, model)
    return {
        "sinapsi": epoch_of(step, sinapsi_batches(x, y, net.batch)),
        "torch": epoch_of(torch_step(net, twin), torch_batches(x, y, net.batch)),
    }


# --------------------------------------------------------------------------------- inference
def inference_fns(
    net: ConvNet, n: int, batch: int
) -> tuple[dict[str, Callable[[], Any]], dict[str, Any]]:
    """Forward passes over ``n`` samples in batches of ``batch`` (eval mode, no graph), per
    library, and the check that both give the same logits (rel <= REL_TOL)."""
    import torch

    import sinapsi as sn

    x, _ = make_data(n, seed=2)
    model = sinapsi_model(net).eval()
    twin = torch_twin(net, model).eval()
    sn_batches = [sn.tensor(x[i : i + batch]) for i in range(0, n, batch)]
    t_batches = [torch.from_numpy(x[i : i + batch]) for i in range(0, n, batch)]

    def sinapsi_run() -> Any:
        with sn.no_grad():
            return [model(xb) for xb in sn_batches]

    def torch_run() -> Any:
        with torch.no_grad():
            return [twin(xb) for xb in t_batches]

    ours = np.concatenate([np.asarray(o.data) for o in sinapsi_run()])
    theirs = np.concatenate([o.numpy() for o in torch_run()])
    err = rel_err(ours, theirs)
    return {"sinapsi": sinapsi_run, "torch": torch_run}, {"rel_error": err, "ok": err <= REL_TOL}


# ------------------------------------------------------------------------------------- check
def check_net(net: ConvNet) -> dict[str, Any]:
    """Same weights and batch in sinapsi and PyTorch (dropout off): the loss and every
    parameter gradient of a first step and the loss of the next batch, after the Adam update,
    must agree (rel <= REL_TOL). Neither library's ``step`` clears the gradients
    (``zero_grad`` runs at the start of the next step), so they are read after the update."""
    x, y = make_data(2 * net.batch, seed=3)
    model = sinapsi_model(net, dropout=0.0)
    twin = torch_twin(net, model, dropout=0.0)
    step, _ = sinapsi_step(net, model)
    t_step = torch_step(net, twin)
    (sx0, sy0), (sx1, sy1) = sinapsi_batches(x, y, net.batch)
    (tx0, ty0), (tx1, ty1) = torch_batches(x, y, net.batch)

    losses = {"sinapsi": [float(step(sx0, sy0).item())], "torch": [float(t_step(tx0, ty0).item())]}
    errors: dict[str, float] = {}
    sn_params = dict(model.named_parameters())
    for name, p in twin.named_parameters():
        errors[f"grad {name}"] = rel_err(np.asarray(sn_params[name].grad), p.grad.numpy())
    losses["sinapsi"].append(float(step(sx1, sy1).item()))
    losses["torch"].append(float(t_step(tx1, ty1).item()))
    for i, (a, b) in enumerate(zip(losses["sinapsi"], losses["torch"])):
        errors[f"loss step {i + 1}"] = rel_err(a, b)
    return {
        "losses": losses,
        "rel_errors": errors,
        "ok": all(e <= REL_TOL for e in errors.values()),
    }
