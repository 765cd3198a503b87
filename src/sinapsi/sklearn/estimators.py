"""The two estimators: MLPClassifier (softmax or logistic output, log-loss) and MLPRegressor
(identity output with half squared error, or exp output with half Poisson deviance)."""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.special
from sklearn.base import ClassifierMixin, RegressorMixin
from sklearn.metrics import accuracy_score, r2_score
from sklearn.utils.metaestimators import available_if
from sklearn.utils.multiclass import check_classification_targets, type_of_target, unique_labels
from sklearn.utils.validation import column_or_1d

from .. import backend, nn
from ..tensor import Tensor
from ._base import _BaseMLP

_PARAMETERS = """
    Parameters
    ----------
    hidden_layer_sizes : int or sequence of int, default=(100,)
        Neurons of each hidden layer; ``()`` gives a linear model.
    activation : str, default="relu"
        scikit-learn's ``"identity"``, ``"logistic"``, ``"tanh"``, ``"relu"``, or sinapsi's
        ``"sigmoid"`` (= logistic), ``"leaky_relu"``, ``"elu"``, ``"gelu"``, ``"softplus"``.
    solver : {"lbfgs", "sgd", "adam"}, default="adam"
        scikit-learn's solvers, step for step: "sgd" with scikit-learn's (Nesterov) momentum,
        "adam" with its bias correction, "lbfgs" through ``scipy.optimize.minimize``
        (L-BFGS-B) over the flattened parameters, gradients from sinapsi's autograd.
    alpha : float, default=1e-4
        L2 penalty ``0.5 * alpha * ||W||^2 / n_batch`` on the weights (not the biases); it is
        part of the loss, hence of ``loss_`` and ``loss_curve_``, as in scikit-learn.
    batch_size : int or "auto", default="auto"
        Samples per update; "auto" = ``min(200, n_samples)``. Not used by "lbfgs".
    learning_rate : {"constant", "invscaling", "adaptive"}, default="constant"
        Schedule of solver="sgd": "invscaling" uses ``learning_rate_init / (t_ + 1) **
        power_t`` after each epoch (``t_`` = samples seen); "adaptive" divides the rate by 5
        each time two epochs in a row fail to improve by ``tol`` (the validation score with
        early stopping) and stops once it is below 1e-6.
    learning_rate_init : float, default=1e-3
        Initial step size of "sgd" and "adam" (and of ``optimizer``).
    power_t : float, default=0.5
        Exponent of "invscaling".
    max_iter : int, default=200
        Epochs of "sgd"/"adam"; iterations of "lbfgs".
    shuffle : bool, default=True
        Reshuffle the samples every epoch.
    random_state : int, RandomState, Generator or None, default=None
        The initial weights, shuffles and early-stopping split are drawn from
        ``RandomState(random_state)`` in scikit-learn's order, so an int gives scikit-learn's
        very initial weights; None draws a fresh seed (never NumPy's global state).
    tol : float, default=1e-4
        Least improvement of the loss (or validation score) that counts; "lbfgs"'s ``gtol``.
    verbose : bool or int, default=False
        Print the loss of every epoch (scikit-learn's format).
    warm_start : bool, default=False
        ``fit`` continues from the previous weights (with a new optimizer).
    momentum : float, default=0.9
        Momentum of "sgd", in [0, 1].
    nesterovs_momentum : bool, default=True
        Nesterov's momentum for "sgd" (scikit-learn's update, see ``_solvers.SklearnSGD``).
    early_stopping : bool, default=False
        Hold out ``validation_fraction`` of the data (stratified only for two classes, as
        scikit-learn does), stop when its score has not improved by ``tol`` for
        ``n_iter_no_change`` epochs, keep the best epoch's weights. Not with partial_fit.
    validation_fraction : float, default=0.1
        Held-out fraction for early stopping.
    beta_1, beta_2, epsilon : float, default=0.9, 0.999, 1e-8
        Adam's moment decays and its denominator term.
    n_iter_no_change : int, default=10
        Epochs without an improvement of ``tol`` before stopping (or, "adaptive", before the
        rate is divided by 5).
    max_fun : int, default=15000
        Most loss evaluations of "lbfgs".
    batch_norm : bool, default=False
        sinapsi extra: BatchNorm1d after each hidden Linear layer, before the activation.
    dropout : float, default=0.0
        sinapsi extra: Dropout probability after each hidden activation (not with "lbfgs").
    init : str, callable or None, default=None
        sinapsi extra: None draws scikit-learn's Glorot-uniform weights and biases; a
        :mod:`sinapsi.init` name (``"he"``, ``"xavier"``, ``"lecun"``, ...) or callable uses
        it for the weights, with zero biases.
    optimizer : str or None, default=None
        sinapsi extra: a :mod:`sinapsi.optim` name (``"sgd"``, ``"adam"``, ``"adamw"``,
        ``"rmsprop"``, ``"adagrad"``) that replaces ``solver`` (PyTorch's algorithms, step
        size ``learning_rate_init``, constant). ``momentum``/``nesterovs_momentum`` go to its
        SGD, ``beta_1``/``beta_2``/``epsilon`` to its Adam(W); the L2 ``alpha`` still applies.
"""

_ATTRIBUTES = """
    Attributes
    ----------
    loss_ : float
        The loss of the last epoch (or L-BFGS's final loss), penalty included.
    loss_curve_ : list of float
        The loss of every epoch (stochastic solvers only).
    best_loss_ : float or None
        Least training loss; None with early stopping. Stochastic solvers only.
    validation_scores_ : list of float or None
        Validation score of every epoch with early stopping, else None.
    best_validation_score_ : float or None
        Best validation score with early stopping, else None.
    coefs_, intercepts_ : list of ndarray
        Weights ``(n_in, n_out)`` and biases of each Linear layer, as scikit-learn's (views of
        the network's parameters).
    n_iter_ : int
        Epochs (or L-BFGS iterations) run by the last fit; 1 after partial_fit.
    t_ : int
        Training samples seen by the stochastic solvers, over all calls.
    n_layers_ : int
        Layers, input and output included: ``len(hidden_layer_sizes) + 2``.
    n_outputs_ : int
        Output units.
    out_activation_ : str
        The output activation.
    n_features_in_ : int
        Number of features seen during fit (and ``feature_names_in_`` for data frames).
    model_ : sinapsi.nn.Sequential
        The trained network (it outputs the values before the output activation).
"""


def _parameters(first: str = "") -> str:
    return _PARAMETERS.replace("    ----------\n", "    ----------\n" + first, 1)


class MLPClassifier(ClassifierMixin, _BaseMLP):
    """A multi-layer perceptron classifier: scikit-learn's ``MLPClassifier`` (same parameters,
    defaults, solvers and fitted attributes), computed by a sinapsi network.

    The output is a softmax over one unit per class (``out_activation_="softmax"``), or one
    logistic unit for two classes (``"logistic"``), or one logistic unit per label for a
    label-indicator ``y`` (multilabel), trained with log-loss. Labels may be of
    any type; ``classes_`` holds them sorted. The network computes in sinapsi's default dtype
    (float32 unless ``sinapsi.set_default_dtype("float64")``).
    """

    __doc__ = (__doc__ or "") + _parameters() + _ATTRIBUTES + """    classes_ : ndarray
        The class labels.

    Examples
    --------
    >>> from sklearn.datasets import load_breast_cancer
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import StandardScaler
    >>> X, y = load_breast_cancer(return_X_y=True)
    >>> clf = make_pipeline(StandardScaler(),
    ...                     MLPClassifier((32,), early_stopping=True, random_state=0))
    >>> clf.fit(X, y).score(X, y) > 0.95
    True
    >>> clf[-1].out_activation_, [w.shape for w in clf[-1].coefs_]
    ('logistic', [(30, 32), (32, 1)])
    >>> clf[-1].predict_proba(X[:2]).shape
    (2, 2)
    """

    def __init__(
        self,
        hidden_layer_sizes: Any = (100,),
        activation: str = "relu",
        *,
        solver: str = "adam",
        alpha: float = 0.0001,
        batch_size: int | str = "auto",
        learning_rate: str = "constant",
        learning_rate_init: float = 0.001,
        power_t: float = 0.5,
        max_iter: int = 200,
        shuffle: bool = True,
        random_state: Any = None,
        tol: float = 1e-4,
        verbose: bool | int = False,
        warm_start: bool = False,
        momentum: float = 0.9,
        nesterovs_momentum: bool = True,
        early_stopping: bool = False,
        validation_fraction: float = 0.1,
        beta_1: float = 0.9,
        beta_2: float = 0.999,
        epsilon: float = 1e-8,
        n_iter_no_change: int = 10,
        max_fun: int = 15000,
        batch_norm: bool = False,
        dropout: float = 0.0,
        init: Any = None,
        optimizer: str | None = None,
    ) -> None:
        self._store(locals())

    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> MLPClassifier:
        """Train on X of shape (n_samples, n_features) and labels y of shape (n_samples,);
        ``sample_weight`` weighs each sample's loss (and the penalty's denominator), as in
        scikit-learn."""
        return self._fit(X, y, incremental=False, sample_weight=sample_weight)

    @available_if(_BaseMLP._check_solver)
    def partial_fit(
        self, X: Any, y: Any, sample_weight: Any = None, classes: Any = None
    ) -> MLPClassifier:
        """One epoch over (X, y), keeping the network and optimizer across calls.

        ``classes`` (all labels that will ever appear) is required on the first call, as in
        scikit-learn; later calls may omit it. The arguments are in scikit-learn's order."""
        return self._fit(X, y, incremental=True, classes=classes, sample_weight=sample_weight)

    def _n_model_outputs(self) -> int:
        multilabel = getattr(self, "_multilabel", False)
        return 1 if len(self.classes_) == 2 and not multilabel else len(self.classes_)

    def _encode_multilabel(self, y: np.ndarray, first_pass: bool) -> np.ndarray:
        """A label-indicator matrix (multilabel): one logistic unit per label, as scikit-learn."""
        if first_pass:
            self.classes_ = np.arange(y.shape[1])
            self._multilabel = True
        elif not getattr(self, "_multilabel", False) or y.shape[1] != len(self.classes_):
            raise ValueError(
                f"{type(self).__name__}: y is a label-indicator matrix of {y.shape[1]} labels, "
                "but the network was fitted on other targets. Call fit (warm_start=False) to "
                "start over."
            )
        self.out_activation_ = "logistic"
        dtype = backend.get_default_dtype() if first_pass else self._model_dtype()
        return y.astype(dtype)

    def _encode_y(self, y: Any, first_pass: bool, incremental: bool, classes: Any) -> np.ndarray:
        owner = type(self).__name__
        y = np.asarray(y)
        if y.ndim == 2 and y.shape[1] > 1:
            if type_of_target(y) != "multilabel-indicator":
                raise ValueError(
                    f"{owner} takes y as labels of shape (n_samples,) or as a 0/1 label-"
                    f"indicator matrix (multilabel); got {type_of_target(y)!r} targets of "
                    f"shape {y.shape}. Fit one classifier per output column instead."
                )
            return self._encode_multilabel(y, first_pass)
        if first_pass:
            self._multilabel = False
        y = column_or_1d(y, warn=True)
        check_classification_targets(y)
        if incremental and first_pass:
            if classes is None:
                raise ValueError(
                    f"{owner}.partial_fit needs classes= on its first call: every label that "
                    "any call will see, e.g. partial_fit(X, y, classes=np.unique(y_all))."
                )
            new_classes = unique_labels(classes)
        elif incremental:
            new_classes = self.classes_
            if classes is not None and not np.array_equal(unique_labels(classes), new_classes):
                raise ValueError(
                    f"{owner}.partial_fit: classes={unique_labels(classes)!r} differs from the "
                    f"first call's {new_classes!r}. Pass the same classes, or call fit to "
                    "start over."
                )
        else:
            new_classes = unique_labels(y)
            if not first_pass and not np.array_equal(new_classes, self.classes_):
                raise ValueError(
                    f"{owner}: warm_start can only continue with the classes of the previous "
                    f"fit, {self.classes_!r}; y has {new_classes!r}. Set warm_start=False to "
                    "start over."
                )
        if len(new_classes) < 2:
            raise ValueError(
                f"{owner} needs samples of at least 2 classes to learn; got only one class: "
                f"{new_classes!r}. Check the labels (y)."
            )
        index = np.clip(np.searchsorted(new_classes, y), 0, len(new_classes) - 1)
        unknown = new_classes[index] != y
        if unknown.any():
            raise ValueError(
                f"{owner}: y holds labels that are not among classes_ {new_classes!r}: "
                f"{np.unique(y[unknown])!r}. Pass every label in classes= on the first "
                "partial_fit call."
            )
        self.classes_ = new_classes
        self.out_activation_ = "logistic" if len(new_classes) == 2 else "softmax"
        if len(new_classes) == 2:  # one logistic unit: a float 0/1 column
            dtype = backend.get_default_dtype() if first_pass else self._model_dtype()
            return index.astype(dtype).reshape(-1, 1)
        return index.astype(np.int64)

    def _data_loss(self, out: Tensor, target: np.ndarray) -> tuple[Tensor, np.ndarray]:
        if out.shape[1] == 1 or self._multilabel:
            loss = nn.binary_cross_entropy_with_logits(out, target, reduction="none").sum(axis=1)
        else:
            loss = nn.cross_entropy(out, target, reduction="none")
        return loss, loss.data.astype(np.float64)

    def _predict_index(self, logits: np.ndarray) -> np.ndarray:
        """Class indices (n,) from the outputs; for multilabel the 0/1 matrix (n, labels)."""
        if self._multilabel:
            return (logits > 0).astype(np.int64)
        return (logits[:, 0] > 0).astype(np.int64) if logits.shape[1] == 1 else logits.argmax(1)

    def _score_model(self, X: np.ndarray, y: np.ndarray, sw: Any = None) -> float:
        index = self._predict_index(self._forward(X))
        truth = y.astype(np.int64) if self._multilabel else y.ravel()
        return float(accuracy_score(truth, index, sample_weight=sw))

    def predict_proba(self, X: Any) -> np.ndarray:
        """Class probabilities of shape (n_samples, n_classes), columns in ``classes_`` order
        (computed in float64 from the network's outputs)."""
        return np.exp(self.predict_log_proba(X))

    def predict_log_proba(self, X: Any) -> np.ndarray:
        """Log of :meth:`predict_proba`."""
        logits = self._raw_predict(X).astype(np.float64)
        if self._multilabel:  # log sigmoid(z) per label
            return -np.logaddexp(0.0, -logits)
        if logits.shape[1] == 1:  # log sigmoid(-z), log sigmoid(z)
            return -np.logaddexp(0.0, np.hstack([logits, -logits]))
        return scipy.special.log_softmax(logits, axis=1)

    def predict(self, X: Any) -> np.ndarray:
        """Predicted labels of shape (n_samples,), taken from ``classes_`` (for multilabel y,
        the 0/1 indicator matrix)."""
        logits = self._raw_predict(X)  # checks that the model is fitted, first
        index = self._predict_index(logits)
        return index if self._multilabel else self.classes_[index]

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_label = True
        return tags


class MLPRegressor(RegressorMixin, _BaseMLP):
    """A multi-layer perceptron regressor: scikit-learn's ``MLPRegressor`` (same parameters,
    defaults, solvers and fitted attributes), computed by a sinapsi network.

    ``y`` may be 1-D or 2-D (``n_outputs_`` targets); ``predict`` returns the shape of the
    ``y`` it was fitted on, in float64. ``loss_`` is scikit-learn's: half the squared error
    averaged over samples and outputs (the gradient, as scikit-learn's, is that of the sum over
    outputs), or half the Poisson deviance, plus the L2 penalty.
    """

    __doc__ = (
        (__doc__ or "")
        + _parameters(
            '    loss : {"squared_error", "poisson"}, default="squared_error"\n'
            '        "poisson" puts an exp output (``out_activation_="exp"``) on the network\n'
            "        and needs y >= 0.\n"
        )
        + _ATTRIBUTES
        + """
    Examples
    --------
    >>> import numpy as np
    >>> X = np.linspace(-1, 1, 200).reshape(-1, 1)
    >>> reg = MLPRegressor(hidden_layer_sizes=(32,), activation="tanh", learning_rate_init=0.01,
    ...                    max_iter=300, random_state=0).fit(X, X.ravel() ** 2)
    >>> reg.score(X, X.ravel() ** 2) > 0.9
    True
    """
    )
    _regression = True

    def __init__(
        self,
        loss: str = "squared_error",
        hidden_layer_sizes: Any = (100,),
        activation: str = "relu",
        *,
        solver: str = "adam",
        alpha: float = 0.0001,
        batch_size: int | str = "auto",
        learning_rate: str = "constant",
        learning_rate_init: float = 0.001,
        power_t: float = 0.5,
        max_iter: int = 200,
        shuffle: bool = True,
        random_state: Any = None,
        tol: float = 1e-4,
        verbose: bool | int = False,
        warm_start: bool = False,
        momentum: float = 0.9,
        nesterovs_momentum: bool = True,
        early_stopping: bool = False,
        validation_fraction: float = 0.1,
        beta_1: float = 0.9,
        beta_2: float = 0.999,
        epsilon: float = 1e-8,
        n_iter_no_change: int = 10,
        max_fun: int = 15000,
        batch_norm: bool = False,
        dropout: float = 0.0,
        init: Any = None,
        optimizer: str | None = None,
    ) -> None:
        self._store(locals())

    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> MLPRegressor:
        """Train on X of shape (n_samples, n_features) and y of shape (n_samples,) or
        (n_samples, n_outputs); ``sample_weight`` weighs each sample's loss."""
        return self._fit(X, y, incremental=False, sample_weight=sample_weight)

    @available_if(_BaseMLP._check_solver)
    def partial_fit(self, X: Any, y: Any, sample_weight: Any = None) -> MLPRegressor:
        """One epoch over (X, y), keeping the network and optimizer across calls."""
        return self._fit(X, y, incremental=True, sample_weight=sample_weight)

    def _n_model_outputs(self) -> int:
        return self._n_targets

    def _encode_y(self, y: Any, first_pass: bool, incremental: bool, classes: Any) -> np.ndarray:
        y = np.asarray(y)
        y2 = y.reshape(len(y), -1)
        if first_pass:
            self._n_targets, self._y_1d = y2.shape[1], y.ndim == 1
            self.out_activation_ = "exp" if self.loss == "poisson" else "identity"
        elif y2.shape[1] != self.n_outputs_:
            raise ValueError(
                f"{type(self).__name__}: y has {y2.shape[1]} targets but the network was "
                f"fitted on {self.n_outputs_}. Pass y with {self.n_outputs_} columns, or call "
                "fit (warm_start=False) to start over."
            )
        if self.loss == "poisson" and (y2 < 0).any():
            raise ValueError(
                f"{type(self).__name__}: some value(s) of y are negative, which is not allowed "
                "for Poisson regression (loss='poisson'). Use loss='squared_error'."
            )
        return y2.astype(backend.get_default_dtype() if first_pass else self._model_dtype())

    def _data_loss(self, out: Tensor, target: np.ndarray) -> tuple[Tensor, np.ndarray]:
        if self.loss == "poisson":  # half Poisson deviance with the log link
            loss = (out.exp() - out * target).sum(axis=1)
            constant = scipy.special.xlogy(target, target) - target
            return loss, loss.data.astype(np.float64) + constant.sum(axis=1, dtype=np.float64)
        diff = out - target
        loss = (diff * diff).sum(axis=1) * 0.5
        return loss, loss.data.astype(np.float64) / target.shape[1]

    def _predict_values(self, raw: np.ndarray) -> np.ndarray:
        out = raw.astype(np.float64)
        return np.exp(out) if self.out_activation_ == "exp" else out

    def _score_model(self, X: np.ndarray, y: np.ndarray, sw: Any = None) -> float:
        return float(r2_score(y, self._predict_values(self._forward(X)), sample_weight=sw))

    def predict(self, X: Any) -> np.ndarray:
        """Predictions of shape (n_samples,) or (n_samples, n_outputs), like the fitted y."""
        out = self._predict_values(self._raw_predict(X))
        return out.ravel() if self._y_1d else out

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags
