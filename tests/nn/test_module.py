"""Module system: registration, traversal, modes, state_dict, containers, repr, summary."""

import numpy as np
import pytest

import sinapsi as sn
from sinapsi import nn


class TwoLayer(nn.Module):
    def __init__(self):
        super().__init__()
        self.hidden = nn.Linear(3, 4, rng=0)
        self.blocks = [nn.Linear(4, 4, rng=1), nn.Dropout(0.5, rng=2)]  # a plain list
        self.out = nn.Linear(4, 2, rng=3)
        self.scale = 2.0  # a plain attribute

    def forward(self, x):
        h = sn.relu(self.hidden(x))
        for block in self.blocks:
            h = block(h)
        return self.out(h) * self.scale


def test_parameters_are_found_by_attribute_registration_in_order():
    m = TwoLayer()
    names = [n for n, _ in m.named_parameters()]
    assert names == [
        "hidden.weight", "hidden.bias", "blocks.0.weight", "blocks.0.bias",
        "out.weight", "out.bias",
    ]  # fmt: skip
    assert isinstance(m.blocks, nn.ModuleList)  # the plain list was registered, not lost
    assert m.num_parameters() == 3 * 4 + 4 + 4 * 4 + 4 + 4 * 2 + 2
    assert m.scale == 2.0


def test_mixed_list_and_missing_super_init_are_clear_errors():
    class Mixed(nn.Module):
        def __init__(self):
            super().__init__()
            self.parts = [nn.Linear(2, 2), "not a module"]

    with pytest.raises(TypeError, match=r"Mixed.parts: a list mixing modules .* nn.ModuleList"):
        Mixed()

    class Forgot(nn.Module):
        def __init__(self):
            self.layer = nn.Linear(2, 2)

    with pytest.raises(AttributeError, match=r"Call super\(\).__init__\(\) as the first statement"):
        Forgot()


def test_a_plain_tensor_that_wants_gradients_must_be_a_parameter():
    m = nn.Module()
    with pytest.raises(TypeError, match=r"Module.w: a plain Tensor .* nn.Parameter\(data\)"):
        m.w = sn.tensor([1.0], requires_grad=True)
    m.w = nn.Parameter([1.0])
    m.constant = sn.tensor([2.0])  # no gradient wanted: a plain attribute
    assert [n for n, _ in m.named_parameters()] == ["w"]


def test_shared_parameters_are_listed_once():
    a = nn.Linear(2, 2, rng=0)
    m = nn.Sequential(a, nn.ReLU(), a)
    assert len(list(m.parameters())) == 2


def test_train_eval_reach_every_submodule_and_zero_grad_clears():
    m = TwoLayer()
    m.eval()
    assert all(not sub.training for sub in m.modules())
    m.train()
    assert all(sub.training for sub in m.modules())
    m(sn.tensor(np.ones((5, 3)))).sum().backward()
    assert all(p.grad is not None for p in m.parameters())
    m.zero_grad()
    assert all(p.grad is None for p in m.parameters())


def test_state_dict_round_trip_gives_identical_outputs():
    m1, m2 = TwoLayer(), TwoLayer()
    for p in m2.parameters():
        p.data[...] = 0.123
    m1.eval(), m2.eval()
    x = sn.tensor(np.random.default_rng(0).standard_normal((4, 3)))
    state = m1.state_dict()
    m2.load_state_dict(state)
    np.testing.assert_array_equal(m1(x).data, m2(x).data)
    # state_dict holds copies: training afterwards does not change it
    before = state["out.weight"].copy()
    m1.out.weight.data += 1.0
    np.testing.assert_array_equal(state["out.weight"], before)


def test_load_state_dict_reports_every_problem_at_once():
    m = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4))
    state = m.state_dict()
    del state["0.bias"]
    state["1.extra"] = np.zeros(2)
    state["0.weight"] = np.zeros((5, 3))
    with pytest.raises(nn.StateDictError) as info:
        m.load_state_dict(state)
    message = str(info.value)
    assert "missing keys: 0.bias" in message
    assert "unexpected keys: 1.extra" in message
    assert "0.weight: expected shape (4, 3), got (5, 3)" in message


def test_load_state_dict_not_strict_skips_missing_and_unexpected():
    m = nn.Linear(2, 2, rng=0)
    m.load_state_dict({"weight": np.ones((2, 2)), "junk": np.ones(1)}, strict=False)
    np.testing.assert_array_equal(m.weight.data, np.ones((2, 2)))


def test_load_state_dict_updates_in_place_so_optimizers_keep_their_references():
    m = nn.Linear(2, 2, rng=0)
    ref = m.weight.data
    m.load_state_dict({"weight": np.full((2, 2), 7.0), "bias": np.zeros(2)})
    assert ref is m.weight.data and (ref == 7.0).all()


def test_buffers_are_saved_and_restored():
    bn = nn.BatchNorm1d(3)
    bn(sn.tensor(np.random.default_rng(0).standard_normal((8, 3)) + 5.0))
    state = bn.state_dict()
    assert int(state["num_batches_tracked"]) == 1
    fresh = nn.BatchNorm1d(3).load_state_dict(state)
    np.testing.assert_array_equal(fresh.running_mean, bn.running_mean)
    assert int(fresh.num_batches_tracked) == 1


def test_sequential_is_indexable_iterable_and_appendable():
    s = nn.Sequential(nn.Linear(2, 3), nn.ReLU())
    s.append(nn.Linear(3, 1))
    assert len(s) == 3 and isinstance(s[0], nn.Linear) and isinstance(s[-1], nn.Linear)
    assert [type(layer).__name__ for layer in s] == ["Linear", "ReLU", "Linear"]
    assert isinstance(s[:2], nn.Sequential) and len(s[:2]) == 2
    assert s(sn.tensor(np.ones((4, 2)))).shape == (4, 1)
    with pytest.raises(TypeError, match="append needs a Module"):
        s.append(lambda x: x)


def test_repr_shows_the_structure():
    s = nn.Sequential(nn.Linear(2, 3, init="he"), nn.ReLU(), nn.Dropout(0.1))
    assert repr(s) == (
        "Sequential(\n"
        "  (0): Linear(in_features=2, out_features=3, bias=True, init='he')\n"
        "  (1): ReLU()\n"
        "  (2): Dropout(p=0.1)\n"
        ")"
    )


def test_summary_lists_layers_shapes_and_parameter_counts():
    s = nn.Sequential(nn.Linear(784, 256), nn.BatchNorm1d(256), nn.ReLU(), nn.Linear(256, 10))
    s[1].requires_grad_(False)  # a frozen layer
    text = s.summary((784,), print_fn=None)
    lines = text.splitlines()
    assert any("Linear" in line and "(None, 256)" in line and "200,960" in line for line in lines)
    assert any("BatchNorm1d" in line and "512" in line and line.endswith("no") for line in lines)
    assert any("(None, 10)" in line and "2,570" in line for line in lines)
    assert "Total params: 204,042" in text
    assert "Trainable params: 203,530" in text and "Non-trainable params: 512" in text
    assert s.training  # summary restores the mode


def test_summary_with_a_wrong_input_shape_explains():
    with pytest.raises(ValueError, match=r"summary: running a batch of shape \(2, 5\)"):
        nn.Sequential(nn.Linear(784, 10)).summary((5,), print_fn=None)


def test_forward_hooks_run_and_can_be_removed():
    seen = []
    layer = nn.Linear(2, 2)
    remove = layer.register_forward_hook(lambda m, inputs, out: seen.append(out.shape))
    layer(sn.tensor(np.ones((3, 2))))
    remove()
    layer(sn.tensor(np.ones((3, 2))))
    assert seen == [(3, 2)]


def test_freeze_and_astype():
    m = nn.Sequential(nn.Linear(2, 2), nn.BatchNorm1d(2))
    m.requires_grad_(False)
    assert not any(p.requires_grad for p in m.parameters())
    m.astype("float64")
    assert all(p.dtype == np.float64 for p in m.parameters())
    assert m[1].running_mean.dtype == np.float64
    assert m[1].num_batches_tracked.dtype == np.int64


def test_the_mode_survives_pickle_and_copy_and_old_pickles_load():
    import copy
    import pickle

    model = nn.Sequential(nn.Linear(2, 3, rng=0), nn.Dropout(0.5, rng=1)).eval()
    for clone in (pickle.loads(pickle.dumps(model)), copy.deepcopy(model)):
        assert not clone.training and not clone[1].training
    old = nn.Dropout(0.5, rng=1)  # as pickled before the flag became a property
    state = dict(old.__dict__)
    state["training"] = state.pop("_training")
    restored = nn.Dropout.__new__(nn.Dropout)
    restored.__setstate__(state)
    assert restored.training is True and "training" not in restored.__dict__
