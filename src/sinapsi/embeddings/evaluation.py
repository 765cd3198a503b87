"""Evaluation of word vectors: analogy accuracy (Google's questions-words.txt) and word-pair
similarity correlation (wordsim353-style files); :class:`~.vectors.KeyedVectors`' methods
``evaluate_analogies`` / ``evaluate_word_pairs`` call these."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import numpy as np

from .._errors import unknown_choice

if TYPE_CHECKING:
    from .vectors import KeyedVectors

__all__ = ["evaluate_analogies", "evaluate_word_pairs"]


def _lower_index(kv: KeyedVectors) -> dict[str, int]:
    # case-insensitive lookup; the first (most frequent) spelling wins, as in gensim
    index: dict[str, int] = {}
    for i, w in enumerate(kv.words):
        index.setdefault(w.lower(), i)
    return index


def evaluate_analogies(
    kv: KeyedVectors, path: str | os.PathLike[str], method: str = "3cosadd"
) -> dict:
    """Accuracy on a Google ``questions-words.txt`` file (": section" headers, 4 words a line).

    Case-insensitive. Questions with an out-of-vocabulary word are skipped and counted.
    Returns ``{"accuracy", "correct", "total", "skipped_oov", "sections"}`` where
    ``sections`` maps each name to ``{"accuracy", "correct", "total", "skipped_oov"}``;
    accuracy is nan when no question was answerable.
    """
    if method not in ("3cosadd", "3cosmul"):
        raise unknown_choice(
            "method", "KeyedVectors.evaluate_analogies", ("3cosadd", "3cosmul"), method
        )
    lower = _lower_index(kv)
    sections: dict[str, dict[str, Any]] = {}
    current: dict[str, Any] | None = None
    n = kv.normed
    for lineno, line in _text_lines(path):
        line = line.strip()
        if not line:
            continue
        if line.startswith(":"):
            name = line[1:].strip()
            current = sections.setdefault(name, {"correct": 0, "total": 0, "skipped_oov": 0})
            continue
        if current is None:
            current = sections.setdefault("", {"correct": 0, "total": 0, "skipped_oov": 0})
        parts = line.lower().split()
        if len(parts) != 4:
            raise ValueError(
                f"{path}, line {lineno}: expected 4 words (a b c d for a : b :: c : d), "
                f"found {len(parts)}: {line!r:.80}"
            )
        if any(p not in lower for p in parts):
            current["skipped_oov"] += 1
            continue
        ia, ib, ic, iexp = (lower[p] for p in parts)
        if method == "3cosadd":
            mean = n[ib] + n[ic] - n[ia]
            norm = np.linalg.norm(mean)
            scores = n @ (mean / norm if norm > 0 else mean)
        else:
            shifted = (1.0 + n @ n[[ib, ic, ia]].T) / 2.0
            scores = shifted[:, 0] * shifted[:, 1] / (shifted[:, 2] + 1e-3)
        scores[[ia, ib, ic]] = -np.inf
        current["total"] += 1
        current["correct"] += int(np.argmax(scores) == iexp)
    for s in sections.values():
        s["accuracy"] = s["correct"] / s["total"] if s["total"] else float("nan")
    correct = sum(s["correct"] for s in sections.values())
    total = sum(s["total"] for s in sections.values())
    return {
        "accuracy": correct / total if total else float("nan"),
        "correct": correct,
        "total": total,
        "skipped_oov": sum(s["skipped_oov"] for s in sections.values()),
        "sections": sections,
    }


def evaluate_word_pairs(kv: KeyedVectors, path: str | os.PathLike[str]) -> dict:
    """Spearman (and Pearson) correlation with human scores in a wordsim353-style file.

    Each line is ``word1, word2, score`` separated by tabs or commas; lines starting with
    '#' and a header row (first row whose score is not a number) are skipped. Pairs with an
    out-of-vocabulary word (case-insensitive) are skipped and counted. Returns
    ``{"spearman", "spearman_pvalue", "pearson", "pairs", "skipped_oov"}``.
    """
    from scipy import stats

    lower = _lower_index(kv)
    gold: list[float] = []
    model: list[float] = []
    skipped = 0
    first_row = True
    n = kv.normed
    for lineno, line in _text_lines(path):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        parts = [p.strip() for p in line.split("\t" if "\t" in line else ",")]
        if len(parts) != 3:
            raise ValueError(
                f"{path}, line {lineno}: expected 3 tab- or comma-separated fields "
                f"(word1, word2, score), found {len(parts)}: {line!r:.80}"
            )
        try:
            score = float(parts[2])
        except ValueError:
            if first_row:
                first_row = False
                continue  # header
            raise ValueError(
                f"{path}, line {lineno}: the score {parts[2]!r} is not a number"
            ) from None
        first_row = False
        if not np.isfinite(score):
            raise ValueError(
                f"{path}, line {lineno}: the score {parts[2]!r} is not a finite number"
            )
        a, b = parts[0].lower(), parts[1].lower()
        if a not in lower or b not in lower:
            skipped += 1
            continue
        gold.append(score)
        model.append(float(n[lower[a]] @ n[lower[b]]))
    if len(gold) < 2:
        raise ValueError(
            f"{path}: only {len(gold)} pair(s) with both words in the vocabulary "
            f"({skipped} skipped as out-of-vocabulary); need at least 2 for a correlation"
        )
    spearman = stats.spearmanr(gold, model)
    return {
        "spearman": float(spearman.statistic),
        "spearman_pvalue": float(spearman.pvalue),
        "pearson": float(stats.pearsonr(gold, model).statistic),
        "pairs": len(gold),
        "skipped_oov": skipped,
    }


def _text_lines(path: Any) -> Iterator[tuple[int, str]]:
    """``(line number, line)`` of a UTF-8 text file; ValueError naming it if it is not one."""
    with open(path, encoding="utf-8") as f:
        try:
            yield from enumerate(f, 1)
        except UnicodeDecodeError as e:
            raise ValueError(f"{path}: not a UTF-8 text file ({e})") from None
