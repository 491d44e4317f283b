"""Curation's writes into the gold layer: pre-accept the agreements, accept one version of
an item, reject one, mark gold done (the comparison itself is review/comparison.py).

Gold writes use the workspace's machinery: each names the gold version it saw
(claim_version) and is one undoable audit event by the curator, so the gold workspace's undo
takes back a whole pre-accept or one accept. A rejection is an audit event too (action
"reject", target the item key), with the rows it removed from gold if the item was there.
"""

from __future__ import annotations

from collections import Counter

from sqlmodel import Session

from annotator.annotate.changes import ChangeSet
from annotator.annotate.spans import Outcome, delete_span_rows
from annotator.annotate.status import set_status
from annotator.layers import AnnotationError, Conflict, NotFound, claim_version, record
from annotator.models import CLAIM_LINKS, GOLD, QUANTITY_FIELDS, Document, Layer
from annotator.review.comparison import KEY, KINDS, Comparison, Item, Snapshot, compare, summary


class _Copier:
    """Copies annotator rows into gold within one change set, reusing the gold spans already
    there: a relation or claim brings along the spans it needs."""

    def __init__(self, session: Session, comparison: Comparison, layer: Layer):
        self.session, self.comparison, self.layer_id = session, comparison, layer.id
        self.changes = ChangeSet(session)
        gold = comparison.gold
        self.spans = {gold.span_ident(i): i for i in gold.spans} if gold else {}
        self.counts: Counter = Counter()

    def copy(self, item: Item, who: str) -> None:
        snap = self.comparison.snapshots[who]
        row_id = item.rows[who]
        if item.kind == "span":
            self.span(snap.spans[row_id])
            return
        if item.kind == "relation":
            rel = snap.relations[row_id]
            self.changes.insert(
                "relation",
                {
                    "layer_id": self.layer_id,
                    "head_id": self.span(snap.spans[rel.head_id]),
                    "child_id": self.span(snap.spans[rel.child_id]),
                    "label": rel.label,
                    "meta": dict(rel.meta or {}),
                },
            )
        else:
            self.claim(snap, snap.claims[row_id])
        self.counts[item.kind] += 1

    def span(self, row) -> int:
        ident = (row.start, row.end, row.label)
        if ident not in self.spans:
            values = {
                k: getattr(row, k) for k in ("start", "end", "label", "origin", "suggestion_id", *QUANTITY_FIELDS)
            }
            self.spans[ident] = self.changes.insert(
                "span", {**values, "layer_id": self.layer_id, "meta": dict(row.meta or {})}
            )
            self.counts["span"] += 1
        return self.spans[ident]

    def claim(self, snap: Snapshot, claim) -> None:
        quantity = snap.spans[claim.quantity_id]
        quantity_id = self.span(quantity)
        existing = self.comparison.gold.spans.get(quantity_id) if self.comparison.gold else None
        wanted = {k: getattr(quantity, k) for k in QUANTITY_FIELDS}
        if existing is not None and wanted != {k: getattr(existing, k) for k in QUANTITY_FIELDS}:
            self.changes.update("span", quantity_id, **wanted)  # the value lives on the span, as save_claim keeps it
        links = {
            k: self.span(snap.spans[getattr(claim, k)]) if getattr(claim, k) in snap.spans else None
            for k in CLAIM_LINKS
        }
        self.changes.insert(
            "claim",
            {
                "layer_id": self.layer_id,
                "quantity_id": quantity_id,
                **links,
                "property_text": claim.property_text,
                "modifiers": sorted(claim.modifiers or []),
                "meta": dict(claim.meta or {}),
            },
        )

    def remove(self, item: Item) -> None:
        """Take an item out of gold as the workspace's delete does (a span with what hangs on it)."""
        if item.kind == "span":
            span = self.comparison.gold.spans[item.gold_id]
            delete_span_rows(self.session, self.changes, span)
            self.spans.pop((span.start, span.end, span.label), None)
        else:
            self.changes.delete(item.kind, item.gold_id)


def pre_accept(session: Session, doc: Document, user: str, seen: int, everyone: bool = False) -> Outcome:
    """Copy every agreed item not yet decided into gold, spans first, as one undoable event."""
    comparison = compare(session, doc, everyone)
    todo = comparison.to_pre_accept()
    if not todo:
        raise AnnotationError("there is no agreed item left to pre-accept")
    _check_version(comparison, seen)
    layer = claim_version(session, doc, GOLD, seen)
    copier = _Copier(session, comparison, layer)
    for kind in KINDS:
        for item in todo:
            if item.kind == kind:
                copier.copy(item, _source(item, comparison))
    counts = {k: copier.counts[k] for k in KINDS}
    record(session, layer, user, "pre_accept", copier.changes, target=f"layer:{layer.id}", after=counts)
    return Outcome(layer, [], "Pre-accepted " + ", ".join(f"{n} {k}{'s' * (n != 1)}" for k, n in counts.items()))


def accept(
    session: Session, doc: Document, user: str, seen: int, kind: str, key: str, annotator: str | None = None
) -> Outcome:
    """Copy one version of an item into gold, replacing its rivals there (one undo brings them back)."""
    comparison = compare(session, doc)
    item = _item(comparison, kind, key)
    if item.gold_id is not None:
        raise AnnotationError(f"this {kind} is already in gold")
    who = annotator or _source(item, comparison)
    if who not in item.rows:
        raise AnnotationError(f"{who!r} has no such {kind} on this document")
    _check_version(comparison, seen)
    layer = claim_version(session, doc, GOLD, seen)
    copier = _Copier(session, comparison, layer)
    replaced = [r for r in item.rivals if r.gold_id is not None]
    for rival in replaced:
        copier.remove(rival)
    copier.copy(item, who)
    text = summary(doc.text, item)
    record(
        session,
        layer,
        user,
        "accept",
        copier.changes,
        target=key,
        after={"kind": kind, "from": who, "text": text, "replaced": [summary(doc.text, r) for r in replaced]},
    )
    instead = f", replacing {', '.join(summary(doc.text, r) for r in replaced)}" if replaced else ""
    return Outcome(layer, [], f"Accepted {text} from {who}{instead}")


def reject(session: Session, doc: Document, user: str, seen: int, kind: str, key: str) -> Outcome:
    """Record that an item stays out of gold (taking it out if it is there)."""
    comparison = compare(session, doc)
    item = _item(comparison, kind, key)
    if item.rejected and item.gold_id is None:
        raise AnnotationError(f"this {kind} is already rejected")
    _check_version(comparison, seen)
    layer = claim_version(session, doc, GOLD, seen)
    copier = _Copier(session, comparison, layer)
    if item.gold_id is not None:
        copier.remove(item)
    text = summary(doc.text, item)
    record(
        session,
        layer,
        user,
        "reject",
        copier.changes,
        target=key,
        before={"kind": kind, "text": text, "in_gold": item.gold_id is not None},
    )
    return Outcome(layer, [], f"Rejected {text}" + (" and removed it from gold" if item.gold_id is not None else ""))


def finish(session: Session, doc: Document, user: str, seen: int, everyone: bool = False) -> Layer:
    """Mark gold done once every compared item is decided."""
    comparison = compare(session, doc, everyone)
    _check_version(comparison, seen)
    waiting = comparison.count(open_only=True)
    if waiting:
        conflicts = comparison.count("conflict", open_only=True)
        raise AnnotationError(
            f"{waiting} item{'s' * (waiting != 1)} still open ({conflicts} in conflict): "
            f"accept or reject each before marking gold done"
        )
    return set_status(session, doc, GOLD, user, seen, "done")


def _source(item: Item, comparison: Comparison) -> str:
    """Whose row to copy: a compared annotator's if any has it."""
    return next((n for n in comparison.compared if n in item.rows), min(item.rows))


def _item(comparison: Comparison, kind, key) -> Item:
    if kind not in KINDS or not isinstance(key, str) or not KEY.fullmatch(key) or not key.startswith(f"{kind}-"):
        raise AnnotationError(f"{key!r} does not name a {kind if kind in KINDS else 'span, relation or claim'}")
    item = comparison.find(key)
    if item is None:
        raise NotFound(f"there is no such {kind} on this document (any more); reload the page")
    return item


def _check_version(comparison: Comparison, seen: int) -> None:
    """Refuse early, before any check about content, when the page is stale."""
    if comparison.version != seen:
        raise Conflict(
            f"the gold layer was changed elsewhere since you loaded this page: it is at version "
            f"{comparison.version}, you had {seen}. Reload to see the latest; nothing was saved."
        )
