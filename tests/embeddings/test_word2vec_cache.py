"""word2vec's corpus encoded once (sinapsi.embeddings.encoding): the same vocabulary and ids as
Vocabulary.build and encode, in memory or in a memory-mapped cache past the memory budget;
the cache is reused only when complete and up to date."""

from __future__ import annotations

import os
import tempfile

import numpy as np
import pytest

import sinapsi.embeddings.encoding as enc
import sinapsi.embeddings.word2vec as w2v
from sinapsi.embeddings import Vocabulary, read_corpus, train_word2vec
from strategies import royal_corpus

TRAIN = dict(dim=12, window=3, min_count=2, epochs=2, seed=3, batch_size=128, workers=1)


@pytest.fixture()
def corpus_file(tmp_path):
    lines = [" ".join(s) for s in royal_corpus(600, seed=2)]
    lines[5] = "Zzz, qqq!"  # words under min_count: an empty sentence once encoded
    lines[9] = ""
    path = tmp_path / "corpus.txt"
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


@pytest.mark.parametrize("budget", [None, 0, 3000])  # in memory; every id spilled; some
@pytest.mark.parametrize("min_count, max_vocab", [(1, None), (2, 15), (40, None)])
def test_encoding_equals_build_and_encode(
    corpus_file, tmp_path, monkeypatch, budget, min_count, max_vocab
):
    monkeypatch.setattr(enc, "ENCODE_BLOCK", 700)  # blocks end inside sentences
    corpus = read_corpus(corpus_file)
    expect = Vocabulary.build(corpus, min_count=min_count, max_vocab=max_vocab)
    cache = tmp_path / "cache"
    vocab, encoded = enc.encode_corpus(
        corpus, min_count, max_vocab, cache_dir=cache, memory_budget_bytes=budget
    )
    assert vocab.words == expect.words and vocab.counts.tolist() == expect.counts.tolist()
    assert vocab.longest_sentence == expect.longest_sentence
    sentences = list(corpus)
    assert len(encoded) == len(sentences)
    for i, s in enumerate(sentences):
        np.testing.assert_array_equal(encoded.sentence(i), expect.encode(s))
    spilled = budget is not None
    assert encoded.tokens.dtype == (np.int32 if spilled else np.uint16)
    assert encoded.offsets.dtype == (np.int64 if spilled else np.int32)
    assert isinstance(encoded.tokens, np.memmap) == spilled
    if spilled:
        assert os.listdir(cache) == [encoded.cache_path.name]
    else:
        assert not cache.exists() and encoded.cache_path is None  # nothing written


def test_encoding_errors_are_builds(tmp_path):
    with pytest.raises(ValueError, match="min_count=9 leaves no words"):
        enc.encode_corpus(read_corpus([["a", "b"]]), 9)
    with pytest.raises(ValueError, match="the corpus has no words"):
        enc.encode_corpus(read_corpus(["...", "!"]), 1)
    with pytest.raises(ValueError, match="max_vocab must be a positive int"):
        enc.encode_corpus(read_corpus([["a"]]), 1, 0)


def _spy_cache(monkeypatch, folder):
    """Record, at every training step, the files in ``folder``."""
    seen = []
    step = w2v.sparse_step

    def spy(*args, **kwargs):
        seen.append(sorted(p for p in os.listdir(folder)))
        return step(*args, **kwargs)

    monkeypatch.setattr(w2v, "sparse_step", spy)
    return seen


@pytest.mark.parametrize("model", ["skipgram", "cbow"])
def test_a_corpus_over_the_budget_trains_from_the_cache_as_from_memory(
    corpus_file, tmp_path, monkeypatch, model, kernels
):
    in_memory = train_word2vec(corpus_file, model=model, **TRAIN)
    monkeypatch.setattr(enc, "MEMORY_BUDGET", 4096)  # the corpus: about 18 kB of ids
    monkeypatch.setattr(enc, "ENCODE_BLOCK", 1000)
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))  # the default folder's parent
    seen = _spy_cache(monkeypatch, tmp_path)
    streamed = train_word2vec(corpus_file, model=model, **TRAIN)
    np.testing.assert_array_equal(streamed.vectors, in_memory.vectors)
    folders = {name for files in seen for name in files if name.startswith("sinapsi-word2vec-")}
    assert len(folders) == 1 and all(folders <= set(files) for files in seen)
    (folder,) = folders
    assert not (tmp_path / folder).exists()  # a folder of its own, removed after training
    # in a folder the user names, the cache stays and is reused (no pass over the text)
    named = tmp_path / "named"
    seen = _spy_cache(monkeypatch, tmp_path)
    again = train_word2vec(corpus_file, model=model, cache_dir=named, **TRAIN)
    (cache,) = os.listdir(named)
    assert cache.endswith(".ids") and "named" in seen[0]
    monkeypatch.setattr(enc.Corpus, "__iter__", lambda self: pytest.fail("read the text again"))
    reused = train_word2vec(corpus_file, model=model, cache_dir=named, **TRAIN)
    np.testing.assert_array_equal(again.vectors, in_memory.vectors)
    np.testing.assert_array_equal(reused.vectors, in_memory.vectors)
    assert os.listdir(named) == [cache]


def test_an_interrupted_cache_write_leaves_nothing_reused(corpus_file, tmp_path, monkeypatch):
    """The rule: a cache is written as <name>.<pid>.partial and renamed when complete; an error
    while writing removes the partial file, so the folder holds no file of that training; a
    partial file whose process is gone is removed by the next training writing that cache."""
    monkeypatch.setattr(enc, "MEMORY_BUDGET", 4096)
    monkeypatch.setattr(enc, "ENCODE_BLOCK", 512)  # ids written in blocks: fail at the third
    write = enc._write_block
    calls = []

    def failing(file, array):
        calls.append(array.size)
        if len(calls) == 3:
            file.write(array[: array.size // 2].tobytes())  # half a block, then the failure
            raise OSError("disk full")
        write(file, array)

    folder = tmp_path / "cache"
    monkeypatch.setattr(enc, "_write_block", failing)
    with pytest.raises(OSError, match="disk full"):
        train_word2vec(corpus_file, cache_dir=folder, **TRAIN)
    assert os.listdir(folder) == []
    monkeypatch.setattr(enc, "_write_block", write)
    # a partial file left by a killed process (pid 2**22 + 1: above Linux's highest) is never
    # read, and is removed by the next training that writes that cache
    calls.clear()
    kv = train_word2vec(corpus_file, cache_dir=folder, **TRAIN)
    (cache,) = os.listdir(folder)
    orphan = folder / f"{cache}.{2**22 + 1}.partial"
    orphan.write_bytes(b"\0" * 100)
    os.remove(folder / cache)
    again = train_word2vec(corpus_file, cache_dir=folder, **TRAIN)
    assert os.listdir(folder) == [cache]
    np.testing.assert_array_equal(again.vectors, kv.vectors)
    monkeypatch.setattr(enc, "MEMORY_BUDGET", None)
    np.testing.assert_array_equal(kv.vectors, train_word2vec(corpus_file, **TRAIN).vectors)


@pytest.mark.parametrize("damage", ["truncate", "header", "touch", "preamble"])
def test_a_stale_or_damaged_cache_is_rebuilt(corpus_file, tmp_path, monkeypatch, damage):
    monkeypatch.setattr(enc, "MEMORY_BUDGET", 4096)
    folder = tmp_path / "cache"
    vocab, encoded = enc.encode_corpus(read_corpus(corpus_file), 2, cache_dir=folder)
    path = encoded.cache_path
    expect = np.array(encoded.tokens)
    encoded.close()
    data = bytearray(path.read_bytes())
    if damage == "truncate":
        path.write_bytes(data[: len(data) // 2])
    elif damage == "header":  # a count changed: the vocabulary's digest no longer matches
        at = data.rindex(b'"counts": [') + len(b'"counts": [')
        data[at] = ord("9") if data[at] != ord("9") else ord("8")
        path.write_bytes(data)
    elif damage == "preamble":
        path.write_bytes(b"\0" * 8 + data[8:])
    else:  # the corpus changed after the cache was written
        with open(corpus_file, "a", encoding="utf-8") as f:
            f.write("\nthe king and the queen walk")
        expect = None
    rebuilt = []
    spill = enc._Spill

    class Spy(spill):
        def __init__(self, *args):
            rebuilt.append(True)
            super().__init__(*args)

    monkeypatch.setattr(enc, "_Spill", Spy)
    again_vocab, again = enc.encode_corpus(read_corpus(corpus_file), 2, cache_dir=folder)
    assert rebuilt and os.listdir(folder) == [path.name]
    if expect is not None:
        assert again_vocab.words == vocab.words
        np.testing.assert_array_equal(again.tokens, expect)
    else:
        assert again.offsets.size == encoded.offsets.size + 1


@pytest.mark.parametrize("read_chars", [1, 7, 1 << 20])  # blocks of text ending mid-line
def test_a_file_read_in_blocks_gives_the_lines_words(tmp_path, monkeypatch, read_chars):
    """The file is tokenized a block of text at a time, not line by line: the same sentences
    as Corpus's, with CR and CRLF line ends, empty lines, apostrophes, underscores, a Greek
    final sigma at a line's end, and no newline at the end."""
    text = (
        "Don't PANIC: it's 42 -- 'really'!\r\n\n  \n''quoted'' a''b _x_ ΣΑΣ\rΟΔΟΣ\n"
        "x'\n'y\u2028z  ÇA Va\tbien\n\nthe end"
    )
    path = tmp_path / "c.txt"
    path.write_bytes(text.encode("utf-8"))
    monkeypatch.setattr(enc, "READ_CHARS", read_chars)
    sentences = list(read_corpus(path))
    assert len(sentences) == 6 and sentences[-1] == ["the", "end"]
    vocab, encoded = enc.encode_corpus(read_corpus(path), 1)
    assert [[vocab.words[i] for i in encoded.sentence(s)] for s in range(len(encoded))] == sentences


@pytest.mark.parametrize("n_words, dtype", [(1 << 16, np.uint16), ((1 << 16) + 1, np.int32)])
def test_ids_in_memory_are_uint16_up_to_65536_words(n_words, dtype):
    """The last word's id (n_words - 1) survives the narrower dtype, or widens it."""
    words = [f"w{i}" for i in range(n_words)]
    sentences = [words[i : i + 1000] for i in range(0, n_words, 1000)] + [["w0", words[-1]]]
    vocab, encoded = enc.encode_corpus(read_corpus(sentences), 1)
    assert encoded.tokens.dtype == dtype and len(vocab) == n_words
    last = encoded.sentence(len(encoded) - 1)
    assert [vocab.words[i] for i in last] == ["w0", words[-1]]
