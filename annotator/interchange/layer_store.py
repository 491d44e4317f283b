"""Store checked LayerDocs in one layer, in bulk.

Documents are matched by text (their content id) or created, pre-highlighted like any
import when a pipeline is given. A document whose layer already holds annotations is
left alone when the file says the same thing again, refused when it says something else,
and replaced wholly with `replace` (the old annotations are kept in the audit event). Rows
go in with Core multi-row INSERTs, a transaction per group of documents, so a refused
document or file leaves nothing behind.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.exc import IntegrityError

from ..labels import LabelConfig
from ..models import GOLD, AuditEvent, Claim, Document, Layer, Relation, Span, Suggestion, User, utcnow
from ..nlp.language import detect_language
from ..reading import Problem
from ..tokens import pack
from .existing import clear, occupied
from .incoming import CLAIM_REFS, QUANTITY_FIELDS, LayerDoc, fill_quantities, fingerprint

GROUP = 2000   # documents per transaction
CHUNK = 500    # ids per IN (...) lookup
SPAN_COLUMNS = (Span.id, Span.layer_id, Span.start, Span.end, Span.label)


@dataclass
class Target:
    """Where and how annotations are stored."""

    layer: str
    user: str
    fmt: str
    replace: bool = False

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
    keep, replaced = [], {}
    for doc in docs:
        layer = layers.get(doc_ids[doc.uid])
        old = before.get(layer.id) if layer else None
        if old is None:
            keep.append(doc)
        elif old["fingerprint"] == fingerprint(doc.spans, doc.relations, doc.claims):
            stored.unchanged += 1
        elif target.replace:
            keep.append(doc)
            replaced[layer.id] = old["record"]
        else:
            n = old["record"]
            problems.append(Problem(doc.where, None, f"document {doc.uid} already has annotations in layer "
                                    f"{target.layer!r} ({len(n['spans'])} spans, {len(n['relations'])} relations, "
                                    f"{len(n['claims'])} claims) that differ from this file's; nothing stored for it "
                                    "(use --replace to replace them wholly)"))
    if not keep:
        return
    clear(conn, list(replaced))
    stored.replaced += len(replaced)
    layer_ids = _layers_for(conn, keep, doc_ids, layers, target, now)
    stored.layers += len(keep)
    span_ids = _insert_spans(conn, keep, doc_ids, layer_ids, now)
    rel_rows = [{"layer_id": layer_ids[doc.uid], "head_id": span_ids[(layer_ids[doc.uid], *r["head"])],
                 "child_id": span_ids[(layer_ids[doc.uid], *r["child"])], "label": r["label"],
                 "meta": r.get("meta") or {}, "created_at": now} for doc in keep for r in doc.relations]
    claim_rows = [_claim_row(c, layer_ids[doc.uid], span_ids, now) for doc in keep for c in doc.claims]
    for model, rows in ((Relation, rel_rows), (Claim, claim_rows)):
        if rows:
            conn.execute(insert(model.__table__), rows)
    stored.spans += len(span_ids)
    stored.relations += len(rel_rows)
    stored.claims += len(claim_rows)
    conn.execute(insert(AuditEvent.__table__), [{
        "at": now, "user": target.user, "action": "import_layer", "document_id": doc_ids[doc.uid],
        "layer_id": layer_ids[doc.uid], "target": f"layer:{target.layer}", "changes": None, "state": None,
        "before": replaced.get(layer_ids[doc.uid]),
        "after": {"format": target.fmt, "sources": doc.sources[:20], **doc.counts(),
                  "replaced": layer_ids[doc.uid] in replaced},
    } for doc in keep])


def _insert_documents(conn, rows: list[dict], doc_ids: dict[str, int], now) -> tuple[int, int]:
    """New documents (ids added to doc_ids) and their suggestions; how many of each."""
    if not rows:
        return 0, 0
    table = Document.__table__
    docs = [{k: v for k, v in row.items() if k != "suggestions"} | {"created_at": now} for row in rows]
    doc_ids.update((uid, doc_id) for doc_id, uid in conn.execute(insert(table).returning(table.c.id, table.c.uid), docs))
    fields = ("start", "end", "label", "origin", "pipeline", "pipeline_version", "score", *QUANTITY_FIELDS)
    suggestions = [{"document_id": doc_ids[row["uid"]], **{k: s.get(k) for k in fields}}
                   for row in rows for s in row["suggestions"]]
    if suggestions:
        conn.execute(insert(Suggestion.__table__), suggestions)
    return len(rows), len(suggestions)


def _layers_for(conn, docs, doc_ids, layers, target: Target, now) -> dict[str, int]:
    """Layer id per document uid: existing layers get a new version, missing ones are created."""
    out: dict[str, int] = {}
    new_rows = []
    user_id = conn.execute(select(User.id).where(User.name == target.layer)).scalar() \
        if target.kind == "annotator" else None
    bumps = []
    for doc in docs:
        layer = layers.get(doc_ids[doc.uid])
        if layer is None:
            new_rows.append({"document_id": doc_ids[doc.uid], "name": target.layer, "kind": target.kind,
                             "user_id": user_id, "version": 1, "status": "in_progress",
                             "created_at": now, "updated_at": now})
        else:
            out[doc.uid] = layer.id
            bumps.append({"layer_pk": layer.id, "new_status": "in_progress" if layer.status == "todo" else layer.status})
    table = Layer.__table__
    if bumps:  # a page open on one of these layers must see its next save refused as stale
        conn.execute(update(table).where(table.c.id == bindparam("layer_pk"))
                     .values(version=table.c.version + 1, updated_at=now, status=bindparam("new_status")), bumps)
    if new_rows:
        by_doc = dict(conn.execute(insert(table).returning(table.c.document_id, table.c.id), new_rows).all())
        uid_of = {doc_ids[d.uid]: d.uid for d in docs}
        out.update((uid_of[doc_id], layer_id) for doc_id, layer_id in by_doc.items())
    return out


def _insert_spans(conn, docs, doc_ids, layer_ids, now) -> dict[tuple, int]:
    """Span rows; their ids keyed by (layer id, start, end, label), unique in a layer.

    A plain executemany and the ids read back by layer: on SQLite, INSERT ... RETURNING
    over ~100,000 rows cost twice as much as the insert and the lookup together.
    """
    plain, valued = [], []  # one executemany each: a row binds only the columns it fills
    for doc in docs:
        layer_id = layer_ids[doc.uid]
        for s in doc.spans:
            row = {"layer_id": layer_id, "start": s["start"], "end": s["end"], "label": s["label"], "origin": "import",
                   "meta": s.get("meta") or {}, "created_at": now}
            if any(s.get(k) is not None for k in QUANTITY_FIELDS):
                valued.append({**row, **{k: s.get(k) for k in QUANTITY_FIELDS}})
            else:
                plain.append(row)
    for rows in (plain, valued):
        if rows:
            conn.execute(insert(Span.__table__), rows)
    rows = plain + valued
    if not rows:
        return {}
    ids, layers = {}, sorted({row["layer_id"] for row in rows})
    for i in range(0, len(layers), CHUNK):
        found = conn.execute(select(*SPAN_COLUMNS).where(Span.layer_id.in_(layers[i:i + CHUNK])))
        ids.update(((layer_id, start, end, label), span_id) for span_id, layer_id, start, end, label in found)
    return ids


def _claim_row(claim: dict, layer_id: int, span_ids: dict, now) -> dict:
    ref = lambda key: span_ids[(layer_id, *claim[key])] if claim.get(key) else None  # noqa: E731
    return {"layer_id": layer_id, **{f"{k}_id": ref(k) for k in CLAIM_REFS},
            "property_text": claim.get("property_text"), "modifiers": sorted(set(claim.get("modifiers") or [])),
            "meta": claim.get("meta") or {}, "created_at": now}
