"""Pre-highlighting in worker processes, as the results come.

Where it is safe, the workers are forked from this process after it has loaded the
pipelines (and any trained model): they start in milliseconds and share the loaded
weights copy-on-write, instead of each loading its own copy. Forking is safe only while
this process runs no other thread (a lock another thread holds at the fork would stay held
in the child), so with threads about (a job runner's heartbeat, a server) each worker is a
fresh interpreter (spawn) that builds its own Prehighlighter once. Either way spaCy, the
quantity layer and the claim and relation rules all run in the workers, so the main process
only stores, and results come back in input order as each chunk finishes, which is what a
progress bar and a batched commit need.

The workers ignore SIGINT: Ctrl+C reaches the whole process group, and only the main
process should answer it (by terminating the pool), not every worker with a traceback.
"""

from __future__ import annotations

import gc
import multiprocessing
import os
import signal
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import replace

from annotator.worker_lifetime import end_with_parent

_worker = None  # the Prehighlighter of this worker process


def pool_run(
    prehighlighter,
    items: Iterable[tuple[str, str]],
    processes: int,
    chunk: int,
    chars: int | None = None,
    langs: Iterable[str] = (),
    pool=None,
) -> Iterator:
    """Highlighted documents for (text, lang) pairs, in order, from `processes` workers;
    tasks of at most `chunk` pairs and (given `chars`) about that many characters. `langs`:
    the languages whose pipelines to load before forking (others load in the workers).
    `pool`: workers forked ahead (forked_ahead), used here and ended by their owner."""
    owned = pool is None
    with _own_pool(prehighlighter, processes, langs) if owned else nullcontext(pool) as pool:
        for highlighted in pool.imap(_highlight, _chunks(items, chunk, chars)):
            yield from highlighted
        if owned:
            pool.close()


@contextmanager
def forked_ahead(prehighlighter, langs: Iterable[str]) -> Iterator:
    """Workers forked now, before an import reads its files, from a process holding the
    loaded pipelines of `langs` and nothing of the corpus. Forked after the reading, each
    worker inherits every document read and keeps those pages while this process, touching
    its own objects (reference counts), copies them: two workers then held the corpus once
    more between them (10,000 seed-sized documents: 758 against 696 MiB for the whole
    import). None where workers cannot be forked."""
    if not forkable():
        yield None
        return
    with _own_pool(prehighlighter, prehighlighter.processes, langs) as pool:
        yield pool


@contextmanager
def _own_pool(prehighlighter, processes: int, langs: Iterable[str]):
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)  # inherited by the workers
    try:
        if forkable():
            pool = _forked_pool(prehighlighter, processes, langs)
        else:
            model_path = str(prehighlighter.model.path) if prehighlighter.model is not None else None
            context = multiprocessing.get_context("spawn")
            pool = context.Pool(
                processes, initializer=_start, initargs=(_recipe(prehighlighter), model_path, os.getpid())
            )
    finally:
        signal.signal(signal.SIGINT, previous)
    try:
        yield pool
    finally:
        # also on Ctrl+C or an error in the caller: no worker outlives the import
        pool.terminate()
        pool.join()


def _forked_pool(prehighlighter, processes: int, langs: Iterable[str]):
    for lang in langs:
        prehighlighter.pipeline_for(lang)
    adopted = replace(prehighlighter, processes=1)  # its loaded pipelines and model too
    # what is loaded by now is left out of every worker's garbage collections: a collection
    # walking the parent's objects writes to their pages, and each worker would get its own
    # copy of them
    gc.freeze()
    try:
        return multiprocessing.get_context("fork").Pool(processes, initializer=_adopt, initargs=(adopted, os.getpid()))
    finally:
        gc.unfreeze()


def forkable() -> bool:
    """Whether workers may be forked from this process: the platform can, and no other
    thread runs here."""
    return "fork" in multiprocessing.get_all_start_methods() and threading.active_count() == 1


def can_pool(prehighlighter) -> bool:
    """Whether workers can have this pre-highlighter: forked, or rebuilt from a trained
    model's folder."""
    model = prehighlighter.model
    return model is None or forkable() or getattr(model, "path", None) is not None


def _recipe(prehighlighter):
    """The pre-highlighter without what is built or loaded, to send to the workers."""
    return replace(prehighlighter, model=None, processes=1, _pipelines={}, _provenance={})


def _adopt(prehighlighter, parent: int) -> None:
    """A forked worker: the parent's pre-highlighter, pipelines already loaded."""
    global _worker
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    end_with_parent(parent)
    # an import pauses the collector (gc_pause.py) and a fork inherits that, but spaCy's
    # documents hold reference cycles: without collections a worker would keep them all
    gc.enable()
    _worker = prehighlighter


def _start(recipe, model_path: str | None, parent: int) -> None:
    global _worker
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    end_with_parent(parent)
    if model_path is not None:
        from annotator.learn.model import TrainedModel

        recipe = replace(recipe, model=TrainedModel.load(model_path))
    _worker = recipe


def _highlight(chunk: list[tuple[str, str]]) -> list:
    return _worker.run_chunk(chunk)


def _chunks(items: Iterable, size: int, chars: int | None = None) -> Iterator[list]:
    chunk, held = [], 0
    for item in items:
        if chunk and chars is not None and held + len(item[0]) > chars:
            yield chunk
            chunk, held = [], 0
        chunk.append(item)
        held += len(item[0])
        if len(chunk) == size:
            yield chunk
            chunk, held = [], 0
    if chunk:
        yield chunk
