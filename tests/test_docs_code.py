"""Every Python code block of the documentation's pages runs: a page's ``.. code-block:: python``
blocks in order, in one namespace, as a reader would paste them. Literal blocks (``::``) hold
code for libraries that are not dependencies (Keras) and are not run."""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parents[1] / "docs"
PAGES = sorted(
    str(p.relative_to(DOCS))
    for p in [DOCS / "getting_started.rst", *DOCS.glob("guide/*.rst"), *DOCS.glob("coming_from/*")]
    if p.suffix == ".rst"
)
BLOCK = re.compile(r"^\.\. code-block:: python\n((?:\n|   .*\n)+)", re.MULTILINE)


def python_blocks(page: str) -> list[str]:
    """The page's python blocks, dedented, options (``:caption:``...) left out."""
    text = (DOCS / page).read_text(encoding="utf-8")
    blocks = []
    for match in BLOCK.finditer(text):
        lines = [line for line in match.group(1).splitlines() if not line.strip().startswith(":")]
        blocks.append(textwrap.dedent("\n".join(lines)).strip() + "\n")
    return blocks


def test_the_pages_hold_code() -> None:
    counts = {page: len(python_blocks(page)) for page in PAGES}
    assert counts["getting_started.rst"] == 1
    assert sum(counts.values()) >= 20, counts


@pytest.mark.parametrize("page", [p for p in PAGES if python_blocks(p)])
def test_every_code_block_runs(page: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("matplotlib").use("Agg")
    monkeypatch.chdir(tmp_path)  # a block that writes a file writes it here
    namespace: dict[str, object] = {"__name__": "__docs__"}
    for number, block in enumerate(python_blocks(page), 1):
        code = compile(block, f"{page} (python block {number})", "exec")
        exec(code, namespace)  # noqa: S102 (the documentation's own code)


def test_code_lines_fit_the_page() -> None:
    """furo's code column holds about 88 characters; a longer line scrolls sideways."""
    pages = [p for p in DOCS.rglob("*.rst") if "_build" not in p.parts and "api" not in p.parts]
    pages = [p for p in pages if "auto_notes" not in p.parts]
    long = []
    for page in pages:
        in_code = False
        for number, line in enumerate(page.read_text(encoding="utf-8").splitlines(), 1):
            if line.startswith(".. code-block::") or (line.endswith("::") and line[:3] != ".. "):
                in_code = True
            elif in_code and line and not line.startswith(" "):
                in_code = False
            elif in_code and len(line) - 3 > 88:
                long.append(f"{page.relative_to(DOCS)}:{number}")
    assert not long, f"code lines longer than 88 characters: {long}"
