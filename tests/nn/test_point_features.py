"""PointFeatures: the TF Playground's input features of 2-D points, as a model's first layer."""

import numpy as np
import pytest

import sinapsi as sn
from sinapsi import nn
from sinapsi.nn.features import POINT_FEATURES

FORMULAS = {
    "x1": lambda p: p[:, 0],
    "x2": lambda p: p[:, 1],
    "x1^2": lambda p: p[:, 0] ** 2,
    "x2^2": lambda p: p[:, 1] ** 2,
    "x1*x2": lambda p: p[:, 0] * p[:, 1],
    "sin(x1)": lambda p: np.sin(p[:, 0]),
    "sin(x2)": lambda p: np.sin(p[:, 1]),
}


def _points(n=9, seed=0):
    return np.random.default_rng(seed).uniform(-6, 6, size=(n, 2))


def test_the_seven_names_in_the_playground_order():
    assert POINT_FEATURES == ("x1", "x2", "x1^2", "x2^2", "x1*x2", "sin(x1)", "sin(x2)")
    assert nn.POINT_FEATURES == POINT_FEATURES
    assert set(FORMULAS) == set(POINT_FEATURES)


@pytest.mark.parametrize(
    "features",
    [list(POINT_FEATURES), ["x1", "x2"], ["sin(x2)", "x1*x2", "x1"], ["x2^2"]],
)
def test_columns_match_numpy_in_the_order_given(features):
    p = _points()
    out = nn.PointFeatures(features)(sn.tensor(p, dtype="float64"))
    assert out.shape == (9, len(features)) and out.dtype == np.float64
    expected = np.stack([FORMULAS[f](p) for f in features], axis=1)
    np.testing.assert_allclose(out.data, expected, rtol=1e-15, atol=0)


def test_dtype_is_kept_and_raw_arrays_take_the_default_dtype():
    p = _points()
    layer = nn.PointFeatures(POINT_FEATURES)
    assert layer(sn.tensor(p, dtype="float32")).dtype == np.float32
    assert layer(sn.tensor(p, dtype="float64")).dtype == np.float64
    assert layer(p).dtype == np.dtype(sn.get_default_dtype())
    assert layer(np.array([[1, 2]])).dtype == np.dtype(sn.get_default_dtype())  # ints: float
    np.testing.assert_allclose(
        layer(p.astype(np.float32)).data, layer(sn.tensor(p, dtype="float64")).data, rtol=1e-6
    )


def test_gradient_by_finite_differences_float64():
    x = sn.tensor(_points(5, seed=1), dtype="float64", requires_grad=True)
    assert sn.gradcheck(nn.PointFeatures(POINT_FEATURES), [x])
    assert sn.gradcheck(nn.PointFeatures(["x1*x2", "sin(x1)"]), [x])


def test_gradient_flows_into_the_points():
    x = sn.tensor([[0.5, -2.0]], dtype="float64", requires_grad=True)
    nn.PointFeatures(POINT_FEATURES)(x).sum().backward()
    x1, x2 = 0.5, -2.0
    expected = [1 + 2 * x1 + x2 + np.cos(x1), 1 + 2 * x2 + x1 + np.cos(x2)]
    np.testing.assert_allclose(x.grad[0], expected, rtol=1e-15)


def test_no_parameters_and_repr_and_config():
    layer = nn.PointFeatures(("x1", "sin(x2)"))
    assert layer.num_parameters() == 0 and list(layer.state_dict()) == []
    assert layer.features == ("x1", "sin(x2)")
    assert layer.get_config() == {"features": ["x1", "sin(x2)"]}
    assert repr(layer) == "PointFeatures(features=['x1', 'sin(x2)'])"
    assert layer.out_features == 2
    assert nn.build_module(nn.module_spec(layer)).features == layer.features


@pytest.mark.parametrize("n", [1, 0])
def test_a_batch_of_one_and_of_zero_rows(n):
    p = _points(n)
    out = nn.PointFeatures(POINT_FEATURES)(sn.tensor(p, dtype="float64"))
    assert out.shape == (n, 7)
    expected = np.stack([FORMULAS[f](p) for f in POINT_FEATURES], axis=1).reshape(n, 7)
    np.testing.assert_allclose(out.data, expected, rtol=1e-15)


def test_leading_axes_are_kept():
    p = _points(6).reshape(3, 2, 2)
    out = nn.PointFeatures(["x1*x2", "x1"])(sn.tensor(p, dtype="float64"))
    assert out.shape == (3, 2, 2)
    np.testing.assert_allclose(out.data[..., 0], p[..., 0] * p[..., 1])


def test_save_load_round_trip(tmp_path):
    model = nn.Sequential(
        nn.PointFeatures(["x1", "x2", "x1*x2", "sin(x1)"]), nn.Linear(4, 1, rng=0)
    )
    loaded = sn.load(sn.save(model, tmp_path / "m.npz"))
    assert type(loaded[0]) is nn.PointFeatures
    assert loaded[0].features == ("x1", "x2", "x1*x2", "sin(x1)")
    p = _points()
    np.testing.assert_array_equal(sn.predict(loaded, p), sn.predict(model, p))


def _one_line(error):
    message = str(error.value)
    assert "\n" not in message
    return message


def test_constructor_errors():
    with pytest.raises(ValueError) as e:
        nn.PointFeatures([])
    assert "at least one" in _one_line(e)
    with pytest.raises(ValueError) as e:
        nn.PointFeatures(["x1", "x3"])
    message = _one_line(e)
    assert "Got 'x3' instead" in message and "'sin(x1)'" in message
    near_misses = [("X1^2", "x1^2"), ("x1x2", "x1*x2"), ("x2**2", "x2^2"),
                   ("x1\u00b2", "x1^2"), ("sin x2", "sin(x2)"), ("sin(x1", "sin(x1)")]  # fmt: skip
    for near, meant in near_misses:
        with pytest.raises(ValueError) as e:
            nn.PointFeatures([near])
        assert f"Did you mean {meant!r}?" in _one_line(e)
    with pytest.raises(ValueError) as e:
        nn.PointFeatures(["x1", "x2", "x1"])
    assert "'x1'" in _one_line(e) and "twice" in _one_line(e)
    with pytest.raises(ValueError) as e:
        nn.PointFeatures("x1")
    assert "list" in _one_line(e)
    with pytest.raises(ValueError) as e:
        nn.PointFeatures(["x1", 2])
    assert "2" in _one_line(e)


@pytest.mark.parametrize("shape", [(4, 3), (4, 1), (2,), (), (3, 2, 1)])
def test_input_with_a_last_axis_other_than_two_is_refused(shape):
    layer = nn.PointFeatures(["x1"])
    with pytest.raises(ValueError) as e:
        layer(np.zeros(shape))
    message = _one_line(e)
    assert message.startswith("PointFeatures takes (n, 2) points (x1, x2); got shape")
    assert str(shape) in message


def test_onnx_export_matches_the_layer(tmp_path):
    pytest.importorskip("onnx")
    ort = pytest.importorskip("onnxruntime")
    from sinapsi.interop import export_onnx

    for dtype, rtol in (("float32", 1e-5), ("float64", 1e-12)):
        model = nn.Sequential(
            nn.PointFeatures(["sin(x2)", "x1", "x2^2", "x1*x2", "x1^2", "x2", "sin(x1)"]),
            nn.Linear(7, 3, rng=0, dtype=dtype),
            nn.Tanh(),
        )
        path = export_onnx(model, tmp_path / f"pf-{dtype}.onnx", (2,))
        session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
        for n in (1, 8):
            p = _points(n, seed=n).astype(dtype)
            got = session.run(None, {"input": p})[0]
            assert got.dtype == np.dtype(dtype)
            np.testing.assert_allclose(got, sn.predict(model, p), rtol=rtol, atol=rtol)


def test_onnx_export_of_the_layer_alone(tmp_path):
    pytest.importorskip("onnx")
    ort = pytest.importorskip("onnxruntime")
    from sinapsi.interop import export_onnx

    layer = nn.PointFeatures(["x1*x2"])
    path = export_onnx(layer, tmp_path / "alone.onnx", (2,), dtype="float64")
    p = _points(5)
    got = ort.InferenceSession(str(path)).run(None, {"input": p})[0]
    np.testing.assert_allclose(got, p[:, :1] * p[:, 1:], rtol=1e-15)
    with pytest.raises(ValueError, match=r"PointFeatures takes \(n, 2\) points"):
        export_onnx(layer, tmp_path / "bad.onnx", (3,))


def test_torch_twin_matches_the_layer():
    torch = pytest.importorskip("torch")
    from sinapsi.interop.torch_layers import PointFeatures as TorchPointFeatures

    features = ["x2", "sin(x1)", "x1*x2", "x1^2"]
    twin = TorchPointFeatures(features)
    p = _points()
    theirs = torch.tensor(p, dtype=torch.float64, requires_grad=True)
    got = twin(theirs)
    assert got.dtype == torch.float64
    ours = sn.tensor(p, dtype="float64", requires_grad=True)
    expected = nn.PointFeatures(features)(ours)
    np.testing.assert_allclose(got.detach().numpy(), expected.data, rtol=1e-15)
    (got * got).sum().backward()
    (expected * expected).sum().backward()
    np.testing.assert_allclose(theirs.grad.numpy(), ours.grad, rtol=1e-12)
    assert "x1*x2" in repr(twin)
    assert list(twin.state_dict()) == []
