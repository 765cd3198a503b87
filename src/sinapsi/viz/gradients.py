"""Gradient flow and activation histograms: seeing vanishing and exploding gradients.

In a deep sigmoid network the gradient shrinks at every layer on its way back (the sigmoid's
slope is at most 0.25), so the first layers barely learn: the *vanishing gradient*. The
opposite, gradients growing layer after layer, is the *exploding gradient*.

- :func:`gradient_flow_bands` names the layers in trouble at the last epoch, with the same
  definitions as :class:`~sinapsi.train.callbacks.GradientMonitor`.
- :func:`plot_gradient_flow` draws each layer's gradient norm over the epochs (log scale) with
  the vanishing and exploding zones shaded, and the last epoch's norms as bars.
- :func:`plot_activations` shows what each activation layer outputs: saturated sigmoid/tanh
  units pile up at the ends of their range, dead ReLUs at 0.

>>> import numpy as np, sinapsi as sn
>>> from sinapsi import nn
>>> from sinapsi.viz.gradients import gradient_flow_bands, plot_gradient_flow
>>> x = np.random.default_rng(0).standard_normal((64, 4))
>>> y = (x[:, 0] > 0).astype(np.int64)
>>> layers = [m for i in range(6) for m in (nn.Linear(4, 4, rng=i), nn.Sigmoid())]
>>> model = nn.Sequential(*layers, nn.Linear(4, 2, rng=9))
>>> history = sn.fit(model, x, y, epochs=2, seed=0, verbose=0)
>>> gradient_flow_bands(history, vanish=1e-2)["vanishing"][:2]
['0 Linear', '2 Linear']
>>> fig = plot_gradient_flow(history, vanish=1e-2)
>>> import matplotlib.pyplot as plt; plt.close(fig)
"""

from __future__ import annotations

import math
import textwrap
from typing import Any

import numpy as np

from .curves import BLUE, DARK, SKY, VERMILLION, panel_grid, style

__all__ = ["gradient_flow_bands", "plot_gradient_flow", "plot_activations"]

VANISH_REMEDIES = "ReLU instead of sigmoid/tanh, He/Xavier initialization, BatchNorm, fewer layers"
EXPLODE_REMEDIES = (
    "gradient clipping (fit(..., clip_grad_norm=1.0)), a lower learning rate, BatchNorm"
)


# ------------------------------------------------------------------------------ gradient flow
def _check_thresholds(vanish: Any, explode: Any) -> None:
    for name, value in (("vanish", vanish), ("explode", explode)):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
            raise ValueError(
                f"{name} must be a positive number (vanish is relative to the largest layer "
                f"norm, e.g. 1e-7; explode is absolute, e.g. 1e3). Received: {name}={value!r}"
            )
        if not math.isfinite(value):
            raise ValueError(f"{name} must be finite. Received: {name}={value!r}")


def _norms(history: Any) -> dict[str, list[float]]:
    norms = getattr(history, "grad_norms", None)
    if not isinstance(norms, dict):
        raise TypeError(
            "Expected a History (what sinapsi.fit returns), which records each layer's gradient "
            f"norm per epoch in .grad_norms; got {type(history).__name__}."
        )
    norms = {layer: [float(v) for v in values] for layer, values in norms.items() if values}
    if not norms:
        raise ValueError(
            "The History has no grad_norms: there are no gradient norms to plot (0 epochs, or a "
            "model without parameters, or a History built by hand). Train with sinapsi.fit(...), "
            "which records every layer's mean gradient norm each epoch, and pass its History."
        )
    return norms


def _flags(last: dict[str, float], vanish: float, explode: float) -> tuple[list, list, float]:
    """GradientMonitor's definitions on one epoch's norms: (vanishing, exploding, largest)."""
    largest = max((n for n in last.values() if math.isfinite(n)), default=0.0)
    vanishing, exploding = [], []
    for layer, norm in last.items():
        if not math.isfinite(norm) or norm > explode:
            exploding.append(layer)
        elif largest > 0 and norm < vanish * largest:
            vanishing.append(layer)
    return vanishing, exploding, largest


def gradient_flow_bands(history: Any, vanish: float = 1e-7, explode: float = 1e3) -> dict[str, Any]:
    """The layers whose gradient vanishes or explodes at the last epoch.

    Same definitions as :class:`~sinapsi.train.callbacks.GradientMonitor`: a layer *vanishes*
    when its mean gradient norm is below ``vanish`` times the largest layer's norm at that
    epoch, and *explodes* when its norm is above ``explode`` or not finite.

    Args:
        history: a History from :func:`sinapsi.fit` (it records ``grad_norms``).
        vanish: relative threshold, default 1e-7.
        explode: absolute threshold, default 1e3.

    Returns:
        ``{"vanishing": [layer, ...], "exploding": [layer, ...], "norms": {layer: [norm per
        epoch]}}``; layers in model order (input side first), named like ``"0 Linear"``.
    """
    _check_thresholds(vanish, explode)
    norms = _norms(history)
    vanishing, exploding, _ = _flags({k: v[-1] for k, v in norms.items()}, vanish, explode)
    return {"vanishing": vanishing, "exploding": exploding, "norms": norms}


def _sci(value: float) -> str:
    """1e-07 -> '1e-7', 1000.0 -> '1e3': short thresholds for labels."""
    mantissa, _, exponent = f"{value:.3g}".partition("e")
    return f"{mantissa}e{int(exponent)}" if exponent else mantissa


def _name_list(names: list[str], limit: int = 6) -> str:
    if len(names) <= limit:
        return ", ".join(names)
    return ", ".join(names[:3]) + ", ..., " + ", ".join(names[-2:])


def _layer_colors(n: int) -> list[Any]:
    """Input side dark blue-purple to output side green-yellow (viridis, colour-blind safe)."""
    from matplotlib import colormaps

    cmap = colormaps["viridis"]
    return [cmap(v) for v in np.linspace(0.0, 0.88, n)] if n > 1 else [cmap(0.0)]


def _note(
    zero: list,
    epoch: int,
    vanishing: list,
    exploding: list,
    largest: float,
    vanish: float,
    explode: float,
    smallest_ratio: float,
) -> str:
    lines = []
    if vanishing:
        lines.append(
            f"Vanishing at epoch {epoch} in {len(vanishing)} layer(s) ({_name_list(vanishing)}): "
            f"gradient norm below {_sci(vanish)} x the largest layer norm ({largest:.2g}), so "
            f"these layers barely learn. Remedies: {VANISH_REMEDIES}."
        )
    if exploding:
        lines.append(
            f"Exploding at epoch {epoch} in {len(exploding)} layer(s) ({_name_list(exploding)}): "
            f"gradient norm above {_sci(explode)} or not finite. Remedies: {EXPLODE_REMEDIES}."
        )
    if not lines:
        lines.append(
            f"No layer vanishing or exploding at epoch {epoch} (vanishing: below {_sci(vanish)} x "
            f"the largest norm; exploding: above {_sci(explode)})."
        )
    if zero:
        lines.append(
            f"Zero gradient (not drawn on the log scale) in {_name_list(zero)}: frozen, unused, "
            "or dead (every ReLU unit off)."
        )
    if math.isfinite(smallest_ratio):
        lines.append(
            f"Smallest / largest nonzero layer norm at the last epoch: {smallest_ratio:.2g}."
        )
    return "\n".join(textwrap.fill(line, 150) for line in lines)


def plot_gradient_flow(history: Any, vanish: float = 1e-7, explode: float = 1e3) -> Any:
    """Per-layer gradient norms over the epochs, with the vanishing and exploding zones.

    Left: each layer's mean gradient norm per epoch on a log scale, one line per layer,
    coloured from the input side (dark) to the output side (light). The vanishing zone (below
    ``vanish`` x the largest layer norm of each epoch) and the exploding zone (above
    ``explode``) are shaded. Right: the last epoch's norms as bars, first layer on the left
    (the classic "gradient flow" picture); flagged layers are hatched. Underneath, a note names
    the flagged layers and the remedies (ReLU, He/Xavier initialization, BatchNorm, gradient
    clipping).

    Args:
        history: a History from :func:`sinapsi.fit`.
        vanish, explode: thresholds, as in :func:`gradient_flow_bands`.

    Returns:
        The matplotlib Figure.

    Raises:
        ValueError: the History has no ``grad_norms`` (train with ``sinapsi.fit``).
    """
    bands = gradient_flow_bands(history, vanish, explode)
    norms = bands["norms"]
    layers = list(norms)
    n_epochs = max(len(v) for v in norms.values())
    epoch_list = list(getattr(history, "epoch", []))
    epochs = np.asarray(
        epoch_list if len(epoch_list) == n_epochs else range(1, n_epochs + 1), dtype=float
    )
    table = np.full((len(layers), n_epochs), np.nan)
    for i, layer in enumerate(layers):
        table[i, : len(norms[layer])] = norms[layer]
    finite = np.where(np.isfinite(table), table, np.nan)
    # the largest finite layer norm of each epoch sets that epoch's vanishing threshold
    largest = np.array([np.nanmax(c) if np.isfinite(c).any() else np.nan for c in finite.T])
    threshold = np.where(largest > 0, vanish * largest, np.nan)
    last = table[:, -1]
    largest_last = float(largest[-1]) if np.isfinite(largest[-1]) else 0.0
    flagged = set(bands["vanishing"]) | set(bands["exploding"])

    shown = finite[finite > 0]
    if shown.size:
        t = threshold[np.isfinite(threshold)]
        lo, hi = min(shown.min(), t.min() if t.size else np.inf), max(shown.max(), explode)
    else:  # every gradient is zero (or not finite): nothing above the axis to draw
        lo, hi = explode * 1e-12, explode
    lo, hi = 10.0 ** (math.floor(math.log10(lo)) - 1), 10.0 ** (math.ceil(math.log10(hi)) + 1)
    positive = last[np.isfinite(last) & (last > 0)]
    ratio = positive.min() / largest_last if positive.size and largest_last > 0 else math.nan
    zero = [layer for layer, v in zip(layers, last) if v == 0]
    note = _note(
        zero,
        int(epochs[-1]),
        bands["vanishing"],
        bands["exploding"],
        largest_last,
        vanish,
        explode,
        ratio,
    )
    note_lines = note.count("\n") + 1

    colors = _layer_colors(len(layers))
    with style() as plt:
        from matplotlib.colors import BoundaryNorm, ListedColormap
        from matplotlib.ticker import MaxNLocator

        note_height = 0.2 * note_lines + 0.3
        fig, axd = plt.subplot_mosaic(
            [["lines", "bars"], ["note", "note"]],
            figsize=(13.5, 5.6 + note_height),
            layout="constrained",
            gridspec_kw={"width_ratios": [1.25, 1], "height_ratios": [5.6, note_height]},
        )
        ax, bars_ax, note_ax = axd["lines"], axd["bars"], axd["note"]
        fig.suptitle("Gradient flow: mean gradient norm of each layer's parameters")

        # ------------------------------------------------ left: norms over the epochs
        xs = np.concatenate([[epochs[0] - 0.5], epochs, [epochs[-1] + 0.5]])
        ts = np.concatenate([[threshold[0]], threshold, [threshold[-1]]])
        ts = np.where(np.isfinite(ts), ts, lo)
        ax.fill_between(
            xs, lo, ts, step="mid", color=SKY, alpha=0.25, linewidth=0, gid="vanishing-zone"
        )
        ax.plot(xs, ts, drawstyle="steps-mid", color=SKY, linewidth=1.0, linestyle="--")
        ax.axhspan(explode, hi, color=VERMILLION, alpha=0.13, linewidth=0, gid="exploding-zone")
        ax.axhline(explode, color=VERMILLION, linewidth=1.0, linestyle="--", alpha=0.7)
        for i, layer in enumerate(layers):
            values = np.where(table[i] > 0, table[i], np.nan)  # log scale: 0 cannot be drawn
            ax.plot(
                epochs,
                values,
                color=colors[i],
                linewidth=1.7,
                label=layer,
                gid=f"layer:{layer}",
                marker="o" if n_epochs <= 30 else None,
                markersize=3.5,
            )
        ax.set_yscale("log")
        ax.set_ylim(lo, hi)
        ax.set_xlim(xs[0], xs[-1])
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        if n_epochs == 1:
            ax.set_xticks(epochs)
        ax.set_xlabel("epoch")
        ax.set_ylabel("mean gradient norm (log scale)")
        ax.set_title("Each layer's gradient norm over the epochs")
        zone = {"fontsize": 9, "style": "italic", "transform": ax.transAxes}
        ax.text(
            0.02,
            0.02,
            f"vanishing zone: < {_sci(vanish)} x largest layer norm",
            color="#1f5f86",
            va="bottom",
            **zone,
        )
        ax.text(0.02, 0.98, f"exploding zone: > {_sci(explode)}", color="#9a3d00", va="top", **zone)

        # ------------------------------------------------ right: the last epoch as bars
        x = np.arange(len(layers))
        heights = np.where(np.isfinite(last), last, hi)  # not finite: a bar to the top
        heights = np.where(heights > 0, heights, np.nan)
        bars_ax.axhspan(explode, hi, color=VERMILLION, alpha=0.13, linewidth=0)
        bars_ax.axhline(explode, color=VERMILLION, linewidth=1.0, linestyle="--", alpha=0.7)
        if np.isfinite(threshold[-1]):
            bars_ax.axhspan(lo, threshold[-1], color=SKY, alpha=0.25, linewidth=0)
            bars_ax.axhline(threshold[-1], color=SKY, linewidth=1.0, linestyle="--")
        bars = bars_ax.bar(x, heights, color=colors, edgecolor=DARK, linewidth=0.5, width=0.75)
        for patch, layer in zip(bars.patches, layers):
            patch.set_gid(f"bar:{layer}")
            if layer in flagged:  # a lighter face so the hatching shows on dark colours too
                patch.set_alpha(0.55)
                patch.set_hatch("///")
                patch.set_edgecolor(DARK)
                patch.set_linewidth(1.0)
        for i in np.flatnonzero(last == 0):  # no bar for 0 on a log scale: a "0" instead
            bars_ax.annotate(
                "0", (i, 0), xycoords=("data", "axes fraction"), xytext=(0, 3),
                textcoords="offset points", ha="center", va="bottom", fontsize=9,
                color="#1f5f86", fontweight="bold",
            )  # fmt: skip
        bars_ax.set_yscale("log")
        bars_ax.set_ylim(lo, hi)
        bars_ax.set_xlim(-0.6, len(layers) - 0.4)
        step = math.ceil(len(layers) / 24)
        bars_ax.set_xticks(
            x[::step],
            layers[::step],
            rotation=60,
            ha="right",
            rotation_mode="anchor",
            fontsize=8 if len(layers) <= 16 else 7,
        )
        bars_ax.grid(axis="x", visible=False)
        bars_ax.set_ylabel("mean gradient norm (log scale)")
        bars_ax.set_xlabel("layer (input side on the left)")
        title = f"Last epoch ({int(epochs[-1])}): gradient norm per layer"
        bars_ax.set_title(title + (" (hatched: flagged)" if flagged else ""))

        # ------------------------------------------------ layer colour key and the note
        cmap = ListedColormap(colors)
        mappable = plt.cm.ScalarMappable(
            norm=BoundaryNorm(np.arange(len(layers) + 1) - 0.5, cmap.N), cmap=cmap
        )
        key = fig.colorbar(mappable, ax=[ax, bars_ax], pad=0.01, aspect=35, shrink=0.9)
        ticks = list(range(len(layers))) if len(layers) <= 12 else [0, len(layers) - 1]
        key.set_ticks(ticks, labels=[layers[t] for t in ticks], fontsize=8)
        key.ax.invert_yaxis()  # input side at the top, as the model's layers read
        key.set_label("layer (input side at the top)")
        key.ax.grid(False)
        key.ax.minorticks_off()

        note_ax.axis("off")
        trouble = bool(flagged)
        note_ax.text(
            0.0,
            1.0,
            note,
            transform=note_ax.transAxes,
            va="top",
            ha="left",
            fontsize=9.5,
            gid="note",
            color="#7a3300" if trouble else DARK,
            bbox={
                "boxstyle": "round,pad=0.5",
                "facecolor": "#fff6e8" if trouble else "#f2f2f2",
                "edgecolor": "#e0c9a6" if trouble else "#dddddd",
            },
        )
    return fig


# ------------------------------------------------------------------------------- activations
def _activation_types() -> tuple[type, ...]:
    from ..nn import ELU, GELU, LeakyReLU, ReLU, Sigmoid, Softplus, Tanh

    return (Sigmoid, Tanh, ReLU, LeakyReLU, ELU, GELU, Softplus)


def _summary(kind: str, v: np.ndarray) -> tuple[str, float | None]:
    """(annotation text, fraction in the trouble zone or None) for one layer's outputs."""
    if kind == "Sigmoid":
        frac = float(np.mean((v < 0.01) | (v > 0.99)))
        return f"saturated: {frac:.1%}\n(< 0.01 or > 0.99)", frac
    if kind == "Tanh":
        frac = float(np.mean(np.abs(v) > 0.99))
        return f"saturated: {frac:.1%}\n(|a| > 0.99)", frac
    if kind == "ReLU":
        frac = float(np.mean(v == 0))
        text = f"zero (inactive): {frac:.1%}"
        if v.ndim == 2 and v.shape[1] > 0:
            dead = int(np.sum(np.all(v == 0, axis=0)))
            text += f"\ndead units: {dead}/{v.shape[1]}\n(zero for every input)"
        return text, frac
    if kind == "LeakyReLU":
        frac = float(np.mean(v < 0))
        return f"negative side: {frac:.1%}", None
    return f"mean {v.mean():.3g}, std {v.std():.3g}", None


def _zones(kind: str, v: np.ndarray, bins: int) -> tuple[np.ndarray, Any]:
    """Bin edges, and a predicate on bin centres for the bins to colour as trouble."""
    if kind == "Sigmoid":
        inner = np.linspace(0.01, 0.99, max(bins - 1, 2))
        return np.concatenate([[0.0], inner, [1.0]]), lambda c: (c < 0.01) | (c > 0.99)
    if kind == "Tanh":
        inner = np.linspace(-0.99, 0.99, max(bins - 1, 2))
        return np.concatenate([[-1.0], inner, [1.0]]), lambda c: np.abs(c) > 0.99
    lo, hi = float(v.min()), float(v.max())
    if hi <= lo:
        lo, hi = lo - 0.5, hi + 0.5
    return np.linspace(lo, hi, bins + 1), None


def _draw_activation(ax: Any, name: str, kind: str, v: np.ndarray, bins: int) -> None:
    flat = v.ravel().astype(np.float64)
    flat = flat[np.isfinite(flat)]
    text, frac = _summary(kind, v)
    weight = 1.0 / max(flat.size, 1)
    if kind == "ReLU":
        zero = float(np.mean(flat == 0)) if flat.size else 0.0
        pos = flat[flat > 0]
        hi = float(pos.max()) if pos.size else 1.0
        edges = np.linspace(0.0, hi, bins + 1)
        _, _, patches = ax.hist(
            pos, bins=edges, weights=np.full(pos.size, weight), color=BLUE, alpha=0.9
        )
        # the exact zeros get their own bar just left of 0, so it hides no positive bin
        zero_bar = ax.bar([0.0], [zero], width=-hi / bins, align="edge", color=VERMILLION)
        zero_bar.patches[0].set_gid("zero-bar")
        patches = [*patches, *zero_bar.patches]
    else:
        edges, trouble = _zones(kind, flat if flat.size else np.zeros(1), bins)
        _, _, patches = ax.hist(
            flat, bins=edges, weights=np.full(flat.size, weight), color=BLUE, alpha=0.9
        )
        if trouble is not None:
            centres = (edges[:-1] + edges[1:]) / 2
            for patch, bad in zip(patches, trouble(centres)):
                if bad:  # narrow end bins: a thick edge keeps them visible
                    patch.set(facecolor=VERMILLION, edgecolor=VERMILLION, linewidth=1.5, alpha=1)
                    patch.set_gid("trouble-bin")
    tallest = max((p.get_height() for p in patches), default=0.0)
    ax.set_ylim(0, (tallest if tallest > 0 else 1.0) * 1.55)  # headroom for the note
    warn = frac is not None and frac > 0.5
    ax.text(
        0.97,
        0.95,
        text,
        transform=ax.transAxes,
        ha="right",
        va="top",
        fontsize=8.5,
        gid="annotation",
        color="#7a3300" if warn else DARK,
        bbox={
            "boxstyle": "round,pad=0.3",
            "facecolor": "white",
            "alpha": 0.85,
            "edgecolor": VERMILLION if warn else "#cccccc",
        },
    )
    ax.set_title(name)
    ax.set_xlabel("output value")
    ax.set_ylabel("fraction of values")
    ax.grid(axis="x", visible=False)


def plot_activations(model: Any, x: Any, bins: int = 40) -> Any:
    """One histogram per activation layer of its outputs on ``x``: saturation at a glance.

    Runs ``x`` through the model once in eval mode with no graph, recording each activation
    layer's output (Sigmoid, Tanh, ReLU, LeakyReLU, ELU, GELU, Softplus) through forward hooks;
    a model without activation layers has its Linear layers' outputs drawn instead. Each panel
    says how much is in the trouble zone, coloured vermillion:

    - Sigmoid: saturated, output < 0.01 or > 0.99 (there its slope is almost 0);
    - Tanh: saturated, ``|output| > 0.99``;
    - ReLU: zero (no gradient flows through), and *dead units*: zero for every input.

    Args:
        model: an ``nn.Module``.
        x: inputs, shape ``(n_samples, ...)`` as the model takes them (e.g. a test set).
        bins: histogram bins per panel.

    Returns:
        The matplotlib Figure. The model's train/eval modes are restored and the hooks removed
        afterwards, even if the forward pass fails.
    """
    from .. import backend
    from ..autograd import no_grad
    from ..nn.layers import Linear
    from ..nn.module import Module, module_dtype, training_mode
    from ..tensor import Tensor

    if not isinstance(model, Module):
        raise TypeError(
            f"plot_activations: model must be a sinapsi nn.Module; got {type(model).__name__}."
        )
    if isinstance(bins, bool) or not isinstance(bins, int) or bins < 2:
        raise ValueError(f"plot_activations: bins must be an integer >= 2. Received: bins={bins!r}")
    data = backend.to_numpy(x.data if isinstance(x, Tensor) else x)
    if data.ndim == 0 or len(data) == 0:
        raise ValueError(
            f"plot_activations: x holds no samples (shape {data.shape}). Pass some inputs, e.g. "
            "the test set."
        )
    named = [(n, m) for n, m in model.named_modules() if isinstance(m, _activation_types())]
    if not named:
        named = [(n, m) for n, m in model.named_modules() if isinstance(m, Linear)]
    if not named:
        raise ValueError(
            f"plot_activations: {type(model).__name__} has no activation layer (Sigmoid, Tanh, "
            "ReLU, ...) and no Linear layer whose outputs could be drawn. Build the model from "
            "nn layers, e.g. nn.Sequential(nn.Linear(2, 8), nn.Tanh(), ...)."
        )
    outputs: dict[int, list[np.ndarray]] = {id(m): [] for _, m in named}

    def record(module: Any, inputs: tuple, output: Any) -> None:
        value = output.data if isinstance(output, Tensor) else output
        outputs[id(module)].append(backend.to_numpy(value))

    removers = []
    dtype = module_dtype(model)
    try:
        removers = [m.register_forward_hook(record) for _, m in named]
        with no_grad(), training_mode(False):  # eval mode for this thread only
            model(Tensor(data, dtype=dtype))
    finally:
        for remove in removers:
            remove()

    drawn = [
        (f"{n or 'model'} {type(m).__name__}", type(m).__name__, np.concatenate(outputs[id(m)]))
        for n, m in named
        if outputs[id(m)]
    ]
    if not drawn:
        raise ValueError(
            "plot_activations: none of the model's activation layers ran in its forward pass, "
            "so there is nothing to draw."
        )
    ncols = min(len(drawn), 4)
    with style() as plt:
        fig, flat_axes = panel_grid(plt, len(drawn), ncols, (3.5, 2.8), (0.3, 0.8))
        for ax, (name, kind, values) in zip(flat_axes, drawn):
            _draw_activation(ax, name, kind, values, bins)
        what = "activation" if isinstance(named[0][1], _activation_types()) else "Linear layer"
        sep = "; " if ncols > 2 else "\n"  # one line of ~75 characters needs 3 panels' width
        fig.suptitle(
            f"Outputs of each {what} on {len(data)} inputs (eval mode){sep}"
            "vermillion: saturated / zero"
        )
    return fig
