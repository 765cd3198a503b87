"""fit / predict / evaluate with images (N, C, H, W): a small convnet learns scikit-learn's 8x8
digits, a DataLoader of images trains it by hand, and a wrong image shape gives the layer's
one-line error through fit, predict and evaluate."""

import numpy as np
import pytest

import sinapsi as sn
from sinapsi import nn, optim
from sinapsi.data import DataLoader

pytest.importorskip("sklearn")


@pytest.fixture(scope="module")
def digits():
    """(N, 1, 8, 8) images scaled to [0, 1]; a fixed 80/20 split."""
    x, y = sn.data.datasets.load_digits()
    x = (x / 16.0).reshape(-1, 1, 8, 8).astype(np.float32)
    order = np.random.default_rng(0).permutation(len(x))
    train, test = order[:1437], order[1437:]
    return x[train], y[train], x[test], y[test]


def small_convnet(batch_norm=False):
    return nn.Sequential(
        nn.Conv2d(1, 16, 3, padding=1, rng=0),
        *([nn.BatchNorm2d(16)] if batch_norm else []),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(16, 32, 3, padding=1, rng=1),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Dropout2d(0.1, rng=2),
        nn.Flatten(),
        nn.Linear(32 * 2 * 2, 10, rng=3),
    )


def test_a_convnet_learns_the_8x8_digits(digits):
    x_train, y_train, x_test, y_test = digits
    model = small_convnet()
    history = sn.fit(
        model, x_train, y_train, lr=0.01, epochs=3, batch_size=32, seed=0, verbose=0,
        validation_data=(x_test, y_test), metrics=["accuracy"],
    )  # fmt: skip
    losses = history.history["loss"]
    assert losses[-1] < losses[0] / 3
    result = sn.evaluate(model, x_test, y_test, metrics=["accuracy"])
    assert result["accuracy"] > 0.90, result
    assert result["accuracy"] == pytest.approx(history.history["val_accuracy"][-1])
    outputs = sn.predict(model, x_test, batch_size=50)
    assert outputs.shape == (len(x_test), 10) and outputs.dtype == np.float32
    proba = sn.predict_proba(model, x_test)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-5)
    classes = sn.predict_classes(model, x_test)
    np.testing.assert_array_equal(classes, outputs.argmax(axis=1))
    assert (classes == y_test).mean() == pytest.approx(result["accuracy"])


def test_batch_norm_convnet_with_validation_split(digits):
    x_train, y_train, x_test, y_test = digits
    model = small_convnet(batch_norm=True)
    history = sn.fit(
        model, x_train[:600], y_train[:600], epochs=2, batch_size=33, seed=0, verbose=0,
        validation_split=0.2, metrics=["accuracy"],
    )  # fmt: skip
    assert history.history["val_accuracy"][-1] > 0.5
    assert int(model[1].num_batches_tracked) > 0
    assert np.abs(model[1].running_mean).max() > 0  # the running statistics moved


class ImageDataset:
    """A PyTorch-style data set: one (image, label) per index, images (1, 8, 8)."""

    def __init__(self, x, y):
        self.x, self.y = x, y

    def __len__(self):
        return len(self.x)

    def __getitem__(self, i):
        return self.x[i], self.y[i]


@pytest.mark.parametrize("style", ["arrays", "dataset"])
def test_a_dataloader_of_images_trains_by_hand(digits, style):
    x_train, y_train, x_test, y_test = digits
    x_train, y_train = x_train[:640], y_train[:640]
    data = (x_train, y_train) if style == "arrays" else ImageDataset(x_train, y_train)
    loader = DataLoader(data, batch_size=64, shuffle=True, seed=0)
    model = small_convnet()
    optimizer = optim.Adam(model.parameters(), lr=0.01)
    loss_fn = nn.CrossEntropyLoss()
    losses = []
    for _ in range(3):
        model.train()
        for xb, yb in loader:
            assert xb.shape[1:] == (1, 8, 8) and xb.dtype == np.float32
            optimizer.zero_grad()
            loss = loss_fn(model(sn.Tensor(xb)), yb)
            loss.backward()
            optimizer.step()
            losses.append(float(loss.item()))
    assert len(losses) == 30 and np.mean(losses[-3:]) < np.mean(losses[:3]) / 2
    assert sn.evaluate(model, x_test, y_test, metrics=["accuracy"])["accuracy"] > 0.7


@pytest.mark.parametrize(
    ("shape", "pattern"),
    [
        (
            (-1, 64),
            r"the model cannot take x of shape \(\d+, 64\) \(tried on rows of shape \(2, 64\)\): "
            r"Conv2d\(1 -> 16, kernel_size=\(3, 3\)\) expects input of shape \(N, 1, H, W\)",
        ),
        (
            (-1, 8, 8, 1),
            r"the model cannot take x of shape \(\d+, 8, 8, 1\).*Conv2d\(1 -> 16, "
            r"kernel_size=\(3, 3\)\) expects input of shape \(N, 1, H, W\) or \(1, H, W\); got "
            r"\(2, 8, 8, 1\)",
        ),
        (
            (-1, 3, 8, 8),
            r"Conv2d\(1 -> 16, kernel_size=\(3, 3\)\) expects input of shape \(N, 1, H, W\).*"
            r"got \(2, 3, 8, 8\)",
        ),
    ],
)
def test_wrong_image_shapes_give_the_layers_error(digits, shape, pattern):
    x_train, y_train, _, _ = digits
    x = np.resize(x_train[:12], (12 * 64,)).reshape(shape)
    y = y_train[: len(x)]
    model = small_convnet()
    with pytest.raises(ValueError, match="fit: .*" + pattern) as info:
        sn.fit(model, x, y, epochs=1, verbose=0)
    assert "\n" not in str(info.value)
    with pytest.raises(ValueError, match="predict: .*" + pattern.replace(r"\(2,", r"\(\d+,")):
        sn.predict(model, x)
    with pytest.raises(ValueError, match="evaluate: "):
        sn.evaluate(model, x, y)


def test_too_small_images_say_so(digits):
    model = nn.Sequential(nn.Conv2d(1, 4, 5, rng=0), nn.MaxPool2d(2), nn.Conv2d(4, 4, 3, rng=1))
    x = digits[0][:4]
    with pytest.raises(ValueError, match=r"fit: .*too small") as info:
        sn.fit(model, x, np.zeros((4, 1)), loss="mse", epochs=1, verbose=0)
    assert "\n" not in str(info.value)


def test_batch_norm_2d_trains_on_batches_of_one_image(digits):
    """As in PyTorch: one image gives BatchNorm2d H x W values per channel, so batch_size=1 and
    a last batch of one image train (BatchNorm1d still needs two samples)."""
    x_train, y_train, _, _ = digits
    model = small_convnet(batch_norm=True)
    sn.fit(model, x_train[:5], y_train[:5], batch_size=1, epochs=1, seed=0, verbose=0)
    assert int(model[1].num_batches_tracked) == 5
    model = small_convnet(batch_norm=True)
    sn.fit(model, x_train[:9], y_train[:9], batch_size=4, epochs=1, seed=0, verbose=0)
    assert int(model[1].num_batches_tracked) == 3  # 4 + 4 + 1: the lone image is not merged
    flat = nn.Sequential(nn.Flatten(), nn.Linear(64, 8, rng=0), nn.BatchNorm1d(8))
    with pytest.raises(ValueError, match=r"fit: the model's BatchNorm1d layer '2' needs at least"):
        sn.fit(flat, x_train[:8], y_train[:8], batch_size=1, verbose=0)


def test_batch_norm_2d_on_one_value_per_channel_names_the_step(digits):
    x_train, y_train, _, _ = digits
    model = nn.Sequential(
        nn.Conv2d(1, 4, 8, rng=0), nn.BatchNorm2d(4), nn.Flatten(), nn.Linear(4, 10, rng=1)
    )
    with pytest.raises(ValueError, match=r"fit: at epoch 1, batch 1: batch_norm: training needs "
                       r"more than 1 value per channel.*\(1, 4, 1, 1\)") as info:  # fmt: skip
        sn.fit(model, x_train[:3], y_train[:3], batch_size=1, verbose=0)
    assert "\n" not in str(info.value)
