"""scikit-learn estimators over sinapsi networks: :class:`MLPClassifier` and :class:`MLPRegressor`.

They follow scikit-learn's estimator contract, so they work in ``Pipeline``, ``cross_val_score``,
``GridSearchCV`` and pass ``sklearn.utils.estimator_checks.check_estimator``: constructor
arguments are stored unchanged and validated in ``fit``; what ``fit`` learns ends in ``_``
(``model_``, ``loss_curve_``, ``n_iter_``, ...). Training runs sinapsi's autograd and optimizers;
the network is a plain :class:`sinapsi.nn.Sequential` (``model_``).

They are drop-ins for scikit-learn's own ``MLPClassifier`` / ``MLPRegressor``: every
parameter of scikit-learn's has the same name, meaning and default (``solver="adam"``,
``alpha=1e-4``, ``batch_size="auto"``, ``learning_rate="constant"``,
``learning_rate_init=1e-3``, ``momentum=0.9``, ``nesterovs_momentum=True``, ``max_fun``, ...),
``fit``/``partial_fit``/``predict``/``predict_proba`` behave as scikit-learn's, and the fitted
attributes are scikit-learn's (``loss_curve_``, ``best_loss_``, ``validation_scores_``,
``coefs_`` as ``(n_in, n_out)`` arrays, ``intercepts_``, ``n_iter_``, ``t_``,
``out_activation_``, ``n_layers_``, ``n_outputs_``, ``classes_``). With the same integer
``random_state`` they draw scikit-learn's initial weights, shuffles and validation split, and
``solver="sgd"``/``"adam"``/``"lbfgs"`` take scikit-learn's steps: in float64
(``sinapsi.default_dtype("float64")``) ``loss_curve_`` equals scikit-learn's to rounding.

sinapsi's own extras are additional keyword parameters:

===========================  ===================================================================
parameter                    meaning
===========================  ===================================================================
``batch_norm=False``         BatchNorm1d after each hidden Linear layer
``dropout=0.0``              Dropout after each hidden activation (not with ``solver="lbfgs"``)
``init=None``                a ``sinapsi.init`` name or callable instead of scikit-learn's
                             Glorot-uniform weights and biases
``optimizer=None``           a ``sinapsi.optim`` name (``"adamw"``, ``"rmsprop"``, ...) that
                             replaces ``solver``, at ``learning_rate_init``, constant
``activation``               also ``"sigmoid"``, ``"leaky_relu"``, ``"elu"``, ``"gelu"``,
                             ``"softplus"``
===========================  ===================================================================

Renamed from sinapsi's earlier names: ``learning_rate=<float>`` is ``learning_rate_init``
(``learning_rate`` is scikit-learn's schedule name), ``weight_decay`` is ``alpha`` (scikit-learn's
penalty ``0.5 * alpha * ||W||^2 / n_batch``, part of ``loss_curve_``), ``optimizer="sgd"`` is
``solver="sgd"`` (scikit-learn's Nesterov momentum by default). ``n_iter_`` counts the epochs
of the last ``fit`` (1 after ``partial_fit``) as in scikit-learn; ``t_`` counts all samples.
A binary classifier has one logistic output unit, as scikit-learn's.

The network is ``model_``, a plain :class:`sinapsi.nn.Sequential` ending in the values before
the output activation; it computes in the default dtype of :mod:`sinapsi.backend` (float32
unless changed with ``sinapsi.set_default_dtype``); float64 inputs are accepted and converted.

>>> from sklearn.datasets import load_iris
>>> from sinapsi.sklearn import MLPClassifier
>>> X, y = load_iris(return_X_y=True)
>>> clf = MLPClassifier(hidden_layer_sizes=(16,), learning_rate_init=0.01, max_iter=1000,
...                     random_state=0).fit(X, y)
>>> clf.score(X, y) > 0.9
True
"""

from .estimators import MLPClassifier, MLPRegressor

__all__ = ["MLPClassifier", "MLPRegressor"]
