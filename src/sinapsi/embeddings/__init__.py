"""Word embeddings: vocabulary and corpus streaming, word vectors, analogies and evaluation."""

from .vectors import KeyedVectors
from .vocab import Corpus, Vocabulary, read_corpus, tokenize

__all__ = ["Corpus", "KeyedVectors", "Vocabulary", "read_corpus", "tokenize"]
