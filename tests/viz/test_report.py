"""report.html: valid, self-contained HTML with every picture embedded as a PNG."""

import base64
import io
from html.parser import HTMLParser

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest
from PIL import Image

import sinapsi as sn
from sinapsi import nn
from sinapsi.viz.report import write_report


class Collector(HTMLParser):
    """Collects tags, <img> sources, headings and any external reference; checks nesting."""

    VOID = {"meta", "img", "br", "hr", "link", "input"}

    def __init__(self):
        super().__init__()
        self.stack, self.images, self.headings, self.external = [], [], [], []
        self._in_heading = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "img":
            self.images.append(attrs.get("src", ""))
        for key in ("src", "href"):
            value = attrs.get(key)
            if value and not value.startswith("data:"):
                self.external.append(value)
        if tag not in self.VOID:
            self.stack.append(tag)
        self._in_heading = tag == "h2"

    def handle_endtag(self, tag):
        assert self.stack and self.stack[-1] == tag, f"</{tag}> closes <{self.stack[-1:]}>"
        self.stack.pop()
        self._in_heading = False

    def handle_data(self, data):
        if self._in_heading:
            self.headings.append(data.strip())


@pytest.fixture(scope="module")
def trained():
    x, y = sn.data.datasets.circles(200, seed=0)
    model = nn.Sequential(nn.Linear(2, 6, rng=0), nn.Tanh(), nn.Linear(6, 2, rng=1))
    history = sn.fit(model, x[:150], y[:150], validation_data=(x[150:], y[150:]), lr=0.05,
                     epochs=5, metrics=["accuracy"], seed=0, verbose=0)  # fmt: skip
    return model, history, x[150:], y[150:]


def test_report_is_valid_self_contained_html(tmp_path, trained):
    model, history, x_test, y_test = trained
    test = sn.evaluate(model, x_test, y_test, metrics=["accuracy"])
    path = write_report(
        tmp_path / "report.html", title="circles <run>", model=model, history=history,
        input_shape=(2,), test_metrics=test, x=x_test, y_true=y_test,
        y_pred=sn.predict_classes(model, x_test), class_names=["outer", "inner"],
        config={"lr": 0.05},
    )  # fmt: skip
    text = path.read_text(encoding="utf-8")
    assert text.startswith("<!DOCTYPE html>")
    parser = Collector()
    parser.feed(text)
    parser.close()
    assert parser.stack == [], f"unclosed tags: {parser.stack}"
    assert parser.external == []  # nothing to fetch: the page works offline
    for heading in ("Test metrics", "Model", "Training curves", "Network", "Gradient flow",
                    "Activations", "Confusion matrix", "Configuration",
                    "Decision boundary"):  # fmt: skip
        assert heading in parser.headings, (heading, parser.headings)
    # curves, network, decision boundary (2 inputs), gradient flow, activations, confusion
    assert len(parser.images) == 6
    for src in parser.images:
        assert src.startswith("data:image/png;base64,")
        image = Image.open(io.BytesIO(base64.b64decode(src.split(",", 1)[1])))
        assert image.format == "PNG" and image.size[0] > 200 and image.size[1] > 100
    assert "circles &lt;run&gt;" in text  # text is escaped
    assert f"{test['accuracy']:.4f}" in text
    assert list(tmp_path.iterdir()) == [path]  # written atomically, no temp file left


def test_a_picture_that_does_not_apply_becomes_a_note(tmp_path, trained):
    model, history, x_test, _ = trained
    path = write_report(
        tmp_path / "r.html",
        title="t",
        model=model,
        history=history,
        input_shape=(2,),
        image_shape=(3, 3),
    )  # 2 inputs are not a 3x3 image
    text = path.read_text()
    assert "First-layer weights" in text and 'class="note">Not drawn:' in text
    assert np.isfinite(len(text))


# ---------------------------------------------------------------------------- issue 14.19
def _parse(text):
    parser = Collector()
    parser.feed(text)
    parser.close()
    return parser


def test_targets_table_says_met_or_missed_and_the_title_says_which(tmp_path, trained):
    model, history, x_test, _ = trained
    met = [
        {"metric": "accuracy", "value": 0.985, "threshold": 0.97, "met": True},
        {"metric": "loss", "value": 0.05, "threshold": 0.1, "met": True, "goal": "<="},
    ]
    common = dict(title="run", model=model, history=history, input_shape=(2,))
    text = write_report(tmp_path / "a.html", targets=met, **common).read_text()
    parser = _parse(text)
    assert "Targets" in parser.headings
    assert "all targets met" in text.split("</title>")[0]  # the page title
    assert "<td>accuracy</td>" in text and "&gt;= 0.97" in text and "&lt;= 0.1" in text
    assert text.count(">met<") == 2 and "MISSED" not in text
    missed = [dict(met[0], value=0.95, met=False), met[1]]
    text = write_report(tmp_path / "b.html", targets=missed, **common).read_text()
    assert "target missed" in text.split("</title>")[0]
    assert text.count(">MISSED<") == 1 and text.count(">met<") == 1
    assert 'class="verdict missed"' in text and "accuracy 0.9500" in text
    plain = write_report(tmp_path / "c.html", **common).read_text()
    assert "Targets" not in _parse(plain).headings and "target" not in plain.split("</title>")[0]
    with pytest.raises(ValueError, match=r"targets\[0\] lacks 'met'.*metric, value, threshold"):
        write_report(tmp_path / "d.html", targets=[{"metric": "accuracy", "value": 1.0,
                                                  "threshold": 0.9}], **common)  # fmt: skip
    assert not (tmp_path / "d.html").exists()


def test_network_gets_the_class_names_and_falls_back_without(tmp_path, trained, monkeypatch):
    import sinapsi.viz.network as network

    model, history, x_test, y_test = trained
    calls = []
    real = network.plot_network

    def spy(*args, **kwargs):
        calls.append(kwargs.get("class_names"))
        return real(*args, **kwargs)

    monkeypatch.setattr(network, "plot_network", spy)
    common = dict(title="run", model=model, history=history, input_shape=(2,))
    write_report(tmp_path / "a.html", class_names=["outer", "inner"], **common)
    assert calls == [["outer", "inner"]]
    text = write_report(tmp_path / "b.html", class_names=["a", "b", "c"], **common).read_text()
    assert calls[-1] is None  # 3 names for 2 outputs: drawn without names, not a lost picture
    assert "Network" in _parse(text).headings and "Not drawn" not in text


def test_no_decision_boundary_without_two_inputs_or_labels(tmp_path, trained):
    model, history, x_test, y_test = trained
    common = dict(title="run", model=model, history=history, input_shape=(2,))
    text = write_report(tmp_path / "a.html", x=x_test, **common).read_text()
    assert "Decision boundary" not in _parse(text).headings  # no labels
    wide = nn.Sequential(nn.Linear(3, 4, rng=0), nn.ReLU(), nn.Linear(4, 2, rng=1))
    x3 = np.zeros((6, 3), np.float32)
    y3 = np.array([0, 1, 0, 1, 0, 1])
    text = write_report(tmp_path / "b.html", title="t", model=wide, history=history,
                        input_shape=(3,), x=x3, y_true=y3, y_pred=y3).read_text()  # fmt: skip
    assert "Decision boundary" not in _parse(text).headings


def test_a_picture_that_fails_in_any_way_becomes_a_note(tmp_path, trained, monkeypatch):
    import sinapsi.viz.gradients as gradients

    model, history, _, _ = trained

    def broken(*args, **kwargs):
        raise RuntimeError("the norms are gone")

    monkeypatch.setattr(gradients, "plot_gradient_flow", broken)
    path = write_report(
        tmp_path / "r.html", title="t", model=model, history=history, input_shape=(2,)
    )
    text = path.read_text()
    assert "Not drawn: RuntimeError: the norms are gone" in text
    assert "Training curves" in _parse(text).headings  # the rest of the report is there
