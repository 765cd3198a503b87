"""PyTorch's "Learn the Basics" quickstart, ported to sinapsi as a user would type it.

A Module subclass, a Dataset and DataLoader, a loss and an optimizer, the train and test
loops (``test`` is ``evaluate_loop`` here, so pytest does not collect it), then state_dict
save and load: on the bundled digits instead of FashionMNIST. The loss of
every step matches the same loop in PyTorch.
"""

import torch

import sinapsi as sn
from sinapsi import nn, optim
from sinapsi.data import ArrayDataset, DataLoader, train_val_test_split
from sinapsi.data.datasets import load_digits


class NeuralNetwork(nn.Module):
    def __init__(self):
        super().__init__()
        self.flatten = nn.Flatten()
        self.linear_relu_stack = nn.Sequential(
            nn.Linear(64, 64, rng=0),
            nn.ReLU(),
            nn.Linear(64, 64, rng=1),
            nn.ReLU(),
            nn.Linear(64, 10, rng=2),
        )

    def forward(self, x):
        x = self.flatten(x)
        return self.linear_relu_stack(x)


def data():
    X, y = load_digits()
    X = (X / 16.0).reshape(-1, 8, 8).astype("float32")  # images, as FashionMNIST's
    (x_train, y_train), _, (x_test, y_test) = train_val_test_split(
        X, y, val_size=0.1, test_size=0.2, seed=0
    )
    return ArrayDataset(x_train, y_train), ArrayDataset(x_test, y_test)


def train(dataloader, model, loss_fn, optimizer):
    model.train()
    losses = []
    for X, y in dataloader:
        pred = model(sn.tensor(X))
        loss = loss_fn(pred, y)
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
        losses.append(loss.item())
    return losses


def evaluate_loop(dataloader, model, loss_fn):
    size = len(dataloader.dataset)
    num_batches = len(dataloader)
    model.eval()
    test_loss, correct = 0.0, 0.0
    with sn.no_grad():
        for X, y in dataloader:
            pred = model(sn.tensor(X))
            test_loss += loss_fn(pred, y).item()
            correct += (pred.argmax(1) == y).float().sum().item()
    return test_loss / num_batches, correct / size


def test_quickstart_trains_saves_and_loads(tmp_path):
    training_data, test_data = data()
    train_dataloader = DataLoader(training_data, batch_size=64, shuffle=True, seed=0)
    test_dataloader = DataLoader(test_data, batch_size=64)
    model = NeuralNetwork()
    loss_fn = nn.CrossEntropyLoss()
    optimizer = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    for _ in range(8):
        train(train_dataloader, model, loss_fn, optimizer)
    test_loss, accuracy = evaluate_loop(test_dataloader, model, loss_fn)
    assert accuracy > 0.93 and test_loss < 0.3

    sn.save_state_dict(model, tmp_path / "model.safetensors")  # torch.save(model.state_dict())
    loaded = NeuralNetwork()
    loaded.load_state_dict(sn.load_state_dict(tmp_path / "model.safetensors"))
    loaded.eval()
    x, y = test_data[0]
    with sn.no_grad():
        pred = loaded(sn.tensor(x[None]))
    assert pred.shape == (1, 10)
    assert pred[0].argmax(0).item() == model(sn.tensor(x[None])).argmax(1).item()
    assert evaluate_loop(test_dataloader, loaded, loss_fn) == (test_loss, accuracy)


def test_quickstart_losses_equal_pytorch_step_for_step():
    training_data, _ = data()
    with sn.default_dtype("float64"):
        model = NeuralNetwork()
    twin = torch.nn.Sequential(
        torch.nn.Flatten(), torch.nn.Linear(64, 64), torch.nn.ReLU(), torch.nn.Linear(64, 64),
        torch.nn.ReLU(), torch.nn.Linear(64, 10),
    ).double()  # fmt: skip
    state = {k.replace("linear_relu_stack.", ""): v for k, v in model.state_dict().items()}
    twin.load_state_dict({str(int(k[0]) + 1) + k[1:]: torch.tensor(v) for k, v in state.items()})
    optimizer = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    twin_optimizer = torch.optim.SGD(twin.parameters(), lr=0.1, momentum=0.9)
    loader = DataLoader(training_data, batch_size=64, shuffle=True, seed=0)
    for X, y in loader:
        with sn.default_dtype("float64"):  # sn.tensor(X) in train() is then float64 too
            ours = train(((X, y),), model, nn.CrossEntropyLoss(), optimizer)[0]
        twin_optimizer.zero_grad()
        theirs = torch.nn.functional.cross_entropy(twin(torch.tensor(X).double()), torch.tensor(y))
        theirs.backward()
        twin_optimizer.step()
        assert abs(ours - theirs.item()) < 1e-10
