"""Where a training step's time goes, per kind of op, in sinapsi and in PyTorch.

sinapsi: each layer's forward is timed (a wrapper on the instance's ``forward``), each graph
node's backward closure is timed (``autograd.Node`` is patched while profiling, so every op is
seen however it builds its result), and the loss, ``backward()`` as a whole, ``zero_grad`` and
Adam's ``step`` are timed around the calls. What ``backward()`` spends outside the closures (the
graph walk, gradient accumulation) and the loop itself count as "other".

PyTorch: ``torch.profiler`` over the same steps; each recorded event's own (self) CPU time goes
to the category of the nearest event, itself or an enclosing one, whose name says what it is
(``aten::convolution_backward`` -> conv bwd, anything under ``Optimizer.step`` -> adam). The
profiler's own cost inflates PyTorch's small ops a little; the split is what matters.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable
from typing import Any

from _conv_nets import ConvNet, make_data, sinapsi_batches, sinapsi_model, torch_batches
from _conv_nets import torch_model as _torch_model

CATEGORIES = ("conv fwd", "conv bwd", "pool", "relu", "linear", "loss", "adam", "other")
_LAYER_CATEGORY = {
    "Conv2d": "conv fwd",
    "MaxPool2d": "pool",
    "ReLU": "relu",
    "Linear": "linear",
}


def op_category(name: str) -> str:
    """The category of a backward op (sinapsi's op names) or a PyTorch profiler event; "" for
    a name that says nothing (an allocation, an add), which takes its parent's category."""
    n = name.lower()
    if n.startswith("optimizer.step"):
        return "adam"
    if n.startswith("optimizer.zero_grad"):
        return "other"
    if "conv" in n:
        return "conv bwd" if "backward" in n else "conv fwd"
    if "pool" in n:
        return "pool"
    if "relu" in n or "threshold_backward" in n:
        return "relu"
    if any(k in n for k in ("cross_entropy", "softmax", "nll")):
        return "loss"
    if any(k in n for k in ("linear", "addmm", "matmul", "aten::mm", "mmbackward", "tbackward")):
        return "linear"
    if n in ("aten::t", "mm", "matmul"):
        return "linear"
    return ""


def _finish(step_ms: float, ms: dict[str, float]) -> dict[str, float]:
    out = {k: ms.get(k, 0.0) for k in CATEGORIES if k != "other"}
    out["other"] = step_ms - sum(out.values())
    return out


# ---------------------------------------------------------------------------------- sinapsi
def sinapsi_profile(net: ConvNet, steps: int) -> dict[str, Any]:
    """ms per training step in each category (dropout on, as in the timed runs), the split of
    the forward by layer type and of the backward by op name, over ``steps`` steps after one
    untimed warm-up step."""
    from sinapsi import autograd, nn, optim

    model = sinapsi_model(net).train()
    opt = optim.Adam(model.parameters(), lr=net.lr)
    x, y = make_data(net.batch * steps, seed=4)
    batches = sinapsi_batches(x, y, net.batch)
    fwd: dict[str, float] = defaultdict(float)
    bwd: dict[str, float] = defaultdict(float)
    calls: dict[str, float] = defaultdict(float)
    clock = time.perf_counter

    def timed_forward(layer: Any) -> Callable[[Any], Any]:
        inner, kind = layer.forward, type(layer).__name__

        def forward(xb: Any) -> Any:
            start = clock()
            out = inner(xb)
            fwd[kind] += clock() - start
            return out

        return forward

    for layer in model.children():
        object.__setattr__(layer, "forward", timed_forward(layer))

    node_init = autograd.Node.__init__

    def init(node: Any, op: str, parents: Any, backward: Any) -> None:
        def timed(grad: Any) -> Any:
            start = clock()
            out = backward(grad)
            bwd[op] += clock() - start
            return out

        node_init(node, op, parents, timed)

    def step(xb: Any, yb: Any) -> None:
        t0 = clock()
        opt.zero_grad()
        t1 = clock()
        logits = model(xb)
        t2 = clock()
        loss = nn.cross_entropy(logits, yb)
        t3 = clock()
        loss.backward()
        t4 = clock()
        opt.step()
        t5 = clock()
        calls["zero_grad"] += t1 - t0
        calls["loss fwd"] += t3 - t2
        calls["backward()"] += t4 - t3
        calls["adam"] += t5 - t4

    autograd.Node.__init__ = init  # type: ignore[method-assign]
    try:
        step(*batches[0])  # warm-up (first-call costs, numba's kernels loading)
        for d in (fwd, bwd, calls):
            d.clear()
        start = clock()
        for xb, yb in batches:
            step(xb, yb)
        total = clock() - start
    finally:
        autograd.Node.__init__ = node_init  # type: ignore[method-assign]
        for layer in model.children():
            layer.__dict__.pop("forward", None)

    per = 1e3 / len(batches)
    ms: dict[str, float] = defaultdict(float)
    for kind, s in fwd.items():
        ms[_LAYER_CATEGORY.get(kind, "other")] += s * per
    for op, s in bwd.items():
        cat = op_category(op) or "other"
        ms["conv bwd" if cat == "conv fwd" else cat] += s * per
    ms["loss"] += calls["loss fwd"] * per
    ms["adam"] += calls["adam"] * per
    engine = (calls["backward()"] - sum(bwd.values())) * per
    return {
        "step_ms": total * per,
        "ms_per_step": _finish(total * per, ms),
        "forward_ms_by_layer": {k: v * per for k, v in sorted(fwd.items())},
        "backward_ms_by_op": {k: v * per for k, v in sorted(bwd.items(), key=lambda kv: -kv[1])},
        "backward_engine_ms": engine,
        "zero_grad_ms": calls["zero_grad"] * per,
        "steps": len(batches),
    }


# ---------------------------------------------------------------------------------- PyTorch
def torch_profile(net: ConvNet, steps: int) -> dict[str, Any]:
    """The same split for PyTorch's standard loop, from ``torch.profiler`` self CPU times."""
    import torch
    from torch.profiler import ProfilerActivity, profile

    from _conv_nets import torch_step

    model = _torch_model(net).train()
    step = torch_step(net, model)
    x, y = make_data(net.batch * steps, seed=4)
    batches = torch_batches(x, y, net.batch)
    step(*batches[0])  # warm-up, and a first profiler session (its start-up costs a step)
    with profile(activities=[ProfilerActivity.CPU]):
        step(*batches[0])
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        start = time.perf_counter()
        for xb, yb in batches:
            step(xb, yb)
        total = time.perf_counter() - start
    del torch
    ms: dict[str, float] = defaultdict(float)
    per = 1e-3 / len(batches)  # profiler times are in microseconds
    for event in prof.events():
        cat, node = "", event
        while node is not None and not cat:
            cat = op_category(node.name)
            node = node.cpu_parent
        ms[cat or "other"] += event.self_cpu_time_total * per
    step_ms = total * 1e3 / len(batches)
    return {"step_ms": step_ms, "ms_per_step": _finish(step_ms, ms), "steps": len(batches)}
