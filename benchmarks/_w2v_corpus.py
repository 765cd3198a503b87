"""The word2vec benchmark's corpora, written once as plain-text files (one sentence a line).

Every corpus file holds lower-case tokens of ASCII letters and digits (apostrophes inside a
word kept) separated by single spaces, so that gensim's ``LineSentence`` (whitespace split) and
sinapsi's tokenizer read the same words from it. The shapes:

* ``lee`` and ``head500``: gensim's test corpora, line for line (head500: few, long lines);
* ``short``: head500's words in the same order, re-cut into lines of 10 to 25 words (lengths
  drawn from a seeded generator): the same text as head500 in another shape;
* ``large``: the English prose of two Debian documentation packages (:data:`PACKAGES`, HTML
  made by Sphinx; about 5.5 M words, 11 words a line on average): the text of each page's main
  part (the ``role="main"`` block) without code blocks, scripts and styles, the packages in
  that order and each one's pages in sorted path order, cut into sentences at ``. ! ?`` and
  block ends.

Files are written to a temporary name and renamed, so an interrupted build never leaves a
corpus that a later run reuses. Only the standard library is imported.
"""

from __future__ import annotations

import json
import os
import random
import re
import shutil
import subprocess
from collections.abc import Iterable, Iterator
from html.parser import HTMLParser

# Debian documentation packages (Sphinx HTML) and their pages' folder, in the corpus's order:
# the Linux kernel's documentation (~4.3 M words of prose) then Python 3.11's (~1.2 M)
PACKAGES = {
    "linux-doc-6.1": "/usr/share/doc/linux-doc-6.1/html",
    "python3.11-doc": "/usr/share/doc/python3.11/html",
}
SKIP_PAGES = ("genindex", "py-modindex", "search", "_")  # generated indexes, not prose
SHORT_LENGTHS = (10, 25)  # the short corpus's line lengths, inclusive
SHORT_SEED = 0
_TOKEN = re.compile(r"[a-z0-9]+(?:'[a-z0-9]+)*")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")
_BLOCK = set(
    "p div li dt dd h1 h2 h3 h4 h5 h6 tr td th table section blockquote br ul ol dl caption "
    "figcaption".split()
)
_SKIP = {"pre", "script", "style"}
_BREAK = "\x00"  # a block boundary in the collected text (the page's own newlines are spaces)


def tokens(text: str) -> list[str]:
    """Lower-case words of ASCII letters and digits (inner apostrophes kept)."""
    return _TOKEN.findall(text.lower())


class _MainText(HTMLParser):
    """Collects the text inside ``<div role="main">``, without ``pre``/``script``/``style``;
    a block-level tag ends a paragraph (a newline)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.main_depth = 0  # open divs since (and including) the main one; 0: outside
        self.skip_depth = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self.main_depth:
            if tag == "div":
                self.main_depth += 1
            if tag in _SKIP:
                self.skip_depth += 1
            if tag in _BLOCK:
                self.parts.append(_BREAK)
        elif tag == "div" and ("role", "main") in attrs:
            self.main_depth = 1

    def handle_endtag(self, tag: str) -> None:
        if not self.main_depth:
            return
        if tag in _SKIP and self.skip_depth:
            self.skip_depth -= 1
        if tag in _BLOCK:
            self.parts.append(_BREAK)
        if tag == "div":
            self.main_depth -= 1

    def handle_data(self, data: str) -> None:
        if self.main_depth and not self.skip_depth:
            self.parts.append(" ".join(data.split()) if data.strip() else " ")


def html_sentences(html: str) -> Iterator[list[str]]:
    """The token lists of the sentences of one page's main text (at least 2 words each)."""
    parser = _MainText()
    parser.feed(html)
    parser.close()
    for block in "".join(parser.parts).split(_BREAK):
        for sentence in _SENTENCE_END.split(block):
            words = tokens(sentence)
            if len(words) >= 2:
                yield words


def html_files(root: str) -> list[str]:
    """The package's HTML pages, sorted by path relative to ``root`` (a fixed order)."""
    found = []
    for folder, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if not d.startswith("_")]
        for name in files:
            if name.endswith(".html") and not name.startswith(SKIP_PAGES):
                found.append(os.path.relpath(os.path.join(folder, name), root))
    return sorted(found)


def _write(path: str, lines: Iterable[list[str]], meta: dict) -> dict:
    """Write ``lines`` (token lists) to ``path`` through a temporary file, and ``path.json``
    with ``meta`` plus the counts; returns that metadata."""
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    tmp = f"{path}.{os.getpid()}.tmp"
    n_lines = n_tokens = 0
    try:
        with open(tmp, "w", encoding="ascii") as f:
            for words in lines:
                f.write(" ".join(words) + "\n")
                n_lines += 1
                n_tokens += len(words)
        meta = {**meta, "sentences": n_lines, "tokens": n_tokens}
        with open(tmp + ".json", "w") as f:
            json.dump(meta, f, indent=2)
        os.replace(tmp + ".json", path + ".json")  # metadata first: the corpus marks completion
        os.replace(tmp, path)
    finally:
        for leftover in (tmp, tmp + ".json"):
            if os.path.exists(leftover):
                os.remove(leftover)
    return meta


def read_meta(path: str) -> dict | None:
    """The metadata of a finished corpus file, or None when it is missing."""
    if not (os.path.exists(path) and os.path.exists(path + ".json")):
        return None
    with open(path + ".json") as f:
        return json.load(f)


def build_large(path: str, packages: dict[str, str] | None = None) -> dict:
    """Write the corpus of the HTML pages of ``packages`` (name -> folder; default
    :data:`PACKAGES`) to ``path``; returns its metadata (sources, pages, sentences, tokens)."""
    packages = PACKAGES if packages is None else packages
    pages = {name: html_files(root) for name, root in packages.items()}
    missing = [name for name, found in pages.items() if not found]
    if missing:
        raise FileNotFoundError(
            f"no HTML pages of {', '.join(missing)}; install the documentation first: "
            "make bench-word2vec-corpus (or python benchmarks/word2vec.py --setup)"
        )

    def lines() -> Iterator[list[str]]:
        for name, root in packages.items():
            for rel in pages[name]:
                with open(os.path.join(root, rel), encoding="utf-8", errors="replace") as f:
                    yield from html_sentences(f.read())

    meta = {"source": dict(packages), "pages": {n: len(p) for n, p in pages.items()}}
    return _write(path, lines(), meta)


def file_lines(src: str) -> Iterator[list[str]]:
    """The token lists of a text file's lines (empty lines dropped)."""
    with open(src, encoding="utf-8", errors="replace") as f:
        for line in f:
            words = tokens(line)
            if words:
                yield words


def build_copy(src: str, path: str) -> dict:
    """``src`` line for line, tokenized (gensim's lee and head500)."""
    return _write(path, file_lines(src), {"source": src})


def build_short(src: str, path: str, seed: int = SHORT_SEED) -> dict:
    """``src``'s words in order, re-cut into lines of :data:`SHORT_LENGTHS` words."""
    rng = random.Random(seed)  # a seeded generator of its own: the cut is reproducible
    lo, hi = SHORT_LENGTHS

    def lines() -> Iterator[list[str]]:
        buf: list[str] = []
        want = rng.randint(lo, hi)
        for words in file_lines(src):
            buf.extend(words)
            while len(buf) >= want:
                yield buf[:want]
                buf = buf[want:]
                want = rng.randint(lo, hi)
        if buf:
            yield buf

    return _write(path, lines(), {"source": src, "line_lengths": [lo, hi], "seed": seed})


def install_packages(packages: Iterable[str] = tuple(PACKAGES)) -> None:
    """``apt-get install -y`` the packages (through sudo when not root); one-line error if it
    fails."""
    cmd = ["apt-get", "install", "-y", "-q", *packages]
    if os.geteuid() != 0:
        if shutil.which("sudo") is None:
            raise RuntimeError(f"installing {' '.join(cmd[4:])} needs root: run as root or sudo")
        cmd = ["sudo", *cmd]
    print("running:", " ".join(cmd), flush=True)
    if subprocess.run(cmd).returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed; run apt-get update and try again")
