"""Mistakes met porting PyTorch's and Keras' tutorials to fit/evaluate/predict: each is a
one-line error that names what the user passed and what to do."""

import numpy as np
import pytest

import sinapsi as sn
from sinapsi import nn


def regression_model():
    return nn.Sequential(nn.Linear(3, 8, rng=0), nn.ReLU(), nn.Linear(8, 1, rng=1))


def test_evaluate_of_a_regression_model_without_loss_says_the_default_is_cross_entropy():
    x = np.random.default_rng(0).standard_normal((20, 3))
    y = np.arange(20, dtype="float32") * 10  # whole-number targets, e.g. diabetes' 151.0
    model = regression_model()
    sn.fit(model, x, y, loss="mse", epochs=1, verbose=0)
    with pytest.raises(ValueError, match=r"one output.*loss='mse'") as e:
        sn.evaluate(model, x, y, metrics=["mae"])
    assert "\n" not in str(e.value) and "cross_entropy" in str(e.value)
    assert sn.evaluate(model, x, y, loss="mse", metrics=["mae"])["mae"] >= 0


def test_fit_refuses_cross_entropy_on_one_output_which_would_train_nothing():
    # softmax over one output is always 1: the loss is 0 and no gradient flows
    x = np.random.default_rng(0).standard_normal((20, 3))
    with pytest.raises(ValueError, match=r"one output.*bce_with_logits"):
        sn.fit(regression_model(), x, np.zeros(20, dtype=np.int64), epochs=1, verbose=0)


@pytest.mark.parametrize("call", ["fit", "predict", "evaluate"])
def test_a_model_that_refuses_x_names_the_shape_the_user_passed(call):
    # Keras' one-feature regression passes a column as a 1-D array; the Linear layer saw only
    # the two samples fit tries first, and the error said "got shape (2,)" for x of (50,)
    x = np.linspace(0.0, 1.0, 50)
    model = nn.Sequential(nn.Linear(1, 1, rng=0))
    kwargs = {"loss": "mse"} if call != "predict" else {}
    args = (model, x) if call == "predict" else (model, x, 3 * x)
    if call == "fit":
        kwargs["verbose"] = 0
    with pytest.raises(ValueError, match=r"shape \(50,\).*reshape\(-1, 1\)") as e:
        getattr(sn, call)(*args, **kwargs)
    assert "\n" not in str(e.value) and "Linear(1 -> 1)" in str(e.value)


def test_a_wrong_number_of_features_names_the_shape_the_user_passed():
    model = nn.Sequential(nn.Linear(3, 1, rng=0))
    with pytest.raises(ValueError, match=r"x of shape \(10, 4\)") as e:
        sn.fit(model, np.ones((10, 4)), np.ones(10), loss="mse", verbose=0)
    assert "reshape(-1, 1)" not in str(e.value)


@pytest.mark.parametrize(
    "keras_name, advice",
    [
        ("sparse_categorical_crossentropy", r"loss='cross_entropy'.*logits.*from_logits=True"),
        ("categorical_crossentropy", r"loss='cross_entropy'.*logits.*from_logits=True"),
        ("binary_crossentropy", r"loss='bce'.*loss='bce_with_logits'"),
    ],
)
def test_keras_cross_entropy_names_say_which_sinapsi_loss_and_that_it_takes_logits(
    keras_name, advice
):
    # not aliases: Keras' default takes probabilities (after a Softmax), sinapsi's logits
    with pytest.raises(ValueError, match=advice) as e:
        nn.get_loss(keras_name)
    assert "\n" not in str(e.value) and keras_name in str(e.value)


def test_fit_given_a_data_loader_says_it_takes_arrays():
    from sinapsi.data import ArrayDataset, DataLoader

    x, y = np.ones((8, 3)), np.arange(8) % 2
    model = nn.Sequential(nn.Linear(3, 2, rng=0))
    for data in (DataLoader((x, y), batch_size=4), ArrayDataset(x, y)):
        with pytest.raises(TypeError, match=r"x is a .*arrays.*batch_size=.*by hand") as e:
            sn.fit(model, data, epochs=1, verbose=0)
        assert "\n" not in str(e.value)
        with pytest.raises(TypeError, match=r"x is a "):
            sn.evaluate(model, data, y)
    with pytest.raises(TypeError, match=r"fit needs the targets y"):
        sn.fit(model, x, epochs=1, verbose=0)


def small_task():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((32, 4))
    return x, (x[:, 0] > 0).astype(int)


def make_classifier():
    return nn.Sequential(nn.Linear(4, 8, rng=0), nn.ReLU(), nn.Linear(8, 2, rng=1))


def test_an_optimizer_built_for_another_model_is_refused_instead_of_training_nothing():
    x, y = small_task()
    model = make_classifier()
    stale = sn.optim.SGD(make_classifier().parameters(), lr=0.1)  # e.g. before a rebuild
    with pytest.raises(ValueError, match=r"optimizer holds none of the model's parameters") as e:
        sn.fit(model, x, y, optimizer=stale, epochs=1, verbose=0)
    assert "\n" not in str(e.value)
    frozen_first = sn.optim.SGD(model[2].parameters(), lr=0.1)  # part of the model: fine
    sn.fit(model, x, y, optimizer=frozen_first, epochs=1, verbose=0)


def test_one_callback_not_in_a_list_and_validation_data_of_three_are_one_line():
    from sinapsi.train import EarlyStopping

    x, y = small_task()
    with pytest.raises(TypeError, match=r"callbacks=\[EarlyStopping"):
        sn.fit(make_classifier(), x, y, epochs=1, verbose=0, callbacks=EarlyStopping())
    with pytest.raises(ValueError, match=r"validation_data must be a pair \(x_val, y_val\)") as e:
        sn.fit(make_classifier(), x, y, epochs=1, verbose=0, validation_data=(x, y, None))
    assert "_check_xy" not in str(e.value)
