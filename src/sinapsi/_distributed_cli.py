"""``sinapsi train`` under ``mpirun -n N``: every rank runs the command, rank 0 speaks, and a
failure anywhere ends every rank with its error instead of leaving the others waiting.

Every rank loads the same configuration and prepares the same data and model; just before
training they check together that all got there (:meth:`RankGuard.agree`, one allgather):

- the same error on every rank (a wrong configuration, a missing file) is said once, by rank
  0, with the command's usual exit status;
- an error on some ranks only: each of those prints ``sinapsi: error: rank k: ...`` and exits
  with its status, the others end quietly;
- during and after training, errors that come from values every rank shares (a diverged run,
  a missed target) are said by rank 0; a rank whose training step failed prints its error
  (fit has told the others, which end quietly); any other error met by one rank is printed and
  ends every rank (``MPI_Abort``), so none waits for it.

Ranks that end quietly exit with status 0: the rank that speaks carries the error's status,
which mpirun returns. A quiet rank exiting nonzero first could have the launcher kill the job
before the speaking rank's line is out (Open MPI's mpirun ends a job at its first nonzero
exit).
"""

from __future__ import annotations

import sys
from collections.abc import Callable

from .distributed import Comm, RankFailed, launched_under_mpi, launcher_size, world


def command_comm() -> Comm | None:
    """The ranks a command runs on: :func:`~sinapsi.distributed.world` under ``mpirun`` with
    2 or more processes, else None (one process: nothing changes)."""
    if not launched_under_mpi() or launcher_size() == 1:
        return None
    comm = world()
    return comm if comm.size > 1 else None


def _line(error: BaseException) -> str:
    from .config import ConfigError

    text = str(error).splitlines()[0] if str(error) else ""
    if isinstance(error, (ConfigError, FloatingPointError)):
        return text
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


def _status(error: BaseException) -> int:
    """The exit status ``sinapsi``'s main gives ``error`` (2: configuration, data, diverged)."""
    from .config import ConfigError

    return 2 if isinstance(error, (ConfigError, FloatingPointError)) else 1


def _every_rank_knows(error: BaseException | None) -> bool:
    """Whether fit raised ``error`` (or the error it wraps) on every rank at once: a failed
    step, which the other ranks learned from the Allreduce's flags."""
    for _ in range(4):  # fit's located errors keep the original as their context
        if error is None:
            return False
        if getattr(error, "_sinapsi_every_rank_knows", False):
            return True
        error = error.__context__
    return False


class RankGuard:
    """One rank's side of a command run on several ranks (see the module docstring)."""

    def __init__(self, comm: Comm) -> None:
        self.comm = comm
        self.agreed = False

    def agree(self, error: BaseException | None = None) -> list[str | None]:
        """Every rank calls this once before training (``error``: what stopped it before);
        returns each rank's error line (None: ready). Without an error of its own, a rank
        raises RankFailed when another failed."""
        self.agreed = True
        lines = self.comm.allgather(None if error is None else _line(error))
        failed = [rank for rank, line in enumerate(lines) if line is not None]
        if error is None and failed:
            raise RankFailed(f"rank {failed[0]} failed before training: {lines[failed[0]]}")
        return lines

    def failed(self, error: Exception) -> int:
        """Handle ``error`` raised on this rank: re-raise it where ``main`` should say it (rank
        0 of an error every rank has), print it prefixed with the rank and return its status,
        or end quietly (status 0). Aborts every rank when others may still wait for this one."""
        from .experiment import Diverged, TargetMissed

        rank = self.comm.rank
        if isinstance(error, RankFailed):
            return 0  # quiet: the failing rank prints its own error, with its status
        if not self.agreed:
            lines = self.agree(error)
            if all(line == lines[0] for line in lines):  # the same everywhere: said once
                if rank == 0:
                    raise error
                return 0
            print(f"sinapsi: error: rank {rank}: {_line(error)}", file=sys.stderr, flush=True)
            return _status(error)
        if isinstance(error, (Diverged, TargetMissed)):  # from values every rank shares
            if rank == 0:
                raise error
            return 0
        print(f"sinapsi: error: rank {rank}: {_line(error)}", file=sys.stderr, flush=True)
        if _every_rank_knows(error):
            return _status(error)
        self.comm.abort(1)


def on_ranks(command: Callable[[RankGuard | None], int]) -> int:
    """Run ``command`` (given a RankGuard under ``mpirun -n N``, N > 1; else None), turning an
    exception on one rank into what the module docstring describes."""
    try:
        comm = command_comm()
    except ImportError as e:  # under mpirun without mpi4py: one line, as a configuration error
        from .config import ConfigError

        raise ConfigError(str(e)) from None
    if comm is None:
        return command(None)
    guard = RankGuard(comm)
    try:
        return command(guard)
    except Exception as e:
        return guard.failed(e)
