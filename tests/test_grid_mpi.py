"""sinapsi grid on MPI (mpi4py.futures): the mpiexec form and the spawn form give the local
engine's results.csv, resume, failed runs, and the launches that are refused."""

from __future__ import annotations

import csv
import os
import shutil
import signal
import subprocess
import sys
import threading
import types
from pathlib import Path

import pytest

from grid_checks import GRID
from mpi_checks import MPIRUN, mpi_env, needs_mpi, run_mpi
from sinapsi import grid, grid_engines
from sinapsi.cli import main
from sinapsi.config import ConfigError

FUTURES = ["python", "-m", "mpi4py.futures", "-m", "sinapsi", "grid"]
# Loaded at the start of every Python process of a run (a sitecustomize on PYTHONPATH): wraps
# run_one to note where each run ran (the MPI world rank; "spawned" in a spawned MPI worker;
# "local" without MPI) and, for the run SINAPSI_TEST_DIE names, to end its process at once.
PROBE = """
import os
if os.environ.get("SINAPSI_TEST_PROBE"):
    import sys
    import sinapsi.grid as grid
    real = grid.run_one
    def run_one(job):
        mpi = sys.modules.get("mpi4py.MPI")
        where = "local"
        if mpi is not None:
            spawned = mpi.Comm.Get_parent() != mpi.COMM_NULL
            where = "spawned" if spawned else f"rank{mpi.COMM_WORLD.Get_rank()}"
        with open(os.environ["SINAPSI_TEST_PROBE"], "a", encoding="utf-8") as f:
            f.write(f"{job.cfg['name']} {where}\\n")
        if job.cfg["name"] == os.environ.get("SINAPSI_TEST_DIE"):
            os._exit(7)
        return real(job)
    grid.run_one = run_one
"""


def _table(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    """results.csv's columns and rows, without the wall-clock ``seconds``."""
    with open(path, newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        rows = [{k: v for k, v in row.items() if k != "seconds"} for row in reader]
        return list(reader.fieldnames or []), rows


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The grid file and the results.csv of the local engine, here, one run after another."""
    where = tmp_path_factory.mktemp("grid")
    path = where / "tiny.toml"
    path.write_text(GRID, encoding="utf-8")
    grid.run_grid(
        grid.load_grid(path), where / "local", workers=1, log=lambda _: None, report=False
    )
    return path, where / "local" / "tiny" / "results.csv"


def _probed(tmp_path: Path, die: str = "") -> tuple[dict[str, str], Path]:
    """The environment that loads PROBE in every process, and the file it writes."""
    (tmp_path / "probe").mkdir()
    (tmp_path / "probe" / "sitecustomize.py").write_text(PROBE, encoding="utf-8")
    paths = [str(tmp_path / "probe"), os.environ.get("PYTHONPATH", "")]
    log = tmp_path / "probe" / "runs.txt"
    env = {"PYTHONPATH": os.pathsep.join(p for p in paths if p), "SINAPSI_TEST_PROBE": str(log)}
    if die:
        env["SINAPSI_TEST_DIE"] = die
    return env, log


def _where(log: Path) -> dict[str, str]:
    """run name -> where PROBE saw it run."""
    return dict(line.split() for line in log.read_text(encoding="utf-8").splitlines())


def _assert_same_results(path: Path, reference: Path) -> None:
    columns, rows = _table(path)
    want_columns, want = _table(reference)
    assert columns == want_columns
    assert len(rows) == 8 and all(r["status"] == "ok" for r in rows), rows
    assert rows == want  # same runs, order, metrics (repr of the floats), config hashes


@needs_mpi
def test_mpiexec_futures_form_matches_local_and_resumes(
    reference: tuple[Path, Path], tmp_path: Path
) -> None:
    path, local = reference
    argv = [*FUTURES, str(path), "--out", str(tmp_path)]
    env, log = _probed(tmp_path)
    done = run_mpi(3, argv, cwd=tmp_path, timeout=120, env=env)
    assert done.returncode == 0, done.stderr
    assert "8 to run, 2 workers" in done.stdout  # N-1 = 2 ranks run the grid, no --mpi needed
    where = _where(log)
    assert len(where) == 8 and set(where.values()) == {"rank1", "rank2"}, where
    folder = tmp_path / "tiny"
    _assert_same_results(folder / "results.csv", local)
    assert (folder / "report.html").is_file()  # written by rank 0 at the end

    # resume: drop one run's row and folder; only that run is redone, by an MPI worker
    lost = "c002_seed1"
    mtimes = {p.name: p.stat().st_mtime_ns for p in folder.iterdir() if p.is_dir()}
    shutil.rmtree(folder / lost)
    lines = (folder / "results.csv").read_text(encoding="utf-8").splitlines(keepends=True)
    (folder / "results.csv").write_text(
        "".join(line for line in lines if not line.startswith(lost + ",")), encoding="utf-8"
    )
    again = run_mpi(3, argv, cwd=tmp_path, timeout=120)
    assert again.returncode == 0, again.stderr
    assert "(7 done before, 1 to run, 1 workers)" in again.stdout
    assert [line for line in again.stdout.splitlines() if line.startswith("[")] == [
        line for line in again.stdout.splitlines() if "c002 seed 1: ok" in line
    ]
    _assert_same_results(folder / "results.csv", local)
    for name, mtime in mtimes.items():
        assert (name == lost) != ((folder / name).stat().st_mtime_ns == mtime), name


@needs_mpi
def test_spawn_form_matches_local(reference: tuple[Path, Path], tmp_path: Path) -> None:
    """--mpi --workers 2 without mpiexec spawns the workers (MPICH's singleton start runs the
    venv's mpiexec, found beside the interpreter even with the venv's bin off PATH)."""
    path, local = reference
    env = mpi_env()
    venv_bin = str(Path(sys.executable).parent)
    env["PATH"] = os.pathsep.join(
        p for p in env["PATH"].split(os.pathsep) if p and Path(p) != Path(venv_bin)
    )
    argv = ["-m", "sinapsi", "grid", str(path), "--out", str(tmp_path), "--mpi", "--workers", "2"]
    probe, log = _probed(tmp_path)
    env.update(probe)
    done = subprocess.run(
        [sys.executable, *argv], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert "8 to run, 2 workers" in done.stdout
    assert set(_where(log).values()) == {"spawned"} and len(_where(log)) == 8
    _assert_same_results(tmp_path / "tiny" / "results.csv", local)


@needs_mpi
def test_plain_mpirun_is_refused_before_anything_is_written(
    reference: tuple[Path, Path], tmp_path: Path
) -> None:
    path, _ = reference
    out = tmp_path / "out"
    done = run_mpi(2, ["python", "-m", "sinapsi", "grid", str(path), "--out", str(out)], timeout=60)
    assert done.returncode == 2
    err = done.stderr.strip().splitlines()
    assert len(err) == 1, done.stderr  # rank 0 only; rank 1 exits quietly
    assert err[0].startswith("sinapsi: error: sinapsi grid, started as 2 MPI processes, would run")
    assert f"mpiexec -n 3 python -m mpi4py.futures -m sinapsi grid {path}" in err[0]
    assert done.stdout == ""
    assert not out.exists()


@needs_mpi
def test_failed_run_under_mpi_is_a_row_and_the_grid_goes_on(tmp_path: Path) -> None:
    """A run whose data has no such target column raises inside its worker: a failed row."""
    (tmp_path / "d.csv").write_text(
        "a,b,y\n" + "".join(f"{i % 7},{i % 3},{i % 2}\n" for i in range(40)), encoding="utf-8"
    )
    text = GRID.replace('source = "xor"\nn_samples = 100', 'source = "csv"\npath = "d.csv"')
    text = (
        text[: text.index("[grid]")] + '[grid]\n"data.target" = ["y", "nosuch"]\nseeds = [0, 1]\n'
    )
    (tmp_path / "t.toml").write_text(text, encoding="utf-8")
    done = run_mpi(3, [*FUTURES, "t.toml", "--out", "out"], cwd=tmp_path, timeout=120)
    assert done.returncode == 1, done.stderr  # some run failed
    assert "of 4 runs 2 failed and 0 missed a target" in done.stderr
    _, rows = _table(tmp_path / "out" / "t" / "results.csv")
    assert [(r["name"], r["status"]) for r in rows] == [
        ("c000_seed0", "ok"), ("c000_seed1", "ok"), ("c001_seed0", "failed"),
        ("c001_seed1", "failed"),
    ]  # fmt: skip
    assert all("no column named 'nosuch'" in r["error"] for r in rows[2:])
    assert all("\n" not in r["error"] for r in rows)


@needs_mpi
def test_a_worker_that_dies_ends_the_mpi_job_and_keeps_the_finished_rows(
    reference: tuple[Path, Path], tmp_path: Path
) -> None:
    """mpi4py cannot report a dead rank: mpiexec ends the whole job (no hang); results.csv
    holds the runs recorded before, and a rerun would redo the others."""
    path, local = reference
    env, log = _probed(tmp_path, die="c001_seed0")
    done = run_mpi(3, [*FUTURES, str(path), "--out", "out"], cwd=tmp_path, timeout=60, env=env)
    assert done.returncode != 0
    assert "c001_seed0" in _where(log)
    _, rows = _table(tmp_path / "out" / "tiny" / "results.csv")
    _, want = _table(local)
    assert len(rows) < 8 and "c001_seed0" not in [r["name"] for r in rows]
    assert all(row in want for row in rows)


@needs_mpi
def test_ctrl_c_on_mpiexec_stops_the_grid_and_keeps_results_whole(tmp_path: Path) -> None:
    """SIGINT to mpiexec (what Ctrl-C does) reaches every rank: rank 0 says so, mpiexec's status
    is 130, no rank prints a traceback (an idle worker ignores it, a busy one stops its run),
    and every folder left is a whole run."""
    slow = GRID.replace("epochs = 3", "epochs = 300").replace('"training.lr" = [0.01, 0.1]\n', "")
    (tmp_path / "slow.toml").write_text(slow, encoding="utf-8")
    argv = [sys.executable, "-m", "mpi4py.futures", "-m", "sinapsi", "grid", "slow.toml"]
    proc = subprocess.Popen(
        [str(MPIRUN), "-n", "3", *argv, "--out", "out"],
        cwd=tmp_path,
        env=mpi_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # the signal goes to this mpiexec only
    )
    try:
        assert proc.stdout is not None
        for line in proc.stdout:  # wait for the first recorded run
            if line.startswith("[1/4]"):
                break
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    assert proc.returncode == 130, err
    assert "sinapsi: interrupted" in err and "Traceback" not in err, err
    folder = tmp_path / "out" / "slow"
    _, rows = _table(folder / "results.csv")
    assert 1 <= len(rows) < 4 and all(r["status"] == "ok" for r in rows), rows
    runs = [p for p in folder.iterdir() if p.is_dir()]
    assert {r["name"] for r in rows} <= {p.name for p in runs}
    # a run finished but not yet recorded keeps its whole folder (a rerun redoes it)
    assert all((p / "model.safetensors").is_file() for p in runs), runs


@needs_mpi
def test_futures_form_refuses_a_worker_count_it_does_not_have(
    reference: tuple[Path, Path], tmp_path: Path
) -> None:
    path, _ = reference
    done = run_mpi(2, [*FUTURES, str(path), "--out", "out", "--workers", "3"], cwd=tmp_path)
    assert done.returncode == 2
    assert "sinapsi: error: --workers 3: under mpiexec -n 2 the workers are the ranks other " in (
        done.stderr
    )
    assert not (tmp_path / "out").exists()


def test_mpi_without_mpi4py_says_what_to_install(
    reference: tuple[Path, Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    path, _ = reference
    for name in ("PMI_SIZE", "PMI_RANK", "OMPI_COMM_WORLD_SIZE", "OMPI_COMM_WORLD_RANK"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setitem(sys.modules, "mpi4py", None)  # import mpi4py raises ImportError
    monkeypatch.setitem(sys.modules, "mpi4py.futures", None)
    assert main(["grid", str(path), "--out", str(tmp_path / "out"), "--mpi"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert err.startswith("sinapsi: error: sinapsi grid --mpi needs mpi4py and an MPI library")
    assert err.endswith('pip install "sinapsi[mpi]"')
    assert not (tmp_path / "out").exists()


def test_spawn_without_mpiexec_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Without mpiexec MPICH's spawn aborts and hangs: refuse first, in one line."""
    monkeypatch.setitem(sys.modules, "mpi4py.futures", types.ModuleType("mpi4py.futures"))
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setattr(sys, "executable", str(tmp_path / "python"))
    with pytest.raises(ConfigError, match=r"spawns its workers through mpiexec") as info:
        grid_engines.require_mpi("sinapsi grid --mpi", spawn=True)
    assert "\n" not in str(info.value)
    grid_engines.require_mpi(spawn=False)  # the mpiexec form has its ranks already


@pytest.mark.parametrize(
    "env, want",
    [
        ({}, grid_engines.MpiLaunch(1, 0)),
        ({"PMI_SIZE": "4", "PMI_RANK": "3"}, grid_engines.MpiLaunch(4, 3)),
        ({"OMPI_COMM_WORLD_SIZE": "2", "OMPI_COMM_WORLD_RANK": "1"}, grid_engines.MpiLaunch(2, 1)),
        ({"PMI_SIZE": "x"}, grid_engines.MpiLaunch(1, 0)),
    ],
)
def test_mpi_launch_reads_the_launcher_variables(
    monkeypatch: pytest.MonkeyPatch, env: dict[str, str], want: grid_engines.MpiLaunch
) -> None:
    for name in ("PMI_SIZE", "PMI_RANK", "OMPI_COMM_WORLD_SIZE", "OMPI_COMM_WORLD_RANK"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setitem(sys.modules, "mpi4py.futures._core", None)
    monkeypatch.setitem(sys.modules, "mpi4py.MPI", None)
    assert grid_engines.mpi_launch() == want


def test_a_spawn_that_fails_is_one_line_not_a_hang() -> None:
    """mpi4py's manager thread dies when MPI_Comm_spawn fails and nothing wakes the caller
    (Open MPI as root without PRTE_ALLOW_RUN_AS_ROOT did that): _boot watches the thread."""

    class Inner:
        def __init__(self) -> None:
            self.event = threading.Event()  # never set: the pool never became ready
            self.thread = threading.Thread(target=self.spawn)

        def spawn(self) -> None:
            raise RuntimeError("MPI_ERR_UNKNOWN: unknown\nerror")

    class Pool:  # the parts of MPIPoolExecutor that _boot uses
        def bootup(self, wait: bool = True) -> None:
            assert not wait
            self._pool = Inner()
            self._pool.thread.start()

    raised: list[BaseException] = []

    def boot() -> None:
        try:
            grid_engines._boot(Pool())
        except BaseException as e:  # noqa: BLE001 (checked below)
            raised.append(e)

    runner = threading.Thread(target=boot, daemon=True)  # a hang fails the test, not the suite
    runner.start()
    runner.join(timeout=30)
    assert raised, "_boot hung on a pool whose manager thread died"
    message = str(raised[0])
    assert isinstance(raised[0], ConfigError), raised[0]
    assert message.startswith("starting the MPI workers failed (MPI_ERR_UNKNOWN: unknown error)")
    assert "\n" not in message
    assert "mpiexec -n N python -m mpi4py.futures -m sinapsi grid GRID" in message
