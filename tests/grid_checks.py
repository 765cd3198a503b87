"""The tiny grid the grid tests share: XOR, one hidden layer of 4, 3 epochs (a run takes a few
hundredths of a second), 2 activations x 2 learning rates x 2 seeds."""

BASE = """
[data]
source = "xor"
n_samples = 100

[model]
hidden = [4]

[training]
epochs = 3
batch_size = 16
"""

GRID = (
    BASE
    + """
[grid]
"model.activation" = ["relu", "tanh"]
"training.lr" = [0.01, 0.1]
seeds = [0, 1]
"""
)
