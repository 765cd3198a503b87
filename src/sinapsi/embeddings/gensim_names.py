"""gensim's argument names for :func:`~sinapsi.embeddings.train_word2vec`, and its corpus files.

:func:`accepts_gensim_names` wraps ``train_word2vec`` so that gensim's ``Word2Vec`` names mean
what they mean in gensim (issue 19):

=================  ===========================================================================
gensim             train_word2vec
=================  ===========================================================================
``sentences``      ``corpus`` (sentences: token lists or strings)
``corpus_file``    ``corpus`` read as gensim's ``LineSentence``: one sentence a line, tokens
                   split on whitespace, kept as they are (:class:`LineSentences`); a path given
                   as ``corpus`` is tokenized by :func:`~sinapsi.embeddings.tokenize` instead
``vector_size``    ``dim``
``sg``             ``model``: 1 ``"skipgram"``, 0 ``"cbow"``
``alpha``          ``lr``
``min_alpha``      ``min_lr``: the learning rate at the end of the linear decay
``max_vocab_size``  ``max_vocab`` (see below)
``hs``             0 only: there is no hierarchical softmax, negative sampling only
=================  ===========================================================================

``window``, ``negative``, ``sample``, ``min_count``, ``epochs``, ``seed`` and ``workers`` are
the same names already. Giving a name and its alias with different values (``dim=50,
vector_size=100``) is a one-line ValueError; the same value twice is accepted.

Differences kept: ``max_vocab_size`` is, in gensim, a bound on the words counted while the
vocabulary is built (it prunes the rarest as it goes, to bound memory); here it keeps the
``max_vocab_size`` most frequent words of the final vocabulary, which the counting does not need.
gensim's default is CBOW (``sg=0``); ``train_word2vec``'s stays skip-gram whatever names are
used: pass ``sg=0`` for gensim's, or use :class:`~sinapsi.embeddings.Word2Vec`, whose defaults
are gensim's.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

__all__ = [
    "GENSIM_NAMES", "LineSentence", "LineSentences", "accepts_gensim_names", "resolve_gensim_names",
]  # fmt: skip

GENSIM_NAMES = {
    "sentences": "corpus",
    "corpus_file": "corpus",
    "vector_size": "dim",
    "sg": "model",
    "alpha": "lr",
    "min_alpha": "min_lr",
    "max_vocab_size": "max_vocab",
}
MAX_SENTENCE_LENGTH = 10_000  # gensim's LineSentence cuts longer lines into pieces this long


class LineSentences:
    """The sentences of a text file as gensim's ``LineSentence`` reads them: one a line,
    tokens split on whitespace, not lower-cased; lines longer than 10,000 tokens are cut
    into pieces. Re-iterable: each ``iter()`` reads the file again."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        if not isinstance(path, (str, os.PathLike)):
            raise TypeError(f"corpus_file must be a path (str or os.PathLike), got {path!r:.60}")
        self.path = Path(path)
        if not self.path.is_file():
            raise FileNotFoundError(
                f"corpus_file {str(self.path)!r} does not exist or is not a file; pass a text "
                "file with one sentence a line, tokens separated by spaces"
            )

    def __iter__(self) -> Iterator[list[str]]:
        with open(self.path, encoding="utf-8") as f:
            for line in f:
                tokens = line.split()
                for i in range(0, len(tokens), MAX_SENTENCE_LENGTH):
                    yield tokens[i : i + MAX_SENTENCE_LENGTH]

    def __repr__(self) -> str:
        return f"LineSentences({str(self.path)!r})"


LineSentence = LineSentences  # gensim's name (gensim.models.word2vec.LineSentence)


def _gensim_value(name: str, value: Any) -> Any:
    """The sinapsi value of gensim's argument ``name``."""
    if name == "sg":
        if isinstance(value, bool) or value not in (0, 1):
            raise ValueError(f"sg must be 1 (skip-gram) or 0 (CBOW), got {value!r}")
        return "skipgram" if value == 1 else "cbow"
    if name == "corpus_file":
        return LineSentences(value)
    return value


def resolve_gensim_names(given: dict[str, Any]) -> dict[str, Any]:
    """``given`` (keyword arguments) with gensim's names replaced by sinapsi's.

    ``hs`` must be 0 (dropped); a name given together with its alias must agree."""
    out = dict(given)
    if "hs" in out:
        hs = out.pop("hs")
        if isinstance(hs, bool) or hs != 0:
            raise ValueError(
                f"hs={hs!r} is not supported: sinapsi trains with negative sampling only, no "
                "hierarchical softmax; pass hs=0 (or leave it out) and negative=5"
            )
    if "sentences" in out and "corpus_file" in out:
        raise ValueError("give sentences or corpus_file, not both (gensim refuses both too)")
    for alias, name in GENSIM_NAMES.items():
        if alias not in out:
            continue
        value = _gensim_value(alias, out.pop(alias))
        if name in out and not _same(out[name], value):
            raise ValueError(
                f"{alias}={given[alias]!r} (gensim's name for {name}) and {name}={out[name]!r} "
                f"disagree; give one of them"
            )
        out[name] = value
    return out


def _same(a: Any, b: Any) -> bool:
    try:
        return bool(a is b or a == b)
    except (TypeError, ValueError):  # arrays and the like: not comparable as one truth value
        return False


F = TypeVar("F", bound=Callable[..., Any])


def accepts_gensim_names(train: F) -> F:
    """``train`` (taking ``corpus`` first) also accepting gensim's names; see the module."""

    @functools.wraps(train)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if len(args) > 1:
            raise TypeError(
                f"{train.__name__} takes the corpus as its one positional argument, got "
                f"{len(args)}; pass the others by name"
            )
        if args:
            if "corpus" in kwargs or "sentences" in kwargs or "corpus_file" in kwargs:
                raise TypeError(f"{train.__name__} got the corpus twice: positionally and by name")
            kwargs["corpus"] = args[0]
        kwargs = resolve_gensim_names(kwargs)
        if "corpus" not in kwargs:
            raise TypeError(f"{train.__name__} needs a corpus (gensim: sentences= or corpus_file=)")
        return train(**kwargs)

    return wrapper  # type: ignore[return-value]
