"""micrograd's demo, ported to sinapsi: moons with labels -1/+1, a 2-16-16-1 tanh MLP, an
SVM max-margin loss and L2 written by hand from ops, and a hand-written SGD update with a
decaying learning rate. It reaches micrograd's 100% and matches PyTorch step for step."""

import numpy as np
import torch

import sinapsi as sn
from sinapsi import nn
from sinapsi.data.datasets import moons


class MLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.l1 = nn.Linear(2, 16, rng=0)
        self.l2 = nn.Linear(16, 16, rng=1)
        self.l3 = nn.Linear(16, 1, rng=2)

    def forward(self, x):
        return self.l3(self.l2(self.l1(x).tanh()).tanh())


def moons_pm1():
    X, y = moons(100, noise=0.1, seed=1)
    return X.astype("float64"), y * 2 - 1  # micrograd's labels: -1 and +1


def svm_loss(model, X, y, alpha=1e-4):
    scores = model(sn.tensor(X)).squeeze(-1)
    losses = (1 + -sn.tensor(y) * scores).relu()  # max-margin, labels -1/+1 as ints
    data_loss = losses.sum() * (1.0 / len(losses))
    reg_loss = alpha * sum((p * p).sum() for p in model.parameters())
    accuracy = ((scores.numpy() > 0) == (y > 0)).mean()
    return data_loss + reg_loss, accuracy


def test_micrograd_demo_reaches_full_accuracy_and_matches_torch():
    X, y = moons_pm1()
    with sn.default_dtype("float64"):
        model = MLP()
        twin = torch.nn.Sequential(
            torch.nn.Linear(2, 16), torch.nn.Tanh(), torch.nn.Linear(16, 16), torch.nn.Tanh(),
            torch.nn.Linear(16, 1),
        ).double()  # fmt: skip
        twin.load_state_dict(
            {
                str(2 * (int(k[1]) - 1)) + k[2:]: torch.tensor(v)
                for k, v in model.state_dict().items()
            }
        )
        assert sum(p.numel() for p in model.parameters()) == 337
        for k in range(100):
            total_loss, accuracy = svm_loss(model, X, y)
            model.zero_grad()
            total_loss.backward()
            scores = twin(torch.tensor(X)).squeeze(-1)
            theirs = torch.relu(1 - torch.tensor(y) * scores).mean()
            theirs = theirs + 1e-4 * sum((p * p).sum() for p in twin.parameters())
            twin.zero_grad()
            theirs.backward()
            assert abs(total_loss.item() - theirs.item()) < 1e-9, k
            learning_rate = 1.0 - 0.9 * k / 100
            for p in model.parameters():
                p.data -= learning_rate * p.grad
            with torch.no_grad():
                for p in twin.parameters():
                    p -= learning_rate * p.grad
    assert accuracy == 1.0
    assert total_loss.item() < 0.02


def test_micrograd_demo_in_float32_with_the_batch_of_one():
    X, y = moons_pm1()
    model = MLP()
    total_loss, _ = svm_loss(model, X[:1].astype("float32"), y[:1])
    total_loss.backward()
    assert total_loss.shape == () and model.l1.weight.grad.shape == (16, 2)
    assert model.l1.weight.grad.dtype == np.float32
