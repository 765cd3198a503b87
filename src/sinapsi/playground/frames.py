"""What a playground frame holds: the output heat map, the hidden neurons' thumbnails, the
weights, and the diagnosis of the gradients (vanishing, exploding, dead ReLU) with remedies.

A frame is built from the training thread inside ``fit`` (in a callback), so it must not
perturb the training: it runs one forward pass over fixed grid points in eval mode
(:class:`~sinapsi.nn.module.training_mode` ``(False)``: BatchNorm uses, and does not update,
its running statistics; Dropout draws nothing) without autograd, and touches no RNG.

Maps are base64 strings of uint8 pixels, row-major, row 0 = top = the largest x2, column 0 =
the smallest x1 (the plane as drawn); a pixel ``v`` encodes ``v / 255 * 2 - 1``, the value
clipped to [-1, 1].
"""

from __future__ import annotations

import base64
import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from .. import backend
from ..autograd import no_grad
from ..nn.features import PointFeatures
from ..nn.layers import Dropout, Linear
from ..nn.module import Module, Sequential, module_dtype, training_mode
from ..tensor import Tensor

__all__ = ["FrameBuilder", "diagnose", "dead_fractions", "grad_norms"]

TASKS = ("classification", "regression")


# ------------------------------------------------------------------------------ helpers
def _plane(n: int, lo: float, hi: float) -> np.ndarray:
    """(n*n, 2) points of an n x n grid over [lo, hi]^2 (ends included, as the TF Playground),
    row-major with row 0 = the largest x2."""
    xs = np.linspace(lo, hi, n)
    x1, x2 = np.meshgrid(xs, xs[::-1])
    return np.stack([x1.ravel(), x2.ravel()], axis=1)


def _pixels(values: Any) -> np.ndarray:
    """Values -> uint8 pixels (NaN -> the middle; infinities -> the ends)."""
    v = np.nan_to_num(np.asarray(values, dtype=np.float64), nan=0.0, posinf=1.0, neginf=-1.0)
    return np.rint((np.clip(v, -1.0, 1.0) + 1.0) * 127.5).astype(np.uint8)


def _encode(values: Any) -> str:
    """Values -> base64 of their uint8 pixels."""
    return base64.b64encode(_pixels(values).tobytes()).decode("ascii")


def _encode_columns(values: np.ndarray) -> list[str]:
    """Each column of an (n, k) array -> base64 of its pixels (one conversion for all)."""
    pixels = np.ascontiguousarray(_pixels(values).T)
    return [base64.b64encode(row.tobytes()).decode("ascii") for row in pixels]


def _round4(values: Any) -> list:
    """An array as nested lists of Python floats with 4 significant digits (what
    ``float(f"{v:.4g}")`` gives: an integer divided or multiplied by an exact power of ten is
    correctly rounded, so the floats print short), None where not finite (JSON has no NaN, and
    the page's JSON.parse refuses it). Vectorized: 45k weights of the largest net in ~4 ms."""
    w = np.asarray(values, dtype=np.float64)
    finite = np.isfinite(w)
    with np.errstate(all="ignore"):
        magnitude = np.floor(np.log10(np.abs(w)))
        # clamped: 10**300 is finite, and a weight under 1e-297 shows as 0
        digits = np.clip(3.0 - np.where(np.isfinite(magnitude), magnitude, 0.0), -300, 300)
        up, down = 10.0 ** np.maximum(digits, 0.0), 10.0 ** np.maximum(-digits, 0.0)
        rounded = np.rint(w * up / down) / up * down
    if finite.all():
        return rounded.tolist()
    rounded = rounded.astype(object)
    rounded[~finite] = None
    return rounded.tolist()


def _structure(model: Any) -> tuple[list[Module], list[int], list[Linear]]:
    """The model's layers, the index of each hidden layer's last layer before the next Linear
    that is not Dropout (its activation's output), and its Linear layers."""
    layers = list(model) if isinstance(model, Sequential) else []
    linear_at = [i for i, layer in enumerate(layers) if isinstance(layer, Linear)]
    if not linear_at or linear_at[0] != 0:
        raise ValueError(
            "FrameBuilder: the model must be a Sequential starting with a Linear layer (the "
            f"training model, without the feature layer); got {type(model).__name__} starting "
            f"with {type(layers[0]).__name__ if layers else 'nothing'}."
        )
    taps = []
    for start, stop in zip(linear_at, linear_at[1:]):
        tap = start
        for i in range(start + 1, stop):
            if not isinstance(layers[i], Dropout):
                tap = i
        taps.append(tap)
    return layers, taps, [layers[i] for i in linear_at]


def _forward(
    layers: list[Module], taps: list[int], x: Tensor, keep: int = 0
) -> tuple[np.ndarray, list[np.ndarray]]:
    """The output and the tapped hidden outputs' rows from ``keep`` on (NumPy copies), in eval
    mode, without autograd, with NumPy's warnings silenced (a diverged model's NaNs are drawn,
    not raised)."""
    hidden = []
    wanted = set(taps)
    with no_grad(), training_mode(False), np.errstate(all="ignore"):
        for i, layer in enumerate(layers):
            x = layer(x)
            if i in wanted:
                hidden.append(np.array(backend.to_numpy(x.data[keep:]), dtype=np.float64))
    return np.array(backend.to_numpy(x.data), dtype=np.float64), hidden


def _names(n: int) -> list[str]:
    return [f"layer {i}" for i in range(n)]


# ------------------------------------------------------------------------------ frames
class FrameBuilder:
    """Builds the frames of one playground run: the grid's input features are computed once.

    Args:
        model: the training ``nn.Sequential`` (Linear, [BatchNorm1d], activation, [Dropout],
            ..., Linear), without the feature layer: it takes the features' columns.
        features: the input feature names, among ``x1, x2, x1^2, x2^2, x1*x2, sin(x1),
            sin(x2)``, in the model's column order.
        domain: ``(lo, hi)``: the plane drawn is ``[lo, hi]^2``.
        task: ``"classification"`` (the map shows p(class 1) * 2 - 1 from the softmax of the
            logits) or ``"regression"`` (the prediction).
        grid: the output map's side in pixels; thumb: the neuron thumbnails' side.
    """

    def __init__(
        self,
        model: Any,
        features: list[str],
        domain: tuple[float, float],
        task: str,
        grid: int = 100,
        thumb: int = 20,
    ) -> None:
        point_features = PointFeatures(features)  # refuses unknown names, duplicates, none
        features = list(point_features.features)
        if task not in TASKS:
            raise ValueError(f"FrameBuilder: task must be 'classification' or 'regression'; "
                             f"got {task!r}.")  # fmt: skip
        try:
            lo, hi = (float(v) for v in domain)
        except (TypeError, ValueError):
            lo = hi = math.nan
        if not (math.isfinite(lo) and math.isfinite(hi) and lo < hi):
            raise ValueError(f"FrameBuilder: domain must be (lo, hi) with lo < hi, both finite; "
                             f"got {domain!r}.")  # fmt: skip
        for name, side in (("grid", grid), ("thumb", thumb)):
            if isinstance(side, bool) or not isinstance(side, int) or not 2 <= side <= 1000:
                raise ValueError(f"FrameBuilder: {name} must be an int in 2..1000 (pixels "
                                 f"per side); got {side!r}.")  # fmt: skip
        _, _, linears = _structure(model)
        if linears[0].in_features != len(features):
            raise ValueError(
                f"FrameBuilder: the model's first Linear takes {linears[0].in_features} inputs "
                f"but {len(features)} features were given ({', '.join(features)}); pass the "
                "features the model was built for."
            )
        self.features, self.domain, self.task = features, (lo, hi), task
        self.grid, self.thumb = grid, thumb
        big, small = _plane(grid, lo, hi), _plane(thumb, lo, hi)
        # one forward pass per frame: the output grid's points, then the thumbnails'
        with no_grad():
            points = Tensor(np.concatenate([big, small]), dtype=np.float64)
            self._inputs = backend.to_numpy(point_features(points).data)
        self._cast: dict[str, Tensor] = {}

    def _input_tensor(self, model: Any) -> Tensor:
        dtype = module_dtype(model)
        key = str(dtype)
        if key not in self._cast:
            self._cast = {key: Tensor(self._inputs, dtype=dtype)}
        return self._cast[key]

    def input_maps(self) -> list[str]:
        """One thumbnail per input feature, scaled to [-1, 1] by the feature's largest
        absolute value on the domain (the output grid's points)."""
        n_big = self.grid * self.grid
        scale = np.abs(self._inputs[:n_big]).max(axis=0)
        scale[scale == 0] = 1.0
        small = self._inputs[n_big:] / scale
        return _encode_columns(small)

    def frame(self, model: Any) -> dict[str, Any]:
        """The output map, the hidden neurons' thumbnails, the weights and biases of ``model``
        now, from one forward pass in eval mode without autograd (the training is untouched)."""
        layers, taps, linears = _structure(model)
        n_big = self.grid * self.grid
        out, hidden = _forward(layers, taps, self._input_tensor(model), keep=n_big)
        with np.errstate(all="ignore"):
            z = out[:n_big]
            if self.task == "regression":
                shown = z[:, 0]
            elif z.shape[1] == 1:  # one logit: p(class 1) = sigmoid
                shown = 2.0 / (1.0 + np.exp(-z[:, 0])) - 1.0
            else:
                e = np.exp(z - z.max(axis=1, keepdims=True))
                shown = e[:, 1] / e.sum(axis=1) * 2.0 - 1.0
        neurons = [_encode_columns(h) for h in hidden]
        weights, biases = [], []
        for layer in linears:
            w = backend.to_numpy(layer.weight.data)
            weights.append(_round4(w))
            b = layer.bias
            biases.append(_round4(backend.to_numpy(b.data)) if b is not None else [0.0] * len(w))
        return {
            "output": _encode(shown),
            "neurons": neurons,
            "g": self.thumb,
            "weights": weights,
            "biases": biases,
        }


# ------------------------------------------------------------------------------ measurements
def grad_norms(model: Any) -> dict[str, float]:
    """The gradient norm of each Linear layer (weight and bias together), named ``"layer i"``
    from the input side; 0.0 where no gradient was computed yet."""
    _, _, linears = _structure(model)
    norms = {}
    for name, layer in zip(_names(len(linears)), linears):
        total = 0.0
        for p in (layer.weight, layer.bias):
            if p is not None and p.grad is not None:
                g = backend.to_numpy(p.grad).astype(np.float64, copy=False)
                total += float(np.dot(g.ravel(), g.ravel()))
        norms[name] = math.sqrt(total)
    return norms


def dead_fractions(model: Any, x_train: Any) -> dict[str, float]:
    """For each hidden layer (``"layer i"``: the activation after Linear ``i``), the fraction
    of its units that output exactly 0 on every row of ``x_train`` (the model's inputs, as fit
    sees them), in eval mode: a ReLU unit dead on the whole training set never learns again."""
    layers, taps, _ = _structure(model)
    x = x_train if isinstance(x_train, Tensor) else Tensor(x_train, dtype=module_dtype(model))
    _, hidden = _forward(layers, taps, x)
    return {
        name: float(np.all(h == 0.0, axis=0).mean()) if len(h) else 0.0
        for name, h in zip(_names(len(hidden)), hidden)
    }


# ------------------------------------------------------------------------------ diagnosis
def _sci(x: float) -> str:
    """1.2e-05 -> '1e-5': a ratio at a glance."""
    if x == 0 or not math.isfinite(x):
        return f"{x:g}"
    mantissa, exponent = f"{x:.0e}".split("e")
    return f"{mantissa}e{int(exponent)}"


def _try(remedies: list[str]) -> str:
    return "Try " + ", ".join(remedies) + "." if remedies else ""


def diagnose(
    grad_norms: Mapping[str, float],
    dead_fraction: Mapping[str, float],
    activation: str,
    init: str,
    batch_norm: bool,
    clip: float,
) -> list[dict[str, str]]:
    """The gradients' trouble, each as ``{"kind", "layer", "message"}`` with a one-line remedy
    that leaves out what is already on (the notes' remedies):

    - ``vanishing``: the first layer's gradient norm is below 1e-3 of the last layer's (or
      below 1e-7): the early layers barely learn;
    - ``exploding``: a norm above 1e3 (or not finite), or a growth above 1e3x from the last
      layer to the first;
    - ``dead_relu``: more than half of a hidden layer's ReLU units output 0 on every training
      point.

    ``grad_norms`` is ordered from the input side (as :func:`grad_norms` gives it).

    >>> diagnose({"layer 0": 1e-6, "layer 1": 0.1}, {}, "sigmoid", "xavier", False, 0.0)[0]
    ... # doctest: +NORMALIZE_WHITESPACE
    {'kind': 'vanishing', 'layer': 'layer 0', 'message': "layer 0 gets 1e-5 of the last layer's
    gradient: vanishing gradients. Try ReLU, He init, batch norm."}
    """
    found: list[dict[str, str]] = []
    names = list(grad_norms)
    norms = [float(grad_norms[n]) for n in names]
    relu_like = activation in ("relu", "leaky_relu", "elu", "gelu")
    if norms:
        first, last = norms[0], norms[-1]
        bad = [i for i, v in enumerate(norms) if not math.isfinite(v) or v > 1e3]
        if bad or (len(norms) > 1 and last > 0 and first > 1e3 * last):
            where = names[bad[0]] if bad else names[0]
            what = (
                f"{where}'s gradient norm is {norms[bad[0]]:.3g}"
                if bad
                else f"{where} gets {_sci(first / last)}x the last layer's gradient"
            )
            remedies = ["gradient clipping (clip norm 1)"] if not clip else []
            remedies.append("a lower learning rate")
            if init not in ("xavier", "he"):
                remedies.append("Xavier/He init")
            found.append({"kind": "exploding", "layer": where,
                          "message": f"{what}: exploding gradients. {_try(remedies)}"})  # fmt: skip
        elif len(norms) > 1 and last > 0 and (first < 1e-3 * last or first < 1e-7):
            remedies = [] if relu_like else ["ReLU"]
            if init != "he":
                remedies.append("He init")
            if not batch_norm:
                remedies.append("batch norm")
            if not remedies:
                remedies = ["fewer layers"]
            what = f"{names[0]} gets {_sci(first / last)} of the last layer's gradient"
            found.append({"kind": "vanishing", "layer": names[0],
                          "message": f"{what}: vanishing gradients. {_try(remedies)}"})  # fmt: skip
    if activation == "relu":
        for name, fraction in dead_fraction.items():
            if fraction > 0.5:
                remedies = ["a lower learning rate", "leaky_relu"]
                if init != "he":
                    remedies.append("He init")
                if not batch_norm:
                    remedies.append("batch norm")
                found.append({
                    "kind": "dead_relu", "layer": name,
                    "message": f"{name}: {fraction:.0%} of its ReLU units output 0 on every "
                               f"training point (dead ReLU). {_try(remedies)}",
                })  # fmt: skip
    return found
