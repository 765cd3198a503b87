"""Run grids: one ``sinapsi train`` configuration, many variants, several seeds, one table.

A grid file is a ``sinapsi train`` TOML file plus a ``[grid]`` table that maps dotted keys of
the run schema to lists of values, and ``seeds`` (default ``[0]``)::

    [grid]
    "model.activation" = ["sigmoid", "relu"]
    "training.lr" = [0.01, 0.1]
    seeds = [0, 1, 2]

A key that names a whole section (``"training"``, ``"model"``, ``"data"``) takes a list of inline
tables, each merged into that section: one axis of settings that only make sense together
(momentum is an SGD setting; an architecture is hidden sizes and dropout)::

    "training" = [{optimizer = "sgd", lr = 0.1}, {optimizer = "adam", lr = 0.01}]

A key inside a table the base file leaves unset (``"training.early_stopping.patience"``,
``"target.accuracy"``) sets it in every run. ``baseline`` picks the cell the report compares
the others with, by id (``"c002"``) or by values (``{"model.activation" = "sigmoid"}``);
default the first cell.

The cells are the cartesian product of the lists, in file order (the last key varies fastest);
every cell runs with every seed, and the same seed gives every cell the same data split, batch
order and (where shapes allow) initial weights, so differences between cells are paired.

Cell ids are ``c000``, ``c001``, ...: short and safe as folder names whatever the values (a list
of 10 layer sizes would not be); ``cells.csv`` maps each id to its values, and ``results.csv`` and
``summary.csv`` carry the values too. Run ``k`` of cell ``c001`` goes to
``<out>/<grid name>/c001_seed<k>/``, written by :func:`sinapsi.experiment.run` as ``sinapsi train``
writes a run. :mod:`sinapsi.grid_engines` runs them (a local pool of processes, or MPI).
"""

from __future__ import annotations

import copy
import csv
import hashlib
import io
import itertools
import json
import math
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ._errors import one_line
from .config import (
    ConfigError,
    check_file,
    read_table,
    resolve_data_path,
    to_jsonable,
    validate_config,
)
from .grid_engines import run_jobs
from .io import atomic_write

__all__ = [
    "Cell", "Job", "Grid", "load_grid", "run_one", "run_grid", "DONE_STATUSES",
    "FINISHED_STATUSES",
]  # fmt: skip

# Recorded runs that a rerun skips: finished (ok, or missed a [target]) or diverged (training
# blew up: deterministic, so a rerun would blow up again). "failed" runs (an error) are retried.
DONE_STATUSES = ("ok", "missed", "diverged")
FINISHED_STATUSES = ("ok", "missed")  # the runs with test metrics
_FIXED_COLUMNS = ("name", "cell")
_RUN_COLUMNS = ("epochs", "best_epoch", "seconds", "status", "error", "config")


@dataclass(frozen=True)
class Cell:
    """One combination of the grid's values: ``values[i]`` is the value of ``Grid.keys[i]``."""

    id: str
    values: tuple[Any, ...]


@dataclass
class Job:
    """One (cell, seed) run: its checked configuration (``cfg["name"]`` is its folder name) and,
    once the runner knows it, the folder it goes to."""

    cell: Cell
    seed: int
    cfg: dict[str, Any]
    keys: tuple[str, ...]
    folder: str = ""
    report: bool = False  # write the run's own report.html too (sinapsi grid --run-reports)


@dataclass
class Grid:
    """A loaded, checked grid file: every run's configuration is checked when it is loaded, so a
    bad value stops the grid before any run starts."""

    name: str
    origin: str
    keys: list[str]
    cells: list[Cell]
    seeds: list[int]
    jobs: list[Job] = field(default_factory=list)
    baseline: str = "c000"  # the cell id the report's paired differences compare against
    description: str = ""

    def runs(self) -> list[Job]:
        """Every (cell, seed) run, cell by cell, seeds in file order."""
        return list(self.jobs)


def format_value(value: Any) -> str:
    """A grid value as the CSV files show it: strings bare, the rest as JSON (``true``,
    ``[4, 4]``)."""
    return value if isinstance(value, str) else json.dumps(value)


def _fail(origin: str, message: str) -> ConfigError:
    return ConfigError(f"{origin}: {message}")


def _read(source: Path) -> dict[str, Any]:
    check_file(source, "grid file")
    return read_table(source, "examples/grids/")


def _check_seeds(origin: str, seeds: Any) -> list[int]:
    ok = (
        isinstance(seeds, list)
        and seeds
        and all(isinstance(s, int) and not isinstance(s, bool) and s >= 0 for s in seeds)
    )
    if not ok:
        kind = "a list" if not isinstance(seeds, list) else "a non-empty list"
        raise _fail(
            origin,
            f"[grid] seeds must be {kind} of distinct non-negative integers, e.g. seeds = [0, 1, "
            f"2]. Got {seeds!r}.",
        )
    if len(set(seeds)) != len(seeds):
        raise _fail(origin, f"[grid] seeds must be distinct (a repeated seed repeats a run). "
                    f"Got {seeds!r}.")  # fmt: skip
    return list(seeds)


def _settings(base: dict[str, Any]) -> str:
    return ", ".join(
        f"{s}.{k}" for s, table in base.items() if isinstance(table, dict) for k in table
    )


def _table_setting(parts: list[str]) -> bool:
    """Whether ``parts[:-1]`` names a table of the schema whose keys the base file may leave
    unset: ``target``, or a table-valued setting such as ``training.early_stopping``."""
    from ._config_schema import _SCHEMA

    if parts[:-1] == ["target"]:
        return True
    if len(parts) != 3 or parts[0] not in _SCHEMA:
        return False
    setting = _SCHEMA[parts[0]].get(parts[1])
    return setting is not None and setting.kind == "table"


def _check_key(origin: str, key: str, values: Any, base: dict[str, Any]) -> None:
    """``key`` must name a setting of the checked base configuration (or a key inside one of its
    tables, or a whole section); its values a non-empty list (of tables, for a section). The
    values themselves are checked with each run's configuration."""
    if key in ("training.seed", "seed"):
        raise _fail(origin, f"[grid] {key!r} cannot be a grid key: list the seeds as seeds = "
                    f"{values!r} in [grid] instead.")  # fmt: skip
    if key in ("name", "description"):
        raise _fail(origin, f"[grid] {key!r} cannot be a grid key: each run is named after its "
                    "cell and seed. Remove it.")  # fmt: skip
    parts = key.split(".")
    section = len(parts) == 1 and isinstance(base.get(key), dict)
    if not section:
        node: Any = base
        for part in parts[:-1]:
            node = node.get(part) if isinstance(node, dict) else None
        known = isinstance(node, dict) and parts[-1] in node
        if not known and not _table_setting(parts):
            raise _fail(
                origin,
                f"[grid] key {key!r} is not a setting of the run schema: use a dotted key "
                f'"section.key" of a sinapsi train configuration, one of: {_settings(base)}; '
                'or a section ("training") with a list of tables.',
            )
    if not isinstance(values, list):
        raise _fail(origin, f"[grid] {key!r} must be a list of values, e.g. {key!r} = "
                    f"[{values!r}]. Got {values!r}.")  # fmt: skip
    if not values:
        raise _fail(origin, f"[grid] {key!r} is an empty list: give at least one value, or "
                    "remove the key.")  # fmt: skip
    if section:
        for value in values:
            if not isinstance(value, dict) or not value:
                raise _fail(
                    origin,
                    f"[grid] {key!r} names a whole section, so its values must be tables of "
                    f'its settings, e.g. {key!r} = [{{optimizer = "sgd"}}, {{optimizer = '
                    f'"adam"}}]. Got {value!r}.',
                )
            if key == "training" and "seed" in value:
                raise _fail(origin, "[grid] a \"training\" table cannot set seed: list the "
                            "seeds as seeds = [...] in [grid] instead.")  # fmt: skip


def _set(raw: dict[str, Any], key: str, value: Any) -> None:
    """Set ``key`` in a raw configuration; a section's table is merged into that section."""
    node = raw
    parts = key.split(".")
    for part in parts[:-1]:
        node = node.setdefault(part, {})
    if len(parts) == 1 and isinstance(value, dict) and key != "name":
        node.setdefault(key, {}).update(copy.deepcopy(value))
    else:
        node[parts[-1]] = copy.deepcopy(value)


def _baseline(origin: str, choice: Any, keys: list[str], cells: list[Cell]) -> str:
    """The baseline cell's id from ``[grid] baseline``: a cell id, or a table of grid keys ->
    values that picks exactly one cell. Default: the first cell."""
    if choice is None:
        return cells[0].id
    ids = [c.id for c in cells]
    if isinstance(choice, str):
        if choice not in ids:
            raise _fail(
                origin,
                f"[grid] baseline = {choice!r} is not a cell: use one of {', '.join(ids)} "
                "(cells.csv lists their values), or a table of values such as baseline = "
                '{"model.activation" = "sigmoid"}.',
            )
        return choice
    if not isinstance(choice, dict) or not choice:
        raise _fail(origin, f"[grid] baseline must be a cell id (\"c000\") or a table of grid "
                    f"keys and values. Got {choice!r}.")  # fmt: skip
    for key in choice:
        if key not in keys:
            raise _fail(origin, f"[grid] baseline key {key!r} is not a grid key: use some of "
                        f"{', '.join(repr(k) for k in keys)}.")  # fmt: skip
    found = [c.id for c in cells if all(c.values[keys.index(k)] == v for k, v in choice.items())]
    if len(found) != 1:
        what = "no cell" if not found else f"{len(found)} cells ({', '.join(found)})"
        raise _fail(origin, f"[grid] baseline {choice!r} matches {what}: give values that pick "
                    "exactly one cell.")  # fmt: skip
    return found[0]


def load_grid(path: str | Path) -> Grid:
    """Read a grid file, expand it into cells x seeds and check every run's configuration.

    Errors are one line (:class:`~sinapsi.config.ConfigError`) naming the file and the key; a
    value the run schema refuses gets ``sinapsi train``'s error, prefixed with the cell.
    """
    from ._runs import check_run_name

    source = Path(path)
    origin = str(path)
    raw = _read(source)
    table = raw.pop("grid", None)
    if table is None:
        raise _fail(origin, 'no [grid] table: add one, e.g. [grid] "training.lr" = [0.01, 0.1] '
                    "(to train this file once, use sinapsi train).")  # fmt: skip
    if not isinstance(table, dict):
        raise _fail(origin, f"[grid] must be a table of dotted keys. Got {table!r}.")
    base = validate_config(raw, origin)
    name = base["name"] if base["name"] is not None else check_run_name(source.stem, origin)
    seeds = _check_seeds(origin, table.get("seeds", [0]))
    keys = [k for k in table if k not in ("seeds", "baseline")]
    if not keys:
        raise _fail(origin, '[grid] has no keys to vary: add one, e.g. "training.lr" = [0.01, '
                    "0.1] (to train this file once, use sinapsi train).")  # fmt: skip
    for key in keys:
        _check_key(origin, key, table[key], base)
    combos = list(itertools.product(*(table[k] for k in keys)))
    cells = [Cell(f"c{i:03d}", tuple(values)) for i, values in enumerate(combos)]
    jobs = []
    for cell in cells:
        where = ", ".join(f"{k}={v!r}" for k, v in zip(keys, cell.values, strict=True))
        cell_origin = f"{origin} [grid cell {cell.id}: {where}]"
        for seed in seeds:
            run_raw = copy.deepcopy(raw)
            for key, value in zip(keys, cell.values, strict=True):
                _set(run_raw, key, value)
            _set(run_raw, "training.seed", seed)
            run_raw["name"] = f"{cell.id}_seed{seed}"
            cfg = validate_config(run_raw, cell_origin)
            resolve_data_path(cfg, source.parent)  # as load_config: from the grid file's folder
            jobs.append(Job(cell, seed, cfg, tuple(keys)))
    baseline = _baseline(origin, table.get("baseline"), keys, cells)
    return Grid(name, origin, keys, cells, seeds, jobs, baseline, base["description"])


# ------------------------------------------------------------------------------ one run
def config_hash(cfg: dict[str, Any]) -> str:
    """A short fingerprint of a run's whole configuration: a rerun after the grid file changed
    (more epochs, another data set) redoes the runs whose configuration changed."""
    text = json.dumps(to_jsonable(cfg), sort_keys=True)
    return hashlib.blake2s(text.encode("utf-8"), digest_size=6).hexdigest()


def _base_row(job: Job) -> dict[str, str]:
    """The columns that identify a run; a results.csv row is reused only when all match."""
    row = {"name": job.cfg["name"], "cell": job.cell.id}
    row.update({k: format_value(v) for k, v in zip(job.keys, job.cell.values, strict=True)})
    row["seed"] = str(job.seed)
    row["config"] = config_hash(job.cfg)
    return row


def one_line_error(error: BaseException) -> str:
    """A run's error as results.csv records it: our own errors (a bad configuration, a run
    that diverged) say what they are, others are prefixed with their type."""
    from .experiment import Diverged

    return one_line(error, ours=(ConfigError, Diverged))


def run_one(job: Job) -> dict[str, str]:
    """Train one run into ``job.folder`` (replacing a folder that no results.csv row claims);
    return its results.csv row. A run whose training blew up is a ``diverged`` row, any other
    Exception a ``failed`` row, each with its one-line error, so one bad run does not stop the
    grid; Ctrl-C is not caught."""
    from .experiment import Diverged, run

    began = time.perf_counter()
    row = _base_row(job)
    try:
        with warnings.catch_warnings(record=True):
            warnings.simplefilter("always")  # a run's warnings do not stop it, as in train
            result = run(
                job.cfg,
                job.folder,
                verbose=0,
                origin=job.cfg["name"],
                overwrite=True,
                report=job.report,
                measure_train=True,  # the train_* columns: the overfitting gap
            )
    except Exception as e:
        status = "diverged" if isinstance(e, Diverged) else "failed"
        row.update(status=status, error=one_line_error(e))
        row["seconds"] = repr(round(time.perf_counter() - began, 3))
        return row
    history = result.history.history
    for metric, value in result.test.items():
        row[f"test_{metric}"] = repr(float(value))
    for metric, value in result.train.items():  # measured as the test set's: the gap
        row[f"train_{metric}"] = repr(float(value))
    for key, values in history.items():  # the last epoch's validation numbers
        if key.startswith("val_") and values:
            row[key] = repr(float(values[-1]))
    row["epochs"] = str(result.epochs_run)
    best = result.history.epoch.index(result.best_epoch)  # where the monitored value was best
    row["best_epoch"] = str(result.best_epoch)
    row[f"best_{result.monitor}"] = repr(float(history[result.monitor][best]))
    row["seconds"] = repr(round(result.total_seconds, 3))
    row["status"] = "missed" if result.missed else "ok"
    row["error"] = "; ".join(result.missed)
    return row


# ------------------------------------------------------------------------------ tables
def _write_csv(path: Path, columns: Sequence[str], rows: Sequence[dict[str, str]]) -> None:
    text = io.StringIO()
    writer = csv.DictWriter(
        text, fieldnames=list(columns), extrasaction="ignore", lineterminator="\n"
    )
    writer.writeheader()
    writer.writerows(rows)
    data = text.getvalue().encode("utf-8")
    atomic_write(path, lambda f: f.write(data))


def read_results(path: Path) -> list[dict[str, str]]:
    """The rows of an earlier results.csv; none when it is missing or unreadable."""
    try:
        with open(path, newline="", encoding="utf-8") as f:
            return list(csv.DictReader(f))
    except (OSError, UnicodeDecodeError, csv.Error):
        return []


def _metric_columns(rows: Sequence[dict[str, str]]) -> list[str]:
    return sorted({k for row in rows for k in row if k.startswith("test_")})


def _epoch_columns(rows: Sequence[dict[str, str]]) -> list[str]:
    """The training set's numbers (measured as the test set's), the last epoch's validation
    ones and the best value of the monitored one (``best_val_loss``, at ``best_epoch``):
    train_loss, val_loss, then the other train_/val_/best_ columns."""
    found = {k for row in rows for k in row if k.startswith(("train_", "val_", "best_"))}
    found -= {"train_loss", "val_loss", "best_epoch"}
    return ["train_loss", "val_loss", *sorted(found)]


def write_results(path: Path, grid: Grid, rows: Sequence[dict[str, str]]) -> None:
    """Rewrite results.csv whole and atomically, rows in grid order (whatever order the workers
    finished in), so a reader never sees half a file and the file does not depend on --workers."""
    columns = [*_FIXED_COLUMNS, *grid.keys, "seed", *_metric_columns(rows)]
    columns += [*_epoch_columns(rows), *_RUN_COLUMNS]
    _write_csv(path, columns, rows)


def t_interval(values: Sequence[float], level: float = 0.95) -> tuple[float, float, float, float]:
    """``(mean, std, low, high)``: the sample standard deviation (ddof=1) and the ``level``
    interval of the mean from Student's t distribution; NaN where n is too small for them."""
    from scipy import stats

    n = len(values)
    if n == 0:
        return (math.nan,) * 4
    mean = math.fsum(values) / n
    if n == 1:
        return mean, math.nan, math.nan, math.nan
    std = math.sqrt(math.fsum((v - mean) ** 2 for v in values) / (n - 1))
    half = float(stats.t.ppf(0.5 + level / 2, n - 1)) * std / math.sqrt(n)
    return mean, std, mean - half, mean + half


def _number(x: float) -> str:
    return "" if math.isnan(x) else repr(x)


def write_summary(path: Path, grid: Grid, rows: Sequence[dict[str, str]]) -> None:
    """summary.csv: per cell, the number of finished runs (n: status ok or missed), diverged
    and failed ones and, for each test metric and the last epoch's training and validation
    numbers, the mean, the standard deviation and the 95% t interval of the mean over the
    finished seeds."""
    metrics = _metric_columns(rows)
    metrics += [c for c in _epoch_columns(rows) if any(r.get(c) for r in rows)]
    out = []
    for cell in grid.cells:
        mine = [r for r in rows if r["cell"] == cell.id]
        done = [r for r in mine if r.get("status") in FINISHED_STATUSES]
        line = {"cell": cell.id, "n": str(len(done))}
        for status in ("diverged", "failed"):
            line[status] = str(sum(r.get("status") == status for r in mine))
        line.update({k: format_value(v) for k, v in zip(grid.keys, cell.values, strict=True)})
        for metric in metrics:
            values = [float(r[metric]) for r in done if r.get(metric)]
            stats_ = t_interval(values)
            for suffix, x in zip(("mean", "std", "ci_low", "ci_high"), stats_, strict=True):
                line[f"{metric}_{suffix}"] = _number(x)
        out.append(line)
    columns = ["cell", *grid.keys, "n", "diverged", "failed"]
    columns += [f"{m}_{s}" for m in metrics for s in ("mean", "std", "ci_low", "ci_high")]
    _write_csv(path, columns, out)


def write_cells(path: Path, grid: Grid) -> None:
    """cells.csv: what each cell id stands for."""
    rows = [
        {"cell": c.id, **{k: format_value(v) for k, v in zip(grid.keys, c.values, strict=True)}}
        for c in grid.cells
    ]
    _write_csv(path, ["cell", *grid.keys], rows)


def describe(row: dict[str, str]) -> str:
    """One printed line for a finished run: cell, seed, test metrics, time, status."""
    metrics = "  ".join(
        f"{k[5:]} {float(v):.4f}" for k, v in sorted(row.items()) if k.startswith("test_") and v
    )
    tail = f"  {row['error']}" if row.get("error") else ""
    metrics = f"  {metrics}" if metrics else ""
    return (
        f"{row['cell']} seed {row['seed']}: {row['status']}{metrics}  "
        f"({float(row.get('seconds') or 0):.1f} s){tail}"
    )


# ------------------------------------------------------------------------------ the grid
def run_grid(
    grid: Grid,
    out: str | Path,
    workers: int = 1,
    log: Callable[[str], None] = print,
    quiet: bool = False,
    engine: str = "local",
    report: bool = True,
    run_reports: bool = False,
) -> list[dict[str, str]]:
    """Run every (cell, seed) of ``grid`` not yet recorded into ``<out>/<grid name>/``; return
    all rows of results.csv.

    Resume: a results.csv row with status ok or missed whose values and configuration hash match
    the run's and whose folder exists is kept and its run skipped; failed runs are retried.
    results.csv and summary.csv are rewritten after each finished run, so Ctrl-C (or a crash)
    loses only the runs in flight. ``workers`` > 1 runs them in a local process pool
    (:func:`run_jobs`); 1 runs them here, one after another; ``engine="mpi"`` sends them to the
    processes of an MPI job (:mod:`sinapsi.grid_engines`). At the end ``report.html`` shows
    every cell's curves, gradient norms and the ranking against the baseline cell
    (:func:`sinapsi.viz.write_grid_report`; ``report=False`` skips it). Each run's folder holds
    what ``sinapsi train`` writes but its report.html (about a second of drawing per run), unless
    ``run_reports``.
    """
    folder = Path(out) / grid.name
    folder.mkdir(parents=True, exist_ok=True)
    results, summary = folder / "results.csv", folder / "summary.csv"
    jobs = []
    for job in grid.runs():
        job.folder = str(folder / job.cfg["name"])
        job.report = run_reports
        jobs.append(job)
    wanted = {job.cfg["name"]: _base_row(job) for job in jobs}
    kept: dict[str, dict[str, str]] = {}
    for row in read_results(results):
        base = wanted.get(row.get("name", ""))
        if (
            base is not None
            and all(row.get(k) == v for k, v in base.items())
            and row.get("status") in DONE_STATUSES
            and (row["status"] == "diverged" or (folder / row["name"]).is_dir())
        ):
            kept[row["name"]] = row
    order = {name: i for i, name in enumerate(wanted)}
    rows = dict(kept)
    todo = [job for job in jobs if job.cfg["name"] not in kept]
    write_cells(folder / "cells.csv", grid)
    if not quiet:
        log(
            f"sinapsi grid: {len(grid.cells)} cells x {len(grid.seeds)} seeds = {len(jobs)} "
            f"runs into {folder}/ ({len(kept)} done before, {len(todo)} to run, "
            f"{min(workers, max(len(todo), 1))} workers)"
        )

    def record(row: dict[str, str]) -> None:
        rows[row["name"]] = row
        ordered = sorted(rows.values(), key=lambda r: order[r["name"]])
        write_results(results, grid, ordered)
        write_summary(summary, grid, ordered)
        log(f"[{len(rows)}/{len(jobs)}] {describe(row)}")

    ordered = sorted(rows.values(), key=lambda r: order[r["name"]])
    write_results(results, grid, ordered)  # rows of an older grid file go
    write_summary(summary, grid, ordered)
    began = time.perf_counter()
    run_jobs(todo, workers, record, engine=engine)
    ordered = sorted(rows.values(), key=lambda r: order[r["name"]])
    page = None
    if report:
        from .viz import write_grid_report

        page = write_grid_report(folder / "report.html", grid, ordered, baseline=grid.baseline)
    if not quiet:
        statuses = ("ok", "missed", "diverged", "failed")
        counts = {s: sum(r["status"] == s for r in ordered) for s in statuses}
        log(
            f"sinapsi grid: {counts['ok']} ok, {counts['missed']} missed a target, "
            f"{counts['diverged']} diverged, {counts['failed']} failed in "
            f"{time.perf_counter() - began:.1f} s: {results}, {summary}"
            + (f", {page}" if page is not None else "")
        )
    return ordered
