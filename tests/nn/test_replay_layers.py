"""The core layers and batch normalization replay through their ops (what sinapsi.capture
relies on), tested as modules: Linear, Embedding, Flatten, Unflatten, Identity, Dropout,
Dropout2d (the same draws from the layer's Generator), BatchNorm1d/2d in train mode (the
running statistics and the batch count updated as the forward does) and in eval mode."""

import numpy as np
import pytest

from sinapsi import _numba, nn
from sinapsi.testing import check_replay

DTYPES = (np.float32, np.float64)


def _draw(shape, dtype, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(5, 4), (1, 4), (0, 4), (4,), (2, 3, 4)])
@pytest.mark.parametrize("bias", [True, False])
def test_linear_replays(bias, shape, dtype):
    layer = nn.Linear(4, 3, bias=bias, rng=0, dtype=dtype)
    check_replay(lambda x: layer(x), _draw(shape, dtype))


def test_a_small_mlp_replays():
    model = nn.Sequential(nn.Linear(2, 8, rng=1), nn.Tanh(), nn.Linear(8, 8, rng=2), nn.ReLU(),
                          nn.Linear(8, 1, rng=3))  # fmt: skip
    check_replay(lambda x: model(x), _draw((10, 2), np.float32))


@pytest.mark.parametrize("dtype", DTYPES)
def test_embedding_replays_the_current_ids(dtype):
    layer = nn.Embedding(7, 3, rng=0, dtype=dtype)
    ids = np.array([[0, 6, 6], [2, 1, 0]])
    check_replay(lambda i, x: layer(i) * x, ids, _draw((2, 3, 3), dtype), raw=[0])
    check_replay(lambda i, x: layer(i) * x, np.array(4), _draw(3, dtype), raw=[0])  # 0-d id


@pytest.mark.parametrize("dtype", DTYPES)
def test_shape_layers_replay(dtype):
    x = _draw((2, 3, 4), dtype)
    check_replay(lambda t: nn.Flatten()(t), x)
    check_replay(lambda t: nn.Flatten(0, 1)(t), x)
    check_replay(lambda t: nn.Unflatten(1, (2, 6))(nn.Flatten(1)(t)), x)
    check_replay(lambda t: nn.Identity()(t) * 2.0, x)
    check_replay(lambda t: nn.Flatten()(t.transpose(0, 2, 1)), x)  # a copying reshape


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(6, 5), (1, 3), (0, 3), (2, 3, 4)])
@pytest.mark.parametrize("p", [0.4, 1.0, 0.0])
def test_dropout_replays_the_same_draws(p, shape, dtype):
    layer = nn.Dropout(p, rng=3)
    check_replay(lambda x: layer(x) * 1.0, _draw(shape, dtype), rngs=[layer.rng], rounds=3)
    layer.eval()
    check_replay(lambda x: layer(x) * 1.0, _draw(shape, dtype), rngs=[layer.rng])


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(2, 3, 4, 4), (3, 2, 2), (1, 1, 2, 2)])
def test_dropout2d_replays_the_same_draws(shape, dtype):
    layer = nn.Dropout2d(0.5, rng=4)
    check_replay(lambda x: layer(x), _draw(shape, dtype), rngs=[layer.rng], rounds=3)
    x = _draw((2, 4, 3, 3), dtype).transpose(0, 2, 3, 1).copy()  # channels-last memory
    check_replay(lambda t: layer(t.transpose(0, 3, 1, 2)), x, rngs=[layer.rng])


def _buffers(layer):
    return [layer.running_mean, layer.running_var, layer.num_batches_tracked]


@pytest.mark.parametrize("kernels", [True, False])
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(
    "make, shape",
    [(nn.BatchNorm1d, (6, 3)), (nn.BatchNorm1d, (2, 3)), (nn.BatchNorm1d, (4, 3, 5)),
     (nn.BatchNorm2d, (2, 3, 4, 4)), (nn.BatchNorm2d, (1, 3, 2, 3))],
)  # fmt: skip
@pytest.mark.parametrize("affine, momentum", [(True, 0.1), (False, None)])
def test_batch_norm_layers_replay_in_train_and_eval_mode(affine, momentum, make, shape, dtype,
                                                         kernels):  # fmt: skip
    layer = make(3, affine=affine, momentum=momentum, dtype=dtype)
    with _numba.use_kernels(kernels):
        check_replay(lambda x: layer(x), _draw(shape, dtype), buffers=_buffers(layer))
        assert int(layer.num_batches_tracked) == 3  # the record, then one eager call a round
        layer.eval()
        check_replay(lambda x: layer(x), _draw(shape, dtype), buffers=_buffers(layer))
        layer = make(3, affine=affine, track_running_stats=False, dtype=dtype)
        check_replay(lambda x: layer(x), _draw(shape, dtype))


def test_batch_norm_counts_like_before():
    # the op now counts num_batches_tracked in place: the module's numbers are unchanged
    layer = nn.BatchNorm1d(2, momentum=None)
    x = _draw((5, 2), np.float64)
    for _ in range(3):
        layer(x)
    assert int(layer.num_batches_tracked) == 3
    expected_mean = x.mean(axis=0)
    np.testing.assert_allclose(layer.running_mean, expected_mean.astype(np.float32), rtol=1e-5)
    layer.num_batches_tracked = 7  # a plain int (as a loaded state might set it) counts too
    layer(x)
    assert int(layer.num_batches_tracked) == 8


@pytest.mark.parametrize("dtype", DTYPES)
def test_point_features_replay(dtype):
    layer = nn.PointFeatures(["x1", "x2^2", "x1*x2", "sin(x1)", "sin(x2)"])
    check_replay(lambda x: layer(x), _draw((6, 2), dtype))
    check_replay(lambda x: nn.PointFeatures(["sin(x2)"])(x), _draw((1, 2), dtype))
