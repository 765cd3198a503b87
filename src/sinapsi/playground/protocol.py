"""The playground's wire protocol: the settings schema and bounds, the check of every client
message, and settings -> the ``sinapsi train`` configuration (a dict, and TOML text).

The page never trusts itself and neither does the server: every message and every setting is
checked here against hard bounds (types, ranges, names, sizes) before anything runs. A problem
is a :class:`ProtocolError` whose one-line message names the key, the value and what is allowed.
"""

from __future__ import annotations

import csv
import io
import json
import math
from typing import Any

from ..nn.features import POINT_FEATURES

__all__ = [
    "ProtocolError", "DEFAULTS", "BOUNDS", "LIVE_KEYS", "DISPLAY_KEYS", "FEATURES", "DATASETS",
    "MAX_MESSAGE_BYTES", "MAX_UPLOAD_BYTES", "MAX_UPLOAD_ROWS", "validate_settings",
    "validate_message", "check_upload", "settings_to_config", "config_to_toml", "needs_reset",
]  # fmt: skip

MAX_MESSAGE_BYTES = 2 * 1024 * 1024
MAX_UPLOAD_BYTES = 1024 * 1024
MAX_UPLOAD_ROWS = 10_000
MAX_WEIGHT = 1e4  # a weight typed into the editor; far beyond any that trains

FEATURES = POINT_FEATURES  # the layer's names and order: the page's inputs are its columns
CLASSIFICATION_SETS = ("circle", "xor", "gauss", "spiral", "moons")
REGRESSION_SETS = ("reg-plane", "reg-gauss")
DATASETS = (*CLASSIFICATION_SETS, *REGRESSION_SETS, "upload")
# The page's data set names -> the configuration's [data] source.
SOURCES = {
    "circle": "circles", "xor": "xor", "gauss": "gaussian", "spiral": "spiral",
    "moons": "moons", "reg-plane": "plane", "reg-gauss": "gaussian_regression", "upload": "csv",
}  # fmt: skip
LOSSES = {"classification": ("cross_entropy", "softmax_mse"), "regression": ("mse", "mae", "huber")}
_DEFAULT_SAMPLES = {"classification": 500, "regression": 1200}

DEFAULTS: dict[str, Any] = {
    "dataset": "circle",
    "problem": "classification",
    "noise": 0,
    "percTrainData": 50,
    "batchSize": 10,
    "numSamples": 500,
    "features": ["x1", "x2"],
    "hidden": [4, 2],
    "activation": "tanh",
    "init": "xavier",
    "batchNorm": False,
    "dropout": 0.0,
    "optimizer": "sgd",
    "momentum": 0.9,
    "learningRate": 0.03,
    "regularization": "none",
    "regularizationRate": 0.0,
    "loss": "auto",
    "clipGradNorm": 0.0,
    "seed": 0,
    "showTestData": False,
    "discretize": False,
}


def _enum(*choices: str) -> dict[str, Any]:
    return {"type": "enum", "choices": list(choices)}


def _num(kind: str, low: float, high: float) -> dict[str, Any]:
    return {"type": kind, "min": low, "max": high}


#: Every setting's type and range; sent to the page in "hello".
BOUNDS: dict[str, dict[str, Any]] = {
    "dataset": _enum(*DATASETS),
    "problem": _enum("classification", "regression"),
    "noise": _num("int", 0, 50),
    "percTrainData": _num("int", 10, 90),
    "batchSize": _num("int", 1, 256),
    "numSamples": _num("int", 50, 5000),
    "features": {
        "type": "features",
        "choices": list(FEATURES),
        "minItems": 1,
        "maxItems": len(FEATURES),
    },
    "hidden": {"type": "layers", "maxLayers": 12, "min": 1, "max": 64},
    "activation": _enum("relu", "tanh", "sigmoid", "linear", "leaky_relu", "elu", "gelu"),
    "init": _enum("xavier", "he", "lecun", "normal", "uniform", "default"),
    "batchNorm": {"type": "bool"},
    "dropout": _num("float", 0.0, 0.9),
    "optimizer": _enum("sgd", "momentum", "nesterov", "adam", "adamw", "rmsprop", "adagrad"),
    "momentum": _num("float", 0.0, 0.999),
    "learningRate": _num("float", 1e-5, 10.0),
    "regularization": _enum("none", "l1", "l2"),
    "regularizationRate": _num("float", 0.0, 10.0),
    "loss": _enum("auto", "cross_entropy", "softmax_mse", "mse", "mae", "huber"),
    "clipGradNorm": _num("float", 0.0, 100.0),
    "seed": _num("int", 0, 2**31 - 1),
    "showTestData": {"type": "bool"},
    "discretize": {"type": "bool"},
}
#: Changed without a reset: the running training takes them at its next epoch.
LIVE_KEYS = frozenset({"learningRate"})
#: How the page draws; training never sees them.
DISPLAY_KEYS = frozenset({"showTestData", "discretize"})


class ProtocolError(ValueError):
    """A client message or setting the server refuses; the message is one line."""


# ------------------------------------------------------------------------------ settings
def _show(value: Any) -> str:
    text = json.dumps(value) if not isinstance(value, float) else repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _check_value(key: str, value: Any) -> Any:
    """One setting checked against :data:`BOUNDS`; returns it normalized (floats as float,
    features in their canonical order)."""
    spec = BOUNDS[key]
    kind = spec["type"]
    got = _show(value)
    if kind == "enum":
        if not isinstance(value, str) or value not in spec["choices"]:
            raise ProtocolError(
                f"setting {key} = {got} is not allowed: use one of {', '.join(spec['choices'])}."
            )
        return value
    if kind == "bool":
        if not isinstance(value, bool):
            raise ProtocolError(f"setting {key} = {got} must be true or false.")
        return value
    if kind in ("int", "float"):
        ok_type = _is_int(value) or (
            kind == "float" and isinstance(value, float) and math.isfinite(value)
        )
        if kind == "int" and isinstance(value, float) and value.is_integer():
            value, ok_type = int(value), True
        low, high = spec["min"], spec["max"]
        if not ok_type or not low <= value <= high:
            what = "an integer" if kind == "int" else "a number"
            raise ProtocolError(f"setting {key} = {got} must be {what} in [{low:g}, {high:g}].")
        return float(value) if kind == "float" else int(value)
    if kind == "features":
        if (
            not isinstance(value, list)
            or not 1 <= len(value) <= len(FEATURES)
            or not all(isinstance(v, str) and v in FEATURES for v in value)
            or len(set(value)) != len(value)
        ):
            raise ProtocolError(
                f"setting {key} = {got} must list 1 to {len(FEATURES)} distinct inputs among "
                f"{', '.join(FEATURES)}."
            )
        return [f for f in FEATURES if f in value]
    # layers
    if (
        not isinstance(value, list)
        or len(value) > spec["maxLayers"]
        or not all(_is_int(n) and spec["min"] <= n <= spec["max"] for n in value)
    ):
        raise ProtocolError(
            f"setting {key} = {got} must be a list of at most {spec['maxLayers']} layer sizes, "
            f"each an integer in [{spec['min']}, {spec['max']}]."
        )
    return list(value)


def validate_settings(partial: Any, current: dict[str, Any] | None = None) -> dict[str, Any]:
    """The settings after applying ``partial`` (a JSON object of some keys) to ``current``
    (default :data:`DEFAULTS`): every key, type and range checked, and the keys that depend on
    each other made consistent (a regression data set switches the problem, a new problem
    resets an unfitting data set or loss). Raises :class:`ProtocolError`; ``current`` is never
    modified."""
    base = dict(DEFAULTS if current is None else current)
    if not isinstance(partial, dict):
        raise ProtocolError(
            f"settings must be a JSON object of setting names; got {_show(partial)}."
        )
    for key in partial:
        if key not in BOUNDS:
            raise ProtocolError(f"unknown setting {_show(key)}: use one of {', '.join(BOUNDS)}.")
    new = {**base, **{k: _check_value(k, v) for k, v in partial.items()}}
    problem_given, dataset_given = "problem" in partial, "dataset" in partial
    fitting = {"classification": CLASSIFICATION_SETS, "regression": REGRESSION_SETS}
    if new["dataset"] != "upload" and new["dataset"] not in fitting[new["problem"]]:
        if dataset_given and problem_given:
            raise ProtocolError(
                f"setting dataset = {_show(new['dataset'])} does not fit problem = "
                f"{_show(new['problem'])}: use one of "
                f"{', '.join(fitting[new['problem']])} (or upload)."
            )
        if dataset_given:  # a regression set clicked: the problem follows
            new["problem"] = (
                "regression" if new["problem"] == "classification" else "classification"
            )
        else:
            new["dataset"] = fitting[new["problem"]][0]
    if new["problem"] != base["problem"] and "numSamples" not in partial:
        if base["numSamples"] == _DEFAULT_SAMPLES[base["problem"]]:
            new["numSamples"] = _DEFAULT_SAMPLES[new["problem"]]
    if new["loss"] != "auto" and new["loss"] not in LOSSES[new["problem"]]:
        if "loss" in partial:
            raise ProtocolError(
                f"setting loss = {_show(new['loss'])} does not fit problem = "
                f"{_show(new['problem'])}: use auto or {', '.join(LOSSES[new['problem']])}."
            )
        new["loss"] = "auto"
    return new


def needs_reset(old: dict[str, Any], new: dict[str, Any]) -> bool:
    """Whether going from ``old`` to ``new`` settings needs a new run (anything but the live
    and display keys changed)."""
    return any(old[k] != new[k] for k in BOUNDS if k not in LIVE_KEYS | DISPLAY_KEYS)


# ------------------------------------------------------------------------------ messages
_NO_FIELDS: dict[str, Any] = {}
_MESSAGES: dict[str, dict[str, Any]] = {
    "settings": {"settings": dict},
    "play": _NO_FIELDS,
    "pause": _NO_FIELDS,
    "step": _NO_FIELDS,
    "reset": _NO_FIELDS,
    "regenerate": _NO_FIELDS,
    "ack": _NO_FIELDS,
    "set_weight": {"layer": int, "row": int, "col": int, "value": float},
    "upload": {"name": str, "text": str},
    "export": {"what": str},
}
_EXPORTS = ("toml", "model", "report")


def validate_message(raw: str | bytes) -> tuple[str, dict[str, Any]]:
    """``(type, payload)`` of one client message (JSON text), every field checked: size,
    JSON, a known ``type``, exactly the fields that type has, with the right types and ranges.
    Raises :class:`ProtocolError`."""
    if len(raw) > MAX_MESSAGE_BYTES:
        raise ProtocolError(
            f"message of {len(raw):,} bytes refused: at most {MAX_MESSAGE_BYTES:,} bytes."
        )
    try:
        message = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as e:
        raise ProtocolError(f"message is not valid JSON ({e}); send a JSON object.") from None
    if not isinstance(message, dict):
        raise ProtocolError(f"message must be a JSON object with a type; got {_show(message)}.")
    kind = message.get("type")
    if not isinstance(kind, str) or kind not in _MESSAGES:
        raise ProtocolError(
            f"unknown message type {_show(kind)}: use one of {', '.join(_MESSAGES)}."
        )
    fields = _MESSAGES[kind]
    payload = {k: v for k, v in message.items() if k != "type"}
    extra = sorted(set(payload) - set(fields))
    if extra:
        raise ProtocolError(
            f"message {kind!r} has the unknown field {extra[0]!r}: its fields are "
            f"{', '.join(fields) or 'none'}."
        )
    for name, want in fields.items():
        if name not in payload:
            raise ProtocolError(f"message {kind!r} needs the field {name!r}.")
        value = payload[name]
        if want is int:
            ok = _is_int(value) and 0 <= value < 10_000
        elif want is float:
            ok = (_is_int(value) or isinstance(value, float)) and math.isfinite(value)
            ok = ok and abs(value) <= MAX_WEIGHT
            if ok:
                payload[name] = float(value)
        else:
            ok = isinstance(value, want)
        if not ok:
            what = {
                int: "an integer in [0, 9999]",
                float: f"a finite number in [-{MAX_WEIGHT:g}, {MAX_WEIGHT:g}]",
                str: "a string",
                dict: "a JSON object",
            }[want]
            raise ProtocolError(
                f"message {kind!r}: field {name!r} = {_show(value)} must be {what}."
            )
    if kind == "export" and payload["what"] not in _EXPORTS:
        raise ProtocolError(
            f"message 'export': what = {_show(payload['what'])} must be one of "
            f"{', '.join(_EXPORTS)}."
        )
    if kind == "upload":
        check_upload(payload["name"], payload["text"])
    return kind, payload


def check_upload(name: str, text: str) -> str:
    """Refuse an uploaded CSV that is too big or not 3 columns (2 features + the target);
    return the problem its targets suggest: classification for at most 10 distinct whole
    numbers, else regression. The values themselves are read by the CSV loader."""
    if not name or len(name) > 255 or any(c in name for c in "/\\\0"):
        raise ProtocolError(f"upload: the file name {_show(name)} is not a plain file name.")
    size = len(text.encode("utf-8"))
    if size > MAX_UPLOAD_BYTES:
        raise ProtocolError(
            f"upload: {name} is {size:,} bytes; at most {MAX_UPLOAD_BYTES:,}. Use fewer rows."
        )
    rows = [r for r in csv.reader(io.StringIO(text)) if r and any(c.strip() for c in r)]
    if len(rows) > MAX_UPLOAD_ROWS + 1:  # a header row may come first
        raise ProtocolError(
            f"upload: {name} has {len(rows):,} rows; at most {MAX_UPLOAD_ROWS:,}. Use a sample."
        )
    if len(rows) < 2:
        raise ProtocolError(f"upload: {name} holds no data rows; write x1,x2,target per row.")
    for number, row in enumerate(rows, 1):
        if len(row) != 3:
            raise ProtocolError(
                f"upload: {name} row {number} has {len(row)} columns; each row needs 3: "
                "x1,x2,target."
            )
    targets = []
    for row in rows:
        try:
            targets.append(float(row[2]))
        except ValueError:
            continue  # a header, or a class name
    whole = all(math.isfinite(t) and t.is_integer() for t in targets)
    if len(targets) < len(rows) - 1 or (whole and len(set(targets)) <= 10):
        return "classification"
    return "regression"


# ------------------------------------------------------------------------------ config
def settings_to_config(settings: dict[str, Any], upload_path: str | None = None) -> dict[str, Any]:
    """The ``sinapsi train`` configuration that trains what ``settings`` describe (the same
    data, model, optimizer and seed: the same numbers). ``upload_path``: the CSV file for
    ``dataset = "upload"``. ``[training] epochs`` is 1; set it to the epochs wanted."""
    s = settings
    source = SOURCES[s["dataset"]]
    data: dict[str, Any] = {"source": source}
    if source == "csv":
        if upload_path is None:
            raise ProtocolError(
                "setting dataset = 'upload' needs an uploaded CSV: upload one first."
            )
        data["path"] = str(upload_path)
    else:
        data["n_samples"] = s["numSamples"]
        data["noise"] = s["noise"] / 100
    data.update(
        val_size=0.0,
        test_size=(100 - s["percTrainData"]) / 100,
        standardize=False,
        features=list(s["features"]),
    )
    model = {
        "task": s["problem"],
        "hidden": list(s["hidden"]),
        "activation": s["activation"],
        "init": s["init"],
        "batch_norm": s["batchNorm"],
        "dropout": s["dropout"],
    }
    training: dict[str, Any] = {"epochs": 1, "batch_size": s["batchSize"]}
    optimizer = s["optimizer"]
    training["optimizer"] = "sgd" if optimizer in ("momentum", "nesterov") else optimizer
    training["lr"] = s["learningRate"]
    if optimizer == "momentum":  # the notes' v = beta*v + (1-beta)*grad
        training.update(momentum=s["momentum"], dampening=s["momentum"])
    elif optimizer == "nesterov":
        training.update(momentum=s["momentum"], nesterov=True)
    elif optimizer == "rmsprop":
        training["momentum"] = s["momentum"]
    if s["regularization"] != "none":
        training[s["regularization"]] = s["regularizationRate"]
    if s["loss"] != "auto":
        training["loss"] = s["loss"]
    if s["clipGradNorm"] > 0:
        training["clip_grad_norm"] = s["clipGradNorm"]
    training["seed"] = s["seed"]
    return {
        "name": "playground",
        "description": f"sinapsi playground: {s['dataset']}, {s['problem']}",
        "data": data,
        "model": model,
        "training": training,
    }


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"config_to_toml: {value} has no TOML form in a run configuration.")
        return repr(value)  # round-trips exactly (1e-05, 0.1, 2.0)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)  # a TOML basic string
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        items = ", ".join(f"{k} = {_toml_value(v)}" for k, v in value.items() if v is not None)
        return "{ " + items + " }" if items else "{}"
    raise TypeError(f"config_to_toml: cannot write a {type(value).__name__} as TOML.")


def config_to_toml(cfg: dict[str, Any], comment_lines: list[str] | tuple[str, ...] = ()) -> str:
    """TOML text of a configuration (``None`` values left out: the defaults), after
    ``comment_lines`` as ``#`` comments. ``tomllib.loads`` of it gives ``cfg`` back."""
    lines = [f"# {line}".rstrip() for text in comment_lines for line in str(text).splitlines()]
    tables = {k: v for k, v in cfg.items() if isinstance(v, dict)}
    for key, value in cfg.items():
        if key not in tables and value is not None:
            lines.append(f"{key} = {_toml_value(value)}")
    for section, table in tables.items():
        lines.append("")
        lines.append(f"[{section}]")
        for key, value in table.items():
            if value is not None:
                lines.append(f"{key} = {_toml_value(value)}")
    return "\n".join(lines).lstrip("\n") + "\n"
