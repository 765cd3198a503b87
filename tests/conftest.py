"""Shared fixtures: a seeded generator per test and a deterministic hypothesis profile.

NumPy RuntimeWarnings are errors (pyproject's filterwarnings), so an op that overflows or
divides by zero where it should not fails its test.
"""

import numpy as np
import pytest
from hypothesis import settings

settings.register_profile("sinapsi", max_examples=12, deadline=None, derandomize=True)
settings.load_profile("sinapsi")


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(1234)


@pytest.fixture(autouse=True)
def _default_dtype_is_restored():
    import sinapsi as sn

    before = sn.get_default_dtype()
    yield
    assert sn.get_default_dtype() == before, "a test changed the default dtype without restoring it"


def _numba_installed() -> bool:
    import importlib.util

    return importlib.util.find_spec("numba") is not None


@pytest.fixture(
    params=[
        pytest.param(True, id="numba", marks=pytest.mark.skipif(
            not _numba_installed(), reason="numba is not installed")),
        pytest.param(False, id="numpy"),
    ]
)  # fmt: skip
def kernels(request):
    """Run the test with sinapsi's optional numba kernels on, then off (the NumPy paths)."""
    from sinapsi import _numba

    with _numba.use_kernels(request.param):
        yield request.param


# Let test modules in subfolders import tests/strategies.py.
import sys  # noqa: E402
from pathlib import Path  # noqa: E402

sys.path.insert(0, str(Path(__file__).parent))
