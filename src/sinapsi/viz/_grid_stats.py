"""The numbers behind a grid's report.html: per-cell summaries, paired differences against a
baseline cell, and mean curves with their bands.

Kept apart from the drawing (:mod:`sinapsi.viz.grid_report`) so each number can be checked
against an independent computation without drawing anything.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..grid import FINISHED_STATUSES as FINISHED  # the runs that have test metrics
from ..grid import t_interval
from ..train.metrics import LOWER_IS_BETTER

_PRIMARY = ("test_accuracy", "test_r2", "test_loss")


def primary_metric(rows: Sequence[dict[str, str]]) -> str | None:
    """The column the ranking sorts on: test_accuracy if any finished run has it, else test_r2,
    else test_loss, else the first other test_ column; None when no run has a test metric."""
    present = {k for r in rows for k, v in r.items() if k.startswith("test_") and v}
    for name in (*_PRIMARY, *sorted(present)):
        if name in present:
            return name
    return None


def higher_is_better(metric: str) -> bool:
    """False for a loss or an error (loss, mae, rmse, mse), True for a score."""
    return metric.removeprefix("test_").removeprefix("val_") not in LOWER_IS_BETTER


def _float(text: str | None) -> float:
    try:
        return float(text) if text else math.nan
    except ValueError:
        return math.nan


def by_seed(rows: Sequence[dict[str, str]], cell: str, metric: str) -> dict[int, float]:
    """``{seed: value}`` of ``metric`` over the cell's finished runs with a finite value."""
    out = {}
    for row in rows:
        if row.get("cell") == cell and row.get("status") in FINISHED:
            value = _float(row.get(metric))
            if math.isfinite(value):
                out[int(row["seed"])] = value
    return out


@dataclass
class Estimate:
    """A mean over seeds with its 95% t interval (NaN where n is too small)."""

    n: int
    mean: float
    low: float
    high: float


def estimate(values: Sequence[float]) -> Estimate:
    mean, _, low, high = t_interval(list(values))
    return Estimate(len(values), mean, low, high)


@dataclass
class Paired:
    """``cell - baseline`` over the seeds both finished: mean difference and its 95% t interval,
    how many seeds the cell did better on, and the paired t-test's p-value."""

    n: int
    mean: float
    low: float
    high: float
    wins: int
    p: float


def paired(cell: dict[int, float], base: dict[int, float], higher: bool) -> Paired:
    """Paired comparison over the common seeds (same seed: same split, initial weights and batch
    order, so the seed-to-seed noise cancels in the difference)."""
    from scipy import stats

    seeds = sorted(set(cell) & set(base))
    diffs = [cell[s] - base[s] for s in seeds]
    est = estimate(diffs)
    wins = sum(d > 0 if higher else d < 0 for d in diffs)
    p = math.nan
    if len(seeds) >= 2:
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")  # equal differences: t is infinite or undefined
            p = float(stats.ttest_rel([cell[s] for s in seeds], [base[s] for s in seeds]).pvalue)
    return Paired(len(seeds), est.mean, est.low, est.high, wins, p)


@dataclass
class CellRow:
    """One line of the ranking table."""

    cell: Any  # sinapsi.grid.Cell
    index: int  # the cell's place in the grid
    counts: dict[str, int]  # ok, missed, diverged, failed, not run
    primary: Estimate
    loss: Estimate
    diff: Paired | None  # None for the baseline itself

    @property
    def finished(self) -> int:
        return self.counts["ok"] + self.counts["missed"]


STATUSES = ("ok", "missed", "diverged", "failed")


def ranking(
    grid: Any, rows: Sequence[dict[str, str]], baseline: str, metric: str | None
) -> list[CellRow]:
    """Every cell's line, best ``metric`` mean first; cells without a finished run last, in grid
    order."""
    higher = metric is None or higher_is_better(metric)
    base = by_seed(rows, baseline, metric) if metric else {}
    out = []
    for index, cell in enumerate(grid.cells):
        mine = [r for r in rows if r.get("cell") == cell.id]
        counts = {s: sum(r.get("status") == s for r in mine) for s in STATUSES}
        counts["not run"] = max(0, len(grid.seeds) - len({r.get("seed") for r in mine}))
        values = by_seed(rows, cell.id, metric) if metric else {}
        losses = by_seed(rows, cell.id, "test_loss")
        diff = None if cell.id == baseline else paired(values, base, higher)
        primary = estimate([values[s] for s in sorted(values)])
        loss = estimate([losses[s] for s in sorted(losses)])
        out.append(CellRow(cell, index, counts, primary, loss, diff))

    def key(row: CellRow) -> tuple[bool, float, int]:
        mean = row.primary.mean
        missing = math.isnan(mean)
        return missing, 0.0 if missing else (-mean if higher else mean), row.index

    return sorted(out, key=key)


@dataclass
class Band:
    """A cell's curve: per epoch (1-based), the mean over the runs still going, the lowest and
    highest run, and how many runs that is."""

    epochs: np.ndarray
    mean: np.ndarray
    low: np.ndarray
    high: np.ndarray
    count: np.ndarray


def band(series: Sequence[Sequence[float]]) -> Band | None:
    """Mean and min-max band of curves of possibly different lengths (runs stopped early by early
    stopping): at each epoch, over the runs that reached it with a finite value. None when there
    is no value at all."""
    series = [np.asarray(s, dtype=float).ravel() for s in series]
    length = max((s.size for s in series), default=0)
    if length == 0:
        return None
    table = np.full((len(series), length), np.nan)
    for i, s in enumerate(series):
        table[i, : s.size] = s
    finite = np.isfinite(table)
    count = finite.sum(axis=0)
    if not count.any():
        return None
    seen = count > 0
    total = np.where(finite, table, 0.0).sum(axis=0)
    mean = np.divide(total, count, out=np.full(length, np.nan), where=seen)
    low = np.where(seen, np.where(finite, table, np.inf).min(axis=0), np.nan)
    high = np.where(seen, np.where(finite, table, -np.inf).max(axis=0), np.nan)
    return Band(np.arange(1, length + 1, dtype=float), mean, low, high, count)
