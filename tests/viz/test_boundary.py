"""plot_decision_boundary (surface colours checked pixel by pixel) and animate_training."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.colors import to_rgb  # noqa: E402
from PIL import Image  # noqa: E402

import sinapsi as sn  # noqa: E402
from sinapsi import nn  # noqa: E402
from sinapsi.data.datasets import circles, xor  # noqa: E402
from sinapsi.viz.animation import animate_training  # noqa: E402
from sinapsi.viz.boundary import class_colors, plot_decision_boundary  # noqa: E402


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def xor_model():
    """Two logits, trained on XOR (not linearly separable)."""
    x, y = xor(300, seed=0)
    model = nn.Sequential(nn.Linear(2, 8, rng=0), nn.Tanh(), nn.Linear(8, 2, rng=1))
    sn.fit(model, x, y, lr=0.05, epochs=40, seed=0, verbose=0)
    return model, x, y


@pytest.fixture(scope="module")
def circles_model():
    """One logit (binary cross-entropy), trained on circles."""
    x, y = circles(300, noise=0.05, seed=0)
    model = nn.Sequential(nn.Linear(2, 8, rng=0), nn.Tanh(), nn.Linear(8, 1, rng=1))
    target = y.reshape(-1, 1).astype(np.float32)
    sn.fit(model, x, target, loss="bce_with_logits", lr=0.05, epochs=40, seed=0, verbose=0)
    return model, x, y


def _surface_classes(fig, ax, n=400, seed=0):
    """Render the surface alone; return random data points, the class their pixel's colour
    says (-1 where the colour is too pale to tell), and the pixel colours."""
    for artist in [*ax.collections, *(ax.get_legend(),)]:
        if artist is not None:
            artist.set_visible(False)  # points, contours, legend: leave only the surface
    fig.canvas.draw()
    rgba = np.asarray(fig.canvas.buffer_rgba()).astype(float) / 255
    height = rgba.shape[0]
    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    rng = np.random.default_rng(seed)
    pts = np.column_stack([rng.uniform(x0, x1, n), rng.uniform(y0, y1, n)])
    pix = ax.transData.transform(pts)
    rows = np.clip((height - pix[:, 1]).astype(int), 0, height - 1)
    cols = np.clip(pix[:, 0].astype(int), 0, rgba.shape[1] - 1)
    return pts, rgba[rows, cols, :3]


def _check_agreement(model, fig, n_classes):
    ax = fig.axes[0]
    pts, colors = _surface_classes(fig, ax)
    predicted = sn.predict_classes(model, pts.astype(np.float32))
    reference = np.array([to_rgb(c) for c in class_colors(n_classes)])
    # A pixel is the white-mixed colour of its class: compare hues (colour minus its grey).
    chroma = colors - colors.mean(axis=1, keepdims=True)
    ref_chroma = reference - reference.mean(axis=1, keepdims=True)
    ref_chroma /= np.linalg.norm(ref_chroma, axis=1, keepdims=True)
    strength = np.linalg.norm(chroma, axis=1)
    clear = strength > 0.06  # near-white pixels sit on the boundary itself
    pixel_class = (chroma @ ref_chroma.T).argmax(axis=1)
    assert clear.sum() > 300
    agree = np.mean(pixel_class[clear] == predicted[clear])
    assert agree >= 0.98, agree
    return pixel_class, predicted, clear


def test_surface_colours_match_predict_classes_two_logits(xor_model):
    model, x, y = xor_model
    fig = plot_decision_boundary(model, x, y, resolution=150)
    pixel_class, predicted, clear = _check_agreement(model, fig, 2)
    assert set(pixel_class[clear]) == {0, 1}  # both classes are on the picture


def test_surface_colours_match_predict_classes_one_logit(circles_model):
    model, x, y = circles_model
    fig = plot_decision_boundary(model, x, y, resolution=150)
    _check_agreement(model, fig, 2)
    contour = [c for c in fig.axes[0].collections if c.get_gid() is None]
    assert contour, "the 0.5 contour is drawn"


def test_surface_colours_match_predict_classes_three_classes():
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 3, 240)
    centres = np.array([[-3.0, -2.0], [3.0, -2.0], [0.0, 3.0]])
    x = (centres[labels] + rng.normal(0, 1.0, (240, 2))).astype(np.float32)
    model = nn.Sequential(nn.Linear(2, 8, rng=0), nn.ReLU(), nn.Linear(8, 3, rng=1))
    sn.fit(model, x, labels, lr=0.05, epochs=20, seed=0, verbose=0)
    fig = plot_decision_boundary(model, x, labels, resolution=120)
    pixel_class, _, clear = _check_agreement(model, fig, 3)
    assert set(pixel_class[clear]) == {0, 1, 2}


def test_points_filled_and_hollow_coloured_by_true_label(xor_model, tmp_path):
    model, x, y = xor_model
    fig = plot_decision_boundary(model, x[:200], y[:200], x[200:], y[200:])
    ax = fig.axes[0]
    sets = {c.get_gid(): c for c in ax.collections if c.get_gid()}
    colors = np.array([to_rgb(c) for c in class_colors(2)])
    train, test = sets["train points"], sets["test points"]
    np.testing.assert_allclose(train.get_facecolors()[:, :3], colors[y[:200]])
    np.testing.assert_allclose(test.get_edgecolors()[:, :3], colors[y[200:]])
    assert np.all(test.get_facecolors()[:, 3] == 0)  # hollow
    accuracy = np.mean(sn.predict_classes(model, x[:200]) == y[:200])
    assert f"train accuracy {100 * accuracy:.1f}%" in ax.get_title()
    assert "test accuracy" in ax.get_title()
    for suffix in ("png", "svg", "pdf"):
        fig.savefig(tmp_path / f"b.{suffix}")
        assert (tmp_path / f"b.{suffix}").stat().st_size > 1000


def test_draws_into_a_given_axes(circles_model):
    model, x, y = circles_model
    fig, (left, right) = plt.subplots(1, 2)
    assert plot_decision_boundary(model, x, y, ax=right, resolution=30) is fig
    assert right.images and not left.images


def test_errors_name_the_problem_and_the_way_out(circles_model):
    model = nn.Sequential(nn.Linear(10, 4, rng=0), nn.ReLU(), nn.Linear(4, 2, rng=1))
    x = np.zeros((5, 10), np.float32)
    message = (
        r"plot_decision_boundary draws 2-D inputs; this model takes 10 features\. Use "
        r"plot_confusion_matrix or plot_activations instead \(or project to 2-D first\)"
    )
    with pytest.raises(ValueError, match=message):
        plot_decision_boundary(model, x, np.zeros(5, np.int64))
    model2, x2, y2 = circles_model
    with pytest.raises(ValueError, match=r"x must have shape \(n_samples, 2\).*\(5, 3\)"):
        plot_decision_boundary(model2, np.zeros((5, 3)), np.zeros(5))
    with pytest.raises(ValueError, match=r"class labels.*non-integer.*0\.5"):
        plot_decision_boundary(model2, x2[:3], np.array([0.0, 0.5, 1.0]))
    with pytest.raises(ValueError, match=r"x_test and y_test together"):
        plot_decision_boundary(model2, x2, y2, x_test=x2)
    with pytest.raises(ValueError, match=r"resolution must be an integer >= 10.*resolution=2"):
        plot_decision_boundary(model2, x2, y2, resolution=2)


# ---------------------------------------------------------------------------- animation
def _small_model():
    return nn.Sequential(nn.Linear(2, 4, rng=0), nn.Tanh(), nn.Linear(4, 2, rng=1))


def test_animate_training_writes_one_frame_per_recorded_epoch(tmp_path):
    x, y = xor(120, seed=0)
    xt, yt = xor(40, seed=1)
    path = animate_training(
        _small_model(),
        x,
        y,
        tmp_path / "train.gif",
        epochs=6,
        frame_every=2,
        fps=4,
        x_test=xt,
        y_test=yt,
        lr=0.05,
        seed=0,
    )
    assert path == tmp_path / "train.gif"
    with Image.open(path) as gif:
        assert gif.format == "GIF"
        assert gif.n_frames == 3  # epochs 2, 4, 6
        assert gif.size == (700, 340)  # 7 x 3.4 inches at 100 dpi
        assert gif.info["loop"] == 0
    assert path.stat().st_size < 1_000_000
    assert [p.name for p in tmp_path.iterdir()] == ["train.gif"]  # no temporary left


def test_animate_training_keeps_the_last_epoch_and_user_callbacks(tmp_path):
    x, y = xor(80, seed=0)
    seen = []

    class Spy(sn.train.Callback):
        def on_epoch_end(self, epoch, logs):
            seen.append(epoch)

    model = nn.Sequential(nn.Linear(2, 32, rng=0), nn.ReLU(), nn.Linear(32, 2, rng=1))
    path = animate_training(
        model, x, y, tmp_path / "big.gif", epochs=5, frame_every=2, callbacks=[Spy()], seed=0
    )
    with Image.open(path) as gif:
        assert gif.n_frames == 3  # epochs 2, 4 and the last, 5
        assert gif.size == (390, 390)  # 32 hidden neurons: the surface alone
    assert seen == [0, 1, 2, 3, 4]


def test_animate_training_leaves_no_file_when_fit_fails(tmp_path):
    x, y = xor(60, seed=0)
    bad = y + 5  # labels 5 and 6 for a 2-class model: fit refuses before training
    with pytest.raises(IndexError, match="label 6 is out of range for 2 classes"):
        animate_training(_small_model(), x, bad, tmp_path / "fail.gif", epochs=2)
    assert list(tmp_path.iterdir()) == []

    class Crash(sn.train.Callback):  # fails mid-training, after frames were recorded
        def on_epoch_end(self, epoch, logs):
            if epoch == 2:
                raise RuntimeError("interrupted")

    (tmp_path / "old.gif").write_bytes(b"previous")
    with pytest.raises(RuntimeError, match="interrupted"):
        animate_training(_small_model(), x, y, tmp_path / "old.gif", epochs=4, callbacks=[Crash()])
    assert (tmp_path / "old.gif").read_bytes() == b"previous"  # untouched, not half-written
    (tmp_path / "old.gif").unlink()
    with pytest.raises(ValueError, match=r"must end in \.gif.*fail\.mp4"):
        animate_training(_small_model(), x, y, tmp_path / "fail.mp4", epochs=2)
    with pytest.raises(ValueError, match=r"frame_every must be an integer >= 1.*frame_every=0"):
        animate_training(_small_model(), x, y, tmp_path / "fail.gif", frame_every=0)
    with pytest.raises(ValueError, match=r"draws 2-D inputs; this model takes 3 features"):
        model = nn.Sequential(nn.Linear(3, 2, rng=0))
        animate_training(model, np.zeros((4, 3)), np.zeros(4), tmp_path / "fail.gif")
    assert list(tmp_path.iterdir()) == []


# ---------------------------------------------------------------------------- labels (14.5)
def _sign_model(last=None, outputs=1):
    """A perfect classifier of the sign of x1: score = x1 (then an optional final layer)."""
    layers = [nn.Linear(2, outputs, rng=0)]
    w = np.zeros((outputs, 2), np.float32)
    w[-1, 0] = 1.0
    if outputs == 2:
        w[0, 0] = -1.0
    layers[0].weight.data[...] = w
    layers[0].bias.data[...] = 0.0
    if last is not None:
        layers.append(last)
    return nn.Sequential(*layers)


def _sign_data(n=60, seed=0):
    x = np.random.default_rng(seed).uniform(-3, 3, (n, 2)).astype(np.float32)
    x[:, 0] += np.where(x[:, 0] >= 0, 0.2, -0.2)  # no point on the boundary itself
    return x, x[:, 0] > 0


def _point_classes(fig, gid="points"):
    """The class index (0 = orange, 1 = blue, ...) each drawn point's colour says."""
    sets = {c.get_gid(): c for c in fig.axes[0].collections if c.get_gid()}
    colors = sets[gid].get_facecolors()[:, :3]
    reference = np.array([to_rgb(c) for c in class_colors(3)])
    return np.argmin(((colors[:, None, :] - reference[None]) ** 2).sum(-1), axis=1)


@pytest.mark.parametrize(
    "last, labels",
    [
        (nn.Tanh(), (-1, 1)),  # micrograd: tanh score, labels -1/+1, class +1 when score > 0
        (None, (-1.0, 1.0)),  # a raw score (max-margin loss), float labels
        (None, (0, 1)),  # a BCE logit
        (nn.Sigmoid(), (0, 1)),  # a probability: class 1 when > 0.5
        (None, (1, 2)),  # labels 1 and 2: the classes are np.unique(y), as in scikit-learn
        (None, ("no", "yes")),  # strings
    ],
)
def test_any_two_label_values_with_a_one_output_model(last, labels):
    x, positive = _sign_data()
    y = np.where(positive, labels[1], labels[0])
    fig = plot_decision_boundary(_sign_model(last), x, y, resolution=20)
    title = fig.axes[0].get_title()
    assert "accuracy 100.0%" in title, title
    np.testing.assert_array_equal(_point_classes(fig), positive.astype(int))
    legend = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    names = [f"class {int(v) if isinstance(v, float) else v}" for v in labels]  # 1.0 -> 1
    assert legend == names


def test_points_are_not_called_train_without_a_test_set():
    x, positive = _sign_data()
    fig = plot_decision_boundary(_sign_model(), x, positive.astype(int), resolution=20)
    ax = fig.axes[0]
    assert "train" not in ax.get_title() and "60 points" in ax.get_title()
    assert not any("train" in t.get_text() for t in ax.get_legend().get_texts())
    fig = plot_decision_boundary(
        _sign_model(), x[:40], positive[:40], x[40:], positive[40:], resolution=20
    )
    assert "train accuracy 100.0%" in fig.axes[0].get_title()
    assert "test accuracy 100.0%" in fig.axes[0].get_title()


@pytest.mark.parametrize("labels", [(-1, 1), ("cat", "dog"), (1, 2)])
def test_two_outputs_map_columns_to_the_sorted_labels(labels):
    x, positive = _sign_data()
    y = np.where(positive, labels[1], labels[0])
    fig = plot_decision_boundary(_sign_model(outputs=2), x, y, resolution=20)
    assert "accuracy 100.0%" in fig.axes[0].get_title()
    np.testing.assert_array_equal(_point_classes(fig), positive.astype(int))


def test_one_hot_labels_and_a_subset_of_integer_classes():
    x, positive = _sign_data()
    one_hot = np.eye(2, dtype=np.float32)[positive.astype(int)]
    fig = plot_decision_boundary(_sign_model(outputs=2), x, one_hot, resolution=20)
    assert "accuracy 100.0%" in fig.axes[0].get_title()
    # only the positive points: label 1 is still output 1 (labels 0..C-1 are output indices)
    fig = plot_decision_boundary(_sign_model(), x[positive], np.ones(positive.sum(), int))
    assert "accuracy 100.0%" in fig.axes[0].get_title()
    assert set(_point_classes(fig)) == {1}


def test_explicit_classes_name_each_output():
    x, positive = _sign_data()
    y = np.where(positive, "b", "a")
    fig = plot_decision_boundary(_sign_model(), x, y, classes=["b", "a"], resolution=20)
    assert "accuracy 0.0%" in fig.axes[0].get_title()  # output > 0 now means "a"
    with pytest.raises(ValueError, match=r"classes=\['a'\] names 1 class.*1 output \(2 classes\)"):
        plot_decision_boundary(_sign_model(), x, y, classes=["a"])
    with pytest.raises(ValueError, match=r"label 'b' of y is not in classes=\['a', 'c'\]"):
        plot_decision_boundary(_sign_model(), x, y, classes=["a", "c"])


def test_labels_that_do_not_fit_the_model_are_refused_clearly():
    x, _ = _sign_data()
    three = np.arange(len(x)) % 3 + 5  # labels 5, 6, 7
    with pytest.raises(
        ValueError, match=r"y holds 3 classes \[5, 6, 7\].*1 output.*2 classes.*regression"
    ):
        plot_decision_boundary(_sign_model(), x, three)
    with pytest.raises(ValueError, match=r"only the label -1.*classes=\[-1, 1\]"):
        plot_decision_boundary(_sign_model(), x, -np.ones(len(x), int))
    values = np.linspace(0, 1, len(x))  # regression targets
    with pytest.raises(ValueError, match=r"class labels.*non-integer.*regression"):
        plot_decision_boundary(_sign_model(), x, values)
    with pytest.raises(ValueError, match=r"\(60, 2\) would be one-hot.*not 0/1 rows"):
        plot_decision_boundary(_sign_model(), x, np.full((len(x), 2), 0.5))
    bad = x.copy()
    bad[3, 1] = np.nan
    with pytest.raises(ValueError, match=r"x holds 1 non-finite value.*row 3"):
        plot_decision_boundary(_sign_model(), bad, np.zeros(len(x), int))


def test_one_point_and_one_class():
    x = np.array([[0.5, -0.3]], np.float32)
    fig = plot_decision_boundary(_sign_model(), x, np.array([1]), resolution=10)
    assert "accuracy 100.0% on 1 point" in fig.axes[0].get_title()


def test_class_names_name_the_legend_and_the_colour_bar():
    x, positive = _sign_data()
    fig = plot_decision_boundary(
        _sign_model(), x, positive.astype(int), class_names=["outer", "inner"], resolution=20
    )
    legend = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert legend == ["outer", "inner"]
    assert "P(inner)" in fig.axes[1].get_ylabel()
    with pytest.raises(ValueError, match=r"class_names has 3 names but the model has 2 classes"):
        plot_decision_boundary(_sign_model(), x, positive, class_names=["a", "b", "c"])


def test_a_model_that_outputs_nan_is_refused():
    model = _sign_model()
    model[0].weight.data[0, 1] = np.nan
    x, positive = _sign_data()
    with pytest.raises(
        ValueError, match=r"the model outputs NaN or inf at .* of the plane.*diverged"
    ):
        plot_decision_boundary(model, x, positive, resolution=10)


def test_a_wide_plane_gets_a_figure_of_its_shape():
    """Data twice as wide as tall (moons in raw units): the figure follows the plane's shape,
    instead of a square figure around a flat strip, and the legend stays under the x label."""
    from sinapsi.data.datasets import moons

    x, y = moons(200, noise=0.1, seed=0)  # x1 in about [-5, 5], x2 in [-3, 3]
    model = nn.Sequential(nn.Linear(2, 4, rng=0), nn.Tanh(), nn.Linear(4, 2, rng=1))
    fig = plot_decision_boundary(model, x, y, resolution=20)
    fig.canvas.draw()
    width, height = fig.get_size_inches()
    assert height < 0.75 * width
    ax = fig.axes[0]
    assert ax.get_position().height > 0.6  # the plane fills the figure's height
    renderer = fig.canvas.get_renderer()
    legend = ax.get_legend().get_window_extent(renderer)
    assert legend.y1 <= ax.xaxis.label.get_window_extent(renderer).y0 + 1
