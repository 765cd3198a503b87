"""FlatStep: the optimizer step as whole-buffer passes equals the eager loop bit for bit.

Each test builds one optimizer, deep-copies it (the eager twin), flattens the original and
feeds both the same gradients: the flat one through ``flat.grads`` (``p.grad`` set to the
views), the twin through plain arrays. Parameters, every state array, the step counts and
``state_dict()`` must be byte-equal after every step.
"""

import copy
import warnings

import numpy as np
import pytest

import sinapsi as sn
from sinapsi import optim
from sinapsi.optim import _numba
from sinapsi.optim.flat import FlatStep

# two networks' worth of parameters: a 0-d and a 1-element one among them
SHAPES = [[(3, 4), (4,), (), (1,)], [(4, 2), (2,)]]

CASES = [
    (optim.SGD, {"lr": 0.1}),
    (optim.SGD, {"lr": 0.05, "momentum": 0.9}),
    (optim.SGD, {"lr": 0.05, "momentum": 0.9, "dampening": 0.5, "weight_decay": 1e-2}),
    (optim.SGD, {"lr": 0.05, "momentum": 0.8, "nesterov": True, "weight_decay": 1e-2}),
    (optim.Adam, {"lr": 0.01}),
    (optim.Adam, {"lr": 0.01, "betas": (0.8, 0.99), "amsgrad": True, "weight_decay": 1e-2}),
    (optim.Adam, {"lr": 0.01, "weight_decay": 1e-2, "eps": 1e-6}),
    (optim.AdamW, {"lr": 0.01}),
    (optim.AdamW, {"lr": 0.01, "weight_decay": 0.1, "amsgrad": True}),
    (optim.RMSprop, {"lr": 0.01}),
    (optim.RMSprop, {"lr": 0.01, "momentum": 0.9, "centered": True}),
    (optim.RMSprop, {"lr": 0.005, "alpha": 0.9, "weight_decay": 1e-2, "momentum": 0.5}),
    (optim.Adagrad, {"lr": 0.1}),
    (optim.Adagrad, {"lr": 0.1, "lr_decay": 0.01, "weight_decay": 1e-2,
                     "initial_accumulator_value": 0.1}),
]  # fmt: skip
IDS = [f"{cls.__name__}-{i}" for i, (cls, _) in enumerate(CASES)]


def make(cls, options, dtype, seed=0, **extra):
    rng = np.random.default_rng(seed)
    groups = []
    for gi, shapes in enumerate(SHAPES):
        params = [
            sn.Tensor(rng.standard_normal(s), dtype=dtype, requires_grad=True) for s in shapes
        ]
        group = {"params": params}
        if gi == 1:  # its own lr and weight decay
            group["lr"] = options["lr"] * 0.5
            group["weight_decay"] = options.get("weight_decay", 0.0) + 0.03
        groups.append(group)
    return cls(groups, **options, **extra)


def params(opt):
    return [p for g in opt.param_groups for p in g["params"]]


def feed(flat_opt, flat, eager_opt, rng, scale=1.0):
    """The same random gradients: into the flat views, and as plain arrays to the twin."""
    for p, view, q in zip(params(flat_opt), flat.grads, params(eager_opt)):
        g = np.asarray(rng.standard_normal(p.shape) * scale, dtype=p.dtype)
        view[...] = g
        p.grad = view
        q.grad = g.copy()


def same(a, b):
    return type(a) is type(b) and a.dtype == b.dtype and a.shape == b.shape and (
        a.tobytes() == b.tobytes()
    )


def assert_same(flat_opt, eager_opt):
    for p, q in zip(params(flat_opt), params(eager_opt)):
        assert same(p.data, q.data)
        s, t = flat_opt.state.get(id(p)), eager_opt.state.get(id(q))
        assert (s is None) == (t is None)
        if s is not None:
            assert s.keys() == t.keys()
            for k in s:
                if isinstance(s[k], np.ndarray):
                    assert same(s[k], t[k]), k
                else:
                    assert s[k] == t[k] and type(s[k]) is type(t[k]), k
    a, b = flat_opt.state_dict(), eager_opt.state_dict()
    assert a["param_groups"] == b["param_groups"]
    assert a["state"].keys() == b["state"].keys()


def flat_pair(cls, options, dtype, **extra):
    eager = make(cls, options, dtype, **extra)
    flat_opt = copy.deepcopy(eager)
    flat = FlatStep.build(flat_opt)
    assert flat is not None and flat_opt._flat is flat
    assert all(p.dtype == dtype for p in params(flat_opt))
    for p, view in zip(params(flat_opt), flat.grads):
        assert p.data.flags.c_contiguous and view.shape == p.shape
    return flat_opt, flat, eager


# numba on and off where a kernel exists (Adam's); NumPy alone for the rest
KERNEL_CASES, KERNEL_IDS = [], []
for case, name in zip(CASES, IDS):
    for numba in (False, True) if case[0] in (optim.Adam, optim.AdamW) else (False,):
        KERNEL_CASES.append((*case, numba))
        KERNEL_IDS.append(f"{name}-{'numba' if numba else 'numpy'}")


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("cls, options, numba", KERNEL_CASES, ids=KERNEL_IDS)
def test_flat_step_is_bit_identical(cls, options, numba, dtype):
    if numba and not _numba.available():
        pytest.skip("numba is not installed")
    with _numba.use_kernels(numba):
        check_flat_against_eager(cls, options, dtype)


def check_flat_against_eager(cls, options, dtype):
    flat_opt, flat, eager = flat_pair(cls, options, dtype)
    rng = np.random.default_rng(1)
    schedules = [optim.StepLR(o, step_size=2, gamma=0.5) for o in (flat_opt, eager)]
    for _ in range(5):
        feed(flat_opt, flat, eager, rng)
        assert flat.step()
        eager.step()
        assert_same(flat_opt, eager)
        for s in schedules:
            s.step()
    assert flat_opt.param_groups[0]["lr"] < options["lr"]  # the schedule did change lr
    # a checkpoint from two steps back, into both: the flat step adopts the restored arrays
    saved = copy.deepcopy(eager.state_dict())
    for _ in range(2):
        feed(flat_opt, flat, eager, rng)
        flat_opt.step()
        eager.step()
    flat_opt.load_state_dict(saved)
    eager.load_state_dict(saved)
    for _ in range(2):
        feed(flat_opt, flat, eager, rng)
        assert flat.step()
        eager.step()
        assert_same(flat_opt, eager)


def test_optimizer_step_runs_the_flat_step():
    flat_opt, flat, eager = flat_pair(optim.Adam, {"lr": 0.01}, "float32")
    calls = []
    flat_opt.update = lambda *args: calls.append(args[0]) or optim.Adam.update(flat_opt, *args)
    feed(flat_opt, flat, eager, np.random.default_rng(0))
    flat_opt.step()
    eager.step()
    assert len(calls) == 2  # one update per group, not one per parameter
    assert_same(flat_opt, eager)


@pytest.mark.parametrize("cls, options", [CASES[2], CASES[5], CASES[11], CASES[13]])
def test_fallback_and_uneven_step_counts(cls, options):
    """A gradient that is not its view (or None) sends the step to the eager loop; the step
    counts then differ within a group, and the flat step updates runs of equal counts."""
    flat_opt, flat, eager = flat_pair(cls, options, "float64")
    rng = np.random.default_rng(2)
    feed(flat_opt, flat, eager, rng)
    flat_opt.param_groups[0]["params"][1].grad = flat.grads[1].copy()  # not the view
    assert not flat.step()
    flat_opt.step()
    eager.step()
    assert_same(flat_opt, eager)
    for _ in range(2):  # parameter 2 has no gradient: eager steps, state made for the rest
        feed(flat_opt, flat, eager, rng)
        flat_opt.param_groups[0]["params"][2].grad = None
        eager.param_groups[0]["params"][2].grad = None
        before = [p.data.copy() for p in params(flat_opt)]
        assert not flat.step()
        assert all(same(p.data, b) for p, b in zip(params(flat_opt), before))  # untouched
        flat_opt.step()
        eager.step()
        assert_same(flat_opt, eager)
    for _ in range(3):
        feed(flat_opt, flat, eager, rng)
        assert flat.step()
        eager.step()
        assert_same(flat_opt, eager)
    steps = [flat_opt.state[id(p)]["step"] for p in flat_opt.param_groups[0]["params"]]
    assert steps == [6, 6, 4, 6]
    for p, view in zip(params(flat_opt), [v for g in flat._groups for v in g.datas]):
        assert p.data is view
        for a in flat_opt.state[id(p)].values():
            if isinstance(a, np.ndarray):  # every state array is a view of a flat buffer
                assert a.base is not None and a.base.ndim == 1


@pytest.mark.parametrize("on_nonfinite", ["raise", "skip"])
@pytest.mark.parametrize("bad", [np.nan, np.inf, 3e38])
def test_nonfinite_gradient_is_reported_as_eagerly(on_nonfinite, bad):
    flat_opt, flat, eager = flat_pair(
        optim.SGD, {"lr": 0.1, "momentum": 0.9}, "float32", on_nonfinite=on_nonfinite
    )
    rng = np.random.default_rng(3)
    feed(flat_opt, flat, eager, rng)
    flat.step()
    eager.step()
    feed(flat_opt, flat, eager, rng)
    for o, grad in ((flat_opt, flat.grads[4]), (eager, eager.param_groups[1]["params"][0].grad)):
        grad[1] = bad
        grad[2] = bad  # 3e38 + 3e38 overflows the eager guard's float32 sum
        o.param_groups[1]["params"][0].grad = grad
    messages = []
    for o in (flat_opt, eager):
        # (the eager guard's float32 sum of 3e38s also warns of the overflow: not ours)
        with warnings.catch_warnings(record=True) as record:
            warnings.simplefilter("always")
            if on_nonfinite == "raise":
                with pytest.raises(optim.NonFiniteGradientError) as info:
                    o.step()
                messages.append(str(info.value))
            else:
                o.step()
                (message,) = [str(w.message) for w in record if "NaN or Inf" in str(w.message)]
                messages.append(message)
    assert messages[0] == messages[1] and "parameter 0 of group 1" in messages[0]
    assert_same(flat_opt, eager)


def test_large_finite_gradients_step_flat():
    """Squares overflow float32 (1e20**2) but every gradient's sum is finite: the eager guard
    passes, and so does the flat step (it asks the eager guard)."""
    flat_opt, flat, eager = flat_pair(optim.SGD, {"lr": 1e-30}, "float32")
    feed(flat_opt, flat, eager, np.random.default_rng(4), scale=1e20)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert flat.step()
        eager.step()
    assert_same(flat_opt, eager)


def test_replaced_data_or_state_and_copies():
    flat_opt, flat, eager = flat_pair(optim.Adam, {"lr": 0.01}, "float64")
    rng = np.random.default_rng(5)
    feed(flat_opt, flat, eager, rng)
    assert flat.step()
    eager.step()
    p0, q0 = flat_opt.param_groups[0]["params"][0], eager.param_groups[0]["params"][0]
    # a state array replaced by one that fits: copied in, its view registered
    flat_opt.state[id(p0)]["exp_avg"] = flat_opt.state[id(p0)]["exp_avg"] * 0.5
    eager.state[id(q0)]["exp_avg"] = eager.state[id(q0)]["exp_avg"] * 0.5
    feed(flat_opt, flat, eager, rng)
    assert flat.step()
    eager.step()
    assert_same(flat_opt, eager)
    assert flat_opt.state[id(p0)]["exp_avg"].base is flat._groups[0].state["exp_avg"]
    # one that does not fit (another dtype): the eager loop
    kept = flat_opt.state[id(p0)]["exp_avg"]
    flat_opt.state[id(p0)]["exp_avg"] = kept.astype(np.float32)
    feed(flat_opt, flat, eager, rng)
    assert not flat.step()
    flat_opt.state[id(p0)]["exp_avg"] = kept
    # p.data replaced: the eager loop, still correct
    p0.data = p0.data.copy()
    q0.data = q0.data.copy()
    feed(flat_opt, flat, eager, rng)
    assert not flat.step()
    flat_opt.step()
    eager.step()
    assert_same(flat_opt, eager)
    # a deep copy steps eagerly (its parameters are no longer views of one buffer)
    twin = copy.deepcopy(flat_opt)
    assert twin._flat is None


def test_build_declines():
    class MySGD(optim.SGD):
        pass

    rng = np.random.default_rng(6)

    def tensor(shape, dtype="float32", requires_grad=True):
        return sn.Tensor(rng.standard_normal(shape), dtype=dtype, requires_grad=requires_grad)

    assert FlatStep.build(MySGD([tensor(3)])) is None  # not an exact class it knows
    assert FlatStep.build(optim.SGD([tensor(3), tensor(2, "float64")])) is None  # two dtypes
    assert FlatStep.build(optim.SGD([tensor(3), tensor(2, requires_grad=False)])) is None
    a = tensor((2, 3))
    b = sn.Tensor(a.data[0], requires_grad=True)  # shares a's memory
    assert FlatStep.build(optim.SGD([a, b])) is None
    assert FlatStep.build(optim.SGD([a, a])) is None  # twice in one group
    opt = optim.SGD([tensor(3)])
    assert FlatStep.build(opt) is not None
    # separate dtypes in separate groups are fine
    mixed = optim.Adam([{"params": [tensor(3)]}, {"params": [tensor(2, "float64")]}])
    assert FlatStep.build(mixed) is not None


def test_sgd_momentum_of_a_0d_parameter_with_weight_decay():
    """grad + wd * p of a 0-d parameter is a NumPy scalar: the momentum buffer made from it
    must still be an array updated in place (a scalar's copy kept the first step's value).
    The expected values are PyTorch's SGD, written out in Python floats."""
    p = sn.Tensor(np.array(0.5), dtype="float64", requires_grad=True)
    opt = optim.SGD([p], lr=0.1, momentum=0.9, weight_decay=0.1)
    w, v = 0.5, None
    for g in (1.0, -2.0, 0.5):
        p.grad = np.array(g)
        opt.step()
        d = g + 0.1 * w
        v = d if v is None else 0.9 * v + d
        w -= 0.1 * v
    assert isinstance(opt.state[id(p)]["momentum_buffer"], np.ndarray)
    assert float(opt.state[id(p)]["momentum_buffer"]) == v
    assert float(p.data) == w


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_gradient_check_numba_and_numpy_agree(dtype, kernels):
    """The flat step's whole-buffer check, |x| <= limit for all (NaN: no), says the same with
    the numba loop and with NumPy's max of |x|, at and around the limit."""
    from sinapsi.optim.flat import _within

    limit = float(np.finfo(dtype).max) / 400.0
    base = np.linspace(-1.0, 1.0, 37).astype(dtype)
    cases = {np.nan: False, np.inf: False, -np.inf: False, 0.0: True}
    edge = np.array(limit, dtype=dtype)
    if float(edge) > limit:  # limit is not a float32 number: its neighbour below is inside
        edge = np.nextafter(edge, np.array(0, dtype))
    cases.update({float(edge): True, -float(edge): True})
    cases[float(np.nextafter(edge, np.array(np.inf, dtype)))] = False
    cases[-float(np.nextafter(edge, np.array(np.inf, dtype)))] = False
    for value, expected in cases.items():
        a = base.copy()
        a[17] = value
        assert _within(a, limit, np.empty_like(a)) is expected, value
        if kernels:  # the loop itself (_within takes it only for 2**16 elements or more)
            assert _numba.all_within(a, limit) is expected, value
    assert _within(np.zeros(0, dtype), limit, np.zeros(0, dtype))
    assert (_numba.all_within(base, limit) is None) != kernels  # the kernel ran, or NumPy


@pytest.mark.parametrize("cls, options", [CASES[1], CASES[5], CASES[10]])
def test_the_generated_check_takes_only_the_usual_step(cls, options):
    """The group's generated check (one update of the whole buffer) answers for the usual step
    and hands everything else to the per-parameter signatures: a step count of another type
    or value, a state array replaced (adopted), a state dict or key removed; every step
    stays byte-equal to the eager loop."""
    flat_opt, flat, eager = flat_pair(cls, options, "float64")
    rng = np.random.default_rng(4)
    taken = []
    for grp in flat._groups:
        grp.check = None
    original = flat._signatures
    flat._signatures = lambda *a: taken.append("loop") or original(*a)

    def step():
        feed(flat_opt, flat, eager, rng)
        assert flat.step()
        eager.step()
        assert_same(flat_opt, eager)

    for _ in range(3):
        step()
    assert taken == ["loop"] * 2  # the first step (no state yet), one loop per group
    assert all(grp.check is not None for grp in flat._groups)
    del taken[:]
    p0 = flat_opt.param_groups[0]["params"][0]
    q0 = eager.param_groups[0]["params"][0]
    edits = [
        lambda s: s.__setitem__("step", float(s["step"])),  # a count of another type
        lambda s: s.__setitem__("step", s["step"] + 2),  # uneven counts: runs
    ]
    key = next(k for k in flat._keys if k in flat_opt.state[id(p0)])
    edits.append(lambda s: s.__setitem__(key, s[key].copy()))  # replaced: adopted
    for edit in edits:
        edit(flat_opt.state[id(p0)])
        edit(eager.state[id(q0)])
        step()
        assert "loop" in taken
        del taken[:]
    step()  # after the uneven counts the loop still decides (runs), bit for bit
