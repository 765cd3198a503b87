"""Command line: ``python -m sinapsi demo`` (also installed as the ``sinapsi`` command).

For now the demo trains a small network written with raw tensors on a two-arm spiral, the kind
of data a straight line cannot separate, and fails loudly if it misses its accuracy target.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from collections.abc import Sequence

import numpy as np

import sinapsi as sn


def make_spiral(n_per_class: int, noise: float, rng: np.random.Generator):
    """Two interleaved spiral arms in [-3, 3]^2 (TensorFlow Playground's spiral), labels 0/1.

    The wide input range matters: squeezed into [-1, 1], tanh units need far more training to
    bend their boundaries around 1.5 turns.
    """
    t = np.sqrt(rng.random(n_per_class)) * 3 * math.pi
    arm = np.stack([t * np.cos(t), t * np.sin(t)], axis=1) / math.pi
    x = np.concatenate([arm, -arm]) + noise * rng.standard_normal((2 * n_per_class, 2))
    y = np.concatenate([np.zeros(n_per_class), np.ones(n_per_class)])
    order = rng.permutation(len(y))
    return x[order], y[order]


def demo(epochs: int = 300, seed: int = 0, target: float = 0.95) -> float:
    """Train 2-32-32-1 (tanh) with mini-batch SGD + momentum on a spiral; return test accuracy."""
    rng = sn.new_rng(seed)
    x, y = make_spiral(600, 0.1, rng)
    n_train = int(0.8 * len(y))
    x_train, y_train = sn.tensor(x[:n_train]), sn.tensor(y[:n_train, None])
    x_test, y_test = sn.tensor(x[n_train:]), y[n_train:]

    sizes = [2, 32, 32, 1]
    params = []
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
        bound = math.sqrt(6.0 / (fan_in + fan_out))  # Xavier/Glorot uniform, suited to tanh
        params.append(sn.tensor(rng.uniform(-bound, bound, (fan_in, fan_out)), requires_grad=True))
        params.append(sn.zeros(fan_out, requires_grad=True))
    velocity = [np.zeros_like(p.data) for p in params]

    def forward(inputs: sn.Tensor) -> sn.Tensor:
        h = inputs
        for i in range(0, len(params) - 2, 2):
            h = sn.tanh(h @ params[i] + params[i + 1])
        return h @ params[-2] + params[-1]  # logits

    lr, beta, batch = 0.03, 0.9, 32
    print(f"sinapsi {sn.__version__} demo: spiral, {n_train} training / {len(y_test)} test points")
    print(f"network 2-32-32-1 (tanh), binary cross-entropy, SGD lr={lr} momentum={beta}")
    start = time.perf_counter()
    for epoch in range(1, epochs + 1):
        order = rng.permutation(n_train)
        total = 0.0
        for k in range(0, n_train, batch):
            idx = order[k : k + batch]
            z = forward(x_train[idx])
            target_batch = y_train[idx]
            # BCE on logits, stable: softplus(z) - y * z
            loss = (sn.softplus(z) - target_batch * z).mean()
            for p in params:
                p.grad = None
            loss.backward()
            for p, v in zip(params, velocity):
                v *= beta
                v += p.grad
                p.data -= lr * v
            total += loss.item() * len(idx)
        if epoch == 1 or epoch % 50 == 0:
            print(f"epoch {epoch:4d}  loss {total / n_train:.4f}")
    with sn.no_grad():
        predicted = (forward(x_test).data[:, 0] > 0).astype(float)
    accuracy = float((predicted == y_test).mean())
    elapsed = time.perf_counter() - start
    print(f"test accuracy {accuracy:.3f} after {epochs} epochs in {elapsed:.1f} s")
    if accuracy < target:
        raise SystemExit(f"demo missed its target: test accuracy {accuracy:.3f} < {target}")
    return accuracy


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="sinapsi", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p_demo = sub.add_parser("demo", help="train a small network on a spiral and report accuracy")
    p_demo.add_argument("--epochs", type=int, default=300)
    p_demo.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    if args.command == "demo":
        demo(epochs=args.epochs, seed=args.seed)
    return 0


if __name__ == "__main__":
    sys.exit(main())
