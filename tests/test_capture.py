"""sinapsi.capture's engine: record, check, replay, fall back, capture again.

These tests build their network from ops defined here (each with a replay), so that they test the
engine alone; tests/test_capture_layers.py runs the library's layers, losses and optimizers.
"""

import copy
import sys

import numpy as np
import pytest

import sinapsi as sn
from sinapsi import nn
from sinapsi.autograd import make_result
from sinapsi.capture import CapturedStep, CaptureNotice


def _linear(x, w, b):
    data = x.data @ w.data.T
    data += b.data

    def backward(g):
        return g @ w.data, g.T @ x.data, g.sum(axis=0)

    def replay():
        np.matmul(x.data, w.data.T, out=data)
        np.add(data, b.data, out=data)

    return make_result(data, "t_linear", (x, w, b), backward, replay)


def _tanh(x, faithful=True):
    y = np.tanh(x.data)

    def replay():
        if faithful:
            np.tanh(x.data, out=y)

    return make_result(y, "t_tanh", (x,), lambda g: (g * (1.0 - y * y),), replay)


def _mse(out, target):
    diff = out.data - target
    data = np.asarray(np.mean(diff * diff))

    def backward(g):
        return (g * (2.0 / diff.size) * diff,)

    def replay():
        np.subtract(out.data, target, out=diff)
        data[...] = np.mean(diff * diff)

    return make_result(data, "t_mse", (out,), backward, replay)


class Dense(nn.Module):
    def __init__(self, n_in, n_out, seed):
        super().__init__()
        rng = np.random.default_rng(seed)
        self.weight = nn.Parameter(rng.standard_normal((n_out, n_in)) * 0.5)
        self.bias = nn.Parameter(rng.standard_normal(n_out) * 0.1)

    def forward(self, x):
        return _linear(x, self.weight, self.bias)


class Tanh(nn.Module):
    def __init__(self, faithful=True):
        super().__init__()
        self.faithful = faithful

    def forward(self, x):
        return _tanh(x, self.faithful)


class Doubling(nn.Module):
    """Scales by 2 in training mode only: a module whose graph depends on the mode."""

    def forward(self, x):
        return _linear_scale(x, 2.0) if self.training else x


def _linear_scale(x, k):
    y = x.data * k

    def replay():
        np.multiply(x.data, k, out=y)

    return make_result(y, "t_scale", (x,), lambda g: (g * k,), replay)


def _net(faithful=True, seed=0):
    return nn.Sequential(Dense(3, 5, seed), Tanh(faithful), Dense(5, 2, seed + 1))


def _batches(n, size=4, seed=1):
    rng = np.random.default_rng(seed)
    return [(rng.standard_normal((size, 3)), rng.standard_normal((size, 2))) for _ in range(n)]


def _eager_step(model, opt, x, y):
    opt.zero_grad()
    loss = _mse(model(sn.tensor(x)), y)
    loss.backward()
    opt.step()
    return loss.data.copy()


def _same_weights(a, b):
    for p, q in zip(a.parameters(), b.parameters()):
        np.testing.assert_array_equal(p.data, q.data)


def _pair(opt_class=sn.optim.SGD, **kw):
    with sn.default_dtype("float64"):
        model = _net()
    twin = copy.deepcopy(model)
    return model, opt_class(model.parameters(), **kw), twin, opt_class(twin.parameters(), **kw)


@pytest.mark.parametrize(
    "opt_class, kw",
    [(sn.optim.SGD, {"lr": 0.1, "momentum": 0.9}), (sn.optim.Adam, {"lr": 0.01})],
)
def test_captured_steps_equal_eager_steps_bit_for_bit(opt_class, kw):
    model, opt, twin, twin_opt = _pair(opt_class, **kw)
    step = sn.capture(model, _mse, opt)
    for i, (x, y) in enumerate(_batches(6)):
        loss = step(x, y)
        expected = _eager_step(twin, twin_opt, x, y)
        np.testing.assert_array_equal(loss.data, expected)
        _same_weights(model, twin)
        assert step.captured == (i >= 1)  # recorded, then checked and kept
    assert step.reason is None


def test_a_new_batch_shape_is_captured_again_and_both_stay_exact():
    model, opt, twin, twin_opt = _pair(lr=0.05)
    step = sn.capture(model, _mse, opt)
    for i, size in enumerate([4, 4, 3, 3, 4, 1, 3]):
        x, y = _batches(1, size, seed=i)[0]
        np.testing.assert_array_equal(step(x, y).data, _eager_step(twin, twin_opt, x, y))
        _same_weights(model, twin)
    assert len(step._plans) == 3


def test_the_loss_returned_is_a_detached_copy():
    model, opt, _, _ = _pair(lr=0.1)
    step = sn.capture(model, _mse, opt)
    losses = [step(x, y) for x, y in _batches(4)]
    values = [float(v) for v in losses]
    assert len(set(values)) == 4 and not any(v.requires_grad for v in losses)
    assert step.output.shape == (4, 2)


def test_without_an_optimizer_the_gradients_are_left_in_grad():
    with sn.default_dtype("float64"):
        model = _net()
    twin = copy.deepcopy(model)
    step = sn.capture(model, _mse)
    for x, y in _batches(3):
        step(x, y)
        twin.zero_grad()
        _mse(twin(sn.tensor(x)), y).backward()
        for p, q in zip(model.parameters(), twin.parameters()):
            np.testing.assert_array_equal(p.grad, q.grad)
    assert step.captured


def test_an_op_without_replay_runs_eagerly_with_one_notice():
    model, opt, twin, twin_opt = _pair(lr=0.1)

    step = sn.capture(model, _no_replay_mse, opt)
    with pytest.warns(CaptureNotice, match="op 't_plain' has no replay") as notices:
        for x, y in _batches(4):
            np.testing.assert_array_equal(
                step(x, y).data, _eager_step_with(twin, twin_opt, x, y, _no_replay_mse)
            )
    assert len(notices) == 1 and not step.captured
    _same_weights(model, twin)


def _no_replay_mse(out, target):
    diff = out.data - target
    return make_result(
        np.asarray(np.mean(diff * diff)), "t_plain", (out,), lambda g: (g * 2 * diff / diff.size,)
    )


def _eager_step_with(model, opt, x, y, loss_fn):
    opt.zero_grad()
    loss = loss_fn(model(sn.tensor(x)), y)
    loss.backward()
    opt.step()
    return loss.data.copy()


def test_a_forward_that_reads_a_value_into_python_is_not_captured():
    class Reads(nn.Module):
        def __init__(self):
            super().__init__()
            self.a, self.b = Dense(3, 2, 0), Dense(3, 2, 1)

        def forward(self, x):
            h = self.a(x)
            return self.b(x) if _tanh(h).numpy()[0, 0] > 0 else h  # data-dependent branch

    with sn.default_dtype("float64"):
        model = Reads()
    opt = sn.optim.SGD(model.parameters(), lr=0.1)
    step = sn.capture(model, _mse, opt)
    with pytest.warns(CaptureNotice, match=r"reads a tensor's value into Python \(Tensor.numpy"):
        for x, y in _batches(3):
            step(x, y)
    assert not step.captured


def test_a_replay_that_disagrees_is_caught_by_the_check_and_dropped():
    with sn.default_dtype("float64"):
        model = _net(faithful=False)
    twin = copy.deepcopy(model)
    opt, twin_opt = (
        sn.optim.SGD(model.parameters(), lr=0.1),
        sn.optim.SGD(twin.parameters(), lr=0.1),
    )
    step = sn.capture(model, _mse, opt)
    with pytest.warns(CaptureNotice, match="differs from the eager step"):
        for x, y in _batches(4):
            np.testing.assert_array_equal(step(x, y).data, _eager_step(twin, twin_opt, x, y))
            _same_weights(model, twin)
    assert not step.captured


def test_train_and_eval_modes_are_captured_apart():
    with sn.default_dtype("float64"):
        model = nn.Sequential(Dense(3, 2, 0), Doubling())
    twin = copy.deepcopy(model)
    opt, twin_opt = (
        sn.optim.SGD(model.parameters(), lr=0.1),
        sn.optim.SGD(twin.parameters(), lr=0.1),
    )
    step = sn.capture(model, _mse, opt)
    for i, (x, y) in enumerate(_batches(8)):
        mode = i % 4 < 2
        model.train(mode)
        twin.train(mode)
        np.testing.assert_array_equal(step(x, y).data, _eager_step(twin, twin_opt, x, y))
        _same_weights(model, twin)


def test_a_changed_model_or_replaced_weights_are_captured_again():
    model, opt, twin, twin_opt = _pair(lr=0.1)
    step = sn.capture(model, _mse, opt)
    batches = _batches(8)
    for x, y in batches[:3]:
        step(x, y)
        _eager_step(twin, twin_opt, x, y)
    with sn.default_dtype("float64"):
        fresh = Dense(5, 2, 7)
    setattr(model, "2", fresh)  # Sequential keeps its layers under "0", "1", ...
    setattr(twin, "2", copy.deepcopy(fresh))
    opt.add_param_group({"params": list(fresh.parameters())})
    twin_opt.add_param_group({"params": list(getattr(twin, "2").parameters())})
    for x, y in batches[3:5]:
        np.testing.assert_array_equal(step(x, y).data, _eager_step(twin, twin_opt, x, y))
        _same_weights(model, twin)
    first = next(iter(model.parameters()))
    first.data = first.data.copy()  # a new array: what the recording holds is stale
    for x, y in batches[5:]:
        np.testing.assert_array_equal(step(x, y).data, _eager_step(twin, twin_opt, x, y))
        _same_weights(model, twin)


def test_bad_arguments_say_what_to_pass():
    with pytest.raises(TypeError, match="must be callable"):
        sn.capture(_net(), "mse")


def test_a_forward_hook_keeps_the_step_eager_so_the_hook_runs_every_step():
    model, opt, twin, twin_opt = _pair(lr=0.1)
    step = sn.capture(model, _mse, opt)
    batches = _batches(6)
    for x, y in batches[:3]:
        step(x, y)
        _eager_step(twin, twin_opt, x, y)
    assert step.captured
    calls = []
    remove = model[1].register_forward_hook(lambda m, i, o: calls.append(1))
    with pytest.warns(CaptureNotice, match="Tanh has a forward hook"):
        for x, y in batches[3:5]:
            np.testing.assert_array_equal(step(x, y).data, _eager_step(twin, twin_opt, x, y))
    assert len(calls) == 2 and not step.captured
    remove()
    x, y = batches[5]
    for _ in range(3):  # the hook gone: recorded, checked, replayed again
        np.testing.assert_array_equal(step(x, y).data, _eager_step(twin, twin_opt, x, y))
    assert step.captured
    _same_weights(model, twin)


def test_fit_by_default_leaves_a_model_with_its_own_forward_eager(monkeypatch):
    replayed = []
    monkeypatch.setattr(CapturedStep, "_replay", lambda self, plan: replayed.append(1))
    with sn.default_dtype("float64"):
        model = _net()
    x, y = _batches(1, size=8)[0]
    sn.fit(model, x, y, loss="mse", epochs=2, batch_size=4, verbose=0)
    assert replayed == []  # Dense and Tanh here have forwards of their own


def _add(a, b):
    data = a.data + b.data

    def replay():
        np.add(a.data, b.data, out=data)

    return make_result(data, "t_add", (a, b), lambda g: (g, g), replay)


class Branchy(nn.Module):
    """One node feeding two ops and one weight used twice: gradients that accumulate in a slot
    of the walk and in a leaf's buffer."""

    def __init__(self):
        super().__init__()
        self.first, self.second = Dense(3, 5, 0), Dense(5, 2, 1)

    def forward(self, x):
        h = _tanh(self.first(x))
        return _add(self.second(h), self.second(_tanh(h)))


@pytest.mark.parametrize("compiled", [True, False])
def test_the_walk_compiled_or_looped_accumulates_as_the_eager_one(monkeypatch, compiled):
    capture_module = sys.modules["sinapsi.capture"]  # (sinapsi.capture is also the function)
    if not compiled:  # the loop that walks graphs too long to compile
        monkeypatch.setattr(capture_module, "_COMPILE_UP_TO", 0)
    with sn.default_dtype("float64"):
        model = Branchy()
    twin = copy.deepcopy(model)
    opt = sn.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    twin_opt = sn.optim.SGD(twin.parameters(), lr=0.1, momentum=0.9)
    step = sn.capture(model, _mse, opt)
    for x, y in _batches(5):
        np.testing.assert_array_equal(step(x, y).data, _eager_step(twin, twin_opt, x, y))
        _same_weights(model, twin)
    assert step.captured
    (plan,) = step._plans.values()
    assert (plan.walk is not None) == compiled
