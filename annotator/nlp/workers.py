"""Pre-highlighting in worker processes, as the results come.

Each worker builds its own Prehighlighter (pipelines, gazetteer, trained model) once and
pre-highlights chunks of documents whole: spaCy, the quantity layer and the claim and
relation rules all run there, so the main process only stores. Results come back in input
order as each chunk finishes, which is what a progress bar and a batched commit need.

The workers ignore SIGINT: Ctrl+C reaches the whole process group, and only the main
process should answer it (by terminating the pool), not every worker with a traceback.
"""

from __future__ import annotations

import multiprocessing
import signal
from collections.abc import Iterable, Iterator
from dataclasses import replace

_worker = None  # the Prehighlighter of this worker process


def pool_run(
    prehighlighter, items: Iterable[tuple[str, str]], processes: int, chunk: int, chars: int | None = None
) -> Iterator:
    """Highlighted documents for (text, lang) pairs, in order, from `processes` workers;
    tasks of at most `chunk` pairs and (given `chars`) about that many characters."""
    recipe = _recipe(prehighlighter)
    model_path = str(prehighlighter.model.path) if prehighlighter.model is not None else None
    # spawn: a fresh interpreter per worker, safe whatever threads the caller runs
    context = multiprocessing.get_context("spawn")
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)  # inherited by the workers
    try:
        pool = context.Pool(processes, initializer=_start, initargs=(recipe, model_path))
    finally:
        signal.signal(signal.SIGINT, previous)
    try:
        for highlighted in pool.imap(_highlight, _chunks(items, chunk, chars)):
            yield from highlighted
        pool.close()
    finally:
        # also on Ctrl+C or an error in the caller: no worker outlives the import
        pool.terminate()
        pool.join()


def can_pool(prehighlighter) -> bool:
    """Whether workers can rebuild this pre-highlighter: a trained model must come from a folder."""
    model = prehighlighter.model
    return model is None or getattr(model, "path", None) is not None


def _recipe(prehighlighter):
    """The pre-highlighter without what is built or loaded, to send to the workers."""
    return replace(prehighlighter, model=None, processes=1, _pipelines={}, _provenance={})


def _start(recipe, model_path: str | None) -> None:
    global _worker
    signal.signal(signal.SIGINT, signal.SIG_IGN)
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
