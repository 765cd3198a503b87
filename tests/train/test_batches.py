"""fit's batches and labels (issue 14.13): a BatchNorm model with a last batch of one sample,
``drop_last``, float class labels, and errors that name the epoch."""

import numpy as np
import pytest

import sinapsi as sn
from sinapsi import nn
from sinapsi.train import Callback


class BatchSizes(Callback):
    def __init__(self):
        self.sizes: list[list[int]] = []

    def on_epoch_begin(self, epoch, logs):
        self.sizes.append([])

    def on_batch_end(self, batch, logs):
        self.sizes[-1].append(logs["size"])


def bn_mlp():
    return nn.Sequential(
        nn.Linear(3, 8, rng=0), nn.BatchNorm1d(8), nn.ReLU(), nn.Linear(8, 2, rng=1)
    )


def data(n, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, 3))
    return x, (x[:, 0] > 0).astype(np.int64)


@pytest.mark.parametrize("n, sizes", [(33, [33]), (65, [32, 33]), (64, [32, 32])])
def test_a_lone_last_sample_joins_the_previous_batch_of_a_batchnorm_model(n, sizes):
    x, y = data(n)
    seen = BatchSizes()
    history = sn.fit(bn_mlp(), x, y, epochs=2, batch_size=32, callbacks=[seen], seed=0, verbose=0)
    assert len(history) == 2
    assert seen.sizes == [sizes, sizes]


def test_without_batchnorm_the_last_batch_of_one_is_kept():
    x, y = data(33)
    seen = BatchSizes()
    model = nn.Sequential(nn.Linear(3, 2, rng=0))
    sn.fit(model, x, y, epochs=1, batch_size=32, callbacks=[seen], verbose=0)
    assert seen.sizes == [[32, 1]]


def test_drop_last_drops_the_partial_batch_and_weights_the_loss_by_the_samples_used():
    x, y = data(40)
    seen = BatchSizes()
    history = sn.fit(bn_mlp(), x, y, epochs=2, batch_size=16, drop_last=True, callbacks=[seen],
                     seed=0, verbose=0)  # fmt: skip
    assert seen.sizes == [[16, 16], [16, 16]]
    assert np.isfinite(history.history["loss"]).all()


@pytest.mark.parametrize(
    "n, kwargs, pattern",
    [
        (33, {"batch_size": 64, "drop_last": True},
         r"fit: drop_last=True with batch_size=64 leaves no batch: the training set has 33 "
         r"samples\. Lower batch_size or pass drop_last=False\."),
        (33, {"batch_size": 1},
         r"fit: the model's BatchNorm1d layer '1' needs at least 2 samples per training batch "
         r"\(batch statistics\); got batch_size=1\. Pass batch_size >= 2"),
        (1, {"batch_size": 8},
         r"fit: the model's BatchNorm1d layer '1' needs at least 2 samples per training batch "
         r"\(batch statistics\); got 1 training sample"),
        (33, {"drop_last": "yes"},
         r"fit: drop_last must be True or False\. Received: drop_last='yes'"),
    ],
)  # fmt: skip
def test_batch_errors_come_before_training(n, kwargs, pattern):
    x, y = data(max(n, 2))
    x, y = x[:n], y[:n]
    seen = BatchSizes()
    with pytest.raises((ValueError, TypeError), match=pattern):
        sn.fit(bn_mlp(), x, y, epochs=1, callbacks=[seen], verbose=0, **kwargs)
    assert seen.sizes == []


def test_an_error_raised_during_training_names_the_epoch_and_batch():
    class FailsLater(nn.Module):
        def __init__(self):
            super().__init__()
            self.inner = nn.Linear(3, 2, rng=0)
            self.calls = 0

        def forward(self, x):
            self.calls += 1
            if self.calls == 5:  # the check before training, 2 batches, then epoch 2, batch 2
                raise ValueError("custom layer: bad input")
            return self.inner(x)

    x, y = data(64)
    with pytest.raises(ValueError, match=r"fit: at epoch 2, batch 2: custom layer: bad input"):
        sn.fit(FailsLater(), x, y, epochs=3, batch_size=32, shuffle=False, verbose=0)


# ---------------------------------------------------------------------------- labels
def test_float_labels_holding_whole_numbers_are_accepted_as_classes():
    x, y = data(60)
    ints = sn.fit(nn.Sequential(nn.Linear(3, 2, rng=0)), x, y, epochs=2, seed=0, verbose=0,
                  metrics=["accuracy"], validation_data=(x, y))  # fmt: skip
    floats = sn.fit(nn.Sequential(nn.Linear(3, 2, rng=0)), x, y.astype(np.float64), epochs=2,
                    seed=0, verbose=0, metrics=["accuracy"],
                    validation_data=(x, y.astype(np.float32)))  # fmt: skip
    for key in ("loss", "accuracy", "val_loss", "val_accuracy"):
        assert floats.history[key] == ints.history[key]
    model = nn.Sequential(nn.Linear(3, 2, rng=0))
    assert sn.evaluate(model, x, y.astype(np.float64), metrics=["accuracy"]) == sn.evaluate(
        model, x, y, metrics=["accuracy"]
    )


@pytest.mark.parametrize("where", ["fit", "evaluate"])
def test_float_labels_that_are_not_whole_numbers_name_the_dtype_and_shape_given(where):
    x = np.random.default_rng(0).standard_normal((1797, 3))
    y = np.linspace(0, 2, 1797)  # float64, not class labels
    model = nn.Sequential(nn.Linear(3, 3, rng=0))
    pattern = (
        rf"{where}: the loss cross_entropy needs class labels 0\.\.C-1, but y is float64 with "
        r"shape \(1797,\) and holds non-integer values \(first: 0\.00111\d* at index 1\)\. "
        r"Encode the classes .*np\.unique.* or use a regression loss"
    )
    with pytest.raises(TypeError, match=pattern):
        if where == "fit":
            sn.fit(model, x, y, epochs=1, verbose=0)
        else:
            sn.evaluate(model, x, y)


def test_string_labels_are_refused_with_the_encoding_to_use():
    x = np.random.default_rng(0).standard_normal((4, 3))
    y = np.array(["cat", "dog", "cat", "dog"])
    with pytest.raises(TypeError, match=r"fit: the loss cross_entropy needs class labels 0\.\.C-1,"
                       r" but y is <U3 with shape \(4,\).*np\.unique"):  # fmt: skip
        sn.fit(nn.Sequential(nn.Linear(3, 2, rng=0)), x, y, epochs=1, verbose=0)


def test_evaluate_checks_the_label_range_like_fit():
    x, y = data(10)
    with pytest.raises(IndexError, match=r"evaluate: label 5 is out of range for 2 classes"):
        sn.evaluate(nn.Sequential(nn.Linear(3, 2, rng=0)), x, np.full(10, 5))
