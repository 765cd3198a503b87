"""The data-parallel step behind ``fit(distributed=...)``: shards, the one flat gradient buffer,
the per-rank error flags, the gathered metrics and BatchNorm's averaged running statistics.
The semantics are described in :mod:`sinapsi.distributed`; the Trainer calls these hooks."""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, Any

import numpy as np

from . import backend
from .distributed import Comm, RankFailed, broadcast_parameters, shard_bounds
from .nn.normalization import BatchNorm1d
from .train.checks import _batch_norm_layer, _input
from .train.trainer import _check_loss

if TYPE_CHECKING:
    from .data import DataLoader
    from .train.trainer import Trainer


def _smallest_batch(loader: DataLoader) -> int:
    """The fewest rows a batch of one epoch of ``loader`` has."""
    n, b = len(loader.dataset), loader.batch_size
    if loader.drop_last or n % b == 0 or loader._lone_last(n):
        return min(b, n)
    return n % b


def _reseed(model: Any, rank: int) -> None:
    """Give each distinct generator of the model's modules (Dropout's) a stream of its own on
    this rank, drawn from its current state and the rank."""
    seen: set[int] = set()
    for module in model.modules():
        rng = getattr(module, "rng", None)
        if isinstance(rng, np.random.Generator) and id(rng) not in seen:
            seen.add(id(rng))
            entropy = [int(v) for v in rng.integers(0, 2**32, size=4, dtype=np.uint64)]
            seeded = type(rng.bit_generator)(np.random.SeedSequence(entropy, spawn_key=(rank,)))
            rng.bit_generator.state = seeded.state


def _plan(trainer: Trainer, loader: DataLoader, buffer: int) -> dict[str, Any]:
    """What every rank's fit must share, to compare before the first step: ranks given
    different data or settings would otherwise wait for each other's Allreduce forever."""
    digest = hashlib.sha1()
    for array in getattr(loader.dataset, "arrays", ()):
        digest.update(np.ascontiguousarray(array[:: max(1, len(array) // 64)]).tobytes())
    return {
        "number of samples": len(loader.dataset),
        "batch_size": loader.batch_size,
        "batches per epoch": len(loader),
        "epochs": (trainer.start_epoch, trainer.epochs),
        "gradient buffer": buffer,
        "shuffling seed": loader.rng.bit_generator.state if loader.shuffle else None,
        "training data": digest.hexdigest(),
    }


def _check_same_plan(comm: Comm, plan: dict[str, Any]) -> None:
    """Refuse, on every rank alike, a fit whose ranks were not given the same run."""
    plans = comm.allgather(plan)
    for rank, other in enumerate(plans):
        for key, value in other.items():
            if value != plans[0][key]:
                shown = f" ({value!r} against {plans[0][key]!r})"
                if key in ("shuffling seed", "training data"):  # long, or meaningless
                    shown = ""
                raise ValueError(
                    f"fit(distributed=...): rank {rank}'s {key} differs from rank 0's{shown}. "
                    "Every rank must call fit with the same data, seed and settings (as "
                    "mpirun -n N of one script does)."
                )


class DataParallel:
    """One rank's part of a data-parallel fit over ``comm`` (see :mod:`sinapsi.distributed`).

    The flat buffer holds, in order: every trainable parameter's gradient (scaled by the
    rank's share of the batch), one has-a-gradient count per parameter, the rank's share of
    the batch loss, and one error flag per rank."""

    def __init__(self, comm: Comm) -> None:
        self.comm = comm

    def start(self, trainer: Trainer, loader: DataLoader) -> None:
        """Before the first epoch: refuse what cannot train in shards, broadcast rank 0's
        weights, reseed the dropout generators of ranks > 0, allocate the flat buffer."""
        comm, model = self.comm, trainer.model
        reduction = getattr(trainer.loss_fn, "reduction", "mean")
        if reduction != "mean":
            raise ValueError(
                f"fit(distributed=...): the loss must average over the batch (reduction="
                f"'mean'); got reduction={reduction!r}, whose shards do not add up to the "
                "batch's. Use the loss with its default reduction."
            )
        layer = _batch_norm_layer(model)
        smallest = _smallest_batch(loader)
        if layer is not None and smallest // comm.size < 2:
            raise ValueError(
                f"fit(distributed=...): the model's {layer} needs 2+ samples per rank, but a "
                f"batch of {smallest} over {comm.size} ranks leaves {smallest // comm.size} to "
                f"some. Use batch_size >= {2 * comm.size} and drop_last=True (or fewer ranks)."
            )
        self.params = [p for p in model.parameters() if p.requires_grad]
        self.offsets = np.cumsum([0] + [int(p.data.size) for p in self.params]).tolist()
        if comm.size > 1:
            _check_same_plan(comm, _plan(trainer, loader, self.offsets[-1]))
        broadcast_parameters(model, comm)
        if comm.size > 1 and comm.rank > 0:
            _reseed(model, comm.rank)
        dtypes = [p.data.dtype for p in self.params]
        dtype = np.result_type(*dtypes) if dtypes else np.float64
        self.has_at = self.offsets[-1]
        self.loss_at = self.has_at + len(self.params)
        self.flag_at = self.loss_at + 1
        self.buf = np.zeros(self.flag_at + comm.size, dtype)
        self.batch_norms = [
            m for m in model.modules() if isinstance(m, BatchNorm1d) and m.track_running_stats
        ]

    def step(
        self,
        trainer: Trainer,
        xb: np.ndarray,
        yb: np.ndarray,
        dtype: Any,
        epoch: int,
        batch: int,
        callbacks: Any,
    ) -> tuple[float, Any, np.ndarray]:
        """One step on this rank's shard of the global batch ``(xb, yb)``: forward, backward,
        the Allreduce, then the trainer's update. Returns the global batch loss, this shard's
        outputs (None for an empty shard) and its targets."""
        comm, buf, offsets = self.comm, self.buf, self.offsets
        lo, hi = shard_bounds(len(xb), comm.size, comm.rank)
        share = (hi - lo) / len(xb)
        out, error = None, None
        buf[self.has_at :] = 0  # the gradients' part is written below, slot by slot
        try:
            callbacks.call("on_batch_begin", batch, {})
            trainer.optimizer.zero_grad()
            if hi > lo:
                output = trainer.model(_input(xb[lo:hi], dtype))
                loss = trainer.loss_fn(output, yb[lo:hi])
                buf[self.loss_at] = float(loss.item()) * share
                loss.backward()
                out = output.data
                for i, p in enumerate(self.params):
                    slot = buf[offsets[i] : offsets[i + 1]]
                    if p.grad is None:  # not reached by the loss (on this shard)
                        slot.fill(0)
                    else:
                        np.multiply(backend.to_numpy(p.grad).reshape(-1), share, out=slot)
                        buf[self.has_at + i] = 1
            else:  # an empty shard: zeros, and still the Allreduce
                buf[: self.has_at] = 0
        except Exception as e:  # the others learn it from the flags, after the Allreduce
            error = e
            buf.fill(0)
            buf[self.flag_at + comm.rank] = 1
        comm.allreduce_(buf)
        failed = np.flatnonzero(buf[self.flag_at :])
        if failed.size:
            if error is not None:  # every rank raises now: none waits for this one
                error._sinapsi_every_rank_knows = True  # type: ignore[attr-defined]
                raise error
            raise RankFailed(
                f"fit: rank {int(failed[0])} failed at epoch {epoch + 1}, batch {batch + 1} (its "
                "error is printed by that rank)."
            )
        value = float(buf[self.loss_at])
        _check_loss(value, epoch, batch)  # every rank alike: the global batch's loss
        for i, p in enumerate(self.params):
            if buf[self.has_at + i]:
                xp = backend.get_array_module(p.data)
                grad = buf[offsets[i] : offsets[i + 1]].reshape(p.data.shape)
                if xp is np and grad.dtype == p.data.dtype:
                    # a view into the buffer, as DDP's gradient_as_bucket_view: no copy (0.5 ms
                    # a step on the wide net); the next step rewrites it, after zero_grad
                    p.grad = grad
                else:
                    p.grad = xp.array(grad, dtype=p.data.dtype)
            else:
                p.grad = None
        trainer._update()
        return value, out, yb[lo:hi]

    def gather(
        self, outputs: list[Any], targets: list[np.ndarray]
    ) -> tuple[np.ndarray, np.ndarray]:
        """The epoch's outputs and targets of every rank's shards, in the global batches'
        order (what one process would have concatenated)."""
        every = self.comm.allgather((outputs, targets))
        outs, tgts = [], []
        for b in range(len(outputs)):
            for rank_outputs, rank_targets in every:
                if rank_outputs[b] is not None:
                    outs.append(rank_outputs[b])
                    tgts.append(rank_targets[b])
        return np.concatenate(outs), np.concatenate(tgts)

    def end_epoch(self) -> None:
        """Average BatchNorm's running statistics over the ranks (one Allreduce)."""
        if self.comm.size == 1 or not self.batch_norms:
            return
        arrays = [a for m in self.batch_norms for a in (m.running_mean, m.running_var)]
        flat = np.concatenate([backend.to_numpy(a).reshape(-1) for a in arrays])
        self.comm.allreduce_(flat)
        flat /= self.comm.size
        start = 0
        for a in arrays:
            part = flat[start : start + a.size].reshape(a.shape)
            a[...] = backend.get_array_module(a).asarray(part)
            start += a.size
