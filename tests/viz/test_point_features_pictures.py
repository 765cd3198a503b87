"""Pictures of a model that starts with the Playground's PointFeatures (what the playground and
`[data] features` runs save): it takes raw 2-D points, so the network's neuron maps, the
decision boundary and the report's diagram are drawn over the plane, and the input nodes are
named by their features."""

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from sinapsi import nn, viz  # noqa: E402


@pytest.fixture
def model_and_points():
    model = nn.Sequential(
        nn.PointFeatures(["x1", "x1^2", "x2^2", "sin(x2)"]),
        nn.Linear(4, 3, rng=0),
        nn.Tanh(),
        nn.Linear(3, 2, rng=1),
    )
    x = np.random.default_rng(0).uniform(-3, 3, (60, 2)).astype(np.float32)
    y = (x[:, 0] ** 2 + x[:, 1] ** 2 < 4).astype(np.int64)
    return model, x, y


def test_plot_network_takes_raw_points_and_names_the_feature_inputs(model_and_points):
    model, x, _ = model_and_points
    fig = viz.plot_network(model, x)
    texts = [t.get_text() for t in fig.axes[0].texts]
    for name in ("$x_1$", "$x_1^2$", "$x_2^2$", "sin $x_2$"):
        assert name in texts
    assert "$x_3$" not in texts
    maps = [im for im in fig.axes[0].images]
    assert len(maps) == 3 + 2  # a map in every hidden and output node
    with pytest.raises(ValueError, match=r"x must have shape \(n_samples, 2\)"):
        viz.plot_network(model, np.zeros((5, 4), dtype=np.float32))


def test_decision_boundary_and_report_of_a_feature_model(model_and_points, tmp_path):
    model, x, y = model_and_points
    from sinapsi import fit

    viz.plot_decision_boundary(model, x, y)
    history = fit(model, x, y, epochs=2, lr=0.1, verbose=0, seed=0)
    page = viz.write_report(
        tmp_path / "report.html", title="t", model=model, history=history, x=x, y_true=y,
        input_shape=(2,),
    ).read_text()  # fmt: skip
    assert "Not drawn" not in page
    assert page.count("<img") >= 3
