"""sinapsi.backend: choosing CuPy fails at once, in one line, when it cannot work (issue 14.14).

There is no GPU and no CuPy here: fake ``cupy`` modules stand in for the broken installs.
"""

import subprocess
import sys
import types

import numpy as np
import pytest

import sinapsi as sn
from sinapsi import backend


class FakeCUDARuntimeError(RuntimeError):
    """Stands in for ``cupy_backends.cuda.api.runtime.CUDARuntimeError``."""


def fake_cupy(available):
    """A ``cupy`` module whose ``cuda.is_available()`` returns ``available`` (or raises it)."""
    cp = types.ModuleType("cupy")

    def is_available():
        if isinstance(available, BaseException):
            raise available
        return available

    cp.cuda = types.SimpleNamespace(is_available=is_available)
    cp.ndarray = type("ndarray", (), {})

    def asarray(*args, **kwargs):
        raise FakeCUDARuntimeError("cudaErrorNoDevice: no CUDA-capable device is detected")

    cp.asarray = cp.array = cp.zeros = cp.full = asarray
    return cp


@pytest.fixture(autouse=True)
def numpy_after():
    yield
    backend.set_array_module("numpy")


def test_cupy_without_a_gpu_is_refused_when_chosen(monkeypatch):
    monkeypatch.setitem(sys.modules, "cupy", fake_cupy(False))
    with pytest.raises(
        RuntimeError,
        match=r"set_array_module\('cupy'\): CuPy .* no usable "
        r"NVIDIA GPU.*cupy\.cuda\.is_available\(\) returned False.*'numpy'",
    ):
        backend.set_array_module("cupy")
    assert backend.array_module() is np  # nothing half-switched
    assert sn.tensor([1.0, 2.0]).numpy().tolist() == [1.0, 2.0]


def test_cupy_whose_cuda_check_raises_is_refused_with_the_cause(monkeypatch):
    error = FakeCUDARuntimeError("cudaErrorInsufficientDriver: CUDA driver version is too old")
    monkeypatch.setitem(sys.modules, "cupy", fake_cupy(error))
    with pytest.raises(
        RuntimeError,
        match=r"no usable NVIDIA GPU.*FakeCUDARuntimeError: "
        r"cudaErrorInsufficientDriver.*'numpy'",
    ) as info:
        backend.set_array_module("cupy")
    assert "\n" not in str(info.value)
    assert backend.array_module() is np


def test_cupy_not_installed_is_refused_with_what_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "cupy", None)  # `import cupy` raises ImportError
    with pytest.raises(
        RuntimeError,
        match=r"set_array_module\('cupy'\): CuPy cannot be imported "
        r"\((ModuleNotFound|Import)Error.*cupy-cuda12x.*'numpy'",
    ):
        backend.set_array_module("cupy")
    assert backend.array_module() is np


def test_cupy_whose_import_crashes_is_refused_with_the_cause(monkeypatch, tmp_path):
    package = tmp_path / "cupy"
    package.mkdir()
    (package / "__init__.py").write_text("raise OSError('libcudart.so.12: cannot open')\n")
    monkeypatch.delitem(sys.modules, "cupy", raising=False)
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(RuntimeError, match=r"CuPy cannot be imported \(OSError: libcudart"):
        backend.set_array_module("cupy")
    monkeypatch.delitem(sys.modules, "cupy", raising=False)


def test_cupy_with_a_gpu_is_chosen(monkeypatch):
    cp = fake_cupy(True)
    monkeypatch.setitem(sys.modules, "cupy", cp)
    backend.set_array_module("cupy")
    assert backend.array_module() is cp
    backend.set_array_module("numpy")
    assert backend.array_module() is np


def test_unknown_module_name_lists_the_choices():
    with pytest.raises(ValueError, match=r"name must be 'numpy' or 'cupy'\. Got 'torch' instead"):
        backend.set_array_module("torch")


def test_arrays_of_a_loaded_cupy_are_recognized(monkeypatch):
    cp = fake_cupy(True)
    monkeypatch.setitem(sys.modules, "cupy", cp)
    assert backend.get_array_module(cp.ndarray()) is cp
    assert backend.get_array_module(np.zeros(2)) is np


def test_importing_sinapsi_does_not_import_cupy_or_optional_libraries():
    """Start-up imports only the runtime: no cupy (slow, may touch the GPU driver), numba,
    torch, onnx or gensim, so `pip install sinapsi` without extras runs the demo."""
    code = (
        "import sys, sinapsi, sinapsi.cli\n"
        "heavy = {'cupy', 'numba', 'torch', 'onnx', 'onnxruntime', 'gensim'}\n"
        "print(sorted(heavy & set(sys.modules)))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


@pytest.mark.parametrize(
    ("seed", "error"), [("abc", TypeError), (1.5, TypeError), (True, TypeError), (-1, ValueError)]
)
def test_new_rng_refuses_what_is_not_a_seed_in_one_line(seed, error):
    from sinapsi.backend import new_rng

    with pytest.raises(error, match=r"seed must be None, a non-negative integer or a numpy\.random"
                                    rf"\.Generator\. Received: seed={seed!r}"):  # fmt: skip
        new_rng(seed)


def test_package_exports_the_error_and_warning_types_users_catch():
    import sinapsi as sn
    from sinapsi.io import ModelFileError
    from sinapsi.train import DivergenceWarning

    assert sn.ModelFileError is ModelFileError and issubclass(ModelFileError, ValueError)
    assert sn.DivergenceWarning is DivergenceWarning
