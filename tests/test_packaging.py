"""Packaging: the runtime install (no extras) runs the demo; the Makefile installs what each
command needs (issue 14.16)."""

import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OPTIONAL = ("numba", "torch", "onnx", "onnxruntime", "gensim", "cupy", "hypothesis", "pytest")

BLOCK = f"""
import runpy, sys
class Missing:
    '''Pretend the optional libraries are not installed, as after `pip install sinapsi`.'''
    def find_spec(self, name, path=None, target=None):
        if name.split('.')[0] in {OPTIONAL!r}:
            raise ModuleNotFoundError(f"No module named {{name!r}}", name=name)
        return None
sys.meta_path.insert(0, Missing())
for name in list(sys.modules):
    if name.split('.')[0] in {OPTIONAL!r}:
        del sys.modules[name]
"""


def test_demo_runs_without_any_optional_library(tmp_path):
    code = BLOCK + (
        "sys.argv = ['sinapsi', 'demo', '--epochs', '1', '--target', '0', '--quiet', "
        f"'--out', {str(tmp_path)!r}]\n"
        "runpy.run_module('sinapsi', run_name='__main__', alter_sys=True)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=300, cwd=tmp_path
    )
    assert out.returncode == 0, out.stdout + out.stderr
    assert (tmp_path / "demo").is_dir()


def make_dry_run(root: Path, *targets: str, touch: tuple[str, ...] = ()) -> str:
    """What `make -n TARGETS` would run with the repo's Makefile in ``root``, a checkout with a
    venv (when ``touch``) whose install stamps ``touch`` are newer than pyproject.toml."""
    (root / "pyproject.toml").write_text((ROOT / "pyproject.toml").read_text())
    old = time.time() - 100
    os.utime(root / "pyproject.toml", (old, old))
    if touch:
        (root / ".venv" / "bin").mkdir(parents=True, exist_ok=True)
        (root / ".venv" / "bin" / "python").write_text("#!/bin/sh\n")
        (root / ".venv" / "bin" / "python").chmod(0o755)
        for stamp in touch:
            (root / ".venv" / stamp).write_text("")
    out = subprocess.run(
        ["make", "-n", "-f", str(ROOT / "Makefile"), *targets],
        capture_output=True, text=True, timeout=60, cwd=root,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    return out.stdout


def installs(dry_run: str) -> list[str]:
    return [line for line in dry_run.splitlines() if "pip install" in line and "-e" in line]


def test_make_demo_installs_only_the_runtime_and_the_fast_kernels(tmp_path):
    steps = installs(make_dry_run(tmp_path, "demo"))
    assert len(steps) == 1 and '".[fast]"' in steps[0], steps
    assert "dev" not in steps[0]


def test_make_test_installs_the_dev_extra(tmp_path):
    steps = installs(make_dry_run(tmp_path, "test"))
    assert len(steps) == 1 and "dev" in steps[0], steps


def test_make_test_after_make_demo_upgrades_the_venv(tmp_path):
    steps = installs(make_dry_run(tmp_path, "test", touch=(".installed-fast",)))
    assert len(steps) == 1 and "dev" in steps[0], steps
    assert installs(make_dry_run(tmp_path, "demo", touch=(".installed-fast",))) == []


def test_make_demo_after_make_test_installs_nothing(tmp_path):
    stamps = (".installed-fast", ".installed-dev")
    assert installs(make_dry_run(tmp_path, "demo", "test", touch=stamps)) == []
