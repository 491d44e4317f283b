"""Store checked LayerDocs in one layer, in bulk.

Documents are matched by text (their content id) or created, pre-highlighted like any
import when a pipeline is given. A document whose layer already holds annotations is
left alone when the file says the same thing again, refused when it says something else,
and replaced wholly with `replace` (the old annotations are kept in the audit event). Rows
go in as one driver-level executemany per table (bulk.py), ids drawn up front so nothing is
read back, a transaction per group of documents, so a refused document or file leaves
nothing behind.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.exc import IntegrityError

from annotator.labels import LabelConfig
from annotator.models import GOLD, AuditEvent, Claim, Document, Layer, Relation, Span, Suggestion, User, utcnow
from annotator.nlp.language import detect_language
from annotator.formats.text import Problem
from annotator.token_arrays import Tokenized, keep_arrays
from annotator.tokens import pack
from annotator.ingest.bulk import bound, insert_rows, json_text, new_ids
from annotator.ingest.existing import clear, occupied
from annotator.contents import CLAIM_REFS, QUANTITY_FIELDS, LayerDoc, fill_quantities, fingerprint

GROUP = 2000   # documents per transaction
CHUNK = 500    # ids per IN (...) lookup
LAYER_COLUMNS = ("id", "document_id", "name", "kind", "user_id", "version", "status", "created_at", "updated_at")
SPAN_COLUMNS = ("id", "layer_id", "start", "end", "label", "origin", "meta", *QUANTITY_FIELDS, "created_at")
RELATION_COLUMNS = ("layer_id", "head_id", "child_id", "label", "meta", "created_at")
CLAIM_COLUMNS = ("layer_id", *(f"{k}_id" for k in CLAIM_REFS), "property_text", "modifiers", "meta", "created_at")
AUDIT_COLUMNS = ("at", "user", "action", "document_id", "layer_id", "target", "changes", "state", "before", "after")


@dataclass
class Target:
    """Where and how annotations are stored."""

    layer: str
    user: str
    fmt: str
    replace: bool = False
    status: str | None = None  # what the layers written are marked (None: in_progress, or as they were)

    @property
    def kind(self) -> str:
        return "gold" if self.layer == GOLD else "annotator"


@dataclass
class Stored:
    new_documents: int = 0
    layers: int = 0
    spans: int = 0
    relations: int = 0
    claims: int = 0
    suggestions: int = 0
    unchanged: int = 0
    replaced: int = 0

    def add(self, other: "Stored") -> None:
        for key, value in vars(other).items():
            setattr(self, key, getattr(self, key) + value)


def store(db, docs: list[LayerDoc], target: Target, labels: LabelConfig, prehighlighter=None,
          progress: Callable[[int], None] | None = None) -> tuple[Stored, list[Problem]]:
    stored, problems = Stored(), []
    for i in range(0, len(docs), GROUP):
        group = docs[i:i + GROUP]
        problems += _claimed_ids(db, group)
        refused = {p.path for p in problems}
        group = [d for d in group if d.where not in refused]
        fresh = _new_documents(db, group, prehighlighter)
        done, refused = Stored(), []
        try:
            with db.writing() as session:
                _store_group(session.connection(), group, fresh, target, labels, done, refused)
            stored.add(done)
            problems += refused
        except IntegrityError:  # PostgreSQL: another writer made one of these layers meanwhile
            problems += [Problem(d.where, None, f"layer {target.layer!r} of document {d.uid} was written by someone "
                                                "else during this import; nothing stored for this group, run it again")
                         for d in group]
        if progress:
            progress(len(docs[i:i + GROUP]))
    return stored, problems


def _lookup(conn, column, values) -> dict:
    found, ordered = {}, sorted(set(values))
    for i in range(0, len(ordered), CHUNK):
        rows = conn.execute(select(column, Document.id).where(column.in_(ordered[i:i + CHUNK])))
        found.update((value, doc_id) for value, doc_id in rows)
    return found


def _languages(conn, uids: list[str]) -> dict[str, tuple[int, str]]:
    """(id, language) of the documents already in the project, by uid."""
    found, ordered = {}, sorted(set(uids))
    for i in range(0, len(ordered), CHUNK):
        rows = conn.execute(select(Document.uid, Document.id, Document.lang).where(Document.uid.in_(ordered[i:i + CHUNK])))
        found.update((uid, (doc_id, lang)) for uid, doc_id, lang in rows)
    return found


def _claimed_ids(db, docs: list[LayerDoc]) -> list[Problem]:
    """A file's id that names another text of the project: storing would misplace offsets."""
    claims = {d.claimed_id: d for d in docs if d.claimed_id and d.claimed_id != d.uid}
    if not claims:
        return []
    with db.reading() as session:
        taken = _lookup(session.connection(), Document.uid, claims)
    return [Problem(claims[cid].where, None, f"id {cid!r} is a document of the project with a different text; "
                                             "the annotations cannot be placed on it (fix the id or the text)")
            for cid in sorted(taken)]


def _new_documents(db, docs: list[LayerDoc], prehighlighter) -> dict[str, dict]:
    """Rows for the documents not in the project yet, detected and pre-highlighted outside
    the write transaction (the slow part must not hold the lock)."""
    with db.reading() as session:
        present = _lookup(session.connection(), Document.uid, [d.uid for d in docs])
    new = [d for d in docs if d.uid not in present]
    langs = [(d.lang, d.lang_source) if d.lang else (detect_language(d.text), "detected") for d in new]
    highlights = (list(prehighlighter.run((d.text, lang) for d, (lang, _) in zip(new, langs)))
                  if prehighlighter and new else [None] * len(new))
    return {d.uid: _document_row(d, lang, source, hl) for d, (lang, source), hl in zip(new, langs, highlights)}


def _document_row(doc: LayerDoc, lang: str, lang_source: str, hl=None) -> dict:
    return {"uid": doc.uid, "text": doc.text, "lang": lang, "lang_source": lang_source, "title": doc.title,
            "source": doc.source, "meta": doc.meta, "n_chars": len(doc.text),
            "tokens": pack(hl.tokens) if hl else None, "n_suggestions": len(hl.suggestions) if hl else 0,
            "pipeline": hl.pipeline if hl else None, "suggestions": hl.suggestions if hl else []}


def _store_group(conn, docs, fresh, target, labels, stored: Stored, problems: list[Problem]) -> None:
    now = utcnow()
    langs = _languages(conn, [d.uid for d in docs])
    missing = [fresh.get(d.uid) or _document_row(d, d.lang or detect_language(d.text), d.lang_source if d.lang else "detected")
               for d in docs if d.uid not in langs]  # fresh unless another import got there first
    doc_ids = {uid: doc_id for uid, (doc_id, _) in langs.items()}
    new_docs, suggestions = _insert_documents(conn, missing, doc_ids, now)
    stored.new_documents += new_docs
    stored.suggestions += suggestions
    langs.update((row["uid"], (doc_ids[row["uid"]], row["lang"])) for row in missing)
    for doc in docs:
        fill_quantities(doc, langs[doc.uid][1])
    layers = {row.document_id: row for row in conn.execute(
        select(Layer.id, Layer.document_id, Layer.version, Layer.status)
        .where(Layer.document_id.in_(list(doc_ids.values())), Layer.name == target.layer))}
    before = occupied(conn, [row.id for row in layers.values()], labels)
    keep, replaced, marked = [], {}, []
    for doc in docs:
        layer = layers.get(doc_ids[doc.uid])
        old = before.get(layer.id) if layer else None
        if old is None:
            keep.append(doc)
        elif old["fingerprint"] == fingerprint(doc.spans, doc.relations, doc.claims):
            stored.unchanged += 1
            if target.status and layer.status != target.status:
                marked.append((layer.id, target.status))
        elif target.replace:
            keep.append(doc)
            replaced[layer.id] = old["record"]
        else:
            n = old["record"]
            problems.append(Problem(doc.where, None, f"document {doc.uid} already has annotations in layer "
                                    f"{target.layer!r} ({len(n['spans'])} spans, {len(n['relations'])} relations, "
                                    f"{len(n['claims'])} claims) that differ from this file's; nothing stored for it "
                                    "(use --replace to replace them wholly)"))
    _bump(conn, marked, now)
    if keep:
        clear(conn, list(replaced))
        stored.replaced += len(replaced)
        _write(conn, keep, doc_ids, layers, replaced, target, now, stored)


def _write(conn, docs, doc_ids, layers, replaced: dict, target: Target, now, stored: Stored) -> None:
    """The documents' layers, spans, relations, claims and audit events."""
    layer_ids = _layers_for(conn, docs, doc_ids, layers, target, now)
    stamp = bound(conn, Span.__table__.c.created_at, now)  # one timestamp for every row, bound once
    span_ids = _insert_spans(conn, docs, layer_ids, stamp)
    rel_rows = [(layer_ids[doc.uid], span_ids[doc.uid, r["head"]], span_ids[doc.uid, r["child"]], r["label"],
                 json_text(r.get("meta") or {}), stamp) for doc in docs for r in doc.relations]
    claim_rows = [_claim_row(c, doc.uid, layer_ids[doc.uid], span_ids, stamp) for doc in docs for c in doc.claims]
    insert_rows(conn, Relation.__table__, RELATION_COLUMNS, rel_rows)
    insert_rows(conn, Claim.__table__, CLAIM_COLUMNS, claim_rows)
    status = {"status": target.status} if target.status else {}
    insert_rows(conn, AuditEvent.__table__, AUDIT_COLUMNS, [(
        stamp, target.user, "import_layer", doc_ids[doc.uid], layer_ids[doc.uid], f"layer:{target.layer}", "null",
        None, json_text(replaced.get(layer_ids[doc.uid])),
        json_text({"format": target.fmt, "sources": doc.sources[:20], **doc.counts(),
                   "replaced": layer_ids[doc.uid] in replaced, **status}),
    ) for doc in docs])
    stored.layers += len(docs)
    stored.spans += len(span_ids)
    stored.relations += len(rel_rows)
    stored.claims += len(claim_rows)


def _insert_documents(conn, rows: list[dict], doc_ids: dict[str, int], now) -> tuple[int, int]:
    """New documents (ids added to doc_ids) and their suggestions; how many of each."""
    if not rows:
        return 0, 0
    table = Document.__table__
    docs = [{k: v for k, v in row.items() if k != "suggestions"} | {"created_at": now} for row in rows]
    doc_ids.update((uid, doc_id) for doc_id, uid in conn.execute(insert(table).returning(table.c.id, table.c.uid), docs))
    keep_arrays(conn, [Tokenized(doc_ids[row["uid"]], row["uid"], row["text"], row["tokens"]) for row in rows])
    fields = ("start", "end", "label", "origin", "pipeline", "pipeline_version", "score", *QUANTITY_FIELDS)
    suggestions = [{"document_id": doc_ids[row["uid"]], **{k: s.get(k) for k in fields}}
                   for row in rows for s in row["suggestions"]]
    if suggestions:
        conn.execute(insert(Suggestion.__table__), suggestions)
    return len(rows), len(suggestions)


def _layers_for(conn, docs, doc_ids, layers, target: Target, now) -> dict[str, int]:
    """Layer id per document uid: existing layers get a new version, missing ones are created."""
    out: dict[str, int] = {}
    user_id = conn.execute(select(User.id).where(User.name == target.layer)).scalar() \
        if target.kind == "annotator" else None
    new, bumps = [], []
    for doc in docs:
        layer = layers.get(doc_ids[doc.uid])
        if layer is None:
            new.append(doc)
        else:
            out[doc.uid] = layer.id
            bumps.append((layer.id, target.status or ("in_progress" if layer.status == "todo" else layer.status)))
    _bump(conn, bumps, now)
    table = Layer.__table__
    ids, stamp, status = new_ids(conn, table, len(new)), bound(conn, table.c.created_at, now), target.status
    insert_rows(conn, table, LAYER_COLUMNS, [
        (layer_id, doc_ids[doc.uid], target.layer, target.kind, user_id, 1, status or "in_progress", stamp, stamp)
        for layer_id, doc in zip(ids, new)])
    out.update((doc.uid, layer_id) for layer_id, doc in zip(ids, new))
    return out


def _bump(conn, layers: list[tuple[int, str]], now) -> None:
    """New version and status of existing layers: a page open on one of them must see its
    next save refused as stale."""
    if not layers:
        return
    table = Layer.__table__
    conn.execute(update(table).where(table.c.id == bindparam("layer_pk"))
                 .values(version=table.c.version + 1, updated_at=now, status=bindparam("new_status")),
                 [{"layer_pk": layer_id, "new_status": status} for layer_id, status in layers])


def _insert_spans(conn, docs, layer_ids, stamp) -> dict[tuple, int]:
    """Span rows, ids drawn up front; {(document uid, span key): id} for relations and claims."""
    ids = iter(new_ids(conn, Span.__table__, sum(len(doc.spans) for doc in docs)))
    found, rows = {}, []
    for doc in docs:
        layer_id, uid = layer_ids[doc.uid], doc.uid
        for s in doc.spans:
            span_id = found[uid, s["key"]] = next(ids)
            rows.append((span_id, layer_id, s["start"], s["end"], s["label"], "import", json_text(s.get("meta") or {}),
                         s.get("value"), s.get("value_max"), s.get("tolerance"), s.get("unit"), s.get("qualifier"),
                         stamp))
    insert_rows(conn, Span.__table__, SPAN_COLUMNS, rows)
    return found


def _claim_row(claim: dict, uid: str, layer_id: int, span_ids: dict, stamp) -> tuple:
    refs = [span_ids[uid, claim[key]] if claim.get(key) else None for key in CLAIM_REFS]
    return (layer_id, *refs, claim.get("property_text"), json_text(sorted(set(claim.get("modifiers") or []))),
            json_text(claim.get("meta") or {}), stamp)
