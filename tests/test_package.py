"""The package's face: what ``import sinapsi as sn`` gives a newcomer, and what it costs."""

import subprocess
import sys

import pytest

import sinapsi as sn


def test_lazy_submodules_are_attributes_without_heavy_imports_at_start_up():
    code = (
        "import sys, sinapsi as sn\n"
        "heavy = [m for m in ('matplotlib', 'sklearn', 'torch') if m in sys.modules]\n"
        "assert not heavy, heavy\n"
        "assert callable(sn.viz.plot_history) and callable(sn.viz.plot_network)\n"
        "assert sn.sklearn.MLPClassifier.__name__ == 'MLPClassifier'\n"
        "assert callable(sn.interop.to_torch)\n"
        "assert 'viz' in dir(sn) and 'sklearn' in dir(sn)\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_unknown_attribute_is_an_attribute_error():
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        sn.nope  # noqa: B018
