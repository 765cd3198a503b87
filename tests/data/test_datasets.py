"""Playground 2-D sets (shapes, balance, seeds, learnability) and scikit-learn's bundled sets."""

import numpy as np
import pytest
from sklearn.neighbors import KNeighborsClassifier

from sinapsi.data import datasets

CLASSIFICATION = ["xor", "circles", "gaussian", "spiral", "moons"]
REGRESSION = ["plane", "gaussian_regression"]


def linear_accuracy(X, y):
    """Training accuracy of a least-squares linear classifier (targets -1 / +1)."""
    A = np.c_[X, np.ones(len(X))]
    w = np.linalg.lstsq(A, 2.0 * y - 1.0, rcond=None)[0]
    return np.mean((A @ w > 0) == y)


@pytest.mark.parametrize("name", CLASSIFICATION)
@pytest.mark.parametrize("noise", [0.0, 0.3])
def test_classification_sets_shapes_dtypes_range_and_balance(name, noise):
    X, y = getattr(datasets, name)(n_samples=401, noise=noise, seed=0)
    assert X.shape == (401, 2) and X.dtype == np.float32
    assert y.shape == (401,) and y.dtype == np.int64
    assert set(np.unique(y)) == {0, 1}
    assert 0.3 < y.mean() < 0.7
    assert np.all(np.abs(X) < 8.5)  # the Playground's [-6, 6] view, plus noisy tails
    if noise == 0 and name != "xor":
        assert abs(int(y.sum()) - 200) <= 1  # classes generated half and half
    assert not np.all(np.diff(y[:40]) == 0)  # shuffled, not class by class


@pytest.mark.parametrize("name", REGRESSION)
def test_regression_sets_shapes_dtypes_range(name):
    X, y = getattr(datasets, name)(n_samples=300, noise=0.2, seed=0)
    assert X.shape == (300, 2) and X.dtype == np.float32
    assert y.shape == (300,) and y.dtype == np.float32
    assert np.all(np.abs(X) <= 6) and np.all(np.abs(y) <= 1.5)
    assert y.std() > 0.1


@pytest.mark.parametrize("name", CLASSIFICATION + REGRESSION)
def test_seeded_and_reproducible(name):
    f = getattr(datasets, name)
    a, b, c = f(100, 0.0, seed=5), f(100, 0.0, seed=5), f(100, 0.0, seed=6)
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])
    assert not np.array_equal(a[0], c[0])
    d = f(100, 0.2, seed=np.random.default_rng(5))
    np.testing.assert_array_equal(d[0], f(100, 0.2, seed=5)[0])
    assert len(f()[0]) == 400 and len(f(1)[0]) == 1


@pytest.mark.parametrize("name", CLASSIFICATION)
def test_learnable_by_nearest_neighbours(name):
    f = getattr(datasets, name)
    X, y = f(400, noise=0.1, seed=0)
    Xt, yt = f(400, noise=0.1, seed=1)
    assert KNeighborsClassifier(5).fit(X, y).score(Xt, yt) > 0.9


def test_xor_circles_spiral_are_not_linearly_separable():
    for name in ("xor", "circles", "spiral"):
        X, y = getattr(datasets, name)(400, seed=0)
        assert linear_accuracy(X, y) < 0.7, name
    X, y = datasets.gaussian(400, seed=0)
    assert linear_accuracy(X, y) > 0.95


def test_geometry_of_the_sets():
    X, y = datasets.xor(400, seed=0)
    np.testing.assert_array_equal(y, X[:, 0] * X[:, 1] >= 0)
    assert np.all(np.abs(X) >= 0.3)  # pushed away from the axes
    X, y = datasets.circles(400, seed=0)
    r = np.linalg.norm(X, axis=1)
    assert r[y == 1].max() < r[y == 0].min()
    assert r[y == 1].max() <= 2.5 and r[y == 0].min() >= 3.5
    X, y = datasets.gaussian(400, seed=0)
    np.testing.assert_allclose(X[y == 1].mean(0), [2, 2], atol=0.25)
    np.testing.assert_allclose(X[y == 0].mean(0), [-2, -2], atol=0.25)
    X, y = datasets.spiral(400, seed=0)
    np.testing.assert_allclose(np.linalg.norm(X[y == 1], axis=1).max(), 5, atol=0.1)
    turns = np.unwrap(np.arctan2(*X[y == 1][np.argsort(np.linalg.norm(X[y == 1], axis=1))].T))
    assert abs(turns[-1] - turns[0]) / (2 * np.pi) >= 1.5  # 1.75 turns
    X, y = datasets.plane(200, seed=0)
    np.testing.assert_allclose(y, X.sum(1) / 10, rtol=1e-5, atol=1e-6)
    X, y = datasets.gaussian_regression(2000, seed=0)
    assert y.max() > 0.8 and y.min() < -0.8 and np.mean(y == 0) > 0.3


@pytest.mark.parametrize("name", CLASSIFICATION + REGRESSION)
def test_playground_argument_errors(name):
    f = getattr(datasets, name)
    with pytest.raises(ValueError, match=rf"{name}: n_samples must be an integer >= 1\. "
                       r"Received: n_samples=0"):  # fmt: skip
        f(0)
    with pytest.raises(ValueError, match=r"Received: n_samples=2.5"):
        f(2.5)
    with pytest.raises(ValueError, match=rf"{name}: noise must be a number in \[0, 1\].*"
                       r"Received: noise=1.5"):  # fmt: skip
        f(10, noise=1.5)
    with pytest.raises(ValueError, match=r"Received: noise=-0.1"):
        f(10, noise=-0.1)


# --------------------------------------------------------------------------- scikit-learn sets
@pytest.mark.parametrize(
    "name, shape, n_classes",
    [
        ("digits", (1797, 64), 10),
        ("iris", (150, 4), 3),
        ("wine", (178, 13), 3),
        ("breast_cancer", (569, 30), 2),
        ("diabetes", (442, 10), None),
    ],
)
def test_sklearn_sets(name, shape, n_classes):
    X, y = getattr(datasets, f"load_{name}")()
    assert X.shape == shape and X.dtype == np.float32
    assert y.shape == (shape[0],)
    if n_classes is None:
        assert y.dtype == np.float32 and len(np.unique(y)) > 50
    else:
        assert y.dtype == np.int64 and np.unique(y).tolist() == list(range(n_classes))
    X2, y2 = datasets.load(name)
    np.testing.assert_array_equal(X, X2)
    np.testing.assert_array_equal(y, y2)


def test_load_unknown_name_lists_the_names():
    with pytest.raises(
        ValueError,
        match=r"The 'name' parameter of load must be a str among \{'breast_cancer', 'diabetes', "
        r"'digits', 'iris', 'wine'\}\. Got 'mnist' instead\.",
    ):
        datasets.load("mnist")


def test_bundled_sets_without_scikit_learn_say_what_to_install(monkeypatch):
    import sys

    from sinapsi.data.datasets import load_iris

    monkeypatch.setitem(sys.modules, "sklearn.datasets", None)  # import fails
    with pytest.raises(ImportError, match=r"load_iris: the bundled data sets come with "
                       r"scikit-learn, .* pip install scikit-learn"):  # fmt: skip
        load_iris()
