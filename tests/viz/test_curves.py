"""plot_history: what is drawn (line data, best-epoch marks, legends, panels) and its errors."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest
from PIL import Image

import sinapsi as sn
from sinapsi import nn
from sinapsi.optim import lr_scheduler
from sinapsi.train import History
from sinapsi.viz.curves import OKABE_ITO, plot_history


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def make_history(losses, val_losses=None, accuracy=None, lr=None):
    """A History built by hand, so every value (and the best epoch) is known."""
    h = History()
    for e, loss in enumerate(losses):
        logs = {"loss": loss}
        if val_losses is not None:
            logs["val_loss"] = val_losses[e]
        if accuracy is not None:
            logs["accuracy"] = accuracy[e]
            logs["val_accuracy"] = accuracy[e] - 0.05
        logs["lr"] = 0.1 if lr is None else lr[e]
        logs["time"] = 0.01
        h.append(e, logs)
    return h


def save_png(fig, tmp_path, name="fig.png"):
    path = tmp_path / name
    fig.savefig(path)
    assert path.stat().st_size > 1000
    with Image.open(path) as image:
        assert image.format == "PNG" and image.size[0] > 100 and image.size[1] > 100
    return path


def by_gid(ax, gid):
    found = [line for line in ax.get_lines() if line.get_gid() == gid]
    assert found, f"no line with gid {gid!r}: {[line.get_gid() for line in ax.get_lines()]}"
    return found[0]


def panel(fig, title):
    return next(ax for ax in fig.axes if ax.get_title().startswith(title))


@pytest.fixture(scope="module")
def trained():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((96, 3))
    y = (x[:, 0] - x[:, 1] > 0).astype(np.int64)
    model = nn.Sequential(nn.Linear(3, 8, rng=0), nn.Tanh(), nn.Linear(8, 2, rng=1))
    return sn.fit(
        model,
        x,
        y,
        epochs=6,
        validation_split=0.25,
        metrics=["accuracy"],
        lr=0.05,
        seed=0,
        verbose=0,
    )


def test_single_run_draws_the_recorded_values(trained, tmp_path):
    fig = plot_history(trained)
    save_png(fig, tmp_path)
    assert [ax.get_title() for ax in fig.axes] == ["loss", "accuracy"]
    loss_ax = panel(fig, "loss")
    train = by_gid(loss_ax, "train:None")
    np.testing.assert_allclose(train.get_ydata(), trained.history["loss"])
    np.testing.assert_allclose(train.get_xdata(), trained.epoch)
    val = by_gid(loss_ax, "val:None")
    np.testing.assert_allclose(val.get_ydata(), trained.history["val_loss"])
    assert train.get_linestyle() == "-" and val.get_linestyle() == "--"
    acc_ax = panel(fig, "accuracy")
    np.testing.assert_allclose(
        by_gid(acc_ax, "val:None").get_ydata(), trained.history["val_accuracy"]
    )
    assert loss_ax.get_xlabel() == "epoch" and loss_ax.get_ylabel() == "loss"


def test_best_epoch_is_marked_on_every_panel():
    h = make_history(
        [1.0, 0.6, 0.4, 0.3, 0.25],
        val_losses=[1.1, 0.7, 0.5, 0.55, 0.6],
        accuracy=[0.5, 0.7, 0.8, 0.85, 0.9],
    )
    assert h.best_epoch("val_loss") == 3
    fig = plot_history(h)
    loss_ax, acc_ax = panel(fig, "loss"), panel(fig, "accuracy")
    star = by_gid(loss_ax, "best:None")
    assert list(star.get_xdata()) == [3] and list(star.get_ydata()) == [0.5]
    assert star.get_marker() == "*"
    for ax in (loss_ax, acc_ax):
        line = by_gid(ax, "best-line:None")
        assert set(line.get_xdata()) == {3}
    # on the accuracy panel the star sits on the validation accuracy of that epoch
    assert list(by_gid(acc_ax, "best:None").get_ydata()) == pytest.approx([0.75])
    legend = [t.get_text() for t in fig.legends[0].get_texts()]
    assert legend[:2] == ["training", "validation"]
    assert "best epoch 3" in legend[2] and "val_loss" in legend[2]


def test_best_epoch_without_validation_is_the_lowest_training_loss():
    h = make_history([0.9, 0.5, 0.2, 0.3])
    fig = plot_history(h)
    star = by_gid(fig.axes[0], "best:None")
    assert list(star.get_xdata()) == [3] and list(star.get_ydata()) == [0.2]
    assert "(loss 0.2)" in fig.legends[0].get_texts()[-1].get_text()


def test_three_runs_overlaid_get_three_labelled_legend_entries(tmp_path):
    runs = {
        "SGD": make_history([1.0, 0.8, 0.7], [1.0, 0.9, 0.85]),
        "momentum": make_history([1.0, 0.6, 0.5], [1.0, 0.7, 0.75]),
        "Adam": make_history([0.9, 0.4, 0.2], [0.8, 0.5, 0.4]),
    }
    fig = plot_history(runs)
    save_png(fig, tmp_path)
    texts = [t.get_text() for t in fig.legends[0].get_texts()]
    assert len(texts) == 3
    for label, text in zip(runs, texts):
        assert text.startswith(label)
    assert "best epoch 2" in texts[1]  # momentum's val_loss is lowest at epoch 2
    ax = fig.axes[0]
    colors = [by_gid(ax, f"train:{label}").get_color() for label in runs]
    assert colors == list(OKABE_ITO[:3])
    for label, color in zip(runs, colors):  # one colour per run: train solid, val dashed
        val = by_gid(ax, f"val:{label}")
        assert val.get_color() == color and val.get_linestyle() == "--"
        np.testing.assert_allclose(val.get_ydata(), runs[label].history["val_loss"])
    assert [list(by_gid(ax, f"best:{label}").get_xdata()) for label in runs] == [[3], [2], [3]]
    style_texts = [t.get_text() for t in fig.legends[1].get_texts()]
    assert style_texts[:2] == ["training", "validation"]


def test_list_of_runs_with_and_without_labels():
    a, b = make_history([1.0, 0.5]), make_history([1.0, 0.7])
    texts = [t.get_text() for t in plot_history([a, b]).legends[0].get_texts()]
    assert texts[0].startswith("run 1") and texts[1].startswith("run 2")
    texts = [
        t.get_text()
        for t in plot_history([a, b], labels=["sigmoid", "ReLU"]).legends[0].get_texts()
    ]
    assert texts[0].startswith("sigmoid") and texts[1].startswith("ReLU")


def test_metric_selection():
    h = make_history([1.0, 0.5], [1.0, 0.6], accuracy=[0.5, 0.8])
    assert [ax.get_title() for ax in plot_history(h, metrics=[]).axes] == ["loss"]
    assert [ax.get_title() for ax in plot_history(h, metrics="val_accuracy").axes] == [
        "loss",
        "accuracy",
    ]


def test_learning_rate_panel_only_when_it_changes():
    rng = np.random.default_rng(1)
    x, y = rng.standard_normal((40, 2)), rng.integers(0, 2, 40)
    model = nn.Sequential(nn.Linear(2, 4, rng=0), nn.ReLU(), nn.Linear(4, 2, rng=1))
    h = sn.fit(
        model,
        x,
        y,
        epochs=6,
        optimizer="sgd",
        lr=0.1,
        seed=0,
        verbose=0,
        lr_scheduler=lambda opt: lr_scheduler.StepLR(opt, step_size=2, gamma=0.5),
    )
    fig = plot_history(h)
    lr_ax = panel(fig, "learning rate")
    assert lr_ax.get_yscale() == "log"
    np.testing.assert_allclose(by_gid(lr_ax, "train:None").get_ydata(), h.history["lr"])
    assert [t.get_text() for t in lr_ax.get_yticklabels()] == ["0.025", "0.05", "0.1"]
    constant = make_history([1.0, 0.5, 0.4])
    assert not any("learning rate" in ax.get_title() for ax in plot_history(constant).axes)


def test_log_loss_and_vector_formats(tmp_path):
    fig = plot_history(make_history([1.0, 0.1, 0.01]), log_loss=True)
    assert fig.axes[0].get_yscale() == "log" and "log" in fig.axes[0].get_title()
    for ext in ("svg", "pdf"):
        path = tmp_path / f"curves.{ext}"
        fig.savefig(path)
        assert path.stat().st_size > 1000


def test_style_does_not_leak_into_global_settings():
    before = dict(plt.rcParams)
    plot_history(make_history([1.0, 0.5]))
    assert dict(plt.rcParams) == before


def test_errors_say_what_to_do():
    with pytest.raises(ValueError, match=r"0 epochs: there is nothing to plot.*Call sinapsi\.fit"):
        plot_history(History())
    with pytest.raises(ValueError, match=r"run 'b'.*0 epochs"):
        plot_history({"a": make_history([1.0]), "b": History()})
    h = make_history([1.0, 0.5], accuracy=[0.5, 0.6])
    with pytest.raises(ValueError, match=r"no metric 'mae'\. Recorded metrics: accuracy\."):
        plot_history(h, metrics=["mae"])
    with pytest.raises(ValueError, match=r"Recorded metrics: none \(fit was called without"):
        plot_history(make_history([1.0]), metrics=["accuracy"])
    with pytest.raises(TypeError, match=r"expected a History.*got dict"):
        plot_history([{"loss": [1.0]}])
    with pytest.raises(ValueError, match=r"2 histories but 1 labels"):
        plot_history([h, h], labels=["only one"])
    with pytest.raises(ValueError, match=r"no runs given"):
        plot_history([])


# ---------------------------------------------------------------------------- awkward histories
def test_non_finite_losses_are_marked_not_silently_dropped():
    h = make_history([1.0, float("nan"), 0.5, float("inf")], val_losses=[0.9, 0.8, 0.7, 0.6])
    fig = plot_history(h)
    ax = panel(fig, "loss")
    marks = by_gid(ax, "nonfinite:loss:None")
    np.testing.assert_array_equal(marks.get_xdata(), [2, 4])  # the epochs that went NaN / inf
    notes = [t.get_text() for t in ax.texts]
    assert any("loss not finite at epochs 2, 4" in t for t in notes), notes
    clean = plot_history(make_history([1.0, 0.5]))
    assert not [ln for ln in clean.axes[0].get_lines() if "nonfinite" in (ln.get_gid() or "")]


def test_a_history_with_no_finite_loss_says_training_diverged():
    fig = plot_history(make_history([float("nan"), float("nan")]))
    legend = [t.get_text() for t in fig.legends[0].get_texts()]
    assert any("no finite loss: training diverged" in t for t in legend), legend
    assert not any("nan" in t for t in legend)
