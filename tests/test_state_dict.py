"""Weights the PyTorch way (issue 19): sinapsi's safetensors files load into the matching torch
modules and back, with torch's state_dict keys and layouts; the model files of sinapsi.save are
such files too; hostile or broken files are refused in one line without unbounded reads."""

import json
import struct
import tracemalloc

import numpy as np
import pytest
import safetensors.numpy
import safetensors.torch
import torch

import sinapsi as sn
from sinapsi import io, nn, optim

MiB = 2**20


def sinapsi_mlp():
    return nn.Sequential(
        nn.Linear(5, 8, rng=0), nn.BatchNorm1d(8), nn.ReLU(), nn.Linear(8, 3, rng=1)
    )  # fmt: skip


def torch_mlp():
    return torch.nn.Sequential(
        torch.nn.Linear(5, 8), torch.nn.BatchNorm1d(8), torch.nn.ReLU(), torch.nn.Linear(8, 3)
    )  # fmt: skip


def sinapsi_convnet():
    return nn.Sequential(
        nn.Conv2d(1, 4, 3, padding=1, rng=0), nn.BatchNorm2d(4), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(4, 6, (3, 2), groups=2, rng=1), nn.Flatten(), nn.Linear(6 * 2 * 3, 3, rng=2),
    )  # fmt: skip


def torch_convnet():
    t = torch.nn
    return t.Sequential(
        t.Conv2d(1, 4, 3, padding=1), t.BatchNorm2d(4), t.ReLU(), t.MaxPool2d(2),
        t.Conv2d(4, 6, (3, 2), groups=2), t.Flatten(), t.Linear(6 * 2 * 3, 3),
    )  # fmt: skip


CASES = [(sinapsi_mlp, torch_mlp, (16, 5)), (sinapsi_convnet, torch_convnet, (6, 1, 8, 8))]


def trained(make, shape):
    """A model whose running statistics and num_batches_tracked have moved off their defaults."""
    model = make()
    x = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
    sn.fit(model, x, np.arange(shape[0]) % 3, epochs=2, batch_size=4, seed=0, verbose=0)
    return model, x


def torch_out(module, x):
    module.eval()
    with torch.no_grad():
        return module(torch.from_numpy(x)).numpy()


@pytest.mark.parametrize("make, make_torch, shape", CASES, ids=["mlp", "convnet"])
def test_save_state_dict_loads_into_the_matching_torch_module(tmp_path, make, make_torch, shape):
    model, x = trained(make, shape)
    path = sn.save_state_dict(model, tmp_path / "w.safetensors")
    state = safetensors.torch.load_file(path)
    target = make_torch()
    assert list(state) != [] and set(state) == set(target.state_dict())  # torch's very names
    target.load_state_dict(state)  # strict: every key and shape
    assert int(state["1.num_batches_tracked"]) == int(model[1].num_batches_tracked) > 0
    assert state["1.num_batches_tracked"].dtype == torch.int64 and state["1.running_var"].ndim
    np.testing.assert_allclose(torch_out(target, x), sn.predict(model, x), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("make, make_torch, shape", CASES, ids=["mlp", "convnet"])
def test_a_file_written_by_torch_loads_into_the_matching_sinapsi_module(
    tmp_path, make, make_torch, shape
):
    torch.manual_seed(0)
    source = make_torch()
    source.train()
    x = np.random.default_rng(1).standard_normal(shape).astype(np.float32)
    source(torch.from_numpy(x))  # move the running statistics
    safetensors.torch.save_file(source.state_dict(), tmp_path / "t.safetensors")
    state = sn.load_state_dict(tmp_path / "t.safetensors")
    assert all(isinstance(v, np.ndarray) for v in state.values())
    model = make()
    model.load_state_dict(state)
    np.testing.assert_allclose(sn.predict(model, x), torch_out(source, x), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("make, make_torch, shape", CASES, ids=["mlp", "convnet"])
def test_model_files_of_save_load_in_torch(tmp_path, make, make_torch, shape):
    model, x = trained(make, shape)
    opt = optim.Adam(model.parameters())
    sn.fit(model, x, np.arange(shape[0]) % 3, optimizer=opt, epochs=1, verbose=0)
    path = sn.save(model, tmp_path / "model.safetensors", optimizer=opt)
    state = safetensors.torch.load_file(path)
    assert any(k.startswith("optimizer/") for k in state)  # under a prefix no module key has
    target = make_torch()
    target.load_state_dict({k: v for k, v in state.items() if "/" not in k})
    np.testing.assert_allclose(torch_out(target, x), sn.predict(model, x), rtol=1e-5, atol=1e-5)
    with safetensors.safe_open(path, "pt") as f:  # the architecture, readable without sinapsi
        meta = f.metadata()
    assert json.loads(meta["architecture"])["type"] == "Sequential"
    assert json.loads(meta["format"]) == io.FORMAT and json.loads(meta["version"]) == 2
    assert set(sn.load_state_dict(path)) == set(target.state_dict())  # the optimizer left out
    clone = sn.load(path)
    np.testing.assert_array_equal(sn.predict(clone, x), sn.predict(model, x))


def test_the_old_zip_model_files_still_load(tmp_path):
    """Format 1 (before issue 19): a zip of .npy arrays named 'model/<key>'."""
    model = sinapsi_mlp()
    record = {"kind": "sinapsi.model", "architecture": nn.module_spec(model), "dtype": "float32",
              "module_rngs": {}, "user": {"note": "old"}}  # fmt: skip
    arrays = {f"model/{k}": v for k, v in model.state_dict().items()}
    old = io.save_arrays(tmp_path / "old.npz", arrays, record)
    assert old.read_bytes()[:2] == b"PK"
    x = np.ones((2, 5), np.float32)
    np.testing.assert_array_equal(sn.predict(sn.load(old), x), sn.predict(model, x))
    assert set(sn.load_state_dict(old)) == set(model.state_dict())
    assert sn.save(model, tmp_path / "new.npz").read_bytes()[8:9] == b"{"  # safetensors now


def test_a_state_dict_dict_and_tensors_save_too(tmp_path):
    model = nn.Linear(3, 2, rng=0)
    state = {"weight": model.weight, "bias": model.bias.data, "step": np.array(4)}
    loaded = sn.load_state_dict(sn.save_state_dict(state, tmp_path / "w.st", metadata={"a": "b"}))
    np.testing.assert_array_equal(loaded["weight"], model.weight.data)
    assert loaded["step"].shape == () and int(loaded["step"]) == 4
    with safetensors.safe_open(tmp_path / "w.st", "np") as f:
        assert f.metadata() == {"a": "b"}


@pytest.mark.parametrize(
    "value, error, match",
    [
        (np.array([1.0, np.nan], np.float32), ValueError, r"'w' holds 1 NaN or infinite"),
        (np.ones(2, np.complex64), TypeError, r"'w' has dtype complex64; a safetensors file"),
        (np.array(["a"]), TypeError, r"'w' has dtype <U1"),
    ],
)
def test_saving_refuses_what_loading_would_refuse_and_writes_nothing(tmp_path, value, error, match):
    with pytest.raises(error, match=match):
        sn.save_state_dict({"w": value}, tmp_path / "w.safetensors")
    with pytest.raises(TypeError, match=r"a sinapsi nn.Module or a dict of arrays; got list"):
        sn.save_state_dict([1], tmp_path / "w.safetensors")
    with pytest.raises(TypeError, match=r"metadata must be a dict of str to str"):
        sn.save_state_dict({}, tmp_path / "w.safetensors", metadata={"a": 1})
    assert list(tmp_path.iterdir()) == []


def test_writes_are_atomic_and_leave_nothing_else(tmp_path):
    path = tmp_path / "w.safetensors"
    sn.save_state_dict({"a": np.ones(3, np.float32)}, path)
    sn.save_state_dict({"a": np.zeros(3, np.float32)}, path)
    assert [p.name for p in tmp_path.iterdir()] == ["w.safetensors"]  # no temp left behind
    np.testing.assert_array_equal(sn.load_state_dict(path)["a"], np.zeros(3))


def forged(tmp_path, header, data=b"", length=None):
    text = json.dumps(header).encode()
    path = tmp_path / "f.safetensors"
    path.write_bytes(struct.pack("<Q", len(text) if length is None else length) + text + data)
    return path


def entry(dtype="F32", shape=(2,), offsets=(0, 8)):
    return {"dtype": dtype, "shape": list(shape), "data_offsets": list(offsets)}


@pytest.mark.parametrize(
    "header, data, match",
    [
        ({"w": entry(shape=(50_000, 20_000), offsets=(0, 4 * 10**9))}, bytes(8),
         r"its tensors hold 4000000000 bytes, but the file has 8 after the header"),
        ({"w": entry(offsets=(0, 12))}, bytes(12), r"declares shape \(2,\) float32 \(8 bytes\), "
         r"but its data_offsets span 12"),
        ({"w": entry(dtype="BF16", offsets=(0, 4))}, bytes(4),
         r"the tensor 'w' has dtype 'BF16', which sinapsi does not read \(.*\.float\(\)"),
        ({"w": entry(dtype="OBJ")}, bytes(8), r"has dtype 'OBJ', which sinapsi does not read"),
        ({"w": entry(shape=(-2,))}, bytes(8), r"the tensor 'w' has a malformed shape \[-2\]"),
        ({"w": entry(), "v": entry()}, bytes(8), r"starts at byte 0, expected 8: the tensors "
         r"overlap"),
        ({"w": entry()}, bytes(4), r"its tensors hold 8 bytes, but the file has 4"),
        ({"w": entry()}, np.array([1, np.inf], np.float32).tobytes(),
         r"the tensor 'w' holds 1 NaN or infinite values"),
        ({"__metadata__": {"a": 1}}, b"", r"its __metadata__ is not a dict of str to str"),
        ({"w": [1, 2]}, b"", r"the entry 'w' is not a tensor description"),
    ],
)  # fmt: skip
def test_hostile_or_broken_files_are_refused_in_one_line(tmp_path, header, data, match):
    path = forged(tmp_path, header, data)
    tracemalloc.start()
    try:
        with pytest.raises(io.ModelFileError, match=match) as caught:
            sn.load_state_dict(path)
        with pytest.raises(io.ModelFileError, match=match):
            sn.load(path)  # the model file's reader checks the same first
        assert tracemalloc.get_traced_memory()[1] < 4 * MiB
    finally:
        tracemalloc.stop()
    assert "\n" not in str(caught.value) and str(path) in str(caught.value)


def test_a_huge_or_lying_header_length_is_refused_before_reading_it(tmp_path):
    with pytest.raises(io.ModelFileError, match=r"header claims 1099511627776 bytes, but the file"):
        sn.load_state_dict(forged(tmp_path, {}, length=2**40))
    big = tmp_path / "big.safetensors"
    with open(big, "wb") as f:  # a sparse file: a real 40 MiB header of spaces costs no disk
        f.write(struct.pack("<Q", 40 * MiB) + b"{")
        f.truncate(8 + 40 * MiB)
    tracemalloc.start()
    try:
        with pytest.raises(io.ModelFileError, match=r"its header is 40.0 MiB; sinapsi reads"):
            sn.load_state_dict(big)
        assert tracemalloc.get_traced_memory()[1] < 4 * MiB
    finally:
        tracemalloc.stop()
    deep = forged(tmp_path, {})
    text = b'{"a":' * 100_000 + b"1" + b"}" * 100_000
    deep.write_bytes(struct.pack("<Q", len(text)) + text)
    with pytest.raises(io.ModelFileError, match=r"not a valid sinapsi file .*(nested|JSON)"):
        sn.load_state_dict(deep)


def test_truncated_and_foreign_files_are_refused(tmp_path):
    path = sn.save(sinapsi_mlp(), tmp_path / "m.safetensors")
    whole = path.read_bytes()
    for cut in (4, 100, len(whole) - 3):
        path.write_bytes(whole[:cut])
        with pytest.raises(io.ModelFileError, match=r"not a valid sinapsi file .*truncated"):
            sn.load(path)
    text = tmp_path / "notes.txt"
    text.write_text("hello, these are not weights")
    with pytest.raises(io.ModelFileError, match=r"neither safetensors nor a zip of .npy arrays"):
        sn.load_state_dict(text)
    torch_file = tmp_path / "t.safetensors"
    safetensors.torch.save_file(torch_mlp().state_dict(), torch_file, metadata={"format": "pt"})
    with pytest.raises(io.ModelFileError, match=r"not a sinapsi model file .*sinapsi.load_state"):
        sn.load(torch_file)
    with pytest.raises(FileNotFoundError, match="No such file"):
        sn.load_state_dict(tmp_path / "missing.safetensors")
    with pytest.raises(IsADirectoryError, match="it is a folder"):
        sn.load_state_dict(tmp_path)


def test_a_model_file_with_a_broken_metadata_field_names_it(tmp_path):
    path = sn.save(sinapsi_mlp(), tmp_path / "m.safetensors")
    with safetensors.safe_open(path, "np") as f:
        meta, tensors = f.metadata(), {k: f.get_tensor(k) for k in f.keys()}
    for field, text, match in [
        ("architecture", "{not json", r"its metadata field 'architecture' is not valid JSON"),
        ("version", "3", r"newer sinapsi \(format version 3"),
        ("dtype", '"float99"', r"field 'dtype' must be 'float16', 'float32' or 'float64'"),
    ]:
        safetensors.numpy.save_file(tensors, path, metadata={**meta, field: text})
        with pytest.raises(io.ModelFileError, match=match):
            sn.load(path)
    safetensors.numpy.save_file({**tensors, "opt/0.weight": tensors["0.weight"]}, path, meta)
    with pytest.raises(io.ModelFileError, match=r"'opt/0.weight', which is neither a state_dict"):
        sn.load(path)
    safetensors.numpy.save_file({**tensors, "model/0.weight": tensors["0.weight"]}, path, meta)
    with pytest.raises(io.ModelFileError, match=r"which is neither 'model/...' nor 'optimizer"):
        sn.load(path)  # format 1's names and format 2's, mixed
    bad = {**tensors, "0.weight": np.ones((8, 4), np.float32)}
    safetensors.numpy.save_file(bad, path, meta)
    with pytest.raises(io.ModelFileError, match=r"the layer '0' declares weight \(8, 5\), but"):
        sn.load(path)
