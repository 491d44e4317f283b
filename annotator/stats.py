"""Corpus statistics for `annotator stats` and the document list, from indexed counts."""
from __future__ import annotations

from sqlalchemy import func, select
from sqlmodel import Session

from annotator.models import Document, Layer, Span, Suggestion


def project_stats(session: Session) -> dict:
    documents = session.exec(select(func.count()).select_from(Document)).scalar_one()
    languages = dict(session.exec(select(Document.lang, func.count()).group_by(Document.lang)
                                  .order_by(func.count().desc(), Document.lang)).all())
    suggestions = dict(session.exec(select(Suggestion.label, func.count()).group_by(Suggestion.label)
                                    .order_by(Suggestion.label)).all())
    origins = dict(session.exec(select(Suggestion.origin, func.count()).group_by(Suggestion.origin)
                                .order_by(Suggestion.origin)).all())
    layers: dict[str, dict] = {"suggestions": {"documents": documents, "labels": suggestions, "origins": origins}}
    rows = session.exec(select(Layer.name, Span.label, func.count()).join(Span, Span.layer_id == Layer.id)
                        .group_by(Layer.name, Span.label).order_by(Layer.name, Span.label)).all()
    docs_per_layer = dict(session.exec(select(Layer.name, func.count()).group_by(Layer.name)).all())
    for name, n_docs in sorted(docs_per_layer.items()):
        layers[name] = {"documents": n_docs, "labels": {}}
    for name, label, n in rows:
        layers[name]["labels"][label] = n
    return {"documents": documents, "languages": languages, "layers": layers}
