"""Where a training step's time goes (``mlp.py --profile``): the captured step and the eager one.

The captured step (``sinapsi.capture``, warmed up: recorded and checked) is split into

* **forward replays**: the recorded ops of forward and loss rewriting their outputs in place
  (``plan.replays``, run as the step runs them, with grad mode off);
* **backward closures**: the recorded backward closures alone (``plan.steps``), each called
  with the gradient it receives in a real walk (collected once, then reused: a closure does not
  write into its input, which the profile checks);
* **optimizer step**: ``optimizer.step()`` (the flat fused step where it applies);
* **engine overhead**: the step's total minus those three: the backward walk's bookkeeping
  (gradient slots, accumulation, copies into the gradient buffers; measured as the walk with
  ``zero_grad`` minus the closures), and the rest (the guard that checks shapes, modes and
  parameters, copying the batch into the plan's input, copying the loss out).

Each phase is timed as a block of ``steps`` repetitions of it alone, blocks of all phases taking
turns in every round; a phase's figure is its fastest block (as the benchmark takes the best
epoch), in microseconds per step. The phases read the plan's attributes (``step._plans``);
nothing in ``sinapsi.capture`` is changed.

The eager step (``opt.zero_grad()``, forward + loss, ``backward()``, ``opt.step()``) is timed
phase by phase inside every step (a clock read between phases); "other" is the plain loop's
total (timed without the clock reads) minus forward, backward and optimizer step: ``zero_grad``
and the loop.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

from _common import Net, make_data, sinapsi_net
from _mlp_loops import capture_step, sinapsi_batches, sinapsi_parts, sinapsi_step, warm_up

CAPTURED_PHASES = ("forward replays", "backward closures", "optimizer step", "engine overhead")
EAGER_PHASES = ("forward + loss", "backward", "optimizer step", "other")


def _best_block(fn: Callable[[], Any], steps: int) -> float:
    """Seconds per call of ``fn`` over one block of ``steps`` calls."""
    clock = time.perf_counter
    start = clock()
    for _ in range(steps):
        fn()
    return (clock() - start) / steps


def _rounds(blocks: dict[str, Callable[[], Any]], steps: int, rounds: int) -> dict[str, float]:
    """Microseconds per call of each block's function: the fastest of ``rounds`` blocks."""
    best = {name: float("inf") for name in blocks}
    for _ in range(rounds):
        for name, fn in blocks.items():
            best[name] = min(best[name], _best_block(fn, steps))
    return {name: s * 1e6 for name, s in best.items()}


def _shares(us: dict[str, float], total: float) -> dict[str, float]:
    return {name: v / total if total > 0 else 0.0 for name, v in us.items()}


def _checked_plan(step: Any) -> Any:
    """The captured step's plan that replays (recorded and checked), or None."""
    plans = [p for p in step._plans.values() if p is not None and p.checked]
    return plans[0] if len(plans) == 1 else None


def _closure_inputs(plan: Any) -> list[tuple[Callable[[Any], Any], Any]]:
    """Each backward closure of ``plan`` with the gradient it receives, from one walk that
    routes gradients between nodes as the engine does (leaves' gradients are dropped)."""
    from sinapsi.capture import _NODE

    slots: list[Any] = [None] * plan.n_slots
    slots[0] = plan.seed
    pairs = []
    for i, (closure, targets, outs, *_) in enumerate(plan.steps):
        g = slots[i]
        if g is None:
            continue
        slots[i] = None
        if outs is None:
            backward = closure
        else:  # as the engine calls it: writing into the leaves' buffers

            def backward(g: Any, closure: Any = closure, outs: Any = outs) -> Any:
                return closure(g, outs)

        pairs.append((backward, g))
        for target, pg in zip(targets, backward(g)):
            if target is None or pg is None or target[0] != _NODE:
                continue
            k = target[1]
            slots[k] = pg if slots[k] is None else slots[k] + pg
    return pairs


def _inputs_intact(pairs: list[tuple[Callable[[Any], Any], Any]]) -> bool:
    """Whether every closure leaves its input gradient as it was (so calling it again with
    the same array times the same work)."""
    for backward, g in pairs:
        before = np.array(g, copy=True)
        backward(g)
        if not np.array_equal(before, g, equal_nan=True):
            return False
    return True


def captured_profile(net: Net, steps: int, rounds: int) -> dict[str, Any]:
    """Microseconds per captured step, and per phase (see the module's docstring)."""
    import sinapsi as sn

    batches = sinapsi_batches(net, *make_data(net, 2 * net.batch, seed=2))
    model = sinapsi_net(net, seed=0)
    step = capture_step(net, model)
    status = warm_up(step, batches)
    position = [0]

    def one_step() -> None:
        xb, yb = batches[position[0] % len(batches)]
        position[0] += 1
        step(xb, yb)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", sn.CaptureNotice)
        plan = _checked_plan(step) if status["captured"] else None
        if plan is None:
            total = _rounds({"total": one_step}, steps, rounds)["total"]
            return {"captured": False, "reason": status["reason"], "total_us": total}
        one_step()  # the gradients of a real step, which the optimizer blocks reuse
        with sn.no_grad():
            pairs = _closure_inputs(plan)
            intact = _inputs_intact(pairs)
        replays, opt = plan.replays, step.optimizer

        def forward() -> None:
            with sn.no_grad():
                for replay in replays:
                    replay()

        def closures() -> None:
            with sn.no_grad():
                for backward, g in pairs:
                    backward(g)

        def walk() -> None:
            step._zero_grads()
            step._backward(plan)

        us = _rounds(
            {"total": one_step, "forward replays": forward, "backward closures": closures,
             "backward walk": walk, "optimizer step": opt.step},
            steps, rounds,
        )  # fmt: skip
    total = us.pop("total")
    walk_us = us.pop("backward walk")
    us["engine overhead"] = total - sum(us.values())
    return {
        "captured": True,
        "reason": None,
        "total_us": total,
        "phases_us": us,
        "shares": _shares(us, total),
        "walk_bookkeeping_us": walk_us - us["backward closures"],
        "closure_inputs_intact": intact,
        "ops": {"replays": len(replays), "closures": len(pairs)},
    }


def eager_profile(net: Net, steps: int, rounds: int) -> dict[str, Any]:
    """Microseconds per eager step (the user's loop) and per phase."""
    batches = sinapsi_batches(net, *make_data(net, 2 * net.batch, seed=2))
    model = sinapsi_net(net, seed=0)
    loss_fn, opt = sinapsi_parts(net, model)
    plain = sinapsi_step(net, sinapsi_net(net, seed=0))
    clock = time.perf_counter
    position = [0]

    def one_step() -> None:
        xb, yb = batches[position[0] % len(batches)]
        position[0] += 1
        plain(xb, yb)

    for xb, yb in batches:  # warm-up, as the timed loops have
        plain(xb, yb)
        opt.zero_grad()
        loss_fn(model(xb), yb).backward()
        opt.step()
    best = {name: float("inf") for name in ("total", *EAGER_PHASES[:3])}
    for _ in range(rounds):
        sums = dict.fromkeys(EAGER_PHASES[:3], 0.0)
        for i in range(steps):
            xb, yb = batches[i % len(batches)]
            opt.zero_grad()
            t0 = clock()
            loss = loss_fn(model(xb), yb)
            t1 = clock()
            loss.backward()
            t2 = clock()
            opt.step()
            t3 = clock()
            sums["forward + loss"] += t1 - t0
            sums["backward"] += t2 - t1
            sums["optimizer step"] += t3 - t2
        for name, s in sums.items():
            best[name] = min(best[name], s / steps)
        best["total"] = min(best["total"], _best_block(one_step, steps))
    us = {name: s * 1e6 for name, s in best.items()}
    total = us.pop("total")
    us["other"] = total - sum(us.values())
    return {"total_us": total, "phases_us": us, "shares": _shares(us, total)}


def profile_net(net: Net, steps: int, rounds: int) -> dict[str, Any]:
    """Both splits for ``net``."""
    return {
        "steps": steps,
        "rounds": rounds,
        "captured": captured_profile(net, steps, rounds),
        "eager": eager_profile(net, steps, rounds),
    }


def print_profile(p: dict[str, Any]) -> None:
    """The two splits, side by side: microseconds per step and shares."""
    cap, eager = p["captured"], p["eager"]
    print(
        f"  profile (--profile): us per step, fastest of {p['rounds']} blocks of "
        f"{p['steps']} steps per phase"
    )
    if not cap["captured"]:
        print(
            f"    captured step: runs eagerly ({cap['reason']}): {cap['total_us']:.1f} us; "
            "no replay to split"
        )
    else:
        ops = cap["ops"]
        print(
            f"    captured step {cap['total_us']:>10.1f} us   ({ops['replays']} forward replays, "
            f"{ops['closures']} backward closures)"
        )
        for name in CAPTURED_PHASES:
            print(f"      {name:<20}{cap['phases_us'][name]:>10.1f} us {cap['shares'][name]:>6.1%}")
        print(
            f"        of which backward walk bookkeeping {cap['walk_bookkeeping_us']:.1f} us; "
            "the rest: guard, batch copy in, loss copy out"
        )
        if not cap["closure_inputs_intact"]:
            print("      note: a closure wrote into its input gradient: closure times approximate")
    print(f"    eager step    {eager['total_us']:>10.1f} us")
    for name in EAGER_PHASES:
        print(f"      {name:<20}{eager['phases_us'][name]:>10.1f} us {eager['shares'][name]:>6.1%}")
