"""No silent float64 anywhere in a float32 run: every activation, gradient, parameter, buffer
and optimizer state of a model with every layer type stays float32 through training."""

import numpy as np
import pytest

import sinapsi as sn
from sinapsi import nn, optim


def every_layer_model():
    return nn.Sequential(
        nn.Flatten(),
        nn.Linear(6, 16, init="he", rng=0), nn.BatchNorm1d(16), nn.ReLU(), nn.Dropout(0.2, rng=1),
        nn.Linear(16, 16, rng=2), nn.LeakyReLU(), nn.Linear(16, 16, rng=3), nn.ELU(),
        nn.Linear(16, 16, rng=4), nn.GELU(), nn.Linear(16, 16, rng=5), nn.GELU("tanh"),
        nn.Linear(16, 16, rng=6), nn.Softplus(), nn.Linear(16, 16, rng=7), nn.Sigmoid(),
        nn.Linear(16, 16, rng=8), nn.Tanh(), nn.Linear(16, 4, rng=9),
    )  # fmt: skip


@pytest.mark.parametrize("optimizer", ["sgd", "adam", "adamw", "rmsprop", "adagrad"])
@pytest.mark.parametrize("loss", ["cross_entropy", "nll", "mse", "bce_with_logits"])
def test_a_float32_run_never_produces_float64(optimizer, loss):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((32, 2, 3))  # float64 data, as NumPy makes it
    model = every_layer_model()
    if loss == "nll":
        model.append(nn.LogSoftmax(axis=1))
    if loss in ("mse", "bce_with_logits"):
        y = rng.integers(0, 2, (32, 4)).astype(np.float64)
    else:
        y = rng.integers(0, 4, 32)
    seen = []
    for module in model.modules():
        module.register_forward_hook(lambda m, i, out: seen.append((type(m).__name__, out.dtype)))
    opt = optim.get(optimizer, list(model.parameters()), lr=1e-3)
    sn.fit(model, x, y, loss=loss, optimizer=opt, epochs=2, batch_size=8, verbose=0,
           validation_split=0.25, metrics=["accuracy"] if loss != "mse" else ["mae"])  # fmt: skip
    assert seen and all(dtype == np.float32 for _, dtype in seen), sorted(set(seen))
    for name, p in model.named_parameters():
        assert p.dtype == np.float32 and p.grad.dtype == np.float32, name
    for name, buffer in model.named_buffers():
        assert buffer.dtype in (np.float32, np.int64), (name, buffer.dtype)
    for state in opt.state.values():
        for key, value in state.items():
            if hasattr(value, "dtype"):
                assert value.dtype == np.float32, (optimizer, key, value.dtype)
    assert sn.predict(model, x).dtype == np.float32
