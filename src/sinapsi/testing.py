"""Checking gradients: finite differences for anyone's function, and a PyTorch comparison helper.

:func:`gradcheck` is public: use it on your own ops and models. :func:`check_op` compares an op
with its PyTorch twin (forward values, dtypes and gradients) and is what our test suite uses;
it imports torch only when called.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy

from . import backend
from .autograd import no_grad
from .tensor import Tensor

__all__ = [
    "gradcheck", "GradcheckError", "assert_close", "check_op", "check_module", "check_replay",
]  # fmt: skip


class GradcheckError(AssertionError):
    """The analytical gradient (backward) disagrees with finite differences."""


def _objective(
    fn: Callable[..., Any], inputs: Sequence[Tensor], cotangents: list[Any] | None, rng: Any = None
) -> tuple[Tensor, list[Any]]:
    """``sum(output_i * v_i)``: a scalar whose gradient is the vector-Jacobian product.

    With no ``cotangents``, random weights ``v_i`` are drawn from ``rng``.
    """
    out = fn(*inputs)
    outs = list(out) if isinstance(out, (tuple, list)) else [out]
    for o in outs:
        if not isinstance(o, Tensor):
            raise TypeError(f"gradcheck: fn must return Tensors; got {type(o).__name__}.")
    if cotangents is None:
        cotangents = [rng.standard_normal(o.shape) for o in outs]
    total = None
    for o, v in zip(outs, cotangents):
        term = (o * v).sum()
        total = term if total is None else total + term
    return total, cotangents


def gradcheck(
    fn: Callable[..., Any],
    inputs: Sequence[Tensor],
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    mode: str = "full",
    seed: int = 0,
) -> bool:
    """Compare ``fn``'s backward with central finite differences; raise on disagreement.

    Args:
        fn: takes the tensors in ``inputs`` and returns a Tensor or a tuple of Tensors.
        inputs: tensors; those with ``requires_grad=True`` are checked and must be float64
            (float32 finite differences are too noisy to mean anything).
        eps: the finite-difference step.
        atol, rtol: an element passes if ``|analytic - numeric| <= atol + rtol * |numeric|``.
        mode: ``"full"`` perturbs every element (2 calls of ``fn`` per element);
            ``"directional"`` checks one random direction per input (2 calls in all, chainer's
            method), for large inputs.
        seed: seeds the random output weights and directions.

    Returns:
        True when the check passes.

    Raises:
        GradcheckError: naming the input, the element, and both values.

    >>> import sinapsi as sn
    >>> x = sn.tensor([0.5, -1.5], dtype="float64", requires_grad=True)
    >>> sn.gradcheck(lambda t: (t * t).exp(), [x])
    True
    """
    checked = [i for i, t in enumerate(inputs) if isinstance(t, Tensor) and t.requires_grad]
    if not checked:
        raise ValueError(
            "gradcheck: no input has requires_grad=True, so there is nothing to check."
        )
    for i in checked:
        if inputs[i].dtype != numpy.float64:
            raise TypeError(
                f"gradcheck: input {i} has dtype {inputs[i].dtype}; finite differences need "
                "float64. Pass inputs made with dtype='float64' "
                "(or inside sinapsi.default_dtype('float64'))."
            )
    if mode not in ("full", "directional"):
        raise ValueError(f"gradcheck: mode must be 'full' or 'directional'. Got {mode!r} instead.")

    saved = [t.grad for t in inputs if isinstance(t, Tensor)]
    for i in checked:
        inputs[i].grad = None
    try:
        rng = numpy.random.default_rng(seed)
        loss, cot = _objective(fn, inputs, None, rng)
        loss.backward()
        analytic = {}
        for i in checked:
            g = inputs[i].grad
            analytic[i] = backend.to_numpy(g) if g is not None else numpy.zeros(inputs[i].shape)

        def value() -> float:
            with no_grad():
                return float(_objective(fn, inputs, cot)[0].item())

        if mode == "directional":
            _check_directional(inputs, checked, analytic, value, eps, atol, rtol, rng)
        else:
            _check_full(inputs, checked, analytic, value, eps, atol, rtol)
    finally:
        for t, g in zip([t for t in inputs if isinstance(t, Tensor)], saved):
            t.grad = g
    return True


def _check_full(inputs, checked, analytic, value, eps, atol, rtol) -> None:
    for i in checked:
        data = inputs[i].data
        flat_analytic = analytic[i].reshape(-1)
        for j in range(data.size):
            pos = numpy.unravel_index(j, data.shape)
            original = data[pos].item()
            data[pos] = original + eps
            plus = value()
            data[pos] = original - eps
            minus = value()
            data[pos] = original
            numeric = (plus - minus) / (2 * eps)
            a = float(flat_analytic[j])
            if not abs(a - numeric) <= atol + rtol * abs(numeric):
                raise GradcheckError(
                    f"gradcheck: input {i} (shape {inputs[i].shape}), "
                    f"element {tuple(map(int, pos))}: "
                    f"backward gives {a:.10g} but finite differences give {numeric:.10g} "
                    f"(difference {abs(a - numeric):.3g}, "
                    f"allowed {atol + rtol * abs(numeric):.3g})."
                )


def _check_directional(inputs, checked, analytic, value, eps, atol, rtol, rng) -> None:
    directions = {}
    for i in checked:
        d = rng.standard_normal(inputs[i].shape)
        directions[i] = d / max(numpy.linalg.norm(d), 1e-300)
    originals = {i: inputs[i].data.copy() for i in checked}
    xp = backend.get_array_module(inputs[checked[0]].data)
    try:
        for i in checked:
            inputs[i].data[...] = originals[i] + eps * xp.asarray(directions[i])
        plus = value()
        for i in checked:
            inputs[i].data[...] = originals[i] - eps * xp.asarray(directions[i])
        minus = value()
    finally:
        for i in checked:
            inputs[i].data[...] = originals[i]
    numeric = (plus - minus) / (2 * eps)
    a = float(sum((analytic[i] * directions[i]).sum() for i in checked))
    if not abs(a - numeric) <= atol + rtol * abs(numeric):
        raise GradcheckError(
            f"gradcheck (directional): backward gives a directional derivative of {a:.10g} but "
            f"finite differences give {numeric:.10g} (difference {abs(a - numeric):.3g})."
        )


def assert_close(actual: Any, expected: Any, rtol: float, what: str = "value") -> None:
    """Assert ``|actual - expected| <= rtol * (|expected| + max|expected|)`` elementwise.

    The error is relative to each element and, for elements near zero, to the largest magnitude
    in the array: float rounding in sums and products is proportional to the operands' scale,
    not to a result that happens to cancel to almost nothing.
    """
    a = backend.to_numpy(actual.data if isinstance(actual, Tensor) else actual)
    e = numpy.asarray(expected)
    if a.shape != e.shape:
        raise AssertionError(f"{what}: shape {a.shape} != expected {e.shape}")
    if a.size == 0:
        return
    a64, e64 = a.astype(numpy.float64), e.astype(numpy.float64)
    same_inf = numpy.isinf(e64) & (a64 == e64)
    both_nan = numpy.isnan(e64) & numpy.isnan(a64)
    finite = numpy.isfinite(e64)
    scale = float(numpy.abs(e64[finite]).max()) if finite.any() else 0.0
    with numpy.errstate(invalid="ignore"):  # inf - inf: matching infinities, counted above
        err = numpy.abs(a64 - e64)
    bound = rtol * (numpy.abs(e64) + scale)
    bad = ~(same_inf | both_nan | (err <= bound))
    if bad.any():
        k = numpy.flatnonzero(bad.reshape(-1))[0]
        pos = numpy.unravel_index(k, e.shape) if e.ndim else ()
        raise AssertionError(
            f"{what}: {int(bad.sum())} of {e.size} elements differ beyond rtol={rtol:g}; first at "
            f"{tuple(map(int, pos))}: got {a64.reshape(-1)[k]!r}, expected {e64.reshape(-1)[k]!r}"
        )


_TOLERANCES = {"float64": 1e-10, "float32": 1e-5}


def _twin_inputs(
    inputs: Sequence[Any], dtype: str, requires_grad: Sequence[bool] | None = None
) -> tuple[list[Tensor], list[Any]]:
    """The same inputs as sinapsi tensors and as torch tensors, each with its own copy.

    Floating arrays are cast to ``dtype`` and require gradients (unless ``requires_grad``
    says otherwise for that input); integer and boolean arrays pass unchanged.
    """
    import torch

    wants = list(requires_grad) if requires_grad is not None else [True] * len(inputs)
    ours, theirs = [], []
    for x, wanted in zip(inputs, wants):
        x = numpy.asarray(x)
        if x.dtype.kind == "f":
            x = x.astype(dtype)
            ours.append(Tensor(x.copy(), dtype=dtype, requires_grad=wanted))
            theirs.append(torch.tensor(x.copy(), requires_grad=wanted))
        else:
            ours.append(Tensor(x.copy()))
            theirs.append(torch.tensor(x.copy()))
    return ours, theirs


def _compare_and_backprop(out: Tensor, ref: Any, rtol: float, where: str, rng: Any) -> bool:
    """Assert our output equals torch's (values and dtype), then backpropagate the same random
    output weighting through both. Returns False when there is nothing to backpropagate."""
    import torch

    ref_dtype = str(ref.dtype).replace("torch.", "")
    if str(out.dtype) != ref_dtype:
        raise AssertionError(f"{where} output dtype {out.dtype} != torch's {ref_dtype}")
    assert_close(out, ref.detach().numpy(), rtol, f"{where} output")
    if not out.requires_grad:
        return False
    v = rng.standard_normal(out.shape).astype(out.dtype)
    out.backward(v)
    ref.backward(torch.tensor(v))
    return True


def check_op(
    sinapsi_fn: Callable[..., Any],
    torch_fn: Callable[..., Any],
    inputs: Sequence[Any],
    *,
    rtol: dict[str, float] | None = None,
    gradcheck_inputs: bool = True,
    requires_grad: Sequence[bool] | None = None,
    seed: int = 0,
) -> None:
    """Check an op against PyTorch in float64 and float32, and by finite differences.

    ``inputs`` are NumPy arrays; floating ones become tensors requiring grad (cast to each
    dtype), others (indices, masks) are passed as they are. ``requires_grad`` (one bool per
    input) marks floating inputs that are constants instead, such as a loss's targets. Checks
    the output's shape, dtype and values, then the gradients of every floating input for a
    random output weighting.
    Default tolerances: float64 ``1e-10``, float32 ``1e-5`` (see :func:`assert_close`).
    """

    tol = {**_TOLERANCES, **(rtol or {})}
    rng = numpy.random.default_rng(seed)
    for dtype in ("float64", "float32"):
        ours, theirs = _twin_inputs(inputs, dtype, requires_grad)
        out = sinapsi_fn(*ours)
        ref = torch_fn(*theirs)
        if tuple(out.shape) != tuple(ref.shape):
            raise AssertionError(
                f"[{dtype}] output shape {out.shape} != torch's {tuple(ref.shape)}"
            )
        if not _compare_and_backprop(out, ref, tol[dtype], f"[{dtype}]", rng):
            continue
        for k, (t_ours, t_theirs) in enumerate(zip(ours, theirs)):
            if not t_ours.requires_grad:
                continue
            expected = (
                t_theirs.grad.numpy() if t_theirs.grad is not None else numpy.zeros(t_ours.shape)
            )
            got = t_ours.grad if t_ours.grad is not None else numpy.zeros(t_ours.shape, dtype)
            if numpy.asarray(got).dtype != numpy.dtype(dtype):
                raise AssertionError(f"[{dtype}] gradient {k} has dtype {got.dtype}")
            assert_close(got, expected, tol[dtype], f"[{dtype}] gradient of input {k}")
    if not gradcheck_inputs:
        return
    inputs64 = _twin_inputs(inputs, "float64", requires_grad)[0]
    if any(t.size for t in inputs64 if t.requires_grad):  # empty inputs: nothing to perturb
        gradcheck(sinapsi_fn, inputs64)


def check_module(
    ours: Any,
    theirs: Any,
    inputs: Sequence[Any],
    *,
    training: bool = True,
    steps: int = 1,
    rtol: dict[str, float] | None = None,
    seed: int = 0,
) -> None:
    """Check a sinapsi Module against a ``torch.nn.Module`` with identical state.

    ``ours``'s ``state_dict`` is copied into ``theirs`` (same key names), then for float64 and
    float32 both run ``steps`` forward/backward passes in training (or eval) mode on the same
    ``inputs`` (NumPy arrays; floating ones get gradients) with the same random output
    weighting. After each pass the outputs, input gradients and parameter gradients must agree;
    after the last, the buffers too (e.g. BatchNorm's running statistics). ``ours`` is left in
    float64 or float32 (the last dtype run) with its original values.
    """
    import torch

    tol = {**_TOLERANCES, **(rtol or {})}
    initial = ours.state_dict()
    rng = numpy.random.default_rng(seed)
    for dtype in ("float64", "float32"):
        ours.astype(dtype).load_state_dict(initial)
        theirs.to(getattr(torch, dtype))
        theirs.load_state_dict(
            {k: torch.tensor(numpy.asarray(v).astype(dtype) if v.dtype.kind == "f" else v)
             for k, v in initial.items()}
        )  # fmt: skip
        ours.train(training)
        theirs.train(training)
        ours_params = dict(ours.named_parameters())
        theirs_params = dict(theirs.named_parameters())
        for step in range(steps):
            ours.zero_grad()
            theirs.zero_grad()
            xs, txs = _twin_inputs(inputs, dtype)
            out, ref = ours(*xs), theirs(*txs)
            where = f"[{dtype}, {'train' if training else 'eval'}, step {step}]"
            if not _compare_and_backprop(out, ref, tol[dtype], where, rng):
                continue
            for k, (x, tx) in enumerate(zip(xs, txs)):
                if x.requires_grad:
                    assert_close(x.grad, tx.grad.numpy(), tol[dtype], f"{where} input {k} grad")
            for name, p in ours_params.items():
                tp = theirs_params[name]
                expected = tp.grad.numpy() if tp.grad is not None else numpy.zeros(p.shape)
                got = p.grad if p.grad is not None else numpy.zeros(p.shape, dtype)
                assert_close(got, expected, tol[dtype], f"{where} grad of {name}")
        for name, buf in ours.named_buffers():
            if buf is not None:
                expected = theirs.get_buffer(name).numpy()
                assert_close(buf, expected, tol[dtype], f"[{dtype}] buffer {name}")


def _bitwise_equal(a: Any, b: Any, what: str) -> None:
    a, b = backend.to_numpy(a), backend.to_numpy(b)
    if not backend.same_bits(a, b):
        diff = ""
        if a.shape == b.shape and a.dtype.kind in "fc" and b.dtype.kind in "fc" and a.size:
            diff = f"; largest difference {float(numpy.nanmax(numpy.abs(a - b))):.3g}"
        raise AssertionError(
            f"check_replay: {what} differs after replay: shape {a.shape} {a.dtype} vs "
            f"{b.shape} {b.dtype}{diff}"
        )


def check_replay(
    fn: Callable[..., Any],
    *inputs: Any,
    raw: Sequence[int] = (),
    new_inputs: Sequence[Any] | None = None,
    rngs: Sequence[Any] = (),
    buffers: Sequence[Any] = (),
    seed: int = 0,
    rounds: int = 2,
) -> None:
    """Check that the ops ``fn`` runs replay bit-identically (what :func:`sinapsi.capture`
    relies on); raise ``AssertionError`` naming what differs.

    ``fn`` is called on ``inputs`` made Tensors (floating ones with ``requires_grad=True``),
    except the positions in ``raw``, passed as the plain arrays themselves (labels, targets
    held by reference). Every op result it makes is recorded; each round then writes new
    values into the input arrays in place (``new_inputs``, or drawn: floats from N(0, 1),
    others a permutation of the original values), replays every recorded op in order and
    backpropagates a random gradient through the recorded graph, and compares the output and
    every input's gradient, bit for bit, with a fresh eager call of ``fn`` on the same values.
    ``rngs`` (Generators) and ``buffers`` (arrays changed in place by the forward, such as
    running statistics) are restored before the fresh call, and must end in the same state.
    """
    from . import autograd

    rng = numpy.random.default_rng(seed)

    def tensors(arrays: Sequence[Any]) -> list[Any]:
        out = []
        for i, a in enumerate(arrays):
            if i in raw:
                out.append(a)
            else:
                floating = numpy.asarray(a).dtype.kind == "f"
                out.append(Tensor(a, dtype=a.dtype, requires_grad=floating))
        return out

    arrays = [numpy.array(a, copy=True) for a in inputs]
    recorded = tensors(arrays)
    mode = autograd._mode
    previous, mode.tape = mode.tape, []
    try:
        out = fn(*recorded)
        tape = mode.tape
    finally:
        mode.tape = previous
    for _result, op, replay in tape:
        if replay is None:
            raise AssertionError(f"check_replay: op '{op}' has no replay")
    for r in range(rounds):
        if new_inputs is not None and r == 0:
            news = [numpy.array(a, copy=True) for a in new_inputs]
        else:
            news = [
                rng.standard_normal(a.shape).astype(a.dtype)
                if a.dtype.kind == "f"
                else rng.permutation(a.reshape(-1)).reshape(a.shape)
                for a in arrays
            ]
        for a, new in zip(arrays, news):
            numpy.copyto(a, new)
        saved_rngs = [g.bit_generator.state for g in rngs]
        saved_buffers = [numpy.array(b, copy=True) for b in buffers]
        for _result, _op, replay in tape:
            replay()
        replayed_rngs = [g.bit_generator.state for g in rngs]
        replayed_buffers = [numpy.array(b, copy=True) for b in buffers]
        for g, state in zip(rngs, saved_rngs):
            g.bit_generator.state = state
        for b, saved in zip(buffers, saved_buffers):
            numpy.copyto(b, saved)
        fresh = tensors([numpy.array(a, copy=True) for a in arrays])
        expected = fn(*fresh)
        _bitwise_equal(out.data, expected.data, f"round {r}: the output")
        for i, (g, state) in enumerate(zip(rngs, replayed_rngs)):
            if g.bit_generator.state != state:
                raise AssertionError(f"check_replay: round {r}: generator {i} drew differently")
        for i, (b, replayed) in enumerate(zip(buffers, replayed_buffers)):
            _bitwise_equal(replayed, b, f"round {r}: buffer {i}")
        if not out.requires_grad:
            continue
        seed_grad = rng.standard_normal(out.shape).astype(out.data.dtype)
        for t in recorded:
            if isinstance(t, Tensor):
                t.grad = None
        out.backward(seed_grad.copy(), retain_graph=True)
        expected.backward(seed_grad.copy())
        for i, (t, e) in enumerate(zip(recorded, fresh)):
            if isinstance(t, Tensor) and t.requires_grad:
                if (t.grad is None) != (e.grad is None):
                    raise AssertionError(f"check_replay: round {r}: gradient {i} missing")
                if t.grad is not None:
                    _bitwise_equal(t.grad, e.grad, f"round {r}: the gradient of input {i}")
