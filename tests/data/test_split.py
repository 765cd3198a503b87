"""train_val_test_split (plain and stratified, seeded), Standardizer, one_hot."""

import numpy as np
import pytest

from sinapsi.data import Split, Standardizer, one_hot, train_val_test_split


def rows(X):
    return {tuple(r) for r in X}


# ---------------------------------------------------------------------- train_val_test_split
def test_split_sizes_disjoint_complete_and_aligned():
    X = np.arange(200, dtype=np.float32).reshape(100, 2)
    y = np.linspace(0, 1, 100).astype(np.float32)  # float target: a plain split
    split = train_val_test_split(X, y, val_size=0.2, test_size=0.1, seed=0)
    assert isinstance(split, Split)
    (Xtr, ytr), (Xva, yva), (Xte, yte) = split
    assert (len(Xtr), len(Xva), len(Xte)) == (70, 20, 10)
    assert rows(Xtr) | rows(Xva) | rows(Xte) == rows(X)
    assert not rows(Xtr) & rows(Xva) and not rows(Xtr) & rows(Xte) and not rows(Xva) & rows(Xte)
    for Xs, ys in split:
        np.testing.assert_array_equal(ys, y[(Xs[:, 0] / 2).astype(int)])  # rows stay paired
        assert Xs.dtype == np.float32
    assert not np.all(np.diff(Xtr[:, 0]) > 0)  # shuffled


def test_split_is_seeded():
    X, y = np.arange(60).reshape(30, 2), np.arange(30) % 3
    a = train_val_test_split(X, y, seed=3)
    b = train_val_test_split(X, y, seed=3)
    c = train_val_test_split(X, y, seed=4)
    for part_a, part_b in zip(a, b):
        np.testing.assert_array_equal(part_a[0], part_b[0])
    assert not np.array_equal(a.train[0], c.train[0])
    d = train_val_test_split(X, y, seed=np.random.default_rng(3))
    np.testing.assert_array_equal(a.test[1], d.test[1])


def test_empty_val_or_test():
    X, y = np.ones((20, 3)), np.zeros(20)
    split = train_val_test_split(X, y, val_size=0.0, test_size=0.25, seed=0)
    assert split.val[0].shape == (0, 3) and split.val[1].shape == (0,)
    assert len(split.train[0]) == 15 and len(split.test[0]) == 5
    split = train_val_test_split(X, y, val_size=0.1, test_size=0, seed=0)
    assert len(split.test[0]) == 0 and len(split.val[0]) == 2


@pytest.mark.parametrize(
    "sizes", [(0.15, 0.15), (0.2, 0.3), (0.1, 0.05), (0.33, 0.33), (0.45, 0.45)]
)
def test_stratified_split_keeps_each_class_proportion(sizes):
    val_size, test_size = sizes
    counts = [1, 2, 3, 7, 10, 41, 139]  # unbalanced classes, some tiny
    y = np.repeat(np.arange(len(counts)), counts)
    X = np.arange(len(y) * 2, dtype=np.float64).reshape(-1, 2)
    split = train_val_test_split(X, y, val_size=val_size, test_size=test_size, seed=1)
    for c, n in enumerate(counts):
        n_val, n_test = np.sum(split.val[1] == c), np.sum(split.test[1] == c)
        n_train = np.sum(split.train[1] == c)
        assert n_train + n_val + n_test == n
        assert abs(n_val - n * val_size) < 1 and abs(n_test - n * test_size) < 1
        assert abs(n_train - n * (1 - val_size - test_size)) < 1
        assert n_train >= 1


def test_stratify_automatic_and_forced():
    y = np.array([0] * 10 + [1] * 90)
    X = np.zeros((100, 1))
    for labels in (y, y.astype(bool), y.astype(np.uint8)):
        split = train_val_test_split(X, labels, val_size=0.2, test_size=0.2, seed=0)
        assert np.sum(split.val[1] == 0) == 2 and np.sum(split.test[1] == 0) == 2
    # float labels: plain by default, stratified when forced
    forced = train_val_test_split(X, y.astype(float), 0.2, 0.2, stratify=True, seed=0)
    assert np.sum(forced.val[1] == 0) == 2
    # stratify=False: a plain split (the class counts follow the shuffle, not the proportions)
    plain = [
        np.sum(train_val_test_split(X, y, 0.2, 0.2, stratify=False, seed=s).val[1] == 0)
        for s in range(20)
    ]
    assert len(set(plain)) > 1


def test_split_one_hot_targets_are_split_plainly():
    y = np.eye(3)[np.arange(30) % 3]
    split = train_val_test_split(np.zeros((30, 2)), y, seed=0)
    assert split.train[1].shape[1] == 3
    with pytest.raises(ValueError, match=r"stratify=True needs y to be a 1-D .* shape \(30, 3\)"):
        train_val_test_split(np.zeros((30, 2)), y, stratify=True)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"val_size": 1.5}, r"val_size must be a fraction of the samples in \[0, 1\).*"
                            r"Received: val_size=1.5"),
        ({"test_size": -0.1}, r"Received: test_size=-0.1"),
        ({"test_size": 1}, r"test_size must be a fraction.*Received: test_size=1"),
        ({"val_size": "0.1"}, r"Received: val_size='0.1'"),
        ({"val_size": 0.5, "test_size": 0.5}, r"val_size \+ test_size must be below 1.*"
                                              r"Received: val_size=0.5, test_size=0.5"),
    ],
)  # fmt: skip
def test_split_validates_sizes(kwargs, message):
    with pytest.raises(ValueError, match=message):
        train_val_test_split(np.zeros((10, 2)), np.zeros(10), **kwargs)


def test_split_other_errors():
    with pytest.raises(ValueError, match=r"X has 100 samples but y has 99"):
        train_val_test_split(np.zeros((100, 2)), np.zeros(99))
    with pytest.raises(ValueError, match=r"empty \(0 samples\)"):
        train_val_test_split(np.zeros((0, 2)), np.zeros(0))
    with pytest.raises(TypeError, match=r"stratify must be None \(automatic\), True or False. "
                       r"Received: stratify='yes'"):  # fmt: skip
        train_val_test_split(np.zeros((10, 2)), np.zeros(10), stratify="yes")


# ------------------------------------------------------------------------------- Standardizer
def test_standardizer_fit_on_train_transform_and_inverse(rng):
    X = (rng.normal(size=(200, 4)) * [1, 10, 0.1, 5] + [0, 100, -3, 7]).astype(np.float32)
    X[:, 3] = 7.0  # a constant feature
    train, test = X[:150], X[150:]
    scaler = Standardizer()
    Z = scaler.fit_transform(train)
    assert Z.dtype == np.float32
    np.testing.assert_allclose(scaler.mean_, train.mean(0, dtype=np.float64))
    np.testing.assert_allclose(scaler.scale_[:3], train[:, :3].std(0, dtype=np.float64))
    assert scaler.scale_[3] == 1.0 and np.all(Z[:, 3] == 0)  # no division by zero
    np.testing.assert_allclose(Z[:, :3].mean(0), 0, atol=1e-5)
    np.testing.assert_allclose(Z[:, :3].std(0), 1, atol=1e-5)
    T = scaler.transform(test)  # the training set's numbers, not the test set's
    np.testing.assert_allclose(T, (test - scaler.mean_) / scaler.scale_, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(scaler.inverse_transform(T), test, rtol=1e-5, atol=1e-4)
    assert scaler.n_features_in_ == 4 and "4 features" in repr(scaler)


def test_standardizer_matches_sklearn_and_keeps_float64(rng):
    from sklearn.preprocessing import StandardScaler

    X = rng.normal(size=(50, 3)) * 3 + 1
    ours, theirs = Standardizer().fit(X), StandardScaler().fit(X)
    np.testing.assert_allclose(ours.scale_, theirs.scale_)
    assert ours.transform(X).dtype == np.float64
    assert Standardizer().fit_transform(np.arange(6).reshape(3, 2)).dtype == np.float32


def test_standardizer_constant_feature_with_rounding():
    X = np.full((7, 1), 0.1)  # the float64 mean of identical 0.1s need not be exactly 0.1
    assert Standardizer().fit(X).scale_[0] == 1.0


def test_standardizer_errors():
    s = Standardizer()
    with pytest.raises(RuntimeError, match=r"not fitted yet: call fit on the training set first"):
        s.transform(np.zeros((2, 2)))
    with pytest.raises(RuntimeError, match=r"inverse_transform: .*call fit on the training set"):
        s.inverse_transform(np.zeros((2, 2)))
    s.fit(np.arange(12.0).reshape(4, 3))
    with pytest.raises(ValueError, match=r"X has 2 features, but the Standardizer was fitted on 3"):
        s.transform(np.zeros((5, 2)))
    with pytest.raises(ValueError, match=r"shape \(n_samples, n_features\); got shape \(3,\).*"
                       r"reshape\(-1, 1\)"):  # fmt: skip
        Standardizer().fit(np.zeros(3))
    with pytest.raises(ValueError, match=r"X contains 1 NaN .*Impute or drop"):
        Standardizer().fit(np.array([[1.0], [np.nan]]))
    with pytest.raises(ValueError, match=r"X has 0 samples"):
        Standardizer().fit(np.zeros((0, 3)))
    with pytest.raises(ValueError, match=r"Standardizer.fit: X has 0 features \(shape \(5, 0\)\)"):
        Standardizer().fit(np.zeros((5, 0)))  # fitted 'nothing' silently before
    with pytest.raises(TypeError, match=r"X must hold numbers; got dtype <U1"):
        Standardizer().fit(np.array([["a"]]))


# ------------------------------------------------------------------------------------ one_hot
def test_one_hot_shapes_dtypes_and_values():
    out = one_hot(np.array([2, 0, 1, 2]))
    assert out.shape == (4, 3) and out.dtype == np.float32
    np.testing.assert_array_equal(out.argmax(1), [2, 0, 1, 2])
    assert np.all(out.sum(1) == 1)
    assert one_hot([1], num_classes=4, dtype="float64").tolist() == [[0.0, 1.0, 0.0, 0.0]]
    assert one_hot(np.array([[0, 1], [1, 1]]), dtype=np.int64).shape == (2, 2, 2)
    assert one_hot(np.array([True, False])).tolist() == [[0.0, 1.0], [1.0, 0.0]]
    assert one_hot(np.array([], dtype=np.int64), num_classes=3).shape == (0, 3)


def test_one_hot_errors():
    with pytest.raises(ValueError, match=r"labels must be >= 0; got -1 \(first negative label at "
                       r"position \(2,\)\)"):  # fmt: skip
        one_hot([0, 1, -1])
    with pytest.raises(ValueError, match=r"label 5 is out of range for num_classes=3 \(first at "
                       r"position \(1,\)\); labels must be in \[0, 3\)"):  # fmt: skip
        one_hot([0, 5, 1], num_classes=3)
    with pytest.raises(TypeError, match=r"labels must be integer class ids; got dtype float64.*"
                       r"astype\('int64'\)"):  # fmt: skip
        one_hot([0.0, 1.0])
    with pytest.raises(TypeError, match=r"got dtype <U3.*np.unique"):
        one_hot(["cat", "dog"])
    with pytest.raises(ValueError, match=r"num_classes must be a positive integer or None. "
                       r"Received: num_classes=0"):  # fmt: skip
        one_hot([0], num_classes=0)
