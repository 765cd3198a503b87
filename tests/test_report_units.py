"""The report of a run that standardized its features shows the model that was saved (its
Normalization layer first) on the data in the user's own units: the decision boundary and the
neuron maps of a 2-D set are drawn over the raw input plane, where ``sinapsi predict`` and
``sn.load`` take their points, and the gradient-flow layer names match the summary's."""

import numpy as np

import sinapsi as sn
import sinapsi.viz as viz
from sinapsi.cli import main
from sinapsi.data.datasets import moons


def test_the_report_draws_the_saved_model_over_raw_inputs(tmp_path, monkeypatch):
    seen = {}
    real = viz.write_report

    def spy(path, **kwargs):
        seen.update(kwargs)
        return real(path, **kwargs)

    monkeypatch.setattr(viz, "write_report", spy)
    config = tmp_path / "moons.toml"
    config.write_text(
        '[data]\nsource = "moons"\nn_samples = 200\nnoise = 0.1\n'
        "[model]\nhidden = [4]\n[training]\nepochs = 3\n"
    )
    assert main(["train", str(config), "--out", str(tmp_path / "runs"), "--quiet"]) == 0
    model, x = seen["model"], seen["x"]
    assert type(model[0]).__name__ == "Normalization"
    raw, _ = moons(200, noise=0.1, seed=0)
    assert np.ptp(x[:, 0]) > 0.5 * np.ptp(raw[:, 0])  # raw units: x1 spans about [-5, 5]
    saved = sn.load(tmp_path / "runs" / "moons" / "model.safetensors")
    np.testing.assert_allclose(sn.predict(saved, x), sn.predict(model, x), rtol=1e-5, atol=1e-6)
    names = {f"{name} {type(m).__name__}" for name, m in model.named_children()}
    assert set(seen["history"].grad_norms) <= names
