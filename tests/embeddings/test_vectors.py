import numpy as np
import pytest

from sinapsi.embeddings import KeyedVectors

gensim_models = pytest.importorskip("gensim.models")
GensimKV = gensim_models.KeyedVectors

WORDS = ["king", "kings", "queen", "man", "woman", "prince", "princess", "apple", "pear", "car"]


@pytest.fixture
def kv(rng):
    words = WORDS + [f"w{i}" for i in range(190)]
    return KeyedVectors(words, rng.normal(size=(len(words), 16)).astype(np.float32))


def to_gensim(kv):
    g = GensimKV(kv.dim)
    g.add_vectors(kv.words, kv.vectors)
    return g


def assert_same_results(ours, theirs):
    assert [w for w, _ in ours] == [w for w, _ in theirs]
    np.testing.assert_allclose([s for _, s in ours], [s for _, s in theirs], atol=1e-5)


def test_lookup_and_similarity():
    kv = KeyedVectors(["a", "b", "c"], [[1, 0], [3, 4], [0, 0]])
    assert kv.vectors.dtype == np.float32 and kv.vectors.shape == (3, 2) and kv.dim == 2
    assert len(kv) == 3 and "a" in kv and "z" not in kv
    np.testing.assert_array_equal(kv["b"], [3, 4])
    assert kv.similarity("a", "b") == pytest.approx(0.6)
    assert kv.similarity("a", "c") == 0.0  # a zero vector has cosine 0, no warning


def test_unknown_word_suggests_close_matches(kv):
    with pytest.raises(
        KeyError, match="'kingg' is not in the vocabulary; did you mean: 'king', 'kings'"
    ):
        kv["kingg"]
    with pytest.raises(KeyError, match="^\"'zzzz' is not in the vocabulary\"$"):
        kv.similarity("king", "zzzz")


def test_constructor_errors():
    with pytest.raises(ValueError, match="got 2 words but 3 vectors"):
        KeyedVectors(["a", "b"], np.zeros((3, 2)))
    with pytest.raises(ValueError, match="2-D array.*got shape \\(3,\\)"):
        KeyedVectors(["a", "b", "c"], np.zeros(3))
    with pytest.raises(ValueError, match="unique; repeated: \\['a'\\]"):
        KeyedVectors(["a", "a"], np.zeros((2, 2)))
    with pytest.raises(TypeError, match="non-empty str, got 3"):
        KeyedVectors(["a", 3], np.zeros((2, 2)))


def test_most_similar_equals_gensim(kv):
    g = to_gensim(kv)
    for pos, neg in [(["king"], []), (["king", "woman"], ["man"]), ([], ["apple"]),
                     (["pear", "car", "w3"], ["w1", "w2"])]:  # fmt: skip
        assert_same_results(
            kv.most_similar(positive=pos, negative=neg, topn=5),
            g.most_similar(positive=pos, negative=neg, topn=5),
        )


@pytest.mark.filterwarnings("ignore:Call to deprecated `init_sims`:DeprecationWarning")
def test_cosmul_and_analogy_equal_gensim(kv):
    g = to_gensim(kv)
    assert_same_results(
        kv.most_similar_cosmul(positive=["king", "woman"], negative=["man"], topn=5, eps=1e-6),
        g.most_similar_cosmul(positive=["king", "woman"], negative=["man"], topn=5),
    )
    assert_same_results(
        kv.analogy("man", "king", "woman", topn=5),
        g.most_similar(positive=["king", "woman"], negative=["man"], topn=5),
    )
    # the default eps=1e-3 of Levy & Goldberg, computed by hand
    ours = kv.analogy("man", "king", "woman", method="3cosmul", topn=5)
    n = kv.vectors / np.linalg.norm(kv.vectors, axis=1, keepdims=True)
    cos = lambda w: (1 + n @ n[kv.index[w]]) / 2  # noqa: E731
    scores = cos("king") * cos("woman") / (cos("man") + 1e-3)
    scores[[kv.index[w] for w in ("king", "woman", "man")]] = -np.inf
    best = np.argsort(-scores)[:5]
    assert_same_results(ours, [(kv.words[i], scores[i]) for i in best])


def test_analogy_recovers_an_offset():
    rng = np.random.default_rng(0)
    base = {w: rng.normal(size=8) for w in ["man", "king", "apple", "car"]}
    gender = rng.normal(size=8)
    base["woman"] = base["man"] + gender
    base["queen"] = base["king"] + gender
    kv = KeyedVectors(list(base), np.array(list(base.values())))
    for method in ("3cosadd", "3cosmul"):
        assert kv.analogy("man", "king", "woman", method=method)[0][0] == "queen"
    fruit = KeyedVectors(["apple", "pear", "plum", "car"], [[1, 0.1], [1, 0.2], [0.9, 0], [0, 1]])
    assert fruit.doesnt_match(["apple", "pear", "plum", "car"]) == "car"


def test_doesnt_match_equals_gensim(kv):
    words = ["king", "queen", "prince", "apple", "w5"]
    assert kv.doesnt_match(words) == to_gensim(kv).doesnt_match(words)


def test_query_errors(kv):
    with pytest.raises(ValueError, match="at least one word"):
        kv.most_similar()
    with pytest.raises(ValueError, match="topn must be a positive int, got 0"):
        kv.most_similar("king", topn=0)
    with pytest.raises(ValueError, match="'method' parameter of KeyedVectors.analogy.*Got 'cos'"):
        kv.analogy("a", "b", "c", method="cos")
    with pytest.raises(KeyError, match="'quen' is not in the vocabulary; did you mean: 'queen'"):
        kv.analogy("man", "king", "quen")
    with pytest.raises(ValueError, match="at least 2 words"):
        kv.doesnt_match(["king"])
    with pytest.raises(TypeError, match="positive must be a word or a list of words"):
        kv.most_similar(positive=[1])
    assert len(kv.most_similar("king", topn=1000)) == len(kv) - 1


@pytest.mark.parametrize("binary", [False, True])
def test_our_files_load_in_gensim_and_back(kv, tmp_path, binary):
    path = tmp_path / "v.w2v"
    assert kv.save_word2vec_format(path, binary=binary) == path
    g = GensimKV.load_word2vec_format(str(path), binary=binary)
    assert g.index_to_key == kv.words
    np.testing.assert_array_equal(g.vectors, kv.vectors)
    back = KeyedVectors.load_word2vec_format(path, binary=binary)
    assert back.words == kv.words
    np.testing.assert_array_equal(back.vectors, kv.vectors)


@pytest.mark.parametrize("binary", [False, True])
def test_gensim_files_load_identically(kv, tmp_path, binary):
    path = tmp_path / "g.w2v"
    kv.words[3] = "ünïcode"  # non-ASCII words survive
    kv = KeyedVectors(kv.words, kv.vectors)
    to_gensim(kv).save_word2vec_format(str(path), binary=binary)
    ours = KeyedVectors.load_word2vec_format(path, binary=binary)
    assert ours.words == kv.words
    np.testing.assert_array_equal(ours.vectors, kv.vectors)


def test_binary_with_newlines_like_word2vec_c(tmp_path):
    vecs = np.array([[1.5, -2.0], [0.25, 3.0]], dtype="<f4")
    data = b"2 2\n" + b"".join(w + b" " + v.tobytes() + b"\n" for w, v in zip([b"a", b"b"], vecs))
    (tmp_path / "c.bin").write_bytes(data)
    kv = KeyedVectors.load_word2vec_format(tmp_path / "c.bin", binary=True)
    assert kv.words == ["a", "b"]
    np.testing.assert_array_equal(kv.vectors, vecs)


def test_save_rejects_whitespace_in_words(tmp_path):
    kv = KeyedVectors(["new york"], np.zeros((1, 2)))
    with pytest.raises(ValueError, match="'new york' contains whitespace"):
        kv.save_word2vec_format(tmp_path / "x.txt")
    assert not (tmp_path / "x.txt").exists()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("two 3\n", "line 1: expected a header 'count dimension'"),
        ("", "line 1: expected a header"),
        ("2 3\na 1 2 3\nb 1 2\n", "line 3: expected 3 values after the word, found 2"),
        ("2 3\na 1 2 3\nb 1 x 3\n", "line 3: value 'x' for word 'b' is not a number"),
        ("3 3\na 1 2 3\nb 1 2 3\n", "header says 3 vectors but the file ends after 2 \\(line 4\\)"),
        ("1 3\na 1 2 3\nb 1 2 3\n", "line 3: the header says 1 vectors but the file has more"),
        ("2 3\na 1 2 3\na 1 2 3\n", "unique; repeated: \\['a'\\]"),
    ],
)
def test_text_load_errors(tmp_path, text, message):
    path = tmp_path / "bad.txt"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ValueError, match=message):
        KeyedVectors.load_word2vec_format(path)


def test_binary_load_errors(tmp_path):
    path = tmp_path / "bad.bin"
    good = b"a " + np.ones(3, "<f4").tobytes()
    path.write_bytes(b"2 3\n" + good + b"b " + np.ones(2, "<f4").tobytes())
    with pytest.raises(
        ValueError, match="entry 2 \\(word 'b'\\): truncated file, expected 12 bytes.*found 8"
    ):
        KeyedVectors.load_word2vec_format(path, binary=True)
    path.write_bytes(b"2 3\n" + good)
    with pytest.raises(ValueError, match="header says 2 vectors but the file ends in entry 2"):
        KeyedVectors.load_word2vec_format(path, binary=True)
    path.write_bytes(b"2 3\n" + good + b"\xff\xfe " + np.ones(3, "<f4").tobytes())
    with pytest.raises(ValueError, match="entry 2: the word is not valid UTF-8"):
        KeyedVectors.load_word2vec_format(path, binary=True)


QUESTIONS = """\
: capital-common-countries
Athens Greece Baghdad Iraq
athens greece berlin germany
paris france missing iraq
: family
boy girl brother sister
man woman king queen
man woman prince princess
boy girl dad mom
"""


@pytest.fixture
def analogy_kv(rng):
    words = ["athens", "greece", "baghdad", "iraq", "berlin", "germany", "paris", "france",
             "boy", "girl", "brother", "sister", "man", "woman", "king", "queen", "prince",
             "princess"] + [f"w{i}" for i in range(20)]  # fmt: skip
    vectors = rng.normal(size=(len(words), 6)).astype(np.float32)
    idx = {w: i for i, w in enumerate(words)}
    offset = rng.normal(size=6).astype(np.float32) * 2  # make some analogies right
    for a, b in [("man", "woman"), ("king", "queen"), ("boy", "girl"), ("brother", "sister")]:
        vectors[idx[b]] = vectors[idx[a]] + offset
    return KeyedVectors(words, vectors)


def test_evaluate_analogies_equals_gensim(analogy_kv, tmp_path):
    path = tmp_path / "questions-words.txt"
    path.write_text(QUESTIONS, encoding="utf-8")
    result = analogy_kv.evaluate_analogies(path)
    score, sections = to_gensim(analogy_kv).evaluate_word_analogies(str(path))
    total = sections[-1]
    assert total["section"] == "Total accuracy"
    assert result["accuracy"] == pytest.approx(score)
    assert result["correct"] == len(total["correct"])
    assert result["total"] == len(total["correct"]) + len(total["incorrect"])
    assert result["skipped_oov"] == 7 - result["total"] == 2  # 'missing', 'dad'/'mom'
    assert set(result["sections"]) == {"capital-common-countries", "family"}
    fam = result["sections"]["family"]
    assert (fam["total"], fam["skipped_oov"]) == (3, 1)
    assert fam["accuracy"] == fam["correct"] / 3
    assert 0 < result["correct"]  # the planted offset is found
    assert analogy_kv.evaluate_analogies(path, method="3cosmul")["total"] == result["total"]


def test_evaluate_analogies_errors(analogy_kv, tmp_path):
    path = tmp_path / "q.txt"
    path.write_text(": s\nman woman king\n", encoding="utf-8")
    with pytest.raises(ValueError, match="line 2: expected 4 words.*found 3"):
        analogy_kv.evaluate_analogies(path)
    with pytest.raises(ValueError, match="'method' parameter"):
        analogy_kv.evaluate_analogies(path, method="x")
    path.write_text(": s\nfoo bar baz qux\n", encoding="utf-8")
    out = analogy_kv.evaluate_analogies(path)
    assert out["total"] == 0 and out["skipped_oov"] == 1 and np.isnan(out["accuracy"])


def test_evaluate_word_pairs_equals_gensim(analogy_kv, tmp_path):
    rng = np.random.default_rng(5)
    words = analogy_kv.words
    rows = [(words[i], words[j], round(float(rng.uniform(0, 10)), 2))
            for i, j in rng.integers(0, len(words), size=(40, 2)) if i != j]  # fmt: skip
    rows += [("unknownword", "king", 5.0), ("Queen", "nothere", 1.0)]
    tab = tmp_path / "ws.tsv"
    tab.write_text(
        "# comment\n" + "".join(f"{a}\t{b}\t{s}\n" for a, b, s in rows), encoding="utf-8"
    )
    pearson, spearman, oov_ratio = to_gensim(analogy_kv).evaluate_word_pairs(str(tab))
    result = analogy_kv.evaluate_word_pairs(tab)
    assert result["spearman"] == pytest.approx(spearman.statistic, abs=1e-6)
    assert result["pearson"] == pytest.approx(pearson.statistic, abs=1e-5)
    assert result["skipped_oov"] == 2 and result["pairs"] == len(rows) - 2
    assert oov_ratio == pytest.approx(100 * 2 / len(rows))
    csv = tmp_path / "ws.csv"
    csv.write_text(
        "Word 1,Word 2,Human (mean)\n" + "".join(f"{a},{b},{s}\n" for a, b, s in rows),
        encoding="utf-8",
    )
    assert analogy_kv.evaluate_word_pairs(csv)["spearman"] == pytest.approx(result["spearman"])


def test_evaluate_word_pairs_errors(analogy_kv, tmp_path):
    path = tmp_path / "ws.tsv"
    path.write_text("a\tb\tscore\nking\tqueen\t5\nman\twoman\tlots\n", encoding="utf-8")
    with pytest.raises(ValueError, match="line 3: the score 'lots' is not a number"):
        analogy_kv.evaluate_word_pairs(path)
    path.write_text("king\tqueen\n", encoding="utf-8")
    with pytest.raises(ValueError, match="line 1: expected 3 tab- or comma-separated fields"):
        analogy_kv.evaluate_word_pairs(path)
    path.write_text("king\tqueen\t3\nfoo\tbar\t2\n", encoding="utf-8")
    with pytest.raises(ValueError, match="only 1 pair\\(s\\).*1 skipped as out-of-vocabulary"):
        analogy_kv.evaluate_word_pairs(path)
