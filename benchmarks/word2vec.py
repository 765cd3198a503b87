"""word2vec: sinapsi's ``train_word2vec`` vs gensim's ``Word2Vec`` on corpora of several shapes.

What is measured
----------------
Both libraries train skip-gram with negative sampling from the same corpus file (one sentence
a line, lower-case words separated by spaces, so gensim's ``LineSentence`` and sinapsi's
tokenizer read the same words; sinapsi gets the path, gensim ``LineSentence(path)``: both
stream the file, neither is handed the corpus as Python lists), with the same
hyper-parameters: dim 100, window 5, negative 5, min_count 5, sample 1e-3, lr 0.025 decaying
linearly to 1e-4 of it, fixed seeds, at 1 and 2 worker threads (with 2, both libraries update
the vectors lock-free, "Hogwild", and are not deterministic), sinapsi at
``train_word2vec``'s default batch size.

The corpora (:mod:`_w2v_corpus`, built once into ``--data-dir``):

* ``head500``: gensim's ``head500.noblanks.cor`` (336,755 words in 250 lines of ~1,350 words);
* ``short``: the same words cut into lines of 10 to 25 words (the same text, another shape);
* ``large``: the prose of two Debian documentation packages, linux-doc-6.1 and python3.11-doc
  (~5.5 M words, ~11 a line), installed and built by ``--setup`` (``make
  bench-word2vec-corpus``); skipped with a note when neither it nor the packages are there;
* ``lee``: gensim's ``lee_background.cor`` (60k words), the ``--quick`` smoke test's.

Every training runs in a child process of its own (:mod:`_w2v_child`) that reports its time,
its peak memory and the quality of its vectors; the rows (gensim and sinapsi, 2 then 1
workers) take turns, ``--rounds`` times (3 by default) with seeds 0, 1, 2..., so that a slow
spell of the (shared) machine falls on all of them. A row reports its best round's words/s
(noise only ever adds time; the median is in the JSON), its mean quality over the seeds and its
median peak memory.

* training words/s: corpus words (every token, before min_count and subsampling) times epochs,
  divided by the whole time of the training call: vocabulary included (gensim:
  ``build_vocab`` + ``train``, whose vocabulary part is shown apart; sinapsi:
  ``train_word2vec``, which reads the corpus, builds the vocabulary and trains);
* analogy accuracy on gensim's ``questions-words.txt`` (3CosAdd, case-insensitive, questions
  with an out-of-vocabulary word skipped) and Spearman on ``wordsim353.tsv``, both with
  sinapsi's ``KeyedVectors`` evaluators for every run so that the numbers compare;
* peak memory: the child's peak resident set size (``VmHWM``) at the end of the training minus
  its peak before it (after the imports and an untimed warm-up training on the corpus's first
  200 words, which loads sinapsi's numba loops and gensim's Cython ones); "MiB" in the table.

Targets (issue 18), sinapsi (workers=2) against gensim (workers=2), printed met/MISSED:
words/s >= 0.6x on every corpus (stretch 1.0x); on the large corpus, quality within 5% of
gensim's or better (mean over the seeds) and peak memory <= 1.5x gensim's. Elsewhere the
quality and memory ratios are shown for information. The 1-worker rows are compared the same
way, for information.

Usage::

    python benchmarks/word2vec.py --setup            # install the docs (apt), build the corpora
    python benchmarks/word2vec.py                    # head500, short, large; 3 rounds
    python benchmarks/word2vec.py --corpus short --rounds 5
    python benchmarks/word2vec.py --corpus large --epochs 3   # the issue's settings
    python benchmarks/word2vec.py --quick            # smoke test: lee, 1 epoch, dim 20, 1 round
    python benchmarks/word2vec.py --json out.json    # also write the results as JSON
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import subprocess
import sys
import time
from typing import Any

import _w2v_corpus as wc
from _common import OtherLoad, blas_info, environment, print_environment, print_load, write_json

HERE = os.path.dirname(os.path.abspath(__file__))
CHILD = os.path.join(HERE, "_w2v_child.py")
DATA_DIR = os.path.join(HERE, "results", "word2vec-data")
SHAPES = ("lee", "head500", "short", "large")
DEFAULT_CORPORA = ("head500", "short", "large")
GENSIM_FILES = {"lee": "lee_background.cor", "head500": "head500.noblanks.cor"}
DEFAULT_EPOCHS = {"lee": 10, "head500": 5, "short": 5, "large": 1}
SPEED_TARGET, SPEED_STRETCH = 0.6, 1.0  # sinapsi / gensim words/s, 2 workers
QUALITY_TOL = 0.05  # on the large corpus: within 5% of gensim or better
MEMORY_TARGET = 1.5  # on the large corpus: sinapsi's peak <= 1.5x gensim's
TARGET_CORPUS = "large"  # where the quality and memory targets apply
SEED = 0
G2, S2, G1, S1 = ("gensim (workers=2)", "sinapsi (workers=2)", "gensim (workers=1)",
                  "sinapsi (workers=1)")  # fmt: skip


# --------------------------------------------------------------------------------- corpora
def corpus_path(name: str, data_dir: str) -> str:
    return os.path.join(data_dir, f"{name}.txt")


def ensure_corpus(name: str, data_dir: str) -> dict | None:
    """Build ``name``'s file in ``data_dir`` unless it is there; its metadata, or None for a
    large corpus whose packages are not installed."""
    from gensim.test.utils import datapath

    path = corpus_path(name, data_dir)
    meta = wc.read_meta(path)
    if meta is not None:
        return meta
    if name == "large":
        if not all(os.path.isdir(root) for root in wc.PACKAGES.values()):
            return None
        print(f"building the large corpus from {', '.join(wc.PACKAGES)} (a minute)...", flush=True)
        return wc.build_large(path)
    if name == "short":
        return wc.build_short(datapath(GENSIM_FILES["head500"]), path)
    return wc.build_copy(datapath(GENSIM_FILES[name]), path)


def setup(data_dir: str) -> int:
    """Install the documentation packages when missing, then build every corpus."""
    if not all(os.path.isdir(root) for root in wc.PACKAGES.values()):
        wc.install_packages()
    for name in SHAPES:
        meta = ensure_corpus(name, data_dir)
        print(f"  {name}: {meta['tokens']:,} tokens in {meta['sentences']:,} lines "
              f"({corpus_path(name, data_dir)})")  # fmt: skip
    return 0


# ---------------------------------------------------------------------------------- running
def run_child(spec: dict[str, Any]) -> dict[str, Any]:
    """One training in a child process (:mod:`_w2v_child`); its JSON report."""
    out = subprocess.run(
        [sys.executable, CHILD, json.dumps(spec)], capture_output=True, text=True, cwd=HERE
    )
    if out.returncode != 0:
        raise RuntimeError(f"{spec['lib']} child failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def aggregate(rounds: list[dict[str, Any]]) -> dict[str, Any]:
    """One row from its rounds: best words/s (the median beside), mean quality over the seeds,
    median peak memory."""
    out = dict(rounds[-1])
    out["total_s"] = min(r["total_s"] for r in rounds)
    out["words_per_s"] = max(r["words_per_s"] for r in rounds)
    out["words_per_s_median"] = statistics.median(r["words_per_s"] for r in rounds)
    for key in ("analogy_accuracy", "spearman", "analogy_correct"):
        out[key] = statistics.fmean(r[key] for r in rounds)
    out["memory_mib"] = statistics.median(r["memory_mib"] for r in rounds)
    if rounds[0]["vocab_s"] is not None:
        out["vocab_s"] = min(r["vocab_s"] for r in rounds)
    out["rounds"] = rounds
    return out


def bench_corpus(name: str, meta: dict, args: argparse.Namespace, hp: dict) -> dict[str, Any]:
    from gensim.test.utils import datapath

    hp = {**hp, "epochs": args.epochs or (1 if args.quick else DEFAULT_EPOCHS[name])}
    words = meta["tokens"]
    base = {
        "path": corpus_path(name, args.data_dir),
        "hp": hp,
        "questions": datapath("questions-words.txt"),
        "wordsim": datapath("wordsim353.tsv"),
    }
    jobs = []
    for w in args.workers:
        jobs += [(f"gensim (workers={w})", {"lib": "gensim", "workers": w}),
                 (f"sinapsi (workers={w})", {"lib": "sinapsi", "workers": w})]  # fmt: skip
    if args.share_negatives > 1:
        g = args.share_negatives
        jobs.append((f"sinapsi shared G={g} (workers=2)",
                     {"lib": "sinapsi", "workers": 2, "share_negatives": g}))  # fmt: skip
    runs: dict[str, list[dict[str, Any]]] = {}
    for i in range(args.rounds):  # the rows take turns: slow spells hit all of them
        for row, spec in jobs:
            r = run_child({**base, **spec, "seed": SEED + i})
            r["words_per_s"] = words * hp["epochs"] / r["total_s"]
            r["memory_mib"] = (r["peak_kib"] - r["baseline_kib"]) / 1024
            runs.setdefault(row, []).append(r)
            print(f"  {name} round {i + 1}/{args.rounds} {row}: {r['words_per_s']:,.0f} words/s, "
                  f"{r['memory_mib']:.0f} MiB", flush=True)  # fmt: skip
    results = {row: aggregate(r) for row, r in runs.items()}
    return {
        "corpus": name,
        "path": base["path"],
        "source": meta["source"],
        "sentences": meta["sentences"],
        "words": words,
        "words_per_line": words / max(meta["sentences"], 1),
        "hyperparameters": hp,
        "results": results,
        "comparison": compare(name, results),
    }


# ------------------------------------------------------------------------------- comparing
def _ratio(a: float | None, b: float | None) -> float:
    if a is None or b is None or not (math.isfinite(a) and math.isfinite(b)) or b <= 0:
        return float("nan")
    return a / b


def quality_met(mine: float, ref: float) -> bool:
    """Within QUALITY_TOL of ``ref`` or better (for a negative reference: not below it)."""
    if not math.isfinite(mine) or not math.isfinite(ref):
        return False
    return mine >= ref - QUALITY_TOL * abs(ref)


def compare(name: str, results: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """sinapsi (workers=2) against gensim (workers=2): ratios and targets (``met`` is None
    where the target does not apply to this corpus); the 1-worker ratios for information."""
    out: dict[str, Any] = {}
    if S2 in results and G2 in results:
        s, g = results[S2], results[G2]
        speed = _ratio(s["words_per_s"], g["words_per_s"])
        out["training words/s"] = {
            "ratio": speed,
            "target": f">= {SPEED_TARGET}x (stretch {SPEED_STRETCH}x)",
            "met": bool(speed >= SPEED_TARGET),
            "stretch_met": bool(speed >= SPEED_STRETCH),
        }
        applies = name == TARGET_CORPUS
        for key, label in (("analogy_accuracy", "analogy accuracy"),
                           ("spearman", "wordsim Spearman")):  # fmt: skip
            out[label] = {
                "ratio": _ratio(s[key], g[key]),
                "target": f">= {1 - QUALITY_TOL:.2f}x (or better)",
                "met": quality_met(s[key], g[key]) if applies else None,
            }
        mem = _ratio(s["memory_mib"], g["memory_mib"])
        out["peak memory"] = {
            "ratio": mem,
            "target": f"<= {MEMORY_TARGET}x",
            "met": bool(mem <= MEMORY_TARGET) if applies else None,
        }
    if S1 in results and G1 in results:
        s, g = results[S1], results[G1]
        out["workers=1 (info)"] = {
            "words/s": _ratio(s["words_per_s"], g["words_per_s"]),
            "analogy": _ratio(s["analogy_accuracy"], g["analogy_accuracy"]),
            "Spearman": _ratio(s["spearman"], g["spearman"]),
            "memory": _ratio(s["memory_mib"], g["memory_mib"]),
        }
    return out


# -------------------------------------------------------------------------------- reporting
def print_corpus(c: dict[str, Any], rounds: int) -> None:
    hp = c["hyperparameters"]
    print(
        f"\ncorpus {c['corpus']}: {c['words']:,} words in {c['sentences']:,} lines "
        f"({c['words_per_line']:.1f} a line); skip-gram dim {hp['dim']} window {hp['window']} "
        f"negative {hp['negative']} min_count {hp['min_count']} sample {hp['sample']:g} "
        f"epochs {hp['epochs']}; {rounds} round(s), seeds {SEED}..{SEED + rounds - 1}"
    )
    print(
        f"  {'':<34}{'vocab':>7}{'vocab s':>9}{'total s':>9}{'words/s':>11}{'median':>11}"
        f"{'analogy':>9}{'answerable':>12}{'Spearman':>10}{'pairs':>7}{'MiB':>7}"
    )
    for row, r in c["results"].items():
        vocab_s = "-" if r["vocab_s"] is None else f"{r['vocab_s']:.2f}"
        asked = r["analogy_answerable"] + r["analogy_skipped_oov"]
        print(
            f"  {row:<34}{r['vocab_size']:>7}{vocab_s:>9}{r['total_s']:>9.2f}"
            f"{r['words_per_s']:>11,.0f}{r['words_per_s_median']:>11,.0f}"
            f"{r['analogy_accuracy']:>9.1%}{r['analogy_answerable']:>6}/{asked:<5}"
            f"{r['spearman']:>10.3f}{r['wordsim_pairs']:>7}{r['memory_mib']:>7.0f}"
        )
    print(f"  {S2} / {G2}     ratio  target                     met")
    for label, t in c["comparison"].items():
        if "ratio" not in t:
            continue
        met = "(info)" if t["met"] is None else ("met" if t["met"] else "MISSED")
        if t.get("stretch_met"):
            met += ", stretch met"
        ratio = "n/a" if math.isnan(t["ratio"]) else f"{t['ratio']:.2f}"
        print(f"  {label:<32}{ratio:>7}  {t['target']:<27}{met}")
    info = c["comparison"].get("workers=1 (info)")
    if info:
        print("  workers=1, sinapsi / gensim (no targets): "
              + ", ".join(f"{k} {v:.2f}" for k, v in info.items()))  # fmt: skip


def summary(corpora: dict[str, dict[str, Any]]) -> dict[str, dict[str, bool]]:
    """The targets that apply, by corpus: {corpus: {target: met}}."""
    return {
        name: {k: t["met"] for k, t in c["comparison"].items() if t.get("met") is not None}
        for name, c in corpora.items()
    }


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="lee, 1 epoch, dim 20, 1 round")
    parser.add_argument(
        "--setup",
        action="store_true",
        help="apt-get install the doc packages, build the corpora, exit",
    )
    parser.add_argument("--corpus", help=f"comma-separated, among {', '.join(SHAPES)} "
                        f"(default: {','.join(DEFAULT_CORPORA)}; --quick: lee)")  # fmt: skip
    parser.add_argument("--data-dir", default=DATA_DIR, help="where the corpus files are kept")
    parser.add_argument("--epochs", type=int, help=f"training epochs (default {DEFAULT_EPOCHS})")
    parser.add_argument("--workers", default="2,1", help="worker counts to run (default 2,1)")
    parser.add_argument("--rounds", type=int, help="seeds per row (default 3; --quick: 1)")
    parser.add_argument("--share-negatives", type=int, default=1, metavar="G",
                        help="also run sinapsi with groups of G pairs sharing negatives (not "
                        "word2vec's algorithm; default 1: skip)")  # fmt: skip
    parser.add_argument("--json", metavar="PATH", help="also write the results as JSON to PATH")
    args = parser.parse_args(argv)
    default = "lee" if args.quick else ",".join(DEFAULT_CORPORA)
    args.corpus = [c.strip() for c in (args.corpus or default).split(",") if c.strip()]
    unknown = [c for c in args.corpus if c not in SHAPES]
    if unknown or not args.corpus:
        parser.error(f"--corpus: unknown {unknown}; choose among {', '.join(SHAPES)}")
    try:
        args.workers = [int(w) for w in args.workers.split(",")]
    except ValueError:
        parser.error("--workers takes comma-separated counts, e.g. 2,1")
    args.rounds = args.rounds or (1 if args.quick else 3)
    checks = [
        ("--rounds", args.rounds),
        ("--epochs", args.epochs),
        ("--share-negatives", args.share_negatives),
    ] + [("--workers", w) for w in args.workers]
    for flag, value in checks:
        if value is not None and value < 1:
            parser.error(f"{flag} must be >= 1")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.setup:
        return setup(args.data_dir)
    import gensim

    import sinapsi

    env = environment(blas_info())
    env["gensim"] = gensim.__version__
    env["sinapsi_file"] = sinapsi.__file__
    env["load_average_start"] = os.getloadavg()
    print_environment("word2vec benchmark: sinapsi vs gensim (skip-gram, negative sampling)", env)
    print(f"  gensim {gensim.__version__}; sinapsi from {sinapsi.__file__}")
    hp = {"dim": 20 if args.quick else 100, "window": 5, "negative": 5, "min_count": 5,
          "sample": 1e-3, "lr": 0.025}  # fmt: skip
    load = OtherLoad(children=True)
    t0 = time.perf_counter()
    corpora: dict[str, dict[str, Any]] = {}
    skipped = {}
    for name in args.corpus:
        meta = ensure_corpus(name, args.data_dir)
        if meta is None:
            skipped[name] = ("the documentation packages are not installed: run make "
                             "bench-word2vec-corpus (or this script with --setup)")  # fmt: skip
            print(f"  skipping {name}: {skipped[name]}")
            continue
        corpora[name] = bench_corpus(name, meta, args, hp)
    env["other_processes_cpus"] = load.cpus_used()
    env["load_average_end"] = os.getloadavg()
    env["wall_s"] = time.perf_counter() - t0
    for c in corpora.values():
        print_corpus(c, args.rounds)
    targets = summary(corpora)
    missed = [f"{n}: {k}" for n, t in targets.items() for k, met in t.items() if not met]
    print(f"\ntargets missed: {', '.join(missed) if missed else 'none'}")
    for name, why in skipped.items():
        print(f"  {name} skipped: {why}")
    print(f"  load average {env['load_average_start'][0]:.2f} at the start, "
          f"{env['load_average_end'][0]:.2f} at the end; {env['wall_s']:.0f} s in all")  # fmt: skip
    print_load(env)
    report = {"mode": "quick" if args.quick else "full", "environment": env, "rounds": args.rounds,
              "workers": args.workers, "corpora": corpora, "skipped": skipped,
              "targets_met": targets}  # fmt: skip
    if args.json:
        write_json(args.json, report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
