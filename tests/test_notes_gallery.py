"""The notes' gallery (examples/notes): every script is a well-formed sphinx-gallery example.

The docs build runs the scripts (and their asserts); running them here again would double
that cost, so these checks only read them: each parses, opens with an RST title, is split
into ``# %%`` text blocks, asserts what it shows, names the notes' Italian terms, and neither
writes files nor reaches the network.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

NOTES = Path(__file__).resolve().parents[1] / "examples" / "notes"
SCRIPTS = sorted(NOTES.glob("plot_*.py"))


def rst_title(text: str) -> str:
    """The title of an RST text: its first non-blank line, underlined by '=' at least as long."""
    lines = [line.rstrip() for line in text.strip().splitlines()]
    assert len(lines) >= 2, "no title"
    title, underline = lines[0], lines[1]
    assert title and re.fullmatch(r"=+", underline), f"not an RST title: {lines[:2]}"
    assert len(underline) >= len(title), f"underline shorter than the title {title!r}"
    return title


def test_gallery_has_a_readme_and_enough_scripts():
    assert rst_title((NOTES / "README.txt").read_text(encoding="utf-8"))
    assert len(SCRIPTS) >= 5, [p.name for p in SCRIPTS]


@pytest.mark.parametrize("path", SCRIPTS, ids=lambda p: p.name)
def test_script_is_a_gallery_example(path: Path):
    source = path.read_text(encoding="utf-8")
    tree = ast.parse(source, filename=str(path))
    docstring = ast.get_docstring(tree, clean=False)
    assert docstring, f"{path.name}: no module docstring"
    assert source.lstrip().startswith('"""'), f"{path.name}: the docstring must come first"
    rst_title(docstring)
    blocks = re.findall(r"^# %%$", source, flags=re.MULTILINE)
    assert len(blocks) >= 3, f"{path.name}: {len(blocks)} '# %%' blocks"
    assert any(isinstance(node, ast.Assert) for node in ast.walk(tree)), path.name
    assert re.search(r"\(\*[a-zà-ù' ]+\*", source), f"{path.name}: no Italian term (*...*)"
    imported = {
        alias.name.split(".")[0]
        for node in ast.walk(tree)
        if isinstance(node, (ast.Import, ast.ImportFrom))
        for alias in (node.names if isinstance(node, ast.Import) else [ast.alias(node.module)])
    }
    assert not imported & {"urllib", "requests", "http", "socket", "pickle"}, imported
    assert "savefig" not in source and "open(" not in source, f"{path.name} writes a file"
