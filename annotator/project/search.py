"""Finding documents: full-text search over titles and texts, and the list's filters.

SQLite answers a search from the FTS5 table `document_fts` (kept in step with `document` by
triggers, see migrations 0010 and 0014), which also indexes each document's language and
liveness: a list in arrival order narrowed by nothing else is that table's rowids alone
(`searched_ids`); otherwise it is a set the list is tested against or, where the list is
read in arrival order or only counted, the table the query walks first (`led`). Its rowids
come in document order, so a page or a capped count reads only as many matches as it
needs, however many the corpus holds; PostgreSQL from a GIN index over the stored 'simple'
text-search vector of title and text, which holds the same facets as lexemes. A query is
whitespace-separated terms, all required, the last one also matching as a prefix (so the
list narrows while someone types). Each term goes to the database quoted, to be split into
words by the same tokenizer that indexed the text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from sqlalchemy import (
    Integer,
    Table,
    bindparam,
    case,
    cast,
    column,
    func,
    literal_column,
    not_,
    select,
    table,
    text,
    union,
)
from sqlalchemy.dialects.postgresql import TSQUERY
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql import ColumnElement, Select, TextClause

from annotator.models import LAYER_STATUSES, Claim, Document, Layer, Span, Suggestion

SQLITE_FTS = "document_fts"
PG_FUNCTION = "document_search_vector"
PG_INDEX = "ix_document_search"
PG_COLUMN = "search_vector"  # a stored generated column, not in the model
SORTS = ("added", "title", "status")
CLAIM_CHOICES = ("yes", "no")
SHOWN = ("live", "archived")
MAX_TERMS = 16
FTS = table(SQLITE_FTS, column("rowid", Integer), column(SQLITE_FTS))
# Every column a filter reads (archived_at, id, lang): looked up here, a match's liveness and
# language never read the row, whose text and tokens come before them (overflow pages).
LIVE_INDEX = "ix_document_live_id"
WORD = re.compile(r"\w")
# rank of a layer's status for sorting by progress: done first, then in progress
STATUS_RANK = {"done": 3, "in_progress": 2, "skipped": 1, "todo": 0}


@dataclass(frozen=True)
class Filters:
    """What the list is narrowed to; empty strings are "any"."""

    q: str = ""
    lang: str = ""
    status: str = ""
    annotator: str = ""
    label: str = ""
    claim: str = ""
    sort: str = "added"
    shown: str = "live"

    @classmethod
    def from_args(cls, args, may_see_archived: bool = False, may_name_annotator: bool = True) -> Filters:
        """The filters a query string asks for; a value outside its choices is dropped."""

        def pick(name: str, choices=None, default: str = "") -> str:
            value = (args.get(name) or "").strip()[:200]
            return value if choices is None or value in choices else default

        found = cls(
            q=pick("q")[:500],
            lang=pick("lang"),
            status=pick("status", LAYER_STATUSES),
            annotator=pick("annotator") if may_name_annotator else "",
            label=pick("label"),
            claim=pick("claim", CLAIM_CHOICES),
            sort=pick("sort", SORTS, "added"),
            shown=pick("shown", SHOWN, "live") if may_see_archived else "live",
        )
        return found

    def args(self, **changes) -> dict[str, str]:
        """The non-default values, for links that keep the filters (page links, sort links)."""
        values = replace(self, **changes).__dict__
        defaults = Filters().__dict__
        return {k: v for k, v in values.items() if v and v != defaults[k]}

    @property
    def searching(self) -> bool:
        """Narrowed by more than the language: the list then counts matches."""
        return bool(self.q or self.status or self.annotator or self.label or self.claim or self.shown != "live")


def terms(q: str) -> list[str]:
    """The query's terms: whitespace-separated pieces holding at least one word character."""
    return [t for t in q.split() if WORD.search(t)][:MAX_TERMS]


def fts5_query(found: list[str], lang: str = "", shown: str = "live") -> str:
    """FTS5 syntax: each term a quoted phrase (the tokenizer splits it as it split the text),
    the last one a prefix, all in the title or the text; narrowed by the facets column
    (migration 0014) to a language and to live or archived documents. Live is "NOT
    archived": FTS5 then only steps through the few archived, where "AND live" would walk
    a posting for every document."""
    quoted = ['"' + t.replace('"', '""') + '"' for t in found]
    quoted[-1] += "*"
    query = f"{{title text}} : ({' '.join(quoted)})"
    if lang:
        query = f"({query} AND facets : {lang_token(lang)})"
    return f"{query} {'AND' if shown == 'archived' else 'NOT'} facets : archived"


def lang_token(lang: str) -> str:
    """A language in the facets column: `lang` and the hex of its code, one token whatever
    the code holds (the SQL of migration 0014 writes the same)."""
    return "lang" + lang.encode().hex()


def tsquery(found: list[str]) -> str:
    """to_tsquery syntax: each term a quoted lexeme joined by &, the last one a prefix."""
    quoted = [quoted_lexeme(t) for t in found]
    quoted[-1] += ":*"
    return " & ".join(quoted)


def quoted_lexeme(value: str) -> str:
    """One lexeme in tsquery input, quotes and backslashes escaped."""
    return "'" + value.replace("\\", "\\\\").replace("'", "''") + "'"


def text_matches(dialect: str, q: str, led: bool = False, lang: str = "", shown: str = "live") -> list[ColumnElement]:
    """The clauses for documents whose title or text hold every term; none: no search.

    `led` (SQLite): the search table joins the query and is read first, documents looked up
    by its rowids. `+ 0` keeps the planner from the other order, probing the search table
    once per document: each probe reads a prefix term's postings again (seconds at 100,000
    documents). Otherwise the matches are a set: one pass over their postings, then the
    list's own index tested against it (what a sort by title or progress needs). The list's
    language and liveness (`lang`, `shown`) narrow the matches inside the search index too,
    so the documents looked up are only those the list can show."""
    found = terms(q)
    if not found:
        return []
    if dialect == "sqlite":
        query = bindparam("fts", fts5_query(found, lang, shown))
        if led:
            return [FTS.c[SQLITE_FTS].op("MATCH")(query), Document.id == FTS.c.rowid + 0]
        ids = text(f"SELECT rowid FROM {SQLITE_FTS} WHERE {SQLITE_FTS} MATCH :fts").bindparams(query)
        return [Document.id.in_(ids.columns(column("rowid", Integer)))]
    searched = func.to_tsquery(literal_column("'simple'::regconfig"), tsquery(found))
    facets = cast(bindparam("facets", pg_facets(lang, shown)), TSQUERY)
    return [literal_column(f"document.{PG_COLUMN}").op("@@")(searched.op("&&")(facets))]


def pg_facets(lang: str, shown: str) -> str:
    """The facet lexemes a list asks for (migration 0014), as tsquery input: each holds a
    space, which no lexeme of a text can."""
    wanted = ["facet archived" if shown == "archived" else "facet live", *([f"facet lang {lang}"] if lang else [])]
    return " & ".join(map(quoted_lexeme, wanted))


def led_by_search(dialect: str, f: Filters) -> bool:
    """Whether the list in this order is best read from the search table first (SQLite, a
    text search, arrival order: the order its rowids already come in)."""
    return dialect == "sqlite" and f.sort == "added" and bool(terms(f.q))


def searched_only(dialect: str, f: Filters, within) -> bool:
    """Whether the search table alone answers the list (SQLite, a text search in arrival
    order narrowed by nothing its facets do not hold): its rowids are the list."""
    narrowed = within is not None or f.status or f.annotator or f.label or f.claim
    return led_by_search(dialect, f) and not narrowed


def searched_ids(f: Filters, cap: int, offset: int, size: int) -> TextClause:
    """Rows (matches counted as far as `cap`, id) for one page of the search table's matches
    for `f` in arrival order, `size` from `offset`; the matches are gathered once (a CTE
    read twice is materialized), and only the page's ids leave the database. No row: the
    page is past the end (the count then comes from the first row of page one)."""
    query = (
        f"WITH hits AS (SELECT rowid AS id FROM {SQLITE_FTS} WHERE {SQLITE_FTS} MATCH :fts "
        "ORDER BY rowid LIMIT :cap) "
        "SELECT (SELECT count(*) FROM hits) AS n, id FROM hits ORDER BY id LIMIT :size OFFSET :offset"
    )
    return text(query).bindparams(fts=fts5_query(terms(f.q), f.lang, f.shown), cap=cap, size=size, offset=offset)


def led_lookup(query: Select) -> Select:
    """A query the search table leads, its documents looked up in LIVE_INDEX (3x faster than
    by primary key at 5,000 matches; the planner picks the key, which it costs the same)."""
    return query.with_hint(Document, f"INDEXED BY {LIVE_INDEX}", "sqlite")


@compiles(Table, "sqlite")
def _table_with_hint(element, compiler, **kw):
    """SQLAlchemy leaves a table's hints out on SQLite; render them, as SQLite's INDEXED BY
    is written: after the table's name."""
    sql = compiler.visit_table(element, **kw)
    hint = (kw.get("fromhints") or {}).get(element)
    return f"{sql} {hint}" if hint and not kw.get("ashint") else sql


def layer_clause(name: str | None):
    return [Layer.name == name] if name else []


def clauses(dialect: str, f: Filters, within=None, own_layer: str | None = None, led: bool = False) -> list:
    """WHERE clauses for the filters. `within` (a subquery of ids) narrows to what the user
    may see; `own_layer`, for annotators, is the only layer whose work they may look into;
    `led`, see text_matches."""
    where = text_matches(dialect, f.q, led, f.lang, f.shown)
    if not (where and dialect == "postgresql"):  # there the search's facets hold both: asked
        # for here as well, the planner reads the listing index and tests every vector
        where.append(Document.archived_at.is_not(None) if f.shown == "archived" else Document.archived_at.is_(None))
        if f.lang:
            where.append(Document.lang == f.lang)
    if within is not None:
        where.append(Document.id.in_(within))
    person = own_layer or f.annotator or None
    if f.annotator and not own_layer:
        where.append(Document.id.in_(select(Layer.document_id).where(Layer.name == f.annotator)))
    if f.status == "todo":  # nothing started: no layer (of that person) past todo
        started = select(Layer.document_id).where(Layer.status != "todo", *layer_clause(person))
        where.append(not_(Document.id.in_(started)))
    elif f.status:
        where.append(Document.id.in_(select(Layer.document_id).where(Layer.status == f.status, *layer_clause(person))))
    if f.label:
        suggested = select(Suggestion.document_id).where(Suggestion.label == f.label)
        marked = (
            select(Layer.document_id)
            .join(Span, Span.layer_id == Layer.id)
            .where(Span.label == f.label, *layer_clause(own_layer))
        )
        where.append(Document.id.in_(union(suggested, marked)))
    if f.claim:
        claimed = select(Layer.document_id).join(Claim, Claim.layer_id == Layer.id).where(*layer_clause(own_layer))
        where.append(Document.id.in_(claimed) if f.claim == "yes" else not_(Document.id.in_(claimed)))
    return where


def progress(own_layer: str | None = None):
    """A document's furthest layer status as a number (STATUS_RANK), for sorting."""
    rank = case(*((Layer.status == s, n) for s, n in STATUS_RANK.items()), else_=0)
    query = select(func.max(rank)).where(Layer.document_id == Document.id, *layer_clause(own_layer))
    return func.coalesce(query.scalar_subquery(), -1)


def order(f: Filters, own_layer: str | None = None, backwards: bool = False, led: bool = False) -> list:
    """ORDER BY for the sort, ties broken by arrival; `backwards` reverses it all (a late
    page is read from the end, so no page skips more than half the list). `led`: the search
    table leads the query, and arrival is its rowid (the same number, in an order it gives
    without sorting)."""
    keys = {"added": [], "title": [(Document.title, False)], "status": [(progress(own_layer), True)]}[f.sort]
    keys = [*keys, (FTS.c.rowid if led else Document.id, False)]
    return [key.desc() if descending != backwards else key.asc() for key, descending in keys]


def modelled(obj, name, type_, reflected, compare_to) -> bool:
    """Alembic's include_object: the search machinery of migration 0010 (SQLite's FTS5 table
    and its shadow tables, PostgreSQL's stored vector and its index) has no model; leave it out of
    comparisons between the models and the database."""
    if type_ == "table" and reflected and compare_to is None and (name or "").startswith(SQLITE_FTS):
        return False
    if type_ == "column" and reflected and compare_to is None and name == PG_COLUMN:
        return False
    return not (type_ == "index" and name == PG_INDEX)
