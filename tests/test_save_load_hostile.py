"""Hostile or broken model files (issue 14.7, 14.11): the architecture is checked against the
stored arrays before anything is built, and every refusal is one ModelFileError naming the field,
the key or the layer."""

import json
import tracemalloc

import numpy as np
import pytest

import sinapsi as sn
from sinapsi import io, nn, optim

MiB = 2**20
LINEAR = {"type": "Linear", "config": {"in_features": 4, "out_features": 3, "bias": True}}


def good_record(**changes):
    record = {"kind": "sinapsi.model", "dtype": "float32", "module_rngs": {}, "user": {},
              "architecture": {"type": "Sequential", "layers": [LINEAR]}}  # fmt: skip
    record.update(changes)
    return record


def good_arrays(**changes):
    arrays = {"model/0.weight": np.ones((3, 4), np.float32),
              "model/0.bias": np.zeros(3, np.float32)}  # fmt: skip
    arrays.update(changes)
    return {k: v for k, v in arrays.items() if v is not None}


def forge(tmp_path, arrays=None, **record):
    return io.save_arrays(tmp_path / "m.npz", good_arrays(**(arrays or {})), good_record(**record))


def test_the_forged_file_of_these_tests_loads(tmp_path):
    model = sn.load(forge(tmp_path))
    np.testing.assert_array_equal(model[0].weight.data, np.ones((3, 4)))


def test_an_architecture_larger_than_the_file_is_refused_before_building_it(tmp_path):
    huge = {"type": "Linear", "config": {"in_features": 4000, "out_features": 4000}}
    arch = {"type": "Sequential", "layers": [huge]}
    empty = io.save_arrays(tmp_path / "empty.npz", {}, good_record(architecture=arch))
    assert empty.stat().st_size < 1000
    tracemalloc.start()
    try:
        with pytest.raises(
            io.ModelFileError,
            match=r"Cannot load .*empty.npz.*: the architecture "
            r"declares '0.weight' with shape \(4000, 4000\), but the file holds "
            r"no such array",
        ):
            sn.load(empty)
        small = io.save_arrays(
            tmp_path / "small.npz", good_arrays(), good_record(architecture=arch)
        )
        with pytest.raises(
            io.ModelFileError,
            match=r"the layer '0' declares weight \(4000, 4000\)"
            r", but the file holds \(3, 4\)",
        ):
            sn.load(small)
        assert tracemalloc.get_traced_memory()[1] < 4 * MiB
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize(
    "value, match",
    [
        (np.full((3, 4), np.nan, np.float32), r"'model/0.weight' holds 12 NaN or infinite values"),
        (np.full((3, 4), np.inf, np.float32), r"'model/0.weight' holds 12 NaN or infinite"),
        (
            np.ones((3, 4), np.complex64),
            r"'model/0.weight' has dtype complex64; a model's "
            r"weights are float32",
        ),
        (np.ones((3, 4), bool), r"'model/0.weight' has dtype bool; a model's weights are float32"),
        (np.full((3, 4), "w"), r"'model/0.weight' has dtype <U1; a model's weights are float32"),
        (
            np.ones((3, 4), np.float64),
            r"'model/0.weight' has dtype float64; a model's weights "
            r"are float32 \(the file's declared dtype\)",
        ),
        (np.ones((3, 4), np.int32), r"'model/0.weight' has dtype int32"),
    ],
)
def test_weights_that_are_not_finite_floats_of_the_declared_dtype_are_refused(
    tmp_path, value, match
):
    with pytest.raises(io.ModelFileError, match=match):
        sn.load(forge(tmp_path, {"model/0.weight": value}))


def test_missing_extra_and_unknown_arrays_are_refused(tmp_path):
    with pytest.raises(
        io.ModelFileError,
        match=r"declares '0.bias' with shape \(3,\), but the "
        r"file holds no such array",
    ):
        sn.load(forge(tmp_path, {"model/0.bias": None}))
    with pytest.raises(
        io.ModelFileError,
        match=r"holds 'model/1.weight', which the architecture "
        r"does not declare",
    ):
        sn.load(forge(tmp_path, {"model/1.weight": np.ones(2, np.float32)}))
    with pytest.raises(
        io.ModelFileError,
        match=r"holds the array 'junk', which is neither "
        r"'model/...' nor 'optimizer/...'",
    ):
        sn.load(forge(tmp_path, {"junk": np.ones(2)}))


@pytest.mark.parametrize(
    "changes, match",
    [
        ({"architecture": None}, r"its metadata field 'architecture' is missing"),
        (
            {"architecture": [1, 2]},
            r"field 'architecture' must be a module description \(a "
            r"dict with 'type'\); got \[1, 2\]",
        ),
        (
            {"architecture": {"type": "Sequential", "layers": 5}},
            r"'architecture.layers' must be a list; got 5",
        ),
        (
            {"architecture": {"type": "Linear", "config": [4, 3]}},
            r"'architecture.config' must be a dict; got \[4, 3\]",
        ),
        (
            {
                "architecture": {
                    "type": "Sequential",
                    "layers": [LINEAR, {"type": "Dropout", "config": {"p": "x"}}],
                }
            },
            r"Cannot rebuild Dropout \(architecture.layers\[1\]\): its config value p='x' is",
        ),
        (
            {"dtype": "float99"},
            r"field 'dtype' must be 'float16', 'float32' or 'float64'; got "
            r"'float99'",
        ),
        ({"dtype": "complex64"}, r"field 'dtype' must be 'float16', 'float32' or 'float64'"),
        ({"dtype": 5}, r"field 'dtype' must be 'float16', 'float32' or 'float64'; got 5"),
        ({"module_rngs": [1]}, r"field 'module_rngs' must be a dict; got \[1\]"),
        (
            {"module_rngs": {"0": np.random.default_rng(0).bit_generator.state}},
            r"field 'module_rngs\['0'\]' names the module '0', which has no random generator",
        ),
        (
            {"module_rngs": {"0": {"bit_generator": "PCG64", "state": "x"}}},
            r"field 'module_rngs\['0'\]' is not a random generator state",
        ),
        ({"user": "notes"}, r"field 'user' must be a dict; got 'notes'"),
        ({"training": [1, 2]}, r"field 'training' must be a dict or null; got \[1, 2\]"),
        ({"training": {"epoch": -1}}, r"field 'training.epoch' must be an int >= 0; got -1"),
        (
            {"training": {"epoch": 1, "fit_rng": {"bit_generator": "PCG64"}}},
            r"field 'training.fit_rng' is not a random generator state",
        ),
        ({"training": {"history": [1]}}, r"field 'training.history' must be a dict"),
        ({"optimizer": {"type": "SGD"}}, r"field 'optimizer.param_groups' is missing"),
        (
            {"optimizer": {"type": "SGD", "param_groups": [{"params": ["a"]}]}},
            r"'optimizer.param_groups\[0\].params' must be a list of distinct ints",
        ),
        (
            {"optimizer": {"type": "SGD", "param_groups": [{"params": [0], "lr": float("nan")}]}},
            r"'optimizer.param_groups\[0\].lr' must be finite; got nan",
        ),
        (
            {"optimizer": {"type": "SGD", "param_groups": [{"params": [0]}], "scalars": {"x": {}}}},
            r"'optimizer.scalars' has the key 'x', which is not a parameter index in param_groups",
        ),
        ({"optimizer": {"type": 3, "param_groups": []}}, r"'optimizer.type' must be a str"),
    ],
)
def test_missing_or_malformed_metadata_fields_are_refused_naming_the_field(
    tmp_path, changes, match
):
    record = good_record(**changes)
    record = {k: v for k, v in record.items() if v is not None}
    path = io.save_arrays(tmp_path / "m.npz", good_arrays(), record)
    with pytest.raises(io.ModelFileError, match=match):
        io.load_checkpoint(path)


def test_optimizer_arrays_are_checked_against_their_parameters(tmp_path):
    model = nn.Sequential(nn.Linear(4, 3, rng=0))
    opt = optim.Adam(model.parameters())
    sn.fit(model, np.ones((8, 4)), np.ones((8, 3)), loss="mse", optimizer=opt, epochs=1,
           verbose=0)  # fmt: skip
    path = sn.save(model, tmp_path / "m.npz", optimizer=opt)
    arrays, record = io.load_arrays(path)
    assert io.load_checkpoint(path).optimizer_state["state"][0]["exp_avg"].shape == (3, 4)
    bad = {**arrays, "optimizer/0/exp_avg": np.zeros((4, 3), np.float32)}
    io.save_arrays(path, bad, record)
    with pytest.raises(
        io.ModelFileError,
        match=r"'optimizer/0/exp_avg' has shape \(4, 3\), but "
        r"its parameter '0.weight' has shape \(3, 4\)",
    ):
        io.load_checkpoint(path)
    for key, match in [("optimizer/x/exp_avg", r"'optimizer/x/exp_avg' is not named "
                        r"'optimizer/<parameter index>/<name>'"),
                       ("optimizer/7/exp_avg", r"'optimizer/7/exp_avg' is for parameter 7, "
                        r"which param_groups does not list")]:  # fmt: skip
        io.save_arrays(path, {**arrays, key: np.zeros((3, 4), np.float32)}, record)
        with pytest.raises(io.ModelFileError, match=match):
            io.load_checkpoint(path)
    nan = {**arrays, "optimizer/0/exp_avg": np.full((3, 4), np.nan, np.float32)}
    io.save_arrays(path, nan, record)
    with pytest.raises(io.ModelFileError, match=r"'optimizer/0/exp_avg' holds 12 NaN"):
        io.load_checkpoint(path)


def nested(depth):
    spec = LINEAR
    for _ in range(depth):
        spec = {"type": "Sequential", "layers": [spec]}
    return spec


@pytest.mark.parametrize("depth", [100, 3000])
def test_a_deeply_nested_architecture_is_refused(tmp_path, depth):
    arrays = {f"model/{'0.' * depth}weight": np.ones((3, 4), np.float32),
              f"model/{'0.' * depth}bias": np.zeros(3, np.float32)}  # fmt: skip
    path = tmp_path / "deep.npz"
    text = json.dumps({"format": io.FORMAT, "version": 1, **good_record(architecture=None)})
    text = (
        text[:-1]
        + ', "architecture": '
        + "".join('{"type": "Sequential", "layers": [' for _ in range(depth))
        + json.dumps(LINEAR)
        + "]}" * depth
        + "}"
    )
    payload = {**arrays, "__sinapsi_metadata__": np.frombuffer(text.encode(), np.uint8)}
    np.savez(path, **payload)
    match = r"nested 100 deep; sinapsi reads up to 64" if depth == 100 else r"nested too deeply"
    with pytest.raises(io.ModelFileError, match=match):
        sn.load(path)


def test_an_architecture_with_too_many_modules_is_refused(tmp_path):
    arch = {"type": "Sequential", "layers": [{"type": "ReLU"}] * 20_000}
    path = io.save_arrays(tmp_path / "m.npz", {}, good_record(architecture=arch))
    with pytest.raises(io.ModelFileError, match=r"declares 20001 modules; sinapsi builds up to"):
        sn.load(path)


def test_saving_refuses_what_loading_would_refuse(tmp_path):
    model = nn.Sequential(nn.Linear(4, 3, rng=0))
    model[0].weight.data[0, 0] = np.nan
    with pytest.raises(ValueError, match=r"save: the model's '0.weight' holds 1 NaN or infinite"):
        sn.save(model, tmp_path / "m.npz")
    mixed = nn.Sequential(nn.Linear(4, 3, rng=0), nn.Linear(3, 2, rng=1, dtype="float64"))
    with pytest.raises(ValueError, match=r"save: the model mixes float32 and float64 .*astype"):
        sn.save(mixed, tmp_path / "m.npz")
    assert not (tmp_path / "m.npz").exists()


BUILT_INS = [
    LINEAR, {"type": "Linear", "config": {"in_features": 2, "out_features": 5, "bias": False}},
    {"type": "Embedding", "config": {"num_embeddings": 7, "embedding_dim": 3}},
    {"type": "BatchNorm1d", "config": {"num_features": 4}},
    {"type": "BatchNorm1d", "config": {"num_features": 4, "affine": False}},
    {"type": "BatchNorm1d", "config": {"num_features": 4, "track_running_stats": False}},
    {"type": "Normalization", "config": {"num_features": 3}},
    {"type": "Normalization", "config": {"num_features": None}},
    {"type": "Dropout", "config": {"p": 0.1}}, {"type": "ReLU"}, {"type": "Identity"},
    {"type": "ModuleList", "modules": [LINEAR, {"type": "Sequential", "layers": [LINEAR]}]},
    {"type": "Conv2d", "config": {"in_channels": 4, "out_channels": 6, "kernel_size": [3, 5],
                                  "groups": 2}},
    {"type": "Conv2d", "config": {"in_channels": 1, "out_channels": 2, "kernel_size": 3,
                                  "bias": False}},
    {"type": "Conv1d", "config": {"in_channels": 3, "out_channels": 2, "kernel_size": [4]}},
    {"type": "BatchNorm2d", "config": {"num_features": 5}},
    {"type": "MaxPool2d", "config": {"kernel_size": 2}},
    {"type": "AvgPool2d", "config": {"kernel_size": 2}},
    {"type": "AdaptiveAvgPool2d", "config": {"output_size": 1}},
    {"type": "Dropout2d", "config": {"p": 0.2}},
    {"type": "Unflatten", "config": {"dim": 1, "unflattened_size": [1, 8, 8]}},
]  # fmt: skip


@pytest.mark.parametrize("spec", BUILT_INS, ids=lambda s: s["type"])  # the convnet layers too
def test_declared_shapes_are_the_shapes_the_built_module_has(spec):
    from sinapsi.nn.registry import declared_state

    built = nn.build_module(spec).state_dict()
    expected = {k: (tuple(v.shape), v.dtype.kind) for k, v in built.items()}
    assert declared_state(spec) == (expected, [])


def test_the_state_of_custom_modules_is_left_to_the_built_model():
    from sinapsi.nn.registry import declared_state

    spec = {"type": "Sequential", "layers": [LINEAR, {"type": "HostileScale", "config": {}}]}
    state, unknown = declared_state(spec)
    assert set(state) == {"0.weight", "0.bias"} and unknown == ["1."]


@nn.register_module("HostileScale")
class Scale(nn.Module):
    """A custom module: its state is known only once built."""

    def __init__(self, width=3):
        super().__init__()
        self.width = width
        self.scale = nn.Parameter(np.ones(width, np.float32))

    def forward(self, x):
        return x * self.scale

    def get_config(self):
        return {"width": self.width}


def test_custom_modules_are_checked_once_built(tmp_path):
    model = nn.Sequential(nn.Linear(4, 3, rng=0), Scale(3))
    path = sn.save(model, tmp_path / "m.npz")
    np.testing.assert_array_equal(sn.load(path)[1].scale.data, np.ones(3))
    arrays, record = io.load_arrays(path)  # format 2: the arrays are named by state_dict keys
    for value, match in [
        (np.ones(5, np.float32), r"'1.scale' is float32 \(5,\), but the model built from "
         r"its architecture has float32 \(3,\)"),
        (np.ones(3, np.int64), r"'1.scale' is int64 \(3,\), but the model built"),
        (None, r"the model has '1.scale', but the file holds no such array"),
    ]:  # fmt: skip
        changed = {**arrays, "1.scale": value}
        io.save_arrays(path, {k: v for k, v in changed.items() if v is not None}, record)
        with pytest.raises(io.ModelFileError, match=match):
            sn.load(path)


@nn.register_module("HostileWide")
class Wide(nn.Module):
    """A custom module whose config sets its size."""

    def __init__(self, width=3):
        super().__init__()
        self.width = width
        self.inner = nn.Linear(width, width, rng=0)

    def forward(self, x):
        return self.inner(x)

    def get_config(self):
        return {"width": self.width}


def test_custom_modules_build_no_more_than_the_file_holds(tmp_path):
    wide = {"type": "HostileWide", "config": {"width": 300}}
    arch = {"type": "Sequential", "layers": [LINEAR] + [wide] * 50}
    path = io.save_arrays(tmp_path / "m.npz", good_arrays(), good_record(architecture=arch))
    tracemalloc.start()
    try:
        with pytest.raises(
            io.ModelFileError,
            match=r"'architecture.layers\[1\]' \(HostileWide "
            r"with config \{'width': 300\}\) builds 361260 bytes",
        ):
            sn.load(path)
        assert tracemalloc.get_traced_memory()[1] < 4 * MiB  # not 50 of them: 18 MB
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize("step", [-1, 2.5, True])
def test_an_optimizer_step_count_must_be_a_count(tmp_path, step):
    opt = {"type": "SGD", "param_groups": [{"params": [0, 1]}], "scalars": {"0": {"step": step}}}
    path = io.save_arrays(tmp_path / "m.npz", good_arrays(), good_record(optimizer=opt))
    with pytest.raises(io.ModelFileError, match=r"'optimizer.scalars\['0'\].step' must be an int"):
        io.load_checkpoint(path)


def test_saving_refuses_an_architecture_that_loading_would_refuse(tmp_path):
    deep = nn.Linear(2, 2, rng=0)
    for _ in range(70):
        deep = nn.Sequential(deep)
    with pytest.raises(ValueError, match=r"save: 'the model' is nested 70 deep; sinapsi reads"):
        sn.save(deep, tmp_path / "m.npz")
    assert not (tmp_path / "m.npz").exists()


@pytest.mark.parametrize(
    "layer, config, match",
    [
        ("LeakyReLU", {"negative_slope": "x"}, r"negative_slope='x' is a str; LeakyReLU\("),
        ("ELU", {"alpha": [1]}, r"alpha=\[1\] is a list; ELU\(alpha=...\) takes float"),
        ("Flatten", {"start_axis": "a"}, r"start_axis='a' is a str; Flatten\(.*\) takes"),
        ("BatchNorm1d", {"num_features": 3, "eps": float("nan")}, r"eps=nan is not finite"),
        ("Softmax", {"axis": 1.5}, r"axis=1.5 is a float; Softmax\(axis=...\) takes int or None"),
        ("Linear", {"in_features": 2, "out_features": 2, "bias": "no"},
         r"bias='no' is a str; Linear\(bias=...\) takes bool"),
    ],
)  # fmt: skip
def test_config_values_of_the_wrong_type_are_refused(layer, config, match):
    with pytest.raises(
        ValueError, match=rf"Cannot rebuild {layer} \(spec\): its config value {match}"
    ):
        nn.build_module({"type": layer, "config": config})


def test_config_values_of_the_right_kind_are_accepted():
    assert (
        nn.build_module({"type": "LeakyReLU", "config": {"negative_slope": 0}}).negative_slope == 0
    )
    momentum = {"num_features": 3, "momentum": None}  # None is always allowed
    assert nn.build_module({"type": "BatchNorm1d", "config": momentum}).momentum is None
