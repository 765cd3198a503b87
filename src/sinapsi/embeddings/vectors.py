"""Word vectors: lookup, cosine similarity, analogies, evaluation and word2vec-format files.

Files are compatible with gensim's ``KeyedVectors.save_word2vec_format`` /
``load_word2vec_format`` (text and binary). :meth:`KeyedVectors.save` / :meth:`~KeyedVectors.load`
write and read a safetensors file instead of gensim's pickle (:mod:`.safe_format`). gensim's
attribute names are there too: ``key_to_index``, ``index_to_key``, ``vector_size``,
``get_vector``, ``get_index``, ``has_index_for``, ``evaluate_word_analogies``.

>>> kv = KeyedVectors(["a", "b", "c"], [[1.0, 0.0], [0.8, 0.6], [0.0, 1.0]])
>>> round(kv.similarity("a", "b"), 3)
0.8
>>> kv.most_similar(positive=["a"], topn=1)[0][0]
'b'
"""

from __future__ import annotations

import difflib
import os
import stat
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

from .._errors import unknown_choice
from ..io import atomic_write
from . import evaluation, safe_format

__all__ = ["KeyedVectors"]

_FORMAT = "sinapsi.KeyedVectors"


def _as_list(words: Any, name: str) -> list[str]:
    if words is None:
        return []
    if isinstance(words, str):
        return [words]
    words = list(words)
    for w in words:
        if not isinstance(w, str):
            raise TypeError(f"{name} must be a word or a list of words (str), got {w!r}")
    return words


class KeyedVectors:
    """One float32 vector per word: ``kv["king"]`` is a row of ``kv.vectors`` (shape (n, dim))."""

    def __init__(self, words: Iterable[str], vectors: Any) -> None:
        self.words = list(words)
        vectors = np.asarray(vectors)
        if vectors.ndim != 2:
            raise ValueError(
                f"vectors must be a 2-D array (one row per word), got shape {vectors.shape}"
            )
        if vectors.shape[0] != len(self.words):
            raise ValueError(
                f"got {len(self.words)} words but {vectors.shape[0]} vectors; pass one row per word"
            )
        if not np.issubdtype(vectors.dtype, np.number) or np.issubdtype(
            vectors.dtype, np.complexfloating
        ):
            raise TypeError(f"vectors must be real numbers, got dtype {vectors.dtype}")
        for w in self.words:
            if not isinstance(w, str) or not w:
                raise TypeError(f"every word must be a non-empty str, got {w!r}")
        with np.errstate(over="ignore"):  # float64 beyond float32's range: inf, refused below
            self.vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        bad = _first_non_finite(self.vectors)
        if bad is not None:
            row, value = bad
            beyond = np.isfinite(vectors[row]).all() if vectors.dtype != np.float32 else False
            raise ValueError(
                f"vectors must be finite numbers, but row {row} ({self.words[row]!r}) holds "
                f"{value}"
                + (" (beyond float32's range, +-3.4e38)" if beyond else "")
                + "; drop or fix that word's vector"
            )
        self.index = {w: i for i, w in enumerate(self.words)}
        if len(self.index) != len(self.words):
            dup = [w for w, c in Counter(self.words).items() if c > 1]
            raise ValueError(f"words must be unique; repeated: {dup[:5]!r}")
        self._normed: np.ndarray | None = None

    # ------------------------------------------------------------------ lookup
    @property
    def dim(self) -> int:
        return self.vectors.shape[1]

    def __len__(self) -> int:
        return len(self.words)

    def __contains__(self, word: object) -> bool:
        return word in self.index

    def __repr__(self) -> str:
        return f"KeyedVectors({len(self)} words, dim={self.dim})"

    def _id(self, word: str) -> int:
        try:
            return self.index[word]
        except (KeyError, TypeError):
            pass
        message = f"{word!r} is not in the vocabulary"
        if isinstance(word, str):
            close = difflib.get_close_matches(word, self.words, n=5)
            if close:
                message += "; did you mean: " + ", ".join(repr(c) for c in close) + "?"
        raise KeyError(message)

    def __getitem__(self, word: str) -> np.ndarray:
        return self.vectors[self._id(word)]

    # ------------------------------------------------------- gensim's names
    @property
    def key_to_index(self) -> dict[str, int]:
        """gensim's name for :attr:`index` (word -> row)."""
        return self.index

    @property
    def index_to_key(self) -> list[str]:
        """gensim's name for :attr:`words` (row -> word)."""
        return self.words

    @property
    def vector_size(self) -> int:
        """gensim's name for :attr:`dim`."""
        return self.dim

    def get_index(self, key: str, default: int | None = None) -> int:
        """The row of ``key``; ``default`` when it is not a word here and a default is given."""
        if default is not None and key not in self.index:
            return default
        return self._id(key)

    def has_index_for(self, key: str) -> bool:
        """Whether ``key`` is a word here (gensim's name for ``key in kv``)."""
        return key in self

    def get_vector(self, key: str, norm: bool = False) -> np.ndarray:
        """The vector of ``key`` (a view; unit length when ``norm``), as gensim's."""
        return (self.normed if norm else self.vectors)[self._id(key)]

    @property
    def normed(self) -> np.ndarray:
        """Rows scaled to unit L2 norm (zero rows stay zero), computed once."""
        if self._normed is None:
            norms = np.linalg.norm(self.vectors, axis=1, keepdims=True)
            self._normed = self.vectors / np.where(norms > 0, norms, 1).astype(np.float32)
        return self._normed

    def similarity(self, a: str, b: str) -> float:
        """Cosine similarity of the vectors of ``a`` and ``b``."""
        n = self.normed
        return float(n[self._id(a)] @ n[self._id(b)])

    # ---------------------------------------------------------------- queries
    def _top(
        self, scores: np.ndarray, exclude: Iterable[int], topn: int
    ) -> list[tuple[str, float]]:
        if isinstance(topn, bool) or not isinstance(topn, (int, np.integer)) or topn < 1:
            raise ValueError(f"topn must be a positive int, got {topn!r}")
        scores = scores.copy()
        exclude = list(exclude)
        scores[exclude] = -np.inf
        k = min(topn, len(self) - len(set(exclude)))
        if k <= 0:
            return []
        best = np.argpartition(-scores, k - 1)[:k] if k < len(scores) else np.arange(len(scores))
        best = best[np.argsort(-scores[best], kind="stable")][:k]
        return [(self.words[i], float(scores[i])) for i in best]

    def most_similar(
        self, positive: Any = (), negative: Any = (), topn: int = 10
    ) -> list[tuple[str, float]]:
        """Words closest by cosine to the mean of unit ``positive`` minus unit ``negative`` vectors.

        3CosAdd, as gensim's ``most_similar``: the query words are excluded from the result.
        """
        pos, neg = _as_list(positive, "positive"), _as_list(negative, "negative")
        if not pos and not neg:
            raise ValueError("most_similar needs at least one word in positive or negative")
        ids = [self._id(w) for w in pos + neg]
        n = self.normed
        mean = n[ids[: len(pos)]].sum(axis=0) - n[ids[len(pos) :]].sum(axis=0)
        norm = np.linalg.norm(mean)
        if norm > 0:
            mean = mean / norm
        return self._top(n @ mean.astype(np.float32), ids, topn)

    def most_similar_cosmul(
        self, positive: Any = (), negative: Any = (), topn: int = 10, eps: float = 1e-3
    ) -> list[tuple[str, float]]:
        """3CosMul of Levy & Goldberg (2014), eq. 4: prod of positive / (prod of negative + eps).

        Cosines are shifted to [0, 1] as ``(1 + cos) / 2`` (their footnote 7). ``eps`` is 1e-3 as
        in the paper; gensim's ``most_similar_cosmul`` uses 1e-6 (pass ``eps=1e-6`` to match it).
        """
        pos, neg = _as_list(positive, "positive"), _as_list(negative, "negative")
        if not pos:
            raise ValueError("most_similar_cosmul needs at least one word in positive")
        ids = [self._id(w) for w in pos + neg]
        n = self.normed
        shifted = (1.0 + n @ n[ids].T) / 2.0  # (len(self), len(ids))
        scores = shifted[:, : len(pos)].prod(axis=1) / (shifted[:, len(pos) :].prod(axis=1) + eps)
        return self._top(scores, ids, topn)

    def analogy(
        self, a: str, b: str, c: str, method: str = "3cosadd", topn: int = 1
    ) -> list[tuple[str, float]]:
        """``a : b :: c : ?`` -- e.g. man : king :: woman : queen, i.e. ``b - a + c``.

        Returns a list of ``topn`` (word, score) pairs, best first; ``method`` is "3cosadd"
        (:meth:`most_similar`) or "3cosmul" (:meth:`most_similar_cosmul`).
        """
        if method == "3cosadd":
            return self.most_similar(positive=[b, c], negative=[a], topn=topn)
        if method == "3cosmul":
            return self.most_similar_cosmul(positive=[b, c], negative=[a], topn=topn)
        raise unknown_choice("method", "KeyedVectors.analogy", ("3cosadd", "3cosmul"), method)

    def doesnt_match(self, words: Sequence[str]) -> str:
        """The word least similar to the mean of the unit vectors of ``words`` (as gensim)."""
        words = _as_list(words, "words")
        if len(words) < 2:
            raise ValueError(f"doesnt_match needs at least 2 words, got {words!r}")
        n = self.normed[[self._id(w) for w in words]]
        mean = n.mean(axis=0)
        norm = np.linalg.norm(mean)
        if norm > 0:
            mean = mean / norm
        return words[int(np.argmin(n @ mean))]

    # ------------------------------------------------------------- evaluation
    def evaluate_analogies(self, path: str | os.PathLike[str], method: str = "3cosadd") -> dict:
        """Accuracy on a Google ``questions-words.txt`` file (": section" headers, 4 words a line).

        Case-insensitive. Questions with an out-of-vocabulary word are skipped and counted.
        Returns ``{"accuracy", "correct", "total", "skipped_oov", "sections"}`` where
        ``sections`` maps each name to ``{"accuracy", "correct", "total", "skipped_oov"}``;
        accuracy is nan when no question was answerable.
        """
        return evaluation.evaluate_analogies(self, path, method)

    def evaluate_word_pairs(self, path: str | os.PathLike[str]) -> dict:
        """Spearman (and Pearson) correlation with human scores in a wordsim353-style file.

        Each line is ``word1, word2, score`` separated by tabs or commas; lines starting with
        '#' and a header row (first row whose score is not a number) are skipped. Pairs with an
        out-of-vocabulary word (case-insensitive) are skipped and counted. Returns
        ``{"spearman", "spearman_pvalue", "pearson", "pairs", "skipped_oov"}``.
        """
        return evaluation.evaluate_word_pairs(self, path)

    def evaluate_word_analogies(
        self, analogies: str | os.PathLike[str]
    ) -> tuple[float, list[dict[str, Any]]]:
        """gensim's form of :meth:`evaluate_analogies` (3CosAdd): ``(accuracy, sections)``,
        each section ``{"section", "correct", "total", "skipped_oov"}`` then a "Total
        accuracy" one; gensim lists the questions where this counts them."""
        result = self.evaluate_analogies(analogies)
        sections = [
            {"section": name, **{k: s[k] for k in ("correct", "total", "skipped_oov")}}
            for name, s in result["sections"].items()
        ]
        sections.append(
            {"section": "Total accuracy"}
            | {k: result[k] for k in ("correct", "total", "skipped_oov")}
        )
        return result["accuracy"], sections

    # ------------------------------------------------------------- save / load
    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the words and vectors as a safetensors file, atomically; returns the path.

        No pickle (gensim's ``save`` pickles): :mod:`.safe_format` describes the file; read it
        back with :meth:`load`.
        """
        return safe_format.write_tables(path, _FORMAT, self.words, {"vectors": self.vectors})

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> KeyedVectors:
        """Read a file written by :meth:`save`; a one-line ValueError for anything else (a
        pickle, a truncated or altered file, a header promising more than the file holds)."""
        words, tables, _ = safe_format.read_tables(path, _FORMAT, {"vectors": ("float32", 2)})
        try:
            return cls(words, tables["vectors"])
        except (TypeError, ValueError) as e:
            raise ValueError(f"{path}: {e}") from None

    def save_word2vec_format(self, path: str | os.PathLike[str], binary: bool = False) -> Path:
        """Write the word2vec format gensim reads, atomically; returns the path.

        Text: a header ``"n dim"`` then ``word v1 v2 ...`` per line. Binary: the same header,
        then per word ``word`` + a space + ``dim`` little-endian float32 values (as gensim).
        """
        for w in self.words:
            if any(ch.isspace() for ch in w):
                raise ValueError(
                    f"the word {w!r} contains whitespace and cannot be stored in word2vec format"
                )
        vectors = self.vectors.astype("<f4", copy=False)

        def write(f: BinaryIO) -> None:
            f.write(f"{len(self)} {self.dim}\n".encode())
            for word, row in zip(self.words, vectors):
                if binary:
                    f.write(word.encode() + b" " + row.tobytes())
                else:
                    f.write(f"{word} {' '.join(str(v) for v in row)}\n".encode())

        return atomic_write(path, write)

    @classmethod
    def load_word2vec_format(
        cls, path: str | os.PathLike[str], binary: bool = False
    ) -> KeyedVectors:
        """Read a word2vec-format file (text or binary), e.g. written by gensim or word2vec.c."""
        with open(path, "rb") as f:
            header = f.readline()
            try:
                n, dim = (int(x) for x in header.decode("utf-8").split())
                if n < 0 or dim < 1:
                    raise ValueError
            except ValueError:
                if header.startswith(b"\x80"):  # pickle's protocol opcode: gensim's .save()
                    raise ValueError(
                        f"{path} is a Python pickle (gensim's model.save() or "
                        "KeyedVectors.save()), not a word2vec-format file, and pickles are not "
                        "loaded (they can run code). Export it from gensim with "
                        "model.wv.save_word2vec_format(path), binary=True for the binary format"
                    ) from None
                raise ValueError(
                    f"{path}, line 1: expected a header 'count dimension' (two integers, e.g. "
                    f"'3000000 300'), found {header[:40]!r}; is this a word2vec-format file?"
                ) from None
            with np.errstate(over="ignore"):  # a text value beyond float32's range: inf
                if binary:
                    words, vectors = _read_binary(f, n, dim, path)
                else:
                    words, vectors = _read_text(f, n, dim, path)
        bad = _first_non_finite(vectors)
        if bad is not None:
            row, value = bad
            where = f"entry {row + 1}" if binary else f"line {row + 2}"
            note = "" if binary else " (as float32, whose range ends at +-3.4e38)"
            raise ValueError(
                f"{path}, {where}: the vector of {words[row]!r} holds {value}{note}; word "
                "vectors must be finite numbers: fix or drop that word"
            )
        for lineno, w in enumerate(words, 2):
            if not w:
                raise ValueError(f"{path}, line {lineno}: empty word")
        try:
            return cls(words, vectors)
        except ValueError as e:
            raise ValueError(f"{path}: {e}") from None


def _first_non_finite(vectors: np.ndarray) -> tuple[int, float] | None:
    """``(row, value)`` of the first NaN or infinite value of ``vectors``, or None.

    One float64 sum first (NaN and inf carry through it; float32 values cannot overflow it):
    no boolean copy of a table of millions of vectors when, as usual, all are finite."""
    if np.isfinite(vectors.sum(dtype=np.float64)):
        return None
    for start in range(0, len(vectors), 1 << 16):
        bad = np.argwhere(~np.isfinite(vectors[start : start + (1 << 16)]))
        if bad.size:
            row, col = int(bad[0, 0]) + start, int(bad[0, 1])
            return row, float(vectors[row, col])
    return None  # pragma: no cover - the sum was not finite, so some value is not


def _rows_to_allocate(f: BinaryIO, n: int, dim: int, binary: bool) -> int:
    """How many of the ``n`` rows the header declares to allocate up front: no more than the
    rest of the file can hold, so that a header declaring 10^10 words (or a dimension of
    10^11) is told as a truncated file, not a 12 TB allocation. Each entry takes at least a
    1-byte word and a space, then ``dim`` float32s (binary) or ``dim`` one-character values
    with their spaces (text). A pipe has no size: 65536 rows, grown as read (``_grow``)."""
    try:
        st = os.fstat(f.fileno())
    except (OSError, AttributeError, ValueError):
        st = None
    if st is None or not stat.S_ISREG(st.st_mode):
        return min(n, 1 << 16)
    per_entry = 2 + 4 * dim if binary else 1 + 2 * dim
    return min(n, max(0, st.st_size - f.tell()) // per_entry)


def _grow(vectors: np.ndarray, n: int) -> np.ndarray:
    """``vectors`` with room for at least one more row (at most ``n`` in all)."""
    bigger = np.empty((min(n, max(1, 2 * len(vectors))), vectors.shape[1]), dtype=vectors.dtype)
    bigger[: len(vectors)] = vectors
    return bigger


def _read_text(f: BinaryIO, n: int, dim: int, path: Any) -> tuple[list[str], np.ndarray]:
    words: list[str] = []
    vectors = np.empty((_rows_to_allocate(f, n, dim, binary=False), dim), dtype=np.float32)
    for i in range(n):
        lineno = i + 2
        raw = f.readline()
        if not raw:
            raise ValueError(
                f"{path}: the header says {n} vectors but the file ends after {i} (line {lineno})"
            )
        try:
            line = raw.decode("utf-8").rstrip()
        except UnicodeDecodeError as e:
            raise ValueError(f"{path}, line {lineno}: not valid UTF-8 ({e})") from None
        parts = line.split(" ")
        if len(parts) != dim + 1:
            raise ValueError(
                f"{path}, line {lineno}: expected {dim} values after the word, found "
                f"{len(parts) - 1}"
            )
        words.append(parts[0])
        if i == len(vectors):
            vectors = _grow(vectors, n)
        try:
            vectors[i] = [float(x) for x in parts[1:]]
        except ValueError:
            bad = next(x for x in parts[1:] if not _is_float(x))
            raise ValueError(
                f"{path}, line {lineno}: value {bad!r} for word {parts[0]!r} is not a number"
            ) from None
    rest = f.readline()
    while rest and not rest.strip():
        rest = f.readline()
    if rest:
        raise ValueError(
            f"{path}, line {n + 2}: the header says {n} vectors but the file has more lines"
        )
    return words, vectors


def _is_float(x: str) -> bool:
    try:
        float(x)
    except ValueError:
        return False
    return True


def _read_up_to(f: BinaryIO, nbytes: int, chunk: int = 1 << 24) -> bytes:
    """``f.read(nbytes)`` in chunks of 16 MB: ``read`` allocates its whole size first, so a
    header declaring a dimension of 10^11 would ask for 400 GB before finding the file short."""
    if nbytes <= chunk:
        return f.read(nbytes)
    parts = []
    while nbytes > 0:
        part = f.read(min(chunk, nbytes))
        if not part:
            break
        parts.append(part)
        nbytes -= len(part)
    return b"".join(parts)


_TEXT_NUMBER_BYTES = b"0123456789.-+eE \t\r\n"
"""What a text-format vector is made of: 4 * dim float32 bytes all among these is a text file
(checked for dim >= 2: a chance of about 1e-9 for real binary vectors)."""


def _read_binary(f: BinaryIO, n: int, dim: int, path: Any) -> tuple[list[str], np.ndarray]:
    words: list[str] = []
    vectors = np.empty((_rows_to_allocate(f, n, dim, binary=True), dim), dtype=np.float32)
    nbytes = dim * 4
    reader = f  # a buffered file: read(1) does not hit the OS each time
    for i in range(n):
        entry = i + 1
        chars = bytearray()
        while True:
            ch = reader.read(1)
            if not ch:
                raise ValueError(
                    f"{path}: the header says {n} vectors but the file ends in entry {entry} "
                    f"({len(words)} complete vectors read)"
                )
            if ch == b" ":
                break
            if ch == b"\n" and not chars:
                continue  # word2vec.c writes a newline after each vector; gensim does not
            chars += ch
        try:
            word = chars.decode("utf-8")
        except UnicodeDecodeError as e:
            raise ValueError(f"{path}, entry {entry}: the word is not valid UTF-8 ({e})") from None
        data = _read_up_to(reader, nbytes)
        if i == 0 and len(data) >= 8 and not data.strip(_TEXT_NUMBER_BYTES):
            raise ValueError(
                f"{path}, entry 1 (word {word!r}): the bytes after the word are text "
                f"({data[:24].decode('ascii')!r}...), not float32 values: a text-format file? "
                "Read it as text (binary=False; sinapsi analogy without --binary)"
            )
        if len(data) != nbytes:
            raise ValueError(
                f"{path}, entry {entry} (word {word!r}): truncated file, expected {nbytes} bytes "
                f"({dim} float32 values) after the word, found {len(data)}"
            )
        words.append(word)
        if i == len(vectors):
            vectors = _grow(vectors, n)
        vectors[i] = np.frombuffer(data, dtype="<f4")
    rest = reader.read()
    if rest.strip():
        raise ValueError(
            f"{path}: the header says {n} vectors but {len(rest)} more bytes follow the last one"
        )
    return words, vectors
