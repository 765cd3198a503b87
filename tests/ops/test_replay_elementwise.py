"""Every elementwise op replays bit for bit (sinapsi.capture's contract, checked by
testing.check_replay): broadcasting both ways, 0-d and zero-size shapes, batch 1, float32 and
float64, non-contiguous inputs, integer operands and raw arrays converted to the op's dtype."""

import numpy as np
import pytest

from sinapsi import ops
from sinapsi.ops._util import wrap
from sinapsi.testing import check_replay

DTYPES = ["float32", "float64"]

# (shape of a, shape of b): same, b broadcast, a broadcast, both ways, 0-d, zero-size, batch 1
PAIRS = [
    ((3, 4), (3, 4)),
    ((3, 4), (4,)),
    ((4,), (3, 4)),
    ((1, 4), (3, 1)),
    ((), ()),
    ((), (2, 3)),
    ((0, 3), (3,)),
    ((1, 5), (1, 5)),
]

BINARY = {
    "add": ops.add,
    "sub": ops.sub,
    "mul": ops.mul,
    "div": ops.div,
    "div_floor": lambda a, b: ops.div(a, b, rounding_mode="floor"),
    "div_trunc": lambda a, b: ops.div(a, b, rounding_mode="trunc"),
    "pow": lambda a, b: ops.abs(a) ** b,
    "maximum": ops.maximum,
    "minimum": ops.minimum,
    "where": lambda a, b: ops.where(ops.gt(a, b), a, b),
    "clip_min": lambda a, b: ops.clip(a, b, None),
    "clip_max": lambda a, b: ops.clip(a, None, b),
    "clip_both": lambda a, b: ops.clip(a, b, b + 0.5),
    "gt": ops.gt,
    "ge": ops.ge,
    "lt": ops.lt,
    "le": ops.le,
    "eq": lambda a, b: ops.eq(ops.relu(a), ops.relu(b)),  # equal where both are negative
    "ne": ops.ne,
}

UNARY = {
    "neg": ops.neg,
    "exp": ops.exp,
    "log": lambda x: ops.log(ops.abs(x)),
    "log1p": lambda x: ops.log1p(ops.abs(x)),
    "sqrt": lambda x: ops.sqrt(ops.abs(x)),
    "abs": ops.abs,
    "erf": ops.erf,
    "sigmoid": ops.sigmoid,
    "tanh": ops.tanh,
    "relu": ops.relu,
    "square": lambda x: x**2,
    "pow_float": lambda x: ops.abs(x) ** 3.5,
    "rpow": lambda x: 2.0**x,
    "scalar_arith": lambda x: (2.0 - x) * 3.0 / 4.0 + 1.0,
    "clip_scalar": lambda x: ops.clip(x, -0.5, 0.7),
    "clip_scalar_max": lambda x: ops.clip(x, max=0.1),
    "gt_scalar": lambda x: ops.gt(x, 0.25),
}


def _values(rng, shape, dtype):
    return rng.standard_normal(shape).astype(dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shapes", PAIRS, ids=str)
def test_binary_ops_replay(rng, dtype, shapes):
    a, b = (_values(rng, s, dtype) for s in shapes)
    for name, fn in BINARY.items():
        with np.errstate(invalid="ignore", divide="ignore"):  # a negative base ** b is NaN
            try:
                check_replay(fn, a, b, seed=len(name))
            except AssertionError as e:
                raise AssertionError(f"{name}: {e}") from None


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(3, 4), (), (0, 2), (1, 3), (2, 1, 3)], ids=str)
def test_unary_ops_replay(rng, dtype, shape):
    x = _values(rng, shape, dtype)
    for name, fn in UNARY.items():
        with np.errstate(divide="ignore"):  # log(|0|) never happens, but say so
            try:
                check_replay(fn, x, seed=len(name))
            except AssertionError as e:
                raise AssertionError(f"{name}: {e}") from None


@pytest.mark.parametrize("dtype", DTYPES)
def test_non_contiguous_inputs_replay(rng, dtype):
    """Transposed and strided views of the inputs (their results are laid out as NumPy lays
    out a fresh call's, F-ordered here): the replay writes the same numbers into them."""
    x, y = _values(rng, (4, 6), dtype), _values(rng, (6, 4), dtype)
    cases = {
        "tanh_T": lambda x, y: ops.tanh(wrap(x.data.T)),
        "exp_strided": lambda x, y: ops.exp(wrap(x.data[:, ::2])),
        "add_T": lambda x, y: ops.add(wrap(x.data.T), y),
        "mul_T_column": lambda x, y: ops.mul(wrap(x.data.T), wrap(y.data[:, :1])),
        "where_T": lambda x, y: ops.where(ops.gt(y, 0), wrap(x.data.T), y),
        "sigmoid_T": lambda x, y: ops.sigmoid(wrap(x.data.T)),
    }
    for name, fn in cases.items():
        try:
            check_replay(fn, x, y)
        except AssertionError as e:
            raise AssertionError(f"{name}: {e}") from None


def test_integer_operands_are_converted_again_on_replay():
    """An integer tensor cast to the floating dtype by an op (pair, floating, integer true
    division): the replay casts the current integers, not the ones of the first call."""
    x = np.linspace(-2, 2, 12).reshape(3, 4).astype("float32")
    i = np.array([[1, -2, 3, -4]] * 3, dtype="int64")  # permuted by check_replay: no zeros
    check_replay(lambda x, i: x * i + i, x, i)
    check_replay(lambda x, i: ops.exp(i) + x, x, i)
    check_replay(lambda x, i: ops.div(i, i * 3) + x, x, i)
    check_replay(lambda x, i: ops.where(ops.gt(i, 0), x, -x), x, i)
    check_replay(lambda x, i: ops.div(i, 3, rounding_mode="trunc") * x, x, i)
    check_replay(lambda x, i: ops.div(i, -3, rounding_mode="floor") * x, x, i)
    check_replay(lambda x, i: ops.clip(i, -1.5, 2) * x, x, i)


def test_raw_arrays_are_read_by_reference():
    """Arrays passed as they are (targets, masks): one in the op's dtype is held as it is;
    one in another dtype is converted again from its current values on every replay."""
    x = np.linspace(-2, 2, 12).reshape(3, 4).astype("float32")
    same = np.linspace(1, 2, 12).reshape(3, 4).astype("float32")
    other = np.linspace(1, 2, 4).astype("float64")
    mask = np.array([True, False, True, False])
    check_replay(lambda x, t: (x - t) * (x - t), x, same, raw=(1,))
    check_replay(lambda x, t: ops.maximum(x, t) / t, x, other, raw=(1,))
    check_replay(lambda x, m: ops.where(m, x, 0.0), x, mask, raw=(1,))
    check_replay(lambda x, t: ops.clip(x, t, None), x, other, raw=(1,))


def test_comparisons_have_no_gradient_and_follow_new_values():
    x = np.array([-1.0, 0.0, 2.0], dtype="float32")
    check_replay(lambda x: ops.le(x, 0), x, new_inputs=[np.array([3.0, -3.0, 0.0], "float32")])
    from sinapsi import Tensor

    t = Tensor(x, requires_grad=True)
    assert not ops.gt(t, 0).requires_grad
    assert ops.gt(t, 0).dtype == np.bool_


@pytest.mark.parametrize("dtype", DTYPES)
def test_pow_replays_what_the_operator_computes(dtype):
    """``x ** p`` for the exponents NumPy may send to square, sqrt, reciprocal... and the
    values where those differ from power (-0.0, -inf): the replay gives ``**``'s numbers."""
    x = np.linspace(-2, 2, 8).astype(dtype)
    special = np.array([-0.0, 0.0, -np.inf, np.inf, np.nan, -1.5, 1e-30, 4.0], dtype=dtype)
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        for p in (0.5, 2, 2.0, -1, -1.0, 1, 0, 0.0, 3, -0.5):
            check_replay(lambda x, p=p: x**p, x, new_inputs=[special])
    check_replay(lambda i: i**2, np.arange(-3, 5))
