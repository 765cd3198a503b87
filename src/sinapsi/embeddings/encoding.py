"""A corpus tokenized and encoded once per training: word ids and sentence offsets.

:func:`encode_corpus` reads the corpus once (the file is tokenized once, not once per epoch),
builds the :class:`~sinapsi.embeddings.Vocabulary` from the same pass (exactly
:meth:`Vocabulary.build`'s: ``min_count``, ``max_vocab``, ordering) and returns an
:class:`EncodedCorpus`: ``tokens`` (the in-vocabulary ids of every sentence, one after the
other) and ``offsets`` (sentence ``i`` is ``tokens[offsets[i]:offsets[i + 1]]``; a sentence
whose words are all out of the vocabulary is empty).

The ids are kept in memory (as :func:`id_dtype`: uint16 for up to 65,536 words, else int32)
while they fit a memory budget (:data:`MEMORY_FRACTION` of
:func:`available_memory`, or :data:`MEMORY_BUDGET` bytes when set, or the ``memory_budget``
argument). Past it they are written, in blocks, to a cache file in ``cache_dir`` (default: a
fresh :func:`tempfile.mkdtemp` folder, removed by :meth:`EncodedCorpus.close`) and read back
memory-mapped. Nothing is written outside that folder.

The cache file's rule:

* it is written under a temporary name (``<name>.<pid>.partial``) and renamed to its final name
  only once complete; an error while writing removes the partial file. A killed process can
  leave one: it is never read, and the next training that writes the same cache removes it
  (its process being gone); a killed training's temporary folder (``sinapsi-word2vec-*``
  in the system's temporary directory) is left to the system's clean-up;
* its header records what it encodes: the corpus file's identity (absolute path, size,
  ``mtime_ns``), ``min_count``, ``max_vocab``, the vocabulary and its digest. In a folder the
  user names, a later training of the same file with the same settings reuses it (no pass over
  the text); a cache whose header, size or digest does not match is ignored and rewritten;
* in-memory sentences have no identity: their cache is never reused.
"""

from __future__ import annotations

import gc
import hashlib
import json
import os
import re
import shutil
import tempfile
from collections import defaultdict
from collections.abc import Iterator
from itertools import count
from pathlib import Path
from typing import Any

import numpy as np

from .vocab import _WORD, Corpus, Vocabulary, _check_vocabulary_limits

__all__ = [
    "MEMORY_BUDGET",
    "MEMORY_FRACTION",
    "EncodedCorpus",
    "available_memory",
    "encode_corpus",
    "id_dtype",
]

MEMORY_FRACTION = 0.25  # of the available memory, for the encoded corpus
MEMORY_BUDGET: int | None = None  # bytes; overrides MEMORY_FRACTION when set (tests)
NARROW_OFFSETS = 1 << 30  # in-memory corpora of fewer ids keep int32 offsets
_ESCAPE = 0xFFFF  # a provisional id >= this, kept in memory as uint16: listed apart
ENCODE_BLOCK = 1 << 18  # tokens converted to ids (and written, past the budget) at a time
READ_CHARS = 1 << 18  # characters of a file tokenized at a time (~45k words: ~2.5 MB of strs)
_LINE_TOKENS = re.compile(_WORD + "|\n")  # tokenize's words, and the ends of lines
_MAGIC = b"SNW2VC01"
_PREAMBLE = 64  # magic, tokens, sentences, header offset, header length; then the ids
_VERSION = 1


def available_memory() -> int | None:
    """Bytes of memory available to a new allocation (Linux's MemAvailable, else the free
    physical pages), or None where the system does not say."""
    try:
        with open("/proc/meminfo", encoding="ascii") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return int(os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))
    except (AttributeError, ValueError, OSError):
        return None


def memory_budget() -> int:
    """Bytes the encoded corpus may hold in memory: :data:`MEMORY_BUDGET` when set, else
    :data:`MEMORY_FRACTION` of :func:`available_memory` (1 GB where the system does not say)."""
    if MEMORY_BUDGET is not None:
        return int(MEMORY_BUDGET)
    have = available_memory()
    return int(MEMORY_FRACTION * (have if have is not None else 4 << 30))


class EncodedCorpus:
    """Sentences as word ids: ``tokens`` (in memory: :func:`id_dtype`; memory-mapped and
    :meth:`from_ids`: int32) and ``offsets`` (one more than the sentences: int64; int32 in
    memory below :data:`NARROW_OFFSETS` ids, half the memory: 2 MB for the benchmark's 500k
    sentences).
    ``cache_path``: the file ``tokens`` maps, or None."""

    def __init__(
        self, tokens: np.ndarray, offsets: np.ndarray, cache_path: Path | None = None,
        temp_dir: Path | None = None,
    ) -> None:  # fmt: skip
        self.tokens = tokens
        offsets = np.asarray(offsets)
        self.offsets = offsets if offsets.dtype == np.int32 else offsets.astype(np.int64)
        self.cache_path = cache_path
        self._temp_dir = temp_dir  # removed by close()

    @classmethod
    def from_ids(cls, sentences: Any) -> EncodedCorpus:
        """From sentences already encoded (sequences of ids); for tests and :func:`_batches`."""
        parts = [np.asarray(s, dtype=np.int32).ravel() for s in sentences]
        lengths = np.array([p.size for p in parts], dtype=np.int64)
        offsets = np.concatenate(([0], np.cumsum(lengths))).astype(np.int64)
        tokens = np.concatenate(parts) if parts else np.zeros(0, np.int32)
        return cls(tokens.astype(np.int32), offsets)

    def __len__(self) -> int:
        return len(self.offsets) - 1

    def sentence(self, i: int) -> np.ndarray:
        """The ids of sentence ``i`` (int64)."""
        return np.asarray(self.tokens[self.offsets[i] : self.offsets[i + 1]], dtype=np.int64)

    def blocks(self, block_tokens: int) -> Iterator[tuple[int, int]]:
        """Ranges ``(first, stop)`` of whole sentences of at least ``block_tokens`` ids each
        (the last one fewer; one sentence longer than that is a block of its own)."""
        n, start = len(self), 0
        while start < n:
            stop = int(np.searchsorted(self.offsets, self.offsets[start] + block_tokens, "left"))
            stop = min(max(stop, start + 1), n)
            yield start, stop
            start = stop

    def close(self) -> None:
        """Drop the memory map and remove the temporary folder, if the cache made one."""
        self.tokens = np.zeros(0, np.int32)
        if self._temp_dir is not None:
            shutil.rmtree(self._temp_dir, ignore_errors=True)
            self._temp_dir = None


def _identity(corpus: Corpus, min_count: int, max_vocab: int | None) -> dict[str, Any] | None:
    """What a cache of ``corpus`` encodes (None for in-memory sentences: never reused)."""
    if corpus.path is None:
        return None
    path = corpus.path.resolve()
    st = path.stat()
    return {
        "version": _VERSION, "path": str(path), "size": st.st_size, "mtime_ns": st.st_mtime_ns,
        "min_count": int(min_count), "max_vocab": None if max_vocab is None else int(max_vocab),
    }  # fmt: skip


def _digest(words: list[str], counts: np.ndarray) -> str:
    h = hashlib.sha256()
    h.update("\n".join(words).encode("utf-8"))
    h.update(np.asarray(counts, dtype="<i8").tobytes())
    return h.hexdigest()


def _cache_name(identity: dict[str, Any] | None) -> str:
    if identity is None:
        return f"w2v-sentences-{os.getpid()}-{id(identity)}.ids"
    key = json.dumps([identity["path"], identity["min_count"], identity["max_vocab"]])
    return "w2v-" + hashlib.sha256(key.encode()).hexdigest()[:16] + ".ids"


def _load_cache(path: Path, identity: dict[str, Any]) -> tuple[Vocabulary, EncodedCorpus] | None:
    """The vocabulary and ids of a complete cache that encodes ``identity``, else None."""
    try:
        with open(path, "rb") as f:
            pre = f.read(_PREAMBLE)
            if len(pre) != _PREAMBLE or pre[:8] != _MAGIC:
                return None
            n_tokens, n_sentences, h_off, h_len = np.frombuffer(pre[8:40], "<i8").tolist()
            expected = h_off + h_len
            if os.fstat(f.fileno()).st_size != expected:
                return None
            f.seek(h_off)
            header = json.loads(f.read(h_len).decode("utf-8"))
        if header.get("identity") != identity:
            return None
        words, counts = header["words"], np.asarray(header["counts"], dtype=np.int64)
        if _digest(words, counts) != header["digest"]:
            return None
        offsets = np.fromfile(path, "<i8", n_sentences + 1, offset=_offsets_at(n_tokens))
        tokens = np.memmap(path, "<i4", "r", offset=_PREAMBLE, shape=(n_tokens,))
    except (OSError, ValueError, KeyError, TypeError, UnicodeDecodeError):
        return None
    if offsets.size != n_sentences + 1 or (offsets.size and offsets[-1] != n_tokens):
        return None
    vocab = Vocabulary(words, counts)
    vocab.longest_sentence = int(header["longest"])
    return vocab, EncodedCorpus(tokens, offsets, cache_path=path)


def _offsets_at(n_tokens: int) -> int:
    return _PREAMBLE + -(-4 * n_tokens // 8) * 8


class _Spill:
    """The provisional ids past the memory budget: appended to ``<name>.<pid>.partial``."""

    def __init__(self, folder: Path, name: str) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        _remove_orphans(folder, name)
        self.final = folder / name
        self.path = folder / f"{name}.{os.getpid()}.partial"
        self.file = open(self.path, "wb+")  # noqa: SIM115 - closed by finish() or discard()
        self.file.write(b"\0" * _PREAMBLE)
        self.n = 0

    def write(self, ids: np.ndarray) -> None:
        _write_block(self.file, ids.astype("<i4", copy=False))
        self.n += ids.size

    def discard(self) -> None:
        self.file.close()
        self.path.unlink(missing_ok=True)


def _remove_orphans(folder: Path, name: str) -> None:
    """Remove ``<name>.<pid>.partial`` files whose process is gone (killed while writing)."""
    for path in folder.glob(f"{name}.*.partial"):
        pid = path.name[len(name) + 1 : -len(".partial")]
        if not pid.isdigit():
            continue
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:
            path.unlink(missing_ok=True)
        except (OSError, OverflowError):  # alive (another user's), or not a pid
            pass


def _write_block(file: Any, array: np.ndarray) -> None:
    """One block written to the cache (a function of its own: tests interrupt it)."""
    file.write(array.tobytes())


def encode_corpus(
    corpus: Corpus, min_count: int = 5, max_vocab: int | None = None, *,
    cache_dir: str | os.PathLike[str] | None = None, memory_budget_bytes: int | None = None,
) -> tuple[Vocabulary, EncodedCorpus]:  # fmt: skip
    """The vocabulary of ``corpus`` and its sentences as ids, from one pass over the text.

    Each distinct token gets a provisional id on first sight (a dict filled in C), the counts
    come from those ids, the vocabulary is chosen as :meth:`Vocabulary.build` does, and the ids
    are mapped to the vocabulary's (out-of-vocabulary words dropped), in place. Past
    ``memory_budget_bytes`` (default :func:`memory_budget`) the ids go to a cache file in
    ``cache_dir`` (see the module's docstring for its rule).
    """
    _check_vocabulary_limits(min_count, max_vocab)
    budget = memory_budget() if memory_budget_bytes is None else int(memory_budget_bytes)
    identity = _identity(corpus, min_count, max_vocab)
    folder = Path(cache_dir) if cache_dir is not None else None
    name = _cache_name(identity)
    if folder is not None and identity is not None and (folder / name).is_file():
        cached = _load_cache(folder / name, identity)
        if cached is not None:
            return cached
    temp_dir: Path | None = None
    spill: _Spill | None = None
    try:
        index: defaultdict[str, int] = defaultdict(count().__next__)
        marker = corpus.path is not None  # the file's lines end with "\n", provisional id 0
        if marker:
            index["\n"]  # noqa: B018 - the line ends' id
        lookup = index.__getitem__
        # each block's sentence lengths (int64) and, in memory, its ids (see _pack): bytes,
        # held by malloc, not by Python's small-object arenas (an array's object is there):
        # otherwise they pinned the arenas of the token strings, freed before the compaction
        lengths: list[bytes] = []
        kept_blocks: list[bytes] = []
        counts = np.zeros(0, np.int64)
        held = 0  # bytes of ids in memory
        n_sentences = longest = 0

        for tokens, sizes in _token_blocks(corpus):
            ids = np.fromiter(map(lookup, tokens), dtype=np.int32, count=len(tokens))
            if sizes is None:  # a file's block: lines end with id 0
                ends = np.flatnonzero(ids == 0)
                sizes = np.diff(ends, prepend=-1) - 1
                sizes = sizes[sizes > 0]  # Corpus skips the lines without words
                ids = ids[ids != 0]
            lengths.append(sizes.astype(np.int64).tobytes())
            n_sentences += sizes.size
            longest = max(longest, int(sizes.max(initial=0)))
            seen = np.bincount(ids, minlength=len(index))
            seen[: counts.size] += counts
            counts = seen
            if spill is None and held + ids.nbytes + 8 * n_sentences > budget:
                if folder is None:
                    temp_dir = Path(tempfile.mkdtemp(prefix="sinapsi-word2vec-"))
                spill = _Spill(folder if folder is not None else temp_dir, name)  # type: ignore[arg-type]
                for block, sizes_ in zip(kept_blocks, lengths):
                    spill.write(_widen(_unpack(block, sizes_)))
                kept_blocks.clear()
                held = 0
            if spill is not None:
                spill.write(ids)
            else:
                kept_blocks.append(_pack(ids))
                held += ids.nbytes
        remap, words = _choose(index, counts, marker, min_count, max_vocab, longest)
        del index, lookup, tokens, ids, sizes, seen, counts
        n = int(words.counts.sum())  # the ids kept: the vocabulary's words, each as counted
        if spill is None:
            tokens = np.empty(n, dtype=id_dtype(len(words.counts)))
            blocks = [_unpack(block, sizes_) for block, sizes_ in zip(kept_blocks, lengths)]
            kept_blocks.clear()  # each block's memory is now its views' only: freed once read
        else:  # mapped in place: each block is read (a copy) before the ids written over it
            spill.file.flush()
            mapped = np.memmap(spill.path, "<i4", "r+", offset=_PREAMBLE, shape=(spill.n,))
            bounds = np.cumsum([0] + [int(_sizes(sizes_).sum()) for sizes_ in lengths])
            blocks = [mapped[a:b] for a, b in zip(bounds[:-1], bounds[1:])]
            tokens = mapped[:n]
        narrow = spill is None and n < NARROW_OFFSETS
        offsets = np.zeros(n_sentences + 1, dtype=np.int32 if narrow else np.int64)
        kept_lengths = _compact(blocks, [_sizes(sizes_) for sizes_ in lengths], remap, tokens)
        np.cumsum(kept_lengths, out=offsets[1:])
        del blocks, kept_blocks, lengths, remap, kept_lengths
        vocab = words.vocabulary()  # once the pass's small objects are all freed
        if spill is None:
            return vocab, EncodedCorpus(tokens, offsets)
        mapped.flush()
        del mapped, tokens
        path = spill.final
        _finish(spill, n, offsets, identity, vocab)
        spill = None
        mapped = np.memmap(path, "<i4", "r", offset=_PREAMBLE, shape=(n,))
        return vocab, EncodedCorpus(mapped, offsets, cache_path=path, temp_dir=temp_dir)
    except BaseException:
        if spill is not None:
            spill.discard()
        if temp_dir is not None:
            shutil.rmtree(temp_dir, ignore_errors=True)
        raise


class _Words:
    """The chosen vocabulary's words as one string (``text``, word ``i`` ending at ``ends[i]``)
    and ``counts``: held without a Python object per word until :meth:`vocabulary`."""

    def __init__(self, words: list[str], counts: np.ndarray, longest: int) -> None:
        self.text = "".join(words)
        self.ends = np.cumsum(np.fromiter(map(len, words), np.int64, len(words)))
        self.counts = np.asarray(counts, dtype=np.int64)
        self.longest = np.int64(longest)  # a Python int made by vocabulary(), see there

    def vocabulary(self) -> Vocabulary:
        """The :class:`Vocabulary`, its words still packed: they become fresh strings (and
        the index a dict) when first asked for, after the training (the KeyedVectors).

        Not the pass's own strings: Python's small-object allocator returns a 1 MB arena to
        the system only when nothing in it is left, and the vocabulary's 28k words, had they
        been the pass's strings (every distinct token's, some 138k on the benchmark's 5.5M
        words) or been made while those lived, would be scattered over all its arenas and
        hold them (measured: 17 MB more resident through the training); and not strings at
        all while training, which needs none of them (3.3 MB of strings and dict)."""
        # the arrays and the int as new objects, made after the pass: the small objects made
        # while the pass's strings lived would each pin one of their arenas (~1 MB each)
        vocab = Vocabulary._from_packed(self.text, self.ends.copy(), self.counts.copy())
        vocab.longest_sentence = int(self.longest)
        return vocab


def _choose(
    index: dict[str, int], counts: np.ndarray, marker: bool, min_count: int,
    max_vocab: int | None, longest: int,
) -> tuple[np.ndarray, _Words]:  # fmt: skip
    """``remap`` (provisional id -> vocabulary id, or -1) and the vocabulary's words, chosen
    by :meth:`Vocabulary.build`'s rule from the provisional ``index`` (``counts`` by provisional
    id, the first ``marker`` ids not words); ``index`` is emptied (its strings freed)."""
    candidates = np.flatnonzero(counts[marker:] >= min_count) + marker
    words = list(index)
    if candidates.size == 0:  # Vocabulary's own error, naming the corpus's counts
        Vocabulary._from_counts(words[marker:], counts[marker:], min_count, max_vocab, longest)
    chosen = Vocabulary._from_counts(
        [words[i] for i in candidates], counts[candidates], min_count, max_vocab, longest
    )
    del words
    remap = np.full(len(index), -1, dtype=np.int32)
    remap[[index[w] for w in chosen.words]] = np.arange(len(chosen), dtype=np.int32)
    kept = _Words(chosen.words, chosen.counts, longest)
    del chosen
    index.clear()
    gc.collect()  # and the free lists (the sort's 2000 tuples): their arenas go back too
    return remap, kept


def _token_blocks(corpus: Corpus) -> Iterator[tuple[list[str], np.ndarray | None]]:
    """The corpus's tokens, :data:`ENCODE_BLOCK` or so at a time, with the sentences' lengths;
    a file's are instead its lines' tokens with "\\n" after each line (lengths None), from one
    regex call per megabyte of text: the same words as :func:`tokenize` line by line (a
    newline is neither a word character nor cased, so lowering and matching a block equals
    doing it line by line)."""
    if corpus.path is not None:
        with open(corpus.path, encoding="utf-8") as f:
            rest = ""
            while True:
                text = f.read(READ_CHARS)
                if not text:
                    break
                text = rest + text
                cut = text.rfind("\n") + 1
                rest = text[cut:]
                yield _LINE_TOKENS.findall(text[:cut].lower()), None
            if rest:
                yield _LINE_TOKENS.findall(rest.lower() + "\n"), None
        return
    tokens: list[str] = []
    sizes: list[int] = []
    for sentence in corpus:
        tokens.extend(sentence)
        sizes.append(len(sentence))
        if len(tokens) >= ENCODE_BLOCK:
            yield tokens, np.array(sizes, dtype=np.int64)
            tokens, sizes = [], []
    if tokens:
        yield tokens, np.array(sizes, dtype=np.int64)


def id_dtype(n_words: int) -> np.dtype:
    """The narrowest dtype for ids below ``n_words`` kept in memory: uint16 up to 65,536 words
    (half of int32's memory: 11 MB instead of 22 for the benchmark's 5.5M words), else int32."""
    return np.dtype(np.uint16 if n_words <= 1 << 16 else np.int32)


def _compact(
    blocks: list[Any], lengths: list[np.ndarray], remap: np.ndarray, out: np.ndarray
) -> np.ndarray:
    """Map each block's provisional ids to the vocabulary's into ``out`` (out-of-vocabulary ids
    dropped), releasing each block once copied, so that the provisional ids and ``out`` are not
    both whole in memory; ``lengths[i]``: block ``i``'s sentence lengths (its sentences are
    whole). ``out`` may be the blocks' own memory (the cache file, compacted from the front):
    a block is copied before anything is written at or past its start. Returns every
    sentence's kept length."""
    written, kept_lengths = 0, []
    for i, sizes in enumerate(lengths):
        mapped = _remapped(blocks[i], remap)
        blocks[i] = None
        keep = mapped >= 0
        kept = mapped[keep]
        out[written : written + kept.size] = kept
        written += kept.size
        before = np.zeros(keep.size + 1, dtype=np.int64)  # ids kept before each position
        np.cumsum(keep, out=before[1:])
        ends = np.cumsum(sizes)
        kept_lengths.append(before[ends] - before[ends - sizes])
    blocks.clear()
    if written != out.size:  # the counts came from these very ids
        raise AssertionError(f"encoded {written} ids, counted {out.size}")
    return np.concatenate(kept_lengths) if kept_lengths else np.zeros(0, np.int64)


def _narrow(ids: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
    """A block of provisional ids (int32) as uint16, ids from :data:`_ESCAPE` up written as
    it and listed, in order, in an int32 array (None if none): half the memory of the pass's
    ids (11 MB instead of 22 on the benchmark's 5.5M words, where the 138k distinct tokens
    past the first 65,535 are rare ones, ~2% of the ids)."""
    high = ids >= _ESCAPE
    narrow = ids.astype(np.uint16)
    if not high.any():
        return narrow, None
    narrow[high] = _ESCAPE
    return narrow, ids[high]


def _pack(ids: np.ndarray) -> bytes:
    """A block of provisional ids as :func:`_narrow`'s uint16 ids, then its escaped ids."""
    narrow, escaped = _narrow(ids)
    return narrow.tobytes() if escaped is None else narrow.tobytes() + escaped.tobytes()


def _sizes(sizes: bytes) -> np.ndarray:
    """A block's sentence lengths, kept as bytes (int64)."""
    return np.frombuffer(sizes, np.int64)


def _unpack(block: bytes, sizes: bytes) -> tuple[np.ndarray, np.ndarray | None]:
    """:func:`_pack`'s block as :func:`_narrow`'s pair (views of ``block``); ``sizes``: its
    sentence lengths (bytes), whose sum is its number of ids."""
    n = int(_sizes(sizes).sum())
    narrow = np.frombuffer(block, np.uint16, n)
    if len(block) == 2 * n:
        return narrow, None
    return narrow, np.frombuffer(block, np.int32, offset=2 * n)


def _widen(block: Any) -> np.ndarray:
    """The int32 ids of a block kept by :func:`_narrow` (other blocks as they are)."""
    if not isinstance(block, tuple):
        return block
    narrow, escaped = block
    ids = narrow.astype(np.int32)
    if escaped is not None:
        ids[narrow == _ESCAPE] = escaped
    return ids


def _remapped(block: Any, remap: np.ndarray) -> np.ndarray:
    """``remap`` of a block's provisional ids (a :func:`_narrow` pair, or int32 ids)."""
    if not isinstance(block, tuple):
        return remap[block]
    narrow, escaped = block
    mapped = remap[narrow]
    if escaped is not None:
        mapped[narrow == _ESCAPE] = remap[escaped]
    return mapped


def _finish(
    spill: _Spill, n: int, offsets: np.ndarray, identity: dict[str, Any] | None, vocab: Vocabulary
) -> None:
    """Write the offsets and the header after the ``n`` ids, then the preamble, and rename the
    partial file to its final name (a complete cache, or none)."""
    f = spill.file
    f.seek(_offsets_at(n))
    _write_block(f, offsets.astype("<i8"))
    words = vocab._word_list()  # not kept by the vocabulary: not needed while training
    header = json.dumps({
        "identity": identity, "words": words, "counts": vocab.counts.tolist(),
        "digest": _digest(words, vocab.counts), "longest": vocab.longest_sentence,
    }).encode("utf-8")  # fmt: skip
    del words
    h_off = f.tell()
    f.write(header)
    f.truncate()
    f.seek(0)
    pre = _MAGIC + np.array([n, len(offsets) - 1, h_off, len(header)], "<i8").tobytes()
    f.write(pre.ljust(_PREAMBLE, b"\0"))
    f.flush()
    os.fsync(f.fileno())
    f.close()
    os.replace(spill.path, spill.final)
