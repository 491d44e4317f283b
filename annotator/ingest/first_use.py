"""What an import without the pipeline leaves for first use: tokens and language.

A bulk import of model output stores texts at storage speed and tokenizes nothing; the
first thing that needs a document's tokens settles it here, once: its language detected if
the import left that open, its tokens stored (with their token array), and the QUANTITY
pre-annotations it brought parsed again in that language ("10.000" is ten thousand in
Portuguese and ten in English). One rule, used three ways: for one document inside a write
(the workspace), for every waiting document before a read that must not write (export,
show), and in memory only, for a document that arrived after that (tokens_of).
"""

from __future__ import annotations

from typing import NamedTuple

from sqlalchemy import bindparam, select
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import Session

from annotator.models import QUANTITY_FIELDS, Document, Suggestion
from annotator.nlp.language import PENDING, settled
from annotator.nlp.quantities import parsed_quantity
from annotator.nlp.tokenizer import tokenize
from annotator.schema.token_arrays import Tokenized, keep_arrays
from annotator.tokens import pack

BATCH = 500
STORED_TOKENS = select(Document.tokens).where(Document.id == bindparam("id"))


class Settled(NamedTuple):
    lang: str
    lang_source: str
    tokens: bytes
    detected: bool  # the language was detected just now: imported quantities need parsing again


def settle(text: str, lang: str, lang_source: str) -> Settled:
    """The language and packed tokens a waiting document gets."""
    lang, source = settled(text, lang, lang_source)
    return Settled(lang, source, pack(tokenize(text, lang)), lang_source == PENDING)


def tokens_of(doc) -> bytes:
    """A document's packed tokens: stored, or computed here and not kept (a read never writes)."""
    return doc.tokens if doc.tokens is not None else pack(tokenize(doc.text, doc.lang))


def ensure_tokens(session: Session, doc: Document, quantity_label: str | None) -> bytes:
    """The document's packed tokens, settled and stored on first use inside the caller's write."""
    if "tokens" in sa_inspect(doc).unloaded:  # deferred by the workspace: one prebuilt select
        set_committed_value(doc, "tokens", session.connection().execute(STORED_TOKENS, {"id": doc.id}).scalar())
    if doc.tokens is None:
        done = settle(doc.text, doc.lang, doc.lang_source)
        doc.lang, doc.lang_source, doc.tokens = done.lang, done.lang_source, done.tokens
        session.add(doc)
        if done.detected:
            session.flush()
            reparse_imported_quantities(session, {doc.id: doc.lang}, quantity_label)
    return doc.tokens


def settle_all(db, quantity_label: str | None, batch: int = BATCH, uids: list[str] | None = None) -> int:
    """Settle every waiting document (or those of `uids`), a batch at a time (tokenized
    outside the write lock); how many. Runs before a read (export, show), so the read itself
    stays read-only."""
    done = 0
    waiting = select(Document.id, Document.uid, Document.text, Document.lang, Document.lang_source).where(
        Document.tokens.is_(None)
    )
    if uids is not None:
        waiting = waiting.where(Document.uid.in_(uids))
    while True:
        with db.reading() as session:
            rows = session.exec(waiting.limit(batch)).all()
        if not rows:
            return done
        results = [settle(r.text, r.lang, r.lang_source) for r in rows]
        with db.writing() as session:
            conn = session.connection()
            table = Document.__table__
            conn.execute(
                table.update()
                .where(table.c.id == bindparam("doc_id"))
                .values(tokens=bindparam("tokens"), lang=bindparam("new_lang"), lang_source=bindparam("new_source")),
                [
                    {"doc_id": r.id, "tokens": s.tokens, "new_lang": s.lang, "new_source": s.lang_source}
                    for r, s in zip(rows, results)
                ],
            )
            keep_arrays(conn, [Tokenized(r.id, r.uid, r.text, s.tokens) for r, s in zip(rows, results)])
            reparse_imported_quantities(
                session, {r.id: s.lang for r, s in zip(rows, results) if s.detected}, quantity_label
            )
        done += len(rows)


def reparse_imported_quantities(session, langs: dict[int, str], quantity_label: str | None) -> int:
    """Parse again, in the language now settled, the imported QUANTITY suggestions of these
    documents ({document id: language})."""
    if not langs or quantity_label is None:
        return 0
    conn = session.connection()
    rows = conn.execute(
        select(Suggestion.id, Suggestion.document_id, Suggestion.start, Suggestion.end).where(
            Suggestion.document_id.in_(list(langs)), Suggestion.origin == "import", Suggestion.label == quantity_label
        )
    ).all()
    texts = (
        dict(
            conn.execute(select(Document.id, Document.text).where(Document.id.in_({r.document_id for r in rows}))).all()
        )
        if rows
        else {}
    )
    values = [
        {"sid": r.id, **parsed_quantity(texts[r.document_id][r.start : r.end], langs[r.document_id])} for r in rows
    ]
    if values:
        table = Suggestion.__table__
        conn.execute(
            table.update().where(table.c.id == bindparam("sid")).values({k: bindparam(k) for k in QUANTITY_FIELDS}),
            values,
        )
    return len(values)
