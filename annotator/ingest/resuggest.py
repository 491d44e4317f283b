"""Suggest again for stored documents (`annotator suggest`), with new rules or a trained model.

Only what nobody has decided is replaced. A span suggestion some layer accepted or rejected
stays, and so does every part of a suggested claim or relation some layer answered; the
rest of the machine's suggestions go and the new ones come in. A new suggestion equal to a
kept one is that one (not a duplicate), and a kept claim or relation is not suggested again.
A file's own pre-annotations (origin "import") are the user's, not the machine's: kept.
Pre-highlighting runs outside the write lock as one stream; each batch of results is one
transaction, so an interrupted run keeps the batches it finished.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from contextlib import closing
from dataclasses import dataclass

from sqlalchemy import delete, exists, func, select, update

from annotator.db import Database
from annotator.ingest.suggestion_rows import insert_suggestions
from annotator.models import (
    ClaimSuggestion,
    Document,
    Layer,
    LinkDecision,
    RelationSuggestion,
    Suggestion,
    SuggestionDecision,
)
from annotator.nlp.language import settled
from annotator.schema.token_arrays import Tokenized, keep_arrays
from annotator.tokens import pack

BATCH = 200
SCOPES = ("not-done", "all")


@dataclass
class Resuggested:
    documents: int = 0
    removed: int = 0  # undecided suggestions replaced
    kept: int = 0  # decided ones left as they were
    added: int = 0

    def summary(self) -> str:
        return (
            f"Suggested again for {self.documents} document(s): {self.added} new suggestion(s), "
            f"{self.removed} undecided replaced, {self.kept} decided kept."
        )

    def as_json(self) -> dict:
        return {"documents": self.documents, "added": self.added, "removed": self.removed, "kept": self.kept}


def document_ids(db: Database, scope: str) -> list[int]:
    """Ids of the documents `scope` names: every one, or those no layer has marked done."""
    if scope not in SCOPES:
        raise ValueError(f"unknown scope {scope!r}; choose one of {', '.join(SCOPES)}")
    query = select(Document.id).order_by(Document.id)
    if scope == "not-done":
        done = exists().where(Layer.document_id == Document.id, Layer.status == "done")
        query = query.where(~done)
    with db.reading() as session:
        return list(session.exec(query).scalars())


def resuggest(
    db: Database,
    prehighlighter,
    scope: str = "not-done",
    progress: Callable[[int], None] | None = None,
    on_total: Callable[[int], None] | None = None,
) -> Resuggested:
    """Pre-highlight the scope's documents again as one stream (one worker pool for the
    whole run), storing BATCH documents per transaction as their results come."""
    ids = document_ids(db, scope)
    if on_total:
        on_total(len(ids))
    report = Resuggested()
    pending: deque = deque()  # documents sent to pre-highlighting, in order, awaiting results

    def texts():
        for doc, lang in _stored(db, ids):
            pending.append((doc, lang))
            yield doc.text, lang[0]

    group: list = []
    with closing(prehighlighter.run(texts())) as highlights:
        for highlighted in highlights:
            group.append((*pending.popleft(), highlighted))
            if len(group) == BATCH:
                _store(db, group, report, progress)
                group = []
    if group:
        _store(db, group, report, progress)
    return report


def _stored(db: Database, ids: list[int]):
    """Each document with its settled language, read BATCH at a time (never all texts at once)."""
    for first in range(0, len(ids), BATCH):
        batch = ids[first : first + BATCH]
        with db.reading() as session:
            docs = session.exec(select(Document).where(Document.id.in_(batch)).order_by(Document.id)).scalars().all()
        for doc in docs:
            yield doc, settled(doc.text, doc.lang, doc.lang_source)


def _store(db: Database, group: list, report: Resuggested, progress) -> None:
    docs, langs, highlights = (list(column) for column in zip(*group))
    with db.writing() as session:
        _replace(session.connection(), docs, langs, highlights, report)
    report.documents += len(docs)
    if progress:
        progress(len(docs))


def _decided_suggestions(conn, doc_ids: list[int]) -> set[int]:
    """Suggestions someone answered, directly or as part of an answered claim or relation."""
    of_docs = select(Suggestion.id).where(Suggestion.document_id.in_(doc_ids))
    decided = set(
        conn.execute(
            select(SuggestionDecision.suggestion_id).where(SuggestionDecision.suggestion_id.in_(of_docs))
        ).scalars()
    )
    claims = select(ClaimSuggestion).join(LinkDecision, LinkDecision.claim_suggestion_id == ClaimSuggestion.id)
    for row in conn.execute(claims.where(ClaimSuggestion.document_id.in_(doc_ids))).mappings():
        decided |= {row[k] for k in ("quantity_id", "entity_id", "property_id", "condition_id") if row[k]}
    relations = select(RelationSuggestion.head_id, RelationSuggestion.child_id).join(
        LinkDecision, LinkDecision.relation_suggestion_id == RelationSuggestion.id
    )
    for head, child in conn.execute(relations.where(RelationSuggestion.document_id.in_(doc_ids))):
        decided |= {head, child}
    return decided


def _replace(conn, docs, langs, highlights, report: Resuggested) -> None:
    doc_ids = [d.id for d in docs]
    decided = _decided_suggestions(conn, doc_ids)
    answered_claims = select(LinkDecision.claim_suggestion_id).where(LinkDecision.claim_suggestion_id.is_not(None))
    answered_relations = select(LinkDecision.relation_suggestion_id).where(
        LinkDecision.relation_suggestion_id.is_not(None)
    )
    conn.execute(
        delete(ClaimSuggestion).where(
            ClaimSuggestion.document_id.in_(doc_ids), ClaimSuggestion.id.not_in(answered_claims)
        )
    )
    conn.execute(
        delete(RelationSuggestion).where(
            RelationSuggestion.document_id.in_(doc_ids), RelationSuggestion.id.not_in(answered_relations)
        )
    )
    machine = (Suggestion.document_id.in_(doc_ids), Suggestion.origin != "import")
    removed = conn.execute(delete(Suggestion).where(*machine, Suggestion.id.not_in(decided or {-1}))).rowcount
    report.removed += removed
    kept: dict[int, dict] = {i: {} for i in doc_ids}
    for sid, doc_id, start, end, label in conn.execute(
        select(Suggestion.id, Suggestion.document_id, Suggestion.start, Suggestion.end, Suggestion.label).where(
            Suggestion.document_id.in_(doc_ids)
        )
    ):
        kept[doc_id].setdefault((start, end, label), sid)
        report.kept += 1
    kept_claims: dict[int, set] = {i: set() for i in doc_ids}
    for doc_id, quantity in conn.execute(
        select(ClaimSuggestion.document_id, ClaimSuggestion.quantity_id).where(ClaimSuggestion.document_id.in_(doc_ids))
    ):
        kept_claims[doc_id].add(quantity)
    kept_relations: dict[int, set] = {i: set() for i in doc_ids}
    rel = RelationSuggestion
    query = select(rel.document_id, rel.head_id, rel.child_id, rel.label).where(rel.document_id.in_(doc_ids))
    for doc_id, *ends in conn.execute(query):
        kept_relations[doc_id].add(tuple(ends))
    rows = []
    for doc, hl in zip(docs, highlights):
        rows.append(
            (
                doc.id,
                {
                    "suggestions": hl.suggestions,
                    "claims": hl.claims,
                    "relations": hl.relations,
                    "kept": kept[doc.id],
                    "kept_claims": kept_claims[doc.id],
                    "kept_relations": kept_relations[doc.id],
                },
            )
        )
    report.added += insert_suggestions(conn, rows)
    _settle_documents(conn, docs, langs, highlights)


def _settle_documents(conn, docs, langs, highlights) -> None:
    """The pipeline that suggested, the count, and tokens (with their arrays) where first use
    had not stored them yet."""
    counts = dict(
        conn.execute(
            select(Suggestion.document_id, func.count())
            .where(Suggestion.document_id.in_([d.id for d in docs]))
            .group_by(Suggestion.document_id)
        ).all()
    )
    fresh = []
    for doc, (lang, source), hl in zip(docs, langs, highlights):
        values = {"pipeline": hl.pipeline, "n_suggestions": counts.get(doc.id, 0), "uncertainty": hl.uncertainty}
        if doc.tokens is None:
            values.update(tokens=pack(hl.tokens), lang=lang, lang_source=source)
            fresh.append(Tokenized(doc.id, doc.uid, doc.text, values["tokens"]))
        conn.execute(update(Document).where(Document.id == doc.id).values(**values))
    keep_arrays(conn, fresh)
