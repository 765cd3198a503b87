"""Safe files: round trip, and refusal of truncated, corrupted, foreign, newer and pickle files
(without ever running what is inside)."""

import json
import pickle
import zipfile

import numpy as np
import pytest

from sinapsi import io


def test_round_trip_keeps_arrays_dtypes_and_metadata(tmp_path):
    arrays = {"a": np.arange(6, dtype=np.float32).reshape(2, 3), "b": np.array(3, np.int64)}
    io.save_arrays(tmp_path / "f.npz", arrays, {"note": "hi"})
    loaded, meta = io.load_arrays(tmp_path / "f.npz")
    assert set(loaded) == {"a", "b"} and loaded["a"].dtype == np.float32
    np.testing.assert_array_equal(loaded["a"], arrays["a"])
    assert meta["note"] == "hi" and meta["format"] == io.FORMAT


def test_truncated_file_is_refused(tmp_path):
    path = tmp_path / "f.npz"
    io.save_arrays(path, {"a": np.ones(1000)})
    path.write_bytes(path.read_bytes()[:300])
    with pytest.raises(ValueError, match=r"not a valid sinapsi file .* truncated, corrupted"):
        io.load_arrays(path)


def test_foreign_files_are_refused(tmp_path):
    text = tmp_path / "notes.npz"
    text.write_text("hello")
    with pytest.raises(ValueError, match="not a valid sinapsi file"):
        io.load_arrays(text)
    plain = tmp_path / "plain.npz"
    np.savez(plain, a=np.ones(2))
    with pytest.raises(ValueError, match="no sinapsi metadata record"):
        io.load_arrays(plain)
    with pytest.raises(FileNotFoundError, match="No such file"):
        io.load_arrays(tmp_path / "missing.npz")


def test_newer_format_version_is_refused(tmp_path):
    path = tmp_path / "f.npz"
    io.save_arrays(path, {"a": np.ones(2)}, {"version": 99})
    with pytest.raises(ValueError, match=r"newer sinapsi \(format version 99"):
        io.load_arrays(path)


class Boom:
    def __reduce__(self):
        return (open, ("/tmp/sinapsi_pickle_ran", "w"))


def test_a_pickle_payload_is_refused_without_running_it(tmp_path):
    import os

    marker = "/tmp/sinapsi_pickle_ran"
    if os.path.exists(marker):
        os.remove(marker)
    path = tmp_path / "evil.npz"
    meta = json.dumps({"format": io.FORMAT, "version": 1}).encode()
    with zipfile.ZipFile(path, "w") as z:
        with z.open("__sinapsi_metadata__.npy", "w") as f:
            np.save(f, np.frombuffer(meta, dtype=np.uint8))
        with z.open("weights.npy", "w") as f:
            np.save(f, np.array([Boom()], dtype=object), allow_pickle=True)
    with pytest.raises(ValueError, match="needs pickle to load, which sinapsi never does"):
        io.load_arrays(path)
    assert not os.path.exists(marker)
    assert pickle  # the payload above is a real pickle, built with the standard library


def test_object_arrays_cannot_be_saved(tmp_path):
    with pytest.raises(TypeError, match="dtype object, which needs pickle"):
        io.save_arrays(tmp_path / "f.npz", {"a": np.array([{}], dtype=object)})


def test_atomic_writes_get_the_usual_file_permissions(tmp_path):
    import os
    import stat

    umask = os.umask(0o022)
    try:
        path = io.save_arrays(tmp_path / "f.npz", {"a": np.ones(1)})
    finally:
        os.umask(umask)
    assert stat.S_IMODE(path.stat().st_mode) == 0o644  # not mkstemp's private 0600
