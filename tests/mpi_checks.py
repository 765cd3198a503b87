"""Running a command under ``mpirun -n N`` from a test: the MPI that the ``[mpi]`` extra installs
(mpich's wheel puts ``mpirun`` beside the venv's python), one BLAS thread per rank, a time limit
so a hung rank fails the test instead of the suite. Tests that need it are marked ``needs_mpi``
and skipped where mpi4py or mpirun is missing (the dev extra installs both)."""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import pytest

MPIRUN = shutil.which("mpirun", path=str(Path(sys.executable).parent)) or shutil.which("mpirun")
HAVE_MPI = MPIRUN is not None and importlib.util.find_spec("mpi4py") is not None
needs_mpi = pytest.mark.skipif(not HAVE_MPI, reason="needs mpi4py and mpirun (pip install .[mpi])")
ONE_THREAD = {
    name: "1" for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
}


def mpi_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment for ranks: this one, BLAS at one thread, the venv's bin first on PATH."""
    env = dict(os.environ)
    env.update(ONE_THREAD)
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")
    env.pop("PYTEST_CURRENT_TEST", None)
    env.update(extra or {})
    return env


def run_mpi(
    n: int,
    argv: Sequence[str],
    *,
    cwd: str | Path | None = None,
    timeout: float = 180,
    env: dict[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    """``mpirun -n n argv...``; argv[0] "python" means this interpreter. Returns the finished
    process (text stdout/stderr); a run past ``timeout`` fails the test, naming the command."""
    assert MPIRUN is not None, "mpirun is missing: mark the test needs_mpi"
    args = [sys.executable if a == "python" else a for a in argv]
    command = [MPIRUN, "-n", str(n), *args]
    try:
        return subprocess.run(
            command,
            cwd=cwd,
            env=mpi_env(env),
            capture_output=True,
            text=True,
            timeout=timeout,
        )
    except subprocess.TimeoutExpired as e:
        pytest.fail(f"{' '.join(command)} did not end within {timeout} s (a hung rank?): {e}")
