"""The two estimators: MLPClassifier (cross-entropy on logits) and MLPRegressor (MSE)."""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.special
from sklearn.base import ClassifierMixin, RegressorMixin
from sklearn.metrics import accuracy_score, r2_score
from sklearn.utils.multiclass import check_classification_targets, unique_labels
from sklearn.utils.validation import column_or_1d

from .. import backend
from ..train.trainer import predict as _sn_predict
from ._base import _BaseMLP


class MLPClassifier(ClassifierMixin, _BaseMLP):
    """A multi-layer perceptron classifier trained with cross-entropy on logits.

    The network ends in one logit per class (two for a binary problem); ``predict_proba`` is
    their softmax. Labels may be of any type (ints, strings, ...): they are encoded to
    ``0..C-1`` in the sorted order of ``classes_``, as ``LabelEncoder`` does.

    Parameters
    ----------
    hidden_layer_sizes : int or sequence of int, default=(100,)
        Neurons of each hidden layer; ``()`` gives a linear (softmax-regression) model.
    activation : str, default="relu"
        Hidden activation: ``"relu"``, ``"tanh"``, ``"logistic"`` (= ``"sigmoid"``),
        ``"identity"``, ``"leaky_relu"``, ``"elu"``, ``"gelu"``, ``"softplus"``.
    optimizer : str, default="adam"
        ``"adam"``, ``"sgd"``, ``"rmsprop"``, ``"adagrad"`` or ``"adamw"`` (scikit-learn's
        ``solver``).
    learning_rate : float, default=1e-3
        Constant step size (scikit-learn's ``learning_rate_init``).
    batch_size : int or "auto", default=32
        Samples per update; ``"auto"`` = ``min(200, n_samples)``, scikit-learn's default.
        Larger than the data set means full batches.
    max_iter : int, default=200
        Maximum number of epochs (passes over the training data).
    batch_norm : bool, default=False
        BatchNorm1d after each hidden Linear layer, before the activation.
    dropout : float, default=0.0
        Dropout probability after each hidden activation (0 = no Dropout layer).
    weight_decay : float, default=0.0
        L2 penalty on the Linear weights (not biases): ``grad += weight_decay * W``.
        scikit-learn's ``alpha`` corresponds to ``weight_decay = alpha / batch_size``.
    momentum : float, default=0.9
        Momentum of ``optimizer="sgd"`` (plain, not Nesterov); ignored by the others.
    early_stopping : bool, default=False
        Hold out ``validation_fraction`` of the data (stratified), stop when its accuracy has
        not improved by ``tol`` for ``n_iter_no_change`` epochs, and keep the best epoch's
        weights.
    validation_fraction : float, default=0.1
        Held-out fraction for early stopping.
    n_iter_no_change : int, default=10
        Epochs without an improvement of ``tol`` before stopping.
    tol : float, default=1e-4
        Least improvement of the training loss (or of the validation score) that counts.
    shuffle : bool, default=True
        Reshuffle the samples every epoch.
    random_state : int, RandomState, Generator or None, default=None
        Seeds one ``numpy.random.Generator`` used for the weights, dropout masks, shuffling and
        the early-stopping split: the same integer gives the same model.
    verbose : int, default=0
        Print the loss of every epoch (scikit-learn's format).
    warm_start : bool, default=False
        ``fit`` continues from the previous weights (with a new optimizer) instead of starting
        over.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        The class labels.
    n_features_in_ : int
        Number of features seen during fit (and ``feature_names_in_`` for data frames).
    model_ : sinapsi.nn.Sequential
        The trained network (it outputs logits).
    loss_ : float
        Training loss of the last epoch.
    loss_curve_ : list of float
        Training loss of every epoch (cross-entropy, without the weight-decay term).
    best_loss_ : float or None
        Least training loss; None with early stopping (see ``best_validation_score_``).
    validation_scores_ : list of float or None
        Validation accuracy of every epoch with early stopping, else None.
    best_validation_score_ : float or None
        Best validation accuracy with early stopping, else None.
    n_iter_ : int
        Epochs run (accumulating over warm starts and partial_fit calls).
    t_ : int
        Training samples seen.

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
    >>> clf[-1].n_iter_ < clf[-1].max_iter  # stopped when the validation accuracy stalled
    True
    >>> clf[-1].predict_proba(X[:2]).shape
    (2, 2)
    """

    _loss = "cross_entropy"

    def fit(self, X: Any, y: Any) -> MLPClassifier:
        """Train on X of shape (n_samples, n_features) and labels y of shape (n_samples,)."""
        return self._fit(X, y, incremental=False)

    def partial_fit(self, X: Any, y: Any, classes: Any = None) -> MLPClassifier:
        """One epoch over (X, y), keeping the network and optimizer across calls.

        ``classes`` (all labels that will ever appear) is required on the first call, as in
        scikit-learn; later calls may omit it.
        """
        return self._fit(X, y, incremental=True, classes=classes)

    def _n_model_outputs(self) -> int:
        return len(self.classes_)

    def _encode_y(self, y: Any, first_pass: bool, incremental: bool, classes: Any) -> np.ndarray:
        owner = type(self).__name__
        y = column_or_1d(y, warn=True)
        check_classification_targets(y)
        if incremental:
            if classes is None and first_pass:
                raise ValueError(
                    f"{owner}.partial_fit needs classes= on its first call: every label that "
                    "any call will see, e.g. partial_fit(X, y, classes=np.unique(y_all))."
                )
            if classes is not None:
                classes = unique_labels(classes)
                if not first_pass and not np.array_equal(classes, self.classes_):
                    raise ValueError(
                        f"{owner}.partial_fit: classes={classes!r} differs from the first "
                        f"call's {self.classes_!r}. Pass the same classes, or call fit to "
                        "start over."
                    )
                new_classes = classes
            else:
                new_classes = self.classes_
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
        index = np.searchsorted(new_classes, y)
        index = np.clip(index, 0, len(new_classes) - 1)
        unknown = new_classes[index] != y
        if unknown.any():
            raise ValueError(
                f"{owner}: y holds labels that are not among classes_ {new_classes!r}: "
                f"{np.unique(y[unknown])!r}. Pass every label in classes= on the first "
                "partial_fit call."
            )
        self.classes_ = new_classes
        return index.astype(np.int64)

    def _score_model(self, X: np.ndarray, y: np.ndarray) -> float:
        return float(accuracy_score(y, _sn_predict(self.model_, X).argmax(axis=1)))

    def predict_proba(self, X: Any) -> np.ndarray:
        """Class probabilities of shape (n_samples, n_classes), columns in ``classes_`` order
        (softmax of the logits, computed in float64)."""
        logits = self._raw_predict(X).astype(np.float64)
        return scipy.special.softmax(logits, axis=1)

    def predict_log_proba(self, X: Any) -> np.ndarray:
        """Log of :meth:`predict_proba` (log-softmax of the logits)."""
        logits = self._raw_predict(X).astype(np.float64)
        return scipy.special.log_softmax(logits, axis=1)

    def predict(self, X: Any) -> np.ndarray:
        """Predicted labels of shape (n_samples,), taken from ``classes_``."""
        logits = self._raw_predict(X)  # checks that the model is fitted, first
        return self.classes_[logits.argmax(axis=1)]


class MLPRegressor(RegressorMixin, _BaseMLP):
    """A multi-layer perceptron regressor trained with mean squared error.

    ``y`` may be 1-D (one target) or 2-D (``n_outputs_`` targets); ``predict`` returns the same
    shape as the ``y`` it was fitted on, in float64. The parameters are those of
    :class:`MLPClassifier` (early stopping scores the validation set with R^2).

    Attributes
    ----------
    n_outputs_ : int
        Number of targets.
    n_features_in_, model_, loss_, loss_curve_, best_loss_, validation_scores_,
    best_validation_score_, n_iter_, t_ : see :class:`MLPClassifier` (losses are MSE).

    Examples
    --------
    >>> import numpy as np
    >>> X = np.linspace(-1, 1, 200).reshape(-1, 1)
    >>> reg = MLPRegressor((32,), activation="tanh", learning_rate=0.01, max_iter=300,
    ...                    random_state=0).fit(X, X.ravel() ** 2)
    >>> reg.score(X, X.ravel() ** 2) > 0.9
    True
    """

    _loss = "mse"

    def fit(self, X: Any, y: Any) -> MLPRegressor:
        """Train on X of shape (n_samples, n_features) and y of shape (n_samples,) or
        (n_samples, n_outputs)."""
        return self._fit(X, y, incremental=False)

    def partial_fit(self, X: Any, y: Any) -> MLPRegressor:
        """One epoch over (X, y), keeping the network and optimizer across calls."""
        return self._fit(X, y, incremental=True)

    def _n_model_outputs(self) -> int:
        return self.n_outputs_

    def _encode_y(self, y: Any, first_pass: bool, incremental: bool, classes: Any) -> np.ndarray:
        y = np.asarray(y)
        y2 = y.reshape(len(y), -1)
        if first_pass:
            self.n_outputs_ = y2.shape[1]
            self._y_1d = y.ndim == 1
        elif y2.shape[1] != self.n_outputs_:
            raise ValueError(
                f"{type(self).__name__}: y has {y2.shape[1]} targets but the network was "
                f"fitted on {self.n_outputs_}. Pass y with {self.n_outputs_} columns, or call "
                "fit (warm_start=False) to start over."
            )
        return y2.astype(backend.get_default_dtype() if first_pass else self._model_dtype())

    def _score_model(self, X: np.ndarray, y: np.ndarray) -> float:
        return float(r2_score(y, _sn_predict(self.model_, X)))

    def predict(self, X: Any) -> np.ndarray:
        """Predictions of shape (n_samples,) or (n_samples, n_outputs), like the fitted y."""
        out = self._raw_predict(X).astype(np.float64)
        return out.ravel() if self._y_1d else out

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags
