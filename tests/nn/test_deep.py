"""The notes' claim, made executable: in a deep sigmoid network the gradient vanishes toward
the input; ReLU with He initialization and Batch Normalization keeps it alive."""

import numpy as np

import sinapsi as sn
from sinapsi import nn

DEPTH, WIDTH = 20, 64


def deep_network(kind: str, seed: int = 0) -> nn.Sequential:
    rng = np.random.default_rng(seed)
    layers = []
    for _ in range(DEPTH):
        if kind == "sigmoid":
            layers += [nn.Linear(WIDTH, WIDTH, rng=rng), nn.Sigmoid()]
        else:
            layers += [
                nn.Linear(WIDTH, WIDTH, init="he", rng=rng),
                nn.BatchNorm1d(WIDTH),
                nn.ReLU(),
            ]
    layers.append(nn.Linear(WIDTH, 1, rng=rng))
    return nn.Sequential(*layers)


def layer_gradient_norms(model: nn.Sequential) -> list[float]:
    x = sn.tensor(np.random.default_rng(1).standard_normal((128, WIDTH)))
    y = np.random.default_rng(2).standard_normal((128, 1))
    nn.mse_loss(model(x), y).backward()
    return [float(np.linalg.norm(m.weight.grad)) for m in model if isinstance(m, nn.Linear)]


def test_sigmoid_stack_vanishes_and_relu_he_batchnorm_does_not():
    sigmoid = layer_gradient_norms(deep_network("sigmoid"))
    relu = layer_gradient_norms(deep_network("relu"))
    assert len(sigmoid) == len(relu) == DEPTH + 1
    # first hidden layer vs last hidden layer (the output layer is left out)
    sigmoid_ratio = sigmoid[0] / sigmoid[-2]
    relu_ratio = relu[0] / relu[-2]
    assert sigmoid_ratio < 1e-8, sigmoid_ratio  # measured: ~2e-17 (each sigmoid' <= 1/4)
    assert relu_ratio > 0.1, relu_ratio  # measured: ~35
    assert all(np.isfinite(relu)) and min(relu) > 1e-3
