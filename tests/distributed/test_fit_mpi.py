"""fit(distributed=True) under ``mpirun -n 2`` against plain fit on one process: same weights and
history to float64 rounding without BatchNorm; ranks equal at the end (BatchNorm's running
statistics included); a step failing on one rank ends both, each with its error."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from dp_cases import case, state

import sinapsi as sn
from mpi_checks import needs_mpi, run_mpi
from sinapsi.train import History

SCRIPT = str(Path(__file__).with_name("dp_cases.py"))
CASES = ("sgd", "adam", "lone", "conv", "bn", "dropout")
RTOL = 1e-10


@pytest.fixture(scope="module")
def two_ranks(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Every case trained once under ``mpirun -n 2`` (one launch for all)."""
    out = tmp_path_factory.mktemp("mpi2")
    done = run_mpi(2, ["python", SCRIPT, str(out), *CASES], timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    return out


def _one_process(name: str) -> tuple[dict[str, np.ndarray], History]:
    model, x, y, kwargs = case(name)
    history = sn.fit(model, x, y, **kwargs)
    return state(model), history


def _close(a: np.ndarray, b: np.ndarray) -> bool:
    return np.allclose(a, b, rtol=RTOL, atol=RTOL * max(1.0, float(np.abs(b).max(initial=0))))


@needs_mpi
@pytest.mark.parametrize("name", ["sgd", "adam", "lone", "conv"])
def test_two_ranks_train_as_one_process(two_ranks: Path, name: str) -> None:
    """SGD with momentum and Adam, clipping, l2, accuracy, validation, 203 samples in batches
    of 25 (shards of 13/12, and 2/1 in the last batch; "lone": 201 samples, a last batch of 1
    and an empty shard), an MLP and a Conv2d net, float64."""
    ref, ref_history = _one_process(name)
    got = np.load(two_ranks / f"{name}.npz")
    assert int(got["size"]) == 2
    for key, value in ref.items():
        assert _close(got[key], value), (name, key, np.abs(got[key] - value).max())
    history = History.from_dict(json.loads((two_ranks / f"{name}.json").read_text()))
    for key in ("loss", "val_loss", "accuracy", "val_accuracy"):
        assert np.allclose(history.history[key], ref_history.history[key], rtol=RTOL, atol=0)
    assert history.grad_norms.keys() == ref_history.grad_norms.keys()
    for layer, norms in ref_history.grad_norms.items():
        assert np.allclose(history.grad_norms[layer], norms, rtol=RTOL, atol=0), layer
    # the weights moved: an equality of untrained models would prove nothing
    model, *_ = case(name)
    assert any(not np.allclose(v, ref[k]) for k, v in state(model).items())


@needs_mpi
@pytest.mark.parametrize("name", CASES)
def test_ranks_end_identical(two_ranks: Path, name: str) -> None:
    """Rank 0 gathered every rank's parameters and buffers: no difference at all."""
    assert float(np.load(two_ranks / f"{name}.npz")["spread"]) == 0.0


@needs_mpi
def test_only_rank_0_writes_checkpoints(two_ranks: Path) -> None:
    """Each rank was given a ModelCheckpoint into a folder of its own: only rank 0's exists,
    and it holds the trained model."""
    assert not (two_ranks / "ckpt_rank1").exists()
    saved = sn.load(two_ranks / "ckpt_rank0" / "sgd.npz")
    got = np.load(two_ranks / "sgd.npz")
    assert all(np.array_equal(v, got[k]) for k, v in state(saved).items())


@needs_mpi
@pytest.mark.parametrize("name", ["bn", "dropout"])
def test_batch_norm_and_dropout_differ_from_one_process(two_ranks: Path, name: str) -> None:
    """BatchNorm normalizes each shard by its own statistics, Dropout draws its masks per
    rank (both documented): with 2 ranks the weights differ from one process's, while the
    ranks agree (test_ranks_end_identical), running statistics included."""
    ref, _ = _one_process(name)
    got = np.load(two_ranks / f"{name}.npz")
    assert not np.allclose(got["0.weight"], ref["0.weight"], rtol=1e-6)
    if name == "bn":
        mean = got["1.running_mean"]
        assert np.all(np.isfinite(mean)) and not np.allclose(mean, 0.0)


@needs_mpi
def test_a_step_failing_on_one_rank_ends_both(tmp_path: Path) -> None:
    """Rank 1's forward raises at its third call (batch 2): rank 1 raises its own error, rank
    0 a RankFailed naming rank 1, epoch and batch; both end, well within the time limit."""
    done = run_mpi(2, ["python", SCRIPT, "fail", str(tmp_path), "1", "3"], timeout=60)
    assert done.returncode == 3
    assert (tmp_path / "fail_1.txt").read_text() == "ArithmeticError: boom on rank 1, call 3"
    assert (tmp_path / "fail_0.txt").read_text() == (
        "RankFailed: fit: rank 1 failed at epoch 1, batch 2 (its error is printed by that rank)."
    )


@needs_mpi
def test_ranks_given_different_runs_are_refused_on_every_rank(tmp_path: Path) -> None:
    """One sample less, or another seed, on rank 1: both ranks refuse before the first step
    (instead of waiting for each other's Allreduce), naming what differs."""
    done = run_mpi(2, ["python", SCRIPT, "mismatch", str(tmp_path)], timeout=60)
    assert done.returncode == 0, done.stderr[-2000:]
    tail = "Every rank must call fit with the same data, seed and settings"
    for rank in (0, 1):
        samples = (tmp_path / f"mismatch_{rank}_samples.txt").read_text()
        assert samples.startswith(
            "fit(distributed=...): rank 1's number of samples differs from rank 0's (202 "
            f"against 203). {tail}"
        )
        seed = (tmp_path / f"mismatch_{rank}_seed.txt").read_text()
        assert seed.startswith(f"fit(distributed=...): rank 1's shuffling seed differs from "
                               f"rank 0's. {tail}")  # fmt: skip
