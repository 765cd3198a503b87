"""Validation of the estimators' hyper-parameters, with scikit-learn's messages ("The 'p'
parameter of X must be <constraint>. Got v instead."), run in ``fit`` as scikit-learn does."""

from __future__ import annotations

import math
import numbers
from typing import Any

import numpy as np

from .. import optim as _optim

# scikit-learn's names first ("logistic" is its sigmoid), then sinapsi's other activations.
ACTIVATIONS = {
    "identity": "identity", "logistic": "sigmoid", "tanh": "tanh", "relu": "relu",
    "sigmoid": "sigmoid", "leaky_relu": "leaky_relu", "elu": "elu", "gelu": "gelu",
    "softplus": "softplus",
}  # fmt: skip
SOLVERS = ("lbfgs", "sgd", "adam")
SCHEDULES = ("constant", "invscaling", "adaptive")
REGRESSION_LOSSES = ("squared_error", "poisson")
OPTIMIZERS = tuple(sorted(_optim._OPTIMIZERS))  # sinapsi's own, for the optimizer= extra


def invalid(owner: str, name: str, constraint: str, value: Any) -> ValueError:
    """scikit-learn's message: "The 'p' parameter of X must be <constraint>. Got v instead." """
    return ValueError(
        f"The {name!r} parameter of {owner} must be {constraint}. Got {value!r} instead."
    )


def is_int(v: Any) -> bool:
    return isinstance(v, numbers.Integral) and not isinstance(v, (bool, np.bool_))


def is_real(v: Any) -> bool:
    return isinstance(v, numbers.Real) and not isinstance(v, (bool, np.bool_))


def is_bool(v: Any) -> bool:
    return isinstance(v, (bool, np.bool_))


def _choice(owner: str, name: str, value: Any, choices: Any) -> None:
    if not isinstance(value, str) or value not in choices:
        listed = ", ".join(repr(c) for c in sorted(choices))
        raise invalid(owner, name, f"a str among {{{listed}}}", value)


# name -> (test, constraint as scikit-learn words it)
_REALS = {
    "alpha": (lambda v: 0 <= v < math.inf, "a float in the range [0.0, inf)"),
    "learning_rate_init": (lambda v: 0 < v < math.inf, "a float in the range (0.0, inf)"),
    "power_t": (lambda v: 0 <= v < math.inf, "a float in the range [0.0, inf)"),
    "tol": (lambda v: 0 <= v < math.inf, "a float in the range [0.0, inf)"),
    "momentum": (lambda v: 0 <= v <= 1, "a float in the range [0, 1]"),
    "validation_fraction": (lambda v: 0 < v < 1, "a float in the range (0.0, 1.0)"),
    "beta_1": (lambda v: 0 <= v < 1, "a float in the range [0, 1)"),
    "beta_2": (lambda v: 0 <= v < 1, "a float in the range [0, 1)"),
    "epsilon": (lambda v: 0 < v < math.inf, "a float in the range (0.0, inf)"),
    "dropout": (lambda v: 0 <= v < 1, "a float in the range [0.0, 1.0)"),
}
_BOOLS = ("shuffle", "warm_start", "nesterovs_momentum", "early_stopping", "batch_norm")


def check_params(est: Any) -> tuple[int, ...]:
    """Validate every hyper-parameter of ``est``; return the hidden sizes as a tuple of ints."""
    owner = type(est).__name__
    sizes = est.hidden_layer_sizes
    sizes = [sizes] if is_int(sizes) else sizes
    try:
        sizes = tuple(sizes)
    except TypeError:
        sizes = None
    if sizes is None or not all(is_int(s) and s >= 1 for s in sizes):
        raise invalid(
            owner, "hidden_layer_sizes",
            "an int >= 1 or a sequence of them, e.g. (100,) or (64, 32)", est.hidden_layer_sizes,
        )  # fmt: skip
    _choice(owner, "activation", est.activation, ACTIVATIONS)
    _choice(owner, "solver", est.solver, SOLVERS)
    lr = est.learning_rate
    if is_real(lr):
        raise ValueError(
            f"The 'learning_rate' parameter of {owner} is scikit-learn's schedule name, one of "
            f"{SCHEDULES}; got the number {lr!r}. Pass the step size as learning_rate_init={lr!r}."
        )
    _choice(owner, "learning_rate", lr, SCHEDULES)
    if hasattr(est, "loss"):
        _choice(owner, "loss", est.loss, REGRESSION_LOSSES)
    for name, (test, constraint) in _REALS.items():
        value = getattr(est, name)
        if not (is_real(value) and test(value)):
            raise invalid(owner, name, constraint, value)
    bs = est.batch_size
    if not (bs == "auto" if isinstance(bs, str) else is_int(bs) and bs >= 1):
        raise invalid(owner, "batch_size", "an int in the range [1, inf) or 'auto'", bs)
    for name in ("max_iter", "max_fun"):
        if not (is_int(getattr(est, name)) and getattr(est, name) >= 1):
            raise invalid(owner, name, "an int in the range [1, inf)", getattr(est, name))
    nic = est.n_iter_no_change
    if not ((is_int(nic) and nic >= 1) or (is_real(nic) and nic == math.inf)):
        raise invalid(owner, "n_iter_no_change", "an int in the range [1, inf) or inf", nic)
    for name in _BOOLS:
        if not is_bool(getattr(est, name)):
            raise invalid(owner, name, "an instance of 'bool'", getattr(est, name))
    if not (is_int(est.verbose) or is_bool(est.verbose)) or est.verbose < 0:
        raise invalid(owner, "verbose", "an int >= 0 or a bool", est.verbose)
    if est.optimizer is not None:
        if not isinstance(est.optimizer, str) or est.optimizer.lower() not in OPTIMIZERS:
            listed = ", ".join(repr(o) for o in OPTIMIZERS)
            raise invalid(owner, "optimizer", f"None or a str among {{{listed}}}", est.optimizer)
    if est.init is not None and not (isinstance(est.init, str) or callable(est.init)):
        raise invalid(owner, "init", "None, a sinapsi.init name or a callable", est.init)
    if est.solver == "lbfgs" and est.optimizer is None and est.dropout > 0:
        raise ValueError(
            f"{owner}: dropout={est.dropout} makes the loss random, which solver='lbfgs' cannot "
            "minimize. Use solver='adam' or 'sgd', or dropout=0.0."
        )
    return tuple(int(s) for s in sizes)  # NumPy integers become plain ints
