"""``sinapsi grid``: run a ``sinapsi train`` configuration over a grid of settings and seeds.

See :mod:`sinapsi.grid` for the grid file and the files written. Exit codes: 0 every run
finished (ok) or diverged (training blew up: an outcome of the experiment, recorded as such,
as the exploding-gradients grid shows); 1 some run failed or missed a target (see results.csv;
rerunning retries the failed ones); 2 a bad grid file or option (one line on stderr, nothing
run); 130 Ctrl-C (results.csv holds every run finished before it).

Engines (:mod:`sinapsi.grid_engines`): a local process pool (``--workers``); on a cluster,
``mpiexec -n N python -m mpi4py.futures -m sinapsi grid GRID`` (detected: rank 0 runs the
command, the N-1 other ranks the runs; ``--mpi`` is implied); or ``--mpi --workers K``, which
spawns K MPI workers. ``mpirun -n N sinapsi grid`` without ``-m mpi4py.futures`` is refused
(N copies of the grid would write the same files): one line and exit status 2 from rank 0; the
other ranks end at once with status 0, since Open MPI's mpirun ends the whole job when a rank
exits nonzero, which could cut rank 0 short before its line (mpirun's status is still 2).
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

from .grid_engines import mpi_launch, require_mpi

_FUTURES = "python -m mpi4py.futures -m sinapsi grid"


def add_grid(sub: Any) -> None:
    """Declare ``sinapsi grid`` and its options."""
    from .cli import _int_at_least  # the other commands' counts; cli imports this module first

    p = sub.add_parser(
        "grid",
        help="run a configuration over a grid of settings x seeds (results.csv, summary.csv)",
        description="Run every cell of GRID's [grid] table (the cartesian product of its lists "
        "of values for dotted keys of the sinapsi train schema) with every seed in seeds, each "
        "as sinapsi train would, into DIR/NAME/<cell>_seed<k>/; record each finished run in "
        "DIR/NAME/results.csv and each cell's mean, standard deviation and 95% interval in "
        "summary.csv (cells.csv says what each cell id stands for), and report.html: every "
        "cell's learning curves and gradient norms and the ranking against the baseline cell. "
        "Running it again skips the finished runs and retries the failed ones. Examples: "
        "examples/grids/ (vanishing, exploding, optimizers, regularization, depth_width)",
    )
    p.add_argument("grid", metavar="GRID", help="the grid file (TOML)")
    p.add_argument(
        "--workers",
        type=_int_at_least(1),
        default=None,
        metavar="N",
        help="runs at a time, each in its own process with one BLAS thread; 1 runs them in "
        f"this process (default: the number of cores, {os.cpu_count()})",
    )
    p.add_argument(
        "--mpi",
        action="store_true",
        help='run the grid on MPI workers (mpi4py.futures; pip install "sinapsi[mpi]"): '
        "without mpiexec it spawns --workers of them; under mpiexec -n N python -m "
        "mpi4py.futures -m sinapsi grid GRID (the form for a cluster) the N-1 ranks other than "
        "0 run the grid, with or without --mpi. Plain mpirun -n N sinapsi grid is refused",
    )
    p.add_argument(
        "--out", default="runs", metavar="DIR", help="where to save: DIR/NAME/ (default: runs)"
    )
    p.add_argument(
        "--quiet", action="store_true", help="only one line per finished run, no plan or totals"
    )
    p.add_argument(
        "--run-reports",
        action="store_true",
        help="also write each run's own report.html, as sinapsi train does (about a second "
        "per run; the grid's report.html is always written)",
    )
    p.set_defaults(handler=_grid)


def _engine(args: argparse.Namespace) -> tuple[str, int] | None:
    """The engine and the number of workers for ``args``, or None for a rank of ``mpirun -n N
    sinapsi grid`` other than 0 (it ends quietly with status 0: rank 0 says what to run
    instead, and exits 2)."""
    from .config import ConfigError

    launch = mpi_launch()
    if launch.size > 1 and not launch.futures:
        if launch.rank != 0:
            return None
        raise ConfigError(
            f"sinapsi grid, started as {launch.size} MPI processes, would run the whole grid "
            f"{launch.size} times into the same files: run mpiexec -n {launch.size + 1} "
            f"{_FUTURES} {args.grid} (rank 0 hands the runs to the {launch.size} other ranks), "
            "with the same options."
        )
    if launch.futures:
        if launch.size == 1:
            raise ConfigError(
                "python -m mpi4py.futures in a single MPI process has no ranks to run the grid "
                f"on: run mpiexec -n N {_FUTURES} {args.grid} with N >= 2 (N-1 workers), or "
                f"sinapsi grid {args.grid} --mpi --workers K without mpiexec."
            )
        if args.workers is not None and args.workers != launch.size - 1:
            raise ConfigError(
                f"--workers {args.workers}: under mpiexec -n {launch.size} the workers are the "
                f"ranks other than 0 ({launch.size - 1} of them); drop --workers, or change -n."
            )
        return "mpi", launch.size - 1
    workers = args.workers if args.workers is not None else os.cpu_count() or 1
    if args.mpi:
        require_mpi("sinapsi grid --mpi", spawn=True)
        return "mpi", workers
    return "local", workers


def _grid(args: argparse.Namespace) -> int:
    from .grid import load_grid, run_grid

    chosen = _engine(args)
    if chosen is None:
        return 0
    engine, workers = chosen
    grid = load_grid(args.grid)
    rows = run_grid(
        grid,
        args.out,
        workers=workers,
        log=lambda text: print(text, flush=True),
        quiet=args.quiet,
        engine=engine,
        run_reports=args.run_reports,
    )
    counts = {s: sum(r["status"] == s for r in rows) for s in ("failed", "missed")}
    if any(counts.values()):
        print(
            f"sinapsi: error: of {len(rows)} runs {counts['failed']} failed and "
            f"{counts['missed']} missed a target (see results.csv); run the grid again to retry "
            "the failed ones.",
            file=sys.stderr,
        )
        return 1
    return 0
