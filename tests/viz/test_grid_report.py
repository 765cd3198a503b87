"""The grid's report.html: the ranking's numbers against an independent computation from
results.csv, the pictures, and a page that survives missing histories and failed runs."""

from __future__ import annotations

import base64
import csv
import io
import math
import re
import shutil
import warnings
from html.parser import HTMLParser
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest
from PIL import Image
from scipy import stats

from grid_checks import BASE
from sinapsi import grid
from sinapsi.viz import _grid_stats
from sinapsi.viz.grid_report import write_grid_report

GRID = (
    BASE
    + """
[grid]
"model.activation" = ["relu", "tanh"]
"training.lr" = [0.01, 0.3]
seeds = [0, 1, 2]
"""
)


class Page(HTMLParser):
    """The ranking table's rows (text and title of each cell), the images, external references
    and scripts of a page; checks that every tag is closed in order."""

    VOID = {"meta", "img", "br", "hr", "link", "input"}

    def __init__(self, text: str) -> None:
        super().__init__()
        self.stack: list[str] = []
        self.images: list[str] = []
        self.external: list[str] = []
        self.scripts = 0
        self.rows: list[list[tuple[str, str]]] = []
        self.row_classes: list[str] = []
        self._in_rank = False
        self._cell: list[str] | None = None
        self.feed(text)
        assert not self.stack, f"unclosed tags {self.stack}"

    def handle_starttag(self, tag: str, attrs: list) -> None:
        a = dict(attrs)
        if tag == "img":
            self.images.append(a.get("src", ""))
        self.scripts += tag == "script"
        for key in ("src", "href"):
            if a.get(key) and not a[key].startswith("data:"):
                self.external.append(a[key])
        if tag == "table" and a.get("class") == "rank":
            self._in_rank = True
        if self._in_rank and tag == "tr":
            self.rows.append([])
            self.row_classes.append(a.get("class") or "")
        if self._in_rank and tag in ("td", "th"):
            self._cell = ["", a.get("title") or ""]
        if tag not in self.VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        assert self.stack and self.stack[-1] == tag, f"</{tag}> closes <{self.stack[-1:]}>"
        self.stack.pop()
        if tag in ("td", "th") and self._cell is not None:
            self.rows[-1].append((self._cell[0].strip(), self._cell[1]))
            self._cell = None
        if tag == "table":
            self._in_rank = False

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell[0] += data

    def table(self) -> list[dict[str, tuple[str, str]]]:
        """The ranking's data rows as {column header: (text, title)}."""
        head = [text for text, _ in self.rows[0]]
        return [dict(zip(head, row, strict=True)) for row in self.rows[1:]]


@pytest.fixture(scope="module")
def ran(tmp_path_factory: pytest.TempPathFactory) -> tuple[grid.Grid, Path, list[dict]]:
    """A real 2 x 2 grid with 3 seeds, 3 epochs each (about 3 s)."""
    root = tmp_path_factory.mktemp("grid")
    path = root / "tiny.toml"
    path.write_text(GRID, encoding="utf-8")
    g = grid.load_grid(path)
    rows = grid.run_grid(g, root / "out", workers=1, log=lambda _: None, quiet=True)
    assert [r["status"] for r in rows] == ["ok"] * 12, rows
    return g, root / "out" / "tiny", rows


def _read(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def _title_numbers(title: str) -> list[float]:
    return [float(x) for x in re.findall(r"-?\d+\.\d*(?:e-?\d+)?|-?\d+e-?\d+|nan", title)]


def _expected(rows: list[dict[str, str]], cell: str, base: str) -> dict[str, float]:
    """Mean, t interval, paired difference, wins and p computed here from the rows alone."""
    acc = {int(r["seed"]): float(r["test_accuracy"]) for r in rows if r["cell"] == cell}
    ref = {int(r["seed"]): float(r["test_accuracy"]) for r in rows if r["cell"] == base}
    values = np.array(list(acc.values()))
    half = stats.t.ppf(0.975, len(values) - 1) * values.std(ddof=1) / math.sqrt(len(values))
    seeds = sorted(set(acc) & set(ref))
    diffs = np.array([acc[s] - ref[s] for s in seeds])
    dhalf = stats.t.ppf(0.975, len(diffs) - 1) * diffs.std(ddof=1) / math.sqrt(len(diffs))
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        p = stats.ttest_rel([acc[s] for s in seeds], [ref[s] for s in seeds]).pvalue
    return {
        "mean": values.mean(), "low": values.mean() - half, "high": values.mean() + half,
        "diff": diffs.mean(), "dlow": diffs.mean() - dhalf, "dhigh": diffs.mean() + dhalf,
        "wins": int((diffs > 0).sum()), "n": len(seeds), "p": float(p),
    }  # fmt: skip


@pytest.mark.parametrize("baseline", [None, "c002"])
def test_ranking_numbers_equal_an_independent_computation(ran, tmp_path, baseline) -> None:
    g, folder, _ = ran
    rows = _read(folder / "results.csv")  # as written: strings
    # written away from the run folders: no histories, so no pictures to wait for
    out = write_grid_report(tmp_path / "report.html", g, rows, baseline=baseline)
    assert out == tmp_path / "report.html"
    page = Page(out.read_text(encoding="utf-8"))
    table = page.table()
    base = baseline or g.baseline
    assert [r["cell"][0] for r in table] != [] and len(table) == 4
    means = []
    for line, css in zip(table, page.row_classes[1:], strict=True):
        cell = line["cell"][0]
        want = _expected(rows, cell, base)
        mean, low, high = _title_numbers(line["test accuracy"][1])
        assert mean == pytest.approx(want["mean"], abs=1e-12)
        assert (low, high) == pytest.approx((want["low"], want["high"]), abs=1e-9)
        assert line["test accuracy"][0].startswith(f"{want['mean']:.4f} ±")
        assert line["finished"][0] == "3 of 3"
        means.append(mean)
        delta = line[f"Δ accuracy vs {base} (paired)"]
        if cell == base:
            assert css == "base" and delta[0] == "0 (baseline)" and line["wins"][0] == ""
            continue
        diff, *interval = _title_numbers(delta[1])
        assert diff == pytest.approx(want["diff"], abs=1e-12)
        if interval:
            assert interval == pytest.approx([want["dlow"], want["dhigh"]], abs=1e-9)
        assert line["wins"][0] == f"{want['wins']} of {want['n']}"
        if math.isnan(want["p"]):
            assert line["p"][0] == ""
        else:
            assert _title_numbers(line["p"][1])[0] == pytest.approx(want["p"], rel=1e-9)
    assert means == sorted(means, reverse=True)  # best first
    assert sum(css == "base" for css in page.row_classes) == 1


def test_page_is_self_contained_with_its_pictures(ran, tmp_path) -> None:
    g, folder, rows = ran
    text = write_grid_report(tmp_path / "report.html", g, rows).read_text(encoding="utf-8")
    page = Page(text)  # the run folders are not beside it: the curves say so, no crash
    assert page.images == [] and "Runs without a history" in text
    shutil.copytree(folder, tmp_path / "tiny")
    text = write_grid_report(tmp_path / "tiny" / "report.html", g, rows).read_text("utf-8")
    page = Page(text)
    assert page.external == [] and page.scripts == 0
    assert len(page.images) == 2  # learning curves, gradient norms
    for src in page.images:
        assert src.startswith("data:image/png;base64,")
        image = Image.open(io.BytesIO(base64.b64decode(src.split(",", 1)[1])))
        assert image.width > 600 and image.height > 250
    for needed in ("Grid tiny", "model.activation", "0, 1, 2", "12 ok", "c000 (model.activation",
                   "Learning curves", "Gradient norms per layer", "same seed"):  # fmt: skip
        assert needed in text, needed
    assert len(text) < 400_000


def test_missing_history_failed_diverged_and_empty_cell_do_not_crash(ran, tmp_path) -> None:
    g, folder, rows = ran
    shutil.copytree(folder, tmp_path / "tiny")
    (tmp_path / "tiny" / "c001_seed2" / "history.json").unlink()
    (tmp_path / "tiny" / "c002_seed0" / "history.json").write_text("{not json", "utf-8")
    rows = [dict(r) for r in rows]
    rows[3].update(status="failed", error="ValueError: boom <in> the\nrun")  # c001 seed 0
    rows[4].update(status="diverged", error="run 'c001_seed1' diverged: the test loss is nan")
    for r in rows[9:]:  # c003: nothing finished
        r.update(status="failed", error="MemoryError: too big")
        for key in [k for k in r if k.startswith("test_")]:
            r[key] = ""
    text = write_grid_report(tmp_path / "tiny" / "report.html", g, rows).read_text("utf-8")
    page = Page(text)
    table = {line["cell"][0]: line for line in page.table()}
    assert table["c001"]["finished"][0] == "1 of 3"
    assert table["c001"]["diverged"][0] == "1" and table["c001"]["failed"][0] == "1"
    assert table["c001"]["wins"][0].endswith("of 1") and table["c001"]["p"][0] == ""
    empty = table["c003"]
    assert empty["finished"][0] == "0 of 3" and empty["failed"][0] == "3"
    assert empty["test accuracy"][0] == "–" and empty["test loss"][0] == "–"
    assert empty["Δ accuracy vs c000 (paired)"][0] == "–" and empty["wins"][0] == ""
    assert page.table()[-1]["cell"][0] == "c003"  # no metric: ranked last
    assert "c001_seed2: history.json missing" in text
    assert "c002_seed0: history.json unreadable" in text
    assert "ValueError: boom &lt;in&gt; the run" in text  # escaped, on one line
    assert "c001_seed1</b> diverged: <code>run &#x27;c001_seed1&#x27; diverged" in text
    assert text.count("MemoryError: too big") == 3
    assert "7 ok, 1 diverged, 4 failed" in text
    assert len(page.images) == 2


def test_unknown_baseline_is_a_one_line_error_naming_the_cells(ran, tmp_path) -> None:
    g, _, rows = ran
    with pytest.raises(ValueError, match=r"baseline 'c009' .*c000, c001, c002, c003") as info:
        write_grid_report(tmp_path / "report.html", g, rows, baseline="c009")
    assert "\n" not in str(info.value) and not (tmp_path / "report.html").exists()


# ------------------------------------------------------------------------------ the numbers
def test_band_averages_the_runs_still_going() -> None:
    runs = [[1.0, 2.0, 3.0, 4.0], [3.0, 4.0], [5.0, math.nan, 7.0]]
    b = _grid_stats.band(runs)
    assert b is not None
    assert b.epochs.tolist() == [1, 2, 3, 4]
    assert b.count.tolist() == [3, 2, 2, 1]
    assert b.mean.tolist() == [3.0, 3.0, 5.0, 4.0]
    assert b.low.tolist() == [1.0, 2.0, 3.0, 4.0] and b.high.tolist() == [5.0, 4.0, 7.0, 4.0]
    assert _grid_stats.band([[], [math.nan]]) is None and _grid_stats.band([]) is None


def test_lower_is_better_metrics_count_wins_below_and_rank_ascending() -> None:
    cells = [grid.Cell("c000", ("a",)), grid.Cell("c001", ("b",)), grid.Cell("c002", ("c",))]
    g = grid.Grid("g", "g.toml", ["k"], cells, [0, 1, 2])
    losses = {"c000": [0.5, 0.6, 0.7], "c001": [0.4, 0.65, 0.5], "c002": [0.9, 0.8, 1.0]}
    rows = [
        {"name": f"{c}_seed{s}", "cell": c, "seed": str(s), "status": "ok", "test_loss": repr(v)}
        for c, values in losses.items() for s, v in enumerate(values)
    ]  # fmt: skip
    assert _grid_stats.primary_metric(rows) == "test_loss"
    assert not _grid_stats.higher_is_better("test_rmse") and _grid_stats.higher_is_better("test_r2")
    table = _grid_stats.ranking(g, rows, "c000", "test_loss")
    assert [r.cell.id for r in table] == ["c001", "c000", "c002"]
    d = table[0].diff
    assert d is not None and d.n == 3 and d.wins == 2  # 0.4 < 0.5, 0.5 < 0.7; 0.65 > 0.6
    assert d.mean == pytest.approx(np.mean([-0.1, 0.05, -0.2]), abs=1e-12)
    want = stats.ttest_rel(losses["c001"], losses["c000"]).pvalue
    assert d.p == pytest.approx(want, rel=1e-12)
    assert table[1].diff is None  # the baseline
    rows.append({"name": "x", "cell": "c000", "seed": "3", "status": "ok", "test_accuracy": "1"})
    assert _grid_stats.primary_metric(rows) == "test_accuracy"


def test_cell_labels_name_the_varied_values_briefly() -> None:
    from sinapsi.viz.grid_report import _labels

    cells = [grid.Cell("c000", ("relu", [8, 8], 0.1)), grid.Cell("c001", ("relu", [8] * 6, 0.01))]
    g = grid.Grid("g", "g.toml", ["model.activation", "model.hidden", "training.lr"], cells, [0])
    assert _labels(g) == (
        {"c000": "c000 hidden=[8,8], lr=0.1", "c001": "c001 hidden=[8]*6, lr=0.01"},
        "",
    )  # activation is the same everywhere: left out
    table = {"optimizer": "sgd", "lr": 0.1, "momentum": 0.9, "dampening": 0.9}
    cells = [grid.Cell("c000", (table, "$x")), grid.Cell("c001", ({"optimizer": "adam"}, "y"))]
    g = grid.Grid("g", "g.toml", ["training", "data.path"], cells, [0])
    labels, line = _labels(g)  # too long with the key names: the values, and a key line
    assert labels["c000"] == r"c000 {optimizer=sgd, lr=0.1, momentum=0.9, dampening=0.9}, \$x"
    assert labels["c001"] == "c001 {optimizer=adam}, y" and line == "cell: training, path"
