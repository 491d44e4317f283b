"""`annotator export`: versioned, validated, immutable export directories.

    <out>/<name>/v1.2.0/  data.jsonl (or *.spacy), manifest.json, schema.json, index.tsv

Every record is validated (compiled validator + offset checks) before anything is
published. The version is assembled in a hidden temporary folder and renamed into place,
so a crash never leaves half a version and a published version is never touched again.
Records are ordered by id and serialised with sorted keys: the same data gives the same
bytes, and exporting unchanged data mints no new version.
"""
from __future__ import annotations

import fcntl
import gc
import hashlib
import os
import re
import shutil
import tempfile
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Iterator

import orjson

from . import __version__
from .db import Database
from .interchange.brat_export import BratWriter
from .interchange.conll import ConllWriter
from .interchange.measeval_export import MeasEvalWriter
from .labels import LabelConfig
from .records import fill_missing_tokens, iter_records
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


class ExportError(Exception):
    pass


@dataclass
class ExportResult:
    path: Path | None
    version: str
    unchanged: bool
    manifest: dict = field(default_factory=dict)


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


def check(record: dict) -> None:
    if not fast_validator().is_valid(record):
        raise ExportError(f"record {record['id']} does not match the schema: " + "; ".join(schema_errors(record)[:5]))
    problems = consistency_errors(record)
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
def gc_paused() -> Iterator[None]:
    """Cyclic garbage collection off while records stream through.

    A record is ~500 small dicts and lists without reference cycles, freed by reference
    counting once written; the collector still ran ~2,500 times per 10,000 records,
    re-scanning every live object on its full passes: 10-15% of an export.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


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


# --- the export ---------------------------------------------------------------------------

def export(db: Database, labels: LabelConfig, layer: str, name: str | None = None, out_dir: str | Path = "exports",
           fmt: str = "jsonl", split: str | None = None, progress: Callable[[int], None] | None = None,
           limit_check: Callable[[dict], None] | None = None) -> ExportResult:
    if fmt not in FORMATS:
        raise ExportError(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}")
    name = name or layer
    if not NAME_RE.match(name):
        raise ExportError(f"export name {name!r}: use letters, digits, '.', '_' and '-'")
    shares = parse_split(split)
    folder = Path(out_dir) / name
    fill_missing_tokens(db)
    with locked(folder):
        for stale in folder.glob(".tmp-*"):
            shutil.rmtree(stale, ignore_errors=True)  # left by a crashed export; we hold the lock
        tmp = Path(tempfile.mkdtemp(prefix=".tmp-", dir=folder))
        try:
            return _export_locked(db, labels, layer, name, folder, tmp, fmt, shares, progress, limit_check)
        finally:
            if tmp.exists():
                shutil.rmtree(tmp, ignore_errors=True)


def _export_locked(db, labels, layer, name, folder, tmp, fmt, shares, progress, limit_check) -> ExportResult:
    writer = WRITERS[fmt](labels, tmp) if fmt in WRITERS else None
    digest = hashlib.sha256()
    index: dict[str, str] = {}
    counts = {"spans": Counter(), "relations": Counter(), "claims": 0, "tokens": 0}
    annotators: set[str] = set()
    files = {"data.jsonl": open(tmp / "data.jsonl", "wb")} if fmt == "jsonl" else {}
    if shares and fmt == "jsonl":
        files.update({f"{s}.jsonl": open(tmp / f"{s}.jsonl", "wb") for s in SPLITS})
    split_counts: Counter = Counter()
    try:
        with db.reading() as session, gc_paused():
            for record in iter_records(session, layer, labels.quantity_label):
                if limit_check:
                    limit_check(record)
                check(record)
                line = dump(record)
                digest.update(line)
                index[record["id"]] = hashlib.sha256(line).hexdigest()[:16]
                _count(record, counts, annotators)
                part = split_of(record["id"], shares) if shares else None
                split_counts[part] += 1
                if fmt == "jsonl":
                    files["data.jsonl"].write(line)
                    if part:
                        files[f"{part}.jsonl"].write(line)
                else:
                    writer.add(record, part)
                if progress:
                    progress(1)
    finally:
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
        "counts": {"spans": dict(sorted(counts["spans"].items())), "relations": dict(sorted(counts["relations"].items())),
                   "claims": counts["claims"], "tokens": counts["tokens"]},
        "annotators": sorted(annotators), "curators": [],
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
        return ExportResult(None, version_name(previous), True, prev_manifest)
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
    return ExportResult(final, version, False, manifest)


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


def _count(record: dict, counts: dict, annotators: set[str]) -> None:
    counts["spans"].update(s["label"] for s in record["spans"])
    counts["relations"].update(r["label"] for r in record["relations"])
    counts["claims"] += len(record["claims"])
    counts["tokens"] += len(record["tokens"])
    annotators.update(record["annotators"])

