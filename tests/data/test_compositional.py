"""The compositional source: a binary tree of two-input functions over 8 inputs (shapes, seeds,
the formula written out by hand, its use as [data] source = "compositional")."""

import math

import numpy as np
import pytest

from sinapsi.config import ConfigError, validate_config
from sinapsi.data.datasets.compositional import compositional, constituent, tree
from sinapsi.experiment import prepare_run


def test_shapes_dtypes_and_range() -> None:
    X, y = compositional(500, seed=0)
    assert X.shape == (500, 8) and X.dtype == np.float32
    assert y.shape == (500,) and y.dtype == np.float32
    assert np.all(np.abs(X) <= 1) and np.all(np.abs(y) < 1)
    assert X.min() < -0.95 and X.max() > 0.95  # uniform over the whole cube
    assert 0.4 < y.std() < 0.9  # spread out, not a near-constant


def test_the_formula_written_out_for_one_point() -> None:
    """The tree of the docstring, h(h(h(x1, x2), h(x3, x4)), h(h(x5, x6), h(x7, x8))), by hand
    with math.tanh, against the generated target."""
    X, y = compositional(3, seed=7)

    def h(a: float, b: float) -> float:
        return math.tanh(a - b + 2 * a * b)

    for x, target in zip(X.astype(np.float64), y, strict=True):
        x1, x2, x3, x4, x5, x6, x7, x8 = x
        expected = h(h(h(x1, x2), h(x3, x4)), h(h(x5, x6), h(x7, x8)))
        assert target == pytest.approx(expected, abs=1e-6)


def test_constituent_is_not_additive() -> None:
    """h(a, b) - h(a, 0) - h(0, b) + h(0, 0) is 0 for a sum of one-input functions; not here."""
    a, b, o = np.array([0.5]), np.array([0.7]), np.zeros(1)
    mixed = constituent(a, b) - constituent(a, o) - constituent(o, b) + constituent(o, o)
    assert abs(mixed[0]) > 0.1


def test_tree_of_other_sizes() -> None:
    x = np.array([[0.3, -0.2], [0.1, 0.9]])
    np.testing.assert_allclose(tree(x), np.tanh(x[:, 0] - x[:, 1] + 2 * x[:, 0] * x[:, 1]))
    X, y = compositional(10, seed=0, n_features=4)
    assert X.shape == (10, 4)
    x = X.astype(np.float64)
    expected = constituent(constituent(x[:, 0], x[:, 1]), constituent(x[:, 2], x[:, 3]))
    np.testing.assert_allclose(y, expected, atol=1e-6)


def test_seeded_and_reproducible() -> None:
    a, b, c = compositional(50, seed=5), compositional(50, seed=5), compositional(50, seed=6)
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])
    assert not np.array_equal(a[0], c[0])
    d = compositional(50, seed=np.random.default_rng(5))
    np.testing.assert_array_equal(d[0], a[0])


def test_noise_is_added_to_the_target_only() -> None:
    X0, y0 = compositional(2000, noise=0.0, seed=1)
    X1, y1 = compositional(2000, noise=0.2, seed=1)
    np.testing.assert_array_equal(X0, X1)
    assert np.std(y1 - y0) == pytest.approx(0.2, rel=0.1)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"n_samples": 0}, "n_samples must be an integer >= 1"),
        ({"noise": 1.5}, r"noise must be a number in \[0, 1\]"),
        ({"n_features": 6}, "n_features must be a power of two >= 2"),
        ({"n_features": 1}, "n_features must be a power of two >= 2"),
    ],
)
def test_bad_arguments(kwargs: dict, match: str) -> None:
    args = {"n_samples": 10, **kwargs}
    with pytest.raises(ValueError, match=match):
        compositional(**args)


def test_a_run_configuration_uses_it_as_a_regression() -> None:
    cfg = validate_config(
        {"data": {"source": "compositional", "n_samples": 200, "standardize": False},
         "model": {"hidden": [4]}},
        "t.toml",
    )  # fmt: skip
    prep = prepare_run(cfg, "t.toml")
    assert prep.data.task == "regression"
    x, y = prep.data.train
    assert x.shape[1] == 8 and y.shape[1] == 1
    np.testing.assert_allclose(y[:, 0], tree(x), atol=1e-6)  # unstandardized: the formula holds


def test_features_need_two_d_points() -> None:
    cfg = validate_config(
        {"data": {"source": "compositional", "n_samples": 50, "features": ["x1", "x2"]}},
        "t.toml",
    )
    with pytest.raises(ConfigError, match="needs 2-D points"):
        prepare_run(cfg, "t.toml")
