"""KeyedVectors.save/load and Word2Vec.save/load (issue 19): safetensors, no pickle; round
trips, and one-line errors for truncated, foreign and hostile files without large allocations."""

from __future__ import annotations

import json

import numpy as np
import pytest
from safetensors.numpy import load_file, save_file

from sinapsi.embeddings import KeyedVectors, Word2Vec

WORDS = ["the", "été", "日本", "a b"]  # UTF-8 and a space: not a word2vec-format word


@pytest.fixture
def kv():
    return KeyedVectors(WORDS, np.arange(12, dtype=np.float32).reshape(4, 3) / 7)


def _one_line_value_error(path, load, match):
    with pytest.raises(ValueError, match=match) as info:
        load(path)
    assert "\n" not in str(info.value)
    return str(info.value)


def _tensors(words, vectors, **extra):
    utf8 = [w.encode() for w in words]
    offsets = np.concatenate([[0], np.cumsum([len(b) for b in utf8])]).astype(np.int64)
    return {
        "words.utf8": np.frombuffer(b"".join(utf8), np.uint8).copy(), "words.offsets": offsets,
        "vectors": np.asarray(vectors), **extra,
    }  # fmt: skip


META = {"format": "sinapsi.KeyedVectors", "version": "1"}
BAD_UTF8 = b"the" + b"\xff\xfe\xff\xfe\xff" + "日本a b".encode()  # "été" (5 bytes) made invalid


def test_keyed_vectors_round_trip_and_plain_safetensors(kv, tmp_path):
    path = kv.save(tmp_path / "kv.safetensors")
    again = KeyedVectors.load(path)
    assert again.index_to_key == WORDS and again.key_to_index == kv.key_to_index
    np.testing.assert_array_equal(again.vectors, kv.vectors)
    assert again.vectors.dtype == np.float32 and again.vector_size == 3
    # any safetensors reader sees the tables and the words
    tensors = load_file(path)
    np.testing.assert_array_equal(tensors["vectors"], kv.vectors)
    offsets, raw = tensors["words.offsets"], tensors["words.utf8"].tobytes()
    assert [raw[a:b].decode() for a, b in zip(offsets[:-1], offsets[1:])] == WORDS
    assert [p.name for p in tmp_path.iterdir()] == ["kv.safetensors"]  # no temp file left
    kv.save(path)  # overwriting is atomic too
    empty = KeyedVectors([], np.zeros((0, 5), np.float32))
    assert len(KeyedVectors.load(empty.save(tmp_path / "empty"))) == 0


def test_gensim_attribute_names(kv):
    assert kv.index_to_key is kv.words and kv.key_to_index is kv.index
    assert kv.vector_size == kv.dim == 3
    np.testing.assert_array_equal(kv.get_vector("été"), kv["été"])
    np.testing.assert_allclose(np.linalg.norm(kv.get_vector("été", norm=True)), 1.0, rtol=1e-6)
    assert kv.get_index("日本") == 2 and kv.get_index("nope", default=-1) == -1
    assert kv.has_index_for("the") and not kv.has_index_for("nope")
    with pytest.raises(KeyError, match="'nope' is not in the vocabulary"):
        kv.get_vector("nope")


def test_truncated_files_are_refused(kv, tmp_path):
    data = kv.save(tmp_path / "kv").read_bytes()
    for cut in (0, 5, 8, 20, len(data) // 2, len(data) - 1):
        bad = tmp_path / f"cut{cut}"
        bad.write_bytes(data[:cut])
        _one_line_value_error(bad, KeyedVectors.load, r"not a sinapsi KeyedVectors file")


@pytest.mark.parametrize(
    ("content", "match"),
    [
        (b"hello, world" * 10, r"KeyedVectors file \(safetensors: "),
        (b"2 3\na 1 2 3\nb 4 5 6\n", r"a word2vec-format file: read it with .*load_word2vec"),
        (b"\x80\x04\x95" + b"\x00" * 40, r"a Python pickle.*pickles are not loaded"),
        ((2**63).to_bytes(8, "little") + b"{}", r"KeyedVectors file \(safetensors: "),
    ],
)
def test_foreign_headers_are_refused(tmp_path, content, match):
    path = tmp_path / "bad"
    path.write_bytes(content)
    _one_line_value_error(path, KeyedVectors.load, match)


def test_a_gensim_pickle_is_refused_not_unpickled(tmp_path):
    gensim_models = pytest.importorskip("gensim.models")
    g = gensim_models.KeyedVectors(3)
    g.add_vectors(["a", "b"], np.ones((2, 3), np.float32))
    g.save(str(tmp_path / "g.kv"))
    _one_line_value_error(tmp_path / "g.kv", KeyedVectors.load, r"Python pickle, such as gensim")


def test_huge_declared_sizes_are_refused_before_allocating(tmp_path):
    """A header declaring a 10^9 x 10^4 table (40 TB) in a file of a few hundred bytes."""
    n, dim = 10**9, 10**4
    header = {
        "__metadata__": META,
        "words.offsets": {"dtype": "I64", "shape": [n + 1], "data_offsets": [0, 8 * (n + 1)]},
        "words.utf8": {"dtype": "U8", "shape": [n], "data_offsets": [8 * (n + 1), 9 * n + 8]},
        "vectors": {"dtype": "F32", "shape": [n, dim],
                    "data_offsets": [9 * n + 8, 9 * n + 8 + 4 * n * dim]},
    }  # fmt: skip
    text = json.dumps(header).encode()
    path = tmp_path / "huge"
    path.write_bytes(len(text).to_bytes(8, "little") + text + b"\0" * 64)
    _one_line_value_error(path, KeyedVectors.load, r"KeyedVectors file \(safetensors: ")


@pytest.mark.parametrize(
    ("change", "match"),
    [
        ({"meta": {"format": "other"}}, r"its format is 'other', not 'sinapsi.KeyedVectors'"),
        ({"meta": {"format": "sinapsi.KeyedVectors", "version": "9"}}, r"version '9'"),
        ({"meta": {"format": "sinapsi.Word2Vec", "version": "1"}}, r"use Word2Vec.load\(path\)"),
        ({"drop": "vectors"}, r"missing tensors \['vectors'\]"),
        ({"vectors": np.zeros((4, 3))}, r"'vectors' is float64 .*expected float32"),
        ({"vectors": np.zeros(12, np.float32)}, r"'vectors' .*1 dimension\(s\)"),
        ({"vectors": np.zeros((5, 3), np.float32)}, r"4 words but 5 rows in 'vectors'"),
        ({"words.offsets": np.array([0, 3, 2, 9, 12])}, r"word offsets do not split"),
        ({"words.offsets": np.array([0, 3, 5, 9, 99])}, r"word offsets do not split"),
        ({"words.offsets": np.array([0, 3, 3, 9, 12])}, r"word offsets do not split"),
        ({"words.utf8": np.frombuffer(BAD_UTF8, np.uint8)}, r"a word is not valid UTF-8"),
        ({"words": ["a", "b", "a", "c"]}, r"words must be unique; repeated: \['a'\]"),
        ({"vectors": np.array([[1, 2, np.nan]] * 4, np.float32)}, r"'vectors' holds 4 NaN"),
    ],
)  # fmt: skip
def test_altered_files_are_refused_with_one_line(tmp_path, change, match):
    change = dict(change)
    tensors = _tensors(change.pop("words", WORDS), np.zeros((4, 3), np.float32))
    if "drop" in change:
        del tensors[change.pop("drop")]
    meta = change.pop("meta", META)
    tensors.update(change)
    path = tmp_path / "altered"
    save_file(tensors, str(path), metadata=meta)
    message = _one_line_value_error(path, KeyedVectors.load, match)
    assert str(path) in message


# ------------------------------------------------------------------------------- Word2Vec
SENTENCES = [["the", "cat", "sat", "on", "the", "mat"], ["a", "dog", "sat", "on", "a", "log"]]


@pytest.fixture
def model():
    return Word2Vec(
        SENTENCES * 30, vector_size=8, min_count=1, epochs=2, workers=1, seed=3, sample=0
    )


def test_word2vec_round_trip_keeps_what_continued_training_needs(model, tmp_path):
    path = model.save(tmp_path / "m.safetensors")
    again = Word2Vec.load(path)
    assert again.wv.index_to_key == model.wv.index_to_key
    np.testing.assert_array_equal(again.wv.vectors, model.wv.vectors)
    np.testing.assert_array_equal(again.syn1neg, model.syn1neg)
    np.testing.assert_array_equal(again.counts, model.counts)
    for name in ("vector_size", "window", "epochs", "sg", "negative", "alpha", "min_alpha",
                 "sample", "min_count", "seed", "workers", "corpus_count", "corpus_total_words",
                 "running_training_loss"):  # fmt: skip
        assert getattr(again, name) == getattr(model, name), name
    assert np.abs(again.syn1neg).sum() > 0  # the output vectors were trained and kept
    again.build_vocab([["a", "new", "sentence", "new", "words"]] * 5, update=True)
    again.train([["a", "new", "sentence"]] * 5, total_examples=5, epochs=1)
    assert again.wv.index_to_key[: len(model.wv)] == model.wv.index_to_key
    with pytest.raises(ValueError, match=r"its format is 'sinapsi.Word2Vec'.*not.*KeyedVectors"):
        KeyedVectors.load(path)
    with pytest.raises(ValueError, match=r"its format is 'sinapsi.KeyedVectors', not 'sinapsi.W"):
        Word2Vec.load(model.wv.save(tmp_path / "kv"))


def _model_file(model, path, params=None, **tables):
    saved = load_file(model.save(path))
    meta = {"format": "sinapsi.Word2Vec", "version": "1"}
    good = json.loads(_metadata(path)["params"])
    meta["params"] = json.dumps(good | (params or {})) if params != "junk" else "{not json"
    save_file(saved | tables, str(path), metadata=meta)
    return path


def _metadata(path):
    from safetensors import safe_open

    with safe_open(str(path), framework="np") as f:
        return f.metadata()


@pytest.mark.parametrize(
    ("params", "tables", "match"),
    [
        ("junk", {}, r"not a valid sinapsi Word2Vec file \("),
        ({"vector_size": "big"}, {}, r"vector_size must be a positive int"),
        ({"negative": -1}, {}, r"negative must be a positive int"),
        ({"hs": 1}, {}, r"hs=1 is not supported"),
        ({"corpus_count": "many"}, {}, r"corpus_count is 'many'"),
        ({"extra": 1}, {}, r"parameters missing or unknown"),
        ({"vector_size": 9}, {}, r"tables of shapes \(8, 8\) and \(8, 8\) for vector_size=9"),
        ({}, {"counts": np.zeros(8, np.int64)}, r"counts must be positive integers"),
        ({}, {"context": np.zeros((8, 7), np.float32)}, r"tables of shapes"),
        ({}, {"context": np.full((8, 8), np.inf, np.float32)}, r"'context' holds 64 NaN"),
        ({}, {"counts": np.ones(8, np.float32)}, r"'counts' is float32 .*expected int64"),
    ],
)
def test_altered_model_files_are_refused_with_one_line(model, tmp_path, params, tables, match):
    assert len(model.wv) == 8
    path = _model_file(model, tmp_path / "m", params, **tables)
    _one_line_value_error(path, Word2Vec.load, match)
