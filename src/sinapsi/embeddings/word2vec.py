"""word2vec: skip-gram and CBOW with negative sampling, trained with sinapsi's autograd.

Decomposed as in chainer's word2vec example (DESIGN.md section 26):

* the data: a :class:`~sinapsi.embeddings.Vocabulary`, frequent-word subsampling, and the
  window iterators :func:`window_pairs` (skip-gram) / :func:`cbow_windows` (CBOW) of one
  sentence (module :mod:`.windows`); :func:`train_word2vec` reads the corpus once (module
  :mod:`.encoding`: ids in memory or in a memory-mapped cache) and makes the same kind of
  pairs a chunk of many sentences at a time (module :mod:`.pipeline`);
* the models (module :mod:`.models`): :class:`SkipGram` and :class:`CBOW`, Modules over two
  :class:`~sinapsi.nn.Embedding` tables (``center``: input vectors, ``context``: output vectors);
* the loss (module :mod:`.negative_sampling`): :func:`negative_sampling_loss`, with negatives
  drawn by :class:`NegativeSampler` (Walker's alias method) from the unigram distribution
  raised to 0.75;
* the loop: :func:`train_word2vec`, with one thread or several (``workers``).

Sparse updates (module :mod:`.sparse`). ``model(...)`` is the dense autograd path: its
gradient is a full ``(vocab_size, dim)`` array, fine for tests and small vocabularies.
:func:`train_word2vec` never builds one: :func:`sparse_step` gathers the unique rows a batch
uses into small leaf tensors, runs the same loss through autograd on them -- as
:func:`negative_sampling_loss_rows`, the one node that also does the output-vector lookups,
so that its backward scatters the gradients instead of building a ``(B, K, D)`` array -- and
a sparse optimizer (:class:`SparseSGD`, :class:`SparseAdagrad`, :class:`SparseAdam`) updates
only those rows. One step of :class:`SparseSGD` equals a dense SGD step on the same batch
(tested). For skip-gram with :class:`SparseSGD` and the compiled loops, :func:`sparse_step`
does the same step in the tables themselves (module :mod:`.fused`: no leaf copies).

An opt-in variant shares the negatives among groups of pairs
(:func:`shared_negative_sampling_loss_rows`, ``train_word2vec(share_negatives=G)``): same
expected loss, faster, but not word2vec's algorithm.

>>> sentences = [["the", "cat", "sat"], ["the", "dog", "sat"]] * 20
>>> kv = train_word2vec(sentences, dim=8, window=2, min_count=1, sample=0, epochs=1, seed=0)
>>> kv.vectors.shape
(4, 8)
"""

from __future__ import annotations

import collections
import os
import threading
import time
from collections.abc import Iterator
from typing import Any, NamedTuple

import numpy as np

from .. import _numba
from ..backend import new_rng
from ._malloc import KEPT, MAPPED, malloc_regime, release_freed_memory
from .encoding import EncodedCorpus, available_memory, encode_corpus
from .fused import StepBuffers
from .gensim_names import accepts_gensim_names
from .models import CBOW, SkipGram
from .negative_sampling import (
    NegativeSampler,
    negative_sampling_loss,
    negative_sampling_loss_rows,
    shared_negative_sampling_loss_rows,
)
from .pipeline import BLOCK_TOKENS, CHUNK_ROWS, Streams, chunk_groups
from .sparse import SparseAdagrad, SparseAdam, SparseSGD, _SparseOptimizer, sparse_step
from .vectors import KeyedVectors
from .vocab import Vocabulary, check_sample, read_corpus
from .windows import _positive_int, cbow_windows, window_pairs

__all__ = [
    "CBOW",
    "NegativeSampler",
    "SkipGram",
    "SparseAdagrad",
    "SparseAdam",
    "SparseSGD",
    "available_memory",
    "cbow_windows",
    "default_batch_size",
    "negative_sampling_loss",
    "negative_sampling_loss_rows",
    "shared_negative_sampling_loss_rows",
    "sparse_step",
    "train_word2vec",
    "window_pairs",
]


# ---------------------------------------------------------------------------- training
def _batches(
    corpus: Any,
    vocab: Vocabulary,
    model: str,
    window: int,
    sample: float,
    batch_size: int,
    rng: np.random.Generator,
    chunk_words: int = CHUNK_ROWS,
) -> Iterator[tuple[int, tuple[np.ndarray, ...]]]:
    """Yield ``(raw words consumed, batch arrays)`` of one epoch over ``corpus`` (sentences of
    tokens), through the chunked pipeline (:mod:`.pipeline`) with streams spawned from ``rng``;
    pairs are shuffled in groups of about ``chunk_words`` rows.

    Sentences longer than :data:`MAX_SENTENCE_LENGTH` words (after subsampling) are cut into
    pieces of that length, as word2vec.c does (at 1000) and gensim (at 10000): no window
    spans two pieces.
    """
    encoded = EncodedCorpus.from_ids([vocab.encode(sentence) for sentence in corpus])
    return _epoch_batches(
        encoded, vocab, model, window, sample, batch_size, Streams.spawn(rng), chunk_words
    )


def _epoch_batches(
    encoded: EncodedCorpus,
    vocab: Vocabulary,
    model: str,
    window: int,
    sample: float,
    batch_size: int,
    streams: Streams,
    chunk_rows: int = CHUNK_ROWS,
) -> Iterator[tuple[int, tuple[np.ndarray, ...]]]:
    """One epoch's ``(raw words consumed, batch arrays)`` over the encoded corpus."""
    groups = chunk_groups(
        encoded, vocab, model, window, sample, streams, chunk_rows=chunk_rows,
        max_length=MAX_SENTENCE_LENGTH, width=_window_width(vocab, window),
    )  # fmt: skip
    return _split(groups, batch_size)


def _split(
    groups: Iterator[tuple[int, tuple[np.ndarray, ...]]], batch_size: int
) -> Iterator[tuple[int, tuple[np.ndarray, ...]]]:
    """Each group's rows in batches of ``batch_size``; a group's words are shared among its
    batches by their rows (so that the learning rate, which decays with the words done, falls
    batch by batch, not once a group: an epoch of a small corpus is one group)."""
    for consumed, arrays in groups:
        if not arrays:
            yield consumed, ()
            continue
        n = len(arrays[0])
        nb = max(1, -(-n // batch_size))
        for i in range(nb):
            lo, hi = i * batch_size, min((i + 1) * batch_size, n)
            words = consumed * hi // n - consumed * lo // n
            yield words, tuple(a[lo:hi] for a in arrays)


# the queue is filled about every other batch; every this many fills, the memory freed is
# given back to the system (glibc's malloc_trim, ~0.1 ms): the pipeline's and the steps' freed
# blocks, left where later ones do not fit, held ~3 MB more at the peak on the large corpus
# (module ._malloc)
TRIM_EVERY = 200
MAX_SENTENCE_LENGTH = 10_000  # longer sentences are cut into pieces of this many words
PAIRS_IN_FLIGHT = 4096  # train_word2vec's default: at most this many pairs in flight at once
USES_PER_BATCH = 10  # ...and about this many uses of a word per batch, on average


def default_batch_size(vocab: Vocabulary, sample: float, workers: int) -> int:
    """``train_word2vec``'s pairs per step when ``batch_size`` is None.

    A batch's gradients are computed with the vectors as they were before it, and a word used
    ``c`` times in a batch takes the sum of its ``c`` steps at once, where word2vec.c and
    gensim take them one after another, each from where the last one left it. When the words
    of a batch are few and repeated (a small vocabulary), the summed steps overshoot and the
    vectors blow up: 88 words and 4096 pairs a step (each word ~50 times an input, ~280 times
    an output) went to NaN in 5 epochs, and so did lee_background with ``sample=0``; both
    trained well from 2048 pairs down. So the batch is chosen from the words' frequencies in
    the training stream (``p``, after subsampling): a word is used on average
    ``batch * sum(p ** 2)`` times a batch, kept near :data:`USES_PER_BATCH` (10, a margin of
    about 5 below where those two diverged), and never above :data:`PAIRS_IN_FLIGHT` pairs
    in flight (4096, where head500 and lee_background, with 1/sum(p ** 2) of 1794 and 463
    "effective" words, stay, at full speed). With ``workers`` threads the batch is divided
    among them, as the same pairs are then in flight at once.
    """
    p = vocab.counts * vocab.keep_probabilities(sample)
    p = p / p.sum()
    effective_words = 1.0 / float(np.sum(p * p))  # 1 / sum(p^2): n for n equally common words
    in_flight = min(PAIRS_IN_FLIGHT, int(USES_PER_BATCH * effective_words))
    return max(1, in_flight // workers)


def _window_width(vocab: Vocabulary, window: int) -> int:
    """The widest offset a window can reach: sentences are at most the longest one and at most
    :data:`MAX_SENTENCE_LENGTH` words."""
    longest = min(vocab.longest_sentence or MAX_SENTENCE_LENGTH, MAX_SENTENCE_LENGTH)
    return max(1, min(window, longest - 1))


def _check_memory(
    vocab: Vocabulary, dim: int, optimizer: str, batch: int, workers: int, negative: int,
    window: int, cbow: bool,
) -> None:  # fmt: skip
    """Refuse, before allocating, a training whose arrays exceed the memory available.

    Counted: the two ``(words, dim)`` float32 tables, their gradients (a batch may use whole
    tables) and the optimizer's state (Adagrad one table each, Adam two); the batches in
    flight (``batch`` pairs per worker, at most a chunk's: ids, scores and gradients per pair
    and negative, the rows of 1024 pairs gathered); a group of shuffled pairs (100k, plus
    a sentence's, in a few copies: skip-gram's id pairs, CBOW's rows of ``2 * width`` ids and
    flags); and the pipeline's per-word arrays of a block (:data:`~.pipeline.BLOCK_TOKENS`
    words, about 12 arrays of 8 bytes). The encoded corpus keeps to its own budget
    (:mod:`.encoding`).
    """
    n_words = len(vocab)
    tables = 2 * (2 + {"sgd": 0, "adagrad": 1, "adam": 2}[optimizer])
    table_bytes = tables * n_words * dim * 4
    width = _window_width(vocab, window)
    sentence = width + 1
    chunk = 100_000 + sentence * 2 * width  # pairs: a batch is at most a chunk's
    batch = workers * min(batch, chunk)  # in flight
    batch_bytes = batch * (negative + 1) * 48 + min(batch, 1024) * (negative + 1) * dim * 4
    if cbow:
        batch_bytes += 3 * (100_000 + sentence) * 2 * width * 9
    else:
        batch_bytes += 3 * (100_000 + sentence * 2 * width) * 16
    batch_bytes += BLOCK_TOKENS * 12 * 8
    need, have = table_bytes + batch_bytes, available_memory()
    if have is None or need <= have:
        return
    gb = 1 << 30
    raise ValueError(
        f"training needs about {need / gb:.1f} GB for {n_words} words x {dim} dimensions "
        f"(tables, gradients and {optimizer} state: {table_bytes / gb:.1f} GB; one batch of "
        f"{batch} pairs: {batch_bytes / gb:.1f} GB), but only {have / gb:.1f} GB of memory is "
        "available; lower --dim (dim), --negative, --window, or the vocabulary (--min-count)"
    )


@accepts_gensim_names
def train_word2vec(
    corpus: Any,
    *,
    model: str = "skipgram",
    dim: int = 100,
    window: int = 5,
    negative: int = 5,
    min_count: int = 5,
    sample: float = 1e-3,
    epochs: int = 5,
    batch_size: int | None = None,
    lr: float = 0.025,
    min_lr: float | None = None,
    optimizer: str = "sgd",
    seed: Any = None,
    verbose: int = 0,
    max_vocab: int | None = None,
    share_negatives: int = 1,
    workers: int = 1,
    cache_dir: str | os.PathLike[str] | None = None,
) -> KeyedVectors:
    """Train word2vec on ``corpus`` (a file path, or sentences: strings or token lists).

    Reads the corpus once: builds the :class:`Vocabulary` (``min_count``, ``max_vocab``) and
    encodes the sentences as ids in the same pass (:func:`~.encoding.encode_corpus`: kept in
    memory while they fit a budget, a quarter of the memory available; past it written to a
    memory-mapped cache file in ``cache_dir``, default a temporary folder removed after
    training; in a folder you name, the cache is kept and reused by a later training of the same
    file with the same ``min_count`` and ``max_vocab``). Then for each epoch it subsamples
    frequent words (``sample``; 0 keeps all), makes dynamic windows and shuffles the pairs in
    groups of about 100k, a block of sentences at a time (:mod:`.pipeline`), and takes one
    :func:`sparse_step` per ``batch_size`` pairs with ``negative`` negatives each
    (unigram^0.75). The subsampling, window sizes and shuffles are drawn from three streams
    spawned from ``seed``; since this chunked pipeline a seed trains other vectors than it
    did before (other draws, the same distributions).

    The per-batch loss is the *sum* over pairs, so ``lr`` means what it means in word2vec /
    gensim (the step each pair contributes). ``optimizer``: "sgd" (lr decays linearly over the
    training words to ``min_lr``, as gensim's alpha to min_alpha; None: to 0, floored at
    ``lr * 1e-4``, as word2vec.c), "adagrad" or "adam" (constant lr).
    ``verbose``: a tqdm bar with words/s and the running loss (the mean per pair of the batches
    since it was last shown: from the first batch, then at each epoch or every 0.2 s). Returns
    the input vectors as :class:`KeyedVectors`; the same ``seed`` gives identical vectors.

    Refused with a one-line ValueError, before anything is allocated: arguments out of range,
    and a training whose tables and batches would not fit in the memory available
    (:func:`available_memory`). After training: ValueError if no pair was trained (every
    sentence shorter than 2 words after ``min_count`` and subsampling), FloatingPointError
    naming the epoch if a batch's loss or the vectors turn NaN or inf. Sentences longer than
    :data:`MAX_SENTENCE_LENGTH` (10,000) words are cut into pieces, as gensim does.

    ``batch_size``: pairs per step; None (the default) is :func:`default_batch_size`: ``4096 //
    workers``, so that 4096 pairs are in flight at once whatever the workers, or fewer for a
    small vocabulary, where each word would be used more than about 10 times a batch (its
    summed steps then overshoot: 88 words at 4096 pairs went to NaN). A loss or vectors that
    turn NaN or inf raise FloatingPointError naming the epoch. On the head500 benchmark corpus the
    word vectors scored the same from 256 to 4096 pairs a step (analogies and word
    similarity, 5 seeds) and worse from 16384 (analogies about -20%): every pair of a batch
    is computed with the same, stale vectors, and with W workers W batches are in flight.
    Measured over 8 seeds with 2 workers (and word2vec.c's narrower init, since widened, see
    :mod:`.models`): 4096 pairs a step scored 0.89x gensim's analogy accuracy, 2048 scored
    0.93x (one worker, 4096: 0.94x), at the same speed. Bigger batches are faster (fewer,
    larger NumPy calls), up to about 4096.

    ``share_negatives``: 1 (the default) is word2vec's scheme, every pair draws its own
    ``negative`` negatives. An opt-in ``G > 1`` lets each group of G consecutive (shuffled)
    pairs share one draw of ``negative`` negatives (:func:`shared_negative_sampling_loss_rows`):
    the expected loss is the same, the negative scores and gradients become small matrix
    products instead of row gathers: on NumPy alone 1.6-1.9x faster with G = 64 on head500,
    where (10 seeds) analogies scored as with G = 1 and word similarity higher (Spearman 0.45
    against 0.37); with the compiled loops of ``sinapsi[fast]``, G = 1 runs about as fast
    (0.8-1.2x, benchmarks/word2vec.py). It is not word2vec's algorithm: the pairs of a group
    see the same negatives.

    ``workers``: threads that take batches in turn and update the shared tables without locks
    ("Hogwild", as word2vec.c and gensim's ``workers`` do); the calling thread alone makes the
    batches and draws their negatives, a few jobs ahead, into a queue the others take from
    (their memory then sits in one malloc arena). For a given ``batch_size`` the
    batches, negatives and learning rates are drawn in the same order whatever the count
    (the default ``batch_size`` depends on ``workers``, see above), but with more than one
    worker the updates interleave as the threads run: the vectors then differ from run to run
    even with a seed (gensim's too). The compiled loops of the loss (numba, with
    ``sinapsi[fast]``) and NumPy's large array loops release Python's GIL, so two workers
    train 1.5-1.7x faster on two cores on head500 (8k words). On lee_background (1.8k words)
    they gained nothing: there every batch updates most rows of both tables, probably passing
    them back and forth between the cores' caches; and on NumPy alone (no numba) they were
    slower there than one (2.6 s against 2.2). 1, the default, is one thread: the same seed
    gives identical vectors.

    ``cache_dir``: the folder for the encoded corpus's cache file when it exceeds its memory
    budget (None: a temporary folder, removed after training); nothing is written elsewhere.

    gensim's names are accepted too (:mod:`.gensim_names`): ``sentences``, ``corpus_file``,
    ``vector_size``, ``sg``, ``hs=0``, ``alpha``, ``min_alpha``, ``max_vocab_size``. The default
    model stays skip-gram (gensim's is CBOW, ``sg=0``).
    """
    if model not in ("skipgram", "cbow"):
        raise ValueError(f"model must be 'skipgram' or 'cbow', got {model!r}")
    if optimizer not in ("sgd", "adam", "adagrad"):
        raise ValueError(f"optimizer must be 'sgd', 'adam' or 'adagrad', got {optimizer!r}")
    for name, value in (("dim", dim), ("negative", negative), ("epochs", epochs)):
        _positive_int(name, value)
    share_negatives = _positive_int(
        "share_negatives", share_negatives, " (1: every pair draws its own negatives, as word2vec)"
    )
    workers = _positive_int("workers", workers, " (1: one thread, reproducible)")
    if batch_size is not None:
        batch_size = _positive_int("batch_size", batch_size, " or None (chosen from the corpus)")
    window = _positive_int("window", window)
    if isinstance(lr, bool) or not isinstance(lr, (int, float, np.number)) or not 0 < lr < np.inf:
        raise ValueError(f"lr must be a positive, finite number, got {lr!r} (word2vec: 0.025)")
    if min_lr is not None and (isinstance(min_lr, bool) or not 0 <= min_lr < np.inf):
        raise ValueError(f"min_lr must be a number >= 0 or None, got {min_lr!r} (gensim: 1e-4)")

    corpus = read_corpus(corpus)
    sample = check_sample(sample)  # before the pass over the corpus
    rng = new_rng(seed)
    with malloc_regime(MAPPED):  # the pass's large blocks mmap-ed, given back when freed
        vocab, encoded = encode_corpus(corpus, min_count, max_vocab, cache_dir=cache_dir)
    # the pass leaves ~30 MB freed but held (the provisional ids, the token dict) on the
    # benchmark's 5.5M-word corpus, which the tables, allocated next, would add to
    release_freed_memory()
    try:  # only the input vectors kept: the output ones freed before the KeyedVectors are made
        center = _train(
            encoded, vocab, rng, model=model, dim=dim, window=window, negative=negative,
            min_count=min_count, sample=sample, epochs=epochs, batch_size=batch_size, lr=lr,
            optimizer=optimizer, verbose=verbose, share_negatives=share_negatives,
            workers=workers, min_lr=min_lr,
        ).center  # fmt: skip
    finally:
        encoded.close()
    return KeyedVectors(vocab.words, center)


class Trained(NamedTuple):
    """What :func:`_train` returns: both tables, the summed loss and the pairs trained."""

    center: np.ndarray
    context: np.ndarray
    loss: float
    pairs: int


def _train(
    encoded: EncodedCorpus, vocab: Vocabulary, rng: np.random.Generator, *, model: str, dim: int,
    window: int, negative: int, min_count: int, sample: float, epochs: int,
    batch_size: int | None, lr: float, optimizer: str, verbose: int, share_negatives: int,
    workers: int, min_lr: float | None = None, tables: tuple[np.ndarray, np.ndarray] | None = None,
    total_words: int | None = None, allow_empty: bool = False,
) -> Trained:  # fmt: skip
    """:func:`train_word2vec` on the encoded corpus (arguments checked). A continued training
    (:class:`~.word2vec_model.Word2Vec`) gives the float32 ``tables`` (center, context) to update in
    place, the ``total_words`` its lr decays over, and ``allow_empty`` (no pairs: no error)."""
    if batch_size is None:
        batch_size = default_batch_size(vocab, sample, workers)
    _check_memory(vocab, dim, optimizer, batch_size, workers, negative, window, model == "cbow")
    cls = CBOW if model == "cbow" else SkipGram
    net = cls(len(vocab), dim, rng=rng)
    if tables is not None:
        net.center.weight.data, net.context.weight.data = tables
    sampler = NegativeSampler(vocab, k=negative, rng=rng)
    streams = Streams.spawn(rng)  # subsampling, windows, shuffles: drawn a chunk at a time
    params = [net.center.weight, net.context.weight]
    opt: _SparseOptimizer
    if optimizer == "sgd":
        opt = SparseSGD(params, lr)
    elif optimizer == "adagrad":
        opt = SparseAdagrad(params, lr)
    else:
        opt = SparseAdam(params, lr)

    if total_words is None:
        total_words = int(vocab.counts.sum()) * epochs
    bar = None
    if verbose:
        from tqdm.auto import tqdm

        bar = tqdm(total=total_words, unit="word", unit_scale=True, desc="word2vec")

    def stream() -> Iterator[tuple[int, int, tuple[np.ndarray, ...]]]:
        for epoch in range(epochs):
            for consumed, batch in _epoch_batches(
                encoded, vocab, model, window, sample, batch_size, streams
            ):
                yield epoch, consumed, batch

    batches = stream()
    lock = threading.Lock()  # guards the queue and the loss counters
    ready = threading.Condition(lock)  # a job was queued, or the stream ended or stopped
    stop = threading.Event()
    start = time.perf_counter()
    done, loss_sum, pairs_seen, pairs_total, loss_total = 0, 0.0, 0, 0, 0.0
    shown: tuple[int, float] | None = None  # the bar's loss: (epoch, when) it was last shown
    shared_as = None if share_negatives == 1 else negative
    queued: collections.deque[tuple[int, tuple[np.ndarray, ...], np.ndarray, float]]
    queued = collections.deque()
    ended = False  # the stream is exhausted
    fills = 0  # calls of fill()
    ahead = 4 * workers  # jobs the calling thread keeps queued for the others
    id_type = np.int32 if len(vocab) < 2**31 else np.int64  # the queued negatives' ids

    def fill() -> None:
        """Queue the next jobs (the batch's epoch, the batch, its negatives and its lr), drawn
        in one order whatever the workers. Only the calling thread (worker 0) runs it: the
        pipeline's and the sampler's arrays are all made by one thread, so that with several
        workers only its malloc arena holds their memory (each thread's own arena kept its
        own ~8 MB of them on the benchmark's large corpus)."""
        nonlocal done, ended, fills
        fills += 1
        if fills % TRIM_EVERY == 0:
            release_freed_memory()
        jobs = []
        while len(queued) + len(jobs) < ahead and not stop.is_set():
            item = next(batches, None)
            if item is None:
                ended = True
                break
            epoch, consumed, batch = item
            if min_lr is None:
                step_lr = lr * max(1e-4, 1.0 - done / total_words)
            else:
                step_lr = lr - (lr - min_lr) * min(1.0, done / max(total_words, 1))
            done += consumed
            if bar is not None and consumed:
                with lock:
                    bar.update(consumed)
            if batch:
                negs = sampler.sample(-(-len(batch[0]) // share_negatives)).astype(id_type)
                jobs.append((epoch, batch, negs, step_lr))
        with ready:
            queued.extend(jobs)
            ready.notify_all()

    def next_job(main: bool) -> tuple[int, tuple[np.ndarray, ...], np.ndarray, float] | None:
        """The next queued job, or None at the end; the calling thread (``main``) tops the
        queue up first, the others wait for it while the queue is empty."""
        while True:
            if main and not ended and len(queued) < ahead:
                fill()
            with ready:
                while not queued and not (ended or stop.is_set() or main):
                    ready.wait()
                if queued:
                    return queued.popleft()
                if ended or stop.is_set():
                    return None

    def show(epoch: int) -> None:
        """The bar's postfix: the mean loss per pair of the batches trained since it was last
        shown, after the first batch, then at each new epoch or every 0.2 s (under ``lock``)."""
        nonlocal loss_sum, pairs_seen, shown
        now = time.perf_counter()
        if shown is not None and shown[0] == epoch and now - shown[1] < 0.2:
            return
        assert bar is not None
        postfix = {"epoch": epoch + 1, "loss": f"{loss_sum / max(pairs_seen, 1):.4f}"}
        if done:  # words are counted batch by batch (a group's shared among its batches)
            postfix["words_s"] = f"{done / max(now - start, 1e-9):.0f}"
        bar.set_postfix(**postfix)
        loss_sum, pairs_seen, shown = 0.0, 0, (epoch, now)

    def work(worker_opt: _SparseOptimizer, main: bool = False) -> None:
        nonlocal loss_sum, pairs_seen, pairs_total, loss_total
        buffers = StepBuffers()  # this worker's step arrays, reused batch after batch
        while (job := next_job(main)) is not None:
            epoch, batch, negs, step_lr = job
            if optimizer == "sgd":
                worker_opt.lr = step_lr
            with np.errstate(over="ignore", invalid="ignore"):  # told below, in one line
                loss = sparse_step(
                    net, worker_opt, batch[0], batch[1], negs, *batch[2:], shared_as=shared_as,
                    concurrent=workers > 1, buffers=buffers,
                )  # fmt: skip
            if not np.isfinite(loss):
                raise _diverged(epoch, f"the loss of a batch is {loss}")
            with lock:
                loss_sum += loss
                loss_total += loss
                pairs_seen += len(batch[0])
                pairs_total += len(batch[0])
                if bar is not None:
                    show(epoch)

    errors: list[BaseException] = []

    def _diverged(epoch: int, what: str) -> FloatingPointError:
        return FloatingPointError(
            f"word2vec diverged in epoch {epoch + 1} of {epochs}: {what} (lr {lr:g}, "
            f"batch_size {batch_size}, {len(vocab)} words); lower lr, or batch_size (None "
            f"picks one for the vocabulary)"
        )

    def guarded(worker_opt: _SparseOptimizer) -> None:
        try:
            work(worker_opt)
        except BaseException as error:  # noqa: BLE001 - raised again in the calling thread
            errors.append(error)
            stop.set()

    # SGD keeps no state: each worker gets its own (its own lr); Adam and Adagrad share theirs
    threads = [
        threading.Thread(
            target=guarded,
            args=(SparseSGD(params, lr) if optimizer == "sgd" else opt,),
            name=f"sinapsi-word2vec-{i}",
            daemon=True,
        )
        for i in range(1, workers)
    ]
    # the fused step reuses its arrays: the pipeline's groups are then best mmap-ed (._malloc)
    fused = model == "skipgram" and optimizer == "sgd" and share_negatives == 1
    try:
        with malloc_regime(MAPPED if fused and _numba.enabled() else KEPT):
            for thread in threads:
                thread.start()
            work(opt, main=True)  # this thread is worker 0, and the only one to fill the queue
    finally:
        with ready:
            stop.set()  # after an error here: the others stop at their next batch
            ready.notify_all()
        for thread in threads:
            thread.join()
        if bar is not None:
            bar.close()
    if errors:
        raise errors[0]
    if not pairs_total and not allow_empty:
        raise ValueError(
            f"no training pairs in {epochs} epoch(s): every sentence had fewer than 2 words "
            f"once words seen fewer than min_count={min_count} times were dropped and frequent "
            f"ones subsampled (sample={sample:g}); give sentences of several words (one per "
            "line in a file), lower min_count, or lower sample (0 keeps every word)"
        )
    # one float64 sum: NaN and inf carry through it, float32 values cannot overflow it, and no
    # boolean copy of the table (2.8 MB on the benchmark's large corpus) is made
    if not np.isfinite(net.center.weight.data.sum(dtype=np.float64)):
        raise _diverged(epochs - 1, "the word vectors hold NaN or inf")
    return Trained(net.center.weight.data, net.context.weight.data, loss_total, pairs_total)
