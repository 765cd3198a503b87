"""
Deep networks: vanishing and exploding gradients, and their remedies
====================================================================

The notes' chapter on deep networks (*reti profonde*): backpropagation multiplies, layer by
layer, the slopes of the activations and the weights. Through many layers the product can
shrink towards 0, so the first layers stop learning (*vanishing gradients*, *gradienti che
svaniscono*), or grow without bound, so one step throws the weights away (*exploding
gradients*, *gradienti che esplodono*). The remedies the notes list, each measured here: ReLU,
He/Xavier initialization, Batch Normalization and gradient clipping.
"""

import math

import matplotlib.pyplot as plt
import numpy as np

import sinapsi as sn
from sinapsi import nn
from sinapsi.data import Standardizer, datasets, train_val_test_split
from sinapsi.experiment import build_mlp

# %%
# Ten sigmoid layers: the gradient vanishes
# -----------------------------------------
# The XOR problem (points in four quadrants, the label says whether x1 and x2 have the same
# sign), a network of 10 hidden layers of 16 neurons, plain SGD (Adam would rescale each
# gradient and hide the effect) at lr 0.2 for 30 epochs. :func:`sinapsi.fit` records, for
# every layer, the mean norm of its gradient in each epoch.
#
# The sigmoid's slope is at most 0.25 (see the first page), so each layer the gradient goes
# back through shrinks it by 4 or more: after 9 layers, by ``4**9 = 262144`` at the very least.

X, y = datasets.xor(400, seed=0)
split = train_val_test_split(X, y, seed=0)
scaler = Standardizer().fit(split.train[0])
X_train, X_test = scaler.transform(split.train[0]), scaler.transform(split.test[0])
y_train, y_test = split.train[1], split.test[1]


def train(activation, init, batch_norm=False, depth=10):
    """Train a deep MLP on XOR; return its History and test accuracy."""
    model = build_mlp(2, [16] * depth, 2, activation=activation, init=init,
                      batch_norm=batch_norm, rng=0)
    history = sn.fit(model, X_train, y_train, optimizer="sgd", lr=0.2, epochs=30, batch_size=32,
                     metrics=["accuracy"], seed=0, verbose=0)
    return history, (sn.predict_classes(model, X_test) == y_test).mean()


def first_and_last(history):
    """Epoch-1 gradient norms of the first and of the last hidden Linear layer."""
    linear = [name for name in history.grad_norms if name.endswith("Linear")]
    return history.grad_norms[linear[0]][0], history.grad_norms[linear[-2]][0]


runs = {
    "sigmoid, Xavier init": train("sigmoid", "xavier"),
    "ReLU, He init": train("relu", "he"),
    "sigmoid, Xavier, BatchNorm": train("sigmoid", "xavier", batch_norm=True),
}
for name, (history, accuracy) in runs.items():
    first, last = first_and_last(history)
    print(f"{name:27s} gradient norm: first layer {first:.1e}, last hidden layer {last:.1e} "
          f"(ratio {first / last:.0e}); test accuracy {accuracy:.2f}")

sig_first, sig_last = first_and_last(runs["sigmoid, Xavier init"][0])
relu_first, relu_last = first_and_last(runs["ReLU, He init"][0])
assert sig_first / sig_last < 1e-4  # measured 9e-7: the first layer barely moves
assert relu_first / relu_last > 0.1  # measured 0.6: the gradient reaches the first layer
assert runs["sigmoid, Xavier init"][1] < 0.65  # stuck at chance (measured 0.45)
assert runs["ReLU, He init"][1] > 0.95  # measured 1.00

# %%
# :func:`sinapsi.viz.plot_gradient_flow` draws it: one line per layer over the epochs (dark:
# near the input, light: near the output), the vanishing zone shaded, and the last epoch's
# norms as bars. With sigmoids the bars fall by six orders of magnitude from the output back
# to the input. The shaded vanishing zone is drawn here below 1e-4 of the largest norm (the
# default, 1e-7, flags only the most extreme cases); the note underneath names the layers in it
# and the remedies.

fig = sn.viz.plot_gradient_flow(runs["sigmoid, Xavier init"][0], vanish=1e-4)
plt.show()

# %%
# Remedy 1: ReLU (with He initialization)
# ---------------------------------------
# ReLU's slope is exactly 1 wherever the neuron is active, so it does not shrink the gradient;
# with He initialization the weights keep its size too. The bars are level: every layer
# learns, and the network solves XOR.

fig = sn.viz.plot_gradient_flow(runs["ReLU, He init"][0], vanish=1e-4)
plt.show()

# %%
# Remedy 2: initialization (He / Xavier)
# --------------------------------------
# The weights' initial scale decides whether the signal (and so the gradient) grows or shrinks
# through the layers. Ten ReLU layers of 64 neurons, 500 random inputs, no training: the
# standard deviation of each layer's output for four initializations. Too small
# (normal, std 0.01) and the signal dies; too large (std 0.5) and it explodes; Xavier
# (variance ``2 / (fan_in + fan_out)``, made for tanh and sigmoid) slowly shrinks it under
# ReLU, which zeroes half of its inputs; He (variance ``2 / fan_in``) compensates exactly that
# half and keeps it level.


def normal(std):
    """An initializer drawing N(0, std^2) weights."""
    return lambda shape, rng=None, dtype=None: sn.init.normal(shape, std=std, rng=rng, dtype=dtype)


inputs = sn.tensor(np.random.default_rng(0).standard_normal((500, 64)))
spread = {}
for name, init in [("normal, std 0.01", normal(0.01)), ("Xavier", "xavier"), ("He", "he"),
                   ("normal, std 0.5", normal(0.5))]:
    h, stds = inputs, []
    with sn.no_grad():
        for i in range(10):
            h = sn.relu(nn.Linear(64, 64, init=init, rng=i)(h))
            stds.append(float(h.numpy().std()))
    spread[name] = stds

fig, ax = plt.subplots(figsize=(6, 3.6), layout="constrained")
for name, stds in spread.items():
    ax.semilogy(range(1, 11), stds, marker="o", label=name)
ax.set(xlabel="ReLU layer", ylabel="std of the layer's output (log)",
       title="The signal through 10 ReLU layers, untrained")
ax.legend(title="weight initialization")
ax.grid(alpha=0.3)
plt.show()
for name, stds in spread.items():
    print(f"{name:17s} output std: layer 1 {stds[0]:.2g}, layer 10 {stds[-1]:.2g}")
assert 0.5 < spread["He"][-1] / spread["He"][0] < 2
assert spread["Xavier"][-1] / spread["Xavier"][0] < 0.2
assert spread["normal, std 0.01"][-1] < 1e-6 and spread["normal, std 0.5"][-1] > 1e3

# %%
# Remedy 3: Batch Normalization
# -----------------------------
# BatchNorm (*normalizzazione del batch*) rescales each layer's pre-activations to zero mean
# and unit variance over the batch (then a learned scale and shift): the sigmoids stay in
# their steep middle, and the gradient reaches the first layer of the same 10-sigmoid network.

bn_first, bn_last = first_and_last(runs["sigmoid, Xavier, BatchNorm"][0])
assert bn_first / bn_last > 100 * sig_first / sig_last  # measured ratio 2 against 9e-7
assert runs["sigmoid, Xavier, BatchNorm"][1] > runs["sigmoid, Xavier init"][1] + 0.2

fig = sn.viz.plot_history({name: h for name, (h, _) in runs.items()}, metrics=["accuracy"])
plt.show()

# %%
# Exploding gradients and Remedy 4: gradient clipping
# ---------------------------------------------------
# The opposite failure: scikit-learn's diabetes data with its targets left unscaled (values
# 25 to 346, so the squared error is in the tens of thousands), 4 ReLU layers of 64, SGD at
# lr 0.01. The first gradient has a norm of thousands; one step of that size makes the next
# gradient millions of times larger: the weights are thrown away (then the loss overflows to
# inf; we stop before). Clipping (:func:`sinapsi.optim.clip_grad_norm_`) rescales the whole
# gradient to norm at most 1 when it is larger, keeping its direction: the steps stay small
# and the loss falls. (``sinapsi.fit(..., clip_grad_norm=1.0)`` does the same in the loop.)

Xd, yd = datasets.load_diabetes()
Xd = Standardizer().fit(Xd).transform(Xd)
Yd = yd.reshape(-1, 1)


def sgd_steps(clip, epochs=3):
    """Manual SGD on diabetes; per step the gradient norm before and after clipping, the loss."""
    model = build_mlp(10, [64] * 4, 1, activation="relu", init="he", rng=0)
    opt = sn.optim.SGD(model.parameters(), lr=0.01)
    rng = np.random.default_rng(0)
    log = {"before": [], "after": [], "loss": []}
    for _ in range(epochs):
        order = rng.permutation(len(Xd))
        for start in range(0, len(Xd), 32):
            batch = order[start : start + 32]
            opt.zero_grad()
            loss = nn.mse_loss(model(sn.tensor(Xd[batch])), sn.tensor(Yd[batch]))
            loss.backward()
            norm = sn.optim.clip_grad_norm_(model.parameters(), clip)
            after = math.sqrt(sum(float((p.grad.astype(np.float64) ** 2).sum())
                                  for p in model.parameters()))
            log["before"].append(norm)
            log["after"].append(after)
            log["loss"].append(loss.item())
            if norm > 1e6:  # exploded: the next forward pass would overflow
                return log
            opt.step()
    return log


free, clipped = sgd_steps(math.inf), sgd_steps(1.0)
print("unclipped gradient norms:", ", ".join(f"{n:.3g}" for n in free["before"]))
print(f"clipped: {len(clipped['after'])} steps, largest norm before clipping "
      f"{max(clipped['before']):.0f}, after {max(clipped['after']):.4f}; loss "
      f"{clipped['loss'][0]:.0f} -> {np.mean(clipped['loss'][-10:]):.0f}")
assert len(free["before"]) <= 5 and free["before"][-1] > 1e6  # exploded within a few steps
assert max(clipped["after"]) <= 1.0 + 1e-5  # the clipped norm never exceeds max_norm
assert np.mean(clipped["loss"][-10:]) < 0.85 * clipped["loss"][0]

fig, (ax_n, ax_l) = plt.subplots(1, 2, figsize=(10, 3.6), layout="constrained")
ax_n.semilogy(free["before"], "o-", color="C3", label="no clipping")
ax_n.semilogy(clipped["before"], color="C0", label="clipped: norm before clipping")
ax_n.semilogy(clipped["after"], color="C0", ls="--", label="clipped: norm of the step's gradient")
ax_n.set(xlabel="SGD step", ylabel="gradient norm (log)", title="Gradient norm per step")
ax_n.legend(fontsize=8)
ax_l.plot(clipped["loss"], color="C0", label="clipped (max_norm = 1)")
ax_l.plot(free["loss"], "o-", color="C3", label="no clipping (stopped: exploded)")
ax_l.set(xlabel="SGD step", ylabel="batch mse (log)", title="Loss per step", yscale="log")
ax_l.legend(fontsize=8)
for ax in (ax_n, ax_l):
    ax.grid(alpha=0.3)
plt.show()
