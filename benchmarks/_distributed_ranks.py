"""The child processes of ``distributed.py``: one process, or one rank under ``mpirun``.

Each child measures one setting for every network asked and prints, on rank 0 only, one line
``RESULT {json}``. The thread counts come from the environment the parent sets
(``OPENBLAS_NUM_THREADS`` / ``OMP_NUM_THREADS``); the child reports what its BLAS and PyTorch
actually use, so the parent can check it.

Modes:

* ``allreduce``: ``MPI.Allreduce`` (in place, float32 SUM, mpi4py directly) of each size; per
  size a loop of calls whose length both ranks agree on, after a barrier, repeated; the time of
  a repeat is the slower rank's;
* ``sinapsi``: ``sinapsi.fit`` with a callback that stamps the end of every batch: a step is the
  time from one batch's end to the next (the loader's gather, forward, loss, backward, the
  gradient Allreduce when distributed, the optimizer step, fit's bookkeeping). With
  ``--distributed`` fit gets a ``TimedComm`` (a subclass of ``sinapsi.distributed.Comm`` on
  ``MPI.COMM_WORLD`` whose ``allreduce_`` adds up the seconds spent inside it), so each step
  also knows its Allreduce time. The first epoch is warm-up;
* ``torch``: the standard PyTorch loop (Adam, ``CrossEntropyLoss``) over the same shuffled
  batches, each gathered from the data set as fit does; with ``--world 2`` the model is wrapped
  in ``DistributedDataParallel`` (gloo, ``tcp://127.0.0.1:PORT``, the rank from mpirun's
  ``PMI_RANK``) and each rank takes its contiguous half of every global batch, as sinapsi does.
  After training, the gloo ``all_reduce`` of one gradient-sized tensor is timed too.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from typing import Any

import numpy as np

from _common import NETS, Net, blas_info, make_data, sinapsi_net, targets, torch_net


def _summary(steps: list[float]) -> dict[str, Any]:
    return {"median_s": statistics.median(steps), "min_s": min(steps), "steps": len(steps)}


# ---------------------------------------------------------------------------------- allreduce
def allreduce_bench(sizes: list[int], repeats: int, target_s: float) -> dict[str, Any]:
    """Seconds per in-place float32 ``Allreduce`` of each size (bytes) between the ranks."""
    from mpi4py import MPI

    comm = MPI.COMM_WORLD
    rows = []
    for size in sizes:
        buf = np.zeros(max(size // 4, 1), np.float32)  # zeros: the sums stay finite
        for _ in range(3):
            comm.Allreduce(MPI.IN_PLACE, buf, op=MPI.SUM)
        comm.Barrier()
        start = time.perf_counter()
        comm.Allreduce(MPI.IN_PLACE, buf, op=MPI.SUM)
        one = time.perf_counter() - start
        iters = int(comm.allreduce(max(1, min(2000, int(target_s / max(one, 1e-7)))), op=MPI.MAX))
        times = []
        for _ in range(repeats):
            comm.Barrier()
            start = time.perf_counter()
            for _ in range(iters):
                comm.Allreduce(MPI.IN_PLACE, buf, op=MPI.SUM)
            times.append(comm.allreduce((time.perf_counter() - start) / iters, op=MPI.MAX))
        rows.append({"bytes": buf.nbytes, "iters": iters, **_summary(times)})
    return {"ranks": comm.size, "rows": rows}


# ------------------------------------------------------------------------------------ sinapsi
def timed_comm() -> Any:
    """sinapsi's MPI communicator (``MPI.COMM_WORLD``) whose ``allreduce_`` adds up the
    seconds spent inside it and counts its calls: the subclass hook ``fit`` documents."""
    from sinapsi import distributed

    class TimedComm(distributed.Comm):
        seconds = 0.0
        calls = 0

        def allreduce_(self, buf: np.ndarray) -> np.ndarray:
            start = time.perf_counter()
            out = super().allreduce_(buf)
            self.seconds += time.perf_counter() - start
            self.calls += 1
            return out

    return TimedComm(distributed.world().mpi_comm)


def sinapsi_bench(net: Net, batch: int, steps: int, epochs: int, comm: Any) -> dict[str, Any]:
    """Step times of ``sinapsi.fit`` at ``batch`` (the global batch when distributed) over
    ``epochs`` epochs of ``steps`` steps; the first epoch is warm-up."""
    import sinapsi as sn
    from sinapsi.train.callbacks import Callback

    class StepClock(Callback):
        def __init__(self) -> None:
            self.epoch = 0
            self.last: tuple[float, float] | None = None
            self.steps: list[float] = []
            self.allreduce: list[float] = []

        def on_epoch_begin(self, epoch: int, logs: dict[str, Any]) -> None:
            self.epoch, self.last = epoch, None

        def on_batch_end(self, batch: int, logs: dict[str, Any]) -> None:
            now = (time.perf_counter(), comm.seconds if comm is not None else 0.0)
            if self.last is not None and self.epoch > 0:
                self.steps.append(now[0] - self.last[0])
                self.allreduce.append(now[1] - self.last[1])
            self.last = now

    x, y = make_data(net, batch * steps)
    model = sinapsi_net(net)
    clock = StepClock()
    extra = {"distributed": comm} if comm is not None else {}
    sn.fit(model, x, targets(net, y), loss="cross_entropy", optimizer=net.optimizer, lr=net.lr,
           epochs=epochs, batch_size=batch, verbose=0, seed=0, callbacks=[clock],
           **extra)  # fmt: skip
    out = {"batch": batch, **_summary(clock.steps)}
    if comm is not None:
        shares = [a / s for a, s in zip(clock.allreduce, clock.steps)]
        out["allreduce_median_s"] = statistics.median(clock.allreduce)
        out["allreduce_share"] = sum(clock.allreduce) / sum(clock.steps)
        out["allreduce_share_median"] = statistics.median(shares)
        out["allreduce_calls"] = comm.calls
    return out


def run_sinapsi(args: argparse.Namespace) -> dict[str, Any] | None:
    comm = None
    if args.distributed:
        comm = timed_comm()
    results: dict[str, Any] = {}
    for name in args.nets:
        net = NETS[name]
        rows = {}
        for d in args.divisors:
            if comm is not None:
                comm.seconds, comm.calls = 0.0, 0
            rows[str(d)] = sinapsi_bench(net, net.batch // d, args.steps * d, args.epochs, comm)
        results[name] = rows
    if comm is not None and comm.rank != 0:
        return None
    return {"ranks": 1 if comm is None else comm.size, "nets": results}


# -------------------------------------------------------------------------------------- torch
def torch_bench(net: Net, steps: int, epochs: int, rank: int, world: int) -> dict[str, Any]:
    """Step times of the PyTorch loop; with ``world > 1`` under DDP on this rank's shards."""
    import torch

    torch.manual_seed(0)
    model = torch_net(net)
    if world > 1:
        from torch.nn.parallel import DistributedDataParallel

        model = DistributedDataParallel(model)
    opt = torch.optim.Adam(model.parameters(), lr=net.lr)
    loss_fn = torch.nn.CrossEntropyLoss()
    x, y = make_data(net, net.batch * steps)
    xt, yt = torch.from_numpy(x), torch.from_numpy(targets(net, y))
    rng = np.random.default_rng(0)
    times = []
    for epoch in range(epochs):
        order = rng.permutation(len(x))
        last = time.perf_counter()
        for i in range(steps):
            idx = np.array_split(order[i * net.batch : (i + 1) * net.batch], world)[rank]
            index = torch.from_numpy(idx)
            opt.zero_grad()
            loss = loss_fn(model(xt[index]), yt[index])
            loss.backward()
            opt.step()
            now = time.perf_counter()
            if epoch > 0 and i > 0:  # as sinapsi's clock: batch end to batch end, no warm-up
                times.append(now - last)
            last = now
    return _summary(times)


def gloo_allreduce(n_floats: int, repeats: int) -> dict[str, Any]:
    """Seconds per gloo ``all_reduce`` (SUM) of ``n_floats`` float32: one gradient's worth."""
    import torch
    import torch.distributed as dist

    buf = torch.zeros(n_floats)
    for _ in range(3):
        dist.all_reduce(buf)
    times = []
    for _ in range(repeats):
        dist.barrier()
        start = time.perf_counter()
        dist.all_reduce(buf)
        times.append(time.perf_counter() - start)
    return {"bytes": 4 * n_floats, **_summary(times)}


def n_params(net: Net) -> int:
    """Weights and biases of the network's Linear layers."""
    return net.n_weights + sum(net.sizes[1:])


def run_torch(args: argparse.Namespace) -> dict[str, Any] | None:
    import torch

    torch.set_num_threads(args.threads)
    rank = int(os.environ.get("PMI_RANK", os.environ.get("OMPI_COMM_WORLD_RANK", "0")))
    if args.world > 1:
        import torch.distributed as dist

        dist.init_process_group(
            "gloo", init_method=f"tcp://127.0.0.1:{args.port}", rank=rank, world_size=args.world
        )
    results: dict[str, Any] = {}
    for name in args.nets:
        net = NETS[name]
        results[name] = {"1": torch_bench(net, args.steps, args.epochs, rank, args.world)}
        if args.world > 1:
            results[name]["gloo_allreduce"] = gloo_allreduce(n_params(net), 2 * args.steps)
    if args.world > 1:
        import torch.distributed as dist

        dist.barrier()  # main() then ends the process without gloo's teardown (see there)
    if rank != 0:
        return None
    return {"ranks": args.world, "torch_threads": torch.get_num_threads(), "nets": results}


# --------------------------------------------------------------------------------------- main
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("mode", choices=("allreduce", "sinapsi", "torch"))
    parser.add_argument("--nets", default="mnist,wide")
    parser.add_argument("--steps", type=int, default=10, help="steps per epoch at full batch")
    parser.add_argument("--epochs", type=int, default=3, help="epochs; the first is warm-up")
    parser.add_argument("--divisors", default="1", help="batch / d for each d (sinapsi)")
    parser.add_argument("--distributed", action="store_true")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--world", type=int, default=1)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--sizes", default="8,1048576")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--target-s", type=float, default=0.005)
    args = parser.parse_args(argv)
    args.nets = [n for n in args.nets.split(",") if n]
    args.divisors = [int(d) for d in args.divisors.split(",")]
    if args.mode == "allreduce":
        sizes = [int(s) for s in args.sizes.split(",")]
        result = allreduce_bench(sizes, args.repeats, args.target_s)
        from mpi4py import MPI

        if MPI.COMM_WORLD.rank != 0:
            return 0
    elif args.mode == "sinapsi":
        result = run_sinapsi(args)
    else:
        result = run_torch(args)
    if result is not None:
        result["blas_threads"] = blas_info()["threads"]
        print("RESULT " + json.dumps(result), flush=True)
    if args.mode == "torch" and args.world > 1:
        # gloo's teardown (destroy_process_group, or the interpreter's exit) raced with the
        # other rank's under load once: "terminate called without an active exception", and
        # mpirun ended both. Every collective is done (the barrier above): leave at once.
        sys.stderr.flush()
        os._exit(0)
    return 0


if __name__ == "__main__":
    sys.exit(main())
