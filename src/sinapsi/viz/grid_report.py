"""A grid's report.html: many runs, paired seeds, uncertainty, one page.

``sinapsi grid`` runs every cell of a grid (a combination of settings) with several seeds;
this page puts them side by side: a ranking table with each cell's mean test metric, its 95%
interval and its *paired* difference against a baseline cell (same seed, same data split,
initial weights and batch order, so the difference is the setting's effect, not the luck of
the seed); the learning curves of every cell overlaid (mean over the seeds and their spread);
each cell's per-layer gradient norms (vanishing gradients in deep sigmoid nets show as first
layers far below the last); and the runs that failed or diverged.

Like the single run's report (:mod:`sinapsi.viz.report`) it is one self-contained file:
pictures are inline PNGs, nothing is fetched, and it reads without JavaScript.
"""

from __future__ import annotations

import html
import json
import math
import textwrap
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ._grid_stats import (
    FINISHED,
    Band,
    CellRow,
    band,
    higher_is_better,
    primary_metric,
    ranking,
)
from .curves import DARK, GREY, OKABE_ITO, panel_grid, style
from .report import _STYLE, figure_to_data_uri

__all__ = ["build_grid_report", "write_grid_report"]

_EXTRA_STYLE = """
body { max-width: 1250px; }
.scroll { overflow-x: auto; }
table.rank { font-size: 0.88em; } table.rank th { vertical-align: bottom; }
table.rank tr.base { background: #e8f1fb; } td.blank { color: #aaa; }
table.rank td.num { white-space: nowrap; }
ul.problems { font-size: 0.9em; } ul.problems code { white-space: pre-wrap; }
dl.head { display: grid; grid-template-columns: max-content auto; gap: 0.15em 1em; }
dl.head dt { font-weight: 600; } dl.head dd { margin: 0; }
"""
_MAX_COLOURED = 7  # cells drawn in colour on the overlaid curves; the rest in grey
_BAND = "min-max over the seeds"
_MAX_LISTED = 40  # lines per list of failed / missed runs


# ------------------------------------------------------------------------------ reading
def _histories(folder: Path, rows: Sequence[dict[str, str]]) -> tuple[dict[str, Any], list[str]]:
    """The History of every finished run, by run name, and one line per run whose history.json
    is missing or unreadable (skipped, never fatal: the rest of the page is still worth it)."""
    from ..train.history import History

    found, problems = {}, []
    for row in rows:
        if row.get("status") not in FINISHED:
            continue
        name = row.get("name", "")
        path = folder / name / "history.json"
        try:
            with open(path, encoding="utf-8") as f:
                data = json.load(f)
            if not isinstance(data, dict):
                raise ValueError("not a JSON object")
            history = History.from_dict(data)
        except (OSError, ValueError, TypeError, AttributeError) as e:
            why = "missing" if isinstance(e, FileNotFoundError) else f"unreadable ({e})"
            problems.append(f"{name}: {path.name} {why}; left out of the curves")
            continue
        found[name] = history
    return found, problems


def _short_keys(keys: Sequence[str]) -> list[str]:
    """'training.lr' -> 'lr', unless two keys would then read the same."""
    short = [k.rsplit(".", 1)[-1] for k in keys]
    return [s if short.count(s) == 1 else k for s, k in zip(short, keys)]


def _compact(value: Any) -> str:
    """A value as short as it reads: strings bare, lists without spaces (``[8,8,8]``) and four or
    more equal items as Python writes them (``[16]*10``), a table of settings as
    ``{optimizer=sgd, lr=0.1}``."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}={_compact(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list) and len(value) >= 4 and all(v == value[0] for v in value):
        return f"[{_compact(value[0])}]*{len(value)}"
    return json.dumps(value, separators=(",", ":"))


def _labels(grid: Any) -> tuple[dict[str, str], str]:
    """Each cell as its values, e.g. ``c004 optimizer=adam, lr=0.01`` (keys with one value in
    the whole grid left out: they say nothing about the cell). When that is too long for a
    legend, the values alone (``c004 adam, 0.01``) and, returned with them, the line naming the
    keys in that order ("cell: optimizer, lr"); else that line is empty."""
    varied = [i for i in range(len(grid.keys))
              if len({_compact(c.values[i]) for c in grid.cells}) > 1]  # fmt: skip
    short = _short_keys(grid.keys)
    named = {c.id: ", ".join(f"{short[i]}={_compact(c.values[i])}" for i in varied)
             for c in grid.cells}  # fmt: skip
    key_line = ""
    if max(map(len, named.values()), default=0) > 40:
        named = {c.id: ", ".join(_compact(c.values[i]) for i in varied) for c in grid.cells}
        key_line = "cell: " + ", ".join(short[i] for i in varied)
    labels = {  # "$" escaped: matplotlib would read "$...$" as mathematics
        cell: f"{cell} {textwrap.shorten(text, 56, placeholder='...')}".strip().replace("$", r"\$")
        for cell, text in named.items()
    }
    return labels, key_line.replace("$", r"\$")


# ------------------------------------------------------------------------------ numbers
def _fmt(x: float, signed: bool = False) -> str:
    if not math.isfinite(x):
        return ""
    if x == 0 or 1e-3 <= abs(x) < 1e4:
        return f"{x:+.4f}" if signed else f"{x:.4f}"
    return f"{x:+.3g}" if signed else f"{x:.3g}"


def _estimate(mean: float, low: float, high: float, signed: bool = False) -> str:
    """``mean ± half-width of the 95% interval`` in one cell; the exact numbers in its title
    (shown on hover); a dash when there is no value."""
    if not math.isfinite(mean):
        return '<td class="num blank">&ndash;</td>'
    title = f"mean {mean!r}"
    text = _fmt(mean, signed)
    if math.isfinite(low) and math.isfinite(high):
        title += f"; 95% CI [{low!r}, {high!r}]"
        text += f" &plusmn; {_fmt((high - low) / 2)}"
    return f'<td class="num" title="{title}">{text}</td>'


def _ranking_table(grid: Any, table: list[CellRow], metric: str | None, baseline: str) -> str:
    name = metric.removeprefix("test_") if metric else "metric"
    head = ["#", "cell", *map(html.escape, grid.keys), "finished", "diverged", "failed"]
    head.append(f"test {name}")
    if metric != "test_loss":
        head.append("test loss")
    head += [f"&Delta; {name} vs {baseline} (paired)", "wins", "p"]
    lines = ["<tr>" + "".join(f"<th>{h}</th>" for h in head) + "</tr>"]
    for rank, row in enumerate(table, 1):
        c = row.counts
        cells = [f'<td class="num">{rank}</td>', f"<td>{row.cell.id}</td>"]
        cells += [f"<td>{html.escape(_compact(v))}</td>" for v in row.cell.values]
        not_run = f' title="{c["not run"]} not run"' if c["not run"] else ""
        cells += [
            f'<td class="num"{not_run}>{row.finished} of {len(grid.seeds)}</td>',
            f'<td class="num">{c["diverged"] or ""}</td>',
            f'<td class="num">{c["failed"] or ""}</td>',
            _estimate(row.primary.mean, row.primary.low, row.primary.high),
        ]
        if metric != "test_loss":
            cells.append(_estimate(row.loss.mean, row.loss.low, row.loss.high))
        d = row.diff
        if d is None:  # the baseline against itself
            cells += [
                '<td class="num" title="mean 0.0">0 (baseline)</td>',
                "<td></td>",
                "<td></td>",
            ]
        else:
            cells.append(_estimate(d.mean, d.low, d.high, signed=True))
            cells.append(f'<td class="num">{d.wins} of {d.n}</td>' if d.n else "<td></td>")
            p = f'<td class="num" title="p {d.p!r}">{d.p:.2g}</td>' if math.isfinite(d.p) else ""
            cells.append(p or "<td></td>")
        css = ' class="base"' if d is None else ""
        lines.append(f"<tr{css}>" + "".join(cells) + "</tr>")
    better = "higher" if metric is None or higher_is_better(metric) else "lower"
    note = (
        f"Sorted best first by the mean test {name} ({better} is better) over each cell's "
        "finished runs (ok, or finished but missed a target); &plusmn; is the half-width of the "
        "95% interval of the mean (Student's t; hover a number for the exact values). "
        f"<b>Paired</b>: &Delta; is the cell minus the baseline cell {baseline}, seed by seed, "
        "over the seeds both finished: the same seed gives both the same data split, initial "
        "weights and batch order, so the luck of the seed cancels out. wins: the seeds on which "
        "the cell did better; p: the paired t-test's p-value (scipy.stats.ttest_rel), blank "
        "with fewer than 2 pairs. Diverged and failed runs have no test metric."
    )
    return f'<div class="scroll"><table class="rank">{"".join(lines)}</table></div><p>{note}</p>'


# ------------------------------------------------------------------------------ pictures
def _cell_bands(
    grid: Any, rows: Sequence[dict[str, str]], histories: dict[str, Any], key: str
) -> dict[str, Band]:
    out = {}
    for cell in grid.cells:
        runs = [histories[r["name"]] for r in rows if r.get("cell") == cell.id
                and r.get("name") in histories]  # fmt: skip
        series = [h.history[key] for h in runs if h.history.get(key)]
        b = band(series)
        if b is not None:
            out[cell.id] = b
    return out


def _colours(order: list[str], baseline: str) -> dict[str, str]:
    """The baseline black, the best other cells in Okabe-Ito colours (yellow left out: too faint
    on white); cells beyond those are not in the dict (drawn grey)."""
    others = [c for c in order if c != baseline][: _MAX_COLOURED - 1]
    colours = dict(zip(others, OKABE_ITO[:6]))
    colours[baseline] = OKABE_ITO[6]
    return colours


def _plot_curves(
    panels: list[tuple[str, str]],
    bands: dict[str, dict[str, Band]],
    order: list[str],
    labels: dict[str, str],
    key_line: str,
    baseline: str,
) -> Any:
    """All cells overlaid, one panel per curve: the mean over the seeds and the min-max band."""
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch
    from matplotlib.ticker import MaxNLocator

    colours = _colours(order, baseline)
    with style() as plt:
        fig, axes = panel_grid(plt, len(panels), len(panels), (4.6, 3.5), (0.4, 0.9))
        for ax, (key, title) in zip(axes, panels):
            drawn = [c for c in reversed(order) if c in bands[key]]  # best on top
            for cell in drawn:
                b, colour = bands[key][cell], colours.get(cell)
                if colour is None:
                    ax.plot(b.epochs, b.mean, color="#bbbbbb", linewidth=0.9, zorder=1)
                    continue
                ax.fill_between(b.epochs, b.low, b.high, color=colour, alpha=0.15, linewidth=0)
                width = 2.4 if cell == baseline else 1.7
                ax.plot(b.epochs, b.mean, color=colour, linewidth=width, zorder=3, gid=cell)
            values = np.concatenate([np.r_[b.low, b.high] for b in bands[key].values()])
            values = values[np.isfinite(values)]
            loss = key.removeprefix("val_") in ("loss", "mae", "rmse", "mse")
            if loss and values.size and values.min() > 0 and values.max() / values.min() > 20:
                ax.set_yscale("log")
                title += " (log scale)"
            if key.endswith("r2") and values.size and values.min() < -1:
                ax.set_ylim(-1, max(1.0, values.max()) + 0.05)  # r2 below -1: worse than useless
                title += " (axis cut at -1)"
            ax.set_title(title)
            ax.set_xlabel("epoch")
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        handles = [
            Line2D([], [], color=colours[c], linewidth=2.4 if c == baseline else 1.7,
                   label=labels[c] + (" (baseline)" if c == baseline else ""))
            for c in order if c in colours
        ]  # fmt: skip
        handles.append(Patch(color=GREY, alpha=0.25, label=f"band: {_BAND}"))
        if any(c not in colours for c in order):
            handles.append(Line2D([], [], color="#bbbbbb", label="other cells (see the table)"))
        widest = max(len(h.get_label()) for h in handles) * 0.065 + 0.6
        ncols = max(1, min(3, int(fig.get_figwidth() // widest)))
        fig.legend(handles=handles, loc="outside lower center", ncols=ncols,
                   title=key_line or None)  # fmt: skip
    return fig


def _plot_gradients(
    grid: Any,
    rows: Sequence[dict[str, str]],
    histories: dict[str, Any],
    order: list[str],
    labels: dict[str, str],
    key_line: str,
    baseline: str,
) -> Any:
    """Small multiples: per cell, the mean over its seeds of each layer's gradient norm."""
    from matplotlib.lines import Line2D
    from matplotlib.ticker import LogLocator, MaxNLocator, NullLocator

    from .gradients import _layer_colors

    per_cell: dict[str, dict[str, Band]] = {}
    for cell in order:
        runs = [histories[r["name"]] for r in rows if r.get("cell") == cell
                and r.get("name") in histories]  # fmt: skip
        layers: list[str] = []
        for h in runs:
            layers += [k for k in h.grad_norms if k not in layers]
        found = {k: band([h.grad_norms.get(k, []) for h in runs]) for k in layers}
        per_cell[cell] = {k: b for k, b in found.items() if b is not None}
    shown = [b.mean[b.mean > 0] for bands in per_cell.values() for b in bands.values()]
    shown = np.concatenate(shown) if shown else np.zeros(0)
    if not shown.size:
        raise ValueError("no finished run recorded a positive gradient norm")
    lo = 10.0 ** (math.floor(math.log10(shown.min())) - 0.3)
    hi = 10.0 ** (math.ceil(math.log10(shown.max())) + 0.3)
    longest = max(b.epochs.size for bands in per_cell.values() for b in bands.values())
    ncols = min(len(order), 4 if len(order) <= 16 else 5)
    names = {tuple(b) for b in per_cell.values() if b}
    with style() as plt:
        fig, axes = panel_grid(plt, len(order), ncols, (3.1, 2.3), (0.3, 1.0))
        for i, (ax, cell) in enumerate(zip(axes, order)):
            layers = per_cell[cell]
            colours = _layer_colors(len(layers))
            for colour, (layer, b) in zip(colours, layers.items()):
                y = np.where(b.mean > 0, b.mean, np.nan)  # log scale: 0 cannot be drawn
                ax.plot(b.epochs, y, color=colour, linewidth=1.4, gid=f"{cell}:{layer}")
            ax.set_yscale("log")
            ax.set_ylim(lo, hi)
            ax.yaxis.set_major_locator(LogLocator(numticks=6))
            ax.yaxis.set_minor_locator(NullLocator())  # 50 panels of minor ticks: slow, busy
            ax.set_xlim(0, longest + 1)  # the same epochs on every panel
            if i % ncols:
                ax.tick_params(labelleft=False)
            title = f"#{i + 1} " + labels[cell] + (" (baseline)" if cell == baseline else "")
            ax.set_title(textwrap.fill(title, 40), fontsize=8.5)
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
            if i + ncols >= len(order):  # the lowest panel of its column
                ax.set_xlabel("epoch", fontsize=9)
            if not layers:
                statuses = [r.get("status", "") for r in rows if r.get("cell") == cell]
                why = ", ".join(f"{statuses.count(x)} {x}" for x in dict.fromkeys(statuses))
                ax.text(0.5, 0.5, f"no finished run with a history\n({why or 'not run'})",
                        transform=ax.transAxes, ha="center", va="center", color=GREY,
                        fontsize=9)  # fmt: skip
                ax.tick_params(labelbottom=False)
                continue
            ends = [b.mean[np.isfinite(b.mean)][-1] for b in layers.values()]
            first, last = ends[0], ends[-1]
            if first > 0 and last > 0 and len(layers) > 1:
                ax.text(0.03, 0.04, f"first / last layer: {first / last:.2g}", fontsize=7.5,
                        transform=ax.transAxes, color=DARK, zorder=5,
                        bbox={"boxstyle": "round,pad=0.2", "facecolor": "white", "alpha": 0.8,
                              "edgecolor": "none"})  # fmt: skip
        heading = [f"Panels: rank, {key_line}"] if key_line else []
        if len(names) == 1 and len(next(iter(names))) <= 12:
            layers = next(iter(names))
            handles = [Line2D([], [], color=c, label=n)
                       for c, n in zip(_layer_colors(len(layers)), layers)]  # fmt: skip
            fig.legend(handles=handles, loc="outside lower center", ncols=min(len(layers), 6),
                       title="layer (input side first)")  # fmt: skip
        else:
            heading.append("line colour: dark = input-side layer ... yellow = output-side layer")
        if heading:
            fig.suptitle("\n".join(heading), fontsize=9, fontweight="normal")
        fig.supylabel("mean gradient norm (log)", fontsize=9)
    return fig


def _figure(title: str, draw: Any, caption: str, dpi: int) -> str:
    """A section with one inline PNG; a picture that cannot be drawn becomes a one-line note."""
    try:
        # a palette PNG: a 50-cell page stays a few hundred KiB
        uri = figure_to_data_uri(draw(), dpi, tight=False, colors=256)
    except Exception as e:  # one picture must not cost the whole page
        why = str(e) if isinstance(e, ValueError) else f"{type(e).__name__}: {e}"
        return f'<h2>{html.escape(title)}</h2><p class="note">Not drawn: {html.escape(why)}</p>'
    alt = html.escape(title)
    return f'<h2>{alt}</h2><p>{caption}</p><img alt="{alt}" src="{uri}">'


# ------------------------------------------------------------------------------ the page
def _header(grid: Any, rows: Sequence[dict[str, str]], baseline: str, metric: str | None) -> str:
    description = getattr(grid, "description", None)
    if description is None and getattr(grid, "jobs", None):
        description = grid.jobs[0].cfg.get("description")
    parts = [f"<h1>Grid {html.escape(grid.name)}</h1>"]
    if description:
        parts.append(f'<p class="sub">{html.escape(str(description))}</p>')
    varied = []
    for i, key in enumerate(grid.keys):
        values = list(dict.fromkeys(_compact(c.values[i]) for c in grid.cells))
        varied.append(f"<code>{html.escape(key)}</code>: {html.escape(' | '.join(values))}")
    total = len(grid.cells) * len(grid.seeds)
    counts = {s: sum(r.get("status") == s for r in rows) for s in ("ok", "missed", "diverged",
                                                                  "failed")}  # fmt: skip
    counts["not run"] = max(0, total - sum(counts.values()))
    said = ", ".join(f"{n} {s}" for s, n in counts.items() if n or s == "ok")
    cell = next(c for c in grid.cells if c.id == baseline)
    values = ", ".join(f"{k}={_compact(v)}" for k, v in zip(grid.keys, cell.values))
    metric_text = "none recorded" if metric is None else metric.removeprefix("test_")
    items = [
        ("grid file", html.escape(str(grid.origin))),
        ("varied", "<br>".join(varied) or "nothing (one cell)"),
        ("seeds", ", ".join(map(str, grid.seeds)) + " (every cell runs with every seed)"),
        ("runs", f"{len(grid.cells)} cells x {len(grid.seeds)} seeds = {total}: {said}"),
        ("baseline", f"{baseline} ({html.escape(values)})"),
        ("ranked by", f"test {html.escape(metric_text)}"),
    ]
    parts.append('<dl class="head">' + "".join(f"<dt>{k}</dt><dd>{v}</dd>" for k, v in items)
                 + "</dl>")  # fmt: skip
    return "\n".join(parts)


def _listed(title: str, items: list[str]) -> str:
    """A section listing one line per run; past _MAX_LISTED lines the rest are counted, not
    shown (results.csv has them all)."""
    shown = "".join(f"<li>{item}</li>" for item in items[:_MAX_LISTED])
    if len(items) > _MAX_LISTED:
        shown += f"<li>... and {len(items) - _MAX_LISTED} more (results.csv lists them all)</li>"
    return f'<h2>{title}</h2><ul class="problems">{shown}</ul>'


def _problems(rows: Sequence[dict[str, str]], unreadable: list[str]) -> str:
    """The runs that failed, diverged, missed a target or lost their history: one line each."""
    sections = []
    for title, statuses in (
        ("Failed and diverged runs", ("failed", "diverged")),
        ("Runs that missed a target", ("missed",)),
    ):
        items = [
            f"<b>{html.escape(r.get('name', '?'))}</b> {html.escape(r.get('status', ''))}: "
            f"<code>{html.escape(' '.join((r.get('error') or 'no message').split()))}</code>"
            for r in rows
            if r.get("status") in statuses
        ]
        if items:
            sections.append(_listed(title, items))
    if unreadable:
        sections.append(_listed("Runs without a history", [html.escape(u) for u in unreadable]))
    if not sections:
        return "<h2>Failed and diverged runs</h2><p>None: every recorded run finished.</p>"
    return "\n".join(sections)


def _uneven(grid: Any, bands: dict[str, Band]) -> str:
    """Cells whose runs stopped at different epochs, for the caption."""
    cells = [c.id for c in grid.cells if c.id in bands and np.ptp(bands[c.id].count) > 0]
    if not cells:
        return ""
    listed = ", ".join(cells[:8]) + (", ..." if len(cells) > 8 else "")
    return f" Runs of different lengths in {listed}."


def _curves_section(
    grid: Any,
    rows: Sequence[dict[str, str]],
    histories: dict[str, Any],
    metric: str | None,
    order: list[str],
    labels: dict[str, str],
    key_line: str,
    baseline: str,
    dpi: int,
) -> str:
    """Learning curves: training loss, validation loss and the validation twin of the ranking's
    metric, each cell's mean and band overlaid."""
    panels = [("loss", "training loss"), ("val_loss", "validation loss")]
    if metric and metric != "test_loss":
        name = metric.removeprefix("test_")
        panels.append((f"val_{name}", f"validation {name}"))
    bands = {key: _cell_bands(grid, rows, histories, key) for key, _ in panels}
    panels = [(key, title) for key, title in panels if bands[key]]
    if not panels:
        return '<h2>Learning curves</h2><p class="note">No finished run has a history.</p>'
    caption = (
        f"Each cell's mean over its finished seeds (line) and the {_BAND} (band), per epoch. "
        "Where a cell's runs stopped at different epochs (early stopping), the mean and the band "
        f"go on over the runs still training.{_uneven(grid, bands[panels[0][0]])}"
    )
    drawn = [c for c in order if any(c in bands[key] for key, _ in panels)]
    if len(drawn) > _MAX_COLOURED:
        caption += (
            f" With {len(drawn)} cells, the baseline and the best {_MAX_COLOURED - 1} are in "
            "colour; the others are the grey lines."
        )
    missing = [c for c in order if c not in drawn]
    if missing:
        caption += f" No curve for {', '.join(missing)}: no finished run with a history."
    return _figure(
        "Learning curves",
        lambda: _plot_curves(panels, bands, drawn, labels, key_line, baseline),
        html.escape(caption),
        dpi,
    )


def build_grid_report(
    grid: Any, rows: Sequence[dict[str, str]], folder: str | Path, baseline: str | None = None
) -> str:
    """The grid's report as an HTML string; ``folder`` holds the run folders (see
    :func:`write_grid_report`)."""
    ids = [c.id for c in grid.cells]
    if baseline is None:
        baseline = getattr(grid, "baseline", None) or (ids[0] if ids else None)
    if baseline not in ids:
        listed = ", ".join(ids[:12]) + (f", ... ({len(ids)} cells)" if len(ids) > 12 else "")
        raise ValueError(
            f"write_grid_report: baseline {baseline!r} is not a cell of grid {grid.name!r}; "
            f"choose one of its cells: {listed}."
        )
    rows = [r for r in rows if r.get("cell") in ids]
    metric = primary_metric([r for r in rows if r.get("status") in FINISHED])
    table = ranking(grid, rows, baseline, metric)
    order = [row.cell.id for row in table]
    labels, key_line = _labels(grid)
    histories, unreadable = _histories(Path(folder), rows)
    dpi = 100 if len(ids) <= 16 else 80

    parts = [_header(grid, rows, baseline, metric), "<h2>Ranking</h2>"]
    parts.append(_ranking_table(grid, table, metric, baseline))
    parts.append(
        _curves_section(grid, rows, histories, metric, order, labels, key_line, baseline, dpi)
    )
    parts.append(
        _figure(
            "Gradient norms per layer",
            lambda: _plot_gradients(grid, rows, histories, order, labels, key_line, baseline),
            "Per cell (ranked as in the table, same log scale throughout), each layer's gradient "
            "norm, averaged over the cell's seeds, per epoch. First layers orders of magnitude "
            "below the last: vanishing gradients (deep sigmoid/tanh nets; ReLU, He init or "
            "BatchNorm help). Norms that climb epoch after epoch: exploding gradients (lower "
            "the learning rate, clip the gradient norm).",
            dpi,
        )
    )
    parts.append(_problems(rows, unreadable))
    body = "\n".join(parts)
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f"<title>Grid {html.escape(grid.name)}</title>\n<style>{_STYLE}{_EXTRA_STYLE}</style>\n"
        f"</head>\n<body>\n{body}\n</body>\n</html>\n"
    )


def write_grid_report(
    path: str | Path,
    grid: Any,
    rows: Sequence[dict[str, str]],
    *,
    baseline: str | None = None,
) -> Path:
    """Write the grid's report.html to ``path`` (``<out>/<grid name>/report.html``), atomically.

    Args:
        path: where the page goes; the run folders are its siblings (``row["name"]``).
        grid: the :class:`sinapsi.grid.Grid` that ran (its keys, cells, seeds, name, origin).
        rows: the results.csv rows (strings, as written), in grid order.
        baseline: the cell id the paired differences are taken against; default the grid's
            ``baseline`` if it has one, else its first cell.

    A run whose history.json is missing or unreadable is left out of the curves and named on
    the page. Raises ValueError (one line, naming the cells) for a baseline that is not a cell.
    """
    from ..io import atomic_write

    path = Path(path)
    text = build_grid_report(grid, rows, path.parent, baseline).encode("utf-8")
    return atomic_write(path, lambda f: f.write(text))
