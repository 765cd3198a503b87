"""PointFeatures crosses the PyTorch bridge both ways (a playground model with its inputs)."""

import numpy as np
import torch

from sinapsi import nn
from sinapsi.interop import from_torch, to_torch


def test_point_features_model_round_trips_through_torch():
    model = nn.Sequential(nn.PointFeatures(["x1", "x1*x2", "sin(x2)"]), nn.Linear(3, 2, rng=0))
    x = np.random.default_rng(0).uniform(-6, 6, size=(5, 2)).astype(np.float32)
    twin = to_torch(model)
    assert type(twin[0]).__name__ == "PointFeatures"
    np.testing.assert_allclose(
        twin(torch.from_numpy(x)).detach().numpy(), model(x).numpy(), rtol=1e-5, atol=1e-6
    )
    back = from_torch(twin)
    assert list(back[0].features) == ["x1", "x1*x2", "sin(x2)"]
    np.testing.assert_allclose(back(x).numpy(), model(x).numpy(), rtol=1e-6, atol=1e-6)
