"""sinapsi.distributed without MPI: sharding, the launcher's environment, the single-process
Comm, and fit(distributed=True) on one process bit-identical to plain fit."""

from __future__ import annotations

import numpy as np
import pytest
from dp_cases import case, state

import sinapsi as sn
from sinapsi import distributed, nn
from sinapsi.distributed import Comm, shard_bounds

LAUNCHER_VARS = (
    "PMI_RANK", "PMI_SIZE", "OMPI_COMM_WORLD_RANK", "OMPI_COMM_WORLD_SIZE", "PMIX_RANK",
    "MPI_LOCALRANKID", "MPI_LOCALNRANKS",
)  # fmt: skip


@pytest.fixture
def no_launcher(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in LAUNCHER_VARS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(distributed, "_world", None)


@pytest.mark.parametrize("size", [1, 2, 3, 4, 7])
@pytest.mark.parametrize("n", [0, 1, 2, 3, 13, 25, 26])
def test_shards_are_array_split(n: int, size: int) -> None:
    parts = np.array_split(np.arange(n), size)
    for rank, part in enumerate(parts):
        lo, hi = shard_bounds(n, size, rank)
        assert np.array_equal(np.arange(lo, hi), part)


def test_launcher_environment(no_launcher: None, monkeypatch: pytest.MonkeyPatch) -> None:
    assert not distributed.launched_under_mpi()
    monkeypatch.setenv("SLURM_NTASKS", "4")  # a count alone: not a rank of a launched job
    assert not distributed.launched_under_mpi()
    for name in ("PMI_RANK", "OMPI_COMM_WORLD_RANK", "PMIX_RANK"):
        monkeypatch.setenv(name, "0")
        assert distributed.launched_under_mpi()
        monkeypatch.delenv(name)


def test_world_without_mpi_is_one_process(no_launcher: None) -> None:
    comm = distributed.world()
    assert (comm.rank, comm.size) == (0, 1) and distributed.is_main(comm)
    buf = np.arange(4.0)
    assert comm.allreduce_(buf) is buf and np.array_equal(buf, np.arange(4.0))
    assert comm.bcast_(buf) is buf and comm.allgather({"a": 1}) == [{"a": 1}]
    comm.barrier()


def test_world_without_mpi4py_says_how_to_install(
    no_launcher: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PMI_RANK", "0")
    monkeypatch.setitem(__import__("sys").modules, "mpi4py", None)  # import fails
    with pytest.raises(ImportError, match=r'pip install "sinapsi\[mpi\]"'):
        distributed.world()


def test_fit_refuses_a_wrong_distributed_argument() -> None:
    model, x, y, kwargs = case("sgd")
    with pytest.raises(TypeError, match="distributed must be True, False or"):
        sn.fit(model, x, y, distributed="yes", **kwargs)


def test_fit_refuses_a_loss_that_sums() -> None:
    model, x, y, kwargs = case("adam")
    with pytest.raises(ValueError, match="reduction='mean'"):
        sn.fit(model, x, y, distributed=Comm(), **{**kwargs, "loss": nn.CrossEntropyLoss(
            reduction="sum")})  # fmt: skip


@pytest.mark.parametrize("name", ["sgd", "adam", "lone", "conv", "bn", "dropout"])
def test_one_process_is_bit_identical_to_plain_fit(no_launcher: None, name: str) -> None:
    model, x, y, kwargs = case(name)
    plain = sn.fit(model, x, y, **kwargs)
    model2, x, y, kwargs = case(name)
    dist = sn.fit(model2, x, y, distributed=True, **kwargs)
    ref, got = state(model), state(model2)
    assert all(np.array_equal(ref[k], got[k]) for k in ref)
    for key in ("loss", "val_loss", "accuracy", "val_accuracy"):
        assert dist.history[key] == plain.history[key]
    assert dist.grad_norms == plain.grad_norms


class _Counting(Comm):
    """One process, counting the Allreduces fit makes."""

    def __init__(self) -> None:
        super().__init__()
        self.sizes: list[int] = []

    def allreduce_(self, buf: np.ndarray) -> np.ndarray:
        self.sizes.append(buf.size)
        return super().allreduce_(buf)


def test_one_allreduce_per_step_of_one_flat_buffer() -> None:
    """Every step sums one buffer: all gradients, a has-gradient count per parameter, the
    loss and one error flag per rank."""
    model, x, y, kwargs = case("adam")
    comm = _Counting()
    sn.fit(model, x, y, distributed=comm, **kwargs)
    n_params = sum(p.size for p in model.parameters())
    steps = kwargs["epochs"] * -(-len(x) // kwargs["batch_size"])
    assert comm.sizes == [n_params + len(list(model.parameters())) + 1 + 1] * steps


def test_batch_norm_shards_need_two_samples() -> None:
    """2 ranks, batches of 3: a shard of 1 sample cannot be normalized, refused before
    training (a Comm that says size 2 without MPI is never reached)."""

    class Two(Comm):
        def __init__(self) -> None:
            super().__init__()
            self.size = 2

    model, x, y, kwargs = case("bn")
    with pytest.raises(ValueError, match="needs 2\\+ samples per rank"):
        sn.fit(model, x, y, distributed=Two(), **{**kwargs, "batch_size": 3})


def test_train_under_mpirun_without_mpi4py_is_one_line(
    no_launcher: None, monkeypatch: pytest.MonkeyPatch, tmp_path, capsys
) -> None:
    from sinapsi import cli

    monkeypatch.setenv("PMI_RANK", "0")
    monkeypatch.setenv("PMI_SIZE", "2")
    monkeypatch.setitem(__import__("sys").modules, "mpi4py", None)  # import fails
    config = tmp_path / "c.toml"
    config.write_text('[data]\nsource = "xor"\n')
    assert cli.main(["train", str(config), "--out", str(tmp_path / "runs")]) == 2
    err = capsys.readouterr().err
    assert err.splitlines() == [
        'sinapsi: error: sinapsi.distributed needs mpi4py under mpirun: pip install "sinapsi[mpi]" '
        "(or pip install mpi4py against your cluster's MPI)."
    ]
    assert not (tmp_path / "runs").exists()
