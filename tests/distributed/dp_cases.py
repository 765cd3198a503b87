"""The training cases the distributed tests compare, and the script that trains them under
``mpirun``: ``python dp_cases.py OUT CASE...`` trains each case with ``fit(distributed=True)``;
rank 0 gathers every rank's weights and buffers, and writes ``OUT/CASE.npz`` (its own weights,
the largest difference from any other rank's) and ``OUT/CASE.json`` (the history). Case "sgd"
also passes each rank a ModelCheckpoint into ``OUT/ckpt_rankR/``. The tests
train the same cases on one process in-process and compare."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import numpy as np

import sinapsi as sn
from sinapsi import nn

N_SAMPLES, BATCH, EPOCHS = 203, 25, 3  # an uneven last batch (3) and odd shards (13/12, 2/1)


def _blobs(n: int, shape: tuple[int, ...], seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, *shape))
    y = (x.reshape(n, -1)[:, :3].sum(1) > 0).astype(np.int64) + (x.reshape(n, -1)[:, 0] > 1)
    return x, y


def case(name: str) -> tuple[Any, np.ndarray, np.ndarray, dict[str, Any]]:
    """The float64 model, training data and fit arguments of ``name``."""
    val = _blobs(50, (6,), 9)
    kwargs: dict[str, Any] = {
        "epochs": EPOCHS, "batch_size": BATCH, "metrics": ["accuracy"], "seed": 3,
        "validation_data": val, "verbose": 0,
    }  # fmt: skip
    if name in ("sgd", "adam", "bn", "dropout", "lone"):
        # "lone": a last batch of 1 sample, so rank 1's shard of it is empty
        x, y = _blobs(N_SAMPLES - 2 if name == "lone" else N_SAMPLES, (6,), 1)
        layers = [nn.Linear(6, 16, rng=0)]
        layers += [nn.BatchNorm1d(16)] if name == "bn" else []
        layers += [nn.Tanh(), nn.Linear(16, 3, rng=1)]
        layers += [nn.Dropout(0.3, rng=5)] if name == "dropout" else []
        model = nn.Sequential(*layers)
        if name == "sgd":
            model.double()
            opt = sn.optim.SGD(list(model.parameters()), lr=0.1, momentum=0.9)
            kwargs.update(optimizer=opt, clip_grad_norm=0.5, l2=1e-3)
        elif name in ("adam", "dropout", "lone"):
            kwargs.update(optimizer="adam", lr=0.01, clip_grad_norm=1.0, l2=1e-3)
        else:
            kwargs.update(optimizer="adam", lr=0.01, batch_size=24, drop_last=True)
    elif name == "conv":
        x, y = _blobs(N_SAMPLES, (1, 6, 6), 2)
        val = _blobs(50, (1, 6, 6), 8)
        model = nn.Sequential(
            nn.Conv2d(1, 3, 3, rng=0), nn.ReLU(), nn.Flatten(), nn.Linear(48, 3, rng=1)
        )
        kwargs.update(optimizer="sgd", lr=0.05, validation_data=val)
    else:
        raise ValueError(f"unknown case {name!r}")
    return model.double(), x, y, kwargs


def state(model: Any) -> dict[str, np.ndarray]:
    return {k: np.asarray(v, dtype=np.float64) for k, v in model.state_dict().items()}


class FailsOnRank(nn.Module):
    """Identity, except that its ``fail_at``-th forward on rank ``rank`` raises."""

    def __init__(self, rank: int, fail_at: int) -> None:
        super().__init__()
        self.rank, self.fail_at, self.calls = rank, fail_at, 0

    def forward(self, x: Any) -> Any:
        from sinapsi import distributed

        self.calls += 1
        if distributed.world().rank == self.rank and self.calls == self.fail_at:
            raise ArithmeticError(f"boom on rank {self.rank}, call {self.calls}")
        return x


def fail(out: Path, rank: int, fail_at: int) -> None:
    """A fit whose forward fails on one rank at its ``fail_at``-th call; every rank writes
    what fit raised on it into ``OUT/fail_RANK.txt``, then exits 3."""
    from sinapsi import distributed

    model, x, y, kwargs = case("sgd")
    model = nn.Sequential(FailsOnRank(rank, fail_at), *model)
    try:
        sn.fit(model, x, y, distributed=True, **kwargs)
    except Exception as e:
        mine = distributed.world().rank
        (out / f"fail_{mine}.txt").write_text(f"{type(e).__name__}: {e}")
        sys.exit(3)


def mismatch(out: Path) -> None:
    """Ranks given different runs: rank 1 one sample less, then another seed. Each rank
    writes what fit raised on it into ``OUT/mismatch_RANK_CHANGE.txt``."""
    from sinapsi import distributed

    rank = distributed.world().rank
    for change in ("samples", "seed"):
        model, x, y, kwargs = case("adam")
        if rank == 1 and change == "samples":
            x, y = x[:-1], y[:-1]
        if rank == 1 and change == "seed":
            kwargs["seed"] = 4
        try:
            sn.fit(model, x, y, distributed=True, **kwargs)
        except ValueError as e:
            (out / f"mismatch_{rank}_{change}.txt").write_text(str(e))


def main(out: Path, names: list[str]) -> None:
    from sinapsi import distributed
    from sinapsi.train import ModelCheckpoint

    comm = distributed.world()
    for name in names:
        model, x, y, kwargs = case(name)
        if name == "sgd":  # each rank names its own folder: only rank 0's may appear
            path = out / f"ckpt_rank{comm.rank}" / "sgd.npz"
            kwargs["callbacks"] = [ModelCheckpoint(path, save_best_only=False)]
        history = sn.fit(model, x, y, distributed=True, **kwargs)
        mine = state(model)
        every = comm.allgather(mine)
        if comm.rank == 0:
            spread = max(float(np.max(np.abs(s[k] - mine[k]))) for s in every for k in mine)
            np.savez(out / f"{name}.npz", spread=spread, size=comm.size, **mine)
            (out / f"{name}.json").write_text(json.dumps(history.to_dict()))


if __name__ == "__main__":
    if sys.argv[1] == "fail":
        fail(Path(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]))
    elif sys.argv[1] == "mismatch":
        mismatch(Path(sys.argv[2]))
    else:
        main(Path(sys.argv[1]), sys.argv[2:])
