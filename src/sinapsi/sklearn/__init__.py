"""scikit-learn estimators over sinapsi networks: :class:`MLPClassifier` and :class:`MLPRegressor`.

They follow scikit-learn's estimator contract, so they work in ``Pipeline``, ``cross_val_score``,
``GridSearchCV`` and pass ``sklearn.utils.estimator_checks.check_estimator``: constructor
arguments are stored unchanged and validated in ``fit``; what ``fit`` learns ends in ``_``
(``model_``, ``loss_curve_``, ``n_iter_``, ...). Training runs through :func:`sinapsi.fit`, the
same loop as everything else; ``model_`` is a plain :class:`sinapsi.nn.Sequential`.

Mapping to scikit-learn's own ``MLPClassifier`` / ``MLPRegressor``:

===========================  ======================  ==============================================
sinapsi                      scikit-learn            note
===========================  ======================  ==============================================
``optimizer="adam"``         ``solver="adam"``       any sinapsi optimizer name; no ``lbfgs``
``learning_rate=1e-3``       ``learning_rate_init``  constant step size (no schedules)
``max_iter=200``             ``max_iter=200``        epochs
``weight_decay=0.0``         ``alpha=1e-4``          ``weight_decay = alpha / batch_size``
``batch_size=32``            ``batch_size="auto"``   ``"auto"`` = min(200, n_samples) here too
``momentum=0.9``             ``momentum=0.9``        SGD only; plain (not Nesterov) momentum
``batch_norm``, ``dropout``  -                       BatchNorm1d / Dropout in each hidden layer
``activation="logistic"``    same                    also ``"sigmoid"``, ``"gelu"``, ``"elu"``, ...
``warm_start=True``          same                    keeps the weights, new optimizer
y: 2-D, one column           predictions ravelled    predictions keep the shape of ``y``
===========================  ======================  ==============================================

``weight_decay`` is the optimizer's L2 term (``grad += weight_decay * W``) applied to the
Linear weights only, not to biases or BatchNorm parameters -- what scikit-learn's ``alpha``
penalizes; scikit-learn divides its penalty by the batch size, hence the mapping above.
The stopping rules are scikit-learn's: stop when the training loss (or, with
``early_stopping``, the validation score) has not improved by ``tol`` for ``n_iter_no_change``
epochs; warn with ``ConvergenceWarning`` when ``max_iter`` epochs end first. ``loss_curve_``
holds the data loss (cross-entropy; mean squared error, not scikit-learn's half of it) without
the penalty.

Weights are glorot-uniform (scikit-learn's scheme) with zero biases. The network computes in the
default dtype of :mod:`sinapsi.backend` (float32 unless changed with
``sinapsi.set_default_dtype``); float64 inputs are accepted and converted.

>>> from sklearn.datasets import load_iris
>>> from sinapsi.sklearn import MLPClassifier
>>> X, y = load_iris(return_X_y=True)
>>> clf = MLPClassifier(hidden_layer_sizes=(16,), learning_rate=0.01, max_iter=300,
...                     random_state=0).fit(X, y)
>>> clf.score(X, y) > 0.9
True
"""

from .estimators import MLPClassifier, MLPRegressor

__all__ = ["MLPClassifier", "MLPRegressor"]
