"""Helpers that run a model for a picture or a table must not flip the mode another thread sees,
and must feed a parameter-free model in the dtype of its buffers."""

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest

import sinapsi as sn
from sinapsi import nn


class _Spy(nn.Module):
    """Records the shared flag of ``watched`` (not this thread's view) at every forward."""

    def __init__(self, watched):
        super().__init__()
        object.__setattr__(self, "watched", watched)  # not a child: no recursion
        self.seen = []

    def forward(self, x):
        self.seen.append(self.watched._training)
        return x


def _model():
    model = nn.Sequential(nn.Linear(2, 3, rng=0), nn.Tanh(), nn.Linear(3, 2, rng=1))
    spy = _Spy(model)
    return nn.Sequential(model, spy), spy


@pytest.mark.parametrize("draw", ["summary", "plot_activations", "plot_network"])
def test_drawing_or_summarizing_never_flips_the_shared_flag(draw):
    import matplotlib.pyplot as plt

    model, spy = _model()
    object.__setattr__(spy, "watched", model)
    model.train()
    x = np.random.default_rng(0).standard_normal((20, 2)).astype(np.float32)
    if draw == "summary":
        model.summary((2,))
    elif draw == "plot_activations":
        plt.close(sn.viz.plot_activations(model, x))
    else:
        plt.close(sn.viz.plot_network(model, x))
    assert spy.seen and all(spy.seen), spy.seen  # the flag other threads read stayed True
    assert model.training


def test_a_model_of_float64_buffers_only_predicts_in_float64():
    x = np.random.default_rng(0).standard_normal((10, 3))
    norm = nn.Normalization(dtype="float64").adapt(x)
    assert nn.module_dtype(norm) == np.float64
    out = sn.predict(norm, x)
    assert out.dtype == np.float64
    np.testing.assert_allclose(out, (x - x.mean(0)) / x.std(0), rtol=1e-12)
