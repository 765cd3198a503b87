"""word2vec: sinapsi's ``train_word2vec`` vs gensim's ``Word2Vec`` (quality and throughput, CPU).

What is measured
----------------
Both libraries train skip-gram with negative sampling on the same tokenized corpus (a corpus
bundled with gensim, read once with ``sinapsi.embeddings.read_corpus`` and handed to both as
lists of tokens), with the same hyper-parameters: dim 100, window 5, negative 5, min_count 5,
sample 1e-3, lr 0.025 decaying linearly, the same number of epochs, fixed seeds. Each library
runs twice: with 2 worker threads (gensim's ``workers=2``, the reference for the targets, and
sinapsi's ``train_word2vec(workers=2)``: both update the vectors lock-free, "Hogwild", and are
not deterministic) and with 1 (both deterministic; sinapsi's default).

Every row is trained ``--rounds`` times (3 by default), with seeds 0, 1, 2, the rows taking
turns so that a slow spell of the (shared) machine falls on all of them. A row reports its
best round's time (noise only ever adds time; the median is in the JSON) and its mean quality
over the seeds (one seed's analogy accuracy swings by about 15% on these corpora).

Reported for each row:

* training words/s: corpus words (every token, before min_count and subsampling) times epochs,
  divided by the training time; vocabulary building is timed and reported separately (gensim:
  ``build_vocab``; sinapsi: ``Vocabulary.build`` on the same sentences, subtracted from the
  time of ``train_word2vec``, which builds its own);
* analogy accuracy on gensim's ``questions-words.txt`` (3CosAdd, case-insensitive, questions
  with an out-of-vocabulary word skipped: how many were answerable is printed), evaluated with
  sinapsi's ``KeyedVectors.evaluate_analogies`` for every run so that the numbers compare;
* Spearman correlation on ``wordsim353.tsv`` (``KeyedVectors.evaluate_word_pairs``).

Targets: sinapsi's quality within 10% of gensim's (workers=2) or better, on both measures;
sinapsi's throughput >= 0.5x gensim's with 2 worker threads. The targets are checked for
sinapsi with 2 workers too (the same threads as the reference), run as word2vec (every pair
draws its own negatives), at ``train_word2vec``'s default batch size (4096 // workers pairs
a step on head500 and lee: the same 4096 pairs in flight; fewer for a small vocabulary).
The 1-worker rows are compared the same way, for information.

A third sinapsi row, ``sinapsi shared G=64``, runs (with 2 workers) the opt-in variant
``train_word2vec(share_negatives=64)``: groups of 64 shuffled pairs share their negatives. It is
*not* word2vec's algorithm (same expected loss, different variance); it is reported beside the
others, with its own ratios, for information only (``--share-negatives 1`` skips it).

The default corpus, ``head500.noblanks.cor`` (about 336k words), is the larger of the two:
1309 analogy questions are answerable and both libraries get about 30 of them right, so even
the mean over 3 seeds moves by about 10% (more seeds: ``--rounds``). ``--corpus lee``
(``lee_background.cor``, about 60k words, the smoke test's) is too small to judge quality:
146 answerable questions, one or two right, and Spearman near zero for both libraries. With
more than one worker neither library is deterministic, even with a fixed seed.

Usage::

    python benchmarks/word2vec.py                   # head500, 5 epochs, 3 rounds (2-3 minutes)
    python benchmarks/word2vec.py --corpus lee      # lee_background, 10 epochs
    python benchmarks/word2vec.py --quick           # smoke test: lee, 1 epoch, dim 20, 1 round
    python benchmarks/word2vec.py --rounds 5        # more seeds
    python benchmarks/word2vec.py --json out.json   # also write the results as JSON
    python benchmarks/word2vec.py --share-negatives 1   # skip the shared-negatives row
"""

from __future__ import annotations

import argparse
import logging
import math
import statistics
import sys
import time
from typing import Any

from _common import OtherLoad, blas_info, environment, print_environment, print_load, write_json

CORPORA = {"lee": "lee_background.cor", "head500": "head500.noblanks.cor"}
DEFAULT_EPOCHS = {"lee": 10, "head500": 5}  # more passes over the small corpus
QUALITY_TOL = 0.10  # sinapsi within 10% of gensim
THROUGHPUT_TARGET = 0.5  # sinapsi >= 0.5x gensim (workers=2)
MAIN, SERIAL = "sinapsi (workers=2)", "sinapsi (workers=1)"  # the row with the targets; the other
SEED = 0


def batch_size(hp: dict[str, Any], workers: int) -> int:
    """sinapsi's pairs per step: ``--batch-size``, else ``train_word2vec``'s default for that
    many workers and this corpus (``hp["default_batch"]``, set by :func:`default_batches`)."""
    return hp["batch_size"] or hp["default_batch"][workers]


def default_batches(sentences: list[list[str]], hp: dict[str, Any]) -> dict[int, int]:
    """``train_word2vec``'s default batch for 1 and 2 workers on this corpus: 4096 // workers
    pairs, fewer for a small vocabulary (``default_batch_size``)."""
    from sinapsi.embeddings.vocab import Vocabulary
    from sinapsi.embeddings.word2vec import default_batch_size

    vocab = Vocabulary.build(sentences, min_count=hp["min_count"])
    return {w: default_batch_size(vocab, hp["sample"], w) for w in (1, 2)}


def load_corpus(name: str) -> tuple[str, list[list[str]]]:
    from gensim.test.utils import datapath

    from sinapsi.embeddings.vocab import read_corpus

    path = datapath(CORPORA[name])
    return path, [list(s) for s in read_corpus(path)]


def evaluate(kv: Any) -> dict[str, Any]:
    """Analogy accuracy and wordsim353 Spearman with sinapsi's evaluators (same for all)."""
    from gensim.test.utils import datapath

    ana = kv.evaluate_analogies(datapath("questions-words.txt"))
    try:
        pairs = kv.evaluate_word_pairs(datapath("wordsim353.tsv"))
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


def run_gensim(
    sentences: list[list[str]], n_words: int, hp: dict[str, Any], workers: int, seed: int = SEED
):
    from gensim.models import Word2Vec

    from sinapsi.embeddings.vectors import KeyedVectors

    model = Word2Vec(
        vector_size=hp["dim"], window=hp["window"], negative=hp["negative"], sg=1, hs=0,
        min_count=hp["min_count"], sample=hp["sample"], alpha=hp["lr"], min_alpha=hp["lr"] * 1e-4,
        workers=workers, seed=seed,
    )  # fmt: skip
    t0 = time.perf_counter()
    model.build_vocab(sentences)
    vocab_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    model.train(sentences, total_examples=len(sentences), epochs=hp["epochs"])
    train_s = time.perf_counter() - t0
    kv = KeyedVectors(list(model.wv.index_to_key), model.wv.vectors)
    return {
        "vocab_size": len(kv),
        "vocab_s": vocab_s,
        "train_s": train_s,
        "words_per_s": n_words * hp["epochs"] / train_s,
        **evaluate(kv),
    }


def run_sinapsi(
    sentences: list[list[str]],
    n_words: int,
    hp: dict[str, Any],
    workers: int,
    seed: int = SEED,
    share_negatives: int = 1,
):
    from sinapsi.embeddings.vocab import Vocabulary
    from sinapsi.embeddings.word2vec import train_word2vec

    t0 = time.perf_counter()
    Vocabulary.build(sentences, min_count=hp["min_count"])
    vocab_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    kv = train_word2vec(
        sentences, model="skipgram", dim=hp["dim"], window=hp["window"],
        negative=hp["negative"], min_count=hp["min_count"], sample=hp["sample"],
        epochs=hp["epochs"], batch_size=batch_size(hp, workers), lr=hp["lr"], optimizer="sgd",
        seed=seed,
        share_negatives=share_negatives, workers=workers,
    )  # fmt: skip
    train_s = max(time.perf_counter() - t0 - vocab_s, 1e-9)
    return {
        "vocab_size": len(kv),
        "vocab_s": vocab_s,
        "train_s": train_s,
        "words_per_s": n_words * hp["epochs"] / train_s,
        **evaluate(kv),
    }


def warm_up(sentences: list[list[str]], hp: dict[str, Any]) -> None:
    """Train both libraries once on a few sentences, untimed: one-off costs (imports,
    loading sinapsi's compiled numba loops from their cache, about a second) stay out of the
    first round's time."""
    few = sentences[:50]
    run_gensim(few, 1, {**hp, "epochs": 1, "min_count": 1}, 1)
    run_sinapsi(few, 1, {**hp, "epochs": 1, "min_count": 1}, 2)


def aggregate(rounds: list[dict[str, Any]]) -> dict[str, Any]:
    """One row from several rounds: the best (shortest) times, the mean quality over seeds.

    On a shared machine, noise only ever adds time, so the fastest round estimates each
    library's own cost best (the same rule for every row); a single seed's analogy accuracy
    swings by about 15% on these small corpora, so quality is averaged over the seeds.
    """
    out = dict(rounds[-1])
    for key in ("vocab_s", "train_s"):
        out[key] = min(r[key] for r in rounds)
    out["words_per_s"] = max(r["words_per_s"] for r in rounds)
    out["words_per_s_median"] = statistics.median(r["words_per_s"] for r in rounds)
    for key in ("analogy_accuracy", "spearman"):
        out[key] = statistics.fmean(r[key] for r in rounds)
    out["analogy_correct"] = statistics.fmean(r["analogy_correct"] for r in rounds)
    out["rounds"] = rounds
    return out


def _ratio(a: float, b: float) -> float:
    if not (math.isfinite(a) and math.isfinite(b)) or b <= 0:
        return float("nan")  # no meaningful ratio to a zero or negative reference
    return a / b


def quality_met(mine: float, ref: float) -> bool:
    """Within QUALITY_TOL of ``ref`` or better (for a negative reference: not below it)."""
    if not math.isfinite(mine) or not math.isfinite(ref):
        return False
    return mine >= ref - QUALITY_TOL * abs(ref)


def compare(
    results: dict[str, dict[str, Any]], mine: dict[str, Any] | None = None
) -> dict[str, Any]:
    """A sinapsi row's ratios to gensim (workers=2) and the targets (default: the main row)."""
    s, g = mine or results[MAIN], results["gensim (workers=2)"]
    out = {}
    for key, label in (("analogy_accuracy", "analogy accuracy"), ("spearman", "wordsim Spearman")):
        out[label] = {
            "ratio": _ratio(s[key], g[key]),
            "target": f">= {1 - QUALITY_TOL:.2f}x gensim (or better)",
            "met": quality_met(s[key], g[key]),
        }
    ratio = _ratio(s["words_per_s"], g["words_per_s"])
    out["training words/s"] = {
        "ratio": ratio,
        "target": f">= {THROUGHPUT_TARGET:.2f}x gensim workers=2",
        "met": bool(ratio >= THROUGHPUT_TARGET),
    }
    return out


def compare_serial(results: dict[str, dict[str, Any]]) -> dict[str, float]:
    """The 1-worker rows: sinapsi's quality over gensim's (workers=2) and its words/s over
    gensim's with 1 worker (no targets)."""
    s, g2, g1 = results[SERIAL], results["gensim (workers=2)"], results["gensim (workers=1)"]
    return {
        "analogy accuracy": _ratio(s["analogy_accuracy"], g2["analogy_accuracy"]),
        "wordsim Spearman": _ratio(s["spearman"], g2["spearman"]),
        "words/s vs gensim workers=1": _ratio(s["words_per_s"], g1["words_per_s"]),
    }


def print_report(report: dict[str, Any]) -> None:
    hp = report["hyperparameters"]
    print()
    print(
        f"corpus {report['corpus']} ({report['sentences']} sentences, {report['words']:,} words), "
        f"skip-gram dim {hp['dim']} window {hp['window']} negative {hp['negative']} "
        f"min_count {hp['min_count']} sample {hp['sample']:g} epochs {hp['epochs']} "
        f"(sinapsi pairs per step: {batch_size(hp, 2)} with 2 workers, {batch_size(hp, 1)} with 1)"
    )
    n = report["rounds"]
    print(
        f"  {n} round{'s' if n > 1 else ''}, seeds {SEED}..{SEED + n - 1}, the rows taking turns: "
        "words/s and times are the best round's, analogy and Spearman the mean over the seeds"
    )
    if report["epochs_note"]:
        print(f"  note: {report['epochs_note']}")
    head = (
        f"  {'':<24}{'vocab':>7}{'vocab s':>9}{'train s':>9}{'words/s':>11}"
        f"{'analogy':>9}{'answerable':>12}{'Spearman':>10}{'pairs':>7}"
    )
    print(head)
    for name, r in report["results"].items():
        print(
            f"  {name:<24}{r['vocab_size']:>7}{r['vocab_s']:>9.2f}{r['train_s']:>9.2f}"
            f"{r['words_per_s']:>11,.0f}{r['analogy_accuracy']:>9.1%}"
            f"{r['analogy_answerable']:>6}/{r['analogy_answerable'] + r['analogy_skipped_oov']:<5}"
            f"{r['spearman']:>10.3f}{r['wordsim_pairs']:>7}"
        )
    for name, r in report["variants"].items():
        print(
            f"  {name + ' *':<24}{r['vocab_size']:>7}{r['vocab_s']:>9.2f}{r['train_s']:>9.2f}"
            f"{r['words_per_s']:>11,.0f}{r['analogy_accuracy']:>9.1%}"
            f"{r['analogy_answerable']:>6}/{r['analogy_answerable'] + r['analogy_skipped_oov']:<5}"
            f"{r['spearman']:>10.3f}{r['wordsim_pairs']:>7}"
        )
    print(f"\n  {MAIN} / gensim (workers=2)  ratio  target                           met")
    for label, c in report["comparison"].items():
        if isinstance(c, dict):
            met = "yes" if c["met"] else "NO"
            ratio = "n/a" if math.isnan(c["ratio"]) else f"{c['ratio']:.2f}"
            print(f"  {label:<32}{ratio:>7}  {c['target']:<33}{met}")
    serial = ", ".join(f"{k} {v:.2f}" for k, v in report["comparison_serial"].items())
    print(f"  {SERIAL} (deterministic, the default), no targets: {serial}")
    for name, comp in report["comparison_variants"].items():
        ratios = ", ".join(
            f"{label} {c['ratio']:.2f}" for label, c in comp.items() if isinstance(c, dict)
        )
        print(
            f"  * {name}: groups of {report['share_negatives']} pairs share their negatives -- "
            "NOT word2vec's algorithm, for information, no target. Its ratios to gensim "
            f"(workers=2): {ratios}"
        )
    print(
        "  note: analogy accuracy on a corpus this small is low for both libraries and rests on "
        "few answerable questions (the rest are skipped as out-of-vocabulary); the quality "
        "ratios are noisy. gensim with 2 workers is not deterministic."
        if report["words"] < 1_000_000
        else "  note: gensim with 2 workers is not deterministic."
    )
    print_load(report["environment"])


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="1 epoch, dim 20 (smoke test)")
    parser.add_argument(
        "--corpus", choices=sorted(CORPORA), help="(default: head500; --quick: lee)"
    )
    parser.add_argument(
        "--epochs", type=int, help="training epochs (default: 10 for lee, 5 for head500)"
    )
    parser.add_argument(
        "--batch-size",
        type=int,
        help="sinapsi's pairs per step (default: train_word2vec's: 4096 // workers, fewer for "
        "a small vocabulary)",
    )
    parser.add_argument(
        "--share-negatives",
        type=int,
        default=64,
        metavar="G",
        help="also run sinapsi with groups of G pairs sharing negatives (1: skip; default 64)",
    )
    parser.add_argument(
        "--rounds",
        type=int,
        help="train every row this many times, with seeds 0, 1, ... (default 3; --quick: 1): "
        "words/s is the best round's, quality the mean over the seeds",
    )
    parser.add_argument("--json", metavar="PATH", help="also write the results as JSON to PATH")
    args = parser.parse_args(argv)
    if args.rounds is not None and args.rounds < 1:
        parser.error("--rounds must be >= 1")
    if args.epochs is not None and args.epochs < 1:
        parser.error("--epochs must be >= 1")
    if args.batch_size is not None and args.batch_size < 1:
        parser.error("--batch-size must be >= 1")
    if args.share_negatives < 1:
        parser.error("--share-negatives must be >= 1")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.getLogger("gensim").setLevel(logging.WARNING)
    import gensim

    blas = blas_info()
    env = environment(blas)
    env["gensim"] = gensim.__version__
    print_environment("word2vec benchmark: sinapsi vs gensim (skip-gram, negative sampling)", env)
    print(f"  gensim {gensim.__version__}")
    args.corpus = args.corpus or ("lee" if args.quick else "head500")
    epochs = args.epochs or (1 if args.quick else DEFAULT_EPOCHS[args.corpus])
    note = ""
    if args.epochs is None and not args.quick and args.corpus == "lee":
        note = "10 epochs (not 5) by default on lee_background: the corpus has only ~60k words"
    hp = {
        "dim": 20 if args.quick else 100, "window": 5, "negative": 5, "min_count": 5,
        "sample": 1e-3, "epochs": epochs, "lr": 0.025,
        "batch_size": args.batch_size,  # None: train_word2vec's default (4096 // workers)
    }  # fmt: skip
    rounds = args.rounds or (1 if args.quick else 3)
    path, sentences = load_corpus(args.corpus)
    n_words = sum(map(len, sentences))
    hp["default_batch"] = default_batches(sentences, hp)
    load = OtherLoad()
    runs: dict[str, list[dict[str, Any]]] = {}
    variant = f"sinapsi shared G={args.share_negatives}"
    warm_up(sentences, hp)
    for i in range(rounds):  # the libraries take turns, so that slow spells hit all of them
        jobs: list[tuple[str, Any, int, dict[str, Any]]] = [
            ("gensim (workers=2)", run_gensim, 2, {}),
            ("gensim (workers=1)", run_gensim, 1, {}),
            (MAIN, run_sinapsi, 2, {}),
            (SERIAL, run_sinapsi, 1, {}),
        ]
        if args.share_negatives > 1:
            jobs.append((variant, run_sinapsi, 2, {"share_negatives": args.share_negatives}))
        for name, run, workers, options in jobs:
            row = run(sentences, n_words, hp, workers, SEED + i, **options)
            runs.setdefault(name, []).append(row)
    results = {name: aggregate(r) for name, r in runs.items() if name != variant}
    variants = {variant: aggregate(runs[variant])} if variant in runs else {}
    env["other_processes_cpus"] = load.cpus_used()
    comparison = compare(results)
    report = {
        "mode": "quick" if args.quick else "full",
        "corpus": CORPORA[args.corpus],
        "corpus_path": path,
        "sentences": len(sentences),
        "words": n_words,
        "hyperparameters": hp,
        "rounds": rounds,
        "epochs_note": note,
        "environment": env,
        "results": results,
        "comparison": comparison,
        "comparison_serial": compare_serial(results),
        "share_negatives": args.share_negatives,
        "variants": variants,
        "comparison_variants": {name: compare(results, r) for name, r in variants.items()},
        "targets_met": {k: v["met"] for k, v in comparison.items() if isinstance(v, dict)},
    }
    print_report(report)
    if args.json:
        write_json(args.json, report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
