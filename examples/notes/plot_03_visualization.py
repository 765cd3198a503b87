"""
Seeing what the network does (*visualizzazione*)
================================================

The notes' chapter on visualization: a network is easier to understand when you can see it.
This page trains a small tanh network to untangle two spirals (the TensorFlow Playground's
hardest set) and looks at it from every side sinapsi draws: the decision boundary
(*confine di decisione*) as it forms over the epochs, each neuron's output over the input
plane, the learning curves, the activations' saturation; and, on the handwritten digits, the
first layer's weights drawn as images.
"""

import copy

import matplotlib.pyplot as plt

import sinapsi as sn
from sinapsi import nn
from sinapsi.data import Standardizer, datasets, train_val_test_split

# %%
# Two spirals and a small network
# -------------------------------
# 600 points on two interleaved spirals (radius up to 5), split 70/15/15. The network:
# 2 inputs -> 16 tanh -> 16 tanh -> 2 scores, Xavier-initialized, trained with Adam. A callback
# keeps a copy of the weights at three epochs, to watch the boundary form.

X, y = datasets.spiral(600, noise=0.1, seed=0)
split = train_val_test_split(X, y, seed=0)
(X_train, y_train), (X_test, y_test) = split.train, split.test
SNAPSHOTS = (5, 80, 200)


class Snapshots(sn.train.Callback):
    """Copies of the model's weights at the end of chosen epochs (1-based)."""

    def __init__(self, epochs):
        self.epochs, self.states = epochs, {}

    def on_epoch_end(self, epoch, logs):
        if epoch + 1 in self.epochs:
            self.states[epoch + 1] = copy.deepcopy(self.trainer.model.state_dict())


model = nn.Sequential(
    nn.Linear(2, 16, init="xavier", rng=0), nn.Tanh(),
    nn.Linear(16, 16, init="xavier", rng=1), nn.Tanh(),
    nn.Linear(16, 2, init="xavier", rng=2),
)
snapshots = Snapshots(SNAPSHOTS)
history = sn.fit(model, X_train, y_train, optimizer="adam", lr=0.01, epochs=200, batch_size=32,
                 validation_data=split.val, metrics=["accuracy"], seed=0, verbose=0,
                 callbacks=[snapshots])

# %%
# The decision boundary over the epochs (*confine di decisione*)
# --------------------------------------------------------------
# :func:`sinapsi.viz.plot_decision_boundary` colours the plane by the predicted class (stronger
# where the network is surer) and shows the training points filled, the test points hollow.
# After 5 epochs the boundary is nearly a straight line; by epoch 80 it has started to curl
# around the centre; at epoch 200 it follows both arms.

fig, axes = plt.subplots(1, 3, figsize=(14, 4.0), layout="constrained")
accuracies = []
for ax, epoch in zip(axes, SNAPSHOTS):
    snapshot = copy.deepcopy(model)
    snapshot.load_state_dict(snapshots.states[epoch])
    sn.viz.plot_decision_boundary(snapshot, X_train, y_train, X_test, y_test, ax=ax,
                                  resolution=120)
    accuracies.append((sn.predict_classes(snapshot, X_test) == y_test).mean())
    ax.set_title(f"epoch {epoch}: test accuracy {accuracies[-1]:.2f}")
plt.show()
print("test accuracy at epochs", {e: round(float(a), 3) for e, a in zip(SNAPSHOTS, accuracies)})
assert accuracies[0] < 0.8 and accuracies[-1] > 0.95  # measured 0.99 at epoch 200
assert accuracies[0] < accuracies[1] < accuracies[2]

# %%
# Every neuron is a function of the inputs
# ----------------------------------------
# :func:`sinapsi.viz.plot_network` draws each neuron with its output over the plane inside.
# The first layer's neurons are tilted tanh steps (each a linear function of x1 and x2, then
# squashed); the second layer's combine those steps into curved shapes; the output neurons
# combine those into the spirals. This is how depth builds complex functions from simple ones.

fig = sn.viz.plot_network(model, X_train, max_nodes=16, class_names=["arm 0", "arm 1"])
plt.show()

# %%
# The learning curves and the activations
# ---------------------------------------
# The loss falls on both sets and the validation curve follows the training one: no
# overfitting. :func:`sinapsi.viz.plot_activations` shows how the hidden tanh outputs spread:
# many sit near -1 or +1 (saturated, where tanh's slope is almost 0), which is why deep tanh or
# sigmoid networks learn slowly (next page).

fig = sn.viz.plot_history(history)
plt.show()
loss = history.history["loss"]
assert loss[-1] < 0.1 * loss[0]

fig = sn.viz.plot_activations(model, X_test)
fig.suptitle(f"Hidden tanh outputs on the {len(y_test)} test points (vermillion: saturated)")
plt.show()

# %%
# Weights as images
# -----------------
# On images, a first-layer neuron has one weight per pixel, so its weights can be drawn as an
# image of the same size (:func:`sinapsi.viz.plot_weights_image`): blue pixels push the neuron
# up, orange ones down. After a few epochs on the 8x8 digits the neurons look like pieces of
# strokes: the patterns they detect.

Xd, yd = datasets.load_digits()
digits = train_val_test_split(Xd, yd, val_size=0.0, test_size=0.2, seed=0)
scaler = Standardizer().fit(digits.train[0])
digit_model = nn.Sequential(nn.Linear(64, 16, init="he", rng=0), nn.ReLU(),
                            nn.Linear(16, 10, init="he", rng=1))
sn.fit(digit_model, scaler.transform(digits.train[0]), digits.train[1], optimizer="adam",
       lr=0.01, epochs=10, batch_size=64, l2=1e-3, seed=0, verbose=0)
digit_accuracy = (sn.predict_classes(digit_model, scaler.transform(digits.test[0]))
                  == digits.test[1]).mean()
print(f"digits, 16 hidden neurons: test accuracy {digit_accuracy:.3f}")
assert digit_accuracy > 0.9

fig = sn.viz.plot_weights_image(digit_model, (8, 8), scale="unit")
plt.show()
