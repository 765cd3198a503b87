"""The feature hierarchy, drawn: a small convnet trained on the 8x8 digits, its filters, the
feature maps of one digit and the one picture that puts the layers side by side. Headless
(Agg); each picture must hold images with content, not blank axes."""

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

import sinapsi as sn  # noqa: E402
from sinapsi import nn, viz  # noqa: E402


def digits_convnet():
    """A convnet trained on scikit-learn's 8x8 digits (1 -> 8 -> 16 channels), its test set."""
    from sklearn.datasets import load_digits

    digits = load_digits()
    x = (digits.images / 16.0).astype(np.float32)[:, None]  # (1797, 1, 8, 8), ink = 1
    y = digits.target.astype(np.int64)
    model = nn.Sequential(
        nn.Conv2d(1, 8, 3, padding=1, rng=0), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(8, 16, 3, rng=1), nn.ReLU(), nn.Flatten(), nn.Linear(64, 10, rng=2),
    )  # fmt: skip
    sn.fit(model, x[:1400], y[:1400], epochs=10, lr=0.01, optimizer="adam", batch_size=32,
           seed=0, verbose=0)  # fmt: skip
    return model, x[1400:], y[1400:]


@pytest.fixture(scope="module")
def trained():
    model, x, y = digits_convnet()
    accuracy = sn.evaluate(model, x, y, metrics=["accuracy"])["accuracy"]
    assert accuracy > 0.85, accuracy
    return model, x, y


def images_of(fig):
    """Every image drawn in the figure (subfigures included), as arrays."""
    return [np.asarray(im.get_array(), dtype=float) for ax in fig.get_axes() for im in ax.images]


def assert_has_content(fig, at_least):
    arrays = images_of(fig)
    assert len(arrays) >= at_least, len(arrays)
    varied = [a for a in arrays if np.nanmax(a) > np.nanmin(a)]
    # a dead ReLU channel (zero for this input) draws a blank map: most must not be blank
    assert len(varied) >= 0.6 * len(arrays), f"{len(arrays) - len(varied)} constant images"
    fig.canvas.draw()  # draws without error, headless
    import matplotlib.pyplot as plt

    plt.close(fig)


def test_plot_filters_draws_each_first_layer_kernel_centred_at_zero(trained):
    model, _, _ = trained
    fig = viz.plot_filters(model)
    images = [im for ax in fig.axes for im in ax.images]
    assert len(images) == 8  # one per output channel of the first Conv2d
    weight = model[0].weight.data[:, 0]
    assert np.allclose(np.asarray(images[3].get_array()), weight[3])
    low, high = images[0].get_clim()
    assert low == -high == -np.abs(weight).max()  # one scale, centred at 0
    assert "Filters of the first convolution" in fig._suptitle.get_text()
    assert_has_content(fig, 8)


def test_plot_filters_of_a_deeper_layer_says_the_channels_are_averaged(trained):
    model, _, _ = trained
    fig = viz.plot_filters(model, layer=1, max_filters=6)
    assert len([im for ax in fig.axes for im in ax.images]) == 6
    assert "averaged over its 8 input channels" in fig._suptitle.get_text()
    assert_has_content(fig, 6)


def test_plot_feature_maps_shows_a_row_of_maps_per_conv_block(trained):
    model, x, _ = trained
    fig = viz.plot_feature_maps(model, x[0])
    arrays = images_of(fig)
    shapes = [a.shape for a in arrays]
    assert shapes.count((8, 8)) == 1  # the input
    assert shapes.count((4, 4)) == 8  # block 1 after the pooling: 8 maps of 4x4
    assert shapes.count((2, 2)) == 16  # block 2 after its ReLU: 16 maps of 2x2
    labels = " ".join(ax.get_ylabel() for ax in fig.axes)
    assert "2 MaxPool2d" in labels and "4 ReLU" in labels
    assert_has_content(fig, 25)
    fig = viz.plot_feature_maps(model, x[:3], layers=[1], max_maps=4)  # a batch: its first
    assert [a.shape for a in images_of(fig)].count((2, 2)) == 4


def test_plot_hierarchy_puts_filters_maps_and_patterns_side_by_side(trained):
    model, x, _ = trained
    fig = viz.plot_hierarchy(model, x[:100], units=4, steps=60)
    arrays = images_of(fig)
    shapes = [a.shape for a in arrays]
    assert shapes.count((3, 3)) == 4  # four first-layer filters
    assert shapes.count((4, 4)) == 4 and shapes.count((2, 2)) == 4  # their maps
    assert shapes.count((8, 8)) == 1 + 4 + 4 + 10  # input, patterns of 2 layers, 10 classes
    heads = " ".join(sub._suptitle.get_text() for sub in fig.subfigs)
    for word in ("layer 1: edges", "layer 2: strokes", "output: whole digits"):
        assert word in heads, heads
    assert "edges → strokes → digits" in fig._suptitle.get_text()
    assert_has_content(fig, 27)


def test_a_model_taking_flat_rows_through_unflatten_is_drawn_as_images(trained):
    model, x, _ = trained
    flat = nn.Sequential(nn.Unflatten(1, (1, 8, 8)), *list(model))
    rows = x.reshape(len(x), 64)
    assert_has_content(viz.plot_feature_maps(flat, rows[0]), 25)
    fig = viz.plot_hierarchy(flat, rows[:50], units=2, steps=20)
    assert [a.shape for a in images_of(fig)].count((8, 8)) == 1 + 2 + 2 + 10


def test_clear_errors(trained):
    model, x, _ = trained
    mlp = nn.Sequential(nn.Linear(64, 10))
    with pytest.raises(ValueError, match=r"plot_filters: Sequential has no Conv2d layer"):
        viz.plot_filters(mlp)
    with pytest.raises(ValueError, match=r"layer=2 but the model has 2 Conv2d layer\(s\)"):
        viz.plot_filters(model, layer=2)
    with pytest.raises(
        ValueError, match=r"takes images with 1 channel\(s\).*got x of shape \(64,\)"
    ):
        viz.plot_feature_maps(model, np.zeros(64, dtype=np.float32))
    with pytest.raises(ValueError, match=r"layers must be indices of conv blocks, 0 to 1"):
        viz.plot_feature_maps(model, x[0], layers=[3])
    with pytest.raises(ValueError, match=r"max_maps must be a positive integer; got 0"):
        viz.plot_feature_maps(model, x[0], max_maps=0)
    with pytest.raises(ValueError, match=r"class_names has 3 names but the model has 10 outputs"):
        viz.plot_hierarchy(model, x[0], class_names=["a", "b", "c"], steps=1)


def test_the_report_of_a_convnet_embeds_its_pictures(trained, tmp_path):
    from test_report import Collector

    model, x, y = trained
    history = sn.fit(model, x[:40], y[:40], epochs=1, lr=1e-4, verbose=0, seed=0)
    net = nn.Sequential(nn.Unflatten(1, (1, 8, 8)), *list(model))  # as `sinapsi train` saves
    rows = x[:100].reshape(100, 64)
    page = viz.write_report(
        tmp_path / "report.html", title="convnet", model=net, history=history,
        input_shape=(64,), x=rows, y_true=y[:100], y_pred=sn.predict_classes(net, rows),
        class_names=[str(k) for k in range(10)], image_shape=(8, 8),
    ).read_text()  # fmt: skip
    parser = Collector()
    parser.feed(page)
    for heading in ("First-layer filters", "Feature maps", "Feature hierarchy", "Saliency",
                    "Activations", "Confusion matrix"):  # fmt: skip
        assert heading in parser.headings, (heading, parser.headings)
    assert "Not drawn" not in page
    # the first Linear layer of a convnet does not see pixels: no "weights as images"
    assert "First-layer weights" not in parser.headings
    assert len(parser.images) == 8  # curves, gradients, activations, confusion, 4 conv
    page = viz.build_report(title="no x", model=model, history=history, input_shape=(1, 8, 8))
    assert "First-layer filters" in page and "the report was given no inputs (x)" in page


def test_a_small_pattern_in_a_big_image_is_shown_cut_to_where_it_is():
    from sinapsi.viz.convnet import _crop

    patterns = np.full((2, 1, 28, 28), 0.1)
    patterns[0, 0, 12:15, 13:16] = 1.0  # a 3x3 receptive field near the centre
    patterns[1, 0, 13, 14] = 0.0
    cut, note = _crop(patterns)
    assert cut.shape == (2, 1, 5, 5) and cut[0, 0, 1:4, 1:4].min() == 1.0
    assert note == "shown: the central 5x5 of the 28x28 image"
    whole = np.random.default_rng(0).random((2, 1, 8, 8))  # a pattern everywhere: kept whole
    assert _crop(whole)[0] is whole and _crop(whole)[1] == ""


def test_deeper_nets_with_batch_norm_and_dropout_read_edges_strokes_parts():
    rng = np.random.default_rng(0)
    model = nn.Sequential(
        nn.Conv2d(1, 4, 3, padding=1, bias=False, rng=0), nn.BatchNorm2d(4), nn.ReLU(),
        nn.Conv2d(4, 4, 3, padding=1, rng=1), nn.ReLU(), nn.Dropout2d(0.5, rng=0),
        nn.Conv2d(4, 4, 3, padding=1, rng=2), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(4 * 3 * 3, 3, rng=3),
    )  # fmt: skip
    x = rng.random((5, 1, 6, 6)).astype(np.float32)
    fig = viz.plot_hierarchy(model, x, units=2, object_name="shapes", steps=3)
    title = fig._suptitle.get_text()
    assert "edges → strokes → parts → shapes" in title, title
    assert model.training  # drawn in eval mode, put back
    fig = viz.plot_feature_maps(model, x[0])
    labels = [ax.get_ylabel().split("\n")[1] for ax in fig.axes if ax.get_ylabel()]
    assert labels == ["2 ReLU", "5 Dropout2d", "8 MaxPool2d"]
