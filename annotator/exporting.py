"""`annotator export`: versioned, validated, immutable export directories.

    <out>/<name>/v1.2.0/  data.jsonl (or *.spacy), manifest.json, schema.json, index.tsv

Every record is validated (compiled validator + offset checks) before anything is
published. The version is assembled in a hidden temporary folder and renamed into place,
so a crash never leaves half a version and a published version is never touched again.
Records are ordered by id and serialised with sorted keys: the same data gives the same
bytes, and exporting unchanged data mints no new version.

Documents go through in chunks: each chunk's records are built, validated and serialised
together. A large jsonl export hands its chunks to worker processes (one per core) and
writes their lines here, in order, as they come back: building and validating records is
nearly all of an export's work, and it is the same work in whichever process it runs, so
the output is byte for byte what one process makes.
"""
from __future__ import annotations

import fcntl
import hashlib
import mmap
import multiprocessing
import operator
import os
import re
import shutil
import signal
import tempfile
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from itertools import accumulate
from pathlib import Path
from typing import Callable, Iterator

import orjson
from sqlmodel import Session

from . import __version__
from .db import Database, make_engine
from .gc_pause import gc_paused
from .interchange.brat_export import BratWriter
from .interchange.conll import ConllWriter
from .interchange.measeval_export import MeasEvalWriter
from .labels import LabelConfig
from .models import GOLD
from .records import StoredTokensError, count_documents, export_uids, fill_missing_tokens, gold_curators, iter_records
from .spacy_format import SpacyWriter
from .schema import consistency_errors, fast_validator, schema_bytes, schema_errors, schema_id, schema_sha256

# Formats other than jsonl: a writer made with (labels, version folder) gets every
# validated record (add(record, split part)), finishes its files in write(folder), and
# report() becomes the manifest's entry under the format's name. A writer may put its
# files in a folder of its own (brat/, measeval/): the manifest then lists that folder
# and a <folder>.sha256 file checksums every file in it.
WRITERS = {
    "spacy": lambda labels, folder: SpacyWriter(labels),
    "brat": BratWriter,
    "measeval": MeasEvalWriter,
    "conll": ConllWriter,
}
FORMATS = ("jsonl", *WRITERS)
SPLITS = ("train", "dev", "test")
VERSION_DIR = re.compile(r"^v(\d+)\.(\d+)\.(\d+)$")
NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")
CHANGED_IDS_LISTED = 50
CHUNK_DOCUMENTS = 250  # documents built, validated and serialised together (a worker's task)
PARALLEL_MIN_DOCUMENTS = 2_000  # below this, starting worker processes costs more than it saves
MAX_WORKERS = 4  # past a few, writing and hashing the lines here is the limit


class ExportError(Exception):
    pass


@dataclass
class ExportResult:
    path: Path | None
    version: str
    unchanged: bool
    manifest: dict = field(default_factory=dict)
    # documents of the project this export left out, by reason ({"not_gold_done": 3})
    left_out: dict[str, int] = field(default_factory=dict)


def parse_split(spec: str | None) -> dict[str, float] | None:
    """'80/10/10' -> {'train': 0.8, 'dev': 0.1, 'test': 0.1}."""
    if not spec:
        return None
    try:
        parts = [float(p) for p in re.split(r"[/,:]", spec)]
    except ValueError:
        parts = []
    if len(parts) != 3 or any(p < 0 for p in parts) or sum(parts) <= 0:
        raise ExportError(f"--split {spec!r}: give three non-negative shares, e.g. 80/10/10")
    total = sum(parts)
    return {name: share / total for name, share in zip(SPLITS, parts)}


def split_of(record_id: str, split: dict[str, float]) -> str:
    """Stable assignment: depends only on the id, never on order or on the other records."""
    point = int(hashlib.sha256(f"split:{record_id}".encode()).hexdigest()[:12], 16) / 16**12
    bound = 0.0
    for name in SPLITS:
        bound += split[name]
        if point < bound:
            return name
    return SPLITS[-1]


def dump(record: dict) -> bytes:
    # orjson appends the newline itself: no copy of a ~20 KB line per record
    return orjson.dumps(record, option=orjson.OPT_SORT_KEYS | orjson.OPT_APPEND_NEWLINE)


def check(record: dict, tokens_checked: bool = False) -> None:
    """The whole record against the schema (compiled validator), then what the schema cannot
    say: offsets inside the text and matching it, references that resolve.

    `tokens_checked`: the token offsets were already checked against the text where they
    were unpacked (records.checked_tokens, as iter_records does), so the consistency pass
    need not walk the ~450 token objects again. The schema validator still sees them all.
    """
    if not fast_validator().is_valid(record):
        raise ExportError(f"record {record['id']} does not match the schema: " + "; ".join(schema_errors(record)[:5]))
    problems = consistency_errors({**record, "tokens": []} if tokens_checked else record)
    if problems:
        raise ExportError(f"record {record['id']}: " + "; ".join(problems[:5]))


# --- versions -----------------------------------------------------------------------------

def published_versions(folder: Path) -> list[tuple[int, int, int]]:
    if not folder.is_dir():
        return []
    found = (VERSION_DIR.match(p.name) for p in folder.iterdir() if p.is_dir())
    return sorted(tuple(int(x) for x in m.groups()) for m in found if m)


def version_name(version: tuple[int, int, int]) -> str:
    return "v{}.{}.{}".format(*version)


def next_version(previous: tuple[int, int, int] | None, prev_manifest: dict | None, manifest: dict) -> tuple[int, int, int]:
    """major: the schema's major version changed; minor: documents added or removed, or the
    labels, format or split changed; patch: only annotations of existing documents changed."""
    if previous is None or prev_manifest is None:
        return (1, 0, 0)
    major, minor, patch = previous
    old_schema = prev_manifest.get("schema", {}).get("id", "")
    if old_schema.rsplit("/", 1)[-1].split(".")[0] != schema_id().rsplit("/", 1)[-1].split(".")[0]:
        return (major + 1, 0, 0)
    changes = manifest["changes"]
    structural = any(prev_manifest.get(k) != manifest.get(k) for k in ("format", "split")) or \
        prev_manifest.get("labels", {}).get("sha256") != manifest["labels"]["sha256"]
    if changes["added"] or changes["removed"] or structural:
        return (major, minor + 1, 0)
    return (major, minor, patch + 1)


@contextmanager
def locked(folder: Path) -> Iterator[None]:
    """One export of a name at a time, across processes."""
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / ".lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def read_index(version_dir: Path) -> dict[str, str]:
    path = version_dir / "index.tsv"
    if not path.exists():
        return {}
    rows = (line.split("\t") for line in path.read_text().splitlines() if line)
    return {rid: digest for rid, digest in rows}


def changes_since(old: dict[str, str], new: dict[str, str], previous: str | None) -> dict:
    added = sorted(set(new) - set(old))
    removed = sorted(set(old) - set(new))
    modified = sorted(k for k in set(new) & set(old) if new[k] != old[k])
    return {"previous": previous, "added": len(added), "removed": len(removed), "modified": len(modified),
            "added_ids": added[:CHANGED_IDS_LISTED], "removed_ids": removed[:CHANGED_IDS_LISTED],
            "modified_ids": modified[:CHANGED_IDS_LISTED]}


# --- chunks of records ----------------------------------------------------------------------

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
    digests: list[str] = field(default_factory=list)  # index.tsv: sha256 prefix of each line
    sizes: list[int] = field(default_factory=list)  # bytes of each record's line
    tally: Tally = field(default_factory=Tally)
    data: bytes = b""  # the lines, one after the other
    path: str | None = None  # ... or the file a worker process wrote them to instead
    records: list[dict] | None = None  # only for a format writer, never across processes


def build_chunk(session: Session, layer: str, quantity_label: str, bounds: tuple[str, str], keep_records: bool = False,
                limit_check: Callable[[dict], None] | None = None) -> Chunk:
    """Build, validate and serialise the records of the documents with a uid after
    bounds[0] up to bounds[1], in uid order."""
    chunk, lines = Chunk(records=[] if keep_records else None), []
    after, through = bounds
    try:
        for record in iter_records(session, layer, quantity_label, after=after, through=through):
            if limit_check:
                limit_check(record)
            check(record, tokens_checked=True)
            line = dump(record)
            lines.append(line)
            chunk.ids.append(record["id"])
            chunk.digests.append(hashlib.sha256(line).hexdigest()[:16])
            chunk.sizes.append(len(line))
            chunk.tally.add(record)
            if keep_records:
                chunk.records.append(record)
    except StoredTokensError as exc:
        raise ExportError(str(exc)) from exc
    chunk.data = b"".join(lines)
    return chunk


@contextmanager
def chunk_data(chunk: Chunk) -> Iterator[bytes | mmap.mmap]:
    """A chunk's lines, read from a worker's file without copying them; the file goes after."""
    if chunk.path is None:
        yield chunk.data
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


def produce_chunks(db: Database, layer: str, quantity_label: str, uids: list[str], workers: int, scratch: Path,
                   keep_records: bool = False, limit_check: Callable[[dict], None] | None = None) -> Iterator[Chunk]:
    """The chunks of these documents (their uids, in order), in order: made here, or by
    `workers` processes that leave their lines in files in `scratch`."""
    parts = [(uids[i - 1] if i else "", uids[min(i + CHUNK_DOCUMENTS, len(uids)) - 1])
             for i in range(0, len(uids), CHUNK_DOCUMENTS)]  # (after, through): a run of uids
    if workers > 1:
        yield from _worker_chunks(db, layer, quantity_label, parts, workers, scratch)
        return
    with db.reading() as session:
        for part in parts:
            yield build_chunk(session, layer, quantity_label, part, keep_records, limit_check)


def _worker_chunks(db: Database, layer: str, quantity_label: str, parts: list[tuple[str, str]], workers: int,
                   scratch: Path) -> Iterator[Chunk]:
    # fork: workers start in milliseconds with the compiled validator and the modules they
    # need already loaded; each opens its own connections (none crosses the fork)
    url = db.engine.url.render_as_string(hide_password=False)
    tasks = [(layer, quantity_label, part, str(scratch / f".chunk-{i:06d}")) for i, part in enumerate(parts)]
    with multiprocessing.get_context("fork").Pool(workers, initializer=_start_worker, initargs=(url,)) as pool:
        # imap hands out one part at a time and returns the chunks in order; closing this
        # generator early (an invalid record, an interrupt) terminates the workers
        yield from pool.imap(_worker_chunk, tasks)


_worker_engine = None  # a worker process's own engine


def _start_worker(url: str) -> None:
    global _worker_engine
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the exporting process's to handle
    _worker_engine = make_engine(url)


def _worker_chunk(task: tuple[str, str, tuple[str, str], str]) -> Chunk:
    """Build a chunk and write its lines to a file: ~5 MB a chunk through a pipe cost this
    process and the exporting one about twice what writing and mapping a file does."""
    layer, quantity_label, bounds, path = task
    with Session(_worker_engine) as session, gc_paused():
        chunk = build_chunk(session, layer, quantity_label, bounds)
    with open(path, "wb") as handle:
        handle.write(chunk.data)
    chunk.data, chunk.path = b"", path
    return chunk


# --- the export ---------------------------------------------------------------------------

def export(db: Database, labels: LabelConfig, layer: str, name: str | None = None, out_dir: str | Path = "exports",
           fmt: str = "jsonl", split: str | None = None, progress: Callable[[int], None] | None = None,
           limit_check: Callable[[dict], None] | None = None, workers: int | None = None) -> ExportResult:
    """`workers`: processes building the records (None: one per core for a large jsonl
    export, 0 or 1: all in this process). The output is the same either way."""
    if fmt not in FORMATS:
        raise ExportError(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}")
    name = name or layer
    if not NAME_RE.match(name):
        raise ExportError(f"export name {name!r}: use letters, digits, '.', '_' and '-'")
    shares = parse_split(split)
    folder = Path(out_dir) / name
    fill_missing_tokens(db, quantity_label=labels.quantity_label)
    with locked(folder):
        for stale in folder.glob(".tmp-*"):
            shutil.rmtree(stale, ignore_errors=True)  # left by a crashed export; we hold the lock
        tmp = Path(tempfile.mkdtemp(prefix=".tmp-", dir=folder))
        try:
            return _export_locked(db, labels, layer, name, folder, tmp, fmt, shares, progress, limit_check, workers)
        finally:
            if tmp.exists():
                shutil.rmtree(tmp, ignore_errors=True)


@dataclass
class Scope:
    """Which documents an export holds, what it left out and who curated them."""
    uids: list[str]
    left_out: dict[str, int]
    curators: list[str]


def export_scope(db: Database, layer: str) -> Scope:
    """Read at once (one snapshot on SQLite): the documents, and for gold what was left out
    (documents whose gold layer is not done, or that have none) and the curators."""
    with db.reading() as session:
        uids = export_uids(session, layer)
        if layer != GOLD:
            return Scope(uids, {}, [])
        return Scope(uids, {"not_gold_done": count_documents(session) - len(uids)}, gold_curators(session))


def _export_locked(db, labels, layer, name, folder, tmp, fmt, shares, progress, limit_check, workers) -> ExportResult:
    writer = WRITERS[fmt](labels, tmp) if fmt in WRITERS else None
    digest = hashlib.sha256()
    index: dict[str, str] = {}
    tally = Tally()
    scope = export_scope(db, layer)
    in_process = writer is not None or limit_check is not None
    workers = worker_count(workers, len(scope.uids), db, in_process)
    files = {"data.jsonl": open(tmp / "data.jsonl", "wb")} if fmt == "jsonl" else {}
    if shares and fmt == "jsonl":
        files.update({f"{s}.jsonl": open(tmp / f"{s}.jsonl", "wb") for s in SPLITS})
    split_counts: Counter = Counter()
    chunks = produce_chunks(db, layer, labels.quantity_label, scope.uids, workers, tmp, in_process, limit_check)
    try:
        with gc_paused():
            for chunk in chunks:
                index.update(zip(chunk.ids, chunk.digests))
                tally.merge(chunk.tally)
                parts = [split_of(rid, shares) for rid in chunk.ids] if shares else [None] * len(chunk.ids)
                split_counts.update(parts)
                with chunk_data(chunk) as data:
                    digest.update(data)
                    if fmt == "jsonl":
                        files["data.jsonl"].write(data)
                        if shares:
                            _write_parts(files, data, chunk.sizes, parts)
                if writer:
                    for record, part in zip(chunk.records, parts):
                        writer.add(record, part)
                if progress:
                    progress(len(chunk.ids))
    finally:
        chunks.close()  # stops worker processes at once if anything went wrong
        for handle in files.values():
            handle.close()
    if writer:
        writer.write(tmp)
    records_sha = digest.hexdigest()
    versions = published_versions(folder)
    previous = versions[-1] if versions else None
    prev_dir = folder / version_name(previous) if previous else None
    prev_manifest = orjson.loads((prev_dir / "manifest.json").read_bytes()) if prev_dir else None
    manifest = {
        "name": name, "layer": layer, "format": fmt, "generator": f"claim-annotator {__version__}",
        "created": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "documents": len(index), "records_sha256": records_sha,
        "counts": {"spans": dict(sorted(tally.spans.items())), "relations": dict(sorted(tally.relations.items())),
                   "claims": tally.claims, "tokens": tally.tokens},
        "annotators": sorted(tally.annotators), "curators": scope.curators, "left_out": scope.left_out,
        "schema": {"id": schema_id(), "sha256": schema_sha256(), "file": "schema.json"},
        "labels": {"name": labels.raw.get("name"), "sha256": labels.sha256, "config": labels.raw},
        "split": ({"shares": shares, "rule": "sha256('split:' + id) as a fraction of 1, cut at the cumulative shares",
                   "counts": {s: split_counts[s] for s in SPLITS}} if shares else None),
        "changes": changes_since(read_index(prev_dir) if prev_dir else {}, index,
                                 version_name(previous) if previous else None),
    }
    if writer:
        manifest[fmt] = writer.report()
    if prev_manifest and _same_content(prev_manifest, manifest):
        return ExportResult(None, version_name(previous), True, prev_manifest, scope.left_out)
    version = version_name(next_version(previous, prev_manifest, manifest))
    manifest["version"] = version[1:]
    # data.jsonl holds exactly the lines hashed into records_sha, in order: hashing the
    # whole file again (~200 MB for 10,000 documents) would only repeat that work
    known = {"data.jsonl": records_sha} if fmt == "jsonl" else {}
    folders = _list_folders(tmp)
    manifest["files"] = {p.name: {"sha256": known.get(p.name) or _file_sha(p), "bytes": p.stat().st_size}
                         for p in sorted(tmp.iterdir()) if p.is_file()}
    manifest["files"].update(folders)
    if "data.jsonl" in manifest["files"]:
        manifest["data_sha256"] = manifest["files"]["data.jsonl"]["sha256"]
    (tmp / "schema.json").write_bytes(schema_bytes())
    (tmp / "index.tsv").write_text("".join(f"{rid}\t{h}\n" for rid, h in index.items()))
    (tmp / "manifest.json").write_bytes(orjson.dumps(manifest, option=orjson.OPT_SORT_KEYS | orjson.OPT_INDENT_2) + b"\n")
    final = folder / version
    if final.exists():  # cannot happen under the lock; never overwrite a published version
        raise ExportError(f"{final} already exists")
    for path in tmp.iterdir():
        _read_only(path)  # published files are read-only: a version is never edited
    tmp.chmod(0o755)
    os.rename(tmp, final)
    return ExportResult(final, version, False, manifest, scope.left_out)


def _write_parts(files: dict, data, sizes: list[int], parts: list[str]) -> None:
    """Each line of `data` (of these sizes) to its split's file."""
    with memoryview(data) as view:
        for start, size, part in zip(accumulate(sizes, initial=0), sizes, parts):
            files[f"{part}.jsonl"].write(view[start:start + size])


def _same_content(old: dict, new: dict) -> bool:
    keys = ("records_sha256", "format", "layer")
    return all(old.get(k) == new.get(k) for k in keys) and \
        old.get("schema", {}).get("sha256") == new["schema"]["sha256"] and \
        old.get("labels", {}).get("sha256") == new["labels"]["sha256"] and \
        (old.get("split") or {}).get("shares") == (new.get("split") or {}).get("shares")


def _list_folders(version: Path) -> dict:
    """A writer's folders: each gets <name>.sha256 (sha256sum's format, every file in it)
    and one manifest entry, rather than thousands of manifest entries."""
    out = {}
    for folder in sorted(p for p in version.iterdir() if p.is_dir()):
        files = sorted(p for p in folder.rglob("*") if p.is_file())
        listing = version / f"{folder.name}.sha256"
        listing.write_text("".join(f"{_file_sha(p)}  {p.relative_to(version).as_posix()}\n" for p in files))
        out[f"{folder.name}/"] = {"files": len(files), "bytes": sum(p.stat().st_size for p in files),
                                  "listing": listing.name}
    return out


def _read_only(path: Path) -> None:
    if path.is_dir():
        for inner in path.iterdir():
            _read_only(inner)
        path.chmod(0o555)
    else:
        path.chmod(0o444)


def _file_sha(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()
