"""sinapsi.sklearn as a drop-in for sklearn.neural_network: the same parameters and defaults,
the same fitted attributes, and (in float64, same random_state) the same training: loss
curves, weights and counters equal to scikit-learn's for every solver and schedule."""

import inspect
import warnings

import numpy as np
import pytest
from sklearn.datasets import load_iris, make_multilabel_classification, make_regression
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier as SkMLPClassifier
from sklearn.neural_network import MLPRegressor as SkMLPRegressor
from sklearn.preprocessing import StandardScaler

import sinapsi as sn
from sinapsi import optim
from sinapsi.sklearn import MLPClassifier, MLPRegressor
from sinapsi.sklearn._solvers import SklearnSGD

EXTRAS = {"batch_norm": False, "dropout": 0.0, "init": None, "optimizer": None}
no_convergence_warning = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


@pytest.fixture(scope="module")
def iris():
    X, y = load_iris(return_X_y=True)
    return StandardScaler().fit_transform(X), y


@pytest.mark.parametrize(
    "ours, theirs", [(MLPClassifier, SkMLPClassifier), (MLPRegressor, SkMLPRegressor)]
)
def test_parameters_names_order_and_defaults_are_sklearns(ours, theirs):
    assert ours().get_params() == {**theirs().get_params(), **EXTRAS}
    # the same positional parameters, in the same order (MLPRegressor's first is loss)
    def positional(cls):
        return [
            p.name for p in inspect.signature(cls.__init__).parameters.values()
            if p.kind is p.POSITIONAL_OR_KEYWORD and p.name != "self"
        ]  # fmt: skip

    assert positional(ours) == positional(theirs)


FITTED = ["loss_", "loss_curve_", "best_loss_", "validation_scores_", "best_validation_score_",
          "coefs_", "intercepts_", "n_iter_", "t_", "out_activation_", "n_layers_", "n_outputs_",
          "n_features_in_"]  # fmt: skip


def _fit_both(ours, theirs, X, y, **params):
    """Fit ours (float64) and scikit-learn's with the same parameters and random_state."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        with sn.default_dtype("float64"):
            a = ours(random_state=0, **params).fit(X, y)
        b = theirs(random_state=0, **params).fit(X, y)
    return a, b


def _assert_same_training(a, b, rtol=1e-9):
    for name in FITTED:
        assert hasattr(a, name) == hasattr(b, name), name
    assert (a.n_iter_, a.t_, a.n_layers_, a.n_outputs_, a.out_activation_) == (
        b.n_iter_, b.t_, b.n_layers_, b.n_outputs_, b.out_activation_
    )  # fmt: skip
    if hasattr(b, "loss_curve_"):
        np.testing.assert_allclose(a.loss_curve_, b.loss_curve_, rtol=rtol)
        if b.best_loss_ is None:
            assert a.best_loss_ is None
            np.testing.assert_allclose(a.validation_scores_, b.validation_scores_, rtol=rtol)
            assert a.best_validation_score_ == pytest.approx(b.best_validation_score_)
        else:
            assert a.best_loss_ == pytest.approx(b.best_loss_, rel=rtol)
            assert a.validation_scores_ is None and a.best_validation_score_ is None
    assert a.loss_ == pytest.approx(b.loss_, rel=rtol)
    for ours, theirs in zip(a.coefs_ + a.intercepts_, b.coefs_ + b.intercepts_):
        assert ours.shape == theirs.shape
        np.testing.assert_allclose(ours, theirs, rtol=1e-6, atol=1e-9)


# Every solver and schedule against scikit-learn on iris (150 samples, batch 40 -> 4 updates
# an epoch). alpha=0.01 makes the L2 penalty visible in loss_curve_.
@pytest.mark.parametrize(
    "params",
    [
        dict(solver="adam", alpha=0.01),
        dict(solver="adam", early_stopping=True, n_iter_no_change=3),
        dict(solver="sgd", learning_rate_init=0.05),  # Nesterov momentum (the default)
        dict(solver="sgd", learning_rate_init=0.05, nesterovs_momentum=False),
        dict(solver="sgd", learning_rate_init=0.1, momentum=0.0, learning_rate="invscaling"),
        dict(solver="sgd", learning_rate_init=0.5, learning_rate="adaptive", tol=0.05,
             n_iter_no_change=2),
        dict(solver="sgd", learning_rate_init=0.1, shuffle=False, activation="tanh"),
        dict(solver="lbfgs", max_iter=40, activation="logistic"),
    ],
    ids=["adam", "adam-early", "sgd-nesterov", "sgd-momentum", "sgd-invscaling", "sgd-adaptive",
         "sgd-noshuffle-tanh", "lbfgs"],
)  # fmt: skip
def test_classifier_trains_as_sklearn(iris, params):
    X, y = iris
    a, b = _fit_both(MLPClassifier, SkMLPClassifier, X, y, hidden_layer_sizes=(7, 5),
                     batch_size=40, max_iter=params.pop("max_iter", 30), **params)  # fmt: skip
    _assert_same_training(a, b)
    np.testing.assert_allclose(a.predict_proba(X), b.predict_proba(X), rtol=1e-6, atol=1e-12)


def test_binary_classifier_has_one_logistic_unit_as_sklearn(iris):
    X, y = iris
    labels = np.where(y == 2, "virginica", "other")
    a, b = _fit_both(MLPClassifier, SkMLPClassifier, X, labels, hidden_layer_sizes=(6,),
                     solver="sgd", learning_rate_init=0.1, max_iter=20)  # fmt: skip
    assert a.out_activation_ == "logistic" and a.coefs_[-1].shape == (6, 1)
    _assert_same_training(a, b)
    np.testing.assert_array_equal(a.predict(X), b.predict(X))


@pytest.mark.parametrize("solver", ["adam", "lbfgs"])
def test_multilabel_classifier_as_sklearn(solver):
    X, Y = make_multilabel_classification(120, 5, n_classes=3, random_state=0)
    X = StandardScaler().fit_transform(X)
    a, b = _fit_both(MLPClassifier, SkMLPClassifier, X, Y, hidden_layer_sizes=(6,),
                     solver=solver, batch_size=32, max_iter=15)  # fmt: skip
    assert a.out_activation_ == "logistic" and a.n_outputs_ == 3
    np.testing.assert_array_equal(a.classes_, b.classes_)
    _assert_same_training(a, b)
    np.testing.assert_array_equal(a.predict(X), b.predict(X))
    np.testing.assert_allclose(a.predict_proba(X), b.predict_proba(X), rtol=1e-6)
    with pytest.raises(ValueError, match=r"label-indicator matrix .*'multiclass-multioutput'"):
        MLPClassifier().fit(X, np.stack([np.arange(120) % 3, np.arange(120) % 2], axis=1))


@pytest.mark.parametrize(
    "params",
    [
        dict(solver="adam", learning_rate_init=0.01),
        dict(solver="sgd", learning_rate_init=0.001, learning_rate="invscaling", power_t=0.25),
        dict(solver="lbfgs", max_iter=25),
        dict(solver="adam", learning_rate_init=0.01, loss="poisson"),
    ],
    ids=["adam", "sgd-invscaling", "lbfgs", "poisson"],
)
def test_regressor_trains_as_sklearn(params):
    X, y = make_regression(120, 4, n_targets=2, noise=0.1, random_state=0)
    y = y / y.std(axis=0)
    if params.get("loss") == "poisson":
        y = np.abs(y)
    a, b = _fit_both(MLPRegressor, SkMLPRegressor, X, y, hidden_layer_sizes=(8,),
                     batch_size=32, max_iter=params.pop("max_iter", 20), **params)  # fmt: skip
    _assert_same_training(a, b)
    np.testing.assert_allclose(a.predict(X), b.predict(X), rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize(
    "params",
    [
        dict(solver="adam", learning_rate_init=0.01),
        dict(solver="sgd", learning_rate_init=0.05, early_stopping=True, n_iter_no_change=3),
        dict(solver="lbfgs", max_iter=20),
    ],
    ids=["adam", "sgd-early", "lbfgs"],
)
def test_sample_weight_as_sklearn(iris, params):
    X, y = iris
    weights = np.random.default_rng(0).uniform(0.1, 3.0, len(X))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        common = dict(hidden_layer_sizes=(6,), batch_size=40, random_state=0,
                      max_iter=params.pop("max_iter", 15), **params)  # fmt: skip
        with sn.default_dtype("float64"):
            a = MLPClassifier(**common).fit(X, y, sample_weight=weights)
        b = SkMLPClassifier(**common).fit(X, y, sample_weight=weights)
        with sn.default_dtype("float64"):
            unweighted = MLPClassifier(**common).fit(X, y)
    _assert_same_training(a, b)
    assert a.loss_ != pytest.approx(unweighted.loss_)


def test_partial_fit_and_warm_start_count_as_sklearn(iris):
    X, y = iris
    common = dict(hidden_layer_sizes=(5,), solver="sgd", learning_rate_init=0.1, random_state=3)
    with sn.default_dtype("float64"):
        a = MLPClassifier(**common)
        for _ in range(3):
            a.partial_fit(X, y, classes=[0, 1, 2])
    b = SkMLPClassifier(**common)
    for _ in range(3):
        b.partial_fit(X, y, classes=[0, 1, 2])
    assert (a.n_iter_, a.t_) == (b.n_iter_, b.t_) == (1, 3 * len(X))
    np.testing.assert_allclose(a.loss_curve_, b.loss_curve_, rtol=1e-9)
    with pytest.raises(AttributeError, match=r"has no attribute 'partial_fit'"):
        MLPClassifier(solver="lbfgs").partial_fit  # noqa: B018
    assert not hasattr(MLPRegressor(solver="lbfgs"), "partial_fit")


# ------------------------------------------------------------------ schedules, by hand
def test_invscaling_uses_t_as_sklearn(iris):
    X, y = iris
    clf = MLPClassifier((4,), solver="sgd", learning_rate="invscaling", power_t=0.5,
                        learning_rate_init=0.2, max_iter=4, random_state=0)  # fmt: skip
    with pytest.warns(ConvergenceWarning):
        clf.fit(X, y)
    n = len(X)
    assert clf.t_ == 4 * n
    expected = [0.2] + [0.2 / (k * n + 1) ** 0.5 for k in (1, 2, 3)]
    np.testing.assert_allclose(clf._schedule.history, expected, rtol=1e-12)
    assert clf._optimizer.param_groups[0]["lr"] == pytest.approx(0.2 / (4 * n + 1) ** 0.5)
    constant = MLPClassifier((4,), solver="sgd", learning_rate_init=0.2, max_iter=4)
    with pytest.warns(ConvergenceWarning):
        constant.fit(X, y)
    assert constant._schedule.history == [0.2] * 4


def test_adaptive_divides_by_5_then_stops(iris):
    X, y = iris
    # tol=100: no epoch ever improves, so the rule fires every n_iter_no_change + 1 = 2 epochs
    clf = MLPClassifier((4,), solver="sgd", learning_rate="adaptive", learning_rate_init=0.1,
                        tol=100.0, n_iter_no_change=1, max_iter=100, random_state=0)  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        clf.fit(X, y)
    history = np.array(clf._schedule.history)
    # 0.1 / 5**k until <= 1e-6 (k = 8: 2.56e-7): each rate for 2 epochs, and the first 3 (the
    # first epoch sets best_loss_ and counts as no improvement only from the second)
    rates = [0.1 / 5**k for k in range(9)]
    expected = [rates[0]] * 3 + [r for r in rates[1:] for _ in range(2)]
    np.testing.assert_allclose(history, expected, rtol=1e-12)
    assert clf.n_iter_ == len(expected) == 19


# ------------------------------------------------------------------ Nesterov, by hand
@pytest.mark.parametrize("nesterov", [True, False])
def test_sgd_momentum_step_by_hand(nesterov):
    p = sn.nn.Parameter(np.array([1.0, -2.0]), dtype="float64")
    opt = SklearnSGD([p], lr=0.1, momentum=0.9, nesterov=nesterov)
    g1, g2 = np.array([0.5, 1.0]), np.array([-1.0, 2.0])
    p.grad = g1
    opt.step()
    v1 = -0.1 * g1  # v = 0.9 * 0 - lr * g
    step1 = 0.9 * v1 - 0.1 * g1 if nesterov else v1
    np.testing.assert_allclose(p.data, [1.0, -2.0] + step1, rtol=1e-15)
    opt.param_groups[0]["lr"] = 0.05  # a schedule changes lr: the velocity keeps the old steps
    p.grad = g2
    opt.step()
    v2 = 0.9 * v1 - 0.05 * g2
    step2 = 0.9 * v2 - 0.05 * g2 if nesterov else v2
    np.testing.assert_allclose(p.data, [1.0, -2.0] + step1 + step2, rtol=1e-15)
    # sinapsi's own SGD (PyTorch's form) differs once the rate changes, hence SklearnSGD
    q = sn.nn.Parameter(np.array([1.0, -2.0]), dtype="float64")
    torch_style = optim.SGD([q], lr=0.1, momentum=0.9, nesterov=nesterov)
    for lr, g in ((0.1, g1), (0.05, g2)):
        torch_style.param_groups[0]["lr"] = lr
        q.grad = g
        torch_style.step()
    assert not np.allclose(q.data, p.data)


# ------------------------------------------------------------------ attributes, extras
def test_coefs_are_views_of_the_network(iris):
    X, y = iris
    with pytest.warns(ConvergenceWarning):
        clf = MLPClassifier((6, 4), max_iter=2, random_state=0).fit(X, y)
    assert [c.shape for c in clf.coefs_] == [(4, 6), (6, 4), (4, 3)]
    assert [b.shape for b in clf.intercepts_] == [(6,), (4,), (3,)]
    assert clf.n_layers_ == 4 and clf.n_outputs_ == 3 and clf.out_activation_ == "softmax"
    clf.coefs_[-1][...] = 0.0
    clf.intercepts_[-1][...] = [0.0, 5.0, 0.0]
    assert (clf.predict(X) == 1).all()  # writing into coefs_ changed the network
    with pytest.raises(AttributeError, match="not fitted"):
        MLPClassifier().coefs_  # noqa: B018


@no_convergence_warning
def test_extras_optimizer_init_batch_norm(iris):
    X, y = iris
    clf = MLPClassifier((8,), optimizer="adamw", solver="lbfgs", max_iter=3).fit(X, y)
    assert type(clf._optimizer) is optim.AdamW and len(clf.loss_curve_) == 3  # not lbfgs
    sgd = MLPClassifier((8,), optimizer="sgd", momentum=0.5, max_iter=2).fit(X, y)
    group = sgd._optimizer.param_groups[0]
    assert type(sgd._optimizer) is optim.SGD and group["momentum"] == 0.5 and group["nesterov"]
    he = MLPClassifier((8,), init="he", batch_norm=True, dropout=0.1, max_iter=2).fit(X, y)
    assert he.model_[0].init == "he"
    assert isinstance(he.model_[1], sn.nn.BatchNorm1d)
    default = MLPClassifier((8,), max_iter=2, random_state=0).fit(X, y)
    assert default.intercepts_[0].any()  # scikit-learn's init draws the biases too


@pytest.mark.parametrize("solver", ["lbfgs", "adam"])
def test_convergence_warning_points_at_the_caller(iris, solver):
    X, y = iris
    with pytest.warns(ConvergenceWarning, match=r"lbfgs failed|Maximum iterations") as record:
        MLPClassifier((4,), solver=solver, max_iter=2, random_state=0).fit(X, y)
    assert record[0].filename == __file__


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # NumPy's overflow, as in scikit-learn
@pytest.mark.parametrize("params", [dict(solver="sgd"), dict(optimizer="sgd")])
def test_divergence_is_sklearns_value_error(params):
    X = np.random.default_rng(0).normal(size=(50, 3)) * 1e6
    with pytest.raises(ValueError, match=r"Solver produced non-finite parameter weights"):
        MLPRegressor(learning_rate_init=10.0, max_iter=50, **params).fit(X, X.sum(axis=1) * 1e6)
