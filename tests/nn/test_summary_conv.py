"""summary() through conv stacks: output shapes (None, C, H, W) and parameter counts equal to
the PyTorch twin's."""

import pytest

from sinapsi import nn


def lenet5():
    return nn.Sequential(
        nn.Conv2d(1, 6, 5, rng=0),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(6, 16, 5, rng=1),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(256, 120, rng=2),
        nn.ReLU(),
        nn.Linear(120, 84, rng=3),
        nn.ReLU(),
        nn.Linear(84, 10, rng=4),
    )


def keras_style():
    return nn.Sequential(
        nn.Unflatten(1, (1, 28, 28)),
        nn.Conv2d(1, 32, 3, padding="same", bias=False, rng=0),
        nn.BatchNorm2d(32),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3, groups=2, rng=1),
        nn.ReLU(),
        nn.AvgPool2d(3, 2, 1, ceil_mode=True),
        nn.Dropout2d(0.25),
        nn.AdaptiveAvgPool2d(1),
        nn.Flatten(),
        nn.Linear(64, 10, rng=2),
    )


def _rows(text):
    """{layer name: (type, output shape, params, trainable)} from the table."""
    rows = {}
    for line in text.splitlines():
        cells = line.split()
        if len(cells) >= 4 and cells[0].replace(".", "").isdigit():
            shape = line[line.index("(") : line.index(")") + 1]
            rows[cells[0]] = (cells[1], shape, cells[-2], cells[-1])
    return rows


def _torch_count(model):
    torch = pytest.importorskip("torch")
    from sinapsi.interop import to_torch

    twin = to_torch(model)
    assert isinstance(twin, torch.nn.Module)
    return sum(p.numel() for p in twin.parameters())


def test_lenet5_shapes_and_counts():
    model = lenet5()
    text = model.summary((1, 28, 28), print_fn=None)
    rows = _rows(text)
    assert rows["0"] == ("Conv2d", "(None, 6, 24, 24)", "156", "yes")
    assert rows["2"] == ("MaxPool2d", "(None, 6, 12, 12)", "0", "-")
    assert rows["3"] == ("Conv2d", "(None, 16, 8, 8)", "2,416", "yes")
    assert rows["5"][1] == "(None, 16, 4, 4)"
    assert rows["6"] == ("Flatten", "(None, 256)", "0", "-")
    assert rows["7"] == ("Linear", "(None, 120)", "30,840", "yes")
    assert rows["11"] == ("Linear", "(None, 10)", "850", "yes")
    assert "Total params: 44,426" in text
    assert _torch_count(model) == 44_426


def test_keras_style_shapes_counts_and_frozen_layers():
    model = keras_style()
    model[1].requires_grad_(False)
    text = model.summary((784,), print_fn=None)
    rows = _rows(text)
    assert rows["0"] == ("Unflatten", "(None, 1, 28, 28)", "0", "-")
    assert rows["1"] == ("Conv2d", "(None, 32, 28, 28)", "288", "no")
    assert rows["2"] == ("BatchNorm2d", "(None, 32, 28, 28)", "64", "yes")
    assert rows["4"][1] == "(None, 32, 14, 14)"
    assert rows["5"] == ("Conv2d", "(None, 64, 12, 12)", f"{64 * 16 * 9 + 64:,}", "yes")
    assert rows["7"] == ("AvgPool2d", "(None, 64, 7, 7)", "0", "-")
    assert rows["9"] == ("AdaptiveAvgPool2d", "(None, 64, 1, 1)", "0", "-")
    assert rows["11"] == ("Linear", "(None, 10)", "650", "yes")
    total = 288 + 64 + 64 * 16 * 9 + 64 + 650
    assert f"Total params: {total:,}" in text
    assert f"Trainable params: {total - 288:,}" in text and "Non-trainable params: 288" in text
    assert _torch_count(model) == total


def test_conv1d_shapes():
    model = nn.Sequential(nn.Conv1d(3, 8, 5, stride=2, rng=0), nn.Flatten())
    rows = _rows(model.summary((3, 21), print_fn=None))
    assert rows["0"] == ("Conv1d", "(None, 8, 9)", "128", "yes")
    assert rows["1"][1] == "(None, 72)"


def test_channels_last_input_shape_explains():
    with pytest.raises(ValueError) as info:
        lenet5().summary((28, 28, 1), print_fn=None)
    message = str(info.value)
    assert message.startswith("summary: running a batch of shape (2, 28, 28, 1) through")
    assert "Conv2d(1 -> 6, kernel_size=(5, 5)) expects input of shape (N, 1, H, W)" in message
    assert message.endswith("(1, 28, 28) for 28x28 images with one channel (channels first).")
    assert "\n" not in message
