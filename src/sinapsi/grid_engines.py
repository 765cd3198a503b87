"""Where a grid's runs execute: here, one after another; a local pool of processes; or (the
``mpi`` engine) the processes of an MPI job through ``mpi4py.futures.MPIPoolExecutor``. Each
calls :func:`sinapsi.grid.run_one` on a :class:`~sinapsi.grid.Job` and hands each finished row
back to the caller, which records it (results.csv is written by the calling process only).

The MPI engine has two forms:

- ``mpiexec -n N python -m mpi4py.futures -m sinapsi grid GRID``: rank 0 runs the command and
  the other N-1 ranks are its workers (N-1 runs at a time). ``sinapsi grid`` sees that it runs
  there (:func:`mpi_launch`) and uses the MPI engine without ``--mpi``.
- ``sinapsi grid GRID --mpi --workers K`` outside mpiexec: the K workers are spawned
  (``MPI_Comm_spawn``; MPICH's singleton start supports it).

``mpirun -n N sinapsi grid GRID`` (no ``-m mpi4py.futures``) would start N copies of the whole
grid writing the same files: the command line refuses it (:func:`mpi_launch` reads the
launcher's ``PMI_SIZE``/``PMI_RANK``, Open MPI's ``OMPI_COMM_WORLD_SIZE``/``_RANK``, as
:mod:`sinapsi.distributed` does).
Open MPI as root needs ``mpirun --allow-run-as-root --oversubscribe`` and, for the spawn form,
``PRTE_ALLOW_RUN_AS_ROOT=1 PRTE_ALLOW_RUN_AS_ROOT_CONFIRM=1`` (else the spawn fails: one line).

Workers pin BLAS to one thread (the initializer, and the BLAS variables set before they load
NumPy). A run that raises is a ``failed`` row (run_one catches it), as in the local pool. A
worker process that dies (killed, out of memory, ``os._exit``) is not a row: MPI cannot go on
without it, and mpiexec ends every process of the job (mpiexec reports "BAD TERMINATION";
in the spawn form this process is killed too, exit status 137). results.csv then holds the
runs recorded before; a rerun redoes the others (with the local engine, ``--workers``, a run
that kills its process is recorded as failed). Ctrl-C on mpiexec reaches every rank: the
runs in progress stop (idle workers ignore it, see :func:`_init_mpi_worker`), rank 0 says
"sinapsi: interrupted" and the exit status is 130. In the spawn form the terminal's Ctrl-C also
reaches the mpiexec that MPICH started for the spawn, which kills every process, this one
included (status 137, maybe before it says anything); a SIGINT to this process alone ends it
with 130 once the runs in progress finish (unrecorded, as in the local pool). results.csv stays
whole either way: it is only ever replaced whole. Any nonzero exit under ``python -m
mpi4py.futures`` also makes mpi4py end the job with ``MPI_Abort`` (status kept), which MPICH
reports in one more line.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import multiprocessing
import os
import shutil
import signal
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ._errors import one_line
from .distributed import launcher_rank, launcher_size

if TYPE_CHECKING:
    from .grid import Job

__all__ = ["run_jobs", "one_blas_thread_env", "pin_blas", "MpiLaunch", "mpi_launch", "require_mpi"]

_BLAS_VARIABLES = (
    "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "VECLIB_MAXIMUM_THREADS",
    "NUMEXPR_NUM_THREADS",
)  # fmt: skip
ENGINES = ("local", "mpi")
MPI_INSTALL = 'pip install "sinapsi[mpi]"'
_limits: Any = None  # the worker's threadpoolctl limit, kept alive for the worker's life
_interrupted = False  # set in a worker by Ctrl-C: the runs still queued to it are skipped
_running = False  # a worker is inside run_one (an MPI worker's Ctrl-C stops only that)


@contextlib.contextmanager
def _environ(values: dict[str, str]) -> Iterator[None]:
    """Set these environment variables for the block, then put back what was there."""
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def one_blas_thread_env() -> contextlib.AbstractContextManager[None]:
    """Set the BLAS thread variables to 1 while worker processes start (they read them when
    NumPy loads), then restore the parent's: N workers x N BLAS threads would oversubscribe the
    cores and run slower than N workers of one thread."""
    return _environ({name: "1" for name in _BLAS_VARIABLES})


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


def _init_mpi_worker() -> None:
    """A worker of the MPI engine: BLAS pinned, and Ctrl-C (mpiexec forwards SIGINT to every
    rank) stops the run in progress but is ignored between runs, where it would end mpi4py's
    serving loop with a traceback on every idle rank; rank 0 stops those itself."""
    _init_worker()
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, _interrupt_a_run)


def _interrupt_a_run(signum: int, frame: Any) -> None:
    if _running:
        raise KeyboardInterrupt


def _worker_run(job: Job) -> dict[str, str] | None:
    """:func:`run_one` in a pool worker. After a Ctrl-C (the terminal sends SIGINT to the whole
    process group) the worker would go on with the runs already queued to it: skip them, so the
    pool stops at once."""
    global _interrupted, _running
    if _interrupted:
        return None
    _running = True
    try:
        return _grid().run_one(job)
    except KeyboardInterrupt:
        _interrupted = True
        raise
    finally:
        _running = False


def run_jobs(
    jobs: Sequence[Job],
    workers: int,
    record: Callable[[dict[str, str]], None],
    engine: str = "local",
) -> None:
    """Run ``jobs``, calling ``record(row)`` in this process as each finishes.

    ``engine="local"``, ``workers`` == 1 (or a single job): here, in order, BLAS pinned to one
    thread as in the workers, so the numbers do not depend on the worker count. Else a
    ``ProcessPoolExecutor`` with the "spawn" context (no fork of a parent whose BLAS threads
    hold locks), BLAS pinned to one thread per worker. A worker that dies records its run as
    failed. Ctrl-C cancels the queued runs and propagates; the running ones stop too (the
    terminal's SIGINT reaches the whole process group) and leave nothing half-written. A SIGINT
    sent to this process alone lets the workers finish the runs they hold: their folders then
    have no results.csv row, and the next run of the grid redoes them over the folder.

    ``engine="mpi"``: an ``MPIPoolExecutor``, on the other ranks of ``mpiexec -n N python -m
    mpi4py.futures`` (``workers`` is then N-1, set by mpiexec) or else on ``workers`` spawned
    processes; see the module docstring.
    """
    if engine not in ENGINES:
        raise ValueError(f"engine must be one of {ENGINES}, got {engine!r}")
    if not jobs:
        return
    if engine == "mpi":
        _run_mpi(jobs, workers, record)
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
        _collect(pool, jobs, record)  # the workers start at the first submit


def _collect(
    pool: concurrent.futures.Executor, jobs: Sequence[Job], record: Callable[[dict[str, str]], None]
) -> None:
    """Submit every job to ``pool`` and record the rows as they come, in this thread; shut the
    pool down, at once (queued runs cancelled) on an error or Ctrl-C."""
    try:
        futures = {pool.submit(_worker_run, job): job for job in jobs}
        for future in concurrent.futures.as_completed(futures):
            try:
                row = future.result()
                if row is None:  # skipped by a worker interrupted meanwhile
                    raise KeyboardInterrupt
            except Exception as e:  # a pool worker died; the MPI job could not take the run
                row = _grid()._base_row(futures[future])
                row.update(status="failed", error=_grid().one_line_error(e))
            record(row)
    except BaseException:
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    pool.shutdown()


# ------------------------------------------------------------------------------ MPI
@dataclass(frozen=True)
class MpiLaunch:
    """How this process was started: one of ``size`` processes of an MPI job (1: no MPI job, or
    a job of one), its ``rank``, and whether it runs under ``python -m mpi4py.futures`` (whose
    ranks other than 0 serve rank 0's ``MPIPoolExecutor``)."""

    size: int = 1
    rank: int = 0
    futures: bool = False


def mpi_launch() -> MpiLaunch:
    """This process's :class:`MpiLaunch`, without starting MPI: from ``mpi4py`` when the
    process already imported it (``python -m mpi4py.futures`` does), else from the variables
    that the MPI launchers set."""
    core = sys.modules.get("mpi4py.futures._core")
    if core is not None and getattr(core, "SharedPool", None) is not None:
        from mpi4py import MPI

        world = MPI.COMM_WORLD
        return MpiLaunch(world.Get_size(), world.Get_rank(), futures=True)
    mpi = sys.modules.get("mpi4py.MPI")
    if mpi is not None and mpi.Is_initialized() and not mpi.Is_finalized():
        world = mpi.COMM_WORLD
        return MpiLaunch(world.Get_size(), world.Get_rank())
    size = launcher_size()
    if size is not None:
        return MpiLaunch(max(size, 1), launcher_rank() or 0)
    return MpiLaunch()


def require_mpi(what: str = "the MPI engine", spawn: bool = False) -> None:
    """Raise a one-line :class:`~sinapsi.config.ConfigError` unless ``mpi4py.futures``
    imports (it starts MPI: call it only when MPI is wanted) and, for ``spawn``, an ``mpiexec``
    is there to start the spawned workers (:func:`_mpiexec_dir`)."""
    from .config import ConfigError

    try:
        import mpi4py.futures  # noqa: F401
    except ImportError as e:
        raise ConfigError(
            f"{what} needs mpi4py and an MPI library ({one_line(e)}): {MPI_INSTALL}"
        ) from None
    if spawn and _mpiexec_dir() is None:
        raise ConfigError(
            f"{what} spawns its workers through mpiexec, which is not on PATH (nor beside "
            f"{sys.executable}): put your MPI's bin folder on PATH, or start the grid as "
            "mpiexec -n N python -m mpi4py.futures -m sinapsi grid GRID."
        )


def _mpiexec_dir() -> str | None:
    """Where the spawn finds ``mpiexec``: MPICH's singleton start runs the ``mpiexec`` on PATH to
    spawn, and without one aborts inside MPI_Comm_spawn and hangs. The folder of this Python
    when it holds one (mpich's wheel puts it in the venv's bin, matching the MPI that mpi4py
    loads, even when the venv is not activated); "" when PATH has one; else None."""
    beside = str(Path(sys.executable).parent)
    if shutil.which("mpiexec", path=beside):
        return beside
    return "" if shutil.which("mpiexec") else None


def _mpiexec_on_path() -> contextlib.AbstractContextManager[None]:
    """Put :func:`_mpiexec_dir` first on PATH while the workers are spawned."""
    where = _mpiexec_dir()
    if not where:
        return contextlib.nullcontext()
    return _environ({"PATH": where + os.pathsep + os.environ.get("PATH", "")})


def _run_mpi(jobs: Sequence[Job], workers: int, record: Callable[[dict[str, str]], None]) -> None:
    """The MPI engine: the runs go to an ``MPIPoolExecutor`` (the shared pool of ``python -m
    mpi4py.futures``, else ``workers`` spawned processes), rows come back here."""
    launch = mpi_launch()
    require_mpi(spawn=not launch.futures)
    from mpi4py.futures import MPIPoolExecutor

    pool = MPIPoolExecutor(
        max_workers=max(1, min(workers, len(jobs))),  # ignored by the shared pool
        initializer=_init_mpi_worker,
        main=False,  # the workers need sinapsi.grid_engines only, not this process's __main__
        env={name: "1" for name in _BLAS_VARIABLES},  # before the workers load NumPy
        path=[str(Path(__file__).resolve().parents[1])],  # this sinapsi, wherever it is
        wdir=os.getcwd(),  # the run folders may be relative to it
    )
    with _mpiexec_on_path():
        _boot(pool)  # spawn (or reach the shared pool's ranks) now, with mpiexec found
    _collect(pool, jobs, record)


def _boot(pool: Any) -> None:
    """Start ``pool``'s workers and wait for them. When MPI_Comm_spawn fails, mpi4py's manager
    thread dies with the error and nothing tells the waiting caller, which would hang: watch
    that thread (mpi4py's ``_pool.thread`` and ``_pool.event``, where this mpi4py has them)
    and raise the error in one line instead."""
    from .config import ConfigError

    errors: list[BaseException | None] = []
    previous = threading.excepthook

    def manager(thread: threading.Thread | None) -> bool:
        return thread is not None and thread is getattr(getattr(pool, "_pool", None), "thread", 0)

    def hook(args: Any) -> None:
        if manager(args.thread):
            errors.append(args.exc_value)  # said below, in one line
        else:
            previous(args)

    threading.excepthook = hook
    try:
        pool.bootup(wait=False)
        inner = getattr(pool, "_pool", None)
        event, thread = getattr(inner, "event", None), getattr(inner, "thread", None)
        if event is None or thread is None:
            pool.bootup()  # an mpi4py without these: wait as it does
            return
        while not event.wait(0.1):
            if not thread.is_alive():
                reason = one_line(errors[0]) if errors and errors[0] else "no error given"
                raise ConfigError(
                    f"starting the MPI workers failed ({reason}): run the grid as mpiexec -n N "
                    "python -m mpi4py.futures -m sinapsi grid GRID instead (Open MPI as root "
                    "spawns only with PRTE_ALLOW_RUN_AS_ROOT=1 PRTE_ALLOW_RUN_AS_ROOT_CONFIRM=1)."
                )
    finally:
        threading.excepthook = previous


def _grid() -> Any:
    """sinapsi.grid, imported late: it imports this module."""
    from . import grid

    return grid
