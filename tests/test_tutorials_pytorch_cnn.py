"""PyTorch's two first convnet tutorials, ported to sinapsi as a user would type them.

- "Neural Networks" (the 60-minute blitz): LeNet on a 1x32x32 input, ``F.max_pool2d(F.relu(...))``,
  ``net.parameters()``, ``zero_grad`` and ``backward`` with a random gradient, an MSE loss.
- "Training a Classifier" (CIFAR-10): a 3-channel LeNet with ``nn.MaxPool2d(2, 2)`` and
  ``flatten(x, 1)``, cross-entropy and SGD with momentum, batch 4, the accuracy loop, then the
  state_dict saved and loaded. CIFAR is not shipped with any package, so the images are the
  bundled 8x8 digits blown up to 32x32 and tinted into 3 colour channels; the code is the
  tutorial's. Every step's loss equals PyTorch's on the same weights.
"""

import numpy as np
import torch

import sinapsi as sn
import sinapsi.functional as F  # noqa: N812 - the name every PyTorch user types
from sinapsi import nn, optim
from sinapsi.data import ArrayDataset, DataLoader, train_val_test_split
from sinapsi.data.datasets import load_digits


class BlitzNet(nn.Module):
    def __init__(self):
        super().__init__()
        # 1 input image channel, 6 output channels, 5x5 square convolution kernel
        self.conv1 = nn.Conv2d(1, 6, 5, rng=0)
        self.conv2 = nn.Conv2d(6, 16, 5, rng=1)
        # an affine operation: y = Wx + b
        self.fc1 = nn.Linear(16 * 5 * 5, 120, rng=2)  # 5*5 from image dimension
        self.fc2 = nn.Linear(120, 84, rng=3)
        self.fc3 = nn.Linear(84, 10, rng=4)

    def forward(self, x):
        # Max pooling over a (2, 2) window
        x = F.max_pool2d(F.relu(self.conv1(x)), (2, 2))
        # If the size is a square, you can specify with a single number
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        x = sn.flatten(x, 1)  # flatten all dimensions except the batch dimension
        x = F.relu(self.fc1(x))
        x = F.relu(self.fc2(x))
        return self.fc3(x)


def test_blitz_neural_networks_tutorial():
    net = BlitzNet()
    params = list(net.parameters())
    assert len(params) == 10
    assert params[0].size() == (6, 1, 5, 5)  # conv1's .weight

    rng = np.random.default_rng(0)
    input = sn.tensor(rng.standard_normal((1, 1, 32, 32)))
    out = net(input)
    assert out.shape == (1, 10)

    net.zero_grad()
    out.backward(rng.standard_normal((1, 10)).astype("float32"))
    assert all(p.grad is not None and np.any(p.grad != 0) for p in params)

    output = net(input)
    target = sn.tensor(rng.standard_normal(10)).view(1, -1)  # same shape as output
    criterion = nn.MSELoss()
    loss = criterion(output, target)
    net.zero_grad()
    assert net.conv1.bias.grad is None  # conv1.bias.grad before backward
    loss.backward()
    assert net.conv1.bias.grad.shape == (6,) and np.any(net.conv1.bias.grad != 0)

    optimizer = optim.SGD(net.parameters(), lr=0.01)
    before = loss.item()
    for _ in range(5):
        optimizer.zero_grad()
        loss = criterion(net(input), target)
        loss.backward()
        optimizer.step()
    assert criterion(net(input), target).item() < before


class Net(nn.Module):
    def __init__(self, seed=0):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 6, 5, rng=seed)
        self.pool = nn.MaxPool2d(2, 2)
        self.conv2 = nn.Conv2d(6, 16, 5, rng=seed + 1)
        self.fc1 = nn.Linear(16 * 5 * 5, 120, rng=seed + 2)
        self.fc2 = nn.Linear(120, 84, rng=seed + 3)
        self.fc3 = nn.Linear(84, 10, rng=seed + 4)

    def forward(self, x):
        x = self.pool(F.relu(self.conv1(x)))
        x = self.pool(F.relu(self.conv2(x)))
        x = sn.flatten(x, 1)  # flatten all dimensions except batch
        x = F.relu(self.fc1(x))
        x = F.relu(self.fc2(x))
        return self.fc3(x)


def colour_digits():
    """The 8x8 digits as 3x32x32 colour images in [-1, 1] (the tutorial's Normalize(0.5, 0.5))."""
    X, y = load_digits()
    images = np.kron(X.reshape(-1, 1, 8, 8) / 16.0, np.ones((1, 1, 4, 4)))  # 32x32
    tint = np.array([1.0, 0.7, 0.4]).reshape(1, 3, 1, 1)  # one colour per channel
    images = ((images * tint - 0.5) / 0.5).astype("float32")
    (x_train, y_train), _, (x_test, y_test) = train_val_test_split(
        images, y, val_size=0.1, test_size=0.2, seed=0
    )
    return ArrayDataset(x_train, y_train), ArrayDataset(x_test, y_test)


def test_cifar_classifier_tutorial_trains_saves_and_loads(tmp_path):
    trainset, testset = colour_digits()
    trainloader = DataLoader(trainset, batch_size=4, shuffle=True, seed=0)
    testloader = DataLoader(testset, batch_size=4, shuffle=False)

    net = Net()
    criterion = nn.CrossEntropyLoss()
    optimizer = optim.SGD(net.parameters(), lr=0.001, momentum=0.9)

    first_epoch = []
    for epoch in range(2):  # loop over the dataset multiple times
        running_loss = 0.0
        for i, data in enumerate(trainloader, 0):
            # get the inputs; data is a list of [inputs, labels]
            inputs, labels = data
            # zero the parameter gradients
            optimizer.zero_grad()
            # forward + backward + optimize
            outputs = net(sn.tensor(inputs))
            loss = criterion(outputs, labels)
            loss.backward()
            optimizer.step()
            running_loss += loss.item()
            if i % 100 == 99:
                if epoch == 0:
                    first_epoch.append(running_loss / 100)
                running_loss = 0.0
    assert first_epoch[-1] < first_epoch[0]  # the loss falls

    PATH = tmp_path / "cifar_net.npz"  # torch.save(net.state_dict(), PATH), without pickle
    np.savez(PATH, **net.state_dict())
    net = Net(seed=100)
    with np.load(PATH) as f:
        net.load_state_dict(dict(f))

    correct = 0
    total = 0
    # since we're not training, we don't need to calculate the gradients for our outputs
    with sn.no_grad():
        for data in testloader:
            images, labels = data
            # calculate outputs by running images through the network
            outputs = net(sn.tensor(images))
            # the class with the highest energy is what we choose as prediction
            predicted = outputs.argmax(1).numpy()
            total += labels.shape[0]
            correct += (predicted == labels).sum().item()
    assert total == len(testset)
    assert correct / total > 0.6, f"accuracy {correct / total:.3f}"


def test_cifar_tutorial_losses_equal_pytorch_step_for_step():
    trainset, _ = colour_digits()
    with sn.default_dtype("float64"):
        net = Net()
    twin = torch.nn.Sequential(
        torch.nn.Conv2d(3, 6, 5), torch.nn.ReLU(), torch.nn.MaxPool2d(2, 2),
        torch.nn.Conv2d(6, 16, 5), torch.nn.ReLU(), torch.nn.MaxPool2d(2, 2), torch.nn.Flatten(),
        torch.nn.Linear(400, 120), torch.nn.ReLU(), torch.nn.Linear(120, 84), torch.nn.ReLU(),
        torch.nn.Linear(84, 10),
    ).double()  # fmt: skip
    names = {"conv1": "0", "conv2": "3", "fc1": "7", "fc2": "9", "fc3": "11"}
    twin.load_state_dict(
        {names[k.split(".")[0]] + "." + k.split(".")[1]: torch.tensor(v)
         for k, v in net.state_dict().items()}
    )  # fmt: skip
    optimizer = optim.SGD(net.parameters(), lr=0.001, momentum=0.9)
    twin_optimizer = torch.optim.SGD(twin.parameters(), lr=0.001, momentum=0.9)
    loader = DataLoader(trainset, batch_size=4, shuffle=True, seed=0)
    for step, (inputs, labels) in enumerate(loader):
        if step == 20:
            break
        optimizer.zero_grad()
        loss = nn.CrossEntropyLoss()(net(sn.tensor(inputs, dtype="float64")), labels)
        loss.backward()
        optimizer.step()
        twin_optimizer.zero_grad()
        theirs = torch.nn.functional.cross_entropy(
            twin(torch.tensor(inputs).double()), torch.tensor(labels)
        )
        theirs.backward()
        twin_optimizer.step()
        assert abs(loss.item() - theirs.item()) < 1e-10 * max(1.0, abs(theirs.item()))
