"""
Training on real data: sets, epochs, batches, inference
=======================================================

The rest of the notes' training chapter (*addestramento*): the data split into a training, a
validation and a test set (*insieme di addestramento, di validazione, di test*), epochs
(*epoche*) and the batch size (*dimensione del batch*), the optimization algorithm, and
inference (*inferenza*): the trained network on data it has never seen. The data are
scikit-learn's 1797 handwritten digits, 8x8 pixels each, which ship with scikit-learn.
"""

import matplotlib.pyplot as plt
import numpy as np

import sinapsi as sn
from sinapsi import nn
from sinapsi.data import Standardizer, datasets, train_val_test_split

# %%
# The input and the three sets
# ----------------------------
# Each image is a row of 64 pixel values; the label is the digit. The training set
# (*addestramento*) is what the weights learn from; the validation set (*validazione*) is
# watched during training to choose settings and spot overfitting; the test set (*test*) is
# used once, at the end, for the number we report. The split is stratified (each set keeps the
# proportion of every digit) and seeded. The scaling (zero mean, unit variance per pixel) is
# fitted on the training set only, so nothing of the test set leaks into training.

X, y = datasets.load_digits()
split = train_val_test_split(X, y, val_size=0.15, test_size=0.15, seed=0)
(X_train, y_train), (X_val, y_val), (X_test, y_test) = split.train, split.val, split.test
scaler = Standardizer().fit(X_train)
X_train, X_val, X_test = (scaler.transform(a) for a in (X_train, X_val, X_test))
print(f"train {len(y_train)}, validation {len(y_val)}, test {len(y_test)} of {len(y)} images")
assert len(y_train) + len(y_val) + len(y_test) == len(y)

fig, axes = plt.subplots(1, 8, figsize=(8, 1.5), layout="constrained")
for ax, image, label in zip(axes, split.train[0], split.train[1]):
    ax.imshow(image.reshape(8, 8), cmap="gray_r")
    ax.set_title(f"label {label}", fontsize=9)
    ax.axis("off")
plt.show()

# %%
# Epochs and batches (*epoche* e *dimensione del batch*)
# ------------------------------------------------------
# :func:`sinapsi.fit` is the loop of the previous page, organized: an epoch is one pass over
# the training set, shuffled, in batches of ``batch_size`` samples; each batch is one forward
# pass, one loss, one backpropagation and one optimizer step. So an epoch takes
# ``ceil(n_train / batch_size)`` steps; a small callback counts them. After each epoch, the loss
# and accuracy on the validation set.


class CountSteps(sn.train.Callback):
    """Counts optimizer steps (batches) per epoch."""

    def on_train_begin(self, logs):
        self.steps = []

    def on_epoch_begin(self, epoch, logs):
        self.steps.append(0)

    def on_batch_end(self, batch, logs):
        self.steps[-1] += 1


def network(seed):
    """64 pixels -> 64 ReLU neurons -> 10 scores, He-initialized."""
    return nn.Sequential(nn.Linear(64, 64, init="he", rng=seed), nn.ReLU(),
                         nn.Linear(64, 10, init="he", rng=seed + 1))


model = network(0)
counter = CountSteps()
history = sn.fit(model, X_train, y_train, loss="cross_entropy", optimizer="sgd", lr=0.05,
                 epochs=15, batch_size=32, validation_data=(X_val, y_val), metrics=["accuracy"],
                 seed=0, verbose=0, callbacks=[counter])
loss = history.history["loss"]
print(f"steps per epoch: {counter.steps[0]} = ceil({len(y_train)} / 32)")
print(f"training loss {loss[0]:.3f} -> {loss[-1]:.3f}, "
      f"validation accuracy {history.history['val_accuracy'][-1]:.3f}")
assert counter.steps == [int(np.ceil(len(y_train) / 32))] * 15
assert loss[-1] < 0.2 * loss[0] and history.history["val_accuracy"][-1] > 0.93

# %%
# :func:`sinapsi.viz.plot_history` draws the curves: solid for the training set, dashed for
# validation, a star at the best validation epoch.

fig = sn.viz.plot_history(history)
plt.show()

# %%
# The batch size changes how many steps an epoch takes
# ----------------------------------------------------
# The same network, the same learning rate, the same 15 epochs, three batch sizes. With 8
# samples a batch, an epoch is 158 small, noisy steps; with the whole training set (*full
# batch*) it is a single exact step, and 15 steps are not enough to learn much. Small batches
# cost more steps per epoch, large batches more epochs: the batch size is a trade-off between
# the noise of each step and the number of steps.

runs = {}
for batch_size in (8, 32, len(y_train)):
    runs[f"batch {batch_size}"] = sn.fit(
        network(0), X_train, y_train, optimizer="sgd", lr=0.05, epochs=15, batch_size=batch_size,
        validation_data=(X_val, y_val), metrics=["accuracy"], seed=0, verbose=0,
    )
for name, h in runs.items():
    print(f"{name:11s} final training loss {h.history['loss'][-1]:.3f}, "
          f"validation accuracy {h.history['val_accuracy'][-1]:.3f}")
final = [h.history["loss"][-1] for h in runs.values()]
assert final[0] < final[1] < final[2]

fig = sn.viz.plot_history(runs, log_loss=True)
plt.show()

# %%
# Inference (*inferenza*)
# -----------------------
# The trained model, in evaluation mode and without recording a graph, on the test set it has
# never seen: :func:`sinapsi.predict_proba` gives the probability of each digit,
# :func:`sinapsi.predict_classes` the most probable one.

proba = sn.predict_proba(model, X_test[:1])[0]
print(f"first test image: label {y_test[0]}, predicted {proba.argmax()} "
      f"with probability {proba.max():.3f}")
predicted = sn.predict_classes(model, X_test)
accuracy = (predicted == y_test).mean()
print(f"test accuracy: {accuracy:.3f} on {len(y_test)} images")
assert abs(proba.sum() - 1) < 1e-5
assert accuracy > 0.94  # measured 0.966

fig = sn.viz.plot_confusion_matrix(y_test, predicted)
plt.show()
