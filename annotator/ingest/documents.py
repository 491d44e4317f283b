"""`annotator import`: read files, pre-highlight what is new, store it in bulk.

Each file is checked whole before anything is stored (see reading.py). New documents are
pre-highlighted in one batched nlp.pipe stream and written with bulk INSERTs, a
transaction per group of whole files, so a refused or interrupted file never leaves part
of itself behind. Documents imported without pre-highlighting get their tokens on first use.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from typing import Callable, Iterable

from sqlalchemy import bindparam, insert, select

from annotator.db import Database
from annotator.labels import LabelConfig
from annotator.models import QUANTITY_FIELDS, Document, Suggestion
from annotator.nlp.language import PENDING, UNDETERMINED_ISO, detect_language
from annotator.formats.text import FileRead, Incoming, Problem, collect_paths, read_file
from annotator.token_arrays import Tokenized, keep_arrays
from annotator.tokens import pack

FLUSH_DOCUMENTS = 2000  # documents per transaction (always whole files)
LOOKUP_CHUNK = 500


@dataclass
class ImportReport:
    files: int = 0
    new: int = 0
    present: int = 0
    suggestions: int = 0
    refused_files: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    skipped_records: int = 0

    @property
    def ok(self) -> bool:
        return not self.problems

    def summary(self) -> str:
        if self.new == 0 and self.present and not self.problems:
            return f"Nothing new: all {self.present} documents are already in the project."
        parts = [f"Imported {self.new} new document{'s' * (self.new != 1)} from {self.files} file{'s' * (self.files != 1)}"]
        if self.present:
            parts.append(f"{self.present} already present (skipped)")
        parts.append(f"{self.suggestions} suggestions")
        if self.refused_files:
            parts.append(f"{len(self.refused_files)} file(s) refused, nothing stored from them")
        if self.skipped_records:
            parts.append(f"{self.skipped_records} invalid record(s) skipped")
        return "; ".join(parts) + "."


ProgressFn = Callable[[int], None]


def import_paths(db: Database, paths: list[str], labels: LabelConfig, prehighlighter=None,
                 skip_invalid: bool = False, on_total: Callable[[int], None] | None = None,
                 progress: ProgressFn | None = None) -> ImportReport:
    report = ImportReport()
    files, problems = collect_paths(paths)
    report.problems.extend(problems)
    accepted: list[FileRead] = []
    for path in files:
        read = read_file(path, labels)
        report.files += 1
        if read.problems and not (skip_invalid and read.records):
            report.refused_files.append(read.path)
            report.problems.extend(read.problems)
            continue
        if read.problems:
            report.skipped_records += len(read.problems)
            report.problems.extend(read.problems)
        accepted.append(read)
    groups = list(_new_records(db, accepted, report))
    total = sum(len(g) for g in groups)
    if on_total:
        on_total(total)
    for group in groups:
        stored, suggestions = _store(db, group, labels, prehighlighter, progress)
        report.new += stored
        report.present += len(group) - stored
        report.suggestions += suggestions
    return report


def _new_records(db: Database, reads: list[FileRead], report: ImportReport) -> Iterable[list[Incoming]]:
    """Drop documents already stored (or repeated in this import); group whole files."""
    all_records = [r for read in reads for r in read.records]
    present = _existing_uids(db, {r.uid for r in all_records})
    seen: set[str] = set()
    group: list[Incoming] = []
    for read in reads:
        fresh = []
        for record in read.records:
            if record.uid in present or record.uid in seen:
                report.present += 1
                continue
            seen.add(record.uid)
            fresh.append(record)
        if group and len(group) + len(fresh) > FLUSH_DOCUMENTS:
            yield group
            group = []
        group.extend(fresh)
    if group:
        yield group


def _existing_uids(db: Database, uids: set[str]) -> set[str]:
    found: set[str] = set()
    ordered = sorted(uids)
    with db.reading() as session:
        for i in range(0, len(ordered), LOOKUP_CHUNK):
            chunk = ordered[i:i + LOOKUP_CHUNK]
            found.update(session.exec(select(Document.uid).where(Document.uid.in_(chunk))).scalars())
    return found


def _store(db: Database, records: list[Incoming], labels: LabelConfig, prehighlighter,
           progress: ProgressFn | None) -> tuple[int, int]:
    """Store new documents and their suggestions; (documents stored, suggestions stored)."""
    # Without the pipeline nothing needs the language yet: like tokens, it is detected on
    # first use (export, show, annotation), which keeps bulk imports at storage speed.
    langs = [(r.lang, "import") if r.lang else
             (detect_language(r.text), "detected") if prehighlighter else (UNDETERMINED_ISO, PENDING)
             for r in records]
    highlights = (prehighlighter.run((r.text, lang) for r, (lang, _) in zip(records, langs))
                  if prehighlighter else [None] * len(records))
    doc_rows, suggestion_rows = [], []
    for record, (lang, lang_source), hl in zip(records, langs, highlights):
        rows = [imported_suggestion(s, record.text, lang, labels) for s in record.spans]
        rows += hl.suggestions if hl else []
        suggestion_rows.append(rows)
        doc_rows.append({
            "uid": record.uid, "text": record.text, "lang": lang, "lang_source": lang_source,
            "title": record.title, "source": record.source or None, "meta": record.meta,
            "n_chars": len(record.text), "tokens": pack(hl.tokens) if hl else None,
            "n_suggestions": len(rows), "pipeline": hl.pipeline if hl else None,
        })
        if progress:
            progress(1)
    # Core inserts on the tables, not ORM bulk inserts: the ORM splits a bulk insert
    # wherever consecutive rows leave different columns None (a QUANTITY row between
    # two ORG rows), which here meant one INSERT statement per suggestion or two.
    with db.writing() as session:
        conn = session.connection()
        # Another import may have stored some of these texts since they were looked up;
        # under the write lock that is settled here, so a race skips them instead of failing.
        raced = _present(conn, [row["uid"] for row in doc_rows])
        if raced:
            kept = [i for i, row in enumerate(doc_rows) if row["uid"] not in raced]
            doc_rows, suggestion_rows = [doc_rows[i] for i in kept], [suggestion_rows[i] for i in kept]
        ids = _insert_documents(conn, doc_rows) if doc_rows else []
        keep_arrays(conn, [Tokenized(doc_id, row["uid"], row["text"], row["tokens"])
                           for doc_id, row in zip(ids, doc_rows)])  # tokens come with their array
        flat = [_suggestion_row(doc_id, s) for doc_id, rows in zip(ids, suggestion_rows) for s in rows]
        if flat:
            _insert_suggestions(conn, flat)
    return len(doc_rows), len(flat)


def _present(conn, uids: list[str]) -> set[str]:
    table = Document.__table__
    found: set[str] = set()
    for i in range(0, len(uids), LOOKUP_CHUNK):
        found.update(conn.execute(select(table.c.uid).where(table.c.uid.in_(uids[i:i + LOOKUP_CHUNK]))).scalars())
    return found


def _insert_documents(conn, rows: list[dict]) -> list[int]:
    """Insert documents; their new ids, in the order of `rows`.

    A plain executemany, then the ids looked up by uid (unique, and these rows are ours
    under the write lock): RETURNING in parameter order made SQLAlchemy send one INSERT
    per row on SQLite, and unordered RETURNING still costs more than the lookup.
    """
    table = Document.__table__
    conn.execute(insert(table), rows)
    uids = [row["uid"] for row in rows]
    by_uid: dict[str, int] = {}
    for i in range(0, len(uids), LOOKUP_CHUNK):
        chunk = uids[i:i + LOOKUP_CHUNK]
        by_uid.update((uid, doc_id) for doc_id, uid in conn.execute(select(table.c.id, table.c.uid)
                                                                      .where(table.c.uid.in_(chunk))))
    return [by_uid[uid] for uid in uids]


SUGGESTION_FIELDS = ("start", "end", "label", "origin", "pipeline", "pipeline_version", "score",
                     "value", "value_max", "tolerance", "unit", "qualifier")
SUGGESTION_ROW = ("document_id", *SUGGESTION_FIELDS)


def _suggestion_row(document_id: int, suggestion: dict) -> tuple:
    """A row of SUGGESTION_ROW's columns: executemany needs every row to name the same ones."""
    return (document_id, *map(suggestion.get, SUGGESTION_FIELDS))


def _insert_suggestions(conn, rows: list[tuple]) -> None:
    """One executemany handed straight to the driver, in its own parameter style.

    These columns are numbers and strings that need no conversion, and SQLAlchemy's
    per-row parameter processing was about a third of inserting the 30,000 suggestions of
    a 10,000-record import.
    """
    statement = insert(Suggestion.__table__).compile(dialect=conn.dialect, column_keys=list(SUGGESTION_ROW))
    if statement.positional:
        order = [SUGGESTION_ROW.index(key) for key in statement.positiontup]
        params = rows if order == list(range(len(order))) else [tuple(row[i] for i in order) for row in rows]
    else:
        params = [dict(zip(SUGGESTION_ROW, row)) for row in rows]
    conn.exec_driver_sql(statement.string, params)


def imported_suggestion(span: dict, text: str, lang: str, labels: LabelConfig) -> dict:
    """A pre-annotation brought by the file; quantities get their value parsed like ours."""
    row = {"start": span["start"], "end": span["end"], "label": span["label"], "origin": "import",
           "pipeline": "import"}
    if span["label"] == labels.quantity_label:
        row.update(zip(QUANTITY_FIELDS, parsed_quantity(text[span["start"]:span["end"]], lang)))
    return row


def reparse_imported_quantities(session, langs: dict[int, str], quantity_label: str) -> int:
    """Parse again, in the language now settled, the imported QUANTITY suggestions of
    documents whose language was left for first use: "10.000" is ten thousand in
    Portuguese and ten in English, so a value parsed before detection can be wrong."""
    if not langs:
        return 0
    conn = session.connection()
    rows = conn.execute(select(Suggestion.id, Suggestion.document_id, Suggestion.start, Suggestion.end)
                        .where(Suggestion.document_id.in_(list(langs)), Suggestion.origin == "import",
                               Suggestion.label == quantity_label)).all()
    texts = dict(conn.execute(select(Document.id, Document.text)
                              .where(Document.id.in_({r.document_id for r in rows}))).all()) if rows else {}
    table = Suggestion.__table__
    values = [{"sid": r.id, **dict(zip(QUANTITY_FIELDS, parsed_quantity(texts[r.document_id][r.start:r.end],
                                                                           langs[r.document_id])))}
              for r in rows]
    if values:
        session.connection().execute(table.update().where(table.c.id == bindparam("sid"))
                                     .values({k: bindparam(k) for k in QUANTITY_FIELDS}), values)
    return len(values)


@lru_cache(maxsize=4096)
def parsed_quantity(text: str, lang: str) -> tuple:
    """QUANTITY_FIELDS of one quantity's text. Cached: imported quantities repeat ("25",
    "2024", "10 GB"; the bulk import benchmark's 10,000 are 1,291 texts) and parsing one
    costs ~30 us. A tuple, so no caller can change what the next one gets."""
    from annotator.nlp.quantities import normalise

    parsed = normalise(text, lang) or {}
    return tuple(parsed.get(k) for k in QUANTITY_FIELDS)
