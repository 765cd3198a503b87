"""softmax_mse: squared error between softmax(logits) and one-hot labels, the classification
loss the TF Playground trains with (issue 15: the playground offers it beside cross-entropy).
Definitions are torch's F.mse_loss(softmax(z, 1), one_hot(y, C).float())."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import sinapsi as sn
from sinapsi import evaluate, fit, nn
from sinapsi.cli import main
from sinapsi.config import CLASSIFICATION_LOSSES, ConfigError, validate_config
from sinapsi.experiment import run
from sinapsi.testing import check_op, gradcheck


def torch_softmax_mse(z, y, reduction="mean"):
    target = F.one_hot(y, z.shape[1]).to(z.dtype) if y.dtype == torch.int64 else y
    return F.mse_loss(torch.softmax(z, 1), target, reduction=reduction)


# ------------------------------------------------------------------ values and gradients
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("shape", [(1, 2), (1, 5), (6, 2), (7, 5)])
def test_matches_torch_and_finite_differences(shape, reduction):
    rng = np.random.default_rng(sum(shape))
    z = 2.0 * rng.standard_normal(shape)
    y = rng.integers(0, shape[1], shape[0])
    check_op(
        lambda a, b: nn.softmax_mse_loss(a, b, reduction=reduction),
        lambda a, b: torch_softmax_mse(a, b, reduction),
        [z, y],
    )


def test_value_is_the_mean_over_samples_and_classes():
    z = np.array([[0.0, 0.0], [np.log(3.0), 0.0]])  # softmax rows: (.5, .5) and (.75, .25)
    y = np.array([0, 1])
    expected = (0.25 + 0.25 + 0.75**2 + 0.75**2) / 4
    assert nn.softmax_mse_loss(z, y).item() == pytest.approx(expected, rel=1e-12)
    assert nn.softmax_mse_loss(z, y, reduction="sum").item() == pytest.approx(4 * expected)


def test_gradcheck_float64_with_large_logits():
    rng = np.random.default_rng(3)
    z = sn.tensor(8.0 * rng.standard_normal((5, 4)), dtype="float64", requires_grad=True)
    y = rng.integers(0, 4, 5)
    assert gradcheck(lambda t: nn.softmax_mse_loss(t, y), [z])
    assert np.isfinite(nn.softmax_mse_loss(sn.tensor([[1e4, -1e4]]), [1]).item())


@pytest.mark.parametrize("target_grad", [False, True])
@pytest.mark.parametrize("reduction", ["mean", "none"])
def test_probability_targets_match_torch(reduction, target_grad):
    rng = np.random.default_rng(4)
    e = np.exp(rng.standard_normal((4, 3)))
    check_op(
        lambda a, b: nn.softmax_mse_loss(a, b, reduction=reduction),
        lambda a, b: torch_softmax_mse(a, b, reduction),
        [rng.standard_normal((4, 3)), e / e.sum(axis=1, keepdims=True)],
        requires_grad=[True, target_grad],
    )


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_zero_samples_as_torch(reduction):
    z = sn.tensor(np.zeros((0, 3)), requires_grad=True)
    loss = nn.softmax_mse_loss(z, np.zeros(0, dtype=np.int64), reduction=reduction)
    ref = torch_softmax_mse(torch.zeros(0, 3), torch.zeros(0, dtype=torch.int64), reduction)
    assert loss.shape == tuple(ref.shape)
    np.testing.assert_array_equal(loss.numpy(), ref.numpy())  # mean: NaN (0 / 0), sum: 0
    if reduction != "none":
        loss.backward()
        assert z.grad.shape == (0, 3)


def test_module_and_registry():
    module = nn.get_loss("softmax_mse")
    assert isinstance(module, nn.SoftmaxMSELoss)
    assert nn.SoftmaxMSELoss(reduction="sum").get_config() == {"reduction": "sum"}
    z, y = np.array([[2.0, -1.0, 0.5]]), np.array([2])
    assert module(z, y).item() == pytest.approx(nn.softmax_mse_loss(z, y).item())
    with pytest.raises(ValueError, match="reduction"):
        nn.SoftmaxMSELoss(reduction="avg")
    assert "softmax_mse" in CLASSIFICATION_LOSSES


# ------------------------------------------------------------------------------ errors
def one_line(info):
    assert "\n" not in str(info.value)
    return str(info.value)


def test_label_out_of_range_is_one_line():
    with pytest.raises(IndexError, match=r"softmax_mse_loss: label 3 is out of range for 3") as e:
        nn.softmax_mse_loss(np.zeros((2, 3)), np.array([0, 3]))
    one_line(e)
    with pytest.raises(IndexError, match=r"label -1 is out of range"):
        nn.softmax_mse_loss(np.zeros((2, 3)), np.array([-1, 0]))


def test_fractional_labels_and_bad_shapes_are_one_line():
    with pytest.raises(TypeError, match=r"softmax_mse_loss: class labels must be integers") as e:
        nn.softmax_mse_loss(np.zeros((2, 3)), np.array([0.5, 1.0]))
    one_line(e)
    with pytest.raises(ValueError, match=r"needs labels of shape \(2,\); got \(3,\)") as e:
        nn.softmax_mse_loss(np.zeros((2, 3)), np.array([0, 1, 2]))
    one_line(e)
    with pytest.raises(ValueError, match=r"input must have shape \(N, C\).*got \(3,\)") as e:
        nn.softmax_mse_loss(np.zeros(3), np.array(1))
    one_line(e)
    with pytest.raises(ValueError, match=r"class probabilities"):
        nn.softmax_mse_loss(np.zeros((2, 3)), np.full((2, 3), 1.5))
    with pytest.raises(ValueError, match="reduction"):
        nn.softmax_mse_loss(np.zeros((2, 3)), np.array([0, 1]), reduction="avg")


# ------------------------------------------------------------------------- training
def two_blobs(n=200, seed=0):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    x = rng.standard_normal((n, 2)) * 0.7 + np.where(y[:, None] == 1, 1.5, -1.5)
    return x.astype("float32"), y


def test_fit_trains_a_two_class_problem():
    x, y = two_blobs()
    model = nn.Sequential(nn.Linear(2, 8, rng=0), nn.Tanh(), nn.Linear(8, 2, rng=1))
    history = fit(
        model, x, y, loss="softmax_mse", optimizer="sgd", lr=0.5, epochs=15, batch_size=10,
        metrics=["accuracy"], seed=0, verbose=0,
    )  # fmt: skip
    losses = history.history["loss"]
    assert losses[-1] < 0.5 * losses[0]
    assert history.history["accuracy"][-1] > 0.95
    result = evaluate(model, x, y.astype("float64"), loss="softmax_mse", metrics=["accuracy"])
    assert result["loss"] < 0.05 and result["accuracy"] > 0.95


def test_fit_refuses_bad_labels_and_one_output_in_one_line():
    x, y = two_blobs(20)
    model = nn.Sequential(nn.Linear(2, 2, rng=0))
    with pytest.raises(IndexError, match=r"label 2 is out of range for 2 classes") as e:
        fit(model, x, y + 1, loss="softmax_mse", epochs=1, verbose=0)
    one_line(e)
    with pytest.raises(TypeError, match=r"softmax_mse needs class labels.*non-integer") as e:
        fit(model, x, y + 0.5, loss="softmax_mse", epochs=1, verbose=0)
    one_line(e)
    with pytest.raises(ValueError, match=r"softmax_mse needs one output per class"):
        fit(nn.Sequential(nn.Linear(2, 1)), x, y, loss="softmax_mse", epochs=1, verbose=0)


# ---------------------------------------------------------------- config and sinapsi train
def _raw(task="classification"):
    return {
        "name": "sq",
        "data": {"source": "xor", "n_samples": 200, "val_size": 0.0, "test_size": 0.5},
        "model": {"hidden": [8], "activation": "tanh", "task": task},
        "training": {"epochs": 30, "batch_size": 10, "optimizer": "sgd", "lr": 0.3,
                     "loss": "softmax_mse"},
    }  # fmt: skip


def test_config_accepts_softmax_mse_for_classification_only():
    cfg = validate_config(_raw())
    assert cfg["training"]["loss"] == "softmax_mse"
    with pytest.raises(ConfigError, match=r"loss = 'softmax_mse' does not fit task = 'regression'"):
        validate_config(_raw("regression"), "run.toml")


def test_a_run_trains_with_softmax_mse_and_tests_with_it(tmp_path):
    result = run(validate_config(_raw()), tmp_path / "run", verbose=0)
    assert result.test["loss"] < 0.15  # a uniform guess scores 0.25
    assert result.test["accuracy"] > 0.85


def test_sinapsi_train_cli(tmp_path):
    path = tmp_path / "sq.toml"
    path.write_text(
        '[data]\nsource = "xor"\nn_samples = 200\n\n'
        '[model]\nhidden = [8]\nactivation = "tanh"\ntask = "classification"\n\n'
        '[training]\nloss = "softmax_mse"\nepochs = 3\noptimizer = "sgd"\nlr = 0.3\n'
    )
    assert main(["train", str(path), "--out", str(tmp_path / "out"), "--quiet"]) == 0
