"""Bad input gives an error that names the op, the shapes or dtypes, and what to do."""

import numpy as np
import pytest

import sinapsi as sn


@pytest.mark.parametrize("op", ["add", "sub", "mul", "div", "maximum", "minimum", "pow"])
def test_broadcast_mismatch_names_op_and_shapes(op):
    a, b = sn.tensor(np.ones((2, 3))), sn.tensor(np.ones((4,)))
    with pytest.raises(ValueError, match=rf"{op}: cannot broadcast shapes \(2, 3\) and \(4,\)"):
        getattr(sn, op)(a, b)


def test_mixed_float_dtypes_are_refused_with_advice():
    a = sn.tensor([1.0], dtype="float32")
    b = sn.tensor([1.0], dtype="float64")
    with pytest.raises(
        TypeError,
        match=r"mul: the operands have different dtypes, float32 and "
        r"float64.*\.astype",
    ):
        a * b


def test_where_needs_a_boolean_condition():
    with pytest.raises(TypeError, match=r"where: condition must be boolean; got dtype float"):
        sn.where(np.array([1.0]), sn.tensor([1.0]), sn.tensor([2.0]))


def test_where_broadcast_error_lists_all_shapes():
    with pytest.raises(ValueError, match=r"where: cannot broadcast shapes \(3,\) and \(2,\)"):
        sn.where(np.array([True, False, True]), sn.tensor([1.0, 2.0]), 0.0)


def test_concatenate_and_stack_errors():
    with pytest.raises(ValueError, match=r"concatenate: shapes \[\(2, 3\), \(2, 4\)\] must match"):
        sn.concatenate([sn.zeros((2, 3)), sn.zeros((2, 4))], axis=0)
    with pytest.raises(ValueError, match=r"stack: all shapes must be equal"):
        sn.stack([sn.zeros((2,)), sn.zeros((3,))])
    with pytest.raises(TypeError, match=r"concatenate: all tensors must have one dtype"):
        sn.concatenate([sn.zeros(2, dtype="float32"), sn.zeros(2, dtype="float64")])


def test_getitem_errors_mention_the_shape():
    with pytest.raises(IndexError, match=r"getitem: .*tensor shape \(2,\)"):
        sn.tensor([1.0, 2.0])[5]
    with pytest.raises(IndexError, match=r"index arrays must be integers or booleans"):
        sn.tensor([1.0, 2.0])[np.array([0.5])]


def test_unconvertible_data_is_refused():
    with pytest.raises(TypeError, match=r"Cannot make a tensor from data of dtype"):
        sn.tensor(["a", "b"])


def test_bool_and_item_errors():
    with pytest.raises(ValueError, match=r"truth value of a tensor with 2 elements is ambiguous"):
        bool(sn.tensor([1.0, 2.0]))
    with pytest.raises(ValueError, match=r"item\(\) needs a one-element tensor"):
        sn.tensor([1.0, 2.0]).item()


def test_clip_without_bounds():
    with pytest.raises(ValueError, match="clip: at least one of min and max"):
        sn.clip(sn.tensor([1.0]))


def test_gelu_unknown_approximation_lists_choices():
    with pytest.raises(ValueError, match=r"approximate must be a str among \{'none', 'tanh'\}"):
        sn.gelu(sn.tensor([1.0]), approximate="fast")
