"""Graph behaviour: accumulation, shared tensors, grad modes, freeing, and gradient ownership."""

import contextlib
import threading

import numpy as np
import pytest

import sinapsi as sn
from sinapsi.autograd import GraphFreedError, make_result


def test_gradients_accumulate_over_two_backward_calls():
    x = sn.tensor([1.0, -2.0], requires_grad=True)
    (x * 3.0).sum().backward()
    (x * x).sum().backward()
    np.testing.assert_allclose(x.grad, [3.0 + 2.0, 3.0 - 4.0])
    x.zero_grad()
    assert x.grad is None


def test_tensor_used_twice_in_one_graph():
    x = sn.tensor([2.0, 3.0], requires_grad=True)
    y = x * x + x  # x feeds mul twice and add once
    y.sum().backward()
    np.testing.assert_allclose(x.grad, 2 * x.data + 1)


def test_diamond_graph_sums_both_paths():
    x = sn.tensor(1.5, requires_grad=True)
    a = x.exp()
    b = a * 2.0
    c = a.log()  # c == x
    (b + c).backward()
    assert x.grad == pytest.approx(2 * np.exp(1.5) + 1, rel=1e-6)


def test_no_grad_builds_no_graph_and_works_as_decorator():
    x = sn.tensor([1.0], requires_grad=True)
    with sn.no_grad():
        y = x * 2
        assert not sn.is_grad_enabled()
        with sn.enable_grad():
            z = x * 2
    assert sn.is_grad_enabled()
    assert not y.requires_grad and y.is_leaf and y.op is None
    assert z.requires_grad and z.op == "mul"

    @sn.no_grad()
    def predict(t):
        return t * 3

    assert not predict(x).requires_grad
    assert sn.is_grad_enabled()


@contextlib.contextmanager
def _block_open_in_another_thread(block):
    """Enter ``with block:`` in another thread and keep it open while the body here runs;
    yields a dict with that thread's grad mode inside the block and after leaving it."""
    inside, release = threading.Event(), threading.Event()
    seen = {}

    def other():
        with block:
            seen["inside"] = sn.is_grad_enabled()
            inside.set()
            release.wait(10)
        seen["after"] = sn.is_grad_enabled()

    thread = threading.Thread(target=other)
    thread.start()
    try:
        assert inside.wait(10)
        yield seen
    finally:
        release.set()
        thread.join()


def test_grad_mode_is_per_thread():
    """A no_grad block (or a backward, which turns recording off while it runs) in one thread
    leaves graph recording on in the others, as PyTorch's thread-local grad mode does."""
    x = sn.tensor([1.0], requires_grad=True)
    with _block_open_in_another_thread(sn.no_grad()) as seen:
        assert sn.is_grad_enabled()
        y = x * 2
        assert y.requires_grad and y.op == "mul"
    assert seen == {"inside": False, "after": True}
    fresh = {}
    thread = threading.Thread(target=lambda: fresh.setdefault("mode", sn.is_grad_enabled()))
    with sn.no_grad():
        thread.start()  # a new thread starts with recording on, whatever its parent's mode
        thread.join()
    assert fresh == {"mode": True}


def test_one_no_grad_object_shared_by_threads():
    """The mode a block replaced is kept per thread: one no_grad() object entered by two
    threads at once restores each thread's own mode."""
    shared = sn.no_grad()
    with _block_open_in_another_thread(shared) as seen:
        with sn.no_grad():
            with shared:
                assert not sn.is_grad_enabled()
            assert not sn.is_grad_enabled()  # the outer block's mode, not the other thread's
        assert sn.is_grad_enabled()
    assert seen == {"inside": False, "after": True}


def test_backward_on_non_scalar_needs_a_gradient():
    y = sn.tensor([1.0, 2.0], requires_grad=True) * 2
    with pytest.raises(RuntimeError, match=r"one-element tensor .* shape \(2,\).*grad="):
        y.backward()
    y.backward(np.array([1.0, 0.5]))  # with the gradient it works


def test_backward_grad_argument_must_match_shape():
    y = sn.tensor([1.0, 2.0], requires_grad=True) * 2
    with pytest.raises(ValueError, match=r"grad has shape \(3,\) but the tensor has shape \(2,\)"):
        y.backward(np.ones(3))


def test_backward_without_requires_grad_is_a_clear_error():
    with pytest.raises(RuntimeError, match="does not require grad"):
        (sn.tensor([1.0]) * 2).sum().backward()


def test_graph_is_freed_after_backward_unless_retained():
    x = sn.tensor([1.0, 2.0], requires_grad=True)
    loss = (x * x).sum()
    loss.backward(retain_graph=True)
    loss.backward()
    np.testing.assert_allclose(x.grad, 2 * 2 * x.data)
    with pytest.raises(GraphFreedError, match=r"op 'sum' a second time.*retain_graph=True"):
        loss.backward()


def test_leaf_gradients_never_share_memory():
    """add's backward gives the same array to both inputs; each leaf must own its own .grad,
    or accumulating into one would change the other."""
    a = sn.tensor([1.0, 2.0], requires_grad=True)
    b = sn.tensor([3.0, 4.0], requires_grad=True)
    (a + b).reshape(2, 1).sum().backward()
    assert not np.shares_memory(a.grad, b.grad)
    a.grad += 100.0
    np.testing.assert_allclose(b.grad, [1.0, 1.0])


def test_leaf_and_pending_node_gradients_do_not_alias():
    a = sn.tensor([1.0, 2.0], requires_grad=True)
    h = a * 1.0  # a non-leaf that receives the same gradient array as `a` below
    y = a + h
    (y * y).sum().backward()
    np.testing.assert_allclose(a.grad, 2 * (2 * a.data) * 2)


def test_seed_gradient_array_is_not_modified():
    x = sn.tensor([1.0, 2.0], requires_grad=True)
    seed = np.array([1.0, 1.0], dtype=np.float32)
    y = x.reshape(2)
    y.backward(seed)
    y2 = x.reshape(2)
    y2.backward(seed)
    np.testing.assert_allclose(seed, [1.0, 1.0])
    np.testing.assert_allclose(x.grad, [2.0, 2.0])


def test_broadcast_view_gradient_is_writable_on_the_leaf():
    x = sn.tensor(np.ones((2, 3)), requires_grad=True)
    x.sum().backward()  # sum's backward returns a read-only broadcast view
    x.grad *= 2.0
    np.testing.assert_allclose(x.grad, 2.0)


def test_long_chain_has_no_recursion_limit():
    x = sn.tensor(1.0, requires_grad=True)
    y = x
    for _ in range(5000):
        y = y * 1.0001
    y.backward()
    assert x.grad == pytest.approx(1.0001**5000, rel=1e-3)


def test_detach_cuts_the_graph():
    x = sn.tensor([3.0], requires_grad=True)
    y = x * x.detach()
    y.sum().backward()
    np.testing.assert_allclose(x.grad, [3.0])


def test_integer_tensor_cannot_require_grad():
    with pytest.raises(
        TypeError, match=r"Only floating-point tensors can require gradients.*int64"
    ):
        sn.tensor([1, 2, 3], requires_grad=True)


def test_a_wrong_backward_is_blamed_on_its_op():
    x = sn.tensor([1.0, 2.0], requires_grad=True)
    bad = make_result(x.data * 2, "buggy_double", (x,), lambda g: (g.sum(),))
    with pytest.raises(RuntimeError, match=r"backward of op 'buggy_double' returned .* shape \(\)"):
        bad.sum().backward()


def test_detect_anomaly_names_the_op_that_made_nan():
    """Inside the block our error replaces NumPy's RuntimeWarning (which this suite turns into
    an error, so a warning escaping would fail the test differently)."""
    x = sn.tensor([1.0, -1.0], requires_grad=True)
    with sn.detect_anomaly():
        with pytest.raises(
            FloatingPointError,
            match=r"op 'log' produced NaN in its forward pass \(input shapes: \(2,\)\)",
        ):
            sn.log(x)
    with sn.detect_anomaly():
        z = sn.tensor([0.0], requires_grad=True)
        y = z.sqrt()  # forward is 0: fine; backward divides by 0
        with pytest.raises(FloatingPointError, match=r"op 'sqrt' produced Inf in its backward"):
            y.sum().backward()
    with pytest.raises(RuntimeWarning):  # NumPy's warnings are back outside the block
        sn.log(x)


def test_nan_propagates_without_anomaly_mode():
    with np.errstate(invalid="ignore"):
        y = sn.log(sn.tensor([-1.0]))
    assert np.isnan(y.data).all()
