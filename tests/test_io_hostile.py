"""Hostile or broken ``.npz`` files at the array level (issue 14.7, 14.11): every refusal is one
:class:`sinapsi.io.ModelFileError` (a ValueError) naming what is wrong, and refusing never
allocates more than a small, bounded amount of memory."""

import io as pyio
import json
import tracemalloc
import zipfile

import numpy as np
import pytest

from sinapsi import io

META = "__sinapsi_metadata__.npy"


def npy(array=None, *, descr=None, shape=None, fortran=False, data=None, version=(1, 0)) -> bytes:
    """The bytes of a ``.npy`` member; ``descr``/``shape``/``data`` forge its header or body."""
    buffer = pyio.BytesIO()
    if array is not None and descr is None and shape is None:
        np.save(buffer, array)
        return buffer.getvalue()
    header = {"descr": descr, "fortran_order": fortran, "shape": shape}
    writer = {(1, 0): np.lib.format.write_array_header_1_0,
              (2, 0): np.lib.format.write_array_header_2_0}[version]  # fmt: skip
    writer(buffer, header)
    return buffer.getvalue() + (data or b"")


def meta(record=None) -> bytes:
    text = json.dumps({"format": io.FORMAT, "version": 1, **(record or {})}).encode()
    return npy(np.frombuffer(text, dtype=np.uint8))


def write_zip(path, members, compression=zipfile.ZIP_STORED):
    with zipfile.ZipFile(path, "w", compression) as z:
        for name, payload in members:
            z.writestr(name, payload)
    return path


def peak_while_refusing(load, match):
    tracemalloc.start()
    try:
        with pytest.raises(io.ModelFileError, match=match):
            load()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


MiB = 2**20


def test_a_header_declaring_a_billion_elements_is_refused_without_allocating(tmp_path):
    path = write_zip(
        tmp_path / "f.npz",
        [(META, meta()), ("w.npy", npy(descr="<f4", shape=(50_000, 20_000), data=b"\0" * 16))],
    )
    peak = peak_while_refusing(
        lambda: io.load_arrays(path),
        r"Cannot load .*f.npz.*: the array 'w' declares shape \(50000, 20000\) float32 "
        r"\(4000000000 bytes\), but the file holds 16 bytes of it",
    )
    assert peak < 4 * MiB


def test_a_zip_bomb_is_refused_before_it_expands(tmp_path):
    path = tmp_path / "bomb.npz"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr(META, meta())
        with z.open("w.npy", "w", force_zip64=True) as f:
            f.write(npy(descr="|u1", shape=(200 * MiB,)))
            for _ in range(200):
                f.write(bytes(MiB))
    assert path.stat().st_size < MiB
    peak = peak_while_refusing(
        lambda: io.load_arrays(path), r"arrays expand to 200.0 MiB, more than .* max_bytes="
    )
    assert peak < 4 * MiB
    arrays, _ = io.load_arrays(path, max_bytes=300 * MiB)  # the caller may raise the budget
    assert arrays["w"].shape == (200 * MiB,)


@pytest.mark.parametrize(
    "member, match",
    [
        (
            npy(descr="<f4", shape=(3,), data=b"\0" * 20),
            r"declares shape \(3,\) float32 \(12 "
            r"bytes\), but the file holds 20 bytes",
        ),
        (b"\x93NUMPY\x01\x00\xff\xff" + b" " * 40, r"the array 'w' has a malformed .npy header"),
        (b"\x93NUMPY\x02\x00\xff\xff\xff\x7f" + b" " * 40, r"the array 'w' has a malformed"),
        (b"\x93NUMPY\x03\x00\x10\x00\x00\x00{}" + b" " * 14, r"'w' has a malformed .npy header"),
        (b"not numpy at all", r"the array 'w' has a malformed .npy header"),
        (
            npy(descr=[("a", "<f4"), ("b", "<i4")], shape=(1,), data=bytes(8)),
            r"'w' has dtype .* which sinapsi does not store \(structured",
        ),
        (npy(descr="|O", shape=(1,), data=b"x"), r"needs pickle to load, which sinapsi never"),
        (npy(descr="<f4", shape=(-3,), data=b""), r"the array 'w' has a malformed .npy header"),
    ],
)
def test_malformed_array_members_are_refused_with_the_reason(tmp_path, member, match):
    path = write_zip(tmp_path / "f.npz", [(META, meta()), ("w.npy", member)])
    with pytest.raises(io.ModelFileError, match=match):
        io.load_arrays(path)


def test_duplicate_and_foreign_members_are_refused(tmp_path):
    twice = tmp_path / "twice.npz"
    with pytest.warns(UserWarning, match="Duplicate name"):
        write_zip(twice, [(META, meta()), ("w.npy", npy(np.ones(2))), ("w.npy", npy(np.ones(3)))])
    with pytest.raises(io.ModelFileError, match=r"holds two arrays named 'w'"):
        io.load_arrays(twice)
    foreign = write_zip(tmp_path / "foreign.npz", [(META, meta()), ("notes.txt", b"hello")])
    with pytest.raises(io.ModelFileError, match=r"member 'notes.txt' is not a .npy array"):
        io.load_arrays(foreign)


def test_an_encrypted_member_is_refused(tmp_path):
    path = write_zip(tmp_path / "f.npz", [(META, meta()), ("w.npy", npy(np.ones(2)))])
    raw = bytearray(path.read_bytes())
    for signature, offset in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):  # set the encrypted bit
        start = 0
        while (start := raw.find(signature, start)) >= 0:
            raw[start + offset] |= 1
            start += 4
    path.write_bytes(bytes(raw))
    with pytest.raises(io.ModelFileError, match=r"encrypted"):
        io.load_arrays(path)


@pytest.mark.parametrize(
    "record_bytes, match",
    [
        (npy(np.zeros(3)), r"the metadata record is not UTF-8 JSON bytes"),
        (npy(np.frombuffer(b"[" * 100_000 + b"]" * 100_000, np.uint8)), r"nested too deeply"),
        (npy(np.frombuffer(b"{not json", np.uint8)), r"the metadata record is not valid JSON"),
        (meta({"version": "two"}), r"the metadata field 'version' must be an int; got 'two'"),
        (meta({"version": None}), r"the metadata field 'version' must be an int; got None"),
    ],
)
def test_a_broken_metadata_record_is_refused_naming_it(tmp_path, record_bytes, match):
    path = write_zip(tmp_path / "f.npz", [(META, record_bytes)])
    with pytest.raises(io.ModelFileError, match=match):
        io.load_arrays(path)


def test_a_huge_metadata_record_is_refused(tmp_path):
    text = json.dumps({"format": io.FORMAT, "version": 1, "notes": [0] * (5 * MiB)}).encode()
    path = write_zip(tmp_path / "f.npz", [(META, npy(np.frombuffer(text, np.uint8)))])
    with pytest.raises(io.ModelFileError, match=r"metadata record is 15.0 MiB; sinapsi reads"):
        io.load_arrays(path)
    with pytest.raises(ValueError, match=r"save_arrays: the metadata is 15.0 MiB as JSON"):
        io.save_arrays(tmp_path / "g.npz", {}, {"notes": [0] * (5 * MiB)})


def test_fortran_order_and_big_endian_arrays_load_as_native_c_arrays(tmp_path):
    values = np.arange(12, dtype=np.float32).reshape(3, 4)
    path = write_zip(tmp_path / "f.npz", [
        (META, meta()), ("f.npy", npy(np.asfortranarray(values))),
        ("b.npy", npy(values.astype(">f4")))])  # fmt: skip
    arrays, _ = io.load_arrays(path)
    for name in "fb":
        np.testing.assert_array_equal(arrays[name], values)
        assert arrays[name].dtype == np.dtype("float32") and arrays[name].flags.c_contiguous


def test_loading_a_folder_or_an_unreadable_file_says_so(tmp_path, monkeypatch):
    with pytest.raises(IsADirectoryError, match=r"Cannot load .*: it is a folder, not a file"):
        io.load_arrays(tmp_path)
    path = io.save_arrays(tmp_path / "f.npz", {"a": np.ones(2)})

    def refuse(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(zipfile, "ZipFile", refuse)
    with pytest.raises(PermissionError, match=r"Cannot load .*f.npz.*: no permission to read it"):
        io.load_arrays(path)


def test_save_arrays_refuses_what_load_arrays_would_refuse(tmp_path):
    structured = np.zeros(2, dtype=[("a", "<f4")])
    with pytest.raises(TypeError, match=r"save_arrays: array 's' has a structured dtype"):
        io.save_arrays(tmp_path / "f.npz", {"s": structured})
    with pytest.raises(TypeError, match=r"save_arrays: the metadata .*'when'.* is a set"):
        io.save_arrays(tmp_path / "f.npz", {}, {"when": {1, 2}})
    assert not (tmp_path / "f.npz").exists()


def test_loading_a_path_that_is_not_a_regular_file_says_what_it_is(tmp_path):
    import os

    fifo = tmp_path / "pipe.npz"
    os.mkfifo(fifo)
    with pytest.raises(ValueError, match=r"Cannot load .*pipe.npz.*: it is not a regular file"):
        io.load_arrays(fifo)  # and does not block reading it
    with pytest.raises(TypeError, match=r"Cannot load 5: the path must be a str or a pathlib.Path"):
        io.load_arrays(5)


def test_a_member_claiming_more_bytes_than_the_file_has_is_refused_before_reading(tmp_path):
    import struct

    body = npy(descr="|u1", shape=(50 * MiB,), data=b"\0" * 16)
    path = write_zip(tmp_path / "f.npz", [(META, meta()), ("w.npy", body)])
    raw = bytearray(path.read_bytes())
    claimed = len(body) - 16 + 50 * MiB
    local = raw.find(b"PK\x03\x04", raw.find(b"w.npy") - 40)
    central = raw.find(b"PK\x01\x02", raw.find(b"w.npy", local + 40) - 60)
    struct.pack_into("<II", raw, local + 18, claimed, claimed)
    struct.pack_into("<II", raw, central + 20, claimed, claimed)
    path.write_bytes(bytes(raw))
    peak = peak_while_refusing(
        lambda: io.load_arrays(path),
        r"the array 'w' claims 52428\d+ bytes, but the whole file has \d+",
    )
    assert peak < 4 * MiB


def test_only_stored_and_deflated_members_are_read(tmp_path):
    path = write_zip(tmp_path / "f.npz", [(META, meta())], compression=zipfile.ZIP_BZIP2)
    with pytest.raises(io.ModelFileError, match=r"compressed with method 12, which sinapsi does"):
        io.load_arrays(path)
    deflated = write_zip(tmp_path / "d.npz", [(META, meta())], compression=zipfile.ZIP_DEFLATED)
    assert io.load_arrays(deflated)[1]["format"] == io.FORMAT  # numpy.savez_compressed's files
