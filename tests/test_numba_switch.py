"""The numba switch: a broken numba install or kernel falls back to NumPy with a warning, and
SINAPSI_NUMBA is read as users write it."""

import builtins
import os
import subprocess
import sys

import pytest

from sinapsi import _numba


def test_a_kernel_module_that_fails_to_import_falls_back_to_numpy_with_a_warning(
    tmp_path, monkeypatch
):
    (tmp_path / "broken_kernels_for_test.py").write_text("raise OSError('libllvmlite.so: bad')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(_numba, "_modules", {})
    with _numba.use_kernels(True), pytest.warns(RuntimeWarning, match="libllvmlite.so: bad"):
        assert _numba.kernels("broken_kernels_for_test") is None
    assert _numba.kernels("broken_kernels_for_test") is None  # decided once, no second warning


def test_numba_that_raises_on_import_is_not_available(monkeypatch):
    real_import = builtins.__import__

    def fake_import(name, *args, **kwargs):
        if name == "numba":
            raise OSError("could not load libllvmlite")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(_numba, "_numba_found", None)
    monkeypatch.setattr(builtins, "__import__", fake_import)
    with pytest.warns(RuntimeWarning, match="fails to import .*could not load libllvmlite"):
        assert _numba.available() is False


@pytest.mark.parametrize(
    ("value", "on", "warns"),
    [("off", False, False), ("0", False, False), ("ON", True, False), ("banana", True, True)],
)
def test_the_environment_switch(value, on, warns):
    code = (
        "import warnings; warnings.simplefilter('always')\n"
        "with warnings.catch_warnings(record=True) as w:\n"
        "    from sinapsi import _numba\n"
        "print(_numba._enabled, any('not understood' in str(x.message) for x in w))\n"
    )
    env = {**os.environ, "SINAPSI_NUMBA": value}
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    ).stdout.split()
    assert out == [str(on), str(warns)]
