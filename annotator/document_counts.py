"""How many documents the project holds, read from the counts the database keeps
(DocumentCount, kept by triggers: migration 0013) instead of counting the corpus."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlmodel import Session

from annotator.models import DocumentCount


def documents(session: Session, archived: bool | None = None, lang: str | None = None) -> int:
    """Documents, all of them or only those archived (True) or live (False), of `lang` if given."""
    query = select(func.coalesce(func.sum(DocumentCount.n), 0))
    if archived is not None:
        query = query.where(DocumentCount.archived == archived)
    if lang is not None:
        query = query.where(DocumentCount.lang == lang)
    return int(session.exec(query).scalar_one())


def live_languages():
    """A select of (language, live documents) for every language the list holds."""
    return select(DocumentCount.lang, DocumentCount.n).where(DocumentCount.archived.is_(False), DocumentCount.n > 0)
