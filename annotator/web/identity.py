"""Who is asking: the logged-in user (Flask-Login) and what their role lets them see.

Layer names are user names, so the workspace asks only current_annotator() for the layer it
writes to, and may_open() for whether a document is theirs to see (annotators work blind on
their assigned documents; curators and admins see every document and layer).
"""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import abort, request
from flask_login import current_user
from sqlalchemy import select
from sqlmodel import Session

from annotator.layers import layer_of
from annotator.models import Layer

CURATOR_ROLES = ("curator", "admin")
GOLD = "gold"  # the gold layer's name, and the name of the workspace registered at /gold/


def current_annotator() -> str | None:
    """The logged-in user's name (also their layer's name), or None."""
    return current_user.name if current_user.is_authenticated else None


def layer_name() -> str | None:
    """The layer a workspace request works on: gold under /gold/, else the user's own."""
    return GOLD if request.blueprint == GOLD else current_annotator()


def is_curator() -> bool:
    return current_user.is_authenticated and current_user.role in CURATOR_ROLES


def assigned_ids(name: str):
    """A subquery of the document ids assigned to annotator `name`."""
    return select(Layer.document_id).where(Layer.name == name, Layer.assigned_at.is_not(None))


def only_assigned_to() -> str | None:
    """The annotator whose assigned documents are all this user may see (annotators work
    blind), or None: curators and admins see every document."""
    return None if is_curator() else current_annotator()


def visible_ids():
    """The documents this user may see, as a subquery of ids, or None for all."""
    name = only_assigned_to()
    return None if name is None else assigned_ids(name)


def may_open(session: Session, doc_id: int) -> bool:
    """Curators open every document; an annotator only those assigned to them."""
    if is_curator():
        return True
    layer = layer_of(session, doc_id, current_annotator())  # the row a write reads next anyway
    return layer is not None and layer.assigned_at is not None


def require_open(session: Session, doc_id: int) -> None:
    if not may_open(session, doc_id):
        abort(403, description="This document is not assigned to you.")


def safe_next(value: str | None) -> str | None:
    """A same-site path to return to (never another host: no open redirect)."""
    if not value:
        return None
    parts = urlsplit(value)
    if parts.scheme or parts.netloc or not value.startswith("/") or value.startswith("//"):
        return None
    return value
