"""Word-vector files and inputs that used to load as garbage or crash with a traceback
(issue 14.10, 14.11): non-finite values, headers that promise more than the file holds."""

from __future__ import annotations

import numpy as np
import pytest

from sinapsi.embeddings import KeyedVectors


def _binary(entries: list[tuple[bytes, list[float]]], header: bytes | None = None) -> bytes:
    dim = len(entries[0][1])
    body = b"".join(w + b" " + np.asarray(v, "<f4").tobytes() for w, v in entries)
    return (header or f"{len(entries)} {dim}\n".encode()) + body


@pytest.mark.parametrize(
    ("value", "expected"), [("nan", "nan"), ("inf", "inf"), ("-inf", "-inf"), ("NaN", "nan"),
                            ("1e39", "inf")]
)  # fmt: skip
def test_text_file_with_non_finite_values_is_refused(tmp_path, value, expected):
    """'king -inf' in `sinapsi analogy`: a vector with nan/inf poisons every cosine."""
    path = tmp_path / "v.txt"
    path.write_text(f"3 2\nman 1 0\nking 0.5 {value}\nwoman 0 1\n", encoding="utf-8")
    with pytest.raises(
        ValueError, match=rf"v\.txt, line 3: the vector of 'king' holds {expected}.*finite"
    ):
        KeyedVectors.load_word2vec_format(path)


@pytest.mark.parametrize("value", [np.nan, np.inf, -np.inf])
def test_binary_file_with_non_finite_values_is_refused(tmp_path, value):
    path = tmp_path / "v.bin"
    path.write_bytes(_binary([(b"man", [1, 0]), (b"king", [0.5, value]), (b"woman", [0, 1])]))
    with pytest.raises(
        ValueError, match=r"v\.bin, entry 2: the vector of 'king' holds (nan|inf|-inf).*finite"
    ):
        KeyedVectors.load_word2vec_format(path, binary=True)


def test_constructor_refuses_non_finite_vectors():
    with pytest.raises(ValueError, match=r"row 1 \('b'\) holds nan"):
        KeyedVectors(["a", "b"], [[1.0, 0.0], [np.nan, 1.0]])
    with pytest.raises(ValueError, match=r"row 0 \('a'\) holds inf.*float32"):
        KeyedVectors(["a", "b"], np.array([[1e300, 0.0], [0.0, 1.0]]))  # overflows float32


@pytest.mark.parametrize("binary", [False, True])
def test_a_header_promising_more_than_the_file_holds_is_told_before_allocating(tmp_path, binary):
    """10^10 words of 300 values would be 12 TB: the table is sized by what the file can hold,
    and the shortfall told in one line, not a MemoryError traceback."""
    path = tmp_path / "v.bin"
    if binary:
        path.write_bytes(_binary([(b"a", [1.0, 2.0])], header=b"10000000000 2\n"))
        where = r"ends in entry 2 \(1 complete vectors read\)"
    else:
        path.write_bytes(b"10000000000 2\na 1 2\n")
        where = r"ends after 1 \(line 3\)"
    with pytest.raises(ValueError, match=rf"v\.bin: the header says 10000000000 vectors.*{where}"):
        KeyedVectors.load_word2vec_format(path, binary=binary)


@pytest.mark.parametrize("binary", [False, True])
def test_a_huge_dimension_in_the_header_is_refused(tmp_path, binary):
    path = tmp_path / "v.txt"
    path.write_bytes(b"1 100000000000\na " + (np.ones(2, "<f4").tobytes() if binary else b"1 2\n"))
    message = (
        "truncated file, expected 400000000000 bytes"
        if binary
        else ("line 2: expected 100000000000 values after the word, found 2")
    )
    with pytest.raises(ValueError, match=message):
        KeyedVectors.load_word2vec_format(path, binary=binary)


def test_a_pipe_is_read_with_rows_grown_as_needed(tmp_path, monkeypatch):
    import sinapsi.embeddings.vectors as vectors_module

    kv = KeyedVectors([f"w{i}" for i in range(5)], np.arange(10.0).reshape(5, 2))
    for binary in (False, True):
        path = kv.save_word2vec_format(tmp_path / "v.txt", binary=binary)
        # one row up front, as for a pipe (65536 there): the rest grown while reading
        monkeypatch.setattr(vectors_module, "_rows_to_allocate", lambda f, n, dim, binary: 1)
        again = KeyedVectors.load_word2vec_format(path, binary=binary)
        np.testing.assert_array_equal(again.vectors, kv.vectors)


def test_binary_file_truncated_mid_vector_names_the_word(tmp_path):
    path = tmp_path / "v.bin"
    path.write_bytes(_binary([(b"a", [1, 2]), (b"b", [3, 4])])[:-3])
    with pytest.raises(ValueError, match=r"entry 2 \(word 'b'\): truncated file"):
        KeyedVectors.load_word2vec_format(path, binary=True)


def test_duplicate_words_in_a_file_are_named(tmp_path):
    path = tmp_path / "v.bin"
    path.write_bytes(_binary([(b"a", [1, 2]), (b"b", [3, 4]), (b"a", [5, 6])]))
    with pytest.raises(ValueError, match=r"v\.bin: words must be unique; repeated: \['a'\]"):
        KeyedVectors.load_word2vec_format(path, binary=True)


@pytest.fixture
def small_kv():
    rng = np.random.default_rng(0)
    return KeyedVectors(["a", "b", "c", "d", "e"], rng.normal(size=(5, 3)))


def test_word_pairs_with_a_non_finite_score_are_refused(small_kv, tmp_path):
    """A 'nan' score parsed as a number made every correlation nan, silently."""
    path = tmp_path / "pairs.tsv"
    path.write_text("a\tb\t1.0\nc\td\tnan\nb\te\t3\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"pairs\.tsv, line 2: the score 'nan' is not a finite"):
        small_kv.evaluate_word_pairs(path)


@pytest.mark.parametrize("method", ["evaluate_analogies", "evaluate_word_pairs"])
def test_evaluation_files_that_are_not_utf8_are_one_line(small_kv, tmp_path, method):
    path = tmp_path / "q.txt"
    path.write_bytes(b"a b c d\n\xff\xfe\n")
    with pytest.raises(ValueError, match=r"q\.txt: not a UTF-8 text file"):
        getattr(small_kv, method)(path)
