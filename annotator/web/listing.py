"""The queries behind the document list: a constant number per page, all on indexes.

Per request: one count, one page of narrow rows (never the text), one grouped count of the
page's suggestions per label, and (full page only) the languages and
layer names for the filters. Archived documents are left out unless asked for. None of
them runs once per row, so the list costs the same for 50 documents or 100,000.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from sqlalchemy import bindparam, func, literal, select, text, union_all
from sqlmodel import Session

from annotator import document_counts
from annotator.models import Document, Layer, Suggestion
from annotator.project.search import (
    Filters,
    clauses,
    led_by_search,
    led_lookup,
    order,
    searched_ids,
    searched_only,
    terms,
)

FEW = 2000  # matches read whole before they are ordered (PostgreSQL)
COUNT_CAP = 5000  # matches counted at most; the list then says "more than 5,000"
ROW_COLUMNS = (
    Document.id,
    Document.uid,
    Document.source_id,
    Document.title,
    Document.lang,
    Document.n_chars,
    Document.n_suggestions,
    Document.created_at,
    Document.archived_at,
)


@dataclass
class DocumentPage:
    rows: list
    page: int
    pages: int
    total: int
    size: int
    filters: Filters = field(default_factory=Filters)
    by_label: dict[int, dict[str, int]] = field(default_factory=dict)
    capped: bool = False  # more than `total` match: counting stopped at COUNT_CAP

    @property
    def lang(self) -> str:
        return self.filters.lang

    @property
    def first_number(self) -> int:
        """Position in the list of the page's first row (1-based)."""
        return (self.page - 1) * self.size + 1


def document_page(
    session: Session,
    page: int,
    size: int,
    filters: Filters | None = None,
    within=None,
    own_layer: str | None = None,
) -> DocumentPage:
    """One page of the list as `filters` narrow and sort it; `within`, a subquery of
    document ids, narrows it to what the user may see, and `own_layer` (annotators) is the
    only layer whose work the filters look into."""
    filters = filters or Filters()
    dialect = session.get_bind().dialect.name
    if searched_only(dialect, filters, within):
        return _searched_page(session, page, size, filters)
    with _index_searched(session, dialect == "postgresql" and bool(terms(filters.q))):
        total, capped = _kept_total(session, filters, within), False
        if total is None:
            # counted with the search table leading whatever the sort: it stops at the cap
            led_count = dialect == "sqlite" and bool(terms(filters.q))
            total, capped = _counted(session, clauses(dialect, filters, within, own_layer, led_count), led_count)
        led = led_by_search(dialect, filters)
        where = clauses(dialect, filters, within, own_layer, led=led)
        return _page(session, page, size, filters, where, own_layer, dialect == "postgresql", total, capped, led)


def _kept_total(session: Session, f: Filters, within) -> int | None:
    """The list's length from the kept counts, where nothing but archiving and the language
    narrows it (None: it must be counted)."""
    if within is not None or f.q or f.status or f.annotator or f.label or f.claim:
        return None
    return document_counts.documents(session, archived=f.shown == "archived", lang=f.lang or None)


@contextmanager
def _index_searched(session: Session, on: bool) -> Iterator[None]:
    """PostgreSQL: answer a text search from the GIN index. Its planner prices testing a
    stored vector as cheap, but each one is read from TOAST storage: a scan of the table that
    tests every row takes half a second at 100,000 documents where the index takes tens of
    milliseconds (benchmarks/search.py)."""
    if not on:
        yield
        return
    session.execute(text("SET LOCAL enable_seqscan = off"))
    try:
        yield
    finally:
        session.execute(text("SET LOCAL enable_seqscan = on"))


def _counted(session: Session, where, led: bool) -> tuple[int, bool]:
    """How many documents match, counted as far as COUNT_CAP (a search matching most of
    100,000 stops there); whether it stopped."""
    found = select(Document.id).where(*where).limit(COUNT_CAP + 1)
    found = (led_lookup(found) if led else found).subquery()
    total = session.exec(select(func.count()).select_from(found)).scalar_one()
    return min(total, COUNT_CAP), total > COUNT_CAP


def _searched_page(session: Session, page: int, size: int, filters: Filters) -> DocumentPage:
    """The list read from the search table alone (search.searched_only): its first
    COUNT_CAP + 1 matches gathered once, which counts them and holds every page there is
    (the list stops at the cap), so a prefix term's postings are merged once a request."""

    def read(number: int, rows: int = size) -> list:
        return session.exec(searched_ids(filters, COUNT_CAP + 1, (number - 1) * size, rows)).all()

    page = max(page, 1)
    found = read(page)
    n = found[0].n if found else 0
    if page > 1 and (page - 1) * size >= min(n, COUNT_CAP):  # past the end: the last page
        if not found:
            first = read(1, 1)
            n = first[0].n if first else 0
        page = max(1, -(-min(n, COUNT_CAP) // size))
        found = read(page)
    total, capped = min(n, COUNT_CAP), n > COUNT_CAP
    shown = [row.id for row in found][: max(0, total - (page - 1) * size)]  # the cap's last page ends at it
    query = select(*ROW_COLUMNS).where(Document.id.in_(shown)).order_by(Document.id)
    rows = session.exec(query).all() if shown else []
    return DocumentPage(
        rows=rows,
        page=page,
        pages=max(1, -(-total // size)),
        total=total,
        size=size,
        filters=filters,
        by_label=label_counts(session, [r.id for r in rows]),
        capped=capped,
    )


def _page(session: Session, page, size, filters: Filters, where, own_layer, few_first, total, capped, led):
    pages = max(1, -(-total // size))
    page = min(max(page, 1), pages)
    if total == 0:
        return DocumentPage(rows=[], page=1, pages=1, total=0, size=size, filters=filters)
    # Pick the page's ids first, then read its rows by primary key: OFFSET steps through every
    # skipped entry, which should be a narrow index entry and never a table row (on SQLite
    # those rows sit on pages full of document text; see benchmarks/document_list.py).
    # Pages past the middle count from the end, so no page skips more than half the list.
    offset = (page - 1) * size
    n = max(0, min(size, total - offset))
    forwards = capped or offset <= total - offset - n  # past the cap the end is not known
    if few_first and total <= FEW:
        # Few matches: take them all from their own indexes first, then order and page them. An
        # ordered walk of the list would test row after row to find the few (the planner
        # cannot tell how few a prefix search finds).
        hits = select(Document.id).where(*where).cte("hits").prefix_with("MATERIALIZED")
        ids = select(Document.id).where(Document.id.in_(select(hits.c.id))).order_by(*order(filters, own_layer))
        ids = ids.offset(offset).limit(size)
    else:
        ids = select(Document.id).where(*where).order_by(*order(filters, own_layer, not forwards, led))
        ids = led_lookup(ids) if led else ids
        ids = ids.offset(offset).limit(size) if forwards else ids.offset(total - offset - n).limit(n)
    # correlate(None): the ids are a query of their own, even where the search table leads it
    ids = ids.correlate(None)
    rows = session.exec(select(*ROW_COLUMNS).where(Document.id.in_(ids)).order_by(*order(filters, own_layer))).all()
    return DocumentPage(
        rows=rows,
        page=page,
        pages=pages,
        total=total,
        size=size,
        filters=filters,
        by_label=label_counts(session, [r.id for r in rows]),
        capped=capped,
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
    return filter_choices(session, within, False)[0]


def filter_choices(session: Session, within=None, people: bool = True) -> tuple[list[tuple[str, int]], list[str]]:
    """The language filter's (language, documents) and, with `people`, the names of
    people's layers for the annotator filter: one query for both."""
    if within is None:  # the whole list: its languages' counts are kept
        kept = document_counts.live_languages().subquery()
        query = select(literal("lang").label("kind"), kept.c.lang.label("value"), kept.c.n)
    else:
        langs = select(literal("lang").label("kind"), Document.lang.label("value"), func.count().label("n"))
        query = langs.where(Document.archived_at.is_(None), Document.id.in_(within)).group_by(Document.lang)
    if people:
        names = select(literal("person"), Layer.name, literal(0)).where(Layer.kind == "annotator").distinct()
        query = union_all(query, names)
    found: tuple[list, list] = ([], [])
    for kind, value, n in sorted(session.exec(query).all(), key=lambda row: row[1]):
        if kind == "lang":
            found[0].append((value, n))
        else:
            found[1].append(value)
    return found


_ASSIGNED = select(Layer.document_id).where(Layer.name == bindparam("name"), Layer.assigned_at.is_not(None))
_BEFORE = (
    select(Document.uid, Document.title)
    .where(Document.id < bindparam("doc"), Document.archived_at.is_(None))
    .order_by(Document.id.desc())
    .limit(1)
)
_AFTER = (
    select(Document.uid, Document.title)
    .where(Document.id > bindparam("doc"), Document.archived_at.is_(None))
    .order_by(Document.id)
    .limit(1)
)
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
