"""A newcomer's mistakes with ``sinapsi word2vec`` and ``sinapsi analogy``: an --out that cannot
be written is refused before training, the advice names the command's options, and a file in the
other format (text read with --binary, gensim's pickled model) says what it is and what to do."""


import pytest

from cli_checks import one_line_error
from sinapsi.cli import main
from sinapsi.embeddings import KeyedVectors

gensim_models = pytest.importorskip("gensim.models")

SENTENCES = [["the", "king", "rules"], ["the", "queen", "rules"], ["a", "man", "walks"]] * 40


def _error(capsys, argv):
    """Run argv, expect exit 2 and one stderr line; return (that line, stdout)."""
    assert main(argv) == 2
    out, err = capsys.readouterr()
    return one_line_error(err), out


@pytest.fixture
def corpus(tmp_path):
    path = tmp_path / "corpus.txt"
    path.write_text("\n".join(" ".join(s) for s in SENTENCES) + "\n")
    return path


def test_an_out_below_a_file_is_refused_before_training(corpus, tmp_path, capsys):
    (tmp_path / "afile").write_text("")
    err, out = _error(capsys, ["word2vec", str(corpus), "--out", str(tmp_path / "afile" / "v.txt")])
    assert "'afile' is a file, not a folder" in err.replace(str(tmp_path) + "/", "")
    assert out == ""  # nothing trained: no plan, no summary


def test_word2vec_advice_names_the_options(corpus, tmp_path, capsys):
    argv = ["word2vec", str(corpus), "--out", str(tmp_path / "v.txt"), "--min-count", "1000"]
    err, _ = _error(capsys, argv)
    assert "--min-count" in err and "min_count" not in err


def test_a_text_file_read_with_binary_says_drop_it(tmp_path, capsys):
    model = gensim_models.Word2Vec(SENTENCES, vector_size=8, min_count=1, seed=0, workers=1)
    model.wv.save_word2vec_format(tmp_path / "v.txt", binary=False)
    err, _ = _error(
        capsys, ["analogy", str(tmp_path / "v.txt"), "man", "king", "queen", "--binary"]
    )
    assert "text" in err and "without --binary" in err
    with pytest.raises(ValueError, match=r"text.*binary=False"):
        KeyedVectors.load_word2vec_format(tmp_path / "v.txt", binary=True)


def test_a_pickled_gensim_model_says_how_to_export_it(tmp_path, capsys):
    model = gensim_models.Word2Vec(SENTENCES, vector_size=8, min_count=1, seed=0, workers=1)
    model.save(str(tmp_path / "w2v.model"))
    err, _ = _error(capsys, ["analogy", str(tmp_path / "w2v.model"), "man", "king", "queen"])
    assert "pickle" in err and "save_word2vec_format" in err
    assert "\\x" not in err  # no bytes dumped at the user


def test_a_binary_corpus_says_what_to_give(tmp_path, capsys):
    corpus = tmp_path / "model.bin"
    corpus.write_bytes(bytes(range(256)) * 4)
    err, _ = _error(capsys, ["word2vec", str(corpus), "--out", str(tmp_path / "v.txt")])
    assert "not a UTF-8 text file" in err and "one sentence per line" in err
    assert "codec" not in err  # Python's decoder jargon stays out
