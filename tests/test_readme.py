"""The README's Python examples: each block runs on its own, in a fresh interpreter, as a reader
who copies only that block would run it (issue 14.17)."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
BLOCKS = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)


def _heading(block: str) -> str:
    """The README section a block sits in, as the test id."""
    before = README.read_text().split(block)[0]
    title = re.findall(r"^## (.+)$", before, flags=re.M)[-1]
    return "-".join(re.findall(r"[a-z0-9]+", title.lower()))


def test_the_readme_has_examples():
    assert len(BLOCKS) >= 3


@pytest.mark.parametrize("block", BLOCKS, ids=[_heading(b) for b in BLOCKS])
def test_each_python_block_runs_alone_in_a_fresh_interpreter(block, tmp_path):
    env = {**os.environ, "MPLBACKEND": "Agg"}  # no window, whatever the block does
    result = subprocess.run(
        [sys.executable, "-c", block],
        capture_output=True, text=True, timeout=300, cwd=tmp_path, env=env,
    )  # fmt: skip
    assert result.returncode == 0, f"this README block fails on its own:\n{block}\n{result.stderr}"


def test_the_layers_example_prints_the_summary_table():
    block = next(b for b in BLOCKS if "model.summary" in b)
    out = subprocess.run([sys.executable, "-c", block], capture_output=True, text=True, timeout=300)
    assert "Total params" in out.stdout, out.stderr


def test_links_point_inside_the_repository():
    """A clone holds only the repository: every relative link must resolve inside it."""
    text = README.read_text()
    targets = re.findall(r"\]\((?!https?:|#)([^)]+)\)", text) + re.findall(
        r"`((?:\.\./|\./)[^`\s]+)`", text
    )
    for target in targets:
        path = (ROOT / target).resolve()
        assert path.is_relative_to(ROOT) and path.exists(), f"README links {target!r}"


def test_the_command_line_section_lists_every_command():
    section = README.read_text().split("## The command line")[1].split("\n## ")[0]
    help_text = subprocess.run(
        [sys.executable, "-m", "sinapsi", "--help"], capture_output=True, text=True, timeout=120
    ).stdout
    commands = re.findall(r"^    (\w[\w-]*)\s{2,}", help_text, flags=re.M)
    assert {"demo", "train", "word2vec", "analogy"} <= set(commands)
    for command in commands:
        assert f"sinapsi {command}" in section, f"'sinapsi {command}' is not in the README"
