"""An export's records, built, validated and serialised a chunk of documents at a time.

A large export hands its chunks to worker processes (one per core): building and validating
records is nearly all of an export's work, and it is the same work in whichever process it
runs, so the output is byte for byte what one process makes. A worker leaves a chunk's lines
in a file for the exporting process, and a writer that works in parts (brat) writes the
chunk's files itself and reports their names and checksums; the exporting process hashes
the lines in order and settles the file names (export/publish.py).
"""

from __future__ import annotations

import hashlib
import mmap
import multiprocessing
import operator
import os
import signal
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import orjson
from sqlmodel import Session

from annotator.db import Database, make_engine
from annotator.export.records import iter_records
from annotator.gc_pause import gc_paused
from annotator.schema import RecordSchema, consistency_errors, record_schema
from annotator.schema.token_arrays import SealedArray, StoredTokensError, as_fragment
from annotator.worker_lifetime import end_with_parent

PARALLEL_MIN_DOCUMENTS = 2_000  # below this, starting worker processes costs more than it saves
MAX_WORKERS = 4  # past a few, hashing the lines in the exporting process is the limit


class ExportError(Exception):
    pass


def dump(record: dict) -> bytes:
    # orjson appends the newline itself: no copy of a ~20 KB line per record; a kept token
    # array goes in as its bytes
    return orjson.dumps(record, default=as_fragment, option=orjson.OPT_SORT_KEYS | orjson.OPT_APPEND_NEWLINE)


def check(record: dict, tokens_checked: bool = False, schema: RecordSchema | None = None) -> None:
    """The whole record against the schema (compiled validator), then what the schema cannot
    say: offsets inside the text and matching it, references that resolve.

    `tokens_checked`: the token offsets were already checked against the text where they
    were unpacked (records.checked_tokens, as iter_records does), so the consistency pass
    need not walk the ~450 token objects again. The schema validator still sees them all,
    except a kept array (token_arrays.SealedArray): that was validated against the schema's
    definition of the field when it was made, so the rest of the record is validated here
    with an empty array in its place (schema/token_arrays.py says why that is the whole schema).
    `schema`: the label configuration's record schema (the template's by default).
    """
    schema = schema or record_schema()
    sealed = isinstance(record["tokens"], SealedArray)
    if not schema.fast.is_valid({**record, "tokens": []} if sealed else record):
        shown = {**record, "tokens": list(record["tokens"])} if sealed else record
        raise ExportError(f"record {record['id']} does not match the schema: " + "; ".join(schema.errors(shown)[:5]))
    problems = consistency_errors({**record, "tokens": []} if tokens_checked or sealed else record)
    if problems:
        raise ExportError(f"record {record['id']}: " + "; ".join(problems[:5]))


_LABEL = operator.itemgetter("label")


@dataclass
class Tally:
    """What the manifest counts, added up record by record and chunk by chunk."""

    spans: Counter = field(default_factory=Counter)
    relations: Counter = field(default_factory=Counter)
    claims: int = 0
    tokens: int = 0
    annotators: set[str] = field(default_factory=set)

    def add(self, record: dict) -> None:
        self.spans.update(map(_LABEL, record["spans"]))
        self.relations.update(map(_LABEL, record["relations"]))
        self.claims += len(record["claims"])
        self.tokens += len(record["tokens"])
        self.annotators.update(record["annotators"])

    def merge(self, other: Tally) -> None:
        self.spans.update(other.spans)
        self.relations.update(other.relations)
        self.claims += other.claims
        self.tokens += other.tokens
        self.annotators |= other.annotators


@dataclass
class Chunk:
    """A run of validated records as the export keeps them: a worker process sends this back."""

    ids: list[str] = field(default_factory=list)
    digests: list[str] = field(default_factory=list)  # records.index: sha256 prefix of each line
    sizes: list[int] = field(default_factory=list)  # bytes of each record's line
    tally: Tally = field(default_factory=Tally)
    lines: list[bytes] = field(default_factory=list)  # the serialised records, in order
    path: str | None = None  # ... or the file a worker process wrote them to instead
    records: list[dict] | None = None  # only for a format writer, never across processes
    written: object = None  # what a part writer wrote for these records (its report)


@dataclass
class Plan:
    """What every chunk of one export shares. `part_writer(tag)` makes the writer of one
    chunk's files, for a format written in parts; `part_of(id)` names a record's split."""

    layer: str
    quantity_label: str | None
    schema: RecordSchema  # the label configuration's record schema
    scratch: Path  # the version's temporary folder
    keep_records: bool = False
    part_writer: Callable[[str], object] | None = None
    part_of: Callable[[str], str] | None = None


def build_chunk(
    session: Session,
    plan: Plan,
    bounds: tuple[str, str],
    tag: str = "",
    limit_check: Callable[[dict], None] | None = None,
) -> Chunk:
    """Build, validate and serialise the records of the documents with a uid after
    bounds[0] up to bounds[1], in uid order (and write their files, for a part writer)."""
    chunk = Chunk(records=[] if plan.keep_records else None)
    lines = chunk.lines
    writer = plan.part_writer(tag) if plan.part_writer else None
    after, through = bounds
    try:
        for record in iter_records(session, plan.layer, plan.quantity_label, after=after, through=through, sealed=True):
            if limit_check:
                limit_check(record)
            check(record, tokens_checked=True, schema=plan.schema)
            line = dump(record)
            lines.append(line)
            chunk.ids.append(record["id"])
            chunk.digests.append(hashlib.sha256(line).hexdigest()[:16])
            chunk.sizes.append(len(line))
            chunk.tally.add(record)
            if plan.keep_records:
                chunk.records.append(record)
            if writer:
                writer.add(record, plan.part_of(record["id"]) if plan.part_of else None)
    except StoredTokensError as exc:
        raise ExportError(str(exc)) from exc
    chunk.written = writer.report() if writer else None
    return chunk


@contextmanager
def chunk_data(chunk: Chunk) -> Iterator[bytes | mmap.mmap]:
    """A chunk's lines, read from a worker's file without copying them; the file goes after."""
    if chunk.path is None:
        yield b"".join(chunk.lines)
        return
    try:
        with open(chunk.path, "rb") as handle:
            if not os.fstat(handle.fileno()).st_size:
                yield b""  # an empty file cannot be mapped
                return
            with mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as mapped:
                yield mapped
    finally:
        os.unlink(chunk.path)


def worker_count(requested: int | None, documents: int, db: Database, in_process: bool) -> int:
    """Worker processes for an export; 0: build every record in this process."""
    if in_process or not _can_fork_workers(db):
        return 0  # a format writer or a check hook needs the records here
    if requested is None:
        requested = min(_cores(), MAX_WORKERS) if documents >= PARALLEL_MIN_DOCUMENTS else 0
    return requested if requested > 1 else 0  # one worker would only add the hand-over


def _can_fork_workers(db: Database) -> bool:
    url = db.engine.url  # an in-memory database is not there for another process to read
    in_memory = url.get_backend_name() == "sqlite" and url.database in (None, "", ":memory:")
    return "fork" in multiprocessing.get_all_start_methods() and not in_memory


def _cores() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def produce_chunks(
    db: Database,
    plan: Plan,
    uids: list[str],
    size: int,
    workers: int,
    limit_check: Callable[[dict], None] | None = None,
) -> Iterator[Chunk]:
    """The chunks of these documents (their uids, in order, `size` at a time), in order:
    made here, or by `workers` processes that leave their lines in files in plan.scratch."""
    parts = [
        (uids[i - 1] if i else "", uids[min(i + size, len(uids)) - 1]) for i in range(0, len(uids), size)
    ]  # (after, through): a run of uids
    if workers > 1:
        yield from _worker_chunks(db, plan, parts, workers)
        return
    with db.reading() as session:
        for i, part in enumerate(parts):
            yield build_chunk(session, plan, part, f"{i}", limit_check)


def _worker_chunks(db: Database, plan: Plan, parts: list[tuple[str, str]], workers: int) -> Iterator[Chunk]:
    # fork: workers start in milliseconds with the compiled validator and the modules they
    # need already loaded, and the plan as it is here (nothing pickled); each opens its own
    # connections (none crosses the fork)
    url = db.engine.url.render_as_string(hide_password=False)
    tasks = [(part, f"{i}") for i, part in enumerate(parts)]
    with multiprocessing.get_context("fork").Pool(
        workers, initializer=_start_worker, initargs=(url, plan, os.getpid())
    ) as pool:
        # imap hands out one part at a time and returns the chunks in order; closing this
        # generator early (an invalid record, an interrupt) terminates the workers
        yield from pool.imap(_worker_chunk, tasks)


_worker_engine = None  # a worker process's own engine
_worker_plan: Plan | None = None


def _start_worker(url: str, plan: Plan, parent: int) -> None:
    global _worker_engine, _worker_plan
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the exporting process's to handle
    end_with_parent(parent)
    _worker_engine, _worker_plan = make_engine(url), plan


def _worker_chunk(task: tuple[tuple[str, str], str]) -> Chunk:
    """Build a chunk and write its lines to a file: ~5 MB a chunk through a pipe cost this
    process and the exporting one about twice what writing and mapping a file does."""
    bounds, tag = task
    with Session(_worker_engine) as session, gc_paused():
        chunk = build_chunk(session, _worker_plan, bounds, tag)
    path = _worker_plan.scratch / f".chunk-{int(tag):06d}"
    with open(path, "wb") as handle:
        handle.writelines(chunk.lines)  # no joined copy of the chunk's ~5 MB
    chunk.lines, chunk.path = [], str(path)
    return chunk
