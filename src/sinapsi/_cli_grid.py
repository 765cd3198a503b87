"""``sinapsi grid``: run a ``sinapsi train`` configuration over a grid of settings and seeds.

See :mod:`sinapsi.grid` for the grid file and the files written. Exit codes: 0 every run
finished (ok); 1 some run failed or missed a target (see results.csv; rerunning retries the
failed ones); 2 a bad grid file or option (one line on stderr, nothing run); 130 Ctrl-C
(results.csv holds every run finished before it).
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any


def _workers(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a whole number >= 1, got {text!r}")
    return value


def add_grid(sub: Any) -> None:
    """Declare ``sinapsi grid`` and its options."""
    p = sub.add_parser(
        "grid",
        help="run a configuration over a grid of settings x seeds (results.csv, summary.csv)",
        description="Run every cell of GRID's [grid] table (the cartesian product of its lists "
        "of values for dotted keys of the sinapsi train schema) with every seed in seeds, each "
        "as sinapsi train would, into DIR/NAME/<cell>_seed<k>/; record each finished run in "
        "DIR/NAME/results.csv and each cell's mean, standard deviation and 95% interval in "
        "summary.csv (cells.csv says what each cell id stands for). Running it again skips the "
        "finished runs and retries the failed ones. Example: examples/grids/optimizers.toml",
    )
    p.add_argument("grid", metavar="GRID", help="the grid file (TOML)")
    p.add_argument(
        "--workers",
        type=_workers,
        default=None,
        metavar="N",
        help="runs at a time, each in its own process with one BLAS thread; 1 runs them in "
        f"this process (default: the number of cores, {os.cpu_count()})",
    )
    p.add_argument(
        "--out", default="runs", metavar="DIR", help="where to save: DIR/NAME/ (default: runs)"
    )
    p.add_argument(
        "--quiet", action="store_true", help="only one line per finished run, no plan or totals"
    )
    p.set_defaults(handler=_grid)


def _grid(args: argparse.Namespace) -> int:
    from .grid import load_grid, run_grid

    grid = load_grid(args.grid)
    workers = args.workers if args.workers is not None else os.cpu_count() or 1
    rows = run_grid(
        grid,
        args.out,
        workers=workers,
        log=lambda text: print(text, flush=True),
        quiet=args.quiet,
    )
    bad = [r for r in rows if r["status"] != "ok"]
    if bad:
        failed = sum(r["status"] == "failed" for r in bad)
        print(
            f"sinapsi: error: {failed} of {len(rows)} runs failed and {len(bad) - failed} missed "
            "a target (see results.csv); run the grid again to retry the failed ones.",
            file=sys.stderr,
        )
        return 1
    return 0
