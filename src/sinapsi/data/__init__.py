"""Data handling on the host (NumPy): data sets, batches, splits, scaling, ready-made sets.

Typical use: split once, fit the scaling on the training set, batch with a seeded loader.

>>> from sinapsi.data import DataLoader, Standardizer, train_val_test_split, datasets
>>> X, y = datasets.circles(300, noise=0.1, seed=0)
>>> split = train_val_test_split(X, y, seed=0)
>>> scaler = Standardizer().fit(split.train[0])
>>> train = DataLoader((scaler.transform(split.train[0]), split.train[1]), batch_size=32,
...                    shuffle=True, seed=0)
>>> len(split.train[1]), len(train)
(210, 7)
"""

from . import datasets
from .dataset import ArrayDataset, Dataset
from .datasets import load_mnist_5k
from .loader import DataLoader
from .split import Split, Standardizer, one_hot, train_val_test_split

__all__ = [
    "Dataset", "ArrayDataset", "DataLoader", "Split", "train_val_test_split", "Standardizer",
    "one_hot", "datasets", "load_mnist_5k",
]  # fmt: skip
