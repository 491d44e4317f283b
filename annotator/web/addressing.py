"""Documents are addressed by uid; the id a document's source record brought (MeasEval's
docId, a JSONL "id") is accepted too and answered with a redirect to the uid's address,
so every page has one URL."""

from __future__ import annotations

from flask import abort, redirect, url_for
from sqlmodel import Session

from annotator.models import uid_for_key


def uid_named(session: Session, key: str) -> str | None:
    return session.exec(uid_for_key(key)).scalar()


def elsewhere(session: Session, key: str, endpoint: str, **values):
    """The answer for a page whose uid matched nothing: a redirect when `key` is a source
    id, else a 404."""
    uid = uid_named(session, key)
    if uid is None or uid == key:
        abort(404, description=f"There is no document with the id “{key}” in this project.")
    return redirect(url_for(endpoint, uid=uid, **values))
