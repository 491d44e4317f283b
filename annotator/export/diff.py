"""What differs between two published versions of an export, read from their data files.

Each file is streamed a line at a time (one record, orjson), keeping per document only a
digest of its line, its title and its spans per label: two versions of a large export are
compared without holding either in memory. A document whose line differs is changed.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import orjson

DATA_FILE = "data.jsonl"
LISTED = 200  # documents named per kind of change; the counts cover them all


class DiffError(ValueError):
    """A version that cannot be compared (no JSON Lines data in it, a malformed line)."""


@dataclass
class Side:
    """One version's documents: id -> (line digest, title, (label, spans) pairs); tuples,
    not a Counter per document, which would cost several times the memory."""

    docs: dict[str, tuple[bytes, str, tuple]] = field(default_factory=dict)
    spans: Counter = field(default_factory=Counter)


def read_side(version_dir: Path) -> Side:
    path = version_dir / DATA_FILE
    if not path.is_file():
        raise DiffError(f"version {version_dir.name} holds no {DATA_FILE} (it was exported in another format)")
    side = Side()
    for number, line in _lines(path):
        try:
            record = orjson.loads(line)
        except orjson.JSONDecodeError as exc:
            raise DiffError(f"{version_dir.name}/{DATA_FILE}:{number}: not JSON ({exc})") from exc
        labels = Counter(span["label"] for span in record.get("spans", ()))
        title = str((record.get("meta") or {}).get("title") or "")[:120]
        digest = hashlib.blake2b(line.rstrip(b"\n"), digest_size=16).digest()
        side.docs[record["id"]] = (digest, title, tuple(sorted(labels.items())))
        side.spans.update(labels)
    return side


def _lines(path: Path) -> Iterator[tuple[int, bytes]]:
    with open(path, "rb") as handle:
        for number, line in enumerate(handle, 1):
            if line.strip():
                yield number, line


def diff_versions(old_dir: Path, new_dir: Path) -> dict:
    """Documents added, removed and changed (each with its spans per label before and after,
    the first LISTED of each), and the spans per label of each version."""
    old, new = read_side(old_dir), read_side(new_dir)
    added = sorted(set(new.docs) - set(old.docs))
    removed = sorted(set(old.docs) - set(new.docs))
    changed = sorted(k for k in set(old.docs) & set(new.docs) if old.docs[k][0] != new.docs[k][0])
    labels = sorted(set(old.spans) | set(new.spans))

    def listed(ids, before: Side | None, after: Side | None) -> list[dict]:
        return [_document(uid, before, after) for uid in ids[:LISTED]]

    return {
        "old": old_dir.name,
        "new": new_dir.name,
        "documents": {"old": len(old.docs), "new": len(new.docs)},
        "counts": {"added": len(added), "removed": len(removed), "changed": len(changed)},
        "added": listed(added, None, new),
        "removed": listed(removed, old, None),
        "changed": listed(changed, old, new),
        "spans": [
            {"label": x, "old": old.spans[x], "new": new.spans[x], "delta": new.spans[x] - old.spans[x]} for x in labels
        ],
        "listed": LISTED,
    }


def _document(uid: str, before: Side | None, after: Side | None) -> dict:
    was = before.docs[uid] if before else None
    now = after.docs[uid] if after else None
    counts_old, counts_new = Counter(dict(was[2]) if was else {}), Counter(dict(now[2]) if now else {})
    return {
        "id": uid,
        "title": (now or was)[1],
        "spans": [
            {"label": x, "old": counts_old[x], "new": counts_new[x]} for x in sorted(set(counts_old) | set(counts_new))
        ],
    }
