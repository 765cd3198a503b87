"""The grid files of examples/grids/: each loads with the cells its comment promises, states
its question, command and conclusion, and runs shrunk (one seed, two epochs, little data) to
statuses the grid knows; the depth-vs-width networks have the parameter counts written there."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from sinapsi import grid
from sinapsi.experiment import prepare_run

GRIDS = Path(__file__).resolve().parent.parent / "examples" / "grids"
# name -> (cells, seeds, baseline cell)
EXPECTED = {
    "vanishing": (16, 5, "c008"),
    "exploding": (6, 5, "c001"),
    "optimizers": (7, 5, "c000"),
    "regularization": (4, 5, "c000"),
    "depth_width": (5, 5, "c000"),
}


def test_every_grid_file_is_listed() -> None:
    assert sorted(p.stem for p in GRIDS.glob("*.toml")) == sorted(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_loads_with_the_expected_cells_and_states_its_result(name: str) -> None:
    path = GRIDS / f"{name}.toml"
    g = grid.load_grid(path)
    cells, seeds, baseline = EXPECTED[name]
    assert (len(g.cells), len(g.seeds), g.baseline) == (cells, seeds, baseline)
    assert len(g.runs()) == cells * seeds
    assert g.description
    text = path.read_text(encoding="utf-8")
    head = text.split("\ndescription", 1)[0]
    assert all(line.startswith("#") for line in head.splitlines()), "the file opens with comments"
    assert f"sinapsi grid examples/grids/{name}.toml --out runs" in head
    assert "Measured" in head and "Conclusion" in head


def _shrunk(name: str) -> grid.Grid:
    """The grid with one seed, two epochs and (for generated data) 120 samples per run."""
    g = grid.load_grid(GRIDS / f"{name}.toml")
    g.jobs = [job for job in g.jobs if job.seed == g.seeds[0]]
    for job in g.jobs:
        job.cfg["training"]["epochs"] = 2
        if job.cfg["data"]["n_samples"] is not None:
            job.cfg["data"]["n_samples"] = 120
    return g


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_a_shrunk_run_finishes(name: str, tmp_path: Path) -> None:
    g = _shrunk(name)
    rows = grid.run_grid(g, tmp_path, workers=1, log=lambda _: None, quiet=True, report=False)
    assert len(rows) == EXPECTED[name][0]
    statuses = {row["status"] for row in rows}
    assert statuses <= {"ok", "missed", "diverged"}, [r["error"] for r in rows]
    summary = grid.read_results(tmp_path / g.name / "summary.csv")
    assert [r["cell"] for r in summary] == [c.id for c in g.cells]


def test_exploding_diverges_without_clipping_and_trains_with_it(tmp_path: Path) -> None:
    """The file's point holds even in two epochs: the unclipped cells (c000, c003) diverge,
    every clipped one trains."""
    rows = grid.run_grid(
        _shrunk("exploding"), tmp_path, workers=1, log=lambda _: None, quiet=True, report=False
    )
    status = {row["cell"]: row["status"] for row in rows}
    assert status == {
        "c000": "diverged", "c001": "ok", "c002": "ok",
        "c003": "diverged", "c004": "ok", "c005": "ok",
    }  # fmt: skip


def test_depth_width_parameter_counts_are_the_ones_written() -> None:
    """Count each cell's parameters on the built network and compare them with the counts the
    file's comment gives (an independent check of that arithmetic)."""
    path = GRIDS / "depth_width.toml"
    written = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        match = re.match(r"#\s+(\[[^=]*?\](?: x \d+)?)\s.*=\s+(\d+)", line)
        if match:
            written[match.group(1)] = int(match.group(2))
    g = grid.load_grid(path)
    counted = {}
    for cell in g.cells:
        job = next(j for j in g.jobs if j.cell == cell)
        model = prepare_run(job.cfg, "depth_width").model
        counted[tuple(cell.values[0])] = sum(p.data.size for p in model.parameters())
    assert len(written) == len(counted) == 5
    for hidden, n in counted.items():
        short = f"[{hidden[0]}] x {len(hidden)}" if len(hidden) > 3 else str(list(hidden))
        assert written[short] == n, (hidden, written)
    counts = sorted(counted.values())
    assert counts[-1] == 4 * (counts[0] - 1) + 1  # the wide control: 4x one layer's weights
    assert max(counts[:-1]) - min(counts[:-1]) <= 0.01 * counts[0]  # equal within 1%


def test_vanishing_gradient_shows_in_the_first_epoch(tmp_path: Path) -> None:
    """The file's point in one epoch: in 10 sigmoid layers the first hidden layer's gradient
    norm is orders of magnitude below the last one's; in 10 ReLU layers with He init it is not."""
    import json

    g = _shrunk("vanishing")
    wanted = {"c008": "sigmoid, xavier", "c014": "relu, he"}  # 10 layers, no batch norm
    g.jobs = [job for job in g.jobs if job.cell.id in wanted]
    rows = grid.run_grid(g, tmp_path, workers=1, log=lambda _: None, quiet=True, report=False)
    ratio = {}
    for row in rows:
        history = json.loads((tmp_path / g.name / row["name"] / "history.json").read_text())
        norms = history["grad_norms"]
        linear = [name for name in norms if name.endswith("Linear")]
        assert len(linear) == 11  # 10 hidden layers and the output
        ratio[row["cell"]] = norms[linear[0]][0] / norms[linear[-2]][0]
    assert ratio["c008"] < 1e-4, ratio
    assert ratio["c014"] > 0.1, ratio
