"""sinapsi.capture on the library's own layers, losses and optimizers: every one is captured
(no fallback), and N captured steps equal N eager steps bit for bit (losses, weights, buffers).

Each case trains a twin (a deep copy) eagerly on the same batches, batch shapes changing
midway (a new capture), and compares after every step. A CaptureNotice is an error here: a case
that falls back to eager fails with the notice's reason.
"""

import copy
import warnings

import numpy as np
import pytest

import sinapsi as sn
from sinapsi import nn, optim
from sinapsi.capture import CaptureNotice


def _features(rng, n, d=4):
    return rng.standard_normal((n, d))


def _labels(rng, n, k=3):
    return rng.integers(0, k, n)


def _images(rng, n, c=1, h=6, w=6):
    return rng.standard_normal((n, c, h, w))


def _mlp(act):
    return lambda: nn.Sequential(nn.Linear(4, 6, rng=0), act, nn.Linear(6, 3, rng=1))


LAYERS = {
    # name: (model builder, input drawer, loss, target drawer)
    "linear-tanh-mse": (
        lambda: nn.Sequential(nn.Linear(4, 5, rng=0), nn.Tanh(), nn.Linear(5, 2, rng=1)),
        _features, nn.mse_loss, lambda rng, n: rng.standard_normal((n, 2)),
    ),
    "relu": (_mlp(nn.ReLU()), _features, nn.cross_entropy, _labels),
    "sigmoid": (_mlp(nn.Sigmoid()), _features, nn.cross_entropy, _labels),
    "leaky_relu": (_mlp(nn.LeakyReLU(0.1)), _features, nn.cross_entropy, _labels),
    "elu": (_mlp(nn.ELU()), _features, nn.cross_entropy, _labels),
    "gelu": (_mlp(nn.GELU()), _features, nn.cross_entropy, _labels),
    "gelu-tanh": (_mlp(nn.GELU("tanh")), _features, nn.cross_entropy, _labels),
    "softplus": (_mlp(nn.Softplus()), _features, nn.cross_entropy, _labels),
    "identity": (_mlp(nn.Identity()), _features, nn.cross_entropy, _labels),
    "dropout": (_mlp(nn.Dropout(0.3, rng=5)), _features, nn.cross_entropy, _labels),
    "batchnorm1d": (
        lambda: nn.Sequential(
            nn.Linear(4, 6, rng=0), nn.BatchNorm1d(6), nn.ReLU(), nn.Linear(6, 3, rng=1)
        ),
        _features, nn.cross_entropy, _labels,
    ),
    "batchnorm1d-cumulative": (
        lambda: nn.Sequential(nn.Linear(4, 6, rng=0), nn.BatchNorm1d(6, momentum=None),
                              nn.Linear(6, 3, rng=1)),
        _features, nn.cross_entropy, _labels,
    ),
    "normalization": (
        lambda: nn.Sequential(nn.Normalization(4, mean=np.arange(4.0), scale=np.full(4, 2.0)),
                              nn.Linear(4, 3, rng=0)),
        _features, nn.cross_entropy, _labels,
    ),
    "point-features": (
        lambda: nn.Sequential(nn.PointFeatures(["x1", "x2", "x1^2", "x1*x2", "sin(x2)"]),
                              nn.Linear(5, 3, rng=0)),
        lambda rng, n: rng.standard_normal((n, 2)), nn.cross_entropy, _labels,
    ),
    "softmax-module": (
        lambda: nn.Sequential(nn.Linear(4, 3, rng=0), nn.Softmax(axis=1)),
        _features, nn.mse_loss, lambda rng, n: rng.random((n, 3)),
    ),
    "log-softmax-nll": (
        lambda: nn.Sequential(nn.Linear(4, 3, rng=0), nn.LogSoftmax(axis=1)),
        _features, nn.nll_loss, _labels,
    ),
    "embedding": (
        lambda: nn.Sequential(nn.Embedding(10, 3, rng=0), nn.Flatten(), nn.Linear(6, 3, rng=1)),
        lambda rng, n: rng.integers(0, 10, (n, 2)), nn.cross_entropy, _labels,
    ),
    "convnet": (
        lambda: nn.Sequential(
            nn.Conv2d(1, 3, 3, padding=1, rng=0), nn.BatchNorm2d(3), nn.ReLU(),
            nn.MaxPool2d(2), nn.Conv2d(3, 4, 3, padding=1, rng=1), nn.Dropout2d(0.2, rng=3),
            nn.AvgPool2d(3),
            nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(4, 3, rng=2),
        ),
        _images, nn.cross_entropy, _labels,
    ),
    "conv1d-unflatten": (
        lambda: nn.Sequential(
            nn.Unflatten(1, (1, 8)), nn.Conv1d(1, 2, 3, rng=0), nn.ReLU(), nn.Flatten(),
            nn.Linear(12, 3, rng=1),
        ),
        lambda rng, n: rng.standard_normal((n, 8)), nn.cross_entropy, _labels,
    ),
}  # fmt: skip


def _onehot_probs(rng, n, k=3):
    p = rng.random((n, k)) + 0.1
    return p / p.sum(axis=1, keepdims=True)


LOSSES = {
    "mse": (nn.mse_loss, lambda rng, n: rng.standard_normal((n, 3))),
    "l1": (nn.l1_loss, lambda rng, n: rng.standard_normal((n, 3))),
    "huber": (
        lambda a, b: nn.huber_loss(a, b, delta=0.5), lambda rng, n: rng.standard_normal((n, 3))
    ),
    "bce": (
        lambda a, b: nn.binary_cross_entropy(sn.sigmoid(a), b),
        lambda rng, n: (rng.random((n, 3)) > 0.5).astype(np.float64),
    ),
    "bce-logits": (nn.binary_cross_entropy_with_logits,
                   lambda rng, n: (rng.random((n, 3)) > 0.5).astype(np.float64)),
    "bce-logits-pos-weight": (
        lambda a, b: nn.binary_cross_entropy_with_logits(a, b, pos_weight=np.array([1.0, 2, 3])),
        lambda rng, n: (rng.random((n, 3)) > 0.5).astype(np.float64),
    ),
    "ce": (nn.cross_entropy, _labels),
    "ce-sum": (lambda a, b: nn.cross_entropy(a, b, reduction="sum"), _labels),
    "ce-weight": (lambda a, b: nn.cross_entropy(a, b, weight=np.array([1.0, 0.5, 2.0])), _labels),
    "ce-smoothing": (lambda a, b: nn.cross_entropy(a, b, label_smoothing=0.1), _labels),
    "ce-ignore": (
        lambda a, b: nn.cross_entropy(a, b, ignore_index=2),
        lambda rng, n: np.r_[2, 0, _labels(rng, n - 2)],  # an ignored label in every batch
    ),
    "ce-probabilities": (nn.cross_entropy, _onehot_probs),
    "softmax-mse": (nn.softmax_mse_loss, _onehot_probs),
    "CrossEntropyLoss-module": (nn.CrossEntropyLoss(), _labels),
    "MSELoss-module": (nn.MSELoss(), lambda rng, n: rng.standard_normal((n, 3))),
    "L1Loss-module": (nn.L1Loss(reduction="sum"), lambda rng, n: rng.standard_normal((n, 3))),
    "HuberLoss-module": (nn.HuberLoss(delta=2.0), lambda rng, n: rng.standard_normal((n, 3))),
    "BCEWithLogitsLoss-module": (
        nn.BCEWithLogitsLoss(), lambda rng, n: (rng.random((n, 3)) > 0.5).astype(np.float64)
    ),
    "NLLLoss-module": (lambda a, b: nn.NLLLoss()(sn.log_softmax(a, axis=1), b), _labels),
    "SoftmaxMSELoss-module": (nn.SoftmaxMSELoss(), _onehot_probs),
}  # fmt: skip

OPTIMIZERS = {
    "sgd": lambda ps: optim.SGD(ps, lr=0.1),
    "sgd-momentum-wd": lambda ps: optim.SGD(ps, lr=0.05, momentum=0.9, weight_decay=1e-2),
    "sgd-nesterov": lambda ps: optim.SGD(ps, lr=0.05, momentum=0.9, nesterov=True),
    "sgd-dampening": lambda ps: optim.SGD(ps, lr=0.05, momentum=0.9, dampening=0.9),
    "adam": lambda ps: optim.Adam(ps, lr=0.01),
    "adam-amsgrad-wd": lambda ps: optim.Adam(ps, lr=0.01, amsgrad=True, weight_decay=1e-2),
    "adamw": lambda ps: optim.AdamW(ps, lr=0.01),
    "rmsprop": lambda ps: optim.RMSprop(ps, lr=0.01),
    "rmsprop-centered-momentum": lambda ps: optim.RMSprop(ps, lr=0.01, momentum=0.5, centered=True),
    "adagrad": lambda ps: optim.Adagrad(ps, lr=0.05, lr_decay=1e-3),
}


def _run(build, draw_x, loss_fn, draw_y, make_opt, dtype="float64", sizes=(5, 5, 5, 3, 3, 5)):
    with sn.default_dtype(dtype):
        model = build()
    twin = copy.deepcopy(model)
    opt, twin_opt = make_opt(list(model.parameters())), make_opt(list(twin.parameters()))
    step = sn.capture(model, loss_fn, opt)
    rng = np.random.default_rng(0)
    with warnings.catch_warnings():
        warnings.simplefilter("error", CaptureNotice)
        for n in sizes:
            x, y = draw_x(rng, n), draw_y(rng, n)
            if y.dtype.kind == "f":
                y = y.astype(dtype)
            x = sn.tensor(x, dtype=dtype) if x.dtype.kind == "f" else sn.tensor(x)
            loss = step(x, y)
            twin_opt.zero_grad()
            out = twin(x)
            expected = loss_fn(out, y)
            expected.backward()
            twin_opt.step()
            np.testing.assert_array_equal(loss.data, expected.data)
            np.testing.assert_array_equal(step.output, out.data)
            for (name, p), q in zip(model.named_parameters(), twin.parameters()):
                np.testing.assert_array_equal(p.data, q.data, err_msg=name)
            for (name, b), (_, c) in zip(model.named_buffers(), twin.named_buffers()):
                if b is not None:
                    np.testing.assert_array_equal(b, c, err_msg=name)
    assert step.captured, step.reason


@pytest.mark.parametrize("case", sorted(LAYERS))
def test_every_layer_is_captured_and_equal_to_eager(case):
    build, draw_x, loss_fn, draw_y = LAYERS[case]
    _run(build, draw_x, loss_fn, draw_y, OPTIMIZERS["sgd-momentum-wd"])


@pytest.mark.parametrize("case", sorted(LOSSES))
def test_every_loss_is_captured_and_equal_to_eager(case):
    loss_fn, draw_y = LOSSES[case]
    _run(_mlp(nn.Tanh()), _features, loss_fn, draw_y, OPTIMIZERS["adam"])


@pytest.mark.parametrize("case", sorted(OPTIMIZERS))
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_every_optimizer_is_captured_and_equal_to_eager(case, dtype):
    _run(_mlp(nn.ReLU()), _features, nn.cross_entropy, _labels, OPTIMIZERS[case], dtype=dtype)


def test_eval_mode_steps_are_captured_too():
    build, draw_x, loss_fn, draw_y = LAYERS["batchnorm1d"]

    def build_eval():
        return build().eval()

    _run(build_eval, draw_x, loss_fn, draw_y, OPTIMIZERS["sgd"])


def test_a_label_path_the_recording_did_not_take_is_undone_and_run_eagerly():
    """cross_entropy's replay refuses a batch whose labels newly hold ignore_index: the step's
    side effects so far (BatchNorm statistics, dropout draws) are undone and it runs eagerly,
    equal to the eager loop; a shape whose batches keep refusing stays eager, with a notice."""
    with sn.default_dtype("float64"):
        model = nn.Sequential(
            nn.Linear(4, 6, rng=0), nn.BatchNorm1d(6), nn.Dropout(0.2, rng=1),
            nn.Linear(6, 3, rng=2),
        )  # fmt: skip
    twin = copy.deepcopy(model)
    opt, twin_opt = optim.Adam(model.parameters()), optim.Adam(twin.parameters())
    step = sn.capture(model, nn.cross_entropy, opt)
    rng = np.random.default_rng(0)
    with pytest.warns(CaptureNotice, match="refused a batch") as notices:
        for i in range(12):
            x, y = sn.tensor(rng.standard_normal((5, 4)), dtype="float64"), _labels(rng, 5)
            if i % 2:
                y[0] = -100
            loss = step(x, y)
            twin_opt.zero_grad()
            expected = nn.cross_entropy(twin(x), y)
            expected.backward()
            twin_opt.step()
            np.testing.assert_array_equal(loss.data, expected.data)
            for p, q in zip(model.parameters(), twin.parameters()):
                np.testing.assert_array_equal(p.data, q.data)
            for (_, b), (_, c) in zip(model.named_buffers(), twin.named_buffers()):
                np.testing.assert_array_equal(b, c)
    assert len(notices) == 1 and not step.captured


@pytest.mark.parametrize("numba", [True, False])
@pytest.mark.parametrize(
    "name", ["relu-ce-adam", "tanh-bce-sgd", "batchnorm-ce-adam", "sigmoid-mse-sgd"]
)
def test_a_replayed_step_allocates_no_gradient_arrays(name, numba, monkeypatch):
    """The backward closures write into arrays the plan made after the recording walk (issue 20:
    no per-step allocation, for gradients up to _capture_walk.POOL_UP_TO bytes): the memory a
    replayed step allocates and frees again stays below one (128, 128) float32 gradient
    (64 KiB); what remains is per-channel vectors and NumPy's own iterator buffers (32 KiB)."""
    import tracemalloc

    from sinapsi import _numba

    monkeypatch.setattr(_numba, "_enabled", numba and _numba._enabled)
    act = {"relu": nn.ReLU(), "tanh": nn.Tanh(), "batchnorm": nn.BatchNorm1d(128),
           "sigmoid": nn.Sigmoid()}[name.split("-")[0]]  # fmt: skip
    layers = [nn.Linear(16, 128, rng=0), act, nn.Linear(128, 128, rng=1), nn.ReLU()]
    model = nn.Sequential(*layers, nn.Linear(128, 4, rng=2))
    rng = np.random.default_rng(0)
    x = rng.standard_normal((128, 16)).astype(np.float32)
    loss_fn, y = {
        "ce": (nn.cross_entropy, rng.integers(0, 4, 128)),
        "bce": (nn.binary_cross_entropy_with_logits, rng.uniform(0, 1, (128, 4)).astype("f4")),
        "mse": (nn.mse_loss, rng.standard_normal((128, 4)).astype(np.float32)),
    }[name.split("-")[1]]
    opt_class = optim.Adam if name.endswith("adam") else optim.SGD
    step = sn.capture(model, loss_fn, opt_class(model.parameters(), lr=1e-3))
    for _ in range(3):  # record, check, replay
        step(x, y)
    assert step.captured
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        for _ in range(2):
            step(x, y)
        transient = tracemalloc.get_traced_memory()[1] - base
    finally:
        tracemalloc.stop()
    assert step.captured
    assert transient < 48 * 1024, f"a replayed step allocated {transient} bytes"
