"""
Why depth: efficiency and a hierarchy of features
=================================================

Two claims of the notes' chapter on deep networks (*reti profonde*). Depth versus efficiency
(*profondità vs. efficienza*): one hidden layer can approximate any function, but a deep
network can do it with far fewer neurons when the function is built from parts. And the
hierarchy of features (*gerarchia delle caratteristiche*): in a network for images the first
layers detect edges, the next ones shapes made of edges, the last ones whole objects.
"""

import matplotlib.pyplot as plt
import numpy as np

import sinapsi as sn
from sinapsi.data import datasets, train_val_test_split
from sinapsi.experiment import build_convnet, build_mlp

# %%
# Depth versus width at the same number of parameters
# ---------------------------------------------------
# The target is a *compositional* function of 8 inputs: a binary tree of one two-input
# function ``h(a, b) = tanh(a - b + 2ab)``, i.e.
# ``h(h(h(x1, x2), h(x3, x4)), h(h(x5, x6), h(x7, x8)))`` (Mhaskar and Poggio's example). Three
# ReLU networks, trained alike (Adam, 30 epochs on 2800 points): one hidden layer of 152
# neurons, six layers of 16 (the same 1521 parameters), and one layer four times as big.
# The score is R² on 1200 test points (1 is perfect, 0 is predicting the mean).

X, y = datasets.compositional(4000, seed=0)
split = train_val_test_split(X, y.reshape(-1, 1), val_size=0.0, test_size=0.3, seed=0)
(X_train, y_train), (X_test, y_test) = split.train, split.test

results = {}
for name, hidden in [("1 layer of 152", [152]), ("6 layers of 16", [16] * 6),
                     ("1 layer of 608", [608])]:
    model = build_mlp(8, hidden, 1, activation="relu", init="he", rng=0)
    n_params = sum(p.numpy().size for p in model.parameters())
    history = sn.fit(model, X_train, y_train, loss="mse", optimizer="adam", lr=0.01, epochs=30,
                     batch_size=64, seed=0, verbose=0)
    pred = sn.predict(model, X_test)
    r2 = 1 - ((pred - y_test) ** 2).sum() / ((y_test - y_test.mean()) ** 2).sum()
    results[name] = (n_params, float(r2), history)
    print(f"{name:15s} {n_params:5d} parameters: test R² {r2:.3f}, "
          f"final training loss {history.history['loss'][-1]:.4f}")

deep, shallow, wide = (results[k][1] for k in ("6 layers of 16", "1 layer of 152",
                                               "1 layer of 608"))
assert abs(results["6 layers of 16"][0] - results["1 layer of 152"][0]) < 20  # same budget
assert deep > shallow + 0.1 and deep > wide + 0.1  # measured 0.90 against 0.67 and 0.67

fig = sn.viz.plot_history({k: h for k, (_, _, h) in results.items()}, log_loss=True)
plt.show()

# %%
# The deep network also reaches a lower *training* loss: the shallow one is short of neurons,
# not of data. Each layer of the deep network can compute one level of the tree from the level
# below, reusing it; a single layer has to build every combination from scratch, and four
# times the neurons barely help.
#
# A hierarchy of features: a small convnet
# ----------------------------------------
# Two convolutional layers (8 then 16 filters of 3x3, each followed by ReLU and a 2x2 max-pool)
# and a linear output layer, trained for a few epochs on the 8x8 digits.

Xd, yd = datasets.load_digits()
digits = train_val_test_split(Xd / 16.0, yd, val_size=0.0, test_size=0.2, seed=0)
convnet = build_convnet(64, 10, (1, 8, 8), [8, 16], rng=0)
sn.fit(convnet, *digits.train, optimizer="adam", lr=0.01, epochs=8, batch_size=64, seed=0,
       verbose=0)
proba = sn.predict_proba(convnet, digits.test[0])
accuracy = (proba.argmax(axis=1) == digits.test[1]).mean()
print(f"convnet test accuracy {accuracy:.3f}")
assert accuracy > 0.95  # measured 0.986

# %%
# Each layer sees a larger piece of the image
# -------------------------------------------
# Which input pixels can change one neuron? Backpropagation answers it: the pixels where the
# gradient of the neuron's output is not zero (summed over 100 images, so that no pixel is
# missed because a ReLU happened to be off). A first-layer neuron sees a 3x3 patch (room for
# an edge); a second-layer neuron, after pooling, a 7x7 patch (a stroke made of edges); the
# output sees the whole 8x8 digit.

images = digits.test[0][:100]
heads = {"layer 1 (conv 1)": (2, (slice(None), 0, 4, 4)),
         "layer 2 (conv 2)": (5, (slice(None), 0, 2, 2)),
         "output (digit 0)": (len(convnet), (slice(None), 0))}
fields = {}
for name, (depth, unit) in heads.items():
    x = sn.tensor(images, requires_grad=True)
    out = convnet[:depth](x)
    out[unit].sum().backward()
    fields[name] = (np.abs(x.grad).sum(axis=0) > 0).reshape(8, 8)

fig, axes = plt.subplots(1, 3, figsize=(8, 3), layout="constrained")
for ax, (name, field) in zip(axes, fields.items()):
    ax.imshow(field, cmap="Blues", vmin=0, vmax=1.3)
    ax.set_title(f"{name}\n{field.sum()} of 64 pixels", fontsize=10)
    ax.set_xticks([])
    ax.set_yticks([])
fig.suptitle("Receptive field: the input pixels one neuron depends on")
plt.show()
sizes = [int(f.sum()) for f in fields.values()]
print("receptive field sizes (pixels):", sizes)
assert sizes == [9, 49, 64]

# %%
# Edges -> strokes -> digits
# --------------------------
# :func:`sinapsi.viz.plot_hierarchy` puts the layers side by side for one input (here a
# confidently classified test digit): the first layer's filters, each layer's feature maps
# (where its units found their pattern) and, by gradient ascent on the input, the pattern each
# unit responds to most (*activation maximization*). The first layer's patterns are small
# spots and edges in the middle of the image (a 3x3 field); the second layer's are larger
# strokes spread over most of it; the output units' patterns are whole-image arrangements of
# ink, noisy at this resolution. On 8x8 images the hierarchy is short; the notes' larger
# networks stack more of these levels.

confident = np.argsort(-proba.max(axis=1))
fig = sn.viz.plot_hierarchy(convnet, digits.test[0][confident[:32]], units=4, steps=60)
plt.show()
