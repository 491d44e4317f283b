"""A layer's contents: its spans, relations and claims, the one shape every stage holds them in.

Items carry the attribute names of their table's columns, so a row read from the database
(SPAN_COLUMNS, RELATION_COLUMNS, CLAIM_COLUMNS) and an item a reader made from a file are
used alike: an import fingerprints both to see whether a file says anything new, agreement
and curation compare them, the export turns them into records (schema/build.py). Before a
reader's items are stored their `id`s are the reader's own keys (brat ids, record ids,
offsets); relations and claims refer to spans by those keys, as stored rows do by row id.

Incoming is a document as a file brings it: its text, what is known of it, and its contents.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import orjson
from sqlalchemy import select

from annotator.models import CLAIM_LINKS, QUANTITY_FIELDS, Claim, Relation, Span, Suggestion, document_uid

# The columns of each item, in one place: the database reads, the bulk inserts and the
# items below all follow them.
SPAN_FIELDS = ("id", "start", "end", "label", "origin", *QUANTITY_FIELDS, "meta", "suggestion_id")
RELATION_FIELDS = ("id", "head_id", "child_id", "label", "meta")
CLAIM_FIELDS = ("id", "quantity_id", *CLAIM_LINKS, "property_text", "modifiers", "meta")
SPAN_COLUMNS = (Span.layer_id, *(getattr(Span, name) for name in SPAN_FIELDS))
RELATION_COLUMNS = (Relation.layer_id, *(getattr(Relation, name) for name in RELATION_FIELDS))
CLAIM_COLUMNS = (Claim.layer_id, *(getattr(Claim, name) for name in CLAIM_FIELDS))
# A suggestion as a record shows it, unpacked by position in schema/build.py (suggestion_spans).
SUGGESTION_COLUMNS = (
    Suggestion.document_id,
    Suggestion.start,
    Suggestion.end,
    Suggestion.label,
    Suggestion.origin,
    Suggestion.score,
    *(getattr(Suggestion, name) for name in QUANTITY_FIELDS),
    Suggestion.id,  # last: what suggested claims and relations name
)

SpanKey = tuple[int, int, str]  # what identifies a span in a layer: (start, end, label)


@dataclass(slots=True)
class SpanItem:
    id: Any
    start: int
    end: int
    label: str
    origin: str = "import"
    value: float | None = None
    value_max: float | None = None
    tolerance: float | None = None
    unit: str | None = None
    qualifier: str | None = None
    meta: dict = field(default_factory=dict)
    suggestion_id: int | None = None
    parse: bool = False  # value fields still to be read by the normaliser, once the language is known

    @property
    def key(self) -> SpanKey:
        return (self.start, self.end, self.label)


@dataclass(slots=True)
class RelationItem:
    head_id: Any
    child_id: Any
    label: str
    meta: dict = field(default_factory=dict)
    id: Any = None


@dataclass(slots=True)
class ClaimItem:
    quantity_id: Any
    entity_id: Any = None
    property_id: Any = None
    property_text: str | None = None
    condition_id: Any = None
    time_id: Any = None
    source_id: Any = None
    modifiers: list = field(default_factory=list)
    meta: dict = field(default_factory=dict)
    id: Any = None


@dataclass
class Contents:
    """Spans, relations and claims of one layer of one document (items or rows alike)."""

    spans: list = field(default_factory=list)
    relations: list = field(default_factory=list)
    claims: list = field(default_factory=list)

    def span_keys(self) -> dict[Any, SpanKey]:
        """Each span's (start, end, label) by its id."""
        return {s.id: (s.start, s.end, s.label) for s in self.spans}

    def counts(self) -> dict[str, int]:
        return {"spans": len(self.spans), "relations": len(self.relations), "claims": len(self.claims)}

    def fingerprint(self, extra=None) -> bytes:
        """What the contents say, without ids, origins or order: equal fingerprints, equal
        layers. `extra`: anything else the layer keeps that must count (JSON-serialisable)."""
        key = self.span_keys()
        ref = lambda value: list(key[value]) if value is not None else None  # noqa: E731
        rows = {
            "spans": [
                [s.start, s.end, s.label, [_number(getattr(s, k)) for k in QUANTITY_FIELDS], s.meta or {}]
                for s in self.spans
            ],
            "relations": [[ref(r.head_id), ref(r.child_id), r.label, r.meta or {}] for r in self.relations],
            "claims": [
                [
                    [ref(c.quantity_id), *(ref(getattr(c, k)) for k in CLAIM_LINKS)],
                    c.property_text,
                    sorted(c.modifiers or []),
                    c.meta or {},
                ]
                for c in self.claims
            ],
        }
        lines = [
            b"%s:%s"
            % (kind.encode(), b"|".join(sorted(orjson.dumps(item, option=orjson.OPT_SORT_KEYS) for item in items)))
            for kind, items in rows.items()
        ]
        if extra:
            lines.append(b"extra:" + orjson.dumps(extra, option=orjson.OPT_SORT_KEYS))
        return b"\n".join(lines)


def _number(value):
    """50000 and 50000.0 are one value (a file may write either; the database keeps floats)."""
    return float(value) if isinstance(value, int) and not isinstance(value, bool) else value


def load_contents(conn, layer_ids: list[int], chunk: int = 500, meta: bool = True) -> dict[int, Contents]:
    """The contents of these layers as plain column rows (not ORM objects: an export or an
    agreement report reads every row once and never writes), by layer id. Without `meta`
    the rows lack that column: decoding its JSON was 40% of an agreement report."""
    out = {layer_id: Contents() for layer_id in layer_ids}
    for columns, kind in ((SPAN_COLUMNS, "spans"), (RELATION_COLUMNS, "relations"), (CLAIM_COLUMNS, "claims")):
        table_layer = columns[0]
        if not meta:
            columns = tuple(c for c in columns if c.key != "meta")
        for i in range(0, len(layer_ids), chunk):
            # all(): one fetch for the batch, not one per row
            for row in conn.execute(select(*columns).where(table_layer.in_(layer_ids[i : i + chunk]))).all():
                getattr(out[row.layer_id], kind).append(row)
    return out


@dataclass(frozen=True, slots=True)
class TextAt:
    """Where a document's text lies in its file, so that an import can let go of the text
    between reading and storing and read it again (formats/files.read_again): a whole text
    file (`size` None), or the JSONL line of `size` bytes at byte `offset`."""

    path: str
    offset: int = 0
    size: int | None = None


@dataclass
class Incoming:
    """A document as a file brings it, checked and waiting to be stored. `text` is None
    while an import has let go of it (`text_at` says where it is; `uid` was taken before)."""

    text: str
    source: str  # the file, for messages and a new document's `source`
    line: int | None = None  # where in the file (JSONL records)
    claimed_id: str | None = None  # the id the file gives the document, if any
    title: str = ""
    lang: str | None = None
    lang_source: str = "import"  # "detected" when a reader had to detect it
    meta: dict = field(default_factory=dict)  # a new document's meta
    contents: Contents = field(default_factory=Contents)
    layer_meta: dict = field(default_factory=dict)  # what the layer keeps of where it came from (brat sets)
    sources: list[str] = field(default_factory=list)  # every file:line that contributed
    text_at: TextAt | None = None  # where the reader found the text, if it can be read again

    @cached_property
    def uid(self) -> str:
        # cached: an import asks several times (lookup, de-duplication, the row), and
        # hashing each text every time cost ~0.2 s per 10,000 seed-sized records
        return document_uid(self.text)

    @property
    def source_id(self) -> str | None:
        """The file's own id for the document, when it is not the document's id already."""
        return self.claimed_id if self.claimed_id and self.claimed_id != self.uid else None

    @property
    def where(self) -> str:
        return f"{self.source}:{self.line}" if self.line else self.source
