"""Every table of a project database.

A document is machine-suggested once (Suggestion rows, never edited) and annotated in
layers: one layer per annotator per document, plus the curated "gold" layer. Spans,
relations and claims belong to a layer. Offsets are Python code points, end exclusive.
"""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, Column, ForeignKey, Index, Integer, LargeBinary, Text, UniqueConstraint, case, or_, select
from sqlmodel import Field, SQLModel

from annotator.labels import CLAIM_ROLES

# A person's name, and so the name of their layer: 1-64 letters, digits, '.', '_' or '-',
# starting with a letter or digit. Names are unique without regard to case ("ANN1" is ann1).
PERSON_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")

GOLD = "gold"
SUGGESTIONS = "suggestions"
RESERVED_LAYER_NAMES = {GOLD, SUGGESTIONS}

ORIGINS = ("model", "pattern", "gazetteer", "import", "manual")
LAYER_STATUSES = ("todo", "in_progress", "done", "skipped")


def utcnow() -> datetime:
    return datetime.now(UTC)


def fk(target: str, ondelete: str = "CASCADE", nullable: bool = False, index: bool = True) -> Any:
    return Field(
        default=None,
        sa_column=Column(Integer, ForeignKey(target, ondelete=ondelete), nullable=nullable, index=index),
    )


ROLES = ("annotator", "curator", "admin")


class User(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=64, unique=True, index=True)
    role: str = Field(default="annotator", max_length=16)
    password_hash: str | None = Field(default=None, max_length=255)
    active: bool = Field(default=True)
    created_at: datetime = Field(default_factory=utcnow)
    last_login_at: datetime | None = None
    # Bumped by logout, a new password, deactivation and a role change: a session cookie
    # names the generation it was issued under, and one from an older generation loads no user.
    session_generation: int = Field(default=0)


class LoginFailure(SQLModel, table=True):
    """A failed login, kept for throttling by account and by address across workers."""

    __table_args__ = (
        Index("ix_loginfailure_name_at", "name", "at"),
        Index("ix_loginfailure_address_at", "address", "at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow)
    name: str = Field(max_length=64)
    address: str = Field(max_length=64)


def document_uid(text: str) -> str:
    """A document's public id, derived from its text: equal texts are one document,
    whatever file they came from."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


class Document(SQLModel, table=True):
    # The list pages by id and by (lang, id): narrow indexes let SQLite skip pages without
    # stepping through rows that carry whole texts.
    __table_args__ = (
        Index("ix_document_id_order", "id"),
        Index("ix_document_lang_id", "lang", "id"),
        # the list of live (not archived) documents, by arrival and by title (migration 0010)
        Index("ix_document_live_id", "archived_at", "id", "lang"),
        Index("ix_document_live_title", "archived_at", "title", "id", "lang"),
    )

    # `id` orders documents by arrival and keys the joins; `uid` is the public id,
    # derived from the text, so importing the same text twice is a no-op.
    id: int | None = Field(default=None, primary_key=True)
    uid: str = Field(max_length=64, unique=True, index=True)
    # The id the document's record brought, if any (MeasEval's docId, a JSONL "id"): unique
    # in a project, so a document can be asked for by it.
    source_id: str | None = Field(default=None, max_length=200, unique=True, index=True)
    text: str = Field(sa_column=Column(Text, nullable=False))
    lang: str = Field(max_length=16)
    lang_source: str = Field(default="detected", max_length=16)  # detected | import
    title: str = Field(default="", max_length=500)
    source: str | None = Field(default=None, max_length=1000)
    meta: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    n_chars: int = Field(default=0)
    # Token boundaries packed as little-endian uint32 pairs; filled at import (by the pipeline,
    # or by settling without it) or, for a document left waiting (--tokenize-later), on first use.
    tokens: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))
    n_suggestions: int = Field(default=0)
    pipeline: str | None = Field(default=None, max_length=200)
    # How unsure the trained model that last suggested for it was (0 sure .. 1 unsure);
    # assignments can hand out the least sure first. None: no model has read it.
    uncertainty: float | None = None
    created_at: datetime = Field(default_factory=utcnow)
    # Set while the document is archived: hidden from the list until restored.
    archived_at: datetime | None = None
    archived_by: str | None = Field(default=None, max_length=64)


def uid_for_key(key: str):
    """The uid of the document a user's id names: its own uid, or else the id its source
    record brought (`annotator show h-emoji`). A uid wins over an equal source id."""
    named = or_(Document.uid == key, Document.source_id == key)
    return select(Document.uid).where(named).order_by(case((Document.uid == key, 0), else_=1)).limit(1)


class TokenArray(SQLModel, table=True):
    """A document's token array as exported records carry it, made and validated once when
    its tokens were stored (see schema/token_arrays.py); `seal` binds it to those tokens and to
    the schema it passed."""

    document_id: int | None = Field(
        default=None, sa_column=Column(Integer, ForeignKey("document.id", ondelete="CASCADE"), primary_key=True)
    )
    schema_sha256: str = Field(max_length=64)
    seal: str = Field(max_length=64)
    data: bytes = Field(sa_column=Column(LargeBinary, nullable=False))


# The columns a QUANTITY span or suggestion carries beyond its offsets and label.
QUANTITY_FIELDS = ("value", "value_max", "tolerance", "unit", "qualifier")
# The claim's columns are its parts' names (labels.CLAIM_ROLES) with "_id"; these are the
# optional ones.
CLAIM_LINKS = tuple(f"{role}_id" for role in CLAIM_ROLES[1:])


class Suggestion(SQLModel, table=True):
    """Machine output (pre-highlight or an import's pre-annotation). Never edited in place."""

    # the list's label filter; what the workspace reads of a document's pending suggestions,
    # from the index alone (migration 0016); ids never reused (migration 0012), so a stale
    # page cannot name a new suggestion
    __table_args__ = (
        Index("ix_suggestion_label_document", "label", "document_id"),
        Index("ix_suggestion_document_label", "document_id", "label", "start", "end"),
        {"sqlite_autoincrement": True},
    )

    id: int | None = Field(default=None, primary_key=True)
    document_id: int = fk("document.id", index=False)  # ix_suggestion_document_label leads with it
    start: int
    end: int
    label: str = Field(max_length=64)
    origin: str = Field(max_length=16)  # model | pattern | gazetteer | import
    pipeline: str | None = Field(default=None, max_length=200)
    pipeline_version: str | None = Field(default=None, max_length=64)
    score: float | None = None
    value: float | None = None
    value_max: float | None = None
    tolerance: float | None = None
    unit: str | None = Field(default=None, max_length=64)
    qualifier: str | None = Field(default=None, max_length=32)


class Layer(SQLModel, table=True):
    """One annotator's (or the gold) annotations of one document."""

    __table_args__ = (UniqueConstraint("document_id", "name", name="uq_layer_document_name"),)

    id: int | None = Field(default=None, primary_key=True)
    document_id: int = fk("document.id")
    name: str = Field(max_length=64, index=True)
    kind: str = Field(default="annotator", max_length=16)  # annotator | gold
    user_id: int | None = fk("user.id", ondelete="SET NULL", nullable=True)
    # Optimistic concurrency: a write names the version it saw and is refused if stale.
    version: int = Field(default=0)
    status: str = Field(default="todo", max_length=16)
    # Set when a curator assigned the document: the annotator's queue order and who assigned it.
    assigned_at: datetime | None = None
    assigned_by: str | None = Field(default=None, max_length=64)
    position: int | None = None
    # Where its contents came from, to give them back the same way: {"brat": {"sets": [...]}},
    # the annotation sets (brat files) of an import, empty ones included. None: nothing to keep.
    meta: dict | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class Span(SQLModel, table=True):
    __table_args__ = (
        UniqueConstraint("layer_id", "start", "end", "label", name="uq_span_layer_offsets_label"),
        Index("ix_span_label_layer", "label", "layer_id"),  # the list's label filter
    )

    id: int | None = Field(default=None, primary_key=True)
    layer_id: int = fk("layer.id")
    start: int
    end: int
    label: str = Field(max_length=64)
    origin: str = Field(default="manual", max_length=16)
    suggestion_id: int | None = fk("suggestion.id", ondelete="SET NULL", nullable=True, index=False)
    value: float | None = None
    value_max: float | None = None
    tolerance: float | None = None
    unit: str | None = Field(default=None, max_length=64)
    qualifier: str | None = Field(default=None, max_length=32)
    meta: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    created_at: datetime = Field(default_factory=utcnow)


class Relation(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    layer_id: int = fk("layer.id")
    head_id: int = fk("span.id")
    child_id: int = fk("span.id")
    label: str = Field(max_length=64)
    meta: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    created_at: datetime = Field(default_factory=utcnow)


class Claim(SQLModel, table=True):
    """A numeric claim, decomposed as MeasEval does (quantity / entity / property / qualifier).

    `condition_id` is MeasEval's Qualifier span (the circumstance under which the value
    holds), not the QUANTITY span's `qualifier` ("up to", "about").
    """

    id: int | None = Field(default=None, primary_key=True)
    layer_id: int = fk("layer.id")
    quantity_id: int = fk("span.id")
    entity_id: int | None = fk("span.id", ondelete="SET NULL", nullable=True, index=False)
    property_id: int | None = fk("span.id", ondelete="SET NULL", nullable=True, index=False)
    property_text: str | None = Field(default=None, max_length=500)
    condition_id: int | None = fk("span.id", ondelete="SET NULL", nullable=True, index=False)
    time_id: int | None = fk("span.id", ondelete="SET NULL", nullable=True, index=False)
    source_id: int | None = fk("span.id", ondelete="SET NULL", nullable=True, index=False)
    modifiers: list = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    meta: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    created_at: datetime = Field(default_factory=utcnow)


class SuggestionDecision(SQLModel, table=True):
    """An annotator's answer to one suggestion in their layer: accepted (as `span_id`) or
    rejected. Suggestions themselves stay untouched machine output."""

    __table_args__ = (UniqueConstraint("layer_id", "suggestion_id", name="uq_decision_layer_suggestion"),)

    id: int | None = Field(default=None, primary_key=True)
    layer_id: int = fk("layer.id")
    suggestion_id: int = fk("suggestion.id", index=False)
    decision: str = Field(max_length=16)  # accepted | rejected
    span_id: int | None = fk("span.id", ondelete="SET NULL", nullable=True, index=False)
    created_at: datetime = Field(default_factory=utcnow)


class ClaimSuggestion(SQLModel, table=True):
    """A suggested numeric claim: its quantity and parts are suggestions of the same document
    (a part a person rejects leaves the claim without it). Machine output, never edited."""

    __table_args__ = {"sqlite_autoincrement": True}  # ids never reused, as Suggestion's

    id: int | None = Field(default=None, primary_key=True)
    document_id: int = fk("document.id")
    quantity_id: int = fk("suggestion.id")
    entity_id: int | None = fk("suggestion.id", ondelete="SET NULL", nullable=True, index=False)
    property_id: int | None = fk("suggestion.id", ondelete="SET NULL", nullable=True, index=False)
    condition_id: int | None = fk("suggestion.id", ondelete="SET NULL", nullable=True, index=False)
    modifiers: list = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    origin: str = Field(max_length=16)  # pattern (the claim rules) | model
    pipeline: str | None = Field(default=None, max_length=200)
    pipeline_version: str | None = Field(default=None, max_length=64)
    score: float | None = None


class RelationSuggestion(SQLModel, table=True):
    """A suggested relation between two suggestions of one document."""

    __table_args__ = {"sqlite_autoincrement": True}  # ids never reused, as Suggestion's

    id: int | None = Field(default=None, primary_key=True)
    document_id: int = fk("document.id")
    head_id: int = fk("suggestion.id")
    child_id: int = fk("suggestion.id", index=False)
    label: str = Field(max_length=64)
    origin: str = Field(max_length=16)
    pipeline: str | None = Field(default=None, max_length=200)
    pipeline_version: str | None = Field(default=None, max_length=64)
    score: float | None = None


class LinkDecision(SQLModel, table=True):
    """An annotator's answer to a suggested claim or relation in their layer: accepted (as
    `claim_id` / `relation_id`) or rejected. Exactly one of the two suggestion ids is set."""

    __table_args__ = (
        UniqueConstraint("layer_id", "claim_suggestion_id", name="uq_linkdecision_layer_claim"),
        UniqueConstraint("layer_id", "relation_suggestion_id", name="uq_linkdecision_layer_relation"),
    )

    id: int | None = Field(default=None, primary_key=True)
    layer_id: int = fk("layer.id")
    claim_suggestion_id: int | None = fk("claimsuggestion.id", nullable=True, index=False)
    relation_suggestion_id: int | None = fk("relationsuggestion.id", nullable=True, index=False)
    decision: str = Field(max_length=16)  # accepted | rejected
    claim_id: int | None = fk("claim.id", ondelete="SET NULL", nullable=True, index=False)
    relation_id: int | None = fk("relation.id", ondelete="SET NULL", nullable=True, index=False)
    created_at: datetime = Field(default_factory=utcnow)


class GazetteerName(SQLModel, table=True):
    """A name someone confirmed and added to the gazetteer from the workspace: pre-highlighting
    finds it from then on, beside the gazetteer file's patterns."""

    __table_args__ = (UniqueConstraint("label", "text", name="uq_gazetteername_label_text"),)

    id: int | None = Field(default=None, primary_key=True)
    label: str = Field(max_length=64)
    text: str = Field(max_length=200)
    added_by: str = Field(max_length=64)
    document_id: int | None = fk("document.id", ondelete="SET NULL", nullable=True, index=False)
    created_at: datetime = Field(default_factory=utcnow)


class ModelVersion(SQLModel, table=True):
    """A model `annotator train` made, kept with its figures; one at most is active, and
    pre-highlighting and ordering by need use that one."""

    __table_args__ = (UniqueConstraint("name", "version", name="uq_modelversion_name_version"),)

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=100)
    version: str = Field(max_length=64)
    path: str = Field(max_length=1000)
    lang: str = Field(default="xx", max_length=16)
    layer: str = Field(max_length=64)
    metrics: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    meta: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    active: bool = Field(default=False)
    created_at: datetime = Field(default_factory=utcnow)


class AuditEvent(SQLModel, table=True):
    """Who did what to which document, when, with the state before and after.

    `changes` lists every row the action inserted, deleted or updated (table, op, before,
    after), which is enough to undo and redo it exactly; `state` is "applied", "undone"
    or "discarded" (an undone action overtaken by a new one) for undoable actions, and
    null for the rest.
    """

    __table_args__ = (
        Index("ix_auditevent_document_at", "document_id", "at"),
        Index("ix_auditevent_layer_state", "layer_id", "state"),
        Index("ix_auditevent_request_key", "request_key"),
    )

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow)
    user: str = Field(max_length=64)
    action: str = Field(max_length=64)
    document_id: int | None = fk("document.id", ondelete="SET NULL", nullable=True, index=False)
    layer_id: int | None = fk("layer.id", ondelete="SET NULL", nullable=True, index=False)
    target: str | None = Field(default=None, max_length=200)
    before: dict | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    after: dict | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    changes: list | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    state: str | None = Field(default=None, max_length=16)
    # The page's name for the write that made this event, so a retried write whose first
    # attempt was stored (the answer was lost on the way) is recognised, not refused.
    request_key: str | None = Field(default=None, max_length=64)


JOB_STATES = ("queued", "running", "done", "failed", "cancelled")
JOB_FINISHED = ("done", "failed", "cancelled")


class Job(SQLModel, table=True):
    """Long work run by `annotator worker` (jobs/): what it is, who started it, how far it got.

    `heartbeat_at` is renewed by the worker while the job runs: a running job whose heartbeat
    stopped belongs to a worker that died (kill -9, a lost host) and is marked failed.
    `upload` holds the files of an upload as one zip, so a worker on any host can read them."""

    __table_args__ = (Index("ix_job_state_id", "state", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=32)
    state: str = Field(default="queued", max_length=16)
    params: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    done: int = Field(default=0)
    total: int | None = None
    message: str = Field(default="", sa_column=Column(Text, nullable=False))
    problems: list = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    result: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    started_by: str = Field(max_length=64)
    worker: str | None = Field(default=None, max_length=200)
    cancel_requested: bool = Field(default=False)
    upload: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))
    created_at: datetime = Field(default_factory=utcnow)
    started_at: datetime | None = None
    finished_at: datetime | None = None
    heartbeat_at: datetime | None = None


class DocumentCount(SQLModel, table=True):
    """How many documents there are of a language, archived or not: kept by triggers on
    `document` (migration 0013), so no page counts the corpus to say how large it is."""

    archived: bool = Field(primary_key=True)  # first: the list reads the live counts by it
    lang: str = Field(max_length=16, primary_key=True)
    n: int = 0
