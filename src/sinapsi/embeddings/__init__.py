"""Word embeddings: corpus streaming and vocabulary, word2vec training (skip-gram and CBOW with
negative sampling, sparse row updates), word vectors, analogies and evaluation; gensim's
``Word2Vec`` class and argument names over the same training."""

from .gensim_names import LineSentence, LineSentences
from .vectors import KeyedVectors
from .vocab import Corpus, Vocabulary, read_corpus, tokenize
from .word2vec import CBOW, NegativeSampler, SkipGram, cbow_windows, train_word2vec, window_pairs
from .word2vec_model import Word2Vec

__all__ = [
    "Corpus", "KeyedVectors", "LineSentence", "LineSentences", "Vocabulary", "read_corpus",
    "tokenize", "CBOW", "NegativeSampler", "SkipGram", "Word2Vec", "cbow_windows",
    "train_word2vec", "window_pairs",
]  # fmt: skip
