"""ArrayDataset validation and indexing; DataLoader batching, seeded shuffling and validation."""

import numpy as np
import pytest

from sinapsi.data import ArrayDataset, DataLoader, Dataset


def make(n=10, features=3):
    X = np.arange(n * features, dtype=np.float32).reshape(n, features)
    return X, np.arange(n)


# ------------------------------------------------------------------------------ ArrayDataset
def test_array_dataset_len_getitem_and_arrays():
    X, y = make()
    ds = ArrayDataset(X, y)
    assert isinstance(ds, Dataset)
    assert len(ds) == 10
    assert ds.arrays[0] is X and ds.arrays[1] is y  # no copy
    x3, y3 = ds[3]
    np.testing.assert_array_equal(x3, X[3])
    assert y3 == 3
    xs, ys = ds[2:5]
    assert xs.shape == (3, 3) and ys.tolist() == [2, 3, 4]
    xi, yi = ds[np.array([7, 1])]
    assert yi.tolist() == [7, 1]
    np.testing.assert_array_equal(xi, X[[7, 1]])
    assert "10 samples" in repr(ds)


def test_array_dataset_accepts_lists_and_keeps_dtypes():
    ds = ArrayDataset([[1, 2], [3, 4]], ["a", "b"])
    assert ds.arrays[0].dtype.kind == "i" and ds.arrays[1].dtype.kind == "U"
    assert len(ArrayDataset(np.zeros((4, 2, 2)))) == 4


def test_array_dataset_errors():
    with pytest.raises(ValueError, match=r"ArrayDataset: no arrays given.*ArrayDataset\(X, y\)"):
        ArrayDataset()
    with pytest.raises(ValueError, match=r"X has 100 samples but y has 99"):
        ArrayDataset(np.zeros((100, 2)), np.zeros(99))
    with pytest.raises(ValueError, match=r"arrays\[0\] has 3 samples but arrays\[2\] has 2"):
        ArrayDataset(np.zeros(3), np.zeros(3), np.zeros(2))
    with pytest.raises(ValueError, match=r"the data set is empty \(0 samples\).*\(0, 2\)"):
        ArrayDataset(np.zeros((0, 2)), np.zeros(0))
    with pytest.raises(ValueError, match=r"X is a scalar"):
        ArrayDataset(np.float32(1.0))
    with pytest.raises(ValueError, match=r"got 2 arrays but 1 names"):
        ArrayDataset(np.zeros(2), np.zeros(2), names=["a"])


def test_array_dataset_refuses_nan_and_inf_saying_where():
    X = np.ones((6, 3), dtype=np.float32)
    X[4, 1] = np.nan
    X[5, 2] = np.inf
    with pytest.raises(
        ValueError,
        match=r"X contains 2 NaN or infinite values \(the first, nan, at row 4, position "
        r"\(4, 1\)\)\. Impute or drop these rows",
    ):
        ArrayDataset(X, np.zeros(6))
    y = np.zeros(6)
    y[2] = -np.inf
    with pytest.raises(ValueError, match=r"y contains 1 NaN or infinite value \(.*row 2\)"):
        ArrayDataset(np.ones((6, 3)), y)
    with pytest.raises(ValueError, match=r"ArrayDataset: labels contains 1 NaN .*at row 0\)"):
        ArrayDataset(X[:4], np.array([np.nan, 1, 1, 1]), names=["features", "labels"])
    ArrayDataset(np.array([np.nan]).astype(object), np.zeros(1))  # only floats are checked


# ------------------------------------------------------------------------------- DataLoader
def test_loader_batches_in_order_with_views_and_len():
    X, y = make(10)
    loader = DataLoader((X, y), batch_size=4)
    batches = list(loader)
    assert len(loader) == 3 == len(batches)
    assert [b[1].tolist() for b in batches] == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]
    assert all(isinstance(b, tuple) and len(b) == 2 for b in batches)
    assert np.shares_memory(batches[0][0], X)  # a contiguous slice, not a copy
    assert batches[0][0].dtype == np.float32


def test_loader_drop_last_and_oversized_batch():
    X, y = make(10)
    loader = DataLoader([X, y], batch_size=4, drop_last=True)
    assert len(loader) == 2
    assert [len(b[1]) for b in loader] == [4, 4]
    big = DataLoader((X, y), batch_size=1000)
    assert len(big) == 1
    ((xb, yb),) = list(big)
    assert len(yb) == 10
    assert len(DataLoader((X, y), batch_size=1000, drop_last=True)) == 0
    assert len(DataLoader((X, y), batch_size=5)) == 2


def test_loader_wraps_a_single_array_and_accepts_any_dataset():
    X, _ = make(5)
    assert [b[0].shape for b in DataLoader(X, batch_size=2)] == [(2, 3), (2, 3), (1, 3)]
    ds = ArrayDataset(*make(5))
    loader = DataLoader(ds, batch_size=5)
    assert loader.dataset is ds
    assert "batch_size=5" in repr(loader)


def epochs(loader, n):
    return [[yb.tolist() for _, yb in loader] for _ in range(n)]


def test_shuffle_is_seeded_epochs_differ_and_cover_every_sample():
    X, y = make(50)
    a = epochs(DataLoader((X, y), batch_size=8, shuffle=True, seed=7), 3)
    b = epochs(DataLoader((X, y), batch_size=8, shuffle=True, seed=7), 3)
    c = epochs(DataLoader((X, y), batch_size=8, shuffle=True, seed=8), 3)
    assert a == b
    assert a != c
    assert a[0] != a[1] != a[2]
    for epoch in a:
        assert sorted(sum(epoch, [])) == list(range(50))
    gen = epochs(DataLoader((X, y), batch_size=8, shuffle=True, seed=np.random.default_rng(7)), 3)
    assert gen == a


def test_shuffled_batches_keep_rows_aligned_and_do_not_touch_the_data():
    X, y = make(20)
    before = X.copy()
    for xb, yb in DataLoader((X, y), batch_size=6, shuffle=True, seed=0):
        np.testing.assert_array_equal(xb, X[yb])
    np.testing.assert_array_equal(X, before)


def test_shuffle_with_drop_last_gives_full_batches():
    X, y = make(10)
    loader = DataLoader((X, y), batch_size=3, shuffle=True, seed=0, drop_last=True)
    for _ in range(3):
        assert [len(yb) for _, yb in loader] == [3, 3, 3]


@pytest.mark.parametrize("bad", [0, -1, 2.5, True, "32", None])
def test_loader_validates_batch_size(bad):
    with pytest.raises(ValueError, match=rf"batch_size must be a positive integer\. Received: "
                       rf"batch_size={bad!r}"):  # fmt: skip
        DataLoader(make(), batch_size=bad)


def test_loader_other_errors():
    assert len(DataLoader(make(), batch_size=np.int64(4))) == 3
    with pytest.raises(TypeError, match=r"shuffle must be True or False\. Received: shuffle='y'"):
        DataLoader(make(), shuffle="y")
    with pytest.raises(TypeError, match=r"drop_last must be True or False"):
        DataLoader(make(), drop_last=1)
    with pytest.raises(TypeError, match=r"dataset must be an ArrayDataset .* got int"):
        DataLoader(3)
    with pytest.raises(ValueError, match=r"X has 10 samples but y has 9"):
        DataLoader((make()[0], np.zeros(9)))


def test_fits_merge_of_a_lone_last_sample_keeps_len_and_covers_every_sample_once():
    x = np.arange(33 * 2, dtype=np.float32).reshape(33, 2)
    for shuffle in (False, True):
        loader = DataLoader((x, np.arange(33)), batch_size=16, shuffle=shuffle, seed=0)
        loader._merge_lone_last = True  # what fit sets for a model with BatchNorm
        batches = [yb for _, yb in loader]
        assert len(loader) == len(batches) == 2
        assert [len(b) for b in batches] == [16, 17]
        assert sorted(np.concatenate(batches).tolist()) == list(range(33))
