"""Vocabulary for word embeddings: tokenizing, streaming a corpus, counts, ids and subsampling.

>>> vocab = Vocabulary.build([["the", "cat"], ["the", "dog"]], min_count=1)
>>> vocab.words
['the', 'cat', 'dog']
>>> vocab.encode(["the", "bird", "dog"]).tolist()
[0, 2]
"""

from __future__ import annotations

import os
import re
from collections import Counter
from collections.abc import Iterable, Iterator
from itertools import repeat
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["Corpus", "Vocabulary", "read_corpus", "tokenize"]

# a run of letters, digits and apostrophes (underscore is a "word" character in regex; not here)
# stripped of its apostrophes at both ends: from its first letter or digit to its last (the
# same words as stripping each run, in one C call)
_WORD = r"[^\W_](?:(?:[^\W_]|')*[^\W_])?"
_TOKEN = re.compile(_WORD)


def tokenize(line: str) -> list[str]:
    """Lower-case ``line`` and split it into words of letters, digits and apostrophes.

    Punctuation is dropped; apostrophes inside a word are kept, those around it are stripped.

    >>> tokenize("Don't PANIC: it's 42 -- 'really'!")
    ["don't", 'panic', "it's", '42', 'really']
    """
    if not isinstance(line, str):
        raise TypeError(f"tokenize expects a str, got {type(line).__name__}; decode bytes first")
    return _TOKEN.findall(line.lower())


class Corpus:
    """A re-iterable stream of sentences (lists of tokens); each ``iter()`` starts over.

    Built by :func:`read_corpus`. A file is read line by line, never whole, so several epochs
    can stream a corpus larger than memory.
    """

    def __init__(self, source: Any) -> None:
        if isinstance(source, (str, os.PathLike)):
            path = Path(source)
            if not path.is_file():
                raise FileNotFoundError(
                    f"corpus file {str(path)!r} does not exist or is not a file; pass a path to a "
                    "plain-text file with one sentence per line, or a list of sentences"
                )
            self.path: Path | None = path
            self.source: Any = None
        elif isinstance(source, Iterable):
            if iter(source) is source:
                raise TypeError(
                    f"read_corpus got a one-shot iterator ({type(source).__name__}), which would "
                    "be empty from the second epoch on; pass a list, a file path or an object "
                    "whose __iter__ starts over"
                )
            self.path = None
            self.source = source
        else:
            raise TypeError(
                "read_corpus expects a file path or an iterable of strings / token lists, "
                f"got {type(source).__name__}"
            )

    def __iter__(self) -> Iterator[list[str]]:
        if self.path is not None:
            with open(self.path, encoding="utf-8") as f:
                for line in f:
                    tokens = tokenize(line)
                    if tokens:
                        yield tokens
            return
        for i, item in enumerate(self.source):
            if isinstance(item, str):
                tokens = tokenize(item)
            elif isinstance(item, (list, tuple)) and _all_str(item):
                tokens = list(item)
            else:
                raise TypeError(
                    f"sentence {i} of the corpus is a {type(item).__name__} ({item!r:.60}); "
                    "each sentence must be a str or a list of str tokens"
                )
            if tokens:
                yield tokens

    def __repr__(self) -> str:
        what = repr(str(self.path)) if self.path is not None else type(self.source).__name__
        return f"Corpus({what})"


def _all_str(tokens: list[Any] | tuple[Any, ...]) -> bool:
    """Whether every token is a str (their types collected in C: 1.7x faster than ``all()``)."""
    types = set(map(type, tokens))
    return types <= {str} or all(issubclass(t, str) for t in types)


def read_corpus(source: Any) -> Corpus:
    """Stream sentences from a text file (one sentence per line) or an iterable.

    Strings (file lines or items) go through :func:`tokenize`; token lists are used as they
    are; empty sentences are skipped. The result can be iterated any number of times.

    >>> [s for s in read_corpus(["Hello, world!", ["already", "split"], "..."])]
    [['hello', 'world'], ['already', 'split']]
    """
    if isinstance(source, Corpus):
        return source
    return Corpus(source)


def _check_vocabulary_limits(min_count: Any, max_vocab: Any) -> None:
    """:meth:`Vocabulary.build`'s checks of ``min_count`` and ``max_vocab``."""
    if isinstance(min_count, bool) or not isinstance(min_count, (int, np.integer)):
        raise TypeError(f"min_count must be an int, got {min_count!r}")
    if min_count < 1:
        raise ValueError(f"min_count must be >= 1, got {min_count}")
    if max_vocab is not None and (
        isinstance(max_vocab, bool) or not isinstance(max_vocab, (int, np.integer)) or max_vocab < 1
    ):
        raise ValueError(f"max_vocab must be a positive int or None, got {max_vocab!r}")


def check_sample(sample: Any) -> float:
    """``sample`` as a float in [0, 1), or a one-line ValueError."""
    try:
        ok = not isinstance(sample, (bool, str)) and 0.0 <= float(sample) < 1.0
    except (TypeError, ValueError):
        ok = False
    if not ok:
        raise ValueError(
            "sample must be a float in [0, 1) (a typical value is 1e-3 to 1e-5; 0 keeps "
            f"every word), got {sample!r}"
        )
    return float(sample)


def _as_sentences(sentences: Any) -> Iterable[list[str]]:
    if isinstance(sentences, (str, os.PathLike)):
        return read_corpus(sentences)
    return sentences


class Vocabulary:
    """Words with their counts; ids ordered by decreasing count (ties alphabetical).

    Attributes: ``words`` (list of str, id -> word), ``counts`` (int64 array, by id),
    ``index`` (dict word -> id), ``longest_sentence`` (tokens, when made by :meth:`build`).

    A vocabulary made by :func:`~.encoding.encode_corpus` holds its words packed in one string
    until ``words`` or ``index`` is first asked for: ``train_word2vec`` needs neither while it
    trains (about 3.3 MB of strings and dict on the benchmark's 28k words).
    """

    _packed: tuple[str, np.ndarray] | None = None  # the words as one string, and their ends
    _words: list[str] | None = None
    _index: dict[str, int] | None = None

    def __init__(self, words: Iterable[str], counts: Iterable[int]) -> None:
        self._words = list(words)
        self.counts = np.asarray(list(counts) if not isinstance(counts, np.ndarray) else counts)
        if self.counts.ndim != 1 or len(self.words) != len(self.counts):
            raise ValueError(
                f"Vocabulary needs one count per word: got {len(self.words)} words and counts "
                f"of shape {self.counts.shape}"
            )
        if self.counts.size and (
            not np.issubdtype(self.counts.dtype, np.integer) or self.counts.min() < 1
        ):
            raise ValueError(
                f"Vocabulary counts must be positive integers, got {self.counts[:5]!r}..."
            )
        self.counts = self.counts.astype(np.int64)
        self._index = {w: i for i, w in enumerate(self.words)}
        if len(self._index) != len(self.words):
            dup = [w for w, c in Counter(self.words).items() if c > 1]
            raise ValueError(f"Vocabulary words must be unique; repeated: {dup[:5]!r}")
        self._keep_cache: tuple[float, np.ndarray] | None = None
        #: tokens in the longest sentence counted by :meth:`build` (None when not built)
        self.longest_sentence: int | None = None

    @classmethod
    def _from_packed(cls, text: str, ends: np.ndarray, counts: np.ndarray) -> Vocabulary:
        """Unique words given as one string (word ``i`` ends at ``ends[i]``) with their positive
        int64 ``counts``, unchecked (:func:`~.encoding.encode_corpus` made them so); the
        words become strings, and the index a dict, when first asked for."""
        vocab = cls.__new__(cls)
        vocab._packed = (text, ends)
        vocab.counts = counts
        vocab._keep_cache = None
        vocab.longest_sentence = None
        return vocab

    def _word_list(self) -> list[str]:
        """The words, without keeping the strings made when they are still packed."""
        if self._words is not None:
            return self._words
        assert self._packed is not None
        text, ends = self._packed
        bounds = ends.tolist()
        return [text[a:b] for a, b in zip([0, *bounds[:-1]], bounds)]

    @property
    def words(self) -> list[str]:
        """The words, by id."""
        if self._words is None:
            self._words = self._word_list()
            self._packed = None
        return self._words

    @property
    def index(self) -> dict[str, int]:
        """Word -> id."""
        if self._index is None:
            self._index = {w: i for i, w in enumerate(self.words)}
        return self._index

    @classmethod
    def build(cls, sentences: Any, min_count: int = 5, max_vocab: int | None = None) -> Vocabulary:
        """Count words in one streaming pass over ``sentences`` (token lists, or a file path).

        Keeps words seen at least ``min_count`` times, then the ``max_vocab`` most frequent
        (ties broken alphabetically, so the result does not depend on corpus order).
        """
        _check_vocabulary_limits(min_count, max_vocab)
        counter: Counter[str] = Counter()
        longest = 0
        for sentence in _as_sentences(sentences):
            if isinstance(sentence, str):
                raise TypeError(
                    f"Vocabulary.build expects sentences as token lists, got the str "
                    f"{sentence!r:.60}; wrap the source in read_corpus(...) to tokenize it"
                )
            counter.update(sentence)
            longest = max(longest, len(sentence))
        return cls._from_counts(
            list(counter), list(counter.values()), min_count, max_vocab, longest
        )

    @classmethod
    def _from_counts(
        cls, words: list[str], counts: Any, min_count: int, max_vocab: int | None, longest: int
    ) -> Vocabulary:
        """The vocabulary of distinct ``words`` seen ``counts`` times: :meth:`build`'s rule
        (``min_count``, then the ``max_vocab`` most frequent, ties alphabetical), shared with
        the one-pass encoder (:func:`~sinapsi.embeddings.encoding.encode_corpus`)."""
        if not words:
            raise ValueError("the corpus has no words; check the file or the sentences passed")
        counts = [int(c) for c in counts]
        kept = sorted(
            ((w, c) for w, c in zip(words, counts) if c >= min_count),
            key=lambda wc: (-wc[1], wc[0]),
        )
        if not kept:
            raise ValueError(
                f"min_count={min_count} leaves no words: the corpus has {len(words)} distinct "
                f"words and the highest count is {max(counts)}; lower min_count"
            )
        if max_vocab is not None:
            kept = kept[:max_vocab]
        vocab = cls([w for w, _ in kept], np.array([c for _, c in kept], dtype=np.int64))
        vocab.longest_sentence = longest
        return vocab

    def __len__(self) -> int:
        return len(self.counts)

    def __contains__(self, word: object) -> bool:
        return word in self.index

    def __repr__(self) -> str:
        return f"Vocabulary({len(self)} words, {int(self.counts.sum())} tokens)"

    def id(self, word: str) -> int:
        """The id of ``word``; KeyError naming it if it is not in the vocabulary."""
        try:
            return self.index[word]
        except KeyError:
            raise KeyError(f"{word!r} is not in the vocabulary ({len(self)} words)") from None

    def word(self, id: int) -> str:
        """The word with id ``id`` (0 <= id < len(self))."""
        if isinstance(id, bool) or not isinstance(id, (int, np.integer)) or not 0 <= id < len(self):
            raise IndexError(f"word id must be an int in [0, {len(self)}), got {id!r}")
        return self.words[id]

    def encode(self, sentence: Iterable[str]) -> np.ndarray:
        """Ids of the words of ``sentence`` as an int64 array; out-of-vocabulary words dropped."""
        if isinstance(sentence, str):
            raise TypeError("encode expects a list of tokens, got a str; use tokenize() first")
        # one C-level pass of dict.get (-1 for unknown words), then a mask
        ids = np.fromiter(map(self.index.get, sentence, repeat(-1)), dtype=np.int64)
        return ids[ids >= 0]

    def keep_probabilities(self, sample: float = 1e-3) -> np.ndarray:
        """Probability of keeping each word under word2vec's frequent-word subsampling.

        With ``f = count / total`` (total over the vocabulary's words), the keep probability is
        ``(sqrt(f / sample) + 1) * sample / f``, capped at 1. This is the formula of the original
        word2vec C code (word2vec.c, TrainModelThread:
        ``ran = (sqrt(cn / (sample * train_words)) + 1) * (sample * train_words) / cn``) and of
        gensim (``Word2Vec.prepare_vocab``, ``word_probability``). ``sample=0`` keeps everything.
        """
        sample = check_sample(sample)
        if self._keep_cache is not None and self._keep_cache[0] == sample:
            return self._keep_cache[1]
        if sample == 0.0:
            keep = np.ones(len(self), dtype=np.float64)
        else:
            threshold = sample * float(self.counts.sum())
            keep = (np.sqrt(self.counts / threshold) + 1.0) * (threshold / self.counts)
            keep = np.minimum(keep, 1.0)
        self._keep_cache = (sample, keep)
        return keep

    def subsample(
        self, ids: np.ndarray, rng: np.random.Generator, sample: float = 1e-3
    ) -> np.ndarray:
        """Drop each id at random with probability ``1 - keep_probabilities(sample)[id]``."""
        if not isinstance(rng, np.random.Generator):
            raise TypeError(
                f"rng must be a numpy Generator (sinapsi.backend.new_rng(seed)), got {rng!r}"
            )
        ids = np.asarray(ids, dtype=np.int64)
        if ids.size and (ids.min() < 0 or ids.max() >= len(self)):
            raise IndexError(f"word ids must be in [0, {len(self)}), got values outside")
        keep = self.keep_probabilities(sample)
        return ids[rng.random(ids.shape) < keep[ids]]

    def noise_distribution(self, power: float = 0.75) -> np.ndarray:
        """Negative-sampling distribution: counts ** power, normalized to sum to 1."""
        power = float(power)
        if not np.isfinite(power):
            raise ValueError(f"power must be a finite float (word2vec uses 0.75), got {power}")
        weights = self.counts.astype(np.float64) ** power
        return weights / weights.sum()
