"""The word2vec benchmark's corpus builder (benchmarks/_w2v_corpus.py), on a fake documentation
package the test writes (no apt here): which text is kept, in which order, the short re-cut,
and that an interrupted build leaves no corpus behind."""

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

import _w2v_corpus as wc  # noqa: E402
from sinapsi.embeddings.vocab import tokenize  # noqa: E402

PAGE = """<html><head><title>Not this</title><style>p {{ x }}</style></head><body>
<div class="sidebar">Navigation and other chrome</div>
<div class="body" role="main">
<h1>{title}</h1>
<p>The kernel's   scheduler
runs tasks. It doesn't stop! Is it fast? Yes &amp; no: 42 cores.</p>
<pre>int main(void) {{ return 0; }}</pre>
<script>var skipped = 1;</script>
<div class="note"><p>A nested block, still main.</p></div>
<ul><li>one item here</li><li>x</li></ul>
</div>
<div class="footer">Copyright footer text</div>
</body></html>"""

EXPECTED = [
    "the kernel's scheduler runs tasks",
    "it doesn't stop",
    "is it fast",
    "yes no 42 cores",
    "a nested block still main",
    "one item here",
]


def fake_package(root: Path) -> Path:
    pages = {"b/zeta.html": "Beta page", "a.html": "Alpha page", "b/alpha.html": "Gamma page"}
    for rel, title in pages.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(PAGE.format(title=title))
    (root / "genindex-A.html").write_text(PAGE.format(title="index entries"))
    (root / "_static").mkdir()
    (root / "_static" / "x.html").write_text(PAGE.format(title="static page"))
    return root


def test_large_corpus_keeps_main_prose_of_pages_in_sorted_order(tmp_path):
    pkg = fake_package(tmp_path / "pkg")
    out = tmp_path / "data" / "large.txt"
    meta = wc.build_large(str(out), {"fake-doc": str(pkg)})
    lines = out.read_text().splitlines()
    # a.html, b/alpha.html, b/zeta.html; the index page and _static are not prose
    expected = []
    for title in ("alpha page", "gamma page", "beta page"):
        expected += [title, *EXPECTED]
    assert lines == expected
    assert meta["pages"] == {"fake-doc": 3} and meta["sentences"] == len(expected)
    assert meta["tokens"] == sum(len(line.split()) for line in lines) == 3 * 25
    assert wc.read_meta(str(out)) == meta
    # reproducible byte for byte; gensim's whitespace split and sinapsi's tokenizer agree
    first = out.read_bytes()
    wc.build_large(str(out), {"fake-doc": str(pkg)})
    assert out.read_bytes() == first
    assert all(tokenize(line) == line.split() for line in lines)


def test_missing_package_says_how_to_install(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(FileNotFoundError, match="make bench-word2vec-corpus"):
        wc.build_large(str(tmp_path / "large.txt"), {"absent-doc": str(tmp_path / "empty")})
    assert wc.read_meta(str(tmp_path / "large.txt")) is None


def test_short_corpus_recuts_the_same_words_into_short_lines(tmp_path):
    src = tmp_path / "long.cor"
    words = [f"w{i}" for i in range(500)]
    src.write_text(" ".join(words[:300]) + "\n\n" + " ".join(words[300:]) + "\n")
    out = tmp_path / "short.txt"
    meta = wc.build_short(str(src), str(out), seed=3)
    lines = [line.split() for line in out.read_text().splitlines()]
    assert [w for line in lines for w in line] == words  # same words, same order
    lo, hi = wc.SHORT_LENGTHS
    assert all(lo <= len(line) <= hi for line in lines[:-1]) and 1 <= len(lines[-1]) <= hi
    assert len({len(line) for line in lines}) > 5  # the lengths vary
    assert meta["tokens"] == 500 and meta["sentences"] == len(lines)
    first = out.read_bytes()
    wc.build_short(str(src), str(out), seed=3)
    assert out.read_bytes() == first


def test_interrupted_build_leaves_no_corpus(tmp_path):
    out = tmp_path / "corpus.txt"

    def lines():
        yield ["a", "b"]
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        wc._write(str(out), lines(), {"source": "test"})
    assert list(tmp_path.iterdir()) == [] and wc.read_meta(str(out)) is None
