"""What MLPClassifier and MLPRegressor share: the network, scikit-learn's training loop
(mini-batches, L2 penalty, stopping rule, early stopping, learning-rate schedules) and its
L-BFGS solver, computed with sinapsi's autograd."""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.utils import gen_batches
from sklearn.utils import shuffle as _sk_shuffle
from sklearn.utils.validation import _check_sample_weight, check_is_fitted

try:  # scikit-learn >= 1.6
    from sklearn.utils.validation import validate_data as _sk_validate_data
except ImportError:  # pragma: no cover - older scikit-learn

    def _sk_validate_data(estimator: Any, *args: Any, **kwargs: Any) -> Any:
        return estimator._validate_data(*args, **kwargs)


from .. import backend, nn
from .. import optim as _optim
from ..tensor import Tensor
from ..train.trainer import predict as _sn_predict
from ._checks import ACTIVATIONS, check_params
from ._solvers import LearningRateSchedule, SklearnAdam, SklearnSGD, minimize_lbfgs

_PREDICT_BLOCK = 64  # rows per forward pass at inference; see _BaseMLP._raw_predict


class _BaseMLP(BaseEstimator):
    """What MLPClassifier and MLPRegressor share. Subclasses define ``__init__`` with the full
    list of parameters (scikit-learn reads it for get_params) and store them with ``_store``."""

    _regression = False

    def _store(self, params: dict[str, Any]) -> None:
        for name, value in params.items():
            if name not in ("self", "__class__"):
                setattr(self, name, value)

    # ------------------------------------------------------------------ solver
    def _stochastic(self) -> bool:
        return self.optimizer is not None or self.solver != "lbfgs"

    def _check_solver(self) -> bool:
        """For ``available_if``: partial_fit exists for the stochastic solvers only."""
        if not self._stochastic():
            raise AttributeError(
                f"partial_fit is only available for stochastic optimizers. {self.solver} is "
                "not stochastic."
            )
        return True

    def _new_random_state(self) -> np.random.RandomState:
        """scikit-learn's check_random_state, read afresh by every fit (so an int seed gives
        scikit-learn's very draws: initial weights, shuffles, validation split), except that
        None seeds a new generator from fresh entropy instead of using NumPy's global one."""
        rs = self.random_state
        if isinstance(rs, np.random.RandomState):
            return rs
        if isinstance(rs, np.random.Generator):
            return np.random.RandomState(int(rs.integers(2**32)))
        if rs is None:
            return np.random.RandomState(int(np.random.default_rng().integers(2**32)))
        return np.random.RandomState(int(rs))

    # ------------------------------------------------------------------ network
    def _build(self, n_features: int, n_outputs: int, sizes: tuple[int, ...]) -> None:
        """model_: Linear [-> BatchNorm1d] -> activation [-> Dropout] per hidden layer, then a
        Linear output layer (the output activation lives in the loss). ``init=None`` draws
        scikit-learn's Glorot-uniform weights and biases from the same random state, in its
        order; a sinapsi init name uses sinapsi's scheme (zero biases)."""
        rs, dtype = self._random_state, backend.get_default_dtype()
        units = [n_features, *sizes, n_outputs]
        linears = []
        for fan_in, fan_out in zip(units[:-1], units[1:]):
            if self.init is None:
                layer = nn.Linear(fan_in, fan_out, rng=0, dtype=dtype)
                factor = 2.0 if ACTIVATIONS[self.activation] == "sigmoid" else 6.0
                bound = np.sqrt(factor / (fan_in + fan_out))
                layer.weight.data[...] = rs.uniform(-bound, bound, (fan_in, fan_out)).T
                layer.bias.data[...] = rs.uniform(-bound, bound, fan_out)
            else:
                seed = int(rs.randint(2**31 - 1))
                layer = nn.Linear(fan_in, fan_out, init=self.init, rng=seed, dtype=dtype)
            linears.append(layer)
        dropout_rng = np.random.default_rng(rs.randint(2**31 - 1)) if self.dropout > 0 else None
        layers: list[nn.Module] = []
        for layer in linears[:-1]:
            layers.append(layer)
            if self.batch_norm:
                layers.append(nn.BatchNorm1d(layer.out_features, dtype=dtype))
            layers.append(nn.get_activation(ACTIVATIONS[self.activation]))
            if self.dropout > 0:
                layers.append(nn.Dropout(self.dropout, rng=dropout_rng))
        layers.append(linears[-1])
        self.model_ = nn.Sequential(*layers)
        self.n_layers_ = len(units)
        self.n_outputs_ = n_outputs

    def _linears(self) -> list[nn.Linear]:
        return [m for m in self.model_ if isinstance(m, nn.Linear)]

    @property
    def coefs_(self) -> list[np.ndarray]:
        """Weight matrices, (n_in, n_out) per layer as scikit-learn's: views of the Linear
        layers' (n_out, n_in) weights, so writing into them changes the network."""
        check_is_fitted(self, "model_")
        return [m.weight.data.T for m in self._linears()]

    @property
    def intercepts_(self) -> list[np.ndarray]:
        """Bias vectors, one per layer (views of the Linear biases)."""
        check_is_fitted(self, "model_")
        return [m.bias.data for m in self._linears()]

    def _new_optimizer(self) -> _optim.Optimizer:
        params = list(self.model_.parameters())
        lr = float(self.learning_rate_init)
        if self.optimizer is not None:
            name = self.optimizer.lower()
            kwargs: dict[str, Any] = {"lr": lr}
            if name == "sgd":
                nesterov = bool(self.nesterovs_momentum) and self.momentum > 0
                kwargs.update(momentum=float(self.momentum), nesterov=nesterov)
            elif name in ("adam", "adamw"):
                kwargs.update(betas=(self.beta_1, self.beta_2), eps=float(self.epsilon))
            return _optim.get(name, params, **kwargs)
        if self.solver == "sgd":
            return SklearnSGD(params, lr, float(self.momentum), bool(self.nesterovs_momentum))
        return SklearnAdam(params, lr, (self.beta_1, self.beta_2), float(self.epsilon))

    def _model_dtype(self) -> np.dtype:
        return next(iter(self.model_.parameters())).dtype

    # ------------------------------------------------------------------ loss
    def _loss_and_backward(self, X: np.ndarray, target: np.ndarray, sw: Any = None) -> float:
        """Forward and backward over one batch; return scikit-learn's loss for it: the data
        loss (averaged with the sample weights ``sw``, if any) plus ``0.5 * alpha * ||W||^2 / n``
        over the Linear weights (n: the batch's weight), whose gradient ``alpha * W / n`` is
        added to the weights' gradients here."""
        for p in self.model_.parameters():
            p.grad = None
        out = self.model_(Tensor(X, dtype=self._model_dtype()))
        n = len(X) if sw is None else float(sw.sum())
        per_sample, reported = self._data_loss(out, target)
        if sw is None:
            loss = per_sample.mean()
            reported = float(reported.mean())
        else:
            loss = (per_sample * sw.astype(out.dtype)).sum() * (1.0 / n)
            reported = float(np.dot(reported, sw)) / n
        loss.backward()
        penalty = 0.0
        if self.alpha > 0:
            for layer in self._linears():
                w = layer.weight
                penalty += float(np.dot(w.data.ravel(), w.data.ravel()))
                w.grad = w.grad + (self.alpha / n) * w.data
        return reported + 0.5 * self.alpha * penalty / n

    def _data_loss(self, out: Tensor, target: np.ndarray) -> tuple[Tensor, np.ndarray]:
        """Per sample of one batch: (the loss to differentiate, of shape (n,), and
        scikit-learn's reported value of it, a float64 array)."""
        raise NotImplementedError

    # ------------------------------------------------------------------ fit
    def _fit(
        self, X: Any, y: Any, incremental: bool, classes: Any = None, sample_weight: Any = None
    ) -> _BaseMLP:
        sizes = check_params(self)
        first_pass = not hasattr(self, "model_") or (not self.warm_start and not incremental)
        X, y = _sk_validate_data(
            self, X, y, reset=first_pass,
            dtype=backend.get_default_dtype() if first_pass else self._model_dtype(),
            multi_output=True, y_numeric=self._regression,
        )  # fmt: skip
        if self.batch_norm and len(X) < 2:
            raise ValueError(
                f"{type(self).__name__}: batch_norm=True needs at least 2 training samples to "
                f"compute batch statistics; got n_samples={len(X)}. Pass more samples or "
                "batch_norm=False."
            )
        target = self._encode_y(y, first_pass, incremental, classes)
        sw = None
        if sample_weight is not None:
            sw = _check_sample_weight(sample_weight, X, dtype=np.float64)
        self._random_state = self._new_random_state()
        if first_pass:
            self._build(X.shape[1], self._n_model_outputs(), sizes)
            self.n_iter_ = 0
            self.t_ = 0
            if self._stochastic():
                self.loss_curve_: list[float] = []
                self._no_improvement_count = 0
                if self.early_stopping:
                    self.validation_scores_: list[float] | None = []
                    self.best_validation_score_: float | None = -math.inf
                    self.best_loss_: float | None = None
                else:
                    self.best_loss_ = math.inf
                    self.validation_scores_ = None
                    self.best_validation_score_ = None
        self.model_.train()
        message = (
            "Solver produced non-finite parameter weights. The input data may contain large "
            "values and need to be preprocessed (e.g. StandardScaler), or lower "
            "learning_rate_init."
        )
        try:
            if self._stochastic():
                self._fit_stochastic(X, target, sw, incremental)
            else:
                self._fit_lbfgs(X, target, sw)
        except _optim.NonFiniteGradientError as err:  # a sinapsi optimizer stops at NaN
            raise ValueError(message) from err
        if not all(np.isfinite(p.data).all() for p in self.model_.parameters()):
            raise ValueError(message)
        return self

    def _fit_lbfgs(self, X: np.ndarray, target: np.ndarray, sw: Any) -> None:
        params = list(self.model_.parameters())
        self.n_iter_, self.loss_ = minimize_lbfgs(
            params, lambda: self._loss_and_backward(X, target, sw),
            self.max_iter, self.max_fun, self.tol, bool(self.verbose),
        )  # fmt: skip

    def _fit_stochastic(
        self, X: np.ndarray, target: np.ndarray, sw: Any, incremental: bool
    ) -> None:
        owner, rs = type(self).__name__, self._random_state
        if not incremental or not hasattr(self, "_optimizer"):
            self._optimizer = self._new_optimizer()
            sgd = self.optimizer is None and self.solver == "sgd"  # schedules are sgd's only
            kind = self.learning_rate if sgd else "constant"
            self._schedule = LearningRateSchedule(kind, self.learning_rate_init, self.power_t)
        early_stopping = self.early_stopping
        if early_stopping and incremental:
            raise ValueError(f"{owner}.partial_fit does not support early_stopping=True.")
        validation = None
        if early_stopping:
            # as scikit-learn: stratified for a binary classifier only (its one output unit)
            stratify = target if not self._regression and self.n_outputs_ == 1 else None
            arrays = (X, target) if sw is None else (X, target, sw)
            split = train_test_split(
                *arrays, random_state=rs, test_size=self.validation_fraction, stratify=stratify
            )
            X, X_val, target, y_val = split[:4]
            sw, sw_val = (split[4], split[5]) if sw is not None else (None, None)
            if X_val.shape[0] < 2:
                raise ValueError(
                    f"{owner}: the validation set is too small ({X_val.shape[0]} sample). "
                    "Increase 'validation_fraction' or the size of your dataset."
                )
            validation = (X_val, y_val, sw_val)
        n = X.shape[0]
        if self.batch_size == "auto":
            batch_size = min(200, n)
        else:
            if self.batch_size > n:
                warnings.warn(
                    "Got `batch_size` less than 1 or larger than sample size. It is going to "
                    "be clipped",
                    stacklevel=4,
                )
            batch_size = int(np.clip(self.batch_size, 1, n))
        if self.batch_norm and n > 1:
            while n % batch_size == 1:  # a last batch of one sample has no variance
                batch_size += 1
        optimizer, schedule = self._optimizer, self._schedule
        sample_idx = np.arange(n)
        self._best_state = None
        self.n_iter_ = 0
        for _ in range(int(self.max_iter)):
            if self.shuffle:
                sample_idx = _sk_shuffle(sample_idx, random_state=rs)
            accumulated = 0.0
            for batch in gen_batches(n, batch_size):
                idx = sample_idx[batch]
                sw_batch = None if sw is None else sw[idx]
                accumulated += self._loss_and_backward(X[idx], target[idx], sw_batch) * len(idx)
                optimizer.step()
            self.n_iter_ += 1
            self.loss_ = accumulated / n
            self.t_ += n
            self.loss_curve_.append(self.loss_)
            if self.verbose:
                print(f"Iteration {self.n_iter_}, loss = {self.loss_:.8f}")
            self._update_no_improvement_count(validation)
            schedule.epoch_ends(optimizer, self.t_)
            if self._no_improvement_count > self.n_iter_no_change:
                what = "Validation score" if early_stopping else "Training loss"
                message = (
                    f"{what} did not improve more than tol={self.tol:f} for "
                    f"{self.n_iter_no_change} consecutive epochs."
                )
                if schedule.should_stop(optimizer, message, self.verbose):
                    break
                self._no_improvement_count = 0
            if incremental:
                break
            if self.n_iter_ == self.max_iter:
                warnings.warn(
                    f"Stochastic Optimizer: Maximum iterations ({self.max_iter}) reached and "
                    "the optimization hasn't converged yet.",
                    ConvergenceWarning,
                    stacklevel=4,
                )
        if self._best_state is not None:  # early stopping keeps the best epoch's weights
            self.model_.load_state_dict(self._best_state)
        del self._best_state

    def _update_no_improvement_count(self, validation: Any) -> None:
        """scikit-learn's bookkeeping after an epoch: the validation score (with early
        stopping) or the training loss, against the best so far, by tol."""
        if validation is not None:
            score = self._score_model(*validation)
            self.validation_scores_.append(score)
            if self.verbose:
                print(f"Validation score: {score:f}")
            worse = score < self.best_validation_score_ + self.tol
            if score > self.best_validation_score_:
                self.best_validation_score_ = score
                self._best_state = self.model_.state_dict()
        else:
            worse = self.loss_curve_[-1] > self.best_loss_ - self.tol
            self.best_loss_ = min(self.best_loss_, self.loss_curve_[-1])
        self._no_improvement_count = self._no_improvement_count + 1 if worse else 0

    # ------------------------------------------------------------------ prediction
    def _raw_predict(self, X: Any) -> np.ndarray:
        """The network's outputs for X, validated against the fitted features.

        Rows go through the network in blocks of exactly ``_PREDICT_BLOCK`` (the last one
        padded with zeros): BLAS takes another path for a matmul of 1 row than of many, which
        rounds differently in float32, and a sample's prediction must not depend on how many
        others are predicted with it (scikit-learn's subset-invariance check)."""
        check_is_fitted(self, "model_")
        X = _sk_validate_data(self, X, reset=False, dtype=self._model_dtype())
        return self._forward(X)

    def _forward(self, X: np.ndarray) -> np.ndarray:
        n, block = len(X), _PREDICT_BLOCK
        if n % block:
            padded = np.zeros((n + block - n % block, X.shape[1]), dtype=X.dtype)
            padded[:n] = X
            X = padded
        return _sn_predict(self.model_, X, batch_size=block)[:n]

    # The optimizer keys its per-parameter state (Adam moments, velocities) by id(parameter),
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
            self._optimizer = self._new_optimizer()
            self._optimizer.load_state_dict(optimizer_state)

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = False
        tags.input_tags.sparse = False
        return tags

