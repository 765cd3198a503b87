"""BatchNorm1d against torch.nn.BatchNorm1d: outputs, gradients and running statistics."""

import numpy as np
import pytest
import torch

import sinapsi as sn
from sinapsi import nn
from sinapsi.testing import check_module
from strategies import normal


@pytest.mark.parametrize("shape", [(8, 5), (6, 5, 3)])
@pytest.mark.parametrize(
    "kwargs",
    [{}, {"momentum": 0.3}, {"momentum": None}, {"affine": False}, {"eps": 1e-3},
     {"track_running_stats": False}],
)  # fmt: skip
def test_batchnorm_training_steps_match_torch(shape, kwargs):
    x = normal(2, shape) * 3 + 1.5
    check_module(nn.BatchNorm1d(5, **kwargs), torch.nn.BatchNorm1d(5, **kwargs), [x], steps=4)


@pytest.mark.parametrize("shape", [(8, 5), (1, 5), (6, 5, 3)])
def test_batchnorm_eval_uses_running_statistics_like_torch(shape):
    bn = nn.BatchNorm1d(5)
    bn.running_mean[:] = np.linspace(-1, 1, 5)
    bn.running_var[:] = np.linspace(0.5, 2, 5)
    bn.weight.data[:] = np.linspace(0.5, 1.5, 5)
    check_module(bn, torch.nn.BatchNorm1d(5), [normal(3, shape)], training=False)


def test_running_statistics_after_training_match_torch():
    ours, theirs = nn.BatchNorm1d(4), torch.nn.BatchNorm1d(4)
    rng = np.random.default_rng(0)
    for _ in range(10):
        x = rng.standard_normal((16, 4)) * 2 + 3
        ours(sn.tensor(x))
        theirs(torch.tensor(x, dtype=torch.float32))
    np.testing.assert_allclose(ours.running_mean, theirs.running_mean.numpy(), rtol=1e-5)
    np.testing.assert_allclose(ours.running_var, theirs.running_var.numpy(), rtol=1e-5)
    assert int(ours.num_batches_tracked) == int(theirs.num_batches_tracked) == 10


def test_batchnorm_errors():
    bn = nn.BatchNorm1d(3)
    with pytest.raises(ValueError, match=r"more than 1 value per channel .* model.eval\(\)"):
        bn(sn.tensor(np.ones((1, 3))))
    with pytest.raises(ValueError, match=r"BatchNorm1d\(3\) expects input of shape \(N, 3\)"):
        bn(sn.tensor(np.ones((4, 2))))
    with pytest.raises(
        ValueError,
        match=r"momentum must be in \[0, 1\] or None. Received: "
        r"momentum=1.5",
    ):
        nn.BatchNorm1d(3, momentum=1.5)
    bn.eval()
    assert bn(sn.tensor(np.ones((1, 3)))).shape == (1, 3)  # single sample is fine in eval


def test_float64_model_keeps_float64_for_raw_array_input():
    bn = nn.BatchNorm1d(3).astype("float64")
    out = bn(np.random.default_rng(0).standard_normal((4, 3)))
    assert out.dtype == np.float64


# ------------------------------------------------------------------------- Normalization
# Preprocessing inside the model (issue 14.4): y = (x - mean) / scale over the last axis, with
# mean and scale as buffers, so a saved model standardizes raw inputs by itself.


def _raw_features(seed=0, n=50):
    """Columns on very different scales, as raw pixels or sensor readings are."""
    rng = np.random.default_rng(seed)
    return rng.normal([0.0, 100.0, -3.0, 5e3], [1.0, 30.0, 0.01, 2e3], size=(n, 4))


def test_adapt_matches_standardizer_exactly():
    from sinapsi.data import Standardizer

    x = _raw_features().astype(np.float32)
    layer = nn.Normalization().adapt(x)
    scaler = Standardizer().fit(x)
    assert layer.num_features == 4
    assert layer.mean.dtype == layer.scale.dtype == np.float32
    assert layer.mean.shape == layer.scale.shape == (4,)
    np.testing.assert_array_equal(layer.mean, scaler.mean_.astype(np.float32))
    np.testing.assert_array_equal(layer.scale, scaler.scale_.astype(np.float32))
    np.testing.assert_array_equal(layer(x).data, scaler.transform(x))


def test_forward_matches_numpy_and_torch_on_any_leading_shape():
    x = _raw_features(1, n=24)
    mean, scale = x.mean(axis=0), x.std(axis=0)
    layer = nn.Normalization(mean=mean, scale=scale)
    assert layer.mean.dtype == np.float32
    for shape in [(24, 4), (3, 4, 4), (6, 1, 4)]:
        xs = x.reshape(-1, 4)[: int(np.prod(shape[:-1]))].reshape(shape).astype(np.float32)
        expected = (xs - mean.astype(np.float32)) / scale.astype(np.float32)
        got = layer(xs)
        assert got.dtype == np.float32 and got.shape == shape
        np.testing.assert_array_equal(got.data, expected)
        theirs = (torch.from_numpy(xs) - torch.from_numpy(mean.astype(np.float32))) / (
            torch.from_numpy(scale.astype(np.float32))
        )
        np.testing.assert_allclose(got.data, theirs.numpy(), rtol=1e-6)


def test_raw_integer_input_is_standardized_in_the_layer_dtype():
    digits = np.random.default_rng(0).integers(0, 17, size=(30, 4))
    layer = nn.Normalization().adapt(digits)
    out = layer(digits)
    assert out.dtype == np.float32
    np.testing.assert_allclose(out.data.mean(axis=0), 0, atol=1e-6)
    np.testing.assert_allclose(out.data.std(axis=0), 1, rtol=1e-5)


def test_input_gradient_by_gradcheck_float64():
    x64 = _raw_features(2, n=5)
    layer = nn.Normalization(dtype="float64").adapt(x64)
    assert layer.mean.dtype == np.float64
    x = sn.tensor(x64 * 0.5, dtype="float64", requires_grad=True)
    assert sn.gradcheck(layer, [x])
    assert layer(x).dtype == np.float64
    assert layer.num_parameters() == 0  # nothing to train


def test_float64_layer_from_arguments_and_default_dtype():
    with sn.default_dtype("float64"):
        layer = nn.Normalization(mean=[1.0, 2.0], scale=[2.0, 4.0])
    assert layer.mean.dtype == np.float64
    np.testing.assert_array_equal(layer([[3.0, 6.0]]).data, [[1.0, 1.0]])
    explicit = nn.Normalization(mean=[1.0, 2.0], scale=[2.0, 4.0], dtype="float64")
    assert explicit.scale.dtype == np.float64


def test_constant_column_gets_scale_one():
    x = np.array([[1.0, 5.0], [3.0, 5.0], [5.0, 5.0]])
    layer = nn.Normalization().adapt(x)
    np.testing.assert_array_equal(layer.scale, [np.float32(np.std([1.0, 3.0, 5.0])), 1.0])
    np.testing.assert_array_equal(layer(x).data[:, 1], [0.0, 0.0, 0.0])


def test_eps_floors_the_scale_as_keras():
    layer = nn.Normalization(mean=[0.0, 0.0], scale=[1e-9, 2.0], eps=1e-3)
    np.testing.assert_allclose(layer([[1.0, 1.0]]).data, [[1e3, 0.5]], rtol=1e-6)
    assert layer.get_config() == {"num_features": 2, "eps": 1e-3}
    assert nn.Normalization(3).get_config() == {"num_features": 3}


def test_adapt_accepts_a_tensor_and_readapts_in_place():
    layer = nn.Normalization(2)
    layer.adapt(sn.tensor([[0.0, 1.0], [2.0, 3.0]]))
    np.testing.assert_array_equal(layer.mean, [1.0, 2.0])
    mean_before = layer.mean
    layer.adapt(np.array([[10.0, 0.0], [10.0, 4.0]]))
    np.testing.assert_array_equal(layer.mean, [10.0, 2.0])
    np.testing.assert_array_equal(layer.scale, [1.0, 2.0])
    np.testing.assert_array_equal(mean_before, [1.0, 2.0])  # a new array, not overwritten


def test_from_standardizer():
    from sinapsi.data import Standardizer

    x = _raw_features(3)
    scaler = Standardizer().fit(x)
    layer = nn.Normalization.from_standardizer(scaler)
    assert layer.num_features == 4 and layer.mean.dtype == np.float32
    np.testing.assert_array_equal(layer(x.astype(np.float32)).data,
                                  scaler.transform(x.astype(np.float32)))  # fmt: skip
    with pytest.raises(ValueError, match=r"from_standardizer: the Standardizer is not fitted"):
        nn.Normalization.from_standardizer(Standardizer())
    with pytest.raises(TypeError, match=r"needs a fitted Standardizer .* got int"):
        nn.Normalization.from_standardizer(3)


def test_save_load_round_trip_rebuilds_the_statistics(tmp_path):
    x = _raw_features(4)
    model = nn.Sequential(
        nn.Normalization().adapt(x), nn.Linear(4, 8, rng=0), nn.ReLU(), nn.Linear(8, 3, rng=1)
    )
    path = sn.save(model, tmp_path / "m.npz")
    loaded = sn.load(path)
    assert type(loaded[0]) is nn.Normalization
    assert list(loaded.state_dict()) == ["1.weight", "1.bias", "3.weight", "3.bias",
                                         "0.mean", "0.scale"]  # fmt: skip
    np.testing.assert_array_equal(loaded[0].mean, model[0].mean)
    np.testing.assert_array_equal(loaded[0].scale, model[0].scale)
    np.testing.assert_array_equal(sn.predict(loaded, x), sn.predict(model, x))


def test_an_unadapted_model_saves_and_loads_unadapted(tmp_path):
    for layer in (nn.Normalization(), nn.Normalization(3)):
        loaded = sn.load(sn.save(nn.Sequential(layer, nn.Linear(3, 1, rng=0)), tmp_path / "m.npz"))
        with pytest.raises(RuntimeError, match=r"has no statistics yet.*saved before adapt"):
            loaded(np.zeros((2, 3)))
        loaded[0].adapt(np.arange(6.0).reshape(2, 3))
        assert loaded(np.zeros((2, 3))).shape == (2, 1)


def test_astype_before_adapt_sets_the_dtype():
    model = nn.Sequential(nn.Normalization(), nn.Linear(4, 1, rng=0)).astype("float64")
    model[0].adapt(_raw_features())
    assert model[0].mean.dtype == model[0].scale.dtype == np.float64
    assert sn.predict(model, _raw_features(1)).dtype == np.float64


def test_state_dict_is_strict_about_the_statistics():
    layer = nn.Normalization(3)
    with pytest.raises(nn.StateDictError, match=r"missing keys: scale"):
        layer.load_state_dict({"mean": np.zeros(3)})
    with pytest.raises(nn.StateDictError, match=r"mean: expected shape \(3,\), got \(2,\)"):
        layer.load_state_dict({"mean": np.zeros(2), "scale": np.ones(3)})
    layer.load_state_dict({"mean": np.arange(3.0), "scale": np.full(3, 2.0)})
    assert layer.mean.dtype == np.float32
    np.testing.assert_array_equal(layer([[0.0, 1.0, 2.0]]).data, [[0.0, 0.0, 0.0]])


def test_summary_lists_the_layer():
    model = nn.Sequential(nn.Normalization().adapt(_raw_features()), nn.Linear(4, 2, rng=0))
    table = model.summary((4,), print_fn=None)
    assert "Normalization" in table and "(None, 4)" in table
    assert "Total params: 10" in table


def test_normalization_errors():
    layer = nn.Normalization(3)
    with pytest.raises(RuntimeError, match=r"Normalization\(3\) has no statistics yet.*adapt"):
        layer(np.zeros((2, 3)))
    with pytest.raises(RuntimeError, match=r"Normalization\(\) has no statistics yet"):
        nn.Normalization()(np.zeros((2, 3)))
    layer.adapt(np.arange(6.0).reshape(2, 3))
    with pytest.raises(ValueError, match=r"Normalization\(3\) expects inputs whose last axis "
                       r"has 3 features; got shape \(2, 5\)"):  # fmt: skip
        layer(np.zeros((2, 5)))
    with pytest.raises(ValueError, match=r"adapt: x has 0 samples"):
        nn.Normalization().adapt(np.zeros((0, 3)))
    with pytest.raises(ValueError, match=r"adapt: x has 0 features \(shape \(5, 0\)\)"):
        nn.Normalization().adapt(np.zeros((5, 0)))
    with pytest.raises(ValueError, match=r"adapt: x has 5 features, but the layer was built "
                       r"for 3"):  # fmt: skip
        nn.Normalization(3).adapt(np.zeros((4, 5)))
    with pytest.raises(ValueError, match=r"adapt: x must have shape \(n_samples, n_features\)"):
        nn.Normalization().adapt(np.zeros(4))
    with pytest.raises(ValueError, match=r"adapt: x contains 1 NaN"):
        nn.Normalization().adapt(np.array([[1.0], [np.nan]]))
    with pytest.raises(ValueError, match=r"pass both mean and scale, or neither"):
        nn.Normalization(mean=[0.0, 1.0])
    with pytest.raises(ValueError, match=r"mean has 2 features and scale has 3"):
        nn.Normalization(mean=[0.0, 1.0], scale=[1.0, 1.0, 1.0])
    with pytest.raises(ValueError, match=r"num_features=3, but mean has 2"):
        nn.Normalization(3, mean=[0.0, 1.0], scale=[1.0, 1.0])
    with pytest.raises(ValueError, match=r"scale must be positive and finite.*got scale\[1\]=0.0"):
        nn.Normalization(mean=[0.0, 1.0], scale=[1.0, 0.0])
    with pytest.raises(ValueError, match=r"got scale\[0\]=-1.0"):
        nn.Normalization(mean=[0.0, 1.0], scale=[-1.0, 1.0], eps=0.1)
    with pytest.raises(ValueError, match=r"mean must be finite; got mean\[1\]=nan"):
        nn.Normalization(mean=[0.0, np.nan], scale=[1.0, 1.0])
    with pytest.raises(ValueError, match=r"num_features must be a positive integer"):
        nn.Normalization(0)
    with pytest.raises(ValueError, match=r"eps must be >= 0 .*Received: eps=-1"):
        nn.Normalization(2, eps=-1)


def test_a_trained_model_predicts_raw_data_after_load(tmp_path):
    """Issue 14.4's scenario: the standardization travels in the model file, so the loaded
    model, given raw data, predicts as the trained one did."""
    from sinapsi.data import datasets

    X, y = datasets.circles(240, noise=0.05, seed=0)
    raw = X * np.array([1e3, 1e-2]) + np.array([5e3, -7.0])  # wildly scaled columns
    model = nn.Sequential(
        nn.Normalization().adapt(raw), nn.Linear(2, 16, rng=0), nn.Tanh(), nn.Linear(16, 2, rng=1)
    )
    sn.fit(model, raw, y, epochs=30, batch_size=32, lr=0.05, seed=0, verbose=0)
    accuracy = float((sn.predict_classes(model, raw) == y).mean())
    assert accuracy > 0.9
    loaded = sn.load(sn.save(model, tmp_path / "model.safetensors"))
    np.testing.assert_array_equal(sn.predict_classes(loaded, raw), sn.predict_classes(model, raw))
    expected = nn.Normalization().adapt(raw)
    np.testing.assert_array_equal(loaded[0].mean, expected.mean)  # never trained by fit
    np.testing.assert_array_equal(loaded[0].scale, expected.scale)


def test_from_a_scikit_learn_standard_scaler():
    preprocessing = pytest.importorskip("sklearn.preprocessing")
    x = _raw_features(5)
    x[:, 2] = 7.0  # a constant column: scale 1 on both sides
    scaler = preprocessing.StandardScaler().fit(x)
    layer = nn.Normalization.from_standardizer(scaler, dtype="float64")
    np.testing.assert_allclose(layer(x).data, scaler.transform(x), rtol=1e-12, atol=1e-12)
    np.testing.assert_array_equal(layer.scale, nn.Normalization().astype("float64").adapt(x).scale)
