"""The backward walk of a captured step (:mod:`sinapsi.capture`), planned once per recording.

- :func:`compiled_walk`: the walk written out as one generated Python function;
- :func:`pooled`: the arrays the backward closures write their results into on every walk
  after the recording one (``ops._util.reused``/``keep``).

A plan's ``steps`` are ``(backward, targets, outs, nodes, leafs)`` in the eager walk's order;
a target is ``(_NODE, step index)``, ``(_LEAF, leaf index)`` or None.
"""

from __future__ import annotations

from typing import Any

from . import backend

_NODE, _LEAF = 0, 1
POOL_UP_TO = 64 * 1024  # bytes: a larger gradient is allocated per step (see pooled)


def compiled_walk(plan: Any) -> Any:
    """The backward walk of ``plan`` as one generated Python function of the seed gradient
    and the thread's mode: the loop of ``CapturedStep._walk`` unrolled, step by step, each
    gradient slot a local variable, each closure, output tuple, pooled array, leaf and buffer
    a global of the function (no per-step tuple unpacking, list indexing or inner loops; about
    0.3 us less per backward step, most of a tiny network's walk overhead). The same
    operations in the same order: the results are bit for bit the loop's."""
    names: dict[str, Any] = {}
    lines = ["def walk(s0, mode):"]
    if plan.n_slots > 1:
        lines.append("    " + " = ".join(f"s{i}" for i in range(1, plan.n_slots)) + " = None")
    for i, (backward, _, outs, nodes, leafs) in enumerate(plan.steps):
        names[f"b{i}"] = backward
        call = f"b{i}(s{i})"
        if outs is not None:
            names[f"o{i}"] = outs
            call = f"b{i}(s{i}, o{i})"
        names[f"O{i}"] = plan.pooled[i]  # the array this closure writes its result into
        lines += [
            f"    if s{i} is not None:",
            f"        mode.out = O{i}",
            f"        r = {call}",
            f"        s{i} = None",
        ]
        for j, k in nodes:  # a node's gradients summed in the order they arrive
            lines += [
                f"        g = r[{j}]",
                "        if g is not None:",
                f"            s{k} = g if s{k} is None else s{k} + g",
            ]
        for j, k in leafs:  # a leaf's first gradient into its buffer, later ones added
            names[f"L{k}"], names[f"B{k}"] = plan.leaves[k], plan.leaf_grads[k]
            lines += [
                f"        g = r[{j}]",
                "        if g is not None:",
                f"            if L{k}.grad is None:",
                f"                if g is not B{k}:",
                f"                    B{k}[...] = g",
                f"                L{k}.grad = B{k}",
                "            else:",
                f"                L{k}.grad += g",
            ]
    code = compile("\n".join(lines) + "\n", "<sinapsi.capture walk>", "exec")
    exec(code, names)  # noqa: S102 - our own generated source, no user text in it
    return names["walk"]


def pooled(plan: Any, made: list[Any]) -> list[Any]:
    """For each backward step, the array its closure writes its result into on later walks
    (``_mode.out``), or None: one like each result the recording walk noted (shape, dtype and
    strides), shared between results whose lifetimes do not meet (from the step that makes
    one to the step that reads it, or the same step where a leaf takes it): as the allocator
    hands back freed memory, but planned once. Results up to POOL_UP_TO bytes only: a small
    network's step is mostly per-call costs, an allocation among them; with larger arrays
    fixed buffers measured slower than the allocator's recycled memory (a 10-layer MLP with
    (128, 256) gradients, ~10% slower per step, most of it in the GEMMs reading them)."""
    pooled: list[Any] = [None] * len(plan.steps)
    rings: dict[tuple, list[list[Any]]] = {}  # arrays alike: [last step using it, array]
    for i, noted in enumerate(made):
        if noted is None or not hasattr(noted[0], "strides") or noted[0].nbytes > POOL_UP_TO:
            continue
        result, j = noted
        target = plan.steps[i][1][j]
        last = target[1] if target is not None and target[0] == _NODE else i
        ring = rings.setdefault((type(result), result.shape, result.dtype, result.strides), [])
        for entry in ring:
            if entry[0] < i:  # free: read for the last time before this step
                entry[0], pooled[i] = last, entry[1]
                break
        else:
            array = backend.get_array_module(result).empty_like(result)
            if array.strides == result.strides:
                ring.append([last, array])
                pooled[i] = array
    return pooled
