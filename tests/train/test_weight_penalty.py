"""fit(l1=, l2=): penalties on the weights only (TF Playground, Keras' kernel_regularizer).

The gradient of l1*sum|w| + l2/2*sum w^2 is added to every weight/kernel gradient (ndim >= 2)
after clipping and before the step; biases and BatchNorm's parameters are exempt; the logged
loss stays the data loss. Checked against PyTorch loops that add the penalty by hand.
"""

import numpy as np
import pytest
import torch

import sinapsi as sn
from sinapsi import nn, optim
from sinapsi.train import ModelCheckpoint, Trainer


def data(n=24):
    rng = np.random.default_rng(0)
    return rng.standard_normal((n, 3)), rng.integers(0, 2, n)


def twins():
    ours = nn.Sequential(nn.Linear(3, 6, rng=0), nn.Tanh(), nn.Linear(6, 2, rng=1)).astype(
        "float64"
    )
    theirs = torch.nn.Sequential(
        torch.nn.Linear(3, 6), torch.nn.Tanh(), torch.nn.Linear(6, 2)
    ).double()
    theirs.load_state_dict({k: torch.tensor(v) for k, v in ours.state_dict().items()})
    return ours, theirs


def torch_steps(theirs, topt, x, y, steps, batch, l1, l2, clip=None):
    """The reference: data gradient, clipping, then the penalty's gradient on weights only."""
    tx, ty = torch.tensor(x), torch.tensor(y)
    for i in range(steps):
        topt.zero_grad()
        sl = slice(i * batch, (i + 1) * batch)
        torch.nn.functional.cross_entropy(theirs(tx[sl]), ty[sl]).backward()
        if clip is not None:
            torch.nn.utils.clip_grad_norm_(theirs.parameters(), clip)
        with torch.no_grad():
            for p in theirs.parameters():
                if p.ndim >= 2:
                    p.grad += l1 * torch.sign(p) + l2 * p
        topt.step()


def assert_same_weights(ours, theirs, rtol=1e-12):
    theirs_state = theirs.state_dict()
    for name, value in ours.state_dict().items():
        np.testing.assert_allclose(value, theirs_state[name].numpy(), rtol=rtol, atol=1e-14)


@pytest.mark.parametrize(
    "l1, l2, clip",
    [(0.05, 0.0, None), (0.0, 0.3, None), (0.05, 0.3, None), (0.05, 0.3, 0.1)],
    ids=["l1", "l2", "both", "both_after_clipping"],
)
def test_three_sgd_steps_equal_torch_with_the_penalty_added_by_hand(l1, l2, clip):
    x, y = data()
    ours, theirs = twins()
    sn.fit(ours, x, y, loss="cross_entropy", optimizer=optim.SGD(ours.parameters(), lr=0.5),
           epochs=1, batch_size=8, shuffle=False, clip_grad_norm=clip, l1=l1, l2=l2,
           verbose=0)  # fmt: skip
    torch_steps(theirs, torch.optim.SGD(theirs.parameters(), lr=0.5), x, y, 3, 8, l1, l2, clip)
    assert_same_weights(ours, theirs)
    # and the penalty did something: a run without it ends elsewhere
    plain, _ = twins()
    sn.fit(plain, x, y, optimizer=optim.SGD(plain.parameters(), lr=0.5), epochs=1,
           batch_size=8, shuffle=False, clip_grad_norm=clip, verbose=0)  # fmt: skip
    assert not np.allclose(plain[0].weight.data, ours[0].weight.data, rtol=0, atol=1e-6)


def test_l1_with_adam_equals_torch():
    x, y = data()
    ours, theirs = twins()
    sn.fit(ours, x, y, optimizer=optim.Adam(ours.parameters(), lr=0.01), epochs=1,
           batch_size=8, shuffle=False, l1=0.02, verbose=0)  # fmt: skip
    torch_steps(theirs, torch.optim.Adam(theirs.parameters(), lr=0.01), x, y, 3, 8, 0.02, 0.0)
    assert_same_weights(ours, theirs)


def test_biases_and_batchnorm_are_exempt_and_the_logged_loss_is_the_data_loss():
    # one full-batch SGD step from the same start: the data gradient is the same with and
    # without the penalty, so every 1-d parameter must end where the plain run's does and
    # each weight must differ by lr * (l1 sign(w) + l2 w). Not bit-exact: the same fit run
    # twice in one process can differ in the last bit (BLAS/NumPy results depend on the
    # arrays' memory alignment); 1e-14 is far below the penalty's effect (~1e-2).
    x, y = data()
    lr, l1, l2 = 0.1, 0.01, 0.2

    def run(**penalty):
        model = nn.Sequential(
            nn.Linear(3, 5, rng=0), nn.BatchNorm1d(5), nn.Tanh(), nn.Linear(5, 2, rng=1)
        ).astype("float64")
        start = {k: v.copy() for k, v in model.state_dict().items()}
        history = sn.fit(model, x, y, optimizer="sgd", lr=lr, epochs=1, batch_size=len(x),
                         verbose=0, **penalty)  # fmt: skip
        return model, start, history.history["loss"]

    penalized, start, loss = run(l1=l1, l2=l2)
    plain, _, plain_loss = run()
    assert loss == pytest.approx(plain_loss, rel=1e-14)  # the data loss, no penalty in it
    exempt = 0
    for (name, p), q in zip(penalized.named_parameters(), plain.parameters()):
        if p.data.ndim >= 2:
            w0 = start[name]
            np.testing.assert_allclose(
                p.data, q.data - lr * (l1 * np.sign(w0) + l2 * w0), rtol=0, atol=1e-14
            )
            assert not np.array_equal(p.data, q.data)
        else:
            np.testing.assert_allclose(p.data, q.data, rtol=0, atol=1e-14, err_msg=name)
            exempt += 1
    assert exempt == 4  # two Linear biases, BatchNorm's weight and bias


def test_frozen_weights_are_not_penalized():
    x, y = data()
    model = nn.Sequential(nn.Linear(3, 4, rng=0), nn.Tanh(), nn.Linear(4, 2, rng=1))
    model[0].weight.requires_grad = False
    frozen = model[0].weight.data.copy()
    sn.fit(model, x, y, optimizer="sgd", lr=0.1, epochs=2, batch_size=8, l2=0.5, verbose=0)
    np.testing.assert_array_equal(model[0].weight.data, frozen)


def test_zero_penalties_are_the_run_without_them():
    x, y = data()
    a = nn.Sequential(nn.Linear(3, 4, rng=0), nn.Tanh(), nn.Linear(4, 2, rng=1))
    b = nn.Sequential(nn.Linear(3, 4, rng=0), nn.Tanh(), nn.Linear(4, 2, rng=1))
    ha = sn.fit(a, x, y, epochs=2, batch_size=8, seed=0, verbose=0)
    hb = sn.fit(b, x, y, epochs=2, batch_size=8, seed=0, l1=0.0, l2=0, verbose=0)
    assert ha.history["loss"] == hb.history["loss"]
    for p, q in zip(a.parameters(), b.parameters()):
        np.testing.assert_array_equal(p.data, q.data)


def test_trainer_takes_them_too():
    model = nn.Sequential(nn.Linear(3, 2, rng=0))
    trainer = Trainer(model, "cross_entropy", "sgd", l1=0.1, l2=0.2)
    assert (trainer.l1, trainer.l2) == (0.1, 0.2)


def test_a_resumed_penalized_run_is_bit_identical(tmp_path):
    x, y = data(40)

    def model():
        return nn.Sequential(nn.Linear(3, 8, rng=0), nn.ReLU(), nn.Linear(8, 2, rng=1))

    kwargs = dict(optimizer="adam", lr=0.05, batch_size=8, seed=0, l1=0.01, l2=0.1, verbose=0)
    full = model()
    sn.fit(full, x, y, epochs=4, **kwargs)
    cut = model()
    sn.fit(cut, x, y, epochs=2, callbacks=[ModelCheckpoint(tmp_path / "c.npz", "loss", False)],
           **kwargs)  # fmt: skip
    resumed = model()
    sn.fit(resumed, x, y, epochs=4, resume_from=tmp_path / "c.npz", **kwargs)
    for p, q in zip(full.parameters(), resumed.parameters()):
        np.testing.assert_array_equal(p.data, q.data)


@pytest.mark.parametrize("name", ["l1", "l2"])
@pytest.mark.parametrize("value", [-0.1, float("nan"), float("inf"), True, "0.1", None])
@pytest.mark.parametrize("where", ["fit", "Trainer"])
def test_bad_penalties_are_refused_in_one_line(name, value, where):
    x, y = data()
    model = nn.Sequential(nn.Linear(3, 2, rng=0))
    with pytest.raises(ValueError) as info:
        if where == "fit":
            sn.fit(model, x, y, epochs=1, verbose=0, **{name: value})
        else:
            Trainer(model, "cross_entropy", "sgd", **{name: value})
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith(f"fit: {name} must be a finite number >= 0")
    assert f"Received: {name}={value!r}" in message
