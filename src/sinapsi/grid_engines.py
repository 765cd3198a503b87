"""Where a grid's runs execute: here, one after another; a local pool of processes; or (the
``--mpi`` engine) the processes of an MPI job. Each calls :func:`sinapsi.grid.run_one` on a
:class:`~sinapsi.grid.Job` and hands each finished row back to the caller, which records it.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import multiprocessing
import os
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .grid import Job

__all__ = ["run_jobs", "one_blas_thread_env", "pin_blas"]

_BLAS_VARIABLES = (
    "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "VECLIB_MAXIMUM_THREADS",
    "NUMEXPR_NUM_THREADS",
)  # fmt: skip
_limits: Any = None  # the worker's threadpoolctl limit, kept alive for the worker's life
_interrupted = False  # set in a worker by Ctrl-C: the runs still queued to it are skipped


@contextlib.contextmanager
def one_blas_thread_env() -> Iterator[None]:
    """Set the BLAS thread variables to 1 while worker processes start (they read them when
    NumPy loads), then restore the parent's: N workers x N BLAS threads would oversubscribe the
    cores and run slower than N workers of one thread."""
    saved = {name: os.environ.get(name) for name in _BLAS_VARIABLES}
    os.environ.update({name: "1" for name in _BLAS_VARIABLES})
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def pin_blas() -> Any:
    """Limit the BLAS already loaded in this process to one thread (threadpoolctl, where
    installed); returns the limiter, or None."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return None
    return threadpool_limits(limits=1)


def _init_worker() -> None:
    global _limits
    _limits = pin_blas()


def _worker_run(job: Job) -> dict[str, str] | None:
    """:func:`run_one` in a pool worker. After a Ctrl-C (the terminal sends SIGINT to the whole
    process group) the worker would go on with the runs already queued to it: skip them, so the
    pool stops at once."""
    global _interrupted
    if _interrupted:
        return None
    try:
        return _grid().run_one(job)
    except KeyboardInterrupt:
        _interrupted = True
        raise


def run_jobs(jobs: Sequence[Job], workers: int, record: Callable[[dict[str, str]], None]) -> None:
    """Run ``jobs``, calling ``record(row)`` in this process as each finishes.

    ``workers`` == 1 (or a single job): here, in order, BLAS pinned to one thread as in the
    workers, so the numbers do not depend on the worker count. Else a
    ``ProcessPoolExecutor`` with the "spawn" context (no fork of a parent whose BLAS threads
    hold locks), BLAS pinned to one thread per worker. A worker that dies records its run as
    failed. Ctrl-C cancels the queued runs and propagates; the running ones stop too (the
    terminal's SIGINT reaches the whole process group) and leave nothing half-written. A SIGINT
    sent to this process alone lets the workers finish the runs they hold: their folders then
    have no results.csv row, and the next run of the grid redoes them over the folder.
    """
    if not jobs:
        return
    if workers <= 1 or len(jobs) == 1:
        limits = pin_blas()
        try:
            for job in jobs:
                record(_grid().run_one(job))
        finally:
            if limits is not None:
                limits.restore_original_limits()
        return
    with one_blas_thread_env():
        pool = concurrent.futures.ProcessPoolExecutor(
            max_workers=min(workers, len(jobs)),
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_init_worker,
        )
        try:
            futures = {pool.submit(_worker_run, job): job for job in jobs}
            for future in concurrent.futures.as_completed(futures):
                try:
                    row = future.result()
                    if row is None:  # skipped by a worker interrupted meanwhile
                        raise KeyboardInterrupt
                except Exception as e:  # the worker died (killed, out of memory)
                    row = _grid()._base_row(futures[future])
                    row.update(status="failed", error=_grid()._one_line(e))
                record(row)
        except BaseException:
            pool.shutdown(wait=False, cancel_futures=True)
            raise
        pool.shutdown()


def _grid() -> Any:
    """sinapsi.grid, imported late: it imports this module."""
    from . import grid

    return grid
