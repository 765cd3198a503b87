"""Activation maximization and saliency on a convnet trained on the 8x8 digits: the images
found by gradient ascent through sinapsi's autograd excite their unit far more than where the
ascent started, and a trained model's saliency sits on the digit's ink, not the blank border."""

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from test_convnet_pictures import assert_has_content, digits_convnet  # noqa: E402

import sinapsi as sn  # noqa: E402
from sinapsi import nn, viz  # noqa: E402


@pytest.fixture(scope="module")
def trained():
    return digits_convnet()


def test_activation_maximization_excites_its_unit_by_a_large_factor(trained):
    model, x, _ = trained
    for layer, units in ((0, [0, 3, 7]), (1, [0, 8]), ("output", list(range(10)))):
        start = np.full((len(units), 1, 8, 8), x.mean(), dtype=np.float32)  # where it starts
        images = viz.activation_maximization(model, layer, units, x=x, steps=60, rng=0)
        assert images.shape == (len(units), 1, 8, 8)
        assert images.min() >= x.min() and images.max() <= x.max()  # clipped to the data range
        before = viz.unit_activation(model, layer, units, start)
        after = viz.unit_activation(model, layer, units, images)
        assert np.all(after > before + 1.0), (layer, before, after)
        assert np.median(after / np.maximum(np.abs(before), 0.1)) > 4, (layer, before, after)
        # as strong as the strongest real digit, or nearly
        real = np.array([viz.unit_activation(model, layer, u, x).max() for u in units])
        assert np.median(after / real) > 0.7, (layer, after, real)
    # each class's image is taken for that class
    assert list(sn.predict_classes(model, images)) == list(range(10))


def test_activation_maximization_leaves_the_model_alone(trained):
    model, x, _ = trained
    before = {k: v.copy() for k, v in model.state_dict().items()}
    flags = [p.requires_grad for p in model.parameters()]
    model.zero_grad()
    model.train()
    image = viz.activation_maximization(model, 1, 8, x=x, steps=5, rng=1)
    assert image.shape == (1, 8, 8) and image.dtype == np.float32
    assert all(np.array_equal(before[k], v) for k, v in model.state_dict().items())
    assert [p.requires_grad for p in model.parameters()] == flags
    assert all(p.grad is None for p in model.parameters())
    assert model.training  # eval only inside
    again = viz.activation_maximization(model, 1, 8, x=x, steps=5, rng=1)
    assert np.array_equal(image, again)  # seeded


def test_saliency_is_non_negative_and_sits_on_the_ink(trained):
    model, x, _ = trained
    one = viz.saliency(model, x[0])
    assert one.shape == (8, 8) and one.min() >= 0 and one.max() > 0
    maps = viz.saliency(model, x[:60])
    assert maps.shape == (60, 8, 8)
    assert np.allclose(maps[0], one, rtol=1e-5, atol=1e-7)
    border = np.zeros((8, 8), dtype=bool)
    border[[0, -1], :] = border[:, [0, -1]] = True
    ink = x[:60, 0] > 0.5
    blank_border = (x[:60, 0] == 0) & border
    assert maps[ink].mean() > 2 * maps[blank_border].mean()
    by_target = viz.saliency(model, x[:2], target=[3, 4])
    assert not np.allclose(by_target[0], viz.saliency(model, x[0], target=5))


def test_the_pictures_have_content(trained, tmp_path):
    model, x, _ = trained
    fig = viz.plot_saliency(model, x[0], class_names=[f"digit {k}" for k in range(10)])
    assert "predicted digit" in fig.axes[0].get_title()
    assert_has_content(fig, 3)
    fig = viz.plot_activation_maximization(model, "output", x=x, steps=30, rng=0)
    assert len(fig.axes) >= 10 and fig.axes[3].get_title() == "class 3"
    assert_has_content(fig, 10)
    fig = viz.plot_activation_maximization(model, 0, x=x, steps=30, rng=0)
    assert_has_content(fig, 8)


def test_clear_errors(trained):
    model, x, _ = trained
    with pytest.raises(ValueError, match=r"unit 16 is out of range: conv 2 \(3 Conv2d\) has 16"):
        viz.activation_maximization(model, 1, 16, x=x, steps=1)
    with pytest.raises(ValueError, match=r"layer must be the index of a Conv2d.*got 'dense'"):
        viz.activation_maximization(model, "dense", 0, x=x)
    with pytest.raises(ValueError, match=r"steps must be an integer >= 1; got 0"):
        viz.activation_maximization(model, 0, 0, x=x, steps=0)
    with pytest.raises(ValueError, match=r"position must be 'mean' or 'center'"):
        viz.activation_maximization(model, 0, 0, x=x, position="edge")
    with pytest.raises(ValueError, match=r"cannot tell the image size Sequential takes"):
        viz.activation_maximization(model, 0, 0)
    with pytest.raises(ValueError, match=r"target must be a class 0 to 9"):
        viz.saliency(model, x[0], target=10)
    with pytest.raises(ValueError, match=r"saliency: Sequential has no Conv2d layer"):
        viz.saliency(nn.Sequential(nn.Linear(4, 2)), np.zeros(4))
