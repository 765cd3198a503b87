"""Keras' "basic classification" and "basic regression" tutorials, ported to sinapsi:
Sequential models, fit with validation_split and callbacks, evaluate, predict, a probability
model made by appending a Softmax, a Normalization layer adapted to the training features,
a one-feature linear model and a deeper one, on data sets the package ships."""

import numpy as np

import sinapsi as sn
from sinapsi import nn
from sinapsi.data import train_val_test_split
from sinapsi.data.datasets import load_diabetes, load_digits
from sinapsi.train import Callback, EarlyStopping, ModelCheckpoint


class EpochLog(Callback):
    def __init__(self):
        self.epochs = []

    def on_epoch_end(self, epoch, logs=None):
        self.epochs.append((epoch, dict(logs)))


def test_basic_classification(tmp_path):
    X, y = load_digits()
    images = (X / 16.0).reshape(-1, 8, 8)  # as Fashion-MNIST's images scaled to [0, 1]
    (train_images, train_labels), _, (test_images, test_labels) = train_val_test_split(
        images, y, val_size=0.0, test_size=0.2, seed=0
    )
    model = nn.Sequential(
        nn.Flatten(), nn.Linear(64, 128, rng=0), nn.ReLU(), nn.Linear(128, 10, rng=1)
    )
    log = EpochLog()
    history = sn.fit(
        model, train_images, train_labels, loss="cross_entropy", optimizer="adam", lr=1e-3,
        epochs=10, batch_size=32, validation_split=0.2, metrics=["accuracy"], seed=0, verbose=0,
        callbacks=[log, EarlyStopping(monitor="val_loss", patience=3),
                   ModelCheckpoint(tmp_path / "best.npz", monitor="val_accuracy")],
    )  # fmt: skip
    assert set(history.history) >= {"loss", "accuracy", "val_loss", "val_accuracy"}
    assert history.history["loss"][-1] < history.history["loss"][0]
    assert len(log.epochs) == len(history.history["loss"])
    assert log.epochs[-1][1]["val_accuracy"] == history.history["val_accuracy"][-1]

    result = sn.evaluate(model, test_images, test_labels, metrics=["accuracy"])
    assert result["accuracy"] > 0.93

    probability_model = nn.Sequential(model, nn.Softmax())
    predictions = sn.predict(probability_model, test_images)
    np.testing.assert_allclose(predictions.sum(axis=1), 1.0, rtol=1e-5)
    np.testing.assert_array_equal(
        np.argmax(predictions, axis=1), sn.predict_classes(model, test_images)
    )
    assert sn.predict(model, test_images[:1]).shape == (1, 10)  # a batch of one image
    best = sn.load(tmp_path / "best.npz")
    assert sn.evaluate(best, test_images, test_labels, metrics=["accuracy"])["accuracy"] > 0.9


def test_basic_regression():
    X, y = load_diabetes()
    (train_features, train_labels), _, (test_features, test_labels) = train_val_test_split(
        X, y, val_size=0.0, test_size=0.2, seed=0
    )  # a continuous target: not stratified
    baseline = np.abs(test_labels - train_labels.mean()).mean()  # predicting the mean: 59
    bmi = train_features[:, 2].reshape(-1, 1)  # one feature, as the tutorial's horsepower
    linear_model = nn.Sequential(nn.Normalization().adapt(bmi), nn.Linear(1, 1, rng=0))
    sn.fit(linear_model, bmi, train_labels, loss="mean_absolute_error", optimizer="adam",
           lr=1.0, epochs=60, validation_split=0.2, seed=0, verbose=0)  # fmt: skip
    linear_mae = sn.evaluate(linear_model, test_features[:, 2:3], test_labels, loss="mae")["loss"]
    assert linear_mae < 0.97 * baseline

    dnn_model = nn.Sequential(
        nn.Normalization().adapt(train_features),
        nn.Linear(10, 64, rng=0), nn.ReLU(), nn.Linear(64, 64, rng=1), nn.ReLU(),
        nn.Linear(64, 1, rng=2),
    )  # fmt: skip
    history = sn.fit(
        dnn_model, train_features, train_labels, loss="mae", optimizer="adam", lr=0.01,
        epochs=100, validation_split=0.2, metrics=["rmse"], seed=0, verbose=0,
        callbacks=[EarlyStopping(patience=10, restore_best_weights=True)],
    )  # fmt: skip
    assert "val_rmse" in history.history
    dnn = sn.evaluate(dnn_model, test_features, test_labels, loss="mae", metrics=["r2"])
    assert dnn["loss"] < 0.8 * baseline and dnn["r2"] > 0.25
    predictions = sn.predict(dnn_model, test_features)
    assert predictions.shape == (len(test_features), 1)
