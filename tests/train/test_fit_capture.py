"""fit captures its training step by default (issue 20): the same history and weights, bit for
bit, as fit(capture=False), with the replay actually used."""

import copy
import warnings

import numpy as np
import pytest

import sinapsi as sn
from sinapsi import nn
from sinapsi.capture import CapturedStep, CaptureNotice


@pytest.fixture
def replays(monkeypatch):
    """Counts the steps that replayed a captured plan."""
    count = {"n": 0}
    original = CapturedStep._replay

    def counting(self, plan):
        count["n"] += 1
        return original(self, plan)

    monkeypatch.setattr(CapturedStep, "_replay", counting)
    return count


def _blobs(n=70, d=4, k=3, seed=0):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, k, n)
    x = rng.standard_normal((n, d)).astype(np.float32) + y[:, None]
    return x, y


CASES = {
    "adam-metrics-validation": (
        lambda: nn.Sequential(nn.Linear(4, 8, rng=0), nn.ReLU(), nn.Linear(8, 3, rng=1)),
        dict(optimizer="adam", lr=0.01, metrics=["accuracy"], validation_split=0.2),
    ),
    "sgd-clip-l2-scheduler": (
        lambda: nn.Sequential(nn.Linear(4, 8, rng=0), nn.Tanh(), nn.Linear(8, 3, rng=1)),
        dict(
            optimizer=sn.optim.SGD, lr=0.1, clip_grad_norm=0.5, l1=1e-3, l2=1e-3,
            scheduler_interval="step",
        ),
    ),
    "batchnorm-dropout-lone-last": (
        lambda: nn.Sequential(
            nn.Linear(4, 8, rng=0), nn.BatchNorm1d(8), nn.ReLU(), nn.Dropout(0.2, rng=3),
            nn.Linear(8, 3, rng=1),
        ),
        dict(optimizer="rmsprop", lr=0.01, batch_size=32),  # 70 - 33: a lone last sample
    ),
}  # fmt: skip


def _fit(model, capture, kw, x, y):
    kw = dict(kw)
    if kw.get("optimizer") is sn.optim.SGD:
        kw["optimizer"] = sn.optim.SGD(model.parameters(), lr=kw.pop("lr"), momentum=0.9)
        kw["lr_scheduler"] = lambda opt: sn.optim.StepLR(opt, step_size=3, gamma=0.5)
    kw.setdefault("batch_size", 16)
    return sn.fit(model, x, y, epochs=3, seed=1, verbose=0, capture=capture, **kw)


@pytest.mark.parametrize("case", sorted(CASES))
def test_fit_captured_equals_fit_eager_bit_for_bit(case, replays):
    build, kw = CASES[case]
    x, y = _blobs(n=71 if "lone" in case else 70)
    model = build()
    twin = copy.deepcopy(model)
    with warnings.catch_warnings():
        warnings.simplefilter("error", CaptureNotice)
        captured = _fit(model, None, kw, x, y)
    assert replays["n"] > 0
    count = replays["n"]
    eager = _fit(twin, False, kw, x, y)
    assert replays["n"] == count  # capture=False never replays
    for key in captured.history:
        if key in ("time", "epoch_time", "lr_time"):
            continue
        a, b = captured.history[key], eager.history[key]
        assert a == b, key
    for (name, p), q in zip(model.named_parameters(), twin.parameters()):
        np.testing.assert_array_equal(p.data, q.data, err_msg=name)
    for (name, b), (_, c) in zip(model.named_buffers(), twin.named_buffers()):
        if b is not None:
            np.testing.assert_array_equal(b, c, err_msg=name)


def test_fit_capture_true_warns_once_where_it_falls_back():
    class Custom(nn.Module):  # reads its activations into Python: data-dependent flow
        def __init__(self):
            super().__init__()
            self.a = nn.Linear(4, 3, rng=0)

        def forward(self, x):
            h = self.a(x)
            return h * 2.0 if float(h.sum()) > 0 else h

    x, y = _blobs()
    with pytest.warns(CaptureNotice, match="reads a tensor's value") as notices:
        sn.fit(Custom(), x, y, epochs=2, verbose=0, capture=True)
    assert len(notices) == 1
    with warnings.catch_warnings():
        warnings.simplefilter("error", CaptureNotice)
        sn.fit(Custom(), x, y, epochs=1, verbose=0)  # the default falls back quietly


def test_fit_capture_must_be_a_bool():
    x, y = _blobs()
    with pytest.raises((TypeError, ValueError), match="capture"):
        sn.fit(nn.Linear(4, 3), x, y, epochs=1, verbose=0, capture="yes")
