"""export_onnx of convnets: onnxruntime reproduces sinapsi's predict (float32, rel 1e-5) for
LeNet-5, a Keras-style net and every odd configuration of the conv and pooling layers."""

import numpy as np
import pytest

import sinapsi as sn
from sinapsi import nn
from sinapsi.interop import export_onnx
from sinapsi.testing import assert_close

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")


def _set_batchnorm(bn, seed):
    """Running statistics and affine parameters as after training (not the 0/1 defaults)."""
    data = np.random.default_rng(seed)
    c = bn.num_features
    dtype = bn.running_mean.dtype
    bn.running_mean = data.normal(size=c).astype(dtype)
    bn.running_var = data.uniform(0.5, 2.0, size=c).astype(dtype)
    bn.weight.data[...] = data.uniform(0.5, 1.5, size=c)
    bn.bias.data[...] = data.normal(scale=0.2, size=c)
    return bn


def lenet5(dtype=None):
    return nn.Sequential(
        nn.Conv2d(1, 6, 5, rng=0, dtype=dtype),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(6, 16, 5, rng=1, dtype=dtype),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(16 * 4 * 4, 120, rng=2, dtype=dtype),
        nn.ReLU(),
        nn.Linear(120, 84, rng=3, dtype=dtype),
        nn.ReLU(),
        nn.Linear(84, 10, rng=4, dtype=dtype),
    )


def keras_style():
    """conv/bn/relu/pool/dropout2d twice, global average pooling, flatten, linear."""
    return nn.Sequential(
        nn.Conv2d(1, 8, 3, padding="same", rng=0),
        _set_batchnorm(nn.BatchNorm2d(8), 1),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Dropout2d(0.25, rng=0),
        nn.Conv2d(8, 12, 3, rng=2),
        _set_batchnorm(nn.BatchNorm2d(12), 3),
        nn.ReLU(),
        nn.AvgPool2d(2),
        nn.Dropout2d(0.5, rng=1),
        nn.AdaptiveAvgPool2d(1),
        nn.Flatten(),
        nn.Linear(12, 10, rng=4),
        nn.LogSoftmax(axis=1),
    )


def flat_input():
    """Flat rows (as a CSV gives them), unflattened into images in front of the convolutions."""
    return nn.Sequential(
        nn.Unflatten(1, (1, 8, 8)),
        nn.Conv2d(1, 4, 3, padding=1, rng=0),
        nn.Tanh(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Unflatten(1, (4, -1)),
        nn.Flatten(),
        nn.Linear(64, 3, rng=1),
    )


def normalized_images():
    """What `sinapsi train` saves for a convnet: Normalization of the flat pixels, Unflatten to
    (C, H, W), then the convolutions; the exported file takes raw flat rows."""
    raw = np.random.default_rng(0).uniform(0, 255, size=(50, 2 * 6 * 6))
    return nn.Sequential(
        nn.Normalization(eps=1e-7).adapt(raw),
        nn.Unflatten(1, (2, 6, 6)),
        nn.Conv2d(2, 4, 3, padding="same", rng=0),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(36, 3, rng=1),
    )


CASES = {
    "lenet5": (lenet5, (1, 28, 28)),
    "keras-style": (keras_style, (1, 16, 16)),
    "flat-input": (flat_input, (64,)),
    "normalized-images": (normalized_images, (72,)),
    "stride-2": (lambda: nn.Conv2d(3, 4, 3, stride=2, rng=0), (3, 9, 12)),
    "stride-pair-pad-pair": (
        lambda: nn.Conv2d(2, 3, (3, 2), stride=(2, 1), padding=(1, 0), rng=0),
        (2, 8, 7),
    ),
    "dilation-groups": (
        lambda: nn.Conv2d(4, 6, 3, padding=2, dilation=2, groups=2, rng=0),
        (4, 10, 9),
    ),
    "depthwise": (lambda: nn.Conv2d(4, 8, 3, padding=1, groups=4, rng=0), (4, 7, 6)),
    "same-even-kernel": (
        lambda: nn.Conv2d(2, 3, (2, 4), padding="same", dilation=(1, 2), rng=0),
        (2, 7, 9),
    ),
    "valid-no-bias": (lambda: nn.Conv2d(2, 3, 3, padding="valid", bias=False, rng=0), (2, 5, 6)),
    "reflect": (
        lambda: nn.Conv2d(2, 3, 3, padding=(1, 2), padding_mode="reflect", rng=0),
        (2, 6, 7),
    ),
    "replicate-same": (
        lambda: nn.Conv2d(2, 3, 4, padding="same", padding_mode="replicate", rng=0),
        (2, 6, 7),
    ),
    "maxpool-ceil": (lambda: nn.MaxPool2d(3, 2, 1, ceil_mode=True), (2, 8, 9)),
    "maxpool-ceil-whole-kernel-pad": (
        lambda: nn.MaxPool2d(2, 3, 1, dilation=3, ceil_mode=True),
        (2, 9, 10),
    ),
    "maxpool-dilation": (lambda: nn.MaxPool2d(2, 1, 0, dilation=2), (2, 7, 6)),
    "maxpool-dilation-ceil": (
        lambda: nn.MaxPool2d((2, 3), (2, 1), (1, 1), dilation=(2, 1), ceil_mode=True),
        (2, 8, 7),
    ),
    "avgpool-ceil-include-pad": (
        lambda: nn.AvgPool2d(3, 2, 1, ceil_mode=True, count_include_pad=True),
        (2, 8, 9),
    ),
    "avgpool-ceil-exclude-pad": (
        lambda: nn.AvgPool2d(3, 2, 1, ceil_mode=True, count_include_pad=False),
        (2, 8, 9),
    ),
    "avgpool-ceil-no-pad": (lambda: nn.AvgPool2d(2, ceil_mode=True), (2, 7, 9)),
    "avgpool-ceil-stride-over-kernel": (
        lambda: nn.AvgPool2d(2, 3, 1, ceil_mode=True, count_include_pad=True),
        (2, 8, 9),
    ),
    "avgpool-pad-floor": (lambda: nn.AvgPool2d((3, 2), 1, (1, 0)), (2, 5, 6)),
    "adaptive-divides": (lambda: nn.AdaptiveAvgPool2d((2, None)), (3, 4, 5)),
    "adaptive-same-size": (lambda: nn.AdaptiveAvgPool2d((4, 5)), (3, 4, 5)),
    "conv1d": (lambda: nn.Conv1d(3, 4, 3, stride=2, padding=1, rng=0), (3, 11)),
    "conv1d-same-dilation-groups": (
        lambda: nn.Conv1d(2, 4, 3, padding="same", dilation=2, groups=2, rng=0),
        (2, 10),
    ),
}


def _run(path, x):
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return session.run(None, {"input": x})[0]


def _check_matches(model, path, input_shape, batches=(1, 5)):
    proto = onnx.load(str(path))
    onnx.checker.check_model(proto, full_check=True)
    data = np.random.default_rng(42)
    for batch in batches:
        x = data.normal(size=(batch, *input_shape)).astype(np.float32)
        got, expected = _run(path, x), sn.predict(model, x)
        assert got.dtype == np.float32
        assert_close(got, expected, 1e-5, what=f"batch {batch}")
    dims = proto.graph.output[0].type.tensor_type.shape.dim
    declared = [d.dim_param or d.dim_value for d in dims]
    assert declared == ["batch", *expected.shape[1:]], "the graph declares the real output shape"
    return proto


@pytest.mark.parametrize("name", list(CASES))
def test_onnxruntime_matches_sinapsi(name, tmp_path):
    build, input_shape = CASES[name]
    model = build()
    model = model if isinstance(model, nn.Sequential) else nn.Sequential(model)
    _check_matches(model, export_onnx(model, tmp_path / "m.onnx", input_shape), input_shape)


def test_circular_padding_needs_opset_19(tmp_path):
    model = nn.Sequential(nn.Conv2d(2, 3, 3, padding=1, padding_mode="circular", rng=0))
    with pytest.raises(ValueError, match=r"'circular'.*opset 19.*received opset=17.*opset=19"):
        export_onnx(model, tmp_path / "m.onnx", (2, 6, 7))
    path = export_onnx(model, tmp_path / "m.onnx", (2, 6, 7), opset=19)
    proto = _check_matches(model, path, (2, 6, 7))
    assert [n.op_type for n in proto.graph.node] == ["Pad", "Conv"]


def test_graph_layout(tmp_path):
    """LeNet-5: one ONNX node per layer, weights under their state_dict keys; the Keras-style
    net: BatchNormalization with the running statistics, no node for Dropout2d, global pooling."""
    proto = onnx.load(str(export_onnx(lenet5(), tmp_path / "lenet.onnx", (1, 28, 28))))
    ops = [n.op_type for n in proto.graph.node]
    assert ops == ["Conv", "Relu", "MaxPool", "Conv", "Relu", "MaxPool", "Flatten"] + [
        "Gemm",
        "Relu",
        "Gemm",
        "Relu",
        "Gemm",
    ]
    weights = {t.name: t for t in proto.graph.initializer}
    assert list(weights["0.weight"].dims) == [6, 1, 5, 5]
    assert list(weights["3.bias"].dims) == [16]
    conv = proto.graph.node[0]
    attributes = {a.name: onnx.helper.get_attribute_value(a) for a in conv.attribute}
    assert attributes == {
        "kernel_shape": [5, 5],
        "strides": [1, 1],
        "dilations": [1, 1],
        "pads": [0, 0, 0, 0],
        "group": 1,
    }
    model = keras_style()
    model.train()  # exported in eval mode whatever the model's mode; the mode is left alone
    proto = onnx.load(str(export_onnx(model, tmp_path / "keras.onnx", (1, 16, 16))))
    assert model.training
    ops = [n.op_type for n in proto.graph.node]
    assert ops.count("BatchNormalization") == 2 and "GlobalAveragePool" in ops
    assert not {"Dropout", "Identity"} & set(ops)
    weights = {t.name: onnx.numpy_helper.to_array(t) for t in proto.graph.initializer}
    np.testing.assert_array_equal(weights["1.running_var"], model[1].running_var)
    same = next(n for n in proto.graph.node if n.op_type == "Conv")
    pads = next(a for a in same.attribute if a.name == "pads")
    assert list(pads.ints) == [1, 1, 1, 1]


def test_ceil_mode_becomes_explicit_padding(tmp_path):
    """ceil_mode: the extra windows as end padding, so the spec and every runtime agree."""
    model = nn.Sequential(nn.MaxPool2d(3, 2, 1, ceil_mode=True))
    proto = onnx.load(str(export_onnx(model, tmp_path / "m.onnx", (1, 8, 9))))
    (node,) = proto.graph.node
    attributes = {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}
    assert attributes["pads"] == [1, 1, 2, 1] and "ceil_mode" not in attributes
    inferred = onnx.shape_inference.infer_shapes(proto, strict_mode=True)
    dims = inferred.graph.output[0].type.tensor_type.shape.dim
    assert [d.dim_value for d in dims[1:]] == [1, 5, 5]


def test_float64_convnet(tmp_path):
    """float64 exports as float64 (checker passes; onnxruntime has no float64 Conv), and with
    dtype='float32' runs in onnxruntime close to the float64 predict."""
    model = lenet5(dtype="float64")
    path = export_onnx(model, tmp_path / "m64.onnx", (1, 28, 28))
    proto = onnx.load(str(path))
    onnx.checker.check_model(proto, full_check=True)
    assert proto.graph.initializer[0].data_type == onnx.TensorProto.DOUBLE
    path = export_onnx(model, tmp_path / "m32.onnx", (1, 28, 28), dtype="float32")
    x = np.random.default_rng(0).normal(size=(3, 1, 28, 28))
    assert_close(_run(path, x.astype(np.float32)), sn.predict(model, x), 1e-4)


@pytest.mark.parametrize(
    ("layers", "input_shape", "error", "pattern"),
    [
        (
            [nn.AvgPool2d(2, divisor_override=3)],
            (1, 4, 4),
            ValueError,
            r"layer '0', .*divisor_override=3, which ONNX's AveragePool cannot express\. "
            r"Export a model built with divisor_override=None\.$",
        ),
        (
            [nn.AdaptiveAvgPool2d((3, 2))],
            (2, 7, 8),
            ValueError,
            r"layer '0', .*receives inputs of shape \(batch, 2, 7, 8\); ONNX has no adaptive "
            r"pooling.*\(7 is not a multiple of 3\)\. Use output_size=1",
        ),
        (
            [nn.Conv2d(1, 6, 5, rng=0)],
            (3, 28, 28),
            ValueError,
            r"layer '0', Conv2d\(1 -> 6, kernel_size=\(5, 5\)\), takes inputs of shape "
            r"\(batch, 1, H, W\) but receives \(batch, 3, 28, 28\) here\. Check input_shape",
        ),
        (
            [nn.Conv2d(1, 6, 5, rng=0)],
            (784,),
            ValueError,
            r"takes inputs of shape \(batch, 1, H, W\) but receives \(batch, 784\)",
        ),
        (
            [nn.Conv1d(2, 3, 3, rng=0)],
            (2, 5, 5),
            ValueError,
            r"Conv1d\(2 -> 3, kernel_size=\(3,\)\), takes inputs of shape \(batch, 2, L\)",
        ),
        (
            [nn.Conv2d(1, 2, 5, rng=0), nn.MaxPool2d(2)],
            (1, 4, 6),
            ValueError,
            r"layer '0', Conv2d.*receives inputs of shape \(batch, 1, 4, 6\), too small for its "
            r"kernel, stride and padding \(the output would have spatial size \(0, 2\)\)",
        ),
        (
            [nn.Flatten(), nn.MaxPool2d(2)],
            (1, 4, 4),
            ValueError,
            r"layer '1', MaxPool2d.*takes inputs of shape \(batch, C, H, W\) but receives "
            r"\(batch, 16\)",
        ),
        (
            [nn.BatchNorm2d(3, track_running_stats=False)],
            (3, 4, 4),
            ValueError,
            r"BatchNorm2d\(3\), has no running statistics",
        ),
        (
            [nn.BatchNorm2d(3)],
            (3, 4),
            ValueError,
            r"BatchNorm2d\(3\), takes inputs of shape \(batch, 3, H, W\) but receives "
            r"\(batch, 3, 4\)",
        ),
        (
            [nn.Unflatten(1, (2, 5))],
            (12,),
            ValueError,
            r"cannot split axis 1 of size 12 \(inputs of shape \(batch, 12\)\) into \(2, 5\)",
        ),
        (
            [nn.Unflatten(0, (2, 5))],
            (10,),
            ValueError,
            r"splits axis 0 of inputs of shape \(batch, 10\), which is the batch axis\.",
        ),
    ],
)
def test_refused_with_one_line(layers, input_shape, error, pattern, tmp_path):
    with pytest.raises(error, match=pattern) as info:
        export_onnx(nn.Sequential(*layers), tmp_path / "m.onnx", input_shape)
    assert "\n" not in str(info.value)
    assert not (tmp_path / "m.onnx").exists()


@pytest.mark.parametrize("opset", [13, 19])
def test_other_opsets(opset, tmp_path):
    """The oldest opset supported and a newer one; a nested Sequential; the -inf Pad of a
    dilated ceil-mode max pooling (16 -> 9 needs one extra row, a whole kernel with pad 1)."""
    model = nn.Sequential(
        nn.MaxPool2d(2, 2, 1, dilation=2, ceil_mode=True),
        keras_style(),
        nn.Unflatten(1, (2, 5)),
        nn.Flatten(),
        nn.Linear(10, 2, rng=0),
    )
    path = export_onnx(model, tmp_path / "m.onnx", (1, 16, 16), opset=opset)
    proto = onnx.load(str(path))
    assert proto.opset_import[0].version == opset
    assert [n.op_type for n in proto.graph.node][:2] == ["Pad", "MaxPool"]
    _check_matches(model, path, (1, 16, 16))
