"""Data-parallel training over MPI, as Horovod does it: one model, N processes, one Allreduce.

``mpirun -n N sinapsi train CONFIG.toml``, or ``fit(model, x, y, ..., distributed=True)`` in a
script run by ``mpirun -n N python script.py``, trains one model on N processes (*ranks*).
Every rank calls fit with the same full data and seed; then:

- **start**: the ranks compare what they were given (sample count, batch size, epochs,
  shuffling seed, a digest of the training data, the gradients' size) and all refuse a
  mismatch in the same error, rather than waiting for each other forever; then the
  parameters and buffers are broadcast from rank 0 (:func:`broadcast_parameters`), so ranks
  start equal even if they initialized the model differently;
- **batches**: the global batch is what one process would use (same shuffling, seed,
  ``batch_size``, ``drop_last``, lone-last merge). Its rows are cut into ``size`` contiguous
  shards as ``np.array_split`` does (:func:`shard_bounds`); rank r takes shard r. A shard may
  be empty (a tiny last batch): that rank computes nothing, contributes zeros and still joins
  the Allreduce;
- **gradients**: each rank scales its shard-mean gradient by ``n_r / B`` (its rows over the
  global batch's), copies all gradients into ONE preallocated flat buffer and sums it over the
  ranks in place (``comm.allreduce_``, once per step); the same buffer carries the rank's
  share of the batch loss and an error flag per rank. Clipping (global norm), l1/l2 and the
  optimizer step then run identically on every rank, so the weights stay equal with no
  further communication. The loss must average over the batch (``reduction="mean"``);
- **logs**: the loss, the training metrics (each epoch's outputs are gathered from the
  ranks) and ``grad_norms`` (of the summed gradient) equal what one process logs, to
  rounding. Validation: every rank evaluates the whole validation set (the weights are
  equal, so are the results, and EarlyStopping decides the same everywhere);
- **BatchNorm**: per-rank batch statistics (PyTorch DDP without SyncBatchNorm, Horovod's
  default): each rank normalizes its shard with the shard's mean and variance, so a model with
  BatchNorm on N > 1 ranks does NOT train exactly as on one process. The running statistics
  are averaged over the ranks at the end of every epoch, so every rank holds (and rank 0
  saves) the same model. With BatchNorm every shard needs 2+ samples (checked before
  training);
- **Dropout**: each rank draws its own masks (on ranks > 0 the modules' generators are
  reseeded from their state and the rank), so N > 1 equals one process only without dropout;
- **output**: only rank 0 prints (its progress bar; the others run with ``verbose=0``) and
  writes files (ModelCheckpoint saves on rank 0 only; ``sinapsi train`` writes its run folder
  on rank 0). ``fit(resume_from=...)`` reads the checkpoint on every rank: keep it on a
  file system all ranks see;
- **failures**: an exception in a rank's step (``on_batch_begin``, forward, loss, backward)
  sets its flag in the buffer; after the Allreduce every rank raises: the failing rank its own
  error, the others :class:`RankFailed` ("rank k failed at epoch e, batch b"), so no rank
  waits. Other hooks (``on_epoch_end``, ...) must behave the same on every rank: a script
  whose ranks may fail apart there should run as ``mpirun -n N python -m mpi4py
  script.py``, which aborts every rank on an uncaught exception. ``sinapsi train`` handles
  all of this itself: an error every rank has is said once by rank 0, one rank's error by
  that rank ("sinapsi: error: rank k: ..."), and an error no other rank knows of ends every
  rank (``MPI_Abort``).

The buffer has the parameters' dtype: a float32 model sums its gradients in float32.

Without MPI everything still works on one process: :func:`world` is then a single-process
:class:`Comm` (rank 0, size 1, collectives that do nothing), and ``fit(distributed=True)``
gives bit-identical results to a plain ``fit``. The flat buffer lives in host memory (NumPy);
CuPy-aware MPI, passing device buffers directly, is a later idea.

>>> from sinapsi import distributed
>>> comm = distributed.world()  # outside mpirun: one process
>>> comm.rank, comm.size, distributed.is_main(comm)
(0, 1, True)
>>> shard_bounds(25, 2, 0), shard_bounds(25, 2, 1)  # np.array_split's contiguous parts
((0, 13), (13, 25))
"""

from __future__ import annotations

import os
import sys
import time
from typing import Any, NoReturn

import numpy as np

from . import backend

__all__ = [
    "Comm", "RankFailed", "launched_under_mpi", "world", "is_main", "broadcast_parameters",
    "shard_bounds",
]  # fmt: skip

# What MPI launchers put in each rank's environment: MPICH/Hydra and Intel MPI (PMI_*,
# MPI_LOCALRANKID), Open MPI (OMPI_COMM_WORLD_*), PMIx-based launchers (PMIX_RANK).
_LAUNCHER_SIZE = ("PMI_SIZE", "OMPI_COMM_WORLD_SIZE")
_LAUNCHER_RANK = ("PMI_RANK", "OMPI_COMM_WORLD_RANK", "PMIX_RANK", "MPI_LOCALRANKID")
_MISSING_MPI4PY = (
    'sinapsi.distributed needs mpi4py under mpirun: pip install "sinapsi[mpi]" (or pip install '
    "mpi4py against your cluster's MPI)."
)


class RankFailed(RuntimeError):
    """Another rank failed during a distributed step; that rank raises (and prints) its own
    error, every other rank this one."""


def launched_under_mpi() -> bool:
    """Whether this process was started by an MPI launcher (``mpirun``/``mpiexec``), read from
    the environment variables launchers set (``PMI_RANK``, ``PMI_SIZE``,
    ``OMPI_COMM_WORLD_SIZE``, ``PMIX_RANK``, ...), without importing mpi4py. A batch job's
    ``SLURM_NTASKS`` alone does not count: the script itself was not launched by ``srun``."""
    return any(name in os.environ for name in _LAUNCHER_RANK + _LAUNCHER_SIZE)


def _first_number(names: tuple[str, ...]) -> int | None:
    """The first of these environment variables that holds a whole number, or None."""
    for name in names:
        value = os.environ.get(name, "")
        if value.isdigit():
            return int(value)
    return None


def launcher_size() -> int | None:
    """The number of ranks the launcher announced in the environment, or None if it did not."""
    return _first_number(_LAUNCHER_SIZE)


def launcher_rank() -> int | None:
    """This process's rank as the launcher announced it in the environment, or None."""
    return _first_number(_LAUNCHER_RANK)


class Comm:
    """A communicator: rank, size and the few collectives training needs (NumPy buffers).

    ``Comm()`` is one process alone (rank 0, size 1: the collectives leave the buffers as they
    are); ``Comm(MPI.COMM_WORLD)`` wraps an mpi4py communicator (what :func:`world` gives under
    ``mpirun``). Subclasses may override a collective (e.g. to time it): fit only calls these
    methods and reads ``rank`` and ``size``.
    """

    def __init__(self, mpi_comm: Any = None) -> None:
        self.mpi_comm = mpi_comm
        self.rank = 0 if mpi_comm is None else int(mpi_comm.Get_rank())
        self.size = 1 if mpi_comm is None else int(mpi_comm.Get_size())

    def allreduce_(self, buf: np.ndarray) -> np.ndarray:
        """Sum ``buf`` over the ranks, in place (one ``Allreduce``); return it."""
        if self.mpi_comm is not None:
            from mpi4py import MPI

            self.mpi_comm.Allreduce(MPI.IN_PLACE, buf, op=MPI.SUM)
        return buf

    def bcast_(self, buf: np.ndarray, root: int = 0) -> np.ndarray:
        """Overwrite ``buf`` on every rank with root's, in place; return it."""
        if self.mpi_comm is not None:
            self.mpi_comm.Bcast(buf, root=root)
        return buf

    def allgather(self, obj: Any) -> list[Any]:
        """Every rank's ``obj`` (small Python objects or arrays, pickled), in rank order."""
        return [obj] if self.mpi_comm is None else self.mpi_comm.allgather(obj)

    def barrier(self) -> None:
        """Wait until every rank is here."""
        if self.mpi_comm is not None:
            self.mpi_comm.Barrier()

    def abort(self, code: int = 1) -> NoReturn:
        """End every rank now with exit status ``code`` (``MPI_Abort``), after flushing this
        rank's output; alone, exit this process."""
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except (OSError, ValueError):
                pass
        if self.mpi_comm is not None:
            time.sleep(0.2)  # the launcher forwards this rank's last lines before it kills it
            self.mpi_comm.Abort(code)
        os._exit(code)

    def __repr__(self) -> str:
        kind = "MPI" if self.mpi_comm is not None else "one process"
        return f"{type(self).__name__}(rank={self.rank}, size={self.size}, {kind})"


_world: Comm | None = None


def world() -> Comm:
    """All the processes of this run: ``MPI.COMM_WORLD`` wrapped when launched under MPI
    (imports mpi4py then), else a single-process :class:`Comm`."""
    global _world
    if _world is None:
        if not launched_under_mpi():
            return Comm()
        try:
            from mpi4py import MPI
        except ImportError:
            raise ImportError(_MISSING_MPI4PY) from None
        _world = Comm(MPI.COMM_WORLD)
    return _world


def is_main(comm: Comm | None = None) -> bool:
    """Whether this is rank 0 (of ``comm``, default :func:`world`): the rank that prints and
    writes files."""
    return (world() if comm is None else comm).rank == 0


def resolve(distributed: Any) -> Comm | None:
    """fit's ``distributed=`` as a communicator: False -> None, True -> :func:`world`, a
    :class:`Comm` as given."""
    if distributed is False or distributed is None:
        return None
    if distributed is True:
        return world()
    if isinstance(distributed, Comm):
        return distributed
    raise TypeError(
        "fit: distributed must be True, False or a sinapsi.distributed.Comm. Received: "
        f"distributed={distributed!r}"
    )


def broadcast_parameters(model: Any, comm: Comm, root: int = 0) -> None:
    """Give every rank root's parameters and buffers (BatchNorm's running statistics), in
    place: ranks that built the model apart start from the same weights."""
    if comm.size == 1:
        return
    arrays = [p.data for p in model.parameters()]
    arrays += [b for _, b in model.named_buffers() if b is not None]
    for array in arrays:
        host = np.array(backend.to_numpy(array), copy=True, order="C")
        comm.bcast_(host, root)
        array[...] = backend.get_array_module(array).asarray(host)


def shard_bounds(n: int, size: int, rank: int) -> tuple[int, int]:
    """Rows ``[lo, hi)`` of a batch of ``n`` that ``rank`` of ``size`` takes: the contiguous
    part ``rank`` of ``np.array_split(range(n), size)`` (the first ``n % size`` parts have one
    row more)."""
    q, r = divmod(n, size)
    lo = rank * q + min(rank, r)
    return lo, lo + q + (rank < r)
