"""train_word2vec with several workers: the calling thread alone makes the batches and draws the
negatives (so that their memory sits in one malloc arena); the others take queued jobs."""

from __future__ import annotations

import threading

import pytest

import sinapsi.embeddings.word2vec as w2v
from sinapsi.embeddings import train_word2vec
from strategies import royal_corpus


def test_only_the_calling_thread_makes_batches_and_negatives(monkeypatch):
    makers, steppers = set(), set()
    sample, step = w2v.NegativeSampler.sample, w2v.sparse_step
    epoch_batches = w2v._epoch_batches

    def spy_sample(self, n):
        makers.add(threading.current_thread().name)
        return sample(self, n)

    def spy_batches(*args, **kwargs):
        for item in epoch_batches(*args, **kwargs):
            makers.add(threading.current_thread().name)
            yield item

    def spy_step(*args, **kwargs):
        steppers.add(threading.current_thread().name)
        return step(*args, **kwargs)

    monkeypatch.setattr(w2v.NegativeSampler, "sample", spy_sample)
    monkeypatch.setattr(w2v, "_epoch_batches", spy_batches)
    monkeypatch.setattr(w2v, "sparse_step", spy_step)
    train_word2vec(royal_corpus(600, seed=0), min_count=1, batch_size=16, workers=3, epochs=2)
    assert makers == {threading.current_thread().name}
    assert len(steppers) == 3  # every worker trained


def test_an_error_in_the_calling_thread_stops_the_waiting_workers(monkeypatch):
    calls = []
    step = w2v.sparse_step

    def failing(*args, **kwargs):
        if threading.current_thread() is threading.main_thread():
            calls.append(1)
            if len(calls) == 3:
                raise RuntimeError("main failed")
        return step(*args, **kwargs)

    monkeypatch.setattr(w2v, "sparse_step", failing)
    with pytest.raises(RuntimeError, match="main failed"):
        train_word2vec(royal_corpus(400, seed=0), min_count=1, batch_size=16, workers=3)
    assert not [t for t in threading.enumerate() if t.name.startswith("sinapsi-word2vec")]
