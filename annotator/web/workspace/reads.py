"""What the workspace reads from the database, one statement per table.

The page and every write's answer run these on each request, so the statements are built
once, here, with bound parameters: SQLAlchemy then skips building the expression and its
cache key on every call, which was a third of a request's time. The page reads each table
once and derives the rest (counts, which spans carry a claim) in Python.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import bindparam, exists, func, select
from sqlalchemy.orm import defer
from sqlmodel import Session

from annotator.contents import CLAIM_COLUMNS, RELATION_COLUMNS, SPAN_COLUMNS, Contents
from annotator.models import Claim, Document, Layer, Relation, Span, Suggestion, SuggestionDecision
from annotator.web.identity import GOLD, layer_name

NO_LAYER = 0  # no layer has this id: with it, every suggestion is pending

DOCUMENT_BY_UID = select(Document).options(defer(Document.tokens)).where(Document.uid == bindparam("uid"))

_carries_claim = exists().where(Claim.quantity_id == Span.id).label("claim")
SPANS = select(*SPAN_COLUMNS, _carries_claim).where(Span.layer_id == bindparam("layer"))
SPANS_IN = SPANS.where(Span.start < bindparam("hi"), Span.end > bindparam("lo"))
SPAN_COUNTS = select(Span.label, func.count()).where(Span.layer_id == bindparam("layer")).group_by(Span.label)

CLAIMS = select(*CLAIM_COLUMNS).where(Claim.layer_id == bindparam("layer")).order_by(Claim.id)
RELATIONS = select(*RELATION_COLUMNS).where(Relation.layer_id == bindparam("layer")).order_by(Relation.id)


def _pending(decided):
    """A document's suggestions not in `decided` (a subquery of suggestion ids): all of them,
    those overlapping [lo, hi), and their counts per label."""
    unanswered = (Suggestion.document_id == bindparam("doc"), Suggestion.id.not_in(decided))
    every = select(Suggestion.id, Suggestion.start, Suggestion.end, Suggestion.label).where(*unanswered)
    within = every.where(Suggestion.start < bindparam("hi"), Suggestion.end > bindparam("lo"))
    counts = select(Suggestion.label, func.count()).where(*unanswered).group_by(Suggestion.label)
    return every, within, counts


_decided = select(SuggestionDecision.suggestion_id).where(SuggestionDecision.layer_id == bindparam("layer"))
PENDING, PENDING_IN, PENDING_COUNTS = _pending(_decided)

# In the gold layer a suggestion some layer of the document has answered went through curation
# (accepted there, it came into gold as a span; rejected, it stayed out): only the ones nobody
# has answered are still pending.
_decided_anywhere = (
    select(SuggestionDecision.suggestion_id)
    .join(Layer, Layer.id == SuggestionDecision.layer_id)
    .where(Layer.document_id == bindparam("doc"))
)
GOLD_PENDING, GOLD_PENDING_IN, GOLD_PENDING_COUNTS = _pending(_decided_anywhere)
FOR_GOLD = {id(PENDING): GOLD_PENDING, id(PENDING_IN): GOLD_PENDING_IN, id(PENDING_COUNTS): GOLD_PENDING_COUNTS}


def _run(session: Session, statement, **params):
    """A Core statement on the session's connection (and transaction), past the ORM layer;
    the pending suggestions of the gold layer are read as gold sees them."""
    if id(statement) in FOR_GOLD and layer_name() == GOLD:
        statement = FOR_GOLD[id(statement)]
    return session.connection().execute(statement, params)


def pending_ids(session: Session, doc: Document, layer: Layer | None, label: str | None = None) -> list[int]:
    """The ids of the suggestions this layer shows pending (of `label`): what "all" means, in
    the order they were made (the index they are read from gives them by label)."""
    rows = _run(session, PENDING, layer=layer_id(layer), doc=doc.id).all()
    return sorted(r.id for r in rows if label is None or r.label == label)


def layer_id(layer: Layer | None) -> int:
    return layer.id if layer is not None else NO_LAYER


def document_by_uid(session: Session, uid: str) -> Document | None:
    return session.exec(DOCUMENT_BY_UID, params={"uid": uid}).scalars().first()


@dataclass
class LayerRows(Contents):
    """A layer's contents as the workspace shows them (all of them, or those over [lo, hi)),
    with the suggestions still pending there. Its spans carry `claim`: whether one is built
    on them; claims and relations are None when not read."""

    claims: list | None = None
    relations: list | None = None
    pending: list = field(default_factory=list)
    complete: bool = False  # every span and pending suggestion


def whole_layer(
    session: Session, doc: Document, layer: Layer | None, links: bool = True, pending_in: tuple[int, int] | None = None
) -> LayerRows:
    """Every span (and, with `links`, claim and relation) of the layer, and the pending
    suggestions: all, or those overlapping `pending_in` (lo, hi)."""
    key = {"layer": layer_id(layer)}
    if pending_in is None:
        rows = LayerRows(pending=_run(session, PENDING, **key, doc=doc.id).all(), complete=True)
    else:
        lo, hi = pending_in
        rows = LayerRows(pending=_run(session, PENDING_IN, **key, doc=doc.id, lo=lo, hi=hi).all())
    if layer is not None:
        rows.spans = _run(session, SPANS, **key).all()
        if links:
            rows.claims = _run(session, CLAIMS, **key).all()
            rows.relations = _run(session, RELATIONS, **key).all()
    else:
        rows.claims, rows.relations = ([], []) if links else (None, None)
    return rows


def layer_range(session: Session, doc: Document, layer: Layer | None, lo: int, hi: int) -> LayerRows:
    """The spans and pending suggestions overlapping [lo, hi)."""
    key = {"layer": layer_id(layer), "lo": lo, "hi": hi}
    rows = LayerRows(pending=_run(session, PENDING_IN, **key, doc=doc.id).all())
    if layer is not None:
        rows.spans = _run(session, SPANS_IN, **key).all()
    return rows


def pending_counts(session: Session, doc: Document, layer: Layer | None) -> dict[str, int]:
    return dict(_run(session, PENDING_COUNTS, layer=layer_id(layer), doc=doc.id).all())


def span_counts(session: Session, layer: Layer | None) -> dict[str, int]:
    return dict(_run(session, SPAN_COUNTS, layer=layer.id).all()) if layer is not None else {}
