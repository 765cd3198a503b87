"""sinapsi.save / sinapsi.load of convnets: architecture, weights and buffers round-trip, the
loaded model predicts bit-identically, and training resumes bit-identically from a checkpoint."""

import numpy as np
import pytest

import sinapsi as sn
from sinapsi import io, nn
from sinapsi.train import ModelCheckpoint


def every_conv_layer_model(dtype=None):
    return nn.Sequential(
        nn.Unflatten(1, (1, 10, 10)),
        nn.Conv2d(1, 4, 3, padding="same", rng=0, dtype=dtype),
        nn.BatchNorm2d(4, momentum=0.2, dtype=dtype),
        nn.ReLU(),
        nn.MaxPool2d(3, 2, 1, ceil_mode=True),
        nn.Dropout2d(0.2, rng=1),
        nn.Conv2d(
            4,
            6,
            (3, 2),
            stride=(1, 2),
            padding=(2, 1),
            dilation=2,
            groups=2,
            rng=2,
            padding_mode="reflect",
            dtype=dtype,
        ),  # fmt: skip
        nn.Tanh(),
        nn.AvgPool2d(2, 1, 1, count_include_pad=False, ceil_mode=True),
        nn.Conv2d(6, 6, 1, bias=False, init="he", rng=3, dtype=dtype),
        nn.AdaptiveAvgPool2d((2, None)),
        nn.Flatten(1, 2),
        nn.Conv1d(12, 5, 3, padding=1, rng=4, dtype=dtype),
        nn.Flatten(),
        nn.Linear(5 * 4, 3, rng=5, dtype=dtype),
    )


def _data(n=24, seed=0, dtype="float32"):
    data = np.random.default_rng(seed)
    return data.normal(size=(n, 100)).astype(dtype), data.integers(0, 3, size=n)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_round_trip_gives_identical_predictions(dtype, tmp_path):
    model = every_conv_layer_model(dtype)
    x, y = _data(dtype=dtype)
    sn.fit(model, x, y, epochs=2, batch_size=8, seed=0, verbose=0)
    assert int(model[2].num_batches_tracked) == 6
    path = sn.save(model, tmp_path / "convnet.npz")
    clone = sn.load(path)
    assert repr(clone) == repr(model)
    assert [m.get_config() for m in clone.modules()] == [m.get_config() for m in model.modules()]
    state, loaded = model.state_dict(), clone.state_dict()
    assert list(loaded) == list(state)
    for key in state:
        assert np.asarray(loaded[key]).dtype == np.asarray(state[key]).dtype, key
        np.testing.assert_array_equal(loaded[key], state[key], err_msg=key)
    np.testing.assert_array_equal(sn.predict(clone, x), sn.predict(model, x))
    assert not clone.training


def test_loaded_dropout2d_draws_the_same_masks(tmp_path):
    """The modules' generators are saved: a loaded model in training drops the same channels."""
    model = nn.Sequential(nn.Conv2d(1, 8, 1, rng=0), nn.Dropout2d(0.5, rng=3))
    x = np.random.default_rng(1).normal(size=(4, 1, 3, 3)).astype(np.float32)
    model(sn.Tensor(x))  # move the generator past its seed
    clone = sn.load(sn.save(model, tmp_path / "m.npz"))
    model.train()
    clone.train()
    a, b = model(sn.Tensor(x)).data, clone(sn.Tensor(x)).data
    np.testing.assert_array_equal(a, b)
    assert (a == 0).all(axis=(2, 3)).any()


def test_resume_from_a_checkpoint_equals_an_uninterrupted_run(tmp_path):
    def setup():
        return every_conv_layer_model(), *_data(32, seed=1)

    kwargs = {"epochs": 4, "batch_size": 8, "seed": 0, "verbose": 0, "optimizer": "adam"}
    straight, x, y = setup()
    full = sn.fit(straight, x, y, **kwargs)
    first, _, _ = setup()
    ckpt = ModelCheckpoint(tmp_path / "ep{epoch}.npz", save_best_only=False)
    sn.fit(first, x, y, **{**kwargs, "epochs": 2}, callbacks=[ckpt])
    resumed_model, _, _ = setup()
    resumed = sn.fit(resumed_model, x, y, resume_from=tmp_path / "ep2.npz", **kwargs)
    assert resumed.history["loss"] == full.history["loss"]
    for a, b in zip(straight.parameters(), resumed_model.parameters()):
        np.testing.assert_array_equal(a.data, b.data)
    ckpt = io.load_checkpoint(tmp_path / "ep2.npz")
    assert ckpt.optimizer_type == "Adam" and ckpt.metadata["epoch"] == 2
