"""Store checked documents, and their contents either as suggestions or in a layer, in bulk.

One store for every import. Documents are matched by text (their content id) or created:
language detected and tokens made (by the settling workers, or here, or the tokens left
for first use), pre-highlighted when a pipeline is given (outside the write transaction,
so the slowest part never holds the lock). A document import
stores new documents only, with the spans a file brought as pre-annotations (suggestions
of origin "import"); a layer import (`target`) also writes the contents into the named
layer of each document, new or not: a layer that already holds the same is left alone, one
that holds something else is refused unless `replace`, which replaces it wholly (the old
contents kept in the audit event). Rows go in as driver-level executemany per table
(bulk.py), ids drawn up front so nothing is read back, a transaction per group of
documents (whole files for a document import), so a refused file leaves nothing behind.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import ExitStack, closing, contextmanager, nullcontext
from dataclasses import dataclass

from sqlalchemy import bindparam, insert, select, text, update
from sqlalchemy.exc import IntegrityError

from annotator.contents import CLAIM_FIELDS, RELATION_FIELDS, SPAN_FIELDS, Incoming
from annotator.formats.files import read_again
from annotator.ingest import first_use
from annotator.ingest.bulk import bound, insert_rows, json_text, new_ids
from annotator.ingest.existing import clear, held
from annotator.ingest.first_use import Flight, settling
from annotator.ingest.spool import Spool, SpoolFailed
from annotator.ingest.suggestion_rows import insert_suggestions
from annotator.labels import LabelConfig
from annotator.models import (
    CLAIM_LINKS,
    GOLD,
    AuditEvent,
    Claim,
    Document,
    Layer,
    Relation,
    Span,
    TokenArray,
    User,
    document_uid,
    utcnow,
)
from annotator.nlp.language import PENDING, UNDETERMINED_ISO, detect_language
from annotator.nlp.quantities import parsed_quantity
from annotator.problems import Problem
from annotator.schema.token_arrays import Tokenized, keep_arrays
from annotator.tokens import pack

GROUP = 2000  # documents per transaction
# ...when pre-highlighting: some seconds of work, all an interrupted import can lose
GROUP_PREHIGHLIGHTED = 200
# ...and a group of more new documents than this (one large file) spools its rows (spool.py)
SPOOL_AFTER = GROUP_PREHIGHLIGHTED
SPOOL_BATCH = GROUP_PREHIGHLIGHTED  # rows per batch written to, and read back from, a spool
CHUNK = 500  # ids per IN (...) lookup
ANALYZE_AFTER = 1000  # new documents after which PostgreSQL's statistics are refreshed
INSERT_CHUNK = 2000  # new documents per insert statement
DOCUMENT_COLUMNS = (
    "id",
    "uid",
    "source_id",
    "text",
    "lang",
    "lang_source",
    "title",
    "source",
    "meta",
    "n_chars",
    "tokens",
    "n_suggestions",
    "pipeline",
    "uncertainty",
    "created_at",
)
LAYER_COLUMNS = (
    "id",
    "document_id",
    "name",
    "kind",
    "user_id",
    "version",
    "status",
    "meta",
    "created_at",
    "updated_at",
)
# the items' fields (contents.py), with the layer and the time; a relation's and a claim's
# ids come from the database
SPAN_COLUMNS = ("layer_id", *(f for f in SPAN_FIELDS if f != "suggestion_id"), "created_at")
RELATION_COLUMNS = ("layer_id", *RELATION_FIELDS[1:], "created_at")
CLAIM_COLUMNS = ("layer_id", *CLAIM_FIELDS[1:], "created_at")
AUDIT_COLUMNS = ("at", "user", "action", "document_id", "layer_id", "target", "changes", "state", "before", "after")


@dataclass
class Target:
    """The layer a layer import writes, and how."""

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
    present: int = 0  # documents already in the project (a document import skips them)
    suggestions: int = 0
    layers: int = 0
    spans: int = 0
    relations: int = 0
    claims: int = 0
    unchanged: int = 0
    replaced: int = 0

    def add(self, other: Stored) -> None:
        for key, value in vars(other).items():
            setattr(self, key, getattr(self, key) + value)


class TextChanged(Exception):
    """A text let go of after reading (pipeline.Held) is no longer in its file as read."""

    def __init__(self, where: str, uid: str):
        super().__init__(where, uid)
        self.where, self.uid = where, uid

    @property
    def problem(self) -> Problem:
        return Problem(
            self.where,
            None,
            f"the file changed or went away during this import: the text of document {self.uid} is no "
            "longer there as it was read; nothing stored from here on (what was stored before stays), "
            "run the import again",
        )


def text_of(doc: Incoming) -> str:
    """The document's text, read again from its file where the import let go of it."""
    if doc.text is None:
        text = read_again(doc.text_at) if doc.text_at is not None else None
        if text is None or document_uid(text) != doc.uid:
            raise TextChanged(doc.where, doc.uid)
        doc.text = text
    return doc.text


def _let_go(docs: list[Incoming]) -> None:
    """Stored documents' texts, let go of where they can be read again (nothing needs them)."""
    for doc in docs:
        if doc.text_at is not None:
            doc.text = None


class Interrupted(KeyboardInterrupt):
    """Ctrl+C during a store: what the finished transactions stored, and their problems."""

    def __init__(self, stored: Stored, problems: list[Problem]):
        super().__init__()
        self.stored, self.problems = stored, problems


def store(
    db,
    docs: list[Incoming],
    labels: LabelConfig,
    target: Target | None = None,
    prehighlighter=None,
    progress: Callable[[int], None] | None = None,
    settle: bool = True,
    pool=None,
    highlighters=None,
) -> tuple[Stored, list[Problem]]:
    """Store `docs` a group per transaction. Pre-highlighting streams over the whole import
    (one set of workers: `highlighters` where forked ahead, Prehighlighter.workers_ahead)
    while groups are committed as their documents come back, so an interrupted import keeps
    every finished group and a re-run skips what is stored. Without it new documents are
    settled (`settle`; else left for first use), by the workers of `pool` where given
    (first_use.settling_pool)."""
    stored, problems = Stored(), []
    present = present_uids(db, [d.uid for d in docs])
    fresh = [d for d in docs if d.uid not in present]
    # A language is detected here (as each document is first needed) unless the settling
    # workers detect it (below). --tokenize-later leaves the tokens for first use, not the
    # language: a change of language then would index each text in the search table twice
    # (its language is a facet there, migration 0014)
    workers_detect = settle and not prehighlighter and target is None
    langs_of = _Languages(fresh, detect=not workers_detect)
    highlights = (
        prehighlighter.run(((text_of(d), langs_of[d.uid][0]) for d in fresh), highlighters)
        if prehighlighter and fresh
        else None
    )
    # Without the pipeline, new documents are settled (language, tokens) by workers on
    # every core from the start, while this process inserts those done: the first export
    # then finds nothing left to do.
    settle = settle and highlights is None and bool(fresh)
    try:
        with ExitStack() as stack:
            if highlights is not None:
                stack.enter_context(closing(highlights))
            flight = (
                stack.enter_context(
                    settling(db, ((d.uid, text_of(d), *langs_of[d.uid]) for d in fresh), len(fresh), pool=pool)
                )
                if settle
                else None
            )
            # each document waits for its batch and goes in whole, written once: inserted
            # first and given its tokens after, a 10,000-document import took 1.2x as long
            # on either engine. SQLite's write lock is held while a group's documents are
            # settled, about as long as detecting their languages here held it before.
            taken = _Taken(flight) if flight is not None else None
            for group in _groups(docs, target is None, GROUP if highlights is None else GROUP_PREHIGHLIGHTED):
                new = [d for d in group if d.uid not in present]
                counted = progress if target is None else None
                if taken is not None:
                    parts = nullcontext(_settled_parts(taken, new, labels, target is None, counted))
                elif highlights is None:
                    parts = nullcontext(_unsettled_parts(new, labels, langs_of, target is None, counted))
                else:  # built before the transaction: the pipeline's results never hold the lock
                    parts = _built_ahead(new, labels, langs_of, highlights, target is None, counted)
                with parts as rows:
                    _store_group(db, group, rows, labels, target, stored, problems)
                _let_go(group)
                if progress:
                    progress(len(group) if target is not None else len(group) - len(new))
            refresh_statistics(db, stored.new_documents)
    except (TextChanged, SpoolFailed) as stopped:  # the groups stored before stay
        problems.append(stopped.problem)
    except KeyboardInterrupt as exc:
        raise Interrupted(stored, problems) from exc
    return stored, problems


def refresh_statistics(db, new_documents: int) -> None:
    """PostgreSQL: after an import that added many documents, have the planner learn the
    tables' new sizes now rather than at autovacuum's next round. Until then it takes the
    document table for a few rows, and answers "the next document" (every workspace page) by
    reading every later one: 110 ms at 100,000 documents instead of 1."""
    if new_documents < ANALYZE_AFTER or db.engine.dialect.name != "postgresql":
        return
    with db.writing() as session:
        for table in ("document", "suggestion", "tokenarray"):
            session.execute(text(f"ANALYZE {table}"))


class _Taken:
    """The new documents' settled results ((Settled, token array row or None) by uid), taken
    from the workers' flight in the import's order of new documents. A batch can straddle
    two parts: what the next part will want is kept until it asks."""

    def __init__(self, flight: Flight):
        self.flight = flight
        self.ready: dict[str, tuple] = {}

    def take(self, uids: list[str]) -> dict[str, tuple]:
        while any(uid not in self.ready for uid in uids):
            item = self.flight.next()
            if item is None:  # pragma: no cover - every new document was sent to be settled
                raise RuntimeError("a new document was never settled")
            for row, result in zip(*item):
                self.ready[row[1]] = result
        return {uid: self.ready.pop(uid) for uid in uids}


def _settled_parts(taken: _Taken, new: list[Incoming], labels, keep_contents: bool, progress) -> Iterator[list[dict]]:
    """The rows of a group's new documents, a settling batch at a time, each part once its
    documents are settled: consumed inside the group's transaction, so the inserts overlap
    the workers and each document is written once, whole."""

    def rows(part: list[Incoming]) -> list[dict]:
        settled = taken.take([d.uid for d in part])
        langs = [settled[d.uid][0][:2] for d in part]
        return _new_documents(part, labels, langs, None, keep_contents, progress, settled=settled)

    return _batched(new, rows)


def _unsettled_parts(new: list[Incoming], labels, langs_of, keep_contents: bool, progress) -> Iterator[list[dict]]:
    """The rows of a group's new documents left unsettled (--tokenize-later), a batch at a
    time inside the group's transaction (languages detected here, as the settled path waits
    for its workers there)."""
    return _batched(
        new, lambda part: _new_documents(part, labels, [langs_of[d.uid] for d in part], None, keep_contents, progress)
    )


def _batched(
    new: list[Incoming], rows: Callable[[list[Incoming]], list[dict]], size: int | None = None
) -> Iterator[list[dict]]:
    """`rows` of each batch of `new` (`size` documents, first_use.BATCH unless given), each
    batch's texts let go of once the consumer asks for the next (it has inserted or spooled
    this one): a file is one group, and its texts would otherwise all come back at once."""
    size = size or first_use.BATCH
    for start in range(0, len(new), size):
        part = new[start : start + size]
        yield rows(part)
        _let_go(part)


@contextmanager
def _built_ahead(new: list[Incoming], labels, langs_of, highlights, keep_contents: bool, progress):
    """The pre-highlighted rows of a group's new documents, all built before its transaction:
    in memory for a group of the usual size, in a spool (spool.py) for a larger one (a file of
    many records, which is never split), a batch at a time, each batch's texts let go of."""

    def built(part: list[Incoming]) -> list[dict]:
        return _new_documents(part, labels, [langs_of[d.uid] for d in part], highlights, keep_contents, progress)

    if len(new) <= SPOOL_AFTER:
        yield [built(new)]
        return
    where = Counter(d.source for d in new).most_common(1)[0][0]  # the large file (a group may begin with others)
    with Spool(where) as spool:
        for rows in _batched(new, built, SPOOL_BATCH):
            spool.add(rows)
            del rows  # held here, a batch would live on while the next one is built
        yield spool.batches()


def _store_group(db, group, parts, labels, target, stored: Stored, problems: list[Problem]) -> None:
    """One transaction: the group's new documents (`parts`: lists of their rows), and with
    `target` its layers."""
    done, refused = Stored(), []
    try:
        with db.writing() as session:
            conn = session.connection()
            if target is None:
                ids = _insert_new(conn, [d.uid for d in group], parts, done)
                done.present = len(group) - len(ids)
            else:
                _store_layers(conn, group, parts, target, labels, done, refused)
        stored.add(done)
        problems += refused
    except IntegrityError:  # PostgreSQL: another writer stored some of these rows meanwhile
        what = "this document" if target is None else f"layer {target.layer!r} of document"
        problems += [
            Problem(
                d.where,
                None,
                f"{what} {d.uid} was written by someone else during this import; "
                "nothing stored for this group, run it again",
            )
            for d in group
        ]


def _groups(docs: list[Incoming], by_file: bool, size: int) -> Iterator[list[Incoming]]:
    """Groups of about `size` documents; with `by_file`, a file's documents are never split."""
    group: list[Incoming] = []
    for doc in docs:
        if len(group) >= size and (not by_file or doc.source != group[-1].source):
            yield group
            group = []
        group.append(doc)
    if group:
        yield group


def _lookup(conn, column, values) -> dict:
    found, ordered = {}, sorted(set(values))
    for i in range(0, len(ordered), CHUNK):
        rows = conn.execute(select(column, Document.id).where(column.in_(ordered[i : i + CHUNK])))
        found.update((value, doc_id) for value, doc_id in rows)
    return found


def present_uids(db, uids: list[str]) -> set[str]:
    """Which of these texts the project has already."""
    with db.reading() as session:
        return set(_lookup(session.connection(), Document.uid, uids))


def source_id_problems(db, docs: list[Incoming]) -> list[Problem]:
    """A source id names one text: two texts of one import that bring the same id, or an id
    the project has for another text (as a document's id or its source id), are refused;
    storing would put annotations on the wrong text, or make the id name two documents."""
    by_id: dict[str, list[Incoming]] = {}
    for doc in docs:
        if doc.claimed_id:
            by_id.setdefault(doc.claimed_id, []).append(doc)
    problems = []
    for sid, group in by_id.items():
        texts = {d.uid for d in group}
        if len(texts) > 1:
            problems += [
                Problem(
                    d.where,
                    None,
                    f"id {sid!r} is given to {len(texts)} different texts in this import "
                    f"(also at {', '.join(o.where for o in group if o.uid != d.uid)})",
                )
                for d in group
            ]
    with db.reading() as session:
        conn = session.connection()
        ids = sorted(by_id)
        owners = {}
        for column in (Document.source_id, Document.uid):
            for i in range(0, len(ids), CHUNK):
                rows = conn.execute(select(column, Document.uid).where(column.in_(ids[i : i + CHUNK])))
                owners.update((value, uid) for value, uid in rows)
    for sid, owner in sorted(owners.items()):
        for doc in by_id[sid]:
            if owner != doc.uid:
                problems.append(
                    Problem(
                        doc.where,
                        None,
                        f"id {sid!r} is a document of the project with a different "
                        "text; the annotations cannot be placed on it (fix the id or "
                        "the text)",
                    )
                )
    return problems


# --- new documents ----------------------------------------------------------------------------


class _Languages:
    """{uid: (lang, lang_source)} of new documents (see _languages), each worked out when
    first asked for, so detecting languages here runs alongside the workers."""

    def __init__(self, docs: list[Incoming], detect: bool):
        self._docs, self._detect, self._found = {d.uid: d for d in docs}, detect, {}

    def __getitem__(self, uid: str) -> tuple[str, str]:
        found = self._found.get(uid)
        if found is None:
            found = self._found[uid] = _languages([self._docs[uid]], self._detect)[0]
        return found


def _languages(docs: list[Incoming], detect: bool) -> list[tuple[str, str]]:
    """(lang, lang_source) per document; unless `detect`, a language nobody gave is left for
    the workers that settle the tokens before the document goes in (see store)."""
    return [
        (d.lang, d.lang_source)
        if d.lang
        else (detect_language(text_of(d)), "detected")
        if detect
        else (UNDETERMINED_ISO, PENDING)
        for d in docs
    ]


def _new_documents(
    docs: list[Incoming],
    labels: LabelConfig,
    langs: list[tuple[str, str]],
    highlights: Iterator | None,
    keep_contents: bool,
    progress=None,
    settled: dict[str, tuple] | None = None,
) -> list[dict]:
    """Rows for documents not in the project yet, each with its suggestions: the next of
    `highlights` for each (None: not pre-highlighted). `keep_contents`: the file's spans
    become suggestions. `settled`: the workers' (Settled, token array row) by uid, whose
    languages `langs` gives."""
    rows = []
    for doc, (lang, lang_source) in zip(docs, langs):
        text_of(doc)
        hl = next(highlights) if highlights is not None else None
        suggestions = [_imported(s, doc.text, lang, labels) for s in doc.contents.spans] if keep_contents else []
        claims, relations = (
            (_shifted(hl.claims, len(suggestions)), _shifted(hl.relations, len(suggestions))) if hl else ([], [])
        )
        suggestions += hl.suggestions if hl else []
        rows.append(
            {
                "uid": doc.uid,
                "source_id": doc.source_id,
                "text": doc.text,
                "lang": lang,
                "lang_source": lang_source,
                "title": doc.title,
                "source": doc.source or None,
                "meta": doc.meta,
                "n_chars": len(doc.text),
                "tokens": pack(hl.tokens) if hl else None,
                "n_suggestions": len(suggestions),
                "pipeline": hl.pipeline if hl else None,
                "uncertainty": hl.uncertainty if hl else None,
                "suggestions": suggestions,
                "claims": claims,
                "relations": relations,
            }
        )
        if settled:
            done, rows[-1]["array"] = settled[doc.uid]
            rows[-1]["tokens"] = done.tokens
        if progress:
            progress(1)
    return rows


_POSITIONS = ("quantity", "entity", "property", "condition", "head", "child")


def _shifted(items: list[dict], by: int) -> list[dict]:
    """Claims or relations naming suggestions by position, after `by` imported ones."""
    return [{k: (v + by if k in _POSITIONS and v is not None else v) for k, v in item.items()} for item in items]


def _imported(span, text: str, lang: str, labels: LabelConfig) -> dict:
    """A pre-annotation brought by the file; quantities get their value parsed like ours,
    in the document's language."""
    row = {"start": span.start, "end": span.end, "label": span.label, "origin": "import", "pipeline": "import"}
    if span.label == labels.quantity_label:
        row.update(parsed_quantity(text[span.start : span.end], lang))
    return row


def _insert_new(conn, uids: list[str], parts, stored: Stored, now=None) -> dict[str, int]:
    """Insert new documents (`uids`, whose rows `parts` gives a list at a time) and their
    suggestions, at most INSERT_CHUNK to a statement; {uid: id} of those inserted (counted
    in `stored`).

    Another import may have stored some of these texts since they were looked up; under the
    write lock that is settled here, before the first insert (the planner's statistics do
    not know this transaction's rows), so a race skips them instead of failing."""
    raced = set(_lookup(conn, Document.uid, uids))
    inserted: dict[str, int] = {}
    for rows in parts:
        for start in range(0, len(rows), INSERT_CHUNK):
            part = rows[start : start + INSERT_CHUNK]
            ids = _insert_rows(conn, [row for row in part if row["uid"] not in raced], stored, now)
            inserted.update(ids)
    return inserted


def _insert_rows(conn, rows: list[dict], stored: Stored, now) -> dict[str, int]:
    if not rows:
        return {}
    table = Document.__table__
    stamp = bound(conn, table.c.created_at, now or utcnow())
    ids = new_ids(conn, table, len(rows))
    insert_rows(
        conn,
        table,
        DOCUMENT_COLUMNS,
        [
            (doc_id, *(json_text(r[c]) if c == "meta" else r[c] for c in DOCUMENT_COLUMNS[1:-1]), stamp)
            for doc_id, r in zip(ids, rows)
        ],
        staged=True,  # one statement into the search index's trigger, not one per row
    )
    # arrays made by the settling workers come with their rows; pre-highlighted rows' are made here
    made = [{**r["array"], "document_id": doc_id} for doc_id, r in zip(ids, rows) if r.get("array")]
    if made:
        conn.execute(insert(TokenArray.__table__), made)
    keep_arrays(
        conn, [Tokenized(doc_id, r["uid"], r["text"], r["tokens"]) for doc_id, r in zip(ids, rows) if "array" not in r]
    )
    stored.suggestions += insert_suggestions(conn, list(zip(ids, rows)))
    stored.new_documents += len(rows)
    return {r["uid"]: doc_id for doc_id, r in zip(ids, rows)}


# --- layers -----------------------------------------------------------------------------------


def _store_layers(
    conn,
    docs: list[Incoming],
    fresh,
    target: Target,
    labels: LabelConfig,
    stored: Stored,
    problems: list[Problem],
) -> None:
    now = utcnow()
    doc_ids = _insert_new(conn, [d.uid for d in docs], fresh, stored, now)
    known = {
        uid: (doc_id, lang)
        for uid, doc_id, lang in conn.execute(
            select(Document.uid, Document.id, Document.lang).where(Document.uid.in_([d.uid for d in docs]))
        )
    }
    missing = [d for d in docs if d.uid not in known]  # stored by another import, then removed: rare
    if missing:
        extra = _new_documents(missing, labels, _languages(missing, detect=True), None, keep_contents=False)
        doc_ids.update(_insert_new(conn, [r["uid"] for r in extra], [extra], stored, now))
        known.update((r["uid"], (doc_ids[r["uid"]], r["lang"])) for r in extra)
    for doc in docs:
        _fill_quantities(doc, known[doc.uid][1])
    layers = {
        row.document_id: row
        for row in conn.execute(
            select(Layer.id, Layer.document_id, Layer.version, Layer.status, Layer.meta).where(
                Layer.document_id.in_([known[d.uid][0] for d in docs]), Layer.name == target.layer
            )
        )
    }
    before = held(conn, {row.id: row.meta for row in layers.values()})
    keep, replaced, marked = [], {}, []
    for doc in docs:
        layer = layers.get(known[doc.uid][0])
        old = before.get(layer.id) if layer else None
        if old is None or (layer.version == 0 and not old.contents.spans):
            keep.append(doc)  # a new layer, or an empty one nobody has written (an assignment)
        elif old.fingerprint == doc.contents.fingerprint(doc.layer_meta or None):
            stored.unchanged += 1
            if target.status and layer.status != target.status:
                marked.append((layer.id, target.status))
        elif target.replace:
            keep.append(doc)
            replaced[layer.id] = old.record(labels.quantity_label)
        else:
            n = old.contents.counts()
            problems.append(
                Problem(
                    doc.where,
                    None,
                    f"document {doc.uid} already has annotations in layer "
                    f"{target.layer!r} ({n['spans']} spans, {n['relations']} relations, "
                    f"{n['claims']} claims) that differ from this file's; nothing stored for it "
                    "(use --replace to replace them wholly)",
                )
            )
    _bump(conn, marked, now)
    if keep:
        clear(conn, list(replaced))
        stored.replaced += len(replaced)
        ids = {doc.uid: known[doc.uid][0] for doc in keep}
        _write(conn, keep, ids, layers, replaced, target, now, stored)


def _fill_quantities(doc: Incoming, lang: str) -> None:
    """Value, unit and qualifier of the QUANTITY spans that came without them."""
    for span in doc.contents.spans:
        if span.parse:
            for key, value in parsed_quantity(text_of(doc)[span.start : span.end], lang).items():
                setattr(span, key, value)
            span.parse = False


def _write(conn, docs, doc_ids, layers, replaced: dict, target: Target, now, stored: Stored) -> None:
    """The documents' layers, spans, relations, claims and audit events."""
    layer_ids = _layers_for(conn, docs, doc_ids, layers, target, now)
    stamp = bound(conn, Span.__table__.c.created_at, now)  # one timestamp for every row, bound once
    span_ids = _insert_spans(conn, docs, layer_ids, stamp)
    rel_rows = [
        (
            layer_ids[doc.uid],
            span_ids[doc.uid, r.head_id],
            span_ids[doc.uid, r.child_id],
            r.label,
            json_text(r.meta or {}),
            stamp,
        )
        for doc in docs
        for r in doc.contents.relations
    ]
    claim_rows = [
        _claim_row(c, doc.uid, layer_ids[doc.uid], span_ids, stamp) for doc in docs for c in doc.contents.claims
    ]
    insert_rows(conn, Relation.__table__, RELATION_COLUMNS, rel_rows)
    insert_rows(conn, Claim.__table__, CLAIM_COLUMNS, claim_rows)
    status = {"status": target.status} if target.status else {}
    insert_rows(
        conn,
        AuditEvent.__table__,
        AUDIT_COLUMNS,
        [
            (
                stamp,
                target.user,
                "import_layer",
                doc_ids[doc.uid],
                layer_ids[doc.uid],
                f"layer:{target.layer}",
                "null",
                None,
                json_text(replaced.get(layer_ids[doc.uid])),
                json_text(
                    {
                        "format": target.fmt,
                        "sources": doc.sources[:20],
                        **doc.contents.counts(),
                        "replaced": layer_ids[doc.uid] in replaced,
                        **status,
                    }
                ),
            )
            for doc in docs
        ],
    )
    stored.layers += len(docs)
    stored.spans += len(span_ids)
    stored.relations += len(rel_rows)
    stored.claims += len(claim_rows)


def _layers_for(conn, docs, doc_ids, layers, target: Target, now) -> dict[str, int]:
    """Layer id per document uid: existing layers get a new version, missing ones are created."""
    out: dict[str, int] = {}
    user_id = (
        conn.execute(select(User.id).where(User.name == target.layer)).scalar() if target.kind == "annotator" else None
    )
    new, bumps = [], []
    for doc in docs:
        layer = layers.get(doc_ids[doc.uid])
        if layer is None:
            new.append(doc)
        else:
            out[doc.uid] = layer.id
            bumps.append((layer.id, target.status or ("in_progress" if layer.status == "todo" else layer.status)))
    _bump(conn, bumps, now)
    if bumps:  # the contents are the file's now, and so is what the layer keeps of where they came from
        conn.execute(
            update(Layer.__table__).where(Layer.__table__.c.id == bindparam("layer_pk")).values(meta=bindparam("m")),
            [{"layer_pk": out[doc.uid], "m": doc.layer_meta or None} for doc in docs if doc.uid in out],
        )
    table = Layer.__table__
    ids, stamp, status = new_ids(conn, table, len(new)), bound(conn, table.c.created_at, now), target.status
    insert_rows(
        conn,
        table,
        LAYER_COLUMNS,
        [
            (
                layer_id,
                doc_ids[doc.uid],
                target.layer,
                target.kind,
                user_id,
                1,
                status or "in_progress",
                json_text(doc.layer_meta or None),
                stamp,
                stamp,
            )
            for layer_id, doc in zip(ids, new)
        ],
    )
    out.update((doc.uid, layer_id) for layer_id, doc in zip(ids, new))
    return out


def _bump(conn, layers: list[tuple[int, str]], now) -> None:
    """New version and status of existing layers: a page open on one of them must see its
    next save refused as stale."""
    if not layers:
        return
    table = Layer.__table__
    conn.execute(
        update(table)
        .where(table.c.id == bindparam("layer_pk"))
        .values(version=table.c.version + 1, updated_at=now, status=bindparam("new_status")),
        [{"layer_pk": layer_id, "new_status": status} for layer_id, status in layers],
    )


def _insert_spans(conn, docs, layer_ids, stamp) -> dict[tuple, int]:
    """Span rows, ids drawn up front; {(document uid, span id in the file): row id} for
    relations and claims."""
    ids = iter(new_ids(conn, Span.__table__, sum(len(doc.contents.spans) for doc in docs)))
    found, rows = {}, []
    for doc in docs:
        layer_id, uid = layer_ids[doc.uid], doc.uid
        for s in doc.contents.spans:
            span_id = found[uid, s.id] = next(ids)
            rows.append(
                (
                    layer_id,
                    span_id,
                    s.start,
                    s.end,
                    s.label,
                    "import",
                    s.value,
                    s.value_max,
                    s.tolerance,
                    s.unit,
                    s.qualifier,
                    json_text(s.meta or {}),
                    stamp,
                )
            )
    insert_rows(conn, Span.__table__, SPAN_COLUMNS, rows)
    return found


def _claim_row(claim, uid: str, layer_id: int, span_ids: dict, stamp) -> tuple:
    refs = [
        span_ids[uid, getattr(claim, key)] if getattr(claim, key) is not None else None
        for key in ("quantity_id", *CLAIM_LINKS)
    ]
    return (
        layer_id,
        *refs,
        claim.property_text,
        json_text(sorted(set(claim.modifiers or []))),
        json_text(claim.meta or {}),
        stamp,
    )
