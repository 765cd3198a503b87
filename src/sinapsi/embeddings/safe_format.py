"""The safe file format of word vectors and word2vec models: safetensors, no pickle.

A file is a plain safetensors file (readable by ``safetensors.numpy.load_file``, or by torch
users with ``safetensors.torch``): the tables as float32 tensors (``vectors``; a model adds
``context`` and ``counts``), the words as two tensors -- ``words.utf8`` (uint8, the UTF-8 bytes
of every word one after the other) and ``words.offsets`` (int64, ``n + 1``: word ``i`` is
``utf8[offsets[i]:offsets[i + 1]]``) -- and the metadata ``format`` (what the file holds),
``version`` and, for a model, ``params`` (JSON). The words are tensors rather than metadata
because safetensors caps its header at 100 MB, less than the words of a large vocabulary.

Written and read by sinapsi's safetensors container (:mod:`sinapsi._safetensors`, shared with
the model and state_dict files): written atomically and streamed table by table (no copy of a
table in memory); the header checked against the file's size before any tensor is read, so a
header declaring tensors larger than the file is refused before allocating and memory stays
bounded by the file's size. Every problem is a one-line ValueError naming the file.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from .._safe_file import ModelFileError
from .._safetensors import read_safetensors, write_safetensors

__all__ = ["read_tables", "write_tables"]

VERSION = "1"


def _encode_words(words: list[str]) -> tuple[np.ndarray, np.ndarray]:
    encoded = [w.encode("utf-8") for w in words]
    offsets = np.zeros(len(encoded) + 1, dtype="<i8")
    np.cumsum([len(b) for b in encoded], out=offsets[1:])
    return np.frombuffer(b"".join(encoded), dtype=np.uint8), offsets


def write_tables(
    path: str | os.PathLike[str], fmt: str, words: list[str], tables: Mapping[str, np.ndarray],
    params: Mapping[str, Any] | None = None,
) -> Path:  # fmt: skip
    """Write ``tables`` (name -> array: float32 or int64) and ``words`` as a safetensors file
    whose metadata says ``format = fmt``; ``params`` (JSON-able) are kept as metadata too."""
    utf8, offsets = _encode_words(words)
    arrays: dict[str, np.ndarray] = {"words.offsets": offsets, "words.utf8": utf8, **tables}
    meta = {"format": fmt, "version": VERSION}
    if params is not None:
        meta["params"] = json.dumps(dict(params), sort_keys=True)
    return write_safetensors(path, arrays, meta, f"{fmt.removeprefix('sinapsi.')}.save")


def _not_ours(path: Any, what: str, detail: str) -> ValueError:
    return ValueError(f"{path}: not a sinapsi {what} file ({detail})")


def read_tables(
    path: str | os.PathLike[str], fmt: str, required: Mapping[str, tuple[str, int]]
) -> tuple[list[str], dict[str, np.ndarray], dict[str, str]]:
    """Read a file written by :func:`write_tables` with format ``fmt``: the words, the
    ``required`` tables (name -> (dtype, ndim); each with one row per word) and the metadata.

    One-line ValueError for what is not such a file: a pickle (gensim's ``save``), a
    word2vec-format file, a truncated or corrupt file, another format, wrong tables."""
    what = fmt.removeprefix("sinapsi.")
    with open(path, "rb") as f:  # FileNotFoundError as open() says it
        head = f.read(64)
    shown = str(path)
    try:
        arrays, meta = read_safetensors(Path(path), shown)
    except ModelFileError as e:
        reason = str(e).removeprefix(f"{shown}: ")
        raise _not_ours(path, what, _guess(head) or f"safetensors: {reason}") from None
    found = meta.get("format")
    if found != fmt:
        model = found == "sinapsi.Word2Vec"
        hint = " (a model: use Word2Vec.load(path).wv)" if model else ""
        raise _not_ours(path, what, f"its format is {found!r}, not {fmt!r}{hint}")
    if meta.get("version") != VERSION:
        raise _not_ours(
            path, what, f"version {meta.get('version')!r}; this sinapsi reads {VERSION!r}"
        )
    expected = {"words.utf8": ("uint8", 1), "words.offsets": ("int64", 1), **required}
    missing = sorted(set(expected) - set(arrays))
    if missing:
        raise _not_ours(path, what, f"missing tensors {missing}")
    for name, (dtype, ndim) in expected.items():
        a = arrays[name]
        if a.dtype != np.dtype(dtype) or a.ndim != ndim:
            raise _not_ours(
                path, what, f"tensor {name!r} is {a.dtype} with {a.ndim} dimension(s), "
                f"expected {dtype} with {ndim}",
            )  # fmt: skip
    arrays = {name: arrays[name] for name in expected}
    words = _decode_words(path, what, arrays.pop("words.utf8"), arrays.pop("words.offsets"))
    for name, a in arrays.items():
        if a.shape[0] != len(words):
            raise _not_ours(path, what, f"{len(words)} words but {a.shape[0]} rows in {name!r}")
    return words, arrays, meta


def _guess(head: bytes) -> str | None:
    """What a file that safetensors refused probably is, from its first bytes."""
    if head[:1] == b"\x80":  # pickle's protocol opcode
        return (
            "a Python pickle, such as gensim's save(); pickles are not loaded (they can run "
            "code): export gensim's vectors with model.wv.save_word2vec_format(path) and read "
            "them with KeyedVectors.load_word2vec_format"
        )
    if re.match(rb"\d+ \d+\s*\n", head):
        return (
            "a word2vec-format file: read it with KeyedVectors.load_word2vec_format(path, "
            "binary=...)"
        )
    return None


def _decode_words(path: Any, what: str, utf8: np.ndarray, offsets: np.ndarray) -> list[str]:
    if (
        offsets.size == 0 or offsets[0] != 0 or offsets[-1] != utf8.size
        or (np.diff(offsets) <= 0).any()
    ):  # fmt: skip
        raise _not_ours(path, what, "the word offsets do not split the word bytes into words")
    raw = utf8.tobytes()
    try:
        bounds = offsets.tolist()
        return [raw[a:b].decode("utf-8") for a, b in zip(bounds[:-1], bounds[1:])]
    except UnicodeDecodeError as e:
        raise _not_ours(path, what, f"a word is not valid UTF-8: {e}") from None
