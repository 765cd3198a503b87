"""Gradient flow, activation histograms, confusion matrix and weight images: what is drawn."""

import re
import warnings

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.colors import to_rgb
from PIL import Image
from sklearn.metrics import confusion_matrix

import sinapsi as sn
from sinapsi import nn
from sinapsi.train import History
from sinapsi.train.callbacks import GradientMonitor
from sinapsi.viz.diagnostics import plot_confusion_matrix, plot_weights_image
from sinapsi.viz.gradients import gradient_flow_bands, plot_activations, plot_gradient_flow
from sinapsi.viz.network import NEGATIVE, POSITIVE


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def save_png(fig, tmp_path, name="fig.png"):
    path = tmp_path / name
    fig.savefig(path)
    assert path.stat().st_size > 1000
    with Image.open(path) as image:
        assert image.format == "PNG" and image.size[0] > 100 and image.size[1] > 100
    return path


def pixels(fig):
    fig.canvas.draw()
    return np.asarray(fig.canvas.buffer_rgba())[..., :3].astype(float)


def pixel_at(fig, rgb, display_xy):
    """The RGB of the canvas at a display point (origin bottom-left, as transforms give)."""
    x, y = display_xy
    return rgb[int(round(rgb.shape[0] - y)), int(round(x))]


# --------------------------------------------------------------------------- gradient flow
DATA = np.random.default_rng(0).standard_normal((256, 16)).astype(np.float32)
LABELS = (DATA[:, 0] > 0).astype(np.int64)
# Measured on these nets after 2 epochs: the sigmoid net's first layer norm is ~3e-14 of the
# largest (the ratio grows ~10x per layer toward the output); the ReLU + He + BatchNorm net's
# smallest ratio is ~0.03. VANISH = 1e-6 sits 7 orders of magnitude from the first and 4 from
# the second.
VANISH = 1e-6


def deep(activation, init="default", batchnorm=False, depth=15):
    layers = []
    for i in range(depth):
        layers.append(nn.Linear(16, 16, init=init, rng=i))
        if batchnorm:
            layers.append(nn.BatchNorm1d(16))
        layers.append(activation())
    return nn.Sequential(*layers, nn.Linear(16, 2, init=init, rng=99))


def train(model, epochs=2):
    return sn.fit(
        model,
        DATA,
        LABELS,
        epochs=epochs,
        batch_size=64,
        optimizer="sgd",
        lr=0.1,
        seed=0,
        verbose=0,
    )


@pytest.fixture(scope="module")
def sigmoid_history():
    return train(deep(nn.Sigmoid))


@pytest.fixture(scope="module")
def relu_history():
    return train(deep(nn.ReLU, init="he", batchnorm=True))


def test_deep_sigmoid_net_has_vanishing_first_layers(sigmoid_history):
    bands = gradient_flow_bands(sigmoid_history, vanish=VANISH)
    assert set(bands) == {"vanishing", "exploding", "norms"}
    assert bands["vanishing"][0] == "0 Linear"
    assert "30 Linear" not in bands["vanishing"]  # the output layer learns
    assert bands["exploding"] == []
    assert list(bands["norms"]) == list(sigmoid_history.grad_norms)
    assert bands["norms"]["0 Linear"] == sigmoid_history.grad_norms["0 Linear"]


def test_relu_he_batchnorm_net_has_no_vanishing_layers(relu_history):
    bands = gradient_flow_bands(relu_history, vanish=VANISH)
    assert bands["vanishing"] == [] and bands["exploding"] == []


def test_bands_use_gradient_monitors_definitions(sigmoid_history):
    last = {k: v[-1] for k, v in sigmoid_history.grad_norms.items()}
    last["2 Linear"] = float("inf")
    last["4 Linear"] = 5e3
    monitor = GradientMonitor(vanish=VANISH, explode=1e3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        monitor.on_epoch_end(0, {"grad_norms": last})
    h = History()
    h.append(0, {"loss": 1.0, "grad_norms": last})
    bands = gradient_flow_bands(h, vanish=VANISH, explode=1e3)
    assert {(layer, "vanishes") for layer in bands["vanishing"]} | {
        (layer, "explodes") for layer in bands["exploding"]
    } == monitor.flagged
    assert bands["exploding"] == ["2 Linear", "4 Linear"]


def test_plot_gradient_flow_draws_norms_bands_and_note(sigmoid_history, tmp_path):
    fig = plot_gradient_flow(sigmoid_history, vanish=VANISH)
    save_png(fig, tmp_path)
    lines_ax, bars_ax = fig.axes[0], fig.axes[1]
    assert lines_ax.get_yscale() == "log" and bars_ax.get_yscale() == "log"
    norms = sigmoid_history.grad_norms
    for layer, values in norms.items():
        line = next(ln for ln in lines_ax.get_lines() if ln.get_gid() == f"layer:{layer}")
        np.testing.assert_allclose(line.get_ydata(), values)
        np.testing.assert_allclose(line.get_xdata(), sigmoid_history.epoch)
    # input-side layers in one colour ramp toward the output side
    first = next(ln for ln in lines_ax.get_lines() if ln.get_gid() == "layer:0 Linear")
    last = next(ln for ln in lines_ax.get_lines() if ln.get_gid() == "layer:30 Linear")
    assert first.get_color() != last.get_color()
    bars = {p.get_gid(): p for p in bars_ax.patches if (p.get_gid() or "").startswith("bar:")}
    assert list(bars) == [f"bar:{layer}" for layer in norms]  # first layer on the left
    assert bars["bar:0 Linear"].get_x() < bars["bar:30 Linear"].get_x()
    np.testing.assert_allclose(
        [bars[f"bar:{k}"].get_height() for k in norms], [v[-1] for v in norms.values()]
    )
    assert bars["bar:0 Linear"].get_hatch() and not bars["bar:30 Linear"].get_hatch()
    gids = {a.get_gid() for a in lines_ax.get_children()}
    assert {"vanishing-zone", "exploding-zone"} <= gids
    note = next(t for ax in fig.axes for t in ax.texts if t.get_gid() == "note").get_text()
    assert "Vanishing" in note and "0 Linear" in note
    for remedy in ("ReLU", "He/Xavier", "BatchNorm"):
        assert remedy in note


def test_plot_gradient_flow_healthy_and_exploding(relu_history):
    fig = plot_gradient_flow(relu_history, vanish=VANISH)
    note = next(t for ax in fig.axes for t in ax.texts if t.get_gid() == "note").get_text()
    assert note.startswith("No layer vanishing or exploding")
    h = History()
    for e in range(3):
        h.append(e, {"loss": 1.0, "grad_norms": {"0 Linear": 0.5, "2 Linear": 10.0 ** (e + 2)}})
    h.append(3, {"loss": 1.0, "grad_norms": {"0 Linear": 0.5, "2 Linear": float("nan")}})
    assert gradient_flow_bands(h)["exploding"] == ["2 Linear"]
    fig = plot_gradient_flow(h)
    note = next(t for ax in fig.axes for t in ax.texts if t.get_gid() == "note").get_text()
    assert "Exploding" in note and "2 Linear" in note and "clip_grad_norm" in note


def test_gradient_flow_errors():
    with pytest.raises(ValueError, match=r"no grad_norms.*sinapsi\.fit"):
        plot_gradient_flow(History())
    with pytest.raises(TypeError, match=r"Expected a History.*got dict"):
        gradient_flow_bands({"0 Linear": [1.0]})
    h = History()
    h.append(0, {"loss": 1.0, "grad_norms": {"0 Linear": 1.0}})
    with pytest.raises(ValueError, match=r"vanish must be a positive number.*vanish=-1"):
        gradient_flow_bands(h, vanish=-1)


# ----------------------------------------------------------------------------- activations
def annotation(ax):
    return next(t.get_text() for t in ax.texts if t.get_gid() == "annotation")


def test_saturated_sigmoid_net_and_mode_restored(tmp_path):
    model = nn.Sequential(
        nn.Linear(4, 16, rng=0),
        nn.Sigmoid(),
        nn.Linear(16, 8, rng=1),
        nn.Sigmoid(),
        nn.Linear(8, 2, rng=2),
    )
    model.train()
    model[2].eval()  # a mixed state must come back as it was
    before = [m.training for m in model.modules()]
    x = np.random.default_rng(0).standard_normal((200, 4)) * 50.0
    fig = plot_activations(model, x)
    save_png(fig, tmp_path)
    assert [ax.get_title() for ax in fig.axes] == ["1 Sigmoid", "3 Sigmoid"]
    saturated = float(re.search(r"saturated: ([\d.]+)%", annotation(fig.axes[0])).group(1))
    assert saturated > 50.0
    assert [m.training for m in model.modules()] == before
    assert all(not m._forward_hooks for m in model.modules())
    # the histogram counts are fractions of the values: they sum to 1
    heights = sum(p.get_height() for p in fig.axes[0].patches)
    assert heights == pytest.approx(1.0)


def test_dead_relu_and_tanh_annotations():
    dead = nn.Linear(3, 8, rng=0)
    dead.bias.data[...] = -100.0  # every pre-activation negative: every unit dead
    model = nn.Sequential(dead, nn.ReLU(), nn.Linear(8, 4, rng=1), nn.Tanh())
    fig = plot_activations(model, np.random.default_rng(1).standard_normal((50, 3)), bins=20)
    text = annotation(fig.axes[0])
    assert "zero (inactive): 100.0%" in text and "dead units: 8/8" in text
    zero_bar = next(p for p in fig.axes[0].patches if p.get_gid() == "zero-bar")
    assert zero_bar.get_height() == pytest.approx(1.0)
    assert "saturated: 0.0%" in annotation(fig.axes[1])  # tanh of the bias alone: small


def test_linear_layers_drawn_when_there_is_no_activation():
    model = nn.Sequential(nn.Linear(3, 5, rng=0), nn.Linear(5, 2, rng=1))
    fig = plot_activations(model, np.ones((10, 3)))
    assert [ax.get_title() for ax in fig.axes] == ["0 Linear", "1 Linear"]


def test_hooks_removed_and_mode_restored_on_error():
    model = nn.Sequential(nn.Linear(4, 4, rng=0), nn.ReLU())
    model.train()
    with pytest.raises(ValueError, match=r"expects inputs whose last axis has 4 features"):
        plot_activations(model, np.ones((5, 3)))
    assert all(m.training for m in model.modules())
    assert all(not m._forward_hooks for m in model.modules())


def test_activation_errors():
    with pytest.raises(ValueError, match=r"no activation layer.*no Linear layer"):
        plot_activations(nn.Sequential(nn.Identity()), np.ones((2, 2)))
    with pytest.raises(ValueError, match=r"x holds no samples"):
        plot_activations(nn.Sequential(nn.Linear(2, 2), nn.ReLU()), np.ones((0, 2)))
    with pytest.raises(TypeError, match=r"must be a sinapsi nn\.Module"):
        plot_activations(lambda x: x, np.ones((2, 2)))


# ------------------------------------------------------------------------ confusion matrix
def test_confusion_matrix_counts_match_sklearn(tmp_path):
    rng = np.random.default_rng(3)
    y_true = rng.integers(0, 4, 300)
    y_pred = np.where(rng.random(300) < 0.7, y_true, rng.integers(0, 4, 300))
    fig = plot_confusion_matrix(y_true, y_pred, class_names=["a", "b", "c", "d"])
    save_png(fig, tmp_path)
    ax = fig.axes[0]
    cells = [t for t in ax.texts]
    assert len(cells) == 16
    shown = np.zeros((4, 4), dtype=int)
    for t in cells:
        j, i = t.get_position()
        shown[int(i), int(j)] = int(t.get_text())
    np.testing.assert_array_equal(shown, confusion_matrix(y_true, y_pred))
    accuracy = np.mean(y_true == y_pred)
    assert f"accuracy {accuracy:.1%}" in ax.get_title()
    assert [t.get_text() for t in ax.get_xticklabels()] == ["a", "b", "c", "d"]
    assert ax.get_xlabel() == "predicted class" and ax.get_ylabel() == "true class"


def test_darkest_cell_is_the_largest_count():
    # distinct counts: cell (1, 2) holds the most (9)
    y_true = [0] * 5 + [1] * 12 + [2] * 4
    y_pred = [0] * 4 + [1] + [1] * 3 + [2] * 9 + [2] * 2 + [0] * 2
    counts = confusion_matrix(y_true, y_pred)
    fig = plot_confusion_matrix(y_true, y_pred)
    rgb = pixels(fig)
    ax = fig.axes[0]
    lightness = np.zeros((3, 3))
    for i in range(3):
        for j in range(3):  # a point off the cell's centre, away from its number
            lightness[i, j] = pixel_at(fig, rgb, ax.transData.transform((j - 0.35, i - 0.35))).sum()
    assert np.unravel_index(np.argmin(lightness), (3, 3)) == np.unravel_index(
        np.argmax(counts), (3, 3)
    )
    assert np.argmax(lightness) in np.flatnonzero(counts.ravel() == 0)


def test_normalized_rows_and_label_forms():
    y_true = np.array(["cat", "dog", "dog", "bird", "cat"])
    y_pred = np.array(["cat", "dog", "cat", "bird", "cat"])
    fig = plot_confusion_matrix(y_true, y_pred, normalize=True)
    ax = fig.axes[0]
    values = np.zeros((3, 3))
    for t in ax.texts:
        j, i = t.get_position()
        values[int(i), int(j)] = float(t.get_text())
    np.testing.assert_allclose(values.sum(axis=1), 1.0)
    assert [t.get_text() for t in ax.get_yticklabels()] == ["bird", "cat", "dog"]
    assert "80.0%" in ax.get_title() and "normalized" in ax.get_title()
    # class scores (n, n_classes) are turned into labels by argmax
    scores = np.eye(3)[[0, 1, 2, 2]]
    fig = plot_confusion_matrix([0, 1, 2, 1], scores)
    assert "75.0% (3 of 4)" in fig.axes[0].get_title()


def test_confusion_matrix_errors():
    with pytest.raises(ValueError, match=r"y_true has 5 labels but y_pred has 4"):
        plot_confusion_matrix([0, 1, 0, 1, 0], [0, 1, 0, 1])
    with pytest.raises(ValueError, match=r"empty: there is nothing to plot"):
        plot_confusion_matrix([], [])
    with pytest.raises(ValueError, match=r"class_names has 2 names but the labels go from 0 to 2"):
        plot_confusion_matrix([0, 1, 2], [0, 1, 2], class_names=["a", "b"])


# ---------------------------------------------------------------------------- weight images
def patterned_model():
    first = nn.Linear(64, 6, rng=0)
    w = np.random.default_rng(0).uniform(-0.1, 0.1, (6, 8, 8))
    w[0, :, :4] = 1.0  # unit 0: positive on the left half of the image ...
    w[0, :, 4:] = -1.0  # ... negative on the right half
    first.weight.data[...] = w.reshape(6, 64)
    return nn.Sequential(first, nn.ReLU(), nn.Linear(6, 10, rng=1))


@pytest.mark.parametrize("scale", ["global", "unit"])
def test_weights_image_shows_the_pattern_in_colour(scale, tmp_path):
    fig = plot_weights_image(patterned_model(), (8, 8), scale=scale)
    save_png(fig, tmp_path)
    panels = [ax for ax in fig.axes if (ax.get_gid() or "").startswith("unit:")]
    assert len(panels) == 6
    ax = next(a for a in panels if a.get_gid() == "unit:0")
    rgb = pixels(fig)
    box = ax.get_window_extent()
    middle = box.y0 + box.height / 2
    left = pixel_at(fig, rgb, (box.x0 + box.width * 0.25, middle))
    right = pixel_at(fig, rgb, (box.x0 + box.width * 0.75, middle))
    # one convention for every picture (TensorFlow Playground's, as plot_network's edges)
    assert left[2] > left[0] + 50  # blue: positive weights
    assert right[0] > right[2] + 50  # orange: negative weights
    np.testing.assert_allclose(left, np.array(to_rgb(POSITIVE)) * 255, atol=12)
    np.testing.assert_allclose(right, np.array(to_rgb(NEGATIVE)) * 255, atol=12)
    title = fig.get_suptitle()
    assert "blue > 0, orange < 0" in title
    assert ("one colour scale for all units" if scale == "global" else "its own") in title


def test_weights_image_max_units_and_errors():
    model = nn.Sequential(nn.Linear(64, 40, rng=0), nn.ReLU())
    fig = plot_weights_image(model, (8, 8), max_units=10)
    assert sum(1 for ax in fig.axes if (ax.get_gid() or "").startswith("unit:")) == 10
    assert "the first 10 of 40 units" in fig.get_suptitle()
    with pytest.raises(
        ValueError,
        match=r"takes 64 inputs, but image_shape=\(28, 28\) has 784 "
        r"pixels.*such as \(8, 8\)",
    ):
        plot_weights_image(model, (28, 28))
    with pytest.raises(ValueError, match=r"has no Linear layer"):
        plot_weights_image(nn.Sequential(nn.ReLU()), (8, 8))
    with pytest.raises(ValueError, match=r"image_shape must be \(height, width\).*Received"):
        plot_weights_image(model, 64)


def test_confusion_matrix_nan_labels_and_minus_one_plus_one_names():
    with pytest.raises(ValueError, match=r"y_true holds 1 NaN or inf label.*position 1"):
        plot_confusion_matrix([0.0, np.nan], [0.0, 1.0])
    # labels -1/+1 with two names: the names follow the sorted labels, as scikit-learn's classes_
    fig = plot_confusion_matrix([-1, 1, 1], [1, 1, -1], class_names=["neg", "pos"])
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["neg", "pos"]
    assert "accuracy 33.3% (1 of 3)" in ax.get_title()
    with pytest.raises(
        ValueError, match=r"class_names has 2 names but the labels go from -1 to 1 \(\[-1, 0, 1\]\)"
    ):
        plot_confusion_matrix([-1, 0, 1], [0, 0, 0], class_names=["a", "b"])
