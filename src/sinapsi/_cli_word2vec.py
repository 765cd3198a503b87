"""The word-vector commands of the command line: ``sinapsi word2vec`` (train vectors on a text
file, write them in word2vec format) and ``sinapsi analogy`` (a : b :: c : ?)."""

from __future__ import annotations

import argparse
import re
import time
from pathlib import Path
from typing import Any

import numpy as np

from ._cli_predict import check_out_file
from .config import ConfigError

__all__ = ["add_analogy", "add_word2vec"]


def _word2vec(args: argparse.Namespace) -> int:
    from collections import Counter

    from .embeddings import read_corpus, train_word2vec

    corpus_path, out = Path(args.corpus), Path(args.out)
    if not corpus_path.is_file():
        raise ConfigError(
            f"corpus file {args.corpus!r} does not exist or is not a file; pass a plain-text "
            "file with one sentence per line"
        )
    check_out_file(args.out, "vectors.txt")
    try:
        counts: Counter[str] = Counter()
        for sentence in read_corpus(corpus_path):
            counts.update(sentence)
    except UnicodeDecodeError as e:
        raise ConfigError(
            f"{args.corpus}: not a UTF-8 text file (byte {e.object[e.start]:#04x} at position "
            f"{e.start}): give a plain-text file, one sentence per line, saved as UTF-8"
        ) from None
    if not counts:
        raise ConfigError(f"{args.corpus}: the corpus has no words; it needs one sentence per line")
    if not args.quiet:
        print(
            f"word2vec  {args.model} on {args.corpus}: {sum(counts.values()):,} words, "
            f"{len(counts):,} distinct; dim {args.dim}, window {args.window}, "
            f"{args.negative} negatives, {args.epochs} epochs, {args.optimizer} lr {args.lr:g}"
            + (f", {args.workers} workers" if args.workers > 1 else ""),
            flush=True,
        )
    start = time.perf_counter()
    try:
        kv = train_word2vec(
            corpus_path,
            model=args.model,
            dim=args.dim,
            window=args.window,
            negative=args.negative,
            min_count=args.min_count,
            sample=args.sample,
            epochs=args.epochs,
            batch_size=args.batch_size,
            lr=args.lr,
            optimizer=args.optimizer,
            seed=args.seed,
            verbose=0 if args.quiet else 1,
            workers=args.workers,
            cache_dir=args.cache_dir,
        )
    except (FileExistsError, NotADirectoryError, PermissionError) as e:
        if args.cache_dir is None:
            raise
        raise ConfigError(
            f"cannot use --cache-dir {args.cache_dir!r} for the encoded corpus: "
            f"{e.strerror or e}; name a folder you can write to"
        ) from None
    except ValueError as e:
        raise ConfigError(f"{args.corpus}: {_as_options(str(e))}") from None
    except MemoryError as e:
        raise ConfigError(
            f"{args.corpus}: out of memory while training ({e}); lower --dim, --negative or "
            "--window, or raise --min-count"
        ) from None
    seconds = time.perf_counter() - start
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        kv.save_word2vec_format(out, binary=args.binary)
    except (OSError, ValueError) as e:
        reason = str(e).removeprefix(f"Cannot save to {str(out)!r}: ")
        raise ConfigError(f"cannot write --out {args.out!r}: {reason}") from None
    trained = sum(counts[w] for w in kv.words) * args.epochs  # in-vocabulary words, all epochs
    print(f"vocabulary {len(kv):,} words (min count {args.min_count}), {kv.dim} dimensions")
    print(
        f"time      {seconds:.1f} s: {trained / max(seconds, 1e-9):,.0f} words/s over "
        f"{args.epochs} epoch{'s' * (args.epochs > 1)}"
    )
    kind = "binary" if args.binary else "text"
    print(f"saved     {out}  (word2vec {kind} format; try: sinapsi analogy {out} man king woman)")
    return 0


def _as_options(message: str) -> str:
    """train_word2vec's advice in the command's words: ``min_count=5`` is ``--min-count 5``."""
    return re.sub(
        r"\b(min_count|sample)\b(=?)",
        lambda m: "--" + m[1].replace("_", "-") + (" " if m[2] else ""),
        message,
    )


def _analogy(args: argparse.Namespace) -> int:
    from .embeddings import KeyedVectors

    try:
        kv = KeyedVectors.load_word2vec_format(args.vectors, binary=args.binary)
    except FileNotFoundError:
        raise ConfigError(f"vectors file {args.vectors!r} does not exist") from None
    except IsADirectoryError:
        raise ConfigError(f"vectors file {args.vectors!r} is a folder") from None
    except ValueError as e:
        binary_like = not args.binary and "UTF-8" in str(e)
        hint = " (a binary file? add --binary)" if binary_like else ""
        raise ConfigError(f"{e}{hint}") from None
    try:
        answers = kv.analogy(args.a, args.b, args.c, method=args.method, topn=args.topn)
    except KeyError as e:
        raise ConfigError(f"{args.vectors}: {e.args[0]}") from None
    if not answers:
        raise ConfigError(
            f"{args.vectors} holds no word besides {args.a}, {args.b} and {args.c} "
            f"({len(kv)} words)"
        )
    print(f"{args.a} : {args.b} :: {args.c} : ?   ({args.b} - {args.a} + {args.c}, {args.method})")
    width = max([len(w) for w, _ in answers] + [4])
    for i, (word, score) in enumerate(answers, 1):
        print(f"{i:>3}. {word:<{width}}  {score:.4f}")
    return 0


def _number(strict: bool) -> Any:
    """An argparse type: a finite float > 0 (``strict``) or >= 0."""

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            value = -1.0
        if not ((value > 0 if strict else value >= 0) and np.isfinite(value)):
            what = "a positive number" if strict else "a number >= 0"
            raise argparse.ArgumentTypeError(f"must be {what}, got {text!r}")
        return value

    return parse


def add_word2vec(sub: Any) -> None:
    from .cli import _int_at_least  # cli imports this module first

    p = sub.add_parser(
        "word2vec",
        help="train word vectors (skip-gram or CBOW) on a text file",
        description="Train word2vec with negative sampling on CORPUS (plain text, one sentence "
        "per line; lower-cased and split into words) and write the vectors in word2vec format, "
        "which gensim and 'sinapsi analogy' read.",
    )
    p.add_argument("corpus", metavar="CORPUS.txt", help="the text to learn from")
    p.add_argument("--out", required=True, metavar="FILE", help="where to write the vectors")
    p.add_argument("--binary", action="store_true", help="binary word2vec format (default: text)")
    p.add_argument(
        "--model", choices=("skipgram", "cbow"), default="skipgram", help="(default: %(default)s)"
    )
    p.add_argument("--dim", type=_int_at_least(1), default=100, help="vector size (default: 100)")
    p.add_argument(
        "--window", type=_int_at_least(1), default=5, help="context words each side (default: 5)"
    )
    p.add_argument(
        "--negative", type=_int_at_least(1), default=5, help="negatives per pair (default: 5)"
    )
    p.add_argument(
        "--min-count",
        type=_int_at_least(1),
        default=5,
        help="drop words seen fewer times (default: 5)",
    )
    p.add_argument(
        "--sample",
        type=_number(strict=False),
        default=1e-3,
        help="subsampling of frequent words; 0 keeps all (default: 1e-3)",
    )
    p.add_argument("--epochs", type=_int_at_least(1), default=5, help="(default: 5)")
    p.add_argument(
        "--batch-size",
        type=_int_at_least(1),
        help="pairs per step (default: 4096 / workers, so 4096 pairs are in flight, or fewer "
        "for a small vocabulary, where each word would take too many steps at once)",
    )
    p.add_argument(
        "--lr", type=_number(strict=True), default=0.025, help="learning rate (default: 0.025)"
    )
    p.add_argument(
        "--optimizer",
        choices=("sgd", "adam", "adagrad"),
        default="sgd",
        help="sgd decays lr linearly, as word2vec (default: sgd)",
    )
    p.add_argument(
        "--seed", type=_int_at_least(0), help="for identical vectors run to run (with 1 worker)"
    )
    p.add_argument(
        "--workers",
        type=_int_at_least(1),
        default=1,
        help="training threads, lock-free as word2vec.c's: faster on several cores, but the "
        "vectors then vary run to run even with --seed (default: 1)",
    )
    p.add_argument(
        "--cache-dir",
        metavar="DIR",
        help="where the encoded corpus goes when it exceeds a quarter of the memory available; "
        "kept there and reused by the next training of the same file with the same --min-count "
        "(default: a temporary folder, removed after training)",
    )
    p.add_argument("--quiet", action="store_true", help="no plan and no progress bar")
    p.set_defaults(handler=_word2vec)


def add_analogy(sub: Any) -> None:
    from .cli import _int_at_least  # cli imports this module first

    p = sub.add_parser(
        "analogy",
        help="a : b :: c : ?  with word vectors (man king woman -> queen)",
        description="Answer 'a is to b as c is to ?' with the words nearest to b - a + c, e.g. "
        "'sinapsi analogy vectors.txt man king woman' -> queen. The three words themselves are "
        "left out of the answers.",
    )
    p.add_argument("vectors", metavar="VECTORS", help="a word2vec-format file")
    p.add_argument("a", help="e.g. man")
    p.add_argument("b", help="e.g. king")
    p.add_argument("c", help="e.g. woman")
    p.add_argument("--binary", action="store_true", help="VECTORS is in binary format")
    p.add_argument("--topn", type=_int_at_least(1), default=5, help="answers shown (default: 5)")
    p.add_argument(
        "--method",
        choices=("3cosadd", "3cosmul"),
        default="3cosadd",
        help="3cosadd: cosine with b - a + c; 3cosmul: Levy & Goldberg's (default: 3cosadd)",
    )
    p.set_defaults(handler=_analogy)
