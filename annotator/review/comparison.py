"""Curation: compare the annotator layers of one document and merge them into the gold layer.

Items are compared by content, never by row id: a span by (start, end, label), a relation by
its two spans and its label, a claim by its quantity span (with value, unit, qualifier), every
span it links, its property text and modifiers. An item that every compared annotator has is
*agreed*; one that only some have is a *conflict*, and so are its *rivals*, other versions of
the same place: the same words under another label, other boundaries of the same label,
another label between the same two spans, another claim on the same quantity. Only layers
marked done are compared unless asked otherwise; the rest are shown, flagged, and never count.
Writing the decisions into gold is gold.py's job.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import defaultdict
from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlmodel import Session

from annotator.contents import Contents, load_contents
from annotator.models import CLAIM_LINKS, GOLD, RESERVED_LAYER_NAMES, SUGGESTIONS, AuditEvent, Document, Layer

KINDS = ("span", "relation", "claim")
KEY = re.compile(r"(span|relation|claim)-[0-9a-f]{16}")


# --- what each layer holds ------------------------------------------------------------------------


@dataclass
class Snapshot:
    """One layer's contents, their rows by id, and (for gold) the keys whose latest decision
    is a rejection."""

    layer: Layer
    contents: Contents = field(default_factory=Contents)
    rejected: set[str] = field(default_factory=set)

    def __post_init__(self):
        self.spans = {row.id: row for row in self.contents.spans}
        self.relations = {row.id: row for row in self.contents.relations}
        self.claims = {row.id: row for row in self.contents.claims}

    def span_ident(self, span_id) -> tuple | None:
        span = self.spans.get(span_id)
        return (span.start, span.end, span.label) if span else None

    def idents(self) -> dict[str, dict[tuple, int]]:
        """{kind: {identity: row id}}; relations and claims name their spans by identity."""
        out = {"span": {self.span_ident(i): i for i in self.spans}, "relation": {}, "claim": {}}
        for rel in self.relations.values():
            if rel.head_id in self.spans and rel.child_id in self.spans:
                out["relation"][(self.span_ident(rel.head_id), self.span_ident(rel.child_id), rel.label)] = rel.id
        for claim in self.claims.values():
            quantity = self.spans.get(claim.quantity_id)
            if quantity is not None:
                links = tuple(self.span_ident(getattr(claim, k)) for k in CLAIM_LINKS)
                out["claim"][
                    (
                        self.span_ident(quantity.id),
                        quantity.value,
                        quantity.unit,
                        quantity.qualifier,
                        *links,
                        claim.property_text,
                        tuple(sorted(claim.modifiers or [])),
                    )
                ] = claim.id
        return out


def load_snapshots(session: Session, doc_ids: list[int]) -> dict[int, dict[str, Snapshot]]:
    """{document id: {layer name: snapshot}} for the annotator and gold layers of the documents."""
    layers = (
        session.exec(select(Layer).where(Layer.document_id.in_(doc_ids), Layer.name != SUGGESTIONS)).scalars().all()
    )
    contents = load_contents(session.connection(), [layer.id for layer in layers])
    snaps = {layer.id: Snapshot(layer, contents[layer.id]) for layer in layers}
    if snaps:
        _load_rejections(session, [s for s in snaps.values() if s.layer.name == GOLD])
    out: dict[int, dict[str, Snapshot]] = defaultdict(dict)
    for snap in snaps.values():
        out[snap.layer.document_id][snap.layer.name] = snap
    return out


def _load_rejections(session: Session, golds: list[Snapshot]) -> None:
    """The latest applied accept/reject per key decides (an undone rejection no longer counts)."""
    by_layer = {s.layer.id: s for s in golds}
    latest: dict[tuple[int, str], str] = {}
    for layer_id, target, action in session.exec(
        select(AuditEvent.layer_id, AuditEvent.target, AuditEvent.action)
        .where(
            AuditEvent.layer_id.in_(list(by_layer) or [-1]),
            AuditEvent.action.in_(("accept", "reject")),
            AuditEvent.state == "applied",
        )
        .order_by(AuditEvent.id)
    ).all():
        latest[(layer_id, target)] = action
    for (layer_id, target), action in latest.items():
        if action == "reject":
            by_layer[layer_id].rejected.add(target)


# --- comparing ------------------------------------------------------------------------------------


def item_key(kind: str, ident: tuple) -> str:
    """A short, URL-safe name for an item, derived from its content alone."""
    return f"{kind}-{hashlib.sha1(json.dumps(ident).encode()).hexdigest()[:16]}"


@dataclass(eq=False)
class Item:
    kind: str
    key: str
    ident: tuple
    rows: dict[str, int] = field(default_factory=dict)  # annotator -> row id in their layer
    gold_id: int | None = None
    rejected: bool = False
    state: str = ""  # agreed | conflict | single | unfinished | gold
    missing: list[str] = field(default_factory=list)  # compared annotators without it
    rivals: list[Item] = field(default_factory=list)
    group: int = 0

    @property
    def at(self) -> tuple:
        return self.ident if self.kind == "span" else self.ident[0]

    @property
    def spans(self) -> list[tuple]:
        """The identities of the spans the item needs."""
        if self.kind == "span":
            return [self.ident]
        if self.kind == "relation":
            return list(self.ident[:2])
        return [self.ident[0], *(link for link in self.ident[4 : 4 + len(CLAIM_LINKS)] if link)]

    @property
    def superseded(self) -> bool:
        return self.gold_id is None and any(r.gold_id is not None for r in self.rivals)

    @property
    def open(self) -> bool:
        """Still waiting for the curator: not in gold, not rejected, no rival chosen instead."""
        return (
            self.state not in ("unfinished", "gold")
            and self.gold_id is None
            and not self.rejected
            and not self.superseded
        )


@dataclass
class Comparison:
    document_id: int
    annotators: list[Layer]
    compared: list[str]
    gold: Snapshot | None
    snapshots: dict[str, Snapshot]
    items: list[Item]

    @property
    def version(self) -> int:
        return self.gold.layer.version if self.gold else 0

    @property
    def status(self) -> str | None:
        return self.gold.layer.status if self.gold else None

    def find(self, key: str) -> Item | None:
        return next((item for item in self.items if item.key == key), None)

    def count(self, state: str | None = None, open_only: bool = False) -> int:
        return sum(1 for i in self.items if (state is None or i.state == state) and (i.open or not open_only))

    def to_pre_accept(self) -> list[Item]:
        """Agreed items not yet decided; a curator's choice of a rival is never overridden, and
        nothing is built on a span the curator rejected."""
        rejected = {i.ident for i in self.items if i.kind == "span" and i.rejected and i.gold_id is None}
        return [i for i in self.items if i.state == "agreed" and i.open and not rejected & set(i.spans)]


def compare(session: Session, doc: Document, everyone: bool = False) -> Comparison:
    return compare_snapshots(doc.id, load_snapshots(session, [doc.id]).get(doc.id, {}), everyone)


def compare_snapshots(doc_id: int, snaps: dict[str, Snapshot], everyone: bool = False) -> Comparison:
    gold = snaps.get(GOLD)
    annotators = sorted(
        (s.layer for n, s in snaps.items() if n not in RESERVED_LAYER_NAMES), key=lambda layer: layer.name
    )
    compared = [layer.name for layer in annotators if everyone or layer.status == "done"]
    items: dict[str, Item] = {}
    for name in [layer.name for layer in annotators] + ([GOLD] if gold else []):
        for kind, found in snaps[name].idents().items():
            for ident, row_id in found.items():
                key = item_key(kind, ident)
                item = items.setdefault(key, Item(kind, key, ident))
                if name == GOLD:
                    item.gold_id = row_id
                else:
                    item.rows[name] = row_id
    for key in (gold.rejected if gold else set()) & items.keys():
        items[key].rejected = True
    for item in items.values():
        _classify(item, compared)
    _link_rivals(list(items.values()))
    return Comparison(doc_id, annotators, compared, gold, snaps, _grouped(list(items.values())))


def _classify(item: Item, compared: list[str]) -> None:
    item.missing = [name for name in compared if name not in item.rows]
    has = len(compared) - len(item.missing)
    if not item.rows:
        item.state = "gold"  # added by a curator in the gold workspace
    elif has == 0:
        item.state = "unfinished"  # only in layers not (yet) compared
    elif len(compared) < 2:
        item.state = "single"  # nobody to agree with
    else:
        item.state = "conflict" if item.missing else "agreed"


def _link_rivals(items: list[Item]) -> None:
    spans = sorted((i for i in items if i.kind == "span"), key=lambda i: i.ident)
    for n, a in enumerate(spans):
        for b in spans[n + 1 :]:
            if b.ident[0] >= a.ident[1]:
                break
            same_words = a.ident[:2] == b.ident[:2]
            if same_words != (a.ident[2] == b.ident[2]):  # same words other label, or same label other words
                a.rivals.append(b)
                b.rivals.append(a)
    places: dict[tuple, list[Item]] = defaultdict(list)
    for item in items:
        if item.kind == "relation":
            places[item.ident[:2]].append(item)
        elif item.kind == "claim":
            places[item.ident[:1]].append(item)
    for group in places.values():
        for item in group:
            item.rivals.extend(other for other in group if other is not item)


def _grouped(items: list[Item]) -> list[Item]:
    """Text order, each item's rivals right after it (a conflict's versions side by side)."""
    items.sort(key=lambda i: (KINDS.index(i.kind), i.at, str(i.ident)))
    group: dict[str, int] = {}
    for n, item in enumerate(items):
        stack = [item]
        while stack:
            other = stack.pop()
            if other.key not in group:
                group[other.key] = n
                stack.extend(other.rivals)
    for item in items:
        item.group = group[item.key]
    return sorted(items, key=lambda i: (i.group, i.at, str(i.ident)))


def summary(text: str, item: Item) -> str:
    """One line naming the item, for messages and audit events."""

    def quote(ident):
        return f"“{text[ident[0] : ident[1]]}”"

    if item.kind == "span":
        return f"{item.ident[2]} {quote(item.ident)}"
    if item.kind == "relation":
        return f"{quote(item.ident[0])} {item.ident[2]} {quote(item.ident[1])}"
    return f"the claim on {quote(item.ident[0])}"


def overview(session: Session, offset: int, limit: int) -> tuple[int, list[tuple]]:
    """(documents with annotator layers, [(id/uid/title row, comparison)] for one page of them),
    documents whose gold is done last."""
    layered = select(Layer.document_id).where(Layer.name.not_in(RESERVED_LAYER_NAMES))
    total = session.exec(select(func.count()).select_from(Document).where(Document.id.in_(layered))).scalar_one()
    gold_done = select(Layer.document_id).where(Layer.name == GOLD, Layer.status == "done")
    rows = session.exec(
        select(Document.id, Document.uid, Document.title)
        .where(Document.id.in_(layered))
        .order_by(Document.id.in_(gold_done), Document.id)
        .offset(offset)
        .limit(limit)
    ).all()
    snaps = load_snapshots(session, [r.id for r in rows])
    return total, [(r, compare_snapshots(r.id, snaps.get(r.id, {}))) for r in rows]
