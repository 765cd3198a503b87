"""pad against torch.nn.functional.pad in every mode: growing, cropping (negative pads), the
axes each mode accepts, gradients, and one-line errors."""

import numpy as np
import pytest
import torch.nn.functional as F

import sinapsi as sn
from sinapsi.testing import check_op
from strategies import normal

CASES = [
    # (shape, pad, mode)
    ((2, 3, 4), (1, 2), "constant"),
    ((2, 3, 4), (1, 2, 0, 3), "constant"),
    ((2, 3, 4), (1, 1, 2, 2, 1, 0), "constant"),
    ((5,), (2, 1), "constant"),
    ((2, 3, 4), (-1, 2, 1, -2), "constant"),
    ((2, 3, 4), (0, 0), "constant"),
    ((3, 4), (1, 2), "reflect"),
    ((2, 3, 4), (3, 2, 2, 1), "reflect"),
    ((1, 2, 3, 4), (1, 1, 2, 2), "reflect"),
    ((1, 2, 3, 4, 3), (1, 2, 2, 0, 1, 1), "reflect"),
    ((2, 3, 5), (-1, 2), "reflect"),
    ((3, 4), (2, 3), "replicate"),
    ((2, 3, 4), (3, 0, 1, 4), "replicate"),
    ((1, 2, 3, 4), (1, -1, 2, 2), "replicate"),
    ((1, 2, 3, 4), (1, 1, 1, 1, 1, 1), "replicate"),
    ((3, 4), (-1, 2), "circular"),
    ((3, 4), (4, 2), "circular"),
    ((1, 2, 3, 4), (1, 3, 3, 2), "circular"),
    ((2, 3, 4), (2, -1, -1, 1), "circular"),
]


@pytest.mark.parametrize(("shape", "widths", "mode"), CASES)
def test_pad_matches_torch(shape, widths, mode):
    check_op(
        lambda x: sn.ops.pad(x, widths, mode=mode),
        lambda x: F.pad(x, widths, mode=mode),
        [normal(1, shape)],
    )


def test_pad_constant_value_and_list_argument():
    check_op(
        lambda x: sn.ops.pad(x, [2, 1, 1, 0], value=-1.5),
        lambda x: F.pad(x, (2, 1, 1, 0), value=-1.5),
        [normal(2, (2, 3, 3))],
    )


def test_pad_keeps_dtype_and_integers():
    x = sn.tensor(np.arange(6).reshape(2, 3), dtype="int64")
    out = sn.ops.pad(x, (1, 1), value=7)
    assert out.dtype == np.int64
    np.testing.assert_array_equal(out.data[0], [7, 0, 1, 2, 7])
    assert sn.ops.pad(sn.tensor(np.ones((2, 2)), dtype="float32"), (1, 1)).dtype == np.float32


def _t(shape):
    return sn.tensor(np.zeros(shape, dtype="float32"))


@pytest.mark.parametrize(
    ("shape", "widths", "kw", "error", "match"),
    [
        ((2, 3), (1, 2, 3), {}, ValueError,
         r"^pad: pad must have an even length \(before, after\) pairs from the last axis; "
         r"got \(1, 2, 3\)"),
        ((2, 3), (1, 1, 1, 1, 1, 1), {}, ValueError,
         r"^pad: pad has 3 \(before, after\) pairs but the input has only 2 axes "
         r"\(shape \(2, 3\)\)"),
        ((2, 3), (1, 1.5), {}, TypeError, r"^pad: pad must be a sequence of ints; got \(1, 1.5\)"),
        ((2, 3), (1, 1), {"mode": "mirror"}, ValueError,
         r"^pad: mode must be one of 'constant', 'reflect', 'replicate', 'circular'; "
         r"got 'mirror'"),
        ((3,), (1, 1), {"mode": "reflect"}, ValueError,
         r"^pad: mode 'reflect' with 1 padded axis needs a 2-D or 3-D input; got shape \(3,\)"),
        ((2, 3, 4), (4, 1), {"mode": "reflect"}, ValueError,
         r"^pad: mode 'reflect' needs each pad smaller than its axis; got pad \(4, 1\) for an "
         r"axis of size 4"),
        ((2, 3, 4), (5, 1), {"mode": "circular"}, ValueError,
         r"^pad: mode 'circular' needs each pad at most the size of its axis"),
        ((2, 3, 4), (-3, -2), {}, ValueError,
         r"^pad: the pad \(-3, -2\) crops more than the axis of size 4 holds"),
    ],
)  # fmt: skip
def test_pad_errors(shape, widths, kw, error, match):
    with pytest.raises(error, match=match) as info:
        sn.ops.pad(_t(shape), widths, **kw)
    assert "\n" not in str(info.value)
