"""Settling a document: its language (detected where nobody gave it) and its tokens.

An import without the pipeline settles its new documents as it stores them (`settling`):
on every core, while the main process parses and inserts, so the first export finds
nothing left to do and costs what a later one does. A document can still be waiting: one
imported with --tokenize-later (its language detected at import), or by an older version
(its language too). The first thing that needs its tokens settles it here, once: its
language detected if that was left open, its tokens stored (with their token array), and
the QUANTITY pre-annotations it brought parsed again in that language ("10.000" is ten
thousand in Portuguese and ten in English). One rule, used three ways: for one document
inside a write (the workspace), for every waiting document before a read that must not
write (export, show), and in memory only, for a document that arrived after that
(tokens_of).
"""

from __future__ import annotations

import gc
import multiprocessing
import os
import signal
from collections import deque
from collections.abc import Iterable, Iterator
from contextlib import contextmanager, suppress
from itertools import islice
from typing import NamedTuple

from sqlalchemy import bindparam, delete, insert, make_url, select
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import Session

from annotator.models import QUANTITY_FIELDS, Document, Suggestion, TokenArray
from annotator.nlp.language import PENDING, settled
from annotator.nlp.language import load_model as load_language_model
from annotator.nlp.tokenizer import tokenize_packed, tokenizer_for
from annotator.nlp.workers import forkable
from annotator.schema.token_arrays import Tokenized, array_rows
from annotator.worker_lifetime import end_with_parent

BATCH = 500
# batches an import keeps in flight (~7 MB of results each): enough to keep the workers busy
# while it inserts the documents
IMPORT_AHEAD = 8
PARALLEL_MIN = 1000  # waiting documents worth starting worker processes for (~2 s of work)
STORED_TOKENS = select(Document.tokens).where(Document.id == bindparam("id"))


class Settled(NamedTuple):
    lang: str
    lang_source: str
    tokens: bytes
    detected: bool  # the language was detected just now: imported quantities need parsing again


def settle(text: str, lang: str, lang_source: str) -> Settled:
    """The language and packed tokens a waiting document gets."""
    lang, source = settled(text, lang, lang_source)
    return Settled(lang, source, tokenize_packed(text, lang), lang_source == PENDING)


def tokens_of(doc) -> bytes:
    """A document's packed tokens: stored, or computed here and not kept (a read never writes)."""
    return doc.tokens if doc.tokens is not None else tokenize_packed(doc.text, doc.lang)


def ensure_tokens(session: Session, doc: Document, quantity_label: str | None) -> bytes:
    """The document's packed tokens, settled and stored on first use inside the caller's write."""
    if "tokens" in sa_inspect(doc).unloaded:  # deferred by the workspace: one prebuilt select
        set_committed_value(doc, "tokens", session.connection().execute(STORED_TOKENS, {"id": doc.id}).scalar())
    if doc.tokens is None:
        done = settle(doc.text, doc.lang, doc.lang_source)
        doc.lang, doc.lang_source, doc.tokens = done.lang, done.lang_source, done.tokens
        session.add(doc)
        if done.detected:
            session.flush()
            reparse_imported_quantities(session, {doc.id: doc.lang}, quantity_label)
    return doc.tokens


def settle_all(
    db, quantity_label: str | None, batch: int = BATCH, uids: list[str] | None = None, workers: int | None = None
) -> int:
    """Settle every waiting document (or those of `uids`), a batch per write, the language,
    tokens and token arrays worked out outside the write lock: in worker processes (one per
    core; `workers`) when there are many, here otherwise; how many. Runs before a read
    (export, show), so the read itself stays read-only. Memory stays bounded: ids are read
    first, texts a batch at a time, and the pool holds a few batches at once."""
    waiting = select(Document.id).where(Document.tokens.is_(None)).order_by(Document.id)
    if uids is not None:
        waiting = waiting.where(Document.uid.in_(uids))
    with db.reading() as session:
        ids = list(session.exec(waiting).scalars())
    if not ids:
        return 0
    parts = [ids[i : i + batch] for i in range(0, len(ids), batch)]
    count = settling_workers(workers, len(ids), db)
    done = 0
    with _settled_batches((_waiting_rows(db, part) for part in parts), count) as results:
        for rows, results_of in results:
            store_settled(db, rows, results_of, quantity_label)
            done += len(rows)
    return done


@contextmanager
def settling(db, docs: Iterable[tuple[str, str, str, str]], count: int, workers: int | None = None, pool=None):
    """A Flight of the `count` new documents' (uid, text, lang, lang_source), settled in
    batches in order: each row (None, uid, ...) with its (Settled, token array row or None);
    the array rows lack their document id, which the insert draws. `docs` is read a batch at
    a time, as the flight fills. Worked out in worker processes when there are many (see
    settle_all), or by those of `pool` if given (settling_pool), however few."""
    rows = ((None, uid, text, lang, source) for uid, text, lang, source in docs)
    parts = iter(lambda: list(islice(rows, BATCH)), [])
    if pool is None:
        workers = settling_workers(workers, count, db)
    else:  # not settling_workers(): with the pool's threads running, forkable() says no
        workers = pool.workers if workers is None else min(workers, pool.workers)  # forked already: used
    with _settled_batches(parts, workers, IMPORT_AHEAD, pool.pool if pool else None) as flight:
        yield flight


def settling_workers(requested: int | None, waiting: int, db) -> int:
    """Processes for settling `waiting` documents; 0: this process. Workers are forked (they
    start with this process's modules), which is safe only while no other thread runs here."""
    return _workers(requested, waiting, db.engine.url)


def _workers(requested: int | None, waiting: int, url) -> int:
    if requested is None:
        requested = cores() if waiting >= PARALLEL_MIN else 0
    url = make_url(url)
    in_memory = url.get_backend_name() == "sqlite" and url.database in (None, "", ":memory:")
    return requested if requested > 1 and forkable() and not in_memory else 0


def cores() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


@contextmanager
def settling_pool(url, workers: int | None = None):
    """Worker processes for the settling of a large import into the database at `url`,
    forked before it reads its files (None where an import would use none: one core, no
    fork, an in-memory database). Forked after, every worker inherits the documents read,
    and keeps those pages while this process, touching its own objects, copies them:
    100,000 seed-sized records then cost about three times their size."""
    count = _workers(workers, PARALLEL_MIN, url)
    if count == 0:
        yield None
        return
    with _pool(count) as pool:
        yield Workers(pool, count)


class Workers(NamedTuple):
    """A pool of settling workers forked ahead (settling_pool), and how many it holds."""

    pool: object
    workers: int


@contextmanager
def _settled_batches(batches: Iterator[list[tuple]], workers: int, ahead: int | None = None, pool=None):
    """(rows, (Settled, array row or None) per row) for each batch of document rows (id,
    uid, text, lang, lang_source), in order; `ahead`: batches in flight (two a worker).
    `pool`: workers forked already (settling_pool), else forked here."""
    if workers == 0:
        yield Flight(batches)
        return
    if pool is not None:
        yield Flight(batches, pool, ahead or workers * 2)
        return
    with _pool(workers) as pool:
        yield Flight(batches, pool, ahead or workers * 2)


@contextmanager
def _pool(workers: int):
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl+C is the caller's to answer
    gc.freeze()  # the parent's objects stay out of the workers' collections (and unshared pages)
    try:
        # an import pauses the collector and a fork inherits that, but spaCy's documents
        # hold reference cycles: the workers collect
        pool = multiprocessing.get_context("fork").Pool(workers, initializer=_start_settler, initargs=(os.getpid(),))
    finally:
        gc.unfreeze()
        signal.signal(signal.SIGINT, previous)
    try:
        yield pool
        pool.close()
    finally:
        pool.terminate()  # also on an error or Ctrl+C: no worker outlives the command
        pool.join()


def _start_settler(parent: int) -> None:
    gc.enable()
    end_with_parent(parent)
    # Each worker loads spaCy's English tokenizer and the language model as it starts, while
    # the importing process opens its database and reads its files, instead of that process
    # loading them first and forking after (~0.5 s before any settling began). Any failure
    # is left for the first batch to raise, where the importing process reports it.
    with suppress(Exception):
        tokenizer_for("en")
        load_language_model()


class Flight:
    """Batches of rows settled in order: by `pool`, at most `ahead` batches in flight (the
    first sent at once, so the workers start before the first result is asked for), or
    without one in this process as each is asked for. Iterating gives every (rows,
    results)."""

    def __init__(self, batches: Iterator[list[tuple]], pool=None, ahead: int = 0):
        self._batches, self._pool, self._ahead = batches, pool, ahead
        self._flight: deque = deque()
        self._fill()

    def _fill(self) -> None:
        while self._pool is not None and len(self._flight) < self._ahead:
            rows = next(self._batches, None)
            if rows is None:
                return
            self._flight.append((rows, self._pool.apply_async(_settle_rows, (rows,))))

    def next(self) -> tuple[list[tuple], list] | None:
        """The next batch's (rows, results), waiting for it; None when all are taken."""
        if self._pool is None:
            rows = next(self._batches, None)
            return None if rows is None else (rows, _settle_rows(rows))
        if not self._flight:
            return None
        rows, result = self._flight.popleft()
        self._fill()
        return rows, result.get()

    def __iter__(self) -> Iterator[tuple[list[tuple], list]]:
        while (item := self.next()) is not None:
            yield item


def _waiting_rows(db, ids: list[int]) -> list[tuple]:
    with db.reading() as session:
        query = select(Document.id, Document.uid, Document.text, Document.lang, Document.lang_source)
        return [tuple(r) for r in session.exec(query.where(Document.id.in_(ids)).order_by(Document.id)).all()]


def _settle_rows(rows: list[tuple]) -> list[tuple[Settled, dict | None]]:
    """Each row settled, with its token array row made (None if its tokens do not fit)."""
    out = []
    for doc_id, uid, text, lang, lang_source in rows:
        done = settle(text, lang, lang_source)
        arrays = array_rows([Tokenized(doc_id, uid, text, done.tokens)])
        out.append((done, arrays[0] if arrays else None))
    return out


def store_settled(db, rows: list[tuple], results: list[tuple[Settled, dict | None]], quantity_label) -> None:
    """One write of apply_settled()."""
    with db.writing() as session:
        apply_settled(session.connection(), rows, results, quantity_label)


def apply_settled(conn, rows: list[tuple], results: list[tuple[Settled, dict | None]], quantity_label) -> None:
    """Settled documents (rows starting with their id) get their language and tokens,
    unless settled meanwhile, and their arrays; imported quantities are parsed again where
    the language was just detected. In the caller's transaction (`conn`)."""
    table = Document.__table__
    conn.execute(
        table.update()
        .where(table.c.id == bindparam("doc_id"))
        .where(table.c.tokens.is_(None))  # settled meanwhile (the workspace): left as it is
        .values(tokens=bindparam("tokens"), lang=bindparam("new_lang"), lang_source=bindparam("new_source")),
        [
            {"doc_id": r[0], "tokens": s.tokens, "new_lang": s.lang, "new_source": s.lang_source}
            for r, (s, _array) in zip(rows, results)
        ],
    )
    arrays = TokenArray.__table__
    conn.execute(delete(arrays).where(arrays.c.document_id.in_([r[0] for r in rows])))
    made = [array for _s, array in results if array is not None]
    if made:
        conn.execute(insert(arrays), made)
    reparse_quantities(conn, {r[0]: s.lang for r, (s, _a) in zip(rows, results) if s.detected}, quantity_label)


def reparse_imported_quantities(session, langs: dict[int, str], quantity_label: str | None) -> int:
    """Parse again, in the language now settled, the imported QUANTITY suggestions of these
    documents ({document id: language})."""
    return reparse_quantities(session.connection(), langs, quantity_label)


def reparse_quantities(conn, langs: dict[int, str], quantity_label: str | None) -> int:
    """reparse_imported_quantities() on a connection."""
    if not langs or quantity_label is None:
        return 0
    from annotator.nlp.quantities import parsed_quantity  # its grammar (~25 ms) only when there is something to parse

    rows = conn.execute(
        select(Suggestion.id, Suggestion.document_id, Suggestion.start, Suggestion.end).where(
            Suggestion.document_id.in_(list(langs)), Suggestion.origin == "import", Suggestion.label == quantity_label
        )
    ).all()
    texts = (
        dict(
            conn.execute(select(Document.id, Document.text).where(Document.id.in_({r.document_id for r in rows}))).all()
        )
        if rows
        else {}
    )
    values = [
        {"sid": r.id, **parsed_quantity(texts[r.document_id][r.start : r.end], langs[r.document_id])} for r in rows
    ]
    if values:
        table = Suggestion.__table__
        conn.execute(
            table.update().where(table.c.id == bindparam("sid")).values({k: bindparam(k) for k in QUANTITY_FIELDS}),
            values,
        )
    return len(values)
