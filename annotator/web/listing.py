"""The queries behind the document list: a constant number per page, all on indexes.

Per request: one count, one page of narrow rows (never the text), one grouped count of the
page's suggestions per label, and (full page only) the languages for the filter. None of
them runs once per row, so the list costs the same for 50 documents or 100,000.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import bindparam, func, select
from sqlmodel import Session

from annotator.models import Document, Layer, Suggestion

ROW_COLUMNS = (
    Document.id,
    Document.uid,
    Document.source_id,
    Document.title,
    Document.lang,
    Document.n_chars,
    Document.n_suggestions,
)


@dataclass
class DocumentPage:
    rows: list
    page: int
    pages: int
    total: int
    size: int
    lang: str | None
    by_label: dict[int, dict[str, int]] = field(default_factory=dict)

    @property
    def first_number(self) -> int:
        """Position in the list of the page's first row (1-based)."""
        return (self.page - 1) * self.size + 1


def document_page(session: Session, page: int, size: int, lang: str | None = None, within=None) -> DocumentPage:
    """One page of the list; `within`, a subquery of document ids, narrows it (an
    annotator sees only their assigned documents)."""
    where = ([Document.lang == lang] if lang else []) + ([Document.id.in_(within)] if within is not None else [])
    total = session.exec(select(func.count()).select_from(Document).where(*where)).scalar_one()
    pages = max(1, -(-total // size))
    page = min(max(page, 1), pages)
    # Pick the page's ids first, then read its rows by primary key: OFFSET steps through every
    # skipped entry, which should be a narrow index entry and never a table row (on SQLite
    # those rows sit on pages full of document text; see benchmarks/document_list.py).
    # Pages past the middle count from the end, so no page skips more than half the list.
    offset = (page - 1) * size
    n = max(0, min(size, total - offset))
    if offset <= total - offset - n:
        page_ids = select(Document.id).where(*where).order_by(Document.id).offset(offset).limit(size)
    else:
        page_ids = select(Document.id).where(*where).order_by(Document.id.desc()).offset(total - offset - n).limit(n)
    rows = session.exec(select(*ROW_COLUMNS).where(Document.id.in_(page_ids)).order_by(Document.id)).all()
    return DocumentPage(
        rows=rows,
        page=page,
        pages=pages,
        total=total,
        size=size,
        lang=lang,
        by_label=label_counts(session, [r.id for r in rows]),
    )


def label_counts(session: Session, doc_ids: list[int]) -> dict[int, dict[str, int]]:
    """{document id: {label: suggestions}} for a page of documents, in one grouped query."""
    counts: dict[int, dict[str, int]] = {i: {} for i in doc_ids}
    if doc_ids:
        query = (
            select(Suggestion.document_id, Suggestion.label, func.count())
            .where(Suggestion.document_id.in_(doc_ids))
            .group_by(Suggestion.document_id, Suggestion.label)
        )
        for doc_id, label, n in session.exec(query).all():
            counts[doc_id][label] = n
    return counts


def languages(session: Session, within=None) -> list[tuple[str, int]]:
    """(language, documents) for the filter, from the language index alone."""
    where = [Document.id.in_(within)] if within is not None else []
    query = select(Document.lang, func.count()).where(*where).group_by(Document.lang).order_by(Document.lang)
    return [(lang, n) for lang, n in session.exec(query).all()]


_ASSIGNED = select(Layer.document_id).where(Layer.name == bindparam("name"), Layer.assigned_at.is_not(None))
_BEFORE = (
    select(Document.uid, Document.title).where(Document.id < bindparam("doc")).order_by(Document.id.desc()).limit(1)
)
_AFTER = select(Document.uid, Document.title).where(Document.id > bindparam("doc")).order_by(Document.id).limit(1)
NEIGHBOURS = {
    False: (_BEFORE, _AFTER),  # built once: every document page asks
    True: (_BEFORE.where(Document.id.in_(_ASSIGNED)), _AFTER.where(Document.id.in_(_ASSIGNED))),
}


def neighbours(session: Session, doc_id: int, assigned_to: str | None = None) -> dict[str, tuple[str, str] | None]:
    """(uid, title) of the documents before and after `doc_id` in list order, among the
    documents assigned to annotator `assigned_to` when given."""
    before, after = NEIGHBOURS[assigned_to is not None]
    params = {"doc": doc_id, "name": assigned_to}
    conn = session.connection()
    return {"prev": conn.execute(before, params).first(), "next": conn.execute(after, params).first()}
