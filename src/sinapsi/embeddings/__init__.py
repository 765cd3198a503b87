"""Word embeddings: corpus streaming and vocabulary, word2vec training (skip-gram and CBOW with
negative sampling, sparse row updates), word vectors, analogies and evaluation."""

from .vectors import KeyedVectors
from .vocab import Corpus, Vocabulary, read_corpus, tokenize
from .word2vec import CBOW, NegativeSampler, SkipGram, cbow_windows, train_word2vec, window_pairs

__all__ = [
    "Corpus", "KeyedVectors", "Vocabulary", "read_corpus", "tokenize",
    "CBOW", "NegativeSampler", "SkipGram", "cbow_windows", "train_word2vec", "window_pairs",
]  # fmt: skip
