"""Training curves (*curve di apprendimento*): loss, metrics and learning rate over the epochs.

:func:`plot_history` draws one :class:`~sinapsi.train.History`, or several runs overlaid to
compare them (SGD vs momentum vs Adam, sigmoid vs ReLU, ...). The best epoch (lowest
validation loss) is marked, since that is the model early stopping would keep.

This module also holds the small shared style of :mod:`sinapsi.viz`: the Okabe-Ito palette
(readable with every common kind of colour blindness) and :func:`style`, the matplotlib
settings every figure here is drawn under.

>>> import numpy as np, sinapsi as sn
>>> from sinapsi import nn
>>> from sinapsi.viz.curves import plot_history
>>> x = np.random.default_rng(0).standard_normal((64, 2))
>>> y = (x[:, 0] > 0).astype(np.int64)
>>> model = nn.Sequential(nn.Linear(2, 8, rng=0), nn.ReLU(), nn.Linear(8, 2, rng=1))
>>> history = sn.fit(model, x, y, epochs=5, validation_split=0.25, metrics=["accuracy"],
...                  seed=0, verbose=0)
>>> fig = plot_history(history)          # fig.savefig("curves.png") to keep it
>>> [ax.get_title() for ax in fig.axes]
['loss', 'accuracy']
>>> import matplotlib.pyplot as plt; plt.close(fig)
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import numpy as np

from ._mpl import pyplot

__all__ = ["plot_history", "style", "OKABE_ITO"]

#: Okabe & Ito's colour-blind-safe palette, ordered for lines on white (yellow last).
OKABE_ITO = (
    "#0072B2",  # blue
    "#D55E00",  # vermillion
    "#009E73",  # bluish green
    "#CC79A7",  # reddish purple
    "#E69F00",  # orange
    "#56B4E9",  # sky blue
    "#000000",  # black
    "#F0E442",  # yellow
)
BLUE, VERMILLION, GREEN, PURPLE, ORANGE, SKY = OKABE_ITO[:6]
GREY = "#666666"
DARK = "#333333"

_RC = {
    "font.size": 10,
    "axes.titlesize": 11,
    "axes.titleweight": "bold",
    "axes.labelsize": 10,
    "xtick.labelsize": 9,
    "ytick.labelsize": 9,
    "legend.fontsize": 9,
    "legend.frameon": False,
    "figure.titlesize": 12.5,
    "figure.titleweight": "bold",
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.alpha": 0.35,
    "grid.linewidth": 0.6,
    "lines.linewidth": 1.8,
    "figure.facecolor": "white",
    "savefig.facecolor": "white",
}


def panel_grid(
    plt: Any, count: int, ncols: int, size: tuple[float, float], margin: tuple[float, float]
) -> tuple[Any, list[Any]]:
    """A figure with ``count`` panels in rows of ``ncols`` (each ``size`` inches, plus
    ``margin``), the unused cells of the last row removed. Returns (figure, the used axes)."""
    nrows = -(-count // ncols)
    fig, axes = plt.subplots(
        nrows,
        ncols,
        figsize=(size[0] * ncols + margin[0], size[1] * nrows + margin[1]),
        layout="constrained",
        squeeze=False,
    )
    flat = list(axes.ravel())
    for ax in flat[count:]:
        ax.remove()
    return fig, flat[:count]


@contextlib.contextmanager
def style() -> Iterator[Any]:
    """The sinapsi.viz look (readable sizes, light grid, Okabe-Ito colours), for this block
    only: the user's global matplotlib settings are left alone. Yields ``pyplot``."""
    plt = pyplot()
    from cycler import cycler

    with plt.rc_context({**_RC, "axes.prop_cycle": cycler(color=OKABE_ITO)}):
        yield plt


def _runs(history: Any, labels: Any) -> list[tuple[str | None, Any]]:
    """Normalize History | [History] | {label: History} to [(label, History)]."""
    if isinstance(labels, str):
        labels = [labels]
    if isinstance(history, Mapping):
        if labels is not None:
            raise ValueError(
                "plot_history: labels= names the runs of a list; a dict's keys already are the "
                f"labels ({', '.join(map(str, history))}). Drop labels= or pass a list."
            )
        runs = [(str(k), h) for k, h in history.items()]
    elif isinstance(history, (list, tuple)):
        if labels is not None and len(labels) != len(history):
            raise ValueError(
                f"plot_history: {len(history)} histories but {len(labels)} labels; pass one "
                "label per run."
            )
        names = labels if labels is not None else [f"run {i + 1}" for i in range(len(history))]
        runs = [(str(n), h) for n, h in zip(names, history)]
    else:
        if labels is not None and len(labels) != 1:
            raise ValueError(f"plot_history: one History but {len(labels)} labels were given.")
        runs = [(str(labels[0]) if labels else None, history)]
    if not runs:
        raise ValueError(
            "plot_history: no runs given (an empty list or dict). Pass the History that "
            "sinapsi.fit returns."
        )
    for label, h in runs:
        if not (isinstance(getattr(h, "history", None), dict) and hasattr(h, "epoch")):
            raise TypeError(
                "plot_history: expected a History (what sinapsi.fit returns), a list of them, or "
                f"a dict label -> History; got {type(h).__name__}"
                + (f" for run {label!r}." if label else ".")
            )
        if len(h.epoch) == 0 or not h.history.get("loss"):
            where = f" of run {label!r}" if label else ""
            raise ValueError(
                f"plot_history: the History{where} has 0 epochs: there is nothing to plot. "
                "Call sinapsi.fit(...) first and pass the History it returns."
            )
    return runs


_NOT_METRICS = {"loss", "val_loss", "lr", "time"}


def _recorded_metrics(runs: list[tuple[str | None, Any]]) -> list[str]:
    names: list[str] = []
    for _, h in runs:
        for key in h.history:
            if key in _NOT_METRICS:
                continue
            base = key[4:] if key.startswith("val_") else key
            if base not in names:
                names.append(base)
    return names


def _choose_metrics(metrics: Any, recorded: list[str]) -> list[str]:
    if metrics is None:
        return recorded
    if isinstance(metrics, str):
        metrics = [metrics]
    chosen = []
    for name in metrics:
        base = name[4:] if name.startswith("val_") and name[4:] in recorded else name
        if base in ("loss", "val_loss"):
            continue  # always drawn in the first panel
        if base not in recorded:
            have = ", ".join(recorded) if recorded else "none (fit was called without metrics=)"
            raise ValueError(
                f"plot_history: the history has no metric {name!r}. Recorded metrics: {have}. "
                "Pick from those, or pass metrics=[] for the loss alone."
            )
        if base not in chosen:
            chosen.append(base)
    return chosen


def _best(h: Any) -> tuple[str, int, int]:
    """(monitored key, index into the lists, 1-based epoch) of the lowest (val_)loss."""
    monitor = "val_loss"
    values = np.asarray(h.history.get(monitor, []), dtype=float)
    if values.size == 0 or not np.isfinite(values).any():
        monitor = "loss"
        values = np.asarray(h.history["loss"], dtype=float)
    finite = np.where(np.isfinite(values), values, np.inf)
    index = int(np.argmin(finite))
    return monitor, index, int(h.epoch[index])


def _lr_changes(h: Any) -> bool:
    lr = h.history.get("lr", [])
    return len(lr) > 1 and len(set(lr)) > 1


def _series(h: Any, key: str) -> tuple[np.ndarray, np.ndarray]:
    values = np.asarray(h.history.get(key, []), dtype=float)
    epochs = np.asarray(h.epoch[: len(values)], dtype=float)
    return epochs, values


def _label_lr_ticks(ax: Any, runs: list[tuple[str | None, Any]]) -> None:
    """A step schedule has a few distinct rates: label exactly those, in plain numbers."""
    rates = sorted({float(v) for _, h in runs for v in h.history.get("lr", []) if v > 0})
    if 1 < len(rates) <= 6:
        from matplotlib.ticker import NullLocator

        ax.set_yticks(rates, [f"{v:.3g}" for v in rates])
        ax.yaxis.set_minor_locator(NullLocator())


def _mark_nonfinite(ax: Any, epochs: np.ndarray, values: np.ndarray, key: str, label: Any) -> None:
    """NaN/inf values leave gaps a reader would miss: an ✕ at the top of the panel at each
    such epoch, and a note naming them."""
    bad = ~np.isfinite(values)
    if not bad.any():
        return
    ax.plot(
        epochs[bad],
        np.full(int(bad.sum()), 0.97),
        transform=ax.get_xaxis_transform(),
        linestyle="none",
        marker="x",
        markersize=7,
        markeredgewidth=1.8,
        color=VERMILLION,
        clip_on=False,
        zorder=6,
        gid=f"nonfinite:{key}:{label}",
    )
    where = [str(int(e)) for e in epochs[bad]]
    listed = ", ".join(where[:6]) + (", ..." if len(where) > 6 else "")
    row = sum(1 for t in ax.texts if (t.get_gid() or "").startswith("nonfinite-note"))
    ax.text(
        0.02,
        0.88 - 0.08 * row,
        f"✕ {key}{f' ({label})' if label else ''} not finite at epoch{'s' * (len(where) > 1)} "
        f"{listed}",
        transform=ax.transAxes,
        fontsize=8,
        color=VERMILLION,
        gid=f"nonfinite-note:{key}:{label}",
    )


def _draw_run(
    ax: Any, panel: str, h: Any, label: str | None, colors: tuple[str, str, str], many: bool
) -> None:
    """One run's curves on one panel, with its best-epoch line and star."""
    color, val_color, best_color = colors
    marker = None if many else "o"
    monitor, best_i, best_epoch = _best(h)
    x, y = _series(h, panel)
    if y.size:
        ax.plot(
            x,
            y,
            color=color,
            marker=marker,
            markersize=3.5,
            gid=f"train:{label}",
            drawstyle="steps-post" if panel == "lr" else "default",
        )
        _mark_nonfinite(ax, x, y, panel, label)
    val_key = f"val_{panel}"
    has_val = panel != "lr" and val_key in h.history
    if has_val:
        xv, yv = _series(h, val_key)
        ax.plot(
            xv,
            yv,
            color=val_color,
            linestyle="--",
            marker=marker,
            markersize=3.5,
            gid=f"val:{label}",
        )
        _mark_nonfinite(ax, xv, yv, val_key, label)
    if (not y.size and not has_val) or not np.isfinite(h.history[monitor][best_i]):
        return
    ax.axvline(
        best_epoch,
        color=best_color,
        linestyle=":",
        linewidth=1.3,
        alpha=0.9,
        gid=f"best-line:{label}",
    )
    if panel == "lr":
        return
    # the star sits on the curve that chose the best epoch (or its twin among the metrics)
    key = monitor if panel == "loss" else (val_key if monitor == "val_loss" and has_val else panel)
    values = h.history.get(key, [])
    if best_i < len(values) and np.isfinite(values[best_i]):
        ax.plot(
            [best_epoch],
            [values[best_i]],
            linestyle="none",
            marker="*",
            markersize=14,
            color=best_color,
            markeredgecolor="white",
            markeredgewidth=0.8,
            zorder=5,
            gid=f"best:{label}",
        )


def _columns(fig: Any, handles: list[Any]) -> int:
    """As many legend columns as fit the figure's width (long run names stack instead)."""
    widest = max(len(h.get_label()) for h in handles) * 0.062 + 0.5  # inches, 9 pt text
    return max(1, min(len(handles), 4, int(fig.get_figwidth() // widest)))


def _legends(fig: Any, runs: list[tuple[str | None, Any]], multi: bool, has_val: bool) -> None:
    from matplotlib.lines import Line2D

    def line(color: str, label: str, **kw: Any) -> Any:
        return Line2D([], [], color=color, label=label, **kw)

    star = {"marker": "*", "markersize": 12, "linestyle": ":"}
    if not multi:
        h = runs[0][1]
        monitor, best_i, best_epoch = _best(h)
        value = h.history[monitor][best_i]
        handles = [line(BLUE, "training")]
        if has_val:
            handles.append(line(VERMILLION, "validation", linestyle="--"))
        best = f"best epoch {best_epoch} ({monitor} {value:.4g})"
        if not np.isfinite(value):
            best = f"no finite {monitor}: training diverged"
        handles.append(line(DARK, best, **star))
        fig.legend(handles=handles, loc="outside upper center", ncols=_columns(fig, handles))
        return
    run_handles = []
    for i, (label, h) in enumerate(runs):
        monitor, best_i, best_epoch = _best(h)
        value = h.history[monitor][best_i]
        text = f"{label} (best epoch {best_epoch}, {monitor} {value:.3g})"
        if not np.isfinite(value):
            text = f"{label} (no finite {monitor}: training diverged)"
        run_handles.append(line(OKABE_ITO[i % len(OKABE_ITO)], text, linewidth=2.4))
    handles = [line(GREY, "training")]
    if has_val:
        handles.append(line(GREY, "validation", linestyle="--"))
    lowest = "validation loss" if has_val else "training loss"
    handles.append(line(GREY, f"best epoch (lowest {lowest})", **star))
    fig.legend(handles=run_handles, loc="outside upper center", ncols=_columns(fig, run_handles))
    fig.legend(handles=handles, loc="outside lower center", ncols=_columns(fig, handles))


def plot_history(
    history: Any,
    metrics: Sequence[str] | str | None = None,
    *,
    labels: Sequence[str] | None = None,
    log_loss: bool = False,
) -> Any:
    """Loss, metrics and learning rate over the epochs; several runs overlaid to compare them.

    Args:
        history: a :class:`~sinapsi.train.History` (what :func:`sinapsi.fit` returns), a list
            of Histories, or a dict ``label -> History``. Each run gets one colour; training
            curves are solid, validation curves dashed.
        metrics: metric names to draw, one panel each with its ``val_`` twin (e.g.
            ``["accuracy"]``); default: every recorded metric. ``[]``: the loss alone.
        labels: names of the runs of a list (default ``run 1``, ``run 2``, ...).
        log_loss: draw the loss on a log scale (useful when it falls by orders of magnitude).

    Panels: the loss; one per metric; the learning rate (log scale) when it changed during
    training. The best epoch of each run (lowest ``val_loss``, or lowest training loss without
    validation) is marked by a dotted vertical line on every panel and a star on the curve.

    Returns:
        The matplotlib Figure (not shown; ``fig.savefig("curves.png")`` saves it).

    Raises:
        ValueError: a History with 0 epochs (call ``fit`` first), or an unknown metric name (the
            message lists the recorded ones).
        TypeError: something other than a History.
    """
    runs = _runs(history, labels)
    chosen = _choose_metrics(metrics, _recorded_metrics(runs))
    show_lr = any(_lr_changes(h) for _, h in runs)
    panels = ["loss", *chosen] + (["lr"] if show_lr else [])
    multi = len(runs) > 1 or runs[0][0] is not None
    has_val = any("val_loss" in h.history for _, h in runs)
    many = max(len(h.epoch) for _, h in runs) > 30

    ncols = min(len(panels), 3)
    with style() as plt:
        from matplotlib.ticker import MaxNLocator

        fig, flat = panel_grid(plt, len(panels), ncols, (4.4, 3.4), (0.4, 0.7))
        for i, (label, h) in enumerate(runs):
            color = OKABE_ITO[i % len(OKABE_ITO)]
            colors = (color, color, color) if multi else (BLUE, VERMILLION, DARK)
            for ax, panel in zip(flat, panels):
                _draw_run(ax, panel, h, label, colors, many)
        _legends(fig, runs, multi, has_val)
        for ax, panel in zip(flat, panels):
            ax.set_xlabel("epoch")
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
            if max(len(h.epoch) for _, h in runs) == 1:  # one point: keep the axis readable
                ax.set_xlim(0.5, 1.5)
                ax.set_xticks([1])
            if panel == "loss":
                ax.set_title("loss" + (" (log scale)" if log_loss else ""))
                ax.set_ylabel("loss")
                if log_loss:
                    ax.set_yscale("log")
            elif panel == "lr":
                ax.set_title("learning rate (log scale)")
                ax.set_ylabel("learning rate")
                ax.set_yscale("log")
                _label_lr_ticks(ax, runs)
            else:
                ax.set_title(panel)
                ax.set_ylabel(panel)
    return fig
