"""What MLPClassifier and MLPRegressor share: parameter checks, the stopping rule, the
network and the training loop over :func:`sinapsi.fit`."""

from __future__ import annotations

import math
import numbers
import warnings
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted

try:  # scikit-learn >= 1.6
    from sklearn.utils.validation import validate_data as _sk_validate_data
except ImportError:  # pragma: no cover - older scikit-learn

    def _sk_validate_data(estimator: Any, *args: Any, **kwargs: Any) -> Any:
        return estimator._validate_data(*args, **kwargs)


from .. import backend, nn
from .. import optim as _optim
from ..train.callbacks import Callback
from ..train.trainer import fit as _sn_fit
from ..train.trainer import predict as _sn_predict

# scikit-learn's names first ("logistic" is its sigmoid), then sinapsi's other activations.
_ACTIVATIONS = {
    "identity": "identity", "logistic": "sigmoid", "tanh": "tanh", "relu": "relu",
    "sigmoid": "sigmoid", "leaky_relu": "leaky_relu", "elu": "elu", "gelu": "gelu",
    "softplus": "softplus",
}  # fmt: skip
_OPTIMIZERS = ("sgd", "adagrad", "rmsprop", "adam", "adamw")
_PREDICT_BLOCK = 64  # rows per forward pass at inference; see _BaseMLP._raw_predict


# ------------------------------------------------------------------------ parameter checks
def _invalid(owner: str, name: str, constraint: str, value: Any) -> ValueError:
    """scikit-learn's message: "The 'p' parameter of X must be <constraint>. Got v instead." """
    return ValueError(
        f"The {name!r} parameter of {owner} must be {constraint}. Got {value!r} instead."
    )


def _is_int(v: Any) -> bool:
    return isinstance(v, numbers.Integral) and not isinstance(v, (bool, np.bool_))


def _is_real(v: Any) -> bool:
    return isinstance(v, numbers.Real) and not isinstance(v, (bool, np.bool_))


def _is_bool(v: Any) -> bool:
    return isinstance(v, (bool, np.bool_))


class _SklearnStopping(Callback):
    """scikit-learn's per-epoch bookkeeping and stopping rule, as a sinapsi callback."""

    def __init__(
        self, estimator: _BaseMLP, n_samples: int, validation: Any, incremental: bool
    ) -> None:
        self.est, self.n_samples = estimator, n_samples
        self.validation, self.incremental = validation, incremental
        self.best_state: dict[str, Any] | None = None
        self.stopped = False

    def on_epoch_end(self, epoch: int, logs: dict[str, Any]) -> None:
        est = self.est
        loss = float(logs["loss"])
        est.loss_curve_.append(loss)
        est.loss_ = loss
        est.n_iter_ += 1
        est.t_ += self.n_samples
        if est.verbose:
            print(f"Iteration {est.n_iter_}, loss = {loss:.8f}")
        if self.validation is not None:
            score = est._score_model(*self.validation)
            est.validation_scores_.append(score)
            if est.verbose:
                print(f"Validation score: {score:.6f}")
            worse = score < est.best_validation_score_ + est.tol
            if score > est.best_validation_score_:
                est.best_validation_score_ = score
                self.best_state = est.model_.state_dict()
        else:
            worse = loss > est.best_loss_ - est.tol
            est.best_loss_ = min(est.best_loss_, loss)
        est._no_improvement_count = est._no_improvement_count + 1 if worse else 0
        if est._no_improvement_count > est.n_iter_no_change and not self.incremental:
            what = "Validation score" if self.validation is not None else "Training loss"
            if est.verbose:
                print(
                    f"{what} did not improve more than tol={est.tol:f} for "
                    f"{est.n_iter_no_change} consecutive epochs. Stopping."
                )
            self.stopped = True
            self.trainer.stop_training = True


class _BaseMLP(BaseEstimator):
    """What MLPClassifier and MLPRegressor share: parameters, network, training loop."""

    _loss: str = ""

    def __init__(
        self,
        hidden_layer_sizes: Any = (100,),
        activation: str = "relu",
        *,
        optimizer: str = "adam",
        learning_rate: float = 1e-3,
        batch_size: int | str = 32,
        max_iter: int = 200,
        batch_norm: bool = False,
        dropout: float = 0.0,
        weight_decay: float = 0.0,
        momentum: float = 0.9,
        early_stopping: bool = False,
        validation_fraction: float = 0.1,
        n_iter_no_change: int = 10,
        tol: float = 1e-4,
        shuffle: bool = True,
        random_state: Any = None,
        verbose: int = 0,
        warm_start: bool = False,
    ) -> None:
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.optimizer = optimizer
        self.learning_rate = learning_rate
        self.batch_size = batch_size
        self.max_iter = max_iter
        self.batch_norm = batch_norm
        self.dropout = dropout
        self.weight_decay = weight_decay
        self.momentum = momentum
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.tol = tol
        self.shuffle = shuffle
        self.random_state = random_state
        self.verbose = verbose
        self.warm_start = warm_start

    # ------------------------------------------------------------------ validation
    def _check_params(self) -> tuple[int, ...]:
        """Validate every hyper-parameter (scikit-learn's rule: in fit, not __init__); return
        the hidden sizes as a tuple."""
        owner = type(self).__name__
        sizes = self.hidden_layer_sizes
        sizes = [sizes] if _is_int(sizes) else sizes
        try:
            sizes = tuple(sizes)
        except TypeError:
            sizes = None
        if sizes is None or not all(_is_int(s) and s >= 1 for s in sizes):
            raise _invalid(
                owner, "hidden_layer_sizes",
                "an int >= 1 or a sequence of them, e.g. (100,) or (64, 32)",
                self.hidden_layer_sizes,
            )  # fmt: skip
        sizes = tuple(int(s) for s in sizes)  # NumPy integers become plain ints
        if not isinstance(self.activation, str) or self.activation not in _ACTIVATIONS:
            choices = ", ".join(repr(a) for a in sorted(_ACTIVATIONS))
            raise _invalid(owner, "activation", f"a str among {{{choices}}}", self.activation)
        if not isinstance(self.optimizer, str) or self.optimizer.lower() not in _OPTIMIZERS:
            choices = ", ".join(repr(o) for o in sorted(_OPTIMIZERS))
            raise _invalid(owner, "optimizer", f"a str among {{{choices}}}", self.optimizer)
        lr = self.learning_rate
        if isinstance(lr, str):
            raise ValueError(
                f"The 'learning_rate' parameter of {owner} is the (constant) step size, a float "
                f"in the range (0.0, inf), e.g. 1e-3. Got {lr!r} instead: learning-rate "
                "schedules are not supported; scikit-learn's learning_rate_init is this "
                "parameter."
            )
        if not (_is_real(lr) and 0 < lr < math.inf):
            raise _invalid(owner, "learning_rate", "a float in the range (0.0, inf)", lr)
        bs = self.batch_size
        if not (bs == "auto" if isinstance(bs, str) else _is_int(bs) and bs >= 1):
            raise _invalid(owner, "batch_size", "an int in the range [1, inf) or 'auto'", bs)
        if not (_is_int(self.max_iter) and self.max_iter >= 1):
            raise _invalid(owner, "max_iter", "an int in the range [1, inf)", self.max_iter)
        for name in ("batch_norm", "early_stopping", "shuffle", "warm_start"):
            if not _is_bool(getattr(self, name)):
                raise _invalid(owner, name, "an instance of 'bool'", getattr(self, name))
        if not (_is_real(self.dropout) and 0 <= self.dropout < 1):
            raise _invalid(owner, "dropout", "a float in the range [0.0, 1.0)", self.dropout)
        if not (_is_real(self.weight_decay) and 0 <= self.weight_decay < math.inf):
            raise _invalid(
                owner, "weight_decay", "a float in the range [0.0, inf)", self.weight_decay
            )
        if not (_is_real(self.momentum) and 0 <= self.momentum < 1):
            raise _invalid(owner, "momentum", "a float in the range [0.0, 1.0)", self.momentum)
        vf = self.validation_fraction
        if not (_is_real(vf) and 0 < vf < 1):
            raise _invalid(owner, "validation_fraction", "a float in the range (0.0, 1.0)", vf)
        nic = self.n_iter_no_change
        if not ((_is_int(nic) and nic >= 1) or (_is_real(nic) and nic == math.inf)):
            raise _invalid(owner, "n_iter_no_change", "an int in the range [1, inf) or inf", nic)
        if not (_is_real(self.tol) and 0 <= self.tol < math.inf):
            raise _invalid(owner, "tol", "a float in the range [0.0, inf)", self.tol)
        if not (_is_int(self.verbose) or _is_bool(self.verbose)) or self.verbose < 0:
            raise _invalid(owner, "verbose", "an int >= 0 or a bool", self.verbose)
        return sizes

    # ------------------------------------------------------------------ network
    def _new_rng(self) -> np.random.Generator:
        """A numpy Generator from random_state (int, None, RandomState or Generator)."""
        if isinstance(self.random_state, np.random.Generator):
            return self.random_state
        if self.random_state is None or _is_int(self.random_state):
            return np.random.default_rng(self.random_state)
        seed = check_random_state(self.random_state).randint(np.iinfo(np.int32).max)
        return np.random.default_rng(seed)

    def _build(self, n_features: int, n_outputs: int, sizes: tuple[int, ...]) -> None:
        """Create model_ (Linear [-> BatchNorm1d] -> activation [-> Dropout] per hidden layer,
        then a Linear output layer) and the optimizer."""
        rng = self._rng
        dtype = backend.get_default_dtype()
        layers: list[nn.Module] = []
        fan_in = n_features
        for width in sizes:
            layers.append(nn.Linear(fan_in, width, init="glorot_uniform", rng=rng, dtype=dtype))
            if self.batch_norm:
                layers.append(nn.BatchNorm1d(width, dtype=dtype))
            layers.append(nn.get_activation(_ACTIVATIONS[self.activation]))
            if self.dropout > 0:
                layers.append(nn.Dropout(self.dropout, rng=rng))
            fan_in = width
        layers.append(nn.Linear(fan_in, n_outputs, init="glorot_uniform", rng=rng, dtype=dtype))
        self.model_ = nn.Sequential(*layers)
        self._new_optimizer()

    def _new_optimizer(self) -> None:
        name = self.optimizer.lower()
        kwargs: dict[str, Any] = {"lr": float(self.learning_rate)}
        if name == "sgd":
            kwargs["momentum"] = float(self.momentum)
        params: Any = list(self.model_.parameters())
        if self.weight_decay > 0:  # decay Linear weights only, as scikit-learn's alpha does
            weights = [m.weight for m in self.model_ if isinstance(m, nn.Linear)]
            ids = {id(w) for w in weights}
            others = [p for p in params if id(p) not in ids]
            params = [{"params": weights, "weight_decay": float(self.weight_decay)}]
            if others:
                params.append({"params": others, "weight_decay": 0.0})
        self._optimizer = _optim.get(name, params, **kwargs)

    def _model_dtype(self) -> np.dtype:
        return next(iter(self.model_.parameters())).dtype

    # ------------------------------------------------------------------ training
    def _fit(self, X: Any, y: Any, incremental: bool, classes: Any = None) -> _BaseMLP:
        sizes = self._check_params()
        fitted = hasattr(self, "model_")
        first_pass = not fitted or (not self.warm_start and not incremental)
        X, y = _sk_validate_data(
            self, X, y, reset=first_pass,
            dtype=backend.get_default_dtype() if first_pass else self._model_dtype(),
            multi_output=self._loss == "mse", y_numeric=self._loss == "mse",
        )  # fmt: skip
        target = self._encode_y(y, first_pass, incremental, classes)
        if first_pass:
            self._rng = self._new_rng()
            self._build(X.shape[1], self._n_model_outputs(), sizes)
            self.loss_curve_: list[float] = []
            self.n_iter_ = 0
            self.t_ = 0
            self._no_improvement_count = 0
            self.best_loss_: float | None = math.inf
        elif not incremental:
            self._new_optimizer()  # warm start: keep the weights, restart the optimizer
        early_stopping = self.early_stopping and not incremental
        validation = None
        if early_stopping:
            stratify = target if self._loss == "cross_entropy" else None
            try:
                X, X_val, target, y_val = train_test_split(
                    X, target, test_size=self.validation_fraction, stratify=stratify,
                    random_state=int(self._rng.integers(np.iinfo(np.int32).max)),
                )  # fmt: skip
            except ValueError as err:
                raise ValueError(
                    f"{type(self).__name__}: early_stopping could not hold out "
                    f"validation_fraction={self.validation_fraction} of {len(X)} samples "
                    f"({err}). Use more samples, a larger validation_fraction, or "
                    "early_stopping=False."
                ) from err
            if len(X_val) < 2:
                raise ValueError(
                    f"{type(self).__name__}: early_stopping holds out only {len(X_val)} "
                    f"validation sample of {len(X) + len(X_val)} (validation_fraction="
                    f"{self.validation_fraction}); it needs at least 2. Increase "
                    "validation_fraction or the data set, or pass early_stopping=False."
                )
            validation = (X_val, y_val)
            self.validation_scores_: list[float] | None = []
            self.best_validation_score_ = -math.inf
            self.best_loss_ = None
        elif first_pass:
            self.validation_scores_ = None
            self.best_validation_score_ = None
        if self.best_loss_ is None and not early_stopping:
            self.best_loss_ = math.inf
        if first_pass or not incremental:
            self._no_improvement_count = 0

        n = len(X)
        batch_size = min(200, n) if self.batch_size == "auto" else min(int(self.batch_size), n)
        if self.batch_norm:
            if n < 2:
                raise ValueError(
                    f"{type(self).__name__}: batch_norm=True needs at least 2 training samples "
                    f"to compute batch statistics; got n_samples={n}. Pass more samples or "
                    "batch_norm=False."
                )
            while n % batch_size == 1:  # a last batch of one sample has no variance
                batch_size += 1
        monitor = _SklearnStopping(self, n, validation, incremental)
        _sn_fit(
            self.model_, X, target, loss=self._loss, optimizer=self._optimizer,
            epochs=1 if incremental else int(self.max_iter), batch_size=batch_size,
            shuffle=self.shuffle, seed=self._rng, callbacks=[monitor], verbose=0,
        )  # fmt: skip
        if monitor.best_state is not None:  # early stopping keeps the best epoch's weights
            self.model_.load_state_dict(monitor.best_state)
        if not incremental and not monitor.stopped:
            warnings.warn(
                f"Stochastic Optimizer: Maximum iterations ({self.max_iter}) reached and the "
                "optimization hasn't converged yet. Increase max_iter, raise learning_rate, or "
                "standardize the inputs (e.g. StandardScaler in a Pipeline).",
                ConvergenceWarning,
                stacklevel=3,
            )
        return self

    def _raw_predict(self, X: Any) -> np.ndarray:
        """The network's outputs for X, validated against the fitted features.

        Rows go through the network in blocks of exactly ``_PREDICT_BLOCK`` (the last one
        padded with zeros): BLAS takes another path for a matmul of 1 row than of many, which
        rounds differently in float32, and a sample's prediction must not depend on how many
        others are predicted with it (scikit-learn's subset-invariance check)."""
        check_is_fitted(self, "model_")
        X = _sk_validate_data(self, X, reset=False, dtype=self._model_dtype())
        n, block = len(X), _PREDICT_BLOCK
        if n % block:
            padded = np.zeros((n + block - n % block, X.shape[1]), dtype=X.dtype)
            padded[:n] = X
            X = padded
        return _sn_predict(self.model_, X, batch_size=block)[:n]

    # The optimizer keys its per-parameter state (Adam moments, momentum) by id(parameter),
    # which a pickle round trip changes: pickle its position-keyed state_dict instead and
    # rebuild it on load, so that partial_fit resumes exactly after pickle, copy or joblib.
    def __getstate__(self) -> dict[str, Any]:
        state = dict(super().__getstate__())
        if "_optimizer" in state:
            state["_optimizer"] = state["_optimizer"].state_dict()
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        optimizer_state = state.pop("_optimizer", None)
        super().__setstate__(state)
        if optimizer_state is not None:
            self._new_optimizer()
            self._optimizer.load_state_dict(optimizer_state)

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = False
        tags.input_tags.sparse = False
        return tags
