"""One training of the word2vec benchmark, in a process of its own (run by ``word2vec.py``).

The child imports one library (gensim or sinapsi), trains it once untimed on the corpus's first
200 words (so that one-off costs, such as loading sinapsi's compiled numba loops, stay out of
the time and of the memory; so few words that this warm-up's vocabulary and buffers stay far
below the real training's), reads its peak resident set size (the baseline), trains on the
corpus file, reads the peak again, and only then evaluates the vectors with sinapsi's
evaluators (imported after the measurement, so gensim's figure does not count sinapsi). It
prints one JSON line.

Usage (internal)::

    python benchmarks/_w2v_child.py '{"lib": "gensim", "path": ..., "workers": 2, ...}'
"""

from __future__ import annotations

import gc
import json
import logging
import sys
import time
from itertools import islice
from typing import Any

from _common import peak_rss_kib

WARM_WORDS = 200  # the warm-up's corpus: the file's first words, cut into lines of 20


def _gensim(spec: dict[str, Any], corpus: Any, hp: dict[str, Any], epochs: int) -> Any:
    from gensim.models import Word2Vec

    model = Word2Vec(
        vector_size=hp["dim"], window=hp["window"], negative=hp["negative"], sg=1, hs=0,
        min_count=hp["min_count"], sample=hp["sample"], alpha=hp["lr"],
        min_alpha=hp["lr"] * 1e-4, workers=spec["workers"], seed=spec["seed"],
    )  # fmt: skip
    t0 = time.perf_counter()
    model.build_vocab(corpus)
    vocab_s = time.perf_counter() - t0
    model.train(corpus, total_examples=model.corpus_count, epochs=epochs)
    return model, vocab_s


def _sinapsi(spec: dict[str, Any], corpus: Any, hp: dict[str, Any], epochs: int) -> Any:
    from sinapsi.embeddings.word2vec import train_word2vec

    kv = train_word2vec(
        corpus, model="skipgram", dim=hp["dim"], window=hp["window"], negative=hp["negative"],
        min_count=hp["min_count"], sample=hp["sample"], epochs=epochs, lr=hp["lr"],
        optimizer="sgd", seed=spec["seed"], workers=spec["workers"],
        share_negatives=spec.get("share_negatives", 1),
    )  # fmt: skip
    return kv, None


def evaluate(kv: Any, questions: str, wordsim: str) -> dict[str, Any]:
    """Analogy accuracy (3CosAdd) and wordsim353 Spearman with sinapsi's evaluators."""
    ana = kv.evaluate_analogies(questions)
    try:
        pairs = kv.evaluate_word_pairs(wordsim)
    except ValueError:  # fewer than 2 pairs in the vocabulary
        pairs = {"spearman": float("nan"), "pairs": 0, "skipped_oov": 353}
    return {
        "analogy_accuracy": ana["accuracy"],
        "analogy_correct": ana["correct"],
        "analogy_answerable": ana["total"],
        "analogy_skipped_oov": ana["skipped_oov"],
        "spearman": pairs["spearman"],
        "wordsim_pairs": pairs["pairs"],
        "wordsim_skipped_oov": pairs["skipped_oov"],
    }


def run(spec: dict[str, Any]) -> dict[str, Any]:
    """Train as ``spec`` says (lib, path, workers, seed, hp, questions, wordsim); the times, peak
    memory (KiB) and quality."""
    hp = spec["hp"]
    if spec["lib"] == "gensim":
        logging.getLogger("gensim").setLevel(logging.WARNING)
        from gensim.models.word2vec import LineSentence

        train, corpus = _gensim, LineSentence(spec["path"])
    else:
        import sinapsi

        train, corpus = _sinapsi, spec["path"]
    after_import = peak_rss_kib()
    with open(spec["path"]) as f:
        words = [w for line in islice(f, WARM_WORDS) for w in line.split()][:WARM_WORDS]
    few = [words[i : i + 20] for i in range(0, len(words), 20)]  # far smaller than any corpus
    train(spec, few, {**hp, "min_count": 1}, 1)  # untimed warm-up
    del few
    gc.collect()
    baseline = peak_rss_kib()
    t0 = time.perf_counter()
    model, vocab_s = train(spec, corpus, hp, hp["epochs"])
    total_s = time.perf_counter() - t0
    peak = peak_rss_kib()
    import sinapsi
    from sinapsi.embeddings.vectors import KeyedVectors

    if spec["lib"] == "gensim":
        kv = KeyedVectors(list(model.wv.index_to_key), model.wv.vectors)
    else:
        kv = model
    return {
        "total_s": total_s,
        "vocab_s": vocab_s,
        "vocab_size": len(kv),
        "after_import_kib": after_import,
        "baseline_kib": baseline,
        "peak_kib": peak,
        "sinapsi_file": sinapsi.__file__,
        **evaluate(kv, spec["questions"], spec["wordsim"]),
    }


if __name__ == "__main__":
    print(json.dumps(run(json.loads(sys.argv[1]))))
