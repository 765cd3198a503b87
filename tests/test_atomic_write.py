"""Safe writes (issue 14.12, 14.10): temps of killed saves are cleaned on the next save of the
same target and never a live writer's; re-saving keeps the mode and writes through symlinks; a
path that cannot be written gives a one-line error before anything is written."""

import os
import stat
import subprocess
import sys
import time

import numpy as np
import pytest

from sinapsi import _atomic, io

CHILD = """
import os, sys
from sinapsi import _atomic, io
def write(f):
    f.write(b"partial" * 1000)
    f.flush()
    print("writing", flush=True)
    if sys.argv[2] == "kill":
        os.kill(os.getpid(), 9)
    sys.stdin.readline()
    f.write(b"done")
io.atomic_write(sys.argv[1], write)
"""


def start_writer(path, mode):
    child = subprocess.Popen([sys.executable, "-c", CHILD, str(path), mode],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)  # fmt: skip
    assert child.stdout.readline() == "writing\n"
    return child


def temps(folder):
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".tmp"))


def test_temps_left_by_a_killed_save_are_removed_by_the_next_save(tmp_path):
    target = tmp_path / "m.npz"
    assert start_writer(target, "kill").wait() == -9
    (first,) = temps(tmp_path)
    assert start_writer(target, "kill").wait() == -9  # its save removed the first one's temp
    (second,) = temps(tmp_path)
    assert second != first
    io.save_arrays(target, {"a": np.ones(2)})
    assert temps(tmp_path) == []
    assert io.load_arrays(target)[0]["a"].shape == (2,)


def test_a_concurrent_writers_temp_is_left_alone(tmp_path):
    target = tmp_path / "m.npz"
    child = start_writer(target, "wait")
    try:
        (live,) = temps(tmp_path)
        io.save_arrays(target, {"a": np.ones(2)})
        assert temps(tmp_path) == [live]
    finally:
        child.communicate("go\n", timeout=60)
    assert child.returncode == 0 and target.read_bytes().endswith(b"done")
    assert temps(tmp_path) == []


def test_only_stale_temps_of_the_same_target_are_removed(tmp_path):
    old = time.time() - 2 * io.STALE_TEMP_SECONDS
    names = {".m.npz.abcd1234.tmp": old,  # an old-style temp of m.npz, not touched for long
             ".m.npz.young123.tmp": time.time(),  # maybe a writer on another machine: kept
             ".other.npz.abcd1234.tmp": old,  # another target's
             ".m.npz.bak.abcd1234.tmp": old,  # the temp of m.npz.bak, not of m.npz
             "m.npz.abcd1234.tmp": old}  # fmt: skip
    own = _atomic.temp_prefix(tmp_path / "m.npz") + "abcd1234.tmp"
    names[own] = old  # this process's: a live writer however old, kept
    for name, mtime in names.items():
        (tmp_path / name).write_bytes(b"x")
        os.utime(tmp_path / name, (mtime, mtime))
    io.save_arrays(tmp_path / "m.npz", {"a": np.ones(2)})
    assert temps(tmp_path) == sorted(set(names) - {".m.npz.abcd1234.tmp"})


def test_resaving_keeps_the_files_mode(tmp_path):
    path = io.save_arrays(tmp_path / "m.npz", {"a": np.ones(2)})
    path.chmod(0o600)
    io.save_arrays(path, {"a": np.zeros(2)})
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_saving_through_a_symlink_updates_its_target(tmp_path):
    (tmp_path / "real").mkdir()
    real = io.save_arrays(tmp_path / "real" / "m.npz", {"a": np.ones(2)})
    link = tmp_path / "link.npz"
    link.symlink_to(real)
    io.save_arrays(link, {"a": np.zeros(3)})
    assert link.is_symlink() and os.readlink(link) == str(real)
    assert io.load_arrays(real)[0]["a"].shape == (3,)
    dangling = tmp_path / "dangling.npz"
    dangling.symlink_to(tmp_path / "real" / "new.npz")
    io.save_arrays(dangling, {"a": np.ones(1)})
    assert dangling.is_symlink() and (tmp_path / "real" / "new.npz").is_file()


def test_atomic_write_leaves_the_process_umask_alone(tmp_path, monkeypatch):
    calls = []
    monkeypatch.setattr(os, "umask", lambda mask: calls.append(mask) or 0o022)
    io.save_arrays(tmp_path / "m.npz", {"a": np.ones(2)})
    assert calls == []  # os.umask(0) would make another thread's files world-writable


def test_a_long_file_name_that_open_accepts_can_be_saved(tmp_path):
    name = "m" * 250 + ".npz"
    (tmp_path / name).write_bytes(b"")  # the name is valid here
    io.save_arrays(tmp_path / name, {"a": np.ones(2)})
    assert io.load_arrays(tmp_path / name)[0]["a"].shape == (2,)


@pytest.mark.parametrize(
    "make, error, match",
    [
        (
            lambda d: (d / "afile").write_text("x") and d / "afile" / "x.npz",
            NotADirectoryError,
            r"Cannot save to '.*afile/x.npz': '.*afile' is a file, not a folder",
        ),
        (
            lambda d: (d / "afile").write_text("x") and d / "afile" / "sub" / "x.npz",
            NotADirectoryError,
            r"Cannot save to .*: '.*afile' is a file, not a folder",
        ),
        (
            lambda d: (d / "adir").mkdir() or d / "adir",
            IsADirectoryError,
            r"Cannot save to '.*adir': it is a folder. Give a file name",
        ),
        (
            lambda d: str(d / "models") + os.sep,
            IsADirectoryError,
            r"Cannot save to '.*models/': the path ends with '/', so it names a folder",
        ),
        (lambda d: str(d / "x\0.npz"), ValueError, r"Cannot save to .*: the path contains a NUL"),
        (lambda d: "", ValueError, r"Cannot save to '': the path is empty. Give a file name"),
        (lambda d: 5, TypeError, r"Cannot save to 5: the path must be a str or a pathlib.Path"),
    ],
)
def test_paths_that_cannot_be_written_give_a_one_line_error(tmp_path, make, error, match):
    path = make(tmp_path)
    written = []
    with pytest.raises(error, match=match) as info:
        io.atomic_write(path, lambda f: written.append(f.write(b"data")))
    assert written == [] and "\n" not in str(info.value)
    assert temps(tmp_path) == []


def test_an_unwritable_folder_gives_a_one_line_error(tmp_path, monkeypatch):
    import tempfile

    def refuse(*args, **kwargs):
        raise PermissionError(13, "Permission denied", str(tmp_path))

    monkeypatch.setattr(tempfile, "mkstemp", refuse)
    with pytest.raises(
        PermissionError,
        match=r"Cannot save to '.*m.npz': no permission to "
        r"write in the folder '.*'. Choose a folder you can write",
    ):
        io.save_arrays(tmp_path / "m.npz", {"a": np.ones(2)})
