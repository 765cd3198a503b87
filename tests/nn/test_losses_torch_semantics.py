"""Losses where PyTorch users meet the edges: targets that need a gradient, ignore_index,
targets outside their domain, and what the error says the user passed (issue 14, items 6, 13)."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import sinapsi as sn
from sinapsi import nn
from sinapsi.testing import check_op


def soft(seed, shape):
    e = np.exp(np.random.default_rng(seed).standard_normal(shape))
    return e / e.sum(axis=1, keepdims=True)


# ------------------------------------------------------------ targets that require grad
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("smoothing", [0.0, 0.2])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("shape", [(4, 3), (2, 3, 5)])
def test_cross_entropy_probability_targets_get_torchs_gradient(
    reduction, smoothing, weighted, shape
):
    rng = np.random.default_rng(1)
    inputs = [rng.standard_normal(shape), soft(2, shape)]
    if weighted:
        inputs.append(0.5 + rng.random(shape[1]))

    def loss(lib, x, t, *w):
        weight = w[0] if w else None
        return lib.cross_entropy(
            x, t, weight=weight, label_smoothing=smoothing, reduction=reduction
        )

    check_op(
        lambda *a: loss(nn, *a),
        lambda *a: loss(F, *a),
        inputs,
        requires_grad=[True, True, False],
    )


ELEMENTWISE = {
    "mse_loss": (nn.mse_loss, F.mse_loss),
    "l1_loss": (nn.l1_loss, F.l1_loss),
    "huber_loss": (nn.huber_loss, F.huber_loss),
    "binary_cross_entropy": (nn.binary_cross_entropy, F.binary_cross_entropy),
    "bce_with_logits": (
        nn.binary_cross_entropy_with_logits,
        F.binary_cross_entropy_with_logits,
    ),
    "bce_with_logits_pos_weight": (
        lambda x, t: nn.binary_cross_entropy_with_logits(x, t, pos_weight=np.array([2.0, 0.5])),
        lambda x, t: F.binary_cross_entropy_with_logits(
            x, t, pos_weight=torch.tensor([2.0, 0.5], dtype=x.dtype)
        ),
    ),
}


@pytest.mark.parametrize("name", sorted(ELEMENTWISE))
def test_elementwise_loss_targets_that_require_grad_get_torchs_gradient(name):
    rng = np.random.default_rng(3)
    x = 0.1 + 0.8 * rng.random((3, 2))
    t = 0.1 + 0.8 * rng.random((3, 2))
    ours, theirs = ELEMENTWISE[name]
    check_op(ours, theirs, [x, t], requires_grad=[True, True])


# ------------------------------------------------------------------------ ignore_index
def _labels_with_ignored(shape, ignore, seed=4):
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, shape[1], shape[:1] + shape[2:])
    labels.reshape(-1)[::3] = ignore
    return labels


@pytest.mark.parametrize(
    ("name", "smoothing"), [("cross_entropy", 0.0), ("cross_entropy", 0.1), ("nll_loss", 0.0)]
)
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize(("shape", "ignore"), [((5, 4), -100), ((2, 3, 4), 1), ((6, 3), 7)])
def test_ignore_index_matches_torch(name, reduction, weighted, smoothing, shape, ignore):
    rng = np.random.default_rng(5)
    x = rng.standard_normal(shape)
    inputs = [x, _labels_with_ignored(shape, ignore)]
    if weighted:
        inputs.append(0.5 + rng.random(shape[1]))
    kw = {"label_smoothing": smoothing} if name == "cross_entropy" else {}

    def loss(lib, x, y, *w):
        weight = w[0] if w else None
        return getattr(lib, name)(
            x, y, weight=weight, ignore_index=ignore, reduction=reduction, **kw
        )

    check_op(
        lambda *a: loss(nn, *a), lambda *a: loss(F, *a), inputs, requires_grad=[True, False, False]
    )


@pytest.mark.parametrize("name", ["cross_entropy", "nll_loss"])
def test_labels_of_minus_100_are_ignored_by_default_as_in_torch(name):
    x = np.random.default_rng(0).standard_normal((4, 3))
    y = np.array([0, -100, 2, -100])
    check_op(lambda t: getattr(nn, name)(t, y), lambda t: getattr(F, name)(t, torch.tensor(y)), [x])


def test_every_label_ignored_gives_nan_for_the_mean_as_torch():
    x = sn.tensor(np.zeros((2, 3)), requires_grad=True)
    assert np.isnan(nn.cross_entropy(x, np.array([-100, -100])).item())
    assert nn.cross_entropy(x, np.array([-100, -100]), reduction="sum").item() == 0.0


def test_loss_modules_take_ignore_index_and_keep_it_in_their_config():
    x = np.random.default_rng(0).standard_normal((4, 3))
    y = np.array([0, 1, 2, 1])
    for ours, theirs in [
        (nn.CrossEntropyLoss(ignore_index=1), torch.nn.CrossEntropyLoss(ignore_index=1)),
        (nn.NLLLoss(ignore_index=1), torch.nn.NLLLoss(ignore_index=1)),
    ]:
        check_op(lambda t: ours(t, y), lambda t: theirs(t, torch.tensor(y)), [x])  # noqa: B023
        assert ours.get_config()["ignore_index"] == 1
        assert type(ours)(**ours.get_config()).ignore_index == 1


def test_a_label_out_of_range_is_still_refused_next_to_ignored_ones():
    with pytest.raises(IndexError, match=r"cross_entropy: label 3 is out of range for 3 classes"):
        nn.cross_entropy(sn.zeros((3, 3)), np.array([0, -100, 3]))


# ------------------------------------------------------------- targets outside [0, 1]
@pytest.mark.parametrize("name", ["binary_cross_entropy", "binary_cross_entropy_with_logits"])
@pytest.mark.parametrize("bad", [-0.5, 2.0])
def test_bce_targets_outside_0_1_are_refused_naming_the_value(name, bad):
    target = np.array([[0.0, 1.0], [0.3, bad]])
    with pytest.raises(
        ValueError,
        match=rf"{name}: every target must be in \[0, 1\]; got {bad:g} at index \(1, 1\)",
    ):
        getattr(nn, name)(sn.full((2, 2), 0.5), target)


@pytest.mark.parametrize("bad", [-0.5, 1.5])
def test_cross_entropy_refuses_soft_labels_outside_0_1_naming_the_value(bad):
    target = np.array([[0.2, 0.8, 0.0], [0.0, bad, 1.0 - bad]])
    message = (
        rf"cross_entropy: class probabilities .* must be in \[0, 1\]; got {bad:g} at index \(1, 1\)"
    )
    with pytest.raises(ValueError, match=message):
        nn.cross_entropy(sn.zeros((2, 3)), target)


# ------------------------------------------------------------ what the user passed
@pytest.mark.parametrize("name", ["cross_entropy", "nll_loss"])
def test_float_labels_error_names_the_dtype_and_values_the_user_passed(name):
    message = (
        rf"{name}: class labels must be integers; got float64 labels of shape \(3,\) "
        r"\(values 0\.0, 1\.0, 3\.0\)"
    )
    with pytest.raises(TypeError, match=message):
        getattr(nn, name)(sn.zeros((3, 4)), np.array([0.0, 1.0, 3.0]))


def test_probability_targets_keep_their_precision_in_float64():
    """A float64 NumPy target met a float64 input through a float32 copy."""
    x = np.random.default_rng(0).standard_normal((3, 4))
    t = soft(1, (3, 4))
    ours = nn.cross_entropy(sn.tensor(x, dtype="float64"), t).item()
    theirs = F.cross_entropy(torch.tensor(x), torch.tensor(t)).item()
    assert abs(ours - theirs) <= 1e-12 * abs(theirs)


# ------------------------------------------------------------ one unbatched sample
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize(
    ("name", "target"),
    [
        ("cross_entropy", np.array(2)),
        ("cross_entropy", soft(7, (1, 4))[0]),
        ("nll_loss", np.array(1)),
    ],
)
def test_class_losses_take_one_unbatched_sample_like_torch(name, target, reduction):
    x = np.random.default_rng(0).standard_normal(4)
    check_op(
        lambda a, t: getattr(nn, name)(a, t, reduction=reduction),
        lambda a, t: getattr(F, name)(a, t, reduction=reduction),
        [x, target],
        requires_grad=[True, False],
    )
