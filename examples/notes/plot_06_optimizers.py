"""
Optimization algorithms: SGD, momentum, Adam
============================================

The notes' chapter on optimizers (*algoritmi di ottimizzazione*). Plain gradient descent
(*discesa del gradiente*) steps against the gradient: ``w <- w - lr * g``. Momentum
(*momento*) steps along a running average of the gradients instead,

``v <- beta * v + (1 - beta) * g``,   ``w <- w - lr * v``,

so that components which flip sign from step to step (a zig-zag across a ravine) cancel, and
components that keep their sign add up. Adam keeps such an average of the gradients and one
of their squares, and divides one by the square root of the other: every weight gets its own
step size. This page checks that sinapsi's optimizers compute exactly these formulas, then
races them on a ravine and on the digits.
"""

import matplotlib.pyplot as plt
import numpy as np

import sinapsi as sn
from sinapsi.data import Standardizer, datasets, train_val_test_split
from sinapsi.experiment import build_mlp

# %%
# Momentum in the notes' form, in sinapsi
# ---------------------------------------
# PyTorch's SGD (and so sinapsi's) updates ``v <- momentum * v + (1 - dampening) * g`` and
# starts from ``v = g`` at the first step. So ``SGD(momentum=beta, dampening=beta)`` is the
# notes' average except for that first step; and because the notes' ``v`` started at 0 is
# exactly ``(1 - beta)`` times PyTorch's undamped one, ``SGD(lr=lr * (1 - beta),
# momentum=beta)`` follows the notes' formula from ``v = 0`` step for step. Both checked over
# twenty steps on the loss ``J(w) = sum(a * w**2) / 2`` (gradient ``a * w``), against the
# formula in NumPy.

A = np.array([1.0, 100.0])  # a ravine: 100 times steeper along w2 than along w1
START = np.array([-8.0, 1.0])
beta, lr = 0.9, 0.1


def loss_of(w):
    """J(w) = (a1 w1^2 + a2 w2^2) / 2 as a sinapsi scalar."""
    return 0.5 * (sn.tensor(A) * w * w).sum()


for v_start, optimizer in [("g", dict(lr=lr, momentum=beta, dampening=beta)),
                           ("0", dict(lr=lr * (1 - beta), momentum=beta))]:
    w = sn.tensor(START, requires_grad=True)
    opt = sn.optim.SGD([w], **optimizer)
    w_np, v = START.copy(), None if v_start == "g" else np.zeros(2)
    for step in range(20):
        opt.zero_grad()
        loss_of(w).backward()
        opt.step()
        g = A * w_np
        v = g if v is None else beta * v + (1 - beta) * g  # the notes' formula
        w_np = w_np - lr * v
        assert np.allclose(w.numpy(), w_np, rtol=1e-4, atol=1e-5), (v_start, step)
    print(f"SGD({', '.join(f'{k}={v:g}' for k, v in optimizer.items())}) = the notes' "
          f"formula from v = {v_start}: w after 20 steps {w.numpy()}")

# %%
# Adam, step by step
# ------------------
# ``m <- beta1 m + (1 - beta1) g``, ``s <- beta2 s + (1 - beta2) g**2``, both divided by
# ``1 - beta**t`` to undo their start at 0 (bias correction), then
# ``w <- w - lr * m_hat / (sqrt(s_hat) + eps)``.

b1, b2, eps, lr_adam = 0.9, 0.999, 1e-8, 0.3
w = sn.tensor(START, requires_grad=True)
opt = sn.optim.Adam([w], lr=lr_adam, betas=(b1, b2), eps=eps)
w_np, m, s = START.copy(), np.zeros(2), np.zeros(2)
for t in range(1, 21):
    opt.zero_grad()
    loss_of(w).backward()
    opt.step()
    g = A * w_np
    m, s = b1 * m + (1 - b1) * g, b2 * s + (1 - b2) * g**2
    w_np = w_np - lr_adam * (m / (1 - b1**t)) / (np.sqrt(s / (1 - b2**t)) + eps)
    assert np.allclose(w.numpy(), w_np, rtol=1e-4, atol=1e-5), t
print("Adam after 20 steps: sinapsi", w.numpy(), "formula", w_np.astype(np.float32))

# %%
# A race down a ravine
# --------------------
# On this loss plain SGD is stable only for ``lr < 2 / 100 = 0.02`` (the steep direction):
# at lr 0.019 it bounces across the ravine while creeping along it. At lr 0.1 it diverges.
# Momentum (the notes' form from ``v = 0``) at that lr 0.1 averages the bounces away and
# gathers speed along the floor; Adam scales each coordinate by its own gradient size, so both
# directions get steps of about ``lr``.


def descend(make_optimizer, steps=100):
    """The path of ``w`` and the loss per step."""
    w = sn.tensor(START, requires_grad=True)
    opt = make_optimizer([w])
    path, losses = [START.copy()], []
    for _ in range(steps):
        opt.zero_grad()
        loss = loss_of(w)
        losses.append(loss.item())
        if losses[-1] > 1e4:  # diverged
            break
        loss.backward()
        opt.step()
        path.append(w.numpy().copy())
    return np.array(path), np.array(losses)


races = {
    "SGD, lr 0.019": descend(lambda p: sn.optim.SGD(p, lr=0.019)),
    "SGD, lr 0.1": descend(lambda p: sn.optim.SGD(p, lr=0.1)),
    "momentum 0.9, lr 0.1": descend(lambda p: sn.optim.SGD(p, lr=0.1 * (1 - 0.9),
                                                            momentum=0.9)),
    "Adam, lr 0.3": descend(lambda p: sn.optim.Adam(p, lr=0.3)),
}
for name, (_, losses) in races.items():
    print(f"{name:21s} {len(losses):3d} steps, final loss {losses[-1]:.3g}")

final = {name: losses[-1] for name, (_, losses) in races.items()}
assert final["SGD, lr 0.1"] > 1e4  # diverged
assert final["momentum 0.9, lr 0.1"] < 0.01 * final["SGD, lr 0.019"]  # measured 0.002 vs 0.72
assert final["Adam, lr 0.3"] < 0.01 * final["SGD, lr 0.019"]  # measured 0.0009

fig, (ax_p, ax_l) = plt.subplots(1, 2, figsize=(11, 4), layout="constrained")
g1, g2 = np.meshgrid(np.linspace(-9, 2, 200), np.linspace(-1.6, 1.6, 200))
ax_p.contour(g1, g2, 0.5 * (A[0] * g1**2 + A[1] * g2**2), levels=np.geomspace(0.05, 150, 12),
             colors="0.8", linewidths=0.8)
for i, (name, (path, losses)) in enumerate(races.items()):
    if name != "SGD, lr 0.1":
        ax_p.plot(path[:, 0], path[:, 1], ".-", color=f"C{i}", lw=1, ms=3, label=name)
    ax_l.semilogy(losses, color=f"C{i}", label=name + (" (diverged)" * (len(losses) < 100)))
ax_p.plot(0, 0, "k*", ms=10)
ax_p.set(xlim=(-9, 2), ylim=(-1.6, 1.6), xlabel="w1 (gentle direction)",
         ylabel="w2 (steep direction)", title="Paths on J(w) = (w1² + 100 w2²) / 2")
ax_p.legend(fontsize=8, loc="lower right")
ax_l.set(xlabel="step", ylabel="J(w) (log)", title="Loss per step", ylim=(1e-6, 1e5))
ax_l.legend(fontsize=8)
ax_l.grid(alpha=0.3)
plt.show()

# %%
# The same optimizers on the digits
# ---------------------------------
# A 64 -> 32 -> 10 ReLU network, 8 epochs in batches of 64, the same initial weights and batch
# order for all: plain SGD, momentum in the notes' form at 10 times the lr (``lr / (1 - beta)``,
# so that its steps are as large as PyTorch's undamped momentum takes), and Adam at its usual
# lr. Momentum and Adam reach in a few epochs a loss that SGD has not reached by the end.

X, y = datasets.load_digits()
split = train_val_test_split(X, y, val_size=0.0, test_size=0.2, seed=0)
scaler = Standardizer().fit(split.train[0])
X_train, y_train = scaler.transform(split.train[0]), split.train[1]
settings = {
    "SGD, lr 0.01": sn.optim.SGD,
    "momentum 0.9, lr 0.1": lambda p: sn.optim.SGD(p, lr=0.1, momentum=0.9, dampening=0.9),
    "Adam, lr 0.003": lambda p: sn.optim.Adam(p, lr=0.003),
}
histories = {}
for name, make in settings.items():
    model = build_mlp(64, [32], 10, init="he", rng=0)
    optimizer = make(model.parameters()) if name != "SGD, lr 0.01" else make(
        model.parameters(), lr=0.01)
    histories[name] = sn.fit(model, X_train, y_train, optimizer=optimizer, epochs=8,
                             batch_size=64, metrics=["accuracy"], seed=0, verbose=0)
last = {name: h.history["loss"][-1] for name, h in histories.items()}
print("final training loss:", {name: round(v, 3) for name, v in last.items()})
assert last["momentum 0.9, lr 0.1"] < 0.5 * last["SGD, lr 0.01"]
assert last["Adam, lr 0.003"] < 0.5 * last["SGD, lr 0.01"]

fig = sn.viz.plot_history(histories, log_loss=True)
plt.show()
