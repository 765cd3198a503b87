"""The playground's frames: heat maps, neuron thumbnails, weights and the gradient diagnosis."""

import base64

import numpy as np
import pytest

import sinapsi as sn
from sinapsi import nn
from sinapsi.experiment import build_mlp
from sinapsi.playground.frames import FrameBuilder, dead_fractions, diagnose, grad_norms

SEVEN = ["x1", "x2", "x1^2", "x2^2", "x1*x2", "sin(x1)", "sin(x2)"]


def _decode(b64: str, side: int) -> np.ndarray:
    return np.frombuffer(base64.b64decode(b64), dtype=np.uint8).reshape(side, side)


def _encode(values: np.ndarray) -> np.ndarray:
    return np.rint((np.clip(values, -1, 1) + 1) / 2 * 255).astype(np.uint8)


def _plane(n: int, lo: float = -6.0, hi: float = 6.0) -> np.ndarray:
    """(n*n, 2) points, row-major, row 0 = the largest x2, column 0 = the smallest x1."""
    xs = np.linspace(lo, hi, n)
    x1, x2 = np.meshgrid(xs, xs[::-1])
    return np.stack([x1.ravel(), x2.ravel()], axis=1)


def _linear(weights, bias=0.0) -> nn.Sequential:
    layer = nn.Linear(len(weights), 1)
    with sn.no_grad():
        layer.weight.data[...] = np.asarray([weights], dtype=layer.weight.dtype)
        layer.bias.data[...] = bias
    return nn.Sequential(layer)


# ------------------------------------------------------------------------------ encoding
def test_output_x2_is_bright_on_top_and_x1_bright_on_the_right():
    fb = FrameBuilder(_linear([0.0, 1.0]), ["x1", "x2"], (-1.0, 1.0), "regression", grid=10)
    out = _decode(fb.frame(_linear([0.0, 1.0]))["output"], 10)
    assert (out[0] == 255).all() and (out[-1] == 0).all()
    assert (np.diff(out.astype(int), axis=0) <= 0).all()  # darker going down
    out = _decode(fb.frame(_linear([1.0, 0.0]))["output"], 10)
    assert (out[:, 0] == 0).all() and (out[:, -1] == 255).all()


def test_values_are_clipped_to_the_ends_of_the_scale():
    fb = FrameBuilder(_linear([0.0, 1.0]), ["x1", "x2"], (-6.0, 6.0), "regression", grid=12)
    out = _decode(fb.frame(_linear([0.0, 1.0]))["output"], 12)
    assert (out[0] == 255).all() and (out[-1] == 0).all()  # x2 = +-6 clipped to +-1


def test_output_and_neurons_match_a_direct_forward():
    model = build_mlp(2, [4, 2], 2, activation="tanh", init="xavier", rng=3)
    fb = FrameBuilder(model, ["x1", "x2"], (-6.0, 6.0), "classification", grid=30, thumb=7)
    f = fb.frame(model)
    assert f["g"] == 7
    with nn.training_mode(False), sn.no_grad():
        logits = model(sn.tensor(_plane(30), dtype=np.float32)).numpy().astype(np.float64)
        p1 = np.exp(logits[:, 1]) / np.exp(logits).sum(axis=1)
        thumb = sn.tensor(_plane(7), dtype=np.float32)
        h1 = model[1](model[0](thumb))
        h2 = model[3](model[2](h1))
    got = _decode(f["output"], 30).astype(int)
    assert np.abs(got - _encode(p1 * 2 - 1).reshape(30, 30)).max() <= 1
    assert len(f["neurons"]) == 2 and [len(layer) for layer in f["neurons"]] == [4, 2]
    for maps, h in zip(f["neurons"], (h1.numpy(), h2.numpy())):
        for j, b64 in enumerate(maps):
            expected = _encode(h[:, j]).reshape(7, 7).astype(int)
            assert np.abs(_decode(b64, 7).astype(int) - expected).max() <= 1


def test_regression_output_is_the_prediction():
    model = build_mlp(2, [3], 1, activation="tanh", init="xavier", rng=1)
    fb = FrameBuilder(model, ["x1", "x2"], (-2.0, 2.0), "regression", grid=9)
    with nn.training_mode(False):
        pred = model(sn.tensor(_plane(9, -2, 2), dtype=np.float32)).numpy()[:, 0]
    got = _decode(fb.frame(model)["output"], 9).astype(int)
    assert np.abs(got - _encode(pred).reshape(9, 9)).max() <= 1


def test_neuron_count_per_layer_with_batch_norm_and_dropout():
    model = build_mlp(7, [8, 5, 3], 2, activation="relu", batch_norm=True, dropout=0.3, rng=0)
    fb = FrameBuilder(model, SEVEN, (-6.0, 6.0), "classification")
    f = fb.frame(model)
    assert [len(layer) for layer in f["neurons"]] == [8, 5, 3]
    assert all(len(base64.b64decode(m)) == 20 * 20 for layer in f["neurons"] for m in layer)
    assert len(base64.b64decode(f["output"])) == 100 * 100
    assert [np.shape(w) for w in f["weights"]] == [(8, 7), (5, 8), (3, 5), (2, 3)]
    assert [len(b) for b in f["biases"]] == [8, 5, 3, 2]


def test_weights_are_python_floats_with_four_significant_digits():
    model = build_mlp(2, [4], 2, activation="tanh", rng=0)
    f = FrameBuilder(model, ["x1", "x2"], (-6.0, 6.0), "classification").frame(model)
    w = model[0].weight.numpy()
    for r in range(4):
        for c in range(2):
            v = f["weights"][0][r][c]
            assert type(v) is float and v == float(f"{w[r, c]:.4g}")
    assert all(type(b) is float for b in f["biases"][1])


def test_rounding_matches_python_formatting_over_many_magnitudes():
    model = build_mlp(2, [40], 5, activation="tanh", rng=0)
    r = np.random.default_rng(7)
    w = r.normal(size=(40, 2)) * 10.0 ** r.uniform(-8, 8, size=(40, 2))
    w[0, 0], w[1, 1], w[2, 0] = 0.0, -0.0, 9999.9
    with sn.no_grad():
        model[0].weight.data[...] = w
    f = FrameBuilder(model, ["x1", "x2"], (-6.0, 6.0), "classification").frame(model)
    expected = [[float(f"{v:.4g}") for v in row] for row in model[0].weight.numpy().tolist()]
    assert f["weights"][0] == expected


def test_non_finite_weights_give_a_frame_with_null_weights_and_no_warning():
    model = build_mlp(2, [3], 2, activation="tanh", rng=0)
    fb = FrameBuilder(model, ["x1", "x2"], (-6.0, 6.0), "classification", grid=5, thumb=4)
    with sn.no_grad():
        model[0].weight.data[0, 0] = np.nan
        model[2].weight.data[0, 0] = np.inf
    f = fb.frame(model)  # RuntimeWarnings are errors in the tests
    assert f["weights"][0][0][0] is None and f["weights"][1][0][0] is None
    assert len(base64.b64decode(f["output"])) == 25


def test_input_maps_scale_each_feature_by_its_largest_value():
    model = build_mlp(7, [2], 2, rng=0)
    maps = FrameBuilder(model, SEVEN, (-6.0, 6.0), "classification", thumb=5).input_maps()
    assert len(maps) == 7
    x1, x2, x1sq = (_decode(m, 5) for m in maps[:3])
    assert (x1[:, 0] == 0).all() and (x1[:, -1] == 255).all() and (x1[:, 2] == 128).all()
    assert (x2[0] == 255).all() and (x2[-1] == 0).all()
    assert x1sq[0, 0] == 255 and x1sq[0, 2] == 128  # 36 / 36 -> +1, 0 / 36 -> 0
    top = np.abs(np.sin(np.linspace(-6, 6, 100))).max()  # on the output grid's points
    expected = _encode(np.sin(np.linspace(-6, 6, 5)) / top)
    assert (_decode(maps[5], 5) == expected).all()


# ------------------------------------------------------------------------------ not perturbing
class _Frames(sn.train.Callback):
    def __init__(self, fb: FrameBuilder) -> None:
        self.fb, self.count = fb, 0

    def on_batch_end(self, batch, logs):  # mid-epoch too: inside fit's training_mode(True)
        assert self.trainer.model[0].training
        self.fb.frame(self.trainer.model)
        self.fb.input_maps()
        self.count += 1


def _train(with_frames: bool):
    x = np.random.default_rng(0).uniform(-6, 6, size=(64, 2))
    y = (x[:, 0] * x[:, 1] > 0).astype(np.int64)
    model = build_mlp(2, [6, 4], 2, activation="relu", batch_norm=True, dropout=0.2, rng=5)
    callbacks = []
    if with_frames:
        callbacks = [_Frames(FrameBuilder(model, ["x1", "x2"], (-6.0, 6.0), "classification"))]
    sn.fit(model, x, y, optimizer="sgd", lr=0.1, epochs=3, batch_size=8, seed=1,
           callbacks=callbacks, verbose=0)  # fmt: skip
    assert not with_frames or callbacks[0].count == 24
    return model


def test_frames_change_neither_weights_nor_running_statistics_nor_rng():
    plain, watched = _train(False), _train(True)
    a, b = plain.state_dict(), watched.state_dict()
    assert a.keys() == b.keys() and any("running_mean" in k for k in a)
    for k in a:
        np.testing.assert_array_equal(np.asarray(a[k]), np.asarray(b[k]), err_msg=k)


def test_a_frame_leaves_the_rng_the_mode_and_autograd_as_they_were():
    model = build_mlp(2, [4], 2, activation="relu", batch_norm=True, dropout=0.5, rng=0)
    fb = FrameBuilder(model, ["x1", "x2"], (-6.0, 6.0), "classification")
    global_rng = np.random.get_state()[1].copy()  # noqa: NPY002 - the legacy one
    drop_rng = model[3].rng.bit_generator.state
    running = np.array(model[1].running_mean)
    with nn.training_mode(True):
        fb.frame(model)
        assert model[1].training and sn.is_grad_enabled()
    assert (np.random.get_state()[1] == global_rng).all()  # noqa: NPY002
    assert model[3].rng.bit_generator.state == drop_rng
    np.testing.assert_array_equal(np.asarray(model[1].running_mean), running)
    assert all(p.grad is None for p in model.parameters())


class _Spy(nn.Tanh):
    seen: list = []

    def forward(self, x):
        self.seen.append((sn.is_grad_enabled(), self.training))
        return super().forward(x)


def test_the_forward_pass_runs_in_eval_mode_without_autograd():
    model = nn.Sequential(nn.Linear(2, 3), _Spy(), nn.Linear(3, 2))
    fb = FrameBuilder(model, ["x1", "x2"], (-6.0, 6.0), "classification")
    with nn.training_mode(True):
        fb.frame(model)
        dead_fractions(model, np.zeros((4, 2), dtype=np.float32))
    assert _Spy.seen == [(False, False), (False, False)]  # one pass each


# ------------------------------------------------------------------------------ errors
@pytest.mark.parametrize(
    "kwargs, words",
    [
        ({"features": ["x1", "x3"]}, "x3"),
        ({"features": ["x1", "x1"]}, "twice"),
        ({"features": ["x1"]}, "2 inputs"),
        ({"task": "ranking"}, "ranking"),
        ({"domain": (1.0, -1.0)}, "domain"),
        ({"grid": 1}, "grid"),
    ],
)
def test_bad_arguments_are_refused_in_one_line(kwargs, words):
    args = {"features": ["x1", "x2"], "domain": (-6.0, 6.0), "task": "classification"}
    args.update(kwargs)
    with pytest.raises(ValueError, match=words) as err:
        FrameBuilder(build_mlp(2, [3], 2, rng=0), **args)
    assert "\n" not in str(err.value)


@pytest.mark.parametrize("model", [nn.Linear(2, 2), nn.Sequential(nn.Tanh(), nn.Linear(2, 2))])
def test_a_model_that_is_not_a_sequential_of_linear_layers_is_refused(model):
    with pytest.raises(ValueError, match="Sequential starting with a Linear"):
        FrameBuilder(model, ["x1", "x2"], (-6.0, 6.0), "regression")


# ------------------------------------------------------------------------------ diagnosis
def _kinds(found):
    return [d["kind"] for d in found]


def _diag(norms, dead=None, activation="sigmoid", init="xavier", batch_norm=False, clip=0.0):
    return diagnose(norms, dead or {}, activation, init, batch_norm, clip)


def test_vanishing_gradients_found_and_the_remedy_tailored():
    found = _diag({"layer 0": 1e-6, "layer 1": 1e-3, "layer 2": 0.1})
    assert _kinds(found) == ["vanishing"] and found[0]["layer"] == "layer 0"
    msg = found[0]["message"]
    assert msg.startswith("layer 0 gets 1e-5 of the last layer's gradient: vanishing gradients")
    assert "ReLU" in msg and "He init" in msg and "batch norm" in msg and "\n" not in msg
    msg = _diag({"a": 1e-6, "b": 0.1}, activation="relu", init="he", batch_norm=True)[0]["message"]
    assert "ReLU" not in msg and "He init" not in msg and "batch norm" not in msg
    assert _kinds(_diag({"a": 1e-8, "b": 1e-6})) == ["vanishing"]  # below 1e-7 anyway
    assert " gets 0 of the last" in _diag({"a": 0.0, "b": 1.0})[0]["message"]


def test_healthy_gradients_find_nothing():
    assert _diag({"layer 0": 0.05, "layer 1": 0.2, "layer 2": 0.4}) == []
    assert _diag({"layer 0": 2e-4, "layer 1": 0.1}) == []  # 2e-3 of the last: not yet
    assert _diag({"layer 0": 1e-9}) == []  # one layer: nothing to compare


def test_exploding_gradients_found_by_size_and_by_growth():
    found = _diag({"layer 0": 5e3, "layer 1": 10.0})
    assert _kinds(found) == ["exploding"] and found[0]["layer"] == "layer 0"
    msg = found[0]["message"]
    assert "clipping" in msg and "learning rate" in msg and "Xavier/He" not in msg
    assert _kinds(_diag({"layer 0": 50.0, "layer 1": 0.01}, init="normal")) == ["exploding"]
    assert "Xavier/He" in _diag({"layer 0": 5e3, "layer 1": 1.0}, init="normal")[0]["message"]
    assert "clipping" not in _diag({"a": 5e3, "b": 1.0}, clip=1.0)[0]["message"]
    assert _kinds(_diag({"layer 0": float("nan"), "layer 1": 1.0})) == ["exploding"]
    assert _diag({"layer 0": 900.0, "layer 1": 1.0}) == []
    assert "infx" in _diag({"layer 0": 1.0, "layer 1": 5e-324})[0]["message"]  # no crash


def test_dead_relu_found_only_over_half_and_only_for_relu():
    dead = {"layer 0": 0.75, "layer 1": 0.5}
    found = _diag({"layer 0": 0.1, "layer 1": 0.1}, dead, activation="relu", init="he")
    assert _kinds(found) == ["dead_relu"] and found[0]["layer"] == "layer 0"
    msg = found[0]["message"]
    assert "75%" in msg and "leaky_relu" in msg and "learning rate" in msg
    assert "He init" not in msg and "batch norm" in msg
    assert _diag({"layer 0": 0.1, "layer 1": 0.1}, dead, activation="tanh") == []


# ------------------------------------------------------------------------------ measurements
def test_dead_fractions_counts_units_zero_on_every_point():
    model = build_mlp(2, [4, 3], 2, activation="relu", rng=0)
    with sn.no_grad():
        model[0].bias.data[:3] = -100.0  # 3 of 4 units below zero on every point in [-1, 1]
    x = np.random.default_rng(0).uniform(-1, 1, size=(50, 2)).astype(np.float32)
    dead = dead_fractions(model, x)
    assert list(dead) == ["layer 0", "layer 1"] and dead["layer 0"] == 0.75
    assert 0.0 <= dead["layer 1"] <= 1.0


def test_grad_norms_per_linear_layer():
    model = build_mlp(2, [4], 2, activation="tanh", rng=0)
    assert grad_norms(model) == {"layer 0": 0.0, "layer 1": 0.0}  # no gradient yet
    x = sn.tensor(np.random.default_rng(0).normal(size=(8, 2)), dtype=np.float32)
    nn.CrossEntropyLoss()(model(x), sn.tensor(np.arange(8) % 2)).backward()
    norms = grad_norms(model)
    w, b = model[2].weight.grad, model[2].bias.grad
    assert norms["layer 1"] == pytest.approx(np.sqrt((w**2).sum() + (b**2).sum()), rel=1e-6)
