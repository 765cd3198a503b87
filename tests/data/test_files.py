"""IDX (MNIST) and CSV loaders on small files written into tmp_path."""

import gzip
import re
import struct

import numpy as np
import pytest

from sinapsi.data.datasets import load_csv, load_idx, load_mnist

CODES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def idx_bytes(array, code):
    header = struct.pack(">BBBB", 0, 0, code, array.ndim)
    header += struct.pack(f">{array.ndim}I", *array.shape)
    return header + np.asarray(array, dtype=CODES[code]).tobytes()


def write(path, data, gz=False):
    path.write_bytes(gzip.compress(data) if gz else data)
    return path


# ---------------------------------------------------------------------------------------- IDX
@pytest.mark.parametrize("code", sorted(CODES))
@pytest.mark.parametrize("gz", [False, True])
def test_load_idx_every_type_plain_and_gzipped(tmp_path, code, gz, rng):
    dtype = np.dtype(CODES[code])
    if dtype.kind == "f":
        array = rng.normal(size=(3, 4, 2)).astype(dtype)
    else:
        info = np.iinfo(dtype)
        array = rng.integers(info.min, info.max, size=(3, 4, 2), endpoint=True).astype(dtype)
    path = write(tmp_path / "data.idx", idx_bytes(array, code), gz)  # no .gz: sniffed
    out = load_idx(str(path))
    assert out.shape == (3, 4, 2)
    assert out.dtype == dtype.newbyteorder("=") and out.dtype.isnative
    np.testing.assert_array_equal(out, array)
    out[0] = 0  # a writable array, not a view of the file's bytes


def test_load_idx_one_dimension_and_path_objects(tmp_path):
    path = write(tmp_path / "labels-idx1-ubyte.gz", idx_bytes(np.arange(10), 0x08), gz=True)
    np.testing.assert_array_equal(load_idx(path), np.arange(10, dtype=np.uint8))


def test_load_idx_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"load_idx: '.*nope' does not exist\. Check"):
        load_idx(tmp_path / "nope")
    with pytest.raises(FileNotFoundError, match=r"is a directory, not a file"):
        load_idx(tmp_path)
    bad = write(tmp_path / "bad", b"PK\x03\x04 not idx")
    with pytest.raises(ValueError, match=r"is not an IDX file: its magic number .* is 50 4b 03 04"):
        load_idx(bad)
    with pytest.raises(ValueError, match=r"is not an IDX file: .* is missing"):
        load_idx(write(tmp_path / "empty", b""))
    with pytest.raises(ValueError, match=r"unknown IDX type code 0x07; the known codes are "
                       r"0x08 \(uint8\).*0x0E \(float64\)"):  # fmt: skip
        load_idx(write(tmp_path / "code", b"\x00\x00\x07\x01\x00\x00\x00\x01\x05"))
    data = idx_bytes(np.zeros((4, 5), dtype=np.uint8), 0x08)
    for gz in (False, True):
        with pytest.raises(ValueError, match=r"expected 20 bytes of data, found 17: the file is "
                           r"truncated"):  # fmt: skip
            load_idx(write(tmp_path / "short", data[:-3], gz))
    with pytest.raises(ValueError, match=r"declares 2 dimensions, .* 12-byte header, .* only 6 "
                       r"bytes: the file is truncated"):  # fmt: skip
        load_idx(write(tmp_path / "header", data[:6]))
    with pytest.raises(ValueError, match=r"expected 20 bytes of data, found 22: 2 bytes of "
                       r"trailing garbage"):  # fmt: skip
        load_idx(write(tmp_path / "long", data + b"\x00\x01"))
    broken = gzip.compress(data)[:-6]
    with pytest.raises(ValueError, match=r"starts like a gzip file but could not be decompressed"):
        load_idx(write(tmp_path / "broken.gz", broken))


def write_mnist(directory, kind, n_images, n_labels=None, gz=True, rng=None):
    rng = rng or np.random.default_rng(0)
    images = rng.integers(0, 256, size=(n_images, 28, 28), dtype=np.uint8)
    labels = rng.integers(0, 10, size=n_labels or n_images, dtype=np.uint8)
    suffix = ".gz" if gz else ""
    write(directory / f"{kind}-images-idx3-ubyte{suffix}", idx_bytes(images, 0x08), gz)
    write(directory / f"{kind}-labels-idx1-ubyte{suffix}", idx_bytes(labels, 0x08), gz)
    return images, labels


@pytest.mark.parametrize("gz", [False, True])
def test_load_mnist(tmp_path, gz):
    images, labels = write_mnist(tmp_path, "t10k", 7, gz=gz)
    X, y = load_mnist(tmp_path, kind="t10k")
    assert X.shape == (7, 784) and X.dtype == np.float32
    assert y.shape == (7,) and y.dtype == np.int64
    assert 0.0 <= X.min() and X.max() <= 1.0
    np.testing.assert_allclose(X * 255, images.reshape(7, -1), atol=1e-4)
    np.testing.assert_array_equal(y, labels)
    X3, _ = load_mnist(str(tmp_path), kind="t10k", flatten=False)
    assert X3.shape == (7, 28, 28)


def test_load_mnist_kaggle_names(tmp_path):
    images, _ = write_mnist(tmp_path, "train", 3, gz=False)
    for part in ("images-idx3", "labels-idx1"):
        (tmp_path / f"train-{part}-ubyte").rename(
            tmp_path / f"train-{part.replace('-', '.')}-ubyte"
        )
    X, _ = load_mnist(tmp_path)
    assert X.shape == (3, 784)


def test_load_mnist_errors(tmp_path):
    with pytest.raises(ValueError, match=r"The 'kind' parameter of load_mnist must be a str among "
                       r"\{'t10k', 'train'\}\. Got 'test' instead\."):  # fmt: skip
        load_mnist(tmp_path, kind="test")
    with pytest.raises(FileNotFoundError, match=r"none of \['train-images-idx3-ubyte', "
                       r"'train-images-idx3-ubyte.gz'.* is in"):  # fmt: skip
        load_mnist(tmp_path)
    with pytest.raises(FileNotFoundError, match=r"is not a directory"):
        load_mnist(tmp_path / "missing")
    write_mnist(tmp_path, "train", 5, n_labels=4)
    with pytest.raises(ValueError, match=r"'train-images-idx3-ubyte.gz' holds 5 images but "
                       r"'train-labels-idx1-ubyte.gz' holds 4 labels"):  # fmt: skip
        load_mnist(tmp_path)
    write(tmp_path / "train-labels-idx1-ubyte.gz", idx_bytes(np.zeros((5, 2)), 0x08), gz=True)
    with pytest.raises(ValueError, match=r"should hold uint8 labels, of shape \(n,\); it holds "
                       r"uint8 of shape \(5, 2\)"):  # fmt: skip
        load_mnist(tmp_path)


# ---------------------------------------------------------------------------------------- CSV
def csv_file(tmp_path, text, name="data.csv"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_csv_numeric_without_header_integer_target(tmp_path):
    path = csv_file(tmp_path, "1.5,2,0\n3,4e-1,1\n\n-5,6,2\n")  # a blank line is skipped
    X, y = load_csv(path)
    assert X.dtype == np.float32 and X.shape == (3, 2)
    np.testing.assert_allclose(X, [[1.5, 2], [3, 0.4], [-5, 6]])
    assert y.dtype == np.int64 and y.tolist() == [0, 1, 2]
    X, y, classes = load_csv(path, return_classes=True)
    assert classes is None
    X, y = load_csv(str(path), target=0)
    assert y.dtype == np.float32 and y.tolist() == [1.5, 3.0, -5.0]
    np.testing.assert_allclose(X, [[2, 0], [0.4, 1], [6, 2]])


def test_csv_header_detection_names_and_string_labels(tmp_path):
    text = "\ufefflength,width,species\n5.1,3.5,setosa\n7.0,3.2,versicolor\n6.3,3.3,setosa\n"
    path = csv_file(tmp_path, text)  # with a byte-order mark, as Excel writes
    X, y, classes = load_csv(path, target="species", return_classes=True)
    assert X.shape == (3, 2) and y.dtype == np.int64
    assert classes == ["setosa", "versicolor"] and y.tolist() == [0, 1, 0]
    with pytest.raises(ValueError, match=r"non-numeric feature value 'setosa' at row 2, column "
                       r"'species' \(index 2\)"):  # fmt: skip
        load_csv(path, target="width")  # species is then a feature
    # no header: a string label in the first row is data, not a header
    X, y = load_csv(csv_file(tmp_path, "5.1,3.5,b\n7.0,3.2,a\n", "nohead.csv"))
    assert X.shape == (2, 2) and y.tolist() == [1, 0]


def test_csv_explicit_header_delimiter_and_quotes(tmp_path):
    path = csv_file(tmp_path, '0;1;2\n1;"2";3\n4;5;6\n')  # numeric header names
    X, y = load_csv(path, delimiter=";", header=True, target="0")
    assert X.tolist() == [[2, 3], [5, 6]] and y.tolist() == [1, 4]
    X, y = load_csv(path, delimiter=";", header=False)
    assert X.shape == (3, 2)
    X, y = load_csv(csv_file(tmp_path, "a\tb\n1\t2\n", "tab.tsv"), delimiter="\t")
    assert X.tolist() == [[1.0]] and y.tolist() == [2]


def test_csv_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"load_csv: '.*missing.csv' does not exist"):
        load_csv(tmp_path / "missing.csv")
    with pytest.raises(ValueError, match=r"'.*empty.csv' is empty"):
        load_csv(csv_file(tmp_path, "", "empty.csv"))
    with pytest.raises(ValueError, match=r"is empty"):
        load_csv(csv_file(tmp_path, "\n\n  \n", "blank.csv"))
    named = csv_file(tmp_path, "a,b,label\n1,2,x\n", "named.csv")
    with pytest.raises(ValueError, match=r"no column named 'class'; the columns are "
                       r"\['a', 'b', 'label'\]"):  # fmt: skip
        load_csv(named, target="class")
    with pytest.raises(ValueError, match=r"target=3 is out of range for a file with 3 columns"):
        load_csv(named, target=3)
    with pytest.raises(TypeError, match=r"target must be a column index .* Received: target=1.0"):
        load_csv(named, target=1.0)
    with pytest.raises(ValueError, match=r"target='a' is a column name, but the file has no "
                       r"header row"):  # fmt: skip
        load_csv(csv_file(tmp_path, "1,2\n3,4\n", "plain.csv"), target="a")
    with pytest.raises(ValueError, match=r"non-numeric feature value 'abc' at row 3, column 'b' "
                       r"\(index 1\)"):  # fmt: skip
        load_csv(csv_file(tmp_path, "a,b,y\n1,2,0\n3,abc,1\n", "word.csv"))
    with pytest.raises(ValueError, match=r"empty cell at row 2, column 0\. Fill in or drop"):
        load_csv(csv_file(tmp_path, "1,2,0\n,2,1\n", "hole.csv"))
    with pytest.raises(ValueError, match=r"empty target cell at row 2"):
        load_csv(csv_file(tmp_path, "1,2,0\n1,2,\n", "notarget.csv"))
    with pytest.raises(ValueError, match=r"row 3 has 2 columns but row 1 has 3"):
        load_csv(csv_file(tmp_path, "1,2,0\n1,2,1\n1,2\n", "ragged.csv"))
    with pytest.raises(ValueError, match=r"row 2 has 4 columns but the header has 3"):
        load_csv(csv_file(tmp_path, "a,b,c\n1,2,0,9\n", "ragged2.csv"))
    with pytest.raises(ValueError, match=r"has a header row but no data rows"):
        load_csv(csv_file(tmp_path, "a,b,c\n", "onlyheader.csv"))
    with pytest.raises(ValueError, match=r"single column .* Check the delimiter: got "
                       r"delimiter=','"):  # fmt: skip
        load_csv(csv_file(tmp_path, "y\n1\n2\n", "one_column.csv"))
    with pytest.raises(ValueError, match=r"delimiter must be a single character.*Received: "
                       r"delimiter=', '"):  # fmt: skip
        load_csv(named, delimiter=", ")
    with pytest.raises(TypeError, match=r"header must be None \(detect\), True or False"):
        load_csv(named, header="yes")


@pytest.mark.parametrize("cell", ["nan", "NaN", "inf", "-inf", "Infinity"])
def test_csv_refuses_non_finite_features_naming_file_row_and_column(tmp_path, cell):
    path = csv_file(tmp_path, f"a,b,y\n1,2,0\n3,4,1\n5,{cell},0\n", "holes.csv")
    message = (
        rf"load_csv: '.*holes\.csv': feature value '{cell}' at row 4, column 'b' \(index 1\) is "
        r"not a finite number\. Impute or drop"
    )
    with pytest.raises(ValueError, match=message):
        load_csv(path)


def test_csv_refuses_non_finite_targets_and_float32_overflow(tmp_path):
    path = csv_file(tmp_path, "a,y\n1,0.5\n2,inf\n", "target.csv")
    with pytest.raises(ValueError, match=r"'.*target\.csv': target value 'inf' at row 3, column"):
        load_csv(path)
    path = csv_file(tmp_path, "a,y\n1,0.5\n2,1e39\n", "big_target.csv")
    with pytest.raises(ValueError, match=r"target value '1e39' at row 3, column 'y'.* too large"):
        load_csv(path)
    path = csv_file(tmp_path, "a,y\n1e39,0\n2,1\n", "big.csv")
    with pytest.raises(ValueError, match=r"feature value '1e39' at row 2, column 'a' \(index 0\) "
                       r"is too large for float32"):  # fmt: skip
        load_csv(path)


def test_csv_row_errors_name_the_file(tmp_path):
    with pytest.raises(ValueError, match=r"load_csv: '.*ragged\.csv': row 3 has 2 columns"):
        load_csv(csv_file(tmp_path, "1,2,0\n1,2,1\n1,2\n", "ragged.csv"))
    with pytest.raises(ValueError, match=r"load_csv: '.*word\.csv': non-numeric feature value"):
        load_csv(csv_file(tmp_path, "a,b,y\n1,2,0\n3,abc,1\n", "word.csv"))
    big = r"'.*mixed\.csv': feature value '1e39' at row 1, column 0 is too large"
    with pytest.raises(ValueError, match=big):  # the slow path: another cell is text
        load_csv(csv_file(tmp_path, "1e39,2,0\n3,abc,1\n", "mixed.csv"))


def test_csv_that_is_not_utf8_text(tmp_path):
    path = tmp_path / "sheet.csv"
    path.write_bytes(b"a,b\n1,\xff\n")
    with pytest.raises(ValueError, match=r"'.*sheet\.csv' is not a UTF-8 text file \(byte 0xff "
                       r"at position 6\): save it as CSV in UTF-8"):  # fmt: skip
        load_csv(path)


def test_csv_with_a_field_over_the_csv_module_limit(tmp_path):
    path = csv_file(tmp_path, "a,y\n" + "x" * 200_000 + ",1\n", "huge_field.csv")
    with pytest.raises(ValueError, match=r"'.*huge_field\.csv': cannot read row 2: field larger "):
        load_csv(path)


@pytest.mark.parametrize(
    "text, found",
    [
        ("w;h;kind\n1;2;cat\n3;4;dog\n", ";"),  # a header: the target name is not found
        ("w;h;kind\n1,5;2;cat\n3,5;4;dog\n", ";"),  # decimal commas: rows look ragged
        ("1;2;3\n4;5;6\n", ";"),
        ("w\th\tkind\n1\t2\tcat\n", "\t"),
        ("w|h|kind\n1|2|cat\n", "|"),
        ("1.5 2 0\n3.5 4 1\n", " "),  # numpy.savetxt's default
    ],
    ids=["semicolon header", "decimal comma", "semicolon numbers", "tab", "pipe", "space"],
)
def test_csv_names_the_delimiter_the_file_seems_to_use(tmp_path, text, found):
    path = csv_file(tmp_path, text, "other.csv")
    target = "kind" if "kind" in text else -1
    expected = re.escape(f"separated by {found!r}") + ".*" + re.escape(f"delimiter={found!r}")
    with pytest.raises(ValueError, match=expected):
        load_csv(path, target=target)
    if "1,5" not in text:
        X, _ = load_csv(path, delimiter=found, target=target)
        assert X.shape[1] == 2


def test_csv_a_decimal_comma_is_named(tmp_path):
    path = csv_file(tmp_path, "w;h;kind\n1,5;2;cat\n3,5;4;dog\n", "comma.csv")
    with pytest.raises(ValueError, match=r"non-numeric feature value '1,5' .*decimal point"):
        load_csv(path, delimiter=";", target="kind")


def test_csv_a_header_naming_a_column_twice_is_refused(tmp_path):
    """Columns are matched by name later (sinapsi predict): two of the same name are ambiguous."""
    path = csv_file(tmp_path, "w,w,kind\n3,25,cat\n30,60,dog\n", "twice.csv")
    with pytest.raises(ValueError, match=r"the header names 'w' twice \(columns 0 and 1\)"):
        load_csv(path, target="kind")


def test_csv_a_column_without_a_name_is_refused(tmp_path):
    """pandas' to_csv() writes its row index as a first column with an empty name: read as a
    feature it would leak the row order (iris sorted by species) into the model."""
    path = csv_file(tmp_path, ",w,h,kind\n0,3,25,cat\n1,30,60,dog\n", "pandas.csv")
    with pytest.raises(ValueError, match=r"column 0 has no name in the header.*index=False"):
        load_csv(path, target="kind")


def test_csv_a_trailing_delimiter_is_named(tmp_path):
    path = csv_file(tmp_path, "w,h,kind,\n3,25,cat,\n30,60,dog,\n", "trailing.csv")
    with pytest.raises(ValueError, match=r"column 3 has no name .*at the end of each line"):
        load_csv(path, target="kind")
