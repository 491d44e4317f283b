"""`annotator export`: versioned, validated, immutable export directories.

    <out>/<name>/v1.2.0/  data.jsonl (or *.spacy, brat/, ...), manifest.json, schema.json, records.index

Every record is validated (compiled validator + offset checks) before anything is
published. The version is assembled in a hidden temporary folder and renamed into place,
so a crash never leaves half a version and a published version is never touched again.
Records are ordered by id and serialised with sorted keys: the same data gives the same
bytes, and exporting unchanged data mints no new version: in a format the latest version
lacks, the format joins that version (add_format). <out>/<name>/latest names the newest.
Where the database's data mark shows nothing changed since the latest version was checked,
the export is unchanged without building a record (export/up_to_date.py).

Documents go through in chunks (export/chunks.py), in worker processes for a large export
of jsonl or brat; here their lines are hashed and written in order as they come back, and
the files of a writer that works in parts get their final names. Versions, and listing a
finished version folder: export/versions.py.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import tempfile
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from itertools import accumulate
from pathlib import Path

import orjson

from annotator import __version__
from annotator.data_changes import data_mark
from annotator.db import Database
from annotator.export.chunks import (
    Chunk,
    ExportError,
    Plan,
    Tally,
    chunk_data,
    produce_chunks,
    worker_count,
)
from annotator.export.rows import count_documents, export_uids, gold_curators, layer_names
from annotator.export.up_to_date import checked_state, remember, still_holds
from annotator.export.versions import (
    INDEX_FILE,
    changes_since,
    formats_of,
    list_files,
    locked,
    next_version,
    point_latest,
    published_versions,
    read_index,
    read_only,
    same_content,
    version_name,
)
from annotator.gc_pause import gc_paused
from annotator.ingest.first_use import settle_all
from annotator.labels import LabelConfig
from annotator.models import GOLD
from annotator.schema import record_schema
from annotator.schema.token_arrays import fill_token_arrays

# Formats other than jsonl: a writer made with (labels, version folder) gets every
# validated record (add(record, split part)), finishes its files in write(folder), and
# report() becomes the manifest's entry under the format's name. A writer may put its
# files in a folder of its own (brat/, measeval/): the manifest then lists that folder
# and a <folder>.sha256 file checksums every file in it. A writer that works in parts
# (brat) instead makes, with part(tag), the writer of one chunk's files, which may run in a
# worker process; merge() takes what each wrote, in order, and checksums() says what it
# knows of its files, so they are not read again to be listed.


# Each format's writer is imported when that format is asked for: a JSONL export, the usual
# one, loads none of them (~20 ms of its start-up).
def _spacy_writer(labels, folder):
    from annotator.formats.spacy_docbin import SpacyWriter

    return SpacyWriter(labels)


def _brat_writer(labels, folder):
    from annotator.formats.brat.writer import BratWriter

    return BratWriter(labels, folder)


def _measeval_writer(labels, folder):
    from annotator.formats.measeval.writer import MeasEvalWriter

    return MeasEvalWriter(labels, folder)


def _conll_writer(labels, folder):
    from annotator.formats.conll import ConllWriter

    return ConllWriter(labels, folder)


WRITERS = {"spacy": _spacy_writer, "brat": _brat_writer, "measeval": _measeval_writer, "conll": _conll_writer}
FORMATS = ("jsonl", *WRITERS)
SPLITS = ("train", "dev", "test")
NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")
CHUNK_DOCUMENTS = 250  # documents built, validated and serialised together (a worker's task)


@dataclass
class ExportResult:
    path: Path | None
    version: str
    unchanged: bool
    manifest: dict = field(default_factory=dict)
    # documents of the project this export left out, by reason ({"not_gold_done": 3})
    left_out: dict[str, int] = field(default_factory=dict)
    fmt: str = "jsonl"
    # the data was unchanged and this format new to it: written into the latest version
    added_format: bool = False
    # the records were built and compared; False: the data mark showed nothing had changed
    built: bool = True


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


# --- the export ---------------------------------------------------------------------------


def export(
    db: Database,
    labels: LabelConfig,
    layer: str,
    name: str | None = None,
    out_dir: str | Path = "exports",
    fmt: str = "jsonl",
    split: str | None = None,
    progress: Callable[[int], None] | None = None,
    limit_check: Callable[[dict], None] | None = None,
    workers: int | None = None,
    on_total: Callable[[int], None] | None = None,
    rebuild: bool = False,
) -> ExportResult:
    """`workers`: processes building the records (None: one per core for a large jsonl
    export, 0 or 1: all in this process). The output is the same either way. `on_total`
    hears how many documents the export holds, `progress` how many more are written.
    `rebuild`: build and compare every record even where the project's data has not changed
    since the latest version was checked (export/up_to_date.py)."""
    if fmt not in FORMATS:
        raise ExportError(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}")
    name = name or layer
    if not NAME_RE.match(name):
        raise ExportError(f"export name {name!r}: use letters, digits, '.', '_' and '-'")
    shares = parse_split(split)
    check_layer(db, layer)
    folder = Path(out_dir) / name
    settle_all(db, labels.quantity_label, workers=workers)  # first use, in bulk on every core
    fill_token_arrays(db)
    with locked(folder):
        for stale in folder.glob(".tmp-*"):
            shutil.rmtree(stale, ignore_errors=True)  # left by a crashed export; we hold the lock
        # read before any of the data: a change committed after it moves the mark, so at
        # worst the next export checks everything again
        state = checked_state(data_mark(db), labels, record_schema(labels).sha256, layer, shares)
        if not rebuild and (unchanged := _unchanged_at_once(db, folder, layer, fmt, state)):
            return unchanged  # no progress to show: not a record goes through
        tmp = Path(tempfile.mkdtemp(prefix=".tmp-", dir=folder))
        try:
            progress = (on_total, progress)
            result = _export_locked(db, labels, layer, name, folder, tmp, fmt, shares, progress, limit_check, workers)
        finally:
            if tmp.exists():
                shutil.rmtree(tmp, ignore_errors=True)
        remember(folder, result.version, state)  # the latest version, new or not, holds this data
        return result


def _unchanged_at_once(db: Database, folder: Path, layer: str, fmt: str, state: dict | None) -> ExportResult | None:
    """The answer of an export whose latest version was found to hold the data as it is
    now (and holds this format): unchanged, without a record built; else None."""
    versions = published_versions(folder)
    latest = version_name(versions[-1]) if versions else None
    if latest is None or not still_holds(folder, latest, state):
        return None
    try:
        manifest = orjson.loads((folder / latest / "manifest.json").read_bytes())
    except (OSError, orjson.JSONDecodeError):
        return None  # the full check says what is wrong with the version
    if fmt not in formats_of(manifest):
        return None  # the format joins the version: its files must be written
    left_out = export_scope(db, layer).left_out if layer == GOLD else {}
    point_latest(folder, latest)
    return ExportResult(None, latest, True, manifest, left_out, fmt, built=False)


def check_layer(db: Database, layer: str) -> None:
    """An export of a layer nobody has would publish an empty version that looks real."""
    with db.reading() as session:
        known = layer_names(session)
    if layer not in known:
        raise ExportError(f"no layer {layer!r} in this project; its layers are: {', '.join(known)}")


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


@dataclass
class Written:
    """What the records of an export came to, chunk by chunk."""

    digest: hashlib._Hash = field(default_factory=hashlib.sha256)  # records_sha256: every line, in order
    index: dict[str, str] = field(default_factory=dict)
    tally: Tally = field(default_factory=Tally)
    split_counts: Counter = field(default_factory=Counter)


def _export_locked(db, labels, layer, name, folder, tmp, fmt, shares, progress, limit_check, workers) -> ExportResult:
    writer = WRITERS[fmt](labels, tmp) if fmt in WRITERS else None
    in_parts = hasattr(writer, "part")
    scope = export_scope(db, layer)
    on_total, progress = progress
    if on_total:
        on_total(len(scope.uids))
    in_process = limit_check is not None or (writer is not None and not in_parts)
    workers = worker_count(workers, len(scope.uids), db, in_process)
    plan = Plan(
        layer,
        labels.quantity_label,
        record_schema(labels),
        tmp,
        keep_records=writer is not None and not in_parts,
        part_writer=writer.part if in_parts else None,
        part_of=partial(split_of, split=shares) if shares else None,
    )
    chunks = produce_chunks(db, plan, scope.uids, CHUNK_DOCUMENTS, workers, limit_check)
    written = _write_records(chunks, tmp, fmt, shares, writer, progress)
    if writer:
        writer.write(tmp)
    versions = published_versions(folder)
    previous = versions[-1] if versions else None
    prev_dir = folder / version_name(previous) if previous else None
    prev_manifest = orjson.loads((prev_dir / "manifest.json").read_bytes()) if prev_dir else None
    manifest = _manifest(name, layer, fmt, labels, shares, scope, written)
    manifest["changes"] = changes_since(
        read_index(prev_dir) if prev_dir else {}, written.index, version_name(previous) if previous else None
    )
    if writer:
        manifest[fmt] = writer.report()
    known = dict(writer.checksums()) if in_parts else {}
    made_read_only = set(known)  # a part writer creates its files so
    # data.jsonl holds exactly the lines hashed into records_sha, in order: hashing the
    # whole file again (~200 MB for 10,000 documents) would only repeat that work
    if fmt == "jsonl":
        known["data.jsonl"] = (manifest["records_sha256"], (tmp / "data.jsonl").stat().st_size)
    if prev_manifest and same_content(prev_manifest, manifest):
        if fmt in formats_of(prev_manifest):
            point_latest(folder, version_name(previous))
            return ExportResult(None, version_name(previous), True, prev_manifest, scope.left_out, fmt)
        added = add_format(prev_dir, prev_manifest, tmp, manifest, known, made_read_only)
        point_latest(folder, prev_dir.name)
        return ExportResult(prev_dir, prev_dir.name, False, added, scope.left_out, fmt, added_format=True)
    version = version_name(next_version(previous, prev_manifest, manifest))
    manifest["version"] = version[1:]
    list_files(tmp, manifest, known)
    (tmp / "schema.json").write_bytes(record_schema(labels).data)
    (tmp / INDEX_FILE).write_text("".join(f"{rid}\t{h}\n" for rid, h in written.index.items()))
    (tmp / "manifest.json").write_bytes(
        orjson.dumps(manifest, option=orjson.OPT_SORT_KEYS | orjson.OPT_INDENT_2) + b"\n"
    )
    final = folder / version
    if final.exists():  # cannot happen under the lock; never overwrite a published version
        raise ExportError(f"{final} already exists")
    read_only(tmp, made_read_only)  # published files are read-only: a version is never edited
    os.rename(tmp, final)
    point_latest(folder, version)
    return ExportResult(final, version, False, manifest, scope.left_out, fmt)


def add_format(version: Path, manifest: dict, tmp: Path, made: dict, known: dict, made_read_only: set) -> dict:
    """Put the files of a format new to unchanged data (in `tmp`, with `made` its manifest)
    into the published version: each moved in by a rename, then the manifest listing them
    replaces the old one in one rename. A reader of the manifest sees the version without
    the format or with all of it; the files already there are never touched."""
    listing = {}
    list_files(tmp, listing, known)
    listed = manifest.get("files", {})
    for entry in tmp.iterdir():
        key = f"{entry.name}/" if entry.is_dir() else entry.name
        if key in listed:  # cannot happen: formats write files of their own names
            raise ExportError(f"{version / entry.name} is already published")
        _remove_unlisted(version / entry.name)
    read_only(tmp, made_read_only)
    for entry in sorted(tmp.iterdir()):
        os.rename(entry, version / entry.name)
    fmt = made["format"]
    updated = {**manifest, "formats": [*formats_of(manifest), fmt], "files": {**listed, **listing["files"]}}
    updated["updated"] = made["created"]
    if fmt in made:
        updated[fmt] = made[fmt]
    if "data_sha256" in listing:
        updated["data_sha256"] = listing["data_sha256"]
    staged = version / ".manifest.json.new"
    staged.unlink(missing_ok=True)
    staged.write_bytes(orjson.dumps(updated, option=orjson.OPT_SORT_KEYS | orjson.OPT_INDENT_2) + b"\n")
    staged.chmod(0o444)
    os.replace(staged, version / "manifest.json")
    return updated


def _remove_unlisted(path: Path) -> None:
    """What a crash left while adding a format (moved in, never listed); we hold the lock."""
    if path.is_dir() and not path.is_symlink():
        for inner, _dirs, _files in os.walk(path):
            os.chmod(inner, 0o755)  # published folders are read-only
        shutil.rmtree(path)
    elif path.exists() or path.is_symlink():
        path.unlink()


def _write_records(chunks: Iterator[Chunk], tmp: Path, fmt: str, shares, writer, progress) -> Written:
    """Take the chunks in order: hash their lines, write them (jsonl), hand the records or
    what a part writer wrote to the writer."""
    written = Written()
    # several files open at once, closed together in the finally below
    files = {"data.jsonl": open(tmp / "data.jsonl", "wb")} if fmt == "jsonl" else {}  # noqa: SIM115
    if shares and fmt == "jsonl":
        files.update({f"{s}.jsonl": open(tmp / f"{s}.jsonl", "wb") for s in SPLITS})  # noqa: SIM115
    try:
        with gc_paused():
            for chunk in chunks:
                written.index.update(zip(chunk.ids, chunk.digests))
                written.tally.merge(chunk.tally)
                parts = [split_of(rid, shares) for rid in chunk.ids] if shares else [None] * len(chunk.ids)
                written.split_counts.update(parts)
                with chunk_data(chunk) as data:
                    written.digest.update(data)
                    if fmt == "jsonl":
                        _append(files["data.jsonl"], data, chunk.path)
                        if shares:
                            _write_parts(files, data, chunk.sizes, parts)
                if chunk.written is not None:
                    writer.merge(chunk.written)
                elif writer:
                    for record, part in zip(chunk.records, parts):
                        writer.add(record, part)
                if progress:
                    progress(len(chunk.ids))
    finally:
        chunks.close()  # stops worker processes at once if anything went wrong
        for handle in files.values():
            handle.close()
    return written


def _append(out, data, path: str | None) -> None:
    """A chunk's lines onto data.jsonl: from a worker's file, copied by the kernel (no pass
    through this process's memory), else written."""
    done = 0
    if path is not None and len(data) and hasattr(os, "copy_file_range"):
        out.flush()
        with open(path, "rb") as source:
            done = _copied(source.fileno(), out.fileno(), len(data))
    out.write(data[done:] if done else data)


def _copied(source: int, target: int, size: int) -> int:
    """How many bytes the kernel copied from source to target (0: it cannot between them)."""
    done = 0
    try:
        while done < size:
            step = os.copy_file_range(source, target, size - done)
            if not step:
                break
            done += step
    except OSError:
        if done:
            raise
    return done


def _manifest(name, layer, fmt, labels, shares, scope: Scope, written: Written) -> dict:
    tally, schema = written.tally, record_schema(labels)
    return {
        "name": name,
        "layer": layer,
        "format": fmt,  # the format the version was first written in
        "formats": [fmt],  # every format the version holds, in the order they were added
        "generator": f"claim-annotator {__version__}",
        "created": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "documents": len(written.index),
        "records_sha256": written.digest.hexdigest(),
        "counts": {
            "spans": dict(sorted(tally.spans.items())),
            "relations": dict(sorted(tally.relations.items())),
            "claims": tally.claims,
            "tokens": tally.tokens,
        },
        "annotators": sorted(tally.annotators),
        "curators": scope.curators,
        "left_out": scope.left_out,
        "schema": {"id": schema.id, "sha256": schema.sha256, "file": "schema.json"},
        "labels": {"name": labels.raw.get("name"), "sha256": labels.sha256, "config": labels.raw},
        "split": (
            {
                "shares": shares,
                "rule": "sha256('split:' + id) as a fraction of 1, cut at the cumulative shares",
                "counts": {s: written.split_counts[s] for s in SPLITS},
            }
            if shares
            else None
        ),
    }


def _write_parts(files: dict, data, sizes: list[int], parts: list[str]) -> None:
    """Each line of `data` (of these sizes) to its split's file."""
    with memoryview(data) as view:
        for start, size, part in zip(accumulate(sizes, initial=0), sizes, parts):
            files[f"{part}.jsonl"].write(view[start : start + size])
