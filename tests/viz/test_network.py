"""plot_network: nodes, edges coloured and sized by weight, labels, per-neuron maps."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.colors import to_rgb  # noqa: E402
from matplotlib.patches import Circle  # noqa: E402
from PIL import Image  # noqa: E402

import sinapsi as sn  # noqa: E402
from sinapsi import nn  # noqa: E402
from sinapsi.viz.network import NEGATIVE, POSITIVE, plot_network  # noqa: E402


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _ax(fig):
    return fig.axes[0]


def _circles(fig):
    return [p for p in _ax(fig).patches if isinstance(p, Circle)]


def _by_gid(artists, prefix):
    return {a.get_gid(): a for a in artists if (a.get_gid() or "").startswith(prefix)}


def _texts(fig):
    return [t.get_text() for t in _ax(fig).texts]


def mlp(*sizes, act=nn.Tanh):
    layers = []
    for k, (a, b) in enumerate(zip(sizes, sizes[1:])):
        layers.append(nn.Linear(a, b, rng=k))
        if k < len(sizes) - 2:
            layers.append(act())
    return nn.Sequential(*layers)


@pytest.mark.parametrize("suffix", ["png", "svg", "pdf"])
def test_figure_saves_headless(tmp_path, suffix):
    fig = plot_network(mlp(2, 4, 1))
    path = tmp_path / f"net.{suffix}"
    fig.savefig(path)
    assert path.stat().st_size > 1000
    if suffix == "png":
        assert Image.open(path).size[0] > 300


def test_one_circle_per_neuron_and_labels():
    model = nn.Sequential(
        nn.Linear(3, 4, rng=0),
        nn.BatchNorm1d(4),
        nn.ReLU(),
        nn.Dropout(0.2),
        nn.Linear(4, 2, rng=1),
    )
    fig = plot_network(model)
    assert len(_circles(fig)) == 3 + 4 + 2
    labels = [t.get_text() for t in _by_gid(_ax(fig).texts, "label:").values()]
    assert labels[0] == "input (3)"
    assert labels[-1] == "output (2)"
    hidden = labels[1].replace("\n", " ")
    assert hidden.startswith("Linear 4") and "BatchNorm" in hidden and "ReLU" in hidden
    assert "Dropout 0.2" in hidden
    assert "34 parameters" in fig.get_suptitle()
    assert len(_by_gid(_ax(fig).get_lines(), "edge:")) == 3 * 4 + 4 * 2


def test_large_layer_shows_max_nodes_an_ellipsis_and_its_count():
    model = nn.Sequential(nn.Linear(784, 256, rng=0), nn.ReLU(), nn.Linear(256, 10, rng=1))
    fig = plot_network(model, max_nodes=10)
    nodes = _by_gid(_circles(fig), "node:")
    assert sum(g.startswith("node:1:") for g in nodes) == 10
    assert sum(g.startswith("node:0:") for g in nodes) == 10
    assert len(nodes) == 10 + 10 + 10
    # first and last neurons of the 256 are the ones drawn
    assert {"node:1:0", "node:1:4", "node:1:251", "node:1:255"} <= set(nodes)
    texts = _by_gid(_ax(fig).texts, "")
    assert texts["ellipsis:1"].get_text() == "⋮"
    assert texts["count:1"].get_text() == "n = 256"
    assert texts["count:0"].get_text() == "n = 784"
    assert "count:2" not in texts  # 10 outputs fit


def test_edge_width_follows_abs_weight_and_colour_its_sign():
    model = mlp(3, 4, 2)
    w = model[0].weight.data
    w[...] = 0.5
    w[0, 0], w[1, 0], w[2, 0] = 3.0, 0.1, -2.0  # weight[j, i]: input i -> neuron j
    fig = plot_network(model)
    edges = _by_gid(_ax(fig).get_lines(), "edge:1:")
    strong, weak, negative = edges["edge:1:0:0"], edges["edge:1:1:0"], edges["edge:1:2:0"]
    assert strong.get_linewidth() > weak.get_linewidth() + 1.0
    assert weak.get_linewidth() >= 0.3  # a visible minimum
    assert to_rgb(strong.get_color()) == to_rgb(POSITIVE)
    assert to_rgb(weak.get_color()) == to_rgb(POSITIVE)
    assert to_rgb(negative.get_color()) == to_rgb(NEGATIVE)
    # endpoints are the node centres
    nodes = _by_gid(_circles(fig), "node:")
    assert strong.get_xydata()[0] == pytest.approx(nodes["node:0:0"].center)
    assert strong.get_xydata()[1] == pytest.approx(nodes["node:1:0"].center)
    legend = [t.get_text() for t in fig.legends[0].get_texts()]
    assert any("blue" in t for t in legend) and any("orange" in t for t in legend)


def test_bias_fill_and_text_only_with_show_bias():
    model = mlp(3, 4, 2)
    model[0].bias.data[:] = [0.5, -0.5, 0.25, 0.0]
    fig = plot_network(model)
    nodes = _by_gid(_circles(fig), "node:")
    blue, orange = nodes["node:1:0"].get_facecolor()[:3], nodes["node:1:1"].get_facecolor()[:3]
    assert blue[2] > blue[0] and orange[0] > orange[2]
    assert "b=0.50" in _texts(fig) and "b=-0.50" in _texts(fig)
    plain = plot_network(model, show_bias=False)
    assert not any(t.startswith("b=") for t in _texts(plain))
    assert {tuple(c.get_facecolor()) for c in _circles(plain)[3:]} == {(1.0, 1.0, 1.0, 1.0)}


def test_neuron_maps_one_image_per_neuron_inside_its_node():
    model = mlp(2, 4, 1)
    fig = plot_network(model)  # default: on for 2 inputs and small layers
    ax = _ax(fig)
    maps = _by_gid(ax.images, "map:")
    assert len(maps) == len(ax.images) == 4 + 1
    nodes = _by_gid(_circles(fig), "node:")
    for gid, image in maps.items():
        node = nodes[gid.replace("map:", "node:")]
        assert image.get_clip_path() is not None  # clipped to the circle
        x0, x1, y0, y1 = image.get_extent()
        (cx, cy), r = node.center, node.radius
        assert x0 >= cx - r - 1e-9 and x1 <= cx + r + 1e-9
        assert y0 >= cy - r - 1e-9 and y1 <= cy + r + 1e-9
    assert len(_by_gid(ax.patches, "bias:")) == 5  # the Playground's bias squares
    assert not plot_network(model, neuron_maps=False).axes[0].images


def test_neuron_maps_are_the_neurons_outputs_over_the_plane():
    model = mlp(2, 3, 1)
    x = np.array([[-2.0, -1.0], [4.0, 3.0]], dtype=np.float32)
    fig = plot_network(model, x)
    maps = _by_gid(_ax(fig).images, "map:")
    n = maps["map:2:0"].get_array().shape[0]
    pad = np.maximum((x.max(0) - x.min(0)) * 0.1, 0.5)
    lo, hi = x.min(0) - pad, x.max(0) + pad
    xs, ys = np.linspace(lo[0], hi[0], n), np.linspace(lo[1], hi[1], n)
    grid = np.stack(np.meshgrid(xs, ys), axis=-1).reshape(-1, 2)
    output = sn.predict(model, grid).reshape(n, n)  # row = x2 (origin lower), column = x1
    np.testing.assert_allclose(maps["map:2:0"].get_array(), output, rtol=1e-5, atol=1e-6)
    w, b = model[0].weight.data.astype(np.float64), model[0].bias.data.astype(np.float64)
    hidden = np.tanh(grid @ w.T + b)  # post-activation of the first hidden layer
    for j in range(3):
        np.testing.assert_allclose(
            maps[f"map:1:{j}"].get_array(), hidden[:, j].reshape(n, n), atol=1e-5
        )
    assert maps["map:1:0"].get_clim() == (-1.0, 1.0)  # tanh: fixed range, saturation shows
    assert model.training  # the model's mode is restored


def test_neuron_maps_need_two_inputs():
    model = mlp(10, 4, 1)
    with pytest.raises(
        ValueError,
        match=r"per-neuron maps need 2 inputs.*takes 10.*neuron_maps=False.*plot_activations",
    ):
        plot_network(model, neuron_maps=True)
    assert not plot_network(model).axes[0].images  # default: off, no error


def test_bad_arguments_say_what_to_do():
    with pytest.raises(ValueError, match=r"max_nodes must be an integer >= 2.*max_nodes=1"):
        plot_network(mlp(2, 3, 1), max_nodes=1)
    with pytest.raises(ValueError, match=r"x must have shape \(n_samples, 2\).*\(5, 3\)"):
        plot_network(mlp(2, 3, 1), np.zeros((5, 3)))

    class NotAChain(nn.Module):
        def __init__(self):
            super().__init__()
            self.a, self.b = nn.Linear(2, 3, rng=0), nn.Linear(4, 1, rng=1)

        def forward(self, x):
            return self.b(self.a(x))

    with pytest.raises(ValueError, match=r"chain of Linear layers.*takes 4 inputs.*gives 3"):
        plot_network(NotAChain())
    with pytest.raises(ValueError, match=r"no Linear layer"):
        plot_network(nn.Sequential(nn.ReLU()))


@pytest.mark.parametrize("sizes", [(2, 8, 8, 1), (784, 256, 10), (3, 16, 16, 16, 16, 4), (2, 3, 1)])
def test_labels_do_not_overlap_and_stay_in_the_figure(sizes):
    fig = plot_network(mlp(*sizes))
    renderer = fig.canvas.get_renderer()
    fig_box = fig.bbox
    boxes = [t.get_window_extent(renderer) for t in _by_gid(_ax(fig).texts, "label:").values()]
    for a, b in zip(boxes, boxes[1:]):
        assert a.x1 < b.x0, (a, b)
    for box in boxes + [fig.legends[0].get_window_extent(renderer)]:
        assert box.x0 >= fig_box.x0 and box.x1 <= fig_box.x1
        assert box.y0 >= fig_box.y0 and box.y1 <= fig_box.y1
    legend = fig.legends[0].get_window_extent(renderer)
    assert legend.y1 < min(b.y0 for b in boxes)  # the legend sits below the labels


# ---------------------------------------------------------------------------- issue 14.19
def _bias_texts(fig, k):
    return {g: t.get_text() for g, t in _by_gid(_ax(fig).texts, f"text:{k}:").items()}


def test_batchnorm_after_linear_shows_the_folded_effective_bias_and_weights():
    model = nn.Sequential(
        nn.Linear(3, 4, rng=0), nn.BatchNorm1d(4), nn.ReLU(), nn.Linear(4, 2, rng=1)
    )
    lin, bn = model[0], model[1]
    lin.bias.data[:] = [0.0, 0.1, 0.0, 0.0]
    bn.weight.data[:] = [2.0, 1.0, -1.0, 0.5]
    bn.bias.data[:] = [0.3, -0.2, 0.0, 1.0]
    bn.running_mean[:] = [1.0, 0.1, -0.5, 0.0]
    bn.running_var[:] = [4.0, 1.0, 0.25, 1.0]
    scale = bn.weight.data / np.sqrt(bn.running_var + bn.eps)
    bias = bn.bias.data + scale * (lin.bias.data - bn.running_mean)
    fig = plot_network(model)
    texts = _bias_texts(fig, 1)
    assert [texts[f"text:1:{j}"] for j in range(4)] == [f"b={b:.2f}" for b in bias]
    assert not all(t == "b=0.00" for t in texts.values())  # the issue: every node said 0.00
    model.eval()
    x = np.eye(3, dtype=np.float32)
    hidden = sn.predict(nn.Sequential(lin, bn), x).astype(np.float64)
    weights = (hidden - bias).T  # column i: the effective weights from input i
    edges = _by_gid(_ax(fig).get_lines(), "edge:1:")
    strongest = np.unravel_index(np.abs(weights).argmax(), weights.shape)
    assert edges[f"edge:1:{strongest[0]}:{strongest[1]}"].get_linewidth() == pytest.approx(3.2)
    assert to_rgb(edges["edge:1:2:0"].get_color()) == to_rgb(
        POSITIVE if weights[2, 0] > 0 else NEGATIVE
    )
    assert "BatchNorm folded" in fig.texts[-1].get_text()  # the caption says how


def test_output_nodes_are_labelled_with_class_names():
    fig = plot_network(mlp(3, 4, 3), class_names=["cat", "dog", "bird"])
    names = _by_gid(_ax(fig).texts, "name:")
    assert [names[f"name:{j}"].get_text() for j in range(3)] == ["cat", "dog", "bird"]
    nodes = _by_gid(_circles(fig), "node:2:")
    renderer = fig.canvas.get_renderer()
    for j in range(3):  # right of its node, inside the figure
        box = names[f"name:{j}"].get_window_extent(renderer)
        node = nodes[f"node:2:{j}"]
        assert names[f"name:{j}"].get_position()[0] > node.center[0] + node.radius
        assert box.x1 <= fig.bbox.x1
    binary = plot_network(mlp(2, 3, 1), class_names=["no", "yes"])
    text = _by_gid(_ax(binary).texts, "name:")["name:0"].get_text()
    assert "yes" in text and "no" in text and "> 0" in text
    with pytest.raises(ValueError, match=r"class_names has 2 names.*3 outputs.*one name per"):
        plot_network(mlp(3, 4, 3), class_names=["a", "b"])


def test_parameter_free_layer_before_the_first_linear_is_a_caption_on_the_input():
    class Normalization(nn.Module):  # as nn.Normalization: buffers mean/scale, no weights
        def __init__(self, n):
            super().__init__()
            self.register_buffer("mean", np.full(n, 1.0, np.float32))
            self.register_buffer("scale", np.full(n, 2.0, np.float32))

        def forward(self, x):
            return (x - self.mean) / self.scale

    model = nn.Sequential(Normalization(2), nn.Linear(2, 3, rng=0), nn.Tanh(), nn.Linear(3, 1))
    fig = plot_network(model, np.zeros((4, 2), np.float32))
    labels = [t.get_text() for t in _by_gid(_ax(fig).texts, "label:").values()]
    assert labels[0].replace("\n", " ") == "input (2) + Normalization"
    assert len(_by_gid(_ax(fig).images, "map:")) == 3 + 1


def test_truncated_layers_are_said_in_the_caption():
    fig = plot_network(mlp(1000, 3, 1))
    assert "first and last" in fig.texts[-1].get_text() and "1000" in fig.texts[-1].get_text()
    assert "first and last" not in plot_network(mlp(3, 3, 1)).texts[-1].get_text()


def test_non_finite_weights_are_refused_with_the_layer_named():
    model = mlp(2, 3, 1)
    model[2].weight.data[0, 1] = np.nan
    with pytest.raises(
        ValueError, match=r"layer 2 \(Linear 3 -> 1\) holds 1 non-finite weight.*diverged"
    ):
        plot_network(model)


def test_real_normalization_layer_and_a_model_that_cannot_run_yet():
    x = np.random.default_rng(0).normal(5.0, 3.0, (50, 2)).astype(np.float32)
    norm = nn.Normalization().adapt(x)
    model = nn.Sequential(norm, nn.Linear(2, 3, rng=0), nn.Tanh(), nn.Linear(3, 1, rng=1))
    fig = plot_network(model, x)
    labels = [t.get_text() for t in _by_gid(_ax(fig).texts, "label:").values()]
    assert labels[0].replace("\n", " ") == "input (2) + Normalization"
    assert len(_by_gid(_ax(fig).images, "map:")) == 3 + 1
    # not adapted yet (a model drawn before training): the diagram, without maps, says why
    fresh = nn.Sequential(nn.Normalization(2), nn.Linear(2, 3, rng=0), nn.Linear(3, 1, rng=1))
    fig = plot_network(fresh)
    assert not _ax(fig).images
    assert "No neuron maps: Normalization(2) has no statistics yet." in fig.texts[-1].get_text()
    with pytest.raises(RuntimeError, match=r"no statistics yet"):
        plot_network(fresh, neuron_maps=True)
