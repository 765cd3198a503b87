"""``Word2Vec``: gensim's word2vec class over sinapsi's training (issue 19).

The constructor, attributes and methods of ``gensim.models.Word2Vec`` that its tutorial uses:
``Word2Vec(sentences, vector_size=100, window=5, min_count=5, sg=0, ...)`` trains at once;
``wv`` (:class:`~sinapsi.embeddings.KeyedVectors`), ``syn1neg`` (the output vectors),
``corpus_count``, ``corpus_total_words``; :meth:`~Word2Vec.build_vocab` (``update=True`` adds
the new words of more sentences), :meth:`~Word2Vec.train` (continues from the tables as they
are), :meth:`~Word2Vec.save` / :meth:`~Word2Vec.load` (safetensors, no pickle: both tables and
the counts, all a continued training needs) and :meth:`~Word2Vec.get_latest_training_loss`.

As gensim: the default is CBOW (``sg=0``), ``workers=3``, ``seed=1``; the vocabulary is
ordered by decreasing count, ties in gensim 4.4's order (the word seen first comes last); a
``build_vocab(update=True)`` appends the new words (seen ``min_count`` times in the new
sentences) and adds the new counts to the old words'; ``max_vocab_size`` prunes the rarest
words while counting, as gensim's. Where it differs: negative sampling only (``hs=0``);
``workers > 1`` trains with sinapsi's Hogwild threads (vectors then differ run to run, as
gensim's do); the lr of a :meth:`train` decays from ``alpha`` to ``min_alpha`` over the words
of that call's corpus, ``epochs`` times (gensim: over ``total_examples`` or ``total_words``,
which are checked, as gensim requires one, but not otherwise used); the encoded corpus is
kept in memory while training (``train_word2vec`` spills a large one to disk); the loss is
always summed (``compute_loss`` is accepted).
"""

from __future__ import annotations

import json
import os
import warnings
from collections import defaultdict
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

from ..backend import new_rng
from . import safe_format
from .encoding import EncodedCorpus
from .gensim_names import resolve_gensim_names
from .vectors import KeyedVectors
from .vocab import Vocabulary, _check_vocabulary_limits, check_sample, read_corpus, tokenize
from .word2vec import _positive_int, _train

__all__ = ["Word2Vec"]

_FORMAT = "sinapsi.Word2Vec"
_PARAMS = (
    "vector_size", "alpha", "window", "min_count", "max_vocab_size", "sample", "seed",
    "workers", "min_alpha", "sg", "hs", "negative", "epochs", "compute_loss", "batch_size",
)  # fmt: skip
_STATE = ("corpus_count", "corpus_total_words", "running_training_loss")
# gensim's arguments of build_vocab / train that change nothing here, at these values
_HARMLESS = {
    "progress_per": None, "keep_raw_vocab": None, "queue_factor": None, "report_delay": None,
    "callbacks": (), "word_count": 0, "trim_rule": None, "start_alpha": None, "end_alpha": None,
}  # fmt: skip


def _check_ignored(method: str, ignored: dict[str, Any]) -> None:
    for name, value in ignored.items():
        if name not in _HARMLESS:
            raise TypeError(f"Word2Vec.{method} got an unexpected argument {name!r}")
        if _HARMLESS[name] is not None and value != _HARMLESS[name]:
            raise ValueError(f"Word2Vec.{method}: {name}={value!r} is not supported here")
        if name in ("trim_rule", "start_alpha", "end_alpha") and value is not None:
            raise ValueError(
                f"Word2Vec.{method}: {name} is not supported; set min_count, or the model's "
                "alpha and min_alpha"
            )


def _scan(sentences: Iterable[list[str]], max_vocab_size: int | None) -> tuple[dict, int, int]:
    """gensim's ``scan_vocab``: counts in first-seen order, the words and sentences read;
    past ``max_vocab_size`` distinct words, those seen fewer than 1, 2, 3... times are pruned."""
    counts: defaultdict[str, int] = defaultdict(int)
    total, sentence_count, min_reduce = 0, 0, 1
    for sentence in sentences:
        sentence_count += 1
        for word in sentence:
            counts[word] += 1
        total += len(sentence)
        if max_vocab_size is not None and len(counts) > max_vocab_size:
            for word in [w for w, c in counts.items() if c < min_reduce]:
                del counts[word]
            min_reduce += 1
    return counts, total, sentence_count


class Word2Vec:
    """gensim's ``Word2Vec`` (see the module): trains at once when given ``sentences`` or
    ``corpus_file``, else after :meth:`build_vocab` and :meth:`train`."""

    def __init__(
        self, sentences: Any = None, corpus_file: str | os.PathLike[str] | None = None,
        vector_size: int = 100, alpha: float = 0.025, window: int = 5, min_count: int = 5,
        max_vocab_size: int | None = None, sample: float = 1e-3, seed: int = 1, workers: int = 3,
        min_alpha: float = 1e-4, sg: int = 0, hs: int = 0, negative: int = 5, epochs: int = 5,
        compute_loss: bool = False, batch_size: int | None = None,
    ) -> None:  # fmt: skip
        resolve_gensim_names({"hs": hs, "sg": sg})  # hs=0 only; sg 0 or 1
        sizes = {"vector_size": vector_size, "window": window, "negative": negative}
        for name, value in {**sizes, "epochs": epochs, "workers": workers}.items():
            _positive_int(name, value)
        if batch_size is not None:
            _positive_int("batch_size", batch_size, " or None (chosen from the corpus)")
        _check_vocabulary_limits(min_count, None)
        if max_vocab_size is not None:
            _positive_int("max_vocab_size", max_vocab_size, " or None (no pruning)")
        for name, value in (("alpha", alpha), ("min_alpha", min_alpha)):
            number = isinstance(value, (int, float)) and not isinstance(value, bool)
            if not number or not 0 <= value < np.inf:
                raise ValueError(f"{name} must be a finite number >= 0, got {value!r}")
        if alpha <= 0:
            raise ValueError(f"alpha must be > 0, got {alpha!r} (gensim: 0.025)")
        self.vector_size, self.alpha, self.window = int(vector_size), float(alpha), int(window)
        self.min_count, self.max_vocab_size = int(min_count), max_vocab_size
        self.sample, self.seed, self.workers = check_sample(sample), seed, int(workers)
        self.min_alpha, self.sg, self.hs = float(min_alpha), int(sg), 0
        self.negative = int(negative)
        self.epochs, self.compute_loss, self.batch_size = int(epochs), compute_loss, batch_size
        self.corpus_count, self.corpus_total_words = 0, 0
        self.running_training_loss = 0.0
        self.wv = KeyedVectors([], np.zeros((0, self.vector_size), np.float32))
        self.syn1neg = np.zeros((0, self.vector_size), np.float32)
        self.counts = np.zeros(0, np.int64)  # by row of wv: what negative sampling draws from
        self._rng = new_rng(seed)
        if sentences is not None or corpus_file is not None:
            self.build_vocab(sentences, corpus_file=corpus_file)
            self.train(
                sentences, corpus_file=corpus_file, total_examples=self.corpus_count,
                epochs=self.epochs,
            )  # fmt: skip

    def __repr__(self) -> str:
        return (
            f"Word2Vec<vocab={len(self.wv)}, vector_size={self.vector_size}, "
            f"alpha={self.alpha}, sg={self.sg}>"
        )

    # ------------------------------------------------------------- vocabulary
    @staticmethod
    def _sentences(corpus_iterable: Any, corpus_file: Any) -> Iterator[list[str]]:
        """Every sentence, empty ones too (gensim counts them in ``corpus_count``): token
        lists as they are, strings tokenized; a path as ``corpus_iterable`` is tokenized too."""
        given = resolve_gensim_names(
            {k: v for k, v in (("sentences", corpus_iterable), ("corpus_file", corpus_file))
             if v is not None}  # fmt: skip
        )
        if "corpus" not in given:
            raise TypeError("give the sentences (corpus_iterable) or a corpus_file")
        corpus = read_corpus(given["corpus"])  # refuses one-shot iterators, checks paths
        if corpus.path is not None:
            yield from corpus
            return
        for i, item in enumerate(corpus.source):
            if isinstance(item, str):
                yield tokenize(item)
            elif isinstance(item, (list, tuple)) and all(isinstance(t, str) for t in item):
                yield list(item)
            else:
                raise TypeError(
                    f"sentence {i} is a {type(item).__name__} ({item!r:.60}); each sentence "
                    "must be a list of str tokens (or a str, tokenized)"
                )

    def build_vocab(
        self, corpus_iterable: Any = None, corpus_file: str | os.PathLike[str] | None = None,
        update: bool = False, **ignored: Any,
    ) -> None:  # fmt: skip
        """Count the words of the sentences (token lists, or strings: tokenized) and keep
        those seen ``min_count`` times. ``update=True``: add the new ones after the words
        there are (their vectors drawn, their output vectors zero), as gensim's."""
        _check_ignored("build_vocab", ignored)
        counts, total, n_sentences = _scan(
            self._sentences(corpus_iterable, corpus_file), self.max_vocab_size
        )
        kept = [(w, c) for w, c in counts.items() if c >= self.min_count]
        if update and not len(self.wv):
            raise RuntimeError("build_vocab(update=True) needs a vocabulary: build one first")
        rows = self.vector_size
        if not update:
            if not kept:
                raise ValueError(
                    f"min_count={self.min_count} leaves no words ({len(counts)} distinct); "
                    "lower min_count"
                )
            c = np.array([c for _, c in kept], dtype=np.int64)
            order = np.lexsort((-np.arange(len(kept)), -c))  # gensim 4.4's sort
            words = [kept[i][0] for i in order]
            self.counts = c[order]
            center = self._rng.uniform(-1.0 / rows, 1.0 / rows, (len(words), rows))
            self.wv = KeyedVectors(words, center.astype(np.float32))
            self.syn1neg = np.zeros((len(words), rows), np.float32)
        else:
            new = [(w, c) for w, c in kept if w not in self.wv]
            old = self.wv.index
            self.counts = self.counts.copy()
            for w, c in counts.items():
                if w in old:
                    self.counts[old[w]] += c
            draws = self._rng.uniform(-1.0 / rows, 1.0 / rows, (len(new), rows))
            self.wv = KeyedVectors(
                self.wv.words + [w for w, _ in new],
                np.concatenate([self.wv.vectors, draws.astype(np.float32)]),
            )
            self.syn1neg = np.concatenate([self.syn1neg, np.zeros((len(new), rows), np.float32)])
            self.counts = np.concatenate([self.counts, [c for _, c in new]]).astype(np.int64)
        self.corpus_count, self.corpus_total_words = n_sentences, total

    # --------------------------------------------------------------- training
    def train(
        self, corpus_iterable: Any = None, corpus_file: str | os.PathLike[str] | None = None,
        total_examples: int | None = None, total_words: int | None = None,
        epochs: int | None = None, compute_loss: bool | None = None, **ignored: Any,
    ) -> tuple[int, int]:  # fmt: skip
        """Train ``epochs`` passes over the sentences from the tables as they are (a first
        training or a continued one). As gensim, ``epochs`` and one of ``total_examples`` /
        ``total_words`` must be given. Returns ``(pairs trained, words in the corpus)``."""
        _check_ignored("train", ignored)
        if not len(self.wv):
            raise RuntimeError("train needs a vocabulary: call build_vocab(sentences) first")
        if epochs is None:
            raise ValueError("train needs an explicit epochs count (as gensim), e.g. model.epochs")
        epochs = _positive_int("epochs", epochs)
        if total_examples is None and total_words is None:
            raise ValueError(
                "train needs total_examples (sentences; model.corpus_count after build_vocab) "
                "or total_words, as gensim"
            )
        if compute_loss is not None:
            self.compute_loss = compute_loss
        vocab = Vocabulary(self.wv.words, self.counts)
        corpus = self._sentences(corpus_iterable, corpus_file)
        encoded = EncodedCorpus.from_ids([vocab.encode(s) for s in corpus])
        vocab.longest_sentence = int(np.diff(encoded.offsets).max(initial=0))
        tables = (self.wv.vectors, self.syn1neg)
        trained = _train(
            encoded, vocab, self._rng, model="skipgram" if self.sg else "cbow",
            dim=self.vector_size, window=self.window, negative=self.negative,
            min_count=self.min_count, sample=self.sample, epochs=epochs,
            batch_size=self.batch_size, lr=self.alpha, optimizer="sgd", verbose=0,
            share_negatives=1, workers=self.workers, min_lr=self.min_alpha, tables=tables,
            total_words=max(1, len(encoded.tokens) * epochs), allow_empty=True,
        )  # fmt: skip
        if not trained.pairs:
            warnings.warn(
                "no training pairs: every sentence had fewer than 2 words of the vocabulary "
                "after subsampling; the vectors are unchanged", UserWarning, stacklevel=2,
            )  # fmt: skip
        self.wv._normed = None  # the vectors changed in place
        self.running_training_loss = float(trained.loss)
        return trained.pairs, int(len(encoded.tokens))

    def get_latest_training_loss(self) -> float:
        """The summed negative-sampling loss of the last :meth:`train` (every pair's)."""
        return self.running_training_loss

    # ------------------------------------------------------------ save / load
    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the model as a safetensors file, atomically (no pickle): the vectors, the
        output vectors, the counts and the parameters; :meth:`load` reads it back."""
        params = {k: getattr(self, k) for k in _PARAMS + _STATE}
        params = {k: v.item() if isinstance(v, np.generic) else v for k, v in params.items()}
        if not isinstance(params["seed"], (int, type(None))):
            params["seed"] = None  # a Generator is not saved: the loaded model draws anew
        tables = {"vectors": self.wv.vectors, "context": self.syn1neg, "counts": self.counts}
        return safe_format.write_tables(path, _FORMAT, self.wv.words, tables, params)

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Word2Vec:
        """Read a model written by :meth:`save`; one-line ValueError for anything else.

        Its random draws restart from ``seed``: training it again does not repeat the draws
        the saved model would have made next."""
        required = {"vectors": ("float32", 2), "context": ("float32", 2), "counts": ("int64", 1)}
        words, tables, meta = safe_format.read_tables(path, _FORMAT, required)
        try:
            params = json.loads(meta.get("params", ""))
            if not isinstance(params, dict) or set(params) != set(_PARAMS + _STATE):
                raise ValueError("parameters missing or unknown")
            model = cls(**{k: params[k] for k in _PARAMS})
            vectors, context, counts = tables["vectors"], tables["context"], tables["counts"]
            if vectors.shape[1] != model.vector_size or context.shape != vectors.shape:
                raise ValueError(
                    f"tables of shapes {vectors.shape} and {context.shape} for "
                    f"vector_size={model.vector_size}"
                )
            model.wv = KeyedVectors(words, vectors)
            model.syn1neg = np.ascontiguousarray(context)
            model.counts = Vocabulary(words, counts).counts  # checks: positive integers
            for k in _STATE:
                kind = float if k == "running_training_loss" else int
                if isinstance(params[k], bool) or not isinstance(params[k], (int, kind)):
                    raise ValueError(f"{k} is {params[k]!r}")
                setattr(model, k, kind(params[k]))
        except (TypeError, ValueError, KeyError) as e:
            message = str(e).splitlines()[0] if str(e) else type(e).__name__
            raise ValueError(f"{path}: not a valid sinapsi Word2Vec file ({message})") from None
        return model
