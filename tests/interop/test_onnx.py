"""export_onnx: the file passes the ONNX checker and onnxruntime reproduces sinapsi's outputs."""

import os
import sys

import numpy as np
import pytest

import sinapsi as sn
from sinapsi import nn
from sinapsi.interop import export_onnx
from sinapsi.testing import assert_close

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")

RTOL = {"float32": 1e-5, "float64": 1e-10}


def tanh_2_8_8_1():
    return nn.Sequential(
        nn.Linear(2, 8, rng=0), nn.Tanh(), nn.Linear(8, 8, rng=1), nn.Tanh(), nn.Linear(8, 1, rng=2)
    )


def relu_784_256_10_softmax():
    return nn.Sequential(
        nn.Linear(784, 256, rng=0), nn.ReLU(), nn.Linear(256, 10, rng=1), nn.Softmax()
    )


def deep_batchnorm(dtype=None):
    """Every activation and BatchNorm1d with running statistics moved by a short fit."""
    model = nn.Sequential(
        nn.Linear(6, 16, rng=0, dtype=dtype),
        nn.BatchNorm1d(16, dtype=dtype),
        nn.LeakyReLU(0.1),
        nn.Dropout(0.3, rng=0),
        nn.Sequential(nn.Linear(16, 16, rng=1, dtype=dtype), nn.ELU(0.7)),
        nn.Linear(16, 16, rng=2, dtype=dtype),
        nn.BatchNorm1d(16, momentum=None, dtype=dtype),
        nn.GELU(),
        nn.Linear(16, 16, rng=3, dtype=dtype),
        nn.GELU("tanh"),
        nn.Identity(),
        nn.Linear(16, 16, rng=4, dtype=dtype),
        nn.Softplus(beta=2.0, threshold=3.0),
        nn.Linear(16, 16, rng=5, dtype=dtype),
        nn.Softplus(),
        nn.Linear(16, 8, rng=6, dtype=dtype),
        nn.Sigmoid(),
        nn.Linear(8, 3, rng=7, dtype=dtype),
        nn.LogSoftmax(axis=1),
    )
    data = np.random.default_rng(0)
    x = data.normal(2.0, 3.0, size=(64, 6))
    y = data.integers(0, 3, size=64)
    sn.fit(model, x, y, loss="nll", epochs=2, batch_size=16, seed=0, verbose=0)
    running_mean = model[1].running_mean
    assert np.abs(running_mean).max() > 0.05, "the fit should move the running statistics"
    return model


def sequence_model():
    """3-D inputs: BatchNorm1d over (N, C, L), Linear as MatMul+Add, Softmax on axis 1, Flatten."""
    bn = nn.BatchNorm1d(4)
    bn.running_mean = np.linspace(-1, 1, 4).astype(np.float32)
    bn.running_var = np.linspace(0.5, 2, 4).astype(np.float32)
    bn.weight.data[...] = np.linspace(0.5, 1.5, 4)
    bn.bias.data[...] = np.linspace(-0.2, 0.2, 4)
    return nn.Sequential(
        bn,
        nn.Linear(5, 6, rng=0),
        nn.Softmax(axis=1),
        nn.Linear(6, 2, bias=False, rng=1),
        nn.Flatten(),
        nn.Linear(8, 3, rng=2),
        nn.LogSoftmax(),
    )


def merge_batch_model():
    """Flatten(0, 1) folds the batch axis into the first: a Reshape with -1."""
    return nn.Sequential(nn.Flatten(0, 1), nn.Linear(5, 2, rng=0), nn.Tanh())


RAW_MEAN, RAW_STD = [0.0, 50.0, -3.0, 2e3], [1.0, 20.0, 0.01, 5e2]


def raw_features(n, seed=0):
    """Columns on very different scales: what a model with its own standardization takes."""
    return np.random.default_rng(seed).normal(RAW_MEAN, RAW_STD, size=(n, 4))


def normalized(dtype=None, eps=0.0):
    """Issue 14.4: standardization inside the model, so the exported file takes raw inputs."""
    return nn.Sequential(
        nn.Normalization(eps=eps, dtype=dtype).adapt(raw_features(40)),
        nn.Linear(4, 8, rng=0, dtype=dtype),
        nn.ReLU(),
        nn.Linear(8, 3, rng=1, dtype=dtype),
    )


ARCHITECTURES = {
    "normalized": (normalized, (4,)),
    "2-8-8-1-tanh": (tanh_2_8_8_1, (2,)),
    "784-256-10-relu-softmax": (relu_784_256_10_softmax, (784,)),
    "deep-batchnorm": (deep_batchnorm, (6,)),
    "sequence": (sequence_model, (4, 5)),
    "merge-batch": (merge_batch_model, (4, 5)),
}


def _onnx_outputs(path, x, input_name="input"):
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return session.run(None, {input_name: x})[0]


def _check_matches(model, path, input_shape, dtype="float32", batches=(1, 7)):
    onnx.checker.check_model(onnx.load(str(path)), full_check=True)
    data = np.random.default_rng(42)
    for batch in batches:
        x = data.normal(size=(batch, *input_shape)).astype(dtype)
        got = _onnx_outputs(path, x)
        assert got.dtype == np.dtype(dtype)
        assert_close(got, sn.predict(model, x), RTOL[dtype], what=f"batch {batch}")


@pytest.mark.parametrize("name", list(ARCHITECTURES))
def test_onnxruntime_matches_sinapsi(name, tmp_path):
    build, input_shape = ARCHITECTURES[name]
    model = build()
    path = export_onnx(model, tmp_path / f"{name}.onnx", input_shape)
    assert path == tmp_path / f"{name}.onnx"
    _check_matches(model, path, input_shape)


@pytest.mark.parametrize("opset", [13, 20])
def test_other_opsets(opset, tmp_path):
    model = deep_batchnorm()
    path = export_onnx(model, tmp_path / "deep.onnx", (6,), opset=opset)
    proto = onnx.load(str(path))
    assert proto.opset_import[0].version == opset
    ops = {node.op_type for node in proto.graph.node}
    assert ("Gelu" in ops) == (opset >= 20)
    assert ("Erf" in ops) == (opset < 20)
    _check_matches(model, path, (6,))


def test_graph_layout(tmp_path):
    model = deep_batchnorm()
    model.train()  # the export is eval-mode whatever the model's mode, and leaves it unchanged
    proto = onnx.load(str(export_onnx(model, tmp_path / "m.onnx", (6,))))
    assert model.training and all(m.training for m in model.modules())
    ops = [node.op_type for node in proto.graph.node]
    assert ops.count("Gemm") == 8 and ops.count("BatchNormalization") == 2
    assert "Dropout" not in ops and "Identity" not in ops
    assert {"LeakyRelu", "Elu", "Erf", "Tanh", "Sigmoid", "LogSoftmax", "Where"} <= set(ops)
    weights = {t.name: t for t in proto.graph.initializer}
    assert weights["0.weight"].dims == [16, 6]  # (out, in) with transB=1
    assert weights["4.0.weight"].data_type == onnx.TensorProto.FLOAT
    np.testing.assert_array_equal(
        onnx.numpy_helper.to_array(weights["1.running_mean"]), model[1].running_mean
    )
    (graph_input,) = proto.graph.input
    dims = graph_input.type.tensor_type.shape.dim
    assert [d.dim_param or d.dim_value for d in dims] == ["batch", 6]
    assert proto.producer_name == "sinapsi"


def test_fixed_batch_and_names(tmp_path):
    model = tanh_2_8_8_1()
    path = export_onnx(
        model, tmp_path / "m.onnx", 2, input_name="x", output_name="y", dynamic_batch=False
    )
    proto = onnx.load(str(path))
    assert [i.name for i in proto.graph.input] == ["x"]
    assert [o.name for o in proto.graph.output] == ["y"]
    dims = proto.graph.input[0].type.tensor_type.shape.dim
    assert [d.dim_value for d in dims] == [1, 2]
    x = np.ones((1, 2), np.float32)
    assert_close(_onnx_outputs(path, x, "x"), sn.predict(model, x), 1e-5)


def test_model_without_nodes_gets_an_identity(tmp_path):
    model = nn.Sequential(nn.Dropout(0.5), nn.Identity())
    path = export_onnx(model, tmp_path / "m.onnx", (3,))
    x = np.arange(6, dtype=np.float32).reshape(2, 3)
    np.testing.assert_array_equal(_onnx_outputs(path, x), x)


def test_float64_model_exports_float64(tmp_path):
    model = nn.Sequential(
        nn.Linear(3, 8, rng=0, dtype="float64"),
        nn.BatchNorm1d(8, dtype="float64"),
        nn.LeakyReLU(0.2),
        nn.Linear(8, 8, rng=1, dtype="float64"),
        nn.ELU(1.3),
        nn.Linear(8, 8, rng=2, dtype="float64"),
        nn.GELU("tanh"),
        nn.Softplus(0.5, 4.0),
        nn.Linear(8, 4, rng=3, dtype="float64"),
        nn.Softmax(),
    )
    model[1].running_mean = np.linspace(-0.5, 0.5, 8)
    model[1].running_var = np.linspace(0.3, 3.0, 8)
    path = export_onnx(model, tmp_path / "m64.onnx", (3,))
    proto = onnx.load(str(path))
    assert all(
        t.data_type == onnx.TensorProto.DOUBLE
        for t in proto.graph.initializer
        if "shape" not in t.name
    )
    _check_matches(model, path, (3,), dtype="float64")


def test_float64_model_converted_to_float32(tmp_path):
    model = tanh_2_8_8_1().astype("float64")
    path = export_onnx(model, tmp_path / "m32.onnx", (2,), dtype="float32")
    x = np.random.default_rng(0).normal(size=(7, 2))
    got = _onnx_outputs(path, x.astype(np.float32))
    assert got.dtype == np.float32
    assert_close(got, sn.predict(model, x), 1e-5)


def test_single_layer_model(tmp_path):
    layer = nn.Linear(4, 2, rng=0)
    path = export_onnx(layer, tmp_path / "m.onnx", (4,))
    _check_matches(layer, path, (4,))


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("eps", [0.0, 0.5])
def test_normalization_takes_raw_inputs(dtype, eps, tmp_path):
    model = normalized(dtype, eps)
    model[0].scale[2] = 0.25  # below eps: floored
    path = export_onnx(model, tmp_path / "norm.onnx", (4,))
    proto = onnx.load(str(path))
    ops = [node.op_type for node in proto.graph.node]
    assert ops[:2] == ["Sub", "Div"]
    weights = {t.name: onnx.numpy_helper.to_array(t) for t in proto.graph.initializer}
    np.testing.assert_array_equal(weights["0.mean"], model[0].mean)
    assert weights["0.scale"][2] == max(0.25, eps)
    x = raw_features(9, seed=1).astype(dtype)
    got = _onnx_outputs(path, x)
    assert got.dtype == np.dtype(dtype)
    assert_close(got, sn.predict(model, x), RTOL[dtype])
    first = export_onnx(model[0], tmp_path / "first.onnx", (4,))
    np.testing.assert_array_equal(_onnx_outputs(first, x), model[0](x).data)


def test_normalization_on_sequences(tmp_path):
    layer = nn.Normalization().adapt(raw_features(30))
    model = nn.Sequential(layer, nn.Linear(4, 2, rng=0), nn.Flatten(), nn.Softmax())
    path = export_onnx(model, tmp_path / "seq.onnx", (3, 4))
    x = raw_features(15, seed=2).reshape(5, 3, 4).astype(np.float32)
    assert_close(_onnx_outputs(path, x), sn.predict(model, x), RTOL["float32"])


# ----------------------------------------------------------------------------- errors


class Custom(nn.Module):
    def forward(self, x):
        return x


@pytest.mark.parametrize(
    ("model", "pattern"),
    [
        (
            nn.Sequential(nn.Linear(2, 3), nn.Embedding(4, 2)),
            r"cannot export Embedding \(at '1'\).*Supported layers: Linear, BatchNorm1d, .*Softmax",
        ),
        (
            nn.Sequential(nn.Sequential(Custom()), nn.ModuleList([nn.ReLU()])),
            r"cannot export Custom \(at '0.0'\), ModuleList \(at '1'\)",
        ),
        (Custom(), r"cannot export Custom \(at 'the top'\)"),
        ("not a model", r"needs a sinapsi nn.Module.*Received: an object of type str"),
    ],
)
def test_unsupported_model(model, pattern, tmp_path):
    with pytest.raises(TypeError, match=pattern):
        export_onnx(model, tmp_path / "m.onnx", (2,))


@pytest.mark.parametrize(
    ("kwargs", "pattern"),
    [
        (
            {"input_shape": (3,)},
            r"Linear\(2 -> 8\), takes inputs of shape \(batch, \.\.\., 2\) "
            r"but receives \(batch, 3\)",
        ),
        ({"input_shape": (0,)}, r"input_shape must be .* Received: input_shape=\(0,\)"),
        ({"input_shape": "2"}, r"input_shape must be .* Received: input_shape='2'"),
        ({"opset": 11}, r"opset must be an integer from 13 to \d+.*Received: opset=11"),
        ({"opset": 99}, r"Received: opset=99"),
        ({"dtype": "float16"}, r"dtype must be 'float32', 'float64' or None.*'float16'"),
        ({"input_name": ""}, r"input_name must be a non-empty str"),
        ({"output_name": "input"}, r"must differ; both are 'input'"),
        ({"output_name": "0.weight"}, r"'0.weight' is already used inside the graph"),
    ],
)
def test_bad_arguments(kwargs, pattern, tmp_path):
    kwargs = {"input_shape": (2,), **kwargs}
    with pytest.raises(ValueError, match=pattern):
        export_onnx(tanh_2_8_8_1(), tmp_path / "m.onnx", **kwargs)


def test_layer_specific_errors(tmp_path):
    no_stats = nn.Sequential(nn.BatchNorm1d(3, track_running_stats=False))
    with pytest.raises(ValueError, match=r"'0', BatchNorm1d\(3\), has no running statistics"):
        export_onnx(no_stats, tmp_path / "m.onnx", (3,))
    with pytest.raises(ValueError, match=r"BatchNorm1d\(3\), takes inputs of shape \(batch, 3\)"):
        export_onnx(nn.BatchNorm1d(3), tmp_path / "m.onnx", (4,))
    with pytest.raises(ValueError, match=r"Softmax\(axis=2\).*have no axis 2"):
        export_onnx(nn.Sequential(nn.Softmax(axis=2)), tmp_path / "m.onnx", (3,))
    with pytest.raises(ValueError, match=r"'0', Normalization\(3\), has no statistics yet.*"
                       r"adapt"):  # fmt: skip
        export_onnx(nn.Sequential(nn.Normalization(3)), tmp_path / "m.onnx", (3,))
    with pytest.raises(ValueError, match=r"'Normalization', Normalization\(\), has no stat"):
        export_onnx(nn.Normalization(), tmp_path / "m.onnx", (3,))
    with pytest.raises(ValueError, match=r"'0', Normalization\(3\), takes inputs of shape "
                       r"\(batch, \.\.\., 3\) but receives \(batch, 4\)"):  # fmt: skip
        export_onnx(nn.Sequential(nn.Normalization(mean=[0, 0, 0], scale=[1, 1, 1])),
                    tmp_path / "m.onnx", (4,))  # fmt: skip
    mixed = nn.Sequential(nn.Linear(2, 2), nn.Linear(2, 2, dtype="float64"))
    with pytest.raises(ValueError, match=r"mixes dtypes \['float32', 'float64'\]"):
        export_onnx(mixed, tmp_path / "m.onnx", (2,))
    assert not list(tmp_path.iterdir())


def test_missing_onnx_says_what_to_install(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "onnx", None)
    with pytest.raises(ImportError, match=r"needs the 'onnx' package.*pip install onnx"):
        export_onnx(tanh_2_8_8_1(), tmp_path / "m.onnx", (2,))


def test_failed_export_leaves_the_old_file(tmp_path):
    path = tmp_path / "model.onnx"
    path.write_bytes(b"previous model")
    with pytest.raises(TypeError):
        export_onnx(nn.Sequential(nn.Embedding(3, 2)), path, (1,))
    assert path.read_bytes() == b"previous model"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.onnx"]


def test_interrupted_write_leaves_no_partial_file(monkeypatch, tmp_path):
    path = tmp_path / "model.onnx"
    path.write_bytes(b"previous model")

    def crash(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(OSError, match="disk full"):
        export_onnx(tanh_2_8_8_1(), path, (2,))
    assert path.read_bytes() == b"previous model"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.onnx"]
