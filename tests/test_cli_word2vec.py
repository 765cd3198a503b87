"""`sinapsi word2vec` and `sinapsi analogy` end to end: vectors trained on a small corpus with a
planted king/queen/man/woman structure, written in a format gensim reads, and the analogy
man : king :: woman : queen; every user mistake exits 2 with one line on stderr."""

import re

import pytest

from sinapsi.cli import main
from strategies import royal_corpus

gensim_models = pytest.importorskip("gensim.models")

TRAIN = ["--dim", "16", "--window", "4", "--min-count", "1", "--sample", "0", "--epochs", "3"]
TRAIN += ["--batch-size", "256", "--seed", "42", "--quiet"]


def _royal_lines(n_sentences, seed=0):
    """The planted king/queen/man/woman corpus of tests/strategies.py, as a text file's lines."""
    return "\n".join(" ".join(words) for words in royal_corpus(n_sentences, seed)) + "\n"


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    path = tmp_path_factory.mktemp("w2v") / "royal.txt"
    path.write_text(_royal_lines(2000), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def vectors(corpus):
    out = corpus.parent / "out" / "vectors.txt"  # the folder is created
    assert main(["word2vec", str(corpus), "--out", str(out), *TRAIN]) == 0
    return out


def _error(capsys, argv):
    """Run argv, expect exit 2; return the last stderr line (argparse adds a usage line)."""
    try:
        code = main(argv)
    except SystemExit as e:  # argparse's own errors
        code = e.code
    assert code == 2
    err = capsys.readouterr().err.strip().splitlines()
    return err[-1]


def test_word2vec_writes_vectors_gensim_reads(vectors, capsys):
    g = gensim_models.KeyedVectors.load_word2vec_format(str(vectors), binary=False)
    assert {"king", "queen", "man", "woman"} <= set(g.index_to_key)
    assert g.vector_size == 16 and len(g.index_to_key) == 36
    assert g.most_similar(positive=["king", "woman"], negative=["man"], topn=1)[0][0] == "queen"


def test_word2vec_summary_and_binary(corpus, tmp_path, capsys):
    out = tmp_path / "vectors.bin"
    argv = ["word2vec", str(corpus), "--out", str(out), "--binary", "--model", "cbow"]
    assert main([*argv, *TRAIN[:-1], "--epochs", "1"]) == 0
    text = capsys.readouterr().out
    assert re.search(r"^word2vec  cbow on .*royal\.txt: 16,000 words, 36 distinct", text, re.M)
    assert re.search(r"^vocabulary 36 words \(min count 1\), 16 dimensions$", text, re.M)
    assert re.search(r"^time      \d+\.\d s: [\d,]+ words/s over 1 epoch$", text, re.M)
    assert re.search(rf"^saved     {re.escape(str(out))}  \(word2vec binary format", text, re.M)
    g = gensim_models.KeyedVectors.load_word2vec_format(str(out), binary=True)
    assert g.vector_size == 16
    assert main(["analogy", str(out), "man", "king", "woman", "--binary", "--topn", "2"]) == 0
    assert len(capsys.readouterr().out.strip().splitlines()) == 3


def test_word2vec_with_two_workers(corpus, tmp_path, capsys):
    out = tmp_path / "vectors.txt"
    argv = ["word2vec", str(corpus), "--out", str(out), "--workers", "2", *TRAIN[:-1]]
    assert main(argv) == 0
    assert re.search(r"^word2vec  skipgram on .*, 2 workers$", capsys.readouterr().out, re.M)
    assert main(["analogy", str(out), "man", "king", "woman"]) == 0
    assert re.fullmatch(r"  1\. queen\s+\d\.\d{4}", capsys.readouterr().out.splitlines()[1])
    assert "argument --workers: must be >= 1, got 0" in _error(
        capsys, ["word2vec", str(corpus), "--out", str(out), "--workers", "0"]
    )


@pytest.mark.parametrize("method", ["3cosadd", "3cosmul"])
def test_analogy_prints_queen_first(vectors, capsys, method):
    assert main(["analogy", str(vectors), "man", "king", "woman", "--method", method]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[0] == f"man : king :: woman : ?   (king - man + woman, {method})"
    assert len(lines) == 6  # the header and the default 5 answers
    assert re.fullmatch(r"  1\. queen\s+\d\.\d{4}", lines[1])
    scores = [float(line.split()[-1]) for line in lines[1:]]
    assert scores == sorted(scores, reverse=True)


def test_word2vec_errors(corpus, tmp_path, capsys):
    out = str(tmp_path / "v.txt")
    missing = str(tmp_path / "nope.txt")
    line = _error(capsys, ["word2vec", missing, "--out", out])
    assert re.fullmatch(r"sinapsi: error: corpus file '.*nope\.txt' does not exist.*", line)
    empty = tmp_path / "empty.txt"
    empty.write_text("\n  \n...\n")
    line = _error(capsys, ["word2vec", str(empty), "--out", out])
    assert re.fullmatch(r"sinapsi: error: .*empty\.txt: the corpus has no words.*", line)
    line = _error(capsys, ["word2vec", str(corpus), "--out", out, "--min-count", "100000"])
    assert re.fullmatch(r"sinapsi: error: .*--min-count 100000 leaves no words.*", line)
    line = _error(capsys, ["word2vec", str(corpus), "--out", str(tmp_path)])
    assert re.fullmatch(r"sinapsi: error: --out '.*' is a folder.*", line)
    for option, value, message in [
        ("--dim", "0", r"must be >= 1, got 0"),
        ("--window", "x", r"must be an integer, got 'x'"),
        ("--lr", "-1", r"must be a positive number, got '-1'"),
        ("--sample", "nan", r"must be a number >= 0, got 'nan'"),
        ("--model", "glove", r"invalid choice: 'glove'"),
        ("--optimizer", "rmsprop", r"invalid choice: 'rmsprop'"),
    ]:
        line = _error(capsys, ["word2vec", str(corpus), "--out", out, option, value])
        assert re.search(rf"sinapsi word2vec: error: argument {option}: {message}", line), line
    line = _error(capsys, ["word2vec", str(corpus)])
    assert "the following arguments are required: --out" in line
    assert not (tmp_path / "v.txt").exists()


def test_analogy_errors(vectors, tmp_path, capsys):
    line = _error(capsys, ["analogy", str(vectors), "man", "kingg", "woman"])
    assert re.fullmatch(
        r"sinapsi: error: .*vectors\.txt: 'kingg' is not in the vocabulary; "
        r"did you mean: 'king', 'kingdom'\?",
        line,
    )
    broken = tmp_path / "broken.txt"
    broken.write_text("2 3\nking 0.1 0.2 0.3\nqueen 0.1 oops 0.3\n")
    line = _error(capsys, ["analogy", str(broken), "man", "king", "woman"])
    assert re.fullmatch(r"sinapsi: error: .*broken\.txt, line 3: .*", line)
    line = _error(capsys, ["analogy", str(vectors), "man", "king", "woman", "--binary"])
    assert re.fullmatch(r"sinapsi: error: .*vectors\.txt.*", line)
    line = _error(capsys, ["analogy", str(tmp_path / "none.txt"), "man", "king", "woman"])
    assert re.fullmatch(r"sinapsi: error: vectors file '.*none\.txt' does not exist", line)
    line = _error(capsys, ["analogy", str(vectors), "man", "king", "woman", "--topn", "0"])
    assert "argument --topn: must be >= 1, got 0" in line
    line = _error(capsys, ["analogy", str(vectors), "man", "king", "woman", "--method", "add"])
    assert "argument --method: invalid choice: 'add'" in line


def test_word2vec_beyond_memory_is_refused_before_allocating(corpus, tmp_path, capsys, monkeypatch):
    """--dim 100000000: 2 tables of 36 x 10^8 float32 (29 GB) are refused against the memory
    available (here said to be 4 GB), before allocating, with exit 2 (issue 14.10)."""
    import sinapsi.embeddings.word2vec as w2v

    monkeypatch.setattr(w2v, "available_memory", lambda: 4 << 30)
    out = tmp_path / "v.txt"
    line = _error(capsys, ["word2vec", str(corpus), "--out", str(out), "--dim", "100000000"])
    assert re.fullmatch(
        r"sinapsi: error: .*royal\.txt: training needs about \d+\.\d GB for 36 words x 100000000 "
        r"dimensions \(tables, .*: 53\.6 GB; .*\), but only 4\.0 GB of memory is available; "
        r"lower --dim.*",
        line,
    ), line
    assert not out.exists()


def test_analogy_refuses_non_finite_vectors(tmp_path, capsys):
    """'king -inf' was printed from a file holding inf (issue 14.11)."""
    path = tmp_path / "inf.txt"
    path.write_text("4 2\nman 1 0\nking 1 inf\nwoman 0 1\nqueen 0.5 0.5\n", encoding="utf-8")
    line = _error(capsys, ["analogy", str(path), "man", "king", "woman"])
    assert re.fullmatch(
        r"sinapsi: error: .*inf\.txt, line 3: the vector of 'king' holds inf.*", line
    ), line


def test_analogy_with_a_header_of_ten_billion_words(tmp_path, capsys):
    path = tmp_path / "big.bin"
    path.write_bytes(b"10000000000 2\na " + b"\0" * 8)
    line = _error(capsys, ["analogy", str(path), "a", "b", "c", "--binary"])
    assert re.fullmatch(r"sinapsi: error: .*big\.bin: the header says 10000000000 vectors.*", line)


def test_word2vec_that_diverges_is_one_line(corpus, tmp_path, capsys):
    out = tmp_path / "v.txt"
    argv = ["word2vec", str(corpus), "--out", str(out), *TRAIN[:-1], "--lr", "1000"]
    line = _error(capsys, [*argv, "--batch-size", "4096"])
    assert re.fullmatch(r"sinapsi: error: word2vec diverged in epoch 1 of 3: .*lower lr.*", line)
    assert not out.exists()


def test_analogy_with_no_other_word_says_so(tmp_path, capsys):
    path = tmp_path / "three.txt"
    path.write_text("3 2\nman 1 0\nking 0 1\nwoman 1 1\n", encoding="utf-8")
    line = _error(capsys, ["analogy", str(path), "man", "king", "woman"])
    assert re.fullmatch(
        r"sinapsi: error: .*three\.txt holds no word besides man, king and woman \(3 words\)",
        line,
    ), line


def test_word2vec_out_of_memory_anyway_is_one_line(corpus, tmp_path, capsys, monkeypatch):
    """Where the estimate falls short (memory taken meanwhile), MemoryError is one line too."""
    import sinapsi.embeddings

    def oom(*args, **kwargs):
        raise MemoryError("Unable to allocate 3.00 GiB for an array")

    monkeypatch.setattr(sinapsi.embeddings, "train_word2vec", oom)
    line = _error(capsys, ["word2vec", str(corpus), "--out", str(tmp_path / "v.txt"), "--quiet"])
    assert re.fullmatch(
        r"sinapsi: error: .*royal\.txt: out of memory while training \(Unable to allocate "
        r"3\.00 GiB.*\); lower --dim, --negative or --window, or raise --min-count",
        line,
    ), line


def test_word2vec_on_one_word_lines_is_one_line(tmp_path, capsys):
    """Every line one word: no (center, context) pair, so the vectors were their random
    initial values, saved as if trained."""
    corpus = tmp_path / "words.txt"
    corpus.write_text("king\nqueen\nman\nwoman\n" * 20, encoding="utf-8")
    out = tmp_path / "v.txt"
    line = _error(capsys, ["word2vec", str(corpus), "--out", str(out), "--min-count", "1"])
    assert re.fullmatch(r"sinapsi: error: .*words\.txt: no training pairs in 5 epoch.*", line)
    assert not out.exists()


def test_cache_dir_keeps_the_encoded_corpus_past_the_budget(tmp_path, monkeypatch, capsys):
    """--cache-dir: a corpus over the memory budget is encoded into that folder (and nowhere
    else), kept, and reused; the vectors are those of the in-memory run. A file where the
    folder should be is one line on stderr."""
    import sinapsi.embeddings.encoding as enc

    path = tmp_path / "royal.txt"
    path.write_text(_royal_lines(300), encoding="utf-8")
    plain, cached = tmp_path / "plain.txt", tmp_path / "cached.txt"
    assert main(["word2vec", str(path), "--out", str(plain), *TRAIN]) == 0
    monkeypatch.setattr(enc, "MEMORY_BUDGET", 1024)  # the ids of 300 sentences: ~10 kB
    cache = tmp_path / "cache"
    for _ in range(2):
        assert main(["word2vec", str(path), "--out", str(cached), *TRAIN, "--cache-dir",
                     str(cache)]) == 0  # fmt: skip
        (name,) = [p.name for p in cache.iterdir()]
        assert name.endswith(".ids")
        assert cached.read_text() == plain.read_text()
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        ["royal.txt", "plain.txt", "cached.txt", "cache"]
    )
    blocker = tmp_path / "blocker"
    blocker.write_text("not a folder")
    line = _error(capsys, ["word2vec", str(path), "--out", str(cached), *TRAIN, "--cache-dir",
                           str(blocker)])  # fmt: skip
    assert "cannot use --cache-dir" in line and "name a folder you can write to" in line
