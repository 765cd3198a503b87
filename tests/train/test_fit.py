"""fit(): equal to a hand-written PyTorch loop, reaches its accuracy targets, reproducible,
and refuses bad data before training with messages that say what to do."""

import math

import numpy as np
import pytest
import torch
from sklearn.datasets import load_digits

import sinapsi as sn
from sinapsi import nn, optim
from sinapsi.data.datasets import spiral


def twin_mlp(dtype="float64"):
    ours = nn.Sequential(
        nn.Linear(5, 16, rng=0),
        nn.Tanh(),
        nn.Linear(16, 8, rng=1),
        nn.ReLU(),
        nn.Linear(8, 3, rng=2),
    ).astype(dtype)
    theirs = torch.nn.Sequential(
        torch.nn.Linear(5, 16), torch.nn.Tanh(), torch.nn.Linear(16, 8), torch.nn.ReLU(),
        torch.nn.Linear(8, 3),
    ).to(getattr(torch, dtype))  # fmt: skip
    theirs.load_state_dict({k: torch.tensor(v) for k, v in ours.state_dict().items()})
    return ours, theirs


@pytest.mark.parametrize(
    "make_optimizers",
    [
        lambda a, b: (optim.SGD(a, lr=0.1, momentum=0.9), torch.optim.SGD(b, lr=0.1, momentum=0.9)),
        lambda a, b: (optim.Adam(a, lr=0.01), torch.optim.Adam(b, lr=0.01)),
    ],
    ids=["sgd_momentum", "adam"],
)
def test_fit_equals_a_hand_written_torch_loop(make_optimizers):
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((50, 5)), rng.integers(0, 3, 50)
    ours, theirs = twin_mlp()
    opt, topt = make_optimizers(ours.parameters(), theirs.parameters())
    history = sn.fit(ours, x, y, loss="cross_entropy", optimizer=opt, epochs=6, batch_size=16,
                     shuffle=False, verbose=0)  # fmt: skip

    expected = []
    tx, ty = torch.tensor(x), torch.tensor(y)
    for _ in range(6):
        total = 0.0
        for i in range(0, 50, 16):
            topt.zero_grad()
            loss = torch.nn.functional.cross_entropy(theirs(tx[i : i + 16]), ty[i : i + 16])
            loss.backward()
            topt.step()
            total += loss.item() * len(tx[i : i + 16])
        expected.append(total / 50)
    np.testing.assert_allclose(history.history["loss"], expected, rtol=1e-8)


def test_digits_mlp_reaches_97_percent():
    data = load_digits()
    x, y = data.data / 16.0, data.target
    order = np.random.default_rng(0).permutation(len(y))
    x, y = x[order], y[order]
    train, test = slice(0, 1400), slice(1400, None)
    model = nn.Sequential(
        nn.Linear(64, 128, init="he", rng=0), nn.BatchNorm1d(128), nn.ReLU(),
        nn.Dropout(0.2, rng=1), nn.Linear(128, 10, rng=2),
    )  # fmt: skip
    sn.fit(model, x[train], y[train], epochs=15, batch_size=32, seed=0, verbose=0)
    result = sn.evaluate(model, x[test], y[test], metrics=["accuracy"])
    assert result["accuracy"] >= 0.97, result  # measured: 0.990 at 20 epochs


def test_spiral_two_hidden_tanh_reaches_95_percent():
    x, y = spiral(600, noise=0.1, seed=0)  # TensorFlow Playground's spiral, shuffled
    model = nn.Sequential(
        nn.Linear(2, 32, init="xavier", rng=0), nn.Tanh(), nn.Linear(32, 32, init="xavier", rng=1),
        nn.Tanh(), nn.Linear(32, 2, rng=2),
    )  # fmt: skip
    sn.fit(model, x[:480], y[:480], lr=0.01, epochs=150, batch_size=32, seed=0, verbose=0)
    result = sn.evaluate(model, x[480:], y[480:], metrics=["accuracy"])
    assert result["accuracy"] >= 0.95, result


def test_same_seed_gives_a_bit_identical_history():
    rng = np.random.default_rng(1)
    x, y = rng.standard_normal((80, 5)), rng.integers(0, 3, 80)

    def run():
        model = nn.Sequential(nn.Linear(5, 8, rng=0), nn.ReLU(), nn.Dropout(0.3, rng=5),
                              nn.Linear(8, 3, rng=1))  # fmt: skip
        h = sn.fit(model, x, y, epochs=4, batch_size=16, validation_split=0.2, seed=42,
                   metrics=["accuracy"], verbose=0)  # fmt: skip
        return {k: v for k, v in h.history.items() if k != "time"}, h.grad_norms

    assert run() == run()


def test_history_records_losses_metrics_lr_time_and_gradient_norms(tmp_path):
    rng = np.random.default_rng(2)
    x, y = rng.standard_normal((40, 5)), rng.integers(0, 3, 40)
    model = nn.Sequential(nn.Linear(5, 8, rng=0), nn.ReLU(), nn.Linear(8, 3, rng=1))
    h = sn.fit(model, x, y, epochs=3, batch_size=8, metrics=["accuracy", "top5"],
               validation_data=(x[:10], y[:10]), verbose=0,
               lr_scheduler=lambda opt: optim.StepLR(opt, 1, gamma=0.5), lr=0.01)  # fmt: skip
    keys = {"loss", "accuracy", "top5", "val_loss", "val_accuracy", "val_top5", "lr", "time"}
    assert set(h.history) == keys
    assert h.history["lr"] == pytest.approx([0.01, 0.005, 0.0025])
    assert set(h.grad_norms) == {"0 Linear", "2 Linear"}
    assert all(len(v) == 3 and all(n > 0 for n in v) for v in h.grad_norms.values())
    assert h.epoch == [1, 2, 3] and len(h) == 3
    h.save(tmp_path / "history.json")
    import json

    saved = json.loads((tmp_path / "history.json").read_text())
    assert saved["history"]["loss"] == h.history["loss"]
    assert h.best_epoch("val_loss") in (1, 2, 3)
    assert not model.training  # fit leaves the model in eval mode


def test_clip_grad_norm_and_per_step_schedules_run():
    rng = np.random.default_rng(3)
    x, y = rng.standard_normal((32, 5)), rng.integers(0, 3, 32)
    model = nn.Sequential(nn.Linear(5, 3, rng=0))
    h = sn.fit(model, x, y, epochs=2, batch_size=8, clip_grad_norm=0.1, optimizer="sgd", lr=0.1,
               lr_scheduler=lambda o: optim.LinearWarmup(o, 8), scheduler_interval="step",
               verbose=0)  # fmt: skip
    # warmup from lr/3 to lr over 8 steps, 4 steps per epoch; "lr" is logged at epoch end
    assert h.history["lr"][0] == pytest.approx(0.1 * (1 / 3 + 4 / 8 * 2 / 3))
    assert h.history["lr"][1] == pytest.approx(0.1)


# ------------------------------------------------------------------------------ guards
def small_model():
    return nn.Sequential(nn.Linear(3, 4, rng=0), nn.ReLU(), nn.Linear(4, 2, rng=1))


@pytest.mark.parametrize(
    "x,y,pattern",
    [
        (np.zeros((0, 3)), np.zeros(0, np.int64), r"the data set is empty"),
        (np.zeros((10, 3)), np.zeros(9, np.int64), r"x has 10 samples but y has 9"),
        (np.where(np.eye(10, 3) > 0, np.nan, 0.0), np.zeros(10, np.int64),
         r"x holds 3 NaN/Inf values \(first at index \(0, 0\)\). Impute or drop"),
        (np.zeros((10, 3)), np.full(10, 2), r"fit: label 2 is out of range for 2 classes"),
        (np.zeros((10, 3)), np.full(10, -1), r"label -1 is out of range"),
        (np.zeros((10, 3)), np.full(10, 0.5),
         r"needs class labels 0\.\.C-1, but y is float64 with shape \(10,\) and holds non-int"),
    ],
)  # fmt: skip
def test_bad_data_fails_before_training(x, y, pattern):
    model = small_model()
    before = model.state_dict()
    with pytest.raises((ValueError, TypeError, IndexError), match=pattern):
        sn.fit(model, x, y, epochs=1, verbose=0)
    for k, v in model.state_dict().items():
        np.testing.assert_array_equal(v, before[k])  # nothing was trained


@pytest.mark.parametrize(
    "kwargs,pattern",
    [
        ({"epochs": 0}, r"epochs must be an integer >= 1. Received: epochs=0"),
        ({"batch_size": 0}, r"batch_size must be an integer >= 1"),
        ({"verbose": 3}, r"verbose must be 0, 1 or 2"),
        ({"validation_split": 1.5}, r"validation_split must be in \(0, 1\)"),
        ({"metrics": ["acuracy"]}, r"'metrics' parameter of fit must be a str among"),
        ({"loss": "hinge"}, r"'loss' parameter .* must be a str among"),
        ({"optimizer": "adamm"}, r"'optimizer' parameter .* must be a str among"),
        ({"clip_grad_norm": -1.0}, r"clip_grad_norm must be positive"),
    ],
)
def test_bad_arguments_are_clear_errors(kwargs, pattern):
    x, y = np.zeros((10, 3)), np.zeros(10, np.int64)
    with pytest.raises(ValueError, match=pattern):
        sn.fit(small_model(), x, y, **{"verbose": 0, **kwargs})


def test_a_diverging_loss_stops_with_the_epoch_batch_and_causes():
    rng = np.random.default_rng(4)
    x = rng.standard_normal((64, 3)) * 100
    y = rng.standard_normal((64, 1)) * 100
    model = nn.Sequential(nn.Linear(3, 16, rng=0), nn.ReLU(), nn.Linear(16, 1, rng=1))
    with np.errstate(over="ignore", invalid="ignore"):
        with pytest.raises(
            FloatingPointError,
            match=r"the loss became (nan|inf) at epoch \d+, "
            r"batch \d+.*learning rate too high.*clip_grad_norm",
        ):
            sn.fit(model, x, y, loss="mse", optimizer="sgd", lr=10.0, epochs=50, batch_size=8,
                   verbose=0)  # fmt: skip


# ---------------------------------------------------------------------------- inference
def test_predict_is_eval_mode_without_graph_and_restores_the_mode():
    model = nn.Sequential(nn.Linear(3, 4, rng=0), nn.Dropout(0.9, rng=1), nn.Linear(4, 2, rng=2))
    model.train()
    x = np.random.default_rng(5).standard_normal((300, 3))
    a = sn.predict(model, x, batch_size=64)
    b = sn.predict(model, x, batch_size=1000)
    np.testing.assert_array_equal(a, b)  # no dropout, batch size does not matter
    assert model.training
    proba = sn.predict_proba(model, x)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-6)
    np.testing.assert_array_equal(sn.predict_classes(model, x), a.argmax(axis=1))
    binary = nn.Sequential(nn.Linear(3, 1, rng=0))
    p = sn.predict_proba(binary, x)
    assert p.shape == (300, 2)
    np.testing.assert_array_equal(sn.predict_classes(binary, x), (sn.predict(binary, x)[:, 0] > 0))


def test_evaluate_regression_metrics_match_sklearn():
    from sklearn.metrics import mean_absolute_error, r2_score

    rng = np.random.default_rng(6)
    x, y = rng.standard_normal((50, 3)), rng.standard_normal(50)
    model = nn.Sequential(nn.Linear(3, 1, rng=0))
    pred = sn.predict(model, x)[:, 0]
    result = sn.evaluate(model, x, y[:, None], loss="mse", metrics=["mae", "rmse", "r2"])
    assert result["mae"] == pytest.approx(mean_absolute_error(y, pred), rel=1e-6)
    assert result["rmse"] == pytest.approx(math.sqrt(np.mean((y - pred) ** 2)), rel=1e-6)
    assert result["r2"] == pytest.approx(r2_score(y, pred), rel=1e-5)
    assert result["loss"] == pytest.approx(np.mean((y - pred) ** 2), rel=1e-5)


def test_top_k_accuracy_matches_sklearn():
    from sklearn.metrics import top_k_accuracy_score

    rng = np.random.default_rng(7)
    scores, y = rng.standard_normal((100, 6)), rng.integers(0, 6, 100)
    for k in (1, 2, 5):
        assert sn.train.top_k_accuracy(y, scores, k) == pytest.approx(
            top_k_accuracy_score(y, scores, k=k, labels=range(6))
        )


def test_training_metrics_pair_each_output_with_its_own_label_when_shuffling():
    """With a negligible learning rate the weights do not move, so the epoch's training
    accuracy must equal evaluate() on the same data, however the batches were shuffled."""
    rng = np.random.default_rng(8)
    x, y = rng.standard_normal((200, 5)), rng.integers(0, 3, 200)
    model = nn.Sequential(nn.Linear(5, 3, rng=0))
    h = sn.fit(model, x, y, optimizer="sgd", lr=1e-12, epochs=2, batch_size=16, shuffle=True,
               seed=3, metrics=["accuracy"], verbose=0)  # fmt: skip
    expected = sn.evaluate(model, x, y, metrics=["accuracy"])["accuracy"]
    assert h.history["accuracy"] == pytest.approx([expected, expected], abs=1e-12)


def test_multi_label_accuracy_thresholds_each_output():
    """bce_with_logits on 3 outputs: 3 independent yes/no answers per sample, logit > 0."""
    rng = np.random.default_rng(9)
    x, y = rng.standard_normal((40, 4)), rng.integers(0, 2, (40, 3)).astype(np.float64)
    model = nn.Sequential(nn.Linear(4, 3, rng=0))
    result = sn.evaluate(model, x, y, loss="bce_with_logits", metrics=["accuracy"])
    expected = ((sn.predict(model, x) > 0) == y).mean()
    assert result["accuracy"] == pytest.approx(expected)
