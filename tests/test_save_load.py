"""sinapsi.save / sinapsi.load: every layer type round-trips; training resumes bit-identically;
files that are not saved models are refused with a reason."""

import numpy as np
import pytest

import sinapsi as sn
from sinapsi import io, nn, optim
from sinapsi.train import ModelCheckpoint


def every_layer_model():
    return nn.Sequential(
        nn.Flatten(),
        nn.Linear(6, 8, init="he", rng=0), nn.BatchNorm1d(8, momentum=0.2), nn.ReLU(),
        nn.Dropout(0.3, rng=1),
        nn.Linear(8, 8, rng=2), nn.LeakyReLU(0.2), nn.Linear(8, 8, rng=3), nn.ELU(0.5),
        nn.Linear(8, 8, rng=4), nn.GELU("tanh"), nn.Linear(8, 8, rng=5), nn.GELU(),
        nn.Linear(8, 8, rng=6), nn.Softplus(2.0, 10.0), nn.Linear(8, 8, rng=7), nn.Sigmoid(),
        nn.Linear(8, 8, rng=8), nn.Tanh(), nn.Identity(), nn.Linear(8, 4, rng=9),
        nn.LogSoftmax(axis=1),
    )  # fmt: skip


def test_round_trip_gives_identical_predictions_for_every_layer_type(tmp_path):
    model = every_layer_model()
    x = np.random.default_rng(0).standard_normal((16, 2, 3))
    sn.fit(model, x, np.arange(16) % 4, loss="nll", epochs=2, batch_size=4, verbose=0)
    path = sn.save(model, tmp_path / "model.safetensors", metadata={"note": "every layer"})
    clone = sn.load(path)
    assert repr(clone) == repr(model)
    np.testing.assert_array_equal(sn.predict(clone, x), sn.predict(model, x))
    np.testing.assert_array_equal(clone[2].running_var, model[2].running_var)
    assert int(clone[2].num_batches_tracked) == int(model[2].num_batches_tracked) == 8
    assert not clone.training
    assert io.load_checkpoint(path).metadata == {"note": "every layer"}


def test_embedding_and_float64_models_round_trip(tmp_path):
    model = nn.Sequential(nn.Embedding(10, 3, rng=0), nn.Flatten(), nn.Linear(6, 2, rng=1))
    model.astype("float64")
    path = sn.save(model, tmp_path / "emb.npz")
    clone = sn.load(path)
    ids = np.array([[1, 9], [0, 3]])
    assert clone[0].weight.dtype == np.float64
    np.testing.assert_array_equal(sn.predict(clone, ids), sn.predict(model, ids))


@nn.register_module()
class Residual(nn.Module):
    """A custom model: registered, with get_config, so files rebuild it without pickle."""

    def __init__(self, width=4):
        super().__init__()
        self.width = width
        self.inner = nn.Linear(width, width, rng=0)

    def forward(self, x):
        return x + sn.relu(self.inner(x))

    def get_config(self):
        return {"width": self.width}


class Unregistered(nn.Module):
    def forward(self, x):
        return x


def test_custom_modules_need_registration(tmp_path):
    model = nn.Sequential(Residual(4), nn.Linear(4, 2, rng=1))
    clone = sn.load(sn.save(model, tmp_path / "custom.npz"))
    x = np.ones((3, 4))
    np.testing.assert_array_equal(sn.predict(clone, x), sn.predict(model, x))
    with pytest.raises(
        TypeError,
        match=r"Unregistered is not a registered module.*"
        r"@sinapsi.nn.register_module\(\)",
    ):
        sn.save(nn.Sequential(Unregistered()), tmp_path / "x.npz")
    assert not (tmp_path / "x.npz").exists()


def test_files_that_are_not_saved_models_are_refused(tmp_path):
    arrays_only = io.save_arrays(tmp_path / "arrays.npz", {"w": np.ones(2)})
    with pytest.raises(ValueError, match=r"not a saved model. Use sinapsi.io.load_arrays"):
        sn.load(arrays_only)
    forged = tmp_path / "forged.npz"
    io.save_arrays(forged, {}, {"kind": "sinapsi.model", "architecture": {"type": "os.system"}})
    with pytest.raises(ValueError, match=r"Cannot load .*forged.npz.*: The 'type' .* a str among"):
        sn.load(forged)
    truncated = tmp_path / "truncated.npz"
    path = sn.save(every_layer_model(), tmp_path / "ok.npz")
    truncated.write_bytes(path.read_bytes()[:500])
    with pytest.raises(ValueError, match="not a valid sinapsi file"):
        sn.load(truncated)


def resumable_setup():
    rng = np.random.default_rng(5)
    x, y = rng.standard_normal((120, 6)), rng.integers(0, 3, 120)
    model = nn.Sequential(
        nn.Linear(6, 16, init="he", rng=0), nn.BatchNorm1d(16), nn.ReLU(),
        nn.Dropout(0.25, rng=1), nn.Linear(16, 3, rng=2),
    )  # fmt: skip
    opt = optim.Adam(model.parameters(), lr=0.01)
    kwargs = dict(optimizer=opt, batch_size=16, validation_split=0.2, metrics=["accuracy"],
                  seed=7, verbose=0,
                  lr_scheduler=optim.StepLR(opt, step_size=2, gamma=0.5))  # fmt: skip
    return model, x, y, kwargs


def test_resume_from_a_checkpoint_equals_an_uninterrupted_run(tmp_path):
    straight, x, y, kwargs = resumable_setup()
    full = sn.fit(straight, x, y, epochs=6, **kwargs)

    first, x, y, kwargs = resumable_setup()
    ckpt = ModelCheckpoint(tmp_path / "ep{epoch}.npz", save_best_only=False)
    sn.fit(first, x, y, epochs=3, callbacks=[ckpt], **kwargs)

    resumed_model, x, y, kwargs = resumable_setup()  # a fresh process would rebuild like this
    resumed = sn.fit(resumed_model, x, y, epochs=6, resume_from=tmp_path / "ep3.npz", **kwargs)

    drop = lambda h: {k: v for k, v in h.history.items() if k != "time"}  # noqa: E731
    assert resumed.epoch == full.epoch == [1, 2, 3, 4, 5, 6]
    assert drop(resumed) == drop(full)
    assert resumed.grad_norms == full.grad_norms
    for a, b in zip(straight.parameters(), resumed_model.parameters()):
        np.testing.assert_array_equal(a.data, b.data)
    np.testing.assert_array_equal(straight[1].running_mean, resumed_model[1].running_mean)


def test_resume_refuses_another_architecture_or_optimizer(tmp_path):
    model, x, y, kwargs = resumable_setup()
    every_epoch = ModelCheckpoint(tmp_path / "c.npz", save_best_only=False)
    sn.fit(model, x, y, epochs=1, callbacks=[every_epoch], **kwargs)
    other = nn.Sequential(nn.Linear(6, 3, rng=0))
    with pytest.raises(ValueError, match="holds a different architecture"):
        sn.fit(other, x, y, epochs=2, resume_from=tmp_path / "c.npz", verbose=0)
    model2, x, y, _ = resumable_setup()
    with pytest.raises(ValueError, match=r"checkpoint's optimizer is Adam, but fit was given SGD"):
        sn.fit(model2, x, y, epochs=2, optimizer="sgd", resume_from=tmp_path / "c.npz", verbose=0)


def test_saving_a_state_dict_points_to_saving_the_model(tmp_path):
    model = nn.Linear(2, 3, rng=0)
    message = r"model must be a sinapsi nn.Module; got OrderedDict \(the torch.save\(model"
    with pytest.raises(TypeError, match=message):
        sn.save(model.state_dict(), tmp_path / "m.npz")
    with pytest.raises(TypeError, match=r"got list\. Call sinapsi.save\(model, path\)"):
        sn.save([1, 2], tmp_path / "m.npz")
    assert not list(tmp_path.iterdir())
