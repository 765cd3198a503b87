"""
From a neuron to a network: one training step by hand
=====================================================

The notes' chapter on training (*addestramento*) names the pieces one by one: the input, layers
of neurons (*strati di neuroni*) with their weights and biases (*pesi e bias*), activation
functions (*funzioni di attivazione*), the forward pass (*propagazione in avanti*), the output
(*uscita*), the loss function (*funzione di perdita*), backpropagation (*retropropagazione*) and
the optimization algorithm (*algoritmo di ottimizzazione*). This page builds each one with
sinapsi, checks it against the formula written out in NumPy, and then repeats the step until a
small network separates two rings of points.
"""

import matplotlib.pyplot as plt
import numpy as np

import sinapsi as sn
from sinapsi import nn
from sinapsi.data import datasets

# %%
# The input (*input*)
# -------------------
# 200 points of the plane in two classes: an inner ring (class 0) and an outer one (class 1),
# the TensorFlow Playground's "circles". Each sample is a row of 2 numbers; the label is 0 or 1.

X, y = datasets.circles(200, noise=0.1, seed=0)
print("inputs", X.shape, X.dtype, "labels", y.shape, "classes", np.unique(y))

# %%
# A neuron is a linear function of its inputs (*pesi e bias*)
# -----------------------------------------------------------
# A :class:`~sinapsi.nn.Linear` layer of 4 neurons holds a weight matrix of shape
# ``(4, 2)`` (one row of slopes per neuron) and 4 biases (the intercepts). Its output for one
# sample is ``z = W x + b``: written out in NumPy, it is the same number.

layer = nn.Linear(2, 4, rng=0)
W, b = layer.weight.numpy(), layer.bias.numpy()
z = layer(sn.tensor(X[:5])).numpy()
by_hand = X[:5] @ W.T + b
print(f"neuron 0: z = {W[0, 0]:.3f} * x1 + {W[0, 1]:.3f} * x2 + {b[0]:.3f}")
assert np.allclose(z, by_hand, atol=1e-6)

# %%
# Activation functions (*funzioni di attivazione*)
# ------------------------------------------------
# Without a non-linear function after it, a stack of linear layers is still one linear
# function. The three classic choices, with their slopes computed by sinapsi's autograd
# (``backward`` on the sum gives each point's derivative). The sigmoid's slope is at most 0.25
# and almost 0 away from the origin (saturation: the root of vanishing gradients, see the deep
# networks page); ReLU's is exactly 1 for every positive input.

grid = np.linspace(-5, 5, 201)
fig, (ax_f, ax_d) = plt.subplots(1, 2, figsize=(9, 3.4), layout="constrained")
slopes = {}
for name, fn in [("sigmoid", sn.sigmoid), ("tanh", sn.tanh), ("ReLU", sn.relu)]:
    t = sn.tensor(grid, requires_grad=True)
    out = fn(t)
    out.sum().backward()
    slopes[name] = t.grad
    ax_f.plot(grid, out.numpy(), label=name)
    ax_d.plot(grid, t.grad, label=name)
ax_f.set(title="activation f(z)", xlabel="z (the neuron's linear output)", ylabel="f(z)")
ax_d.set(title="slope f'(z), by autograd", xlabel="z", ylabel="f'(z)")
ax_f.legend()
ax_d.legend()
for ax in (ax_f, ax_d):
    ax.grid(alpha=0.3)
plt.show()

s = 1 / (1 + np.exp(-grid))
assert np.allclose(slopes["sigmoid"], s * (1 - s), atol=1e-6)  # sigma' = sigma (1 - sigma)
assert abs(slopes["sigmoid"].max() - 0.25) < 1e-6 and slopes["sigmoid"][0] < 0.01
assert np.array_equal(slopes["ReLU"][grid > 0], np.ones((grid > 0).sum(), np.float32))

# %%
# The forward pass (*propagazione in avanti*) and the output (*uscita*)
# ---------------------------------------------------------------------
# A network is layers in sequence: 2 inputs, a hidden layer of 8 tanh neurons, an output
# layer of 2 neurons (one score, a *logit*, per class). The forward pass of the whole data set
# is two matrix products and a tanh, as the NumPy lines below repeat.

model = nn.Sequential(nn.Linear(2, 8, rng=1), nn.Tanh(), nn.Linear(8, 2, rng=2))
x = sn.tensor(X)
logits = model(x)
W1, b1 = model[0].weight.numpy(), model[0].bias.numpy()
W2, b2 = model[2].weight.numpy(), model[2].bias.numpy()
h = np.tanh(X @ W1.T + b1)
assert np.allclose(logits.numpy(), h @ W2.T + b2, atol=1e-5)

# %%
# The loss function (*funzione di perdita*)
# -----------------------------------------
# Softmax turns the two scores into probabilities; the cross-entropy is the mean of
# ``-log p(true class)``. Before training the network guesses, so the loss is near
# ``log 2 = 0.693``, the loss of a coin toss.

loss = nn.cross_entropy(logits, y)
p = np.exp(logits.numpy()) / np.exp(logits.numpy()).sum(axis=1, keepdims=True)
by_hand = -np.log(p[np.arange(len(y)), y]).mean()
print(f"loss before training: {loss.item():.4f} (by hand {by_hand:.4f}, log 2 = {np.log(2):.4f})")
assert abs(loss.item() - by_hand) < 1e-5
assert abs(loss.item() - np.log(2)) < 0.15

# %%
# Backpropagation (*retropropagazione*)
# -------------------------------------
# ``loss.backward()`` walks the graph the forward pass recorded, from the loss back to every
# weight, applying the chain rule. The same gradients by hand: the derivative of the
# cross-entropy with respect to the logits is ``(p - onehot(y)) / N``; each layer passes it back
# through its weights, and tanh multiplies it by its slope ``1 - h**2``.

loss.backward()
d_out = (p - np.eye(2)[y]) / len(y)  # dL/dlogits
d_h = (d_out @ W2) * (1 - h**2)  # back through W2, then through tanh
by_hand_grads = {"0.weight": d_h.T @ X, "0.bias": d_h.sum(0), "2.weight": d_out.T @ h,
                 "2.bias": d_out.sum(0)}
for name, param in model.named_parameters():
    assert np.allclose(param.grad, by_hand_grads[name], atol=1e-5), name
    print(f"{name:9s} gradient norm {np.linalg.norm(param.grad):.4f} (autograd = by hand)")

# %%
# One step of the optimization algorithm (*algoritmo di ottimizzazione*)
# ----------------------------------------------------------------------
# Gradient descent moves every weight a little against its gradient: ``w <- w - lr * dL/dw``.
# The loss, measured again, is lower.

opt = sn.optim.SGD(model.parameters(), lr=0.5)
before = {n: p.numpy().copy() for n, p in model.named_parameters()}
opt.step()
for name, param in model.named_parameters():
    assert np.allclose(param.numpy(), before[name] - 0.5 * by_hand_grads[name], atol=1e-6)
new_loss = nn.cross_entropy(model(x), y).item()
print(f"loss after one step: {new_loss:.4f} (was {loss.item():.4f})")
assert new_loss < loss.item()

# %%
# Repeat: training (*addestramento*)
# ----------------------------------
# Forward pass, loss, backpropagation, step: the same four lines 300 times, each time on the
# whole data set. The loss falls and the network ends up separating the rings.

losses = []
for _ in range(300):
    opt.zero_grad()
    loss = nn.cross_entropy(model(x), y)
    loss.backward()
    opt.step()
    losses.append(loss.item())
accuracy = (sn.predict_classes(model, X) == y).mean()
print(f"loss {losses[0]:.3f} -> {losses[-1]:.3f}; training accuracy {accuracy:.3f}")
assert losses[-1] < 0.25 * losses[0] and accuracy > 0.95

fig, ax = plt.subplots(figsize=(5, 3.2), layout="constrained")
ax.plot(np.arange(1, len(losses) + 1), losses)
ax.set(xlabel="step (one pass over the 200 points)", ylabel="cross-entropy loss",
       title="The loss falls as the steps repeat")
ax.grid(alpha=0.3)
plt.show()

# %%
# The trained network, drawn
# --------------------------
# :func:`sinapsi.viz.plot_network` draws every neuron as what it is, a function of the two
# inputs: inside each node its output over the plane (blue positive, orange negative), on each
# edge its weight (colour: sign, width: size). The hidden neurons are tilted tanh "ramps", each
# one linear boundary; the output neurons add them up into a closed curve around the inner
# ring.

fig = sn.viz.plot_network(model, X, class_names=["inner", "outer"])
plt.show()
